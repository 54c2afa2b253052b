// Every op of the CUDA backend against the CPU reference op on the same random inputs, at odd
// batch sizes (1, 3, 65) and every layer shape of the DCGAN at 32, 64 and 128 px (ngf = ndf = 64,
// nc = 3, nz = 100). Prints max abs / rel error per tensor. cuDNN and cuBLAS run with FMA math
// (no TF32) so that fp32 tolerances apply. Exits 77 without a CUDA device.
// DCGAN_TEST_QUICK=1 (used under compute-sanitizer) keeps 32 px at every batch and 64 px at batch 3.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/backend.h"
#include "dcgan/model.h"
#include "test_util.h"

static const dcgan_backend *cpu, *gpu;

static float *host_random(size_t n, unsigned seed, float scale, float offset) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    fill_random(x, n, seed, scale);
    for (size_t i = 0; i < n; i++) x[i] += offset;
    return x;
}

static float *to_gpu(const float *h, size_t n) {
    float *d = gpu->alloc((n ? n : 1) * sizeof(float));
    if (!d) { fprintf(stderr, "FAIL out of GPU memory (%zu floats)\n", n); exit(1); }
    gpu->upload(d, h, n * sizeof(float));
    return d;
}

static float *dev_alloc(size_t n) {
    float *d = gpu->alloc((n ? n : 1) * sizeof(float));
    if (!d) { fprintf(stderr, "FAIL out of GPU memory (%zu floats)\n", n); exit(1); }
    return d;
}

static float *from_gpu(const float *d, size_t n) {
    float *h = malloc((n ? n : 1) * sizeof(float));
    gpu->download(h, d, n * sizeof(float));
    return h;
}

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

// --- convolutions --------------------------------------------------------------------------------
// Tolerance: each output is a float32 sum of C*K*K (forward), OC*K*K (input gradient) or B*OH*OW
// (weight gradient) products; a different summation order (or cuDNN's Winograd/FFT transforms)
// moves a sum by a few 1e-7 of the magnitudes summed, i.e. ~1e-6..1e-5 of the largest output for
// the lengths here. 1e-4 of the tensor's max leaves a 10x margin and still catches any indexing
// or layout error (those are O(1) wrong).
#define CONV_TOL 1e-4

static void test_conv(int transposed, const conv_geom *g, const char *tag) {
    size_t nin = (size_t)g->B * g->C * g->H * g->W, nout = (size_t)g->B * g->OC * g->OH * g->OW;
    size_t nw = (size_t)g->OC * g->C * g->K * g->K;
    float *in = host_random(nin, 11, 1.0f, 0.0f), *w = host_random(nw, 12, 0.05f, 0.0f);
    float *dout = host_random(nout, 13, 1.0f, 0.0f), *dw0 = host_random(nw, 14, 0.1f, 0.0f);
    float *out = malloc(nout * sizeof(float)), *din = malloc(nin * sizeof(float)), *dw = malloc(nw * sizeof(float));
    float *work = malloc((conv_workspace_floats(g) + 1) * sizeof(float));
    memcpy(dw, dw0, nw * sizeof(float));
    float *d_in = to_gpu(in, nin), *d_w = to_gpu(w, nw), *d_dout = to_gpu(dout, nout), *d_dw = to_gpu(dw0, nw);
    float *d_out = dev_alloc(nout), *d_din = dev_alloc(nin);
    gpu->conv_workspace_floats(g);   // plans the shape as net_exec_init would
    char label[160];
    const char *op = transposed ? "convt" : "conv";
    if (transposed) {
        cpu->convt2d_forward(out, in, w, g, work);
        gpu->convt2d_forward(d_out, d_in, d_w, g, NULL);
        cpu->convt2d_backward_data(din, dout, w, g, work);
        gpu->convt2d_backward_data(d_din, d_dout, d_w, g, NULL);
        cpu->convt2d_backward_filter(dw, dout, in, g, work);
        gpu->convt2d_backward_filter(d_dw, d_dout, d_in, g, NULL);
    } else {
        cpu->conv2d_forward(out, in, w, g, work);
        gpu->conv2d_forward(d_out, d_in, d_w, g, NULL);
        cpu->conv2d_backward_data(din, dout, w, g, work);
        gpu->conv2d_backward_data(d_din, d_dout, d_w, g, NULL);
        cpu->conv2d_backward_filter(dw, dout, in, g, work);
        gpu->conv2d_backward_filter(d_dw, d_dout, d_in, g, NULL);
    }
    snprintf(label, sizeof label, "%s %s B%d %dx%dx%d->%dx%dx%d fwd", tag, op, g->B, g->C, g->H, g->W, g->OC, g->OH, g->OW);
    compare_dev(label, d_out, out, nout, CONV_TOL, 0);
    snprintf(label, sizeof label, "%s %s B%d %dx%dx%d->%dx%dx%d bwd-data", tag, op, g->B, g->C, g->H, g->W, g->OC, g->OH, g->OW);
    compare_dev(label, d_din, din, nin, CONV_TOL, 0);
    // dw accumulates onto dw0 (backward ops add into parameter gradients)
    snprintf(label, sizeof label, "%s %s B%d %dx%dx%d->%dx%dx%d bwd-filter", tag, op, g->B, g->C, g->H, g->W, g->OC, g->OH, g->OW);
    compare_dev(label, d_dw, dw, nw, CONV_TOL, 0);
    float *bufs[] = {d_in, d_w, d_dout, d_dw, d_out, d_din};
    for (int i = 0; i < 6; i++) gpu->release(bufs[i]);
    free(in); free(w); free(dout); free(dw0); free(out); free(din); free(dw); free(work);
}

