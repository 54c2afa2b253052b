// Inception-v3 features against pytorch-fid: tests/fixtures/inception.safetensors holds a few
// images (RGB 64 x 48 in [0, 1], gray 28 x 28) and the 2048-d features pytorch-fid's
// InceptionV3([3]) gives them (tests/make_inception_fixture.py), both networks carrying the
// formula weights of tests/inception_random.c. Also: a short last batch, an image's features not
// depending on its batch neighbours, and the weight file's errors.
// Usage: test_inception [cpu|cpu-ref|onednn|cuda]; exits 77 when the backend is absent.
//
// Tolerance. Both sides compute in float32 with the same formulas but sum in other orders (oneDNN,
// or im2col + BLAS, against PyTorch's oneDNN; cuDNN on the GPU), so each dot product of K terms
// (K up to 3 x 3 x 448 = 4032) differs by a few float32 roundings of its larger partial sums, and
// ~20 layers on the deepest path pass those differences on. Measured: 4.4e-7 (oneDNN) and 4.2e-7
// (cpu-ref) of the largest feature. Allowed: 1e-5 of the largest feature, absolute, since ReLU
// leaves many features near zero where a relative bound means nothing. Mistakes in the network
// move features far more (pytorch-fid's network changed, same weights and images): average pools
// that count their padding 3.5e-2, batchnorm's eps 1e-5 instead of 1e-3 1.6e-2, the resize with
// align_corners 6.7e-3 of the largest feature.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/backend.h"
#include "dcgan/eval.h"
#include "dcgan/io.h"
#include "dcgan/model.h"
#include "inception_random.h"
#include "test_util.h"

#define TOL 1e-5

static float max_abs(const float *x, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
    return m;
}

// Features of the fixture's images `images_KIND` compared with `features_KIND`.
static void compare(inception *net, const st_file *f, const char *kind, int batch) {
    char name[64], err[512];
    snprintf(name, sizeof name, "images_%s", kind);
    const st_tensor *img = st_find(f, name);
    snprintf(name, sizeof name, "features_%s", kind);
    const st_tensor *want = st_find(f, name);
    if (!img || !want) { fprintf(stderr, "FAIL fixture lacks %s\n", kind); test_failures++; return; }
    const long n = (long)img->shape[0];
    const int c = (int)img->shape[1], h = (int)img->shape[2], w = (int)img->shape[3];
    float *got = malloc((size_t)n * INCEPTION_FEATURES * sizeof(float));
    const inception_input in = {.c = c, .h = h, .w = w, .scale = 2.0f, .shift = -1.0f};
    if (inception_features(net, got, img->data, n, &in, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
    } else {
        const float scale = max_abs(want->data, (size_t)n * INCEPTION_FEATURES);
        printf("%s: %ld images of %d x %d x %d in batches of %d, largest feature %.3f\n", kind, n, c, h, w, batch, scale);
        check_close(name, got, want->data, (size_t)n * INCEPTION_FEATURES, TOL * scale, 0);
        // The first image alone (a batch padded with zeros) gives the same features, bit for bit.
        float *one = malloc(INCEPTION_FEATURES * sizeof(float));
        CHECK(inception_features(net, one, img->data, 1, &in, err, sizeof err) == 0);
        CHECK(memcmp(one, got, INCEPTION_FEATURES * sizeof(float)) == 0);
        free(one);
    }
    free(got);
}

static void expect_open_error(const char *weights, const dcgan_backend *be, const char *needle) {
    char err[512];
    inception *net = NULL;
    const int rc = inception_open(&net, weights, be, 2, err, sizeof err);
    printf("open %s: %s\n", weights, rc ? err : "(opened)");
    CHECK(rc == -1 && net == NULL && strstr(err, needle));
    if (!rc) inception_close(net);
}

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "cpu";
    setenv("DCGAN_CUDNN_MATH", "fma", 1);   // GPU convolutions without TF32: fp32 tolerances
    setenv("DCGAN_CUDNN_ALGO", "heuristic", 0);   // ~60 convolution shapes: no timed search each
    char err[512];
    const dcgan_backend *be = backend_select(device, NULL, err, sizeof err);
    if (!be) return test_skip_or_fail(err);
    test_print_backend(be);
    st_file f;
    if (st_read("fixtures/inception.safetensors", &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }
    const char *dir = make_temp_dir("inception");
    char weights[512];
    snprintf(weights, sizeof weights, "%s/inception-formula.safetensors", dir);
    if (inception_random_write(weights, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }

    inception *net = NULL;
    if (inception_open(&net, weights, be, 4, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }
    compare(net, &f, "rgb", 4);    // 5 images: a full batch and one padded with zeros
    compare(net, &f, "gray", 4);   // replicated to RGB by the resize, as pytorch-fid's callers do
    const inception_input two = {.c = 2, .h = 8, .w = 8, .scale = 1};
    CHECK(inception_features(net, NULL, NULL, 0, &two, err, sizeof err) == -1 && strstr(err, "1 or 3 channels"));
    inception_close(net);

    // Weight files that are not the network's.
    char path[600];
    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    expect_open_error(path, be, "no Inception weights file there: FID needs pytorch-fid's pt_inception");
    expect_open_error("fixtures/fid.safetensors", be, "not the FID Inception weights");
    st_tensor t = {.name = "Conv2d_1a_3x3.conv.weight", .dtype = ST_F32, .ndim = 1, .shape = {4}};
    const float four[4] = {0};
    t.data = four;
    t.nbytes = sizeof four;
    snprintf(path, sizeof path, "%s/short.safetensors", dir);
    CHECK(st_write(path, &t, 1, NULL, 0, err, sizeof err) == 0);
    expect_open_error(path, be, "the network needs 864 float32");
    remove(path);
    remove_temp_dir(dir);
    st_free(&f);
    return test_summary("test_inception");
}
