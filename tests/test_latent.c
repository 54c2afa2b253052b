// Latent-space maths: slerp/lerp endpoints and norms, walks through several points, the vector
// arithmetic of averaged groups, neighbour noise, and index-list parsing.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/gen.h"
#include "test_util.h"

#define NZ 100

static double norm(const float *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s);
}

static void test_lerp(void) {
    float a[NZ], b[NZ], out[NZ], mid[NZ];
    fill_random(a, NZ, 1, 2.0f);
    fill_random(b, NZ, 2, 2.0f);
    latent_lerp(out, a, b, NZ, 0.5f);
    for (int i = 0; i < NZ; i++) mid[i] = 0.5f * (a[i] + b[i]);
    check_close("lerp midpoint", out, mid, NZ, 1e-6, 1e-6);
    latent_lerp(out, a, b, NZ, 0.0f);
    CHECK(memcmp(out, a, sizeof a) == 0);
    latent_lerp(out, a, b, NZ, 1.0f);
    CHECK(memcmp(out, b, sizeof b) == 0);
}

static void test_slerp(void) {
    float a[NZ], b[NZ], out[NZ];
    fill_random(a, NZ, 3, 1.0f);
    fill_random(b, NZ, 4, 3.0f);
    // Endpoints are the vectors themselves, bit for bit.
    CHECK(latent_slerp(out, a, b, NZ, 0.0f) == 0 && memcmp(out, a, sizeof a) == 0);
    CHECK(latent_slerp(out, a, b, NZ, 1.0f) == 0 && memcmp(out, b, sizeof b) == 0);
    // Norms stay between the endpoints' norms, also for nearly antiparallel vectors of unequal norm
    // (where the textbook formula on raw vectors overshoots).
    float c[NZ];
    for (int i = 0; i < NZ; i++) c[i] = -3.0f * a[i] + (i == 0 ? 0.05f : 0.0f);
    const float *others[2] = {b, c};
    for (int o = 0; o < 2; o++) {
        double na = norm(a, NZ), nb = norm(others[o], NZ);
        double lo = fmin(na, nb) * (1 - 1e-5), hi = fmax(na, nb) * (1 + 1e-5);
        int inside = 1;
        for (int k = 1; k < 20; k++) {
            CHECK(latent_slerp(out, a, others[o], NZ, k / 20.0f) == 0);
            double n = norm(out, NZ);
            if (n < lo || n > hi) { inside = 0; printf("slerp t=%g: norm %g outside [%g, %g]\n", k / 20.0, n, lo, hi); }
        }
        CHECK(inside);
    }
    // Orthogonal unit vectors: the midpoint lies on the circle at 45 degrees.
    float e0[2] = {1, 0}, e1[2] = {0, 1}, m[2], want[2] = {0.70710678f, 0.70710678f};
    CHECK(latent_slerp(m, e0, e1, 2, 0.5f) == 0);
    check_close("slerp of orthogonal unit vectors", m, want, 2, 1e-6, 0);
    // Parallel and antiparallel: no great circle, lerp instead.
    float p[NZ], lerp[NZ];
    for (int i = 0; i < NZ; i++) p[i] = 2.0f * a[i];
    CHECK(latent_slerp(out, a, p, NZ, 0.3f) == 1);
    latent_lerp(lerp, a, p, NZ, 0.3f);
    CHECK(memcmp(out, lerp, sizeof out) == 0);
    for (int i = 0; i < NZ; i++) p[i] = -a[i];
    CHECK(latent_slerp(out, a, p, NZ, 0.3f) == 1);
    float zero[NZ] = {0};
    CHECK(latent_slerp(out, a, zero, NZ, 0.5f) == 1);
}

