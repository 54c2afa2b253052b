// The train module (src/train/): one GAN iteration (D steps on real and fake batches, then a G
// step on the same fakes, exactly as the PyTorch DCGAN example; Adam, or RMSprop + clipping for
// WGAN), the training run around it (data, samples, logs, checkpoints, resume, interruption),
// checkpoints of G and D in the PyTorch state_dict layout, and the progress line.
#ifndef DCGAN_TRAIN_H
#define DCGAN_TRAIN_H
#include <stdint.h>
#include <stdio.h>
#include "dcgan/clock.h"
#include "dcgan/comm.h"
#include "dcgan/data.h"
#include "dcgan/eval.h"
#include "dcgan/io.h"
#include "dcgan/model.h"
#include "dcgan/net_exec.h"
#include "dcgan/rng.h"

// --- one iteration (trainer.c) ----------------------------------------------------------------------

typedef struct {
    dcgan_config cfg;
    gan_loss loss;
    optimizer_kind optimizer;
    int batch_size;
    int d_steps;
    float lr, beta1, beta2, eps;    // Adam's betas; RMSprop takes beta2 as its smoothing constant alpha
    float lr_g, lr_d;               // the learning rate of each net (the two time-scale rule); both lr by default
    float ema;                      // decay of the exponential moving average of G (0: none)
    float clip;                     // D weight clipping (0 = off)
    uint64_t seed;
    int sync_bn;                    // data-parallel runs: batchnorm over the global batch (SyncBatchNorm)
    dcgan_dtype precision;          // of the activations and convolution weights: fp32 or bf16
} train_hparams;

#define TRAIN_MAX_D_STEPS 16

// Fills hparams with the defaults for a loss (WGAN: RMSprop 5e-5, clip 0.01, 5 D steps).
void train_hparams_defaults(train_hparams *h, gan_loss loss);

typedef struct {
    double loss_d_real, loss_d_fake, loss_g;
    double d_x, d_g_z1, d_g_z2;     // mean D output on reals, on fakes before and after D's update
} step_stats;

// Everything of the trainer's that changes from one iteration to the next, kept in backend memory
// and advanced by the ops themselves; checkpoints read it back and resume writes it. The data
// cursor is the batcher's (data.h).
typedef struct {
    int64_t steps_g, steps_d;       // optimiser step counts (Adam's bias correction)
    uint64_t noise_offset;          // words of RNG_STREAM_NOISE used
    uint64_t class_offset;          // words of RNG_STREAM_FAKE_CLASSES used (conditional nets)
} train_counters;

typedef struct {
    train_hparams hp;
    const dcgan_backend *be;
    dcgan_net G, D;
    dcgan_net G_ema;                // the moving average of G's weights and running statistics (hp.ema > 0)
    net_exec xg, xd;
    float *opt_g[2], *opt_d[2];     // optimiser state: Adam m, v (RMSprop uses [0] only)
    optim_desc opt_desc_g, opt_desc_d;
    loss_desc loss_real, loss_fake, loss_gen;
    float *dlogits;                 // [B]
    float *dfake;                   // [B, nc, size, size]
    float *stats;                   // [6] backend memory: loss/mean-D of real, fake, G halves
    train_counters *counters;       // backend memory
    batch_source data;              // where trainer_iteration reads its batches (trainer_bind_data)
    noise_desc noise, fake_class_noise;
    // The inputs of each D step, made by trainer_iteration (backend memory).
    float *reals[TRAIN_MAX_D_STEPS], *noises[TRAIN_MAX_D_STEPS];
    int32_t *real_classes[TRAIN_MAX_D_STEPS], *fake_classes[TRAIN_MAX_D_STEPS];
    const int32_t *g_classes;       // the classes of the fakes the G step reuses (conditional nets)
    // Data parallelism (trainer_attach_comm): after each backward pass the net's gradient is
    // averaged over the ranks in one all-reduce (slot 0: D, slot 1: G).
    dcgan_comm *comm;               // NULL: one process, no all-reduce
    int rank, ranks;
    reduce_desc reduce_d, reduce_g;
} trainer;

