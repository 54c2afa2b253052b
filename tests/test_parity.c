// Training parity with PyTorch: replays the fixtures written by tests/make_fixture.py (the PyTorch
// DCGAN example's iteration, 3 iterations per loss) and compares every loss, gradient, running
// statistic and updated weight. Usage: test_parity [cpu|cuda]; exits 77 when the backend is absent.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/ckpt.h"
#include "dcgan/train.h"
#include "fixture_compare.h"
#include "test_util.h"

static const char *LOSSES[] = {"nonsat", "minimax", "ml", "wgan", "lsgan", "hinge"};

static int run_fixture(const char *loss, const dcgan_backend *be) {
    char path[256], err[512], name[160];
    snprintf(path, sizeof path, "fixtures/parity_%s.safetensors", loss);
    st_file f;
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return -1; }
    train_hparams h;
    train_hparams_defaults(&h, (gan_loss)gan_loss_parse(loss));
    h.cfg = (dcgan_config){.size = fixture_meta_int(&f, "size"), .nc = fixture_meta_int(&f, "nc"),
                           .nz = fixture_meta_int(&f, "nz"), .ngf = fixture_meta_int(&f, "ngf"),
                           .ndf = fixture_meta_int(&f, "ndf")};
    h.batch_size = fixture_meta_int(&f, "batch");
    h.d_steps = fixture_meta_int(&f, "d_steps");
    h.lr = fixture_meta_float(&f, "lr");
    h.eps = fixture_meta_float(&f, "eps");
    h.clip = fixture_meta_float(&f, "clip");
    if (!strcmp(st_meta_get(&f, "optimizer"), "rmsprop")) { h.optimizer = OPT_RMSPROP; h.beta2 = fixture_meta_float(&f, "alpha"); }
    else { h.optimizer = OPT_ADAM; h.beta1 = fixture_meta_float(&f, "beta1"); h.beta2 = fixture_meta_float(&f, "beta2"); }
    int iters = fixture_meta_int(&f, "iters");
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
            if (!(r = fixture_need(&f, name))) break;
            snprintf(name, sizeof name, "it%d.d%d.noise", it, j);
            if (!(z = fixture_need(&f, name))) break;
            be->upload(real, r->data, img * sizeof(float));
            be->upload(noise, z->data, nz * sizeof(float));
            trainer_d_grads(&t, real, noise);
            trainer_read_stats(&t, &st);
            snprintf(name, sizeof name, "it%d.d%d.loss_d_real", it, j);
            fixture_compare_scalar(name, st.loss_d_real, fixture_need(&f, name));
            snprintf(name, sizeof name, "it%d.d%d.loss_d_fake", it, j);
            fixture_compare_scalar(name, st.loss_d_fake, fixture_need(&f, name));
            snprintf(name, sizeof name, "it%d.d%d.fake", it, j);
            be->download(host, t.xg.act[t.G.nlayers - 1], img * sizeof(float));
            if (fixture_need(&f, name)) fixture_compare(name, host, st_find(&f, name), 1e-4);
            snprintf(name, sizeof name, "it%d.d%d.grad.D.", it, j);
            fixture_compare_net(&t.D, &f, name, 1, 1, 1e-3);
            trainer_d_update(&t);
        }
        trainer_g_grads(&t);
        trainer_read_stats(&t, &st);
        snprintf(name, sizeof name, "it%d.loss_g", it);
        fixture_compare_scalar(name, st.loss_g, fixture_need(&f, name));
        snprintf(name, sizeof name, "it%d.grad.G.", it);
        fixture_compare_net(&t.G, &f, name, 1, 1, 1e-3);
        trainer_g_update(&t);
        snprintf(name, sizeof name, "it%d.G.", it);
        fixture_compare_net(&t.G, &f, name, 0, 1, 1e-4);
        snprintf(name, sizeof name, "it%d.D.", it);
        fixture_compare_net(&t.D, &f, name, 0, 1, 1e-4);
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
