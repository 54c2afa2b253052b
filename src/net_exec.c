// Forward and backward walks over a net's layer list, calling ops through the backend.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/net_exec.h"

static size_t layer_out_numel(const layer *l) { return (size_t)l->OC * l->OH * l->OW; }
static size_t layer_in_numel(const layer *l) { return (size_t)l->C * l->H * l->W; }

static conv_geom layer_geom(const layer *l, int B) {
    return l->kind == LAYER_CONV ? conv2d_geom(B, l->C, l->H, l->W, l->OC, l->K, l->stride, l->pad)
                                 : convt2d_geom(B, l->C, l->H, l->W, l->OC, l->K, l->stride, l->pad);
}

static int is_conv(const layer *l) { return l->kind == LAYER_CONV || l->kind == LAYER_CONVT; }

// A batchnorm followed by ReLU / leaky ReLU runs as one fused op; returns the activation's
// slope (1: no activation follows).
static float fused_slope(const dcgan_net *net, int i) {
    if (net->layers[i].kind != LAYER_BN || i + 1 >= net->nlayers) return 1.0f;
    layer_kind next = net->layers[i + 1].kind;
    return next == LAYER_RELU ? 0.0f : next == LAYER_LRELU ? 0.2f : 1.0f;
}

static int fused_into_previous(const dcgan_net *net, int i) { return i > 0 && fused_slope(net, i - 1) != 1.0f; }

int net_exec_init(net_exec *x, dcgan_net *net, int B, size_t *bytes_needed) {
    const dcgan_backend *be = net->be;
    memset(x, 0, sizeof *x);
    x->net = net;
    x->B = B;
    size_t max_act = dcgan_net_in_numel(net), work = 1, total = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const layer *l = &net->layers[i];
        if (layer_out_numel(l) > max_act) max_act = layer_out_numel(l);
        if (l->kind == LAYER_BN) x->bn_channels += (size_t)l->C;
        if (is_conv(l)) {
            conv_geom g = layer_geom(l, B);
            size_t w = be->conv_workspace_floats(&g);
            if (w > work) work = w;
        }
    }
    int failed = 0;
    for (int i = 0; i < net->nlayers; i++) {
        if (fused_slope(net, i) != 1.0f) continue;   // the fused activation's buffer holds the output
        size_t bytes = (size_t)B * layer_out_numel(&net->layers[i]) * sizeof(float);
        total += bytes;
        if (!failed && !(x->act[i] = be->alloc(bytes))) failed = 1;
    }
    size_t bn_bytes = (x->bn_channels ? x->bn_channels : 1) * sizeof(float);
    size_t grad_bytes = (size_t)B * max_act * sizeof(float);
    total += 4 * bn_bytes + 2 * grad_bytes + work * sizeof(float);
    if (!failed && !(x->bn_mean = be->alloc(bn_bytes))) failed = 1;
    if (!failed && !(x->bn_invstd = be->alloc(bn_bytes))) failed = 1;
    if (!failed && !(x->grad_a = be->alloc(grad_bytes))) failed = 1;
    if (!failed && !(x->grad_b = be->alloc(grad_bytes))) failed = 1;
    if (!failed && !(x->scratch_stats = be->alloc(2 * bn_bytes))) failed = 1;
    if (!failed && !(x->work = be->alloc(work * sizeof(float)))) failed = 1;
    if (net->cfg.nclasses > 0) {
        // The conditioned first-layer input and its gradient, plus the classes.
        const layer *l0 = &net->layers[0];
        size_t HW = (size_t)l0->H * l0->W, cond_bytes = (size_t)B * layer_in_numel(l0) * sizeof(float);
        total += 2 * cond_bytes + (size_t)B * sizeof(int32_t);
        if (!failed && !(x->cond_in = be->alloc(cond_bytes))) failed = 1;
        if (!failed && !(x->cond_grad = be->alloc(cond_bytes))) failed = 1;
        if (!failed && !(x->classes = be->alloc((size_t)B * sizeof(int32_t)))) failed = 1;
        if (!failed && !(x->classes_host = calloc((size_t)B, sizeof(int32_t)))) failed = 1;
        if (!failed && !(x->ones_host = malloc(HW * sizeof(float)))) failed = 1;
        for (size_t i = 0; !failed && i < HW; i++) x->ones_host[i] = 1.0f;
    }
    if (bytes_needed) *bytes_needed = total;
    if (failed) { net_exec_free(x); return -1; }
    return 0;
}

