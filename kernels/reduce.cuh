// Block-wide reductions in double, shared by the batchnorm statistics and the loss: warp shuffles,
// then one value per warp through shared memory. Every thread of the block must call them; every
// thread gets the totals.
#ifndef DCGAN_REDUCE_CUH
#define DCGAN_REDUCE_CUH

// Sums a and b over the block (THREADS threads, a multiple of 32).
template <int THREADS>
__device__ void block_sum2(double &a, double &b) {
    constexpr int WARPS = THREADS / 32;
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
    a = total[0];
    b = total[1];
}

// Welford state merge (Chan et al.): counts n, means m, sums of squared deviations q.
__device__ __forceinline__ void welford_merge(double &n, double &m, double &q, double n2, double m2, double q2) {
    double t = n + n2;
    if (t == 0.0) return;
    double d = m2 - m;
    m += d * (n2 / t);
    q += q2 + d * d * (n * n2 / t);
    n = t;
}

// Merges every thread's (n, m, q) over the block.
template <int THREADS>
__device__ void block_welford(double &n, double &m, double &q) {
    constexpr int WARPS = THREADS / 32;
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
    n = total[0];
    m = total[1];
    q = total[2];
}

#endif
