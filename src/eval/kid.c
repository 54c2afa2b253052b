// The kernel inception distance: the unbiased MMD^2 with the cubic polynomial kernel, averaged
// over random subsets (the estimator torch-fidelity computes).
#include <math.h>
#include <stdlib.h>
#include <cblas.h>
#include "dcgan/error.h"
#include "dcgan/eval.h"
#include "dcgan/rng.h"

// (x.y / d + 1)^3 for every pair of rows of x [m, d] and y [m, d] into k [m, m].
static void poly_kernel(double *k, const double *x, const double *y, int m, int d) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, d, 1.0 / d, x, d, y, d, 0.0, k, m);
    for (size_t i = 0; i < (size_t)m * m; i++) {
        const double t = k[i] + 1.0;
        k[i] = t * t * t;
    }
}

// The MMD^2 of x and y [m, d]: mean k(x, x') and k(y, y') over distinct pairs, minus twice the
// mean k(x, y) over all pairs.
static double mmd2(const double *x, const double *y, int m, int d, double *k) {
    double xx = 0, yy = 0, xy = 0;
    poly_kernel(k, x, x, m, d);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) if (i != j) xx += k[(size_t)i * m + j];
    poly_kernel(k, y, y, m, d);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) if (i != j) yy += k[(size_t)i * m + j];
    poly_kernel(k, x, y, m, d);
    for (size_t i = 0; i < (size_t)m * m; i++) xy += k[i];
    return (xx + yy) / ((double)m * (m - 1)) - 2.0 * xy / ((double)m * m);
}

// m distinct rows of src [n, d] (all, in order, when m == n) into dst [m, d] as doubles.
static void pick_rows(double *dst, const float *src, long n, int m, int d, uint32_t *perm, dcgan_rng *r) {
    if (m == n) {
        for (size_t i = 0; i < (size_t)n * d; i++) dst[i] = src[i];
        return;
    }
    rng_permutation(r, perm, (size_t)n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < d; j++) dst[(size_t)i * d + j] = src[(size_t)perm[i] * d + j];
}

int kid_score(const float *a, long na, const float *b, long nb, int dim, int subsets, int subset_size,
              uint64_t seed, double *mean, double *std, char *err, size_t errlen) {
    if (subset_size < 2 || subset_size > na || subset_size > nb || subsets < 1)
        return set_error(err, errlen, "KID: subsets of %d vectors need 2 to %ld of each set", subset_size,
                         na < nb ? na : nb);
    const int m = subset_size;
    double *x = malloc((size_t)m * dim * sizeof(double)), *y = malloc((size_t)m * dim * sizeof(double));
    double *k = malloc((size_t)m * m * sizeof(double)), *mmds = malloc((size_t)subsets * sizeof(double));
    uint32_t *perm = malloc((size_t)(na > nb ? na : nb) * sizeof(uint32_t));
    int rc = 0;
    if (!x || !y || !k || !mmds || !perm) rc = set_error(err, errlen, "KID: out of memory for subsets of %d", m);
    dcgan_rng r = rng_make(seed, RNG_STREAM_KID);
    double sum = 0;
    for (int s = 0; s < subsets && !rc; s++) {
        pick_rows(x, a, na, m, dim, perm, &r);
        pick_rows(y, b, nb, m, dim, perm, &r);
        mmds[s] = mmd2(x, y, m, dim, k);
        sum += mmds[s];
    }
    if (!rc) {
        *mean = sum / subsets;
        double var = 0;
        for (int s = 0; s < subsets; s++) var += (mmds[s] - *mean) * (mmds[s] - *mean);
        *std = sqrt(var / subsets);
    }
    free(x); free(y); free(k); free(mmds); free(perm);
    return rc;
}
