// Forward and backward walks over a net's layer list, calling ops through the backend.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/net_exec.h"

static int is_conv(const layer *l) { return l->kind == LAYER_CONV || l->kind == LAYER_CONVT; }

// A batchnorm followed by ReLU / leaky ReLU runs as one fused op; returns the activation's
// slope (1: no activation follows).
static float fused_slope(const dcgan_net *net, int i) {
    if (net->layers[i].kind != LAYER_BN || i + 1 >= net->nlayers) return 1.0f;
    layer_kind next = net->layers[i + 1].kind;
    return next == LAYER_RELU ? 0.0f : next == LAYER_LRELU ? 0.2f : 1.0f;
}

static int fused_into_previous(const dcgan_net *net, int i) { return i > 0 && fused_slope(net, i - 1) != 1.0f; }

static int is_activation(const layer *l) { return l->kind == LAYER_RELU || l->kind == LAYER_LRELU || l->kind == LAYER_TANH; }

// The format of tensor i (layer i's input; i = nlayers: the net's output). The net's input and
// output are fp32 NCHW, whatever the activations inside are; an activation layer's input has its
// output's format (G's last convolution writes fp32 NCHW for the tanh).
static void tensor_formats(net_exec *x) {
    const dcgan_net *net = x->net;
    const act_format boundary = {DTYPE_F32, LAYOUT_NCHW};
    x->tfmt[net->nlayers] = boundary;
    for (int i = net->nlayers - 1; i >= 1; i--)
        x->tfmt[i] = is_activation(&net->layers[i]) && !fused_into_previous(net, i) ? x->tfmt[i + 1] : x->fmt;
    x->tfmt[0] = boundary;
}

static tensor_desc shape(const net_exec *x, int t, int c, int h, int w) {
    tensor_desc d = {x->B, c, h, w, x->tfmt[t].dtype, x->tfmt[t].layout};
    return d;
}
// A layer's input and output; the output of a batchnorm with a fused activation is the activation's.
static tensor_desc layer_in(const net_exec *x, int i) {
    const layer *l = &x->net->layers[i];
    return shape(x, i, l->C, l->H, l->W);
}
static tensor_desc layer_out(const net_exec *x, int i) {
    const layer *l = &x->net->layers[i];
    return shape(x, fused_slope(x->net, i) != 1.0f ? i + 2 : i + 1, l->OC, l->OH, l->OW);
}

static dcgan_op op_of(const layer *l) {
    if (is_conv(l)) return l->dense ? OP_DENSE : OP_CONV;
    return l->kind == LAYER_BN ? OP_BATCHNORM : OP_ACTIVATION;
}

// Builds layer i's descriptor, checks the backend serves it and plans it.
static int plan_layer(net_exec *x, int i, char *err, size_t errlen) {
    const dcgan_backend *be = x->net->be;
    const layer *l = &x->net->layers[i];
    layer_plan *p = &x->plan[i];
    tensor_desc in = layer_in(x, i), out = layer_out(x, i);
    if (backend_check(be, op_of(l), &in, err, errlen) || backend_check(be, op_of(l), &out, err, errlen)) return -1;
    if (is_conv(l) && l->dense) {
        p->dense = (dense_desc){.in = in, .out = out, .transposed = l->kind == LAYER_CONVT};
        return be->dense_plan(be, &p->dense, err, errlen);
    }
    // Batchnorm and the activations read and write one format.
    DCGAN_REQUIRE(is_conv(l) || (in.dtype == out.dtype && in.layout == out.layout));
    switch (l->kind) {
    case LAYER_CONV:
    case LAYER_CONVT:
        p->conv = conv_desc_make(l->kind == LAYER_CONV ? CONV_2D : CONV_TRANSPOSE_2D, in, l->OC, l->K, l->stride, l->pad);
        p->conv.out.dtype = out.dtype;
        p->conv.out.layout = out.layout;
        return be->conv_plan(be, &p->conv, err, errlen);
    case LAYER_BN:
        p->bn = (bn_desc){.x = in, .momentum = BN_MOMENTUM, .eps = BN_EPS, .act_slope = fused_slope(x->net, i)};
        return 0;
    case LAYER_RELU: p->act = (act_desc){.kind = ACT_RELU, .x = in}; return 0;
    case LAYER_LRELU: p->act = (act_desc){.kind = ACT_LEAKY_RELU, .slope = 0.2f, .x = in}; return 0;
    case LAYER_TANH: p->act = (act_desc){.kind = ACT_TANH, .x = in}; return 0;
    }
    return 0;
}

static void *alloc_counted(const dcgan_backend *be, size_t bytes, size_t *total, int *failed) {
    *total += bytes;
    if (*failed) return NULL;
    void *p = be->alloc(be, bytes);
    if (!p) *failed = 1;
    return p;
}

