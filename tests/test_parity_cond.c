// Training parity of the class-conditional DCGAN with PyTorch: replays
// fixtures/parity_cond.safetensors (tests/make_fixture_cond.py: the example's iteration with the
// one-hot class appended to z and, as constant planes, to D's input) and compares every loss,
// fake batch, gradient and updated tensor. The same replay runs a second time on a copy of the
// backend without concat_onehot / slice_channels, so the memory-op fallback in net_exec (what a
// backend without those ops uses) is checked against PyTorch too.
// Usage: test_parity_cond [cpu|cuda]; exits 77 when the backend is absent.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/ckpt.h"
#include "dcgan/train.h"
#include "test_util.h"

static int meta_i(const st_file *f, const char *k) { const char *v = st_meta_get(f, k); return v ? atoi(v) : -1; }
static float meta_f(const st_file *f, const char *k) { const char *v = st_meta_get(f, k); return v ? strtof(v, NULL) : NAN; }

static const st_tensor *need(const st_file *f, const char *name) {
    const st_tensor *t = st_find(f, name);
    if (!t) { fprintf(stderr, "FAIL fixture lacks tensor %s\n", name); test_failures++; }
    return t;
}

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

// Tolerances as test_parity: relative to the tensor's scale.
static void compare(const char *label, const float *got, const st_tensor *want, double rel) {
    size_t n = want->nbytes / sizeof(float);
    check_close(label, got, want->data, n, rel * (max_abs(want->data, n) + 1e-6), 1e-3);
}

static void compare_net(dcgan_net *net, const st_file *f, const char *prefix, int grads, double rel) {
    float *params = malloc(net->nparams * sizeof(float)), *stats = malloc((net->nstats + 1) * sizeof(float));
    net->be->download(params, grads ? net->grads : net->params, net->nparams * sizeof(float));
    net->be->download(stats, net->stats, net->nstats * sizeof(float));
    for (int i = 0; i < net->ntensors; i++) {
        const named_tensor *t = &net->tensors[i];
        if (t->is_stat == 2 || (grads && t->is_stat)) continue;
        char name[160];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const st_tensor *want = need(f, name);
        if (want) compare(name, (t->is_stat ? stats : params) + t->off, want, rel);
    }
    free(params);
    free(stats);
}

static void compare_scalar(const char *label, double got, const st_tensor *want) {
    if (!want) return;
    float g = (float)got;
    check_close(label, &g, want->data, 1, 1e-5, 1e-4);
}

// int64 [B] fixture labels -> int32.
static int read_classes(const st_file *f, const char *name, int32_t *out, int B, int K) {
    const st_tensor *t = need(f, name);
    if (!t || t->dtype != ST_I64 || t->nbytes != (size_t)B * sizeof(int64_t)) { test_failures++; return -1; }
    for (int b = 0; b < B; b++) {
        int64_t v;
        memcpy(&v, (const char *)t->data + b * sizeof v, sizeof v);
        out[b] = (int32_t)v;
        CHECK(v >= 0 && v < K);
    }
    return 0;
}

