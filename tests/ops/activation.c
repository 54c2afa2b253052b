// The element-wise activations (ReLU, leaky ReLU 0.2, tanh: those not fused with a batchnorm, D's
// first leaky ReLU and G's tanh), forward and backward (which reads the forward's output: the
// reference's is loaded first), on one element, a large odd count and a 32-channel tensor that a
// blocked backend stores in blocks.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "dcgan/cpu.h"
#include "op_case.h"
#include "test_util.h"

enum { A_IN, A_DOUT, A_OUT, A_DIN };
enum { PH_FWD, PH_BWD };

static const char *const act_names[3] = {"relu", "leaky relu", "tanh"};

// CUDA: ReLU and leaky ReLU are exact; tanhf differs from glibc's by at most 2 ulp (< 2.4e-7 for
// |y| < 1): 3e-7 of the largest output. The backward multiplies by a derivative both compute
// alike from the same output: equal values. oneDNN fp32: the reference's arithmetic: equal values.
// bf16: 8 significant bits in and out: 2% (as convolutions).
static op_tol act_tol(const op_case *c, int buf, int phase, const op_target *tg) {
    (void)phase;
    if (tg->dtype == DTYPE_BF16) return (op_tol){.rel = 2e-2, .rtol = 2e-2};
    if (tg->cuda && buf == A_OUT && c->d.act.kind == ACT_TANH) return (op_tol){.rel = 3e-7};
    return tol_equal();
}

static void act_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    act_desc d = c->d.act;
    d.x = t[A_IN];
    if (phase == PH_FWD) be->activation_forward(be, p[A_OUT], p[A_IN], &d);
    else be->activation_backward(be, p[A_DIN], p[A_DOUT], p[A_OUT], &d);
}

// Inputs kept away from the kink at 0, where the finite difference is not the derivative.
static void away_from_kink(const op_case *c, void *const *host) {
    float *x = host[A_IN];
    for (size_t i = 0; i < c->buf[A_IN].n; i++)
        if (fabsf(x[i]) < 0.05f) x[i] += x[i] < 0 ? -0.1f : 0.1f;
}

static double act_bytes(const op_case *c, int phase) { return (phase == PH_FWD ? 2.0 : 3.0) * c->buf[A_IN].n * 4; }

static op_case *act_case(op_list *l, act_kind kind, tensor_desc x, float scale, unsigned seed) {
    op_case *c = case_add(l, "activation", OP_ACTIVATION);
    c->d.act = (act_desc){.kind = kind, .slope = 0.2f, .x = x};
    buf_act(c, A_IN, "in", x, scale, 0.0f, seed);
    buf_act(c, A_DOUT, "dout", x, 1.0f, 0.0f, seed + 1);
    buf_out_act(c, A_OUT, "out", x)->check = 1u << PH_FWD;
    c->buf[A_OUT].load = 1u << PH_BWD;
    buf_out_act(c, A_DIN, "din", x)->check = 1u << PH_BWD;
    c->nphases = 2;
    c->phase_name[PH_FWD] = "fwd", c->phase_name[PH_BWD] = "bwd";
    c->run = act_run;
    c->tol = act_tol;
    c->bytes = act_bytes;
    snprintf(c->name, sizeof c->name, "%s %dx%dx%dx%d", act_names[kind], x.n, x.c, x.h, x.w);
    return c;
}

static void act_list(op_list *l, const op_list_opts *o) {
    for (int k = ACT_RELU; k <= ACT_TANH; k++) {
        if (o->perf) { act_case(l, (act_kind)k, tensor_f32(128, 128, 32, 32), 3.0f, 31); continue; }
        act_case(l, (act_kind)k, tensor_f32(1, 1, 1, 1), 3.0f, 31);
        act_case(l, (act_kind)k, tensor_f32(100003, 1, 1, 1), 3.0f, 31);
        act_case(l, (act_kind)k, tensor_f32(4, 32, 8, 8), 2.0f, 5);
        op_case *c = act_case(l, (act_kind)k, tensor_f32(96, 1, 1, 1), 2.5f, 41);
        c->init = away_from_kink;
        case_fd(c, 1u << PH_FWD, 1u << PH_BWD, A_OUT, A_DOUT, 1e-2f, (op_tol){.abs = 1e-3, .rtol = 1e-3});
        case_fd_grad(c, A_IN, A_DIN);
    }
}

// cpu-ref's forward against the formulas in double; large tensors take the threaded path, which
// must agree with the element formula bit for bit.
static void act_ref_checks(void) {
    const dcgan_backend *be = backend_cpu();
    const size_t n = (size_t)1 << 17;
    float *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out), *ref = malloc(n * sizeof *ref);
    fill_random(in, n, 51, 3.0f);
    for (int k = ACT_RELU; k <= ACT_TANH; k++) {
        const act_desc d = {.kind = (act_kind)k, .slope = 0.2f, .x = tensor_f32(96, 1, 1, 1)};
        cpu_activation_forward(be, out, in, &d);
        for (size_t i = 0; i < 96; i++) {
            const double x = in[i];
            ref[i] = (float)(k == ACT_RELU ? fmax(x, 0.0) : k == ACT_LEAKY_RELU ? (x > 0 ? x : 0.2 * x) : tanh(x));
        }
        char label[64];
        snprintf(label, sizeof label, "cpu-ref %s forward vs formula", act_names[k]);
        check_close(label, out, ref, 96, 1e-6, 1e-6);
    }
    const act_desc lrelu = {.kind = ACT_LEAKY_RELU, .slope = 0.2f, .x = tensor_f32((int)n, 1, 1, 1)};
    const act_desc th = {.kind = ACT_TANH, .slope = 0.2f, .x = tensor_f32((int)n, 1, 1, 1)};
    cpu_activation_forward(be, out, in, &lrelu);
    for (size_t i = 0; i < n; i++) ref[i] = in[i] > 0 ? in[i] : 0.2f * in[i];
    check_close("cpu-ref leaky relu forward, large n", out, ref, n, 0, 0);
    cpu_activation_forward(be, out, in, &th);
    for (size_t i = 0; i < n; i++) ref[i] = tanhf(in[i]);
    check_close("cpu-ref tanh forward, large n", out, ref, n, 0, 0);
    free(in); free(out); free(ref);
}

const op_family op_family_activation = {"activation", act_list, act_ref_checks};
