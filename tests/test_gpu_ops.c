// Every op of the CUDA backend against the CPU reference op on the same random inputs, at odd
// batch sizes (1, 3, 65) and every layer shape of the DCGAN at 32, 64 and 128 px (ngf = ndf = 64,
// nc = 3, nz = 100), and every pool, resize and concatenation copy of Inception-v3 (FID). Prints
// max abs / rel error per tensor. Exits 77 without a CUDA device.
//
//   test_gpu_ops [--op NAME[,NAME...]] [--math fma|default]
// --op runs the named op families (conv, dense, batchnorm, activation, loss, optim, noise, data,
// concat, pool, resize, copy; default: all; compute-sanitizer's racecheck and initcheck take every
// family but conv and dense, whose kernels are cuDNN's and cuBLAS's). --math fma (the default)
// runs cuDNN and cuBLAS without TF32 so that fp32 tolerances apply; --math default is the
// production configuration (TF32 allowed, as PyTorch's convolutions): the conv and dense layers of
// the 64 px model at batch 64 and 128, where cudnnFind picks other algorithms, with tolerances
// derived from TF32's 10-bit mantissa.
// DCGAN_TEST_QUICK=1 (used under compute-sanitizer) keeps 32 px at every batch and 64 px at batch 3;
// of Inception's ops, batch 1 and 3 (batch 1 only for the two pools over the largest planes).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/backend.h"
#include "dcgan/model.h"
#include "dcgan/rng.h"
#include "test_util.h"

static const dcgan_backend *cpu, *gpu;

static float *host_random(size_t n, unsigned seed, float scale, float offset) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    fill_random(x, n, seed, scale);
    for (size_t i = 0; i < n; i++) x[i] += offset;
    return x;
}

static void *dev_bytes(size_t bytes) {
    void *d = gpu->alloc(gpu, bytes ? bytes : 1);
    if (!d) { fprintf(stderr, "FAIL out of GPU memory (%zu bytes)\n", bytes); exit(1); }
    return d;
}

static float *dev_alloc(size_t n) { return dev_bytes(n * sizeof(float)); }

static float *to_gpu(const float *h, size_t n) {
    float *d = dev_alloc(n);
    gpu->upload(gpu, d, h, n * sizeof(float));
    return d;
}

static float *from_gpu(const float *d, size_t n) {
    float *h = malloc((n ? n : 1) * sizeof(float));
    gpu->download(gpu, h, d, n * sizeof(float));
    return h;
}

static void release_all(void **bufs, int n) { for (int i = 0; i < n; i++) gpu->release(gpu, bufs[i]); }

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

// GPU result d_got [n] against the CPU's want: |got - want| <= rel * max|want| + rtol * |want|.
static void compare_dev(const char *label, const float *d_got, const float *want, size_t n, double rel, double rtol) {
    float *got = from_gpu(d_got, n);
    check_close(label, got, want, n, rel * max_abs(want, n) + 1e-30, rtol);
    free(got);
}

// GPU result d_got [n] bit for bit equal to the CPU's want (ops that share formulas.h's
// IEEE-rounded formulas, or only move data): prints the usual line, and fails on any differing bit
// pattern too (a -0 for a 0 included).
static void compare_exact(const char *label, const float *d_got, const float *want, size_t n) {
    float *got = from_gpu(d_got, n);
    if (check_close(label, got, want, n, 0, 0) && memcmp(got, want, n * sizeof(float))) {
        size_t i = 0;
        while (!memcmp(&got[i], &want[i], sizeof(float))) i++;
        fprintf(stderr, "FAIL %s: element %zu differs in its bits: got %a expected %a\n", label, i, got[i], want[i]);
        test_failures++;
    }
    free(got);
}

// --- conv and dense --------------------------------------------------------------------------------
// FMA math: each output is a float32 sum of C*K*K (forward), OC*K*K (input gradient) or B*OH*OW
// (weight gradient) products; a different summation order (or cuDNN's Winograd/FFT transforms)
// moves a sum by a few 1e-7 of the magnitudes summed, i.e. ~1e-6..1e-5 of the largest output for
// the lengths here. 1e-4 of the tensor's max leaves a 10x margin and still catches any indexing
// or layout error (those are O(1) wrong).
// TF32 (default math): the tensor cores round both operands to a 10-bit mantissa, a relative error
// of at most u = 2^-11 each, so a product carries up to 2u. Over a sum of K products with random
// signs the errors add like the terms do (as a random walk), so an output's error stays near
// 2u |output|, with tails of a few times that; 8u = 3.9e-3 of the tensor's max bounds it with the
// same 10x-style margin as above and is still far below a layout error.
#define CONV_TOL 1e-4
#define TF32_TOL (8.0 / 2048.0)

static double conv_tol;

typedef struct {
    const char *op;
    size_t nin, nout, nw;
} layer_sizes;

