// FID and KID of image sets: the Inception features of a dataset (all of it, or a seeded subset) or
// of a generator's images, the sets kept in files (a dataset's reference set is computed once),
// and the two scores.
#define _XOPEN_SOURCE 700   // realpath
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/clock.h"
#include "dcgan/error.h"
#include "dcgan/eval.h"
#include "dcgan/io.h"
#include "dcgan/rng.h"

void fid_set_free(fid_set *s) {
    feature_stats_free(&s->stats);
    free(s->features);
    memset(s, 0, sizeof *s);
}

int fid_set_make(fid_set *s, const float *features, long count, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (feature_stats_compute(&s->stats, features, count, INCEPTION_FEATURES, err, errlen)) return -1;
    s->nfeatures = count < FID_KID_MAX_FEATURES ? count : FID_KID_MAX_FEATURES;
    const size_t bytes = (size_t)s->nfeatures * INCEPTION_FEATURES * sizeof(float);
    if (!(s->features = malloc(bytes))) {
        fid_set_free(s);
        return set_error(err, errlen, "out of memory for %ld feature vectors", count);
    }
    memcpy(s->features, features, bytes);
    return 0;
}

int fid_set_save(const fid_set *s, const char *path, const char *key, char *err, size_t errlen) {
    const feature_stats *st = &s->stats;
    st_tensor t[3] = {
        {.name = "mu", .dtype = ST_F64, .ndim = 1, .shape = {st->dim}, .data = st->mean,
         .nbytes = (size_t)st->dim * sizeof(double)},
        {.name = "sigma", .dtype = ST_F64, .ndim = 2, .shape = {st->dim, st->dim}, .data = st->cov,
         .nbytes = (size_t)st->dim * st->dim * sizeof(double)},
        {.name = "features", .dtype = ST_F32, .ndim = 2, .shape = {s->nfeatures, st->dim}, .data = s->features,
         .nbytes = (size_t)s->nfeatures * st->dim * sizeof(float)},
    };
    st_meta m[3] = {{"format", "dcgan-fid-set"}, {"count", ""}, {"key", ""}};
    snprintf(m[1].value, sizeof m[1].value, "%ld", st->count);
    snprintf(m[2].value, sizeof m[2].value, "%s", key ? key : "");
    return st_write(path, t, 3, m, 3, err, errlen);
}

int fid_set_load(fid_set *s, const char *path, const char *key, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (key && access(path, F_OK)) return 1;
    st_file f;
    if (st_read(path, &f, err, errlen)) return -1;
    const st_tensor *mu = st_find(&f, "mu"), *sigma = st_find(&f, "sigma"), *feat = st_find(&f, "features");
    const char *count = st_meta_get(&f, "count"), *have = st_meta_get(&f, "key");
    int rc = 0;
    if (key && (!have || strcmp(have, key))) rc = 1;
    else if (!mu || !sigma || !count || mu->dtype != ST_F64 || sigma->dtype != ST_F64 || mu->ndim != 1 ||
             sigma->ndim != 2 || mu->shape[0] != INCEPTION_FEATURES || sigma->shape[0] != mu->shape[0] ||
             sigma->shape[1] != mu->shape[0] || atol(count) < 2 ||
             (feat && (feat->dtype != ST_F32 || feat->ndim != 2 || feat->shape[1] != mu->shape[0])))
        rc = path_error(err, errlen, path, "not a FID feature set (float64 mu [2048] and sigma [2048, 2048], "
                        "float32 features [n, 2048], as dcgan fid --save-stats writes)");
    else {
        feature_stats *st = &s->stats;
        st->dim = (int)mu->shape[0];
        st->count = atol(count);
        st->mean = malloc(mu->nbytes);
        st->cov = malloc(sigma->nbytes);
        s->nfeatures = feat ? (long)feat->shape[0] : 0;
        s->features = feat && feat->nbytes ? malloc(feat->nbytes) : NULL;
        if (!st->mean || !st->cov || (s->nfeatures && !s->features)) {
            rc = path_error(err, errlen, path, "out of memory");
        } else {
            memcpy(st->mean, mu->data, mu->nbytes);
            memcpy(st->cov, sigma->data, sigma->nbytes);
            if (s->nfeatures) memcpy(s->features, feat->data, feat->nbytes);
        }
    }
    st_free(&f);
    if (rc) fid_set_free(s);
    return rc;
}

