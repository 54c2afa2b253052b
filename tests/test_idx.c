// IDX reading (plain and gzip), dataset loading, resize + centre crop, and batch scaling.
#include "dcgan/data.h"
#include "test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static char root[256];

// Writes an IDX header (type 0x08, big-endian dims) and `ndata` bytes, plain or gzip.
static int write_idx(const char *path, int gz, uint32_t magic, const uint32_t *dims, int ndim,
                     const uint8_t *data, size_t ndata) {
    uint8_t hdr[4 + 4 * 4];
    uint32_t words[5] = {magic};
    for (int i = 0; i < ndim; i++) words[1 + i] = dims[i];
    for (int w = 0; w <= ndim; w++)
        for (int b = 0; b < 4; b++) hdr[4 * w + b] = (uint8_t)(words[w] >> (24 - 8 * b));
    size_t nh = 4 + 4 * (size_t)ndim;
    if (gz) {
        gzFile g = gzopen(path, "wb");
        if (!g) return -1;
        int ok = gzwrite(g, hdr, (unsigned)nh) == (int)nh &&
                 (ndata == 0 || gzwrite(g, data, (unsigned)ndata) == (int)ndata);
        return (gzclose(g) == Z_OK && ok) ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(hdr, 1, nh, f) == nh && (ndata == 0 || fwrite(data, 1, ndata, f) == ndata);
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void make_images(uint8_t *px, int n, int rows, int cols) {
    for (int i = 0; i < n * rows * cols; i++) px[i] = (uint8_t)(i * 31 + i / 7);
}

static void join(char *out, size_t n, const char *dir, const char *name) {
    snprintf(out, n, "%s/%s", dir, name);
}

static void test_read_back(void) {
    enum { N = 5, R = 6, C = 4 };
    uint8_t px[N * R * C], lab[N] = {3, 1, 4, 1, 5};
    make_images(px, N, R, C);
    uint32_t d[3] = {N, R, C}, dl[1] = {N};
    for (int gz = 0; gz < 2; gz++) {
        char p[512], q[512], err[512] = "";
        // The extension says nothing: compression is detected from the content.
        join(p, sizeof p, root, gz ? "img-gz.bin" : "img-plain.bin");
        join(q, sizeof q, root, gz ? "lab-gz.bin" : "lab-plain.bin");
        CHECK(write_idx(p, gz, 0x803, d, 3, px, sizeof px) == 0);
        CHECK(write_idx(q, gz, 0x801, dl, 1, lab, sizeof lab) == 0);
        uint8_t *got = NULL;
        int n = 0, r = 0, c = 0;
        CHECK(idx_read_images(p, &got, &n, &r, &c, err, sizeof err) == 0);
        CHECK(n == N && r == R && c == C && got && memcmp(got, px, sizeof px) == 0);
        free(got);
        int32_t *l = NULL;
        int nl = 0;
        CHECK(idx_read_labels(q, &l, &nl, err, sizeof err) == 0);
        CHECK(nl == N && l && l[0] == 3 && l[2] == 4 && l[4] == 5);
        free(l);
        printf("idx round trip (%s) ok\n", gz ? "gzip" : "plain");
    }
}

static void expect_fail_images(const char *label, const char *p, const char *needle) {
    uint8_t *px = NULL;
    int n, r, c;
    char err[512] = "";
    CHECK(idx_read_images(p, &px, &n, &r, &c, err, sizeof err) == -1);
    CHECK(px == NULL && err[0] && strstr(err, p));
    if (needle && !strstr(err, needle)) {
        fprintf(stderr, "FAIL %s: '%s' lacks '%s'\n", label, err, needle);
        test_failures++;
    }
    printf("reject %-22s -> %s\n", label, err);
}

static void test_rejects(void) {
    uint8_t px[3 * 4 * 4];
    make_images(px, 3, 4, 4);
    uint32_t d[3] = {3, 4, 4};
    char p[512];
    join(p, sizeof p, root, "bad.idx");
    CHECK(write_idx(p, 0, 0x803, d, 3, px, 40) == 0);
    expect_fail_images("truncated data", p, "truncated: expected 48 bytes of image data, got 40");
    CHECK(write_idx(p, 1, 0x803, d, 3, px, 47) == 0);
    expect_fail_images("truncated data (gzip)", p,
                       "truncated: expected 48 bytes of image data, got 47");
    CHECK(write_idx(p, 0, 0x803, d, 2, NULL, 0) == 0);
    expect_fail_images("truncated header", p, "truncated");
    CHECK(write_idx(p, 0, 0x12345678, d, 3, px, sizeof px) == 0);
    expect_fail_images("bad magic", p, "magic");
    CHECK(write_idx(p, 0, 0x0D03, d, 3, px, sizeof px) == 0);
    expect_fail_images("float data type", p, "data type 0x0d");
    CHECK(write_idx(p, 0, 0x801, d, 1, px, 3) == 0);
    expect_fail_images("label file as images", p, "dimensions");
    uint32_t z[3] = {0, 4, 4};
    CHECK(write_idx(p, 0, 0x803, z, 3, NULL, 0) == 0);
    expect_fail_images("zero count", p, "image count");
    uint32_t big[3] = {2, 5000, 4};
    CHECK(write_idx(p, 0, 0x803, big, 3, px, sizeof px) == 0);
    expect_fail_images("oversized rows", p, "row count");
    uint32_t many[3] = {100000000, 4096, 4096};
    CHECK(write_idx(p, 0, 0x803, many, 3, px, sizeof px) == 0);
    expect_fail_images("huge claimed count", p, "truncated");

    // A gzip stream cut in the middle.
    join(p, sizeof p, root, "cut.gz");
    uint8_t many_px[4000];
    for (int i = 0; i < 4000; i++) many_px[i] = (uint8_t)((i * 7919u) >> 3);
    uint32_t d2[3] = {10, 20, 20};
    CHECK(write_idx(p, 1, 0x803, d2, 3, many_px, sizeof many_px) == 0);
    FILE *f = fopen(p, "rb");
    uint8_t buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    f = fopen(p, "wb");
    CHECK(f && fwrite(buf, 1, n / 2, f) == n / 2);
    if (f) fclose(f);
    expect_fail_images("cut gzip stream", p, NULL);

    join(p, sizeof p, root, "no-such-file");
    expect_fail_images("missing file", p, "cannot open");
    int32_t *l = NULL;
    int nl;
    char err[512] = "";
    CHECK(idx_read_labels(p, &l, &nl, err, sizeof err) == -1 && err[0] && l == NULL);
}

// A directory holding the standard MNIST file names.
static void make_mnist_dir(const char *dir, int n_img, int n_lab, int gz) {
    CHECK(mkdir(dir, 0700) == 0);
    uint8_t px[6 * 28 * 28], lab[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    make_images(px, 6, 28, 28);
    uint32_t d[3] = {(uint32_t)n_img, 28, 28}, dl[1] = {(uint32_t)n_lab};
    char p[512];
    join(p, sizeof p, dir, gz ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte");
    CHECK(write_idx(p, gz, 0x803, d, 3, px, (size_t)n_img * 784) == 0);
    join(p, sizeof p, dir, gz ? "train-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte");
    CHECK(write_idx(p, gz, 0x801, dl, 1, lab, (size_t)n_lab) == 0);
}

static void test_dataset_load(void) {
    char dir[512], err[512] = "";
    dcgan_dataset ds;
    for (int gz = 0; gz < 2; gz++) {
        join(dir, sizeof dir, root, gz ? "mnist-gz" : "mnist");
        make_mnist_dir(dir, 6, 6, gz);
        CHECK(dataset_load(&ds, "mnist", dir, 32, 3, 0, err, sizeof err) == 0);
        CHECK(ds.n == 6 && ds.c == 3 && ds.h == 32 && ds.w == 32 && ds.nclasses == 10);
        CHECK(ds.labels && ds.labels[5] == 5);
        // Gray is replicated into the three channels, and each image equals its own resize.
        uint8_t raw[6 * 784], ref[32 * 32];
        make_images(raw, 6, 28, 28);
        resize_center_crop(ref, raw + 4 * 784, 1, 28, 28, 32);
        for (int ch = 0; ch < 3; ch++)
            CHECK(memcmp(ds.pixels + (4 * 3 + ch) * 1024, ref, 1024) == 0);
        dataset_free(&ds);
        CHECK(ds.pixels == NULL && ds.labels == NULL);
    }
    printf("dataset_load plain and .gz directories ok\n");

    // The image file itself, with its label file found beside it.
    char p[1024];
    join(dir, sizeof dir, root, "mnist");
    join(p, sizeof p, dir, "train-images-idx3-ubyte");
    CHECK(dataset_load(&ds, "fashion-mnist", p, 28, 1, 0, err, sizeof err) == 0);
    CHECK(ds.n == 6 && ds.c == 1 && ds.labels != NULL);
    uint8_t raw[6 * 784];
    make_images(raw, 6, 28, 28);
    CHECK(ds.pixels && memcmp(ds.pixels, raw, sizeof raw) == 0);   // 28 -> 28 is a copy
    dataset_free(&ds);

    join(dir, sizeof dir, root, "mnist-mismatch");
    make_mnist_dir(dir, 6, 5, 0);
    err[0] = '\0';
    CHECK(dataset_load(&ds, "mnist", dir, 32, 1, 0, err, sizeof err) == -1);
    CHECK(strstr(err, "5 labels") != NULL && ds.pixels == NULL);
    printf("reject %-22s -> %s\n", "label count mismatch", err);

    join(dir, sizeof dir, root, "does-not-exist");
    err[0] = '\0';
    CHECK(dataset_load(&ds, "mnist", dir, 32, 1, 0, err, sizeof err) == -1 && strstr(err, dir));
    printf("reject %-22s -> %s\n", "missing dir", err);

    join(dir, sizeof dir, root, "empty");
    CHECK(mkdir(dir, 0700) == 0);
    err[0] = '\0';
    CHECK(dataset_load(&ds, "mnist", dir, 32, 1, 0, err, sizeof err) == -1);
    CHECK(strstr(err, "train-images-idx3-ubyte") != NULL);
    printf("reject %-22s -> %s\n", "empty dir", err);

    err[0] = '\0';
    CHECK(dataset_load(&ds, "imagenet", dir, 32, 3, 0, err, sizeof err) == -1);
    CHECK(strstr(err, "mnist") && strstr(err, "fashion-mnist") && strstr(err, "synthetic") && strstr(err, "cifar10"));
    printf("reject %-22s -> %s\n", "unknown kind", err);
    CHECK(dataset_load(&ds, "synthetic", NULL, 16, 2, 0, err, sizeof err) == -1);
    CHECK(dataset_load(&ds, "synthetic", NULL, 0, 1, 0, err, sizeof err) == -1);
}

// ---------------------------------------------------------------------------------------------

// Direct double-precision evaluation of Pillow's bilinear resample (rounded once per pass),
// used as an independent check; it may differ from the fixed-point result by 1.
static double tri(double x) { x = fabs(x); return x < 1 ? 1 - x : 0; }

static double ref_sample(const double *line, size_t stride, int in, int out, int i) {
    double scale = (double)in / out, fs = scale > 1 ? scale : 1, c = (i + 0.5) * scale;
    int lo = (int)(c - fs + 0.5), hi = (int)(c + fs + 0.5);
    if (lo < 0) lo = 0;
    if (hi > in) hi = in;
    double acc = 0, sum = 0;
    for (int x = lo; x < hi; x++) {
        double wgt = tri((x - c + 0.5) / fs);
        acc += wgt * line[(size_t)x * stride];
        sum += wgt;
    }
    double v = floor(acc / sum + 0.5);
    return v < 0 ? 0 : (v > 255 ? 255 : v);
}

// Full resize to (rh, rw) by the reference, then the crop.
static void ref_resize(uint8_t *dst, const uint8_t *src, int h, int w, int rh, int rw, int top,
                       int left, int size) {
    double *a = malloc(sizeof(double) * h * w), *t = malloc(sizeof(double) * h * rw);
    double *o = malloc(sizeof(double) * rh * rw);
    for (int i = 0; i < h * w; i++) a[i] = src[i];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < rw; x++)
            t[y * rw + x] = rw == w ? a[y * w + x] : ref_sample(a + y * w, 1, w, rw, x);
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++)
            o[y * rw + x] = rh == h ? t[y * rw + x] : ref_sample(t + x, (size_t)rw, h, rh, y);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) dst[y * size + x] = (uint8_t)o[(top + y) * rw + left + x];
    free(a);
    free(t);
    free(o);
}

static void test_resize(void) {
    // Identity when the size matches.
    uint8_t src[28 * 28 * 2], dst[64 * 64 * 2];
    make_images(src, 2, 28, 28);
    resize_center_crop(dst, src, 2, 28, 28, 28);
    CHECK(memcmp(dst, src, sizeof src) == 0);

    // A constant image stays constant when scaled up or down.
    memset(src, 201, sizeof src);
    resize_center_crop(dst, src, 1, 28, 28, 32);
    int bad = 0;
    for (int i = 0; i < 32 * 32; i++) bad += dst[i] != 201;
    resize_center_crop(dst, src, 1, 28, 28, 9);
    for (int i = 0; i < 9 * 9; i++) bad += dst[i] != 201;
    CHECK(bad == 0);

    // 4x6 -> 2, worked by hand: Resize to 2x3 (int(2 * 6 / 4) = 3), crop left round(0.5) = 0.
    // Rows x -> 10x + 40y; horizontal taps (3,3,1)/7, (1,3,3,1)/8, (1,3,3)/7 give
    // 7, 25, 43 (+40y); vertical taps (3,3,1)/7 and (1,3,3)/7 add 28.57 and 91.43.
    uint8_t a[4 * 6], out[4];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 6; x++) a[y * 6 + x] = (uint8_t)(10 * x + 40 * y);
    resize_center_crop(out, a, 1, 4, 6, 2);
    CHECK(out[0] == 36 && out[1] == 54 && out[2] == 98 && out[3] == 116);
    printf("4x6 -> 2: %d %d / %d %d (expected 36 54 / 98 116)\n", out[0], out[1], out[2], out[3]);

    // Centre crop only (the short side already matches): Python's round() halves to even.
    uint8_t wide[4 * 11], crop[16];
    for (int i = 0; i < 4 * 11; i++) wide[i] = (uint8_t)i;
    int widths[3] = {9, 10, 11}, lefts[3] = {2, 3, 4};   // round(2.5)=2, 3, round(3.5)=4
    for (int k = 0; k < 3; k++) {
        resize_center_crop(crop, wide, 1, 4, widths[k], 4);
        CHECK(crop[0] == lefts[k] && crop[5] == widths[k] + lefts[k] + 1);
    }
    uint8_t tall[7 * 4];
    for (int i = 0; i < 28; i++) tall[i] = (uint8_t)i;
    resize_center_crop(crop, tall, 1, 7, 4, 4);
    CHECK(crop[0] == 8 && crop[15] == 23);   // top = round(1.5) = 2

    // Random non-square images against the independent reference.
    const int cases[][3] = {{28, 28, 64}, {28, 28, 16}, {37, 100, 24}, {100, 37, 50}, {5, 9, 13},
                            {61, 60, 60}, {3, 40, 2}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int h = cases[k][0], w = cases[k][1], s = cases[k][2];
        uint8_t *img = malloc((size_t)h * w), *got = malloc((size_t)s * s);
        uint8_t *ref = malloc((size_t)s * s);
        for (int i = 0; i < h * w; i++) img[i] = (uint8_t)((i * 2654435761u) >> 24);
        resize_center_crop(got, img, 1, h, w, s);
        int rh = w <= h ? (int)((double)s * h / w) : s, rw = w <= h ? s : (int)((double)s * w / h);
        int top = (rh - s) / 2 + ((rh - s) % 2 && ((rh - s) / 2) % 2);
        int left = (rw - s) / 2 + ((rw - s) % 2 && ((rw - s) / 2) % 2);
        ref_resize(ref, img, h, w, rh, rw, top, left, s);
        int worst = 0;
        for (int i = 0; i < s * s; i++) {
            int d = abs((int)got[i] - (int)ref[i]);
            if (d > worst) worst = d;
        }
        CHECK(worst <= 1);
        printf("resize %3dx%-3d -> %-3d max diff vs double reference %d\n", h, w, s, worst);
        free(img);
        free(got);
        free(ref);
    }
}