// Builds G and D, buffers and optimiser state on backend be; weights initialised from hp->seed,
// counters zero. Returns 0, or -1 with a one-line reason (e.g. the memory a batch size needs).
int trainer_init(trainer *t, const train_hparams *hp, const dcgan_backend *be, char *err, size_t errlen);
void trainer_free(trainer *t);
// Makes the trainer rank `rank` of `ranks`: its noise and fake classes come from the rank's own
// Philox streams (rng_rank_stream; rank 0 keeps the one-process streams). No communication: a
// single process can run the ranks' shards one after another (the tests' reference does).
void trainer_shard(trainer *t, int rank, int ranks);
// Joins the ranks of comm (after trainer_init and any resume): trainer_shard(comm's rank), the
// backend's side of the communicator, the gradient all-reduces inside trainer_iteration and, with
// hp.sync_bn, batchnorm over the global batch. Returns 0, or -1 with a one-line reason.
int trainer_attach_comm(trainer *t, dcgan_comm *comm, char *err, size_t errlen);
// A 64-bit hash of G's and D's parameters and the optimiser state: equal on every rank of a
// data-parallel run, or the ranks have diverged. 0, or -1 with err set (out of host memory).
int trainer_hash(const trainer *t, uint64_t *hash, char *err, size_t errlen);

// The batches trainer_iteration reads: b's (data.h), kept until bound again. b must serve t's
// batch size and D steps, and the labels of a conditional net. 0, or -1 with err set.
int trainer_bind_data(trainer *t, const batcher *b, char *err, size_t errlen);
// One iteration with the bound data: d_steps times (gather a real batch, draw noise and, for a
// conditional net, fake classes; D step; D update), then the G step and update. All that advances
// lives in backend memory, so every call is the same sequence of ops with the same arguments.
// With a communicator each gradient is averaged over the ranks before its update; the next D
// step's batch and noise are made while D's all-reduce runs.
void trainer_iteration(trainer *t);

// The pieces of an iteration, for callers that bring their own batches (backend memory).
// D step: zero D's grads, real [B, nc, S, S] and G(noise [B, nz]) forward and backward through D
// (gradients summed), without the update. Conditional nets take the reals' labels and the
// classes G draws the fakes for (int32 [B]; NULL for an unconditional net).
void trainer_d_grads(trainer *t, const float *real, const int32_t *real_classes, const float *noise,
                     const int32_t *fake_classes);
void trainer_d_update(trainer *t);
// The G step on the fakes (and classes) of the last D step: D forward, backward to G, G's grads.
void trainer_g_grads(trainer *t);
void trainer_g_update(trainer *t);
// G_ema = ema * G_ema + (1 - ema) * G, weights and running statistics (num_batches_tracked copied);
// part of trainer_iteration when hp.ema > 0.
void trainer_ema_update(trainer *t);
// G_ema = G (the start of a run, or a resumed run saved without an average).
void trainer_ema_reset(trainer *t);
// Reads the losses of the last D and G steps back.
void trainer_read_stats(trainer *t, step_stats *st);
void trainer_get_counters(const trainer *t, train_counters *c);
void trainer_set_counters(trainer *t, const train_counters *c);

// --- a rank's set-up (rank_setup.c), shared by the training run and dcgan bench ---------------------

// The backend of this rank: --device, or under an MPI launcher the GPU of the rank's local rank
// unless --device cuda:K says which; a note on `notes` (may be NULL) when auto falls back to the
// CPU; the backend's verbosity set. NULL with err set.
const dcgan_backend *train_backend(const char *device, const dcgan_comm *comm, int verbose, FILE *notes, char *err,
                                   size_t errlen);
// Places this rank's shard of ds (comm's rank of its size; batches, D steps, seed and labels from
// t's hparams) in b and binds it to t (trainer_bind_data). staged, verbose: as batcher_init. 0, or -1
// with err set.
int trainer_feed(trainer *t, batcher *b, const dcgan_dataset *ds, const dcgan_comm *comm, int staged, int verbose,
                 char *err, size_t errlen);

// --- checkpoints of G and D (checkpoint.c) --------------------------------------------------------
// safetensors files whose tensor names and shapes equal the PyTorch example's state_dict
// (main.0.weight, main.1.running_mean, ...), architecture in the metadata.

// Metadata key prefix of a conditional net's class names: "class_name.<k>" = name of class k.
#define CKPT_CLASS_NAME_KEY "class_name."