int fid_scores_of(const fid_set *a, const fid_set *b, int kid_subsets, fid_scores *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (fid_distance(&a->stats, &b->stats, &out->fid, err, errlen)) return -1;
    if (kid_subsets <= 0 || a->nfeatures < 2 || b->nfeatures < 2) return 0;
    long m = a->nfeatures < b->nfeatures ? a->nfeatures : b->nfeatures;
    if (m > KID_SUBSET_SIZE) m = KID_SUBSET_SIZE;
    if (kid_score(a->features, a->nfeatures, b->features, b->nfeatures, INCEPTION_FEATURES, kid_subsets, (int)m, 0,
                  &out->kid, &out->kid_std, err, errlen))
        return -1;
    out->has_kid = 1;
    out->kid_subset_size = (int)m;
    return 0;
}

// --- feature extraction with a progress line ----------------------------------------------------

typedef struct {
    const char *what;           // "dataset images", "generated images"
    long count;
    int show;
    double start, last;
} progress_line;

static void progress_step(progress_line *p, long done) {
    if (!p->show) return;
    const double now = monotonic_seconds();
    if (done < p->count && now - p->last < 10.0) return;
    p->last = now;
    const double rate = done / (now - p->start > 1e-9 ? now - p->start : 1e-9);
    printf("fid: %ld / %ld %s (%.0f images/s)\n", done, p->count, p->what, rate);
    fflush(stdout);
}

// Dataset images: pixels / 255 (torchvision's ToTensor), the chosen indices in order.
typedef struct {
    const dcgan_backend *be;
    const dcgan_dataset *ds;
    const uint32_t *index;      // [count] the images taken
    float *host;                // [batch, c, h, w]
    progress_line progress;
} dataset_source;

static int dataset_images(void *ctx, void *dst, long first, int n, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    dataset_source *s = ctx;
    const size_t per = (size_t)s->ds->c * s->ds->h * s->ds->w;
    for (int i = 0; i < n; i++) {
        const uint8_t *px = s->ds->pixels + (size_t)s->index[first + i] * per;
        for (size_t k = 0; k < per; k++) s->host[(size_t)i * per + k] = (float)px[k] / 255.0f;
    }
    s->be->upload(s->be, dst, s->host, (size_t)n * per * sizeof(float));
    progress_step(&s->progress, first + n);
    return 0;
}

int fid_dataset_features(inception *net, const dcgan_dataset *ds, long count, uint64_t seed, int progress,
                         float **features, long *n, char *err, size_t errlen) {
    *features = NULL;
    *n = count < ds->n ? count : ds->n;
    if (*n < 2) return set_error(err, errlen, "FID needs at least 2 dataset images (the dataset has %d)", ds->n);
    const size_t per = (size_t)ds->c * ds->h * ds->w;
    dataset_source s = {.be = inception_backend(net), .ds = ds, .progress = {"dataset images", *n, progress}};
    uint32_t *index = malloc((size_t)ds->n * sizeof(uint32_t));
    s.host = malloc((size_t)inception_batch(net) * per * sizeof(float));
    *features = malloc((size_t)*n * INCEPTION_FEATURES * sizeof(float));
    int rc = -1;
    if (!index || !s.host || !*features) {
        set_error(err, errlen, "out of memory for the features of %ld images", *n);
    } else {
        if (*n < ds->n) {   // a subset: the first n of a seeded permutation
            dcgan_rng r = rng_make(seed, RNG_STREAM_FID_SUBSET);
            rng_permutation(&r, index, (size_t)ds->n);
        } else {
            for (int i = 0; i < ds->n; i++) index[i] = (uint32_t)i;
        }
        s.index = index;
        s.progress.start = s.progress.last = monotonic_seconds();
        const inception_input in = {.c = ds->c, .h = ds->h, .w = ds->w, .scale = 2.0f, .shift = -1.0f};
        rc = inception_run(net, *features, *n, &in, dataset_images, &s, err, errlen);
    }
    free(index);
    free(s.host);
    if (rc) {
        free(*features);
        *features = NULL;
    }
    return rc;
}

// A generator's images, straight from its output into the network's input (one backend).
typedef struct {
    const dcgan_backend *be;
    net_exec x;
    int nz, nclasses;
    uint64_t seed;
    float *z, *zdev;            // [batch, nz] host, backend
    int32_t *classes;           // [batch]
    size_t image_bytes;
    progress_line progress;
} generator_source;