static void test_synthetic_and_batch(void) {
    dcgan_dataset a, b, c;
    char err[512] = "";
    CHECK(dataset_load(&a, "synthetic", NULL, 32, 3, 42, err, sizeof err) == 0);
    CHECK(dataset_load(&b, "synthetic", "ignored", 32, 3, 42, err, sizeof err) == 0);
    CHECK(dataset_load(&c, "synthetic", NULL, 32, 3, 43, err, sizeof err) == 0);
    size_t bytes = (size_t)a.n * 3 * 32 * 32;
    CHECK(a.n == 2048 && a.c == 3 && a.h == 32 && a.w == 32 && a.nclasses == 2);
    CHECK(memcmp(a.pixels, b.pixels, bytes) == 0);
    CHECK(memcmp(a.labels, b.labels, a.n * sizeof *a.labels) == 0);
    CHECK(memcmp(a.pixels, c.pixels, bytes) != 0);
    int count[2] = {0, 0}, lo = 255, hi = 0;
    for (int i = 0; i < a.n; i++)
        if (a.labels[i] == 0 || a.labels[i] == 1) count[a.labels[i]]++;
    for (size_t i = 0; i < bytes; i++) {
        if (a.pixels[i] < lo) lo = a.pixels[i];
        if (a.pixels[i] > hi) hi = a.pixels[i];
    }
    CHECK(count[0] + count[1] == a.n && count[0] > 800 && count[1] > 800);
    CHECK(lo < 50 && hi > 200);
    printf("synthetic: %d discs, %d squares, pixel range %d..%d\n", count[0], count[1], lo, hi);

    // dataset_batch: 0 -> -1, 255 -> 1, and (p / 255 - 0.5) / 0.5 in between.
    a.pixels[0] = 0;
    a.pixels[1] = 255;
    a.pixels[2] = 128;
    size_t per = 3 * 32 * 32;
    a.pixels[5 * per + 7] = 51;
    uint32_t idx[2] = {0, 5};
    float *out = malloc(2 * per * sizeof(float));
    dataset_batch(&a, idx, 2, out);
    CHECK(out[0] == -1.0f && out[1] == 1.0f);
    CHECK(out[2] == (128 / 255.0f - 0.5f) / 0.5f);
    CHECK(out[per + 7] == (51 / 255.0f - 0.5f) / 0.5f);
    int bad = 0;
    for (size_t i = 0; i < 2 * per; i++) bad += !(out[i] >= -1.0f && out[i] <= 1.0f);
    CHECK(bad == 0);
    free(out);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&c);

    CHECK(dataset_load(&a, "synthetic", NULL, 8, 1, 7, err, sizeof err) == 0);
    CHECK(a.c == 1 && a.h == 8);
    dataset_free(&a);
}

int main(void) {
    snprintf(root, sizeof root, "%s", make_temp_dir("idx"));
    test_read_back();
    test_rejects();
    test_dataset_load();
    test_resize();
    test_synthetic_and_batch();
    return test_summary("test_idx");
}
