// Optimiser steps with torch.optim's single-tensor arithmetic: element-wise math in float,
// scalar factors (bias corrections, step size) in double.
#include "dcgan/ops.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define OPT_PARALLEL_MIN ((size_t)1 << 15)

// The double a float hyper-parameter was written as (0.999f -> 0.999): torch computes
// 1 - beta2^t from the Python double, and at t = 1 the float's rounding would shift it by 1e-5.
static double decimal_value(float x) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        double d = strtod(buf, NULL);
        if ((float)d == x) return d;
    }
    return (double)x;
}

void adam_update(float *param, const float *grad, float *m, float *v, size_t n,
                 float lr, float beta1, float beta2, float eps, long t) {
    // param, grad, m, v: [n]
    const double b1 = decimal_value(beta1), b2 = decimal_value(beta2);
    const double bc1 = 1.0 - pow(b1, (double)t), bc2 = 1.0 - pow(b2, (double)t);
    const float step = (float)(-decimal_value(lr) / bc1), bc2_sqrt = (float)sqrt(bc2);
    const float w1 = (float)(1.0 - b1), w2 = (float)(1.0 - b2), b2f = (float)b2;
#pragma omp parallel for schedule(static) if (n >= OPT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) {
        const float g = grad[i];
        // m.lerp_(g, 1 - beta1), with torch's two-sided lerp formula
        const float diff = g - m[i];
        const float mi = w1 < 0.5f ? m[i] + w1 * diff : g - diff * (1.0f - w1);
        const float vi = v[i] * b2f + w2 * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] += step * mi / (sqrtf(vi) / bc2_sqrt + eps);
    }
}

void rmsprop_update(float *param, const float *grad, float *sq_avg, size_t n,
                    float lr, float alpha, float eps) {
    // param, grad, sq_avg: [n]
    const double a = decimal_value(alpha);
    const float af = (float)a, w = (float)(1.0 - a), step = -lr;
#pragma omp parallel for schedule(static) if (n >= OPT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) {
        const float g = grad[i];
        const float s = sq_avg[i] * af + w * g * g;
        sq_avg[i] = s;
        param[i] += step * g / (sqrtf(s) + eps);
    }
}

void clip_values(float *x, size_t n, float limit) {
    // x: [n]
#pragma omp parallel for schedule(static) if (n >= OPT_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) x[i] = x[i] < -limit ? -limit : (x[i] > limit ? limit : x[i]);
}
