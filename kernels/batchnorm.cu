// Batchnorm over [B, C, HW] fused with the activation that follows it (act_slope: 1 none, 0 ReLU,
// 0.2 leaky ReLU), with the CPU ops' contracts (backend_ops.h) and element formulas (formulas.h).
// One block per channel: training statistics in a single pass (per-thread Welford, merged across
// the block with warp shuffles), then the same block normalises its channel while the data is hot
// in L2.
#include "cuda_check.h"
#include "cuda_ops.h"
#include "reduce.cuh"
extern "C" {
#include "dcgan/formulas.h"
}

#define BN_THREADS 512

// Walks this thread's share of one channel's B * HW values (j = threadIdx.x, + BN_THREADS, ...)
// as (sample b, position i), stepping without a division per value.
struct chan_iter { int b, i, sb, si; };
__device__ __forceinline__ chan_iter chan_begin(int HW) {
    chan_iter t = {(int)threadIdx.x / HW, (int)threadIdx.x % HW, BN_THREADS / HW, BN_THREADS % HW};
    return t;
}
__device__ __forceinline__ void chan_next(chan_iter &t, int HW) {
    t.i += t.si;
    t.b += t.sb;
    if (t.i >= HW) { t.i -= HW; t.b++; }
}
#define FOR_CHANNEL(idx) \
    for (chan_iter t_ = chan_begin(HW); t_.b < B; chan_next(t_, HW)) \
        if (const size_t idx = ((size_t)t_.b * C + c) * HW + t_.i; true)

__global__ void bn_forward_train_kernel(float *__restrict__ out, float *__restrict__ save_mean,
                                        float *__restrict__ save_invstd, float *__restrict__ running,
                                        long long *__restrict__ batches_tracked, const float *__restrict__ in,
                                        const float *__restrict__ gamma, const float *__restrict__ beta,
                                        int B, int C, int HW, float momentum, float eps, float slope) {
    const int c = blockIdx.x;
    const size_t N = (size_t)B * HW;
    // Per-thread Welford in float over at most N / BN_THREADS values, merged in double.
    float fm = 0.0f, fq = 0.0f;
    int cnt = 0;
    FOR_CHANNEL(i) {
        float x = in[i];
        cnt++;
        float d = x - fm;
        fm += d / (float)cnt;
        fq += d * (x - fm);
    }
    double n = cnt, m = fm, q = fq;
    block_welford<BN_THREADS>(n, m, q);
    const double var = q / (double)N, invstd = 1.0 / sqrt(var + (double)eps);
    if (threadIdx.x == 0) {
        save_mean[c] = (float)m;
        save_invstd[c] = (float)invstd;
        if (running) bn_running_update(running, C, c, m, var, (double)N, momentum);
        if (batches_tracked && c == 0) ++*batches_tracked;
    }
    const float meanf = (float)m, scale = (float)(gamma[c] * invstd), shift = beta[c];
    FOR_CHANNEL(i) {
        out[i] = act_fused(bn_affine(in[i], meanf, scale, shift), slope);
    }
}

__global__ void bn_forward_eval_kernel(float *__restrict__ out, const float *__restrict__ in,
                                       const float *__restrict__ gamma, const float *__restrict__ beta,
                                       const float *__restrict__ running, size_t n, int C, int HW, float eps,
                                       float slope) {
    GRID_STRIDE(i, n) {
        const int c = (int)((i / HW) % C);
        const float scale = (float)(gamma[c] / sqrt((double)running[C + c] + (double)eps));
        out[i] = act_fused(bn_affine(in[i], running[c], scale, beta[c]), slope);
    }
}

// Channel c's sums of dy and dy * (x - mean), dy = act'(out) * dout (or dout itself when out is
// NULL): this thread's share in float, then the block's totals in double, for every thread.
__device__ __forceinline__ void channel_grad_sums(double &sdy, double &sdyx, const float *__restrict__ dout,
                                                  const float *__restrict__ out, const float *__restrict__ in,
                                                  float meanf, int B, int C, int HW, int c, float slope) {
    float a = 0.0f, b = 0.0f;
    FOR_CHANNEL(i) {
        const float dy = out ? act_fused_grad(dout[i], out[i], slope) : dout[i];
        a += dy;
        b += dy * (in[i] - meanf);
    }
    sdy = a;
    sdyx = b;
    block_sum2<BN_THREADS>(sdy, sdyx);
}

