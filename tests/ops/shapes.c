// The DCGAN's layer shapes, from the rule models/dcgan.c builds them by, and Inception-v3's
// distinct shapes as its graph (models/inception.c at 299 x 299) has them.
#include <stdio.h>
#include "op_case.h"
#include "shapes.h"

const int test_batches[3] = {1, 3, 65};

int dcgan_case_size(int size, int B) {
    if (size == 32 && B == 3) return SIZE_LIGHT;
    return size == 32 || (size == 64 && B == 3) ? SIZE_QUICK : SIZE_FULL;
}

int inception_case_size(int B, int large_planes) {
    if (B == 1) return SIZE_LIGHT;
    return B <= 3 && !large_planes ? SIZE_QUICK : SIZE_FULL;
}

// G: ConvT(nz, 2^(b-1) g, 4, 1, 0) on 1x1 -> 4x4, then stride-2 ConvTs halving the channels as the
// side doubles, the last to nc channels (tanh). D: Conv(nc, d, 4, 2, 1), stride-2 convs doubling
// the channels, then Conv(., 1, 4, 1, 0) on 4x4 -> the logit. b = log2(size / 4) stride-2 blocks.
int dcgan_layer_shapes(int size, int gen, dcgan_layer_shape *out) {
    const int nz = 100, nc = 3, width = 64;
    int blocks = 0, n = 0;
    for (int s = 4; s < size; s *= 2) blocks++;
    if (gen) {
        int ch = width << (blocks - 1), h = 4;
        out[n++] = (dcgan_layer_shape){"", 1, 1, nz, 1, ch, 4, 1, 0, 1, 0, 1, 0.0f};
        for (int b = 1; b < blocks; b++, ch /= 2, h *= 2)
            out[n++] = (dcgan_layer_shape){"", 1, 0, ch, h, ch / 2, 2 * h, 2, 1, 0, 0, 1, 0.0f};
        out[n++] = (dcgan_layer_shape){"", 1, 0, ch, h, nc, size, 2, 1, 0, 1, 0, 1.0f};
    } else {
        int ch = width, h = size / 2;
        out[n++] = (dcgan_layer_shape){"", 0, 0, nc, size, ch, h, 2, 1, 1, 0, 0, 0.2f};
        for (int b = 1; b < blocks; b++, ch *= 2, h /= 2)
            out[n++] = (dcgan_layer_shape){"", 0, 0, ch, h, 2 * ch, h / 2, 2, 1, 0, 0, 1, 0.2f};
        out[n++] = (dcgan_layer_shape){"", 0, 1, ch, 4, 1, 1, 1, 0, 0, 1, 0, 1.0f};
    }
    for (int i = 0; i < n; i++) snprintf(out[i].tag, sizeof out[i].tag, "%s%d", gen ? "G" : "D", size);
    return n;
}

