// The pictures of a run: a grid of G's images on fixed noise every --sample-every iterations (and in
// the TensorBoard file), and real_samples.png of the dataset at the start.
#include <stdlib.h>
#include "dcgan/error.h"
#include "dcgan/viz.h"
#include "run.h"

#define SAMPLE_COUNT 64             // fixed-noise samples of a run: an 8 x 8 grid
#define SAMPLE_COLS 8
#define SAMPLE_MAX_CLASS_ROWS 16    // a conditional run's grid: one row per class, at most 16 rows

// A conditional run's grid has one row per class (the first 16), each row the same 8 latent
// vectors: columns differ by z only, rows by class only.
static void class_rows(run_samples *sm, const dcgan_backend *be, const train_hparams *h, int rows) {
    const size_t row = (size_t)SAMPLE_COLS * h->cfg.nz;
    int32_t classes[SAMPLE_MAX_CLASS_ROWS * SAMPLE_COLS];
    noise_desc nd = {.n = row, .seed = h->seed, .stream = RNG_STREAM_FIXED_NOISE, .mean = 0.0f, .std = 1.0f};
    be->noise_normal(be, sm->noise, NULL, &nd);
    for (int r = 0; r < rows; r++) {
        if (r) be->copy(be, sm->noise + r * row, sm->noise, row * sizeof(float));
        for (int c = 0; c < SAMPLE_COLS; c++) classes[r * SAMPLE_COLS + c] = r;
    }
    net_set_classes(&sm->G, classes);
}

int run_samples_init(run_samples *sm, trainer *t, char *err, size_t errlen) {
    const dcgan_backend *be = t->be;
    const train_hparams *h = &t->hp;
    const int K = h->cfg.nclasses, rows = K < SAMPLE_MAX_CLASS_ROWS ? K : SAMPLE_MAX_CLASS_ROWS;
    sm->count = K > 0 ? rows * SAMPLE_COLS : SAMPLE_COUNT;
    sm->noise = be->alloc(be, (size_t)sm->count * h->cfg.nz * sizeof(float));
    char why[512];
    if (!sm->noise || net_exec_init_forward(&sm->G, h->ema > 0 ? &t->G_ema : &t->G, sm->count, NULL, BN_RUNNING, NULL,
                                            why, sizeof why))
        return set_error(err, errlen, "out of memory for the training buffers");
    if (K > 0) {
        class_rows(sm, be, h, rows);
    } else {
        noise_desc nd = {.n = (size_t)SAMPLE_COUNT * h->cfg.nz, .seed = h->seed, .stream = RNG_STREAM_FIXED_NOISE,
                         .mean = 0.0f, .std = 1.0f};
        be->noise_normal(be, sm->noise, NULL, &nd);
    }
    return 0;
}

void run_samples_free(run_samples *sm, const dcgan_backend *be) {
    net_exec_free(&sm->G);
    if (sm->noise) be->release(be, sm->noise);
    sm->noise = NULL;
}

int run_samples_write(run_samples *sm, const trainer *t, const char *dir, tb_writer *tb, long iter, char *err,
                      size_t errlen) {
    const dcgan_config *c = &t->hp.cfg;
    size_t n = (size_t)sm->count * c->nc * c->size * c->size;
    float *host = malloc(n * sizeof(float));
    if (!host) return set_error(err, errlen, "out of memory writing samples");
    const void *out = net_forward(&sm->G, sm->noise, BN_RUNNING);
    t->be->download(t->be, host, out, n * sizeof(float));
    int gw = 0, gh = 0;
    uint8_t *grid = image_grid(host, sm->count, c->nc, c->size, c->size, SAMPLE_COLS, 2, &gw, &gh);
    free(host);
    if (!grid) return set_error(err, errlen, "out of memory writing samples");
    char path[4096];
    snprintf(path, sizeof path, "%s/samples_%06ld.png", dir, iter);
    int rc = png_write(path, grid, gw, gh, c->nc, err, errlen);
    if (!rc && tb) rc = tb_image(tb, "samples", iter, grid, gw, gh, c->nc, err, errlen);
    free(grid);
    return rc;
}

int run_write_real_samples(const dcgan_dataset *ds, uint64_t seed, const char *dir, char *err, size_t errlen) {
    int n = ds->n < SAMPLE_COUNT ? ds->n : SAMPLE_COUNT;
    size_t per = (size_t)ds->c * ds->h * ds->w;
    float *host = malloc((size_t)n * per * sizeof(float));
    uint32_t idx[SAMPLE_COUNT];
    if (!host) return set_error(err, errlen, "out of memory writing samples");
    dcgan_rng r = rng_make(seed, SHUFFLE_STREAM_BASE);
    for (int i = 0; i < n; i++) idx[i] = rng_below(&r, (uint32_t)ds->n);
    dataset_batch(ds, idx, n, host);
    char path[4096];
    snprintf(path, sizeof path, "%s/real_samples.png", dir);
    int rc = save_grid_png(path, host, n, ds->c, ds->h, ds->w, SAMPLE_COLS, err, errlen);
    free(host);
    return rc;
}
