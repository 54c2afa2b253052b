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

int source_decode(data_source *src, dcgan_dataset *ds, int size, int nc, int strict, int progress,
                  char *err, size_t errlen) {
    int n = src->n;
    size_t per = (size_t)nc * size * size;
    uint8_t *pix = malloc((size_t)n * per + 1);
    uint8_t *ok = calloc((size_t)n + 1, 1);
    if (!pix || !ok) {
        free(pix);
        free(ok);
        return set_error(err, errlen, "%s: out of memory for %d images of %dx%dx%d", src->kind, n, nc,
                    size, size);
    }
    failure named[NAMED_FAILURES];
    int nnamed = 0, nfailed = 0, stop = 0;
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
                if (rc) {
                    nfailed++;
                    // Keep the lowest-numbered failures, so the message does not depend on timing.
                    int at = nnamed;
                    while (at > 0 && named[at - 1].idx > i) at--;
                    if (at < NAMED_FAILURES) {
                        int last = nnamed < NAMED_FAILURES ? nnamed : NAMED_FAILURES - 1;
                        memmove(named + at + 1, named + at, (size_t)(last - at) * sizeof *named);
                        named[at].idx = i;
                        snprintf(named[at].why, sizeof named[at].why, "%s", why);
                        if (nnamed < NAMED_FAILURES) nnamed++;
                    }
                    if (strict) {
                        #pragma omp atomic write
                        stop = 1;
                    }
                }
                if (progress) bar_draw(&b, src->kind, d, n, 0);
            }
        }
    }
    if (progress) bar_draw(&b, src->kind, done, n, 1);
    if (nfailed && strict) {
        char name[1200];
        src->name(src->ctx, named[0].idx, name, sizeof name);
        free(pix);
        free(ok);
        return set_error(err, errlen, "%s: %s (--strict: an undecodable item is an error)", name,
                    named[0].why);
    }
    if (nfailed) {
        char msg[2048];
        int k = snprintf(msg, sizeof msg, "warning: skipped %d of %d %s that could not be "
                         "decoded:", nfailed, n, src->noun);
        for (int j = 0; j < nnamed && k > 0 && (size_t)k < sizeof msg; j++) {
            char name[1200];
            src->name(src->ctx, named[j].idx, name, sizeof name);
            k += snprintf(msg + k, sizeof msg - (size_t)k, "%s %s (%s)", j ? ";" : "", name,
                          named[j].why);
        }
        fprintf(stderr, "%s%s\n", msg, nfailed > nnamed ? "; ..." : "");
    }
    // Compact the survivors in order.
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (!ok[i]) continue;
        if (kept != i) {
            memmove(pix + (size_t)kept * per, pix + (size_t)i * per, per);
            if (src->labels) src->labels[kept] = src->labels[i];
        }
        kept++;
    }
    free(ok);
    if (kept == 0) {
        free(pix);
        return set_error(err, errlen, "%s: none of the %d %s could be decoded", src->kind, n, src->noun);
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
