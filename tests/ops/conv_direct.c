// Direct convolution loops in double: the check of cpu-ref's im2col + GEMM convolutions.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conv_direct.h"
#include "dcgan/cpu.h"
#include "test_util.h"

// Shapes of a convolution for the loops below.
typedef struct {
    int B, C, H, W;    // input
    int OC, OH, OW;    // output
    int KH, KW, SH, SW, PH, PW;
} conv_geom;

enum { REF_FORWARD, REF_DATA, REF_FILTER };

// For conv2d, in[b,c,ih,iw] * w[oc,c,kh,kw] feeds out[b,oc,oh,ow] with ih = oh*s - p + kh; mode
// picks which of the three is accumulated.
static void naive_conv2d(double *acc, const float *a, const float *b, const conv_geom *g, int mode) {
    for (int n = 0; n < g->B; n++)
        for (int oc = 0; oc < g->OC; oc++)
            for (int c = 0; c < g->C; c++)
                for (int oh = 0; oh < g->OH; oh++)
                    for (int ow = 0; ow < g->OW; ow++)
                        for (int kh = 0; kh < g->KH; kh++)
                            for (int kw = 0; kw < g->KW; kw++) {
                                const int ih = oh * g->SH - g->PH + kh, iw = ow * g->SW - g->PW + kw;
                                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) continue;
                                const size_t i = (((size_t)n * g->C + c) * g->H + ih) * g->W + iw;
                                const size_t o = (((size_t)n * g->OC + oc) * g->OH + oh) * g->OW + ow;
                                const size_t w = (((size_t)oc * g->C + c) * g->KH + kh) * g->KW + kw;
                                if (mode == REF_FORWARD) acc[o] += (double)a[i] * b[w];      // a=in, b=w
                                else if (mode == REF_DATA) acc[i] += (double)a[o] * b[w];    // a=dout, b=w
                                else acc[w] += (double)a[o] * b[i];                          // a=dout, b=in
                            }
}

// Transposed conv: in[b,c,ih,iw] * w[c,oc,kh,kw] scatters into out[b,oc,oh,ow], oh = ih*s - p + kh.
static void naive_convt2d(double *acc, const float *a, const float *b, const conv_geom *g, int mode) {
    for (int n = 0; n < g->B; n++)
        for (int c = 0; c < g->C; c++)
            for (int oc = 0; oc < g->OC; oc++)
                for (int ih = 0; ih < g->H; ih++)
                    for (int iw = 0; iw < g->W; iw++)
                        for (int kh = 0; kh < g->KH; kh++)
                            for (int kw = 0; kw < g->KW; kw++) {
                                const int oh = ih * g->SH - g->PH + kh, ow = iw * g->SW - g->PW + kw;
                                if (oh < 0 || oh >= g->OH || ow < 0 || ow >= g->OW) continue;
                                const size_t i = (((size_t)n * g->C + c) * g->H + ih) * g->W + iw;
                                const size_t o = (((size_t)n * g->OC + oc) * g->OH + oh) * g->OW + ow;
                                const size_t w = (((size_t)c * g->OC + oc) * g->KH + kh) * g->KW + kw;
                                if (mode == REF_FORWARD) acc[o] += (double)a[i] * b[w];      // a=in, b=w
                                else if (mode == REF_DATA) acc[i] += (double)a[o] * b[w];    // a=dout, b=w
                                else acc[w] += (double)a[o] * b[i];                          // a=dout, b=in
                            }
}

// The case's geometry: a dense layer is the convolution whose kernel covers the image (D's last:
// in H x W -> 1x1) or whose input is 1x1 (G's first: -> OH x OW), stride 1, no padding.
static conv_geom geom_of(const op_case *c, int *transposed) {
    const tensor_desc *in = &c->buf[CV_IN].t, *out = &c->buf[CV_OUT].t;
    conv_geom g = {in->n, in->c, in->h, in->w, out->c, out->h, out->w, 0, 0, 1, 1, 0, 0};
    if (c->arg[ARG_DENSE]) {
        *transposed = c->d.dense.transposed;
        g.KH = *transposed ? out->h : in->h;
        g.KW = *transposed ? out->w : in->w;
        return g;
    }
    const conv_desc *d = &c->d.conv;
    *transposed = d->kind == CONV_TRANSPOSE_2D;
    g.KH = d->kh, g.KW = d->kw, g.SH = d->sh, g.SW = d->sw, g.PH = d->ph, g.PW = d->pw;
    return g;
}

