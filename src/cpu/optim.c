// Optimiser steps with torch.optim's single-tensor arithmetic (formulas.h): element-wise math in
// float, the scalar factors (bias corrections, step size) in double.
#include "dcgan/cpu.h"
#include "dcgan/formulas.h"

#define OPT_PARALLEL_MIN ((size_t)1 << 15)

void cpu_optim_update(const dcgan_backend *be, float *param, const float *grad, float *state0, float *state1,
                      int64_t *step, const optim_desc *d) {
    // param, grad, state0, state1: [n]
    (void)be;
    const size_t n = d->n;
    const int64_t t = ++*step;
    if (d->kind == OPT_ADAM) {
        const adam_factors f = adam_factors_at(d, t);
        const float eps = d->eps;
#pragma omp parallel for schedule(static) if (n >= OPT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++) adam_element(&param[i], &state0[i], &state1[i], grad[i], &f, eps);
    } else {
#pragma omp parallel for schedule(static) if (n >= OPT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++) rmsprop_element(&param[i], &state0[i], grad[i], d);
    }
}

void cpu_optim_clip(const dcgan_backend *be, float *x, size_t n, float limit) {
    // x: [n]
    (void)be;
#pragma omp parallel for schedule(static) if (n >= OPT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) x[i] = clip_element(x[i], limit);
}

void cpu_optim_ema(const dcgan_backend *be, float *avg, const float *x, size_t n, float decay) {
    // avg, x: [n]
    (void)be;
    const float w = 1.0f - decay;
#pragma omp parallel for schedule(static) if (n >= OPT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) avg[i] = lerp_element(avg[i], x[i], w);
}