// Writes the net's state_dict plus metadata (format, net, size, nc, nz, ngf, ndf, and for a
// conditional net conditional = "1" and nclasses; then `extra`).
int ckpt_save_net(const dcgan_net *net, const char *path, const st_meta *extra, int nextra,
                  char *err, size_t errlen);
// The same, written and synced under path's temporary name (st_stage), to be committed with
// st_commit together with the other files of a checkpoint.
int ckpt_stage_net(const dcgan_net *net, const char *path, const st_meta *extra, int nextra,
                   char *err, size_t errlen);
// Reads the architecture of a checkpoint: from its metadata, or inferred from the tensor shapes
// for a state_dict saved by PyTorch. Sets *is_generator. A state_dict is read as unconditional
// unless its metadata says conditional = "1"; the class count then comes from metadata nclasses,
// or from main.0.weight's input channels minus nz (G) or nc (D) given in the metadata.
int ckpt_read_config(const st_file *f, dcgan_config *cfg, int *is_generator, char *err, size_t errlen);
// Copies every tensor of the (already built) net from f; a missing tensor or a shape or dtype
// that differs is an error naming the tensor. `prefix` is prepended to names (may be "").
int ckpt_load_tensors(dcgan_net *net, const st_file *f, const char *prefix, char *err, size_t errlen);
// Opens path, builds *net on backend be from its architecture and loads it. want_generator:
// 1 = must be G, 0 = must be D, -1 = either.
int ckpt_load_net(dcgan_net *net, const char *path, int want_generator, const dcgan_backend *be,
                  char *err, size_t errlen);
// The class names of a conditional checkpoint (metadata class_name.<k>; a class without a name is
// called by its index). Returns a malloc'ed array of nclasses malloc'ed strings, or NULL when out
// of memory; free with ckpt_free_class_names.
char **ckpt_class_names(const st_file *f, int nclasses);
void ckpt_free_class_names(char **names, int nclasses);
// Collects the net's tensors (downloaded into *host_copy, which the caller frees) as st_tensors
// named prefix + state_dict name. Returns the count, or -1 when out of memory.
int ckpt_net_tensors(const dcgan_net *net, const char *prefix, st_tensor *out, int max,
                     void **host_copy);

// --- the training run (loop.c, state.c) ------------------------------------------------------------

typedef struct {
    train_hparams hp;
    const char *dataset;        // folder | lsun | cifar10 | mnist | fashion-mnist | synthetic
    const char *data_path;
    const char *classes;        // lsun class selection, or NULL
    const char *cache;          // dataset cache directory or file (NULL: the run directory)
    int strict;                 // undecodable dataset files are errors
    const char *out_dir;
    const char *device;         // cpu | cuda | auto
    const char *resume;         // run directory to continue, or NULL
    long iters;                 // total iterations (0: from epochs)
    int epochs;
    int sample_every, ckpt_every, log_every;
    int verbose;
    int no_tensorboard;         // 1: no TensorBoard events file in the run directory
    int conditional;            // class-conditional G and D, on the dataset's labels
    long fid_every;             // FID of G (of its moving average with --ema) every N iterations; 0: never
    long fid_count;             // generated images per FID, and dataset images in its reference set
                                // (0: RUN_FID_COUNT)
    const char *inception;      // FID's Inception weights (NULL: inception_default_weights)
    dcgan_comm *comm;           // the ranks of the run (set by run_training; NULL: one process)
    // Set by the run: the classes of a conditional run (the dataset's, or the resumed run's).
    int nclasses;
    char **class_names;         // [nclasses]
} run_options;

// Position of a run, saved in train_state.safetensors next to netG/netD.
typedef struct {
    long iter;                  // completed iterations
    long epoch, batch_pos;      // next batch to read: batch_pos of epoch's permutation
    uint64_t noise_offset;      // words of the noise stream used so far
    uint64_t class_offset;      // words of the fake-class stream used so far (conditional runs)
    long steps_g, steps_d;      // optimiser steps taken
    long total_iters;
    int ranks;                  // the ranks that trained it (batch_pos counts their global batches)
} run_position;

// Saves netG, netD (netG_ema) and the training state (optimiser moments, position, options) into
// dir: all written and synced under temporary names, then renamed in that order, train_state last,
// and the directory synced.
int run_save_checkpoint(const trainer *t, const run_options *o, const run_position *pos,
                        const char *dir, char *err, size_t errlen);
