// CPU ops: backward passes against central finite differences, convolutions and the dense
// layers against direct loops (including batches that need several workspace chunks), batchnorm
// running stats and eval mode, optimiser steps against hand-computed values, and
// accumulate/overwrite semantics.
#include "dcgan/cpu.h"
#include "test_util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FD_EPS 1e-2f

// The ops under test, called the way net_exec calls them.
static const dcgan_backend *be;

// Shapes of a convolution for the direct loops below.
typedef struct {
    int B, C, H, W;    // input
    int OC, OH, OW;    // output
    int KH, KW, SH, SW, PH, PW;
} conv_geom;

static conv_geom geom_of(const conv_desc *d) {
    conv_geom g = {d->in.n, d->in.c, d->in.h, d->in.w, d->out.c, d->out.h, d->out.w, d->kh, d->kw, d->sh, d->sw,
                   d->ph, d->pw};
    return g;
}

static void bn_train(float *out, float *mean, float *invstd, float *rm, float *rv, const float *in, const float *gamma,
                     const float *beta, int B, int C, int HW, float momentum, float eps, float slope) {
    float running[64];
    memcpy(running, rm, C * sizeof(float));
    memcpy(running + C, rv, C * sizeof(float));
    bn_desc d = {.x = tensor_f32(B, C, HW, 1), .momentum = momentum, .eps = eps, .act_slope = slope};
    int64_t count = 0;
    cpu_batchnorm_forward_train(be, out, mean, invstd, running, &count, in, gamma, beta, &d);
    CHECK(count == 1);
    memcpy(rm, running, C * sizeof(float));
    memcpy(rv, running + C, C * sizeof(float));
}

static void bn_eval(float *out, const float *in, const float *gamma, const float *beta, const float *rm,
                    const float *rv, int B, int C, int HW, float eps, float slope) {
    float running[64];
    memcpy(running, rm, C * sizeof(float));
    memcpy(running + C, rv, C * sizeof(float));
    bn_desc d = {.x = tensor_f32(B, C, HW, 1), .momentum = 0.1f, .eps = eps, .act_slope = slope};
    cpu_batchnorm_forward_eval(be, out, in, gamma, beta, running, &d);
}

static void bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *out, const float *in,
                        const float *mean, const float *invstd, const float *gamma, int B, int C, int HW, float slope) {
    bn_desc d = {.x = tensor_f32(B, C, HW, 1), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope};
    cpu_batchnorm_backward(be, din, dgamma, dbeta, dout, out, in, mean, invstd, gamma, &d);
}

static void act(act_kind kind, int backward, float *y, const float *a, const float *b, size_t n) {
    act_desc d = {.kind = kind, .slope = 0.2f, .x = tensor_f32((int)n, 1, 1, 1)};
    if (backward) cpu_activation_backward(be, y, a, b, &d);
    else cpu_activation_forward(be, y, a, &d);
}

static double loss_d(float *dl, const float *logits, int B, gan_loss kind, int real) {
    loss_desc d = {.kind = kind, .role = real ? ROLE_D_REAL : ROLE_D_FAKE, .B = B};
    return gan_loss_mean(dl, logits, &d);
}

static double loss_g(float *dl, const float *logits, int B, gan_loss kind) {
    loss_desc d = {.kind = kind, .role = ROLE_G, .B = B};
    return gan_loss_mean(dl, logits, &d);
}

static void adam_update(float *p, const float *g, float *m, float *v, size_t n, float lr, float b1, float b2,
                        float eps, long t) {
    optim_desc d = optim_desc_make(OPT_ADAM, n, lr, b1, b2, eps);
    int64_t step = t - 1;   // the op counts the step itself
    cpu_optim_update(be, p, g, m, v, &step, &d);
    CHECK(step == t);
}

static void rmsprop_update(float *p, const float *g, float *sq, size_t n, float lr, float alpha, float eps) {
    optim_desc d = optim_desc_make(OPT_RMSPROP, n, lr, 0.0f, alpha, eps);
    int64_t step = 0;
    cpu_optim_update(be, p, g, sq, NULL, &step, &d);
}

static float *alloc_floats(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) { perror("calloc"); exit(1); }
    return p;
}

static double *alloc_doubles(size_t n) {
    double *p = calloc(n ? n : 1, sizeof(double));
    if (!p) { perror("calloc"); exit(1); }
    return p;
}

static void fill_value(float *x, size_t n, float v) { for (size_t i = 0; i < n; i++) x[i] = v; }

