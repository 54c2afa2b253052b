// The data gather: a batch of images normalised to [-1, 1] (and their classes) from a resident
// dataset through the order of two epochs, the cursor advanced in backend memory; and a batch
// staged from the host (no order).
#include <stdio.h>
#include "op_case.h"

enum { D_PIXELS, D_LABELS, D_ORDER, D_CURSOR, D_IMAGES, D_CLASSES };
enum { ARG_STAGED_FROM };   // the first phase without an order


static void data_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    (void)t;
    const void *order = phase < c->arg[ARG_STAGED_FROM] ? p[D_ORDER] : NULL;
    be->data_gather(be, p[D_IMAGES], p[D_CLASSES], p[D_PIXELS], p[D_LABELS], order, p[D_CURSOR], &c->d.data);
}

// Pixels and labels of a pattern, the permutations of two epochs, and batch 6 of the run first
// (the test's: the second epoch's first batch).
static void dataset(const op_case *c, void *const *host) {
    const data_desc *d = &c->d.data;
    uint8_t *pix = host[D_PIXELS];
    int32_t *labels = host[D_LABELS];
    uint32_t *order = host[D_ORDER];
    for (size_t i = 0; i < (size_t)d->n * d->per; i++) pix[i] = (uint8_t)(i * 7 + i / 13);
    for (int i = 0; i < d->n; i++) labels[i] = i % 4;
    for (int e = 0; e < 2; e++)
        for (int i = 0; i < d->n; i++) order[e * d->n + i] = (uint32_t)(((size_t)i * (e ? 5 : 3) + e) % (size_t)d->n);
    *(int64_t *)host[D_CURSOR] = 6;
}

// uint8 pixels in, float images out.
static double data_bytes(const op_case *c, int phase) { (void)phase; return (double)c->d.data.B * c->d.data.per * 5; }

static void data_case(op_list *l, int n, int B, size_t per, int phases, int staged_from) {
    op_case *c = case_add(l, "data", OP_DATA);
    c->d.data = (data_desc){.B = B, .n = n, .per = per, .batches_per_epoch = n / B, .slots = 2};
    c->arg[ARG_STAGED_FROM] = staged_from;
    snprintf(c->name, sizeof c->name, "gather B%d of %d images of %zu", B, n, per);
    const unsigned all = (unsigned)case_phase_mask(phases);
    buf_flat(c, D_PIXELS, "pixels", BUF_U8, (size_t)n * per, 0, 0, 0);
    buf_flat(c, D_LABELS, "labels", BUF_I32, (size_t)n, 0, 0, 0);
    buf_flat(c, D_ORDER, "order", BUF_U32, 2 * (size_t)n, 0, 0, 0);
    buf_flat(c, D_CURSOR, "cursor", BUF_I64, 1, 0, 0, 0)->check = all;
    c->buf[D_CURSOR].load = all;
    buf_out(c, D_IMAGES, "images", BUF_F32, (size_t)B * per)->check = all;
    buf_out(c, D_CLASSES, "classes", BUF_I32, (size_t)B)->check = all;
    c->init = dataset;
    c->nphases = phases;
    static const char *const names[3] = {"epoch 2, batch 1", "epoch 2, batch 2", "staged"};
    for (int k = 0; k < phases; k++) c->phase_name[k] = names[k];
    c->run = data_run;
    // Integer arithmetic and one division on every backend: equal values.
    c->tol = case_tol_equal;
    c->bytes = data_bytes;
}

static void data_list(op_list *l, const op_list_opts *o) {
    if (!o->perf) { data_case(l, 37, 5, 3 * 9 * 9, 3, 2); return; }
    data_case(l, 4096, 64, 3 * 64 * 64, 1, 1);   // 64 px RGB batches from a resident set
    data_case(l, 4096, 128, 3 * 64 * 64, 1, 1);
}

const op_family op_family_data = {"data", data_list, NULL};
