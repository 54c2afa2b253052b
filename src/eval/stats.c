// Feature statistics: the mean and the unbiased covariance in double, the covariance as one
// symmetric rank-k update (BLAS dsyrk) per chunk of centred rows.
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "dcgan/error.h"
#include "dcgan/eval.h"
#include "dcgan/io.h"

#define CHUNK_ROWS 512

void feature_stats_free(feature_stats *s) {
    free(s->mean);
    free(s->cov);
    memset(s, 0, sizeof *s);
}

static int alloc_stats(feature_stats *s, int dim, long count) {
    memset(s, 0, sizeof *s);
    s->dim = dim;
    s->count = count;
    s->mean = calloc((size_t)dim, sizeof(double));
    s->cov = calloc((size_t)dim * dim, sizeof(double));
    return s->mean && s->cov ? 0 : -1;
}

int feature_stats_compute(feature_stats *s, const float *x, long n, int dim, char *err, size_t errlen) {
    if (n < 2 || dim < 1) return set_error(err, errlen, "feature statistics need at least 2 vectors (got %ld)", n);
    double *chunk = malloc((size_t)CHUNK_ROWS * dim * sizeof(double));
    if (alloc_stats(s, dim, n) || !chunk) {
        free(chunk);
        feature_stats_free(s);
        return set_error(err, errlen, "out of memory for %d-d feature statistics", dim);
    }
    for (long i = 0; i < n; i++)
        for (int d = 0; d < dim; d++) s->mean[d] += x[(size_t)i * dim + d];
    for (int d = 0; d < dim; d++) s->mean[d] /= (double)n;
    // cov = sum over rows of (x - mean)(x - mean)^T / (n - 1); dsyrk fills the upper triangle.
    for (long r0 = 0; r0 < n; r0 += CHUNK_ROWS) {
        const long rows = n - r0 < CHUNK_ROWS ? n - r0 : CHUNK_ROWS;
        for (long i = 0; i < rows; i++)
            for (int d = 0; d < dim; d++) chunk[(size_t)i * dim + d] = x[(size_t)(r0 + i) * dim + d] - s->mean[d];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, dim, (int)rows, 1.0 / (double)(n - 1), chunk, dim, 1.0,
                    s->cov, dim);
    }
    for (int i = 0; i < dim; i++)
        for (int j = 0; j < i; j++) s->cov[(size_t)i * dim + j] = s->cov[(size_t)j * dim + i];
    free(chunk);
    return 0;
}

int feature_stats_save(const feature_stats *s, const char *path, char *err, size_t errlen) {
    st_tensor t[2];
    memset(t, 0, sizeof t);
    snprintf(t[0].name, sizeof t[0].name, "mu");
    t[0].dtype = ST_F64;
    t[0].ndim = 1;
    t[0].shape[0] = s->dim;
    t[0].data = s->mean;
    t[0].nbytes = (size_t)s->dim * sizeof(double);
    snprintf(t[1].name, sizeof t[1].name, "sigma");
    t[1].dtype = ST_F64;
    t[1].ndim = 2;
    t[1].shape[0] = t[1].shape[1] = s->dim;
    t[1].data = s->cov;
    t[1].nbytes = (size_t)s->dim * s->dim * sizeof(double);
    st_meta m[2] = {{"format", "dcgan-feature-stats"}, {"count", ""}};
    snprintf(m[1].value, sizeof m[1].value, "%ld", s->count);
    return st_write(path, t, 2, m, 2, err, errlen);
}

int feature_stats_load(feature_stats *s, const char *path, char *err, size_t errlen) {
    st_file f;
    if (st_read(path, &f, err, errlen)) return -1;
    const st_tensor *mu = st_find(&f, "mu"), *sigma = st_find(&f, "sigma");
    const char *count = st_meta_get(&f, "count");
    int rc = 0;
    if (!mu || !sigma || !count || mu->dtype != ST_F64 || sigma->dtype != ST_F64 || mu->ndim != 1 || sigma->ndim != 2 ||
        sigma->shape[0] != mu->shape[0] || sigma->shape[1] != mu->shape[0])
        rc = path_error(err, errlen, path, "not feature statistics (expected float64 mu [d] and sigma [d, d])");
    else if (alloc_stats(s, (int)mu->shape[0], atol(count)))
        rc = path_error(err, errlen, path, "out of memory");
    else {
        memcpy(s->mean, mu->data, mu->nbytes);
        memcpy(s->cov, sigma->data, sigma->nbytes);
    }
    st_free(&f);
    return rc;
}
