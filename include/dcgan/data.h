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
    void *map;              // when not NULL, pixels point into this read-only file mapping
    size_t map_bytes;
} dcgan_dataset;

// How dataset_load_opts reads image datasets (folder, lsun, cifar10).
typedef struct {
    const char *cache;      // cache directory (file named after the settings) or cache file; NULL: none
    const char *classes;    // lsun: comma-separated classes ("bedroom,church_outdoor"); NULL: all
    int strict;             // an undecodable item is an error instead of a skipped warning
    int progress;           // draw a progress bar during long decoding passes
} dataset_options;

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

// Loads a dataset by kind from path, resized to size x size with nc channels (grayscale
// replicated when nc = 3, colour reduced to luminance when nc = 1):
//   mnist, fashion-mnist  directory holding train-images-idx3-ubyte[.gz] + labels (or the image file)
//   folder                directory tree of .png/.jpg/.jpeg/.webp (classes = first-level subfolders)
//   lsun                  one *_lmdb directory, or a directory of <class>_train_lmdb directories
//   cifar10               directory with data_batch_{1..5}.bin (or its parent)
//   synthetic             built-in shapes (path ignored)
// Returns 0 or -1 with err set to one line.
int dataset_load(dcgan_dataset *ds, const char *kind, const char *path, int size, int nc,
                 uint64_t seed, char *err, size_t errlen);
// dataset_load with a cache, class selection, strictness and progress (opt may be NULL).
int dataset_load_opts(dcgan_dataset *ds, const char *kind, const char *path, int size, int nc,
                      uint64_t seed, const dataset_options *opt, char *err, size_t errlen);
// Width and height of the first image (in the loader's order) of a folder dataset at path.
// 0, or -1 with err set.
int folder_first_image_size(const char *path, int *w, int *h, char *err, size_t errlen);
// The valid kinds, for messages: "folder, lsun, cifar10, mnist, fashion-mnist, synthetic".
extern const char *const dataset_kinds;
// 1 when kind is one of dataset_kinds.
int dataset_kind_valid(const char *kind);
void dataset_free(dcgan_dataset *ds);
// Copies names[0..n-1] into ds->class_names and sets ds->nclasses = n. Returns 0 or -1 (no memory).
int dataset_set_class_names(dcgan_dataset *ds, const char *const *names, int n);
// Writes images idx[0..B-1] as float [B, c, h, w] scaled to [-1, 1].
void dataset_batch(const dcgan_dataset *ds, const uint32_t *idx, int B, float *out);


// ---------------------------------------------------------------------------------------------
// Image decoding (PNG via libpng, JPEG via libjpeg-turbo, WebP via libwebp), from memory.

#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define IMAGE_MAX_PIXELS (64u << 20)   // larger images are refused (decompression bombs)
#else
#define IMAGE_MAX_PIXELS (1u << 20)    // fuzzing: keep each input fast
#endif

typedef enum { IMAGE_UNKNOWN, IMAGE_PNG, IMAGE_JPEG, IMAGE_WEBP } image_format;
// The format named by the first bytes (the file name is not consulted).
image_format image_sniff(const uint8_t *buf, size_t len);
// Decodes to planar 8-bit [nc, h, w] (*out malloc'ed) with nc = 1 or 3, converting as PIL's
// Image.convert does: gray replicated, alpha dropped, palette expanded, 16-bit to its high byte,
// RGB to luminance (ITU-R 601-2) when nc = 1. Returns 0, or -1 with why set to a short reason.
int image_decode(const uint8_t *buf, size_t len, int nc, uint8_t **out, int *w, int *h,
                 char *why, size_t whylen);
int image_decode_png(const uint8_t *buf, size_t len, int nc, uint8_t **out, int *w, int *h,
                     char *why, size_t whylen);
int image_decode_jpeg(const uint8_t *buf, size_t len, int nc, uint8_t **out, int *w, int *h,
                      char *why, size_t whylen);
int image_decode_webp(const uint8_t *buf, size_t len, int nc, uint8_t **out, int *w, int *h,
                      char *why, size_t whylen);

// ---------------------------------------------------------------------------------------------
// CIFAR-10 binary batches: records of 1 label byte + 3072 bytes (R, G, B planes of 32 x 32).

#define CIFAR_RECORD 3073
// Checks one batch held in memory: *n whole records, *bad records whose label is not 0..9,
// and *tail bytes of a truncated last record. Returns 0, or -1 when no record fits.
int cifar_scan(const uint8_t *buf, size_t len, int *n, int *bad, size_t *tail);

// ---------------------------------------------------------------------------------------------
// The preprocessed cache: header, uint8 pixels [n, nc, size, size], int32 labels, class names.

