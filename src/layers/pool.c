// Max and average pooling (Inception's), forward only, on the backend's pool row (fp32 NCHW).
#include "dcgan/layer.h"

static pool_desc describe(const layer *l, tensor_desc in) {
    pool_desc d = {.kind = l->p.pool, .in = in, .out = in, .kh = l->p.kh, .kw = l->p.kw, .sh = l->p.sh, .sw = l->p.sw,
                   .ph = l->p.ph, .pw = l->p.pw, .count_pad = l->p.count_pad};
    d.out.h = (in.h + 2 * d.ph - d.kh) / d.sh + 1;   // rounded down, as PyTorch's default
    d.out.w = (in.w + 2 * d.pw - d.kw) / d.sw + 1;
    return d;
}

static void shape(layer *l) {
    const pool_desc d = describe(l, tensor_f32(1, l->C, l->H, l->W));
    l->OC = l->C;
    l->OH = d.out.h;
    l->OW = d.out.w;
}

// The descriptor is a few fields: made at each call, nothing to plan.
static void forward(const layer_ctx *c, void *out, const void *in, const layer_pass *p) {
    (void)p;
    const pool_desc d = describe(c->l, c->in);
    c->be->pool_forward(c->be, out, in, &d);
}

const layer_type layer_pool = {.name = "pool", .ops = {OP_POOL}, .nops = 1, .format = LAYER_FMT_F32, .shape = shape,
                               .forward = forward};
