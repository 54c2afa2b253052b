// Using a trained generator: the one path that sample, interpolate and arithmetic share
// (checkpoint loading, backend choice, batching), the latent-space maths they apply to its
// inputs (interpolation, walks, vector arithmetic, index lists), and the threaded writer of
// its images as numbered PNG files.
#ifndef DCGAN_GEN_H
#define DCGAN_GEN_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/model.h"
#include "dcgan/net_exec.h"
#include "dcgan/rng.h"

// ---------------------------------------------------------------------------------------------
// The generator

typedef struct {
    const dcgan_backend *be;
    dcgan_net G;
    net_exec x;                 // sized for `batch` images
    bn_mode bn;
    int batch;
    int nz, nc, size;
    int nclasses;               // 0: unconditional (labels must be NULL)
    float *zdev;                // [batch, nz] backend memory
    int32_t *classes;           // [batch] host, the chunk's classes (conditional generators)
    char **class_names;         // [nclasses], from the checkpoint's metadata (or the indices)
} generator;

// The generator file of --ckpt: the path itself, or for a run directory its netG_ema.safetensors
// (the moving average) when there is one and use_ema is set, else its netG.safetensors (in buf).
const char *generator_checkpoint(const char *ckpt, int use_ema, char *buf, size_t n);
// Loads the generator checkpoint (ours or a PyTorch DCGAN state_dict in safetensors) on
// `device` (cpu | cuda | auto) and allocates buffers for `batch` images per forward pass.
// Returns 0, or -1 with a one-line reason in err.
int generator_open(generator *g, const char *ckpt_path, const char *device, bn_mode bn, int batch,
                   char *err, size_t errlen);
// images [n, nc, size, size] (host, values in [-1, 1]) from z [n, nz] (host). labels [n] picks
// the class of each image for a conditional generator (required) and must be NULL otherwise. With
// BN_RUNNING every image depends only on its own z: the batch is always run at its full size
// (a short last chunk is padded with zeros), so the same vector gives the same pixels whatever
// its neighbours. With BN_BATCH the statistics come from the images of each chunk.
int generator_run(generator *g, float *images, const float *z, const int32_t *labels, int n,
                  char *err, size_t errlen);
void generator_close(generator *g);
// The class named by arg for a conditional generator: an index, or a class name
// (case-insensitive). Returns it, or -1 with a one-line reason (unconditional G, out of range,
// unknown name with the list of names).
int generator_class(const generator *g, const char *arg, char *err, size_t errlen);
// Classes of n images for generator_run: *labels = NULL for an unconditional G (class_arg must
// then be NULL); else every image gets --class class_arg, or without it image i gets class
// (i / run) mod nclasses (run = images per row of a grid whose rows go through the classes).
// Returns 0, or -1 with a one-line reason.
int generator_labels(const generator *g, const char *class_arg, long n, long run, int32_t **labels,
                     char *err, size_t errlen);

// Floats per image.
static inline size_t generator_image_numel(const generator *g) {
    return (size_t)g->nc * g->size * g->size;
}

// z [n, nz] ~ N(0, 1): vector i of seed s is the same whatever n and first (words
// (first + i) * nz ... of stream RNG_STREAM_SAMPLE), so `dcgan sample --seed s` is reproducible.
void generator_seed_noise(float *z, long first, int n, int nz, uint64_t seed);

// ---------------------------------------------------------------------------------------------
// Latent-space arithmetic: interpolation (lerp, slerp), walks through several points, the
// DCGAN paper's vector arithmetic on averaged exemplars, and parsing of index lists.

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

// ---------------------------------------------------------------------------------------------
// Writing many images as numbered PNG files on a pool of threads, overlapped with whatever
// produces them: the producer fills one buffer while the pool encodes the ones before it.

typedef struct image_writer image_writer;

// Starts `threads` threads (0: one per online CPU) that write images [c, s, s] (values in
// [-1, 1]) to dir/NNNNNN.png, with `nbuf` buffers of `batch` images each. NULL with err set
// when out of memory or a thread cannot be started.
image_writer *image_writer_start(const char *dir, int threads, int nbuf, int batch, int c, int s,
                                 char *err, size_t errlen);
// A free buffer [batch, c, s, s]; waits while all are queued. NULL once a write has failed.
float *image_writer_acquire(image_writer *w);
// Queues the first n images of buf (from acquire) as files first, first + 1, ...
void image_writer_submit(image_writer *w, float *buf, long first, int n);
// Waits for the queue to drain, stops the threads and frees everything. Returns 0, or -1 with
// the first write error in err.
int image_writer_finish(image_writer *w, char *err, size_t errlen);

#endif
