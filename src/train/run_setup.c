// The set-up of a training run and its teardown. The ranks agree after every step that may fail on
// one of them (run_agree), so that a failure stops them all at the same point.
#include "dcgan/error.h"
#include "run.h"

// The backend, a D-step count a resumed state may carry, the run directory (rank 0).
static int open_backend(run_state *s, char *err, size_t errlen) {
    const run_options *o = s->o;
    if (!(s->be = train_backend(o->device, s->comm, o->verbose && s->root, s->root ? stdout : NULL, err, errlen)))
        return -1;
    if (o->hp.d_steps > TRAIN_MAX_D_STEPS) return set_error(err, errlen, "--d-steps must be at most %d", TRAIN_MAX_D_STEPS);
    return s->root ? run_make_dir(o->out_dir, err, errlen) : 0;
}

// Everything of set-up that a rank does alone; the ranks agree on the outcome after it.
static int setup_local(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    if (run_adopt_classes(s, err, errlen) || trainer_init(&s->t, &o->hp, s->be, err, errlen)) return -1;
    s->pos.ranks = s->comm->size;
    if (o->resume && run_load_checkpoint(&s->t, o->resume, &s->pos, err, errlen)) return -1;
    if (run_samples_init(&s->samples, &s->t, err, errlen) || run_stats_init(&s->ring, s->be, err, errlen) ||
        run_place_data(s, err, errlen))
        return -1;
    run_position_start(s);
    return 0;
}

// From here on the ranks average their gradients; they start from the same weights.
static int join_ranks(run_state *s, char *err, size_t errlen) {
    const train_hparams *h = &s->t.hp;
    if (run_agree(s, trainer_attach_comm(&s->t, s->comm, err, errlen), err, errlen)) return -1;
    if (run_agree(s, run_check_same_weights(s, "at the start", err, errlen), err, errlen)) return -1;
    if (s->root)
        printf("data parallel: %d ranks on %s, batch %d per rank (global %d), %s batchnorm statistics\n", s->comm->size,
               s->be->name, h->batch_size, h->batch_size * s->comm->size, h->sync_bn ? "global (--sync-bn)" : "per-rank");
    return 0;
}

int run_setup(run_state *s, char *err, size_t errlen) {
    if (run_agree(s, open_backend(s, err, errlen), err, errlen) || run_load_data(s, err, errlen)) return -1;
    int rc = setup_local(s, err, errlen);
    // Once the checkpoint has loaded (a refused one keeps its files for a look).
    if (!rc && s->root) rc = run_clean_dir(s->o->out_dir, err, errlen);
    if (run_agree(s, rc, err, errlen)) return -1;
    if (s->o->fid_every > 0 && run_fid_start(s, err, errlen)) return -1;
    return s->comm->mpi ? join_ranks(s, err, errlen) : 0;
}

void run_teardown(run_state *s) {
    if (s->be) {
        run_samples_free(&s->samples, s->be);
        run_stats_free(&s->ring, s->be);
    }
    if (s->fid_open) run_fid_close(&s->fid);
    batcher_free(&s->data);
    trainer_free(&s->t);
    dataset_free(&s->ds);
}
