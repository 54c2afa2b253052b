// Latent-space interpolation and vector arithmetic (see gen.h).
#include "dcgan/error.h"
#include "dcgan/gen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/rng.h"

void latent_lerp(float *out, const float *a, const float *b, int nz, float t) {
    if (t == 0.0f) { memmove(out, a, (size_t)nz * sizeof(float)); return; }
    if (t == 1.0f) { memmove(out, b, (size_t)nz * sizeof(float)); return; }
    for (int i = 0; i < nz; i++) out[i] = (1.0f - t) * a[i] + t * b[i];
}

int latent_slerp(float *out, const float *a, const float *b, int nz, float t) {
    if (t == 0.0f || t == 1.0f) { latent_lerp(out, a, b, nz, t); return 0; }
    // Angle from the normalised dot product, in double: nz is small and the fallback test
    // near |cos| = 1 must not be decided by float rounding.
    double na = 0, nb = 0, dot = 0;
    for (int i = 0; i < nz; i++) {
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
        dot += (double)a[i] * b[i];
    }
    na = sqrt(na);
    nb = sqrt(nb);
    double c = (na > 0 && nb > 0) ? dot / (na * nb) : 1.0;
    if (!(fabs(c) < 1.0 - 1e-6)) {   // (anti)parallel or zero: no unique great circle
        latent_lerp(out, a, b, nz, t);
        return 1;
    }
    double omega = acos(c), s = sin(omega), norm = (1.0 - t) * na + (double)t * nb;
    double wa = sin((1.0 - t) * omega) / s / na * norm, wb = sin(t * omega) / s / nb * norm;
    for (int i = 0; i < nz; i++) out[i] = (float)(wa * a[i] + wb * b[i]);
    return 0;
}

int latent_walk(float *out, const float *points, int K, int steps, int nz, latent_mode mode) {
    int fallbacks = 0, last_fallback_seg = -1;
    for (int i = 0; i < steps; i++) {
        // Position i (K-1)/(steps-1) in integers, so points that fall on a step are exact.
        long num = (long)i * (K - 1);
        int seg = (int)(num / (steps - 1));
        long rem = num % (steps - 1);
        float *o = out + (size_t)i * nz;
        if (rem == 0) { memcpy(o, points + (size_t)seg * nz, (size_t)nz * sizeof(float)); continue; }
        float t = (float)((double)rem / (double)(steps - 1));
        const float *a = points + (size_t)seg * nz, *b = a + nz;
        if (mode == LATENT_SLERP) {
            if (latent_slerp(o, a, b, nz, t) && seg != last_fallback_seg) { fallbacks++; last_fallback_seg = seg; }
        } else {
            latent_lerp(o, a, b, nz, t);
        }
    }
    return fallbacks;
}

void latent_group_mean(float *mean, const float *z, int nz, const latent_group *g) {
    for (int j = 0; j < nz; j++) {
        double s = 0;
        for (int k = 0; k < g->n; k++) s += z[(size_t)g->idx[k] * nz + j];
        mean[j] = (float)(s / g->n);
    }
}

void latent_arithmetic(float *out, const float *z, int nz, const latent_group *groups, int ngroups) {
    for (int j = 0; j < nz; j++) {
        double s = 0;
        for (int gi = 0; gi < ngroups; gi++) {
            const latent_group *g = &groups[gi];
            double m = 0;
            for (int k = 0; k < g->n; k++) m += z[(size_t)g->idx[k] * nz + j];
            s += g->sign * (m / g->n);
        }
        out[j] = (float)s;
    }
}

void latent_neighbours(float *out, const float *center, int nz, int n, float radius, uint64_t seed,
                       uint64_t stream) {
    dcgan_rng r = rng_make(seed, stream);
    rng_fill_uniform(&r, out, (size_t)n * nz, -radius, radius);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < nz; j++) out[(size_t)i * nz + j] += center[j];
}

int latent_parse_indices(const char *s, int *idx, int max, int limit, char *err, size_t errlen) {
    if (!s || !*s) return set_error(err, errlen, "empty index list");
    int n = 0;
    const char *p = s;
    for (;;) {
        if (*p == ',' || *p == 0) return set_error(err, errlen, "empty entry in the index list");
        if (*p == '-' || *p == '+' || *p == ' ') return set_error(err, errlen, "indices are non-negative integers");
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || (*end && *end != ','))
            return set_error(err, errlen, "'%.*s' is not an index", (int)strcspn(p, ","), p);
        if (v < 0 || v >= limit)
            return set_error(err, errlen, "index %ld is out of range: the sheet has %d vectors (0 to %d)", v, limit, limit - 1);
        if (n >= max) return set_error(err, errlen, "more than %d indices in one group", max);
        idx[n++] = (int)v;
        if (!*end) break;
        p = end + 1;
    }
    return n;
}
