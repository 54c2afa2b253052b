// The decoding pass: every item of a source decoded and preprocessed on all cores (OpenMP),
// with a progress bar, a count of the items that failed, and compaction of the survivors.
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/clock.h"
#include "dcgan/error.h"

#define NAMED_FAILURES 3            // failures named in the warning

typedef struct {
    int tty, shown;
    double start, last;
} bar;

static void bar_draw(bar *b, const char *kind, long done, long total, int final) {
    double now = monotonic_seconds(), dt = now - b->start;
    // Short passes stay silent; a pipe gets a line every 10 s, a terminal a redraw per 0.25 s.
    if (!final && (dt < 1.0 || now - b->last < (b->tty ? 0.25 : 10.0))) return;
    if (final && !b->shown) return;
    b->last = now;
    b->shown = 1;
    int width = 30, fill = total ? (int)(width * done / total) : width;
    char line[31];
    for (int i = 0; i < width; i++) line[i] = i < fill ? '#' : '.';
    line[width] = '\0';
    double rate = dt > 0 ? done / dt : 0, eta = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "%sdecoding %s [%s] %ld/%ld  %.0f img/s  %s %.0f s%s", b->tty ? "\r" : "", kind,
            line, done, total, rate, final ? "took" : "eta", final ? dt : eta,
            b->tty && !final ? "" : "\n");
    fflush(stderr);
}

typedef struct {
    int idx;
    char why[160];
} failure;

// The failures of a decoding pass: counted, the lowest-numbered few kept to be named.
typedef struct {
    failure named[NAMED_FAILURES];
    int nnamed, nfailed;
} failures;

// Keeps the lowest-numbered failures, so the message does not depend on timing.
static void note_failure(failures *f, int i, const char *why) {
    f->nfailed++;
    int at = f->nnamed;
    while (at > 0 && f->named[at - 1].idx > i) at--;
    if (at >= NAMED_FAILURES) return;
    int last = f->nnamed < NAMED_FAILURES ? f->nnamed : NAMED_FAILURES - 1;
    memmove(f->named + at + 1, f->named + at, (size_t)(last - at) * sizeof *f->named);
    f->named[at].idx = i;
    snprintf(f->named[at].why, sizeof f->named[at].why, "%s", why);
    if (f->nnamed < NAMED_FAILURES) f->nnamed++;
}

// Decodes every item into pix on all cores; ok[i] says whether item i decoded. With strict, the
// pass stops at the first failure.
static void decode_all(data_source *src, uint8_t *pix, uint8_t *ok, size_t per, int size, int nc, int strict,
                       int progress, failures *f) {
    const int n = src->n;
    int stop = 0;
    long done = 0;
    bar b = {.tty = isatty(2), .start = monotonic_seconds()};
    b.last = b.start;
    #pragma omp parallel for schedule(dynamic, 16)
    for (int i = 0; i < n; i++) {
        int halt;
        #pragma omp atomic read
        halt = stop;
        if (halt) continue;
        char why[160] = "";
        int rc = src->load(src->ctx, i, pix + (size_t)i * per, size, nc, why, sizeof why);
        ok[i] = rc == 0;
        long d;
        #pragma omp atomic capture
        d = ++done;
        if (rc || (progress && (d & 63) == 0)) {
            #pragma omp critical(dcgan_decode)
            {
                if (rc) note_failure(f, i, why);
                if (rc && strict) {
                    #pragma omp atomic write
                    stop = 1;
                }
                if (progress) bar_draw(&b, src->kind, d, n, 0);
            }
        }
    }
    if (progress) bar_draw(&b, src->kind, done, n, 1);
}

// --strict: the first failure is the error. Otherwise a warning naming the first few.
static int report_failures(data_source *src, const failures *f, int strict, char *err, size_t errlen) {
    char name[1200];
    if (!f->nfailed) return 0;
    if (strict) {
        src->name(src->ctx, f->named[0].idx, name, sizeof name);
        return set_error(err, errlen, "%s: %s (--strict: an undecodable item is an error)", name, f->named[0].why);
    }
    char msg[2048];
    int k = snprintf(msg, sizeof msg, "warning: skipped %d of %d %s that could not be decoded:", f->nfailed, src->n,
                     src->noun);
    for (int j = 0; j < f->nnamed && k > 0 && (size_t)k < sizeof msg; j++) {
        src->name(src->ctx, f->named[j].idx, name, sizeof name);
        k += snprintf(msg + k, sizeof msg - (size_t)k, "%s %s (%s)", j ? ";" : "", name, f->named[j].why);
    }
    fprintf(stderr, "%s%s\n", msg, f->nfailed > f->nnamed ? "; ..." : "");
    return 0;
}

// Moves the images (and labels) that decoded to the front, in order; their count.
static int compact(data_source *src, uint8_t *pix, const uint8_t *ok, size_t per) {
    int kept = 0;
    for (int i = 0; i < src->n; i++) {
        if (!ok[i]) continue;
        if (kept != i) {
            memmove(pix + (size_t)kept * per, pix + (size_t)i * per, per);
            if (src->labels) src->labels[kept] = src->labels[i];
        }
        kept++;
    }
    return kept;
}

int source_decode(data_source *src, dcgan_dataset *ds, int size, int nc, int strict, int progress,
                  char *err, size_t errlen) {
    const int n = src->n;
    const size_t per = (size_t)nc * size * size;
    uint8_t *pix = malloc((size_t)n * per + 1);
    uint8_t *ok = calloc((size_t)n + 1, 1);
    failures f = {.nnamed = 0};
    int rc = 0, kept = 0;
    if (!pix || !ok) {
        rc = set_error(err, errlen, "%s: out of memory for %d images of %dx%dx%d", src->kind, n, nc, size, size);
    } else {
        decode_all(src, pix, ok, per, size, nc, strict, progress, &f);
        rc = report_failures(src, &f, strict, err, errlen);
    }
    if (!rc && !(kept = compact(src, pix, ok, per)))
        rc = set_error(err, errlen, "%s: none of the %d %s could be decoded", src->kind, n, src->noun);
    free(ok);
    if (rc) {
        free(pix);
        return -1;
    }
    ds->pixels = pix;
    ds->n = kept;
    ds->c = nc;
    ds->h = ds->w = size;
    ds->labels = src->labels;
    src->labels = NULL;
    ds->nclasses = src->nclasses;
    ds->class_names = src->class_names;
    src->class_names = NULL;
    src->nclasses = 0;
    return 0;
}
