// The ranks of a run agree: on every failure (so that none waits in a collective for one that
// stopped) and on the weights (so that a diverged run is never saved).
#include <stdlib.h>
#include "dcgan/error.h"
#include "run.h"

int run_agree(run_state *s, int rc, char *err, size_t errlen) {
    if (!comm_max(s->comm, rc != 0)) return 0;
    if (!rc) set_error(err, errlen, RUN_OTHER_RANK_FAILED " (its message is above)");
    return -1;
}

// The rank whose hash differs from rank 0's first; -1 when all agree.
static int first_differing(const uint64_t *hashes, int ranks) {
    for (int r = 1; r < ranks; r++)
        if (hashes[r] != hashes[0]) return r;
    return -1;
}

int run_check_same_weights(run_state *s, const char *when, char *err, size_t errlen) {
    const int ranks = s->comm->size;
    if (ranks < 2) return 0;
    uint64_t mine = 0, all[4096], *hashes = ranks <= 4096 ? all : malloc((size_t)ranks * sizeof *hashes);
    int rc = hashes ? trainer_hash(&s->t, &mine, err, errlen)
                    : set_error(err, errlen, "out of memory comparing the weights of %d ranks", ranks);
    if (!run_agree(s, rc, err, errlen)) {
        comm_allgather_u64(s->comm, mine, hashes);
        const int bad = first_differing(hashes, ranks);
        if (bad >= 0)
            rc = set_error(err, errlen, "the weights differ across ranks %s (parameter hash of rank 0 %016llx, of rank %d"
                           " %016llx): the ranks have diverged; stopped without saving. The last good checkpoint in %s is"
                           " from iteration %ld", when, (unsigned long long)hashes[0], bad, (unsigned long long)hashes[bad],
                           s->o->out_dir, s->last_ckpt_iter);
    } else {
        rc = -1;
    }
    if (hashes != all) free(hashes);
    return rc;
}
