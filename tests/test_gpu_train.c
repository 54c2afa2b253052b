// Same seed, same data, 20 training iterations on the CPU backend and on the CUDA backend: the
// losses and mean D outputs of every iteration must agree. Exits 77 without a CUDA device.
//
// Tolerance: in the first iteration the two backends differ only by fp32 rounding order (cuDNN in
// FMA math, no TF32), ~1e-6 relative, so the losses must agree to 1e-4. Afterwards the differences
// grow: Adam divides by sqrt(v), so a weight whose gradient is near zero can move by up to a full
// step (lr = 2e-4) in different directions on the two backends, and the GAN's two players feed
// each other's differences back. Over 20 iterations this stays well under 2e-2 relative (+ 2e-3
// absolute) on losses of size ~1, while any wrong op (a layout, index or formula error) shifts the
// losses by 0.1 or more within a few iterations. WGAN (RMSprop, clipping, 5 D steps) is checked the
// same way.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/data.h"
#include "dcgan/rng.h"
#include "dcgan/train.h"
#include "test_util.h"

#define ITERS 20

typedef struct { double v[ITERS][6]; float *fake; size_t nfake; } run_result;

static int run(const dcgan_backend *be, gan_loss loss, const dcgan_dataset *ds, run_result *r) {
    char err[512];
    train_hparams h;
    train_hparams_defaults(&h, loss);
    h.cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 32, .ngf = 32, .ndf = 32};
    h.batch_size = 32;
    h.seed = 7;
    trainer t;
    if (trainer_init(&t, &h, be, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return -1; }
    int B = h.batch_size;
    size_t per = (size_t)ds->c * ds->h * ds->w, nz = (size_t)B * h.cfg.nz;
    uint8_t *pixels = be->host_memory ? ds->pixels : be->alloc((size_t)ds->n * per);
    uint32_t *idx = be->alloc((size_t)B * sizeof(uint32_t)), host_idx[64];
    float *reals[16], *noises[16];
    for (int j = 0; j < h.d_steps; j++) {
        reals[j] = be->alloc((size_t)B * per * sizeof(float));
        noises[j] = be->alloc(nz * sizeof(float));
    }
    if (!be->host_memory) be->upload(pixels, ds->pixels, (size_t)ds->n * per);
    uint64_t offset = 0;
    long batch = 0;
    for (int it = 0; it < ITERS; it++) {
        for (int j = 0; j < h.d_steps; j++, batch++) {
            for (int b = 0; b < B; b++) host_idx[b] = (uint32_t)((batch * B + b * 7) % ds->n);
            be->upload(idx, host_idx, (size_t)B * sizeof(uint32_t));
            be->gather_normalize(reals[j], pixels, idx, B, per);
            be->fill_normal(noises[j], nz, h.seed, RNG_STREAM_NOISE, offset, 0.0f, 1.0f);
            offset += (nz + 3) & ~(size_t)3;
        }
        step_stats st;
        trainer_iteration(&t, reals, noises, &st);
        double v[6] = {st.loss_d_real, st.loss_d_fake, st.loss_g, st.d_x, st.d_g_z1, st.d_g_z2};
        memcpy(r->v[it], v, sizeof v);
    }
    r->nfake = (size_t)B * per;
    r->fake = malloc(r->nfake * sizeof(float));
    be->download(r->fake, t.xg.act[t.G.nlayers - 1], r->nfake * sizeof(float));
    for (int j = 0; j < h.d_steps; j++) { be->release(reals[j]); be->release(noises[j]); }
    be->release(idx);
    if (!be->host_memory) be->release(pixels);
    trainer_free(&t);
    return 0;
}

static void compare_runs(const char *name, const run_result *c, const run_result *g) {
    static const char *what[6] = {"Loss_D_real", "Loss_D_fake", "Loss_G", "D(x)", "D(G(z1))", "D(G(z2))"};
    double worst = 0;
    for (int it = 0; it < ITERS; it++) {
        double rel = it == 0 ? 1e-4 : 2e-2, abs_tol = it == 0 ? 1e-5 : 2e-3;
        printf("%s it %2d:", name, it + 1);
        for (int k = 0; k < 6; k++) {
            double d = fabs(c->v[it][k] - g->v[it][k]);
            if (d > worst) worst = d;
            printf(" %s %.5f/%.5f", what[k], c->v[it][k], g->v[it][k]);
            if (!(d <= abs_tol + rel * fabs(c->v[it][k]))) {
                fprintf(stderr, "FAIL %s iteration %d %s: cpu %.7g cuda %.7g\n", name, it + 1, what[k], c->v[it][k], g->v[it][k]);
                test_failures++;
            }
        }
        printf("\n");
    }
    printf("%s: max |cpu - cuda| over %d iterations: %.3e\n", name, ITERS, worst);
    char label[96];
    snprintf(label, sizeof label, "%s G(z) after %d iterations", name, ITERS);
    check_close(label, g->fake, c->fake, c->nfake, 5e-2, 0);
}

int main(void) {
    setenv("DCGAN_CUDNN_MATH", "fma", 1);
    char err[256];
    const dcgan_backend *gpu = backend_select("cuda", NULL, err, sizeof err);
    if (!gpu) { printf("skipped: %s\n", err); return 77; }
    dcgan_dataset ds;
    if (dataset_load(&ds, "synthetic", NULL, 32, 1, 7, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }
    const gan_loss losses[] = {LOSS_NONSAT, LOSS_WGAN};
    for (int i = 0; i < 2; i++) {
        run_result c, g;
        memset(&c, 0, sizeof c);
        memset(&g, 0, sizeof g);
        if (run(backend_cpu(), losses[i], &ds, &c) == 0 && run(gpu, losses[i], &ds, &g) == 0)
            compare_runs(gan_loss_name(losses[i]), &c, &g);
        free(c.fake);
        free(g.fake);
    }
    dataset_free(&ds);
    return test_summary("test_gpu_train");
}
