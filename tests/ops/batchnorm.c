// Batchnorm fused with its activation (none, ReLU, leaky ReLU): every batchnorm of the DCGAN at
// 32, 64 and 128 px (and plain batchnorm at batch 3), a 32-channel tensor with all three slopes,
// and the synchronised batchnorm of --sync-bn (its four ops around the all-reduces, as if a second
// rank held the same batch: the sums are doubled between the passes and the statistics taken over
// group_n = 2B). Phases: training forward, evaluation forward with the updated running statistics,
// backward from the reference's forward output (so that the activation's slope is chosen by the
// same signs: values within rounding of 0 could otherwise flip).
#include <math.h>
#include <stdio.h>
#include "dcgan/cpu.h"
#include "op_case.h"
#include "perf.h"
#include "shapes.h"
#include "test_util.h"

enum { BN_IN, BN_DOUT, BN_GAMMA, BN_BETA, BN_RUNNING, BN_COUNT, BN_OUT, BN_MEAN, BN_INVSTD, BN_EVAL, BN_DIN, BN_DG,
       BN_DB, BN_SUMS };
enum { PH_TRAIN, PH_EVAL, PH_BWD };                               // plain batchnorm
enum { PH_SUMS, PH_FWD_GLOBAL, PH_BWD_SUMS, PH_BWD_GLOBAL };      // synchronised
enum { ARG_SYNC };

// Tolerances on CUDA: the GPU merges per-thread float Welford states in double; the CPU sums in
// double (two passes). Means and 1/std then agree to ~1e-7 relative, the outputs to a few 1e-7 of
// their range: 2e-5 of the tensor's max. Gradient sums over N = B*HW values are float partials
// merged in double on both sides, in a different order: an error ~1e-7 of sum |terms| ~ N * 1e-7;
// allowed 2e-7 * N + 1e-6. The synchronised ops' sums: float partials merged in double (GPU)
// against double sums (CPU), 1e-6 (forward) and 2e-6 (backward) of |sum| + N.
// oneDNN fp32: our blocked kernels do the reference's arithmetic in its order: equal values.
// bf16: the inputs carry 8 significant bits and the outputs round to them: 2% (as convolutions).
static op_tol bn_tol(const op_case *c, int buf, int phase, const op_target *tg) {
    if (tg->dtype == DTYPE_BF16) return (op_tol){.rel = 2e-2, .rtol = 2e-2};
    if (!tg->cuda) return tol_equal();
    const double N = (double)c->buf[BN_IN].t.n * c->buf[BN_IN].t.h * c->buf[BN_IN].t.w;
    switch (buf) {
    case BN_MEAN: return (op_tol){.rel = 1e-6, .rtol = 1e-5};
    case BN_INVSTD: case BN_RUNNING: return (op_tol){.rtol = 1e-5};
    case BN_DIN: return (op_tol){.rel = 1e-4};
    case BN_DG: case BN_DB: return (op_tol){.abs = 1e-6 + 2e-7 * N, .rtol = 1e-5};
    case BN_SUMS: {
        const double t = phase == PH_SUMS ? 1e-6 : 2e-6;
        return (op_tol){.abs = t * N, .rtol = t};
    }
    default: return (op_tol){.rel = 2e-5};   // out, eval out
    }
}

static bn_desc bn_of(const op_case *c, const tensor_desc *t) {
    bn_desc d = c->d.bn;
    d.x = t[BN_IN];
    return d;
}

static void bn_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    const bn_desc d = bn_of(c, t);
    void *out = d.act_slope != 1.0f ? p[BN_OUT] : NULL;
    if (phase == PH_TRAIN)
        be->batchnorm_forward_train(be, p[BN_OUT], p[BN_MEAN], p[BN_INVSTD], p[BN_RUNNING], p[BN_COUNT], p[BN_IN],
                                    p[BN_GAMMA], p[BN_BETA], &d);
    else if (phase == PH_EVAL)
        be->batchnorm_forward_eval(be, p[BN_EVAL], p[BN_IN], p[BN_GAMMA], p[BN_BETA], p[BN_RUNNING], &d);
    else
        be->batchnorm_backward(be, p[BN_DIN], p[BN_DG], p[BN_DB], p[BN_DOUT], out, p[BN_IN], p[BN_MEAN], p[BN_INVSTD],
                               p[BN_GAMMA], &d);
}

