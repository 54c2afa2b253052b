// The oneDNN backend against the reference (cpu-ref): every convolution, transposed convolution
// and dense shape of the DCGAN, forward and both backward passes, and batchnorm and the
// activations, in the blocked layout, fp32 and bf16; the weight copies following the writes;
// 20 training iterations against the reference, both losses, with the bounds of train_compare.c
// (what another summation order does to a GAN's trajectory, as for test_gpu_train); 200 iterations
// in bf16 against fp32 from one seed; a bf16 run resumed bit for bit; and bf16 refused, in one
// line, where the CPU has no AVX512_BF16.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/cpu.h"
#include "dcgan/train.h"
#include "test_util.h"
#include "train_compare.h"
#ifdef DCGAN_HAVE_ONEDNN
#include "dcgan/onednn.h"

static const dcgan_backend *be, *ref;

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

// Tolerances. fp32: oneDNN sums in another order than OpenBLAS, so each output may differ by a
// few ulps of the sum's largest partial term: 1e-5 of the largest output. bf16: inputs and
// weights carry 8 significant bits, a relative error of at most 2^-9 each; a sum of F products of
// random sign then errs by about 2^-8 sqrt(F) terms while being about sqrt(F) terms large, ~0.4%
// of the output's scale, and the bf16 output itself rounds by 2^-9: 2% of the largest output
// leaves a margin of four.
static double tol_of(dcgan_dtype dt) { return dt == DTYPE_BF16 ? 2e-2 : 1e-5; }

static int close_to(const char *name, const float *got, const float *want, size_t n, dcgan_dtype dt) {
    return check_close(name, got, want, n, tol_of(dt) * max_abs(want, n), dt == DTYPE_BF16 ? 2e-2 : 1e-4);
}

// A tensor of the backend from host fp32 NCHW values, and back.
static void *to_be(const float *host, const tensor_desc *t) {
    void *p = be->alloc(be, be->tensor_bytes(be, t));
    onednn_tensor_import(p, host, t);
    return p;
}
static float *from_be(const void *p, const tensor_desc *t) {
    float *h = malloc(tensor_numel(t) * sizeof(float));
    onednn_tensor_export(h, p, t);
    return h;
}
// The host values as the backend sees them (bf16-rounded for a bf16 tensor).
static float *rounded(const float *host, const tensor_desc *t) {
    void *p = to_be(host, t);
    float *h = from_be(p, t);
    be->release(be, p);
    return h;
}

// A convolution shape with batch B: the interior tensors in dt, blocked; an image-sized side (1 or
// 3 channels, or z, or the logit) fp32 NCHW, as net_exec makes them.
static tensor_desc side(int B, int c, int h, dcgan_dtype dt, int boundary) {
    tensor_desc t = {B, c, h, h, boundary ? DTYPE_F32 : dt, boundary ? LAYOUT_NCHW : LAYOUT_BLOCKED};
    return t;
}

// A bf16 weight copy is the bf16 rounding of w: the reference must see that too.
static void round_weights_bf16(float *w, size_t n) {
    tensor_desc t = {1, 1, 1, (int)n, DTYPE_BF16, LAYOUT_NCHW};
    float *r = rounded(w, &t);
    memcpy(w, r, n * 4);
    free(r);
}

