// The moving average of G (--ema) and the two learning rates (--lr-d / --lr-g): the average
// equals, bit for bit, the lerp of G's weights and running statistics taken after every
// iteration; Adam's first step moves D's weights by lr_d and G's by lr_g; the average is saved as
// netG_ema.safetensors, survives --resume bit for bit, and `dcgan sample --ckpt RUN_DIR` draws
// with it unless --no-ema.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/formulas.h"
#include "dcgan/io.h"
#include "dcgan/train.h"
#include "test_util.h"

static float *download(const dcgan_backend *be, const float *src, size_t n) {
    float *h = malloc(n * sizeof(float));
    be->download(be, h, src, n * sizeof(float));
    return h;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void average_follows_g(void) {
    char err[512];
    train_hparams h;
    train_hparams_defaults(&h, LOSS_NONSAT);
    h.cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 16, .ngf = 8, .ndf = 8};
    h.batch_size = 16;
    h.ema = 0.9f;
    h.lr_d = 4e-4f;
    h.lr_g = 1e-4f;
    dcgan_dataset ds;
    trainer t;
    batcher data;
    CHECK(dataset_load(&ds, "synthetic", NULL, 32, 1, 3, err, sizeof err) == 0);
    CHECK(trainer_init(&t, &h, backend_cpu(), err, sizeof err) == 0);
    CHECK(batcher_init(&data, t.be, &ds, h.batch_size, h.d_steps, h.seed, 0, 0, 0, err, sizeof err) == 0);
    CHECK(trainer_bind_data(&t, &data, err, sizeof err) == 0);
    const size_t np = t.G.nparams, ns = t.G.nstats;
    float *avg = download(t.be, t.G.params, np), *avg_stats = download(t.be, t.G.stats, ns);
    float *g0 = download(t.be, t.G.params, np), *d0 = download(t.be, t.D.params, t.D.nparams);
    int same = 1;
    for (int it = 0; it < 5; it++) {
        batcher_prepare(&data);
        trainer_iteration(&t);
        float *g = download(t.be, t.G.params, np), *gs = download(t.be, t.G.stats, ns);
        if (it == 0) {   // Adam's first step is lr * sign(grad) for every weight with a real gradient
            float *d = download(t.be, t.D.params, t.D.nparams);
            double step_g = max_abs_diff(g, g0, np), step_d = max_abs_diff(d, d0, t.D.nparams);
            printf("first step: G moves by up to %.4g (lr_g %g), D by up to %.4g (lr_d %g)\n", step_g, h.lr_g, step_d, h.lr_d);
            CHECK(fabs(step_g - h.lr_g) < 1e-2 * h.lr_g && fabs(step_d - h.lr_d) < 1e-2 * h.lr_d);
            free(d);
        }
        for (size_t i = 0; i < np; i++) avg[i] = lerp_element(avg[i], g[i], 1.0f - h.ema);
        for (size_t i = 0; i < ns; i++) avg_stats[i] = lerp_element(avg_stats[i], gs[i], 1.0f - h.ema);
        float *e = download(t.be, t.G_ema.params, np), *es = download(t.be, t.G_ema.stats, ns);
        same = same && !memcmp(e, avg, np * sizeof(float)) && !memcmp(es, avg_stats, ns * sizeof(float));
        if (it == 4) printf("after 5 iterations the average is %.3g from G (max |difference|)\n", max_abs_diff(e, g, np));
        CHECK(max_abs_diff(e, g, np) > 0);
        free(g); free(gs); free(e); free(es);
    }
    printf("G_ema equals the moving average of G's weights and statistics: %s\n", same ? "bit for bit" : "NO");
    CHECK(same);
    free(avg); free(avg_stats); free(g0); free(d0);
    batcher_free(&data);
    trainer_free(&t);
    dataset_free(&ds);
}

static int same_png(const char *a, const char *b) {
    char err[512];
    uint8_t *pa = NULL, *pb = NULL;
    int wa, ha, ca, wb, hb, cb;
    int same = !png_read(a, &pa, &wa, &ha, &ca, err, sizeof err) && !png_read(b, &pb, &wb, &hb, &cb, err, sizeof err) &&
               wa == wb && ha == hb && ca == cb && !memcmp(pa, pb, (size_t)wa * ha * ca);
    free(pa);
    free(pb);
    return same;
}

static void through_the_binary(void) {
    const char *dir = make_temp_dir("ema");
    char err[4096], a[1024], b[1024];
    const char *common = "--dataset synthetic --device cpu --batch-size 16 --ngf 8 --ndf 8 --nz 16 --ema 0.95 "
                         "--lr-d 3e-4 --lr-g 1e-4 --sample-every 0";
    CHECK(run_dcgan(err, sizeof err, "train %s --iters 6 --out %s/full", common, dir) == 0);
    CHECK(run_dcgan(err, sizeof err, "train %s --iters 3 --out %s/part", common, dir) == 0);
    CHECK(run_dcgan(err, sizeof err, "train --resume %s/part --iters 6", dir) == 0);
    const char *files[] = {"netG_ema.safetensors", "netG.safetensors", "netD.safetensors"};
    snprintf(a, sizeof a, "%s/full", dir);
    snprintf(b, sizeof b, "%s/part", dir);
    for (int i = 0; i < 3; i++) CHECK(same_tensors("resume vs uninterrupted", a, b, files[i]));
    // sample --ckpt RUN_DIR: the average; --no-ema: G.
    CHECK(run_dcgan(err, sizeof err, "sample --ckpt %s/full --device cpu --count 8 --grid %s/dir.png", dir, dir) == 0);
    CHECK(run_dcgan(err, sizeof err, "sample --ckpt %s/full/netG_ema.safetensors --device cpu --count 8 --grid %s/ema.png",
                    dir, dir) == 0);
    CHECK(run_dcgan(err, sizeof err, "sample --ckpt %s/full --no-ema --device cpu --count 8 --grid %s/raw.png", dir, dir) == 0);
    CHECK(run_dcgan(err, sizeof err, "sample --ckpt %s/full/netG.safetensors --device cpu --count 8 --grid %s/g.png", dir,
                    dir) == 0);
    snprintf(a, sizeof a, "%s/dir.png", dir);
    snprintf(b, sizeof b, "%s/ema.png", dir);
    CHECK(same_png(a, b));
    snprintf(a, sizeof a, "%s/raw.png", dir);
    snprintf(b, sizeof b, "%s/g.png", dir);
    CHECK(same_png(a, b));
    snprintf(b, sizeof b, "%s/ema.png", dir);
    CHECK(!same_png(a, b));
    printf("sample --ckpt RUN_DIR draws with netG_ema, --no-ema with netG\n");
    // Out of range: one line and a non-zero exit.
    int rc = run_dcgan(err, sizeof err, "train --dataset synthetic --ema 1.5 --iters 1 --out %s/bad", dir);
    printf("exit %d: %s", rc, err);
    CHECK(rc != 0 && strstr(err, "--ema"));
}

int main(int argc, char **argv) {
    test_dcgan_bin(argc, argv, "test_ema");
    average_follows_g();
    through_the_binary();
    return test_summary("test_ema");
}
