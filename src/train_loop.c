// The training run: data order, noise, samples, logs, checkpoints, resume, Ctrl-C and NaN stops.
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dcgan/data.h"
#include "dcgan/image.h"
#include "dcgan/progress.h"
#include "dcgan/run.h"

#define SAMPLE_COUNT 64
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
    float *host_batch;          // [B, nc, S, S]
    float *reals[16], *noises[16];
    float *fixed_noise;         // [64, nz] backend memory
    net_exec sampler;           // G on the fixed noise
    long last_ckpt_iter;
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
    for (int j = 0; j < h->d_steps; j++) {
        dataset_batch(&s->ds, next_batch(s), h->batch_size, s->host_batch);
        be->upload(s->reals[j], s->host_batch, img * sizeof(float));
        be->fill_normal(s->noises[j], nz, h->seed, RNG_STREAM_NOISE, s->pos.noise_offset, 0.0f, 1.0f);
        s->pos.noise_offset += (nz + 3) & ~(size_t)3;
    }
}

static int write_samples(run_state *s, const char *name, char *err, size_t errlen) {
    const dcgan_config *c = &s->t.hp.cfg;
    size_t n = (size_t)SAMPLE_COUNT * c->nc * c->size * c->size;
    float *host = malloc(n * sizeof(float));
    if (!host) { snprintf(err, errlen, "out of memory writing samples"); return -1; }
    const float *out = net_forward(&s->sampler, s->fixed_noise, BN_RUNNING);
    s->t.be->download(host, out, n * sizeof(float));
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->o->out_dir, name);
    int rc = save_grid_png(path, host, SAMPLE_COUNT, c->nc, c->size, c->size, 8, err, errlen);
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

static int checkpoint(run_state *s, char *err, size_t errlen) {
    if (run_save_checkpoint(&s->t, s->o, &s->pos, s->o->out_dir, err, errlen)) return -1;
    s->last_ckpt_iter = s->pos.iter;
    return 0;
}

static int setup(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    train_hparams *h = &o->hp;
    const char *notice = NULL;
    const dcgan_backend *be = backend_select(o->device, &notice, err, errlen);
    if (!be) return -1;
    if (notice) printf("note: --device auto: %s; using the CPU\n", notice);
    if (h->d_steps > 16) { snprintf(err, errlen, "--d-steps must be at most 16"); return -1; }
    if (make_dir(o->out_dir, err, errlen)) return -1;
    printf("loading %s%s%s ...\n", o->dataset, o->data_path ? " from " : "", o->data_path ? o->data_path : "");
    dataset_options dopt = {.cache = o->cache ? o->cache : o->out_dir, .classes = o->classes, .strict = o->strict,
                            .progress = 1};
    if (dataset_load_opts(&s->ds, o->dataset, o->data_path, h->cfg.size, h->cfg.nc, h->seed, &dopt, err, errlen))
        return -1;
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
    s->host_batch = malloc(img * sizeof(float));
    s->fixed_noise = be->alloc((size_t)SAMPLE_COUNT * h->cfg.nz * sizeof(float));
    int failed = !s->perm || !s->host_batch || !s->fixed_noise;
    for (int j = 0; j < h->d_steps && !failed; j++) {
        s->reals[j] = be->alloc(img * sizeof(float));
        s->noises[j] = be->alloc((size_t)h->batch_size * h->cfg.nz * sizeof(float));
        failed = !s->reals[j] || !s->noises[j];
    }
    if (failed || net_exec_init(&s->sampler, &s->t.G, SAMPLE_COUNT, NULL)) {
        snprintf(err, errlen, "out of memory for the training buffers");
        return -1;
    }
    s->perm_epoch = -1;
    be->fill_normal(s->fixed_noise, (size_t)SAMPLE_COUNT * h->cfg.nz, h->seed, RNG_STREAM_FIXED_NOISE, 0, 0.0f, 1.0f);
    return 0;
}

static void teardown(run_state *s) {
    const dcgan_backend *be = s->t.be;
    if (be) {
        for (int j = 0; j < 16; j++) {
            if (s->reals[j]) be->release(s->reals[j]);
            if (s->noises[j]) be->release(s->noises[j]);
        }
        if (s->fixed_noise) be->release(s->fixed_noise);
        net_exec_free(&s->sampler);
    }
    trainer_free(&s->t);
    dataset_free(&s->ds);
    free(s->perm);
    free(s->host_batch);
}

static int finite_stats(const step_stats *st) {
    return isfinite(st->loss_d_real) && isfinite(st->loss_d_fake) && isfinite(st->loss_g);
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
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = 0;
    step_stats st;
    double load_time = 0, step_time = 0;   // seconds spent reading batches and in the steps
    long timed = 0;
    while (s->pos.iter < s->pos.total_iters) {
        double t0 = monotonic_seconds();
        load_batches(s);
        double t1 = monotonic_seconds();
        trainer_iteration(&s->t, s->reals, s->noises, &st);
        load_time += t1 - t0;
        step_time += monotonic_seconds() - t1;
        timed++;
        if (!finite_stats(&st)) {
            progress_break(&pr);
            snprintf(err, errlen, "loss became non-finite at iteration %ld (Loss_D %g, Loss_G %g); stopped without"
                     " saving. The last good checkpoint in %s is from iteration %ld", s->pos.iter + 1,
                     st.loss_d_real + st.loss_d_fake, st.loss_g, o->out_dir, s->last_ckpt_iter);
            rc = 1;
            break;
        }
        s->pos.iter++;
        progress_update(&pr, s->pos.iter, s->pos.epoch, &st);
        int last = s->pos.iter == s->pos.total_iters;
        if (o->sample_every > 0 && (s->pos.iter % o->sample_every == 0 || last)) {
            snprintf(path, sizeof path, "samples_%06ld.png", s->pos.iter);
            if (write_samples(s, path, err, errlen)) { rc = 1; break; }
        }
        if ((o->ckpt_every > 0 && s->pos.iter % o->ckpt_every == 0) || last) {
            if (checkpoint(s, err, errlen)) { rc = 1; break; }
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
        printf("data loading: %.3f ms per iteration, %.3g%% of the training step time\n",
               1e3 * load_time / timed, step_time > 0 ? 100.0 * load_time / step_time : 0.0);
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
        if (rc == 0) printf("done: %ld iterations; checkpoints and samples in %s\n", s.pos.iter, o->out_dir);
    }
    if (rc == 1) fprintf(stderr, "error: %s\n", err);
    teardown(&s);
    return rc;
}
