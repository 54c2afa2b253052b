// Descriptors: what a tensor is (shape, dtype, layout) and what an op is asked to do. Every
// backend op takes its descriptor as its last argument, so a new dtype or layout changes the
// descriptor, not the signature of every op. Every backend serves fp32 NCHW; the oneDNN backend
// also bf16 and the channel-blocked layout; a backend says what it does not serve
// (dcgan_backend.supports) instead of computing something wrong.
#ifndef DCGAN_DESC_H
#define DCGAN_DESC_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/loss.h"

typedef enum { DTYPE_F32, DTYPE_BF16, DTYPE_F16, DTYPE_COUNT } dcgan_dtype;
// LAYOUT_BLOCKED: channels in blocks of 16, [n][c / 16][h][w][16] (oneDNN's nChw16c), for a
// tensor whose c is a multiple of 16; any other tensor in that layout is stored as NCHW. Same
// bytes as NCHW either way.
typedef enum { LAYOUT_NCHW, LAYOUT_NHWC, LAYOUT_BLOCKED, LAYOUT_COUNT } dcgan_layout;
#define LAYOUT_BLOCK 16

// A batch of images (or feature maps): n samples of c channels of h x w.
typedef struct {
    int n, c, h, w;
    dcgan_dtype dtype;
    dcgan_layout layout;
} tensor_desc;

// The ops a backend implements, one per source file (src/cpu/<name>.c, kernels/<name>.cu).
typedef enum {
    OP_CONV, OP_DENSE, OP_BATCHNORM, OP_ACTIVATION, OP_LOSS, OP_OPTIM, OP_NOISE, OP_DATA, OP_CONCAT,
    OP_COMM, OP_POOL, OP_RESIZE, OP_COUNT
} dcgan_op;

// Convolution without bias, said to be a plain or a transposed one, with a kh x kw kernel, strides
// sh, sw and zero padding ph, pw (rows, columns; DCGAN's are square, Inception's 1x7 and 7x1 not):
//   CONV_2D:           out.h = (in.h + 2 ph - kh) / sh + 1,  weight [out.c, in.c, kh, kw]
//   CONV_TRANSPOSE_2D: out.h = (in.h - 1) sh - 2 ph + kh,    weight [in.c, out.c, kh, kw]
// (the weight layouts of PyTorch's Conv2d and ConvTranspose2d; widths alike). in and out may differ in dtype and
// layout (a net's first layer reads fp32 NCHW data into bf16 activations, say).
// forward_only: 1 when only conv_forward will be asked of the descriptor (Inception's convolutions
// for FID), so conv_plan may skip choosing and sizing the backward directions (cuDNN's timed search
// would otherwise triple); the backward ops of such a plan are a programming error. 0: all three.
// weights_vary: 1 when w is rewritten between calls by the layer itself (a weight computed in each
// forward pass), so a backend keeps no converted copy of it from one call to the next; 0: w changes
// only through the table's own writes (optim_update, upload, ...), after which copies are remade.
typedef enum { CONV_2D, CONV_TRANSPOSE_2D } conv_kind;
typedef struct {
    conv_kind kind;
    tensor_desc in, out;
    int kh, kw, sh, sw, ph, pw;
    int forward_only;
    int weights_vary;
} conv_desc;

// A layer whose kernel covers its whole input or output (G's first layer: 1x1 -> 4x4, D's last:
// 4x4 -> 1x1) is a matrix product: out [n, out_features] from in [n, in_features]. The weight
// keeps its convolution layout: [out_features, in_features] for a Conv2d, [in_features,
// out_features] for a ConvTranspose2d (transposed = 1).
typedef struct {
    tensor_desc in, out;   // in_features = in.c * in.h * in.w, out_features likewise
    int transposed;
    int weights_vary;      // as conv_desc's
} dense_desc;

// Batchnorm over x's channels, fused with the activation after it: out = act(bn(in)) with
// act(y) = y > 0 ? y : act_slope * y (1: no activation, 0: ReLU, 0.2: leaky ReLU).
// group_n: the samples the statistics are taken over. The ops of plain batchnorm use x.n (the
// local batch) and ignore it; the synchronised ops (batchnorm_forward_global, ...) take the sums
// of every rank's batch and normalise over group_n = x.n times the ranks.
typedef struct {
    tensor_desc x;
    float momentum, eps, act_slope;
    int group_n;
} bn_desc;

typedef enum { ACT_RELU, ACT_LEAKY_RELU, ACT_TANH } act_kind;
typedef struct {
    act_kind kind;
    float slope;           // leaky ReLU only
    tensor_desc x;
} act_desc;

// A GAN loss on B logits for one role of the step.
typedef enum { ROLE_D_FAKE = 0, ROLE_D_REAL = 1, ROLE_G = 2 } loss_role;
typedef struct {
    gan_loss kind;
    loss_role role;
    int B;
} loss_desc;

