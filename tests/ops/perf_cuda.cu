// Timing on the CUDA backend's stream (cudaEvents, the L2 flushed before every repeat) and the
// cuDNN baselines of the op test's perf mode: cuDNN's batchnorm for ours, cudnnPoolingForward for
// our pools. Bandwidth is judged against the device's peak: memory clock x bus width.
#include <stdio.h>
#include <stdlib.h>
#include "cuda_check.h"
#include "cuda_ops.h"
#include "perf.h"

static void *l2_flush;          // twice the L2 cache, written before every timed repeat
static size_t l2_flush_bytes;

static int cmp_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

template <typename F> static double median_of(const dcgan_backend *be, F fn, int reps) {
    cudaStream_t s = ctx_of(be)->stream;
    cudaEvent_t a, b;
    CUDA_CHECK(cudaEventCreate(&a));
    CUDA_CHECK(cudaEventCreate(&b));
    for (int i = 0; i < 3; i++) fn();
    float *t = (float *)malloc(sizeof(float) * (size_t)reps);
    if (!t) { fprintf(stderr, "test_ops: out of memory\n"); exit(1); }
    for (int i = 0; i < reps; i++) {
        // Evicts the op's tensors from the L2; ordered before the start event, so not timed.
        if (l2_flush) CUDA_CHECK(cudaMemsetAsync(l2_flush, i & 0xff, l2_flush_bytes, s));
        CUDA_CHECK(cudaEventRecord(a, s));
        fn();
        CUDA_CHECK(cudaEventRecord(b, s));
        CUDA_CHECK(cudaEventSynchronize(b));
        CUDA_CHECK(cudaEventElapsedTime(&t[i], a, b));
    }
    qsort(t, (size_t)reps, sizeof(float), cmp_float);
    const double m = t[reps / 2];
    free(t);
    CUDA_CHECK(cudaEventDestroy(a));
    CUDA_CHECK(cudaEventDestroy(b));
    return m;
}

extern "C" double perf_cuda_median_ms(const dcgan_backend *be, perf_fn fn, void *arg, int reps) {
    return median_of(be, [&] { fn(arg); }, reps);
}

extern "C" double perf_cuda_describe(const dcgan_backend *be, int reps) {
    int dev = 0, clk_khz = 0, bus_bits = 0, l2_bytes = 0;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&clk_khz, cudaDevAttrMemoryClockRate, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, dev));
    const double peak = 2.0 * clk_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    // At least 2x the L2 (an unreported size: 64 MiB, above an H100's 50 MB).
    if (!l2_flush) {
        l2_flush_bytes = 2 * (size_t)(l2_bytes > 0 ? l2_bytes : 32 << 20);
        CUDA_CHECK(cudaMalloc(&l2_flush, l2_flush_bytes));
    }
    (void)be;
    printf("device %s, %d SMs, peak memory bandwidth %.0f GB/s (2 x %d MHz x %d bit), L2 %.1f MiB; median of %d repeats,"
           " each after a %.0f MiB write that flushes the L2\n", prop.name, prop.multiProcessorCount, peak,
           clk_khz / 1000, bus_bits, l2_bytes / 1048576.0, reps, l2_flush_bytes / 1048576.0);
    return peak;
}

extern "C" double perf_cudnn_batchnorm_ms(const dcgan_backend *be, const bn_desc *d, int backward, const void *x,
                                          void *y, const void *dy, void *dx, const float *gamma, const float *beta,
                                          float *dgamma, float *dbeta, float *running, int reps) {
    const int C = d->x.c;
    cudnnTensorDescriptor_t xd, bd;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&xd));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&bd));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->x.n, C, d->x.h, d->x.w));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, C, 1, 1));
    float *mean, *inv;
    CUDA_CHECK(cudaMalloc(&mean, 2 * (size_t)C * sizeof(float)));
    CUDA_CHECK(cudaMemset(mean, 0, 2 * (size_t)C * sizeof(float)));
    inv = mean + C;
    const float one = 1.0f, zero = 0.0f;
    cudnnHandle_t h = ctx_of(be)->cudnn;
    auto fwd = [&] {
        CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(h, CUDNN_BATCHNORM_SPATIAL, &one, &zero, xd, x, xd, y, bd,
                                                           gamma, beta, d->momentum, running, running + C, d->eps,
                                                           mean, inv));
    };
    fwd();   // the saved statistics the backward reads
    const double ms = backward ? median_of(be, [&] {
        CUDNN_CHECK(cudnnBatchNormalizationBackward(h, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &one, xd, x, xd, dy,
                                                    xd, dx, bd, gamma, dgamma, dbeta, d->eps, mean, inv));
    }, reps) : median_of(be, fwd, reps);
    CUDA_CHECK(cudaFree(mean));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(xd));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(bd));
    return ms;
}

extern "C" double perf_cudnn_pool_ms(const dcgan_backend *be, const pool_desc *d, const void *x, void *y, int reps) {
    cudnnTensorDescriptor_t xd, yd;
    cudnnPoolingDescriptor_t pd;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&xd));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&yd));
    CUDNN_CHECK(cudnnCreatePoolingDescriptor(&pd));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->in.n, d->in.c, d->in.h, d->in.w));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->out.n, d->out.c, d->out.h, d->out.w));
    const cudnnPoolingMode_t mode = d->kind == POOL_MAX ? CUDNN_POOLING_MAX
                                    : d->count_pad      ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                        : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    CUDNN_CHECK(cudnnSetPooling2dDescriptor(pd, mode, CUDNN_NOT_PROPAGATE_NAN, d->kh, d->kw, d->ph, d->pw, d->sh, d->sw));
    int on = 0, oc = 0, oh = 0, ow = 0;
    CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(pd, xd, &on, &oc, &oh, &ow));
    double ms = -1;
    if (on != d->out.n || oc != d->out.c || oh != d->out.h || ow != d->out.w) {
        fprintf(stderr, "FAIL cuDNN's pool output %dx%dx%dx%d differs from ours %dx%dx%dx%d\n", on, oc, oh, ow, d->out.n,
                d->out.c, d->out.h, d->out.w);
    } else {
        const float one = 1.0f, zero = 0.0f;
        ms = median_of(be, [&] { CUDNN_CHECK(cudnnPoolingForward(ctx_of(be)->cudnn, pd, &one, xd, x, &zero, yd, y)); }, reps);
    }
    CUDNN_CHECK(cudnnDestroyPoolingDescriptor(pd));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(xd));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(yd));
    return ms;
}
