// The training run: data order, noise, samples, logs, checkpoints, resume, Ctrl-C and NaN stops.
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dcgan/clock.h"
#include "dcgan/data.h"
#include "dcgan/viz.h"
#include "dcgan/progress.h"
#include "dcgan/run.h"

#define SAMPLE_COUNT 64             // fixed-noise samples of a run: an 8 x 8 grid
#define SAMPLE_COLS 8
#define SAMPLE_MAX_CLASS_ROWS 16    // a conditional run's grid: one row per class, at most 16 rows
#define RING_MAX 64                 // iterations whose statistics wait on the device for one read-back
#define SHUFFLE_STREAM_BASE 1000   // epoch e shuffles with stream SHUFFLE_STREAM_BASE + e

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) {
    stop_requested = sig;
    signal(sig, SIG_DFL);   // a second Ctrl-C ends the process at once
}

typedef struct {
    run_options *o;
    trainer t;
    dcgan_dataset ds;
    run_position pos;
    uint32_t *perm;             // [ds.n] order of the current epoch
    long perm_epoch;
    long batches_per_epoch;
    float *reals[16], *noises[16];
    int32_t *real_classes[16], *fake_classes[16];   // [B] host, conditional runs
    int nsamples;               // fixed-noise samples: 64, or 8 per class row of a conditional run
    float *fixed_noise;         // [nsamples, nz] backend memory
    net_exec sampler;           // G on the fixed noise
    long last_ckpt_iter;
    // Data on the backend: the whole set resident (ds.pixels itself on the CPU), or batches staged
    // through page-locked host buffers when it does not fit.
    const uint8_t *dev_pixels;  // [ds.n, per] backend memory, NULL when staged
    uint8_t *pixels_copy;       // the device copy behind dev_pixels
    uint32_t *dev_perm;         // [ds.n] the epoch's order in backend memory
    long perm_uploaded;         // epoch whose order dev_perm holds
    uint8_t *pinned[2], *staged[2];  // [B, per] host / backend staging buffers
    uint32_t *dev_iota;         // [B] 0..B-1, the gather order of a staged batch
    long staged_batches;
    // Step statistics of the iterations since the last print, read back in one copy.
    float *ring;                // [RING_MAX, 6] backend memory
    long ring_iter[RING_MAX], ring_epoch[RING_MAX];
    int ring_len, ring_used;
} run_state;