// Runs forward, backward data and backward filter (onto a non-zero dw: it accumulates) of one
// layer on both backends and compares.
static void compare_layer(const conv_desc *cd, const dense_desc *dd, const char *tag) {
    const tensor_desc *ti = cd ? &cd->in : &dd->in, *to = cd ? &cd->out : &dd->out;
    size_t nin = tensor_numel(ti), nout = tensor_numel(to), nw = (size_t)ti->c * to->c * (cd ? cd->kh * cd->kw : 1);
    if (!cd) nw = (nin / ti->n) * (nout / to->n);
    float *in = host_random(nin, 11, 1.0f, 0.0f), *w = host_random(nw, 12, 0.05f, 0.0f);
    float *dout = host_random(nout, 13, 1.0f, 0.0f), *dw = host_random(nw, 14, 0.1f, 0.0f);
    float *out = malloc(nout * sizeof(float)), *din = malloc(nin * sizeof(float));
    float *d_in = to_gpu(in, nin), *d_w = to_gpu(w, nw), *d_dout = to_gpu(dout, nout), *d_dw = to_gpu(dw, nw);
    float *d_out = dev_alloc(nout), *d_din = dev_alloc(nin);
    char err[256], label[200];
    const char *op = cd ? (cd->kind == CONV_2D ? "conv" : "convt") : (dd->transposed ? "dense-t" : "dense");
    if (cd) {
        if (cpu->conv_plan(cpu, cd, err, sizeof err) || gpu->conv_plan(gpu, cd, err, sizeof err)) {
            fprintf(stderr, "FAIL plan: %s\n", err);
            test_failures++;
        }
        cpu->conv_forward(cpu, out, in, w, cd);
        gpu->conv_forward(gpu, d_out, d_in, d_w, cd);
        cpu->conv_backward_data(cpu, din, dout, w, cd);
        gpu->conv_backward_data(gpu, d_din, d_dout, d_w, cd);
        cpu->conv_backward_filter(cpu, dw, dout, in, cd);
        gpu->conv_backward_filter(gpu, d_dw, d_dout, d_in, cd);
    } else {
        cpu->dense_forward(cpu, out, in, w, dd);
        gpu->dense_forward(gpu, d_out, d_in, d_w, dd);
        cpu->dense_backward_data(cpu, din, dout, w, dd);
        gpu->dense_backward_data(gpu, d_din, d_dout, d_w, dd);
        cpu->dense_backward_filter(cpu, dw, dout, in, dd);
        gpu->dense_backward_filter(gpu, d_dw, d_dout, d_in, dd);
    }
#define LBL(what) (snprintf(label, sizeof label, "%s %s B%d %dx%dx%d->%dx%dx%d %s", tag, op, ti->n, ti->c, ti->h, ti->w, \
                            to->c, to->h, to->w, what), label)
    compare_dev(LBL("fwd"), d_out, out, nout, conv_tol, 0);
    compare_dev(LBL("bwd-data"), d_din, din, nin, conv_tol, 0);
    compare_dev(LBL("bwd-filter"), d_dw, dw, nw, conv_tol, 0);
#undef LBL
    void *bufs[] = {d_in, d_w, d_dout, d_dw, d_out, d_din};
    release_all(bufs, 6);
    free(in); free(w); free(dout); free(dw); free(out); free(din);
}

// --- batchnorm -----------------------------------------------------------------------------------
// The GPU merges per-thread float Welford states in double; the CPU sums in double (two passes).
// Means and 1/std then agree to ~1e-7 relative, the outputs to a few 1e-7 of their range: 2e-5 of
// the tensor's max. Gradient sums over N = B*HW values are float partials merged in double on both
// sides, in a different order: an error ~1e-7 of sum |terms| ~ N * 1e-7; allowed 2e-7 * N + 1e-6.
static void test_bn(int B, int C, int HW, float slope, const char *tag) {
    size_t n = (size_t)B * C * HW;
    bn_desc d = {.x = tensor_f32(B, C, HW, 1), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope};
    float *in = host_random(n, 21, 1.0f, 0.3f), *dout = host_random(n, 22, 1.0f, 0.0f);
    float *gamma = host_random((size_t)C, 23, 0.1f, 1.0f), *beta = host_random((size_t)C, 24, 0.1f, 0.0f);
    float *rstat = host_random(2 * (size_t)C, 25, 0.1f, 0.5f);
    float *out = malloc(n * sizeof(float)), *din = malloc(n * sizeof(float));
    float *mean = malloc(C * sizeof(float)), *invstd = malloc(C * sizeof(float));
    float *dg = host_random((size_t)C, 26, 0.1f, 0.0f), *db = host_random((size_t)C, 27, 0.1f, 0.0f);
    float *d_in = to_gpu(in, n), *d_dout = to_gpu(dout, n), *d_gamma = to_gpu(gamma, C), *d_beta = to_gpu(beta, C);
    float *d_rstat = to_gpu(rstat, 2 * (size_t)C), *d_out = dev_alloc(n), *d_din = dev_alloc(n);
    float *d_mean = dev_alloc(C), *d_invstd = dev_alloc(C), *d_dg = to_gpu(dg, C), *d_db = to_gpu(db, C);
    int64_t count = 5, *d_count = dev_bytes(sizeof(int64_t));
    gpu->upload(gpu, d_count, &count, sizeof count);
    char label[160];
    const double N = (double)B * HW;
#define LBL(what) (snprintf(label, sizeof label, "%s bn B%d C%d HW%d a%.1f %s", tag, B, C, HW, slope, what), label)
    cpu->batchnorm_forward_train(cpu, out, mean, invstd, rstat, &count, in, gamma, beta, &d);
    gpu->batchnorm_forward_train(gpu, d_out, d_mean, d_invstd, d_rstat, d_count, d_in, d_gamma, d_beta, &d);
    compare_dev(LBL("train out"), d_out, out, n, 2e-5, 0);
    compare_dev(LBL("mean"), d_mean, mean, C, 1e-6, 1e-5);
    compare_dev(LBL("invstd"), d_invstd, invstd, C, 0, 1e-5);
    compare_dev(LBL("running"), d_rstat, rstat, 2 * (size_t)C, 0, 1e-5);
    int64_t got_count = 0;
    gpu->download(gpu, &got_count, d_count, sizeof got_count);
    CHECK(count == 6 && got_count == 6);
    // Eval with the updated running statistics.
    cpu->batchnorm_forward_eval(cpu, din, in, gamma, beta, rstat, &d);
    gpu->batchnorm_forward_eval(gpu, d_din, d_in, d_gamma, d_beta, d_rstat, &d);
    compare_dev(LBL("eval out"), d_din, din, n, 2e-5, 0);
    // Backward: both sides get the CPU's forward output, so the activation's slope is chosen by the
    // same signs (values within rounding of 0 could otherwise flip).
    gpu->upload(gpu, d_out, out, n * sizeof(float));
    cpu->batchnorm_backward(cpu, din, dg, db, dout, slope != 1.0f ? out : NULL, in, mean, invstd, gamma, &d);
    gpu->batchnorm_backward(gpu, d_din, d_dg, d_db, d_dout, slope != 1.0f ? d_out : NULL, d_in, d_mean, d_invstd,
                            d_gamma, &d);
    compare_dev(LBL("din"), d_din, din, n, 1e-4, 0);
    float *got = from_gpu(d_dg, C);
    check_close(LBL("dgamma"), got, dg, C, 1e-6 + 2e-7 * N, 1e-5);
    free(got);
    got = from_gpu(d_db, C);
    check_close(LBL("dbeta"), got, db, C, 1e-6 + 2e-7 * N, 1e-5);
    free(got);
#undef LBL
    void *bufs[] = {d_in, d_dout, d_gamma, d_beta, d_rstat, d_out, d_din, d_mean, d_invstd, d_dg, d_db, d_count};
    release_all(bufs, 12);
    float *hb[] = {in, dout, gamma, beta, rstat, out, din, mean, invstd, dg, db};
    for (int i = 0; i < 11; i++) free(hb[i]);
}

