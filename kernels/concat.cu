// Inputs of the class-conditional nets (same contracts as src/cpu/concat.c): data with one-hot
// class planes appended, and the channel slice that takes the data part of a gradient back out.
#include "cuda_check.h"
#include "cuda_ops.h"

// out [B, C + K, HW]: channel c < C copies in [B, C, HW]; plane C + k is 1 where k == classes[b].
__global__ void concat_onehot_kernel(float *__restrict__ out, const float *__restrict__ in,
                                     const int32_t *__restrict__ classes, size_t total, int C, int HW, int K) {
    const size_t per = (size_t)(C + K) * HW;
    GRID_STRIDE(i, total) {
        const size_t b = i / per, r = i - b * per;
        const int ch = (int)(r / HW);
        out[i] = ch < C ? in[b * (size_t)C * HW + r] : (ch - C == classes[b] ? 1.0f : 0.0f);
    }
}

// out [B, C, HW] = channels 0..C-1 of in [B, Ctot, HW].
__global__ void slice_channels_kernel(float *__restrict__ out, const float *__restrict__ in, size_t total,
                                      size_t n, size_t stride) {
    GRID_STRIDE(i, total) {
        const size_t b = i / n;
        out[i] = in[b * stride + (i - b * n)];
    }
}

void cuda_concat_onehot(const dcgan_backend *be, float *out, const float *in, const int32_t *classes, const concat_desc *d) {
    NVTX_RANGE("concat_onehot");
    const cuda_ctx *c = ctx_of(be);
    const int HW = d->in.h * d->in.w, K = d->nclasses;
    size_t total = (size_t)d->in.n * (d->in.c + K) * HW;
    if (!total) return;
    concat_onehot_kernel<<<grid_for(c, total, 256), 256, 0, c->stream>>>(out, in, classes, total, d->in.c, HW, K);
    CUDA_CHECK_LAUNCH();
}

void cuda_slice_channels(const dcgan_backend *be, float *out, const float *in, const concat_desc *d) {
    NVTX_RANGE("slice_channels");
    const cuda_ctx *c = ctx_of(be);
    const size_t HW = (size_t)d->in.h * d->in.w, n = (size_t)d->in.c * HW, total = (size_t)d->in.n * n;
    if (!total) return;
    slice_channels_kernel<<<grid_for(c, total, 256), 256, 0, c->stream>>>(out, in, total, n, n + (size_t)d->nclasses * HW);
    CUDA_CHECK_LAUNCH();
}