int net_exec_init(net_exec *x, dcgan_net *net, int B, const act_format *fmt, size_t *bytes_needed,
                  char *err, size_t errlen) {
    const dcgan_backend *be = net->be;
    memset(x, 0, sizeof *x);
    x->net = net;
    x->B = B;
    x->fmt = fmt ? *fmt : (act_format){DTYPE_F32, be->native_layout};
    tensor_formats(x);
    for (int i = 0; i < net->nlayers; i++)
        if (plan_layer(x, i, err, errlen)) {
            net_exec_free(x);
            return -1;
        }
    size_t grad_bytes = 0, total = 0;
    int failed = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const layer *l = &net->layers[i];
        tensor_desc in = layer_in(x, i), out = layer_out(x, i);
        size_t in_bytes = be->tensor_bytes(be, &in), out_bytes = be->tensor_bytes(be, &out);
        if (in_bytes > grad_bytes) grad_bytes = in_bytes;
        if (out_bytes > grad_bytes) grad_bytes = out_bytes;
        if (l->kind == LAYER_BN) x->bn_channels += (size_t)l->C;
        // A batchnorm's fused activation writes the output into the activation's buffer.
        if (fused_slope(net, i) == 1.0f) x->act[i] = alloc_counted(be, out_bytes, &total, &failed);
    }
    size_t bn_bytes = (x->bn_channels ? x->bn_channels : 1) * sizeof(float);
    x->bn_mean = alloc_counted(be, bn_bytes, &total, &failed);
    x->bn_invstd = alloc_counted(be, bn_bytes, &total, &failed);
    x->grad_a = alloc_counted(be, grad_bytes, &total, &failed);
    x->grad_b = alloc_counted(be, grad_bytes, &total, &failed);
    if (net->cfg.nclasses > 0) {
        // The conditioned first-layer input and its gradient, plus the classes.
        const layer *l0 = &net->layers[0];
        tensor_desc in = layer_in(x, 0);
        size_t cond_bytes = be->tensor_bytes(be, &in);
        x->cond = (concat_desc){.in = shape(x, 0, l0->C - net->cfg.nclasses, l0->H, l0->W), .nclasses = net->cfg.nclasses};
        x->cond_in = alloc_counted(be, cond_bytes, &total, &failed);
        x->cond_grad = alloc_counted(be, cond_bytes, &total, &failed);
        x->own_classes = alloc_counted(be, (size_t)B * sizeof(int32_t), &total, &failed);
        x->classes = x->own_classes;
    }
    if (bytes_needed) *bytes_needed = total;
    if (failed) {
        snprintf(err, errlen, "out of %s memory: the buffers for batch size %d need %.1f MiB", be->name, B,
                 total / 1048576.0);
        net_exec_free(x);
        return -1;
    }
    return 0;
}

int net_exec_sync_bn(net_exec *x, int ranks, char *err, size_t errlen) {
    const dcgan_backend *be = x->net->be;
    if (!x->bn_sums && !(x->bn_sums = be->alloc(be, 2 * (x->bn_channels ? x->bn_channels : 1) * sizeof(double)))) {
        snprintf(err, errlen, "out of %s memory for the batchnorm sums", be->name);
        return -1;
    }
    x->sync_ranks = ranks;
    for (int i = 0; i < x->net->nlayers; i++) {
        if (x->net->layers[i].kind != LAYER_BN) continue;
        x->plan[i].bn.group_n = x->B * ranks;
        x->plan[i].bn_reduce = (reduce_desc){.n = 2 * (size_t)x->net->layers[i].C, .f64 = 1, .scale = 1.0f, .slot = 2};
    }
    return 0;
}

void net_set_classes(net_exec *x, const int32_t *classes) {
    if (x->net->cfg.nclasses <= 0) return;
    const dcgan_backend *be = x->net->be;
    be->upload(be, x->own_classes, classes, (size_t)x->B * sizeof(int32_t));
    x->classes = x->own_classes;
}

void net_use_classes(net_exec *x, const int32_t *classes) {
    if (x->net->cfg.nclasses > 0) x->classes = classes;
}

void net_exec_free(net_exec *x) {
    if (!x->net) return;
    const dcgan_backend *be = x->net->be;
    for (int i = 0; i < DCGAN_MAX_LAYERS; i++) if (x->act[i]) be->release(be, x->act[i]);
    void *bufs[] = {x->bn_mean, x->bn_invstd, x->grad_a, x->grad_b, x->cond_in, x->cond_grad, x->own_classes, x->bn_sums};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(be, bufs[i]);
    memset(x, 0, sizeof *x);
}

