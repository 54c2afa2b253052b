// Latent-space arithmetic: interpolation (lerp, slerp), walks through several points, the
// DCGAN paper's vector arithmetic on averaged exemplars, and parsing of index lists.
#ifndef DCGAN_LATENT_H
#define DCGAN_LATENT_H
#include <stddef.h>
#include <stdint.h>

typedef enum { LATENT_LERP = 0, LATENT_SLERP = 1 } latent_mode;

// out = (1 - t) a + t b. t = 0 and t = 1 copy a and b exactly.
void latent_lerp(float *out, const float *a, const float *b, int nz, float t);
// Spherical interpolation (White 2016): the direction moves along the great circle from a to b
// (Shoemake's slerp of the unit vectors) while the norm moves linearly from |a| to |b|, so every
// point's norm lies between the endpoints' norms (the plain formula applied to vectors of unequal
// norm overshoots near antiparallel ones). Falls back to lerp when a and b are (anti)parallel or
// one is zero, where the great circle is undefined. t = 0 and t = 1 copy a and b exactly.
// Returns 1 when it fell back to lerp, else 0.
int latent_slerp(float *out, const float *a, const float *b, int nz, float t);
// A walk of `steps` vectors through the K points[K, nz] in order: out[steps, nz]. Step i sits at
// position i (K-1)/(steps-1) along the chain; points that fall on a step are copied exactly
// (always the first and the last). Needs K >= 2 and steps >= K. Returns the number of segments
// that fell back from slerp to lerp.
int latent_walk(float *out, const float *points, int K, int steps, int nz, latent_mode mode);

// One group of the vector arithmetic: the mean of z[idx[0..n-1]] enters the sum with sign.
#define LATENT_MAX_GROUP 64
typedef struct {
    int sign;                   // +1 or -1
    int n;
    int idx[LATENT_MAX_GROUP];
} latent_group;

// mean[nz] of the group's vectors in z[rows, nz].
void latent_group_mean(float *mean, const float *z, int nz, const latent_group *g);
// out[nz] = sum over groups of sign * mean(group).
void latent_arithmetic(float *out, const float *z, int nz, const latent_group *groups, int ngroups);
// out[n, nz]: n neighbours of center, each center + uniform noise in [-radius, radius)
// from the Philox stream (seed, stream).
void latent_neighbours(float *out, const float *center, int nz, int n, float radius, uint64_t seed,
                       uint64_t stream);

// Parses "3,17,42" into idx (at most max entries), each in [0, limit). Returns the count, or -1
// with a one-line reason in err (empty list, empty entry, not a number, out of range, too many).
int latent_parse_indices(const char *s, int *idx, int max, int limit, char *err, size_t errlen);

#endif
