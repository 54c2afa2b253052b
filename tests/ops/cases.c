// Building the op test's cases: a growing list, and the buffers of a case.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "op_case.h"

op_case *case_add(op_list *l, const char *family, dcgan_op op) {
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 64;
        op_case *grown = realloc(l->cases, (size_t)cap * sizeof *grown);
        if (!grown) { fprintf(stderr, "test_ops: out of memory listing the cases\n"); exit(1); }
        l->cases = grown;
        l->cap = cap;
    }
    op_case *c = &l->cases[l->n++];
    memset(c, 0, sizeof *c);
    c->family = family;
    c->op = op;
    c->fd.weight = -1;
    return c;
}

void case_free_list(op_list *l) {
    free(l->cases);
    memset(l, 0, sizeof *l);
}

static op_buf *buf_at(op_case *c, int i, const char *name, op_buf_type type) {
    if (i < 0 || i >= OP_MAX_BUFS) { fprintf(stderr, "test_ops: buffer %d of %s out of range\n", i, c->name); exit(1); }
    if (i >= c->nbufs) c->nbufs = i + 1;
    op_buf *b = &c->buf[i];
    memset(b, 0, sizeof *b);
    b->name = name;
    b->type = type;
    return b;
}

op_buf *buf_act(op_case *c, int i, const char *name, tensor_desc t, float scale, float offset, unsigned seed) {
    op_buf *b = buf_at(c, i, name, BUF_ACT);
    b->t = t;
    b->n = tensor_numel(&t);
    b->scale = scale;
    b->offset = offset;
    b->seed = seed;
    return b;
}

op_buf *buf_flat(op_case *c, int i, const char *name, op_buf_type type, size_t n, float scale, float offset,
                 unsigned seed) {
    op_buf *b = buf_at(c, i, name, type);
    b->n = n;
    b->scale = scale;
    b->offset = offset;
    b->seed = seed;
    return b;
}

op_buf *buf_out_act(op_case *c, int i, const char *name, tensor_desc t) {
    op_buf *b = buf_act(c, i, name, t, 0, 0, 0);
    b->garbage = 1;
    return b;
}

op_buf *buf_out(op_case *c, int i, const char *name, op_buf_type type, size_t n) {
    op_buf *b = buf_flat(c, i, name, type, n, 0, 0, 0);
    b->garbage = 1;
    return b;
}

size_t buf_elem_bytes(op_buf_type type) {
    switch (type) {
    case BUF_F64: case BUF_I64: return 8;
    case BUF_U8: return 1;
    default: return 4;
    }
}

int case_phase_mask(int nphases) { return (int)((1u << nphases) - 1); }

op_tol case_tol_exact(const op_case *c, int buf, int phase, const op_target *tg) {
    (void)c; (void)buf; (void)phase; (void)tg;
    return tol_exact();
}

op_tol case_tol_equal(const op_case *c, int buf, int phase, const op_target *tg) {
    (void)c; (void)buf; (void)phase; (void)tg;
    return tol_equal();
}

void case_fd(op_case *c, unsigned fwd, unsigned bwd, int out, int weight, float eps, op_tol tol) {
    c->fd.fwd_phases = fwd;
    c->fd.bwd_phases = bwd;
    c->fd.out = out;
    c->fd.weight = weight;
    c->fd.eps = eps;
    c->fd.tol = tol;
}

void case_fd_grad(op_case *c, int input, int gradient) {
    if (c->fd.ngrads == OP_MAX_GRADS) { fprintf(stderr, "test_ops: too many gradients in %s\n", c->name); exit(1); }
    c->fd.grads[c->fd.ngrads][0] = input;
    c->fd.grads[c->fd.ngrads][1] = gradient;
    c->fd.ngrads++;
}