// Synchronised batchnorm (the four ops around the all-reduces), as if a second rank held the same
// batch: the sums are doubled between the passes and the statistics taken over group_n = 2B. Both
// backends get the CPU's sums for the passes that read them, so the comparison is op by op. Sums:
// float partials merged in double (GPU) against double sums (CPU), tolerances as above.
static void test_bn_sync(int B, int C, int HW, float slope, const char *tag) {
    size_t n = (size_t)B * C * HW;
    bn_desc d = {.x = tensor_f32(B, C, HW, 1), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope, .group_n = 2 * B};
    float *in = host_random(n, 41, 1.0f, 0.3f), *dout = host_random(n, 42, 1.0f, 0.0f);
    float *gamma = host_random((size_t)C, 43, 0.1f, 1.0f), *beta = host_random((size_t)C, 44, 0.1f, 0.0f);
    float *rstat = host_random(2 * (size_t)C, 45, 0.1f, 0.5f);
    float *out = malloc(n * sizeof(float)), *din = malloc(n * sizeof(float));
    float *mean = malloc(C * sizeof(float)), *invstd = malloc(C * sizeof(float));
    float *dg = host_random((size_t)C, 46, 0.1f, 0.0f), *db = host_random((size_t)C, 47, 0.1f, 0.0f);
    double *sums = malloc(2 * (size_t)C * sizeof(double)), *gsums = malloc(2 * (size_t)C * sizeof(double));
    float *d_in = to_gpu(in, n), *d_dout = to_gpu(dout, n), *d_gamma = to_gpu(gamma, C), *d_beta = to_gpu(beta, C);
    float *d_rstat = to_gpu(rstat, 2 * (size_t)C), *d_out = dev_alloc(n), *d_din = dev_alloc(n);
    float *d_mean = dev_alloc(C), *d_invstd = dev_alloc(C), *d_dg = to_gpu(dg, C), *d_db = to_gpu(db, C);
    double *d_sums = dev_bytes(2 * (size_t)C * sizeof(double));
    int64_t count = 0, *d_count = dev_bytes(sizeof(int64_t));
    char label[160];
    const double N = (double)B * HW;
#define LBL(what) (snprintf(label, sizeof label, "%s sync-bn B%d C%d HW%d a%.1f %s", tag, B, C, HW, slope, what), label)
#define COMPARE_SUMS(what, tol) do { \
        gpu->download(gpu, gsums, d_sums, 2 * (size_t)C * sizeof(double)); \
        double worst = 0; \
        for (int k = 0; k < 2 * C; k++) worst = fmax(worst, fabs(gsums[k] - sums[k]) / (fabs(sums[k]) + N)); \
        printf("%-60s max err %.2e of (|sum| + N)\n", LBL(what), worst); \
        CHECK(worst < (tol)); \
        for (int k = 0; k < 2 * C; k++) sums[k] *= 2.0; \
        gpu->upload(gpu, d_sums, sums, 2 * (size_t)C * sizeof(double)); } while (0)
    cpu->batchnorm_sums(cpu, sums, in, &d);
    gpu->batchnorm_sums(gpu, d_sums, d_in, &d);
    COMPARE_SUMS("forward sums", 1e-6);
    cpu->batchnorm_forward_global(cpu, out, mean, invstd, rstat, &count, in, gamma, beta, sums, &d);
    gpu->batchnorm_forward_global(gpu, d_out, d_mean, d_invstd, d_rstat, d_count, d_in, d_gamma, d_beta, d_sums, &d);
    compare_dev(LBL("out"), d_out, out, n, 2e-5, 0);
    compare_dev(LBL("mean"), d_mean, mean, C, 1e-6, 1e-5);
    compare_dev(LBL("invstd"), d_invstd, invstd, C, 0, 1e-5);
    compare_dev(LBL("running"), d_rstat, rstat, 2 * (size_t)C, 0, 1e-5);
    gpu->upload(gpu, d_out, out, n * sizeof(float));
    gpu->upload(gpu, d_mean, mean, C * sizeof(float));
    gpu->upload(gpu, d_invstd, invstd, C * sizeof(float));
    cpu->batchnorm_backward_sums(cpu, sums, dg, db, dout, slope != 1.0f ? out : NULL, in, mean, invstd, &d);
    gpu->batchnorm_backward_sums(gpu, d_sums, d_dg, d_db, d_dout, slope != 1.0f ? d_out : NULL, d_in, d_mean, d_invstd, &d);
    COMPARE_SUMS("backward sums", 2e-6);
    cpu->batchnorm_backward_global(cpu, din, dout, slope != 1.0f ? out : NULL, in, mean, invstd, gamma, sums, &d);
    gpu->batchnorm_backward_global(gpu, d_din, d_dout, slope != 1.0f ? d_out : NULL, d_in, d_mean, d_invstd, d_gamma,
                                   d_sums, &d);
    compare_dev(LBL("din"), d_din, din, n, 1e-4, 0);
    float *got = from_gpu(d_dg, C);
    check_close(LBL("dgamma"), got, dg, C, 1e-6 + 2e-7 * N, 1e-5);
    free(got);
    got = from_gpu(d_db, C);
    check_close(LBL("dbeta"), got, db, C, 1e-6 + 2e-7 * N, 1e-5);
    free(got);
