// Element-wise activations on any layout (they do not look at positions), fp32 or bf16 (computed
// in fp32), with the formulas of formulas.h; the loops are compiled for AVX-512 and AVX2 too.
#include "dcgan/formulas.h"
#include "onednn_impl.h"
#include <math.h>

#define CHUNK ((size_t)1 << 14)

ONEDNN_CLONES static void fwd_bf16(uint16_t *out, const uint16_t *in, size_t n, act_kind kind, float slope) {
    switch (kind) {
    case ACT_RELU: for (size_t i = 0; i < n; i++) out[i] = bf16_from(act_relu(bf16_to(in[i]))); break;
    case ACT_LEAKY_RELU: for (size_t i = 0; i < n; i++) out[i] = bf16_from(act_leaky_relu(bf16_to(in[i]), slope)); break;
    case ACT_TANH: for (size_t i = 0; i < n; i++) out[i] = bf16_from(tanhf(bf16_to(in[i]))); break;
    }
}

ONEDNN_CLONES static void bwd_bf16(uint16_t *din, const uint16_t *dout, const uint16_t *out, size_t n, act_kind kind,
                                   float slope) {
    switch (kind) {
    case ACT_RELU: for (size_t i = 0; i < n; i++) din[i] = bf16_from(act_relu_grad(bf16_to(dout[i]), bf16_to(out[i]))); break;
    case ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) din[i] = bf16_from(act_leaky_relu_grad(bf16_to(dout[i]), bf16_to(out[i]), slope));
        break;
    case ACT_TANH: for (size_t i = 0; i < n; i++) din[i] = bf16_from(act_tanh_grad(bf16_to(dout[i]), bf16_to(out[i]))); break;
    }
}

ONEDNN_CLONES static void fwd_f32(float *out, const float *in, size_t n, act_kind kind, float slope) {
    switch (kind) {
    case ACT_RELU: for (size_t i = 0; i < n; i++) out[i] = act_relu(in[i]); break;
    case ACT_LEAKY_RELU: for (size_t i = 0; i < n; i++) out[i] = act_leaky_relu(in[i], slope); break;
    case ACT_TANH: for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]); break;
    }
}

ONEDNN_CLONES static void bwd_f32(float *din, const float *dout, const float *out, size_t n, act_kind kind, float slope) {
    switch (kind) {
    case ACT_RELU: for (size_t i = 0; i < n; i++) din[i] = act_relu_grad(dout[i], out[i]); break;
    case ACT_LEAKY_RELU: for (size_t i = 0; i < n; i++) din[i] = act_leaky_relu_grad(dout[i], out[i], slope); break;
    case ACT_TANH: for (size_t i = 0; i < n; i++) din[i] = act_tanh_grad(dout[i], out[i]); break;
    }
}

// The forward (dst = act(src)) or, with backward set, the gradient (dst = act'(out) * src) over the
// elements of d->x, in chunks across the thread team.
static void run(void *dst, const void *src, const void *out, int backward, const act_desc *d) {
    DCGAN_REQUIRE(d->x.dtype == DTYPE_F32 || d->x.dtype == DTYPE_BF16);
    const int bf = d->x.dtype == DTYPE_BF16;
    const size_t n = tensor_numel(&d->x);
    const long chunks = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (long i = 0; i < chunks; i++) {
        size_t a = (size_t)i * CHUNK, m = n - a < CHUNK ? n - a : CHUNK;
        if (backward && bf)
            bwd_bf16((uint16_t *)dst + a, (const uint16_t *)src + a, (const uint16_t *)out + a, m, d->kind, d->slope);
        else if (backward)
            bwd_f32((float *)dst + a, (const float *)src + a, (const float *)out + a, m, d->kind, d->slope);
        else if (bf)
            fwd_bf16((uint16_t *)dst + a, (const uint16_t *)src + a, m, d->kind, d->slope);
        else
            fwd_f32((float *)dst + a, (const float *)src + a, m, d->kind, d->slope);
    }
}

void onednn_activation_forward(const dcgan_backend *be, void *out, const void *in, const act_desc *d) {
    (void)be;
    run(out, in, NULL, 0, d);
}

void onednn_activation_backward(const dcgan_backend *be, void *din, const void *dout, const void *out, const act_desc *d) {
    (void)be;
    run(din, dout, out, 1, d);
}
