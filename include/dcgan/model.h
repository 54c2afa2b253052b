// Networks as lists of layer rows (layer.h): the DCGAN generator and discriminator exactly as the
// PyTorch example builds them (nn.Sequential named `main`) for image sizes 32, 64 and 128, and
// Inception-v3 for FID; the functions that build, allocate and initialise any such net.
#ifndef DCGAN_MODEL_H
#define DCGAN_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/backend.h"
#include "dcgan/layer.h"

#define DCGAN_MAX_CLASSES 4096   // conditional nets: the most classes a config may have
#define DCGAN_MAX_TENSORS 64     // state_dict entries of a DCGAN net (the 128 px D has 26)

typedef struct {
    int size;           // image size: 32, 64 or 128
    int nc, nz, ngf, ndf;
    // Class-conditional nets (Mirza & Osindero) when > 0: G's input is z with the one-hot class
    // appended (nz + nclasses channels), D's input the image with nclasses constant one-hot
    // planes appended (nc + nclasses channels). 0: the plain DCGAN.
    int nclasses;
} dcgan_config;

// One named tensor of a network, for checkpoints: its state_dict name, shape and what it is (its
// layer's kind declares both); off counts floats into params or stats, or int64s into the counters.
typedef struct {
    char name[64];
    int ndim;
    int64_t shape[4];
    tensor_role role;
    size_t off;
    size_t numel;
} named_tensor;

// The shape of one activation (per sample).
typedef struct { int c, h, w; } act_shape;

// A network: its rows (layers of any kinds) on numbered activations, the tensors they declare and
// the memory behind those. A model description fills it with net_add; dcgan_net_alloc gives it
// memory on a backend. Activation 0 is the input; a DCGAN net is a chain (layer i reads i, writes
// i + 1), Inception a graph whose concatenations several copy layers write.
typedef struct {
    int is_generator;
    dcgan_config cfg;               // DCGAN nets only
    const dcgan_backend *be;        // where params, grads, stats and counters live (NULL: described only)
    int nlayers;
    layer *layers;
    int nacts;
    act_shape *acts;
    int output;                     // the activation the net returns
    int ntensors;
    named_tensor *tensors;
    size_t nparams;     // floats in the parameter block (TENSOR_PARAM)
    size_t nstats;      // floats in the statistics block (TENSOR_STAT)
    int nbn;            // int64 counters (TENSOR_COUNT: batchnorm's num_batches_tracked)
    float init_std;     // the normal init's standard deviation
    int failed;         // out of host memory while described
    int cap_layers, cap_acts, cap_tensors;
    // All trainable parameters in one allocation, carved into the tensors by offset; the gradient,
    // and the optimiser's moments share that layout.
    float *params, *grads;      // backend memory, [nparams] each
    float *stats;               // backend memory: running_mean / running_var of every BN layer
    int64_t *num_batches_tracked;   // backend memory, [nbn]: advanced by the batchnorm op
} dcgan_net;

// --- building a net (src/net.c) ---------------------------------------------------------------
// An empty net (no layers, no memory); its input is activation 0 of c x h x w.
void net_begin(dcgan_net *net, int c, int h, int w);
// A new activation of c x h x w (a concatenation that copy layers fill); its number.
int net_new_act(dcgan_net *net, int c, int h, int w);
// Appends a layer of kind `type` reading activation `in` and writing `out` (NET_NEW: a new
// activation of the shape the kind computes), its tensors named "<name>.<suffix>". Returns the
// activation it writes (it becomes the net's output), or -1 when out of host memory (net->failed).
#define NET_NEW (-1)
int net_add(dcgan_net *net, const layer_type *type, const char *name, int in, int out, layer_params p);
// The memory of the net's tensors on be (zero-filled). 0, or -1 when out of memory.
int dcgan_net_alloc(dcgan_net *net, const dcgan_backend *be);
// Backend memory of tensor t (float for PARAM and STAT, int64 for COUNT).
void *net_tensor_data(const dcgan_net *net, const named_tensor *t);
size_t named_tensor_bytes(const named_tensor *t);
// dst takes src's memory (dst's rows must declare the same tensors); src keeps its rows, no memory.
void net_take_memory(dcgan_net *dst, dcgan_net *src);
// Frees the memory and the description.
void dcgan_net_free(dcgan_net *net);
// Every tensor to its declared initial value, the normal ones drawn in order from the Philox
// stream of seed (RNG_STREAM_INIT, G and D apart). 0, or -1 when out of host memory.
int dcgan_net_init(dcgan_net *net, uint64_t seed);
// Name of the net's tensor i as in the PyTorch state_dict, e.g. "main.1.running_mean".
const named_tensor *dcgan_net_find(const dcgan_net *net, const char *name);
// Per-sample input/output sizes in floats; the input is what the caller passes (z or the image),
// without the class planes a conditional net appends itself.
size_t dcgan_net_in_numel(const dcgan_net *net);
size_t dcgan_net_out_numel(const dcgan_net *net);

// --- the DCGAN (models/dcgan.c) ---------------------------------------------------------------
// Validates a config; writes a one-line reason to err and returns -1 when it is unusable.
int dcgan_config_check(const dcgan_config *cfg, char *err, size_t errlen);
// The layer rows of G or D for cfg, without memory. 0, or -1 when out of host memory.
int dcgan_net_describe(dcgan_net *net, const dcgan_config *cfg, int is_generator);
// dcgan_net_describe, then dcgan_net_alloc on be. Returns 0, or -1 when out of memory.
int dcgan_net_build(dcgan_net *net, const dcgan_config *cfg, int is_generator, const dcgan_backend *be);

// --- Inception-v3 (models/inception.c) --------------------------------------------------------
// Inception-v3 as pytorch-fid builds it for FID: torchvision's network with the FID blocks (average
// pools that leave the padding out, a max pool in the last block), the 2048-d average pool of the
// last block as output, after a resize of the input to 299 x 299. Forward only.

#define INCEPTION_SIZE 299          // the input side the images are resized to
#define INCEPTION_FEATURES 2048

// The images the network reads: c (1, replicated to RGB, or 3) x h x w, resized to 299 x 299, then
// mapped by scale * v + shift (quantize: [-1, 1] values read as 8-bit pixels first).
typedef struct {
    int c, h, w;
    float scale, shift;
    int quantize;
} inception_input;

// The rows for images `in` (its tensors do not depend on it); memory is left as it is, so a net's
// weights serve any input. 0, or -1 when out of host memory.
int inception_net_describe(dcgan_net *net, const inception_input *in);

#endif
