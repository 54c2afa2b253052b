// Comparisons of a training step against a PyTorch fixture (safetensors written by
// tests/make_fixture*.py), shared by the parity tests. Failures are counted in test_failures.
#ifndef DCGAN_FIXTURE_COMPARE_H
#define DCGAN_FIXTURE_COMPARE_H
#include "dcgan/model.h"
#include "dcgan/io.h"
#include "dcgan/train.h"

// Metadata value as int (-1 when absent) or float (NAN when absent).
int fixture_meta_int(const st_file *f, const char *key);
float fixture_meta_float(const st_file *f, const char *key);
// The fixture's tensor `name`; NULL (counted as a failure) when it is missing.
const st_tensor *fixture_need(const st_file *f, const char *name);
// got [n] against want, within rel of the tensor's largest magnitude (float32 sums in another
// order differ by ~1e-6 relative; Adam's first steps amplify that only for near-zero gradients).
void fixture_compare(const char *label, const float *got, const st_tensor *want, double rel);
void fixture_compare_scalar(const char *label, double got, const st_tensor *want);
// The net's parameters and running stats (or its gradients when grads is set) against fixture
// tensors named prefix + state_dict name; with counts, num_batches_tracked too.
void fixture_compare_net(const dcgan_net *net, const st_file *f, const char *prefix, int grads, int counts,
                         double rel);
// The training hyper-parameters a fixture was made with (its metadata; the loss's defaults for
// what it does not say).
void fixture_hparams(const st_file *f, gan_loss loss, train_hparams *h);
// Loads the fixture's initial G and D into t and replays its iterations: every D step with the
// fixture's real batch, noise (and, for a conditional net, classes), then the G step, comparing
// losses, fakes, gradients and the updated tensors (num_batches_tracked too when counts is set).
// Stops at the first iteration that mismatches.
void fixture_replay(const st_file *f, trainer *t, int counts);

#endif
