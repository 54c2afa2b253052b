// Inception-v3's pools (FID): every distinct pool of the graph, on inputs centred below 0 so that a
// window of negative values shows whether padding ever wins a max.
#include <stdio.h>
#include "op_case.h"
#include "perf.h"
#include "shapes.h"

enum { P_IN, P_OUT };


static void pool_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    (void)phase;
    pool_desc d = c->d.pool;
    d.in = t[P_IN];
    d.out = t[P_OUT];
    be->pool_forward(be, p[P_OUT], p[P_IN], &d);
}

static double pool_bytes(const op_case *c, int phase) { (void)phase; return (double)(c->buf[P_IN].n + c->buf[P_OUT].n) * 4; }

#ifdef DCGAN_HAVE_CUDA
static double pool_baseline(const op_case *c, int phase, const op_target *tg, void *const *p, int reps) {
    (void)phase;
    return tg->cuda ? perf_cudnn_pool_ms(tg->be, &c->d.pool, p[P_IN], p[P_OUT], reps) : -1;
}
#endif

static void pool_case(op_list *l, const inception_pool_shape *s, int B, int size_class) {
    op_case *c = case_add(l, "pool", OP_POOL);
    c->d.pool = pool_desc_make(s->max ? POOL_MAX : POOL_AVG, tensor_f32(B, s->c, s->h, s->w), s->k, s->stride, s->pad,
                               s->count_pad);
    const pool_desc *d = &c->d.pool;
    snprintf(c->name, sizeof c->name, "%s%s %dx%d/%d p%d B%d %dx%dx%d->%dx%d", s->max ? "max" : "avg",
             s->max ? "" : s->count_pad ? "+pad" : "-pad", d->kh, d->kw, d->sh, d->ph, B, s->c, s->h, s->w, d->out.h,
             d->out.w);
    buf_act(c, P_IN, "in", d->in, 1.0f, -0.25f, 71);
    buf_out_act(c, P_OUT, "out", d->out)->check = 1;
    c->size = size_class;
    c->nphases = 1;
    c->phase_name[0] = "fwd";
    c->run = pool_run;
    // Every backend evaluates formulas.h's pool_value with IEEE-rounded operations: bit for bit.
    c->tol = case_tol_exact;
    c->bytes = pool_bytes;
#ifdef DCGAN_HAVE_CUDA
    c->baseline = pool_baseline;
    c->baseline_name = "cudnn";
#endif
}

static void pool_list(op_list *l, const op_list_opts *o) {
    static const int perf_batches[2] = {50, 128};   // pytorch-fid's batch, and a larger one
    for (int b = 0; b < (o->perf ? (o->quick ? 1 : 2) : 3); b++) {
        const int B = o->perf ? perf_batches[b] : test_batches[b];
        for (int i = 0; i < inception_npools; i++) {
            const inception_pool_shape *s = &inception_pools[i];
            const int large = (size_t)s->c * s->h * s->w > 500000;
            pool_case(l, s, B, o->perf ? SIZE_LIGHT : inception_case_size(B, large));
        }
    }
}

const op_family op_family_pool = {"pool", pool_list, NULL};