void net_set_classes(net_exec *x, const int32_t *classes) {
    if (x->net->cfg.nclasses <= 0) return;
    memcpy(x->classes_host, classes, (size_t)x->B * sizeof(int32_t));
    x->net->be->upload(x->classes, classes, (size_t)x->B * sizeof(int32_t));
}

// in [B, C, HW] + one-hot planes -> x->cond_in [B, C + K, HW].
static void build_cond_input(net_exec *x, const float *in) {
    const dcgan_backend *be = x->net->be;
    const layer *l0 = &x->net->layers[0];
    int K = x->net->cfg.nclasses, C = l0->C - K, HW = l0->H * l0->W;
    if (be->concat_onehot) { be->concat_onehot(x->cond_in, in, x->classes, x->B, C, HW, K); return; }
    size_t data = (size_t)C * HW, per = (size_t)(C + K) * HW;
    for (int b = 0; b < x->B; b++) {
        float *o = x->cond_in + b * per;
        be->copy(o, in + b * data, data * sizeof(float));
        be->zero(o + data, (size_t)K * HW * sizeof(float));
        int k = x->classes_host[b];
        if (k >= 0 && k < K) be->upload(o + data + (size_t)k * HW, x->ones_host, (size_t)HW * sizeof(float));
    }
}

// x->cond_grad [B, C + K, HW] -> din [B, C, HW].
static void drop_class_grad(net_exec *x, float *din) {
    const dcgan_backend *be = x->net->be;
    const layer *l0 = &x->net->layers[0];
    int K = x->net->cfg.nclasses, C = l0->C - K, HW = l0->H * l0->W;
    if (be->slice_channels) { be->slice_channels(din, x->cond_grad, x->B, C, C + K, HW); return; }
    size_t data = (size_t)C * HW, per = (size_t)(C + K) * HW;
    for (int b = 0; b < x->B; b++) be->copy(din + b * data, x->cond_grad + b * per, data * sizeof(float));
}

void net_exec_free(net_exec *x) {
    if (!x->net) return;
    const dcgan_backend *be = x->net->be;
    for (int i = 0; i < 32; i++) if (x->act[i]) be->release(x->act[i]);
    float *bufs[] = {x->bn_mean, x->bn_invstd, x->grad_a, x->grad_b, x->scratch_stats, x->work,
                     x->cond_in, x->cond_grad};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(bufs[i]);
    if (x->classes) be->release(x->classes);
    free(x->classes_host);
    free(x->ones_host);
    memset(x, 0, sizeof *x);
}

