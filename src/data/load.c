// Loading a dataset by kind. The image datasets (folder, lsun, cifar10) go through the
// preprocessed cache: a cache that matches the request and the current source files is mapped;
// a stale one is rebuilt; one built with other settings, named explicitly by the user, is an
// error rather than overwritten.
#define _XOPEN_SOURCE 700   // realpath
#include "dcgan/error.h"
#include "source.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// Names the preprocessing; bump when the pixels it produces change.
#define PREPROCESS_ID "resize-bilinear-aa+center-crop;pil-convert;v1"
#define CACHE_EXT ".dcgancache"
#define MAX_SIZE 4096

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int make_dirs(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0777) && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0777) && errno != EEXIST ? -1 : 0;
}

// The cache file for want: PATH itself when it names a .dcgancache file (explicit), else a file
// inside the directory PATH named after the settings. Returns 0, or -1 with err set.
static int cache_path(char *out, size_t n, const char *cache, const cache_header *want,
                      int *explicit_file, char *err, size_t errlen) {
    struct stat st;
    *explicit_file = 0;
    if (!(stat(cache, &st) == 0 && S_ISDIR(st.st_mode)) && ends_with(cache, CACHE_EXT)) {
        *explicit_file = 1;
        if ((size_t)snprintf(out, n, "%s", cache) >= n) return set_error(err, errlen, "%s: path too long", cache);
        return 0;
    }
    if (make_dirs(cache))
        return set_error(err, errlen, "--cache %s: cannot create directory: %s", cache, strerror(errno));
    const char *base = strrchr(want->source, '/');
    base = base && base[1] ? base + 1 : want->source;
    char clean[41];
    size_t k = 0;
    for (; base[k] && k < 40; k++)
        clean[k] = isalnum((unsigned char)base[k]) || base[k] == '-' || base[k] == '_' ? base[k] : '_';
    clean[k] = '\0';
    uint64_t h = fnv1a(FNV_INIT, want->source, strlen(want->source) + 1);
    h = fnv1a(h, want->classes, strlen(want->classes) + 1);
    if ((size_t)snprintf(out, n, "%s/%s-%s-%dpx-%dc-%016llx" CACHE_EXT, cache, want->kind, clean,
                         want->size, want->nc, (unsigned long long)h) >= n)
        return set_error(err, errlen, "--cache %s: path too long", cache);
    return 0;
}

static int same_settings(const cache_header *a, const cache_header *b) {
    return !strcmp(a->kind, b->kind) && !strcmp(a->source, b->source) &&
           !strcmp(a->classes, b->classes) && !strcmp(a->preprocess, b->preprocess) &&
           a->size == b->size && a->nc == b->nc;
}

static void describe(char *out, size_t n, const cache_header *h) {
    snprintf(out, n, "%s %s%s%s at %d px, %d channel%s", h->kind, h->source,
             h->classes[0] ? " classes " : "", h->classes, h->size, h->nc, h->nc > 1 ? "s" : "");
}

static int open_source(data_source *src, const char *kind, const char *path,
                       const dataset_options *opt, char *err, size_t errlen) {
    if (!strcmp(kind, "folder")) return folder_open(src, path, err, errlen);
    if (!strcmp(kind, "lsun")) return lsun_open(src, path, opt ? opt->classes : NULL, err, errlen);
    return cifar10_open(src, path, err, errlen);
}

// What a cache of this source must have been built from.
static void wanted(cache_header *want, const char *kind, const char *path, int size, int nc, const dataset_options *opt,
                   uint64_t fingerprint) {
    memset(want, 0, sizeof *want);
    snprintf(want->kind, sizeof want->kind, "%s", kind);
    char abs[PATH_MAX];
    snprintf(want->source, sizeof want->source, "%s", realpath(path, abs) ? abs : path);
    snprintf(want->classes, sizeof want->classes, "%s", !strcmp(kind, "lsun") && opt->classes ? opt->classes : "");
    snprintf(want->preprocess, sizeof want->preprocess, "%s", PREPROCESS_ID);
    want->size = size;
    want->nc = nc;
    want->fingerprint = fingerprint;
}

