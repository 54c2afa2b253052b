// Inception-v3 for FID, block for block as pytorch-fid's InceptionV3(use_fid_inception=True) with
// its last output block: torchvision's Conv2d_* and Mixed_* modules (BasicConv2d = convolution
// without bias, batchnorm with eps 0.001, ReLU), pytorch-fid's FIDInceptionA / C / E_1 / E_2, the
// max pools between the blocks, and the final average pool, as rows of layer kinds (a resize to 299
// x 299 first). Names are the state_dict's.
#include <stdio.h>
#include <string.h>
#include "dcgan/model.h"

#define BN_EPS 1e-3f    // torchvision's BasicConv2d

// BasicConv2d `name`: convolution without bias, batchnorm, ReLU (folded into the batchnorm when
// planned). Returns its output.
static int conv_named(dcgan_net *net, const char *name, int x, int oc, int kh, int kw, int sh, int sw, int ph,
                      int pw) {
    char part[64];
    snprintf(part, sizeof part, "%s.conv", name);
    x = net_add(net, &layer_conv, part, x, NET_NEW,
                (layer_params){.oc = oc, .kh = kh, .kw = kw, .sh = sh, .sw = sw, .ph = ph, .pw = pw});
    snprintf(part, sizeof part, "%s.bn", name);
    x = net_add(net, &layer_batchnorm, part, x, NET_NEW, (layer_params){.eps = BN_EPS, .momentum = 0.1f});
    return net_add(net, &layer_activation, name, x, NET_NEW, (layer_params){.act = ACT_RELU});
}

// Square-kernel shorthands.
static int conv_k(dcgan_net *net, const char *block, const char *branch, int x, int oc, int k, int s, int p) {
    char name[40];
    snprintf(name, sizeof name, "%s%s%s", block, *block ? "." : "", branch);
    return conv_named(net, name, x, oc, k, k, s, s, p, p);
}

static int conv_r(dcgan_net *net, const char *block, const char *branch, int x, int oc, int kh, int kw, int ph,
                  int pw) {
    char name[40];
    snprintf(name, sizeof name, "%s.%s", block, branch);
    return conv_named(net, name, x, oc, kh, kw, 1, 1, ph, pw);
}

static int pool(dcgan_net *net, int x, pool_kind kind, int k, int stride, int pad, int count_pad) {
    return net_add(net, &layer_pool, "pool", x, NET_NEW,
                   (layer_params){.pool = kind, .kh = k, .kw = k, .sh = stride, .sw = stride, .ph = pad, .pw = pad,
                                  .count_pad = count_pad});
}

// torch.cat(parts, 1): one copy per part into the channels it takes.
static int concat(dcgan_net *net, int n, const int *parts) {
    if (net->failed) return -1;
    int channels = 0;
    for (int i = 0; i < n; i++) channels += net->acts[parts[i]].c;
    const int out = net_new_act(net, channels, net->acts[parts[0]].h, net->acts[parts[0]].w);
    for (int i = 0, offset = 0; i < n && out >= 0; offset += net->acts[parts[i]].c, i++)
        net_add(net, &layer_copy, "cat", parts[i], out, (layer_params){.offset = offset});
    net->output = out;
    return out;
}
// FIDInceptionA: 1x1; 1x1 -> 5x5; 1x1 -> 3x3 -> 3x3; average pool (padding left out) -> 1x1.
static int inception_a(dcgan_net *net, const char *b, int x, int pool_features) {
    int parts[4];
    parts[0] = conv_k(net, b, "branch1x1", x, 64, 1, 1, 0);
    parts[1] = conv_k(net, b, "branch5x5_2", conv_k(net, b, "branch5x5_1", x, 48, 1, 1, 0), 64, 5, 1, 2);
    int d = conv_k(net, b, "branch3x3dbl_1", x, 64, 1, 1, 0);
    d = conv_k(net, b, "branch3x3dbl_2", d, 96, 3, 1, 1);
    parts[2] = conv_k(net, b, "branch3x3dbl_3", d, 96, 3, 1, 1);
    parts[3] = conv_k(net, b, "branch_pool", pool(net, x, POOL_AVG, 3, 1, 1, 0), pool_features, 1, 1, 0);
    return concat(net, 4, parts);
}

// InceptionB (Mixed_6a): 3x3 stride 2; 1x1 -> 3x3 -> 3x3 stride 2; max pool stride 2.
static int inception_b(dcgan_net *net, const char *b, int x) {
    int parts[3];
    parts[0] = conv_k(net, b, "branch3x3", x, 384, 3, 2, 0);
    int d = conv_k(net, b, "branch3x3dbl_1", x, 64, 1, 1, 0);
    d = conv_k(net, b, "branch3x3dbl_2", d, 96, 3, 1, 1);
    parts[1] = conv_k(net, b, "branch3x3dbl_3", d, 96, 3, 2, 0);
    parts[2] = pool(net, x, POOL_MAX, 3, 2, 0, 0);
    return concat(net, 3, parts);
}