const float *net_forward(net_exec *x, const float *in, bn_mode bn) {
    dcgan_net *net = x->net;
    const dcgan_backend *be = net->be;
    const float *cur = in;
    size_t bn_off = 0;
    if (net->cfg.nclasses > 0) {
        build_cond_input(x, in);
        cur = x->cond_in;
    }
    x->input = cur;
    for (int i = 0; i < net->nlayers; i++) {
        const layer *l = &net->layers[i];
        if (fused_into_previous(net, i)) continue;
        float slope = fused_slope(net, i);
        int out_layer = slope != 1.0f ? i + 1 : i;
        float *out = x->act[out_layer];
        size_t n = (size_t)x->B * layer_out_numel(l);
        int HW = l->H * l->W;
        conv_geom g;
        switch (l->kind) {
        case LAYER_CONV:
            g = layer_geom(l, x->B);
            be->conv2d_forward(out, cur, net->params + l->weight_off, &g, x->work);
            break;
        case LAYER_CONVT:
            g = layer_geom(l, x->B);
            be->convt2d_forward(out, cur, net->params + l->weight_off, &g, x->work);
            break;
        case LAYER_BN:
            if (bn != BN_RUNNING) {
                float *running = bn == BN_TRAIN ? net->stats + l->stat_off : x->scratch_stats;
                be->batchnorm_forward_train(out, x->bn_mean + bn_off, x->bn_invstd + bn_off,
                                            running, running + l->C,
                                            cur, net->params + l->weight_off, net->params + l->beta_off,
                                            x->B, l->C, HW, BN_MOMENTUM, BN_EPS, slope);
                if (bn == BN_TRAIN) net->num_batches_tracked[l->bn_slot]++;
            } else {
                be->batchnorm_forward_eval(out, cur, net->params + l->weight_off, net->params + l->beta_off,
                                           net->stats + l->stat_off, net->stats + l->stat_off + l->C,
                                           x->B, l->C, HW, BN_EPS, slope);
            }
            bn_off += (size_t)l->C;
            break;
        case LAYER_RELU: be->relu_forward(out, cur, n); break;
        case LAYER_LRELU: be->leaky_relu_forward(out, cur, n, 0.2f); break;
        case LAYER_TANH: be->tanh_forward(out, cur, n); break;
        }
        cur = out;
        i = out_layer;
    }
    return cur;
}

void net_backward(net_exec *x, const float *dout, float *din, int param_grads) {
    dcgan_net *net = x->net;
    const dcgan_backend *be = net->be;
    const float *g_out = dout;
    size_t bn_off = x->bn_channels;
    for (int i = net->nlayers - 1; i >= 0; i--) {
        const layer *l = &net->layers[i];
        if (fused_into_previous(net, i)) continue;   // handled by the batchnorm before it
        float slope = fused_slope(net, i);
        const float *in = i ? x->act[i - 1] : x->input;
        // The first layer writes straight into din (a conditional net's into cond_grad, whose data
        // part is copied to din below); others alternate between the two buffers.
        float *first_din = din && net->cfg.nclasses > 0 ? x->cond_grad : din;
        float *g_in = i ? (g_out == x->grad_a ? x->grad_b : x->grad_a) : first_din;
        size_t n = (size_t)x->B * layer_in_numel(l);
        int HW = l->H * l->W;
        conv_geom g;
        switch (l->kind) {
        case LAYER_CONV:
            g = layer_geom(l, x->B);
            if (param_grads) be->conv2d_backward_filter(net->grads + l->weight_off, g_out, in, &g, x->work);
            if (g_in) be->conv2d_backward_data(g_in, g_out, net->params + l->weight_off, &g, x->work);
            break;
        case LAYER_CONVT:
            g = layer_geom(l, x->B);
            if (param_grads) be->convt2d_backward_filter(net->grads + l->weight_off, g_out, in, &g, x->work);
            if (g_in) be->convt2d_backward_data(g_in, g_out, net->params + l->weight_off, &g, x->work);
            break;
        case LAYER_BN:
            bn_off -= (size_t)l->C;
            if (g_in)
                be->batchnorm_backward(g_in, net->grads + l->weight_off, net->grads + l->beta_off, g_out,
                                       slope != 1.0f ? x->act[i + 1] : NULL, in,
                                       x->bn_mean + bn_off, x->bn_invstd + bn_off,
                                       net->params + l->weight_off, x->B, l->C, HW, slope);
            break;
        case LAYER_RELU: if (g_in) be->relu_backward(g_in, g_out, x->act[i], n); break;
        case LAYER_LRELU: if (g_in) be->leaky_relu_backward(g_in, g_out, in, n, 0.2f); break;
        case LAYER_TANH: if (g_in) be->tanh_backward(g_in, g_out, x->act[i], n); break;
        }
        if (!g_in) return;   // only the first layer may skip its input gradient
        g_out = g_in;
    }
    if (net->cfg.nclasses > 0) drop_class_grad(x, din);
}
