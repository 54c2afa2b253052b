// Backend dispatch: the model and the training loop call ops only through this table, so the
// same code runs on the CPU reference ops and on the CUDA kernels. Pointers passed to the ops
// are backend memory (host memory for the CPU backend, device memory for CUDA).
#ifndef DCGAN_BACKEND_H
#define DCGAN_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/ops.h"
#include "dcgan/loss.h"

typedef struct dcgan_backend {
    const char *name;
    // memory
    void *(*alloc)(size_t bytes);                 // zero-filled; NULL on failure
    void (*release)(void *p);
    void (*upload)(void *dst, const void *host_src, size_t bytes);
    void (*download)(void *host_dst, const void *src, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);
    void (*zero)(void *p, size_t bytes);
    void (*sync)(void);
    // layers (same contracts as ops.h)
    void (*conv2d_forward)(float *out, const float *in, const float *w, const conv_geom *g, float *work);
    void (*conv2d_backward_data)(float *din, const float *dout, const float *w, const conv_geom *g, float *work);
    void (*conv2d_backward_filter)(float *dw, const float *dout, const float *in, const conv_geom *g, float *work);
    void (*convt2d_forward)(float *out, const float *in, const float *w, const conv_geom *g, float *work);
    void (*convt2d_backward_data)(float *din, const float *dout, const float *w, const conv_geom *g, float *work);
    void (*convt2d_backward_filter)(float *dw, const float *dout, const float *in, const conv_geom *g, float *work);
    size_t (*conv_workspace_floats)(const conv_geom *g);
    void (*batchnorm_forward_train)(float *out, float *mean, float *invstd, float *rmean, float *rvar,
                                    const float *in, const float *gamma, const float *beta,
                                    int B, int C, int HW, float momentum, float eps, float act_slope);
    void (*batchnorm_forward_eval)(float *out, const float *in, const float *gamma, const float *beta,
                                   const float *rmean, const float *rvar, int B, int C, int HW, float eps,
                                   float act_slope);
    void (*batchnorm_backward)(float *din, float *dgamma, float *dbeta, const float *dout,
                               const float *out, const float *in, const float *mean, const float *invstd,
                               const float *gamma, int B, int C, int HW, float act_slope);
    void (*relu_forward)(float *out, const float *in, size_t n);
    void (*relu_backward)(float *din, const float *dout, const float *out, size_t n);
    void (*leaky_relu_forward)(float *out, const float *in, size_t n, float slope);
    void (*leaky_relu_backward)(float *din, const float *dout, const float *in, size_t n, float slope);
    void (*tanh_forward)(float *out, const float *in, size_t n);
    void (*tanh_backward)(float *din, const float *dout, const float *out, size_t n);
    // Loss on logits[B]: writes dlogits[B] and stats[0] = loss, stats[1] = mean sigmoid(logits)
    // (stats is backend memory, read back only when a value is printed).
    void (*loss_d)(float *dlogits, float *stats, const float *logits, int B, gan_loss kind, int real);
    void (*loss_g)(float *dlogits, float *stats, const float *logits, int B, gan_loss kind);
    void (*adam_update)(float *p, const float *g, float *m, float *v, size_t n,
                        float lr, float beta1, float beta2, float eps, long t);
    void (*rmsprop_update)(float *p, const float *g, float *sq, size_t n, float lr, float alpha, float eps);
    void (*clip_values)(float *x, size_t n, float limit);
    // Philox normal noise: out[i] = mean + std * philox_normal_at(seed, stream, offset + i).
    void (*fill_normal)(float *out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset,
                        float mean, float std);
    // Data batches: out[B, per] = (pixels[idx[b]] / 255 - 0.5) / 0.5 (dataset_batch's arithmetic),
    // pixels uint8 [n, per] and idx [B] in backend memory.
    void (*gather_normalize)(float *out, const uint8_t *pixels, const uint32_t *idx, int B, size_t per);
    int host_memory;                              // 1: backend memory is host memory
    // Page-locked host buffers for staged uploads (plain heap memory on the CPU).
    void *(*host_alloc)(size_t bytes);
    void (*host_release)(void *p);
    // Staged upload through slot 0..3, overlapped with compute: the copy runs on a side stream
    // after the work marked by stage_release(slot), and ops enqueued later wait for it.
    // stage_host_wait(slot) blocks until the slot's host buffer may be refilled.
    void (*stage_upload)(void *dst, const void *host_src, size_t bytes, int slot);
    void (*stage_release)(int slot);
    void (*stage_host_wait)(int slot);
    // Free and total backend memory in bytes; returns -1 when the backend cannot tell.
    int (*mem_info)(size_t *free_bytes, size_t *total_bytes);
    // With on = 1 the backend reports its device and per-shape choices on stdout.
    void (*set_verbose)(int on);
    // Class conditioning (same contracts as ops.h; classes is backend memory, int32 [B]).
    // concat_onehot builds a conditional net's first-layer input, slice_channels takes the image
    // part of D's input gradient back out. A backend may leave both NULL: net_exec then does the
    // same with the memory ops above (one copy per sample), slower but with identical results.
    void (*concat_onehot)(float *out, const float *in, const int32_t *classes, int B, int C, int HW, int K);
    void (*slice_channels)(float *out, const float *in, int B, int C, int Ctot, int HW);
} dcgan_backend;

const dcgan_backend *backend_cpu(void);
// "cpu", "cuda" or "auto". Returns NULL and writes a one-line reason when unavailable;
// for "auto" without a usable GPU it returns the CPU backend and sets *notice.
const dcgan_backend *backend_select(const char *name, const char **notice, char *err, size_t errlen);

#endif