__global__ void bn_backward_kernel(float *__restrict__ din, float *__restrict__ dgamma, float *__restrict__ dbeta,
                                   const float *__restrict__ dout, const float *__restrict__ out,
                                   const float *__restrict__ in, const float *__restrict__ save_mean,
                                   const float *__restrict__ save_invstd, const float *__restrict__ gamma,
                                   int B, int C, int HW, float slope) {
    const int c = blockIdx.x;
    const size_t N = (size_t)B * HW;
    const float meanf = save_mean[c];
    double sdy, sdyx;
    channel_grad_sums(sdy, sdyx, dout, out, in, meanf, B, C, HW, c, slope);
    const double invstd = save_invstd[c];
    if (threadIdx.x == 0) {
        dbeta[c] += (float)sdy;
        dgamma[c] += (float)(sdyx * invstd);
    }
    // din = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)) = dy*k + (x - mean)*m + k0
    const double k = gamma[c] * invstd;
    const float kf = (float)k, mf = (float)(-k * sdyx * invstd * invstd / (double)N), k0f = (float)(-k * sdy / (double)N);
    FOR_CHANNEL(i) {
        const float dy = out ? act_fused_grad(dout[i], out[i], slope) : dout[i];
        din[i] = bn_input_grad(dy, in[i], meanf, kf, mf, k0f);
    }
}

static void check(const bn_desc *d) { DCGAN_REQUIRE(d->x.dtype == DTYPE_F32 && d->x.layout == LAYOUT_NCHW && d->x.n > 0); }

void cuda_batchnorm_forward_train(const dcgan_backend *be, void *out, float *mean, float *invstd, float *running,
                                  int64_t *batches_tracked, const void *in, const float *gamma, const float *beta,
                                  const bn_desc *d) {
    NVTX_RANGE("batchnorm_forward_train");
    check(d);
    bn_forward_train_kernel<<<d->x.c, BN_THREADS, 0, ctx_of(be)->stream>>>(
        (float *)out, mean, invstd, running, (long long *)batches_tracked, (const float *)in, gamma, beta, d->x.n,
        d->x.c, d->x.h * d->x.w, d->momentum, d->eps, d->act_slope);
    CUDA_CHECK_LAUNCH();
}

void cuda_batchnorm_forward_eval(const dcgan_backend *be, void *out, const void *in, const float *gamma,
                                 const float *beta, const float *running, const bn_desc *d) {
    NVTX_RANGE("batchnorm_forward_eval");
    check(d);
    const cuda_ctx *c = ctx_of(be);
    size_t n = tensor_numel(&d->x);
    bn_forward_eval_kernel<<<grid_for(c, n, 256), 256, 0, c->stream>>>((float *)out, (const float *)in, gamma, beta,
                                                                        running, n, d->x.c, d->x.h * d->x.w, d->eps,
                                                                        d->act_slope);
    CUDA_CHECK_LAUNCH();
}

void cuda_batchnorm_backward(const dcgan_backend *be, void *din, float *dgamma, float *dbeta, const void *dout,
                             const void *out, const void *in, const float *mean, const float *invstd, const float *gamma,
                             const bn_desc *d) {
    NVTX_RANGE("batchnorm_backward");
    check(d);
    if (d->act_slope == 1.0f) out = NULL;   // no activation: dout is already d bn(in)
    bn_backward_kernel<<<d->x.c, BN_THREADS, 0, ctx_of(be)->stream>>>(
        (float *)din, dgamma, dbeta, (const float *)dout, (const float *)out, (const float *)in, mean, invstd, gamma,
        d->x.n, d->x.c, d->x.h * d->x.w, d->act_slope);
    CUDA_CHECK_LAUNCH();
}

// --- synchronised batchnorm (src/cpu/batchnorm.c's contracts): one block per channel for the sums,
// grid-stride element loops for the passes that use the all-reduced sums ---------------------------

__global__ void bn_sums_kernel(double *__restrict__ sums, const float *__restrict__ in, int B, int C, int HW) {
    const int c = blockIdx.x;
    float fs = 0.0f;
    double q = 0.0;
    FOR_CHANNEL(i) {
        const float x = in[i];
        fs += x;
        q += (double)x * x;
    }
    double s = fs;
    block_sum2<BN_THREADS>(s, q);
    if (threadIdx.x == 0) { sums[c] = s; sums[C + c] = q; }
}

__global__ void bn_global_stats_kernel(float *__restrict__ save_mean, float *__restrict__ save_invstd,
                                       float *__restrict__ running, long long *__restrict__ batches_tracked,
                                       const double *__restrict__ sums, int C, double N, float momentum, float eps) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    bn_global_channel(save_mean, save_invstd, running, sums, C, c, N, (double)eps, momentum);
    if (batches_tracked && c == 0) ++*batches_tracked;
}

__global__ void bn_global_apply_kernel(float *__restrict__ out, const float *__restrict__ in,
                                       const float *__restrict__ save_mean, const float *__restrict__ save_invstd,
                                       const float *__restrict__ gamma, const float *__restrict__ beta, size_t n,
                                       int C, int HW, float slope) {
    GRID_STRIDE(i, n) {
        const int c = (int)((i / HW) % C);
        const float scale = (float)(gamma[c] * (double)save_invstd[c]);
        out[i] = act_fused(bn_affine(in[i], save_mean[c], scale, beta[c]), slope);
    }
}

