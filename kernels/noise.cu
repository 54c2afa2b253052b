// Random numbers from the Philox streams of rng.h, the same function of the counter as the CPU's
// (src/cpu/noise.c): normal noise from word offset + *counter on, and uniform classes drawn in
// order by one thread (rejection sampling consumes a varying number of words). The counter lives
// in device memory and is advanced on the device.
#include "cuda_check.h"
#include "cuda_ops.h"
extern "C" {
#include "dcgan/rng.h"
}

__global__ void noise_normal_kernel(float *out, const unsigned long long *counter, noise_desc d) {
    const uint64_t first = d.offset + (counter ? *counter : 0);
    GRID_STRIDE(i, d.n) out[i] = noise_value(d.seed, d.stream, first + i, d.mean, d.std);
}

__global__ void noise_classes_kernel(int32_t *out, unsigned long long *counter, noise_desc d) {
    dcgan_rng r = {d.seed, d.stream, d.offset + (counter ? *counter : 0)};
    rng_fill_below(&r, out, d.n, (uint32_t)d.nclasses);
    if (counter) *counter = r.offset - d.offset;
}

void cuda_noise_normal(const dcgan_backend *be, float *out, uint64_t *counter, const noise_desc *d) {
    NVTX_RANGE("noise_normal");
    cuda_ctx *c = ctx_of(be);
    if (!d->n) return;
    noise_normal_kernel<<<grid_for(c, d->n, 256), 256, 0, c->stream>>>(out, (const unsigned long long *)counter, *d);
    CUDA_CHECK_LAUNCH();
    if (counter) cuda_counter_add(c, counter, rng_block_words(d->n));
}

void cuda_noise_classes(const dcgan_backend *be, int32_t *out, uint64_t *counter, const noise_desc *d) {
    NVTX_RANGE("noise_classes");
    DCGAN_REQUIRE(d->nclasses > 0);
    noise_classes_kernel<<<1, 1, 0, ctx_of(be)->stream>>>(out, (unsigned long long *)counter, *d);
    CUDA_CHECK_LAUNCH();
}