// One optimiser step over n parameters, as torch.optim does it. The float hyper-parameters are
// kept as given and also as the decimal numbers they were written as (0.999f -> 0.999): torch
// computes its scalar factors from the Python doubles (optim_desc_make does the conversion).
typedef enum { OPT_ADAM, OPT_RMSPROP } optimizer_kind;
typedef struct {
    optimizer_kind kind;
    size_t n;
    float lr, beta1, beta2, eps;    // RMSprop takes beta2 as its smoothing constant alpha
    double lr_dec, beta1_dec, beta2_dec;
} optim_desc;

// Random numbers from the Philox stream (seed, stream): n normals mean + std * N(0, 1) from word
// `offset` on, or n classes uniform in [0, nclasses) drawn as rng_below does.
typedef struct {
    size_t n;
    uint64_t seed, stream, offset;
    float mean, std;
    int nclasses;
} noise_desc;

// Training batches from a dataset of n images of `per` uint8 values each. Batch k of the run
// (k counts from the start of training): with an order buffer [slots, n] holding the
// permutations of `slots` consecutive epochs, images order[(k / batches_per_epoch) % slots]
// [(k % batches_per_epoch) * stride + first + b] of pixels [n, per]; without one (batches staged
// from the host), the B images of slot k % slots of pixels [slots, B, per].
// Data-parallel runs: every rank walks the same permutation; one batch step takes `stride`
// images of it (the global batch, B times the ranks) and rank r reads its B from first = r * B.
// stride 0 means B (one process), so a descriptor without the two fields reads as before.
typedef struct {
    int B, n;
    size_t per;
    long batches_per_epoch;
    int slots;
    int stride, first;
} data_desc;


// Class planes: in [n, c, h, w] with nclasses one-hot planes appended -> [n, c + nclasses, h, w].
typedef struct {
    tensor_desc in;
    int nclasses;
} concat_desc;

// Pooling over kh x kw windows with strides sh, sw and padding ph, pw (out = (in + 2p - k) / s + 1,
// rounded down as PyTorch's default): the maximum (padding never wins), or the average over the
// window's inside (count_pad 0, TensorFlow's and Inception's) or over all of it (count_pad 1).
typedef enum { POOL_MAX, POOL_AVG } pool_kind;
typedef struct {
    pool_kind kind;
    tensor_desc in, out;
    int kh, kw, sh, sw, ph, pw;
    int count_pad;
} pool_desc;

// Bilinear resize (PyTorch's interpolate, align_corners False, no antialiasing) of in to out's
// height and width, then out = scale * value + shift; a 1-channel input fills every output channel
// (gray images for a 3-channel network). quantize: the input holds [-1, 1] images, read as the
// 8-bit pixels their PNG files store, / 255 (so features of generated images equal those of the
// files `dcgan sample --out-dir` writes).
typedef struct {
    tensor_desc in, out;
    float scale, shift;
    int quantize;
} resize_desc;

// An all-reduce across the ranks of the communicator attached to the backend (comm_attach), in
// place: buf[i] = scale * (sum over the ranks of buf[i]), n floats (f64 = 0) or doubles (f64 = 1).
// slot (0..3) names the reduction for allreduce_wait; one reduction per slot is in flight.
typedef struct {
    size_t n;
    int f64;
    float scale;
    int slot;
} reduce_desc;
typedef struct dcgan_comm dcgan_comm;   // the ranks of a run (include/dcgan/comm.h)

// Descriptors from shapes (fp32 NCHW).
tensor_desc tensor_f32(int n, int c, int h, int w);
// 1 when t is stored in 16-channel blocks (LAYOUT_BLOCKED and c a multiple of 16).
int tensor_blocked(const tensor_desc *t);
conv_desc conv_desc_make(conv_kind kind, tensor_desc in, int out_channels, int K, int stride, int pad);
pool_desc pool_desc_make(pool_kind kind, tensor_desc in, int k, int stride, int pad, int count_pad);
// A rectangular kernel: kh x kw, strides sh, sw, padding ph, pw.
conv_desc conv_desc_rect(conv_kind kind, tensor_desc in, int out_channels, int kh, int kw, int sh, int sw, int ph,
                         int pw);
optim_desc optim_desc_make(optimizer_kind kind, size_t n, float lr, float beta1, float beta2, float eps);

size_t dtype_size(dcgan_dtype t);
const char *dtype_name(dcgan_dtype t);
const char *layout_name(dcgan_layout l);
const char *op_name(dcgan_op op);
size_t tensor_numel(const tensor_desc *t);
// 1 when the descriptor's shapes agree with each other (the ops' preconditions); the formats of
// in and out may differ.
int conv_desc_valid(const conv_desc *d);
int dense_desc_valid(const dense_desc *d);

// A broken precondition of an op is a programming error: it names the condition and stops.
#define DCGAN_REQUIRE(cond) do { if (!(cond)) dcgan_require_failed(#cond, __FILE__, __LINE__); } while (0)
void dcgan_require_failed(const char *cond, const char *file, int line);

#endif
