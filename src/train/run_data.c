// The dataset of a run across its ranks: loaded (rank 0 first), its classes checked or taken, and
// this rank's shard placed where the data op reads it.
#include <stdlib.h>
#include <string.h>
#include "dcgan/error.h"
#include "run.h"

int run_load_data(run_state *s, char *err, size_t errlen) {
    const run_options *o = s->o;
    const train_hparams *h = &o->hp;
    dataset_options dopt = {.cache = o->cache ? o->cache : o->out_dir, .classes = o->classes, .strict = o->strict,
                            .progress = s->root};
    comm_watch(s->comm, 0);   // decoding a large dataset may take rank 0 a long time
    int rc = 0;
    if (s->root) {
        printf("loading %s%s%s ...\n", o->dataset, o->data_path ? " from " : "", o->data_path ? o->data_path : "");
        rc = dataset_load_opts(&s->ds, o->dataset, o->data_path, h->cfg.size, h->cfg.nc, h->seed, &dopt, err, errlen);
    }
    if (run_agree(s, rc, err, errlen)) return -1;
    if (!s->root) rc = dataset_load_opts(&s->ds, o->dataset, o->data_path, h->cfg.size, h->cfg.nc, h->seed, &dopt, err, errlen);
    comm_watch(s->comm, 1);
    return run_agree(s, rc, err, errlen);
}

// A resumed conditional run must see the classes it was trained on, in the same order.
static int check_same_classes(const run_state *s, char *err, size_t errlen) {
    const run_options *o = s->o;
    if (!s->ds.labels || s->ds.nclasses != o->nclasses)
        return set_error(err, errlen, "the run is conditional on %d classes, the %s dataset has %d", o->nclasses,
                         o->dataset, s->ds.labels ? s->ds.nclasses : 0);
    for (int k = 0; k < o->nclasses; k++)
        if (s->ds.class_names && strcmp(s->ds.class_names[k], o->class_names[k]))
            return set_error(err, errlen, "class %d of the run is '%s', of the dataset '%s'", k, o->class_names[k],
                             s->ds.class_names[k]);
    return 0;
}

int run_adopt_classes(run_state *s, char *err, size_t errlen) {
    run_options *o = s->o;
    if (o->resume && o->hp.cfg.nclasses > 0) return check_same_classes(s, err, errlen);
    if (!o->conditional || o->resume) return 0;
    if (!s->ds.labels || s->ds.nclasses < 1)
        return set_error(err, errlen, "--conditional needs class labels, and the %s dataset%s%s has none", o->dataset,
                         o->data_path ? " at " : "", o->data_path ? o->data_path : "");
    o->hp.cfg.nclasses = s->ds.nclasses;
    o->nclasses = s->ds.nclasses;
    o->class_names = s->ds.class_names;
    return 0;
}

int run_place_data(run_state *s, char *err, size_t errlen) {
    const char *force = getenv("DCGAN_STAGE_DATA");
    return trainer_feed(&s->t, &s->data, &s->ds, s->comm, force && !strcmp(force, "1"), s->o->verbose && s->root, err,
                        errlen);
}
