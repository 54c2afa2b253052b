// The position of a run (iterations, the data cursor as epoch and batch, the noise streams, the
// optimiser steps): read from the trainer's counters and the batcher for a checkpoint, given back
// to them on resume, re-sharded when the run continues on another number of ranks.
#include "run.h"

// A run saved by another number of ranks: its batch_pos counts global batches of that many
// ranks. The position is re-sharded so that no image of the epoch is read twice: the next batch
// step starts at the first whole step of this run's size past the images already read.
static void reshard(run_state *s, long bpe) {
    run_position *p = &s->pos;
    const long B = s->t.hp.batch_size, old_ranks = p->ranks > 0 ? p->ranks : 1, ranks = s->comm->size;
    const long images = p->batch_pos * B * old_ranks, step = B * ranks;
    const long old_epoch = p->epoch;
    p->batch_pos = (images + step - 1) / step;
    if (p->batch_pos >= bpe) { p->epoch++; p->batch_pos = 0; }
    if (s->root)
        printf("note: the run was saved by %ld rank%s and continues on %ld: the data position is re-sharded (epoch %ld,"
               " %ld images read in global batches of %ld x %ld -> epoch %ld, batch %ld of %ld x %ld); weights, optimiser"
               " state, noise positions and the iteration count carry over\n", old_ranks, old_ranks > 1 ? "s" : "", ranks,
               old_epoch, images, old_ranks, B, p->epoch, p->batch_pos, ranks, B);
    p->ranks = (int)ranks;
}

static void write_position(run_state *s) {
    const run_position *p = &s->pos;
    train_counters c = {.steps_g = p->steps_g, .steps_d = p->steps_d, .noise_offset = p->noise_offset,
                        .class_offset = p->class_offset};
    trainer_set_counters(&s->t, &c);
    batcher_seek(&s->data, (int64_t)p->epoch * s->data.src.desc.batches_per_epoch + p->batch_pos);
}

void run_position_start(run_state *s) {
    const run_options *o = s->o;
    const long bpe = s->data.src.desc.batches_per_epoch;   // the last partial global batch is dropped
    if (o->resume && s->pos.ranks != s->comm->size) reshard(s, bpe);
    s->pos.total_iters = o->iters ? o->iters : (long)o->epochs * bpe / s->t.hp.d_steps;
    if (s->pos.total_iters < 1) s->pos.total_iters = 1;
    write_position(s);
}

void run_position_read(run_state *s) {
    train_counters c;
    trainer_get_counters(&s->t, &c);
    const int64_t cursor = batcher_cursor(&s->data);
    s->pos.epoch = batcher_epoch(&s->data, cursor);
    s->pos.batch_pos = (long)(cursor % s->data.src.desc.batches_per_epoch);
    s->pos.noise_offset = c.noise_offset;
    s->pos.class_offset = c.class_offset;
    s->pos.steps_g = (long)c.steps_g;
    s->pos.steps_d = (long)c.steps_d;
    s->pos.ranks = s->comm->size;
}
