// The training comparison of test_gpu_train and test_onednn must notice small errors, not only
// gross ones, although its bounds allow what another summation order does (train_compare.c). Each
// error is planted in a copy of the CPU backend (its table entry wrapped), the clean CPU backend
// is the oracle, and train_record_compare must report a mismatch:
//   - batchnorm's input gradient scaled by 1.01,
//   - Adam's bias correction one step off (the update of step t computed as step t + 1),
//   - the loss gradient scaled by 0.99,
//   - channel 0's batchnorm weight (gamma) gradient dropped in every batchnorm: 5 weights of the
//     397,120 never learn.
// A planted copy of the clean backend with nothing planted must compare equal.
#include <stdio.h>
#include <string.h>
#include "dcgan/cpu.h"
#include "test_util.h"
#include "train_compare.h"

static void scale(float *x, size_t n, float by) { for (size_t i = 0; i < n; i++) x[i] *= by; }

static void bn_backward_1_01(const dcgan_backend *be, void *din, float *dgamma, float *dbeta, const void *dout,
                             const void *out, const void *in, const float *mean, const float *invstd,
                             const float *gamma, const bn_desc *d) {
    cpu_batchnorm_backward(be, din, dgamma, dbeta, dout, out, in, mean, invstd, gamma, d);
    scale(din, tensor_numel(&d->x), 1.01f);
}

static void bn_gamma_channel_0_dropped(const dcgan_backend *be, void *din, float *dgamma, float *dbeta,
                                       const void *dout, const void *out, const void *in, const float *mean,
                                       const float *invstd, const float *gamma, const bn_desc *d) {
    const float before = dgamma[0];
    cpu_batchnorm_backward(be, din, dgamma, dbeta, dout, out, in, mean, invstd, gamma, d);
    dgamma[0] = before;
}

static void optim_step_off(const dcgan_backend *be, float *params, const float *grads, float *s0, float *s1,
                           int64_t *step, const optim_desc *d) {
    ++*step;
    cpu_optim_update(be, params, grads, s0, s1, step, d);
    --*step;
}

static void loss_grad_0_99(const dcgan_backend *be, float *dlogits, float *stats, const float *logits, const loss_desc *d) {
    cpu_loss(be, dlogits, stats, logits, d);
    scale(dlogits, (size_t)d->B, 0.99f);
}

int main(void) {
    train_record oracle, run;
    if (train_record_run(backend_cpu(), LOSS_NONSAT, 0, &oracle)) return test_summary("test_train_sensitivity");
    dcgan_backend planted = *backend_cpu();
    if (train_record_run(&planted, LOSS_NONSAT, 0, &run) == 0) {
        CHECK(train_record_compare("nothing planted", &oracle, &run) == 0);
        train_record_free(&run);
    }
    static const char *const cases[] = {"batchnorm input gradient x1.01", "Adam bias correction one step off",
                                        "loss gradient x0.99", "batchnorm gamma gradient of channel 0 dropped"};
    for (int k = 0; k < 4; k++) {
        planted = *backend_cpu();
        if (k == 0) planted.batchnorm_backward = bn_backward_1_01;
        if (k == 1) planted.optim_update = optim_step_off;
        if (k == 2) planted.loss = loss_grad_0_99;
        if (k == 3) planted.batchnorm_backward = bn_gamma_channel_0_dropped;
        if (train_record_run(&planted, LOSS_NONSAT, 0, &run)) continue;
        int mismatches = train_record_compare(cases[k], &oracle, &run);
        printf("planted %s: %d check(s) noticed it\n", cases[k], mismatches);
        CHECK(mismatches > 0);
        train_record_free(&run);
    }
    train_record_free(&oracle);
    return test_summary("test_train_sensitivity");
}