static void conv_case(conv_kind kind, int dense, int C, int H, int OC, int K, int stride, int pad, int in_boundary,
                      int out_boundary, dcgan_dtype dt) {
    const int B = 4;
    conv_desc d = conv_desc_make(kind, side(B, C, H, dt, in_boundary), OC, K, stride, pad);
    d.out = side(B, OC, d.out.h, dt, out_boundary);
    conv_desc r = conv_desc_make(kind, tensor_f32(B, C, H, H), OC, K, stride, pad);
    dense_desc dd = {.in = d.in, .out = d.out, .transposed = kind == CONV_TRANSPOSE_2D};
    dense_desc dr = {.in = r.in, .out = r.out, .transposed = dd.transposed};
    char err[512], name[160];
    CHECK((dense ? be->dense_plan(be, &dd, err, sizeof err) : be->conv_plan(be, &d, err, sizeof err)) == 0);
    CHECK(ref->conv_plan(ref, &r, err, sizeof err) == 0);
    const size_t nin = tensor_numel(&d.in), nout = tensor_numel(&d.out), nw = (size_t)C * OC * K * K;
    float *in = malloc(nin * 4), *dout = malloc(nout * 4), *w = malloc(nw * 4), *dw0 = malloc(nw * 4);
    fill_random(in, nin, 1, 1.0f);
    fill_random(dout, nout, 2, 1.0f);
    fill_random(w, nw, 3, 0.05f);
    fill_random(dw0, nw, 4, 0.01f);
    // The reference sees the values the backend sees.
    float *in_r = rounded(in, &d.in), *dout_r = rounded(dout, &d.out);
    float *w_r = malloc(nw * 4);
    memcpy(w_r, w, nw * 4);
    if (dt == DTYPE_BF16) round_weights_bf16(w_r, nw);
    float *out_ref = malloc(nout * 4), *din_ref = malloc(nin * 4), *dw_ref = malloc(nw * 4);
    memcpy(dw_ref, dw0, nw * 4);
    if (dense) {
        cpu_dense_forward(ref, out_ref, in_r, w_r, &dr);
        cpu_dense_backward_data(ref, din_ref, dout_r, w_r, &dr);
        cpu_dense_backward_filter(ref, dw_ref, dout_r, in_r, &dr);
    } else {
        cpu_conv_forward(ref, out_ref, in_r, w_r, &r);
        cpu_conv_backward_data(ref, din_ref, dout_r, w_r, &r);
        cpu_conv_backward_filter(ref, dw_ref, dout_r, in_r, &r);
    }
    void *bin = to_be(in, &d.in), *bdout = to_be(dout, &d.out), *bout = be->alloc(be, be->tensor_bytes(be, &d.out));
    void *bdin = be->alloc(be, be->tensor_bytes(be, &d.in));
    float *bw = be->alloc(be, nw * 4), *bdw = be->alloc(be, nw * 4);
    be->upload(be, bw, w, nw * 4);
    be->upload(be, bdw, dw0, nw * 4);
    if (dense) {
        be->dense_forward(be, bout, bin, bw, &dd);
        be->dense_backward_data(be, bdin, bdout, bw, &dd);
        be->dense_backward_filter(be, bdw, bdout, bin, &dd);
    } else {
        be->conv_forward(be, bout, bin, bw, &d);
        be->conv_backward_data(be, bdin, bdout, bw, &d);
        be->conv_backward_filter(be, bdw, bdout, bin, &d);
    }
    float *out = from_be(bout, &d.out), *din = from_be(bdin, &d.in);
    const char *what = dense ? "dense" : kind == CONV_2D ? "conv" : "convT";
    snprintf(name, sizeof name, "%s %s %dx%d->%dx%d fwd", dtype_name(dt), what, C, H, OC, d.out.h);
    close_to(name, out, out_ref, nout, dt);
    snprintf(name, sizeof name, "%s %s %dx%d->%dx%d bwd data", dtype_name(dt), what, C, H, OC, d.out.h);
    close_to(name, din, din_ref, nin, dt);
    snprintf(name, sizeof name, "%s %s %dx%d->%dx%d bwd filter (accumulated)", dtype_name(dt), what, C, H, OC, d.out.h);
    close_to(name, bdw, dw_ref, nw, dt);
    // The weight copy follows an upload: new weights, new output.
    for (size_t i = 0; i < nw; i++) w[i] = -w[i];
    be->upload(be, bw, w, nw * 4);
    if (dense) be->dense_forward(be, bout, bin, bw, &dd);
    else be->conv_forward(be, bout, bin, bw, &d);
    free(out);
    out = from_be(bout, &d.out);
    for (size_t i = 0; i < nout; i++) out[i] = -out[i];
    snprintf(name, sizeof name, "%s %s %dx%d->%dx%d fwd after the weights changed", dtype_name(dt), what, C, H, OC, d.out.h);
    close_to(name, out, out_ref, nout, dt);
    void *bufs[] = {bin, bdout, bout, bdin, bw, bdw};
    for (int i = 0; i < 6; i++) be->release(be, bufs[i]);
    free(in); free(dout); free(w); free(dw0); free(in_r); free(dout_r); free(w_r);
    free(out_ref); free(din_ref); free(dw_ref); free(out); free(din);
}

