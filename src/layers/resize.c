// Bilinear resize to oh x ow with the value mapping scale * v + shift (Inception's input: any image
// to 299 x 299 in [-1, 1]; a 1-channel input fills every output channel), forward only, fp32 NCHW.
#include "dcgan/layer.h"

static void shape(layer *l) {
    l->OC = l->p.oc;
    l->OH = l->p.oh;
    l->OW = l->p.ow;
}

static void forward(const layer_ctx *c, void *out, const void *in, const layer_pass *p) {
    (void)p;
    const layer_params *q = &c->l->p;
    const resize_desc d = {.in = c->in, .out = c->out, .scale = q->scale, .shift = q->shift, .quantize = q->quantize};
    c->be->resize_bilinear(c->be, out, in, &d);
}

const layer_type layer_resize = {.name = "resize", .ops = {OP_RESIZE}, .nops = 1, .format = LAYER_FMT_F32,
                                 .shape = shape, .forward = forward};