static void sync_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    const bn_desc d = bn_of(c, t);
    void *out = d.act_slope != 1.0f ? p[BN_OUT] : NULL;
    if (phase == PH_SUMS) be->batchnorm_sums(be, p[BN_SUMS], p[BN_IN], &d);
    else if (phase == PH_FWD_GLOBAL)
        be->batchnorm_forward_global(be, p[BN_OUT], p[BN_MEAN], p[BN_INVSTD], p[BN_RUNNING], p[BN_COUNT], p[BN_IN],
                                     p[BN_GAMMA], p[BN_BETA], p[BN_SUMS], &d);
    else if (phase == PH_BWD_SUMS)
        be->batchnorm_backward_sums(be, p[BN_SUMS], p[BN_DG], p[BN_DB], p[BN_DOUT], out, p[BN_IN], p[BN_MEAN],
                                    p[BN_INVSTD], &d);
    else
        be->batchnorm_backward_global(be, p[BN_DIN], p[BN_DOUT], out, p[BN_IN], p[BN_MEAN], p[BN_INVSTD], p[BN_GAMMA],
                                      p[BN_SUMS], &d);
}

// The other rank's sums: the same again (the all-reduce adds them).
static void double_sums(const op_case *c, int phase, void *const *host) {
    if (phase != PH_FWD_GLOBAL && phase != PH_BWD_GLOBAL) return;
    double *s = host[BN_SUMS];
    for (size_t k = 0; k < c->buf[BN_SUMS].n; k++) s[k] *= 2.0;
}

static void count_starts_at_5(const op_case *c, void *const *host) {
    (void)c;
    *(int64_t *)host[BN_COUNT] = 5;
}

// A channel offset per channel (means apart from each other), for the finite differences.
static void channel_offsets(const op_case *c, void *const *host) {
    const tensor_desc *t = &c->buf[BN_IN].t;
    float *x = host[BN_IN];
    const size_t hw = (size_t)t->h * t->w;
    for (size_t i = 0; i < c->buf[BN_IN].n; i++) x[i] += 0.5f * (float)((i / hw) % (size_t)t->c);
}

static double bn_bytes(const op_case *c, int phase) {
    const double n = (double)c->buf[BN_IN].n * 4;
    return phase == PH_BWD ? (c->d.bn.act_slope != 1.0f ? 4 : 3) * n : 2 * n;
}

#ifdef DCGAN_HAVE_CUDA
// cuDNN's spatial batchnorm (no activation) on the same tensors: forward training and backward.
static double bn_baseline(const op_case *c, int phase, const op_target *tg, void *const *p, int reps) {
    if (!tg->cuda || phase == PH_EVAL) return -1;
    return perf_cudnn_batchnorm_ms(tg->be, &c->d.bn, phase == PH_BWD, p[BN_IN], p[BN_EVAL], p[BN_DOUT], p[BN_DIN],
                                   p[BN_GAMMA], p[BN_BETA], p[BN_DG], p[BN_DB], p[BN_RUNNING], reps);
}
#endif

