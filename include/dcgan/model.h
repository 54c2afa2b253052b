// The DCGAN generator and discriminator as layer lists, exactly as the PyTorch example
// builds them (nn.Sequential named `main`), for image sizes 32, 64 and 128.
#ifndef DCGAN_MODEL_H
#define DCGAN_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/backend.h"

#define DCGAN_MAX_CLASSES 4096   // conditional nets: the most classes a config may have
#define DCGAN_MAX_LAYERS 32      // layers of one net (the 128 px G has 17)
#define DCGAN_MAX_TENSORS 64     // state_dict entries of one net

typedef enum { LAYER_CONV, LAYER_CONVT, LAYER_BN, LAYER_RELU, LAYER_LRELU, LAYER_TANH } layer_kind;

typedef struct {
    int size;           // image size: 32, 64 or 128
    int nc, nz, ngf, ndf;
    // Class-conditional nets (Mirza & Osindero) when > 0: G's input is z with the one-hot class
    // appended (nz + nclasses channels), D's input the image with nclasses constant one-hot
    // planes appended (nc + nclasses channels). 0: the plain DCGAN.
    int nclasses;
} dcgan_config;

typedef struct {
    layer_kind kind;
    int index;          // position in the PyTorch nn.Sequential (`main.<index>.*`)
    int C, H, W;        // input shape per sample
    int OC, OH, OW;     // output shape per sample
    int K, stride, pad; // conv / convt only
    int dense;          // conv / convt whose kernel covers the whole image: run as a matrix product
    size_t weight_off;  // offsets (in floats) into the net's parameter block
    size_t beta_off;    // bn only: gamma at weight_off, beta at beta_off
    size_t stat_off;    // bn only: running_mean at stat_off, running_var at stat_off + C (in stats block)
    int bn_slot;        // bn only: index into num_batches_tracked
} layer;

// One named tensor of a network, for checkpoints: points into params or stats.
typedef struct {
    char name[48];
    int ndim;
    int64_t shape[4];
    int is_stat;        // 1: running stat (stats block), 2: num_batches_tracked (int64), 0: parameter
    size_t off;         // offset into params or stats (floats), or bn slot for is_stat 2
    size_t numel;
} named_tensor;

typedef struct {
    int is_generator;
    dcgan_config cfg;
    const dcgan_backend *be;    // where params, grads and stats live
    int nlayers;
    layer layers[DCGAN_MAX_LAYERS];
    int ntensors;
    named_tensor tensors[DCGAN_MAX_TENSORS];
    size_t nparams;     // floats in the parameter block (conv weights, bn gamma/beta)
    size_t nstats;      // floats in the running-stats block
    int nbn;            // batchnorm layers
    int full;           // the config needs more layers or tensors than the arrays hold
    // All trainable parameters in one allocation, carved into the layers by offset; the gradient,
    // and the optimiser's moments share that layout.
    float *params, *grads;      // backend memory, [nparams] each
    float *stats;               // backend memory: running_mean / running_var of every BN layer
    int64_t *num_batches_tracked;   // backend memory, [nbn]: advanced by the batchnorm op
} dcgan_net;

// Validates a config; writes a one-line reason to err and returns -1 when it is unusable.
int dcgan_config_check(const dcgan_config *cfg, char *err, size_t errlen);
// Builds the layer list and allocates params/grads/stats in backend memory. Returns 0, or -1 when
// out of memory (or when the layer list would not fit its arrays).
int dcgan_net_build(dcgan_net *net, const dcgan_config *cfg, int is_generator, const dcgan_backend *be);
void dcgan_net_free(dcgan_net *net);
// Weight init as the PyTorch example: conv N(0, 0.02), BN gamma N(1, 0.02), beta 0;
// running mean 0, var 1.
void dcgan_net_init(dcgan_net *net, uint64_t seed);
// Name of the net's tensor i as in the PyTorch state_dict, e.g. "main.1.running_mean".
const named_tensor *dcgan_net_find(const dcgan_net *net, const char *name);
// Per-sample input/output sizes in floats; the input is what the caller passes (z or the image),
// without the class planes a conditional net appends itself.
size_t dcgan_net_in_numel(const dcgan_net *net);
size_t dcgan_net_out_numel(const dcgan_net *net);

// ---------------------------------------------------------------------------------------------
// Inception-v3 as pytorch-fid builds it for FID (models/inception.c): torchvision's network with
// the FID blocks (average pools that leave the padding out, a max pool in the last block), the
// 2048-d average pool of the last block as output. A graph of steps on numbered buffers, built
// once per input shape; src/eval/ runs it on a backend.

#define INCEPTION_SIZE 299          // the input side the images are resized to
#define INCEPTION_FEATURES 2048
#define INCEPTION_MAX_STEPS 192
#define INCEPTION_MAX_BUFFERS 192

typedef enum { INC_CONV, INC_POOL, INC_COPY, INC_RESIZE } inception_step_kind;

typedef struct {
    inception_step_kind kind;
    int in, out;                // buffer numbers
    int offset;                 // INC_COPY: the first channel of out the input's channels go to
    char name[40];              // INC_CONV: the BasicConv2d's state_dict prefix, e.g. "Mixed_5b.branch1x1"
    int oc, kh, kw, sh, sw, ph, pw;             // INC_CONV
    pool_kind pool;                             // INC_POOL
    int k, stride, pad, count_pad;
    size_t param_off;           // INC_CONV: weight [oc, ic, kh, kw], gamma, beta, running mean, var [oc]
} inception_step;

typedef struct {
    int nsteps, nbuffers;
    inception_step steps[INCEPTION_MAX_STEPS];
    int c[INCEPTION_MAX_BUFFERS], h[INCEPTION_MAX_BUFFERS], w[INCEPTION_MAX_BUFFERS];   // per sample
    size_t nparams;             // floats of every conv's weight and batchnorm
    int input, output;          // buffer 0: the images; output: [2048, 1, 1]
} inception_graph;

// The graph for images of c channels (1: replicated to RGB, or 3) and h x w pixels.
void inception_graph_build(inception_graph *g, int c, int h, int w);

#endif
