// The training run: data order, noise, samples, logs, checkpoints, resume, Ctrl-C and NaN stops.
// A data-parallel run (comm.h) runs this on every rank: rank 0 alone writes samples, metrics,
// plots and checkpoints and prints; the ranks agree on every stop (a signal, a failure of one of
// them, a non-finite loss) at fixed points, so none is left waiting in a collective.
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dcgan/comm.h"
#include "dcgan/clock.h"
#include "dcgan/data.h"
#include "dcgan/error.h"
#include "dcgan/train.h"
#include "dcgan/viz.h"

#define SAMPLE_COUNT 64             // fixed-noise samples of a run: an 8 x 8 grid
#define SAMPLE_COLS 8
#define SAMPLE_MAX_CLASS_ROWS 16    // a conditional run's grid: one row per class, at most 16 rows
#define RING_MAX 64                 // iterations whose statistics wait on the device for one read-back

static volatile sig_atomic_t stop_requested = 0;
static volatile sig_atomic_t signal_rank = -1;   // >= 0 in a data-parallel run: say which rank got it
static void on_signal(int sig) {
    stop_requested = sig;
    signal(sig, SIG_DFL);   // a second Ctrl-C ends the process at once
    if (signal_rank >= 0) {
        static const char msg[] = "dcgan: signal received; the ranks stop after this iteration\n";
        if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) stop_requested = sig;
    }
}

