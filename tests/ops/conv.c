// Convolutions, transposed convolutions and the dense layers (the whole-image ones, as matrix
// products): every layer of the DCGAN at 32, 64 and 128 px, Inception-v3's convolutions (forward
// only, rectangular kernels), and small odd shapes that finite differences and cpu-ref's direct
// loops can afford (several workspace chunks, odd sides, rectangular kernels and strides).
// Phases: forward, backward data, backward filter (onto a non-zero dw: it accumulates), and the
// forward again after the weights were written (a backend's weight copy must follow an upload).
#include <stdio.h>
#include <string.h>
#include "conv_direct.h"
#include "op_case.h"
#include "shapes.h"


// Tolerances, the same for every output of the layer.
// fp32 on oneDNN: it sums in another order than OpenBLAS, so each output may differ by a few ulps
// of the sum's largest partial term: 1e-5 of the largest output.
// fp32 on CUDA (FMA math): each output is a float32 sum of C*K*K (forward), OC*K*K (input
// gradient) or B*OH*OW (weight gradient) products; a different summation order (or cuDNN's
// Winograd/FFT transforms) moves a sum by a few 1e-7 of the magnitudes summed, i.e. ~1e-6..1e-5 of
// the largest output for the lengths here. 1e-4 of the tensor's max leaves a 10x margin and still
// catches any indexing or layout error (those are O(1) wrong).
// TF32 (CUDA's default math): the tensor cores round both operands to a 10-bit mantissa, a relative
// error of at most u = 2^-11 each, so a product carries up to 2u. Over a sum of K products with
// random signs the errors add like the terms do (as a random walk), so an output's error stays near
// 2u |output|, with tails of a few times that; 8u = 3.9e-3 of the tensor's max bounds it with the
// same 10x-style margin as above and is still far below a layout error.
// bf16: inputs and weights carry 8 significant bits, a relative error of at most 2^-9 each; a sum
// of F products of random sign then errs by about 2^-8 sqrt(F) terms while being about sqrt(F)
// terms large, ~0.4% of the output's scale, and the bf16 output itself rounds by 2^-9: 2% of the
// largest output leaves a margin of four.
static op_tol conv_tol(const op_case *c, int buf, int phase, const op_target *tg) {
    (void)c; (void)buf; (void)phase;
    if (tg->dtype == DTYPE_BF16) return (op_tol){.rel = 2e-2, .rtol = 2e-2};
    if (tg->tf32) return (op_tol){.rel = 8.0 / 2048.0};
    if (tg->cuda) return (op_tol){.rel = 1e-4};
    return (op_tol){.rel = 1e-5, .rtol = 1e-4};
}

static conv_desc conv_of(const op_case *c, const tensor_desc *t) {
    conv_desc d = c->d.conv;
    d.in = t[CV_IN];
    d.out = t[CV_OUT];
    return d;
}

static dense_desc dense_of(const op_case *c, const tensor_desc *t) {
    dense_desc d = c->d.dense;
    d.in = t[CV_IN];
    d.out = t[CV_OUT];
    return d;
}

static void conv_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    const conv_desc d = conv_of(c, t);
    if (phase == PH_FWD || phase == PH_NEW_WEIGHTS) be->conv_forward(be, p[CV_OUT], p[CV_IN], p[CV_W], &d);
    else if (phase == PH_DATA) be->conv_backward_data(be, p[CV_DIN], p[CV_DOUT], p[CV_W], &d);
    else be->conv_backward_filter(be, p[CV_DW], p[CV_DOUT], p[CV_IN], &d);
}

static void dense_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    const dense_desc d = dense_of(c, t);
    if (phase == PH_FWD || phase == PH_NEW_WEIGHTS) be->dense_forward(be, p[CV_OUT], p[CV_IN], p[CV_W], &d);
    else if (phase == PH_DATA) be->dense_backward_data(be, p[CV_DIN], p[CV_DOUT], p[CV_W], &d);
    else be->dense_backward_filter(be, p[CV_DW], p[CV_DOUT], p[CV_IN], &d);
}

static int conv_plan(const op_case *c, const dcgan_backend *be, const tensor_desc *t, char *err, size_t errlen) {
    const conv_desc d = conv_of(c, t);
    return be->conv_plan(be, &d, err, errlen);
}

static int dense_plan(const op_case *c, const dcgan_backend *be, const tensor_desc *t, char *err, size_t errlen) {
    const dense_desc d = dense_of(c, t);
    return be->dense_plan(be, &d, err, errlen);
}