static int make_dir(const char *dir, char *err, size_t errlen) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0777) && errno != EEXIST) break;
        *p = '/';
    }
    if (mkdir(tmp, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create output directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

// Indices of the next batch; each epoch is a fresh permutation from its own RNG stream,
// so the order depends only on (seed, epoch) and a resumed run reads the same batches.
static const uint32_t *next_batch(run_state *s) {
    int B = s->t.hp.batch_size;
    if (s->pos.batch_pos >= s->batches_per_epoch) { s->pos.epoch++; s->pos.batch_pos = 0; }
    if (s->perm_epoch != s->pos.epoch) {
        dcgan_rng r = rng_make(s->t.hp.seed, SHUFFLE_STREAM_BASE + (uint64_t)s->pos.epoch);
        rng_permutation(&r, s->perm, (size_t)s->ds.n);
        s->perm_epoch = s->pos.epoch;
    }
    return s->perm + (size_t)(s->pos.batch_pos++) * B;
}

static void load_batches(run_state *s) {
    const train_hparams *h = &s->t.hp;
    const dcgan_backend *be = s->t.be;
    size_t nz = (size_t)h->batch_size * h->cfg.nz;
    size_t img = (size_t)h->batch_size * s->ds.c * s->ds.h * s->ds.w;
    size_t per = img / (size_t)h->batch_size;
    for (int j = 0; j < h->d_steps; j++) {
        const uint32_t *idx = next_batch(s);
        if (h->cfg.nclasses > 0) {
            // Reals carry their labels; fakes get uniform classes from their own stream.
            dcgan_rng r = rng_make(h->seed, RNG_STREAM_FAKE_CLASSES);
            r.offset = s->pos.class_offset;
            for (int b = 0; b < h->batch_size; b++) {
                s->real_classes[j][b] = s->ds.labels[idx[b]];
                s->fake_classes[j][b] = (int32_t)rng_below(&r, (uint32_t)h->cfg.nclasses);
            }
            s->pos.class_offset = r.offset;
        }
        if (s->dev_pixels) {
            const uint32_t *didx = idx;
            if (!be->host_memory) {
                if (s->perm_uploaded != s->perm_epoch) {
                    be->upload(s->dev_perm, s->perm, (size_t)s->ds.n * sizeof(uint32_t));
                    s->perm_uploaded = s->perm_epoch;
                }
                didx = s->dev_perm + (idx - s->perm);
            }
            be->gather_normalize(s->reals[j], s->dev_pixels, didx, h->batch_size, per);
        } else {
            // Staged: gather on the host while the device runs the previous iteration, copy on the
            // side stream, normalise on the device.
            int slot = (int)(s->staged_batches++ & 1);
            be->stage_host_wait(slot);
            for (int b = 0; b < h->batch_size; b++)
                memcpy(s->pinned[slot] + (size_t)b * per, s->ds.pixels + (size_t)idx[b] * per, per);
            be->stage_upload(s->staged[slot], s->pinned[slot], (size_t)h->batch_size * per, slot);
            be->gather_normalize(s->reals[j], s->staged[slot], s->dev_iota, h->batch_size, per);
            be->stage_release(slot);
        }
        be->fill_normal(s->noises[j], nz, h->seed, RNG_STREAM_NOISE, s->pos.noise_offset, 0.0f, 1.0f);
        s->pos.noise_offset += (nz + 3) & ~(size_t)3;
    }
}

static int write_samples(run_state *s, const char *name, char *err, size_t errlen) {
    const dcgan_config *c = &s->t.hp.cfg;
    size_t n = (size_t)s->nsamples * c->nc * c->size * c->size;
    float *host = malloc(n * sizeof(float));
    if (!host) { snprintf(err, errlen, "out of memory writing samples"); return -1; }
    const float *out = net_forward(&s->sampler, s->fixed_noise, BN_RUNNING);
    s->t.be->download(host, out, n * sizeof(float));
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->o->out_dir, name);
    int rc = save_grid_png(path, host, s->nsamples, c->nc, c->size, c->size, SAMPLE_COLS, err, errlen);
    free(host);
    return rc;
}

static int write_real_samples(run_state *s, char *err, size_t errlen) {
    int n = s->ds.n < SAMPLE_COUNT ? s->ds.n : SAMPLE_COUNT;
    size_t per = (size_t)s->ds.c * s->ds.h * s->ds.w;
    float *host = malloc((size_t)n * per * sizeof(float));
    uint32_t idx[SAMPLE_COUNT];
    if (!host) { snprintf(err, errlen, "out of memory writing samples"); return -1; }
    dcgan_rng r = rng_make(s->t.hp.seed, SHUFFLE_STREAM_BASE);
    for (int i = 0; i < n; i++) idx[i] = rng_below(&r, (uint32_t)s->ds.n);
    dataset_batch(&s->ds, idx, n, host);
    char path[4096];
    snprintf(path, sizeof path, "%s/real_samples.png", s->o->out_dir);
    int rc = save_grid_png(path, host, n, s->ds.c, s->ds.h, s->ds.w, 8, err, errlen);
    free(host);
    return rc;
}

// A resumed conditional run must see the classes it was trained on, in the same order.
static int check_same_classes(run_state *s, char *err, size_t errlen) {
    const run_options *o = s->o;
    if (!s->ds.labels || s->ds.nclasses != o->nclasses) {
        snprintf(err, errlen, "the run is conditional on %d classes, the %s dataset has %d", o->nclasses, o->dataset,
                 s->ds.labels ? s->ds.nclasses : 0);
        return -1;
    }
    for (int k = 0; k < o->nclasses; k++)
        if (s->ds.class_names && strcmp(s->ds.class_names[k], o->class_names[k])) {
            snprintf(err, errlen, "class %d of the run is '%s', of the dataset '%s'", k, o->class_names[k],
                     s->ds.class_names[k]);
            return -1;
        }
    return 0;
}

static int checkpoint(run_state *s, char *err, size_t errlen) {
    if (run_save_checkpoint(&s->t, s->o, &s->pos, s->o->out_dir, err, errlen)) return -1;
    s->last_ckpt_iter = s->pos.iter;
    return 0;
}

// Puts the dataset where the ops can read it: resident in backend memory when it fits with room to
// spare (DCGAN_STAGE_DATA=1 forces staging), else staged per batch through page-locked buffers.
static int place_data(run_state *s, char *err, size_t errlen) {
    const dcgan_backend *be = s->t.be;
    int B = s->t.hp.batch_size;
    size_t per = (size_t)s->ds.c * s->ds.h * s->ds.w, bytes = (size_t)s->ds.n * per, fr = 0, total = 0;
    s->ring_len = be->host_memory ? 1 : RING_MAX;
    if (!(s->ring = be->alloc((size_t)s->ring_len * 6 * sizeof(float)))) goto oom;
    if (be->host_memory) { s->dev_pixels = s->ds.pixels; return 0; }
    const char *force = getenv("DCGAN_STAGE_DATA");
    int fits = !(force && !strcmp(force, "1")) && be->mem_info(&fr, &total) == 0 && bytes + ((size_t)512 << 20) < fr;
    if (fits && (s->pixels_copy = be->alloc(bytes)) && (s->dev_perm = be->alloc((size_t)s->ds.n * sizeof(uint32_t)))) {
        be->upload(s->pixels_copy, s->ds.pixels, bytes);
        s->dev_pixels = s->pixels_copy;
        if (s->o->verbose) printf("data: %d images (%.1f MiB) resident in %s memory\n", s->ds.n, bytes / 1048576.0, be->name);
        return 0;
    }
    if (s->pixels_copy) { be->release(s->pixels_copy); s->pixels_copy = NULL; }
    uint32_t *iota = malloc((size_t)B * sizeof(uint32_t));
    if (!iota || !(s->dev_iota = be->alloc((size_t)B * sizeof(uint32_t)))) { free(iota); goto oom; }
    for (int b = 0; b < B; b++) iota[b] = (uint32_t)b;
    be->upload(s->dev_iota, iota, (size_t)B * sizeof(uint32_t));
    free(iota);
    for (int k = 0; k < 2; k++)
        if (!(s->pinned[k] = be->host_alloc((size_t)B * per)) || !(s->staged[k] = be->alloc((size_t)B * per))) goto oom;
    if (s->o->verbose)
        printf("data: %d images (%.1f MiB) staged per batch through page-locked memory\n", s->ds.n, bytes / 1048576.0);
    return 0;
oom:
    snprintf(err, errlen, "out of %s memory for the data buffers of batch size %d", be->name, B);
    return -1;
}

// Pictures of the run (plot at checkpoints, animation at the end) are a convenience: a failure
// is reported and training goes on.
static void refresh_plot(run_state *s, FILE *metrics, progress *pr) {
    char metrics_path[4200], png[4200], err[1024];
    if (metrics) fflush(metrics);
    snprintf(metrics_path, sizeof metrics_path, "%s/metrics.jsonl", s->o->out_dir);
    snprintf(png, sizeof png, "%s/plot.png", s->o->out_dir);
    if (plot_metrics(metrics_path, png, NULL, NULL, err, sizeof err)) {
        progress_break(pr);
        fprintf(stderr, "warning: plot not updated: %s\n", err);
    }
}

static void write_progress_gif(run_state *s) {
    char gif[4200], err[1024];
    snprintf(gif, sizeof gif, "%s/progress.gif", s->o->out_dir);
    int frames = 0;
    if (progress_gif(s->o->out_dir, gif, 20, &frames, err, sizeof err))
        fprintf(stderr, "warning: no progress animation: %s\n", err);
}

static int setup(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    train_hparams *h = &o->hp;
    const char *notice = NULL;
    const dcgan_backend *be = backend_select(o->device, &notice, err, errlen);
    if (!be) return -1;
    if (notice) printf("note: --device auto: %s; using the CPU\n", notice);
    be->set_verbose(o->verbose);
    if (h->d_steps > 16) { snprintf(err, errlen, "--d-steps must be at most 16"); return -1; }
    if (make_dir(o->out_dir, err, errlen)) return -1;
    printf("loading %s%s%s ...\n", o->dataset, o->data_path ? " from " : "", o->data_path ? o->data_path : "");
    dataset_options dopt = {.cache = o->cache ? o->cache : o->out_dir, .classes = o->classes, .strict = o->strict,
                            .progress = 1};
    if (dataset_load_opts(&s->ds, o->dataset, o->data_path, h->cfg.size, h->cfg.nc, h->seed, &dopt, err, errlen))
        return -1;
    if (o->resume && h->cfg.nclasses > 0 && check_same_classes(s, err, errlen)) return -1;
    if (o->conditional && !o->resume) {
        if (!s->ds.labels || s->ds.nclasses < 1) {
            snprintf(err, errlen, "--conditional needs class labels, and the %s dataset%s%s has none", o->dataset,
                     o->data_path ? " at " : "", o->data_path ? o->data_path : "");
            return -1;
        }
        h->cfg.nclasses = s->ds.nclasses;
        o->nclasses = s->ds.nclasses;
        o->class_names = s->ds.class_names;
    }
    if (s->ds.n < h->batch_size) {
        snprintf(err, errlen, "the dataset has %d images, fewer than the batch size %d", s->ds.n, h->batch_size);
        return -1;
    }
    s->batches_per_epoch = s->ds.n / h->batch_size;   // the last partial batch is dropped
    if (trainer_init(&s->t, h, be, err, errlen)) return -1;
    if (o->resume && run_load_checkpoint(&s->t, o->resume, &s->pos, err, errlen)) return -1;
    s->pos.total_iters = o->iters ? o->iters : (long)o->epochs * s->batches_per_epoch / h->d_steps;
    if (s->pos.total_iters < 1) s->pos.total_iters = 1;

    size_t img = (size_t)h->batch_size * h->cfg.nc * h->cfg.size * h->cfg.size;
    s->perm = malloc((size_t)s->ds.n * sizeof(uint32_t));
    // A conditional run's grid has one row per class (the first 16), each row the same 8 latent
    // vectors: columns differ by z only, rows by class only.
    int K = h->cfg.nclasses, rows = K < SAMPLE_MAX_CLASS_ROWS ? K : SAMPLE_MAX_CLASS_ROWS;
    s->nsamples = K > 0 ? rows * SAMPLE_COLS : SAMPLE_COUNT;
    s->fixed_noise = be->alloc((size_t)s->nsamples * h->cfg.nz * sizeof(float));
    int failed = !s->perm || !s->fixed_noise;
    for (int j = 0; j < h->d_steps && !failed; j++) {
        s->reals[j] = be->alloc(img * sizeof(float));
        s->noises[j] = be->alloc((size_t)h->batch_size * h->cfg.nz * sizeof(float));
        failed = !s->reals[j] || !s->noises[j];
        if (!failed && K > 0) {
            s->real_classes[j] = malloc((size_t)h->batch_size * sizeof(int32_t));
            s->fake_classes[j] = malloc((size_t)h->batch_size * sizeof(int32_t));
            failed = !s->real_classes[j] || !s->fake_classes[j];
        }
    }
    if (failed || net_exec_init(&s->sampler, &s->t.G, s->nsamples, NULL)) {
        snprintf(err, errlen, "out of memory for the training buffers");
        return -1;
    }
    s->perm_epoch = s->perm_uploaded = -1;
    if (place_data(s, err, errlen)) return -1;
    if (K > 0) {
        size_t row = (size_t)SAMPLE_COLS * h->cfg.nz;
        int32_t classes[SAMPLE_MAX_CLASS_ROWS * SAMPLE_COLS];
        be->fill_normal(s->fixed_noise, row, h->seed, RNG_STREAM_FIXED_NOISE, 0, 0.0f, 1.0f);
        for (int r = 0; r < rows; r++) {
            if (r) be->copy(s->fixed_noise + r * row, s->fixed_noise, row * sizeof(float));
            for (int c = 0; c < SAMPLE_COLS; c++) classes[r * SAMPLE_COLS + c] = r;
        }
        net_set_classes(&s->sampler, classes);
    } else {
        be->fill_normal(s->fixed_noise, (size_t)SAMPLE_COUNT * h->cfg.nz, h->seed, RNG_STREAM_FIXED_NOISE, 0, 0.0f, 1.0f);
    }
    return 0;
}

static void teardown(run_state *s) {
    const dcgan_backend *be = s->t.be;
    if (be) {
        for (int j = 0; j < 16; j++) {
            if (s->reals[j]) be->release(s->reals[j]);
            if (s->noises[j]) be->release(s->noises[j]);
            free(s->real_classes[j]);
            free(s->fake_classes[j]);
        }
        if (s->fixed_noise) be->release(s->fixed_noise);
        net_exec_free(&s->sampler);
        void *bufs[] = {s->pixels_copy, s->dev_perm, s->staged[0], s->staged[1], s->dev_iota, s->ring};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(bufs[i]);
        for (int k = 0; k < 2; k++) if (s->pinned[k]) be->host_release(s->pinned[k]);
    }
    trainer_free(&s->t);
    dataset_free(&s->ds);
    free(s->perm);
}

static int finite_stats(const step_stats *st) {
    return isfinite(st->loss_d_real) && isfinite(st->loss_d_fake) && isfinite(st->loss_g);
}

// Reads back the buffered step statistics, checks them and logs them; -1 at the first non-finite loss.
static int flush_stats(run_state *s, progress *pr, char *err, size_t errlen) {
    float host[RING_MAX * 6];
    int n = s->ring_used;
    s->ring_used = 0;
    s->t.be->download(host, s->ring, (size_t)n * 6 * sizeof(float));
    for (int k = 0; k < n; k++) {
        const float *v = host + 6 * k;
        step_stats st = {.loss_d_real = v[0], .d_x = v[1], .loss_d_fake = v[2], .d_g_z1 = v[3], .loss_g = v[4],
                         .d_g_z2 = v[5]};
        if (!finite_stats(&st)) {
            progress_break(pr);
            snprintf(err, errlen, "loss became non-finite at iteration %ld (Loss_D %g, Loss_G %g); stopped without"
                     " saving. The last good checkpoint in %s is from iteration %ld", s->ring_iter[k],
                     st.loss_d_real + st.loss_d_fake, st.loss_g, s->o->out_dir, s->last_ckpt_iter);
            return -1;
        }
        progress_update(pr, s->ring_iter[k], s->ring_epoch[k], &st);
    }
    return 0;
}

static int train_loop(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", o->out_dir);
    FILE *metrics = fopen(path, o->resume ? "a" : "w");
    if (!metrics) { snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)); return 1; }
    progress pr;
    progress_init(&pr, s->pos.iter, s->pos.total_iters, s->t.hp.batch_size * s->t.hp.d_steps, o->log_every, metrics);
    printf("training %s G/D (%d px, nc %d, nz %d, ngf %d, ndf %d) on %s, %s loss, batch %d: iterations %ld -> %ld,"
           " output in %s\n", s->t.be->name, s->t.hp.cfg.size, s->t.hp.cfg.nc, s->t.hp.cfg.nz, s->t.hp.cfg.ngf,
           s->t.hp.cfg.ndf, o->dataset, gan_loss_name(s->t.hp.loss), s->t.hp.batch_size, s->pos.iter,
           s->pos.total_iters, o->out_dir);
    if (s->t.hp.cfg.nclasses > 0)
        printf("conditional on %d classes (%s%s%s%s)\n", s->t.hp.cfg.nclasses, o->class_names[0],
               s->t.hp.cfg.nclasses > 1 ? ", " : "", s->t.hp.cfg.nclasses > 1 ? o->class_names[1] : "",
               s->t.hp.cfg.nclasses > 2 ? ", ..." : "");
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = 0;
    // Wall time spent reading batches, and in whole iterations (on an asynchronous backend the
    // waits for the device land in the read-backs, so only whole iterations are comparable).
    double load_time = 0, iter_time = 0;
    long timed = 0;
    while (s->pos.iter < s->pos.total_iters) {
        double t0 = monotonic_seconds();
        load_batches(s);
        load_time += monotonic_seconds() - t0;
        if (s->t.hp.cfg.nclasses > 0)
            trainer_iteration_cond(&s->t, s->reals, s->real_classes, s->noises, s->fake_classes, NULL);
        else
            trainer_iteration(&s->t, s->reals, s->noises, NULL);
        // The statistics stay on the device until a line is printed or something is saved.
        s->t.be->copy(s->ring + (size_t)s->ring_used * 6, s->t.stats, 6 * sizeof(float));
        s->ring_iter[s->ring_used] = s->pos.iter + 1;
        s->ring_epoch[s->ring_used++] = s->pos.epoch;
        s->pos.iter++;
        int last = s->pos.iter == s->pos.total_iters;
        int saving = (o->sample_every > 0 && s->pos.iter % o->sample_every == 0) ||
                     (o->ckpt_every > 0 && s->pos.iter % o->ckpt_every == 0);
        if ((s->ring_used == s->ring_len || s->pos.iter % pr.log_every == 0 || last || saving || stop_requested) &&
            flush_stats(s, &pr, err, errlen)) {
            rc = 1;
            break;
        }
        iter_time += monotonic_seconds() - t0;
        timed++;
        if (o->sample_every > 0 && (s->pos.iter % o->sample_every == 0 || last)) {
            snprintf(path, sizeof path, "samples_%06ld.png", s->pos.iter);
            if (write_samples(s, path, err, errlen)) { rc = 1; break; }
        }
        if ((o->ckpt_every > 0 && s->pos.iter % o->ckpt_every == 0) || last) {
            if (checkpoint(s, err, errlen)) { rc = 1; break; }
            refresh_plot(s, metrics, &pr);
        }
        if (stop_requested) {
            progress_break(&pr);
            if (s->last_ckpt_iter != s->pos.iter && checkpoint(s, err, errlen)) { rc = 1; break; }
            printf("interrupted: checkpoint of iteration %ld saved in %s; continue with --resume %s\n",
                   s->pos.iter, o->out_dir, o->out_dir);
            rc = 130;
            break;
        }
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    progress_break(&pr);
    if (timed)
        printf("data loading: %.3f ms per iteration, %.3g%% of the iteration time\n",
               1e3 * load_time / timed, iter_time > 0 ? 100.0 * load_time / iter_time : 0.0);
    fclose(metrics);
    return rc;
}

int run_training(run_options *o) {
    char err[1024] = "";
    if (o->resume) {
        if (run_load_options(o->resume, o, err, sizeof err)) { fprintf(stderr, "error: --resume: %s\n", err); return 1; }
        if (!o->out_dir) o->out_dir = o->resume;
    }
    if (!o->out_dir) o->out_dir = "out";
    run_state s;
    memset(&s, 0, sizeof s);
    s.o = o;
    int rc = 0;
    if (setup(&s, err, sizeof err)) rc = 1;
    else if (!o->resume && write_real_samples(&s, err, sizeof err)) rc = 1;
    else {
        s.last_ckpt_iter = s.pos.iter;
        if (s.pos.iter >= s.pos.total_iters)
            printf("nothing to do: the run already has %ld of %ld iterations\n", s.pos.iter, s.pos.total_iters);
        rc = train_loop(&s, err, sizeof err);
        if ((rc == 0 || rc == 130) && o->sample_every > 0) write_progress_gif(&s);
        if (rc == 0) printf("done: %ld iterations; checkpoints and samples in %s\n", s.pos.iter, o->out_dir);
    }
    if (rc == 1) fprintf(stderr, "error: %s\n", err);
    teardown(&s);
    return rc;
}
