// Training datasets, held in memory as uint8 images already resized to the training size.
#ifndef DCGAN_DATA_H
#define DCGAN_DATA_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int n, c, h, w;         // count and per-image shape (at training size)
    uint8_t *pixels;        // [n, c, h, w]
    int32_t *labels;        // [n], or NULL
    int nclasses;
    char **class_names;     // [nclasses] owned strings, or NULL
} dcgan_dataset;

// Reads an IDX image file (magic 0x00000803, uint8, [n, rows, cols]), plain or gzip-compressed.
// Returns 0 on success; on failure writes one line naming the file and the problem to err.
int idx_read_images(const char *path, uint8_t **pixels, int *n, int *rows, int *cols,
                    char *err, size_t errlen);
// Reads an IDX label file (magic 0x00000801, uint8, [n]).
int idx_read_labels(const char *path, int32_t **labels, int *n, char *err, size_t errlen);

// torchvision Resize(size) + CenterCrop(size) on one 8-bit image plane set:
// shorter side to `size` with PIL-style bilinear (antialiased when shrinking), then centre crop.
// src [c, h, w] -> dst [c, size, size].
void resize_center_crop(uint8_t *dst, const uint8_t *src, int c, int h, int w, int size);

// Loads a dataset by kind ("mnist", "fashion-mnist", "synthetic") from path (a directory holding
// train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]; ignored for synthetic), resized to
// size x size with nc channels (grayscale replicated when nc = 3). Returns 0 or -1 with err set.
int dataset_load(dcgan_dataset *ds, const char *kind, const char *path, int size, int nc,
                 uint64_t seed, char *err, size_t errlen);
void dataset_free(dcgan_dataset *ds);
// Copies names[0..n-1] into ds->class_names and sets ds->nclasses = n. Returns 0 or -1 (no memory).
int dataset_set_class_names(dcgan_dataset *ds, const char *const *names, int n);
// Writes images idx[0..B-1] as float [B, c, h, w] scaled to [-1, 1].
void dataset_batch(const dcgan_dataset *ds, const uint32_t *idx, int B, float *out);

#endif
