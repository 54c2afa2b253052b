// Where a case runs: the targets of a backend, and a case's buffers on one of them (allocated,
// filled, converted to and from the target's activation format).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "test_util.h"
#ifdef DCGAN_HAVE_ONEDNN
#include "dcgan/onednn.h"
#endif

static op_target make_target(const dcgan_backend *be, dcgan_dtype dt, dcgan_layout layout, int tf32, int first) {
    op_target tg = {.be = be, .dtype = dt, .layout = layout, .cuda = !strcmp(be->name, "cuda"), .tf32 = tf32,
                    .first = first};
    const char *suffix = dt == DTYPE_BF16 ? "-bf16" : tf32 ? "-tf32" : layout != be->native_layout ? "-nchw" : "";
    snprintf(tg.name, sizeof tg.name, "%s%s", be->name, suffix);
    return tg;
}

int targets_of(const dcgan_backend *be, int tf32, op_target *out, int max) {
    int n = 0;
    const dcgan_layout native = be->native_layout;
    if (n < max) out[n++] = make_target(be, DTYPE_F32, native, tf32, 1);
    if (native != LAYOUT_NCHW && n < max && be->supports(be, OP_CONV, DTYPE_F32, LAYOUT_NCHW))
        out[n++] = make_target(be, DTYPE_F32, LAYOUT_NCHW, 0, 0);
    if (!tf32 && n < max && be->supports(be, OP_CONV, DTYPE_BF16, native))
        out[n++] = make_target(be, DTYPE_BF16, native, 0, 0);
    return n;
}

op_target target_ref(void) { return make_target(backend_cpu(), DTYPE_F32, LAYOUT_NCHW, 0, 1); }

static int formatted(const op_buf *b) { return b->type == BUF_ACT && !b->plain; }

int case_runs_on(const op_case *c, const op_target *tg) {
    if (tg->tf32 ? c->tf32 == 0 : c->tf32 == 2) return 0;
    int any = 0;
    for (int i = 0; i < c->nbufs; i++) {
        if (!formatted(&c->buf[i])) continue;
        any = 1;
        if (!tg->be->supports(tg->be, c->op, tg->dtype, tg->layout)) return 0;
    }
    return any || tg->first;
}

static tensor_desc format_of(const op_buf *b, const op_target *tg) {
    tensor_desc t = b->t;
    if (formatted(b)) t.dtype = tg->dtype, t.layout = tg->layout;
    return t;
}

// Host values and backend memory hold the same bytes: no conversion.
static int same_bytes(const op_buf *b, const tensor_desc *t) {
    return b->type != BUF_ACT || (t->dtype == DTYPE_F32 && !tensor_blocked(t));
}

static size_t host_bytes(const op_buf *b) { return b->n * buf_elem_bytes(b->type == BUF_ACT ? BUF_F32 : b->type); }

static size_t target_bytes(const op_target *tg, const op_buf *b, const tensor_desc *t) {
    return b->type == BUF_ACT ? tg->be->tensor_bytes(tg->be, t) : host_bytes(b);
}

static void put(const op_target *tg, void *dst, const void *host, const op_buf *b, const tensor_desc *t) {
    if (same_bytes(b, t)) { tg->be->upload(tg->be, dst, host, host_bytes(b)); return; }
#ifdef DCGAN_HAVE_ONEDNN
    if (tg->be->host_memory) { onednn_tensor_import(dst, host, t); return; }
#endif
    fprintf(stderr, "test_ops: no conversion of %s to %s %s on %s\n", b->name, dtype_name(t->dtype),
            layout_name(t->layout), tg->name);
    exit(1);
}

static void get(const op_target *tg, void *host, const void *src, const op_buf *b, const tensor_desc *t) {
    if (same_bytes(b, t)) { tg->be->download(tg->be, host, src, host_bytes(b)); return; }
#ifdef DCGAN_HAVE_ONEDNN
    if (tg->be->host_memory) { onednn_tensor_export(host, src, t); return; }
#endif
    fprintf(stderr, "test_ops: no conversion of %s from %s %s on %s\n", b->name, dtype_name(t->dtype),
            layout_name(t->layout), tg->name);
    exit(1);
}

// x rounded to the nearest bf16 (ties to even), as the conversion into a bf16 tensor rounds it.
static void round_bf16(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        if (isnan(x[i])) continue;
        u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
        memcpy(&x[i], &u, 4);
    }
}

