// The training run's own pieces (private to src/train/): the state of one run and its jobs, one
// file each. loop.c drives them; run_training (train.h) is the way in.
// A data-parallel run (comm.h) runs all of it on every rank: rank 0 alone writes samples, metrics,
// plots and checkpoints and prints; the ranks agree on every stop (a signal, a failure of one of
// them, a non-finite loss) at fixed points (run_agree), so none is left waiting in a collective.
#ifndef DCGAN_TRAIN_RUN_H
#define DCGAN_TRAIN_RUN_H
#include <stdio.h>
#include "dcgan/train.h"

#define RUN_STATS 6     // the numbers of one iteration's step_stats, in the order trainer.stats holds them
#define RING_MAX 64     // iterations whose statistics wait on the device for one read-back

// The fixed-noise samples of a run (run_samples.c).
typedef struct {
    int count;                  // 64, or 8 per class row of a conditional run
    float *noise;               // [count, nz] backend memory
    net_exec G;                 // G (its moving average with --ema) on the noise
} run_samples;

// The step statistics of the iterations since the last read-back (run_stats.c).
typedef struct {
    float *values;              // [RING_MAX, RUN_STATS] backend memory
    int64_t *slot;              // backend memory: the next slot ring_push writes
    long iter[RING_MAX], epoch[RING_MAX];
    int len, used;
} stats_ring;

// metrics.jsonl and the TensorBoard file of the run directory (run_dir.c); rank 0 only.
typedef struct {
    FILE *metrics;
    tb_writer tb;
    int have_tb;
    char metrics_path[4096];
} run_logs;

typedef struct {
    run_options *o;
    dcgan_comm *comm;           // the ranks (one process: size 1)
    int root;                   // rank 0: writes and prints
    const dcgan_backend *be;
    trainer t;
    dcgan_dataset ds;
    batcher data;               // owns the data cursor
    run_position pos;
    run_samples samples;
    stats_ring ring;
    long last_ckpt_iter;
    run_fid fid;                // --fid-every: the network and the reference set (rank 0)
    int fid_open;
} run_state;

// --- the ranks' agreement (run_ranks.c) ---
// Any rank's failure stops every rank: 0 when none had one; else -1, with err set on the ranks
// whose own step went well (they say nothing more; rank 0 names what happened).
int run_agree(run_state *s, int rc, char *err, size_t errlen);
// The weights and optimiser state are the same on every rank, or every rank gets -1 with err set.
int run_check_same_weights(run_state *s, const char *when, char *err, size_t errlen);
// The text run_agree gives a rank that did not fail itself.
#define RUN_OTHER_RANK_FAILED "stopped: another rank failed"

// --- set-up and teardown (run_setup.c) ---
int run_setup(run_state *s, char *err, size_t errlen);
void run_teardown(run_state *s);

// --- the dataset across ranks (run_data.c) ---
// Loads it: rank 0 first, the others after it (rank 0 builds the cache a later rank maps).
int run_load_data(run_state *s, char *err, size_t errlen);
// A resumed conditional run checks the dataset's classes; a new one takes them (--conditional).
int run_adopt_classes(run_state *s, char *err, size_t errlen);
// This rank's shard where the data op reads it (DCGAN_STAGE_DATA=1 forces staging), bound to the trainer.
int run_place_data(run_state *s, char *err, size_t errlen);

// --- the run's position (run_position.c) ---
// After the data is placed: re-shards a position saved by another number of ranks, sets the
// iteration count and gives the position to the trainer's counters and the batcher.
void run_position_start(run_state *s);
// The position from the trainer's counters and the batcher's cursor (before a checkpoint).
void run_position_read(run_state *s);

// --- the run directory (run_dir.c) ---
int run_make_dir(const char *dir, char *err, size_t errlen);
// Removes the temporary files of a killed process, with a note.
int run_clean_dir(const char *dir, char *err, size_t errlen);
// metrics.jsonl and the TensorBoard file, each cut back to iteration `iter` (the run's start).
int run_logs_open(run_logs *l, const run_options *o, long iter, char *err, size_t errlen);
// Closes them; a failed close turns rc into 1 with err set (unless rc is 1 already). Returns rc.
int run_logs_close(run_logs *l, int rc, char *err, size_t errlen);
// The metrics plot and the progress animation: a failure is a warning, training goes on.
void run_refresh_plot(const run_options *o, progress *pr);
void run_write_gif(const run_options *o);

// --- samples (run_samples.c) ---
int run_samples_init(run_samples *sm, trainer *t, char *err, size_t errlen);
void run_samples_free(run_samples *sm, const dcgan_backend *be);
// samples_<iter>.png in dir, and the same grid in the TensorBoard file (tb may be NULL).
int run_samples_write(run_samples *sm, const trainer *t, const char *dir, tb_writer *tb, long iter, char *err,
                      size_t errlen);
// real_samples.png: 64 images of the dataset.
int run_write_real_samples(const dcgan_dataset *ds, uint64_t seed, const char *dir, char *err, size_t errlen);

// --- step statistics (run_stats.c) ---
int run_stats_init(stats_ring *r, const dcgan_backend *be, char *err, size_t errlen);
void run_stats_free(stats_ring *r, const dcgan_backend *be);
// Queues the statistics of the iteration just run (iteration iter, epoch epoch) on the device.
void run_stats_push(stats_ring *r, const trainer *t, long iter, long epoch);
// Reads the queued statistics back, checks and logs them; -1 at the first non-finite loss.
int run_stats_flush(run_state *s, progress *pr, char *err, size_t errlen);

// --- what falls due after an iteration (run_schedule.c) ---
typedef struct {
    int last;                   // the run's last iteration
    int flush;                  // read the statistics back (a line to print, something to save)
    int samples, fid, ckpt;
    int stop;                   // a signal: checkpoint and stop
} run_due;
run_due run_schedule(const run_options *o, const run_position *pos, const stats_ring *r, int log_every, int stop);

// --- FID during training across ranks (fid.c) ---
// --fid-every 0 and --fid-count RUN_FID_COUNT unless given or resumed.
void run_fid_defaults(run_options *o);
int run_fid_start(run_state *s, char *err, size_t errlen);
int run_fid_step(run_state *s, progress *pr, char *err, size_t errlen);

// --- checkpoints and resume (run_save.c) ---
int run_checkpoint(run_state *s, progress *pr, char *err, size_t errlen);
// --resume: completes a checkpoint a killed run was saving and reads the run's options.
int run_resume_options(run_state *s, char *err, size_t errlen);

// --- Ctrl-C, SIGTERM and SIGUSR1 (run_signals.c) ---
// Caught from here on: the first asks the run to stop after its iteration; a second ends the process.
void run_signals_catch(const dcgan_comm *comm);
int run_stop_requested(void);
void run_signals_release(void);

#endif
