// CPU reference ops: forward + backward for every layer of the DCGAN.
// Style: outputs first, inputs next, dims last. Tensors are float32 NCHW.
// Backward passes OVERWRITE input gradients and ACCUMULATE parameter gradients.
#ifndef DCGAN_OPS_H
#define DCGAN_OPS_H
#include <stddef.h>
#include <stdint.h>

// Geometry of a 2-D convolution with square kernels and no bias.
// For conv2d:           in [B, C, H, W] -> out [B, OC, OH, OW], OH = (H + 2p - K) / s + 1, weight [OC, C, K, K].
// For conv_transpose2d: in [B, C, H, W] -> out [B, OC, OH, OW], OH = (H - 1) * s - 2p + K, weight [C, OC, K, K]
//                       (PyTorch's ConvTranspose2d layout).
typedef struct {
    int B, C, H, W;    // input
    int OC, OH, OW;    // output
    int K, stride, pad;
} conv_geom;

conv_geom conv2d_geom(int B, int C, int H, int W, int OC, int K, int stride, int pad);
conv_geom convt2d_geom(int B, int C, int H, int W, int OC, int K, int stride, int pad);
// Floats of scratch memory the conv ops below need for this geometry.
size_t conv_workspace_floats(const conv_geom *g);

void conv2d_forward(float *out, const float *in, const float *weight, const conv_geom *g, float *work);
void conv2d_backward_data(float *din, const float *dout, const float *weight, const conv_geom *g, float *work);
void conv2d_backward_filter(float *dweight, const float *dout, const float *in, const conv_geom *g, float *work);

void convt2d_forward(float *out, const float *in, const float *weight, const conv_geom *g, float *work);
void convt2d_backward_data(float *din, const float *dout, const float *weight, const conv_geom *g, float *work);
void convt2d_backward_filter(float *dweight, const float *dout, const float *in, const conv_geom *g, float *work);

// Batchnorm over [B, C, HW], fused with the activation that follows it in the model:
// out = act(bn(in)) with act(y) = y > 0 ? y : act_slope * y, so act_slope 1 is plain batchnorm,
// 0 is ReLU and 0.2 the discriminator's leaky ReLU. Fusing saves a pass over the tensor each way.
// Training: normalises with the biased batch variance, saves mean and 1/sqrt(var + eps) per
// channel, and updates running stats with the unbiased variance (as PyTorch).
void batchnorm_forward_train(float *out, float *save_mean, float *save_invstd,
                             float *running_mean, float *running_var,
                             const float *in, const float *gamma, const float *beta,
                             int B, int C, int HW, float momentum, float eps, float act_slope);
void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var,
                            int B, int C, int HW, float eps, float act_slope);
// dout is the gradient of the activation's output `out` (read only when act_slope != 1: the
// activation's slope is chosen by the sign of out, which equals the sign of bn(in)).
void batchnorm_backward(float *din, float *dgamma, float *dbeta,
                        const float *dout, const float *out, const float *in, const float *save_mean,
                        const float *save_invstd, const float *gamma, int B, int C, int HW,
                        float act_slope);

void relu_forward(float *out, const float *in, size_t n);
void relu_backward(float *din, const float *dout, const float *out, size_t n);
void leaky_relu_forward(float *out, const float *in, size_t n, float slope);
void leaky_relu_backward(float *din, const float *dout, const float *in, size_t n, float slope);
void tanh_forward(float *out, const float *in, size_t n);
void tanh_backward(float *din, const float *dout, const float *out, size_t n);

// Optimisers, as torch.optim does them. t is the 1-based step count.
void adam_update(float *param, const float *grad, float *m, float *v, size_t n,
                 float lr, float beta1, float beta2, float eps, long t);
void rmsprop_update(float *param, const float *grad, float *sq_avg, size_t n,
                    float lr, float alpha, float eps);
void clip_values(float *x, size_t n, float limit);

// Class conditioning. concat_onehot: out [B, C + K, HW] = in [B, C, HW] with K planes appended,
// plane k of sample b all 1 where k == classes[b] and 0 elsewhere (classes [B], each in [0, K)).
// slice_channels: out [B, C, HW] = channels 0..C-1 of in [B, Ctot, HW], the gradient of
// concat_onehot with respect to in (the class planes are inputs and get no gradient).
void concat_onehot(float *out, const float *in, const int32_t *classes, int B, int C, int HW, int K);
void slice_channels(float *out, const float *in, int B, int C, int Ctot, int HW);

#endif
