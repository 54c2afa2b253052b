// Two training runs compared, with tolerances derived in the comments.
#include "train_compare.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_util.h"

static float *download_floats(const dcgan_backend *be, const float *src, size_t n) {
    float *h = malloc((n ? n : 1) * sizeof(float));
    be->download(be, h, src, n * sizeof(float));
    return h;
}

int train_runner_init(train_runner *r, const dcgan_backend *be, const dcgan_dataset *ds, const train_hparams *h,
                      int rank, int ranks) {
    char err[512];
    if (trainer_init(&r->t, h, be, err, sizeof err) ||
        batcher_init_shard(&r->data, be, ds, h->batch_size, rank, ranks, h->d_steps, h->seed, 0, 0, 0, err,
                           sizeof err) ||
        trainer_bind_data(&r->t, &r->data, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
        return -1;
    }
    return 0;
}

void train_runner_free(train_runner *r) {
    batcher_free(&r->data);
    trainer_free(&r->t);
}

int train_record_run(const dcgan_backend *be, gan_loss loss, int staged, train_record *r) {
    char err[512];
    memset(r, 0, sizeof *r);
    train_hparams h;
    train_hparams_defaults(&h, loss);
    h.cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 32, .ngf = 32, .ndf = 32};
    h.batch_size = 32;
    h.seed = 7;
    dcgan_dataset ds;
    trainer t;
    batcher data;
    if (dataset_load(&ds, "synthetic", NULL, 32, 1, 7, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return -1; }
    if (trainer_init(&t, &h, be, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; dataset_free(&ds); return -1; }
    if (batcher_init(&data, be, &ds, h.batch_size, h.d_steps, h.seed, 0, staged, 0, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
        trainer_free(&t);
        dataset_free(&ds);
        return -1;
    }
    CHECK(trainer_bind_data(&t, &data, err, sizeof err) == 0);
    dcgan_net *nets[2] = {&t.G, &t.D};
    float *before[2];
    for (int k = 0; k < 2; k++) {
        r->n[k] = nets[k]->nparams;
        before[k] = download_floats(be, nets[k]->params, r->n[k]);
        for (int i = 0; i < nets[k]->ntensors; i++) {
            const named_tensor *nt = &nets[k]->tensors[i];
            if (nt->role != TENSOR_PARAM) continue;
            record_tensor *rt = &r->tensors[k][r->ntensors[k]++];
            snprintf(rt->name, sizeof rt->name, "%s", nt->name);
            rt->off = nt->off;
            rt->numel = nt->numel;
        }
    }
    for (int it = 0; it < COMPARE_ITERS; it++) {
        batcher_prepare(&data);
        trainer_iteration(&t);
        step_stats st;
        trainer_read_stats(&t, &st);
        double v[6] = {st.loss_d_real, st.loss_d_fake, st.loss_g, st.d_x, st.d_g_z1, st.d_g_z2};
        memcpy(r->v[it], v, sizeof v);
        if (it > 0) continue;
        for (int k = 0; k < 2; k++) {
            r->grads[k] = download_floats(be, nets[k]->grads, r->n[k]);
            r->update[k] = download_floats(be, nets[k]->params, r->n[k]);
            for (size_t i = 0; i < r->n[k]; i++) r->update[k][i] -= before[k][i];
            free(before[k]);
        }
    }
    r->nfake = (size_t)h.batch_size * 32 * 32;
    r->fake = download_floats(be, t.xg.act[t.G.nlayers - 1], r->nfake);
    batcher_free(&data);
    trainer_free(&t);
    dataset_free(&ds);
    return 0;
}

void train_record_free(train_record *r) {
    for (int k = 0; k < 2; k++) { free(r->grads[k]); free(r->update[k]); }
    free(r->fake);
    memset(r, 0, sizeof *r);
}

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

// The bounds below come from what a different summation order does to these runs, measured on the
// 1,248 pairs among 80 runs that differ by rounding alone (per loss: 24 with the weights perturbed by
// one ulp, and cpu-ref and oneDNN each on OpenBLAS's Prescott, Haswell and SkylakeX kernels, oneDNN
// at AVX2, 1 and 3 threads, and the default). Two kinds of difference appear in iteration 1:
//  - rounding: losses agree to 2e-7 relative, gradients to 2e-5 (relative 2-norm per tensor);
//  - in a third of the runs, a ReLU or leaky ReLU input within rounding of 0 falls on the other side.
//    That changes one sample's gradient path: the gradients of the layers below it move by 2.0e-3
//    (nonsat) to 5.2e-3 (WGAN) relative, almost all of it across the gradient's direction (its
//    scale changes by 2.7e-4 to 6.9e-4). An element-wise compare cannot tell this from a bug.
// From iteration 2 on the runs part ways (Adam divides by sqrt(v), so a weight whose gradient is
// near zero takes a full step either way, and the two players feed each other's differences back):
// the losses differ by up to 9.4e-4 x (|loss| + 0.1) by iteration 5 and 2.8e-2 x by iteration 20,
// their means over iterations 6-10 and 11-20 by 6.5e-3 x, and G(z) after 20 iterations by 7.9e-3
// on average (tanh outputs; largest element 7.3e-2). Each bound is 3.5-5 times the measured worst.
#define LOSS_TOL_FIRST 1e-4         // iteration 1, relative (+ 1e-5 absolute)
#define LOSS_TOL_EARLY 5e-3         // iterations 2-5, x (|loss| + 0.1)
#define LOSS_TOL_LATE 0.1           // iterations 6-20, x (|loss| + 0.1): only gross errors
#define LOSS_TOL_WINDOW 2.5e-2      // means over iterations 6-10 and 11-20, x (|mean| + 0.1)
#define GRAD_TOL_SCALE 2.5e-3       // iteration 1: a tensor's gradient scale: three crossings allowed
#define GRAD_TOL_RESIDUAL 2e-2      // iteration 1: the rest of its change, relative: three crossings
#define UPDATE_TOL 1e-2             // iteration 1: of the largest step, where the gradients agree to 1%
#define FAKE_TOL_MEAN 2.5e-2        // G(z) after COMPARE_ITERS: mean |difference|
#define FAKE_TOL_ELEMENT 0.1        // ... and at most 0.1% of the elements beyond this
#define LOSS_SCALE_FLOOR 0.1        // a loss near 0 is judged on the scale of 0.1

static const char *const stat_name[6] = {"Loss_D_real", "Loss_D_fake", "Loss_G", "D(x)", "D(G(z1))", "D(G(z2))"};
static const char *const net_name[2] = {"G", "D"};

// Every iteration's statistics, each against the bound of its stretch of the run.
static int compare_losses(const char *name, const train_record *a, const train_record *b) {
    int bad = 0;
    double worst[3] = {0, 0, 0};   // iteration 1, 2-5, 6-20: the largest difference / its bound
    for (int it = 0; it < COMPARE_ITERS; it++) {
        const int stretch = it == 0 ? 0 : it < 5 ? 1 : 2;
        for (int k = 0; k < 6; k++) {
            const double want = a->v[it][k], d = fabs(b->v[it][k] - want);
            const double tol = stretch == 0 ? 1e-5 + LOSS_TOL_FIRST * fabs(want)
                             : (stretch == 1 ? LOSS_TOL_EARLY : LOSS_TOL_LATE) * (fabs(want) + LOSS_SCALE_FLOOR);
            if (!(d / tol <= worst[stretch])) worst[stretch] = d / tol;
            if (!(d <= tol)) {
                printf("%s iteration %d %s: %.7g vs %.7g MISMATCH\n", name, it + 1, stat_name[k], want, b->v[it][k]);
                bad++;
            }
        }
    }
    printf("%s losses: largest difference / bound: iteration 1 %.3f, 2-5 %.3f, 6-%d %.3f %s\n", name, worst[0],
           worst[1], COMPARE_ITERS, worst[2], bad ? "MISMATCH" : "ok");
    static const int windows[2][2] = {{5, 10}, {10, COMPARE_ITERS}};
    for (int w = 0; w < 2; w++) {
        for (int k = 0; k < 6; k++) {
            double ma = 0, mb = 0;
            for (int it = windows[w][0]; it < windows[w][1]; it++) { ma += a->v[it][k]; mb += b->v[it][k]; }
            const int len = windows[w][1] - windows[w][0];
            ma /= len;
            mb /= len;
            const double dev = fabs(mb - ma) / (fabs(ma) + LOSS_SCALE_FLOOR);
            if (!(dev <= LOSS_TOL_WINDOW)) {
                printf("%s mean %s over iterations %d-%d: %.6g vs %.6g (%.2e, tol %.1e) MISMATCH\n", name, stat_name[k],
                       windows[w][0] + 1, windows[w][1], ma, mb, dev, LOSS_TOL_WINDOW);
                bad++;
            }
        }
    }
    return bad;
}

// One tensor's iteration-1 gradient: its scale s = <a,b> / <a,a> (a factor wrong somewhere) and the
// rest of the change |b - s a| / |a| (a wrong direction). Returns 1 on a mismatch.
static int compare_gradient(const char *name, int net, const record_tensor *t, const float *got, const float *want,
                            double *worst_scale, double *worst_residual) {
    double aa = 0, ab = 0, rr = 0;
    for (size_t i = 0; i < t->numel; i++) {
        aa += (double)want[i] * want[i];
        ab += (double)want[i] * got[i];
    }
    const double s = aa > 0 ? ab / aa : 1;
    for (size_t i = 0; i < t->numel; i++) {
        const double e = got[i] - s * want[i];
        rr += e * e;
    }
    const double scale = fabs(s - 1), residual = aa > 0 ? sqrt(rr / aa) : sqrt(rr);
    if (!(scale <= *worst_scale)) *worst_scale = scale;
    if (!(residual <= *worst_residual)) *worst_residual = residual;
    if (scale <= GRAD_TOL_SCALE && residual <= GRAD_TOL_RESIDUAL) return 0;
    printf("%s iteration 1 %s %s gradient: scale %.6f, residual %.2e (tol %.1e, %.0e) MISMATCH\n", name, net_name[net],
           t->name, s, residual, GRAD_TOL_SCALE, GRAD_TOL_RESIDUAL);
    return 1;
}

// Iteration 1 moves each weight by the optimiser's first step, a function of that weight's gradient
// alone (Adam: lr g / (|g| + eps); RMSprop: lr g / (sqrt(1 - alpha) |g| + eps)) that changes by no
// more than g does, relatively. A weight whose two gradients agree to 1% therefore moves by the
// same step to 1% of the largest step; the others (gradients near 0, or below a crossing) are
// judged by the gradient check. Returns 1 on a mismatch.
static int compare_updates(const char *name, int net, const train_record *a, const train_record *b) {
    const float *ga = a->grads[net], *gb = b->grads[net], *ua = a->update[net], *ub = b->update[net];
    const double tol = UPDATE_TOL * max_abs(ua, a->n[net]);
    size_t judged = 0, off = 0, worst_i = 0;
    double worst = 0;
    for (size_t i = 0; i < a->n[net]; i++) {
        if (!(fabs((double)gb[i] - ga[i]) <= 1e-2 * fabs(ga[i]))) continue;
        judged++;
        const double d = fabs((double)ub[i] - ua[i]);
        if (!(d <= tol)) off++;
        if (!(d <= worst)) { worst = d; worst_i = i; }
    }
    printf("%s iteration 1 %s updates: %zu of %zu weights with gradients equal to 1%%, %zu of them off by more than"
           " %.2e, worst %.3e at %zu %s\n", name, net_name[net], judged, a->n[net], off, tol, worst, worst_i,
           off ? "MISMATCH" : "ok");
    return off > 0;
}

// G(z) after the last iteration: the mean difference and the share of large ones.
static int compare_fakes(const char *name, const train_record *a, const train_record *b) {
    double sum = 0, worst = 0;
    size_t beyond = 0;
    for (size_t i = 0; i < a->nfake; i++) {
        const double d = fabs((double)b->fake[i] - a->fake[i]);
        sum += d;
        if (!(d <= FAKE_TOL_ELEMENT)) beyond++;
        if (!(d <= worst)) worst = d;
    }
    const double mean = sum / (double)a->nfake;
    const int bad = !(mean <= FAKE_TOL_MEAN) || beyond > a->nfake / 1000;
    printf("%s G(z) after %d iterations: mean |difference| %.2e (tol %.1e), %zu of %zu beyond %.1f (allowed %zu),"
           " largest %.3e %s\n", name, COMPARE_ITERS, mean, FAKE_TOL_MEAN, beyond, a->nfake, FAKE_TOL_ELEMENT,
           a->nfake / 1000, worst, bad ? "MISMATCH" : "ok");
    return bad;
}

int train_record_compare(const char *name, const train_record *a, const train_record *b) {
    int bad = compare_losses(name, a, b);
    for (int k = 0; k < 2; k++) {
        double worst_scale = 0, worst_residual = 0;
        int off = 0;
        for (int t = 0; t < a->ntensors[k]; t++) {
            const record_tensor *rt = &a->tensors[k][t];
            off += compare_gradient(name, k, rt, b->grads[k] + rt->off, a->grads[k] + rt->off, &worst_scale, &worst_residual);
        }
        printf("%s iteration 1 %s gradients, %d tensors: worst |scale - 1| %.2e (tol %.1e), worst residual %.2e"
               " (tol %.0e) %s\n", name, net_name[k], a->ntensors[k], worst_scale, GRAD_TOL_SCALE, worst_residual,
               GRAD_TOL_RESIDUAL, off ? "MISMATCH" : "ok");
        bad += off;
        bad += compare_updates(name, k, a, b);
    }
    return bad + compare_fakes(name, a, b);
}
