// Comparisons of a training step against a PyTorch fixture.
//
// Bounds. PyTorch and we sum in other orders (and our backends and CPUs among themselves), so an
// output may differ by the rounding of its sum: for K terms at most about K * 2^-24 of the sum of
// their magnitudes. The fixtures' model is tiny (ngf = ndf = 8, batch 4): K is at most ~1,000, a
// worst case of 6e-5 of a sum's magnitude. Each tensor is compared element by element against
// rel times its largest value plus 1e-3 of the element's own: 1e-4 for forward values and updated
// weights, 1e-3 for gradients (their sums cancel more). Adam's first step is lr * sign(g), so an
// updated weight agrees unless its gradient is within rounding of 0 (a step the other way, 2 lr,
// beyond the bound); the fixtures' smallest nonzero gradients are 2.4e-7 of their tensor's largest
// and keep their signs. Measured over eight summation orders (OpenBLAS's Cooperlake, SkylakeX,
// Haswell and Prescott kernels; oneDNN at AVX-512 and AVX2; 1, 2 and 3 threads): at most 0.23 of
// the bound.
#include "fixture_compare.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_util.h"

int fixture_meta_int(const st_file *f, const char *key) {
    const char *v = st_meta_get(f, key);
    return v ? atoi(v) : -1;
}

float fixture_meta_float(const st_file *f, const char *key) {
    const char *v = st_meta_get(f, key);
    return v ? strtof(v, NULL) : NAN;
}

const st_tensor *fixture_need(const st_file *f, const char *name) {
    const st_tensor *t = st_find(f, name);
    if (!t) { fprintf(stderr, "FAIL fixture lacks tensor %s\n", name); test_failures++; }
    return t;
}

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

void fixture_compare(const char *label, const float *got, const st_tensor *want, double rel) {
    size_t n = want->nbytes / sizeof(float);
    const float *w = want->data;
    check_close(label, got, w, n, rel * (max_abs(w, n) + 1e-6), 1e-3);
}

void fixture_compare_scalar(const char *label, double got, const st_tensor *want) {
    if (!want) return;
    float g = (float)got;
    check_close(label, &g, want->data, 1, 1e-5, 1e-4);
}

void fixture_compare_net(const dcgan_net *net, const st_file *f, const char *prefix, int grads, int counts,
                         double rel) {
    const dcgan_backend *be = net->be;
    float *params = malloc(net->nparams * sizeof(float)), *stats = malloc((net->nstats + 1) * sizeof(float));
    int64_t *counted = malloc((size_t)(net->nbn + 1) * sizeof(int64_t));
    be->download(be, params, grads ? net->grads : net->params, net->nparams * sizeof(float));
    be->download(be, stats, net->stats, net->nstats * sizeof(float));
    be->download(be, counted, net->num_batches_tracked, (size_t)net->nbn * sizeof(int64_t));
    for (int i = 0; i < net->ntensors; i++) {
        const named_tensor *t = &net->tensors[i];
        if ((grads && t->role != TENSOR_PARAM) || (!counts && t->role == TENSOR_COUNT)) continue;
        char name[160];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const st_tensor *want = fixture_need(f, name);
        if (!want) continue;
        if (t->role == TENSOR_COUNT) {
            int64_t expect;
            memcpy(&expect, want->data, sizeof expect);
            if (counted[t->off] != expect) {
                fprintf(stderr, "FAIL %s: %lld, expected %lld\n", name, (long long)counted[t->off], (long long)expect);
                test_failures++;
            }
            continue;
        }
        fixture_compare(name, (t->role == TENSOR_STAT ? stats : params) + t->off, want, rel);
    }
    free(params);
    free(stats);
    free(counted);
}

void fixture_hparams(const st_file *f, gan_loss loss, train_hparams *h) {
    train_hparams_defaults(h, loss);
    h->cfg = (dcgan_config){.size = fixture_meta_int(f, "size"), .nc = fixture_meta_int(f, "nc"),
                            .nz = fixture_meta_int(f, "nz"), .ngf = fixture_meta_int(f, "ngf"),
                            .ndf = fixture_meta_int(f, "ndf")};
    if (st_meta_get(f, "nclasses")) h->cfg.nclasses = fixture_meta_int(f, "nclasses");
    h->batch_size = fixture_meta_int(f, "batch");
    if (st_meta_get(f, "d_steps")) h->d_steps = fixture_meta_int(f, "d_steps");
    h->lr = fixture_meta_float(f, "lr");
    h->eps = fixture_meta_float(f, "eps");
    if (st_meta_get(f, "clip")) h->clip = fixture_meta_float(f, "clip");
    const char *opt = st_meta_get(f, "optimizer");
    if (opt && !strcmp(opt, "rmsprop")) {
        h->optimizer = OPT_RMSPROP;
        h->beta2 = fixture_meta_float(f, "alpha");
    } else {
        h->optimizer = OPT_ADAM;
        h->beta1 = fixture_meta_float(f, "beta1");
        h->beta2 = fixture_meta_float(f, "beta2");
    }
}

