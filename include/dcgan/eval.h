// The eval module (src/eval/): how far generated images are from the data, on features of a
// fixed network (Inception-v3's 2048-d pool features for FID and KID):
//   FID (Heusel et al.): |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)), from each set's
//   mean and covariance; KID (Binkowski et al.): the unbiased squared MMD with the cubic
//   polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets.
#ifndef DCGAN_EVAL_H
#define DCGAN_EVAL_H
#include <stddef.h>
#include <stdint.h>

// Mean [dim] and covariance [dim, dim] (unbiased, as numpy.cov) of `count` feature vectors.
typedef struct {
    int dim;
    long count;
    double *mean;
    double *cov;
} feature_stats;

// From features [n, dim] (float, row-major). Returns 0, or -1 with err set (n < 2, no memory).
int feature_stats_compute(feature_stats *s, const float *features, long n, int dim, char *err, size_t errlen);
void feature_stats_free(feature_stats *s);
// Saved as safetensors (mu, sigma as float64, the count in the metadata), so a dataset's reference
// statistics are computed once.
int feature_stats_save(const feature_stats *s, const char *path, char *err, size_t errlen);
int feature_stats_load(feature_stats *s, const char *path, char *err, size_t errlen);

// The Fréchet distance of two sets' statistics. The matrix square root comes from LAPACK's
// symmetric eigensolver (dsyevd): tr((S_a S_b)^(1/2)) = tr((R S_b R)^(1/2)) with R = S_a^(1/2),
// and R S_b R is symmetric positive semi-definite, so its eigenvalues' square roots sum to it.
int fid_distance(const feature_stats *a, const feature_stats *b, double *fid, char *err, size_t errlen);

// KID over `subsets` random subsets of subset_size vectors of each set (drawn without
// replacement from the Philox stream of `seed`; subset_size = n takes each whole set). Writes the
// mean and standard deviation (numpy's std) of the subsets' MMD^2.
int kid_score(const float *a, long na, const float *b, long nb, int dim, int subsets, int subset_size,
              uint64_t seed, double *mean, double *std, char *err, size_t errlen);

#endif
