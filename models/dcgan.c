// DCGAN generator and discriminator, built as the PyTorch example's nn.Sequential `main`.
//
// G (size 64): ConvT(nz, 8g, 4,1,0) BN ReLU | ConvT(8g, 4g, 4,2,1) BN ReLU | ... | ConvT(g, nc, 4,2,1) Tanh
// D (size 64): Conv(nc, d, 4,2,1) LReLU | Conv(d, 2d) BN LReLU | ... | Conv(8d, 1, 4,1,0)  -> logit
// Each doubling of the image size adds one stride-2 block (widest layer 2^(blocks-1) * width).
// Conditional nets (cfg.nclasses = K > 0) differ only in their first layer's input channels:
// G's ConvT takes nz + K (z, then the one-hot class), D's Conv takes nc + K (the image, then K
// constant planes, the one-hot class broadcast over the image). Every tensor keeps the PyTorch
// layout, so main.0.weight is [nz + K, 8g, 4, 4] in G and [d, nc + K, 4, 4] in D. Concatenation
// rather than a projection D: it is the conditional GAN paper's form, adds no layer type and keeps
// the state_dicts those of the example's modules; its cost, K more input planes in D's first
// layer, is small for the ~10 classes and 32-64 px images trained here.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/model.h"
#include "dcgan/rng.h"

int dcgan_config_check(const dcgan_config *cfg, char *err, size_t errlen) {
    if (cfg->size != 32 && cfg->size != 64 && cfg->size != 128) {
        snprintf(err, errlen, "image size %d is not supported (expected 32, 64 or 128)", cfg->size);
        return -1;
    }
    if (cfg->nc != 1 && cfg->nc != 3) {
        snprintf(err, errlen, "channel count %d is not supported (expected 1 or 3)", cfg->nc);
        return -1;
    }
    if (cfg->nz < 1 || cfg->nz > 4096 || cfg->ngf < 1 || cfg->ngf > 1024 || cfg->ndf < 1 || cfg->ndf > 1024) {
        snprintf(err, errlen, "nz=%d ngf=%d ndf=%d out of range (nz 1..4096, ngf/ndf 1..1024)",
                 cfg->nz, cfg->ngf, cfg->ndf);
        return -1;
    }
    if (cfg->nclasses < 0 || cfg->nclasses > DCGAN_MAX_CLASSES) {
        snprintf(err, errlen, "%d classes is out of range (0..%d)", cfg->nclasses, DCGAN_MAX_CLASSES);
        return -1;
    }
    return 0;
}

// Number of stride-2 blocks between 4x4 and the image: 3 for 32 px, 4 for 64, 5 for 128.
static int stride2_blocks(int size) {
    int n = 0;
    for (int s = 4; s < size; s *= 2) n++;
    return n;
}

// Layer and tensor arrays are fixed; a config that would overflow them is refused (net->full).
static void add_tensor(dcgan_net *net, int index, const char *suffix, int is_stat, size_t off,
                       int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    static named_tensor spill;
    named_tensor *t = net->ntensors < DCGAN_MAX_TENSORS ? &net->tensors[net->ntensors++] : (net->full = 1, &spill);
    snprintf(t->name, sizeof t->name, "main.%d.%s", index, suffix);
    t->is_stat = is_stat;
    t->off = off;
    t->ndim = ndim;
    int64_t d[4] = {d0, d1, d2, d3};
    t->numel = 1;
    for (int i = 0; i < ndim; i++) { t->shape[i] = d[i]; t->numel *= (size_t)d[i]; }
}

// Appends a layer whose input is the previous layer's output.
static layer *push(dcgan_net *net, layer_kind kind, int *index, int C, int H) {
    static layer spill;
    layer *l = net->nlayers < DCGAN_MAX_LAYERS ? &net->layers[net->nlayers++] : (net->full = 1, &spill);
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->index = (*index)++;
    l->C = l->OC = C;
    l->H = l->W = l->OH = l->OW = H;
    l->bn_slot = -1;
    return l;
}

static layer *push_conv(dcgan_net *net, layer_kind kind, int *index, int C, int H, int OC, int stride, int pad) {
    layer *l = push(net, kind, index, C, H);
    l->OC = OC;
    l->K = 4; l->stride = stride; l->pad = pad;
    l->OH = l->OW = (kind == LAYER_CONV) ? (H + 2 * pad - 4) / stride + 1 : (H - 1) * stride - 2 * pad + 4;
    l->weight_off = net->nparams;
    if (kind == LAYER_CONV) add_tensor(net, l->index, "weight", 0, net->nparams, 4, OC, C, 4, 4);
    else                    add_tensor(net, l->index, "weight", 0, net->nparams, 4, C, OC, 4, 4);
    net->nparams += (size_t)OC * C * 16;
    return l;
}

static void push_bn(dcgan_net *net, int *index, int C, int H) {
    layer *l = push(net, LAYER_BN, index, C, H);
    l->weight_off = net->nparams;
    l->beta_off = net->nparams + C;
    l->stat_off = net->nstats;
    l->bn_slot = net->nbn++;
    add_tensor(net, l->index, "weight", 0, l->weight_off, 1, C, 0, 0, 0);
    add_tensor(net, l->index, "bias", 0, l->beta_off, 1, C, 0, 0, 0);
    add_tensor(net, l->index, "running_mean", 1, l->stat_off, 1, C, 0, 0, 0);
    add_tensor(net, l->index, "running_var", 1, l->stat_off + C, 1, C, 0, 0, 0);
    add_tensor(net, l->index, "num_batches_tracked", 2, (size_t)l->bn_slot, 0, 0, 0, 0, 0);
    net->nparams += 2 * (size_t)C;
    net->nstats += 2 * (size_t)C;
}

