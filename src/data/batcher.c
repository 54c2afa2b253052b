// The batcher: the dataset in backend memory (or staged through page-locked buffers) and the
// epochs' permutations, prepared between iterations so that the data op reads every batch from
// fixed buffers at the position of the backend's own cursor.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/data.h"
#include "dcgan/error.h"
#include "dcgan/formulas.h"
#include "dcgan/rng.h"

#define STAGE_MARGIN ((size_t)512 << 20)   // memory left free beside a resident dataset

static size_t image_bytes(const batcher *b) { return b->src.desc.per; }

long batcher_epoch(const batcher *b, int64_t cursor) { return (long)(cursor / b->src.desc.batches_per_epoch); }

// The permutation of epoch e, from its own stream: the order depends only on (seed, epoch).
static void make_order(batcher *b, long epoch) {
    dcgan_rng r = rng_make(b->seed, SHUFFLE_STREAM_BASE + (uint64_t)epoch);
    rng_permutation(&r, b->host_order, (size_t)b->ds->n);
    b->host_epoch = epoch;
}

static int place_resident(batcher *b, int with_labels, char *err, size_t errlen) {
    const dcgan_backend *be = b->be;
    const dcgan_dataset *ds = b->ds;
    data_desc *d = &b->src.desc;
    size_t bytes = (size_t)ds->n * d->per;
    // Enough epoch orders for every epoch one iteration can touch, plus the one after.
    d->slots = (int)(b->d_steps / d->batches_per_epoch) + 2;
    b->slot_epoch = malloc((size_t)d->slots * sizeof(long));
    b->dev_order = be->alloc(be, (size_t)d->slots * ds->n * sizeof(uint32_t));
    if (!b->slot_epoch || !b->dev_order) return set_error(err, errlen, "out of %s memory for the data order", be->name);
    for (int s = 0; s < d->slots; s++) b->slot_epoch[s] = -1;
    if (be->host_memory) {
        b->src.pixels = ds->pixels;
        b->src.labels = with_labels ? ds->labels : NULL;
    } else {
        if (!(b->resident = be->alloc(be, bytes))) return set_error(err, errlen, "out of %s memory for the dataset", be->name);
        be->upload(be, b->resident, ds->pixels, bytes);
        b->src.pixels = b->resident;
        if (with_labels) {
            if (!(b->dev_labels = be->alloc(be, (size_t)ds->n * sizeof(int32_t))))
                return set_error(err, errlen, "out of %s memory for the labels", be->name);
            be->upload(be, b->dev_labels, ds->labels, (size_t)ds->n * sizeof(int32_t));
            b->src.labels = b->dev_labels;
        }
    }
    b->src.order = b->dev_order;
    return 0;
}

// Two halves of d_steps batches each: the copy of one iteration's batches overlaps the compute
// of the previous iteration, which reads the other half.
static int place_staged(batcher *b, int with_labels, char *err, size_t errlen) {
    const dcgan_backend *be = b->be;
    data_desc *d = &b->src.desc;
    size_t batch = (size_t)d->B * d->per, labels = (size_t)d->B * sizeof(int32_t);
    d->slots = 2 * b->d_steps;
    b->stage_pixels = be->alloc(be, (size_t)d->slots * batch);
    int failed = !b->stage_pixels;
    for (int k = 0; k < 2 && !failed; k++)
        failed = !(b->pinned[k] = be->host_alloc(be, (size_t)b->d_steps * batch));
    if (with_labels) {
        failed = failed || !(b->stage_labels = be->alloc(be, (size_t)d->slots * labels));
        for (int k = 0; k < 2 && !failed; k++)
            failed = !(b->pinned_labels[k] = be->host_alloc(be, (size_t)b->d_steps * labels));
    }
    if (failed) return set_error(err, errlen, "out of %s memory for the data buffers of batch size %d", be->name, d->B);
    b->src.pixels = b->stage_pixels;
    b->src.labels = b->stage_labels;
    b->src.order = NULL;
    return 0;
}

int batcher_init(batcher *b, const dcgan_backend *be, const dcgan_dataset *ds, int B, int d_steps, uint64_t seed,
                 int with_labels, int staged, int verbose, char *err, size_t errlen) {
    return batcher_init_shard(b, be, ds, B, 0, 1, d_steps, seed, with_labels, staged, verbose, err, errlen);
}