// FIDInceptionC: 1x1; 1x1 -> 1x7 -> 7x1; 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7; average pool -> 1x1.
static int inception_c(dcgan_net *net, const char *b, int x, int c7) {
    int parts[4];
    parts[0] = conv_k(net, b, "branch1x1", x, 192, 1, 1, 0);
    int s = conv_k(net, b, "branch7x7_1", x, c7, 1, 1, 0);
    s = conv_r(net, b, "branch7x7_2", s, c7, 1, 7, 0, 3);
    parts[1] = conv_r(net, b, "branch7x7_3", s, 192, 7, 1, 3, 0);
    int d = conv_k(net, b, "branch7x7dbl_1", x, c7, 1, 1, 0);
    d = conv_r(net, b, "branch7x7dbl_2", d, c7, 7, 1, 3, 0);
    d = conv_r(net, b, "branch7x7dbl_3", d, c7, 1, 7, 0, 3);
    d = conv_r(net, b, "branch7x7dbl_4", d, c7, 7, 1, 3, 0);
    parts[2] = conv_r(net, b, "branch7x7dbl_5", d, 192, 1, 7, 0, 3);
    parts[3] = conv_k(net, b, "branch_pool", pool(net, x, POOL_AVG, 3, 1, 1, 0), 192, 1, 1, 0);
    return concat(net, 4, parts);
}

// InceptionD (Mixed_7a): 1x1 -> 3x3 stride 2; 1x1 -> 1x7 -> 7x1 -> 3x3 stride 2; max pool stride 2.
static int inception_d(dcgan_net *net, const char *b, int x) {
    int parts[3];
    parts[0] = conv_k(net, b, "branch3x3_2", conv_k(net, b, "branch3x3_1", x, 192, 1, 1, 0), 320, 3, 2, 0);
    int s = conv_k(net, b, "branch7x7x3_1", x, 192, 1, 1, 0);
    s = conv_r(net, b, "branch7x7x3_2", s, 192, 1, 7, 0, 3);
    s = conv_r(net, b, "branch7x7x3_3", s, 192, 7, 1, 3, 0);
    parts[1] = conv_k(net, b, "branch7x7x3_4", s, 192, 3, 2, 0);
    parts[2] = pool(net, x, POOL_MAX, 3, 2, 0, 0);
    return concat(net, 3, parts);
}

// FIDInceptionE_1 / E_2: 1x1; 1x1 -> (1x3 | 3x1); 1x1 -> 3x3 -> (1x3 | 3x1); a pool -> 1x1 (E_1:
// average without the padding, E_2: max).
static int inception_e(dcgan_net *net, const char *b, int x, pool_kind pool_kind_) {
    int parts[6];
    parts[0] = conv_k(net, b, "branch1x1", x, 320, 1, 1, 0);
    const int s = conv_k(net, b, "branch3x3_1", x, 384, 1, 1, 0);
    parts[1] = conv_r(net, b, "branch3x3_2a", s, 384, 1, 3, 0, 1);
    parts[2] = conv_r(net, b, "branch3x3_2b", s, 384, 3, 1, 1, 0);
    int d = conv_k(net, b, "branch3x3dbl_1", x, 448, 1, 1, 0);
    d = conv_k(net, b, "branch3x3dbl_2", d, 384, 3, 1, 1);
    parts[3] = conv_r(net, b, "branch3x3dbl_3a", d, 384, 1, 3, 0, 1);
    parts[4] = conv_r(net, b, "branch3x3dbl_3b", d, 384, 3, 1, 1, 0);
    parts[5] = conv_k(net, b, "branch_pool", pool(net, x, pool_kind_, 3, 1, 1, 0), 192, 1, 1, 0);
    return concat(net, 6, parts);   // the two inner concatenations are contiguous parts of the outer one
}

int inception_net_describe(dcgan_net *net, const inception_input *in) {
    net_begin(net, in->c, in->h, in->w);
    int x = net_add(net, &layer_resize, "resize", 0, NET_NEW,
                    (layer_params){.oc = 3, .oh = INCEPTION_SIZE, .ow = INCEPTION_SIZE, .scale = in->scale,
                                   .shift = in->shift, .quantize = in->quantize});
    // Block 0
    x = conv_k(net, "", "Conv2d_1a_3x3", x, 32, 3, 2, 0);
    x = conv_k(net, "", "Conv2d_2a_3x3", x, 32, 3, 1, 0);
    x = conv_k(net, "", "Conv2d_2b_3x3", x, 64, 3, 1, 1);
    x = pool(net, x, POOL_MAX, 3, 2, 0, 0);
    // Block 1
    x = conv_k(net, "", "Conv2d_3b_1x1", x, 80, 1, 1, 0);
    x = conv_k(net, "", "Conv2d_4a_3x3", x, 192, 3, 1, 0);
    x = pool(net, x, POOL_MAX, 3, 2, 0, 0);
    // Block 2
    x = inception_a(net, "Mixed_5b", x, 32);
    x = inception_a(net, "Mixed_5c", x, 64);
    x = inception_a(net, "Mixed_5d", x, 64);
    x = inception_b(net, "Mixed_6a", x);
    x = inception_c(net, "Mixed_6b", x, 128);
    x = inception_c(net, "Mixed_6c", x, 160);
    x = inception_c(net, "Mixed_6d", x, 160);
    x = inception_c(net, "Mixed_6e", x, 192);
    // Block 3
    x = inception_d(net, "Mixed_7a", x);
    x = inception_e(net, "Mixed_7b", x, POOL_AVG);
    x = inception_e(net, "Mixed_7c", x, POOL_MAX);
    if (x >= 0) pool(net, x, POOL_AVG, net->acts[x].h, 1, 0, 1);   // the adaptive average pool to 1 x 1
    return net->failed ? -1 : 0;
}
