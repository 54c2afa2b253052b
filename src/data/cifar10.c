// CIFAR-10's binary release: data_batch_1.bin ... data_batch_5.bin, each a run of records of
// one label byte and 3072 pixel bytes (32 x 32 R plane, G plane, B plane); class names from
// batches.meta.txt when present.
#include "dcgan/error.h"
#include "source.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NBATCH 5
#define SIDE 32

int cifar_scan(const uint8_t *buf, size_t len, int *n, int *bad, size_t *tail) {
    *n = (int)(len / CIFAR_RECORD);
    *tail = len % CIFAR_RECORD;
    *bad = 0;
    if (len / CIFAR_RECORD > 0x7fffffff) return -1;
    for (int i = 0; i < *n; i++) *bad += buf[(size_t)i * CIFAR_RECORD] > 9;
    return *n > 0 ? 0 : -1;
}

typedef struct {
    char path[NBATCH][4200];
    uint8_t *data[NBATCH];
    size_t len[NBATCH];
    int first[NBATCH + 1];      // item index of each file's first record
    int nfiles;
} cifar_ctx;

// Item i -> file and record (a record may be the truncated tail, which never loads).
static void locate(const cifar_ctx *c, int i, int *f, size_t *rec) {
    int k = 0;
    while (k + 1 < c->nfiles && i >= c->first[k + 1]) k++;
    *f = k;
    *rec = (size_t)(i - c->first[k]);
}

static int cifar_load(void *ctx, int i, uint8_t *dst, int size, int nc, char *why, size_t whylen) {
    cifar_ctx *c = ctx;
    int f;
    size_t r;
    locate(c, i, &f, &r);
    size_t off = r * CIFAR_RECORD;
    if (off + CIFAR_RECORD > c->len[f])
        return set_error(why, whylen, "truncated record (%zu of %d bytes)", c->len[f] - off,
                    CIFAR_RECORD);
    const uint8_t *rec = c->data[f] + off;
    if (rec[0] > 9) return set_error(why, whylen, "label %d outside 0..9", rec[0]);
    const uint8_t *px = rec + 1;
    if (nc == 3) {
        resize_center_crop(dst, px, 3, SIDE, SIDE, size);
        return 0;
    }
    uint8_t gray[SIDE * SIDE];   // PIL's convert("L")
    for (int k = 0; k < SIDE * SIDE; k++)
        gray[k] = (uint8_t)((px[k] * 19595u + px[1024 + k] * 38470u + px[2048 + k] * 7471u +
                             0x8000u) >> 16);
    resize_center_crop(dst, gray, 1, SIDE, SIDE, size);
    return 0;
}

static void cifar_name(void *ctx, int i, char *out, size_t n) {
    cifar_ctx *c = ctx;
    int f;
    size_t r;
    locate(c, i, &f, &r);
    snprintf(out, n, "%s#%zu", c->path[f], r);
}

static void cifar_close(void *ctx) {
    cifar_ctx *c = ctx;
    for (int f = 0; c && f < c->nfiles; f++) free(c->data[f]);
    free(c);
}

static const char *const default_names[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                              "dog", "frog", "horse", "ship", "truck"};

// Ten class names from batches.meta.txt (one per line), else the release's names.
static int read_names(data_source *src, const char *dir) {
    char p[4200], line[10][256];
    snprintf(p, sizeof p, "%s/batches.meta.txt", dir);
    FILE *f = fopen(p, "r");
    int k = 0;
    char buf[256];
    while (f && k < 10 && fgets(buf, sizeof buf, f)) {
        size_t L = strcspn(buf, "\r\n");
        buf[L] = '\0';
        if (L) snprintf(line[k++], sizeof line[0], "%s", buf);
    }
    if (f) fclose(f);
    const char *names[10];
    for (int i = 0; i < 10; i++) names[i] = k == 10 ? line[i] : default_names[i];
    return source_set_class_names(src, names, 10);
}

static int has_batches(const char *dir) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/data_batch_1.bin", dir);
    return stat(p, &st) == 0;
}

int cifar10_open(data_source *src, const char *path, char *err, size_t errlen) {
    if (source_begin(src, "cifar10", "records", path,
                     "the directory holding data_batch_1.bin ... data_batch_5.bin", err, errlen))
        return -1;
    struct stat st;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    if (!has_batches(dir)) {
        snprintf(dir, sizeof dir, "%s/cifar-10-batches-bin", path);
        if (!has_batches(dir))
            return set_error(err, errlen, "%s: no CIFAR-10 binary batches (expected data_batch_1.bin "
                        "... data_batch_5.bin here or in cifar-10-batches-bin/)", path);
    }
    cifar_ctx *c = calloc(1, sizeof *c);
    if (!c) return set_error(err, errlen, "out of memory");
    src->ctx = c;
    src->close = cifar_close;
    src->load = cifar_load;
    src->name = cifar_name;
    uint64_t fp = FNV_INIT;
    int rc = 0, total = 0;
    for (int b = 1; b <= NBATCH && !rc; b++) {
        int f = c->nfiles;
        snprintf(c->path[f], sizeof c->path[f], "%s/data_batch_%d.bin", dir, b);
        if (stat(c->path[f], &st)) continue;   // a partial download still trains on what is there
        char why[256];
        if (read_file(c->path[f], &c->data[f], &c->len[f], why, sizeof why)) {
            rc = set_error(err, errlen, "%s: %s", c->path[f], why);
            break;
        }
        c->nfiles++;
        int n, bad;
        size_t tail;
        cifar_scan(c->data[f], c->len[f], &n, &bad, &tail);
        c->first[f] = total;
        total += n + (tail ? 1 : 0);   // a truncated tail is one item that fails to load
        int64_t sz = st.st_size, mt = st.st_mtime;
        fp = fnv1a(fp, &b, sizeof b);
        fp = fnv1a(fp, &sz, sizeof sz);
        fp = fnv1a(fp, &mt, sizeof mt);
    }
    c->first[c->nfiles] = total;
    src->n = total;
    src->fingerprint = fp;
    if (!rc && total == 0) rc = set_error(err, errlen, "%s: the CIFAR-10 batches hold no records", dir);
    if (!rc) {
        src->labels = malloc((size_t)total * sizeof *src->labels);
        if (!src->labels || read_names(src, dir)) rc = set_error(err, errlen, "out of memory");
        for (int i = 0; !rc && i < total; i++) {
            int f;
            size_t r;
            locate(c, i, &f, &r);
            size_t off = r * CIFAR_RECORD;
            src->labels[i] = off + CIFAR_RECORD <= c->len[f] ? c->data[f][off] : -1;
        }
    }
    if (rc) source_close(src);
    return rc;
}