int batcher_init_shard(batcher *b, const dcgan_backend *be, const dcgan_dataset *ds, int B, int rank, int ranks,
                       int d_steps, uint64_t seed, int with_labels, int staged, int verbose, char *err, size_t errlen) {
    memset(b, 0, sizeof *b);
    b->be = be;
    b->ds = ds;
    b->seed = seed;
    b->d_steps = d_steps;
    b->host_epoch = -1;
    if (ranks < 1 || rank < 0 || rank >= ranks) return set_error(err, errlen, "rank %d of %d ranks", rank, ranks);
    if (B < 1 || ds->n / ranks < B) {
        if (ranks == 1) return set_error(err, errlen, "the dataset has %d images, fewer than the batch size %d", ds->n, B);
        return set_error(err, errlen, "the dataset has %d images, fewer than the global batch of %d ranks x %d = %ld",
                         ds->n, ranks, B, (long)ranks * B);
    }
    if (with_labels && !ds->labels) return set_error(err, errlen, "the dataset has no labels");
    // Every rank walks the same permutation; a batch step takes the global batch (the last partial
    // one is dropped) and this rank reads its slice of it.
    b->src.desc = (data_desc){.B = B, .n = ds->n, .per = (size_t)ds->c * ds->h * ds->w,
                              .batches_per_epoch = ds->n / ((long)B * ranks), .stride = B * ranks, .first = rank * B};
    if (!(b->host_order = malloc((size_t)ds->n * sizeof(uint32_t)))) return set_error(err, errlen, "out of memory");
    if (!(b->src.cursor = be->alloc(be, sizeof(int64_t)))) {
        batcher_free(b);
        return set_error(err, errlen, "out of %s memory for the data cursor", be->name);
    }
    batcher_seek(b, 0);
    size_t bytes = (size_t)ds->n * image_bytes(b), fr = 0, total = 0;
    if (!staged && !be->host_memory)
        staged = !(be->mem_info(be, &fr, &total) == 0 && bytes + STAGE_MARGIN < fr);
    b->staged = staged;
    int rc = staged ? place_staged(b, with_labels, err, errlen) : place_resident(b, with_labels, err, errlen);
    if (rc) {
        batcher_free(b);
        return -1;
    }
    if (verbose)
        printf("data: %d images (%.1f MiB) %s\n", ds->n, bytes / 1048576.0,
               staged ? "staged per batch through page-locked memory"
                      : be->host_memory ? "in host memory" : "resident in device memory");
    return 0;
}

void batcher_free(batcher *b) {
    const dcgan_backend *be = b->be;
    if (!be) return;
    void *bufs[] = {b->resident, b->dev_labels, b->dev_order, b->stage_pixels, b->stage_labels, b->src.cursor};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(be, bufs[i]);
    for (int k = 0; k < 2; k++) {
        if (b->pinned[k]) be->host_release(be, b->pinned[k]);
        if (b->pinned_labels[k]) be->host_release(be, b->pinned_labels[k]);
    }
    free(b->host_order);
    free(b->slot_epoch);
    memset(b, 0, sizeof *b);
}

void batcher_seek(batcher *b, int64_t cursor) {
    b->prepared = cursor;
    b->be->upload(b->be, b->src.cursor, &cursor, sizeof cursor);
}

int64_t batcher_cursor(const batcher *b) { return b->prepared; }

// Uploads the orders of the epochs batches cursor .. cursor + d_steps - 1 fall in. The upload
// is ordered on the compute stream after the iterations still reading the slot's older epoch.
static void prepare_resident(batcher *b) {
    const dcgan_backend *be = b->be;
    const data_desc *d = &b->src.desc;
    for (int64_t k = b->prepared; k < b->prepared + b->d_steps; k++) {
        long e = batcher_epoch(b, k);
        int slot = (int)(e % d->slots);
        if (b->slot_epoch[slot] == e) continue;
        make_order(b, e);
        be->upload(be, b->dev_order + (size_t)slot * d->n, b->host_order, (size_t)d->n * sizeof(uint32_t));
        b->slot_epoch[slot] = e;
    }
}

// Gathers the iteration's batches on the host and copies them into the half of the staging
// slots they map to (batch k: slot k % slots).
static void prepare_staged(batcher *b) {
    const dcgan_backend *be = b->be;
    const data_desc *d = &b->src.desc;
    const int half = (int)((b->prepared / b->d_steps) & 1);
    const size_t per = d->per, batch = (size_t)d->B * per;
    be->stage_host_wait(be, half);   // the copy that last read this pinned buffer is done
    for (int j = 0; j < b->d_steps; j++) {
        int64_t k = b->prepared + j;
        long e = batcher_epoch(b, k);
        if (b->host_epoch != e) make_order(b, e);
        const uint32_t *idx = b->host_order + data_order_index(d, k, 0);   // this rank's slice
        for (int i = 0; i < d->B; i++) {
            memcpy(b->pinned[half] + j * batch + (size_t)i * per, b->ds->pixels + (size_t)idx[i] * per, per);
            if (b->stage_labels) b->pinned_labels[half][(size_t)j * d->B + i] = b->ds->labels[idx[i]];
        }
    }
    // The slots of this half were last read two iterations ago: released when the previous
    // iteration was prepared, i.e. after all of that older iteration's work.
    const size_t first = (size_t)(b->prepared % d->slots);
    be->stage_upload(be, b->stage_pixels + first * batch, b->pinned[half], (size_t)b->d_steps * batch, half);
    if (b->stage_labels)
        be->stage_upload(be, b->stage_labels + first * d->B, b->pinned_labels[half],
                         (size_t)b->d_steps * d->B * sizeof(int32_t), 2 + half);
    be->stage_release(be, !half);
    if (b->stage_labels) be->stage_release(be, 2 + !half);
}

void batcher_prepare(batcher *b) {
    if (b->staged) prepare_staged(b);
    else prepare_resident(b);
    b->prepared += b->d_steps;
}
