// FID during training: every --fid-every iterations the generator (its moving average with --ema)
// is scored against the dataset's reference set (computed once, kept beside the data cache); the
// score goes to metrics.jsonl and TensorBoard, and the best generator so far to netG_best.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/clock.h"
#include "dcgan/error.h"
#include "run.h"

// The directory of the data cache: --cache (a directory, or a .dcgancache file's directory), or
// the run directory.
static void cache_dir(char *buf, size_t n, const run_options *o) {
    const char *c = o->cache ? o->cache : o->out_dir;
    const char *dot = strrchr(c, '.'), *slash = strrchr(c, '/');
    if (o->cache && dot && !strcmp(dot, ".dcgancache"))
        snprintf(buf, n, "%.*s", slash ? (int)(slash - c) : 1, slash ? c : ".");
    else
        snprintf(buf, n, "%s", c);
}

int run_fid_open(run_fid *f, const run_options *o, const dcgan_backend *be, const dcgan_dataset *ds, char *err,
                 size_t errlen) {
    memset(f, 0, sizeof *f);
    f->best_iter = -1;
    char weights[4096], dir[4096], key[12000];
    const char *w = o->inception ? o->inception : inception_default_weights(weights, sizeof weights);
    if (inception_open(&f->net, w, be, inception_default_batch(be), err, errlen)) return -1;
    cache_dir(dir, sizeof dir, o);
    const fid_reference_source src = {.kind = o->dataset, .data = o->data_path, .classes = o->classes, .weights = w,
                                      .size = ds->h, .nc = ds->c, .count = o->fid_count};
    fid_reference_name(f->ref_path, sizeof f->ref_path, key, sizeof key, dir, &src);
    if (fid_reference(&f->ref, f->net, ds, o->fid_count, f->ref_path, key, 1, err, errlen)) {
        run_fid_close(f);
        return -1;
    }
    // The best score of an earlier stretch of the run, from its netG_best.safetensors.
    char path[4200];
    snprintf(path, sizeof path, "%s/netG_best.safetensors", o->out_dir);
    st_file best;
    if (!access(path, F_OK) && !st_read(path, &best, err, errlen)) {
        const char *fid = st_meta_get(&best, "fid"), *iter = st_meta_get(&best, "iteration");
        if (fid && iter) {
            f->best = strtod(fid, NULL);
            f->best_iter = atol(iter);
        }
        st_free(&best);
    }
    return 0;
}

void run_fid_close(run_fid *f) {
    fid_set_free(&f->ref);
    inception_close(f->net);
    memset(f, 0, sizeof *f);
}

int run_fid_eval(run_fid *f, const run_options *o, trainer *t, long iter, progress *pr, char *err, size_t errlen) {
    const int ema = t->hp.ema > 0;
    dcgan_net *G = ema ? &t->G_ema : &t->G;
    const double t0 = monotonic_seconds();
    float *features;
    // The same latent vectors at every evaluation: scores differ by G alone.
    if (fid_generator_features(f->net, G, o->fid_count, 0, 1, &features, err, errlen)) return -1;
    fid_set gen;
    fid_scores s;
    int rc = fid_set_make(&gen, features, o->fid_count, err, errlen);
    free(features);
    if (rc) return -1;
    rc = fid_scores_of(&gen, &f->ref, 0, &s, err, errlen);
    fid_set_free(&gen);
    if (rc) return -1;
    const double seconds = monotonic_seconds() - t0;
    printf("iteration %ld: FID %.4f (%s, %ld images, %.1f s)\n", iter, s.fid, ema ? "moving average of G" : "G",
           o->fid_count, seconds);
    if (progress_log(pr, err, errlen,
                     "{\"iter\": %ld, \"fid\": %.6f, \"fid_images\": %ld, \"fid_seconds\": %.3f, \"fid_g\": \"%s\"}\n",
                     iter, s.fid, o->fid_count, seconds, ema ? "ema" : "g") ||
        progress_scalar(pr, "FID", iter, (float)s.fid, err, errlen) || progress_flush(pr, 0, err, errlen))
        return -1;
    if (f->best_iter < 0 || s.fid < f->best) {
        // The score, and a conditional run's class names as its other checkpoints carry them.
        const int K = o->class_names ? t->hp.cfg.nclasses : 0;
        st_meta *m = calloc((size_t)3 + K, sizeof *m);
        if (!m) return set_error(err, errlen, "out of memory");
        snprintf(m[0].key, sizeof m[0].key, "iteration");
        snprintf(m[0].value, sizeof m[0].value, "%ld", iter);
        snprintf(m[1].key, sizeof m[1].key, "fid");
        snprintf(m[1].value, sizeof m[1].value, "%.9g", s.fid);
        snprintf(m[2].key, sizeof m[2].key, "fid_g");
        snprintf(m[2].value, sizeof m[2].value, "%s", ema ? "ema" : "g");
        for (int k = 0; k < K; k++) {
            snprintf(m[3 + k].key, sizeof m[3 + k].key, CKPT_CLASS_NAME_KEY "%d", k);
            snprintf(m[3 + k].value, sizeof m[3 + k].value, "%s", o->class_names[k]);
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/netG_best.safetensors", o->out_dir);
        rc = ckpt_save_net(G, path, m, 3 + K, err, errlen);
        free(m);
        if (rc) return -1;
        f->best = s.fid;
        f->best_iter = iter;
        printf("iteration %ld: best FID so far; %s written\n", iter, path);
    }
    return 0;
}

void run_fid_defaults(run_options *o) {
    if (o->fid_every < 0) o->fid_every = 0;
    if (o->fid_count <= 0) o->fid_count = RUN_FID_COUNT;
}

// The reference set may take rank 0 a long time, once; the others wait for it.
int run_fid_start(run_state *s, char *err, size_t errlen) {
    comm_watch(s->comm, 0);
    int rc = s->root ? run_fid_open(&s->fid, s->o, s->be, &s->ds, err, errlen) : 0;
    s->fid_open = s->root && !rc;
    comm_watch(s->comm, 1);
    return run_agree(s, rc, err, errlen);
}

// Rank 0 alone scores G; the others wait for it.
int run_fid_step(run_state *s, progress *pr, char *err, size_t errlen) {
    progress_break(pr);
    comm_watch(s->comm, 0);
    int rc = s->root ? run_fid_eval(&s->fid, s->o, &s->t, s->pos.iter, pr, err, errlen) : 0;
    comm_watch(s->comm, 1);
    comm_beat(s->comm, s->pos.iter);
    return run_agree(s, rc, err, errlen);
}
