// Inception-v3 for FID, block for block as pytorch-fid's InceptionV3(use_fid_inception=True) with
// its last output block: torchvision's Conv2d_* and Mixed_* modules (BasicConv2d = convolution
// without bias, batchnorm with eps 0.001, ReLU), pytorch-fid's FIDInceptionA / C / E_1 / E_2, the
// max pools between the blocks, and the final average pool. Names are the state_dict's.
#include <stdio.h>
#include <string.h>
#include "dcgan/model.h"

static int new_buffer(inception_graph *g, int c, int h, int w) {
    const int b = g->nbuffers++;
    g->c[b] = c;
    g->h[b] = h;
    g->w[b] = w;
    return b;
}

static inception_step *add_step(inception_graph *g, inception_step_kind kind, int in, int out) {
    inception_step *s = &g->steps[g->nsteps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->in = in;
    s->out = out;
    return s;
}

// BasicConv2d `name`: returns its output buffer.
static int conv_named(inception_graph *g, const char *name, int x, int oc, int kh, int kw, int sh, int sw, int ph,
                      int pw) {
    const int oh = (g->h[x] + 2 * ph - kh) / sh + 1, ow = (g->w[x] + 2 * pw - kw) / sw + 1;
    const int out = new_buffer(g, oc, oh, ow);
    inception_step *s = add_step(g, INC_CONV, x, out);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->oc = oc; s->kh = kh; s->kw = kw; s->sh = sh; s->sw = sw; s->ph = ph; s->pw = pw;
    s->param_off = g->nparams;
    g->nparams += (size_t)oc * g->c[x] * kh * kw + 4 * (size_t)oc;
    return out;
}

// Square-kernel shorthands.
static int conv_k(inception_graph *g, const char *block, const char *branch, int x, int oc, int k, int s, int p) {
    char name[40];
    snprintf(name, sizeof name, "%s%s%s", block, *block ? "." : "", branch);
    return conv_named(g, name, x, oc, k, k, s, s, p, p);
}

static int conv_r(inception_graph *g, const char *block, const char *branch, int x, int oc, int kh, int kw, int ph,
                  int pw) {
    char name[40];
    snprintf(name, sizeof name, "%s.%s", block, branch);
    return conv_named(g, name, x, oc, kh, kw, 1, 1, ph, pw);
}

static int pool(inception_graph *g, int x, pool_kind kind, int k, int stride, int pad, int count_pad) {
    const int oh = (g->h[x] + 2 * pad - k) / stride + 1, ow = (g->w[x] + 2 * pad - k) / stride + 1;
    const int out = new_buffer(g, g->c[x], oh, ow);
    inception_step *s = add_step(g, INC_POOL, x, out);
    s->pool = kind; s->k = k; s->stride = stride; s->pad = pad; s->count_pad = count_pad;
    return out;
}

// torch.cat(parts, 1): one copy per part into the channels it takes.
static int concat(inception_graph *g, int n, const int *parts) {
    int channels = 0;
    for (int i = 0; i < n; i++) channels += g->c[parts[i]];
    const int out = new_buffer(g, channels, g->h[parts[0]], g->w[parts[0]]);
    for (int i = 0, offset = 0; i < n; offset += g->c[parts[i]], i++) add_step(g, INC_COPY, parts[i], out)->offset = offset;
    return out;
}

// FIDInceptionA: 1x1; 1x1 -> 5x5; 1x1 -> 3x3 -> 3x3; average pool (padding left out) -> 1x1.
static int inception_a(inception_graph *g, const char *b, int x, int pool_features) {
    int parts[4];
    parts[0] = conv_k(g, b, "branch1x1", x, 64, 1, 1, 0);
    parts[1] = conv_k(g, b, "branch5x5_2", conv_k(g, b, "branch5x5_1", x, 48, 1, 1, 0), 64, 5, 1, 2);
    int d = conv_k(g, b, "branch3x3dbl_1", x, 64, 1, 1, 0);
    d = conv_k(g, b, "branch3x3dbl_2", d, 96, 3, 1, 1);
    parts[2] = conv_k(g, b, "branch3x3dbl_3", d, 96, 3, 1, 1);
    parts[3] = conv_k(g, b, "branch_pool", pool(g, x, POOL_AVG, 3, 1, 1, 0), pool_features, 1, 1, 0);
    return concat(g, 4, parts);
}

// InceptionB (Mixed_6a): 3x3 stride 2; 1x1 -> 3x3 -> 3x3 stride 2; max pool stride 2.
static int inception_b(inception_graph *g, const char *b, int x) {
    int parts[3];
    parts[0] = conv_k(g, b, "branch3x3", x, 384, 3, 2, 0);
    int d = conv_k(g, b, "branch3x3dbl_1", x, 64, 1, 1, 0);
    d = conv_k(g, b, "branch3x3dbl_2", d, 96, 3, 1, 1);
    parts[1] = conv_k(g, b, "branch3x3dbl_3", d, 96, 3, 2, 0);
    parts[2] = pool(g, x, POOL_MAX, 3, 2, 0, 0);
    return concat(g, 3, parts);
}

// FIDInceptionC: 1x1; 1x1 -> 1x7 -> 7x1; 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7; average pool -> 1x1.
static int inception_c(inception_graph *g, const char *b, int x, int c7) {
    int parts[4];
    parts[0] = conv_k(g, b, "branch1x1", x, 192, 1, 1, 0);
    int s = conv_k(g, b, "branch7x7_1", x, c7, 1, 1, 0);
    s = conv_r(g, b, "branch7x7_2", s, c7, 1, 7, 0, 3);
    parts[1] = conv_r(g, b, "branch7x7_3", s, 192, 7, 1, 3, 0);
    int d = conv_k(g, b, "branch7x7dbl_1", x, c7, 1, 1, 0);
    d = conv_r(g, b, "branch7x7dbl_2", d, c7, 7, 1, 3, 0);
    d = conv_r(g, b, "branch7x7dbl_3", d, c7, 1, 7, 0, 3);
    d = conv_r(g, b, "branch7x7dbl_4", d, c7, 7, 1, 3, 0);
    parts[2] = conv_r(g, b, "branch7x7dbl_5", d, 192, 1, 7, 0, 3);
    parts[3] = conv_k(g, b, "branch_pool", pool(g, x, POOL_AVG, 3, 1, 1, 0), 192, 1, 1, 0);
    return concat(g, 4, parts);
}

// InceptionD (Mixed_7a): 1x1 -> 3x3 stride 2; 1x1 -> 1x7 -> 7x1 -> 3x3 stride 2; max pool stride 2.
static int inception_d(inception_graph *g, const char *b, int x) {
    int parts[3];
    parts[0] = conv_k(g, b, "branch3x3_2", conv_k(g, b, "branch3x3_1", x, 192, 1, 1, 0), 320, 3, 2, 0);
    int s = conv_k(g, b, "branch7x7x3_1", x, 192, 1, 1, 0);
    s = conv_r(g, b, "branch7x7x3_2", s, 192, 1, 7, 0, 3);
    s = conv_r(g, b, "branch7x7x3_3", s, 192, 7, 1, 3, 0);
    parts[1] = conv_k(g, b, "branch7x7x3_4", s, 192, 3, 2, 0);
    parts[2] = pool(g, x, POOL_MAX, 3, 2, 0, 0);
    return concat(g, 3, parts);
}

// FIDInceptionE_1 / E_2: 1x1; 1x1 -> (1x3 | 3x1); 1x1 -> 3x3 -> (1x3 | 3x1); a pool -> 1x1 (E_1:
// average without the padding, E_2: max).
static int inception_e(inception_graph *g, const char *b, int x, pool_kind pool_kind_) {
    int parts[6];
    parts[0] = conv_k(g, b, "branch1x1", x, 320, 1, 1, 0);
    const int s = conv_k(g, b, "branch3x3_1", x, 384, 1, 1, 0);
    parts[1] = conv_r(g, b, "branch3x3_2a", s, 384, 1, 3, 0, 1);
    parts[2] = conv_r(g, b, "branch3x3_2b", s, 384, 3, 1, 1, 0);
    int d = conv_k(g, b, "branch3x3dbl_1", x, 448, 1, 1, 0);
    d = conv_k(g, b, "branch3x3dbl_2", d, 384, 3, 1, 1);
    parts[3] = conv_r(g, b, "branch3x3dbl_3a", d, 384, 1, 3, 0, 1);
    parts[4] = conv_r(g, b, "branch3x3dbl_3b", d, 384, 3, 1, 1, 0);
    parts[5] = conv_k(g, b, "branch_pool", pool(g, x, pool_kind_, 3, 1, 1, 0), 192, 1, 1, 0);
    return concat(g, 6, parts);   // the two inner concatenations are contiguous parts of the outer one
}

void inception_graph_build(inception_graph *g, int c, int h, int w) {
    memset(g, 0, sizeof *g);
    g->input = new_buffer(g, c, h, w);
    int x = new_buffer(g, 3, INCEPTION_SIZE, INCEPTION_SIZE);
    add_step(g, INC_RESIZE, g->input, x);
    // Block 0
    x = conv_k(g, "", "Conv2d_1a_3x3", x, 32, 3, 2, 0);
    x = conv_k(g, "", "Conv2d_2a_3x3", x, 32, 3, 1, 0);
    x = conv_k(g, "", "Conv2d_2b_3x3", x, 64, 3, 1, 1);
    x = pool(g, x, POOL_MAX, 3, 2, 0, 0);
    // Block 1
    x = conv_k(g, "", "Conv2d_3b_1x1", x, 80, 1, 1, 0);
    x = conv_k(g, "", "Conv2d_4a_3x3", x, 192, 3, 1, 0);
    x = pool(g, x, POOL_MAX, 3, 2, 0, 0);
    // Block 2
    x = inception_a(g, "Mixed_5b", x, 32);
    x = inception_a(g, "Mixed_5c", x, 64);
    x = inception_a(g, "Mixed_5d", x, 64);
    x = inception_b(g, "Mixed_6a", x);
    x = inception_c(g, "Mixed_6b", x, 128);
    x = inception_c(g, "Mixed_6c", x, 160);
    x = inception_c(g, "Mixed_6d", x, 160);
    x = inception_c(g, "Mixed_6e", x, 192);
    // Block 3
    x = inception_d(g, "Mixed_7a", x);
    x = inception_e(g, "Mixed_7b", x, POOL_AVG);
    x = inception_e(g, "Mixed_7c", x, POOL_MAX);
    g->output = pool(g, x, POOL_AVG, g->h[x], 1, 0, 1);   // the adaptive average pool to 1 x 1
}
