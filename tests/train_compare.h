// Training runs on two backends from the same seed and data, compared: the test that a backend
// trains as the CPU reference does (test_gpu_train) and the proof that this comparison notices
// small errors (test_train_sensitivity plants them in a copy of the CPU backend).
#ifndef DCGAN_TRAIN_COMPARE_H
#define DCGAN_TRAIN_COMPARE_H
#include "dcgan/train.h"

#define COMPARE_ITERS 20

typedef struct {
    char name[48];                  // the state_dict name, e.g. "main.1.weight"
    size_t off, numel;              // where it lies in the net's parameter block
} record_tensor;

typedef struct {
    double v[COMPARE_ITERS][6];     // per iteration: Loss_D_real, Loss_D_fake, Loss_G, D(x), D(G(z1)), D(G(z2))
    float *grads[2], *update[2];    // G, D after iteration 1: gradients, and params1 - params0
    size_t n[2];                    // parameters of G and D
    int ntensors[2];                // the parameter tensors of G and D
    record_tensor tensors[2][DCGAN_MAX_TENSORS];
    float *fake;                    // G(z) after the last iteration
    size_t nfake;
} train_record;

// COMPARE_ITERS iterations of a small 32 px model on the synthetic shapes (resident, or staged
// through host memory when staged is set). Returns 0, or -1 (counted as a test failure).
int train_record_run(const dcgan_backend *be, gan_loss loss, int staged, train_record *r);
void train_record_free(train_record *r);
// Compares run b with the reference a; prints each check and returns the number of checks that
// failed (not counted in test_failures: the caller decides what a mismatch means).
int train_record_compare(const char *name, const train_record *a, const train_record *b);

// One trainer with its batcher over a dataset, on backend be: the data shard `rank` of `ranks`
// (0 of 1: the whole dataset). Returns 0, or -1 (counted as a test failure, the reason printed).
typedef struct {
    trainer t;
    batcher data;
} train_runner;

int train_runner_init(train_runner *r, const dcgan_backend *be, const dcgan_dataset *ds, const train_hparams *h,
                      int rank, int ranks);
void train_runner_free(train_runner *r);

#endif