#undef COMPARE_SUMS
#undef LBL
    void *bufs[] = {d_in, d_dout, d_gamma, d_beta, d_rstat, d_out, d_din, d_mean, d_invstd, d_dg, d_db, d_count, d_sums};
    release_all(bufs, 13);
    float *hb[] = {in, dout, gamma, beta, rstat, out, din, mean, invstd, dg, db};
    for (int i = 0; i < 11; i++) free(hb[i]);
    free(sums);
    free(gsums);
}

// Every conv, dense and batchnorm layer of the model at this size and batch.
static void test_net_shapes(int size, int B, int with_bn) {
    dcgan_config cfg = {.size = size, .nc = 3, .nz = 100, .ngf = 64, .ndf = 64};
    for (int gen = 1; gen >= 0; gen--) {
        dcgan_net net;
        if (dcgan_net_build(&net, &cfg, gen, cpu)) { fprintf(stderr, "FAIL net build\n"); test_failures++; return; }
        char tag[32];
        snprintf(tag, sizeof tag, "%s%d", gen ? "G" : "D", size);
        for (int i = 0; i < net.nlayers; i++) {
            const layer *l = &net.layers[i];
            tensor_desc in = tensor_f32(B, l->C, l->H, l->W), out = tensor_f32(B, l->OC, l->OH, l->OW);
            if ((l->kind == LAYER_CONV || l->kind == LAYER_CONVT) && l->dense) {
                dense_desc dd = {.in = in, .out = out, .transposed = l->kind == LAYER_CONVT};
                compare_layer(NULL, &dd, tag);
            } else if (l->kind == LAYER_CONV || l->kind == LAYER_CONVT) {
                conv_desc cd = conv_desc_make(l->kind == LAYER_CONV ? CONV_2D : CONV_TRANSPOSE_2D, in, l->OC, l->K,
                                              l->stride, l->pad);
                compare_layer(&cd, NULL, tag);
            } else if (l->kind == LAYER_BN && with_bn) {
                test_bn(B, l->C, l->H * l->W, gen ? 0.0f : 0.2f, tag);
                if (B == 3) test_bn(B, l->C, l->H * l->W, 1.0f, tag);   // plain batchnorm too
            }
        }
        dcgan_net_free(&net);
    }
}

// --- element-wise ops, losses, optimisers, noise, data, class planes -----------------------------
static void test_activations(size_t n) {
    float *in = host_random(n, 31, 3.0f, 0.0f), *dout = host_random(n, 32, 1.0f, 0.0f), *out = malloc(n * 4), *din = malloc(n * 4);
    float *d_in = to_gpu(in, n), *d_dout = to_gpu(dout, n), *d_out = dev_alloc(n), *d_din = dev_alloc(n);
    static const char *const names[] = {"relu", "leaky relu", "tanh"};
    char label[96];
    // ReLU and leaky ReLU are exact; tanhf differs from glibc's by at most 2 ulp (< 2.4e-7 for |y| < 1).
    for (int k = ACT_RELU; k <= ACT_TANH; k++) {
        act_desc d = {.kind = (act_kind)k, .slope = 0.2f, .x = tensor_f32((int)n, 1, 1, 1)};
        cpu->activation_forward(cpu, out, in, &d);
        gpu->activation_forward(gpu, d_out, d_in, &d);
        snprintf(label, sizeof label, "%s fwd n%zu", names[k], n);
        compare_dev(label, d_out, out, n, k == ACT_TANH ? 3e-7 : 0, 0);
        gpu->upload(gpu, d_out, out, n * 4);   // the same saved output on both sides
        cpu->activation_backward(cpu, din, dout, out, &d);
        gpu->activation_backward(gpu, d_din, d_dout, d_out, &d);
        snprintf(label, sizeof label, "%s bwd n%zu", names[k], n);
        compare_dev(label, d_din, din, n, 0, 0);
    }
    void *bufs[] = {d_in, d_dout, d_out, d_din};
    release_all(bufs, 4);
    free(in); free(dout); free(out); free(din);
}

static void test_losses(int B) {
    float *logits = host_random((size_t)B, 41, 4.0f, 0.0f), *d_logits = to_gpu(logits, B);
    float *dl = malloc(B * 4), *d_dl = dev_alloc(B), stats[2], *d_stats = dev_alloc(2);
    char label[96];
    for (int k = 0; k < LOSS_COUNT; k++)
        for (int role = ROLE_D_FAKE; role <= ROLE_G; role++) {
            // Both sides compute in double; only exp/log1p's last-ulp differences reach the float results.
            loss_desc d = {.kind = (gan_loss)k, .role = (loss_role)role, .B = B};
            cpu->loss(cpu, dl, stats, logits, &d);
            gpu->loss(gpu, d_dl, d_stats, d_logits, &d);
            const char *r = role == ROLE_D_FAKE ? "D fake" : role == ROLE_D_REAL ? "D real" : "G";
            snprintf(label, sizeof label, "loss %s %s B%d dlogits", gan_loss_name((gan_loss)k), r, B);
            compare_dev(label, d_dl, dl, B, 1e-7, 1e-6);
            snprintf(label, sizeof label, "loss %s %s B%d loss,D", gan_loss_name((gan_loss)k), r, B);
            compare_dev(label, d_stats, stats, 2, 1e-7, 1e-6);
        }
    void *bufs[] = {d_logits, d_dl, d_stats};
    release_all(bufs, 3);
    free(logits); free(dl);
}