static void convs(dcgan_dtype dt) {
    conv_case(CONV_2D, 0, 3, 32, 64, 4, 2, 1, 1, 0, dt);          // D's first layer: the data batch in
    conv_case(CONV_2D, 0, 64, 16, 128, 4, 2, 1, 0, 0, dt);
    conv_case(CONV_2D, 1, 128, 4, 1, 4, 1, 0, 0, 1, dt);          // D's last: the logit out
    conv_case(CONV_TRANSPOSE_2D, 1, 100, 1, 128, 4, 1, 0, 1, 0, dt);   // G's first: z in
    conv_case(CONV_TRANSPOSE_2D, 0, 128, 8, 64, 4, 2, 1, 0, 0, dt);
    conv_case(CONV_TRANSPOSE_2D, 0, 64, 16, 3, 4, 2, 1, 0, 1, dt);     // G's last: the image out
    conv_case(CONV_TRANSPOSE_2D, 0, 32, 16, 1, 4, 2, 1, 0, 1, dt);
}

static void batchnorms(dcgan_dtype dt, dcgan_layout layout) {
    const int B = 4, C = 32, H = 8;
    const float slopes[] = {1.0f, 0.0f, 0.2f};
    tensor_desc t = {B, C, H, H, dt, layout};
    const size_t n = tensor_numel(&t);
    float *x = malloc(n * 4), *dy = malloc(n * 4), gamma[32], beta[32];
    fill_random(x, n, 5, 2.0f);
    for (size_t i = 0; i < n; i++) x[i] += 0.5f;
    fill_random(dy, n, 6, 1.0f);
    fill_random(gamma, C, 7, 0.1f);
    fill_random(beta, C, 8, 0.1f);
    for (int c = 0; c < C; c++) gamma[c] += 1.0f;
    float *xr = rounded(x, &t), *dyr = rounded(dy, &t);
    // fp32: the same arithmetic in the same order as the reference, so equal bit for bit.
    const double tol = dt == DTYPE_BF16 ? 2e-2 : 0;
    for (int s = 0; s < 3; s++) {
        bn_desc d = {.x = t, .momentum = 0.1f, .eps = 1e-5f, .act_slope = slopes[s]};
        bn_desc dr = {.x = tensor_f32(B, C, H, H), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slopes[s]};
        float run_r[64], run_b[64], mean_r[32], inv_r[32], mean_b[32], inv_b[32];
        float dg_r[32] = {0}, db_r[32] = {0}, dg_b[32] = {0}, db_b[32] = {0};
        for (int c = 0; c < C; c++) { run_r[c] = run_b[c] = 0.1f; run_r[C + c] = run_b[C + c] = 0.9f; }
        int64_t cnt_r = 0, cnt_b = 0;
        float *out_r = malloc(n * 4), *din_r = malloc(n * 4), *eval_r = malloc(n * 4);
        cpu_batchnorm_forward_train(ref, out_r, mean_r, inv_r, run_r, &cnt_r, xr, gamma, beta, &dr);
        cpu_batchnorm_backward(ref, din_r, dg_r, db_r, dyr, out_r, xr, mean_r, inv_r, gamma, &dr);
        cpu_batchnorm_forward_eval(ref, eval_r, xr, gamma, beta, run_r, &dr);
        void *bx = to_be(x, &t), *bdy = to_be(dy, &t), *bout = be->alloc(be, n * 4), *bdin = be->alloc(be, n * 4);
        void *beval = be->alloc(be, n * 4);
        be->batchnorm_forward_train(be, bout, mean_b, inv_b, run_b, &cnt_b, bx, gamma, beta, &d);
        be->batchnorm_backward(be, bdin, dg_b, db_b, bdy, bout, bx, mean_b, inv_b, gamma, &d);
        be->batchnorm_forward_eval(be, beval, bx, gamma, beta, run_b, &d);
        float *out = from_be(bout, &t), *din = from_be(bdin, &t), *ev = from_be(beval, &t);
        char name[128];
        const char *lay = layout == LAYOUT_BLOCKED ? "blocked" : "NCHW";
#define BN_CHECK(label, got, want, m) do { \
        snprintf(name, sizeof name, "%s %s batchnorm slope %.1f %s", dtype_name(dt), lay, slopes[s], label); \
        check_close(name, got, want, m, tol * max_abs(want, m), tol); } while (0)
        BN_CHECK("out", out, out_r, n);
        BN_CHECK("mean", mean_b, mean_r, (size_t)C);
        BN_CHECK("invstd", inv_b, inv_r, (size_t)C);
        BN_CHECK("running", run_b, run_r, (size_t)2 * C);
        BN_CHECK("din", din, din_r, n);
        BN_CHECK("dgamma", dg_b, dg_r, (size_t)C);
        BN_CHECK("dbeta", db_b, db_r, (size_t)C);
        BN_CHECK("eval out", ev, eval_r, n);
        CHECK(cnt_b == 1);
        void *bufs[] = {bx, bdy, bout, bdin, beval};
        for (int i = 0; i < 5; i++) be->release(be, bufs[i]);
        free(out_r); free(din_r); free(eval_r); free(out); free(din); free(ev);
    }
    // The activations that are not fused (D's first leaky ReLU, G's tanh).
    const act_kind kinds[] = {ACT_RELU, ACT_LEAKY_RELU, ACT_TANH};
    for (int k = 0; k < 3; k++) {
        act_desc a = {.kind = kinds[k], .slope = 0.2f, .x = t}, ar = {.kind = kinds[k], .slope = 0.2f, .x = tensor_f32(B, C, H, H)};
        float *y_r = malloc(n * 4), *dx_r = malloc(n * 4);
        float *yr_rounded;
        cpu_activation_forward(ref, y_r, xr, &ar);
        yr_rounded = rounded(y_r, &t);
        cpu_activation_backward(ref, dx_r, dyr, yr_rounded, &ar);
        void *bx = to_be(x, &t), *bdy = to_be(dy, &t), *by = be->alloc(be, n * 4), *bdx = be->alloc(be, n * 4);
        be->activation_forward(be, by, bx, &a);
        be->activation_backward(be, bdx, bdy, by, &a);
        float *y = from_be(by, &t), *dx = from_be(bdx, &t);
        char name[128];
        snprintf(name, sizeof name, "%s activation %d forward", dtype_name(dt), (int)kinds[k]);
        check_close(name, y, y_r, n, tol * max_abs(y_r, n), tol);
        snprintf(name, sizeof name, "%s activation %d backward", dtype_name(dt), (int)kinds[k]);
        check_close(name, dx, dx_r, n, tol * max_abs(dx_r, n), tol);
        void *bufs[] = {bx, bdy, by, bdx};
        for (int i = 0; i < 4; i++) be->release(be, bufs[i]);
        free(y_r); free(dx_r); free(yr_rounded); free(y); free(dx);
    }
    free(x); free(dy); free(xr); free(dyr);
}