static op_case *bn_case(op_list *l, const char *tag, int B, int C, int H, float slope, int sync) {
    op_case *c = case_add(l, "batchnorm", OP_BATCHNORM);
    const tensor_desc x = tensor_f32(B, C, H, H);
    c->d.bn = (bn_desc){.x = x, .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope, .group_n = sync ? 2 * B : 0};
    c->arg[ARG_SYNC] = sync;
    const unsigned s = sync ? 41 : 21;
    buf_act(c, BN_IN, "in", x, 1.0f, 0.3f, s);
    buf_act(c, BN_DOUT, "dout", x, 1.0f, 0.0f, s + 1);
    buf_flat(c, BN_GAMMA, "gamma", BUF_F32, (size_t)C, 0.1f, 1.0f, s + 2);
    buf_flat(c, BN_BETA, "beta", BUF_F32, (size_t)C, 0.1f, 0.0f, s + 3);
    buf_flat(c, BN_RUNNING, "running", BUF_F32, 2 * (size_t)C, 0.1f, 0.5f, s + 4);
    buf_flat(c, BN_COUNT, "batches_tracked", BUF_I64, 1, 0, 0, 0);
    buf_out_act(c, BN_OUT, "out", x);
    buf_out(c, BN_MEAN, "mean", BUF_F32, (size_t)C);
    buf_out(c, BN_INVSTD, "invstd", BUF_F32, (size_t)C);
    buf_out_act(c, BN_EVAL, "eval out", x);
    buf_out_act(c, BN_DIN, "din", x);
    buf_flat(c, BN_DG, "dgamma", BUF_F32, (size_t)C, 0.1f, 0.0f, s + 5)->accum = 1;
    buf_flat(c, BN_DB, "dbeta", BUF_F32, (size_t)C, 0.1f, 0.0f, s + 6)->accum = 1;
    c->init = count_starts_at_5;
    c->tol = bn_tol;
    snprintf(c->name, sizeof c->name, "%s%s%sbn B%d C%d %dx%d a%.1f", tag, *tag ? " " : "", sync ? "sync-" : "", B, C,
             H, H, (double)slope);
    if (sync) {
        buf_out(c, BN_SUMS, "sums", BUF_F64, 2 * (size_t)C);
        c->nphases = 4;
        c->phase_name[0] = "sums", c->phase_name[1] = "fwd", c->phase_name[2] = "bwd sums", c->phase_name[3] = "bwd";
        c->run = sync_run;
        c->prepare = double_sums;
        c->buf[BN_SUMS].check = 1u << PH_SUMS | 1u << PH_BWD_SUMS;
        c->buf[BN_SUMS].load = 1u << PH_FWD_GLOBAL | 1u << PH_BWD_GLOBAL;
        c->buf[BN_OUT].check = c->buf[BN_MEAN].check = c->buf[BN_INVSTD].check = 1u << PH_FWD_GLOBAL;
        c->buf[BN_RUNNING].check = c->buf[BN_COUNT].check = 1u << PH_FWD_GLOBAL;
        c->buf[BN_OUT].load = c->buf[BN_MEAN].load = c->buf[BN_INVSTD].load = 1u << PH_BWD_SUMS;
        c->buf[BN_DIN].check = c->buf[BN_DG].check = c->buf[BN_DB].check = 1u << PH_BWD_GLOBAL;
        return c;
    }
    c->nphases = 3;
    c->phase_name[0] = "train", c->phase_name[1] = "eval", c->phase_name[2] = "bwd";
    c->run = bn_run;
    c->buf[BN_OUT].check = c->buf[BN_MEAN].check = c->buf[BN_INVSTD].check = 1u << PH_TRAIN;
    c->buf[BN_RUNNING].check = c->buf[BN_COUNT].check = 1u << PH_TRAIN;
    c->buf[BN_EVAL].check = 1u << PH_EVAL;
    c->buf[BN_OUT].load = 1u << PH_BWD;
    c->buf[BN_DIN].check = c->buf[BN_DG].check = c->buf[BN_DB].check = 1u << PH_BWD;
    c->perf_phases = 1u << PH_TRAIN | 1u << PH_BWD;
    c->bytes = bn_bytes;
#ifdef DCGAN_HAVE_CUDA
    c->baseline = bn_baseline;
    c->baseline_name = "cudnn";
#endif
    return c;
}

// Every batchnorm of G (ReLU) and D (leaky ReLU) at this size and batch; plain batchnorm too at batch 3.
static void dcgan_bns(op_list *l, int size, int B, int size_class) {
    dcgan_layer_shape s[DCGAN_MAX_SHAPES];
    for (int gen = 1; gen >= 0; gen--) {
        const int n = dcgan_layer_shapes(size, gen, s);
        for (int i = 0; i < n; i++) {
            if (!s[i].bn) continue;
            bn_case(l, s[i].tag, B, s[i].OC, s[i].OH, s[i].slope, 0)->size = size_class;
            if (B == 3) bn_case(l, s[i].tag, B, s[i].OC, s[i].OH, 1.0f, 0)->size = size_class;
        }
    }
}

// Finite differences: a small batch with channel means apart, each slope.
static void fd_case(op_list *l, float slope) {
    op_case *c = bn_case(l, "", 3, 2, 5, slope, 0);   // 5x5 planes
    c->buf[BN_IN].scale = 2.0f, c->buf[BN_IN].offset = 0.0f, c->buf[BN_IN].seed = 11;
    c->buf[BN_GAMMA].scale = 0.3f, c->buf[BN_BETA].scale = 0.5f;
    c->init = channel_offsets;
    case_fd(c, 1u << PH_TRAIN, 1u << PH_BWD, BN_OUT, BN_DOUT, 1e-2f, (op_tol){.abs = 2e-3, .rtol = 5e-3});
    case_fd_grad(c, BN_IN, BN_DIN);
    case_fd_grad(c, BN_GAMMA, BN_DG);
    case_fd_grad(c, BN_BETA, BN_DB);
}

