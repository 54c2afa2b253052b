// Element-wise activations, forward and backward, with the element formulas of formulas.h (the
// CPU's, src/cpu/activation.c); backward reads the forward's output.
#include "cuda_check.h"
#include "cuda_ops.h"
extern "C" {
#include "dcgan/formulas.h"
}

__global__ void act_forward_kernel(float *out, const float *in, size_t n, act_kind kind, float slope) {
    switch (kind) {
    case ACT_RELU: GRID_STRIDE(i, n) out[i] = act_relu(in[i]); break;
    case ACT_LEAKY_RELU: GRID_STRIDE(i, n) out[i] = act_leaky_relu(in[i], slope); break;
    case ACT_TANH: GRID_STRIDE(i, n) out[i] = tanhf(in[i]); break;
    }
}

__global__ void act_backward_kernel(float *din, const float *dout, const float *out, size_t n, act_kind kind, float slope) {
    switch (kind) {
    case ACT_RELU: GRID_STRIDE(i, n) din[i] = act_relu_grad(dout[i], out[i]); break;
    case ACT_LEAKY_RELU: GRID_STRIDE(i, n) din[i] = act_leaky_relu_grad(dout[i], out[i], slope); break;
    case ACT_TANH: GRID_STRIDE(i, n) din[i] = act_tanh_grad(dout[i], out[i]); break;
    }
}

void cuda_activation_forward(const dcgan_backend *be, void *out, const void *in, const act_desc *d) {
    NVTX_RANGE("activation_forward");
    DCGAN_REQUIRE(d->x.dtype == DTYPE_F32);
    const cuda_ctx *c = ctx_of(be);
    size_t n = tensor_numel(&d->x);
    if (!n) return;
    act_forward_kernel<<<grid_for(c, n, 256), 256, 0, c->stream>>>((float *)out, (const float *)in, n, d->kind, d->slope);
    CUDA_CHECK_LAUNCH();
}

void cuda_activation_backward(const dcgan_backend *be, void *din, const void *dout, const void *out, const act_desc *d) {
    NVTX_RANGE("activation_backward");
    DCGAN_REQUIRE(d->x.dtype == DTYPE_F32);
    const cuda_ctx *c = ctx_of(be);
    size_t n = tensor_numel(&d->x);
    if (!n) return;
    act_backward_kernel<<<grid_for(c, n, 256), 256, 0, c->stream>>>((float *)din, (const float *)dout,
                                                                     (const float *)out, n, d->kind, d->slope);
    CUDA_CHECK_LAUNCH();
}