typedef struct {
    run_options *o;
    dcgan_comm *comm;           // the ranks (one process: size 1)
    int root;                   // rank 0: writes and prints
    const dcgan_backend *be;
    trainer t;
    dcgan_dataset ds;
    batcher data;
    run_position pos;
    int nsamples;               // fixed-noise samples: 64, or 8 per class row of a conditional run
    float *fixed_noise;         // [nsamples, nz] backend memory
    net_exec sampler;           // G on the fixed noise
    long last_ckpt_iter;
    run_fid fid;                // --fid-every: the network and the reference set (rank 0)
    int fid_open;
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

// The temporary files of a killed process (a checkpoint, a sample grid, the plot it was writing).
static int clean_run_dir(const char *dir, char *err, size_t errlen) {
    int removed = 0;
    if (remove_stale_temps(dir, &removed, err, errlen)) return -1;
    if (removed) printf("note: %s: removed %d temporary file%s left by a killed run\n", dir, removed, removed > 1 ? "s" : "");
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
    char path[4096];
    snprintf(path, sizeof path, "%s/samples_%06ld.png", s->o->out_dir, iter);
    int rc = png_write(path, grid, gw, gh, c->nc, err, errlen);
    if (!rc && pr->tb) rc = tb_image(pr->tb, "samples", iter, grid, gw, gh, c->nc, err, errlen);
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
    s->pos.ranks = s->comm->size;
}

static void write_position(run_state *s) {
    train_counters c = {.steps_g = s->pos.steps_g, .steps_d = s->pos.steps_d,
                        .cursor = (int64_t)s->pos.epoch * s->data.src.desc.batches_per_epoch + s->pos.batch_pos,
                        .noise_offset = s->pos.noise_offset, .class_offset = s->pos.class_offset};
    trainer_set_counters(&s->t, &c);
    batcher_seek(&s->data, c.cursor);
}

// Any rank's failure stops every rank: 0 when none had one; else -1, with err set on the ranks
// whose own step went well (they say nothing more; rank 0 names what happened).
static int agree(run_state *s, int rc, char *err, size_t errlen) {
    if (!comm_max(s->comm, rc != 0)) return 0;
    if (!rc) snprintf(err, errlen, "stopped: another rank failed (its message is above)");
    return -1;
}

// The weights and optimiser state are the same on every rank, or the run stops before saving.
static int check_same_weights(run_state *s, const char *when, char *err, size_t errlen) {
    if (s->comm->size < 2) return 0;
    uint64_t mine = trainer_hash(&s->t), all[4096], *hashes = s->comm->size <= 4096 ? all : malloc(
        (size_t)s->comm->size * sizeof *hashes);
    if (!hashes) { snprintf(err, errlen, "out of memory"); return -1; }
    comm_allgather_u64(s->comm, mine, hashes);
    int bad = -1;
    for (int r = 1; r < s->comm->size && bad < 0; r++) if (hashes[r] != hashes[0]) bad = r;
    if (bad >= 0)
        snprintf(err, errlen, "the weights differ across ranks %s (parameter hash of rank 0 %016llx, of rank %d %016llx):"
                 " the ranks have diverged; stopped without saving. The last good checkpoint in %s is from iteration %ld",
                 when, (unsigned long long)hashes[0], bad, (unsigned long long)hashes[bad], s->o->out_dir,
                 s->last_ckpt_iter);
    if (hashes != all) free(hashes);
    return bad >= 0 ? -1 : 0;
}

// The records up to this iteration reach the disk before the checkpoint that covers them.
static int save_synced(run_state *s, progress *pr, char *err, size_t errlen) {
    if (progress_flush(pr, 1, err, errlen)) return -1;
    return run_save_checkpoint(&s->t, s->o, &s->pos, s->o->out_dir, err, errlen);
}

static int checkpoint(run_state *s, progress *pr, char *err, size_t errlen) {
    read_position(s);
    char when[64];
    snprintf(when, sizeof when, "at iteration %ld", s->pos.iter);
    if (check_same_weights(s, when, err, errlen)) return -1;
    int rc = s->root ? save_synced(s, pr, err, errlen) : 0;
    comm_beat(s->comm, s->pos.iter);
    if (agree(s, rc, err, errlen)) return -1;
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
    if (batcher_init_shard(&s->data, be, &s->ds, h->batch_size, s->comm->rank, s->comm->size, h->d_steps, h->seed,
                           h->cfg.nclasses > 0, force && !strcmp(force, "1"), s->o->verbose && s->root, err, errlen))
        return -1;
    write_position(s);
    trainer_bind_data(&s->t, &s->data.src);
    return 0;
}

// Pictures of the run (plot at checkpoints, animation at the end) are a convenience: a failure
// is reported and training goes on.
static void refresh_plot(run_state *s, progress *pr) {
    char metrics_path[4200], png[4200], err[1024];
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

// A run saved by another number of ranks: its batch_pos counts global batches of that many
// ranks. The position is re-sharded so that no image of the epoch is read twice: the next batch
// step starts at the first whole step of this run's size past the images already read.
static void reshard_position(run_state *s, long bpe) {
    run_position *p = &s->pos;
    const long B = s->t.hp.batch_size, old_ranks = p->ranks > 0 ? p->ranks : 1, ranks = s->comm->size;
    const long images = p->batch_pos * B * old_ranks, step = B * ranks;
    const long old_epoch = p->epoch, old_pos = p->batch_pos;
    p->batch_pos = (images + step - 1) / step;
    if (p->batch_pos >= bpe) { p->epoch++; p->batch_pos = 0; }
    if (s->root)
        printf("note: the run was saved by %ld rank%s and continues on %ld: the data position is re-sharded (epoch %ld,"
               " %ld images read in global batches of %ld x %ld -> epoch %ld, batch %ld of %ld x %ld); weights, optimiser"
               " state, noise positions and the iteration count carry over\n", old_ranks, old_ranks > 1 ? "s" : "", ranks,
               old_epoch, images, old_ranks, B, p->epoch, p->batch_pos, ranks, B);
    (void)old_pos;
    p->ranks = (int)ranks;
}

// Loads the dataset. Rank 0 first, the others after it: rank 0 builds the cache a later rank maps.
static int load_data(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    train_hparams *h = &o->hp;
    dataset_options dopt = {.cache = o->cache ? o->cache : o->out_dir, .classes = o->classes, .strict = o->strict,
                            .progress = s->root};
    comm_watch(s->comm, 0);   // decoding a large dataset may take rank 0 a long time
    int rc = 0;
    if (s->root) {
        printf("loading %s%s%s ...\n", o->dataset, o->data_path ? " from " : "", o->data_path ? o->data_path : "");
        rc = dataset_load_opts(&s->ds, o->dataset, o->data_path, h->cfg.size, h->cfg.nc, h->seed, &dopt, err, errlen);
    }
    if (agree(s, rc, err, errlen)) return -1;
    if (!s->root) rc = dataset_load_opts(&s->ds, o->dataset, o->data_path, h->cfg.size, h->cfg.nc, h->seed, &dopt, err, errlen);
    comm_watch(s->comm, 1);
    return agree(s, rc, err, errlen);
}

// Everything of set-up that a rank does alone; the ranks agree on the outcome after it.
static int setup_local(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    train_hparams *h = &o->hp;
    const dcgan_backend *be = s->be;
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
    const long ranks = s->comm->size, global = (long)h->batch_size * ranks;
    if (s->ds.n < global) {
        if (ranks == 1) snprintf(err, errlen, "the dataset has %d images, fewer than the batch size %d", s->ds.n, h->batch_size);
        else snprintf(err, errlen, "the dataset has %d images, fewer than the global batch of %ld ranks x %d = %ld", s->ds.n,
                      ranks, h->batch_size, global);
        return -1;
    }
    long batches_per_epoch = s->ds.n / global;   // the last partial global batch is dropped
    if (trainer_init(&s->t, h, be, err, errlen)) return -1;
    s->pos.ranks = (int)ranks;
    if (o->resume && run_load_checkpoint(&s->t, o->resume, &s->pos, err, errlen)) return -1;
    if (o->resume && s->pos.ranks != ranks) reshard_position(s, batches_per_epoch);
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

static int setup(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    train_hparams *h = &o->hp;
    const char *notice = NULL;
    // Each rank of a machine takes its own GPU (its local rank) unless --device cuda:K says which.
    const dcgan_backend *be = backend_select_gpu(o->device, s->comm->mpi ? s->comm->local_rank : -1, &notice, err, errlen);
    int rc = be ? 0 : -1;
    if (be) {
        s->be = be;
        if (notice && s->root) printf("note: --device auto: %s; using the CPU\n", notice);
        be->set_verbose(be, o->verbose && s->root);
        if (h->d_steps > TRAIN_MAX_D_STEPS) {
            snprintf(err, errlen, "--d-steps must be at most %d", TRAIN_MAX_D_STEPS);
            rc = -1;
        }
        if (!rc && s->root) rc = make_dir(o->out_dir, err, errlen);
    }
    if (agree(s, rc, err, errlen)) return -1;
    if (load_data(s, err, errlen)) return -1;
    rc = setup_local(s, err, errlen);
    // Once the checkpoint has loaded (a refused one keeps its files for a look).
    if (!rc && s->root) rc = clean_run_dir(o->out_dir, err, errlen);
    if (agree(s, rc, err, errlen)) return -1;
    if (o->fid_every > 0) {
        comm_watch(s->comm, 0);   // the reference set may take rank 0 a long time, once
        rc = s->root ? run_fid_open(&s->fid, o, be, &s->ds, err, errlen) : 0;
        s->fid_open = s->root && !rc;
        comm_watch(s->comm, 1);
        if (agree(s, rc, err, errlen)) return -1;
    }
    if (s->comm->mpi) {
        // From here on the ranks average their gradients; they start from the same weights.
        rc = trainer_attach_comm(&s->t, s->comm, err, errlen);
        if (agree(s, rc, err, errlen)) return -1;
        if (agree(s, check_same_weights(s, "at the start", err, errlen), err, errlen)) return -1;
        if (s->root)
            printf("data parallel: %d ranks on %s, batch %d per rank (global %d), %s batchnorm statistics\n",
                   s->comm->size, be->name, h->batch_size, h->batch_size * s->comm->size,
                   h->sync_bn ? "global (--sync-bn)" : "per-rank");
    }
    return 0;
}

static void teardown(run_state *s) {
    const dcgan_backend *be = s->be;
    if (be) {
        net_exec_free(&s->sampler);
        void *bufs[] = {s->fixed_noise, s->ring, s->ring_slot};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(be, bufs[i]);
    }
    if (s->fid_open) run_fid_close(&s->fid);
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
    if (s->t.comm && n > 0) {
        // The ranks' means: every rank sees the same numbers, so a non-finite loss on any rank
        // stops them all at the same iteration.
        reduce_desc rd = {.n = (size_t)n * 6, .scale = 1.0f / (float)s->comm->size, .slot = 3};
        s->t.be->allreduce(s->t.be, s->ring, &rd);
        s->t.be->allreduce_wait(s->t.be, &rd);
    }
    s->t.be->download(s->t.be, host, s->ring, (size_t)n * 6 * sizeof(float));
    s->t.be->zero(s->t.be, s->ring_slot, sizeof(int64_t));
    int rc = 0;
    for (int k = 0; k < n && !rc; k++) {
        const float *v = host + 6 * k;
        step_stats st = {.loss_d_real = v[0], .d_x = v[1], .loss_d_fake = v[2], .d_g_z1 = v[3], .loss_g = v[4],
                         .d_g_z2 = v[5]};
        if (!finite_stats(&st)) {   // every rank sees the same statistics
            progress_break(pr);
            snprintf(err, errlen, "loss became non-finite at iteration %ld (Loss_D %g, Loss_G %g); stopped without"
                     " saving. The last good checkpoint in %s is from iteration %ld", s->ring_iter[k],
                     st.loss_d_real + st.loss_d_fake, st.loss_g, s->o->out_dir, s->last_ckpt_iter);
            rc = -1;
        } else if (s->root) {
            rc = progress_update(pr, s->ring_iter[k], s->ring_epoch[k], &st, err, errlen);
        }
    }
    if (!rc && s->root) rc = progress_flush(pr, 0, err, errlen);
    return agree(s, rc, err, errlen);
}

// metrics.jsonl and the TensorBoard file, each cut back to the iteration the run starts from.
static int open_logs(run_state *s, const char *metrics_path, FILE **metrics, tb_writer *tb, int *have_tb, char *err,
                     size_t errlen) {
    long dropped = 0;
    if (!(*metrics = metrics_open(metrics_path, s->pos.iter, &dropped, err, errlen))) return -1;
    if (s->o->resume && dropped)
        printf("note: %s: %ld line%s after iteration %ld (the checkpoint) dropped\n", metrics_path, dropped,
               dropped > 1 ? "s" : "", s->pos.iter);
    if (s->o->no_tensorboard) return 0;
    if (tb_open(tb, s->o->out_dir, s->pos.iter, err, errlen)) return -1;
    *have_tb = 1;
    return 0;
}

static int train_loop(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", o->out_dir);
    FILE *metrics = NULL;
    tb_writer tb;
    int have_tb = 0;
    if (agree(s, s->root ? open_logs(s, path, &metrics, &tb, &have_tb, err, errlen) : 0, err, errlen)) {
        if (metrics) fclose(metrics);
        return 1;
    }
    progress pr;
    // images/s of the whole run: every rank's batches
    progress_init(&pr, s->pos.iter, s->pos.total_iters, s->t.hp.batch_size * s->t.hp.d_steps * s->comm->size,
                  o->log_every, metrics, path, have_tb ? &tb : NULL);
    if (s->root) printf("training %s G/D (%d px, nc %d, nz %d, ngf %d, ndf %d) on %s, %s loss, batch %d: iterations %ld -> %ld,"
           " output in %s\n", s->t.be->name, s->t.hp.cfg.size, s->t.hp.cfg.nc, s->t.hp.cfg.nz, s->t.hp.cfg.ngf,
           s->t.hp.cfg.ndf, o->dataset, gan_loss_name(s->t.hp.loss), s->t.hp.batch_size, s->pos.iter,
           s->pos.total_iters, o->out_dir);
    if (s->t.hp.cfg.nclasses > 0 && s->root)
        printf("conditional on %d classes (%s%s%s%s)\n", s->t.hp.cfg.nclasses, o->class_names[0],
               s->t.hp.cfg.nclasses > 1 ? ", " : "", s->t.hp.cfg.nclasses > 1 ? o->class_names[1] : "",
               s->t.hp.cfg.nclasses > 2 ? ", ..." : "");
    fflush(stdout);   // the set-up's lines reach a log even if the run is killed later
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    // mpirun forwards SIGUSR1 to every rank (Ctrl-C makes it kill them): the way to stop a
    // data-parallel run with a checkpoint. A single process takes it too.
    signal(SIGUSR1, on_signal);
    signal_rank = s->comm->size > 1 ? s->comm->rank : -1;
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
        comm_beat(s->comm, s->pos.iter + 1);
        // A signal may reach some ranks only: they stop together, at the end of the same iteration.
        int stop = comm_max(s->comm, stop_requested != 0);
        // The statistics stay on the device until a line is printed or something is saved.
        s->t.be->ring_push(s->t.be, s->ring, s->t.stats, 6, s->ring_slot, s->ring_len);
        s->ring_iter[s->ring_used] = s->pos.iter + 1;
        s->ring_epoch[s->ring_used++] = batcher_epoch(&s->data, s->data.cursor - 1);
        s->pos.iter++;
        int last = s->pos.iter == s->pos.total_iters;
        const int fid_now = o->fid_every > 0 && (s->pos.iter % o->fid_every == 0 || last);
        int saving = (o->sample_every > 0 && s->pos.iter % o->sample_every == 0) ||
                     (o->ckpt_every > 0 && s->pos.iter % o->ckpt_every == 0) || fid_now;
        if ((s->ring_used == s->ring_len || s->pos.iter % pr.log_every == 0 || last || saving || stop) &&
            flush_stats(s, &pr, err, errlen)) {
            rc = 1;
            break;
        }
        iter_time += monotonic_seconds() - t0;
        timed++;
        if (o->sample_every > 0 && (s->pos.iter % o->sample_every == 0 || last)) {
            if (agree(s, s->root ? write_samples(s, &pr, s->pos.iter, err, errlen) : 0, err, errlen)) { rc = 1; break; }
        }
        if (fid_now) {
            progress_break(&pr);
            comm_watch(s->comm, 0);   // rank 0 alone scores G; the others wait for it
            int frc = s->root ? run_fid_eval(&s->fid, o, &s->t, s->pos.iter, &pr, err, errlen) : 0;
            comm_watch(s->comm, 1);
            comm_beat(s->comm, s->pos.iter);
            if (agree(s, frc, err, errlen)) { rc = 1; break; }
        }
        if ((o->ckpt_every > 0 && s->pos.iter % o->ckpt_every == 0) || last) {
            if (checkpoint(s, &pr, err, errlen)) { rc = 1; break; }
            if (s->root) refresh_plot(s, &pr);
        }
        if (stop) {
            progress_break(&pr);
            if (s->last_ckpt_iter != s->pos.iter && checkpoint(s, &pr, err, errlen)) { rc = 1; break; }
            if (s->root) printf("interrupted: checkpoint of iteration %ld saved in %s; continue with --resume %s\n",
                   s->pos.iter, o->out_dir, o->out_dir);
            rc = 130;
            break;
        }
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    progress_break(&pr);
    if (timed && s->root)
        printf("data loading: %.3f ms per iteration, %.3g%% of the iteration time\n",
               1e3 * load_time / timed, iter_time > 0 ? 100.0 * load_time / iter_time : 0.0);
    if (metrics && fclose(metrics) && rc != 1) {
        path_error(err, errlen, path, "write failed: %s", strerror(errno));
        rc = 1;
    }
    if (have_tb && tb_close(&tb, rc != 1 ? err : NULL, errlen) && rc != 1) rc = 1;
    return rc;
}

int run_training(run_options *o) {
    char err[1024] = "";
    dcgan_comm comm;
    if (comm_init(&comm, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        comm_finalize(&comm);
        return 1;
    }
    run_state s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.comm = &comm;
    s.root = comm.rank == 0;
    o->comm = &comm;
    int rc = 0;
    if (o->resume) {
        char why[900] = "";
        int completed = 0;
        rc = s.root ? run_complete_checkpoint(o->resume, &completed, why, sizeof why) : 0;
        if (completed) printf("note: %s: completed the checkpoint that a killed run was saving\n", o->resume);
        rc = agree(&s, rc, why, sizeof why);   // the other ranks read the files once they are whole
        if (!rc) rc = run_load_options(o->resume, o, why, sizeof why);
        if (rc) snprintf(err, sizeof err, "--resume: %s", why);
        if (!o->out_dir) o->out_dir = o->resume;
    }
    if (o->fid_every < 0) o->fid_every = 0;
    if (o->fid_every > 0 && o->fid_count <= 0) o->fid_count = 10000;
    if (!o->out_dir) o->out_dir = "out";
    if (agree(&s, rc, err, sizeof err)) rc = 1;
    else if (setup(&s, err, sizeof err)) rc = 1;
    else if (!o->resume && agree(&s, s.root ? write_real_samples(&s, err, sizeof err) : 0, err, sizeof err)) rc = 1;
    else {
        s.last_ckpt_iter = s.pos.iter;
        if (s.pos.iter >= s.pos.total_iters && s.root)
            printf("nothing to do: the run already has %ld of %ld iterations\n", s.pos.iter, s.pos.total_iters);
        rc = train_loop(&s, err, sizeof err);
        comm_watch(&comm, 0);
        if ((rc == 0 || rc == 130) && o->sample_every > 0 && s.root) write_progress_gif(&s);
        if (rc == 0 && s.root) printf("done: %ld iterations; checkpoints and samples in %s\n", s.pos.iter, o->out_dir);
    }
    // A rank stopped by another one's failure says nothing more; rank 0 says it was stopped.
    int echo = !strstr(err, "stopped: another rank failed") || s.root;
    if (rc == 1 && echo) {
        if (comm.size > 1) fprintf(stderr, "error: rank %d of %d: %s\n", comm.rank, comm.size, err);
        else fprintf(stderr, "error: %s\n", err);
    }
    teardown(&s);
    o->comm = NULL;
    comm_finalize(&comm);
    return rc;
}
