// Host side of the Philox streams declared in rng.h.
#include "dcgan/rng.h"

dcgan_rng rng_make(uint64_t seed, uint64_t stream) {
    dcgan_rng r = {seed, stream, 0};
    return r;
}

void rng_fill_normal(dcgan_rng *r, float *out, size_t n, float mean, float std) {
    for (size_t i = 0; i < n; i++) out[i] = noise_value(r->seed, r->stream, r->offset + i, mean, std);
    r->offset = rng_block_words(r->offset + n);
}

void rng_fill_uniform(dcgan_rng *r, float *out, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        float u = philox_uniform(philox_u32_at(r->seed, r->stream, r->offset + i)); // (0, 1]
        out[i] = lo + (hi - lo) * (1.0f - u);                                       // [lo, hi)
    }
    r->offset = rng_block_words(r->offset + n);
}

void rng_permutation(dcgan_rng *r, uint32_t *perm, size_t n) {
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        uint32_t j = rng_below(r, (uint32_t)i);
        uint32_t t = perm[i - 1]; perm[i - 1] = perm[j]; perm[j] = t;
    }
}

void rng_vectors_normal(float *z, long first, int n, int nz, uint64_t seed, uint64_t stream) {
    const uint64_t base = (uint64_t)first * (uint64_t)nz;
    const size_t count = (size_t)n * (size_t)nz;
#pragma omp parallel for schedule(static) if (count > 65536)
    for (size_t i = 0; i < count; i++) z[i] = philox_normal_at(seed, stream, base + i);
}
