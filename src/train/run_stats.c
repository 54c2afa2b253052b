// The step statistics of a run: each iteration's six numbers stay on the device, in a ring, until
// a line is printed or something is saved; then they are read back in one copy, checked and logged.
#include <math.h>
#include "dcgan/error.h"
#include "run.h"

int run_stats_init(stats_ring *r, const dcgan_backend *be, char *err, size_t errlen) {
    r->len = be->host_memory ? 1 : RING_MAX;
    if (!(r->values = be->alloc(be, (size_t)r->len * RUN_STATS * sizeof(float))) ||
        !(r->slot = be->alloc(be, sizeof(int64_t))))
        return set_error(err, errlen, "out of %s memory for the training buffers", be->name);
    return 0;
}

void run_stats_free(stats_ring *r, const dcgan_backend *be) {
    if (r->values) be->release(be, r->values);
    if (r->slot) be->release(be, r->slot);
    r->values = NULL;
    r->slot = NULL;
}

void run_stats_push(stats_ring *r, const trainer *t, long iter, long epoch) {
    t->be->ring_push(t->be, r->values, t->stats, RUN_STATS, r->slot, r->len);
    r->iter[r->used] = iter;
    r->epoch[r->used++] = epoch;
}

// Copies the queued statistics to host[] and empties the ring. In a data-parallel run they are
// the ranks' means: every rank sees the same numbers, so a non-finite loss on any rank stops them
// all at the same iteration.
static int read_back(run_state *s, float *host) {
    const dcgan_backend *be = s->t.be;
    stats_ring *r = &s->ring;
    const int n = r->used;
    r->used = 0;
    if (s->t.comm && n > 0) {
        reduce_desc rd = {.n = (size_t)n * RUN_STATS, .scale = 1.0f / (float)s->comm->size, .slot = 3};
        be->allreduce(be, r->values, &rd);
        be->allreduce_wait(be, &rd);
    }
    be->download(be, host, r->values, (size_t)n * RUN_STATS * sizeof(float));
    be->zero(be, r->slot, sizeof(int64_t));
    return n;
}

static int finite_stats(const step_stats *st) {
    return isfinite(st->loss_d_real) && isfinite(st->loss_d_fake) && isfinite(st->loss_g);
}

int run_stats_flush(run_state *s, progress *pr, char *err, size_t errlen) {
    float host[RING_MAX * RUN_STATS];
    const int n = read_back(s, host);
    int rc = 0;
    for (int k = 0; k < n && !rc; k++) {
        const float *v = host + RUN_STATS * k;
        step_stats st = {.loss_d_real = v[0], .d_x = v[1], .loss_d_fake = v[2], .d_g_z1 = v[3], .loss_g = v[4],
                         .d_g_z2 = v[5]};
        if (!finite_stats(&st)) {   // every rank sees the same statistics
            progress_break(pr);
            rc = set_error(err, errlen, "loss became non-finite at iteration %ld (Loss_D %g, Loss_G %g); stopped without"
                           " saving. The last good checkpoint in %s is from iteration %ld", s->ring.iter[k],
                           st.loss_d_real + st.loss_d_fake, st.loss_g, s->o->out_dir, s->last_ckpt_iter);
        } else if (s->root) {
            rc = progress_update(pr, s->ring.iter[k], s->ring.epoch[k], &st, err, errlen);
        }
    }
    if (!rc && s->root) rc = progress_flush(pr, 0, err, errlen);
    return run_agree(s, rc, err, errlen);
}