// New weights (their negation) before the last forward.
static void negate_weights(const op_case *c, int phase, void *const *host) {
    if (phase != PH_NEW_WEIGHTS) return;
    float *w = host[CV_W];
    for (size_t i = 0; i < c->buf[CV_W].n; i++) w[i] = -w[i];
}

// 2 flops per multiply-add; each direction does as many as the forward.
static double conv_flops(const op_case *c, int phase) {
    (void)phase;
    const tensor_desc *in = &c->buf[CV_IN].t;
    const size_t nw = c->buf[CV_W].n;
    const size_t positions = c->arg[ARG_DENSE]          ? 1
                             : c->d.conv.kind == CONV_2D ? (size_t)c->buf[CV_OUT].t.h * c->buf[CV_OUT].t.w
                                                         : (size_t)in->h * in->w;
    return 2.0 * in->n * (double)positions * (double)nw;
}

// The least traffic: every tensor the direction reads or writes once (dw read and written).
static double conv_bytes(const op_case *c, int phase) {
    const double a = (double)c->buf[CV_IN].n * 4, o = (double)c->buf[CV_OUT].n * 4, w = (double)c->buf[CV_W].n * 4;
    return phase == PH_FILTER ? a + o + 2 * w : a + o + w;
}

// A layer from its fp32 NCHW descriptor; scales: the inputs and output gradients 1, the weights
// w_scale, the accumulated weight gradient 0.1.
static op_case *layer_case(op_list *l, conv_desc cd, int dense, int in_plain, int out_plain, float w_scale,
                           unsigned seed) {
    op_case *c = case_add(l, dense ? "dense" : "conv", dense ? OP_DENSE : OP_CONV);
    const size_t nw = (size_t)cd.in.c * cd.out.c * cd.kh * cd.kw;
    if (dense) c->d.dense = (dense_desc){.in = cd.in, .out = cd.out, .transposed = cd.kind == CONV_TRANSPOSE_2D};
    else c->d.conv = cd;
    c->arg[ARG_DENSE] = dense;
    buf_act(c, CV_IN, "in", cd.in, 1.0f, 0.0f, seed)->plain = in_plain;
    buf_flat(c, CV_W, "w", BUF_F32, nw, w_scale, 0.0f, seed + 1)->weight = 1;
    buf_act(c, CV_DOUT, "dout", cd.out, 1.0f, 0.0f, seed + 2)->plain = out_plain;
    buf_flat(c, CV_DW, "dw", BUF_F32, nw, 0.1f, 0.0f, seed + 3)->accum = 1;
    buf_out_act(c, CV_OUT, "out", cd.out)->plain = out_plain;
    buf_out_act(c, CV_DIN, "din", cd.in)->plain = in_plain;
    c->buf[CV_OUT].check = 1u << PH_FWD | 1u << PH_NEW_WEIGHTS;
    c->buf[CV_DIN].check = 1u << PH_DATA;
    c->buf[CV_DW].check = 1u << PH_FILTER;
    c->buf[CV_W].load = 1u << PH_NEW_WEIGHTS;
    c->nphases = cd.forward_only ? 1 : 4;
    const char *names[] = {"fwd", "bwd-data", "bwd-filter", "fwd, new weights"};
    for (int k = 0; k < 4; k++) c->phase_name[k] = names[k];
    c->run = dense ? dense_run : conv_run;
    c->plan = dense ? dense_plan : conv_plan;
    c->prepare = negate_weights;
    c->tol = conv_tol;
    c->perf_phases = cd.forward_only ? 1 : 7;
    c->bytes = conv_bytes;
    c->flops = conv_flops;
    const char *what = dense ? (cd.kind == CONV_2D ? "dense" : "dense-t") : (cd.kind == CONV_2D ? "conv" : "convt");
    snprintf(c->name, sizeof c->name, "%s B%d %dx%dx%d->%dx%dx%d", what, cd.in.n, cd.in.c, cd.in.h, cd.in.w, cd.out.c,
             cd.out.h, cd.out.w);
    if (cd.kh != 4 || cd.kw != 4 || cd.sh != cd.sw || cd.ph != cd.pw || cd.sh > 2) {
        char more[48];
        snprintf(more, sizeof more, " k%dx%d s%dx%d p%dx%d", cd.kh, cd.kw, cd.sh, cd.sw, cd.ph, cd.pw);
        snprintf(c->name + strlen(c->name), sizeof c->name - strlen(c->name), "%s", more);
    }
    return c;
}

static void tag_name(op_case *c, const char *tag) {
    char name[sizeof c->name];
    snprintf(name, sizeof name, "%s %s", tag, c->name);
    snprintf(c->name, sizeof c->name, "%s", name);
}

