// The GAN losses on D's logits (src/cpu/loss.c's formulas, in double): one block computes every
// sample's gradient, reduces loss and mean sigmoid on the device and writes stats[0..1], so the
// host reads them only when it prints.
#include "cuda_check.h"
#include "cuda_ops.h"

#define LOSS_THREADS 256

__device__ double softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }
__device__ double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

// role: 0 D on fakes, 1 D on reals, 2 G.
__device__ void loss_grad(double l, gan_loss kind, int role, double *loss, double *grad) {
    if (role == 2) {
        switch (kind) {
        case LOSS_MINIMAX: *loss = -softplus(l); *grad = -sigmoid(l); break;
        case LOSS_ML: *loss = -0.5 * exp(l); *grad = *loss; break;
        case LOSS_WGAN:
        case LOSS_HINGE: *loss = -l; *grad = -1.0; break;
        case LOSS_LSGAN: *loss = 0.5 * (l - 1) * (l - 1); *grad = l - 1; break;
        default: *loss = softplus(-l); *grad = sigmoid(l) - 1; break;   // non-saturating
        }
        return;
    }
    const int real = role == 1;
    switch (kind) {
    case LOSS_WGAN: *loss = real ? -l : l; *grad = real ? -1.0 : 1.0; break;
    case LOSS_LSGAN:
        *loss = real ? 0.5 * (l - 1) * (l - 1) : 0.5 * l * l;
        *grad = real ? l - 1 : l;
        break;
    case LOSS_HINGE:
        *loss = real ? fmax(1 - l, 0.0) : fmax(1 + l, 0.0);
        *grad = real ? (1 - l > 0 ? -1.0 : 0.0) : (1 + l > 0 ? 1.0 : 0.0);
        break;
    default:   // BCE with targets 1 (real) or 0 (fake)
        *loss = real ? softplus(-l) : softplus(l);
        *grad = real ? sigmoid(l) - 1 : sigmoid(l);
        break;
    }
}

__global__ void loss_kernel(float *dlogits, float *stats, const float *logits, int B, gan_loss kind, int role) {
    __shared__ double sl[LOSS_THREADS / 32], ss[LOSS_THREADS / 32];
    const double inv = 1.0 / B;
    double lsum = 0, ssum = 0;
    for (int i = threadIdx.x; i < B; i += LOSS_THREADS) {
        const double l = logits[i];
        double loss, grad;
        loss_grad(l, kind, role, &loss, &grad);
        lsum += loss;
        ssum += 1.0 / (1.0 + exp(-l));
        dlogits[i] = (float)(grad * inv);
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) {
        lsum += __shfl_down_sync(0xffffffffu, lsum, o);
        ssum += __shfl_down_sync(0xffffffffu, ssum, o);
    }
    if (lane == 0) { sl[warp] = lsum; ss[warp] = ssum; }
    __syncthreads();
    if (threadIdx.x == 0) {
        double a = 0, b = 0;
        for (int w = 0; w < LOSS_THREADS / 32; w++) { a += sl[w]; b += ss[w]; }
        stats[0] = (float)(a * inv);
        stats[1] = (float)(b * inv);
    }
}

static void launch(float *dlogits, float *stats, const float *logits, int B, gan_loss kind, int role) {
    loss_kernel<<<1, LOSS_THREADS, 0, cuda_stream()>>>(dlogits, stats, logits, B, kind, role);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_loss_d(float *dlogits, float *stats, const float *logits, int B, gan_loss kind, int real) {
    launch(dlogits, stats, logits, B, kind, real ? 1 : 0);
}

extern "C" void cuda_loss_g(float *dlogits, float *stats, const float *logits, int B, gan_loss kind) {
    launch(dlogits, stats, logits, B, kind, 2);
}
