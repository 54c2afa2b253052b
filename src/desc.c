// Descriptor constructors, names and the shape checks the ops assert.
#include "dcgan/desc.h"
#include <stdio.h>
#include <stdlib.h>

tensor_desc tensor_f32(int n, int c, int h, int w) {
    tensor_desc t = {n, c, h, w, DTYPE_F32, LAYOUT_NCHW};
    return t;
}

int tensor_blocked(const tensor_desc *t) { return t->layout == LAYOUT_BLOCKED && t->c % LAYOUT_BLOCK == 0; }

static int conv_out_size(conv_kind kind, int in, int K, int stride, int pad) {
    return kind == CONV_2D ? (in + 2 * pad - K) / stride + 1 : (in - 1) * stride - 2 * pad + K;
}

conv_desc conv_desc_rect(conv_kind kind, tensor_desc in, int out_channels, int kh, int kw, int sh, int sw, int ph,
                         int pw) {
    conv_desc d = {.kind = kind, .in = in, .out = in, .kh = kh, .kw = kw, .sh = sh, .sw = sw, .ph = ph, .pw = pw};
    d.out.c = out_channels;
    d.out.h = conv_out_size(kind, in.h, kh, sh, ph);
    d.out.w = conv_out_size(kind, in.w, kw, sw, pw);
    return d;
}

pool_desc pool_desc_make(pool_kind kind, tensor_desc in, int k, int stride, int pad, int count_pad) {
    pool_desc d = {.kind = kind, .in = in, .out = in, .kh = k, .kw = k, .sh = stride, .sw = stride, .ph = pad, .pw = pad,
                   .count_pad = count_pad};
    d.out.h = conv_out_size(CONV_2D, in.h, k, stride, pad);
    d.out.w = conv_out_size(CONV_2D, in.w, k, stride, pad);
    return d;
}

conv_desc conv_desc_make(conv_kind kind, tensor_desc in, int out_channels, int K, int stride, int pad) {
    return conv_desc_rect(kind, in, out_channels, K, K, stride, stride, pad, pad);
}

// The double a float hyper-parameter was written as (0.999f -> 0.999): torch computes
// 1 - beta2^t from the Python double, and at t = 1 the float's rounding would shift it by 1e-5.
static double decimal_value(float x) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        double d = strtod(buf, NULL);
        if ((float)d == x) return d;
    }
    return (double)x;
}

optim_desc optim_desc_make(optimizer_kind kind, size_t n, float lr, float beta1, float beta2, float eps) {
    optim_desc d = {.kind = kind, .n = n, .lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps,
                    .lr_dec = decimal_value(lr), .beta1_dec = decimal_value(beta1), .beta2_dec = decimal_value(beta2)};
    return d;
}

size_t dtype_size(dcgan_dtype t) { return t == DTYPE_F32 ? 4 : 2; }

const char *dtype_name(dcgan_dtype t) {
    static const char *const names[DTYPE_COUNT] = {"fp32", "bf16", "fp16"};
    return (unsigned)t < DTYPE_COUNT ? names[t] : "unknown dtype";
}

const char *layout_name(dcgan_layout l) {
    static const char *const names[LAYOUT_COUNT] = {"NCHW", "NHWC", "blocked (nChw16c)"};
    return (unsigned)l < LAYOUT_COUNT ? names[l] : "unknown layout";
}

const char *op_name(dcgan_op op) {
    static const char *const names[OP_COUNT] = {"conv", "dense", "batchnorm", "activation", "loss", "optim",
                                                "noise", "data", "concat", "comm", "pool", "resize"};
    return (unsigned)op < OP_COUNT ? names[op] : "unknown op";
}

size_t tensor_numel(const tensor_desc *t) { return (size_t)t->n * t->c * t->h * t->w; }

static int same_batch(const tensor_desc *a, const tensor_desc *b) { return a->n == b->n; }

int conv_desc_valid(const conv_desc *d) {
    return same_batch(&d->in, &d->out) && d->kh > 0 && d->kw > 0 && d->sh > 0 && d->sw > 0 && d->ph >= 0 &&
           d->pw >= 0 && d->in.n > 0 && d->out.h == conv_out_size(d->kind, d->in.h, d->kh, d->sh, d->ph) &&
           d->out.w == conv_out_size(d->kind, d->in.w, d->kw, d->sw, d->pw) && d->out.h > 0 && d->out.w > 0;
}

int dense_desc_valid(const dense_desc *d) {
    return same_batch(&d->in, &d->out) && d->in.n > 0 && tensor_numel(&d->in) > 0 && tensor_numel(&d->out) > 0;
}

void dcgan_require_failed(const char *cond, const char *file, int line) {
    fprintf(stderr, "error: internal precondition failed: %s\n  at %s:%d\n", cond, file, line);
    abort();
}