static void replay(const dcgan_backend *be, const char *label) {
    const char *path = "fixtures/parity_cond.safetensors";
    char err[512], name[160];
    st_file f;
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return; }
    train_hparams h;
    train_hparams_defaults(&h, LOSS_NONSAT);
    h.cfg = (dcgan_config){.size = meta_i(&f, "size"), .nc = meta_i(&f, "nc"), .nz = meta_i(&f, "nz"),
                           .ngf = meta_i(&f, "ngf"), .ndf = meta_i(&f, "ndf"), .nclasses = meta_i(&f, "nclasses")};
    h.batch_size = meta_i(&f, "batch");
    h.lr = meta_f(&f, "lr");
    h.beta1 = meta_f(&f, "beta1");
    h.beta2 = meta_f(&f, "beta2");
    h.eps = meta_f(&f, "eps");
    int iters = meta_i(&f, "iters"), B = h.batch_size, K = h.cfg.nclasses;
    trainer t;
    if (trainer_init(&t, &h, be, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; st_free(&f); return; }
    // The conditional state_dict shapes: the first layers take the classes as extra channels.
    CHECK(t.G.tensors[0].shape[0] == h.cfg.nz + K && t.D.tensors[0].shape[1] == h.cfg.nc + K);
    if (ckpt_load_tensors(&t.G, &f, "G.init.", err, sizeof err) || ckpt_load_tensors(&t.D, &f, "D.init.", err, sizeof err)) {
        fprintf(stderr, "FAIL %s: %s\n", path, err);
        test_failures++;
    }
    size_t img = (size_t)B * h.cfg.nc * h.cfg.size * h.cfg.size, nz = (size_t)B * h.cfg.nz;
    float *real = be->alloc(img * sizeof(float)), *noise = be->alloc(nz * sizeof(float));
    float *host = malloc(img * sizeof(float));
    int32_t real_c[64], fake_c[64];
    step_stats st;
    printf("--- conditional, %d classes (%s, %d iterations)\n", K, label, iters);
    int failures_before = test_failures;
    for (int it = 0; it < iters && test_failures == failures_before; it++) {
        const st_tensor *r, *z;
        snprintf(name, sizeof name, "it%d.d0.real", it);
        if (!(r = need(&f, name))) break;
        snprintf(name, sizeof name, "it%d.d0.noise", it);
        if (!(z = need(&f, name))) break;
        snprintf(name, sizeof name, "it%d.d0.real_classes", it);
        if (read_classes(&f, name, real_c, B, K)) break;
        snprintf(name, sizeof name, "it%d.d0.fake_classes", it);
        if (read_classes(&f, name, fake_c, B, K)) break;
        be->upload(real, r->data, img * sizeof(float));
        be->upload(noise, z->data, nz * sizeof(float));
        trainer_d_grads_cond(&t, real, real_c, noise, fake_c);
        trainer_read_stats(&t, &st);
        snprintf(name, sizeof name, "it%d.d0.loss_d_real", it);
        compare_scalar(name, st.loss_d_real, need(&f, name));
        snprintf(name, sizeof name, "it%d.d0.loss_d_fake", it);
        compare_scalar(name, st.loss_d_fake, need(&f, name));
        snprintf(name, sizeof name, "it%d.d0.fake", it);
        be->download(host, t.xg.act[t.G.nlayers - 1], img * sizeof(float));
        if (need(&f, name)) compare(name, host, st_find(&f, name), 1e-4);
        snprintf(name, sizeof name, "it%d.d0.grad.D.", it);
        compare_net(&t.D, &f, name, 1, 1e-3);
        trainer_d_update(&t);
        trainer_g_grads(&t);
        trainer_read_stats(&t, &st);
        snprintf(name, sizeof name, "it%d.loss_g", it);
        compare_scalar(name, st.loss_g, need(&f, name));
        snprintf(name, sizeof name, "it%d.grad.G.", it);
        compare_net(&t.G, &f, name, 1, 1e-3);
        trainer_g_update(&t);
        snprintf(name, sizeof name, "it%d.G.", it);
        compare_net(&t.G, &f, name, 0, 1e-4);
        snprintf(name, sizeof name, "it%d.D.", it);
        compare_net(&t.D, &f, name, 0, 1e-4);
    }
    be->release(real);
    be->release(noise);
    free(host);
    trainer_free(&t);
    st_free(&f);
}

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "cpu";
    char err[256];
    const dcgan_backend *be = backend_select(device, NULL, err, sizeof err);
    if (!be) { printf("skipped: %s\n", err); return 77; }
    replay(be, be->name);
    dcgan_backend fallback = *be;
    fallback.concat_onehot = NULL;
    fallback.slice_channels = NULL;
    replay(&fallback, "memory-op fallback");
    return test_summary("test_parity_cond");
}