static int generated_images(void *ctx, void *dst, long first, int n, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    generator_source *s = ctx;
    const int B = s->x.B;
    memset(s->z, 0, (size_t)B * s->nz * sizeof(float));
    rng_vectors_normal(s->z, first, n, s->nz, s->seed, RNG_STREAM_SAMPLE);
    s->be->upload(s->be, s->zdev, s->z, (size_t)B * s->nz * sizeof(float));
    if (s->nclasses > 0) {
        for (int i = 0; i < B; i++) s->classes[i] = (int32_t)((first + i) % s->nclasses);
        net_set_classes(&s->x, s->classes);
    }
    const void *out = net_forward(&s->x, s->zdev, BN_RUNNING);
    s->be->copy(s->be, dst, out, (size_t)n * s->image_bytes);
    progress_step(&s->progress, first + n);
    return 0;
}

int fid_generator_features(inception *net, dcgan_net *G, long count, uint64_t seed, int progress, float **features,
                           char *err, size_t errlen) {
    *features = NULL;
    if (count < 2) return set_error(err, errlen, "FID needs at least 2 generated images (asked for %ld)", count);
    const dcgan_backend *be = inception_backend(net);
    if (G->be != be) return set_error(err, errlen, "the generator and the Inception network are on different backends");
    const int B = inception_batch(net);
    const dcgan_config *cfg = &G->cfg;
    generator_source s = {.be = be, .nz = cfg->nz, .nclasses = cfg->nclasses, .seed = seed,
                          .image_bytes = (size_t)cfg->nc * cfg->size * cfg->size * sizeof(float),
                          .progress = {"generated images", count, progress}};
    if (net_exec_init_forward(&s.x, G, B, NULL, BN_RUNNING, NULL, err, errlen)) return -1;
    s.z = malloc((size_t)B * cfg->nz * sizeof(float));
    s.classes = calloc((size_t)B, sizeof(int32_t));
    s.zdev = be->alloc(be, (size_t)B * cfg->nz * sizeof(float));
    *features = malloc((size_t)count * INCEPTION_FEATURES * sizeof(float));
    int rc = -1;
    if (!s.z || !s.classes || !s.zdev || !*features) {
        set_error(err, errlen, "out of memory for the features of %ld images", count);
    } else {
        s.progress.start = s.progress.last = monotonic_seconds();
        const inception_input in = {.c = cfg->nc, .h = cfg->size, .w = cfg->size, .scale = 2.0f, .shift = -1.0f,
                                    .quantize = 1};
        rc = inception_run(net, *features, count, &in, generated_images, &s, err, errlen);
    }
    if (s.zdev) be->release(be, s.zdev);
    free(s.z);
    free(s.classes);
    net_exec_free(&s.x);
    if (rc) {
        free(*features);
        *features = NULL;
    }
    return rc;
}

// --- a dataset's reference set, computed once ------------------------------------------------------

// FNV-1a, 64 bits: names the reference file after what it was made from.
static uint64_t fnv1a64(const char *s) {
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

void fid_reference_name(char *path, size_t pathlen, char *key, size_t keylen, const char *dir,
                        const fid_reference_source *src) {
    char data[4096], weights[4096];
    if (!src->data || !realpath(src->data, data)) snprintf(data, sizeof data, "%s", src->data ? src->data : "");
    if (!realpath(src->weights, weights)) snprintf(weights, sizeof weights, "%s", src->weights);
    snprintf(key, keylen, "kind=%s;data=%s;classes=%s;size=%d;nc=%d;count=%ld;weights=%s", src->kind, data,
             src->classes ? src->classes : "", src->size, src->nc, src->count, weights);
    snprintf(path, pathlen, "%s/fid-%s-%dpx-%dc-%ld-%016llx.safetensors", dir, src->kind, src->size, src->nc,
             src->count, (unsigned long long)fnv1a64(key));
}

int fid_reference(fid_set *ref, inception *net, const dcgan_dataset *ds, long count, const char *path,
                  const char *key, int progress, char *err, size_t errlen) {
    const int loaded = fid_set_load(ref, path, key, err, errlen);
    if (loaded == 0) {
        if (progress) printf("fid: reference statistics of %ld dataset images from %s\n", ref->stats.count, path);
        return 0;
    }
    if (loaded < 0 && progress) fprintf(stderr, "warning: %s; computing the reference statistics again\n", err);
    float *features;
    long n;
    const double t0 = monotonic_seconds();
    if (fid_dataset_features(net, ds, count, 0, progress, &features, &n, err, errlen)) return -1;
    int rc = fid_set_make(ref, features, n, err, errlen);
    free(features);
    if (rc) return -1;
    char why[1024];
    if (fid_set_save(ref, path, key, why, sizeof why))
        fprintf(stderr, "warning: %s (the reference statistics are not kept)\n", why);
    else if (progress)
        printf("fid: reference statistics of %ld dataset images in %.1f s, kept in %s\n", n,
               monotonic_seconds() - t0, path);
    return 0;
}
