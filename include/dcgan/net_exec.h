// Running a dcgan_net on a batch: forward keeps every layer's output for backward. Each layer's
// op descriptor is built, checked against the backend (supports) and planned once, when the
// executor is made; a pass is then a fixed walk over the layer list.
#ifndef DCGAN_NET_EXEC_H
#define DCGAN_NET_EXEC_H
#include <stdint.h>
#include "dcgan/model.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

// How batchnorm layers normalise in a forward pass.
typedef enum {
    BN_RUNNING = 0,   // running statistics (PyTorch eval mode)
    BN_TRAIN = 1,     // batch statistics, running statistics and num_batches_tracked updated (train mode)
    BN_BATCH = 2,     // batch statistics, running statistics left as they are
} bn_mode;

// The element type and layout of the activations (the parameters stay fp32).
typedef struct { dcgan_dtype dtype; dcgan_layout layout; } act_format;

// One layer's op descriptor; only the member of the layer's kind is set.
typedef struct {
    conv_desc conv;
    dense_desc dense;
    bn_desc bn;
    act_desc act;
    reduce_desc bn_reduce;      // synchronised batchnorm: the all-reduce of the layer's sums [2C]
} layer_plan;

typedef struct {
    dcgan_net *net;
    int B;
    act_format fmt;             // the activations inside the net
    act_format tfmt[DCGAN_MAX_LAYERS + 1];  // tensor i's (layer i's input; [nlayers]: the output)
    layer_plan plan[DCGAN_MAX_LAYERS];
    const void *input;          // [B, in] of the last forward (not owned)
    void *act[DCGAN_MAX_LAYERS];    // act[i]: output of layer i (backend memory; NULL when fused away)
    float *bn_mean, *bn_invstd; // saved batch statistics, per BN channel, in layer order
    void *grad_a, *grad_b;      // ping-pong buffers for activation gradients
    size_t bn_channels;
    // Conditional nets only (net->cfg.nclasses > 0).
    const int32_t *classes;     // [B] backend memory: the classes of the batch (not owned)
    int32_t *own_classes;       // [B] backend memory, filled by net_set_classes
    concat_desc cond;           // the data input and its class planes
    float *cond_in;             // [B, C + K, H, W] the first layer's input: data + class planes
    float *cond_grad;           // [B, C + K, H, W] its gradient, before the class planes are dropped
    // Synchronised batchnorm (net_exec_sync_bn): BN_TRAIN passes normalise over every rank's batch.
    int sync_ranks;             // 0: each rank's own batch
    double *bn_sums;            // [2 * bn_channels] backend memory: one layer's sums at a time, by offset
} net_exec;

// Allocates buffers for batch size B on the net's backend and plans every layer. fmt: the element
// type and layout of the activations inside the net (NULL: fp32 in the backend's native layout);
// the net's input and output (and their gradients) are always fp32 NCHW. Returns 0, or -1 with a one-line reason (the op or format the backend does not serve, or
// out of memory, with the bytes the buffers need written to *bytes_needed when not NULL).
int net_exec_init(net_exec *x, dcgan_net *net, int B, const act_format *fmt, size_t *bytes_needed,
                  char *err, size_t errlen);
void net_exec_free(net_exec *x);
// From now on the BN_TRAIN passes take batchnorm's statistics (and, backward, its gradient sums)
// over the batches of all `ranks` ranks, through all-reduces on the backend's communicator
// (slot 2): PyTorch's SyncBatchNorm. Every rank must make the same passes. 0, or -1 when out of memory.
int net_exec_sync_bn(net_exec *x, int ranks, char *err, size_t errlen);
// The classes (host int32 [B], each in [0, nclasses)) a conditional net is conditioned on in the
// forward passes that follow (copied to the executor's own buffer); no effect on an
// unconditional net. net_use_classes takes a backend buffer instead, read at every forward.
void net_set_classes(net_exec *x, const int32_t *classes);
void net_use_classes(net_exec *x, const int32_t *classes);
// Forward pass on in [B, in_numel]. Returns the output [B, out_numel]. A conditional net appends
// the one-hot planes of its classes (class 0 for all when never set) to `in`.
const void *net_forward(net_exec *x, const void *in, bn_mode bn);
// Backward from dout [B, out_numel] through the last forward (which must have used BN_TRAIN).
// Parameter gradients accumulate into net->grads when param_grads is set; din [B, in_numel] is
// overwritten when not NULL (the first layer's input gradient is skipped otherwise). For a
// conditional net din is the gradient of the data part only; the class planes get none.
void net_backward(net_exec *x, const void *dout, void *din, int param_grads);

#endif
