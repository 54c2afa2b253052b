// Element-wise activations (formulas.h). Small tensors skip the thread team: its start-up costs
// more than the work.
#include "dcgan/cpu.h"
#include "dcgan/formulas.h"
#include <math.h>

#define ACT_PARALLEL_MIN ((size_t)1 << 15)

void cpu_activation_forward(const dcgan_backend *be, void *out_, const void *in_, const act_desc *d) {
    // out, in: [n] with n = numel(d->x)
    (void)be;
    DCGAN_REQUIRE(d->x.dtype == DTYPE_F32);
    float *out = out_;
    const float *in = in_;
    const size_t n = tensor_numel(&d->x);
    const float slope = d->slope;
    switch (d->kind) {
    case ACT_RELU:
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++) out[i] = act_relu(in[i]);
        break;
    case ACT_LEAKY_RELU:
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++) out[i] = act_leaky_relu(in[i], slope);
        break;
    case ACT_TANH:
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
        break;
    }
}

void cpu_activation_backward(const dcgan_backend *be, void *din_, const void *dout_, const void *out_, const act_desc *d) {
    // din, dout, out: [n]
    (void)be;
    DCGAN_REQUIRE(d->x.dtype == DTYPE_F32);
    float *din = din_;
    const float *dout = dout_, *out = out_;
    const size_t n = tensor_numel(&d->x);
    const float slope = d->slope;
    switch (d->kind) {
    case ACT_RELU:
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++) din[i] = act_relu_grad(dout[i], out[i]);
        break;
    case ACT_LEAKY_RELU:
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++) din[i] = act_leaky_relu_grad(dout[i], out[i], slope);
        break;
    case ACT_TANH:
#pragma omp parallel for schedule(static) if (n >= ACT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++) din[i] = act_tanh_grad(dout[i], out[i]);
        break;
    }
}
