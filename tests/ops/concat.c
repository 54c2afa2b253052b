// Class conditioning: the one-hot class planes appended to a batch (G's z, D's images) and the
// gradient's data channels taken back out; exact copies.
#include <stdio.h>
#include "op_case.h"

enum { C_IN, C_CLASSES, C_DOUT, C_OUT, C_DIN };
enum { PH_CONCAT, PH_SLICE };


static void concat_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    (void)t;
    if (phase == PH_CONCAT) be->concat_onehot(be, p[C_OUT], p[C_IN], p[C_CLASSES], &c->d.concat);
    else be->slice_channels(be, p[C_DIN], p[C_DOUT], &c->d.concat);
}

static void classes(const op_case *c, void *const *host) {
    int32_t *cls = host[C_CLASSES];
    for (int b = 0; b < c->d.concat.in.n; b++) cls[b] = (b * 7 + 3) % c->d.concat.nclasses;
}

static double concat_bytes(const op_case *c, int phase) {
    (void)phase;
    return (double)(c->buf[C_IN].n + c->buf[C_OUT].n) * 4;
}

static op_case *concat_case(op_list *l, int B, int C, int HW, int K) {
    op_case *c = case_add(l, "concat", OP_CONCAT);
    const tensor_desc in = tensor_f32(B, C, HW, 1);
    c->d.concat = (concat_desc){.in = in, .nclasses = K};
    const size_t nin = tensor_numel(&in), nout = (size_t)B * (C + K) * HW;
    snprintf(c->name, sizeof c->name, "class planes B%d C%d HW%d K%d", B, C, HW, K);
    buf_flat(c, C_IN, "in", BUF_F32, nin, 1.0f, 0.0f, 21);
    buf_flat(c, C_CLASSES, "classes", BUF_I32, (size_t)B, 0, 0, 0);
    buf_flat(c, C_DOUT, "dout", BUF_F32, nout, 1.0f, 0.0f, 22);
    buf_out(c, C_OUT, "out", BUF_F32, nout)->check = 1u << PH_CONCAT;
    buf_out(c, C_DIN, "din", BUF_F32, nin)->check = 1u << PH_SLICE;
    c->init = classes;
    c->nphases = 2;
    c->phase_name[PH_CONCAT] = "concat_onehot", c->phase_name[PH_SLICE] = "slice_channels";
    c->run = concat_run;
    // Exact copies: equal values.
    c->tol = case_tol_equal;
    c->bytes = concat_bytes;
    return c;
}

static void concat_list(op_list *l, const op_list_opts *o) {
    if (o->perf) {
        concat_case(l, 64, 100, 1, 10);
        concat_case(l, 64, 3, 64 * 64, 10);
        return;
    }
    concat_case(l, 1, 100, 1, 10);
    concat_case(l, 65, 3, 64 * 64, 10);
    // L = sum(out * dout) is linear in the input: its gradient is dout's data channels.
    op_case *c = concat_case(l, 2, 3, 4, 3);
    case_fd(c, 1u << PH_CONCAT, 1u << PH_SLICE, C_OUT, C_DOUT, 1e-2f, (op_tol){.abs = 1e-4, .rtol = 1e-4});
    case_fd_grad(c, C_IN, C_DIN);
}

const op_family op_family_concat = {"concat", concat_list, NULL};
