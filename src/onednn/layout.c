// bf16 conversions across the thread team, and fp32 NCHW host tensors to and from the backend's
// formats (for tests).
#include "onednn_impl.h"

#define CHUNK ((size_t)1 << 14)

ONEDNN_CLONES static void to_bf16(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bf16_from(src[i]);
}
ONEDNN_CLONES static void from_bf16(float *dst, const uint16_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bf16_to(src[i]);
}

// dst = src converted, fp32 to bf16 (bf16_out set) or back, in chunks across the thread team.
static void convert(void *dst, const void *src, size_t n, int bf16_out) {
    const long chunks = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (long i = 0; i < chunks; i++) {
        size_t a = (size_t)i * CHUNK, m = n - a < CHUNK ? n - a : CHUNK;
        if (bf16_out) to_bf16((uint16_t *)dst + a, (const float *)src + a, m);
        else from_bf16((float *)dst + a, (const uint16_t *)src + a, m);
    }
}

void bf16_from_f32(uint16_t *dst, const float *src, size_t n) { convert(dst, src, n, 1); }

void f32_from_bf16(float *dst, const uint16_t *src, size_t n) { convert(dst, src, n, 0); }

// Index in t's format of element (n, c, s), s = y * w + x.
static size_t index_of(const tensor_desc *t, int n, int c, size_t s) {
    const size_t HW = (size_t)t->h * t->w;
    if (!tensor_blocked(t)) return ((size_t)n * t->c + c) * HW + s;
    const int B = LAYOUT_BLOCK;
    return (((size_t)n * (t->c / B) + c / B) * HW + s) * B + c % B;
}

void onednn_tensor_import(void *dst, const float *src, const tensor_desc *t) {
    const size_t HW = (size_t)t->h * t->w;
    for (int n = 0; n < t->n; n++)
        for (int c = 0; c < t->c; c++)
            for (size_t s = 0; s < HW; s++) {
                const float v = src[((size_t)n * t->c + c) * HW + s];
                const size_t i = index_of(t, n, c, s);
                if (t->dtype == DTYPE_BF16) ((uint16_t *)dst)[i] = bf16_from(v);
                else ((float *)dst)[i] = v;
            }
}

void onednn_tensor_export(float *dst, const void *src, const tensor_desc *t) {
    const size_t HW = (size_t)t->h * t->w;
    for (int n = 0; n < t->n; n++)
        for (int c = 0; c < t->c; c++)
            for (size_t s = 0; s < HW; s++) {
                const size_t i = index_of(t, n, c, s);
                dst[((size_t)n * t->c + c) * HW + s] =
                    t->dtype == DTYPE_BF16 ? bf16_to(((const uint16_t *)src)[i]) : ((const float *)src)[i];
            }
}
