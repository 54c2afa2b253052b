// copy_2d as Inception's concatenations use it (each distinct one): B rows of one branch's
// channels into their place among the block's output channels (the rest of the output keeps its
// values, compared too); and a byte copy of odd widths, pitches and offsets, then copies of no
// width and of no rows (nothing to copy: no change, no error).
#include <stdio.h>
#include "op_case.h"
#include "shapes.h"

enum { CP_SRC, CP_DST };
enum { ARG_OFFSET, ARG_BYTES };   // the branch's first channel; the byte case


// The byte case: 7 rows of 13 bytes, from rows 29 bytes apart to rows 17 apart.
enum { ROWS = 7, WIDTH = 13, SP = 29, DP = 17, SRC_BYTES = ROWS * SP + 3, DST_BYTES = ROWS * DP + 5 };

static void copy_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    (void)t;
    uint8_t *dst = p[CP_DST];
    const uint8_t *src = p[CP_SRC];
    if (c->arg[ARG_BYTES]) {
        if (phase == 0) be->copy_2d(be, dst + 5, DP, src + 3, SP, WIDTH, ROWS);
        else if (phase == 1) be->copy_2d(be, dst, DP, src, SP, 0, ROWS);
        else be->copy_2d(be, dst, DP, src, SP, WIDTH, 0);
        return;
    }
    const tensor_desc *in = &c->buf[CP_SRC].t, *out = &c->buf[CP_DST].t;
    const size_t hw = (size_t)in->h * in->w, row = (size_t)in->c * hw * sizeof(float);
    be->copy_2d(be, dst + (size_t)c->arg[ARG_OFFSET] * hw * sizeof(float), (size_t)out->c * hw * sizeof(float), src, row,
                row, (size_t)in->n);
}

static void byte_patterns(const op_case *c, void *const *host) {
    (void)c;
    uint8_t *src = host[CP_SRC], *dst = host[CP_DST];
    for (int i = 0; i < SRC_BYTES; i++) src[i] = (uint8_t)(i * 37 + 11);
    for (int i = 0; i < DST_BYTES; i++) dst[i] = (uint8_t)(i * 53 + 7);
}

// Read the branch, write its place.
static double copy_bytes(const op_case *c, int phase) { (void)phase; return 2.0 * c->buf[CP_SRC].n * 4; }

static op_case *copy_case(op_list *l) {
    op_case *c = case_add(l, "copy", OP_CONCAT);
    c->nphases = 1;
    c->phase_name[0] = "copy_2d";
    c->run = copy_run;
    // Copies move bytes: bit for bit.
    c->tol = case_tol_exact;
    c->bytes = copy_bytes;
    return c;
}

static void copy_list(op_list *l, const op_list_opts *o) {
    static const int perf_batches[2] = {50, 128};
    for (int b = 0; b < (o->perf ? (o->quick ? 1 : 2) : 3); b++) {
        const int B = o->perf ? perf_batches[b] : test_batches[b];
        for (int i = 0; i < inception_ncopies; i++) {
            const inception_copy_shape *s = &inception_copies[i];
            op_case *c = copy_case(l);
            snprintf(c->name, sizeof c->name, "B%d %dx%dx%d -> channels %d.. of %d", B, s->c, s->h, s->w, s->offset,
                     s->out_c);
            c->arg[ARG_OFFSET] = s->offset;
            c->size = o->perf ? SIZE_LIGHT : inception_case_size(B, 0);
            // Not activations of a net: the same bytes on every backend.
            op_buf *src = buf_flat(c, CP_SRC, "src", BUF_F32, (size_t)B * s->c * s->h * s->w, 1.0f, 0.0f, 91);
            src->t = tensor_f32(B, s->c, s->h, s->w);
            op_buf *dst = buf_flat(c, CP_DST, "dst", BUF_F32, (size_t)B * s->out_c * s->h * s->w, 1.0f, 0.0f, 92);
            dst->t = tensor_f32(B, s->out_c, s->h, s->w);
            dst->check = 1;
        }
    }
    if (o->perf) return;
    op_case *c = copy_case(l);
    snprintf(c->name, sizeof c->name, "bytes: 7 rows x 13, pitches 29 -> 17");
    c->arg[ARG_BYTES] = 1;
    buf_flat(c, CP_SRC, "src", BUF_U8, SRC_BYTES, 0, 0, 0);
    buf_flat(c, CP_DST, "dst", BUF_U8, DST_BYTES, 0, 0, 0)->check = 7;
    c->init = byte_patterns;
    c->nphases = 3;
    c->phase_name[1] = "no width", c->phase_name[2] = "no rows";
}

const op_family op_family_copy = {"copy", copy_list, NULL};