// --- batchnorm -----------------------------------------------------------------------------------
// The GPU merges per-thread float Welford states in double; the CPU sums in double (two passes).
// Means and 1/std then agree to ~1e-7 relative, the outputs to a few 1e-7 of their range: 2e-5 of
// the tensor's max. Gradient sums over N = B*HW values are float partials merged in double on both
// sides, in a different order: an error ~1e-7 of sum |terms| ~ N * 1e-7; allowed 2e-7 * N + 1e-6.
static void test_bn(int B, int C, int HW, float slope, const char *tag) {
    size_t n = (size_t)B * C * HW;
    float *in = host_random(n, 21, 1.0f, 0.3f), *dout = host_random(n, 22, 1.0f, 0.0f);
    float *gamma = host_random((size_t)C, 23, 0.1f, 1.0f), *beta = host_random((size_t)C, 24, 0.1f, 0.0f);
    float *rstat = host_random(2 * (size_t)C, 25, 0.1f, 0.5f);
    float *out = malloc(n * sizeof(float)), *din = malloc(n * sizeof(float));
    float *mean = malloc(C * sizeof(float)), *invstd = malloc(C * sizeof(float));
    float *dg = host_random((size_t)C, 26, 0.1f, 0.0f), *db = host_random((size_t)C, 27, 0.1f, 0.0f);
    float *d_in = to_gpu(in, n), *d_dout = to_gpu(dout, n), *d_gamma = to_gpu(gamma, C), *d_beta = to_gpu(beta, C);
    float *d_rstat = to_gpu(rstat, 2 * (size_t)C), *d_out = dev_alloc(n), *d_din = dev_alloc(n);
    float *d_mean = dev_alloc(C), *d_invstd = dev_alloc(C), *d_dg = to_gpu(dg, C), *d_db = to_gpu(db, C);
    char label[160];
    const double N = (double)B * HW;
#define LBL(what) (snprintf(label, sizeof label, "%s bn B%d C%d HW%d a%.1f %s", tag, B, C, HW, slope, what), label)
    cpu->batchnorm_forward_train(out, mean, invstd, rstat, rstat + C, in, gamma, beta, B, C, HW, 0.1f, 1e-5f, slope);
    gpu->batchnorm_forward_train(d_out, d_mean, d_invstd, d_rstat, d_rstat + C, d_in, d_gamma, d_beta, B, C, HW, 0.1f,
                                 1e-5f, slope);
    compare_dev(LBL("train out"), d_out, out, n, 2e-5, 0);
    compare_dev(LBL("mean"), d_mean, mean, C, 1e-6, 1e-5);
    compare_dev(LBL("invstd"), d_invstd, invstd, C, 0, 1e-5);
    compare_dev(LBL("running"), d_rstat, rstat, 2 * (size_t)C, 0, 1e-5);
    // Eval with the updated running statistics.
    cpu->batchnorm_forward_eval(din, in, gamma, beta, rstat, rstat + C, B, C, HW, 1e-5f, slope);
    gpu->batchnorm_forward_eval(d_din, d_in, d_gamma, d_beta, d_rstat, d_rstat + C, B, C, HW, 1e-5f, slope);
    compare_dev(LBL("eval out"), d_din, din, n, 2e-5, 0);
    // Backward: both sides get the CPU's forward output, so the activation's slope is chosen by the
    // same signs (values within rounding of 0 could otherwise flip).
    gpu->upload(d_out, out, n * sizeof(float));
    cpu->batchnorm_backward(din, dg, db, dout, slope != 1.0f ? out : NULL, in, mean, invstd, gamma, B, C, HW, slope);
    gpu->batchnorm_backward(d_din, d_dg, d_db, d_dout, slope != 1.0f ? d_out : NULL, d_in, d_mean, d_invstd, d_gamma,
                            B, C, HW, slope);
    compare_dev(LBL("din"), d_din, din, n, 1e-4, 0);
    float *got = from_gpu(d_dg, C);
    check_close(LBL("dgamma"), got, dg, C, 1e-6 + 2e-7 * N, 1e-5);
    free(got);
    got = from_gpu(d_db, C);
    check_close(LBL("dbeta"), got, db, C, 1e-6 + 2e-7 * N, 1e-5);
    free(got);
#undef LBL
    float *bufs[] = {d_in, d_dout, d_gamma, d_beta, d_rstat, d_out, d_din, d_mean, d_invstd, d_dg, d_db};
    for (int i = 0; i < 11; i++) gpu->release(bufs[i]);
    float *hb[] = {in, dout, gamma, beta, rstat, out, din, mean, invstd, dg, db};
    for (int i = 0; i < 11; i++) free(hb[i]);
}