// Every conv and dense layer of G and D at this size and batch. tf32: 0 FMA only, 2 the production
// math only (the 64 px layers at batch 64 and 128, where cudnnFind picks other algorithms).
static void dcgan_layers(op_list *l, int size, int B, int size_class, int tf32, int want_dense) {
    dcgan_layer_shape s[DCGAN_MAX_SHAPES];
    for (int gen = 1; gen >= 0; gen--) {
        const int n = dcgan_layer_shapes(size, gen, s);
        for (int i = 0; i < n; i++) {
            if (s[i].dense != want_dense) continue;
            const conv_desc cd = conv_desc_make(s[i].transposed ? CONV_TRANSPOSE_2D : CONV_2D,
                                                tensor_f32(B, s[i].C, s[i].H, s[i].H), s[i].OC, 4, s[i].stride, s[i].pad);
            op_case *c = layer_case(l, cd, s[i].dense, s[i].in_plain, s[i].out_plain, 0.05f, 11);
            tag_name(c, s[i].tag);
            c->size = size_class;
            c->tf32 = tf32;
            // A weight copy following the writes does not depend on the shape: the light and quick
            // cases check it, the large ones leave out that fourth pass over the CPU reference.
            if (size_class == SIZE_FULL) c->nphases = PH_NEW_WEIGHTS;
        }
    }
}

static void dcgan_all(op_list *l, const op_list_opts *o, int want_dense) {
    static const int sizes[3] = {32, 64, 128}, perf_batches[3] = {64, 128, 256};
    for (int s = 0; s < 3; s++)
        for (int b = 0; b < 3; b++) {
            const int B = o->perf ? perf_batches[b] : test_batches[b];
            if (o->perf && o->quick && b > 0) continue;
            dcgan_layers(l, sizes[s], B, o->perf ? SIZE_LIGHT : dcgan_case_size(sizes[s], B), 0, want_dense);
        }
    if (!o->perf) {
        dcgan_layers(l, 64, 64, SIZE_QUICK, 2, want_dense);
        dcgan_layers(l, 64, 128, SIZE_FULL, 2, want_dense);
    }
}

// Small shapes: finite differences (fd) and direct loops (direct; chunks: a batch the workspace
// must cut into several pieces, the last of one sample).
typedef struct { int transposed, dense, B, C, H, W, OC, kh, kw, sh, sw, ph, pw, fd, direct, chunks; } small_shape;
static const small_shape small_shapes[] = {
    // DCGAN strides (s2 p1 K4), the first and last layers (s1 p0 on 1x1 / 4x4), odd shapes
    {0, 0, 2, 3, 8, 8, 2, 4, 4, 2, 2, 1, 1, 1, 0, 0},   {0, 0, 3, 3, 4, 4, 2, 4, 4, 1, 1, 0, 0, 1, 0, 0},
    {0, 0, 2, 2, 7, 6, 3, 3, 3, 2, 2, 1, 1, 1, 0, 0},   {1, 0, 2, 3, 4, 4, 2, 4, 4, 2, 2, 1, 1, 1, 0, 0},
    {1, 0, 3, 4, 1, 1, 2, 4, 4, 1, 1, 0, 0, 1, 0, 0},   {1, 0, 2, 2, 3, 5, 3, 4, 4, 2, 2, 1, 1, 1, 0, 0},
    {0, 1, 3, 3, 4, 4, 2, 4, 4, 1, 1, 0, 0, 1, 0, 0},   {1, 1, 3, 4, 1, 1, 2, 4, 4, 1, 1, 0, 0, 1, 0, 0},
    // direct loops at batch 1, 3 and batches large enough to be cut into several chunks
    {0, 0, 1, 3, 16, 16, 4, 4, 4, 2, 2, 1, 1, 0, 1, 0}, {0, 0, 3, 5, 8, 6, 3, 4, 4, 2, 2, 1, 1, 0, 1, 0},
    {0, 0, 3, 4, 4, 4, 3, 4, 4, 1, 1, 0, 0, 0, 1, 0},   {1, 0, 1, 4, 1, 1, 3, 4, 4, 1, 1, 0, 0, 0, 1, 0},
    {1, 0, 3, 4, 4, 5, 3, 4, 4, 2, 2, 1, 1, 0, 1, 0},   {1, 0, 3, 5, 8, 8, 3, 4, 4, 2, 2, 1, 1, 0, 1, 0},
    {0, 0, 5, 8, 4, 4, 3, 4, 4, 1, 1, 0, 0, 0, 1, 0},   {1, 0, 5, 8, 1, 1, 3, 4, 4, 1, 1, 0, 0, 0, 1, 0},
    {0, 0, 2, 3, 5, 6, 4, 4, 4, 1, 1, 0, 0, 0, 1, 0},   {1, 0, 2, 3, 2, 3, 4, 4, 4, 1, 1, 0, 0, 0, 1, 0},
    {0, 0, 2, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 0, 1, 0},   {1, 0, 2, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 0, 1, 0},
    {0, 0, 65, 128, 32, 32, 2, 4, 4, 2, 2, 1, 1, 0, 1, 1},
    {1, 0, 63, 2, 16, 16, 128, 4, 4, 2, 2, 1, 1, 0, 1, 1},   // the last chunk of one sample
    {0, 1, 3, 4, 4, 4, 3, 4, 4, 1, 1, 0, 0, 0, 1, 0},   {1, 1, 1, 4, 1, 1, 3, 4, 4, 1, 1, 0, 0, 0, 1, 0},
    {0, 1, 5, 8, 4, 4, 3, 4, 4, 1, 1, 0, 0, 0, 1, 0},   {1, 1, 5, 8, 1, 1, 3, 4, 4, 1, 1, 0, 0, 0, 1, 0},
    // rectangular kernels, strides and paddings (Inception-v3's 1x7, 7x1, 1x3; a 3x3 stride 2)
    {0, 0, 2, 3, 7, 9, 4, 1, 7, 1, 1, 0, 3, 1, 1, 0},   {0, 0, 2, 3, 9, 7, 4, 7, 1, 1, 1, 3, 0, 1, 1, 0},
    {0, 0, 2, 3, 6, 5, 2, 1, 3, 1, 1, 0, 1, 1, 1, 0},   {0, 0, 2, 3, 9, 8, 3, 3, 3, 2, 2, 0, 0, 1, 1, 0},
    {0, 0, 2, 2, 8, 9, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0},   {1, 0, 2, 3, 4, 5, 2, 3, 2, 2, 1, 1, 0, 1, 1, 0},
};

