// Element-wise activations. Small tensors skip the thread team: its start-up costs more than
// the work.
#include "dcgan/ops.h"
#include <math.h>

#define ACT_PARALLEL_MIN ((size_t)1 << 15)

void relu_forward(float *out, const float *in, size_t n) {
    // out, in: [n]
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void relu_backward(float *din, const float *dout, const float *out, size_t n) {
    // din, dout, out: [n]; the output is positive exactly where the input was
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void leaky_relu_forward(float *out, const float *in, size_t n, float slope) {
    // out, in: [n]
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : in[i] * slope;
}

void leaky_relu_backward(float *din, const float *dout, const float *in, size_t n, float slope) {
    // din, dout, in: [n]
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) din[i] = in[i] > 0.0f ? dout[i] : dout[i] * slope;
}

void tanh_forward(float *out, const float *in, size_t n) {
    // out, in: [n]
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
}

void tanh_backward(float *din, const float *dout, const float *out, size_t n) {
    // din, dout, out: [n]; d tanh = 1 - tanh^2, from the saved output
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) din[i] = dout[i] * (1.0f - out[i] * out[i]);
}
