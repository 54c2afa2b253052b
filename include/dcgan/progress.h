// The progress line (redrawn in place on a terminal, plain lines otherwise) and the
// machine-readable metrics log (one JSON object per iteration).
#ifndef DCGAN_PROGRESS_H
#define DCGAN_PROGRESS_H
#include <stdio.h>
#include "dcgan/train.h"

typedef struct {
    int tty;
    int log_every;          // plain-line interval when not a terminal
    long start_iter, total_iters;
    double start_time, last_draw;
    int images_per_iter;
    FILE *metrics;          // metrics.jsonl, appended to (may be NULL)
    int line_open;          // a redrawn line is on screen
} progress;

void progress_init(progress *p, long start_iter, long total_iters, int images_per_iter, int log_every, FILE *metrics);
// Records iteration `iter` (1-based count of completed iterations).
void progress_update(progress *p, long iter, long epoch, const step_stats *st);
// Ends a redrawn line so that other messages start on a fresh line.
void progress_break(progress *p);

#endif