// --- training ------------------------------------------------------------------------------------

#define LONG_ITERS 200

// LONG_ITERS iterations of a small model (blocked layers: widths 32..128) in precision p: the losses.
static int train_losses(dcgan_dtype p, double (*v)[3]) {
    char err[512];
    train_hparams h;
    train_hparams_defaults(&h, LOSS_NONSAT);
    h.cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 32, .ngf = 32, .ndf = 32};
    h.batch_size = 32;
    h.seed = 11;
    h.precision = p;
    dcgan_dataset ds;
    trainer t;
    batcher data;
    if (dataset_load(&ds, "synthetic", NULL, 32, 1, 7, err, sizeof err) || trainer_init(&t, &h, be, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
        return -1;
    }
    if (batcher_init(&data, be, &ds, h.batch_size, h.d_steps, h.seed, 0, 0, 0, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
        return -1;
    }
    CHECK(trainer_bind_data(&t, &data, err, sizeof err) == 0);
    for (int it = 0; it < LONG_ITERS; it++) {
        batcher_prepare(&data);
        trainer_iteration(&t);
        step_stats st;
        trainer_read_stats(&t, &st);
        v[it][0] = st.loss_d_real + st.loss_d_fake;
        v[it][1] = st.loss_g;
        v[it][2] = st.d_x;
    }
    batcher_free(&data);
    trainer_free(&t);
    dataset_free(&ds);
    return 0;
}

// bf16 against fp32 from one seed. The first iteration's losses differ only by bf16's rounding of
// the activations and weights (~2^-8 relative per layer, a few layers deep: < 2%). After that the
// two runs see different gradients and a GAN's trajectory amplifies such differences, as it does
// any rounding difference: the losses are compared as means over windows of 50 iterations.
// Measured on AVX512_BF16 (AMD EPYC) over 14 fp32 and 14 bf16 runs that differ by rounding alone
// (weights perturbed by one ulp, 1 to 3 threads), the largest differences of window means:
//   - iterations 1-50, where the runs still track: bf16 vs fp32 0.0039 / 0.016 / 0.0015 in
//     Loss_D / Loss_G / D(x) (fp32 vs fp32: 0.0023 / 0.0063 / 0.0011). Bounds 0.02 / 0.06 / 0.008,
//     four to five times that: a broken bf16 path (a layer reading bf16 as fp32, a stale weight
//     copy) does not train like fp32 at all and leaves them here;
//   - iterations 51-200, where they no longer track: two fp32 runs differ as much as bf16 and
//     fp32 (0.11 / 0.81 / 0.026 and 0.10 / 0.73 / 0.026), as two GAN runs do. Bounds 0.3 / 2.0 /
//     0.07, two and a half times that, see only a run that went elsewhere altogether.
static void bf16_tracks_fp32(void) {
    static double a[LONG_ITERS][3], b[LONG_ITERS][3];
    if (train_losses(DTYPE_F32, a) || train_losses(DTYPE_BF16, b)) return;
    const char *names[3] = {"Loss_D", "Loss_G", "D(x)"};
    const double first_tol = 0.02, window_tol[2][3] = {{0.02, 0.06, 0.008}, {0.3, 2.0, 0.07}};
    for (int k = 0; k < 3; k++) {
        double rel = fabs(a[0][k] - b[0][k]) / fmax(fabs(a[0][k]), 1e-3);
        printf("bf16 vs fp32, iteration 1 %s: fp32 %.5f bf16 %.5f (rel %.2e, tol %.0e)\n", names[k], a[0][k], b[0][k], rel,
               first_tol);
        CHECK(rel <= first_tol);
        for (int w0 = 0; w0 < LONG_ITERS; w0 += 50) {
            double ma = 0, mb = 0, tol = window_tol[w0 > 0][k];
            for (int i = w0; i < w0 + 50; i++) { ma += a[i][k] / 50; mb += b[i][k] / 50; }
            printf("bf16 vs fp32, iterations %3d-%3d mean %s: fp32 %.4f bf16 %.4f (diff %.4f, tol %.3f)\n", w0 + 1,
                   w0 + 50, names[k], ma, mb, fabs(ma - mb), tol);
            CHECK(fabs(ma - mb) <= tol);
        }
    }
}

// --- resume ------------------------------------------------------------------------------------------

static void run_short(const char *out, const char *resume, long iters) {
    run_options o;
    memset(&o, 0, sizeof o);
    train_hparams_defaults(&o.hp, LOSS_NONSAT);
    o.hp.cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 16, .ngf = 16, .ndf = 16};
    o.hp.batch_size = 16;
    o.hp.seed = 7;
    o.hp.precision = DTYPE_BF16;
    o.dataset = "synthetic";
    o.device = "onednn";
    o.out_dir = out;
    o.resume = resume;
    o.iters = iters;
    o.sample_every = 0;
    o.ckpt_every = 0;
    o.log_every = 100;
    CHECK(run_training(&o) == 0);
}

