// Inception-v3's bilinear resize to 299 x 299 for the images FID reads: 32, 64 and 128 px samples
// and datasets, gray ones replicated to RGB, a non-square one, one already at 299 and one to
// shrink, in the three input mappings: [0, 1] images (2 x - 1), [-1, 1] images (x) and [-1, 1]
// images read as the 8-bit pixels of their PNG files (quantize, 2 x - 1; inputs a little past the
// range: the clamp).
#include <stdio.h>
#include "dcgan/model.h"
#include "op_case.h"
#include "shapes.h"

enum { R_IN, R_OUT };


static void resize_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    (void)phase;
    resize_desc d = c->d.resize;
    d.in = t[R_IN];
    d.out = t[R_OUT];
    be->resize_bilinear(be, p[R_OUT], p[R_IN], &d);
}

static double resize_bytes(const op_case *c, int phase) {
    (void)phase;
    return (double)(c->buf[R_IN].n + c->buf[R_OUT].n) * 4;
}

typedef struct { int quantize; float scale, shift; } input_map;
static const input_map maps[3] = {{0, 2.0f, -1.0f}, {0, 1.0f, 0.0f}, {1, 2.0f, -1.0f}};

static void resize_case(op_list *l, int B, int c_in, int h, int w, const input_map *m, int size_class) {
    op_case *c = case_add(l, "resize", OP_RESIZE);
    c->d.resize = (resize_desc){.in = tensor_f32(B, c_in, h, w), .out = tensor_f32(B, 3, INCEPTION_SIZE, INCEPTION_SIZE),
                                .scale = m->scale, .shift = m->shift, .quantize = m->quantize};
    snprintf(c->name, sizeof c->name, "B%d %dx%dx%d->3x%dx%d %s*%g%+g", B, c_in, h, w, INCEPTION_SIZE, INCEPTION_SIZE,
             m->quantize ? "png " : "", (double)m->scale, (double)m->shift);
    // [0, 1] images for 2 x - 1 without quantize; [-1, 1] ones (to +-1.05) otherwise.
    const int unit = !m->quantize && m->scale == 2.0f;
    buf_act(c, R_IN, "in", c->d.resize.in, unit ? 0.5f : 1.05f, unit ? 0.5f : 0.0f, 81u + (unsigned)c_in);
    buf_out_act(c, R_OUT, "out", c->d.resize.out)->check = 1;
    c->size = size_class;
    c->nphases = 1;
    c->phase_name[0] = "fwd";
    c->run = resize_run;
    // Every backend evaluates formulas.h's resize_value with IEEE-rounded operations: bit for bit.
    c->tol = case_tol_exact;
    c->bytes = resize_bytes;
}

// Batch 1 in every mapping (light), 3 in every mapping (quick: one mapping per shape, in turn), 65
// in one mapping per shape.
static void resize_list(op_list *l, const op_list_opts *o) {
    if (o->perf) {
        static const int shapes[5][3] = {{1, 32, 32}, {3, 32, 32}, {3, 64, 64}, {3, 64, 48}, {3, 128, 128}};
        static const int perf_batches[2] = {50, 128};
        for (int b = 0; b < (o->quick ? 1 : 2); b++)
            for (int k = 0; k < 5; k++)
                for (int q = 0; q < 2; q++)
                    resize_case(l, perf_batches[b], shapes[k][0], shapes[k][1], shapes[k][2], &maps[q ? 2 : 0], SIZE_LIGHT);
        return;
    }
    static const int shapes[8][3] = {{1, 32, 32},   {3, 32, 32},   {1, 64, 64},   {3, 64, 64},
                                     {3, 64, 48},   {3, 128, 128}, {3, 299, 299}, {3, 384, 512}};
    for (int b = 0; b < 3; b++)
        for (int k = 0; k < 8; k++)
            for (int m = 0; m < 3; m++) {
                const int B = test_batches[b], turn = m == k % 3;
                if (B == 1 || B == 3 || turn)
                    resize_case(l, B, shapes[k][0], shapes[k][1], shapes[k][2], &maps[m],
                                B == 1 ? SIZE_LIGHT : B == 3 && turn ? SIZE_QUICK : SIZE_FULL);
            }
}

const op_family op_family_resize = {"resize", resize_list, NULL};