static double dot_f64(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static void to_float(float *dst, const double *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
}

// ---------------------------------------------------------------------------------------------
// Finite differences

typedef double (*objective_fn)(void *ctx);

// num[i] = d f / d x[i] by central differences; the step actually representable in float is used.
static void numeric_grad(float *num, float *x, size_t n, float eps, objective_fn f, void *ctx) {
    for (size_t i = 0; i < n; i++) {
        const float x0 = x[i], xp = x0 + eps, xm = x0 - eps;
        x[i] = xp;
        const double fp = f(ctx);
        x[i] = xm;
        const double fm = f(ctx);
        x[i] = x0;
        num[i] = (float)((fp - fm) / ((double)xp - (double)xm));
    }
}

// ---------------------------------------------------------------------------------------------
// Direct convolution loops in double. For conv2d, in[b,c,ih,iw] * w[oc,c,kh,kw] feeds
// out[b,oc,oh,ow] with ih = oh*s - p + kh; mode picks which of the three is accumulated.

enum { REF_FORWARD, REF_DATA, REF_FILTER };

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

// ---------------------------------------------------------------------------------------------
// Convolution cases

typedef struct {
    int transposed, dense;   // dense: the same layer run as a matrix product (dense op)
    conv_desc d;
    dense_desc dd;
    conv_geom g;
    size_t n_in, n_out, n_w, n_work;
    float *in, *w, *out, *r;
} conv_case;

static conv_case conv_case_from(int transposed, conv_desc d, unsigned seed) {
    conv_case c = {.transposed = transposed, .d = d};
    const int B = d.in.n, C = d.in.c, H = d.in.h, W = d.in.w, OC = d.out.c;
    c.dd = (dense_desc){.in = c.d.in, .out = c.d.out, .transposed = transposed};
    c.g = geom_of(&c.d);
    c.n_in = (size_t)B * C * H * W;
    c.n_out = (size_t)B * OC * c.g.OH * c.g.OW;
    c.n_w = (size_t)C * OC * d.kh * d.kw;
    c.n_work = cpu_conv_workspace_floats(&c.d);
    char err[256];
    CHECK(cpu_conv_plan(be, &c.d, err, sizeof err) == 0);
    c.in = alloc_floats(c.n_in);
    c.w = alloc_floats(c.n_w);
    c.out = alloc_floats(c.n_out);
    c.r = alloc_floats(c.n_out);
    fill_random(c.in, c.n_in, seed, 1.0f);
    fill_random(c.w, c.n_w, seed + 1, 0.5f);
    fill_random(c.r, c.n_out, seed + 2, 1.0f);
    return c;
}

static conv_case conv_case_make(int transposed, int B, int C, int H, int W, int OC, int K, int s, int p,
                                unsigned seed) {
    return conv_case_from(transposed, conv_desc_make(transposed ? CONV_TRANSPOSE_2D : CONV_2D, tensor_f32(B, C, H, W),
                                                     OC, K, s, p), seed);
}

static void conv_case_free(conv_case *c) {
    free(c->in); free(c->w); free(c->out); free(c->r);
}

static void conv_case_name(char *buf, size_t len, const conv_case *c, const char *what) {
    const conv_geom *g = &c->g;
    snprintf(buf, len, "%s%s B%d %dx%dx%d->%dx%dx%d k%dx%d s%dx%d p%dx%d %s", c->dense ? "dense " : "",
             c->transposed ? "convt" : "conv", g->B, g->C, g->H, g->W, g->OC, g->OH, g->OW, g->KH, g->KW, g->SH, g->SW,
             g->PH, g->PW, what);
}

static void run_forward(conv_case *c, float *out) {
    if (c->dense) cpu_dense_forward(be, out, c->in, c->w, &c->dd);
    else cpu_conv_forward(be, out, c->in, c->w, &c->d);
}

static void run_backward_data(conv_case *c, float *din, const float *dout) {
    if (c->dense) cpu_dense_backward_data(be, din, dout, c->w, &c->dd);
    else cpu_conv_backward_data(be, din, dout, c->w, &c->d);
}

static void run_backward_filter(conv_case *c, float *dw, const float *dout) {
    if (c->dense) cpu_dense_backward_filter(be, dw, dout, c->in, &c->dd);
    else cpu_conv_backward_filter(be, dw, dout, c->in, &c->d);
}

static double conv_objective(void *ctx) {
    conv_case *c = ctx;
    run_forward(c, c->out);
    return dot_f64(c->out, c->r, c->n_out);
}

// Gradients of L = sum(out * r) with respect to input and weight, against finite differences.
static void conv_grad_case(conv_case c, int dense) {
    c.dense = dense;
    float *din = alloc_floats(c.n_in), *dw = alloc_floats(c.n_w);
    float *num_in = alloc_floats(c.n_in), *num_w = alloc_floats(c.n_w);
    char name[128];

    fill_value(din, c.n_in, NAN);   // backward data overwrites
    run_backward_data(&c, din, c.r);
    run_backward_filter(&c, dw, c.r);
    numeric_grad(num_in, c.in, c.n_in, FD_EPS, conv_objective, &c);
    numeric_grad(num_w, c.w, c.n_w, FD_EPS, conv_objective, &c);
    conv_case_name(name, sizeof name, &c, "d_in fd");
    check_close(name, din, num_in, c.n_in, 2e-3, 2e-3);
    conv_case_name(name, sizeof name, &c, "d_w fd");
    check_close(name, dw, num_w, c.n_w, 2e-3, 2e-3);

    free(din); free(dw); free(num_in); free(num_w);
    conv_case_free(&c);
}

// Forward, backward data and backward filter against the direct loops. Outputs start as garbage
// (overwritten) and the filter gradient starts non-zero (accumulated).
static void conv_reference_case(conv_case c, int dense, int expect_chunks) {
    const int transposed = c.transposed, B = c.d.in.n;
    c.dense = dense;
    const conv_geom *g = &c.g;
    char name[128];

    // Workspace: col + transpose buffer for as many samples as fit in 64 MB (at least one); the
    // dense op needs none.
    const size_t budget = (size_t)16 << 20;
    const size_t P = transposed ? (size_t)g->H * g->W : (size_t)g->OH * g->OW;
    const size_t rows = (size_t)(transposed ? g->OC : g->C) * g->KH * g->KW;
    const size_t per_sample = (rows + (size_t)(transposed ? g->C : g->OC)) * P;
    size_t chunk = budget / per_sample;
    chunk = chunk < 1 ? 1 : chunk > (size_t)B ? (size_t)B : chunk;
    CHECK(c.n_work == chunk * per_sample);
    CHECK(c.n_work <= budget || chunk == 1);
    if (expect_chunks) CHECK(chunk > 1 && chunk < (size_t)B);
    const int chunks = dense ? 1 : (int)((B + chunk - 1) / chunk);

    double *ref_out = alloc_doubles(c.n_out), *ref_in = alloc_doubles(c.n_in), *ref_w = alloc_doubles(c.n_w);
    float *ref = alloc_floats(c.n_out > c.n_in ? (c.n_out > c.n_w ? c.n_out : c.n_w)
                                               : (c.n_in > c.n_w ? c.n_in : c.n_w));
    float *din = alloc_floats(c.n_in), *dw = alloc_floats(c.n_w);

    fill_value(c.out, c.n_out, NAN);
    run_forward(&c, c.out);
    (transposed ? naive_convt2d : naive_conv2d)(ref_out, c.in, c.w, g, REF_FORWARD);
    to_float(ref, ref_out, c.n_out);
    snprintf(name, sizeof name, " (%d chunk%s)", chunks, chunks > 1 ? "s" : "");
    char full[160];
    conv_case_name(full, sizeof full, &c, "fwd vs direct");
    strncat(full, name, sizeof full - strlen(full) - 1);
    check_close(full, c.out, ref, c.n_out, 1e-4, 1e-4);

    fill_value(din, c.n_in, 1e30f);
    run_backward_data(&c, din, c.r);
    (transposed ? naive_convt2d : naive_conv2d)(ref_in, c.r, c.w, g, REF_DATA);
    to_float(ref, ref_in, c.n_in);
    conv_case_name(full, sizeof full, &c, "d_in vs direct");
    check_close(full, din, ref, c.n_in, 1e-4, 1e-4);

    fill_value(dw, c.n_w, 0.5f);
    run_backward_filter(&c, dw, c.r);
    (transposed ? naive_convt2d : naive_conv2d)(ref_w, c.r, c.in, g, REF_FILTER);
    for (size_t i = 0; i < c.n_w; i++) ref[i] = (float)(ref_w[i] + 0.5);
    conv_case_name(full, sizeof full, &c, "d_w(+0.5) vs direct");
    check_close(full, dw, ref, c.n_w, 1e-3, 1e-4);

    free(ref_out); free(ref_in); free(ref_w); free(ref); free(din); free(dw);
    conv_case_free(&c);
}

static void test_conv_grad(int transposed, int dense, int B, int C, int H, int W, int OC, int K, int s, int p) {
    conv_grad_case(conv_case_make(transposed, B, C, H, W, OC, K, s, p, 100u + (unsigned)(B * 7 + H)), dense);
}

static void test_conv_reference(int transposed, int dense, int B, int C, int H, int W, int OC, int K, int s, int p,
                                int expect_chunks) {
    conv_reference_case(conv_case_make(transposed, B, C, H, W, OC, K, s, p, 300u + (unsigned)(B + C)), dense,
                        expect_chunks);
}

// Rectangular kernels, strides and paddings (Inception-v3's 1x7, 7x1, 1x3, 3x1; a 3x3 stride 2).
static void test_conv_rect(int transposed, int B, int C, int H, int W, int OC, int kh, int kw, int sh, int sw,
                           int ph, int pw) {
    conv_desc d = conv_desc_rect(transposed ? CONV_TRANSPOSE_2D : CONV_2D, tensor_f32(B, C, H, W), OC, kh, kw, sh, sw,
                                 ph, pw);
    conv_grad_case(conv_case_from(transposed, d, 500u + (unsigned)(kh * 7 + kw)), 0);
    conv_reference_case(conv_case_from(transposed, d, 600u + (unsigned)(kh * 7 + kw)), 0, 0);
}

// backward_filter accumulates: two calls give twice one call.
static void test_conv_accumulate(int transposed, int dense) {
    conv_case c = dense ? conv_case_make(transposed, 3, 3, transposed ? 1 : 4, transposed ? 1 : 4, 2, 4, 1, 0, 77u)
                        : conv_case_make(transposed, 3, 3, 4, 4, 2, 4, 2, 1, 77u);
    c.dense = dense;
    float *once = alloc_floats(c.n_w), *twice = alloc_floats(c.n_w);
    run_backward_filter(&c, once, c.r);
    run_backward_filter(&c, twice, c.r);
    run_backward_filter(&c, twice, c.r);
    for (size_t i = 0; i < c.n_w; i++) once[i] *= 2.0f;
    char name[96];
    snprintf(name, sizeof name, "%s%s backward_filter accumulates", dense ? "dense " : "", transposed ? "convt" : "conv");
    check_close(name, twice, once, c.n_w, 1e-6, 1e-6);
    free(once); free(twice);
    conv_case_free(&c);
}

static void test_conv(void) {
    // Gradients: DCGAN strides (s2 p1 K4), first/last layers (s1 p0 on 1x1 / 4x4), odd shapes.
    test_conv_grad(0, 0, 2, 3, 8, 8, 2, 4, 2, 1);
    test_conv_grad(0, 0, 3, 3, 4, 4, 2, 4, 1, 0);
    test_conv_grad(0, 0, 2, 2, 7, 6, 3, 3, 2, 1);
    test_conv_grad(1, 0, 2, 3, 4, 4, 2, 4, 2, 1);
    test_conv_grad(1, 0, 3, 4, 1, 1, 2, 4, 1, 0);
    test_conv_grad(1, 0, 2, 2, 3, 5, 3, 4, 2, 1);
    // The whole-image layers as the dense op (D's last, G's first).
    test_conv_grad(0, 1, 3, 3, 4, 4, 2, 4, 1, 0);
    test_conv_grad(1, 1, 3, 4, 1, 1, 2, 4, 1, 0);
    // Direct loops at batch 1, 3 and a batch large enough to be cut into several chunks.
    test_conv_reference(0, 0, 1, 3, 16, 16, 4, 4, 2, 1, 0);
    test_conv_reference(0, 0, 3, 5, 8, 6, 3, 4, 2, 1, 0);
    test_conv_reference(0, 0, 3, 4, 4, 4, 3, 4, 1, 0, 0);
    test_conv_reference(1, 0, 1, 4, 1, 1, 3, 4, 1, 0, 0);
    test_conv_reference(1, 0, 3, 4, 4, 5, 3, 4, 2, 1, 0);
    test_conv_reference(1, 0, 3, 5, 8, 8, 3, 4, 2, 1, 0);
    test_conv_reference(0, 0, 5, 8, 4, 4, 3, 4, 1, 0, 0);
    test_conv_reference(1, 0, 5, 8, 1, 1, 3, 4, 1, 0, 0);
    test_conv_reference(0, 0, 2, 3, 5, 6, 4, 4, 1, 0, 0);
    test_conv_reference(1, 0, 2, 3, 2, 3, 4, 4, 1, 0, 0);
    test_conv_reference(0, 0, 2, 3, 5, 5, 4, 3, 1, 1, 0);
    test_conv_reference(1, 0, 2, 3, 5, 5, 4, 3, 1, 1, 0);
    test_conv_reference(0, 0, 65, 128, 32, 32, 2, 4, 2, 1, 1);
    test_conv_reference(1, 0, 63, 2, 16, 16, 128, 4, 2, 1, 1);   // last chunk of one sample
    test_conv_reference(0, 1, 3, 4, 4, 4, 3, 4, 1, 0, 0);
    test_conv_reference(1, 1, 1, 4, 1, 1, 3, 4, 1, 0, 0);
    test_conv_reference(0, 1, 5, 8, 4, 4, 3, 4, 1, 0, 0);
    test_conv_reference(1, 1, 5, 8, 1, 1, 3, 4, 1, 0, 0);
    test_conv_rect(0, 2, 3, 7, 9, 4, 1, 7, 1, 1, 0, 3);
    test_conv_rect(0, 2, 3, 9, 7, 4, 7, 1, 1, 1, 3, 0);
    test_conv_rect(0, 2, 3, 6, 5, 2, 1, 3, 1, 1, 0, 1);
    test_conv_rect(0, 2, 3, 9, 8, 3, 3, 3, 2, 2, 0, 0);
    test_conv_rect(0, 2, 2, 8, 9, 3, 3, 2, 2, 1, 1, 0);
    test_conv_rect(1, 2, 3, 4, 5, 2, 3, 2, 2, 1, 1, 0);
    test_conv_accumulate(0, 0);
    test_conv_accumulate(1, 0);
    test_conv_accumulate(0, 1);
    test_conv_accumulate(1, 1);
}

// ---------------------------------------------------------------------------------------------
// Batchnorm

typedef struct {
    int B, C, HW;
    size_t n;
    float slope;   // fused activation: 1 none, 0 ReLU, 0.2 leaky ReLU
    float *in, *gamma, *beta, *out, *r, *mean, *invstd, *rm, *rv;
} bn_case;

static double bn_objective(void *ctx) {
    bn_case *c = ctx;
    bn_train(c->out, c->mean, c->invstd, c->rm, c->rv, c->in, c->gamma, c->beta,
                            c->B, c->C, c->HW, 0.1f, 1e-5f, c->slope);
    return dot_f64(c->out, c->r, c->n);
}

static void test_bn_grad(float slope) {
    printf("batchnorm fused with activation slope %g:\n", slope);
    bn_case c = {.B = 3, .C = 2, .HW = 5, .slope = slope};
    c.n = (size_t)c.B * c.C * c.HW;
    c.in = alloc_floats(c.n); c.out = alloc_floats(c.n); c.r = alloc_floats(c.n);
    c.gamma = alloc_floats(c.C); c.beta = alloc_floats(c.C); c.mean = alloc_floats(c.C);
    c.invstd = alloc_floats(c.C); c.rm = alloc_floats(c.C); c.rv = alloc_floats(c.C);
    fill_random(c.in, c.n, 11, 2.0f);
    for (size_t i = 0; i < c.n; i++) c.in[i] += 0.5f * (float)((i / c.HW) % c.C);  // per-channel offset
    fill_random(c.r, c.n, 12, 1.0f);
    fill_random(c.gamma, c.C, 13, 0.3f);
    for (int i = 0; i < c.C; i++) c.gamma[i] += 1.0f;
    fill_random(c.beta, c.C, 14, 0.5f);

    float *din = alloc_floats(c.n), *dgamma = alloc_floats(c.C), *dbeta = alloc_floats(c.C);
    float *num_in = alloc_floats(c.n), *num_g = alloc_floats(c.C), *num_b = alloc_floats(c.C);
    bn_objective(&c);
    fill_value(din, c.n, NAN);
    bn_backward(din, dgamma, dbeta, c.r, c.out, c.in, c.mean, c.invstd, c.gamma, c.B, c.C, c.HW, slope);
    numeric_grad(num_in, c.in, c.n, FD_EPS, bn_objective, &c);
    numeric_grad(num_g, c.gamma, c.C, FD_EPS, bn_objective, &c);
    numeric_grad(num_b, c.beta, c.C, FD_EPS, bn_objective, &c);
    check_close("batchnorm train d_in fd", din, num_in, c.n, 2e-3, 5e-3);
    check_close("batchnorm train d_gamma fd", dgamma, num_g, c.C, 2e-3, 5e-3);
    check_close("batchnorm train d_beta fd", dbeta, num_b, c.C, 2e-3, 5e-3);

    // dgamma/dbeta accumulate; din is overwritten with the same values.
    float *din2 = alloc_floats(c.n), *g2 = alloc_floats(c.C), *b2 = alloc_floats(c.C);
    bn_objective(&c);
    memcpy(g2, dgamma, c.C * sizeof(float));
    memcpy(b2, dbeta, c.C * sizeof(float));
    fill_value(din2, c.n, 1e30f);
    bn_backward(din2, g2, b2, c.r, c.out, c.in, c.mean, c.invstd, c.gamma, c.B, c.C, c.HW, slope);
    for (int i = 0; i < c.C; i++) { dgamma[i] *= 2.0f; dbeta[i] *= 2.0f; }
    check_close("batchnorm backward d_gamma accumulates", g2, dgamma, c.C, 1e-6, 1e-6);
    check_close("batchnorm backward d_beta accumulates", b2, dbeta, c.C, 1e-6, 1e-6);
    check_close("batchnorm backward d_in overwrites", din2, din, c.n, 0, 0);

    free(din); free(dgamma); free(dbeta); free(num_in); free(num_g); free(num_b);
    free(din2); free(g2); free(b2);
    free(c.in); free(c.out); free(c.r); free(c.gamma); free(c.beta); free(c.mean); free(c.invstd);
    free(c.rm); free(c.rv);
}

// Synchronised batchnorm: two halves of a batch as two ranks (their sums added, as the all-reduce
// adds them) give what plain batchnorm gives on the whole batch: outputs, saved statistics, running
// statistics and gradients, within float rounding (the sums are taken in another order, the
// variance as E[x^2] - mean^2 in double).
static void test_bn_sync(float slope) {
    enum { B = 4, H = 2, C = 3, HW = 7 };
    const size_t n = (size_t)B * C * HW, half = n / 2;
    float *in = alloc_floats(n), *out = alloc_floats(n), *ref = alloc_floats(n), *dout = alloc_floats(n);
    float *din = alloc_floats(n), *din_ref = alloc_floats(n);
    float gamma[C], beta[C], mean[2][C], invstd[2][C], mean_ref[C], invstd_ref[C];
    float running[2][2 * C], running_ref[2 * C], dg[C] = {0}, db[C] = {0}, dg_ref[C] = {0}, db_ref[C] = {0};
    double sums[2][2 * C];
    fill_random(in, n, 31, 2.0f);
    for (size_t i = 0; i < n; i++) in[i] += 3.0f * (float)((i / HW) % C);   // means far from 0
    fill_random(dout, n, 32, 1.0f);
    fill_random(gamma, C, 33, 0.3f);
    fill_random(beta, C, 34, 0.5f);
    for (int c = 0; c < C; c++) {
        gamma[c] += 1.0f;
        running_ref[c] = running[0][c] = running[1][c] = 0.0f;
        running_ref[C + c] = running[0][C + c] = running[1][C + c] = 1.0f;
    }
    bn_desc whole = {.x = tensor_f32(B, C, HW, 1), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope};
    bn_desc part = {.x = tensor_f32(H, C, HW, 1), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope, .group_n = B};
    int64_t count_ref = 0, count[2] = {0, 0};
    cpu_batchnorm_forward_train(be, ref, mean_ref, invstd_ref, running_ref, &count_ref, in, gamma, beta, &whole);
    for (int r = 0; r < 2; r++) cpu_batchnorm_sums(be, sums[r], in + r * half, &part);
    for (int k = 0; k < 2 * C; k++) sums[0][k] = sums[1][k] = sums[0][k] + sums[1][k];
    for (int r = 0; r < 2; r++)
        cpu_batchnorm_forward_global(be, out + r * half, mean[r], invstd[r], running[r], &count[r], in + r * half, gamma,
                                     beta, sums[r], &part);
    check_close("sync batchnorm: output of both halves", out, ref, n, 1e-5, 1e-5);
    check_close("sync batchnorm: saved mean", mean[1], mean_ref, C, 1e-6, 1e-6);
    check_close("sync batchnorm: saved invstd", invstd[1], invstd_ref, C, 1e-6, 1e-6);
    check_close("sync batchnorm: running statistics", running[1], running_ref, 2 * C, 1e-6, 1e-6);
    CHECK(count[0] == 1 && count[1] == 1);
    cpu_batchnorm_backward(be, din_ref, dg_ref, db_ref, dout, ref, in, mean_ref, invstd_ref, gamma, &whole);
    for (int r = 0; r < 2; r++)
        cpu_batchnorm_backward_sums(be, sums[r], dg, db, dout + r * half, out + r * half, in + r * half, mean[r],
                                    invstd[r], &part);
    for (int k = 0; k < 2 * C; k++) sums[0][k] = sums[1][k] = sums[0][k] + sums[1][k];
    for (int r = 0; r < 2; r++)
        cpu_batchnorm_backward_global(be, din + r * half, dout + r * half, out + r * half, in + r * half, mean[r],
                                      invstd[r], gamma, sums[r], &part);
    check_close("sync batchnorm: d_in of both halves", din, din_ref, n, 1e-5, 1e-4);
    check_close("sync batchnorm: d_gamma summed over the halves", dg, dg_ref, C, 1e-5, 1e-5);
    check_close("sync batchnorm: d_beta summed over the halves", db, db_ref, C, 1e-5, 1e-5);
    free(in); free(out); free(ref); free(dout); free(din); free(din_ref);
}

// Running stats (momentum 0.1, unbiased variance), saved stats, output, and eval mode.
static void test_bn_stats(void) {
    enum { B = 4, C = 3, HW = 5, N = B * HW };
    const float eps = 1e-5f, momentum = 0.1f;
    float in[B * C * HW], out[B * C * HW], ref[B * C * HW], gamma[C], beta[C];
    float mean[C], invstd[C], rm[C], rv[C], exp_rm[C], exp_rv[C], exp_mean[C], exp_invstd[C];
    fill_random(gamma, C, 21, 0.5f);
    fill_random(beta, C, 22, 0.5f);
    for (int c = 0; c < C; c++) { rm[c] = 0.0f; rv[c] = 1.0f; gamma[c] += 1.0f; }
    double erm[C], erv[C];
    for (int c = 0; c < C; c++) { erm[c] = 0.0; erv[c] = 1.0; }

    for (int step = 0; step < 2; step++) {
        fill_random(in, B * C * HW, 23 + step, 3.0f);
        for (int i = 0; i < B * C * HW; i++) in[i] += (float)((i / HW) % C) - 1.0f;
        bn_train(out, mean, invstd, rm, rv, in, gamma, beta, B, C, HW, momentum, eps, 1.0f);
        for (int c = 0; c < C; c++) {
            double s = 0, sq = 0;
            for (int b = 0; b < B; b++) for (int i = 0; i < HW; i++) s += in[(b * C + c) * HW + i];
            const double mu = s / N;
            for (int b = 0; b < B; b++)
                for (int i = 0; i < HW; i++) { double d = in[(b * C + c) * HW + i] - mu; sq += d * d; }
            const double var = sq / N, is = 1.0 / sqrt(var + eps);
            erm[c] = 0.9 * erm[c] + 0.1 * mu;
            erv[c] = 0.9 * erv[c] + 0.1 * sq / (N - 1);
            exp_mean[c] = (float)mu;
            exp_invstd[c] = (float)is;
            exp_rm[c] = (float)erm[c];
            exp_rv[c] = (float)erv[c];
            for (int b = 0; b < B; b++)
                for (int i = 0; i < HW; i++) {
                    const int k = (b * C + c) * HW + i;
                    ref[k] = (float)((in[k] - mu) * is * gamma[c] + beta[c]);
                }
        }
        check_close(step ? "batchnorm running_mean, step 2" : "batchnorm running_mean, step 1", rm, exp_rm, C, 1e-6, 1e-6);
        check_close(step ? "batchnorm running_var (unbiased), step 2" : "batchnorm running_var (unbiased), step 1",
                    rv, exp_rv, C, 1e-6, 1e-6);
        check_close("batchnorm saved mean", mean, exp_mean, C, 1e-6, 1e-6);
        check_close("batchnorm saved invstd", invstd, exp_invstd, C, 1e-6, 1e-6);
        check_close("batchnorm train output", out, ref, B * C * HW, 1e-5, 1e-5);
    }

    fill_random(in, B * C * HW, 31, 2.0f);
    bn_eval(out, in, gamma, beta, rm, rv, B, C, HW, eps, 1.0f);
    for (int k = 0; k < B * C * HW; k++) {
        const int c = (k / HW) % C;
        ref[k] = (float)(((double)in[k] - rm[c]) / sqrt((double)rv[c] + eps) * gamma[c] + beta[c]);
    }
    check_close("batchnorm eval uses running stats", out, ref, B * C * HW, 1e-5, 1e-5);
}

// ---------------------------------------------------------------------------------------------
// Activations

typedef struct {
    act_kind kind;
    size_t n;
    float slope;
    float *in, *out, *r;
} act_case;

static void act_forward(act_case *c) {
    act(c->kind, 0, c->out, c->in, NULL, c->n);
}

static double act_objective(void *ctx) {
    act_case *c = ctx;
    act_forward(c);
    return dot_f64(c->out, c->r, c->n);
}

static void test_activation(act_kind kind, const char *name) {
    enum { N = 96 };
    float in[N], out[N], r[N], din[N], num[N], ref[N];
    act_case c = {.kind = kind, .n = N, .slope = 0.2f, .in = in, .out = out, .r = r};
    fill_random(in, N, 41, 2.5f);
    for (int i = 0; i < N; i++)   // keep away from the kink at 0
        if (fabsf(in[i]) < 0.05f) in[i] += in[i] < 0 ? -0.1f : 0.1f;
    fill_random(r, N, 42, 1.0f);
    act_forward(&c);
    for (int i = 0; i < N; i++) {
        const double x = in[i];
        ref[i] = (float)(kind == ACT_RELU ? fmax(x, 0.0) : kind == ACT_LEAKY_RELU ? (x > 0 ? x : 0.2 * x) : tanh(x));
    }
    char label[64];
    snprintf(label, sizeof label, "%s forward", name);
    check_close(label, out, ref, N, 1e-6, 1e-6);
    fill_value(din, N, NAN);
    act(kind, 1, din, r, out, N);   // every backward reads the forward's output
    numeric_grad(num, in, N, FD_EPS, act_objective, &c);
    snprintf(label, sizeof label, "%s d_in fd", name);
    check_close(label, din, num, N, 1e-3, 1e-3);
}

// Large tensors take the threaded path; it must agree with the element formula.
static void test_activation_large(void) {
    const size_t n = (size_t)1 << 17;
    float *in = alloc_floats(n), *out = alloc_floats(n), *ref = alloc_floats(n);
    fill_random(in, n, 51, 3.0f);
    act(ACT_LEAKY_RELU, 0, out, in, NULL, n);
    for (size_t i = 0; i < n; i++) ref[i] = in[i] > 0 ? in[i] : 0.2f * in[i];
    check_close("leaky_relu forward, large n", out, ref, n, 0, 0);
    act(ACT_TANH, 0, out, in, NULL, n);
    for (size_t i = 0; i < n; i++) ref[i] = tanhf(in[i]);
    check_close("tanh forward, large n", out, ref, n, 0, 0);
    free(in); free(out); free(ref);
}

// ---------------------------------------------------------------------------------------------
// Losses

enum { LOSS_FAKE_HALF, LOSS_REAL_HALF, LOSS_GEN };

typedef struct {
    gan_loss kind;
    int which, B;
    float *logits, *dl;
} loss_case;

static double loss_eval(loss_case *c, float *dl) {
    if (c->which == LOSS_GEN) return loss_g(dl, c->logits, c->B, c->kind);
    return loss_d(dl, c->logits, c->B, c->kind, c->which == LOSS_REAL_HALF);
}

static double loss_objective(void *ctx) {
    loss_case *c = ctx;
    float scratch[64];
    return loss_eval(c, scratch);
}

static void test_loss_grads(void) {
    enum { B = 9 };
    static const char *const half[] = {"D fake", "D real", "G"};
    for (int k = 0; k < LOSS_COUNT; k++)
        for (int which = 0; which < 3; which++) {
            float logits[B], dl[B], num[B];
            fill_random(logits, B, 61u + (unsigned)k, 3.0f);
            for (int i = 0; i < B; i++)   // keep away from hinge kinks at +-1
                if (fabsf(fabsf(logits[i]) - 1.0f) < 0.05f) logits[i] *= 1.2f;
            loss_case c = {.kind = (gan_loss)k, .which = which, .B = B, .logits = logits, .dl = dl};
            const double loss = loss_eval(&c, dl);
            numeric_grad(num, logits, B, 1e-3f, loss_objective, &c);
            char name[64];
            snprintf(name, sizeof name, "loss %s %s d_logits fd", gan_loss_name((gan_loss)k), half[which]);
            check_close(name, dl, num, B, 1e-4, 1e-3);
            CHECK(isfinite(loss));
        }
}

static void check_value(const char *name, double got, double expected, double tol) {
    const int ok = fabs(got - expected) <= tol;
    printf("%-44s got=%.9g expected=%.9g %s\n", name, got, expected, ok ? "ok" : "MISMATCH");
    if (!ok) { fprintf(stderr, "FAIL %s\n", name); test_failures++; }
}

// Hand-computed values at logits 0 and 2, names, and stability at extreme logits.
static void test_loss_values(void) {
    float zeros[2] = {0, 0}, twos[2] = {2, 2}, dl[2];
    const double ln2 = log(2.0), sp2 = log1p(exp(2.0)), spm2 = log1p(exp(-2.0)), sig2 = 1.0 / (1.0 + exp(-2.0));
    check_value("bce D real at 0 = ln2", loss_d(dl, zeros, 2, LOSS_NONSAT, 1), ln2, 1e-12);
    check_value("bce D real d_logit at 0 = -1/4", dl[0], -0.25, 1e-7);
    check_value("bce D fake at 2 = softplus(2)", loss_d(dl, twos, 2, LOSS_ML, 0), sp2, 1e-12);
    check_value("bce D fake d_logit at 2 = sigmoid(2)/2", dl[1], sig2 / 2, 1e-7);
    check_value("nonsat G at 2 = softplus(-2)", loss_g(dl, twos, 2, LOSS_NONSAT), spm2, 1e-12);
    check_value("minimax G at 2 = -softplus(2)", loss_g(dl, twos, 2, LOSS_MINIMAX), -sp2, 1e-12);
    check_value("minimax G d_logit at 2", dl[0], -sig2 / 2, 1e-7);
    check_value("ml G at 2 = -exp(2)/2", loss_g(dl, twos, 2, LOSS_ML), -0.5 * exp(2.0), 1e-12);
    check_value("ml G d_logit at 2", dl[0], -0.25 * exp(2.0), 1e-6);
    check_value("wgan D real at 2 = -2", loss_d(dl, twos, 2, LOSS_WGAN, 1), -2.0, 1e-12);
    check_value("wgan D fake at 2 = 2", loss_d(dl, twos, 2, LOSS_WGAN, 0), 2.0, 1e-12);
    check_value("wgan G at 2 = -2", loss_g(dl, twos, 2, LOSS_WGAN), -2.0, 1e-12);
    check_value("lsgan D real at 2 = 0.5", loss_d(dl, twos, 2, LOSS_LSGAN, 1), 0.5, 1e-12);
    check_value("lsgan D fake at 2 = 2", loss_d(dl, twos, 2, LOSS_LSGAN, 0), 2.0, 1e-12);
    check_value("lsgan G at 0 = 0.5", loss_g(dl, zeros, 2, LOSS_LSGAN), 0.5, 1e-12);
    check_value("hinge D real at 2 = 0", loss_d(dl, twos, 2, LOSS_HINGE, 1), 0.0, 1e-12);
    check_value("hinge D real d_logit at 2 = 0", dl[0], 0.0, 0);
    check_value("hinge D fake at 2 = 3", loss_d(dl, twos, 2, LOSS_HINGE, 0), 3.0, 1e-12);
    check_value("hinge G at 2 = -2", loss_g(dl, twos, 2, LOSS_HINGE), -2.0, 1e-12);

    float big[2] = {-200.0f, 200.0f};
    for (int k = 0; k < LOSS_COUNT; k++) {
        if (k == LOSS_ML) continue;   // exp(l) has no finite form at l = 200
        CHECK(isfinite(loss_d(dl, big, 2, (gan_loss)k, 1)) && isfinite(dl[0]) && isfinite(dl[1]));
        CHECK(isfinite(loss_d(dl, big, 2, (gan_loss)k, 0)) && isfinite(dl[0]) && isfinite(dl[1]));
        CHECK(isfinite(loss_g(dl, big, 2, (gan_loss)k)) && isfinite(dl[0]) && isfinite(dl[1]));
    }
    check_value("bce D real at -200 = 200", loss_d(dl, big, 1, LOSS_NONSAT, 1), 200.0, 1e-9);

    static const char *const names[] = {"nonsat", "minimax", "ml", "wgan", "lsgan", "hinge"};
    for (int k = 0; k < LOSS_COUNT; k++) {
        CHECK(gan_loss_parse(names[k]) == k);
        CHECK(strcmp(gan_loss_name((gan_loss)k), names[k]) == 0);
    }
    CHECK(gan_loss_parse("bogus") == -1);
    CHECK(gan_loss_parse("") == -1);
}

// ---------------------------------------------------------------------------------------------
// Optimisers

static void test_adam(void) {
    enum { N = 6 };
    const double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-8;
    float p[N], g[N], m[N] = {0}, v[N] = {0}, exp_p[N];
    double pd[N], md[N] = {0}, vd[N] = {0};
    fill_random(p, N, 71, 1.0f);
    for (int i = 0; i < N; i++) pd[i] = p[i];
    for (int t = 1; t <= 2; t++) {
        fill_random(g, N, 72u + (unsigned)t, 1.0f);
        adam_update(p, g, m, v, N, (float)lr, (float)b1, (float)b2, (float)eps, t);
        const double bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t);
        for (int i = 0; i < N; i++) {
            md[i] = b1 * md[i] + (1 - b1) * g[i];
            vd[i] = b2 * vd[i] + (1 - b2) * g[i] * g[i];
            pd[i] -= lr / bc1 * md[i] / (sqrt(vd[i]) / sqrt(bc2) + eps);
            exp_p[i] = (float)pd[i];
        }
        check_close(t == 1 ? "adam step 1 (b1 .9 b2 .99)" : "adam step 2 (b1 .9 b2 .99)", p, exp_p, N, 2e-7, 1e-6);
    }

    // DCGAN settings with a constant gradient: every step moves p by lr * g / (|g| + eps).
    float q[1] = {1.0f}, gq[1] = {0.5f}, mq[1] = {0}, vq[1] = {0};
    for (int t = 1; t <= 2; t++) adam_update(q, gq, mq, vq, 1, 0.1f, 0.5f, 0.999f, 1e-8f, t);
    check_value("adam 2 steps, const grad: 1 - 2*0.1", q[0], 1.0 - 2 * 0.1 * 0.5 / (0.5 + 1e-8), 1e-7);
    check_value("adam m after 2 steps = 0.375", mq[0], 0.375, 1e-7);
    check_value("adam v after 2 steps = 0.00049975", vq[0], 0.00049975, 1e-9);
}

