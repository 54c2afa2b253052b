// torchvision Resize(size) + CenterCrop(size) on 8-bit images, reproducing Pillow's
// ImagingResample (bilinear filter, 8-bit fixed-point coefficients, horizontal pass first).
#include "dcgan/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)   // Pillow's fixed-point precision for 8-bit images

// Filter taps for one output coordinate: input window [start, start + n) and weights.
typedef struct {
    int ksize;        // taps per output coordinate (row stride of k)
    int *start, *n;   // [out]
    int32_t *k;       // [out * ksize]
} taps;

static double triangle(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

// Rounds normalised weights to fixed point as Pillow's normalize_coeffs_8bpc does.
static int32_t fixed(double w) {
    return (int32_t)(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
}

static uint8_t clip8(int32_t v) {
    if (v >= (1 << PRECISION_BITS << 8)) return 255;
    if (v <= 0) return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

// Pillow's precompute_coeffs for in_size -> out_size, kept only for outputs
// [first, first + count) (the centre-crop window).
static int make_taps(taps *t, int in_size, int out_size, int first, int count, double *scratch) {
    double scale = (double)in_size / out_size, fscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * fscale, ss = 1.0 / fscale;   // bilinear support is 1
    t->ksize = (int)(2.0 * support) + 3;   // bounds every window below
    t->start = malloc((size_t)count * 2 * sizeof(int));
    t->k = malloc((size_t)count * (size_t)t->ksize * sizeof(int32_t));
    if (!t->start || !t->k) return -1;
    t->n = t->start + count;
    for (int i = 0; i < count; i++) {
        double center = (first + i + 0.5) * scale, sum = 0.0;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        int n = xmax - xmin;
        for (int x = 0; x < n; x++) {
            scratch[x] = triangle((x + xmin - center + 0.5) * ss);
            sum += scratch[x];
        }
        for (int x = 0; x < n; x++)
            t->k[(size_t)i * t->ksize + x] = fixed(sum != 0.0 ? scratch[x] / sum : scratch[x]);
        t->start[i] = xmin;
        t->n[i] = n;
    }
    return 0;
}

static void free_taps(taps *t) {
    free(t->start);
    free(t->k);
}

// One output sample: sum of n inputs spaced `stride` apart, rounded like Pillow.
static uint8_t apply(const uint8_t *src, size_t stride, const int32_t *k, int n) {
    int32_t acc = 1 << (PRECISION_BITS - 1);
    for (int x = 0; x < n; x++) acc += (int32_t)src[(size_t)x * stride] * k[x];
    return clip8(acc);
}

// Python's round() on (d / 2.0) for integer d >= 0: halves go to the even neighbour.
static int half_round_even(int d) {
    int q = d / 2;
    return (d % 2 != 0 && q % 2 != 0) ? q + 1 : q;
}

// Output size of Resize(size): the shorter side becomes size, the longer one
// int(size * long / short) (truncated, as torchvision computes it).
static void resized_shape(int h, int w, int size, int *rh, int *rw) {
    if (w <= h) {
        *rw = size;
        *rh = (int)((double)size * h / w);
    } else {
        *rh = size;
        *rw = (int)((double)size * w / h);
    }
}

// The scratch buffers are sized from the inputs; an allocation failure here cannot be
// reported through the void interface, so it stops the program with a message.
static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "resize_center_crop: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

// Resizes one plane, computing only the cropped rows and columns.
static void resize_plane(uint8_t *dst, const uint8_t *src, int h, int w, int size, int rh, int rw,
                         int top, int left, const taps *tx, const taps *ty, uint8_t *tmp) {
    // Horizontal pass over every input row, cropped columns only (skipped when width is kept).
    for (int y = 0; y < h; y++)
        for (int x = 0; x < size; x++)
            tmp[(size_t)y * size + x] =
                rw == w ? src[(size_t)y * w + left + x]
                        : apply(src + (size_t)y * w + tx->start[x], 1,
                                tx->k + (size_t)x * tx->ksize, tx->n[x]);
    // Vertical pass for the cropped rows (skipped when height is kept).
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
            dst[(size_t)y * size + x] =
                rh == h ? tmp[(size_t)(top + y) * size + x]
                        : apply(tmp + (size_t)ty->start[y] * size + x, (size_t)size,
                                ty->k + (size_t)y * ty->ksize, ty->n[y]);
}

void resize_center_crop(uint8_t *dst, const uint8_t *src, int c, int h, int w, int size) {
    if (c <= 0 || h <= 0 || w <= 0 || size <= 0) return;
    int rh, rw;
    resized_shape(h, w, size, &rh, &rw);
    int top = half_round_even(rh - size), left = half_round_even(rw - size);
    int longest = (h > w ? h : w) + (rh > rw ? rh : rw);
    double *scratch = xmalloc((size_t)(2 * longest + 3) * sizeof(double));
    taps tx = {0}, ty = {0};
    if ((rw != w && make_taps(&tx, w, rw, left, size, scratch)) ||
        (rh != h && make_taps(&ty, h, rh, top, size, scratch))) {
        fprintf(stderr, "resize_center_crop: out of memory\n");
        abort();
    }
    uint8_t *tmp = xmalloc((size_t)h * size);
    for (int ch = 0; ch < c; ch++)
        resize_plane(dst + (size_t)ch * size * size, src + (size_t)ch * h * w, h, w, size, rh, rw,
                     top, left, &tx, &ty, tmp);
    free(tmp);
    free(scratch);
    free_taps(&tx);
    free_taps(&ty);
}
