// The executor: runs a net (any rows of any layer kinds, model.h) on a batch. When it is made, each
// layer's input and output format is fixed, a batchnorm absorbs the ReLU / leaky ReLU after it,
// every layer is checked against the backend (its kind's `supports`) and planned, and the
// activations get memory; a pass is then a fixed walk over the layers through their kinds'
// functions. A training executor keeps every layer's output for backward; a forward-only one
// (evaluation: sampling, FID) gives an activation's memory to a later one once its last reader
// has run, so a net needs a few activations' memory, not all of them.
#ifndef DCGAN_NET_EXEC_H
#define DCGAN_NET_EXEC_H
#include <stdint.h>
#include "dcgan/model.h"

// The element type and layout of the activations (the parameters stay fp32).
typedef struct { dcgan_dtype dtype; dcgan_layout layout; } act_format;

// What the executor decided for one layer (the kind's view of it is layer_ctx).
typedef struct {
    int run;                    // 0: folded into the layer before it
    int out;                    // the activation it writes (a batchnorm's: its folded activation's)
    int grads_before;           // a layer before it has trained tensors: its input gradient is needed
} net_step;

typedef struct {
    dcgan_net *net;
    int B;
    int forward_only;           // made by net_exec_init_forward, for batchnorm mode bn
    bn_mode bn;
    act_format fmt;             // the activations inside the net
    layer_ctx *ctx;             // [nlayers]: each layer as planned, what its kind's functions get
    net_step *steps;            // [nlayers]
    act_format *afmt;           // [nacts]: each activation's format
    void **buf;                 // [nacts]: its memory (buf[0]: the last forward's input, not owned)
    void **act;                 // [nlayers]: act[i] the output of layer i (NULL when folded away; forward
                                // only: valid until a later layer reuses its memory)
    void **blocks;              // the allocations behind buf and the layers' saved memory
    int nblocks;
    void *grad_a, *grad_b;      // ping-pong buffers for activation gradients (training)
    const int32_t *classes;     // [B] backend memory: the classes of the batch (not owned)
    int32_t *own_classes;       // [B] backend memory, filled by net_set_classes (nets that read classes)
} net_exec;

// Allocates buffers for batch size B on the net's backend and plans every layer for training
// (forward and backward; the net must be a chain). fmt: the element type and layout of the
// activations inside the net (NULL: fp32 in the backend's native layout); the net's input and
// output (and their gradients) are always fp32 NCHW. Returns 0, or -1 with a one-line reason (the
// op or format the backend does not serve, or out of memory, with the bytes the buffers need
// written to *bytes_needed when not NULL).
int net_exec_init(net_exec *x, dcgan_net *net, int B, const act_format *fmt, size_t *bytes_needed,
                  char *err, size_t errlen);
// The same for forward passes only (any net, a graph too), in batchnorm mode bn: activations share
// memory by liveness, a batchnorm in evaluation may write over its input, convolutions are planned
// forward only. net_forward must then be asked for that mode.
int net_exec_init_forward(net_exec *x, dcgan_net *net, int B, const act_format *fmt, bn_mode bn,
                          size_t *bytes_needed, char *err, size_t errlen);
void net_exec_free(net_exec *x);
// 0 when the backend serves every layer of net with activations in fmt (NULL: fp32 in its native
// layout), else -1 with a one-line reason; nothing is planned or allocated.
int net_exec_check(const dcgan_net *net, const dcgan_backend *be, const act_format *fmt, char *err, size_t errlen);
// From now on the BN_TRAIN passes take batchnorm's statistics (and, backward, its gradient sums)
// over the batches of all `ranks` ranks, through all-reduces on the backend's communicator
// (slot 2): PyTorch's SyncBatchNorm. Every rank must make the same passes. Returns 0.
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
// overwritten when not NULL (the input gradient of the first layers without trained tensors is
// skipped otherwise). For a conditional net din is the gradient of the data part only.
void net_backward(net_exec *x, const void *dout, void *din, int param_grads);

#endif
