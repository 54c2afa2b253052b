// Running a dcgan_net on a batch: forward keeps every layer's output for backward.
#ifndef DCGAN_NET_EXEC_H
#define DCGAN_NET_EXEC_H
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
} net_exec;

// Allocates buffers for batch size B on the net's backend. Returns 0, or -1 when out of memory
// (with the bytes needed written to *bytes_needed when not NULL).
int net_exec_init(net_exec *x, dcgan_net *net, int B, size_t *bytes_needed);
void net_exec_free(net_exec *x);
// Forward pass on in [B, in_numel]. Returns the output [B, out_numel].
const float *net_forward(net_exec *x, const float *in, bn_mode bn);
// Backward from dout [B, out_numel] through the last forward (which must have used BN_TRAIN).
// Parameter gradients accumulate into net->grads when param_grads is set; din [B, in_numel] is
// overwritten when not NULL (the first layer's input gradient is skipped otherwise).
void net_backward(net_exec *x, const float *dout, float *din, int param_grads);

#endif