static void test_rmsprop(void) {
    float p[2] = {1.0f, -0.5f}, g[2] = {0.5f, -2.0f}, sq[2] = {0, 0};
    double pd[2] = {1.0, -0.5}, sqd[2] = {0, 0};
    for (int t = 1; t <= 2; t++) {
        rmsprop_update(p, g, sq, 2, 0.01f, 0.99f, 1e-8f);
        for (int i = 0; i < 2; i++) {
            sqd[i] = 0.99 * sqd[i] + 0.01 * g[i] * g[i];
            pd[i] -= 0.01 * g[i] / (sqrt(sqd[i]) + 1e-8);
        }
        float exp_p[2] = {(float)pd[0], (float)pd[1]};
        check_close(t == 1 ? "rmsprop step 1" : "rmsprop step 2", p, exp_p, 2, 2e-7, 1e-6);
    }
    // By hand: step 1 moves by lr * g / sqrt(0.01 g^2) = 0.1 * sign(g).
    check_value("rmsprop p[0] = 1 - 0.1 - 0.01*0.5/sqrt(0.004975)", p[0], 0.9 - 0.005 / sqrt(0.004975), 2e-7);

    float x[5] = {-2.0f, -0.5f, 0.0f, 0.3f, 5.0f}, exp_x[5] = {-1.0f, -0.5f, 0.0f, 0.3f, 1.0f};
    cpu_optim_clip(be, x, 5, 1.0f);
    check_close("clip_values to [-1, 1]", x, exp_x, 5, 0, 0);
}

int main(void) {
    be = backend_cpu();
    test_conv();
    test_bn_grad(1.0f);
    test_bn_grad(0.2f);
    test_bn_grad(0.0f);
    test_bn_stats();
    test_bn_sync(1.0f);
    test_bn_sync(0.2f);
    test_bn_sync(0.0f);
    test_activation(ACT_RELU, "relu");
    test_activation(ACT_LEAKY_RELU, "leaky_relu(0.2)");
    test_activation(ACT_TANH, "tanh");
    test_activation_large();
    test_loss_grads();
    test_loss_values();
    test_adam();
    test_rmsprop();
    return test_summary("test_ops_grad");
}
