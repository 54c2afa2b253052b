// MNIST and Fashion-MNIST: the IDX image and label files of a directory (or an image file and
// the label file beside it), resized to the training size.
#include "dcgan/error.h"
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int mnist_load(dcgan_dataset *ds, const char *path, int fashion, int size, int nc, char *err,
               size_t errlen) {
    const char *const *names = fashion ? fashion_names : mnist_names;
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