static void build_generator(dcgan_net *net, const dcgan_config *c) {
    int blocks = stride2_blocks(c->size), index = 0;
    int ch = c->ngf << (blocks - 1), h = 4;
    push_conv(net, LAYER_CONVT, &index, c->nz + c->nclasses, 1, ch, 1, 0)->dense = 1;   // 1x1 -> 4x4
    push_bn(net, &index, ch, h);
    push(net, LAYER_RELU, &index, ch, h);
    for (int b = 1; b < blocks; b++, ch /= 2, h *= 2) {
        push_conv(net, LAYER_CONVT, &index, ch, h, ch / 2, 2, 1);
        push_bn(net, &index, ch / 2, h * 2);
        push(net, LAYER_RELU, &index, ch / 2, h * 2);
    }
    push_conv(net, LAYER_CONVT, &index, ch, h, c->nc, 2, 1);
    push(net, LAYER_TANH, &index, c->nc, c->size);
}

static void build_discriminator(dcgan_net *net, const dcgan_config *c) {
    int blocks = stride2_blocks(c->size), index = 0;
    int ch = c->ndf, h = c->size / 2;
    push_conv(net, LAYER_CONV, &index, c->nc + c->nclasses, c->size, ch, 2, 1);
    push(net, LAYER_LRELU, &index, ch, h);
    for (int b = 1; b < blocks; b++, ch *= 2, h /= 2) {
        push_conv(net, LAYER_CONV, &index, ch, h, ch * 2, 2, 1);
        push_bn(net, &index, ch * 2, h / 2);
        push(net, LAYER_LRELU, &index, ch * 2, h / 2);
    }
    push_conv(net, LAYER_CONV, &index, ch, h, 1, 1, 0)->dense = 1;   // 4x4 -> 1x1 logit
}

int dcgan_net_build(dcgan_net *net, const dcgan_config *cfg, int is_generator, const dcgan_backend *be) {
    memset(net, 0, sizeof *net);
    net->is_generator = is_generator;
    net->cfg = *cfg;
    net->be = be;
    if (is_generator) build_generator(net, cfg);
    else build_discriminator(net, cfg);
    if (net->full) return -1;
    net->params = be->alloc(be, net->nparams * sizeof(float));
    net->grads = be->alloc(be, net->nparams * sizeof(float));
    net->stats = be->alloc(be, (net->nstats ? net->nstats : 1) * sizeof(float));
    net->num_batches_tracked = be->alloc(be, (size_t)(net->nbn ? net->nbn : 1) * sizeof(int64_t));
    if (!net->params || !net->grads || !net->stats || !net->num_batches_tracked) {
        dcgan_net_free(net);
        return -1;
    }
    return 0;
}

void dcgan_net_free(dcgan_net *net) {
    const dcgan_backend *be = net->be;
    if (be) {
        void *bufs[] = {net->params, net->grads, net->stats, net->num_batches_tracked};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(be, bufs[i]);
    }
    net->params = net->grads = net->stats = NULL;
    net->num_batches_tracked = NULL;
}

void dcgan_net_init(dcgan_net *net, uint64_t seed) {
    float *params = calloc(net->nparams, sizeof(float));
    float *stats = calloc(net->nstats ? net->nstats : 1, sizeof(float));
    if (!params || !stats) { fprintf(stderr, "error: out of memory initialising weights\n"); exit(1); }
    // Each net draws from its own stream so G and D init independently of each other's size.
    dcgan_rng r = rng_make(seed, RNG_STREAM_INIT + 16 * (uint64_t)!net->is_generator);
    for (int i = 0; i < net->nlayers; i++) {
        const layer *l = &net->layers[i];
        if (l->kind == LAYER_CONV || l->kind == LAYER_CONVT) {
            rng_fill_normal(&r, params + l->weight_off, (size_t)l->C * l->OC * 16, 0.0f, 0.02f);
        } else if (l->kind == LAYER_BN) {
            rng_fill_normal(&r, params + l->weight_off, (size_t)l->C, 1.0f, 0.02f);
            for (int c = 0; c < l->C; c++) stats[l->stat_off + l->C + c] = 1.0f;   // running_var
        }
    }
    const dcgan_backend *be = net->be;
    be->upload(be, net->params, params, net->nparams * sizeof(float));
    be->upload(be, net->stats, stats, net->nstats * sizeof(float));
    be->zero(be, net->num_batches_tracked, (size_t)net->nbn * sizeof(int64_t));
    free(params);
    free(stats);
}

const named_tensor *dcgan_net_find(const dcgan_net *net, const char *name) {
    for (int i = 0; i < net->ntensors; i++)
        if (!strcmp(net->tensors[i].name, name)) return &net->tensors[i];
    return NULL;
}

size_t dcgan_net_in_numel(const dcgan_net *net) {
    const layer *l = &net->layers[0];
    return (size_t)(l->C - net->cfg.nclasses) * l->H * l->W;
}

size_t dcgan_net_out_numel(const dcgan_net *net) {
    const layer *l = &net->layers[net->nlayers - 1];
    return (size_t)l->OC * l->OH * l->OW;
}
