// A whole training run: data, the loop, samples, logs, checkpoints, resume and interruption.
#ifndef DCGAN_RUN_H
#define DCGAN_RUN_H
#include "dcgan/train.h"

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
    int conditional;            // class-conditional G and D, on the dataset's labels
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
    long total_iters;
} run_position;

// Saves netG, netD and the training state (optimiser moments, position, options) into dir.
int run_save_checkpoint(const trainer *t, const run_options *o, const run_position *pos,
                        const char *dir, char *err, size_t errlen);
// Reads the options stored in dir/train_state.safetensors into *o (hyperparameters, dataset,
// schedule); a data path or iteration count the caller gave is kept.
int run_load_options(const char *dir, run_options *o, char *err, size_t errlen);
// Loads netG, netD, optimiser state and position from dir into an initialised trainer.
int run_load_checkpoint(trainer *t, const char *dir, run_position *pos, char *err, size_t errlen);

// Runs training; returns the process exit code (0 done, 1 error, 130 interrupted after saving).
int run_training(run_options *o);

#endif
