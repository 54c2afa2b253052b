// The Fréchet distance of two Gaussians fitted to feature sets, with LAPACK's symmetric
// eigensolver for the matrix square root (see eval.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "dcgan/error.h"
#include "dcgan/eval.h"

// LAPACK (OpenBLAS carries it): eigenvalues w and, with jobz 'V', eigenvectors of the symmetric
// matrix a (column-major, so the row-major upper triangle is its lower one; a symmetric matrix is
// its own transpose either way).
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info);

// Eigen-decomposes the symmetric a [n, n] in place: a's columns become the eigenvectors (as
// LAPACK writes them, column-major), w the eigenvalues. Returns LAPACK's info (0: converged).
static int eigen_symmetric(double *a, double *w, int n) {
    int lwork = -1, liwork = -1, iwq = 0, info = 0;
    double wq = 0;
    dsyevd_("V", "L", &n, a, &n, w, &wq, &lwork, &iwq, &liwork, &info);   // workspace query
    if (info) return info;
    lwork = (int)wq;
    liwork = iwq;
    double *work = malloc((size_t)lwork * sizeof(double));
    int *iwork = malloc((size_t)liwork * sizeof(int));
    if (!work || !iwork) info = -1000;
    else dsyevd_("V", "L", &n, a, &n, w, work, &lwork, iwork, &liwork, &info);
    free(work);
    free(iwork);
    return info;
}

// r = V diag(sqrt(max(w, 0))) V^T: the principal square root of a symmetric PSD matrix whose
// eigenvectors V are the columns of v (column-major) with eigenvalues w.
static void sqrt_from_eigen(double *r, const double *v, const double *w, int n, double *scaled) {
    for (int j = 0; j < n; j++) {
        const double s = sqrt(w[j] > 0 ? w[j] : 0);
        for (int i = 0; i < n; i++) scaled[(size_t)j * n + i] = v[(size_t)j * n + i] * s;
    }
    // Column-major V S and V: r = (V S) V^T, symmetric, so its layout does not matter.
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0, scaled, n, v, n, 0.0, r, n);
}

int fid_distance(const feature_stats *a, const feature_stats *b, double *fid, char *err, size_t errlen) {
    const int n = a->dim;
    if (b->dim != n) return set_error(err, errlen, "FID: the feature sets have %d and %d dimensions", a->dim, b->dim);
    const size_t nn = (size_t)n * n;
    double *v = malloc(nn * sizeof(double)), *w = malloc((size_t)n * sizeof(double));
    double *r = malloc(nn * sizeof(double)), *t = malloc(nn * sizeof(double)), *m = malloc(nn * sizeof(double));
    int rc = 0;
    if (!v || !w || !r || !t || !m) rc = set_error(err, errlen, "FID: out of memory for %d x %d matrices", n, n);
    int info = 0;
    if (!rc) {
        memcpy(v, a->cov, nn * sizeof(double));
        info = eigen_symmetric(v, w, n);   // S_a = V diag(w) V^T
    }
    if (!rc && !info) {
        sqrt_from_eigen(r, v, w, n, t);   // R = S_a^(1/2)
        cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, n, n, 1.0, b->cov, n, r, n, 0.0, t, n);   // S_b R
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, r, n, t, n, 0.0, m, n);   // R S_b R
        for (int i = 0; i < n; i++)   // symmetric up to rounding: average it with its transpose
            for (int j = 0; j < i; j++) m[(size_t)i * n + j] = m[(size_t)j * n + i] = 0.5 * (m[(size_t)i * n + j] + m[(size_t)j * n + i]);
        info = eigen_symmetric(m, w, n);
    }
    if (!rc && info) rc = set_error(err, errlen, "FID: LAPACK dsyevd failed (info %d)", info);
    if (!rc) {
        double tr_sqrt = 0, tr_a = 0, tr_b = 0, d2 = 0;
        for (int i = 0; i < n; i++) {
            tr_sqrt += sqrt(w[i] > 0 ? w[i] : 0);
            tr_a += a->cov[(size_t)i * n + i];
            tr_b += b->cov[(size_t)i * n + i];
            const double d = a->mean[i] - b->mean[i];
            d2 += d * d;
        }
        *fid = d2 + tr_a + tr_b - 2.0 * tr_sqrt;
    }
    free(v); free(w); free(r); free(t); free(m);
    return rc;
}
