// NumPy .npy files of float32 latent vectors.
#ifndef DCGAN_NPY_H
#define DCGAN_NPY_H
#include <stddef.h>

// Reads a little-endian float32, C-order array of shape [N, D] (or [N, D, 1, 1], or [D] as N = 1).
// *data is malloc'ed. Returns 0, or -1 with a one-line reason naming the file.
int npy_read_matrix(const char *path, float **data, int *rows, int *cols, char *err, size_t errlen);
// Writes a float32 [rows, cols] array (atomically).
int npy_write_matrix(const char *path, const float *data, int rows, int cols, char *err, size_t errlen);

#endif
