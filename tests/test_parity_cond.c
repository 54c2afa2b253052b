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
#include "fixture_compare.h"
#include "test_util.h"

// int64 [B] fixture labels -> int32.
static int read_classes(const st_file *f, const char *name, int32_t *out, int B, int K) {
    const st_tensor *t = fixture_need(f, name);
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
    h.cfg = (dcgan_config){.size = fixture_meta_int(&f, "size"), .nc = fixture_meta_int(&f, "nc"),
                           .nz = fixture_meta_int(&f, "nz"), .ngf = fixture_meta_int(&f, "ngf"),
                           .ndf = fixture_meta_int(&f, "ndf"), .nclasses = fixture_meta_int(&f, "nclasses")};
    h.batch_size = fixture_meta_int(&f, "batch");
    h.lr = fixture_meta_float(&f, "lr");
    h.beta1 = fixture_meta_float(&f, "beta1");
    h.beta2 = fixture_meta_float(&f, "beta2");
    h.eps = fixture_meta_float(&f, "eps");
    int iters = fixture_meta_int(&f, "iters"), B = h.batch_size, K = h.cfg.nclasses;
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
        if (!(r = fixture_need(&f, name))) break;
        snprintf(name, sizeof name, "it%d.d0.noise", it);
        if (!(z = fixture_need(&f, name))) break;
        snprintf(name, sizeof name, "it%d.d0.real_classes", it);
        if (read_classes(&f, name, real_c, B, K)) break;
        snprintf(name, sizeof name, "it%d.d0.fake_classes", it);
        if (read_classes(&f, name, fake_c, B, K)) break;
        be->upload(real, r->data, img * sizeof(float));
        be->upload(noise, z->data, nz * sizeof(float));
        trainer_d_grads_cond(&t, real, real_c, noise, fake_c);
        trainer_read_stats(&t, &st);
        snprintf(name, sizeof name, "it%d.d0.loss_d_real", it);
        fixture_compare_scalar(name, st.loss_d_real, fixture_need(&f, name));
        snprintf(name, sizeof name, "it%d.d0.loss_d_fake", it);
        fixture_compare_scalar(name, st.loss_d_fake, fixture_need(&f, name));
        snprintf(name, sizeof name, "it%d.d0.fake", it);
        be->download(host, t.xg.act[t.G.nlayers - 1], img * sizeof(float));
        if (fixture_need(&f, name)) fixture_compare(name, host, st_find(&f, name), 1e-4);
        snprintf(name, sizeof name, "it%d.d0.grad.D.", it);
        fixture_compare_net(&t.D, &f, name, 1, 0, 1e-3);
        trainer_d_update(&t);
        trainer_g_grads(&t);
        trainer_read_stats(&t, &st);
        snprintf(name, sizeof name, "it%d.loss_g", it);
        fixture_compare_scalar(name, st.loss_g, fixture_need(&f, name));
        snprintf(name, sizeof name, "it%d.grad.G.", it);
        fixture_compare_net(&t.G, &f, name, 1, 0, 1e-3);
        trainer_g_update(&t);
        snprintf(name, sizeof name, "it%d.G.", it);
        fixture_compare_net(&t.G, &f, name, 0, 0, 1e-4);
        snprintf(name, sizeof name, "it%d.D.", it);
        fixture_compare_net(&t.D, &f, name, 0, 0, 1e-4);
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
