// ReLU, LeakyReLU (its slope a parameter) and Tanh, element-wise on the backend's activation rows.
// A ReLU or leaky ReLU right after a batchnorm is folded into it (as_slope says what it computes).
#include "dcgan/layer.h"

void layer_same_shape(layer *l) {
    l->OC = l->C;
    l->OH = l->H;
    l->OW = l->W;
}

static int as_slope(const layer *l, float *slope) {
    if (l->p.act == ACT_TANH) return 0;
    *slope = l->p.act == ACT_RELU ? 0.0f : l->p.slope;
    return 1;
}

static int plan(layer_ctx *c, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    act_desc *d = c->plan;
    *d = (act_desc){.kind = c->l->p.act, .slope = c->l->p.act == ACT_LEAKY_RELU ? c->l->p.slope : 0.0f, .x = c->in};
    return 0;
}

static void forward(const layer_ctx *c, void *out, const void *in, const layer_pass *p) {
    (void)p;
    c->be->activation_forward(c->be, out, in, c->plan);
}

static void backward(const layer_ctx *c, void *din, const void *dout, const void *in, const void *out,
                     const layer_pass *p) {
    (void)in;
    (void)p;
    if (din) c->be->activation_backward(c->be, din, dout, out, c->plan);
}

const layer_type layer_activation = {.name = "activation", .ops = {OP_ACTIVATION}, .nops = 1, .format = LAYER_FMT_SAME,
                                     .as_slope = as_slope, .plan_bytes = sizeof(act_desc), .shape = layer_same_shape,
                                     .plan = plan, .forward = forward, .backward = backward};
