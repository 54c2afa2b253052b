// The GAN training step and loop: D steps on real and fake batches, then a G step on the same
// fakes, exactly as the PyTorch DCGAN example; Adam (or RMSprop + clipping for WGAN).
#ifndef DCGAN_TRAIN_H
#define DCGAN_TRAIN_H
#include <stdint.h>
#include "dcgan/model.h"
#include "dcgan/net_exec.h"
#include "dcgan/rng.h"

typedef enum { OPT_ADAM, OPT_RMSPROP } optimizer_kind;

typedef struct {
    dcgan_config cfg;
    gan_loss loss;
    optimizer_kind optimizer;
    int batch_size;
    int d_steps;
    float lr, beta1, beta2, eps;    // Adam's betas; RMSprop takes beta2 as its smoothing constant alpha
    float clip;                     // D weight clipping (0 = off)
    uint64_t seed;
} train_hparams;

// Fills hparams with the defaults for a loss (WGAN: RMSprop 5e-5, clip 0.01, 5 D steps).
void train_hparams_defaults(train_hparams *h, gan_loss loss);

typedef struct {
    double loss_d_real, loss_d_fake, loss_g;
    double d_x, d_g_z1, d_g_z2;     // mean D output on reals, on fakes before and after D's update
} step_stats;

typedef struct {
    train_hparams hp;
    const dcgan_backend *be;
    dcgan_net G, D;
    net_exec xg, xd;
    float *opt_g[2], *opt_d[2];     // optimiser state: Adam m, v (RMSprop uses [0] only)
    long steps_g, steps_d;          // optimiser step counts (Adam bias correction)
    float *dlogits;                 // [B]
    float *dfake;                   // [B, nc, size, size]
    float *stats;                   // [6] backend memory: loss/mean-D of real, fake, G halves
    int32_t *fake_classes;          // [B] host: classes of the last D step's fakes (conditional nets)
} trainer;

// Builds G and D, buffers and optimiser state on backend be; weights initialised from hp->seed.
// Returns 0, or -1 with a one-line reason (e.g. the memory a batch size needs).
int trainer_init(trainer *t, const train_hparams *hp, const dcgan_backend *be, char *err, size_t errlen);
void trainer_free(trainer *t);

// One D step: zero D's grads, real [B, nc, S, S] and noise [B, nz] (backend memory) forward and
// backward (gradients summed), without the optimiser update.
void trainer_d_grads(trainer *t, const float *real, const float *noise);
// The same for conditional nets (hp.cfg.nclasses > 0): real_classes [B] are the reals' labels,
// fake_classes [B] the classes G draws the fakes of (host int32); the G step that follows uses the
// same fakes and classes. With NULL classes it is trainer_d_grads.
void trainer_d_grads_cond(trainer *t, const float *real, const int32_t *real_classes, const float *noise,
                          const int32_t *fake_classes);
void trainer_d_update(trainer *t);
// The G step on the fakes of the last D step: D forward (train mode), backward to G, G's grads.
void trainer_g_grads(trainer *t);
void trainer_g_update(trainer *t);
// d_steps D steps (reals[j], noises[j]) then one G step. Reads the losses back into *st.
void trainer_iteration(trainer *t, float *const *reals, float *const *noises, step_stats *st);
// trainer_iteration for conditional nets: D step j uses real_classes[j] and fake_classes[j].
void trainer_iteration_cond(trainer *t, float *const *reals, int32_t *const *real_classes, float *const *noises,
                            int32_t *const *fake_classes, step_stats *st);
void trainer_read_stats(trainer *t, step_stats *st);

#endif