static void test_optimisers(size_t n) {
    float *p = host_random(n, 51, 0.05f, 0.0f), *m = calloc(n, 4), *v = calloc(n, 4);
    float *d_p = to_gpu(p, n), *d_m = to_gpu(m, n), *d_v = to_gpu(v, n);
    int64_t step = 0, *d_step = dev_bytes(sizeof(int64_t)), got_step = -1;
    gpu->upload(gpu, d_step, &step, sizeof step);
    char label[96];
    // The formulas of formulas.h with IEEE rounding on both sides: expected identical.
    optim_desc adam = optim_desc_make(OPT_ADAM, n, 2e-4f, 0.5f, 0.999f, 1e-8f);
    for (int t = 1; t <= 3; t++) {
        float *g = host_random(n, 52 + (unsigned)t, t == 2 ? 1e-6f : 0.1f, 0.0f), *d_g = to_gpu(g, n);
        cpu->optim_update(cpu, p, g, m, v, &step, &adam);
        gpu->optim_update(gpu, d_p, d_g, d_m, d_v, d_step, &adam);
        gpu->release(gpu, d_g);
        free(g);
    }
    gpu->download(gpu, &got_step, d_step, sizeof got_step);
    CHECK(step == 3 && got_step == 3);
    snprintf(label, sizeof label, "adam n%zu param", n); compare_dev(label, d_p, p, n, 0, 0);
    snprintf(label, sizeof label, "adam n%zu m", n); compare_dev(label, d_m, m, n, 0, 0);
    snprintf(label, sizeof label, "adam n%zu v", n); compare_dev(label, d_v, v, n, 0, 0);
    optim_desc rms = optim_desc_make(OPT_RMSPROP, n, 5e-5f, 0.0f, 0.99f, 1e-8f);
    for (int t = 1; t <= 3; t++) {
        float *g = host_random(n, 60 + (unsigned)t, 0.1f, 0.0f), *d_g = to_gpu(g, n);
        cpu->optim_update(cpu, p, g, m, NULL, &step, &rms);
        gpu->optim_update(gpu, d_p, d_g, d_m, NULL, d_step, &rms);
        cpu->optim_clip(cpu, p, n, 0.01f);
        gpu->optim_clip(gpu, d_p, n, 0.01f);
        gpu->release(gpu, d_g);
        free(g);
    }
    snprintf(label, sizeof label, "rmsprop+clip n%zu param", n); compare_dev(label, d_p, p, n, 0, 0);
    snprintf(label, sizeof label, "rmsprop n%zu sq", n); compare_dev(label, d_m, m, n, 0, 0);
    // The moving average (m as the average of p), at a decay with w < 0.5 and one with w > 0.5.
    for (int k = 0; k < 2; k++) {
        const float decay = k ? 0.25f : 0.999f;
        cpu->optim_ema(cpu, m, p, n, decay);
        gpu->optim_ema(gpu, d_m, d_p, n, decay);
        snprintf(label, sizeof label, "ema %.3g n%zu", decay, n); compare_dev(label, d_m, m, n, 0, 0);
    }
    void *bufs[] = {d_p, d_m, d_v, d_step};
    release_all(bufs, 4);
    free(p); free(m); free(v);
}

static void test_noise(void) {
    size_t n = 10007;
    float *want = malloc(n * 4), *d = dev_alloc(n);
    uint64_t counter = 8, *d_counter = dev_bytes(sizeof counter), got_counter = 0;
    gpu->upload(gpu, d_counter, &counter, sizeof counter);
    noise_desc nd = {.n = n, .seed = 42, .stream = 3, .offset = 4, .mean = 0.5f, .std = 2.0f, .nclasses = 10};
    // Same Philox words; logf/sinf/cosf of CUDA and glibc differ by <= 2 ulp: < 2e-6 for |z| < 6.
    cpu->noise_normal(cpu, want, &counter, &nd);
    gpu->noise_normal(gpu, d, d_counter, &nd);
    float *got = from_gpu(d, n);
    check_close("philox normal n10007", got, want, n, 5e-6, 1e-6);
    gpu->download(gpu, &got_counter, d_counter, sizeof got_counter);
    CHECK(counter == 8 + rng_block_words(n) && got_counter == counter);
    free(got);
    // Classes: integer draws, identical.
    int32_t cls[300], gcls[300], *d_cls = dev_bytes(sizeof cls);
    nd.n = 300;
    cpu->noise_classes(cpu, cls, &counter, &nd);
    gpu->noise_classes(gpu, d_cls, d_counter, &nd);
    gpu->download(gpu, gcls, d_cls, sizeof gcls);
    gpu->download(gpu, &got_counter, d_counter, sizeof got_counter);
    CHECK(memcmp(cls, gcls, sizeof cls) == 0 && got_counter == counter);
    void *bufs[] = {d, d_counter, d_cls};
    release_all(bufs, 3);
    free(want);
}

// Gather + normalise from an order of two epochs, resident and staged: bit-identical.
static void test_data(void) {
    const int N = 37, B = 5;
    const size_t per = 3 * 9 * 9;
    uint8_t *pix = malloc(N * per);
    int32_t labels[37], cls[5], gcls[5];
    for (size_t i = 0; i < N * per; i++) pix[i] = (uint8_t)(i * 7 + i / 13);
    for (int i = 0; i < N; i++) labels[i] = i % 4;
    uint32_t order[2 * 37];
    for (int e = 0; e < 2; e++)
        for (int i = 0; i < N; i++) order[e * N + i] = (uint32_t)((i * (e ? 5 : 3) + e) % N);
    data_desc d = {.B = B, .n = N, .per = per, .batches_per_epoch = N / B, .slots = 2};
    float *out = malloc(B * per * 4);
    uint8_t *d_pix = dev_bytes(N * per);
    int32_t *d_labels = dev_bytes(sizeof labels), *d_cls = dev_bytes(sizeof cls);
    uint32_t *d_order = dev_bytes(sizeof order);
    int64_t cursor = 6, *d_cursor = dev_bytes(sizeof cursor);   // batch 6: the second epoch's first
    float *d_out = dev_alloc(B * per);
    gpu->upload(gpu, d_pix, pix, N * per);
    gpu->upload(gpu, d_labels, labels, sizeof labels);
    gpu->upload(gpu, d_order, order, sizeof order);
    for (int k = 0; k < 3; k++) {
        gpu->upload(gpu, d_cursor, &cursor, sizeof cursor);
        cpu->data_gather(cpu, out, cls, pix, labels, k < 2 ? order : NULL, &cursor, &d);
        gpu->data_gather(gpu, d_out, d_cls, d_pix, d_labels, k < 2 ? d_order : NULL, d_cursor, &d);
        compare_dev(k < 2 ? "gather+normalise B5" : "staged normalise B5", d_out, out, B * per, 0, 0);
        gpu->download(gpu, gcls, d_cls, sizeof gcls);
        CHECK(memcmp(cls, gcls, sizeof cls) == 0);
        int64_t got = 0;
        gpu->download(gpu, &got, d_cursor, sizeof got);
        CHECK(got == cursor);
    }
    void *bufs[] = {d_pix, d_labels, d_cls, d_order, d_cursor, d_out};
    release_all(bufs, 6);
    free(pix); free(out);
}

