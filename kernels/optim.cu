// Adam, RMSprop and weight clipping over a whole parameter block in one launch, with the element
// formulas of formulas.h (the CPU's). The step count lives in device memory: a one-thread launch
// advances it, and the update computes its bias corrections from it, so a replayed sequence of
// launches takes the next step each time.
#include "cuda_check.h"
#include "cuda_ops.h"
extern "C" {
#include "dcgan/formulas.h"
}

#define OPT_THREADS 256

__global__ void adam_kernel(float *__restrict__ p, const float *__restrict__ grad, float *__restrict__ m,
                            float *__restrict__ v, const long long *__restrict__ step, optim_desc d) {
    __shared__ adam_factors f;
    if (threadIdx.x == 0) f = adam_factors_at(&d, *step);
    __syncthreads();
    GRID_STRIDE(i, d.n) adam_element(&p[i], &m[i], &v[i], grad[i], &f, d.eps);
}

__global__ void rmsprop_kernel(float *__restrict__ p, const float *__restrict__ grad, float *__restrict__ sq, optim_desc d) {
    GRID_STRIDE(i, d.n) rmsprop_element(&p[i], &sq[i], grad[i], &d);
}

__global__ void ema_kernel(float *__restrict__ avg, const float *__restrict__ x, size_t n, float w) {
    GRID_STRIDE(i, n) avg[i] = lerp_element(avg[i], x[i], w);
}

__global__ void clip_kernel(float *x, size_t n, float limit) {
    GRID_STRIDE(i, n) x[i] = clip_element(x[i], limit);
}

void cuda_optim_update(const dcgan_backend *be, float *params, const float *grads, float *state0, float *state1,
                       int64_t *step, const optim_desc *d) {
    NVTX_RANGE("optim_update");
    cuda_ctx *c = ctx_of(be);
    cuda_counter_add(c, step, 1);
    if (!d->n) return;
    if (d->kind == OPT_ADAM)
        adam_kernel<<<grid_for(c, d->n, OPT_THREADS), OPT_THREADS, 0, c->stream>>>(params, grads, state0, state1,
                                                                                   (const long long *)step, *d);
    else
        rmsprop_kernel<<<grid_for(c, d->n, OPT_THREADS), OPT_THREADS, 0, c->stream>>>(params, grads, state0, *d);
    CUDA_CHECK_LAUNCH();
}

void cuda_optim_clip(const dcgan_backend *be, float *x, size_t n, float limit) {
    NVTX_RANGE("optim_clip");
    const cuda_ctx *c = ctx_of(be);
    if (!n) return;
    clip_kernel<<<grid_for(c, n, OPT_THREADS), OPT_THREADS, 0, c->stream>>>(x, n, limit);
    CUDA_CHECK_LAUNCH();
}

void cuda_optim_ema(const dcgan_backend *be, float *avg, const float *x, size_t n, float decay) {
    NVTX_RANGE("optim_ema");
    const cuda_ctx *c = ctx_of(be);
    if (!n) return;
    ema_kernel<<<grid_for(c, n, OPT_THREADS), OPT_THREADS, 0, c->stream>>>(avg, x, n, 1.0f - decay);
    CUDA_CHECK_LAUNCH();
}
