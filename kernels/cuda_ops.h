// The CUDA backend's pieces, shared between kernels/ files: the process-wide stream and library
// handles (created once by backend_cuda), and the launchers each op family exports. Launchers take
// device pointers, enqueue on cuda_stream() and never synchronise the host.
#ifndef DCGAN_CUDA_OPS_H
#define DCGAN_CUDA_OPS_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h>
extern "C" {
#include "dcgan/backend.h"
}

// Shared state (kernels/cuda_backend.cu).
cudaStream_t cuda_stream(void);
cudnnHandle_t cuda_cudnn(void);
cublasHandle_t cuda_cublas(void);
int cuda_verbose(void);
int cuda_math_fma(void);          // 1: FMA-only math in cuDNN and cuBLAS (no TF32)
int cuda_algo_heuristic(void);    // 1: cuDNN heuristics instead of timed search
int cuda_sm_count(void);
// Grows the shared convolution workspace to at least `bytes`; returns it (NULL when that fails).
void *cuda_workspace(size_t bytes, size_t *have);

// Grid size for a grid-stride loop over n elements.
static inline int grid_for(size_t n, int threads) {
    size_t blocks = (n + threads - 1) / threads, cap = (size_t)cuda_sm_count() * 32;
    if (blocks > cap) blocks = cap;
    return blocks ? (int)blocks : 1;
}

extern "C" {
// conv2d / conv_transpose2d (kernels/cudnn_conv.cu; the dense 1x1 cases go to cuBLAS)
size_t cuda_conv_workspace_floats(const conv_geom *g);
void cuda_conv2d_forward(float *out, const float *in, const float *w, const conv_geom *g, float *work);
void cuda_conv2d_backward_data(float *din, const float *dout, const float *w, const conv_geom *g, float *work);
void cuda_conv2d_backward_filter(float *dw, const float *dout, const float *in, const conv_geom *g, float *work);
void cuda_convt2d_forward(float *out, const float *in, const float *w, const conv_geom *g, float *work);
void cuda_convt2d_backward_data(float *din, const float *dout, const float *w, const conv_geom *g, float *work);
void cuda_convt2d_backward_filter(float *dw, const float *dout, const float *in, const conv_geom *g, float *work);
void cuda_conv_release_all(void);

// batchnorm (+ activation) (kernels/batchnorm.cu)
void cuda_batchnorm_forward_train(float *out, float *mean, float *invstd, float *rmean, float *rvar,
                                  const float *in, const float *gamma, const float *beta,
                                  int B, int C, int HW, float momentum, float eps, float act_slope);
void cuda_batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                                 const float *rmean, const float *rvar, int B, int C, int HW, float eps,
                                 float act_slope);
void cuda_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *out,
                             const float *in, const float *mean, const float *invstd, const float *gamma,
                             int B, int C, int HW, float act_slope);

// element-wise activations (kernels/activation.cu)
void cuda_relu_forward(float *out, const float *in, size_t n);
void cuda_relu_backward(float *din, const float *dout, const float *out, size_t n);
void cuda_leaky_relu_forward(float *out, const float *in, size_t n, float slope);
void cuda_leaky_relu_backward(float *din, const float *dout, const float *in, size_t n, float slope);
void cuda_tanh_forward(float *out, const float *in, size_t n);
void cuda_tanh_backward(float *din, const float *dout, const float *out, size_t n);

// GAN losses (kernels/loss.cu)
void cuda_loss_d(float *dlogits, float *stats, const float *logits, int B, gan_loss kind, int real);
void cuda_loss_g(float *dlogits, float *stats, const float *logits, int B, gan_loss kind);

// optimisers (kernels/optim.cu)
void cuda_adam_update(float *p, const float *g, float *m, float *v, size_t n,
                      float lr, float beta1, float beta2, float eps, long t);
void cuda_rmsprop_update(float *p, const float *g, float *sq, size_t n, float lr, float alpha, float eps);
void cuda_clip_values(float *x, size_t n, float limit);

// noise and data (kernels/noise.cu, kernels/data.cu)
void cuda_fill_normal(float *out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset, float mean, float std);
void cuda_gather_normalize(float *out, const uint8_t *pixels, const uint32_t *idx, int B, size_t per);
void cuda_concat_onehot(float *out, const float *in, const int32_t *classes, int B, int C, int HW, int K);
void cuda_slice_channels(float *out, const float *in, int B, int C, int Ctot, int HW);
}

#endif
