// A training batch from a dataset held in device memory: gathers images idx[0..B-1] (uint8) and
// scales them to [-1, 1] with dataset_batch's float arithmetic ((v / 255 - 0.5) / 0.5).
#include "cuda_check.h"
#include "cuda_ops.h"

__global__ void gather_normalize_kernel(float *__restrict__ out, const uint8_t *__restrict__ pixels,
                                        const uint32_t *__restrict__ idx, size_t total, size_t per) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t b = i / per, k = i - b * per;
        const float v = (float)pixels[(size_t)idx[b] * per + k];
        out[i] = __fdiv_rn(__fsub_rn(__fdiv_rn(v, 255.0f), 0.5f), 0.5f);
    }
}

extern "C" void cuda_gather_normalize(float *out, const uint8_t *pixels, const uint32_t *idx, int B, size_t per) {
    size_t total = (size_t)B * per;
    if (!total) return;
    gather_normalize_kernel<<<grid_for(total, 256), 256, 0, cuda_stream()>>>(out, pixels, idx, total, per);
    CUDA_CHECK_LAUNCH();
}