// int64 [B] fixture labels -> int32 in backend memory.
static int upload_classes(const st_file *f, const char *name, const dcgan_backend *be, int32_t *dev, int B, int K) {
    const st_tensor *t = fixture_need(f, name);
    if (!t || t->dtype != ST_I64 || t->nbytes != (size_t)B * sizeof(int64_t)) { test_failures++; return -1; }
    int32_t *host = malloc((size_t)B * sizeof(int32_t));
    for (int b = 0; b < B; b++) {
        int64_t v;
        memcpy(&v, (const char *)t->data + b * sizeof v, sizeof v);
        host[b] = (int32_t)v;
        CHECK(v >= 0 && v < K);
    }
    be->upload(be, dev, host, (size_t)B * sizeof(int32_t));
    free(host);
    return 0;
}

// One D step of iteration it: its inputs uploaded, the step, its losses, fakes and D's gradients.
static int replay_d_step(const st_file *f, trainer *t, int it, int j, int counts, float *real, float *noise,
                         int32_t *classes[2], float *host) {
    const dcgan_backend *be = t->be;
    const train_hparams *h = &t->hp;
    const int B = h->batch_size, K = h->cfg.nclasses;
    size_t img = (size_t)B * h->cfg.nc * h->cfg.size * h->cfg.size, nz = (size_t)B * h->cfg.nz;
    char name[160];
    const st_tensor *r, *z;
    snprintf(name, sizeof name, "it%d.d%d.real", it, j);
    if (!(r = fixture_need(f, name))) return -1;
    snprintf(name, sizeof name, "it%d.d%d.noise", it, j);
    if (!(z = fixture_need(f, name))) return -1;
    be->upload(be, real, r->data, img * sizeof(float));
    be->upload(be, noise, z->data, nz * sizeof(float));
    if (K > 0) {
        snprintf(name, sizeof name, "it%d.d%d.real_classes", it, j);
        if (upload_classes(f, name, be, classes[0], B, K)) return -1;
        snprintf(name, sizeof name, "it%d.d%d.fake_classes", it, j);
        if (upload_classes(f, name, be, classes[1], B, K)) return -1;
    }
    trainer_d_grads(t, real, K > 0 ? classes[0] : NULL, noise, K > 0 ? classes[1] : NULL);
    step_stats st;
    trainer_read_stats(t, &st);
    snprintf(name, sizeof name, "it%d.d%d.loss_d_real", it, j);
    fixture_compare_scalar(name, st.loss_d_real, fixture_need(f, name));
    snprintf(name, sizeof name, "it%d.d%d.loss_d_fake", it, j);
    fixture_compare_scalar(name, st.loss_d_fake, fixture_need(f, name));
    snprintf(name, sizeof name, "it%d.d%d.fake", it, j);
    be->download(be, host, t->xg.act[t->G.nlayers - 1], img * sizeof(float));
    if (fixture_need(f, name)) fixture_compare(name, host, st_find(f, name), 1e-4);
    snprintf(name, sizeof name, "it%d.d%d.grad.D.", it, j);
    fixture_compare_net(&t->D, f, name, 1, counts, 1e-3);
    trainer_d_update(t);
    return 0;
}

void fixture_replay(const st_file *f, trainer *t, int counts) {
    const dcgan_backend *be = t->be;
    const train_hparams *h = &t->hp;
    char err[512], name[160];
    if (ckpt_load_tensors(&t->G, f, "G.init.", err, sizeof err) || ckpt_load_tensors(&t->D, f, "D.init.", err, sizeof err)) {
        fprintf(stderr, "FAIL fixture: %s\n", err);
        test_failures++;
        return;
    }
    const int B = h->batch_size, iters = fixture_meta_int(f, "iters");
    size_t img = (size_t)B * h->cfg.nc * h->cfg.size * h->cfg.size, nz = (size_t)B * h->cfg.nz;
    float *real = be->alloc(be, img * sizeof(float)), *noise = be->alloc(be, nz * sizeof(float));
    int32_t *classes[2] = {be->alloc(be, (size_t)B * sizeof(int32_t)), be->alloc(be, (size_t)B * sizeof(int32_t))};
    float *host = malloc(img * sizeof(float));
    int failures_before = test_failures;   // stop at the first mismatching iteration
    for (int it = 0; it < iters && test_failures == failures_before; it++) {
        int ok = 1;
        for (int j = 0; j < h->d_steps && ok; j++) ok = replay_d_step(f, t, it, j, counts, real, noise, classes, host) == 0;
        if (!ok) break;
        trainer_g_grads(t);
        step_stats st;
        trainer_read_stats(t, &st);
        snprintf(name, sizeof name, "it%d.loss_g", it);
        fixture_compare_scalar(name, st.loss_g, fixture_need(f, name));
        snprintf(name, sizeof name, "it%d.grad.G.", it);
        fixture_compare_net(&t->G, f, name, 1, counts, 1e-3);
        trainer_g_update(t);
        snprintf(name, sizeof name, "it%d.G.", it);
        fixture_compare_net(&t->G, f, name, 0, counts, 1e-4);
        snprintf(name, sizeof name, "it%d.D.", it);
        fixture_compare_net(&t->D, f, name, 0, counts, 1e-4);
    }
    void *bufs[] = {real, noise, classes[0], classes[1]};
    for (int i = 0; i < 4; i++) be->release(be, bufs[i]);
    free(host);
}
