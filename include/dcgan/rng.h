// Philox4x32-10 counter-based RNG, written once for host and device.
// A stream (seed, stream id) is an infinite array of 32-bit words; element i of a fill
// at offset o is a pure function of (seed, stream, o + i), so CPU and GPU produce the same
// numbers and a run resumes exactly by saving the offset.
#ifndef DCGAN_RNG_H
#define DCGAN_RNG_H
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include "dcgan/hd.h"

typedef struct { uint32_t x[4]; } philox4;

DCGAN_HD uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t *hi) {
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

// Philox4x32 with 10 rounds; key = 64-bit seed, counter = (block index, stream id).
DCGAN_HD philox4 philox4x32_10(uint64_t seed, uint64_t stream, uint64_t block) {
    uint32_t c0 = (uint32_t)block, c1 = (uint32_t)(block >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = philox_mulhilo(0xD2511F53u, c0, &hi0);
        uint32_t lo1 = philox_mulhilo(0xCD9E8D57u, c2, &hi1);
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
    philox4 out = {{c0, c1, c2, c3}};
    return out;
}

// Uniform in (0, 1]: never 0, so log() is safe.
DCGAN_HD float philox_uniform(uint32_t u) { return ((float)(u >> 8) + 1.0f) * (1.0f / 16777216.0f); }

// Standard normal for word index i of a stream: Box-Muller on the pair of words
// (2j, 2j+1) of block i/4; even i takes the cosine branch, odd i the sine branch.
DCGAN_HD float philox_normal_at(uint64_t seed, uint64_t stream, uint64_t i) {
    philox4 r = philox4x32_10(seed, stream, i >> 2);
    int pair = (int)((i >> 1) & 1);
    float u1 = philox_uniform(r.x[2 * pair]);
    float u2 = philox_uniform(r.x[2 * pair + 1]);
    float radius = sqrtf(-2.0f * logf(u1));
    float theta = 6.2831853071795864f * u2;
    return (i & 1) ? radius * sinf(theta) : radius * cosf(theta);
}

DCGAN_HD uint32_t philox_u32_at(uint64_t seed, uint64_t stream, uint64_t i) {
    return philox4x32_10(seed, stream, i >> 2).x[i & 3];
}

// Element i of a normal fill: mean + std * N(0, 1), each step rounded (hd.h).
DCGAN_HD float noise_value(uint64_t seed, uint64_t stream, uint64_t i, float mean, float std) {
    return hd_add(mean, hd_mul(std, philox_normal_at(seed, stream, i)));
}

// Words a fill of n values takes from its stream: whole blocks, so the next fill starts on one.
DCGAN_HD uint64_t rng_block_words(uint64_t n) { return (n + 3) & ~(uint64_t)3; }

// A stream position: the offset advances by the number of words consumed.
typedef struct { uint64_t seed, stream, offset; } dcgan_rng;

DCGAN_HD uint32_t rng_next_u32(dcgan_rng *r) { return philox_u32_at(r->seed, r->stream, r->offset++); }

// Uniform integer in [0, n) without modulo bias: rejection sampling drops the top partial range
// so every residue is equally likely.
DCGAN_HD uint32_t rng_below(dcgan_rng *r, uint32_t n) {
    const uint32_t limit = UINT32_MAX - UINT32_MAX % n;
    uint32_t x;
    do x = rng_next_u32(r); while (x >= limit);
    return x % n;
}

// out[i] = rng_below(r, k) for i = 0 .. n-1, in order (one sequential stream).
DCGAN_HD void rng_fill_below(dcgan_rng *r, int32_t *out, size_t n, uint32_t k) {
    for (size_t i = 0; i < n; i++) out[i] = (int32_t)rng_below(r, k);
}

enum { RNG_STREAM_NOISE = 0, RNG_STREAM_FIXED_NOISE = 1, RNG_STREAM_SHUFFLE = 2, RNG_STREAM_INIT = 3 };
// Conditional training: the classes of the fake batches, B draws of rng_below(nclasses) per
// D step; the stream position is saved with the run (train_state "class_offset").
enum { RNG_STREAM_FAKE_CLASSES = 6 };
// Latent vectors drawn from a seed by the generator commands (`dcgan sample --seed`) and by FID.
enum { RNG_STREAM_SAMPLE = 5 };
// KID: the random subsets of the feature sets.
enum { RNG_STREAM_KID = 7 };
// FID: the dataset images a reference set takes when the dataset has more than it needs.
enum { RNG_STREAM_FID_SUBSET = 8 };

// Data-parallel runs: rank r draws from its own copy of a stream (its noise, its fake classes).
// Rank 0's is the stream itself, so one process draws what it always drew; the others lie above
// every stream id in use (the shuffle streams count up from SHUFFLE_STREAM_BASE by epoch).
DCGAN_HD uint64_t rng_rank_stream(uint64_t stream, int rank) { return stream + ((uint64_t)rank << 40); }

dcgan_rng rng_make(uint64_t seed, uint64_t stream);
void rng_fill_normal(dcgan_rng *r, float *out, size_t n, float mean, float std);
void rng_fill_uniform(dcgan_rng *r, float *out, size_t n, float lo, float hi);
// Fisher-Yates shuffle of perm[0..n-1] (filled with 0..n-1 first).
void rng_permutation(dcgan_rng *r, uint32_t *perm, size_t n);
// z [n, nz] ~ N(0, 1): vector i is vector first + i of (seed, stream), the same whatever n and first
// (words (first + i) * nz ... of the stream).
void rng_vectors_normal(float *z, long first, int n, int nz, uint64_t seed, uint64_t stream);

#endif
