// Inputs of the class-conditional nets (same contracts as src/cpu/concat.c): data with one-hot
// class planes appended, and the channel slice that takes the data part of a gradient back out.
#include "cuda_check.h"
#include "cuda_ops.h"

// out [B, C + K, HW]: channel c < C copies in [B, C, HW]; plane C + k is 1 where k == classes[b].
__global__ void concat_onehot_kernel(float *__restrict__ out, const float *__restrict__ in,
                                     const int32_t *__restrict__ classes, size_t total, int C, int HW, int K) {
    const size_t per = (size_t)(C + K) * HW;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t b = i / per, r = i - b * per;
        const int ch = (int)(r / HW);
        out[i] = ch < C ? in[b * (size_t)C * HW + r] : (ch - C == classes[b] ? 1.0f : 0.0f);
    }
}

// out [B, C, HW] = channels 0..C-1 of in [B, Ctot, HW].
__global__ void slice_channels_kernel(float *__restrict__ out, const float *__restrict__ in, size_t total,
                                      size_t n, size_t stride) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t b = i / n;
        out[i] = in[b * stride + (i - b * n)];
    }
}

extern "C" void cuda_concat_onehot(float *out, const float *in, const int32_t *classes, int B, int C, int HW, int K) {
    size_t total = (size_t)B * (C + K) * HW;
    if (!total) return;
    concat_onehot_kernel<<<grid_for(total, 256), 256, 0, cuda_stream()>>>(out, in, classes, total, C, HW, K);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_slice_channels(float *out, const float *in, int B, int C, int Ctot, int HW) {
    size_t n = (size_t)C * HW, total = (size_t)B * n;
    if (!total) return;
    slice_channels_kernel<<<grid_for(total, 256), 256, 0, cuda_stream()>>>(out, in, total, n, (size_t)Ctot * HW);
    CUDA_CHECK_LAUNCH();
}