// Class planes of the conditional nets: exact copies, so bit-identical.
static void test_class_planes(int B, int C, int HW, int K) {
    size_t nin = (size_t)B * C * HW, nout = (size_t)B * (C + K) * HW;
    concat_desc d = {.in = tensor_f32(B, C, HW, 1), .nclasses = K};
    float *in = host_random(nin, 21, 1.0f, 0.0f), *out = malloc(nout * 4), *back = malloc(nin * 4);
    int32_t *cls = malloc((size_t)B * sizeof(int32_t));
    for (int b = 0; b < B; b++) cls[b] = (b * 7 + 3) % K;
    cpu->concat_onehot(cpu, out, in, cls, &d);
    cpu->slice_channels(cpu, back, out, &d);
    float *d_in = to_gpu(in, nin), *d_out = dev_alloc(nout), *d_back = dev_alloc(nin);
    int32_t *d_cls = dev_bytes((size_t)B * sizeof(int32_t));
    gpu->upload(gpu, d_cls, cls, (size_t)B * sizeof(int32_t));
    gpu->concat_onehot(gpu, d_out, d_in, d_cls, &d);
    gpu->slice_channels(gpu, d_back, d_out, &d);
    char label[64];
    snprintf(label, sizeof label, "concat_onehot B%d C%d HW%d K%d", B, C, HW, K);
    compare_dev(label, d_out, out, nout, 0, 0);
    snprintf(label, sizeof label, "slice_channels B%d C%d HW%d K%d", B, C, HW, K);
    compare_dev(label, d_back, back, nin, 0, 0);
    void *bufs[] = {d_in, d_out, d_back, d_cls};
    release_all(bufs, 4);
    free(in); free(out); free(back); free(cls);
}

// --- Inception-v3's pools, resize and concatenation copies -----------------------------------------
// Both backends evaluate the same formulas of formulas.h (pool_value, resize_value) with IEEE-rounded
// hd_* operations, and copy_2d only moves bytes: every result is expected bit for bit.

static int quick;
static const int inception_batches[] = {1, 3, 65};

// One pool on both backends; inputs centred below 0, so that a window of negative values shows
// whether padding ever wins a max.
static void test_pool(const pool_desc *d) {
    const size_t nin = tensor_numel(&d->in), nout = tensor_numel(&d->out);
    float *in = host_random(nin, 71, 1.0f, -0.25f), *out = malloc(nout * sizeof(float));
    float *d_in = to_gpu(in, nin), *d_out = dev_alloc(nout);
    cpu->pool_forward(cpu, out, in, d);
    gpu->pool_forward(gpu, d_out, d_in, d);
    char label[128];
    snprintf(label, sizeof label, "pool %s%s %dx%d/%d p%d B%d %dx%dx%d->%dx%d", d->kind == POOL_MAX ? "max" : "avg",
             d->kind == POOL_AVG ? (d->count_pad ? "+pad" : "-pad") : "", d->kh, d->kw, d->sh, d->ph, d->in.n, d->in.c,
             d->in.h, d->in.w, d->out.h, d->out.w);
    compare_exact(label, d_out, out, nout);
    void *bufs[] = {d_in, d_out};
    release_all(bufs, 2);
    free(in); free(out);
}

// Every distinct pool of the Inception graph (the shapes after the resize do not depend on the
// input's): 3x3 stride 2 max pools, 3x3 stride 1 pad 1 average pools without the padding, Mixed_7c's
// 3x3 stride 1 pad 1 max pool, the final 8x8 average pool.
static void run_pool(void) {
    static inception_graph g;
    inception_graph_build(&g, 3, INCEPTION_SIZE, INCEPTION_SIZE);
    for (int b = 0; b < 3; b++) {
        const int B = inception_batches[b];
        if (quick && B > 3) continue;
        for (int i = 0; i < g.nsteps; i++) {
            const inception_step *s = &g.steps[i], *t = NULL;
            if (s->kind != INC_POOL) continue;
            for (int j = 0; j < i && !t; j++) {   // one case per distinct pool
                const inception_step *u = &g.steps[j];
                if (u->kind == INC_POOL && u->pool == s->pool && u->k == s->k && u->stride == s->stride &&
                    u->pad == s->pad && u->count_pad == s->count_pad && g.c[u->in] == g.c[s->in] &&
                    g.h[u->in] == g.h[s->in] && g.w[u->in] == g.w[s->in])
                    t = u;
            }
            if (t) continue;
            if (quick && B > 1 && (size_t)g.c[s->in] * g.h[s->in] * g.w[s->in] > 500000) continue;
            pool_desc d = pool_desc_make(s->pool, tensor_f32(B, g.c[s->in], g.h[s->in], g.w[s->in]), s->k, s->stride,
                                         s->pad, s->count_pad);
            CHECK(d.out.c == g.c[s->out] && d.out.h == g.h[s->out] && d.out.w == g.w[s->out]);
            test_pool(&d);
        }
    }
}