// The workspace holds col + a transposed output for as many samples as fit in 16 Mi floats (at
// least one): returns the chunks a batch is cut into.
static int check_chunks(const op_case *c, const conv_geom *g, int transposed) {
    const size_t budget = (size_t)16 << 20;
    const size_t P = transposed ? (size_t)g->H * g->W : (size_t)g->OH * g->OW;
    const size_t rows = (size_t)(transposed ? g->OC : g->C) * g->KH * g->KW;
    const size_t per_sample = (rows + (size_t)(transposed ? g->C : g->OC)) * P;
    size_t chunk = budget / per_sample;
    chunk = chunk < 1 ? 1 : chunk > (size_t)g->B ? (size_t)g->B : chunk;
    const size_t have = cpu_conv_workspace_floats(&c->d.conv);
    CHECK(have == chunk * per_sample);
    CHECK(have <= budget || chunk == 1);
    if (c->arg[ARG_CHUNKS]) CHECK(chunk > 1 && chunk < (size_t)g->B);
    return (int)((g->B + chunk - 1) / chunk);
}

static float *filled(const op_buf *b, float value) {
    float *x = malloc(b->n * sizeof(float));
    if (!x) { fprintf(stderr, "test_ops: out of memory\n"); exit(1); }
    if (b->scale > 0) fill_random(x, b->n, b->seed, b->scale);
    else for (size_t i = 0; i < b->n; i++) x[i] = value;
    return x;
}

static void compare_direct(const op_case *c, const char *what, const float *got, const double *want, size_t n,
                           double add, double atol, int chunks) {
    float *ref = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) ref[i] = (float)(want[i] + add);
    char name[200];
    snprintf(name, sizeof name, "cpu-ref %s %s vs direct%s", c->name, what,
             chunks > 1 ? " (several chunks)" : "");
    check_close(name, got, ref, n, atol, 1e-4);
    free(ref);
}

void conv_direct_check(const op_case *c) {
    const dcgan_backend *be = backend_cpu();
    int transposed = 0;
    const conv_geom g = geom_of(c, &transposed);
    const int dense = c->arg[ARG_DENSE];
    char err[256];
    if (!dense && be->conv_plan(be, &c->d.conv, err, sizeof err)) {
        fprintf(stderr, "FAIL plan: %s\n", err);
        test_failures++;
        return;
    }
    const int chunks = dense ? 1 : check_chunks(c, &g, transposed);
    const size_t nin = c->buf[CV_IN].n, nout = c->buf[CV_OUT].n, nw = c->buf[CV_W].n;
    float *in = filled(&c->buf[CV_IN], 0), *w = filled(&c->buf[CV_W], 0), *r = filled(&c->buf[CV_DOUT], 0);
    float *out = filled(&c->buf[CV_OUT], NAN), *din = filled(&c->buf[CV_DIN], 1e30f);
    float *dw = malloc(nw * sizeof(float));
    for (size_t i = 0; i < nw; i++) dw[i] = 0.5f;
    double *ref_out = calloc(nout, sizeof(double)), *ref_in = calloc(nin, sizeof(double));
    double *ref_w = calloc(nw, sizeof(double));
    void (*naive)(double *, const float *, const float *, const conv_geom *, int) =
        transposed ? naive_convt2d : naive_conv2d;
    if (dense) {
        be->dense_forward(be, out, in, w, &c->d.dense);
        be->dense_backward_data(be, din, r, w, &c->d.dense);
        be->dense_backward_filter(be, dw, r, in, &c->d.dense);
    } else {
        be->conv_forward(be, out, in, w, &c->d.conv);
        be->conv_backward_data(be, din, r, w, &c->d.conv);
        be->conv_backward_filter(be, dw, r, in, &c->d.conv);
    }
    naive(ref_out, in, w, &g, REF_FORWARD);
    naive(ref_in, r, w, &g, REF_DATA);
    naive(ref_w, r, in, &g, REF_FILTER);
    compare_direct(c, "fwd", out, ref_out, nout, 0, 1e-4, chunks);
    compare_direct(c, "d_in", din, ref_in, nin, 0, 1e-4, chunks);
    compare_direct(c, "d_w(+0.5)", dw, ref_w, nw, 0.5, 1e-3, chunks);
    free(in); free(w); free(r); free(out); free(din); free(dw);
    free(ref_out); free(ref_in); free(ref_w);
}
