// An image folder: every .png/.jpg/.jpeg/.webp under a directory, recursively. When the
// directory has subfolders holding images, each first-level subfolder is a class (as
// torchvision's ImageFolder); otherwise the images have no labels (a flat CelebA folder works).
#include "dcgan/error.h"
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_DEPTH 32

typedef struct {
    char *path;         // full path
    int cls;            // class index, or -1
    uint64_t bytes;
    int64_t mtime;
} entry;

typedef struct {
    entry *e;
    int n, cap;
    int oom;
} entry_list;

static int has_image_ext(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    return !strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
           !strcasecmp(dot, ".webp");
}

static void add(entry_list *l, const char *path, int cls, const struct stat *st) {
    if (l->oom) return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 1024;
        entry *ne = realloc(l->e, (size_t)cap * sizeof *ne);
        if (!ne) { l->oom = 1; return; }
        l->e = ne;
        l->cap = cap;
    }
    char *p = strdup(path);
    if (!p) { l->oom = 1; return; }
    l->e[l->n++] = (entry){p, cls, (uint64_t)st->st_size, (int64_t)st->st_mtime};
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Sorted names of the visible entries of dir; NULL on an open failure (errno kept).
static char **list_dir(const char *dir, int *n) {
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **names = NULL;
    int cap = 0;
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;   // ., .. and hidden files
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        if (!(names[*n] = strdup(de->d_name))) break;
        (*n)++;
    }
    closedir(d);
    if (!names) names = calloc(1, sizeof *names);
    if (names) qsort(names, (size_t)*n, sizeof *names, cmp_str);
    return names;
}

static void free_names(char **names, int n) {
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

// Adds the images under dir (recursively, in sorted order) with class cls.
static void walk(entry_list *l, const char *dir, int cls, int depth) {
    if (depth > MAX_DEPTH) return;
    int n = 0;
    char **names = list_dir(dir, &n);
    if (!names) return;   // an unreadable subfolder holds nothing we can use
    for (int i = 0; i < n; i++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) continue;
        struct stat st;
        if (stat(path, &st)) continue;
        if (S_ISDIR(st.st_mode)) walk(l, path, cls, depth + 1);
        else if (S_ISREG(st.st_mode) && has_image_ext(names[i])) add(l, path, cls, &st);
    }
    free_names(names, n);
}

typedef struct {
    entry *e;
    int n;
} folder_ctx;

static int folder_load(void *ctx, int i, uint8_t *dst, int size, int nc, char *why, size_t whylen) {
    folder_ctx *f = ctx;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (read_file(f->e[i].path, &buf, &len, why, whylen)) return -1;
    int rc = decode_preprocess(buf, len, dst, size, nc, why, whylen);
    free(buf);
    return rc;
}

static void folder_name(void *ctx, int i, char *out, size_t n) {
    snprintf(out, n, "%s", ((folder_ctx *)ctx)->e[i].path);
}

static void folder_close(void *ctx) {
    folder_ctx *f = ctx;
    for (int i = 0; f && i < f->n; i++) free(f->e[i].path);
    if (f) free(f->e);
    free(f);
}

// The images under path: each first-level subfolder that holds images is a class (its name in
// classes[], which must hold n names); without such subfolders, every image and no classes.
static int collect(entry_list *l, const char *path, char **names, int n, char **classes) {
    int nclasses = 0, top_images = 0;
    for (int i = 0; i < n; i++) {
        char p[4096];
        struct stat st;
        if ((size_t)snprintf(p, sizeof p, "%s/%s", path, names[i]) >= sizeof p) continue;
        if (stat(p, &st)) continue;
        if (S_ISREG(st.st_mode) && has_image_ext(names[i])) { top_images++; continue; }
        if (!S_ISDIR(st.st_mode)) continue;
        int before = l->n;
        walk(l, p, nclasses, 1);
        if (l->n > before) classes[nclasses++] = names[i];
    }
    if (nclasses == 0) {
        walk(l, path, -1, 0);
    } else if (top_images) {
        fprintf(stderr, "warning: %s: %d image(s) directly in the folder are not used: the "
                "subfolders are the classes\n", path, top_images);
    }
    return nclasses;
}

// The fingerprint covers names, sizes and times: any added, removed or rewritten file shows.
static uint64_t fingerprint(const char *path, const entry *e, int n) {
    uint64_t h = FNV_INIT;
    const size_t skip = strlen(path);
    for (int i = 0; i < n; i++) {
        h = fnv1a(h, e[i].path + skip, strlen(e[i].path + skip) + 1);
        h = fnv1a(h, &e[i].bytes, sizeof e[i].bytes);
        h = fnv1a(h, &e[i].mtime, sizeof e[i].mtime);
    }
    return h;
}

// The source's images (f, which it takes), and the labels and names of the classes when there are classes.
static int fill_source(data_source *src, folder_ctx *f, char **classes, int nclasses, const char *path, char *err,
                       size_t errlen) {
    src->ctx = f;
    src->close = folder_close;
    src->load = folder_load;
    src->name = folder_name;
    src->n = f->n;
    src->fingerprint = fingerprint(path, f->e, f->n);
    if (f->n == 0)
        return set_error(err, errlen, "%s: no images found (looked for .png, .jpg, .jpeg and .webp files, "
                         "recursively)", path);
    if (!nclasses) return 0;
    src->labels = malloc((size_t)f->n * sizeof *src->labels);
    if (!src->labels || source_set_class_names(src, (const char *const *)classes, nclasses))
        return set_error(err, errlen, "%s: out of memory", path);
    for (int i = 0; i < f->n; i++) src->labels[i] = f->e[i].cls;
    return 0;
}

int folder_open(data_source *src, const char *path, char *err, size_t errlen) {
    if (source_begin(src, "folder", "files", path, "a directory of images", err, errlen)) return -1;
    int n = 0;
    char **names = list_dir(path, &n);
    if (!names) return set_error(err, errlen, "%s: cannot read directory: %s", path, strerror(errno));
    entry_list l = {0};
    char **classes = calloc((size_t)n + 1, sizeof *classes);
    const int nclasses = classes ? collect(&l, path, names, n, classes) : 0;
    folder_ctx *f = calloc(1, sizeof *f);
    if (!classes || l.oom || !f) {
        free(f);
        free(classes);
        free_names(names, n);
        for (int i = 0; i < l.n; i++) free(l.e[i].path);
        free(l.e);
        return set_error(err, errlen, "%s: out of memory listing the images", path);
    }
    f->e = l.e;
    f->n = l.n;
    int rc = fill_source(src, f, classes, nclasses, path, err, errlen);
    free(classes);
    free_names(names, n);
    if (rc) source_close(src);
    return rc;
}

int folder_first_image_size(const char *path, int *w, int *h, char *err, size_t errlen) {
    data_source src;
    if (folder_open(&src, path, err, errlen)) return -1;
    char name[4096], why[512];
    uint8_t *buf = NULL, *pixels = NULL;
    size_t len = 0;
    src.name(src.ctx, 0, name, sizeof name);
    int rc = read_file(name, &buf, &len, why, sizeof why) || image_decode(buf, len, 3, &pixels, w, h, why, sizeof why)
                 ? path_error(err, errlen, name, "%s", why) : 0;
    free(buf);
    free(pixels);
    source_close(&src);
    return rc;
}