static void test_walk(void) {
    enum { K = 3, S = 9 };
    float pts[K * NZ], walk[S * NZ];
    fill_random(pts, K * NZ, 5, 1.0f);
    CHECK(latent_walk(walk, pts, K, S, NZ, LATENT_SLERP) == 0);
    // Steps 0, 4 and 8 sit on the three points exactly.
    for (int k = 0; k < K; k++) CHECK(memcmp(walk + (size_t)k * 4 * NZ, pts + (size_t)k * NZ, NZ * sizeof(float)) == 0);
    // Step 2 is halfway between points 0 and 1.
    float half[NZ];
    latent_slerp(half, pts, pts + NZ, NZ, 0.5f);
    check_close("walk step 2", walk + 2 * NZ, half, NZ, 0, 0);
    // A walk of exactly K steps is the points themselves.
    float w2[K * NZ];
    latent_walk(w2, pts, K, K, NZ, LATENT_LERP);
    CHECK(memcmp(w2, pts, sizeof pts) == 0);
    // Segments between parallel points are counted as fallbacks.
    float par[2 * NZ];
    for (int i = 0; i < NZ; i++) { par[i] = pts[i]; par[NZ + i] = 3 * pts[i]; }
    CHECK(latent_walk(walk, par, 2, 5, NZ, LATENT_SLERP) == 1);
}

static void test_arithmetic(void) {
    enum { ROWS = 6, D = 3 };
    const float z[ROWS * D] = {1, 0, 0,   3, 0, 0,   0, 2, 0,   0, 4, 0,   0, 0, 6,   1, 1, 1};
    latent_group g[3] = {{.sign = 1, .n = 2, .idx = {0, 1}},    // mean (2, 0, 0)
                         {.sign = -1, .n = 2, .idx = {2, 3}},   // mean (0, 3, 0)
                         {.sign = 1, .n = 2, .idx = {4, 5}}};   // mean (0.5, 0.5, 3.5)
    float out[D], want[D] = {2.5f, -2.5f, 3.5f};
    latent_arithmetic(out, z, D, g, 3);
    check_close("arithmetic", out, want, D, 1e-6, 0);
    float mean[D], want_mean[D] = {0.0f, 3.0f, 0.0f};
    latent_group_mean(mean, z, D, &g[1]);
    check_close("group mean", mean, want_mean, D, 0, 0);
    // A repeated index weighs twice.
    latent_group rep = {.sign = -1, .n = 3, .idx = {0, 0, 1}};
    float want_rep[D] = {-5.0f / 3.0f, 0, 0};
    latent_arithmetic(out, z, D, &rep, 1);
    check_close("repeated index", out, want_rep, D, 1e-6, 0);

    float center[NZ], nb[8 * NZ], nb2[8 * NZ];
    fill_random(center, NZ, 6, 1.0f);
    latent_neighbours(nb, center, NZ, 8, 0.25f, 7, 6);
    latent_neighbours(nb2, center, NZ, 8, 0.25f, 7, 6);
    CHECK(memcmp(nb, nb2, sizeof nb) == 0);   // seeded
    int within = 1, moved = 0;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < NZ; j++) {
            float d = nb[i * NZ + j] - center[j];
            if (fabsf(d) > 0.25f + 1e-6f) within = 0;
            if (fabsf(d) > 0.1f) moved = 1;
        }
    CHECK(within && moved);
}

static void test_parse(void) {
    int idx[8];
    char err[256];
    CHECK(latent_parse_indices("3,17,42", idx, 8, 64, err, sizeof err) == 3);
    CHECK(idx[0] == 3 && idx[1] == 17 && idx[2] == 42);
    CHECK(latent_parse_indices("0", idx, 8, 1, err, sizeof err) == 1 && idx[0] == 0);
    const char *bad[] = {"", "3,,4", "3,", ",3", "-1", "a", "3,x", "1 2", "64", "2.5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        int n = latent_parse_indices(bad[i], idx, 8, 64, err, sizeof err);
        printf("'%s' -> %d: %s\n", bad[i], n, err);
        CHECK(n == -1 && err[0]);
    }
    CHECK(latent_parse_indices("64", idx, 8, 64, err, sizeof err) == -1 && strstr(err, "out of range"));
    CHECK(latent_parse_indices("1,2,3", idx, 2, 64, err, sizeof err) == -1);   // too many
}

int main(void) {
    test_lerp();
    test_slerp();
    test_walk();
    test_arithmetic();
    test_parse();
    return test_summary("test_latent");
}
