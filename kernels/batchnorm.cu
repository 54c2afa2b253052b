// Batchnorm over [B, C, HW] fused with the activation that follows it (act_slope: 1 none, 0 ReLU,
// 0.2 leaky ReLU), with the CPU ops' contracts (include/dcgan/ops.h). One block per channel:
// training statistics in a single pass (per-thread Welford, merged across the block with warp
// shuffles), then the same block normalises its channel while the data is hot in L2.
#include "cuda_check.h"
#include "cuda_ops.h"

#define BN_THREADS 512
#define WARPS (BN_THREADS / 32)

// Welford state merge (Chan et al.): counts n, means m, sums of squared deviations q.
__device__ __forceinline__ void welford_merge(double &n, double &m, double &q, double n2, double m2, double q2) {
    double t = n + n2;
    if (t == 0.0) return;
    double d = m2 - m;
    m += d * (n2 / t);
    q += q2 + d * d * (n * n2 / t);
    n = t;
}

// Merges every thread's (n, m, q) into thread 0's; the result is broadcast through shared memory.
__device__ void block_welford(double &n, double &m, double &q) {
    __shared__ double sn[WARPS], sm[WARPS], sq[WARPS], total[3];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1)
        welford_merge(n, m, q, __shfl_down_sync(0xffffffffu, n, o), __shfl_down_sync(0xffffffffu, m, o),
                      __shfl_down_sync(0xffffffffu, q, o));
    if (lane == 0) { sn[warp] = n; sm[warp] = m; sq[warp] = q; }
    __syncthreads();
    if (warp == 0) {
        n = lane < WARPS ? sn[lane] : 0.0;
        m = lane < WARPS ? sm[lane] : 0.0;
        q = lane < WARPS ? sq[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1)
            welford_merge(n, m, q, __shfl_down_sync(0xffffffffu, n, o), __shfl_down_sync(0xffffffffu, m, o),
                          __shfl_down_sync(0xffffffffu, q, o));
        if (lane == 0) { total[0] = n; total[1] = m; total[2] = q; }
    }
    __syncthreads();
    n = total[0]; m = total[1]; q = total[2];
}

// Sums a and b over the block; every thread gets the totals.
__device__ void block_sum2(double &a, double &b) {
    __shared__ double sa[WARPS], sb[WARPS], total[2];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) {
        a += __shfl_down_sync(0xffffffffu, a, o);
        b += __shfl_down_sync(0xffffffffu, b, o);
    }
    if (lane == 0) { sa[warp] = a; sb[warp] = b; }
    __syncthreads();
    if (warp == 0) {
        a = lane < WARPS ? sa[lane] : 0.0;
        b = lane < WARPS ? sb[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) {
            a += __shfl_down_sync(0xffffffffu, a, o);
            b += __shfl_down_sync(0xffffffffu, b, o);
        }
        if (lane == 0) { total[0] = a; total[1] = b; }
    }
    __syncthreads();
    a = total[0]; b = total[1];
}

__device__ __forceinline__ float act(float y, float slope) { return fmaxf(y, 0.0f) + slope * fminf(y, 0.0f); }
__device__ __forceinline__ float act_grad(float dout, float out, float slope) { return dout * (out > 0.0f ? 1.0f : slope); }

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
                                        float *__restrict__ save_invstd, float *__restrict__ rmean,
                                        float *__restrict__ rvar, const float *__restrict__ in,
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
    block_welford(n, m, q);
    const double var = q / (double)N, invstd = 1.0 / sqrt(var + (double)eps);
    if (threadIdx.x == 0) {
        save_mean[c] = (float)m;
        save_invstd[c] = (float)invstd;
        const double unbiased = N > 1 ? var * (double)N / (double)(N - 1) : var;
        rmean[c] = (float)((1.0 - momentum) * rmean[c] + momentum * m);
        rvar[c] = (float)((1.0 - momentum) * rvar[c] + momentum * unbiased);
    }
    const float meanf = (float)m, scale = (float)(gamma[c] * invstd), shift = beta[c];
    FOR_CHANNEL(i) {
        out[i] = act((in[i] - meanf) * scale + shift, slope);
    }
}

__global__ void bn_forward_eval_kernel(float *__restrict__ out, const float *__restrict__ in,
                                       const float *__restrict__ gamma, const float *__restrict__ beta,
                                       const float *__restrict__ rmean, const float *__restrict__ rvar,
                                       size_t n, int C, int HW, float eps, float slope) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const int c = (int)((i / HW) % C);
        const float scale = (float)(gamma[c] / sqrt((double)rvar[c] + (double)eps));
        out[i] = act((in[i] - rmean[c]) * scale + beta[c], slope);
    }
}

__global__ void bn_backward_kernel(float *__restrict__ din, float *__restrict__ dgamma, float *__restrict__ dbeta,
                                   const float *__restrict__ dout, const float *__restrict__ out,
                                   const float *__restrict__ in, const float *__restrict__ save_mean,
                                   const float *__restrict__ save_invstd, const float *__restrict__ gamma,
                                   int B, int C, int HW, float slope) {
    const int c = blockIdx.x;
    const size_t N = (size_t)B * HW;
    const float meanf = save_mean[c];
    float a = 0.0f, b = 0.0f;   // sum dy, sum dy * (x - mean) over this thread's values
    FOR_CHANNEL(i) {
        const float dy = out ? act_grad(dout[i], out[i], slope) : dout[i];
        a += dy;
        b += dy * (in[i] - meanf);
    }
    double sdy = a, sdyx = b;
    block_sum2(sdy, sdyx);
    const double invstd = save_invstd[c];
    if (threadIdx.x == 0) {
        dbeta[c] += (float)sdy;
        dgamma[c] += (float)(sdyx * invstd);
    }
    // din = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)) = dy*k + (x - mean)*m + k0
    const double k = gamma[c] * invstd;
    const float kf = (float)k, mf = (float)(-k * sdyx * invstd * invstd / (double)N), k0f = (float)(-k * sdy / (double)N);
    FOR_CHANNEL(i) {
        const float dy = out ? act_grad(dout[i], out[i], slope) : dout[i];
        din[i] = dy * kf + (in[i] - meanf) * mf + k0f;
    }
}

extern "C" void cuda_batchnorm_forward_train(float *out, float *mean, float *invstd, float *rmean, float *rvar,
                                             const float *in, const float *gamma, const float *beta,
                                             int B, int C, int HW, float momentum, float eps, float act_slope) {
    bn_forward_train_kernel<<<C, BN_THREADS, 0, cuda_stream()>>>(out, mean, invstd, rmean, rvar, in, gamma, beta,
                                                                 B, C, HW, momentum, eps, act_slope);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                                            const float *rmean, const float *rvar, int B, int C, int HW, float eps,
                                            float act_slope) {
    size_t n = (size_t)B * C * HW;
    bn_forward_eval_kernel<<<grid_for(n, 256), 256, 0, cuda_stream()>>>(out, in, gamma, beta, rmean, rvar, n, C, HW,
                                                                        eps, act_slope);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *out,
                                        const float *in, const float *mean, const float *invstd, const float *gamma,
                                        int B, int C, int HW, float act_slope) {
    if (act_slope == 1.0f) out = NULL;   // no activation: dout is already d bn(in)
    bn_backward_kernel<<<C, BN_THREADS, 0, cuda_stream()>>>(din, dgamma, dbeta, dout, out, in, mean, invstd, gamma,
                                                            B, C, HW, act_slope);
    CUDA_CHECK_LAUNCH();
}