static void bn_list(op_list *l, const op_list_opts *o) {
    static const int sizes[3] = {32, 64, 128}, perf_batches[3] = {64, 128, 256};
    if (!o->perf) {
        const float slopes[3] = {1.0f, 0.0f, 0.2f};
        for (int k = 0; k < 3; k++) fd_case(l, slopes[k]);
        for (int k = 0; k < 3; k++) bn_case(l, "", 4, 32, 8, slopes[k], 0);
        bn_case(l, "G", 3, 64, 16, 0.0f, 1);
        bn_case(l, "D", 65, 128, 8, 0.2f, 1);
        bn_case(l, "plain", 2, 8, 4, 1.0f, 1);
    }
    for (int s = 0; s < 3; s++)
        for (int b = 0; b < 3; b++) {
            if (o->perf && o->quick && b > 0) continue;
            const int B = o->perf ? perf_batches[b] : test_batches[b];
            dcgan_bns(l, sizes[s], B, o->perf ? SIZE_LIGHT : dcgan_case_size(sizes[s], B));
        }
}

// --- cpu-ref against hand-computed values --------------------------------------------------------

// Running stats (momentum 0.1, unbiased variance), saved stats, output, and eval mode, two steps.
static void bn_stats_by_hand(void) {
    enum { B = 4, C = 3, HW = 5, N = B * HW };
    const dcgan_backend *be = backend_cpu();
    const float eps = 1e-5f;
    float in[B * C * HW], out[B * C * HW], ref[B * C * HW], gamma[C], beta[C], mean[C], invstd[C], running[2 * C];
    float exp_run[2 * C], exp_mean[C], exp_invstd[C];
    double erun[2 * C];
    fill_random(gamma, C, 21, 0.5f);
    fill_random(beta, C, 22, 0.5f);
    for (int c = 0; c < C; c++) { running[c] = 0.0f, running[C + c] = 1.0f, gamma[c] += 1.0f; erun[c] = 0, erun[C + c] = 1; }
    const bn_desc d = {.x = tensor_f32(B, C, HW, 1), .momentum = 0.1f, .eps = eps, .act_slope = 1.0f};
    int64_t count = 0;
    for (int step = 0; step < 2; step++) {
        fill_random(in, B * C * HW, 23 + step, 3.0f);
        for (int i = 0; i < B * C * HW; i++) in[i] += (float)((i / HW) % C) - 1.0f;
        cpu_batchnorm_forward_train(be, out, mean, invstd, running, &count, in, gamma, beta, &d);
        for (int c = 0; c < C; c++) {
            double s = 0, sq = 0;
            for (int b = 0; b < B; b++) for (int i = 0; i < HW; i++) s += in[(b * C + c) * HW + i];
            const double mu = s / N;
            for (int b = 0; b < B; b++)
                for (int i = 0; i < HW; i++) { const double e = in[(b * C + c) * HW + i] - mu; sq += e * e; }
            const double is = 1.0 / sqrt(sq / N + eps);
            erun[c] = 0.9 * erun[c] + 0.1 * mu;
            erun[C + c] = 0.9 * erun[C + c] + 0.1 * sq / (N - 1);
            exp_mean[c] = (float)mu, exp_invstd[c] = (float)is;
            exp_run[c] = (float)erun[c], exp_run[C + c] = (float)erun[C + c];
            for (int b = 0; b < B; b++)
                for (int i = 0; i < HW; i++) {
                    const int k = (b * C + c) * HW + i;
                    ref[k] = (float)((in[k] - mu) * is * gamma[c] + beta[c]);
                }
        }
        check_close(step ? "cpu-ref batchnorm running stats (unbiased var), step 2"
                         : "cpu-ref batchnorm running stats, step 1", running, exp_run, 2 * C, 1e-6, 1e-6);
        check_close("cpu-ref batchnorm saved mean", mean, exp_mean, C, 1e-6, 1e-6);
        check_close("cpu-ref batchnorm saved invstd", invstd, exp_invstd, C, 1e-6, 1e-6);
        check_close("cpu-ref batchnorm train output", out, ref, B * C * HW, 1e-5, 1e-5);
    }
    CHECK(count == 2);
    fill_random(in, B * C * HW, 31, 2.0f);
    cpu_batchnorm_forward_eval(be, out, in, gamma, beta, running, &d);
    for (int k = 0; k < B * C * HW; k++) {
        const int c = (k / HW) % C;
        ref[k] = (float)(((double)in[k] - running[c]) / sqrt((double)running[C + c] + eps) * gamma[c] + beta[c]);
    }
    check_close("cpu-ref batchnorm eval uses running stats", out, ref, B * C * HW, 1e-5, 1e-5);
}

