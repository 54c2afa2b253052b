// Inception-v3 weights from a fixed formula (tests/make_inception_fixture.py gives pytorch-fid's
// network the very same values), so our network can be compared with pytorch-fid's without the
// real weights: He-uniform convolutions and batchnorm parameters near the identity, drawn from a
// hash of each tensor's name and element index.
#ifndef DCGAN_INCEPTION_RANDOM_H
#define DCGAN_INCEPTION_RANDOM_H
#include <stddef.h>

// Writes every tensor inception_open reads to path (safetensors, about 95 MB). 0, or -1 with err.
int inception_random_write(const char *path, char *err, size_t errlen);

#endif
