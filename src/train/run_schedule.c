// What falls due after an iteration: a read-back of the statistics, samples, FID, a checkpoint, a stop.
#include "run.h"

static int every(long n, long iter) { return n > 0 && iter % n == 0; }

run_due run_schedule(const run_options *o, const run_position *pos, const stats_ring *r, int log_every, int stop) {
    const long iter = pos->iter;
    run_due d = {.last = iter == pos->total_iters, .stop = stop};
    d.samples = o->sample_every > 0 && (every(o->sample_every, iter) || d.last);
    d.fid = o->fid_every > 0 && (every(o->fid_every, iter) || d.last);
    d.ckpt = every(o->ckpt_every, iter) || d.last;
    // The statistics of every iteration are read back before anything is saved.
    const int saving = every(o->sample_every, iter) || every(o->ckpt_every, iter) || d.fid;
    d.flush = r->used == r->len || iter % log_every == 0 || d.last || saving || stop;
    return d;
}