__global__ void bn_backward_sums_kernel(double *__restrict__ sums, float *__restrict__ dgamma,
                                        float *__restrict__ dbeta, const float *__restrict__ dout,
                                        const float *__restrict__ out, const float *__restrict__ in,
                                        const float *__restrict__ save_mean, const float *__restrict__ save_invstd,
                                        int B, int C, int HW, float slope) {
    const int c = blockIdx.x;
    double sdy, sdyx;
    channel_grad_sums(sdy, sdyx, dout, out, in, save_mean[c], B, C, HW, c, slope);
    if (threadIdx.x == 0) {
        sums[c] = sdy;
        sums[C + c] = sdyx;
        dbeta[c] += (float)sdy;
        dgamma[c] += (float)(sdyx * (double)save_invstd[c]);
    }
}

__global__ void bn_backward_global_kernel(float *__restrict__ din, const float *__restrict__ dout,
                                          const float *__restrict__ out, const float *__restrict__ in,
                                          const float *__restrict__ save_mean, const float *__restrict__ save_invstd,
                                          const float *__restrict__ gamma, const double *__restrict__ sums, size_t n,
                                          int C, int HW, double N, float slope) {
    GRID_STRIDE(i, n) {
        const int c = (int)((i / HW) % C);
        const double invstd = save_invstd[c], k = gamma[c] * invstd;
        const float kf = (float)k, mf = (float)(-k * sums[C + c] * invstd * invstd / N), k0f = (float)(-k * sums[c] / N);
        const float dy = out ? act_fused_grad(dout[i], out[i], slope) : dout[i];
        din[i] = bn_input_grad(dy, in[i], save_mean[c], kf, mf, k0f);
    }
}

void cuda_batchnorm_sums(const dcgan_backend *be, double *sums, const void *in, const bn_desc *d) {
    NVTX_RANGE("batchnorm_sums");
    check(d);
    bn_sums_kernel<<<d->x.c, BN_THREADS, 0, ctx_of(be)->stream>>>(sums, (const float *)in, d->x.n, d->x.c,
                                                                  d->x.h * d->x.w);
    CUDA_CHECK_LAUNCH();
}

void cuda_batchnorm_forward_global(const dcgan_backend *be, void *out, float *save_mean, float *save_invstd,
                                   float *running, int64_t *batches_tracked, const void *in, const float *gamma,
                                   const float *beta, const double *sums, const bn_desc *d) {
    NVTX_RANGE("batchnorm_forward_global");
    check(d);
    DCGAN_REQUIRE(d->group_n >= d->x.n);
    const cuda_ctx *c = ctx_of(be);
    const int C = d->x.c, HW = d->x.h * d->x.w;
    bn_global_stats_kernel<<<(C + 127) / 128, 128, 0, c->stream>>>(save_mean, save_invstd, running,
                                                                   (long long *)batches_tracked, sums, C,
                                                                   (double)d->group_n * HW, d->momentum, d->eps);
    CUDA_CHECK_LAUNCH();
    size_t n = tensor_numel(&d->x);
    bn_global_apply_kernel<<<grid_for(c, n, 256), 256, 0, c->stream>>>((float *)out, (const float *)in, save_mean,
                                                                        save_invstd, gamma, beta, n, C, HW, d->act_slope);
    CUDA_CHECK_LAUNCH();
}

void cuda_batchnorm_backward_sums(const dcgan_backend *be, double *sums, float *dgamma, float *dbeta, const void *dout,
                                  const void *out, const void *in, const float *save_mean, const float *save_invstd,
                                  const bn_desc *d) {
    NVTX_RANGE("batchnorm_backward_sums");
    check(d);
    if (d->act_slope == 1.0f) out = NULL;
    bn_backward_sums_kernel<<<d->x.c, BN_THREADS, 0, ctx_of(be)->stream>>>(
        sums, dgamma, dbeta, (const float *)dout, (const float *)out, (const float *)in, save_mean, save_invstd, d->x.n,
        d->x.c, d->x.h * d->x.w, d->act_slope);
    CUDA_CHECK_LAUNCH();
}

void cuda_batchnorm_backward_global(const dcgan_backend *be, void *din, const void *dout, const void *out, const void *in,
                                    const float *save_mean, const float *save_invstd, const float *gamma,
                                    const double *sums, const bn_desc *d) {
    NVTX_RANGE("batchnorm_backward_global");
    check(d);
    DCGAN_REQUIRE(d->group_n >= d->x.n);
    if (d->act_slope == 1.0f) out = NULL;
    const cuda_ctx *c = ctx_of(be);
    const int HW = d->x.h * d->x.w;
    size_t n = tensor_numel(&d->x);
    bn_backward_global_kernel<<<grid_for(c, n, 256), 256, 0, c->stream>>>(
        (float *)din, (const float *)dout, (const float *)out, (const float *)in, save_mean, save_invstd, gamma, sums, n,
        d->x.c, HW, (double)d->group_n * HW, d->act_slope);
    CUDA_CHECK_LAUNCH();
}
