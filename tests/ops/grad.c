// Grad mode: a case's backward phases against central finite differences of its forward phases,
// L = sum(out * weight) (or out[0]), on a host-memory fp32 NCHW target. Gradients the op
// accumulates start non-zero and are compared as what the backward added; those it overwrites
// start as NaN: both semantics are checked with the values.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "test_util.h"

static double objective(const op_case *c, const case_bufs *cb) {
    for (int k = 0; k < c->nphases; k++)
        if (c->fd.fwd_phases >> k & 1) case_run_phase(c, k, cb);
    const float *out = cb->p[c->fd.out];
    if (c->fd.weight < 0) return out[0];
    const float *w = cb->p[c->fd.weight];
    double s = 0;
    for (size_t i = 0; i < c->buf[c->fd.out].n; i++) s += (double)out[i] * w[i];
    return s;
}

// num[i] = dL / dx[i] by central differences; the step actually representable in float is used.
// The input is written through upload, as a backend that keeps its own copy of weights requires.
static void numeric_grad(float *num, const op_case *c, const case_bufs *cb, int input) {
    const dcgan_backend *be = cb->tg->be;
    const size_t n = c->buf[input].n, bytes = n * sizeof(float);
    float *x = malloc(bytes ? bytes : 1);
    if (!x) { fprintf(stderr, "test_ops: out of memory\n"); exit(1); }
    be->download(be, x, cb->p[input], bytes);
    const float eps = c->fd.eps;
    for (size_t i = 0; i < n; i++) {
        const float x0 = x[i], xp = x0 + eps, xm = x0 - eps;
        x[i] = xp;
        be->upload(be, cb->p[input], x, bytes);
        const double fp = objective(c, cb);
        x[i] = xm;
        be->upload(be, cb->p[input], x, bytes);
        const double fm = objective(c, cb);
        x[i] = x0;
        num[i] = (float)((fp - fm) / ((double)xp - (double)xm));
    }
    be->upload(be, cb->p[input], x, bytes);
    free(x);
}

static float *copy_of(const void *p, size_t n) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    if (!x) { fprintf(stderr, "test_ops: out of memory\n"); exit(1); }
    memcpy(x, p, n * sizeof *x);
    return x;
}

void case_grad(const op_case *c, const op_target *tg) {
    case_bufs cb;
    if (bufs_open(&cb, c, tg, NULL)) return;
    float *before[OP_MAX_GRADS] = {0}, *analytic[OP_MAX_GRADS] = {0};
    for (int g = 0; g < c->fd.ngrads; g++) {
        const int gi = c->fd.grads[g][1];
        if (c->buf[gi].accum) before[g] = copy_of(cb.p[gi], c->buf[gi].n);
    }
    for (int k = 0; k < c->nphases; k++)
        if ((c->fd.fwd_phases | c->fd.bwd_phases) >> k & 1) case_run_phase(c, k, &cb);
    for (int g = 0; g < c->fd.ngrads; g++) {
        const int gi = c->fd.grads[g][1];
        analytic[g] = copy_of(cb.p[gi], c->buf[gi].n);
        for (size_t i = 0; before[g] && i < c->buf[gi].n; i++) analytic[g][i] -= before[g][i];
    }
    for (int g = 0; g < c->fd.ngrads; g++) {
        const int xi = c->fd.grads[g][0], gi = c->fd.grads[g][1];
        const size_t n = c->buf[xi].n;
        float *num = malloc((n ? n : 1) * sizeof *num);
        numeric_grad(num, c, &cb, xi);
        char label[224];
        snprintf(label, sizeof label, "%s %s: %s%s fd", tg->name, c->name, c->buf[gi].name,
                 c->buf[gi].accum ? " (accumulated)" : "");
        check_close(label, analytic[g], num, n, c->fd.tol.abs, c->fd.tol.rtol);
        free(num);
    }
    for (int g = 0; g < c->fd.ngrads; g++) { free(before[g]); free(analytic[g]); }
    bufs_close(&cb, c);
}