static void small_cases(op_list *l, int want_dense) {
    const int n = (int)(sizeof small_shapes / sizeof *small_shapes);
    for (int i = 0; i < n; i++) {
        const small_shape *s = &small_shapes[i];
        if (s->dense != want_dense) continue;
        const conv_desc cd = conv_desc_rect(s->transposed ? CONV_TRANSPOSE_2D : CONV_2D, tensor_f32(s->B, s->C, s->H, s->W),
                                            s->OC, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw);
        op_case *c = layer_case(l, cd, s->dense, 0, 0, 0.5f, 100u + 10u * (unsigned)i);
        c->arg[ARG_DIRECT] = s->direct;
        c->arg[ARG_CHUNKS] = s->chunks;
        c->size = s->chunks ? SIZE_FULL : SIZE_LIGHT;   // cpu-ref's direct check runs them all the same
        if (s->direct) c->check_ref = conv_direct_check;
        if (s->fd) {
            case_fd(c, 1u << PH_FWD, 1u << PH_DATA | 1u << PH_FILTER, CV_OUT, CV_DOUT, 1e-2f,
                    (op_tol){.abs = 2e-3, .rtol = 2e-3});
            case_fd_grad(c, CV_IN, CV_DIN);
            case_fd_grad(c, CV_W, CV_DW);
        }
    }
}

// Inception-v3's convolutions (FID runs them forward only, planned so).
static void inception_cases(op_list *l, const op_list_opts *o) {
    static const int perf_batches[2] = {50, 128};
    for (int b = 0; b < 2; b++) {
        const int B = o->perf ? perf_batches[b] : test_batches[b];
        if (o->perf && o->quick && b > 0) continue;
        for (int i = 0; i < inception_nconvs; i++) {
            const inception_conv_shape *s = &inception_convs[i];
            conv_desc cd = conv_desc_rect(CONV_2D, tensor_f32(B, s->c, s->h, s->w), s->oc, s->kh, s->kw, s->sh, s->sw,
                                          s->ph, s->pw);
            cd.forward_only = 1;
            op_case *c = layer_case(l, cd, 0, 0, 0, 0.05f, 31);
            tag_name(c, "inception");
            c->size = o->perf ? SIZE_LIGHT : SIZE_FULL;
        }
    }
}

static void conv_list(op_list *l, const op_list_opts *o) {
    if (!o->perf) small_cases(l, 0);
    dcgan_all(l, o, 0);
    inception_cases(l, o);
}

static void dense_list(op_list *l, const op_list_opts *o) {
    if (!o->perf) small_cases(l, 1);
    dcgan_all(l, o, 1);
}

const op_family op_family_conv = {"conv", conv_list, NULL};
const op_family op_family_dense = {"dense", dense_list, NULL};
