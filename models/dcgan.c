// DCGAN generator and discriminator, built as the PyTorch example's nn.Sequential `main`: one row
// per module (its kind, its name main.<index>, its parameters: kernel, stride, padding, slope).
//
// G (size 64): ConvT(nz, 8g, 4,1,0) BN ReLU | ConvT(8g, 4g, 4,2,1) BN ReLU | ... | ConvT(g, nc, 4,2,1) Tanh
// D (size 64): Conv(nc, d, 4,2,1) LReLU | Conv(d, 2d) BN LReLU | ... | Conv(8d, 1, 4,1,0)  -> logit
// Each doubling of the image size adds one stride-2 block (widest layer 2^(blocks-1) * width).
// Conditional nets (cfg.nclasses = K > 0) differ only in a first row, no module of the Sequential,
// that appends the class planes: G's ConvT takes nz + K (z, then the one-hot class), D's Conv takes
// nc + K (the image, then K constant planes, the one-hot class broadcast over the image). Every
// tensor keeps the PyTorch layout, so main.0.weight is [nz + K, 8g, 4, 4] in G and [d, nc + K, 4, 4]
// in D. Concatenation rather than a projection D: it is the conditional GAN paper's form and keeps
// the state_dicts those of the example's modules; its cost, K more input planes in D's first layer,
// is small for the ~10 classes and 32-64 px images trained here.
#include <stdio.h>
#include <string.h>
#include "dcgan/model.h"

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

// The example's hyper-parameters, as the rows below use them.
#define KERNEL 4                // every convolution is 4 x 4
#define LEAKY_SLOPE 0.2f        // D's LeakyReLU
static const layer_params batchnorm = {.eps = 1e-5f, .momentum = 0.1f};
static const layer_params relu = {.act = ACT_RELU}, tanh_ = {.act = ACT_TANH};
static const layer_params leaky_relu = {.act = ACT_LEAKY_RELU, .slope = LEAKY_SLOPE};

static layer_params conv(int oc, int stride, int pad, int transposed) {
    return (layer_params){.oc = oc, .kh = KERNEL, .kw = KERNEL, .sh = stride, .sw = stride, .ph = pad, .pw = pad,
                          .transposed = transposed};
}

// Module main.<*index> of the nn.Sequential, reading activation x.
static int row(dcgan_net *net, int *index, const layer_type *type, int x, layer_params p) {
    char name[16];
    snprintf(name, sizeof name, "main.%d", (*index)++);
    return net_add(net, type, name, x, NET_NEW, p);
}

// A conditional net's input gets its class planes first (no module of the Sequential).
static int condition(dcgan_net *net, const dcgan_config *c) {
    if (c->nclasses <= 0) return 0;
    return net_add(net, &layer_onehot, "cond", 0, NET_NEW, (layer_params){.nclasses = c->nclasses});
}

static void describe_generator(dcgan_net *net, const dcgan_config *c) {
    int blocks = stride2_blocks(c->size), index = 0;
    int ch = c->ngf << (blocks - 1);
    net_begin(net, c->nz, 1, 1);
    int x = condition(net, c);
    x = row(net, &index, &layer_conv, x, conv(ch, 1, 0, 1));   // 1x1 -> 4x4: a matrix product
    x = row(net, &index, &layer_batchnorm, x, batchnorm);
    x = row(net, &index, &layer_activation, x, relu);
    for (int b = 1; b < blocks; b++, ch /= 2) {
        x = row(net, &index, &layer_conv, x, conv(ch / 2, 2, 1, 1));
        x = row(net, &index, &layer_batchnorm, x, batchnorm);
        x = row(net, &index, &layer_activation, x, relu);
    }
    x = row(net, &index, &layer_conv, x, conv(c->nc, 2, 1, 1));
    row(net, &index, &layer_activation, x, tanh_);
}

static void describe_discriminator(dcgan_net *net, const dcgan_config *c) {
    int blocks = stride2_blocks(c->size), index = 0;
    int ch = c->ndf;
    net_begin(net, c->nc, c->size, c->size);
    int x = condition(net, c);
    x = row(net, &index, &layer_conv, x, conv(ch, 2, 1, 0));
    x = row(net, &index, &layer_activation, x, leaky_relu);
    for (int b = 1; b < blocks; b++, ch *= 2) {
        x = row(net, &index, &layer_conv, x, conv(ch * 2, 2, 1, 0));
        x = row(net, &index, &layer_batchnorm, x, batchnorm);
        x = row(net, &index, &layer_activation, x, leaky_relu);
    }
    row(net, &index, &layer_conv, x, conv(1, 1, 0, 0));   // 4x4 -> 1x1 logit: a matrix product
}

int dcgan_net_describe(dcgan_net *net, const dcgan_config *cfg, int is_generator) {
    if (is_generator) describe_generator(net, cfg);
    else describe_discriminator(net, cfg);
    net->is_generator = is_generator;
    net->cfg = *cfg;
    return net->failed ? -1 : 0;
}

int dcgan_net_build(dcgan_net *net, const dcgan_config *cfg, int is_generator, const dcgan_backend *be) {
    if (dcgan_net_describe(net, cfg, is_generator) || dcgan_net_alloc(net, be)) {
        dcgan_net_free(net);
        return -1;
    }
    return 0;
}