// Synchronised batchnorm: two halves of a batch as two ranks (their sums added, as the all-reduce
// adds them) give what plain batchnorm gives on the whole batch: outputs, saved statistics, running
// statistics and gradients, within float rounding (the sums are taken in another order, the
// variance as E[x^2] - mean^2 in double).
static void bn_sync_halves(float slope) {
    enum { B = 4, H = 2, C = 3, HW = 7, n = B * C * HW, half = n / 2 };
    const dcgan_backend *be = backend_cpu();
    float in[n], out[n], ref[n], dout[n], din[n], din_ref[n], gamma[C], beta[C], mean[2][C], invstd[2][C];
    float mean_ref[C], invstd_ref[C], running[2][2 * C], running_ref[2 * C];
    float dg[C] = {0}, db[C] = {0}, dg_ref[C] = {0}, db_ref[C] = {0};
    double sums[2][2 * C];
    fill_random(in, n, 31, 2.0f);
    for (int i = 0; i < n; i++) in[i] += 3.0f * (float)((i / HW) % C);   // means far from 0
    fill_random(dout, n, 32, 1.0f);
    fill_random(gamma, C, 33, 0.3f);
    fill_random(beta, C, 34, 0.5f);
    for (int c = 0; c < C; c++) {
        gamma[c] += 1.0f;
        running_ref[c] = running[0][c] = running[1][c] = 0.0f;
        running_ref[C + c] = running[0][C + c] = running[1][C + c] = 1.0f;
    }
    const bn_desc whole = {.x = tensor_f32(B, C, HW, 1), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope};
    const bn_desc part = {.x = tensor_f32(H, C, HW, 1), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope, .group_n = B};
    int64_t count_ref = 0, count[2] = {0, 0};
    cpu_batchnorm_forward_train(be, ref, mean_ref, invstd_ref, running_ref, &count_ref, in, gamma, beta, &whole);
    for (int r = 0; r < 2; r++) cpu_batchnorm_sums(be, sums[r], in + r * half, &part);
    for (int k = 0; k < 2 * C; k++) sums[0][k] = sums[1][k] = sums[0][k] + sums[1][k];
    for (int r = 0; r < 2; r++)
        cpu_batchnorm_forward_global(be, out + r * half, mean[r], invstd[r], running[r], &count[r], in + r * half, gamma,
                                     beta, sums[r], &part);
    char name[96];
#define NAME(what) (snprintf(name, sizeof name, "cpu-ref sync batchnorm a%.1f: %s", (double)slope, what), name)
    check_close(NAME("output of both halves"), out, ref, n, 1e-5, 1e-5);
    check_close(NAME("saved mean"), mean[1], mean_ref, C, 1e-6, 1e-6);
    check_close(NAME("saved invstd"), invstd[1], invstd_ref, C, 1e-6, 1e-6);
    check_close(NAME("running statistics"), running[1], running_ref, 2 * C, 1e-6, 1e-6);
    CHECK(count[0] == 1 && count[1] == 1);
    cpu_batchnorm_backward(be, din_ref, dg_ref, db_ref, dout, ref, in, mean_ref, invstd_ref, gamma, &whole);
    for (int r = 0; r < 2; r++)
        cpu_batchnorm_backward_sums(be, sums[r], dg, db, dout + r * half, out + r * half, in + r * half, mean[r],
                                    invstd[r], &part);
    for (int k = 0; k < 2 * C; k++) sums[0][k] = sums[1][k] = sums[0][k] + sums[1][k];
    for (int r = 0; r < 2; r++)
        cpu_batchnorm_backward_global(be, din + r * half, dout + r * half, out + r * half, in + r * half, mean[r],
                                      invstd[r], gamma, sums[r], &part);
    check_close(NAME("d_in of both halves"), din, din_ref, n, 1e-5, 1e-4);
    check_close(NAME("d_gamma summed over the halves"), dg, dg_ref, C, 1e-5, 1e-5);
    check_close(NAME("d_beta summed over the halves"), db, db_ref, C, 1e-5, 1e-5);
#undef NAME
}

static void bn_ref_checks(void) {
    bn_stats_by_hand();
    bn_sync_halves(1.0f);
    bn_sync_halves(0.2f);
    bn_sync_halves(0.0f);
}

const op_family op_family_batchnorm = {"batchnorm", bn_list, bn_ref_checks};
