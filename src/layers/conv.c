// Conv2d / ConvTranspose2d without bias (the `transposed` parameter says which), kh x kw with
// strides and padding. A kernel that covers the whole input (Conv2d to 1 x 1: D's logit) or output
// (ConvTranspose2d from 1 x 1: G's first layer) is a matrix product: the backend's dense rows,
// else its conv rows. The weight keeps the module's layout either way.
#include "dcgan/layer.h"

int layer_conv_weight_shape(const layer *l, int64_t shape[4]) {
    shape[0] = l->p.transposed ? l->C : l->OC;
    shape[1] = l->p.transposed ? l->OC : l->C;
    shape[2] = l->p.kh;
    shape[3] = l->p.kw;
    return 4;
}

int layer_conv_dense(const layer *l) {
    const layer_params *p = &l->p;
    if (p->ph || p->pw || p->kh != p->kw) return 0;
    return p->transposed ? l->H == 1 && l->W == 1 : l->H == p->kh && l->W == p->kw;
}

static const tensor_decl tensors[] = {{"weight", TENSOR_PARAM, INIT_NORMAL, layer_conv_weight_shape}};

typedef struct {
    int dense;
    conv_desc conv;
    dense_desc mat;             // dense: the matrix product
} conv_plan;

static conv_desc describe(const layer *l, tensor_desc in) {
    return conv_desc_rect(l->p.transposed ? CONV_TRANSPOSE_2D : CONV_2D, in, l->p.oc, l->p.kh, l->p.kw, l->p.sh,
                          l->p.sw, l->p.ph, l->p.pw);
}

static void shape(layer *l) {
    const conv_desc d = describe(l, tensor_f32(1, l->C, l->H, l->W));
    l->OC = d.out.c;
    l->OH = d.out.h;
    l->OW = d.out.w;
}

static int plan(layer_ctx *c, char *err, size_t errlen) {
    conv_plan *k = c->plan;
    const dcgan_backend *be = c->be;
    const int vary = c->l->type->computes_weights;
    if ((k->dense = layer_conv_dense(c->l))) {
        k->mat = (dense_desc){.in = c->in, .out = c->out, .transposed = c->l->p.transposed, .weights_vary = vary};
        return be->dense_plan(be, &k->mat, err, errlen);
    }
    k->conv = describe(c->l, c->in);
    k->conv.out = c->out;   // the output's format may differ from the input's
    k->conv.forward_only = c->forward_only;
    k->conv.weights_vary = vary;
    return be->conv_plan(be, &k->conv, err, errlen);
}

static void forward(const layer_ctx *c, void *out, const void *in, const layer_pass *p) {
    (void)p;
    const conv_plan *k = c->plan;
    if (k->dense) c->be->dense_forward(c->be, out, in, c->tensor[0], &k->mat);
    else c->be->conv_forward(c->be, out, in, c->tensor[0], &k->conv);
}

static void backward(const layer_ctx *c, void *din, const void *dout, const void *in, const void *out,
                     const layer_pass *p) {
    (void)out;
    const conv_plan *k = c->plan;
    const dcgan_backend *be = c->be;
    if (p->param_grads && k->dense) be->dense_backward_filter(be, c->grad[0], dout, in, &k->mat);
    if (p->param_grads && !k->dense) be->conv_backward_filter(be, c->grad[0], dout, in, &k->conv);
    if (din && k->dense) be->dense_backward_data(be, din, dout, c->tensor[0], &k->mat);
    if (din && !k->dense) be->conv_backward_data(be, din, dout, c->tensor[0], &k->conv);
}

const layer_type layer_conv = {.name = "conv", .tensors = tensors, .ntensors = 1, .ops = {OP_CONV, OP_DENSE}, .nops = 2,
                               .format = LAYER_FMT_ANY, .plan_bytes = sizeof(conv_plan), .shape = shape, .plan = plan,
                               .forward = forward, .backward = backward};