// Reads the options stored in dir/train_state.safetensors into *o (hyperparameters, dataset,
// schedule); a data path or iteration count the caller gave is kept.
int run_load_options(const char *dir, run_options *o, char *err, size_t errlen);
// Loads netG, netD, optimiser state and position from dir into an initialised trainer; files of
// different iterations are refused.
int run_load_checkpoint(trainer *t, const char *dir, run_position *pos, char *err, size_t errlen);
// Completes a checkpoint whose commit a killed process cut short (netG renamed, train_state still
// staged): renames the rest of its staged files, from the same dead process, into place. Sets
// *completed when it did. 0, or -1 with err set.
int run_complete_checkpoint(const char *dir, int *completed, char *err, size_t errlen);

// Runs training; returns the process exit code (0 done, 1 error, 130 interrupted after saving).
int run_training(run_options *o);

// --- the progress line and metrics log (progress.c, metrics.c) ----------------------------------
// Redrawn in place on a terminal, plain lines otherwise; one JSON object per iteration in
// metrics.jsonl and the same scalars in the TensorBoard file. A failed write is an error.

typedef struct {
    int tty;
    int log_every;          // plain-line interval when not a terminal
    long start_iter, total_iters;
    double start_time, last_draw;
    int images_per_iter;
    FILE *metrics;          // metrics.jsonl, appended to (may be NULL)
    const char *metrics_path;
    tb_writer *tb;          // the TensorBoard events file, the same scalars (may be NULL)
    int line_open;          // a redrawn line is on screen
} progress;

void progress_init(progress *p, long start_iter, long total_iters, int images_per_iter, int log_every, FILE *metrics,
                   const char *metrics_path, tb_writer *tb);
// Records iteration `iter` (1-based count of completed iterations) in metrics.jsonl and as
// TensorBoard scalars, and redraws the line. 0, or -1 with err naming the file that failed.
int progress_update(progress *p, long iter, long epoch, const step_stats *st, char *err, size_t errlen);
// Appends a line to metrics.jsonl (fmt ends it with a newline). 0, or -1 with err set.
int progress_log(progress *p, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
// A TensorBoard scalar (nothing without an events file). 0, or -1 with err set.
int progress_scalar(progress *p, const char *tag, long step, float value, char *err, size_t errlen);
// Flushes metrics.jsonl and the TensorBoard file; with sync, also to the disk (before a checkpoint,
// so that the records it covers are never behind it). 0, or -1 with err set.
int progress_flush(progress *p, int sync, char *err, size_t errlen);
// Ends a redrawn line so that other messages start on a fresh line.
void progress_break(progress *p);

// Opens metrics.jsonl for appending after cutting it back to its first lines that are whole
// records of iterations <= keep_iter (0 for a new run: an empty file); *dropped gets the count of
// lines cut (records of an abandoned stretch, a line a crash cut short). Synced. NULL with err set.
FILE *metrics_open(const char *path, long keep_iter, long *dropped, char *err, size_t errlen);

// --- FID during training (fid.c) -----------------------------------------------------------------

#define RUN_FID_COUNT 10000     // images per FID unless --fid-count says

typedef struct {
    inception *net;             // on the trainer's backend
    fid_set ref;                // the dataset's reference set
    char ref_path[4800];        // where it is kept
    double best;                // the lowest FID so far (this run and the stretches before a resume)
    long best_iter;             // its iteration; -1: none yet
} run_fid;

// Opens the network (o->inception) on be and the reference set of ds (read from the file beside the
// data cache when it was made for the same data, count and weights; else computed and kept there),
// and the best score of netG_best.safetensors when the run has one. 0, or -1 with err set.
int run_fid_open(run_fid *f, const run_options *o, const dcgan_backend *be, const dcgan_dataset *ds, char *err,
                 size_t errlen);
void run_fid_close(run_fid *f);
// Scores t's G (G_ema with --ema) at iteration iter on o->fid_count images: a line on stdout and in
// metrics, a TensorBoard scalar, and netG_best.safetensors (with the score in its metadata) when it is
// the best so far. 0, or -1 with err set.
int run_fid_eval(run_fid *f, const run_options *o, trainer *t, long iter, progress *pr, char *err, size_t errlen);

#endif
