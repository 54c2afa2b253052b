// Adam, RMSprop and weight clipping over a whole parameter block in one launch, with the CPU ops'
// arithmetic (src/cpu/optim.c): scalar factors in double on the host, element-wise math in float
// with explicitly rounded operations so that no FMA contraction changes the result.
#include <stdio.h>
#include <stdlib.h>
#include "cuda_check.h"
#include "cuda_ops.h"

// The double a float hyper-parameter was written as (0.999f -> 0.999), as src/cpu/optim.c does.
static double decimal_value(float x) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        double d = strtod(buf, NULL);
        if ((float)d == x) return d;
    }
    return (double)x;
}

__global__ void adam_kernel(float *__restrict__ p, const float *__restrict__ grad, float *__restrict__ m,
                            float *__restrict__ v, size_t n, float step, float bc2_sqrt, float w1, float w2,
                            float b2f, float eps) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float g = grad[i];
        // m.lerp_(g, 1 - beta1) with torch's two-sided lerp
        const float diff = __fsub_rn(g, m[i]);
        const float mi = w1 < 0.5f ? __fadd_rn(m[i], __fmul_rn(w1, diff)) : __fsub_rn(g, __fmul_rn(diff, __fsub_rn(1.0f, w1)));
        const float vi = __fadd_rn(__fmul_rn(v[i], b2f), __fmul_rn(__fmul_rn(w2, g), g));
        m[i] = mi;
        v[i] = vi;
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bc2_sqrt), eps);
        p[i] = __fadd_rn(p[i], __fdiv_rn(__fmul_rn(step, mi), denom));
    }
}

__global__ void rmsprop_kernel(float *__restrict__ p, const float *__restrict__ grad, float *__restrict__ sq,
                               size_t n, float step, float af, float w, float eps) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float g = grad[i];
        const float s = __fadd_rn(__fmul_rn(sq[i], af), __fmul_rn(__fmul_rn(w, g), g));
        sq[i] = s;
        p[i] = __fadd_rn(p[i], __fdiv_rn(__fmul_rn(step, g), __fadd_rn(__fsqrt_rn(s), eps)));
    }
}

__global__ void clip_kernel(float *x, size_t n, float limit) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        x[i] = x[i] < -limit ? -limit : (x[i] > limit ? limit : x[i]);
}

extern "C" void cuda_adam_update(float *p, const float *g, float *m, float *v, size_t n,
                                 float lr, float beta1, float beta2, float eps, long t) {
    if (!n) return;
    const double b1 = decimal_value(beta1), b2 = decimal_value(beta2);
    const double bc1 = 1.0 - pow(b1, (double)t), bc2 = 1.0 - pow(b2, (double)t);
    const float step = (float)(-decimal_value(lr) / bc1), bc2_sqrt = (float)sqrt(bc2);
    const float w1 = (float)(1.0 - b1), w2 = (float)(1.0 - b2), b2f = (float)b2;
    adam_kernel<<<grid_for(n, 256), 256, 0, cuda_stream()>>>(p, g, m, v, n, step, bc2_sqrt, w1, w2, b2f, eps);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_rmsprop_update(float *p, const float *g, float *sq, size_t n, float lr, float alpha, float eps) {
    if (!n) return;
    const double a = decimal_value(alpha);
    const float af = (float)a, w = (float)(1.0 - a), step = -lr;
    rmsprop_kernel<<<grid_for(n, 256), 256, 0, cuda_stream()>>>(p, g, sq, n, step, af, w, eps);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_clip_values(float *x, size_t n, float limit) {
    if (!n) return;
    clip_kernel<<<grid_for(n, 256), 256, 0, cuda_stream()>>>(x, n, limit);
    CUDA_CHECK_LAUNCH();
}
