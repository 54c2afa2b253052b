// Running a dcgan_net on a batch: forward keeps every layer's output for backward.
#ifndef DCGAN_NET_EXEC_H
#define DCGAN_NET_EXEC_H
#include <stdint.h>
#include "dcgan/model.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

// How batchnorm layers normalise in a forward pass.
typedef enum {
    BN_RUNNING = 0,   // running statistics (PyTorch eval mode)
    BN_TRAIN = 1,     // batch statistics, running statistics updated (PyTorch train mode)
    BN_BATCH = 2,     // batch statistics, running statistics left as they are
} bn_mode;

typedef struct {
    dcgan_net *net;
    int B;
    const float *input;         // [B, in_numel] of the last forward (not owned)
    float *act[32];             // act[i]: output of layer i, [B, OC, OH, OW] (backend memory)
    float *bn_mean, *bn_invstd; // saved batch statistics, per BN channel, in layer order
    float *grad_a, *grad_b;     // ping-pong buffers for activation gradients
    float *work;                // conv scratch
    float *scratch_stats;       // running stats that BN_BATCH updates and throws away
    size_t bn_channels;
    // Conditional nets only (net->cfg.nclasses > 0): the classes of the batch, set by
    // net_set_classes and kept for every forward until set again.
    int32_t *classes;           // [B] backend memory
    int32_t *classes_host;      // [B] host copy (for backends without concat_onehot)
    float *cond_in;             // [B, C + K, H, W] the first layer's input: data + class planes
    float *cond_grad;           // [B, C + K, H, W] its gradient, before the class planes are dropped
    float *ones_host;           // [H * W] of 1s, for backends without concat_onehot
} net_exec;

// Allocates buffers for batch size B on the net's backend. Returns 0, or -1 when out of memory
// (with the bytes needed written to *bytes_needed when not NULL).
int net_exec_init(net_exec *x, dcgan_net *net, int B, size_t *bytes_needed);
void net_exec_free(net_exec *x);
// Sets the classes (host int32 [B], each in [0, nclasses)) that a conditional net is conditioned
// on in the forward passes that follow; no effect on an unconditional net.
void net_set_classes(net_exec *x, const int32_t *classes);
// Forward pass on in [B, in_numel]. Returns the output [B, out_numel]. A conditional net appends
// the one-hot planes of the classes last set (class 0 for all when never set) to `in`.
const float *net_forward(net_exec *x, const float *in, bn_mode bn);
// Backward from dout [B, out_numel] through the last forward (which must have used BN_TRAIN).
// Parameter gradients accumulate into net->grads when param_grads is set; din [B, in_numel] is
// overwritten when not NULL (the first layer's input gradient is skipped otherwise). For a
// conditional net din is the gradient of the data part only; the class planes get none.
void net_backward(net_exec *x, const float *dout, float *din, int param_grads);

#endif
