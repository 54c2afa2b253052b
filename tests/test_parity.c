// Training parity with PyTorch: replays the fixtures written by tests/make_fixture.py (the PyTorch
// DCGAN example's iteration, 3 iterations per loss) and compares every loss, gradient, running
// statistic and updated weight. Usage: test_parity [cpu|cuda]; exits 77 when the backend is absent.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/ckpt.h"
#include "dcgan/train.h"
#include "test_util.h"

static const char *LOSSES[] = {"nonsat", "minimax", "ml", "wgan", "lsgan", "hinge"};

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

// Tolerance relative to the tensor's scale: float32 sums in another order differ by ~1e-6
// relative; Adam's first steps (m / sqrt(v) ~ sign(g)) amplify that only for near-zero gradients.
static void compare(const char *label, const float *got, const st_tensor *want, double rel) {
    size_t n = want->nbytes / sizeof(float);
    const float *w = want->data;
    check_close(label, got, w, n, rel * (max_abs(w, n) + 1e-6), 1e-3);
}

// Compares the net's parameters/stats (or gradients when grads is set) with fixture tensors
// named prefix + state_dict name.
static void compare_net(dcgan_net *net, const st_file *f, const char *prefix, int grads, double rel) {
    float *params = malloc(net->nparams * sizeof(float)), *stats = malloc((net->nstats + 1) * sizeof(float));
    net->be->download(params, grads ? net->grads : net->params, net->nparams * sizeof(float));
    net->be->download(stats, net->stats, net->nstats * sizeof(float));
    for (int i = 0; i < net->ntensors; i++) {
        const named_tensor *t = &net->tensors[i];
        if (grads && t->is_stat) continue;
        char name[160];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const st_tensor *want = need(f, name);
        if (!want) continue;
        if (t->is_stat == 2) {
            int64_t expect;
            memcpy(&expect, want->data, sizeof expect);
            if (net->num_batches_tracked[t->off] != expect) {
                fprintf(stderr, "FAIL %s: %lld, expected %lld\n", name, (long long)net->num_batches_tracked[t->off], (long long)expect);
                test_failures++;
            }
            continue;
        }
        compare(name, (t->is_stat ? stats : params) + t->off, want, rel);
    }
    free(params);
    free(stats);
}

static void compare_scalar(const char *label, double got, const st_tensor *want) {
    if (!want) return;
    float g = (float)got;
    check_close(label, &g, want->data, 1, 1e-5, 1e-4);
}

static int run_fixture(const char *loss, const dcgan_backend *be) {
    char path[256], err[512], name[160];
    snprintf(path, sizeof path, "fixtures/parity_%s.safetensors", loss);
    st_file f;
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return -1; }
    train_hparams h;
    train_hparams_defaults(&h, (gan_loss)gan_loss_parse(loss));
    h.cfg = (dcgan_config){.size = meta_i(&f, "size"), .nc = meta_i(&f, "nc"), .nz = meta_i(&f, "nz"),
                           .ngf = meta_i(&f, "ngf"), .ndf = meta_i(&f, "ndf")};
    h.batch_size = meta_i(&f, "batch");
    h.d_steps = meta_i(&f, "d_steps");
    h.lr = meta_f(&f, "lr");
    h.eps = meta_f(&f, "eps");
    h.clip = meta_f(&f, "clip");
    if (!strcmp(st_meta_get(&f, "optimizer"), "rmsprop")) { h.optimizer = OPT_RMSPROP; h.beta2 = meta_f(&f, "alpha"); }
    else { h.optimizer = OPT_ADAM; h.beta1 = meta_f(&f, "beta1"); h.beta2 = meta_f(&f, "beta2"); }
    int iters = meta_i(&f, "iters");
    trainer t;
    if (trainer_init(&t, &h, be, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; st_free(&f); return -1; }
    if (ckpt_load_tensors(&t.G, &f, "G.init.", err, sizeof err) || ckpt_load_tensors(&t.D, &f, "D.init.", err, sizeof err)) {
        fprintf(stderr, "FAIL %s: %s\n", path, err);
        test_failures++;
    }
    size_t img = (size_t)h.batch_size * h.cfg.nc * h.cfg.size * h.cfg.size, nz = (size_t)h.batch_size * h.cfg.nz;
    float *real = be->alloc(img * sizeof(float)), *noise = be->alloc(nz * sizeof(float));
    float *host = malloc(img * sizeof(float));
    step_stats st;
    printf("--- %s (%s backend, %d iterations, %d D steps each)\n", loss, be->name, iters, h.d_steps);
    int failures_before = test_failures;   // stop this fixture at its first mismatching iteration
    for (int it = 0; it < iters && test_failures == failures_before; it++) {
        for (int j = 0; j < h.d_steps; j++) {
            const st_tensor *r, *z;
            snprintf(name, sizeof name, "it%d.d%d.real", it, j);
            if (!(r = need(&f, name))) break;
            snprintf(name, sizeof name, "it%d.d%d.noise", it, j);
            if (!(z = need(&f, name))) break;
            be->upload(real, r->data, img * sizeof(float));
            be->upload(noise, z->data, nz * sizeof(float));
            trainer_d_grads(&t, real, noise);
            trainer_read_stats(&t, &st);
            snprintf(name, sizeof name, "it%d.d%d.loss_d_real", it, j);
            compare_scalar(name, st.loss_d_real, need(&f, name));
            snprintf(name, sizeof name, "it%d.d%d.loss_d_fake", it, j);
            compare_scalar(name, st.loss_d_fake, need(&f, name));
            snprintf(name, sizeof name, "it%d.d%d.fake", it, j);
            be->download(host, t.xg.act[t.G.nlayers - 1], img * sizeof(float));
            if (need(&f, name)) compare(name, host, st_find(&f, name), 1e-4);
            snprintf(name, sizeof name, "it%d.d%d.grad.D.", it, j);
            compare_net(&t.D, &f, name, 1, 1e-3);
            trainer_d_update(&t);
        }
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
    return 0;
}

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "cpu";
    setenv("DCGAN_CUDNN_MATH", "fma", 1);   // GPU convolutions without TF32: fp32 tolerances
    char err[256];
    const dcgan_backend *be = backend_select(device, NULL, err, sizeof err);
    if (!be) { printf("skipped: %s\n", err); return 77; }
    for (size_t i = 0; i < sizeof LOSSES / sizeof *LOSSES; i++) run_fixture(LOSSES[i], be);
    return test_summary("test_parity");
}
