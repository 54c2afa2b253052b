// Layer kinds as a table. A kind (conv, dense, batchnorm, ...) is one file in src/layers/ that
// fills one layer_type: the named tensors it owns (PyTorch's state_dict suffixes, what each one
// is), its output shape, what it needs from a backend, and plan / forward / backward. A model
// (models/*.c) is a list of rows, each a kind with its parameters; the executor (net_exec.h)
// walks any such list through these functions and never asks which kind a layer is.
#ifndef DCGAN_LAYER_H
#define DCGAN_LAYER_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/backend.h"

// How batchnorm layers normalise in a forward pass.
typedef enum {
    BN_RUNNING = 0,   // running statistics (PyTorch eval mode)
    BN_TRAIN = 1,     // batch statistics, running statistics and num_batches_tracked updated (train mode)
    BN_BATCH = 2,     // batch statistics, running statistics left as they are
} bn_mode;

// What a named tensor is, which says where it lives and who writes it:
//   TENSOR_PARAM  trained: the net's params block, with a gradient in grads; written only by the
//                 optimiser, the moving average and loads, so a backend may keep a converted copy
//                 between steps (the oneDNN weight copies);
//   TENSOR_STAT   a float statistic saved with the weights, not trained (the stats block: running
//                 mean and variance), written by the layer's own op;
//   TENSOR_COUNT  an int64 counter (num_batches_tracked), advanced by the layer's own op.
typedef enum { TENSOR_PARAM, TENSOR_STAT, TENSOR_COUNT } tensor_role;
// Its initial value: N(0, std) or N(1, std) with the net's init_std (DCGAN: 0.02), or a constant.
typedef enum { INIT_ZERO, INIT_ONE, INIT_NORMAL, INIT_NORMAL_ONE } tensor_init;

typedef struct layer layer;
typedef struct layer_type layer_type;

// One tensor a kind declares for each of its layers.
typedef struct {
    const char *name;           // state_dict suffix: "weight", "running_mean", ...
    tensor_role role;
    tensor_init init;
    int (*shape)(const layer *l, int64_t shape[4]);   // writes the shape, returns ndim (0: a scalar)
} tensor_decl;

// A row's parameters; each kind reads the fields it names and ignores the others.
typedef struct {
    int oc;                         // conv, dense, resize: output channels
    int kh, kw, sh, sw, ph, pw;     // conv, dense, pool: window, strides, padding
    int transposed;                 // conv, dense: ConvTranspose2d (weight [in, out, kh, kw])
    act_kind act;                   // activation: ReLU, leaky ReLU or tanh
    float slope;                    // activation: leaky ReLU's slope
    float eps, momentum;            // batchnorm
    pool_kind pool;                 // pool: max or average
    int count_pad;                  // pool: average over the padding too
    int oh, ow;                     // resize: output size
    float scale, shift;             // resize: out = scale * value + shift
    int quantize;                   // resize: read [-1, 1] values as 8-bit pixels
    int offset;                     // copy: the first output channel the input goes to
    int nclasses;                   // onehot: class planes appended
} layer_params;

struct layer {
    const layer_type *type;
    char name[48];                  // state_dict prefix of its tensors: "main.3", "Mixed_5b.branch1x1.conv"
    int in, out;                    // the activations it reads and writes (0: the net's input)
    int C, H, W;                    // input, per sample
    int OC, OH, OW;                 // output, per sample
    layer_params p;
    int first_tensor;               // its tensors: net->tensors[first_tensor ..] in declaration order
};

#define LAYER_MAX_TENSORS 6

// A layer as an executor planned it: what its functions get.
typedef struct {
    const dcgan_backend *be;
    const layer *l;
    tensor_desc in, out;            // batch, shape and format of its input and output
    int forward_only;               // only forward will be asked (conv plans skip the backward directions)
    float fused_slope;              // an activation y > 0 ? y : slope * y folded into this layer (1: none)
    void *tensor[LAYER_MAX_TENSORS];    // backend memory of its tensors, in declaration order
    float *grad[LAYER_MAX_TENSORS];     // their gradients (TENSOR_PARAM only, else NULL)
    void *saved;                    // saved_bytes of backend memory the kind keeps between passes
    void *plan;                     // plan_bytes of host memory: the kind's descriptors, written by plan
} layer_ctx;

// What a pass asks of every layer.
typedef struct {
    bn_mode bn;
    const int32_t *classes;         // [B] backend memory: the batch's classes (conditional nets)
    int param_grads;                // backward: accumulate parameter gradients
} layer_pass;

// Where a kind's activations live: in the executor's format, in fp32 NCHW (ops only the reference
// layout serves, and the conditioning planes), or in the format of its output (element-wise ops:
// input and output share one format).
typedef enum { LAYER_FMT_ANY, LAYER_FMT_F32, LAYER_FMT_SAME } layer_format;

struct layer_type {
    const char *name;
    const tensor_decl *tensors;
    int ntensors;
    // supports: the backend ops it calls, checked in the formats of its input and output.
    dcgan_op ops[2];
    int nops;
    layer_format format;
    // Declarations the executor acts on:
    int absorbs_activation;         // a following activation with a slope is folded into it (fused_slope)
    int (*as_slope)(const layer *l, float *slope);  // 1 when the layer is y > 0 ? y : slope * y
    int in_place;                   // in evaluation (BN_RUNNING) its forward may write over its input
    int reads_classes;              // reads layer_pass.classes
    int computes_weights;           // the weights its ops read are computed in each forward pass, not
                                    // only changed by the optimiser: backends keep no copy of them
    size_t plan_bytes;              // its descriptors (layer_ctx.plan; 0: none)
    size_t (*saved_bytes)(const layer *l, int B);
    void (*shape)(layer *l);        // OC, OH, OW from C, H, W and the parameters
    int (*plan)(layer_ctx *c, char *err, size_t errlen);   // NULL: nothing to plan
    void (*forward)(const layer_ctx *c, void *out, const void *in, const layer_pass *p);
    // din NULL: the input gradient is not needed. Parameter gradients accumulate; NULL: forward only.
    void (*backward)(const layer_ctx *c, void *din, const void *dout, const void *in, const void *out,
                     const layer_pass *p);
    void (*sync)(layer_ctx *c, int ranks);   // statistics over every rank's batch (batchnorm)
};

// The kinds (src/layers/<name>.c).
extern const layer_type layer_conv;         // Conv2d / ConvTranspose2d without bias (a matrix product when
                                            // the kernel covers the image: layer_conv_dense)
extern const layer_type layer_batchnorm;    // BatchNorm2d, fused with a ReLU / leaky ReLU after it
extern const layer_type layer_activation;   // ReLU, LeakyReLU, Tanh
extern const layer_type layer_pool;         // max / average pooling (forward only)
extern const layer_type layer_resize;       // bilinear resize and value mapping (forward only)
extern const layer_type layer_copy;         // one part of a channel concatenation (forward only)
extern const layer_type layer_onehot;       // class conditioning: one-hot planes appended

// A convolution weight's shape ([out, in, kh, kw]; transposed [in, out, kh, kw]).
int layer_conv_weight_shape(const layer *l, int64_t shape[4]);
// 1 when conv layer l runs as a matrix product (its kernel covers the whole input, or the output of
// a transposed one, without padding): the backend's dense rows.
int layer_conv_dense(const layer *l);
// The layer's input and output channels' shape [C] (batchnorm's per-channel tensors).
int layer_channel_shape(const layer *l, int64_t shape[4]);
int layer_scalar_shape(const layer *l, int64_t shape[4]);
// The same shape out as in (element-wise kinds).
void layer_same_shape(layer *l);

#endif
