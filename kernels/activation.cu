// Element-wise activations, forward and backward, with the CPU ops' formulas (src/cpu/activation.c).
#include "cuda_check.h"
#include "cuda_ops.h"

#define GRID_STRIDE(i, n) \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

__global__ void relu_fwd(float *out, const float *in, size_t n) {
    GRID_STRIDE(i, n) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}
__global__ void relu_bwd(float *din, const float *dout, const float *out, size_t n) {
    GRID_STRIDE(i, n) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}
__global__ void lrelu_fwd(float *out, const float *in, size_t n, float slope) {
    GRID_STRIDE(i, n) out[i] = in[i] > 0.0f ? in[i] : in[i] * slope;
}
__global__ void lrelu_bwd(float *din, const float *dout, const float *in, size_t n, float slope) {
    GRID_STRIDE(i, n) din[i] = in[i] > 0.0f ? dout[i] : dout[i] * slope;
}
__global__ void tanh_fwd(float *out, const float *in, size_t n) {
    GRID_STRIDE(i, n) out[i] = tanhf(in[i]);
}
__global__ void tanh_bwd(float *din, const float *dout, const float *out, size_t n) {
    // d tanh = 1 - tanh^2 from the saved output; __fmul_rn keeps the CPU's rounding (no FMA)
    GRID_STRIDE(i, n) din[i] = __fmul_rn(dout[i], 1.0f - __fmul_rn(out[i], out[i]));
}

#define LAUNCH(kernel, n, ...) do { \
    if (n) { kernel<<<grid_for(n, 256), 256, 0, cuda_stream()>>>(__VA_ARGS__); CUDA_CHECK_LAUNCH(); } } while (0)

extern "C" void cuda_relu_forward(float *out, const float *in, size_t n) { LAUNCH(relu_fwd, n, out, in, n); }
extern "C" void cuda_relu_backward(float *din, const float *dout, const float *out, size_t n) {
    LAUNCH(relu_bwd, n, din, dout, out, n);
}
extern "C" void cuda_leaky_relu_forward(float *out, const float *in, size_t n, float slope) {
    LAUNCH(lrelu_fwd, n, out, in, n, slope);
}
extern "C" void cuda_leaky_relu_backward(float *din, const float *dout, const float *in, size_t n, float slope) {
    LAUNCH(lrelu_bwd, n, din, dout, in, n, slope);
}
extern "C" void cuda_tanh_forward(float *out, const float *in, size_t n) { LAUNCH(tanh_fwd, n, out, in, n); }
extern "C" void cuda_tanh_backward(float *din, const float *dout, const float *out, size_t n) {
    LAUNCH(tanh_bwd, n, din, dout, out, n);
}
