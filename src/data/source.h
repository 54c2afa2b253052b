// Private to src/data/: a dataset source (a list of items that decode one at a time), the
// parallel pass that turns it into a preprocessed in-memory dataset, and the loaders that
// dataset_load_opts dispatches to. Calls between the files of src/data/ only go down:
//   load.c                        dispatch by kind; the cache round trip of the image datasets
//   cache.c pipeline.c folder.c lsun.c cifar10.c mnist.c synthetic.c
//   source.c                      the helpers the sources share
//   image_decode.c resize.c idx.c dataset.c

#ifndef DCGAN_DATA_SOURCE_H
#define DCGAN_DATA_SOURCE_H
#include <stdint.h>
#include "dcgan/data.h"

typedef struct data_source {
    const char *kind;
    const char *noun;           // what an item is, for messages: files, entries, records
    int n;                      // items (some may fail to decode)
    int32_t *labels;            // [n] or NULL, owned
    int nclasses;
    char **class_names;         // [nclasses] owned, or NULL
    uint64_t fingerprint;       // of the source files (names, sizes, modification times)
    void *ctx;
    // Decodes and preprocesses item i into dst [nc, size, size]; 0, or -1 with why set.
    // Called from several threads at once.
    int (*load)(void *ctx, int i, uint8_t *dst, int size, int nc, char *why, size_t whylen);
    // A human-readable name of item i (a path, db:key, file#record).
    void (*name)(void *ctx, int i, char *out, size_t n);
    void (*close)(void *ctx);
} data_source;

// Openers: each returns 0 with src filled, or -1 with err set to one line.
int folder_open(data_source *src, const char *path, char *err, size_t errlen);
int lsun_open(data_source *src, const char *path, const char *classes, char *err, size_t errlen);
int cifar10_open(data_source *src, const char *path, char *err, size_t errlen);
// How every opener starts: src cleared with its kind and noun set, and path checked to be a
// directory (which `--dataset KIND` `reads`, says the message when it is not). 0, or -1 with err.
int source_begin(data_source *src, const char *kind, const char *noun, const char *path,
                 const char *reads, char *err, size_t errlen);
// Copies names[0..n-1] into src->class_names (src->nclasses = n). 0, or -1 when out of memory.
int source_set_class_names(data_source *src, const char *const *names, int n);
void source_close(data_source *src);

// Decodes every item into ds (pixels and labels), on all cores. Failed items are skipped with
// a warning that counts them and names the first few; with strict, the first one is an error.
int source_decode(data_source *src, dcgan_dataset *ds, int size, int nc, int strict, int progress,
                  char *err, size_t errlen);

// The datasets read without a source: MNIST-format IDX files (fashion: Fashion-MNIST's class
// names) and the synthetic shapes. Each returns 0, or -1 with err set to one line.
int mnist_load(dcgan_dataset *ds, const char *path, int fashion, int size, int nc, char *err,
               size_t errlen);
int synthetic_load(dcgan_dataset *ds, int size, int nc, uint64_t seed, char *err, size_t errlen);

// Decodes an encoded image and preprocesses it (Resize + CenterCrop) into dst [nc, size, size].
int decode_preprocess(const uint8_t *buf, size_t len, uint8_t *dst, int size, int nc, char *why,
                      size_t whylen);
// Reads a whole file (at most 1 GiB); *buf malloc'ed. 0, or -1 with why set.
int read_file(const char *path, uint8_t **buf, size_t *len, char *why, size_t whylen);
// Fresh copies of names[0..n-1] (NULL when out of memory), for the class names of a dataset or a
// source.
char **copy_names(const char *const *names, int n);
// FNV-1a, for fingerprints and cache names.
uint64_t fnv1a(uint64_t h, const void *data, size_t n);
#define FNV_INIT 0xcbf29ce484222325ull

#endif
