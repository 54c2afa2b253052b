// Timing (tests/ops/perf.c, and tests/ops/perf_cuda.cu when the build has CUDA): the median of
// repeats after a warm-up; on CUDA with cudaEvents, each repeat after a write of twice the L2
// cache (outside the timed region), so that a tensor of a few MB is read from memory, as in
// training, and not from the L2 the previous repeat left it in.
#ifndef DCGAN_OP_PERF_H
#define DCGAN_OP_PERF_H
#include "dcgan/backend.h"

typedef void (*perf_fn)(void *arg);

#ifdef DCGAN_HAVE_CUDA
#ifdef __cplusplus
extern "C" {
#endif
// Median milliseconds of fn(arg) on the CUDA backend's stream over reps runs after 3 warm-up runs.
double perf_cuda_median_ms(const dcgan_backend *be, perf_fn fn, void *arg, int reps);
// The device's peak memory bandwidth in GB/s (memory clock x bus width); prints the device line.
double perf_cuda_describe(const dcgan_backend *be, int reps);
// cuDNN's spatial batchnorm on the same tensors (no activation): forward training (backward = 0)
// or backward, median ms.
double perf_cudnn_batchnorm_ms(const dcgan_backend *be, const bn_desc *d, int backward, const void *x, void *y,
                               const void *dy, void *dx, const float *gamma, const float *beta, float *dgamma,
                               float *dbeta, float *running, int reps);
// cudnnPoolingForward in the pool's mode, median ms.
double perf_cudnn_pool_ms(const dcgan_backend *be, const pool_desc *d, const void *x, void *y, int reps);
#ifdef __cplusplus
}
#endif
#endif

#endif
