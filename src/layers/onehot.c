// Class conditioning: the batch's classes appended to the input as one-hot planes (nclasses more
// channels, constant over the image); backward takes the data channels' gradient back out.
#include "dcgan/layer.h"

static void shape(layer *l) {
    l->OC = l->C + l->p.nclasses;
    l->OH = l->H;
    l->OW = l->W;
}

static int plan(layer_ctx *c, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    *(concat_desc *)c->plan = (concat_desc){.in = c->in, .nclasses = c->l->p.nclasses};
    return 0;
}

static void forward(const layer_ctx *c, void *out, const void *in, const layer_pass *p) {
    c->be->concat_onehot(c->be, out, in, p->classes, c->plan);
}

static void backward(const layer_ctx *c, void *din, const void *dout, const void *in, const void *out,
                     const layer_pass *p) {
    (void)in;
    (void)out;
    (void)p;
    if (din) c->be->slice_channels(c->be, din, dout, c->plan);   // the class planes get none
}

const layer_type layer_onehot = {.name = "onehot", .ops = {OP_CONCAT}, .nops = 1, .format = LAYER_FMT_F32,
                                 .reads_classes = 1, .plan_bytes = sizeof(concat_desc), .shape = shape, .plan = plan,
                                 .forward = forward, .backward = backward};
