// Host side of the Philox streams declared in rng.h.
#include "dcgan/rng.h"

dcgan_rng rng_make(uint64_t seed, uint64_t stream) {
    dcgan_rng r = {seed, stream, 0};
    return r;
}

static void round_to_block(dcgan_rng *r) { r->offset = (r->offset + 3) & ~(uint64_t)3; }

void rng_fill_normal(dcgan_rng *r, float *out, size_t n, float mean, float std) {
    for (size_t i = 0; i < n; i++) out[i] = mean + std * philox_normal_at(r->seed, r->stream, r->offset + i);
    r->offset += n;
    round_to_block(r);
}

void rng_fill_uniform(dcgan_rng *r, float *out, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        float u = philox_uniform(philox_u32_at(r->seed, r->stream, r->offset + i)); // (0, 1]
        out[i] = lo + (hi - lo) * (1.0f - u);                                       // [lo, hi)
    }
    r->offset += n;
    round_to_block(r);
}

uint32_t rng_next_u32(dcgan_rng *r) { return philox_u32_at(r->seed, r->stream, r->offset++); }

uint32_t rng_below(dcgan_rng *r, uint32_t n) {
    // Rejection sampling: drop the top partial range so every residue is equally likely.
    uint32_t limit = UINT32_MAX - UINT32_MAX % n;
    uint32_t x;
    do x = rng_next_u32(r); while (x >= limit);
    return x % n;
}

void rng_permutation(dcgan_rng *r, uint32_t *perm, size_t n) {
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        uint32_t j = rng_below(r, (uint32_t)i);
        uint32_t t = perm[i - 1]; perm[i - 1] = perm[j]; perm[j] = t;
    }
}
