// The optimisers: three Adam steps (the second with tiny gradients), three RMSprop steps each
// followed by the clip of a WGAN critic, and the moving average of --ema at a decay below and one
// above one half, on 3 and on a million parameters. Each step gets new gradients (the reference's).
#include <math.h>
#include <stdio.h>
#include "dcgan/cpu.h"
#include "op_case.h"
#include "test_util.h"

enum { O_P, O_G, O_M, O_V, O_STEP };       // Adam; RMSprop keeps its square average in O_M
enum { ARG_KIND };
enum { KIND_ADAM, KIND_RMSPROP, KIND_EMA };


static const float ema_decays[2] = {0.999f, 0.25f};

static void optim_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    (void)t;
    const size_t n = c->buf[O_P].n;
    if (c->arg[ARG_KIND] == KIND_EMA) { be->optim_ema(be, p[O_M], p[O_P], n, ema_decays[phase]); return; }
    if (c->arg[ARG_KIND] == KIND_RMSPROP && phase % 2) { be->optim_clip(be, p[O_P], n, 0.01f); return; }
    be->optim_update(be, p[O_P], p[O_G], p[O_M], c->arg[ARG_KIND] == KIND_ADAM ? p[O_V] : NULL, p[O_STEP], &c->d.optim);
}

// New gradients before each update: Adam's second step tiny (1e-6), the others 0.1.
static void new_gradients(const op_case *c, int phase, void *const *host) {
    const int kind = c->arg[ARG_KIND];
    if (kind == KIND_EMA || (kind == KIND_RMSPROP && phase % 2)) return;
    const int step = kind == KIND_ADAM ? phase + 1 : phase / 2 + 1;
    fill_random(host[O_G], c->buf[O_G].n, (kind == KIND_ADAM ? 52u : 60u) + (unsigned)step,
                kind == KIND_ADAM && step == 2 ? 1e-6f : 0.1f);
}

// Adam reads p, g, m, v and writes p, m, v; RMSprop reads p, g, sq and writes p, sq; the clip and
// the moving average read two tensors and write one.
static double optim_bytes(const op_case *c, int phase) {
    const double n = (double)c->buf[O_P].n * 4;
    const int kind = c->arg[ARG_KIND];
    return kind == KIND_ADAM ? 7 * n : kind == KIND_EMA ? 3 * n : phase % 2 ? 2 * n : 5 * n;
}

static op_case *optim_case(op_list *l, int kind, size_t n) {
    static const char *const names[3] = {"adam", "rmsprop+clip", "ema"};
    op_case *c = case_add(l, "optim", OP_OPTIM);
    c->arg[ARG_KIND] = kind;
    snprintf(c->name, sizeof c->name, "%s n%zu", names[kind], n);
    buf_flat(c, O_P, kind == KIND_EMA ? "x" : "param", BUF_F32, n, 0.05f, 0.0f, 51);
    c->run = optim_run;
    // The formulas of formulas.h with IEEE rounding on every backend: equal values.
    c->tol = case_tol_equal;
    c->bytes = optim_bytes;
    c->perf_phases = 1;
    if (kind == KIND_EMA) {
        buf_flat(c, O_G, "unused", BUF_F32, 0, 0, 0, 0);
        buf_flat(c, O_M, "average", BUF_F32, n, 0.05f, 0.0f, 53)->check = 3;
        c->nphases = 2;
        c->phase_name[0] = "decay 0.999", c->phase_name[1] = "decay 0.25";
        return c;
    }
    const unsigned last = kind == KIND_ADAM ? 1u << 2 : 1u << 5;
    buf_flat(c, O_G, "grad", BUF_F32, n, 0.1f, 0.0f, 52);
    buf_flat(c, O_M, kind == KIND_ADAM ? "m" : "square average", BUF_F32, n, 0, 0, 0)->check = last;
    buf_flat(c, O_V, "v", BUF_F32, kind == KIND_ADAM ? n : 0, 0, 0, 0)->check = kind == KIND_ADAM ? last : 0;
    buf_flat(c, O_STEP, "step", BUF_I64, 1, 0, 0, 0)->check = last;
    c->buf[O_P].check = last;
    c->buf[O_G].load = 0xff;
    c->prepare = new_gradients;
    if (kind == KIND_ADAM) {
        c->d.optim = optim_desc_make(OPT_ADAM, n, 2e-4f, 0.5f, 0.999f, 1e-8f);
        c->nphases = 3;
        c->phase_name[0] = "step 1", c->phase_name[1] = "step 2", c->phase_name[2] = "step 3";
        return c;
    }
    c->d.optim = optim_desc_make(OPT_RMSPROP, n, 5e-5f, 0.0f, 0.99f, 1e-8f);
    c->nphases = 6;
    c->perf_phases = 3;
    static const char *const phases[6] = {"rmsprop 1", "clip 1", "rmsprop 2", "clip 2", "rmsprop 3", "clip 3"};
    for (int k = 0; k < 6; k++) c->phase_name[k] = phases[k];
    return c;
}