// --- element-wise ops, losses, optimisers, noise, data -------------------------------------------
static void test_activations(size_t n) {
    float *in = host_random(n, 31, 3.0f, 0.0f), *dout = host_random(n, 32, 1.0f, 0.0f), *out = malloc(n * 4), *din = malloc(n * 4);
    float *d_in = to_gpu(in, n), *d_dout = to_gpu(dout, n), *d_out = dev_alloc(n), *d_din = dev_alloc(n);
    char label[96];
    // ReLU and leaky ReLU are exact; tanhf differs from glibc's by at most 2 ulp (< 2.4e-7 for |y| < 1).
    cpu->relu_forward(out, in, n); gpu->relu_forward(d_out, d_in, n);
    snprintf(label, sizeof label, "relu fwd n%zu", n); compare_dev(label, d_out, out, n, 0, 0);
    cpu->relu_backward(din, dout, out, n); gpu->relu_backward(d_din, d_dout, d_out, n);
    snprintf(label, sizeof label, "relu bwd n%zu", n); compare_dev(label, d_din, din, n, 0, 0);
    cpu->leaky_relu_forward(out, in, n, 0.2f); gpu->leaky_relu_forward(d_out, d_in, n, 0.2f);
    snprintf(label, sizeof label, "leaky relu fwd n%zu", n); compare_dev(label, d_out, out, n, 0, 0);
    cpu->leaky_relu_backward(din, dout, in, n, 0.2f); gpu->leaky_relu_backward(d_din, d_dout, d_in, n, 0.2f);
    snprintf(label, sizeof label, "leaky relu bwd n%zu", n); compare_dev(label, d_din, din, n, 0, 0);
    cpu->tanh_forward(out, in, n); gpu->tanh_forward(d_out, d_in, n);
    snprintf(label, sizeof label, "tanh fwd n%zu", n); compare_dev(label, d_out, out, n, 3e-7, 0);
    gpu->upload(d_out, out, n * 4);   // the same saved output on both sides
    cpu->tanh_backward(din, dout, out, n); gpu->tanh_backward(d_din, d_dout, d_out, n);
    snprintf(label, sizeof label, "tanh bwd n%zu", n); compare_dev(label, d_din, din, n, 0, 0);
    gpu->release(d_in); gpu->release(d_dout); gpu->release(d_out); gpu->release(d_din);
    free(in); free(dout); free(out); free(din);
}

