// In-memory training sets: MNIST-format IDX files, a synthetic shapes set, and the image
// datasets of src/data/ (folder, lsun, cifar10), chosen by kind.
#include "dcgan/error.h"
#include "dcgan/data.h"
#include "source.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define SYNTH_COUNT 2048
#define MAX_SIZE 4096

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

// dir/name if it exists, else dir/name.gz; 0 when found, -1 when neither exists.
static int find_plain_or_gz(char *out, size_t n, const char *dir, const char *name) {
    if ((size_t)snprintf(out, n, "%s/%s", dir, name) < n && is_file(out)) return 0;
    if ((size_t)snprintf(out, n, "%s/%s.gz", dir, name) < n && is_file(out)) return 0;
    return -1;
}

// Guesses the label file next to an image file given directly
// ("...images-idx3-ubyte[.gz]" -> "...labels-idx1-ubyte[.gz]"); 0 when it exists.
static int sibling_labels(char *out, size_t n, const char *images) {
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *hit = strstr(base, "images-idx3");
    if (!hit || strlen(images) >= n) return -1;
    strcpy(out, images);
    memcpy(out + (hit - images), "labels-idx1", 11);
    if (is_file(out)) return 0;
    // The labels may be compressed when the images are not, or the other way round.
    size_t len = strlen(out);
    if (len > 3 && strcmp(out + len - 3, ".gz") == 0) out[len - 3] = '\0';
    else if (len + 3 < n) strcat(out, ".gz");
    return is_file(out) ? 0 : -1;
}

// Resolves the image and label files for a directory or an image file.
static int idx_paths(const char *path, char *img, char *lbl, size_t n, int *have_labels,
                     char *err, size_t errlen) {
    if (!path || !*path) return set_error(err, errlen, "no dataset path given");
    struct stat st;
    if (stat(path, &st)) return set_error(err, errlen, "%s: cannot access: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode)) {
        if ((size_t)snprintf(img, n, "%s", path) >= n)
            return set_error(err, errlen, "%s: path too long", path);
        *have_labels = sibling_labels(lbl, n, path) == 0;
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) return set_error(err, errlen, "%s: not a file or directory", path);
    if (find_plain_or_gz(img, n, path, "train-images-idx3-ubyte"))
        return set_error(err, errlen, "%s: neither train-images-idx3-ubyte nor "
                    "train-images-idx3-ubyte.gz found", path);
    if (find_plain_or_gz(lbl, n, path, "train-labels-idx1-ubyte"))
        return set_error(err, errlen, "%s: neither train-labels-idx1-ubyte nor "
                    "train-labels-idx1-ubyte.gz found", path);
    *have_labels = 1;
    return 0;
}

// Resizes every image to size x size and replicates gray to nc channels.
static uint8_t *resize_all(const uint8_t *raw, int n, int rows, int cols, int size, int nc) {
    size_t plane = (size_t)size * size, in_plane = (size_t)rows * cols;
    uint8_t *out = malloc((size_t)n * nc * plane);
    if (!out) return NULL;
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        uint8_t *dst = out + (size_t)i * nc * plane;
        resize_center_crop(dst, raw + (size_t)i * in_plane, 1, rows, cols, size);
        for (int ch = 1; ch < nc; ch++) memcpy(dst + ch * plane, dst, plane);
    }
    return out;
}

static int check_labels(const char *path, const int32_t *labels, int n, char *err, size_t errlen) {
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] > 9)
            return set_error(err, errlen, "%s: label %d at index %d is outside 0..9", path, labels[i],
                        i);
    return 0;
}

