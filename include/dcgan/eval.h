// The eval module (src/eval/): how far generated images are from the data, on features of a
// fixed network (Inception-v3's 2048-d pool features for FID and KID):
//   FID (Heusel et al.): |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)), from each set's
//   mean and covariance; KID (Binkowski et al.): the unbiased squared MMD with the cubic
//   polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets.
#ifndef DCGAN_EVAL_H
#define DCGAN_EVAL_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/backend.h"

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

// Inception-v3's 2048-d pool features (as pytorch-fid computes them for FID) on a backend.
typedef struct inception inception;
// Where FID's network weights are looked for when not given: $DCGAN_INCEPTION, else
// $XDG_CACHE_HOME/dcgan (or ~/.cache/dcgan)/INCEPTION_WEIGHTS_FILE. Writes the path into buf.
#define INCEPTION_WEIGHTS_FILE "pt_inception-2015-12-05.safetensors"
const char *inception_default_weights(char *buf, size_t n);
// Loads the weights (pytorch-fid's pt_inception-2015-12-05 converted to safetensors by
// scripts/inception_weights.py) onto be, for batches of `batch` images. 0, or -1 with err set (a
// missing file says what the file is and where to get it).
int inception_open(inception **net, const char *weights, const dcgan_backend *be, int batch, char *err, size_t errlen);
void inception_close(inception *net);
int inception_batch(const inception *net);
const dcgan_backend *inception_backend(const inception *net);

// The images fed to the network: c (1, replicated to RGB, or 3) x h x w values, resized to 299 x
// 299 as pytorch-fid does, then mapped by scale * v + shift to the network's [-1, 1] (images in
// [0, 1]: 2, -1; in [-1, 1]: 1, 0). quantize: [-1, 1] images read as the 8-bit pixels of their PNG
// files / 255 (then 2, -1), so generated images score as the files `dcgan sample` writes would.
typedef struct {
    int c, h, w;
    float scale, shift;
    int quantize;
} inception_input;
// Fills images [n, c, h, w] (memory of the network's backend, room for inception_batch images)
// with images first .. first + n - 1 of the set. 0, or -1 with err set.
typedef int (*inception_source)(void *ctx, void *images, long first, int n, char *err, size_t errlen);
// features [count, 2048] (host) of `count` images from src, a batch at a time (a short last batch
// is padded with zeros: eval-mode batchnorm keeps every image's features its own).
int inception_run(inception *net, float *features, long count, const inception_input *in, inception_source src,
                  void *ctx, char *err, size_t errlen);
// The same for images [count, c, h, w] in host memory.
int inception_features(inception *net, float *features, const float *images, long count, const inception_input *in,
                       char *err, size_t errlen);

#endif
