// Random numbers on the CPU from the Philox streams of rng.h: normal noise (the latent vectors of
// a batch) and uniform classes (the classes of a conditional run's fakes).
#include "dcgan/cpu.h"
#include "dcgan/formulas.h"
#include "dcgan/rng.h"

void cpu_noise_normal(const dcgan_backend *be, float *out, uint64_t *counter, const noise_desc *d) {
    // out: [n]
    (void)be;
    const size_t n = d->n;
    const uint64_t first = d->offset + (counter ? *counter : 0);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = noise_value(d->seed, d->stream, first + i, d->mean, d->std);
    if (counter) *counter += rng_block_words(n);
}

void cpu_noise_classes(const dcgan_backend *be, int32_t *out, uint64_t *counter, const noise_desc *d) {
    // out: [n], each in [0, nclasses)
    (void)be;
    DCGAN_REQUIRE(d->nclasses > 0);
    dcgan_rng r = {d->seed, d->stream, d->offset + (counter ? *counter : 0)};
    rng_fill_below(&r, out, d->n, (uint32_t)d->nclasses);
    if (counter) *counter = r.offset - d->offset;
}
