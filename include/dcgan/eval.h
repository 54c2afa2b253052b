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
#include "dcgan/data.h"
#include "dcgan/model.h"
#include "dcgan/net_exec.h"

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
// The batch FID runs the network at: pytorch-fid's 50 on a GPU; 10 on the CPU, where oneDNN runs as
// fast at 10 as at 50 (18-19 images/s on 2 cores) in a quarter of the memory (1.1 GB, not 4 GB).
int inception_default_batch(const dcgan_backend *be);
int inception_batch(const inception *net);
const dcgan_backend *inception_backend(const inception *net);

// The images fed to the network: inception_input (model.h): c (1, replicated to RGB, or 3) x h x w
// values, resized to 299 x 299 as pytorch-fid does, then mapped by scale * v + shift to the
// network's [-1, 1] (images in [0, 1]: 2, -1; in [-1, 1]: 1, 0). quantize: [-1, 1] images read as
// the 8-bit pixels of their PNG files / 255 (then 2, -1), so generated images score as the files
// `dcgan sample` writes would.
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

// ---------------------------------------------------------------------------------------------
// FID and KID of image sets (score.c).

#define FID_KID_MAX_FEATURES 10000  // feature vectors a set keeps for KID (its first ones)
#define KID_SUBSETS 100             // torch-fidelity's defaults: 100 subsets of 1000 vectors
#define KID_SUBSET_SIZE 1000

// What FID needs of a set of images (mean and covariance of their features) and what KID needs
// (the features of up to FID_KID_MAX_FEATURES of them).
typedef struct {
    feature_stats stats;
    float *features;            // [nfeatures, INCEPTION_FEATURES] (may be NULL)
    long nfeatures;
} fid_set;

// From features [count, 2048] (host). 0, or -1 with err set.
int fid_set_make(fid_set *s, const float *features, long count, char *err, size_t errlen);
void fid_set_free(fid_set *s);
// Saved as safetensors (mu, sigma in float64, the KID features in float32, count and key in the
// metadata). 0, or -1 with err set.
int fid_set_save(const fid_set *s, const char *path, const char *key, char *err, size_t errlen);
// Loads a set. With a key: 1 when the file is not there or was made for another key. 0 loaded, or -1
// with err set.
int fid_set_load(fid_set *s, const char *path, const char *key, char *err, size_t errlen);

typedef struct {
    double fid;
    int has_kid;                // KID needs both sets' features
    double kid, kid_std;        // mean and standard deviation over the subsets
    int kid_subset_size;
} fid_scores;
// FID of a and b, and KID over kid_subsets subsets (0: none) of min(KID_SUBSET_SIZE, either set's
// kept features) vectors. 0, or -1 with err set.
int fid_scores_of(const fid_set *a, const fid_set *b, int kid_subsets, fid_scores *out, char *err, size_t errlen);

// features [*n, 2048] (*features malloc'ed) of min(count, ds->n) dataset images read as pytorch-fid
// reads image files (pixels / 255): all of them, or the first of a permutation drawn from seed.
// progress: print a line every 10 seconds.
int fid_dataset_features(inception *net, const dcgan_dataset *ds, long count, uint64_t seed, int progress,
                         float **features, long *n, char *err, size_t errlen);
// features [count, 2048] of G's images (G on the network's backend, batchnorm's running statistics),
// image i drawn from latent vector i of `dcgan sample --seed seed` (class i mod nclasses for a
// conditional G) and read as its PNG file's pixels: the scores of `dcgan sample --out-dir`'s files.
int fid_generator_features(inception *net, dcgan_net *G, long count, uint64_t seed, int progress, float **features,
                           char *err, size_t errlen);

// What a dataset's reference set is made from; it is kept in a file named after all of it.
typedef struct {
    const char *kind, *data, *classes, *weights;
    int size, nc;
    long count;
} fid_reference_source;
// The reference file in dir for src (path) and the key written in it.
void fid_reference_name(char *path, size_t pathlen, char *key, size_t keylen, const char *dir,
                        const fid_reference_source *src);
// The reference set of min(count, ds->n) images of ds: read from path when it was made for key, else
// computed and written there (a failed write is a warning). 0, or -1 with err set.
int fid_reference(fid_set *ref, inception *net, const dcgan_dataset *ds, long count, const char *path,
                  const char *key, int progress, char *err, size_t errlen);

#endif
