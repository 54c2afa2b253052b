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
#include "dcgan/train.h"
#include "dcgan/viz.h"

#define SAMPLE_COUNT 64             // fixed-noise samples of a run: an 8 x 8 grid
#define SAMPLE_COLS 8
#define SAMPLE_MAX_CLASS_ROWS 16    // a conditional run's grid: one row per class, at most 16 rows
#define RING_MAX 64                 // iterations whose statistics wait on the device for one read-back

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) {
    stop_requested = sig;
    signal(sig, SIG_DFL);   // a second Ctrl-C ends the process at once
}

typedef struct {
    run_options *o;
    trainer t;
    dcgan_dataset ds;
    batcher data;
    run_position pos;
    int nsamples;               // fixed-noise samples: 64, or 8 per class row of a conditional run
    float *fixed_noise;         // [nsamples, nz] backend memory
    net_exec sampler;           // G on the fixed noise
    long last_ckpt_iter;
    // Step statistics of the iterations since the last print, read back in one copy.
    float *ring;                // [RING_MAX, 6] backend memory
    int64_t *ring_slot;         // backend memory: the next slot ring_push writes
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

// The fixed-noise grid of iteration `iter`: the PNG, and the same picture in the TensorBoard file.
static int write_samples(run_state *s, progress *pr, long iter, char *err, size_t errlen) {
    const dcgan_config *c = &s->t.hp.cfg;
    size_t n = (size_t)s->nsamples * c->nc * c->size * c->size;
    float *host = malloc(n * sizeof(float));
    if (!host) { snprintf(err, errlen, "out of memory writing samples"); return -1; }
    const void *out = net_forward(&s->sampler, s->fixed_noise, BN_RUNNING);
    s->t.be->download(s->t.be, host, out, n * sizeof(float));
    int gw = 0, gh = 0;
    uint8_t *grid = image_grid(host, s->nsamples, c->nc, c->size, c->size, SAMPLE_COLS, 2, &gw, &gh);
    free(host);
    if (!grid) { snprintf(err, errlen, "out of memory writing samples"); return -1; }
    char path[4096], why[512];
    snprintf(path, sizeof path, "%s/samples_%06ld.png", s->o->out_dir, iter);
    int rc = png_write(path, grid, gw, gh, c->nc, err, errlen);
    if (!rc && pr->tb && tb_image(pr->tb, "samples", iter, grid, gw, gh, c->nc, why, sizeof why)) progress_tb_failed(pr, why);
    free(grid);
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

// The run's position from the trainer's counters (in backend memory), and back.
static void read_position(run_state *s) {
    train_counters c;
    trainer_get_counters(&s->t, &c);
    long bpe = s->data.src.desc.batches_per_epoch;
    s->pos.epoch = (long)(c.cursor / bpe);
    s->pos.batch_pos = (long)(c.cursor % bpe);
    s->pos.noise_offset = c.noise_offset;
    s->pos.class_offset = c.class_offset;
    s->pos.steps_g = (long)c.steps_g;
    s->pos.steps_d = (long)c.steps_d;
}

static void write_position(run_state *s) {
    train_counters c = {.steps_g = s->pos.steps_g, .steps_d = s->pos.steps_d,
                        .cursor = (int64_t)s->pos.epoch * s->data.src.desc.batches_per_epoch + s->pos.batch_pos,
                        .noise_offset = s->pos.noise_offset, .class_offset = s->pos.class_offset};
    trainer_set_counters(&s->t, &c);
    batcher_seek(&s->data, c.cursor);
}

static int checkpoint(run_state *s, char *err, size_t errlen) {
    read_position(s);
    if (run_save_checkpoint(&s->t, s->o, &s->pos, s->o->out_dir, err, errlen)) return -1;
    s->last_ckpt_iter = s->pos.iter;
    return 0;
}

// Puts the dataset where the data op reads it (DCGAN_STAGE_DATA=1 forces staging through host
// memory) and the statistics ring beside it.
static int place_data(run_state *s, char *err, size_t errlen) {
    const dcgan_backend *be = s->t.be;
    const train_hparams *h = &s->t.hp;
    const char *force = getenv("DCGAN_STAGE_DATA");
    s->ring_len = be->host_memory ? 1 : RING_MAX;
    if (!(s->ring = be->alloc(be, (size_t)s->ring_len * 6 * sizeof(float))) ||
        !(s->ring_slot = be->alloc(be, sizeof(int64_t)))) {
        snprintf(err, errlen, "out of %s memory for the training buffers", be->name);
        return -1;
    }
    if (batcher_init(&s->data, be, &s->ds, h->batch_size, h->d_steps, h->seed, h->cfg.nclasses > 0,
                     force && !strcmp(force, "1"), s->o->verbose, err, errlen))
        return -1;
    write_position(s);
    trainer_bind_data(&s->t, &s->data.src);
    return 0;
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
    be->set_verbose(be, o->verbose);
    if (h->d_steps > TRAIN_MAX_D_STEPS) { snprintf(err, errlen, "--d-steps must be at most %d", TRAIN_MAX_D_STEPS); return -1; }
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
    long batches_per_epoch = s->ds.n / h->batch_size;   // the last partial batch is dropped
    if (trainer_init(&s->t, h, be, err, errlen)) return -1;
    if (o->resume && run_load_checkpoint(&s->t, o->resume, &s->pos, err, errlen)) return -1;
    s->pos.total_iters = o->iters ? o->iters : (long)o->epochs * batches_per_epoch / h->d_steps;
    if (s->pos.total_iters < 1) s->pos.total_iters = 1;

    // A conditional run's grid has one row per class (the first 16), each row the same 8 latent
    // vectors: columns differ by z only, rows by class only.
    int K = h->cfg.nclasses, rows = K < SAMPLE_MAX_CLASS_ROWS ? K : SAMPLE_MAX_CLASS_ROWS;
    s->nsamples = K > 0 ? rows * SAMPLE_COLS : SAMPLE_COUNT;
    s->fixed_noise = be->alloc(be, (size_t)s->nsamples * h->cfg.nz * sizeof(float));
    char why[512];
    if (!s->fixed_noise || net_exec_init(&s->sampler, h->ema > 0 ? &s->t.G_ema : &s->t.G, s->nsamples, NULL, NULL, why, sizeof why)) {
        snprintf(err, errlen, "out of memory for the training buffers");
        return -1;
    }
    if (place_data(s, err, errlen)) return -1;
    if (K > 0) {
        size_t row = (size_t)SAMPLE_COLS * h->cfg.nz;
        int32_t classes[SAMPLE_MAX_CLASS_ROWS * SAMPLE_COLS];
        noise_desc nd = {.n = row, .seed = h->seed, .stream = RNG_STREAM_FIXED_NOISE, .mean = 0.0f, .std = 1.0f};
        be->noise_normal(be, s->fixed_noise, NULL, &nd);
        for (int r = 0; r < rows; r++) {
            if (r) be->copy(be, s->fixed_noise + r * row, s->fixed_noise, row * sizeof(float));
            for (int c = 0; c < SAMPLE_COLS; c++) classes[r * SAMPLE_COLS + c] = r;
        }
        net_set_classes(&s->sampler, classes);
    } else {
        noise_desc nd = {.n = (size_t)SAMPLE_COUNT * h->cfg.nz, .seed = h->seed, .stream = RNG_STREAM_FIXED_NOISE,
                         .mean = 0.0f, .std = 1.0f};
        be->noise_normal(be, s->fixed_noise, NULL, &nd);
    }
    return 0;
}

static void teardown(run_state *s) {
    const dcgan_backend *be = s->t.be;
    if (be) {
        net_exec_free(&s->sampler);
        void *bufs[] = {s->fixed_noise, s->ring, s->ring_slot};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(be, bufs[i]);
    }
    batcher_free(&s->data);
    trainer_free(&s->t);
    dataset_free(&s->ds);
}

static int finite_stats(const step_stats *st) {
    return isfinite(st->loss_d_real) && isfinite(st->loss_d_fake) && isfinite(st->loss_g);
}

// Reads back the buffered step statistics, checks them and logs them; -1 at the first non-finite loss.
static int flush_stats(run_state *s, progress *pr, char *err, size_t errlen) {
    float host[RING_MAX * 6];
    int n = s->ring_used;
    s->ring_used = 0;
    s->t.be->download(s->t.be, host, s->ring, (size_t)n * 6 * sizeof(float));
    s->t.be->zero(s->t.be, s->ring_slot, sizeof(int64_t));
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
    tb_writer tb;
    char why[512];
    if (!o->no_tensorboard) {
        if (tb_open(&tb, o->out_dir, why, sizeof why) == 0) pr.tb = &tb;
        else fprintf(stderr, "warning: no TensorBoard events: %s\n", why);
    }
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
        batcher_prepare(&s->data);
        load_time += monotonic_seconds() - t0;
        trainer_iteration(&s->t);
        // The statistics stay on the device until a line is printed or something is saved.
        s->t.be->ring_push(s->t.be, s->ring, s->t.stats, 6, s->ring_slot, s->ring_len);
        s->ring_iter[s->ring_used] = s->pos.iter + 1;
        s->ring_epoch[s->ring_used++] = batcher_epoch(&s->data, s->data.cursor - 1);
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
            if (write_samples(s, &pr, s->pos.iter, err, errlen)) { rc = 1; break; }
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
    if (pr.tb) tb_close(pr.tb);
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
