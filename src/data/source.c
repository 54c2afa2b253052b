// What every source shares: its first checks, its class names, reading a whole file, decoding
// and preprocessing one encoded image, the fingerprint hash, and releasing it.
#include "dcgan/error.h"
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES (1u << 30)

uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

int read_file(const char *path, uint8_t **buf, size_t *len, char *why, size_t whylen) {
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return set_error(why, whylen, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) || st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return set_error(why, whylen, "cannot read: not a regular file or larger than 1 GiB");
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) { fclose(f); return set_error(why, whylen, "out of memory (%zu bytes)", n); }
    size_t got = fread(b, 1, n, f);
    int rerr = ferror(f), e = errno;
    fclose(f);   // read-only: nothing to lose on a failed close
    if (rerr || got != n) {
        free(b);
        return set_error(why, whylen, "read error: %s", rerr ? strerror(e) : "file shrank while reading");
    }
    *buf = b;
    *len = n;
    return 0;
}

int decode_preprocess(const uint8_t *buf, size_t len, uint8_t *dst, int size, int nc, char *why,
                      size_t whylen) {
    uint8_t *img = NULL;
    int w = 0, h = 0;
    if (image_decode(buf, len, nc, &img, &w, &h, why, whylen)) return -1;
    resize_center_crop(dst, img, nc, h, w, size);
    free(img);
    return 0;
}

int source_begin(data_source *src, const char *kind, const char *noun, const char *path,
                 const char *reads, char *err, size_t errlen) {
    memset(src, 0, sizeof *src);
    src->kind = kind;
    src->noun = noun;
    if (!path || !*path) return set_error(err, errlen, "--dataset %s needs --data DIR", kind);
    struct stat st;
    if (stat(path, &st))
        return set_error(err, errlen, "%s: cannot access: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return set_error(err, errlen, "%s: not a directory (--dataset %s reads %s)", path, kind,
                         reads);
    return 0;
}

int source_set_class_names(data_source *src, const char *const *names, int n) {
    if (!(src->class_names = copy_names(names, n))) return -1;
    src->nclasses = n;
    return 0;
}

void source_close(data_source *src) {
    if (src->close) src->close(src->ctx);
    free(src->labels);
    for (int i = 0; src->class_names && i < src->nclasses; i++) free(src->class_names[i]);
    free(src->class_names);
    memset(src, 0, sizeof *src);
}
