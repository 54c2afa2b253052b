// Checkpoints of a run and its resume: the ranks check that their weights agree, rank 0 saves
// (after the records the checkpoint covers reached the disk), and every rank hears the outcome.
#include "dcgan/error.h"
#include "run.h"

// The records up to this iteration reach the disk before the checkpoint that covers them.
static int save_synced(run_state *s, progress *pr, char *err, size_t errlen) {
    if (progress_flush(pr, 1, err, errlen)) return -1;
    return run_save_checkpoint(&s->t, s->o, &s->pos, s->o->out_dir, err, errlen);
}

int run_checkpoint(run_state *s, progress *pr, char *err, size_t errlen) {
    run_position_read(s);
    char when[64];
    snprintf(when, sizeof when, "at iteration %ld", s->pos.iter);
    if (run_check_same_weights(s, when, err, errlen)) return -1;
    int rc = s->root ? save_synced(s, pr, err, errlen) : 0;
    comm_beat(s->comm, s->pos.iter);
    if (run_agree(s, rc, err, errlen)) return -1;
    s->last_ckpt_iter = s->pos.iter;
    return 0;
}

int run_resume_options(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    char why[900] = "";
    int completed = 0;
    int rc = s->root ? run_complete_checkpoint(o->resume, &completed, why, sizeof why) : 0;
    if (completed) printf("note: %s: completed the checkpoint that a killed run was saving\n", o->resume);
    rc = run_agree(s, rc, why, sizeof why);   // the other ranks read the files once they are whole
    if (!rc) rc = run_load_options(o->resume, o, why, sizeof why);
    if (!o->out_dir) o->out_dir = o->resume;
    return rc ? set_error(err, errlen, "--resume: %s", why) : 0;
}
