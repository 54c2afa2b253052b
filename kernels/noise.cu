// Philox normal noise: element i of a fill is mean + std * philox_normal_at(seed, stream, offset + i),
// the same function of the counter as the CPU backend's fill (include/dcgan/rng.h, compiled for both).
#include "cuda_check.h"
#include "cuda_ops.h"
extern "C" {
#include "dcgan/rng.h"
}

__global__ void fill_normal_kernel(float *out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset,
                                   float mean, float std) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = __fadd_rn(mean, __fmul_rn(std, philox_normal_at(seed, stream, offset + i)));
}

extern "C" void cuda_fill_normal(float *out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset,
                                 float mean, float std) {
    if (!n) return;
    fill_normal_kernel<<<grid_for(n, 256), 256, 0, cuda_stream()>>>(out, n, seed, stream, offset, mean, std);
    CUDA_CHECK_LAUNCH();
}