static void test_losses(int B) {
    float *logits = host_random((size_t)B, 41, 4.0f, 0.0f), *d_logits = to_gpu(logits, B);
    float *dl = malloc(B * 4), *d_dl = dev_alloc(B), stats[2], *d_stats = dev_alloc(2);
    char label[96];
    for (int k = 0; k < LOSS_COUNT; k++)
        for (int role = 0; role < 3; role++) {
            // Both sides compute in double; only exp/log1p's last-ulp differences reach the float results.
            if (role < 2) { cpu->loss_d(dl, stats, logits, B, (gan_loss)k, role); gpu->loss_d(d_dl, d_stats, d_logits, B, (gan_loss)k, role); }
            else { cpu->loss_g(dl, stats, logits, B, (gan_loss)k); gpu->loss_g(d_dl, d_stats, d_logits, B, (gan_loss)k); }
            const char *r = role == 0 ? "D fake" : role == 1 ? "D real" : "G";
            snprintf(label, sizeof label, "loss %s %s B%d dlogits", gan_loss_name((gan_loss)k), r, B);
            compare_dev(label, d_dl, dl, B, 1e-7, 1e-6);
            snprintf(label, sizeof label, "loss %s %s B%d loss,D", gan_loss_name((gan_loss)k), r, B);
            compare_dev(label, d_stats, stats, 2, 1e-7, 1e-6);
        }
    gpu->release(d_logits); gpu->release(d_dl); gpu->release(d_stats);
    free(logits); free(dl);
}

static void test_optimisers(size_t n) {
    float *p = host_random(n, 51, 0.05f, 0.0f), *m = calloc(n, 4), *v = calloc(n, 4);
    float *d_p = to_gpu(p, n), *d_m = to_gpu(m, n), *d_v = to_gpu(v, n);
    char label[96];
    // Same float operations in the same order with IEEE rounding on both sides: expected identical.
    for (long t = 1; t <= 3; t++) {
        float *g = host_random(n, 52 + (unsigned)t, t == 2 ? 1e-6f : 0.1f, 0.0f), *d_g = to_gpu(g, n);
        cpu->adam_update(p, g, m, v, n, 2e-4f, 0.5f, 0.999f, 1e-8f, t);
        gpu->adam_update(d_p, d_g, d_m, d_v, n, 2e-4f, 0.5f, 0.999f, 1e-8f, t);
        gpu->release(d_g);
        free(g);
    }
    snprintf(label, sizeof label, "adam n%zu param", n); compare_dev(label, d_p, p, n, 0, 1e-6);
    snprintf(label, sizeof label, "adam n%zu m", n); compare_dev(label, d_m, m, n, 0, 1e-6);
    snprintf(label, sizeof label, "adam n%zu v", n); compare_dev(label, d_v, v, n, 0, 1e-6);
    for (int t = 1; t <= 3; t++) {
        float *g = host_random(n, 60 + (unsigned)t, 0.1f, 0.0f), *d_g = to_gpu(g, n);
        cpu->rmsprop_update(p, g, m, n, 5e-5f, 0.99f, 1e-8f);
        gpu->rmsprop_update(d_p, d_g, d_m, n, 5e-5f, 0.99f, 1e-8f);
        cpu->clip_values(p, n, 0.01f);
        gpu->clip_values(d_p, n, 0.01f);
        gpu->release(d_g);
        free(g);
    }
    snprintf(label, sizeof label, "rmsprop+clip n%zu param", n); compare_dev(label, d_p, p, n, 0, 1e-6);
    snprintf(label, sizeof label, "rmsprop n%zu sq", n); compare_dev(label, d_m, m, n, 0, 1e-6);
    gpu->release(d_p); gpu->release(d_m); gpu->release(d_v);
    free(p); free(m); free(v);
}

static void test_noise_and_data(void) {
    size_t n = 10007;
    float *want = malloc(n * 4), *d = dev_alloc(n);
    // Same Philox words; logf/sinf/cosf of CUDA and glibc differ by <= 2 ulp: < 2e-6 for |z| < 6.
    cpu->fill_normal(want, n, 42, 3, 12, 0.5f, 2.0f);
    gpu->fill_normal(d, n, 42, 3, 12, 0.5f, 2.0f);
    float *got = from_gpu(d, n);
    check_close("philox normal n10007", got, want, n, 5e-6, 1e-6);
    free(got);
    gpu->release(d);
    free(want);
    // Gather + normalise: bit-identical float arithmetic.
    int N = 37, B = 5;
    size_t per = 3 * 9 * 9;
    uint8_t *pix = malloc(N * per);
    for (size_t i = 0; i < N * per; i++) pix[i] = (uint8_t)(i * 7 + i / 13);
    uint32_t idx[5] = {36, 0, 17, 17, 5};
    float *out = malloc(B * per * 4);
    cpu->gather_normalize(out, pix, idx, B, per);
    uint8_t *d_pix = gpu->alloc(N * per);
    uint32_t *d_idx = gpu->alloc(sizeof idx);
    float *d_out = gpu->alloc(B * per * 4);
    gpu->upload(d_pix, pix, N * per);
    gpu->upload(d_idx, idx, sizeof idx);
    gpu->gather_normalize(d_out, d_pix, d_idx, B, per);
    compare_dev("gather+normalise B5", d_out, out, B * per, 0, 0);
    gpu->release(d_pix); gpu->release(d_idx); gpu->release(d_out);
    free(pix); free(out);
}

