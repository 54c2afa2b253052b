// The training run: set-up, the loop of iterations and what falls due after each (run_schedule),
// the end. Each job is a file of its own (run.h lists them).
#include <string.h>
#include "dcgan/error.h"
#include "run.h"

// Wall time spent reading batches, and in whole iterations (on an asynchronous backend the waits
// for the device land in the read-backs, so only whole iterations are comparable).
typedef struct {
    double load, iter;
    long count;
} loop_timing;

static void print_start(const run_state *s) {
    const run_options *o = s->o;
    const train_hparams *h = &s->t.hp;
    const int K = h->cfg.nclasses;
    printf("training %s G/D (%d px, nc %d, nz %d, ngf %d, ndf %d) on %s, %s loss, batch %d: iterations %ld -> %ld,"
           " output in %s\n", s->t.be->name, h->cfg.size, h->cfg.nc, h->cfg.nz, h->cfg.ngf, h->cfg.ndf, o->dataset,
           gan_loss_name(h->loss), h->batch_size, s->pos.iter, s->pos.total_iters, o->out_dir);
    if (K > 0)
        printf("conditional on %d classes (%s%s%s%s)\n", K, o->class_names[0], K > 1 ? ", " : "",
               K > 1 ? o->class_names[1] : "", K > 2 ? ", ..." : "");
}

// A signal: a checkpoint of this iteration (unless one was just saved), then the exit code 130.
static int stop_with_checkpoint(run_state *s, progress *pr, char *err, size_t errlen) {
    progress_break(pr);
    if (s->last_ckpt_iter != s->pos.iter && run_checkpoint(s, pr, err, errlen)) return 1;
    if (s->root)
        printf("interrupted: checkpoint of iteration %ld saved in %s; continue with --resume %s\n", s->pos.iter,
               s->o->out_dir, s->o->out_dir);
    return 130;
}

// Samples, FID, a checkpoint and a stop, as they fall due. 0 to go on, else the loop's result.
static int after_iteration(run_state *s, progress *pr, const run_due *due, char *err, size_t errlen) {
    const int samples = due->samples && s->root
                            ? run_samples_write(&s->samples, &s->t, s->o->out_dir, pr->tb, s->pos.iter, err, errlen) : 0;
    if (due->samples && run_agree(s, samples, err, errlen)) return 1;
    if (due->fid && run_fid_step(s, pr, err, errlen)) return 1;
    if (due->ckpt) {
        if (run_checkpoint(s, pr, err, errlen)) return 1;
        if (s->root) run_refresh_plot(s->o, pr);
    }
    return due->stop ? stop_with_checkpoint(s, pr, err, errlen) : 0;
}

static int iterate(run_state *s, progress *pr, loop_timing *tm, char *err, size_t errlen) {
    const double t0 = monotonic_seconds();
    batcher_prepare(&s->data);
    tm->load += monotonic_seconds() - t0;
    trainer_iteration(&s->t);
    comm_beat(s->comm, s->pos.iter + 1);
    // A signal may reach some ranks only: they stop together, at the end of the same iteration.
    const int stop = comm_max(s->comm, run_stop_requested());
    run_stats_push(&s->ring, &s->t, s->pos.iter + 1, batcher_epoch(&s->data, batcher_cursor(&s->data) - 1));
    s->pos.iter++;
    const run_due due = run_schedule(s->o, &s->pos, &s->ring, pr->log_every, stop);
    if (due.flush && run_stats_flush(s, pr, err, errlen)) return 1;
    tm->iter += monotonic_seconds() - t0;
    tm->count++;
    return after_iteration(s, pr, &due, err, errlen);
}

// 0 done, 1 error (err set), 130 stopped by a signal after a checkpoint.
static int train_loop(run_state *s, char *err, size_t errlen) {
    run_logs logs;
    memset(&logs, 0, sizeof logs);
    if (run_agree(s, s->root ? run_logs_open(&logs, s->o, s->pos.iter, err, errlen) : 0, err, errlen))
        return run_logs_close(&logs, 1, NULL, 0);
    progress pr;
    // images/s of the whole run: every rank's batches
    progress_init(&pr, s->pos.iter, s->pos.total_iters, s->t.hp.batch_size * s->t.hp.d_steps * s->comm->size,
                  s->o->log_every, logs.metrics, logs.metrics_path, logs.have_tb ? &logs.tb : NULL);
    if (s->root) print_start(s);
    fflush(stdout);   // the set-up's lines reach a log even if the run is killed later
    run_signals_catch(s->comm);
    loop_timing tm = {0};
    int rc = 0;
    while (!rc && s->pos.iter < s->pos.total_iters) rc = iterate(s, &pr, &tm, err, errlen);
    run_signals_release();
    progress_break(&pr);
    if (tm.count && s->root)
        printf("data loading: %.3f ms per iteration, %.3g%% of the iteration time\n", 1e3 * tm.load / tm.count,
               tm.iter > 0 ? 100.0 * tm.load / tm.iter : 0.0);
    return run_logs_close(&logs, rc, err, errlen);
}

// Set-up, the real samples of a new run, the loop, the animation. The process's exit code.
static int run(run_state *s, char *err, size_t errlen) {
    const run_options *o = s->o;
    if (run_setup(s, err, errlen)) return 1;
    if (!o->resume && run_agree(s, s->root ? run_write_real_samples(&s->ds, s->t.hp.seed, o->out_dir, err, errlen) : 0,
                                err, errlen))
        return 1;
    s->last_ckpt_iter = s->pos.iter;
    if (s->pos.iter >= s->pos.total_iters && s->root)
        printf("nothing to do: the run already has %ld of %ld iterations\n", s->pos.iter, s->pos.total_iters);
    int rc = train_loop(s, err, errlen);
    comm_watch(s->comm, 0);
    if ((rc == 0 || rc == 130) && o->sample_every > 0 && s->root) run_write_gif(o);
    if (rc == 0 && s->root) printf("done: %ld iterations; checkpoints and samples in %s\n", s->pos.iter, o->out_dir);
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
    int rc = o->resume ? run_resume_options(&s, err, sizeof err) : 0;
    run_fid_defaults(o);
    if (!o->out_dir) o->out_dir = "out";
    rc = run_agree(&s, rc, err, sizeof err) ? 1 : run(&s, err, sizeof err);
    // A rank stopped by another one's failure says nothing more; rank 0 says it was stopped.
    if (rc == 1 && (s.root || !strstr(err, RUN_OTHER_RANK_FAILED))) {
        if (comm.size > 1) fprintf(stderr, "error: rank %d of %d: %s\n", comm.rank, comm.size, err);
        else fprintf(stderr, "error: %s\n", err);
    }
    run_teardown(&s);
    o->comm = NULL;
    comm_finalize(&comm);
    return rc;
}
