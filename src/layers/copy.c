// One part of torch.cat(parts, 1): the input's channels copied to channels offset .. offset + C - 1
// of an activation that several copy layers fill (net_new_act makes it), forward only.
#include "dcgan/layer.h"

static void forward(const layer_ctx *c, void *out, const void *in, const layer_pass *p) {
    (void)p;
    const layer *l = c->l;
    DCGAN_REQUIRE(l->H == l->OH && l->W == l->OW && l->p.offset >= 0 && l->p.offset + l->C <= l->OC);
    const size_t plane = (size_t)l->H * l->W * dtype_size(c->in.dtype), part = (size_t)l->C * plane;
    c->be->copy_2d(c->be, (char *)out + (size_t)l->p.offset * plane, (size_t)l->OC * plane, in, part, part,
                   (size_t)c->in.n);
}

const layer_type layer_copy = {.name = "copy", .format = LAYER_FMT_F32, .forward = forward};