// The resize step of the graph for B images of c x h x w: scale * v + shift of the bilinear value;
// quantize reads the [-1, 1] inputs as 8-bit pixels (inputs a little past the range: the clamp).
static void test_resize(int B, int c, int h, int w, int quantize, float scale, float shift) {
    static inception_graph g;
    inception_graph_build(&g, c, h, w);
    const inception_step *s = NULL;
    for (int i = 0; i < g.nsteps && !s; i++) if (g.steps[i].kind == INC_RESIZE) s = &g.steps[i];
    if (!s) { fprintf(stderr, "FAIL no resize step in the Inception graph\n"); test_failures++; return; }
    resize_desc d = {.in = tensor_f32(B, g.c[s->in], g.h[s->in], g.w[s->in]),
                     .out = tensor_f32(B, g.c[s->out], g.h[s->out], g.w[s->out]), .scale = scale, .shift = shift,
                     .quantize = quantize};
    const size_t nin = tensor_numel(&d.in), nout = tensor_numel(&d.out);
    // [0, 1] images for scale 2, shift -1 without quantize; [-1, 1] ones (to +-1.05) otherwise.
    const int unit = !quantize && scale == 2.0f;
    float *in = host_random(nin, 81 + (unsigned)c, unit ? 0.5f : 1.05f, unit ? 0.5f : 0.0f);
    float *out = malloc(nout * sizeof(float)), *d_in = to_gpu(in, nin), *d_out = dev_alloc(nout);
    cpu->resize_bilinear(cpu, out, in, &d);
    gpu->resize_bilinear(gpu, d_out, d_in, &d);
    char label[128];
    snprintf(label, sizeof label, "resize B%d %dx%dx%d->%dx%dx%d %s*%g%+g", B, d.in.c, h, w, d.out.c, d.out.h, d.out.w,
             quantize ? "png " : "", (double)scale, (double)shift);
    compare_exact(label, d_out, out, nout);
    void *bufs[] = {d_in, d_out};
    release_all(bufs, 2);
    free(in); free(out);
}

// The images FID reads (32, 64 and 128 px samples and datasets, gray ones replicated, a non-square
// one, one already at 299 and one to shrink), in the three input mappings: [0, 1] images (2, -1),
// [-1, 1] images (1, 0) and [-1, 1] images read as PNG pixels (quantize, 2, -1). Batch 65 (and
// batch 3 in the quick run) runs one mapping per shape, in turn.
static void run_resize(void) {
    static const int shapes[][3] = {{1, 32, 32}, {3, 32, 32}, {1, 64, 64}, {3, 64, 64},
                                    {3, 64, 48}, {3, 128, 128}, {3, 299, 299}, {3, 384, 512}};
    static const struct { int quantize; float scale, shift; } maps[] = {{0, 2.0f, -1.0f}, {0, 1.0f, 0.0f}, {1, 2.0f, -1.0f}};
    const int nshapes = (int)(sizeof shapes / sizeof *shapes);
    for (int b = 0; b < 3; b++) {
        const int B = inception_batches[b];
        if (quick && B > 3) continue;
        for (int k = 0; k < nshapes; k++)
            for (int m = 0; m < 3; m++)
                if (B == 1 || (B == 3 && !quick) || m == k % 3)
                    test_resize(B, shapes[k][0], shapes[k][1], shapes[k][2], maps[m].quantize, maps[m].scale,
                                maps[m].shift);
    }
}

// copy_2d as the concatenations of the graph use it (each distinct one): B rows of one branch's
// channels into their place among out's channels (the rest of out keeps its values, checked too);
// and a byte copy of odd widths and pitches.
static void run_copy(void) {
    static inception_graph g;
    inception_graph_build(&g, 3, INCEPTION_SIZE, INCEPTION_SIZE);
    char label[128];
    for (int b = 0; b < 3; b++) {
        const int B = inception_batches[b];
        if (quick && B > 3) continue;
        for (int i = 0; i < g.nsteps; i++) {
            const inception_step *s = &g.steps[i];
            if (s->kind != INC_COPY) continue;
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) {   // one case per distinct copy
                const inception_step *u = &g.steps[j];
                seen = u->kind == INC_COPY && u->offset == s->offset && g.c[u->in] == g.c[s->in] &&
                       g.c[u->out] == g.c[s->out] && g.h[u->in] == g.h[s->in] && g.w[u->in] == g.w[s->in];
            }
            if (seen) continue;
            const size_t hw = (size_t)g.h[s->in] * g.w[s->in], cin = (size_t)g.c[s->in], cout = (size_t)g.c[s->out];
            const size_t nin = B * cin * hw, nout = B * cout * hw;
            float *src = host_random(nin, 91, 1.0f, 0.0f), *dst = host_random(nout, 92, 1.0f, 0.0f);
            float *d_src = to_gpu(src, nin), *d_dst = to_gpu(dst, nout);
            const size_t off = (size_t)s->offset * hw;
            cpu->copy_2d(cpu, dst + off, cout * hw * sizeof(float), src, cin * hw * sizeof(float), cin * hw * sizeof(float),
                         (size_t)B);
            gpu->copy_2d(gpu, d_dst + off, cout * hw * sizeof(float), d_src, cin * hw * sizeof(float),
                         cin * hw * sizeof(float), (size_t)B);
            snprintf(label, sizeof label, "copy_2d B%d %zux%dx%d -> channels %d.. of %zu", B, cin, g.h[s->in], g.w[s->in],
                     s->offset, cout);
            compare_exact(label, d_dst, dst, nout);
            void *bufs[] = {d_src, d_dst};
            release_all(bufs, 2);
            free(src); free(dst);
        }
    }
    // Bytes: 7 rows of 13 bytes, from rows 29 bytes apart to rows 17 apart, at odd offsets.
    enum { ROWS = 7, WIDTH = 13, SP = 29, DP = 17, SRC = ROWS * SP + 3, DST = ROWS * DP + 5 };
    uint8_t src[SRC], dst[DST], got[DST];
    for (int i = 0; i < SRC; i++) src[i] = (uint8_t)(i * 37 + 11);
    for (int i = 0; i < DST; i++) dst[i] = (uint8_t)(i * 53 + 7);
    uint8_t *d_src = dev_bytes(SRC), *d_dst = dev_bytes(DST);
    gpu->upload(gpu, d_src, src, SRC);
    gpu->upload(gpu, d_dst, dst, DST);
    cpu->copy_2d(cpu, dst + 5, DP, src + 3, SP, WIDTH, ROWS);
    gpu->copy_2d(gpu, d_dst + 5, DP, d_src + 3, SP, WIDTH, ROWS);
    gpu->copy_2d(gpu, d_dst, DP, d_src, SP, 0, ROWS);   // nothing to copy: no change, no error
    cpu->copy_2d(cpu, dst, DP, src, SP, WIDTH, 0);
    gpu->copy_2d(gpu, d_dst, DP, d_src, SP, WIDTH, 0);
    gpu->download(gpu, got, d_dst, DST);
    const int same = !memcmp(got, dst, DST);
    printf("%-44s n=%-8d %s\n", "copy_2d bytes 7 rows x 13, pitches 29 -> 17", DST, same ? "ok" : "MISMATCH");
    CHECK(same);
    void *bufs[] = {d_src, d_dst};
    release_all(bufs, 2);
}