// A bf16 run's state says so, and a resume keeps it.
static void check_precision(const char *run) {
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/train_state.safetensors", run);
    st_file f;
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return; }
    const char *prec = st_meta_get(&f, "precision");
    CHECK(prec && !strcmp(prec, "bf16"));
    st_free(&f);
}

static void bf16_resume(void) {
    const char *dir = make_temp_dir("onednn");
    char full[512], part[512];
    snprintf(full, sizeof full, "%s/full", dir);
    snprintf(part, sizeof part, "%s/part", dir);
    run_short(full, NULL, 6);
    run_short(part, NULL, 3);
    run_short(part, part, 6);   // the precision comes back from the state
    const char *files[] = {"netG.safetensors", "netD.safetensors", "train_state.safetensors"};
    for (int i = 0; i < 3; i++) CHECK(same_tensors("bf16 resume vs uninterrupted", full, part, files[i]));
    check_precision(part);
}

// oneDNN told to stop at AVX-512 without bf16: --precision bf16 is one line and exit 1.
static void bf16_refused(void) {
    char err[2048];
    setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE", 1);
    int rc = run_dcgan(err, sizeof err, "bench --device cpu --precision bf16 --size 32 --nc 1 --iters 1 --warmup 0");
    unsetenv("DNNL_MAX_CPU_ISA");
    printf("bf16 without AVX512_BF16: exit %d, %s", rc, err);
    CHECK(rc == 1 && strstr(err, "AVX512_BF16") && strchr(err, '\n') == strrchr(err, '\n'));
}
#endif