// {in c, h, w, out c, kh, kw, sh, sw, ph, pw}: each convolution shape once, in the order the
// network first meets it (Conv2d_1a_3x3 ... Mixed_7c.branch_pool).
const inception_conv_shape inception_convs[] = {
    {3, 299, 299, 32, 3, 3, 2, 2, 0, 0},   {32, 149, 149, 32, 3, 3, 1, 1, 0, 0}, {32, 147, 147, 64, 3, 3, 1, 1, 1, 1},
    {64, 73, 73, 80, 1, 1, 1, 1, 0, 0},    {80, 73, 73, 192, 3, 3, 1, 1, 0, 0},  {192, 35, 35, 64, 1, 1, 1, 1, 0, 0},
    {192, 35, 35, 48, 1, 1, 1, 1, 0, 0},   {48, 35, 35, 64, 5, 5, 1, 1, 2, 2},   {64, 35, 35, 96, 3, 3, 1, 1, 1, 1},
    {96, 35, 35, 96, 3, 3, 1, 1, 1, 1},    {192, 35, 35, 32, 1, 1, 1, 1, 0, 0},  {256, 35, 35, 64, 1, 1, 1, 1, 0, 0},
    {256, 35, 35, 48, 1, 1, 1, 1, 0, 0},   {288, 35, 35, 64, 1, 1, 1, 1, 0, 0},  {288, 35, 35, 48, 1, 1, 1, 1, 0, 0},
    {288, 35, 35, 384, 3, 3, 2, 2, 0, 0},  {96, 35, 35, 96, 3, 3, 2, 2, 0, 0},   {768, 17, 17, 192, 1, 1, 1, 1, 0, 0},
    {768, 17, 17, 128, 1, 1, 1, 1, 0, 0},  {128, 17, 17, 128, 1, 7, 1, 1, 0, 3}, {128, 17, 17, 192, 7, 1, 1, 1, 3, 0},
    {128, 17, 17, 128, 7, 1, 1, 1, 3, 0},  {128, 17, 17, 192, 1, 7, 1, 1, 0, 3}, {768, 17, 17, 160, 1, 1, 1, 1, 0, 0},
    {160, 17, 17, 160, 1, 7, 1, 1, 0, 3},  {160, 17, 17, 192, 7, 1, 1, 1, 3, 0}, {160, 17, 17, 160, 7, 1, 1, 1, 3, 0},
    {160, 17, 17, 192, 1, 7, 1, 1, 0, 3},  {192, 17, 17, 192, 1, 7, 1, 1, 0, 3}, {192, 17, 17, 192, 7, 1, 1, 1, 3, 0},
    {192, 17, 17, 320, 3, 3, 2, 2, 0, 0},  {192, 17, 17, 192, 3, 3, 2, 2, 0, 0}, {1280, 8, 8, 320, 1, 1, 1, 1, 0, 0},
    {1280, 8, 8, 384, 1, 1, 1, 1, 0, 0},   {384, 8, 8, 384, 1, 3, 1, 1, 0, 1},   {384, 8, 8, 384, 3, 1, 1, 1, 1, 0},
    {1280, 8, 8, 448, 1, 1, 1, 1, 0, 0},   {448, 8, 8, 384, 3, 3, 1, 1, 1, 1},   {1280, 8, 8, 192, 1, 1, 1, 1, 0, 0},
    {2048, 8, 8, 320, 1, 1, 1, 1, 0, 0},   {2048, 8, 8, 384, 1, 1, 1, 1, 0, 0},  {2048, 8, 8, 448, 1, 1, 1, 1, 0, 0},
    {2048, 8, 8, 192, 1, 1, 1, 1, 0, 0},
};
const int inception_nconvs = (int)(sizeof inception_convs / sizeof *inception_convs);

// {max, c, h, w, k, stride, pad, count_pad}: 3x3 stride 2 max pools, 3x3 stride 1 pad 1 average pools
// without the padding, Mixed_7c's 3x3 stride 1 pad 1 max pool, the final 8x8 average pool.
const inception_pool_shape inception_pools[] = {
    {1, 64, 147, 147, 3, 2, 0, 0}, {1, 192, 71, 71, 3, 2, 0, 0}, {0, 192, 35, 35, 3, 1, 1, 0},
    {0, 256, 35, 35, 3, 1, 1, 0},  {0, 288, 35, 35, 3, 1, 1, 0}, {1, 288, 35, 35, 3, 2, 0, 0},
    {0, 768, 17, 17, 3, 1, 1, 0},  {1, 768, 17, 17, 3, 2, 0, 0}, {0, 1280, 8, 8, 3, 1, 1, 0},
    {1, 2048, 8, 8, 3, 1, 1, 0},   {0, 2048, 8, 8, 8, 1, 0, 1},
};
const int inception_npools = (int)(sizeof inception_pools / sizeof *inception_pools);

// {branch c, h, w, block output c, first channel}: each branch's copy into its block's output.
const inception_copy_shape inception_copies[] = {
    {64, 35, 35, 256, 0},    {64, 35, 35, 256, 64},    {96, 35, 35, 256, 128},   {32, 35, 35, 256, 224},
    {64, 35, 35, 288, 0},    {64, 35, 35, 288, 64},    {96, 35, 35, 288, 128},   {64, 35, 35, 288, 224},
    {384, 17, 17, 768, 0},   {96, 17, 17, 768, 384},   {288, 17, 17, 768, 480},  {192, 17, 17, 768, 0},
    {192, 17, 17, 768, 192}, {192, 17, 17, 768, 384},  {192, 17, 17, 768, 576},  {320, 8, 8, 1280, 0},
    {192, 8, 8, 1280, 320},  {768, 8, 8, 1280, 512},   {320, 8, 8, 2048, 0},     {384, 8, 8, 2048, 320},
    {384, 8, 8, 2048, 704},  {384, 8, 8, 2048, 1088}, {384, 8, 8, 2048, 1472},  {192, 8, 8, 2048, 1856},
};
const int inception_ncopies = (int)(sizeof inception_copies / sizeof *inception_copies);
