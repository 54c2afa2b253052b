// Test mode: a case on a target and on cpu-ref from the same inputs, phase by phase; before a
// phase the buffers it names get the reference's values on both (op by op, not a drifting chain),
// after it the outputs it names are compared within the case's tolerance for that target.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "test_util.h"

static double max_abs_of(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static void compare_floats(const char *label, const float *got, const float *want, size_t n, op_tol t) {
    const double atol = t.rel * max_abs_of(want, n) + t.abs;
    if (!check_close(label, got, want, n, t.exact ? 0 : atol, t.exact ? 0 : t.rtol) || !t.exact) return;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof *got)) {
            fprintf(stderr, "FAIL %s: element %zu differs in its bits: got %a expected %a\n", label, i, got[i], want[i]);
            test_failures++;
            return;
        }
}

// Doubles (the synchronised batchnorm's sums): the same bound, printed as check_close prints.
static void compare_doubles(const char *label, const double *got, const double *want, size_t n, op_tol t) {
    double m = 0, worst = 0, of_bound = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(want[i]));
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs(got[i] - want[i]), bound = t.rel * m + t.abs + t.rtol * fabs(want[i]);
        if (!(d <= bound)) bad++;
        worst = fmax(worst, d);
        if (bound > 0) of_bound = fmax(of_bound, d / bound);
    }
    printf("%-44s n=%-8zu max_abs=%.3e of_bound=%.3f %s\n", label, n, worst, of_bound, bad ? "MISMATCH" : "ok");
    if (bad) { fprintf(stderr, "FAIL %s: %zu of %zu sums differ\n", label, bad, n); test_failures++; }
}

static void compare_bytes(const char *label, const void *got, const void *want, size_t n, size_t bytes) {
    const int same = !memcmp(got, want, bytes);
    printf("%-44s n=%-8zu %s\n", label, n, same ? "identical" : "DIFFERENT");
    if (!same) { fprintf(stderr, "FAIL %s: the values differ\n", label); test_failures++; }
}

static void compare_buf(const op_case *c, int i, int phase, const case_bufs *got, const case_bufs *ref) {
    const op_buf *b = &c->buf[i];
    char label[224];
    snprintf(label, sizeof label, "%s %s %s: %s", got->tg->name, c->name, c->phase_name[phase], b->name);
    void *h = bufs_fetch(got, c, i);
    const op_tol t = c->tol ? c->tol(c, i, phase, got->tg) : tol_exact();
    if (b->type == BUF_ACT || b->type == BUF_F32) compare_floats(label, h, ref->p[i], b->n, t);
    else if (b->type == BUF_F64) compare_doubles(label, h, ref->p[i], b->n, t);
    else compare_bytes(label, h, ref->p[i], b->n, b->n * buf_elem_bytes(b->type));
    free(h);
}

void case_test(const op_case *c, const op_target *tg) {
    const op_target ref_tg = target_ref();
    case_bufs ref, got;
    if (bufs_open(&ref, c, &ref_tg, NULL)) return;
    if (bufs_open(&got, c, tg, &ref)) { bufs_close(&ref, c); return; }
    for (int k = 0; k < c->nphases; k++) {
        if (c->prepare) c->prepare(c, k, ref.p);
        for (int i = 0; i < c->nbufs; i++)
            if (c->buf[i].load >> k & 1) bufs_load(&got, c, &ref, i);
        case_run_phase(c, k, &ref);
        case_run_phase(c, k, &got);
        tg->be->sync(tg->be);
        for (int i = 0; i < c->nbufs; i++)
            if (c->buf[i].check >> k & 1) compare_buf(c, i, k, &got, &ref);
    }
    bufs_close(&got, c);
    bufs_close(&ref, c);
}