int main(int argc, char **argv) {
#ifndef DCGAN_HAVE_ONEDNN
    (void)argc; (void)argv;
    printf("test_onednn: skipped (this build has no oneDNN backend)\n");
    return 77;
#else
    test_dcgan_bin(argc, argv, "test_onednn");
    char err[256];
    be = backend_onednn(err, sizeof err);
    ref = backend_cpu();
    if (!be) { printf("test_onednn: skipped (%s)\n", err); return 77; }
    test_print_backend(be);
    convs(DTYPE_F32);
    batchnorms(DTYPE_F32, LAYOUT_BLOCKED);
    batchnorms(DTYPE_F32, LAYOUT_NCHW);
    const gan_loss losses[] = {LOSS_NONSAT, LOSS_WGAN};
    for (int i = 0; i < 2; i++) {
        train_record a, b;
        if (train_record_run(ref, losses[i], 0, &a) || train_record_run(be, losses[i], 0, &b)) continue;
        char name[64];
        snprintf(name, sizeof name, "onednn fp32 vs cpu-ref, %s", gan_loss_name(losses[i]));
        if (train_record_compare(name, &a, &b)) { fprintf(stderr, "FAIL %s: training differs\n", name); test_failures++; }
        train_record_free(&a);
        train_record_free(&b);
    }
    if (onednn_has_bf16()) {
        convs(DTYPE_BF16);
        batchnorms(DTYPE_BF16, LAYOUT_BLOCKED);
        bf16_tracks_fp32();
        bf16_resume();
        bf16_refused();
    } else {
        printf("this CPU has no AVX512_BF16: the bf16 checks are skipped\n");
        bf16_refused();
    }
    return test_summary("test_onednn");
#endif
}