// Class planes of the conditional nets: exact copies, so bit-identical.
static void test_class_planes(int B, int C, int HW, int K) {
    size_t nin = (size_t)B * C * HW, nout = (size_t)B * (C + K) * HW;
    float *in = host_random(nin, 21, 1.0f, 0.0f), *out = malloc(nout * 4), *back = malloc(nin * 4);
    int32_t *cls = malloc((size_t)B * sizeof(int32_t));
    for (int b = 0; b < B; b++) cls[b] = (b * 7 + 3) % K;
    cpu->concat_onehot(out, in, cls, B, C, HW, K);
    cpu->slice_channels(back, out, B, C, C + K, HW);
    float *d_in = to_gpu(in, nin), *d_out = dev_alloc(nout), *d_back = dev_alloc(nin);
    int32_t *d_cls = gpu->alloc((size_t)B * sizeof(int32_t));
    gpu->upload(d_cls, cls, (size_t)B * sizeof(int32_t));
    gpu->concat_onehot(d_out, d_in, d_cls, B, C, HW, K);
    gpu->slice_channels(d_back, d_out, B, C, C + K, HW);
    char label[64];
    snprintf(label, sizeof label, "concat_onehot B%d C%d HW%d K%d", B, C, HW, K);
    compare_dev(label, d_out, out, nout, 0, 0);
    snprintf(label, sizeof label, "slice_channels B%d C%d HW%d K%d", B, C, HW, K);
    compare_dev(label, d_back, back, nin, 0, 0);
    gpu->release(d_in); gpu->release(d_out); gpu->release(d_back); gpu->release(d_cls);
    free(in); free(out); free(back); free(cls);
}

static void test_net_shapes(int size, int B) {
    dcgan_config cfg = {.size = size, .nc = 3, .nz = 100, .ngf = 64, .ndf = 64};
    for (int gen = 1; gen >= 0; gen--) {
        dcgan_net net;
        if (dcgan_net_build(&net, &cfg, gen, cpu)) { fprintf(stderr, "FAIL net build\n"); test_failures++; return; }
        char tag[32];
        snprintf(tag, sizeof tag, "%s%d", gen ? "G" : "D", size);
        for (int i = 0; i < net.nlayers; i++) {
            const layer *l = &net.layers[i];
            if (l->kind == LAYER_CONV || l->kind == LAYER_CONVT) {
                conv_geom g = l->kind == LAYER_CONV ? conv2d_geom(B, l->C, l->H, l->W, l->OC, l->K, l->stride, l->pad)
                                                    : convt2d_geom(B, l->C, l->H, l->W, l->OC, l->K, l->stride, l->pad);
                test_conv(l->kind == LAYER_CONVT, &g, tag);
            } else if (l->kind == LAYER_BN) {
                test_bn(B, l->C, l->H * l->W, gen ? 0.0f : 0.2f, tag);
                if (B == 3) test_bn(B, l->C, l->H * l->W, 1.0f, tag);   // plain batchnorm too
            }
        }
        dcgan_net_free(&net);
    }
}

int main(void) {
    setenv("DCGAN_CUDNN_MATH", "fma", 1);   // no TF32: fp32 tolerances
    char err[256];
    cpu = backend_cpu();
    gpu = backend_select("cuda", NULL, err, sizeof err);
    if (!gpu) { printf("skipped: %s\n", err); return 77; }
    const char *q = getenv("DCGAN_TEST_QUICK");
    int quick = q && !strcmp(q, "1");
    test_noise_and_data();
    test_class_planes(1, 100, 1, 10);
    test_class_planes(65, 3, 64 * 64, 10);
    test_activations(1);
    test_activations(100003);
    test_losses(1);
    test_losses(3);
    test_losses(65);
    test_losses(1000);
    test_optimisers(3);
    test_optimisers(1000003);
    const int sizes[] = {32, 64, 128}, batches[] = {1, 3, 65};
    for (int s = 0; s < 3; s++)
        for (int b = 0; b < 3; b++) {
            if (quick && !(sizes[s] == 32 || (sizes[s] == 64 && batches[b] == 3))) continue;
            test_net_shapes(sizes[s], batches[b]);
        }
    return test_summary("test_gpu_ops");
}