typedef struct {
    char kind[32];
    char source[1024];      // absolute path of the data
    char classes[512];      // class selection ("" for all)
    char preprocess[64];    // names the preprocessing; another value means other pixels
    int size, nc, n, nclasses, has_labels;
    uint64_t fingerprint;   // of the source files (names, sizes, times): staleness check
} cache_header;

// Validates a cache image in memory and points ds (pixels, labels) into it; class names are
// copied. Returns 0, or -1 with err set. ds must be released with dataset_free only when
// the caller set ds->map; otherwise free labels/names with dataset_free after clearing pixels.
int cache_parse(const uint8_t *buf, size_t len, cache_header *hdr, dcgan_dataset *ds,
                char *err, size_t errlen);
// Maps the cache file read-only into ds. Returns 0, 1 when the file does not exist, or -1.
int cache_open(const char *path, cache_header *hdr, dcgan_dataset *ds, char *err, size_t errlen);
// Writes ds with hdr atomically (temporary file, fsync, rename). Returns 0 or -1.
int cache_write(const char *path, const cache_header *hdr, const dcgan_dataset *ds, char *err,
                size_t errlen);

// ---------------------------------------------------------------------------------------------
// The batcher (batcher.c): puts a dataset where a backend's data op can read it and keeps the
// epochs' orders there. Each epoch reads the data in its own permutation (from the run's seed
// and the epoch number: SHUFFLE_STREAM_BASE + epoch); the last partial batch is dropped.
// The whole set is resident in backend memory when it fits; otherwise the batches of each
// iteration are staged through page-locked host memory on a side stream.

#include "dcgan/backend.h"

#define SHUFFLE_STREAM_BASE 1000   // epoch e shuffles with stream SHUFFLE_STREAM_BASE + e

// What the data op reads (backend memory; see data_desc in desc.h).
typedef struct {
    const uint8_t *pixels;      // resident: [n, per]; staged: [slots, B, per]
    const int32_t *labels;      // resident: [n]; staged: [slots, B]; NULL: no labels used
    const uint32_t *order;      // resident: [slots, n] epoch permutations; staged: NULL
    int64_t *cursor;            // the next batch of the run the data op reads; the op advances it
    data_desc desc;
} batch_source;

typedef struct {
    const dcgan_backend *be;
    const dcgan_dataset *ds;
    uint64_t seed;
    int d_steps;                // batches per iteration
    int staged;
    batch_source src;
    // The data cursor is the batcher's alone: src.cursor in backend memory, which the data op
    // advances, and its value once the prepared iterations have run, which batcher_prepare
    // advances on the host without waiting for the device.
    int64_t prepared;
    uint32_t *host_order;       // [n] the permutation being built
    long *slot_epoch;           // [slots] the epoch each order slot holds (-1: none)
    long host_epoch;            // the epoch host_order holds (staged)
    uint8_t *resident;          // backend copy of the pixels (NULL on a host-memory backend)
    int32_t *dev_labels;
    uint32_t *dev_order;
    uint8_t *stage_pixels, *pinned[2];          // staged: [slots, B, per] backend, [d_steps, B, per] host
    int32_t *stage_labels, *pinned_labels[2];
} batcher;

// Places ds (which must outlive the batcher) for batches of B, d_steps per iteration; labels are
// used when with_labels is set. staged: 0 resident when it fits, 1 always staged. Returns 0, or -1
// with a one-line reason (a dataset smaller than a batch among them). src.desc.batches_per_epoch
// is the run's one count of batches per epoch; the cursor starts at 0.
int batcher_init(batcher *b, const dcgan_backend *be, const dcgan_dataset *ds, int B, int d_steps, uint64_t seed,
                 int with_labels, int staged, int verbose, char *err, size_t errlen);
// The same for rank `rank` of a data-parallel run of `ranks`: the epochs' permutations are those of
// one process, a batch step takes ranks x B images of it and this rank gets images rank * B ..
// rank * B + B - 1 of each step (data_desc: stride, first).
int batcher_init_shard(batcher *b, const dcgan_backend *be, const dcgan_dataset *ds, int B, int rank, int ranks,
                       int d_steps, uint64_t seed, int with_labels, int staged, int verbose, char *err, size_t errlen);
void batcher_free(batcher *b);
// The next batch to hand out is batch `cursor` of the run (resume): on the host and in backend memory.
void batcher_seek(batcher *b, int64_t cursor);
// The run's data cursor once the prepared iterations have run: the batches read so far.
int64_t batcher_cursor(const batcher *b);
// Makes the next iteration's d_steps batches readable: uploads the orders of the epochs they
// fall in (resident) or stages them (staged). Host work between iterations only.
void batcher_prepare(batcher *b);
// Epoch and position of batch `cursor`.
long batcher_epoch(const batcher *b, int64_t cursor);

#endif