static void optim_list(op_list *l, const op_list_opts *o) {
    const size_t sizes[2] = {3, 1000003};
    for (int s = 0; s < (o->perf ? 1 : 2); s++)
        for (int kind = KIND_ADAM; kind <= KIND_EMA; kind++)
            optim_case(l, kind, o->perf ? (size_t)3576704 : sizes[s]);   // perf: G's parameters at 64 px, nc 3
}

// --- cpu-ref against hand-computed values --------------------------------------------------------

static void check_value(const char *name, double got, double expected, double tol) {
    const int ok = fabs(got - expected) <= tol;
    printf("cpu-ref %-36s got=%.9g expected=%.9g %s\n", name, got, expected, ok ? "ok" : "MISMATCH");
    if (!ok) { fprintf(stderr, "FAIL %s\n", name); test_failures++; }
}

static void adam_by_hand(void) {
    enum { N = 6 };
    const dcgan_backend *be = backend_cpu();
    const double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-8;
    float p[N], g[N], m[N] = {0}, v[N] = {0}, exp_p[N];
    double pd[N], md[N] = {0}, vd[N] = {0};
    fill_random(p, N, 71, 1.0f);
    for (int i = 0; i < N; i++) pd[i] = p[i];
    const optim_desc d = optim_desc_make(OPT_ADAM, N, (float)lr, (float)b1, (float)b2, (float)eps);
    int64_t step = 0;
    for (int t = 1; t <= 2; t++) {
        fill_random(g, N, 72u + (unsigned)t, 1.0f);
        cpu_optim_update(be, p, g, m, v, &step, &d);
        CHECK(step == t);
        const double bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t);
        for (int i = 0; i < N; i++) {
            md[i] = b1 * md[i] + (1 - b1) * g[i];
            vd[i] = b2 * vd[i] + (1 - b2) * g[i] * g[i];
            pd[i] -= lr / bc1 * md[i] / (sqrt(vd[i]) / sqrt(bc2) + eps);
            exp_p[i] = (float)pd[i];
        }
        check_close(t == 1 ? "cpu-ref adam step 1 (b1 .9 b2 .99)" : "cpu-ref adam step 2 (b1 .9 b2 .99)", p, exp_p, N,
                    2e-7, 1e-6);
    }
    // DCGAN settings with a constant gradient: every step moves p by lr * g / (|g| + eps).
    float q[1] = {1.0f}, gq[1] = {0.5f}, mq[1] = {0}, vq[1] = {0};
    const optim_desc dq = optim_desc_make(OPT_ADAM, 1, 0.1f, 0.5f, 0.999f, 1e-8f);
    int64_t sq = 0;
    for (int t = 1; t <= 2; t++) cpu_optim_update(be, q, gq, mq, vq, &sq, &dq);
    check_value("adam 2 steps, const grad: 1 - 2*0.1", q[0], 1.0 - 2 * 0.1 * 0.5 / (0.5 + 1e-8), 1e-7);
    check_value("adam m after 2 steps = 0.375", mq[0], 0.375, 1e-7);
    check_value("adam v after 2 steps = 0.00049975", vq[0], 0.00049975, 1e-9);
}

static void rmsprop_by_hand(void) {
    const dcgan_backend *be = backend_cpu();
    float p[2] = {1.0f, -0.5f}, g[2] = {0.5f, -2.0f}, sq[2] = {0, 0};
    double pd[2] = {1.0, -0.5}, sqd[2] = {0, 0};
    const optim_desc d = optim_desc_make(OPT_RMSPROP, 2, 0.01f, 0.0f, 0.99f, 1e-8f);
    int64_t step = 0;
    for (int t = 1; t <= 2; t++) {
        cpu_optim_update(be, p, g, sq, NULL, &step, &d);
        for (int i = 0; i < 2; i++) {
            sqd[i] = 0.99 * sqd[i] + 0.01 * g[i] * g[i];
            pd[i] -= 0.01 * g[i] / (sqrt(sqd[i]) + 1e-8);
        }
        float exp_p[2] = {(float)pd[0], (float)pd[1]};
        check_close(t == 1 ? "cpu-ref rmsprop step 1" : "cpu-ref rmsprop step 2", p, exp_p, 2, 2e-7, 1e-6);
    }
    // By hand: step 1 moves by lr * g / sqrt(0.01 g^2) = 0.1 * sign(g).
    check_value("rmsprop p[0] = 1 - 0.1 - 0.01*0.5/sqrt(0.004975)", p[0], 0.9 - 0.005 / sqrt(0.004975), 2e-7);
    float x[5] = {-2.0f, -0.5f, 0.0f, 0.3f, 5.0f}, exp_x[5] = {-1.0f, -0.5f, 0.0f, 0.3f, 1.0f};
    cpu_optim_clip(be, x, 5, 1.0f);
    check_close("cpu-ref clip_values to [-1, 1]", x, exp_x, 5, 0, 0);
}

static void optim_ref_checks(void) {
    adam_by_hand();
    rmsprop_by_hand();
}

const op_family op_family_optim = {"optim", optim_list, optim_ref_checks};