static const char *const mnist_names[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
static const char *const synthetic_names[2] = {"disc", "square"};

static int load_labels(dcgan_dataset *ds, const char *lbl, const char *const *names, char *err,
                       size_t errlen) {
    int nl = 0;
    if (idx_read_labels(lbl, &ds->labels, &nl, err, errlen)) return -1;
    if (nl != ds->n)
        return set_error(err, errlen, "%s: %d labels but the image file holds %d images", lbl, nl,
                    ds->n);
    if (check_labels(lbl, ds->labels, nl, err, errlen)) return -1;
    if (dataset_set_class_names(ds, names, 10)) return set_error(err, errlen, "%s: out of memory", lbl);
    return 0;
}

static int load_idx(dcgan_dataset *ds, const char *path, const char *const *names, int size, int nc,
                    char *err, size_t errlen) {
    char img[4096], lbl[4096];
    int have_labels = 0, rows = 0, cols = 0;
    if (idx_paths(path, img, lbl, sizeof img, &have_labels, err, errlen)) return -1;
    uint8_t *raw = NULL;
    if (idx_read_images(img, &raw, &ds->n, &rows, &cols, err, errlen)) return -1;
    if (have_labels && load_labels(ds, lbl, names, err, errlen)) { free(raw); return -1; }
    ds->pixels = resize_all(raw, ds->n, rows, cols, size, nc);
    free(raw);
    if (!ds->pixels) return set_error(err, errlen, "%s: out of memory for %d images", img, ds->n);
    ds->c = nc;
    ds->h = ds->w = size;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Synthetic shapes: bright discs (label 0) and squares (label 1) on a dark background.

// splitmix64: a small self-contained generator, so the set depends only on the seed.
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int uniform_int(uint64_t *s, int lo, int hi) {   // inclusive bounds
    return lo + (int)(next_u64(s) % (uint64_t)(hi - lo + 1));
}

static void draw_shape(uint8_t *img, int nc, int size, int label, uint64_t *s) {
    int r = uniform_int(s, size / 8 > 1 ? size / 8 : 1, size / 3 > 1 ? size / 3 : 1);
    int cx = uniform_int(s, 0, size - 1), cy = uniform_int(s, 0, size - 1);
    uint8_t bg[4], fg[4];
    for (int ch = 0; ch < nc; ch++) {
        bg[ch] = (uint8_t)uniform_int(s, 0, 40);
        fg[ch] = (uint8_t)uniform_int(s, 170, 255);
    }
    size_t plane = (size_t)size * size;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            int dx = x - cx, dy = y - cy;
            int in = label == 0 ? dx * dx + dy * dy <= r * r
                                : (dx >= -r && dx <= r && dy >= -r && dy <= r);
            for (int ch = 0; ch < nc; ch++)
                img[ch * plane + (size_t)y * size + x] = in ? fg[ch] : bg[ch];
        }
}

static int load_synthetic(dcgan_dataset *ds, int size, int nc, uint64_t seed, char *err,
                          size_t errlen) {
    ds->n = SYNTH_COUNT;
    ds->c = nc;
    ds->h = ds->w = size;
    if (dataset_set_class_names(ds, synthetic_names, 2)) return set_error(err, errlen, "synthetic: out of memory");
    size_t per = (size_t)nc * size * size;
    ds->pixels = malloc(SYNTH_COUNT * per);
    ds->labels = malloc(SYNTH_COUNT * sizeof *ds->labels);
    if (!ds->pixels || !ds->labels) return set_error(err, errlen, "synthetic: out of memory");
    uint64_t s = seed;
    for (int i = 0; i < SYNTH_COUNT; i++) {
        ds->labels[i] = (int32_t)(next_u64(&s) & 1);
        draw_shape(ds->pixels + i * per, nc, size, ds->labels[i], &s);
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------

const char *const dataset_kinds = "folder, lsun, cifar10, mnist, fashion-mnist, synthetic";

int dataset_kind_valid(const char *kind) {
    static const char *const kinds[] = {"folder", "lsun", "cifar10", "mnist", "fashion-mnist",
                                        "synthetic"};
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kind, kinds[i])) return 1;
    return 0;
}

int dataset_load(dcgan_dataset *ds, const char *kind, const char *path, int size, int nc,
                 uint64_t seed, char *err, size_t errlen) {
    return dataset_load_opts(ds, kind, path, size, nc, seed, NULL, err, errlen);
}

int dataset_load_opts(dcgan_dataset *ds, const char *kind, const char *path, int size, int nc,
                      uint64_t seed, const dataset_options *opt, char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    if (size <= 0 || size > MAX_SIZE)
        return set_error(err, errlen, "image size %d out of range (1..%d)", size, MAX_SIZE);
    if (nc != 1 && nc != 3)
        return set_error(err, errlen, "channel count %d not supported (1 or 3)", nc);
    int rc;
    if (!kind)
        rc = set_error(err, errlen, "no dataset kind given (valid: %s)", dataset_kinds);
    else if (!strcmp(kind, "folder") || !strcmp(kind, "lsun") || !strcmp(kind, "cifar10"))
        rc = image_dataset_load(ds, kind, path, size, nc, opt, err, errlen);
    else if (strcmp(kind, "mnist") == 0)
        rc = load_idx(ds, path, mnist_names, size, nc, err, errlen);
    else if (strcmp(kind, "fashion-mnist") == 0)
        rc = load_idx(ds, path, fashion_names, size, nc, err, errlen);
    else if (strcmp(kind, "synthetic") == 0)
        rc = load_synthetic(ds, size, nc, seed, err, errlen);
    else
        rc = set_error(err, errlen, "unknown dataset '%s' (valid: %s)", kind, dataset_kinds);
    if (rc) dataset_free(ds);
    return rc;
}

void dataset_free(dcgan_dataset *ds) {
    if (!ds) return;
    if (ds->map) munmap(ds->map, ds->map_bytes);   // pixels point into the mapping
    else free(ds->pixels);
    free(ds->labels);
    for (int i = 0; ds->class_names && i < ds->nclasses; i++) free(ds->class_names[i]);
    free(ds->class_names);
    memset(ds, 0, sizeof *ds);
}

int dataset_set_class_names(dcgan_dataset *ds, const char *const *names, int n) {
    char **copy = calloc((size_t)n, sizeof *copy);
    if (!copy) return -1;
    for (int i = 0; i < n; i++)
        if (!(copy[i] = strdup(names[i]))) {
            for (int j = 0; j < i; j++) free(copy[j]);
            free(copy);
            return -1;
        }
    for (int i = 0; ds->class_names && i < ds->nclasses; i++) free(ds->class_names[i]);
    free(ds->class_names);
    ds->class_names = copy;
    ds->nclasses = n;
    return 0;
}

void dataset_batch(const dcgan_dataset *ds, const uint32_t *idx, int B, float *out) {
    // ToTensor then Normalize(0.5, 0.5), with torchvision's float32 arithmetic.
    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = ((float)v / 255.0f - 0.5f) / 0.5f;
    size_t per = (size_t)ds->c * ds->h * ds->w;
    #pragma omp parallel for schedule(static) if (B * per > 65536)
    for (int b = 0; b < B; b++) {
        const uint8_t *src = ds->pixels + (size_t)idx[b] * per;
        float *dst = out + (size_t)b * per;
        for (size_t i = 0; i < per; i++) dst[i] = lut[src[i]];
    }
}
