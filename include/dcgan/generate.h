// A trained generator ready to turn latent vectors into images: the one path that sample,
// interpolate and arithmetic share (checkpoint loading, backend choice, batching).
#ifndef DCGAN_GENERATE_H
#define DCGAN_GENERATE_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/model.h"
#include "dcgan/net_exec.h"

#define RNG_STREAM_SAMPLE 5     // Philox stream of the latent vectors drawn from --seed

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

#endif