// The target reads these values in bf16: an activation in its format, or weights it keeps a bf16 copy of.
static int read_as_bf16(const op_buf *b, const op_target *tg) {
    return tg->dtype == DTYPE_BF16 && (formatted(b) || b->weight);
}

static void fill(const op_buf *b, void *host) {
    const size_t n = b->n;
    if (b->type == BUF_F32 || b->type == BUF_ACT) {
        float *x = host;
        if (b->garbage) { for (size_t i = 0; i < n; i++) x[i] = NAN; return; }
        if (b->scale > 0) fill_random(x, n, b->seed, b->scale);
        else memset(x, 0, n * sizeof *x);
        for (size_t i = 0; b->offset != 0 && i < n; i++) x[i] += b->offset;
    } else if (b->type == BUF_F64 && b->garbage) {
        double *x = host;
        for (size_t i = 0; i < n; i++) x[i] = NAN;
    } else {
        memset(host, b->garbage ? 0xA5 : 0, host_bytes(b));
    }
}

static int alloc_all(case_bufs *cb, const op_case *c, const op_target *tg) {
    memset(cb, 0, sizeof *cb);
    cb->tg = tg;
    for (int i = 0; i < c->nbufs; i++) {
        cb->t[i] = format_of(&c->buf[i], tg);
        const size_t bytes = target_bytes(tg, &c->buf[i], &cb->t[i]);
        cb->p[i] = tg->be->alloc(tg->be, bytes ? bytes : 1);
        if (!cb->p[i]) {
            fprintf(stderr, "FAIL %s %s: out of memory for %s (%zu bytes)\n", tg->name, c->name, c->buf[i].name, bytes);
            test_failures++;
            bufs_close(cb, c);
            return -1;
        }
    }
    return 0;
}

void bufs_load(case_bufs *cb, const op_case *c, const case_bufs *from, int i) {
    if (read_as_bf16(&c->buf[i], cb->tg)) round_bf16(from->p[i], c->buf[i].n);
    if (from->p[i] != cb->p[i]) put(cb->tg, cb->p[i], from->p[i], &c->buf[i], &cb->t[i]);
}

static int plan(case_bufs *cb, const op_case *c) {
    char err[512];
    if (!c->plan || !c->plan(c, cb->tg->be, cb->t, err, sizeof err)) return 0;
    fprintf(stderr, "FAIL %s %s: plan: %s\n", cb->tg->name, c->name, err);
    test_failures++;
    bufs_close(cb, c);
    return -1;
}

int bufs_open(case_bufs *cb, const op_case *c, const op_target *tg, const case_bufs *from) {
    if (alloc_all(cb, c, tg)) return -1;
    if (from) {
        for (int i = 0; i < c->nbufs; i++) bufs_load(cb, c, from, i);
        return plan(cb, c);
    }
    // The initial values on the host (the buffers themselves where the target holds host bytes).
    case_bufs host = {.tg = tg};
    for (int i = 0; i < c->nbufs; i++) {
        const int direct = tg->be->host_memory && same_bytes(&c->buf[i], &cb->t[i]);
        host.p[i] = direct ? cb->p[i] : malloc(host_bytes(&c->buf[i]) ? host_bytes(&c->buf[i]) : 1);
        if (!host.p[i]) { fprintf(stderr, "test_ops: out of host memory\n"); exit(1); }
        fill(&c->buf[i], host.p[i]);
    }
    if (c->init) c->init(c, host.p);
    for (int i = 0; i < c->nbufs; i++) {
        bufs_load(cb, c, &host, i);
        if (host.p[i] != cb->p[i]) free(host.p[i]);
    }
    return plan(cb, c);
}

void bufs_close(case_bufs *cb, const op_case *c) {
    for (int i = 0; i < c->nbufs; i++)
        if (cb->p[i]) cb->tg->be->release(cb->tg->be, cb->p[i]);
    memset(cb->p, 0, sizeof cb->p);
}

void *bufs_fetch(const case_bufs *cb, const op_case *c, int i) {
    void *h = malloc(host_bytes(&c->buf[i]) ? host_bytes(&c->buf[i]) : 1);
    if (!h) { fprintf(stderr, "test_ops: out of host memory\n"); exit(1); }
    get(cb->tg, h, cb->p[i], &c->buf[i], &cb->t[i]);
    return h;
}

void case_run_phase(const op_case *c, int phase, const case_bufs *cb) {
    c->run(c, phase, cb->tg->be, cb->p, cb->t);
}