static void run_layers(int with_bn) {
    const int sizes[] = {32, 64, 128}, batches[] = {1, 3, 65};
    for (int s = 0; s < 3; s++)
        for (int b = 0; b < 3; b++) {
            if (quick && !(sizes[s] == 32 || (sizes[s] == 64 && batches[b] == 3))) continue;
            test_net_shapes(sizes[s], batches[b], with_bn);
        }
}

static void run_conv(void) { run_layers(0); }
static void run_batchnorm(void) {
    test_bn_sync(3, 64, 256, 0.0f, "G");
    test_bn_sync(65, 128, 64, 0.2f, "D");
    test_bn_sync(2, 8, 16, 1.0f, "plain");
    const int sizes[] = {32, 64, 128}, batches[] = {1, 3, 65};
    dcgan_config cfg = {.nc = 3, .nz = 100, .ngf = 64, .ndf = 64};
    for (int s = 0; s < 3; s++)
        for (int b = 0; b < 3; b++) {
            if (quick && !(sizes[s] == 32 || (sizes[s] == 64 && batches[b] == 3))) continue;
            cfg.size = sizes[s];
            for (int gen = 1; gen >= 0; gen--) {
                dcgan_net net;
                if (dcgan_net_build(&net, &cfg, gen, cpu)) continue;
                char tag[32];
                snprintf(tag, sizeof tag, "%s%d", gen ? "G" : "D", sizes[s]);
                for (int i = 0; i < net.nlayers; i++) {
                    const layer *l = &net.layers[i];
                    if (l->kind != LAYER_BN) continue;
                    test_bn(batches[b], l->C, l->H * l->W, gen ? 0.0f : 0.2f, tag);
                    if (batches[b] == 3) test_bn(batches[b], l->C, l->H * l->W, 1.0f, tag);   // plain batchnorm too
                }
                dcgan_net_free(&net);
            }
        }
}
static void run_activation(void) { test_activations(1); test_activations(100003); }
static void run_loss(void) { test_losses(1); test_losses(3); test_losses(65); test_losses(1000); }
static void run_optim(void) { test_optimisers(3); test_optimisers(1000003); }
static void run_concat(void) { test_class_planes(1, 100, 1, 10); test_class_planes(65, 3, 64 * 64, 10); }

static const struct { const char *name; void (*run)(void); } groups[] = {
    {"conv", run_conv}, {"dense", run_conv}, {"batchnorm", run_batchnorm}, {"activation", run_activation},
    {"loss", run_loss}, {"optim", run_optim}, {"noise", test_noise}, {"data", test_data}, {"concat", run_concat},
    {"pool", run_pool}, {"resize", run_resize}, {"copy", run_copy},
};

// Whether the comma-separated list ops names the family `name` (every family when ops is NULL).
static int op_listed(const char *ops, const char *name) {
    if (!ops) return 1;
    const size_t n = strlen(name);
    for (const char *p = ops;; p++) {
        const size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len;
        if (!*p) return 0;
    }
}

int main(int argc, char **argv) {
    const char *op = NULL, *math = "fma";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--op") && i + 1 < argc) op = argv[++i];
        else if (!strcmp(argv[i], "--math") && i + 1 < argc) math = argv[++i];
        else { fprintf(stderr, "usage: test_gpu_ops [--op NAME[,NAME...]] [--math fma|default]\n"); return 2; }
    }
    if (strcmp(math, "fma") && strcmp(math, "default")) { fprintf(stderr, "--math: fma or default\n"); return 2; }
    for (const char *p = op; p && *p;) {   // every name of the list is a family
        const size_t len = strcspn(p, ",");
        int known = 0;
        for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
            known |= strlen(groups[g].name) == len && !strncmp(p, groups[g].name, len);
        if (!known) { fprintf(stderr, "--op: unknown op '%.*s'\n", (int)len, p); return 2; }
        p += len + (p[len] == ',');
    }
    setenv("DCGAN_CUDNN_MATH", math, 1);
    char err[256];
    cpu = backend_cpu();
    gpu = backend_select("cuda", NULL, err, sizeof err);
    if (!gpu) return test_skip_or_fail(err);
    test_print_backend(gpu);
    const char *q = getenv("DCGAN_TEST_QUICK");
    quick = q && !strcmp(q, "1");
    if (!strcmp(math, "default")) {
        // The production math: every conv and dense layer of the 64 px model at batch 64 and 128.
        conv_tol = TF32_TOL;
        test_net_shapes(64, 64, 0);
        if (!quick) test_net_shapes(64, 128, 0);
        return test_summary("test_gpu_ops --math default");
    }
    conv_tol = CONV_TOL;
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        // conv and dense share one walk: dense runs it only when conv is not listed.
        if (!op_listed(op, groups[g].name) || (g == 1 && op_listed(op, "conv"))) continue;
        printf("=== %s\n", groups[g].name);
        groups[g].run();
    }
    return test_summary("test_gpu_ops");
}