// The cache in file when it was built from `want`: 1 with ds filled; 0 when it must be (re)built;
// -1 with err set when a file the user named is something else (not ours to overwrite).
static int use_cache(const char *file, const cache_header *want, int explicit_file, dcgan_dataset *ds, char *err,
                     size_t errlen) {
    cache_header have;
    dcgan_dataset cached;
    char why[1024] = "";
    int rc = cache_open(file, &have, &cached, why, sizeof why);
    if (rc > 0) return 0;
    if (rc < 0) {
        if (explicit_file) return set_error(err, errlen, "--cache %s", why);
        printf("%s; rebuilding\n", why);
        return 0;
    }
    if (!same_settings(&have, want)) {
        char a[1400], b[1400];
        describe(a, sizeof a, &have);
        describe(b, sizeof b, want);
        dataset_free(&cached);
        if (explicit_file)
            return set_error(err, errlen, "cache %s was built from %s; this run reads %s (remove "
                             "it or pass another --cache)", file, a, b);
        printf("cache %s was built with other settings (%s); rebuilding\n", file, a);
        return 0;
    }
    if (have.fingerprint != want->fingerprint) {
        dataset_free(&cached);
        printf("cache %s is stale (files in %s changed since it was built); rebuilding\n", file, want->source);
        return 0;
    }
    *ds = cached;
    printf("using cache %s (%d images)\n", file, ds->n);
    return 1;
}

// Loads folder, lsun or cifar10, through the cache when opt->cache is set.
static int image_dataset_load(dcgan_dataset *ds, const char *kind, const char *path, int size,
                              int nc, const dataset_options *opt, char *err, size_t errlen) {
    data_source src;
    if (open_source(&src, kind, path, opt, err, errlen)) return -1;
    int strict = opt && opt->strict, progress = opt && opt->progress;
    cache_header want;
    char file[4096];
    int explicit_file = 0, cached = 0;   // cached: 1 read from the cache, -1 an error
    if (opt && opt->cache) {
        wanted(&want, kind, path, size, nc, opt, src.fingerprint);
        cached = cache_path(file, sizeof file, opt->cache, &want, &explicit_file, err, errlen) ? -1
                 : use_cache(file, &want, explicit_file, ds, err, errlen);
    }
    int rc = cached ? cached < 0 : source_decode(&src, ds, size, nc, strict, progress, err, errlen);
    source_close(&src);
    if (rc) return -1;
    if (!cached && opt && opt->cache) {   // decoded: kept for the next run
        char why[1024] = "";
        if (cache_write(file, &want, ds, why, sizeof why))
            fprintf(stderr, "warning: %s (continuing without a cache)\n", why);
        else
            printf("wrote cache %s (%d images)\n", file, ds->n);
    }
    return 0;
}

const char *const dataset_kinds = "folder, lsun, cifar10, mnist, fashion-mnist, synthetic";

int dataset_kind_valid(const char *kind) {
    static const char *const kinds[] = {"folder", "lsun", "cifar10", "mnist", "fashion-mnist",
                                        "synthetic"};
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kind, kinds[i])) return 1;
    return 0;
}

int dataset_load(dcgan_dataset *ds, const char *kind, const char *path, int size, int nc,
                 uint64_t seed, char *err, size_t errlen) {
    return dataset_load_opts(ds, kind, path, size, nc, seed, NULL, err, errlen);
}

int dataset_load_opts(dcgan_dataset *ds, const char *kind, const char *path, int size, int nc,
                      uint64_t seed, const dataset_options *opt, char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    if (size <= 0 || size > MAX_SIZE)
        return set_error(err, errlen, "image size %d out of range (1..%d)", size, MAX_SIZE);
    if (nc != 1 && nc != 3)
        return set_error(err, errlen, "channel count %d not supported (1 or 3)", nc);
    int rc;
    if (!kind)
        rc = set_error(err, errlen, "no dataset kind given (valid: %s)", dataset_kinds);
    else if (!strcmp(kind, "folder") || !strcmp(kind, "lsun") || !strcmp(kind, "cifar10"))
        rc = image_dataset_load(ds, kind, path, size, nc, opt, err, errlen);
    else if (strcmp(kind, "mnist") == 0)
        rc = mnist_load(ds, path, 0, size, nc, err, errlen);
    else if (strcmp(kind, "fashion-mnist") == 0)
        rc = mnist_load(ds, path, 1, size, nc, err, errlen);
    else if (strcmp(kind, "synthetic") == 0)
        rc = synthetic_load(ds, size, nc, seed, err, errlen);
    else
        rc = set_error(err, errlen, "unknown dataset '%s' (valid: %s)", kind, dataset_kinds);
    if (rc) dataset_free(ds);
    return rc;
}
