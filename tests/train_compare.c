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
    trainer_bind_data(&t, &data.src);
    dcgan_net *nets[2] = {&t.G, &t.D};
    float *before[2];
    for (int k = 0; k < 2; k++) {
        r->n[k] = nets[k]->nparams;
        before[k] = download_floats(be, nets[k]->params, r->n[k]);
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

// Elements of got beyond tol of want; at most `allowed` may be, and the count is printed.
static int count_off(const char *label, const float *got, const float *want, size_t n, double tol, size_t allowed) {
    size_t off = 0, worst_i = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= tol)) off++;
        if (!(d <= worst)) { worst = d; worst_i = i; }
    }
    int bad = off > allowed;
    printf("%-40s n=%-8zu tol=%.2e off=%zu (allowed %zu) worst=%.3e at %zu %s\n", label, n, tol, off, allowed, worst,
           worst_i, bad ? "MISMATCH" : "ok");
    return bad;
}

// Iteration 1, where the two runs differ only by fp32 rounding (the GPU runs in FMA math):
// - gradients agree to ~1e-6 of each tensor's largest value (the parity tests allow 1e-3 against
//   PyTorch); 1e-3 of the max leaves that margin and still sees a 1% error in any op feeding them;
// - updates: Adam's first step moves every weight by lr * g / (|g| + eps) = lr * sign(g), so a
//   weight moves by the same +-lr on both runs, except where g is so close to 0 that rounding
//   flips its sign (then by 2 lr). Such gradients are rare; up to 0.1% of the weights may differ
//   by more than 1% of lr, while an error in the step size (Adam's bias correction one step off
//   scales every step by 0.94) moves them all.
// Later iterations: Adam divides by sqrt(v), so a weight whose gradient is near zero can move by
// up to a full step in different directions on the two runs, and the GAN's two players feed each
// other's differences back. Over 20 iterations this stays well under 2e-2 relative (+ 2e-3
// absolute) on losses of size ~1, while any wrong op (a layout, index or formula error) shifts the
// losses by 0.1 or more within a few iterations.
int train_record_compare(const char *name, const train_record *a, const train_record *b) {
    static const char *what[6] = {"Loss_D_real", "Loss_D_fake", "Loss_G", "D(x)", "D(G(z1))", "D(G(z2))"};
    static const char *net[2] = {"G", "D"};
    int bad = 0;
    double worst = 0;
    for (int it = 0; it < COMPARE_ITERS; it++) {
        double rel = it == 0 ? 1e-4 : 2e-2, abs_tol = it == 0 ? 1e-5 : 2e-3;
        for (int k = 0; k < 6; k++) {
            double d = fabs(a->v[it][k] - b->v[it][k]);
            if (d > worst) worst = d;
            if (!(d <= abs_tol + rel * fabs(a->v[it][k]))) {
                printf("%s iteration %d %s: %.7g vs %.7g MISMATCH\n", name, it + 1, what[k], a->v[it][k], b->v[it][k]);
                bad++;
            }
        }
    }
    printf("%s: max |loss difference| over %d iterations: %.3e\n", name, COMPARE_ITERS, worst);
    char label[96];
    for (int k = 0; k < 2; k++) {
        const double lr_step = max_abs(a->update[k], a->n[k]);   // lr: every weight moves by about it
        snprintf(label, sizeof label, "%s iteration 1 %s gradients", name, net[k]);
        bad += count_off(label, b->grads[k], a->grads[k], a->n[k], 1e-3 * max_abs(a->grads[k], a->n[k]), 0);
        snprintf(label, sizeof label, "%s iteration 1 %s updates", name, net[k]);
        bad += count_off(label, b->update[k], a->update[k], a->n[k], 1e-2 * lr_step, a->n[k] / 1000);
    }
    snprintf(label, sizeof label, "%s G(z) after %d iterations", name, COMPARE_ITERS);
    bad += count_off(label, b->fake, a->fake, a->nfake, 5e-2, 0);
    return bad;
}