const void *net_forward(net_exec *x, const void *in, bn_mode bn) {
    dcgan_net *net = x->net;
    const dcgan_backend *be = net->be;
    const void *cur = in;
    size_t bn_off = 0;
    if (net->cfg.nclasses > 0) {
        be->concat_onehot(be, x->cond_in, in, x->classes, &x->cond);
        cur = x->cond_in;
    }
    x->input = cur;
    for (int i = 0; i < net->nlayers; i++) {
        const layer *l = &net->layers[i];
        const layer_plan *p = &x->plan[i];
        if (fused_into_previous(net, i)) continue;
        int out_layer = fused_slope(net, i) != 1.0f ? i + 1 : i;
        void *out = x->act[out_layer];
        const float *w = net->params + l->weight_off;
        switch (l->kind) {
        case LAYER_CONV:
        case LAYER_CONVT:
            if (l->dense) be->dense_forward(be, out, cur, w, &p->dense);
            else be->conv_forward(be, out, cur, w, &p->conv);
            break;
        case LAYER_BN:
            if (bn == BN_RUNNING)
                be->batchnorm_forward_eval(be, out, cur, w, net->params + l->beta_off, net->stats + l->stat_off, &p->bn);
            else if (bn == BN_TRAIN && x->sync_ranks) {
                double *sums = x->bn_sums + 2 * bn_off;
                be->batchnorm_sums(be, sums, cur, &p->bn);
                be->allreduce(be, sums, &p->bn_reduce);
                be->allreduce_wait(be, &p->bn_reduce);
                be->batchnorm_forward_global(be, out, x->bn_mean + bn_off, x->bn_invstd + bn_off,
                                             net->stats + l->stat_off, net->num_batches_tracked + l->bn_slot, cur, w,
                                             net->params + l->beta_off, sums, &p->bn);
            } else
                be->batchnorm_forward_train(be, out, x->bn_mean + bn_off, x->bn_invstd + bn_off,
                                            bn == BN_TRAIN ? net->stats + l->stat_off : NULL,
                                            bn == BN_TRAIN ? net->num_batches_tracked + l->bn_slot : NULL,
                                            cur, w, net->params + l->beta_off, &p->bn);
            bn_off += (size_t)l->C;
            break;
        case LAYER_RELU:
        case LAYER_LRELU:
        case LAYER_TANH: be->activation_forward(be, out, cur, &p->act); break;
        }
        cur = out;
        i = out_layer;
    }
    return cur;
}

void net_backward(net_exec *x, const void *dout, void *din, int param_grads) {
    dcgan_net *net = x->net;
    const dcgan_backend *be = net->be;
    const void *g_out = dout;
    size_t bn_off = x->bn_channels;
    for (int i = net->nlayers - 1; i >= 0; i--) {
        const layer *l = &net->layers[i];
        const layer_plan *p = &x->plan[i];
        if (fused_into_previous(net, i)) continue;   // handled by the batchnorm before it
        const void *in = i ? x->act[i - 1] : x->input;
        // The first layer writes straight into din (a conditional net's into cond_grad, whose data
        // part is copied to din below); others alternate between the two buffers.
        void *first_din = din && net->cfg.nclasses > 0 ? x->cond_grad : din;
        void *g_in = i ? (g_out == x->grad_a ? x->grad_b : x->grad_a) : first_din;
        const float *w = net->params + l->weight_off;
        float *dw = net->grads + l->weight_off;
        switch (l->kind) {
        case LAYER_CONV:
        case LAYER_CONVT:
            if (l->dense) {
                if (param_grads) be->dense_backward_filter(be, dw, g_out, in, &p->dense);
                if (g_in) be->dense_backward_data(be, g_in, g_out, w, &p->dense);
            } else {
                if (param_grads) be->conv_backward_filter(be, dw, g_out, in, &p->conv);
                if (g_in) be->conv_backward_data(be, g_in, g_out, w, &p->conv);
            }
            break;
        case LAYER_BN:
            bn_off -= (size_t)l->C;
            if (g_in && x->sync_ranks) {
                const void *act = p->bn.act_slope != 1.0f ? x->act[i + 1] : NULL;
                double *sums = x->bn_sums + 2 * bn_off;
                be->batchnorm_backward_sums(be, sums, dw, net->grads + l->beta_off, g_out, act, in, x->bn_mean + bn_off,
                                            x->bn_invstd + bn_off, &p->bn);
                be->allreduce(be, sums, &p->bn_reduce);
                be->allreduce_wait(be, &p->bn_reduce);
                be->batchnorm_backward_global(be, g_in, g_out, act, in, x->bn_mean + bn_off, x->bn_invstd + bn_off, w,
                                              sums, &p->bn);
            } else if (g_in)
                be->batchnorm_backward(be, g_in, dw, net->grads + l->beta_off, g_out,
                                       p->bn.act_slope != 1.0f ? x->act[i + 1] : NULL, in,
                                       x->bn_mean + bn_off, x->bn_invstd + bn_off, w, &p->bn);
            break;
        case LAYER_RELU:
        case LAYER_LRELU:
        case LAYER_TANH: if (g_in) be->activation_backward(be, g_in, g_out, x->act[i], &p->act); break;
        }
        if (!g_in) return;   // only the first layer may skip its input gradient
        g_out = g_in;
    }
    if (net->cfg.nclasses > 0) be->slice_channels(be, din, x->cond_grad, &x->cond);
}
