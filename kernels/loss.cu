// The GAN losses on D's logits (formulas.h, in double): one block computes every sample's
// gradient, reduces loss and mean sigmoid on the device and writes stats[0..1], so the host reads
// them only when it prints.
#include "cuda_check.h"
#include "cuda_ops.h"
#include "reduce.cuh"
extern "C" {
#include "dcgan/formulas.h"
}

#define LOSS_THREADS 256

__global__ void loss_kernel(float *dlogits, float *stats, const float *logits, int B, gan_loss kind, loss_role role) {
    double lsum = 0, psum = 0;
    for (int i = threadIdx.x; i < B; i += LOSS_THREADS) {
        double loss, grad;
        gan_loss_point(logits[i], kind, role, &loss, &grad);
        lsum += loss;
        psum += logit_probability(logits[i]);
        dlogits[i] = gan_loss_dlogit(grad, B);
    }
    block_sum2<LOSS_THREADS>(lsum, psum);
    if (threadIdx.x == 0) {
        stats[0] = (float)(lsum * (1.0 / B));
        stats[1] = (float)(psum / B);
    }
}

void cuda_loss(const dcgan_backend *be, float *dlogits, float *stats, const float *logits, const loss_desc *d) {
    NVTX_RANGE("loss");
    DCGAN_REQUIRE(d->B > 0);
    loss_kernel<<<1, LOSS_THREADS, 0, ctx_of(be)->stream>>>(dlogits, stats, logits, d->B, d->kind, d->role);
    CUDA_CHECK_LAUNCH();
}
