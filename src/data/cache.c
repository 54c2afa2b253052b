// The preprocessed dataset cache: a 4096-byte header (what was read, how it was preprocessed,
// counts and section offsets), then uint8 pixels [n, nc, size, size], int32 labels [n] and the
// class names (NUL-terminated). Written atomically; later runs memory-map it.
#include "dcgan/error.h"
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "DCGANDS\n"
#define CACHE_VERSION 1
#define HEADER_BYTES 4096

// The header as stored (native byte order: a cache is a local file, not an exchange format).
typedef struct {
    char magic[8];
    uint32_t version, header_bytes;
    int32_t size, nc, n, nclasses, has_labels, pad;
    uint64_t fingerprint;
    uint64_t pixels_off, pixels_bytes, labels_off, names_off, names_bytes, file_bytes;
    char kind[32], preprocess[64], classes[512], source[1024];
    uint64_t check;     // FNV-1a of the bytes above
} disk_header;

_Static_assert(sizeof(disk_header) <= HEADER_BYTES, "cache header too large");

static int terminated(const char *s, size_t n) { return memchr(s, '\0', n) != NULL; }

// The header of a cache image, checked against itself and the image's length.
static int check_header(const uint8_t *buf, size_t len, disk_header *d, char *err, size_t errlen) {
    if (len < HEADER_BYTES) return set_error(err, errlen, "truncated (%zu bytes, no header)", len);
    memcpy(d, buf, sizeof *d);
    if (memcmp(d->magic, CACHE_MAGIC, 8)) return set_error(err, errlen, "not a dcgan dataset cache");
    if (d->version != CACHE_VERSION)
        return set_error(err, errlen, "cache format version %u (this program writes %d)", d->version, CACHE_VERSION);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION   // let the fuzzer reach the checks below
    if (d->check != fnv1a(FNV_INIT, d, offsetof(disk_header, check)))
        return set_error(err, errlen, "corrupt cache header (checksum)");
#endif
    for (size_t i = sizeof *d; i < HEADER_BYTES; i++)
        if (buf[i]) return set_error(err, errlen, "corrupt cache header (reserved bytes)");
    if (d->header_bytes != HEADER_BYTES || d->size < 1 || d->size > 4096 ||
        (d->nc != 1 && d->nc != 3) || d->n < 1 || d->nclasses < 0 || d->nclasses > 65536 ||
        (d->has_labels != 0 && d->has_labels != 1) || (d->has_labels && d->nclasses == 0) ||
        !terminated(d->kind, sizeof d->kind) || !terminated(d->preprocess, sizeof d->preprocess) ||
        !terminated(d->classes, sizeof d->classes) || !terminated(d->source, sizeof d->source))
        return set_error(err, errlen, "corrupt cache header (fields out of range)");
    uint64_t per = (uint64_t)d->nc * d->size * d->size;
    uint64_t pixels = per * (uint64_t)d->n, labels = d->has_labels ? 4 * (uint64_t)d->n : 0;
    if (d->file_bytes != len || d->pixels_off != HEADER_BYTES || d->pixels_bytes != pixels ||
        d->labels_off != ((d->pixels_off + pixels + 3) & ~3ull) || d->labels_off > len ||
        d->names_off != d->labels_off + labels || d->names_off > len ||
        d->names_bytes > len - d->names_off || d->names_off + d->names_bytes != len)
        return set_error(err, errlen, "truncated or corrupt cache (sections do not match the file size %zu)", len);
    return 0;
}

// Class names: exactly nclasses NUL-terminated strings, copied into ds.
static int read_names(const uint8_t *buf, const disk_header *d, dcgan_dataset *ds, char *err, size_t errlen) {
    const char *names = (const char *)buf + d->names_off;
    size_t pos = 0;
    char **copy = d->nclasses ? calloc((size_t)d->nclasses, sizeof *copy) : NULL;
    if (d->nclasses && !copy) return set_error(err, errlen, "out of memory");
    ds->class_names = copy;
    for (int i = 0; i < d->nclasses; i++) {
        const char *end = pos < d->names_bytes ? memchr(names + pos, '\0', d->names_bytes - pos) : NULL;
        if (!end) return set_error(err, errlen, "corrupt cache (class names)");
        if (!(copy[i] = strdup(names + pos))) return set_error(err, errlen, "out of memory");
        ds->nclasses = i + 1;
        pos = (size_t)(end - names) + 1;
    }
    if (pos != d->names_bytes) return set_error(err, errlen, "corrupt cache (class names)");
    return 0;
}

// The labels, copied into ds and checked against the class count.
static int read_labels(const uint8_t *buf, const disk_header *d, dcgan_dataset *ds, char *err, size_t errlen) {
    ds->labels = malloc((size_t)d->n * sizeof *ds->labels);
    if (!ds->labels) return set_error(err, errlen, "out of memory");
    memcpy(ds->labels, buf + d->labels_off, (size_t)d->n * sizeof *ds->labels);
    for (int i = 0; i < d->n; i++)
        if (ds->labels[i] < 0 || ds->labels[i] >= d->nclasses)
            return set_error(err, errlen, "corrupt cache (label %ld outside 0..%d)", (long)ds->labels[i],
                             d->nclasses - 1);
    return 0;
}

int cache_parse(const uint8_t *buf, size_t len, cache_header *hdr, dcgan_dataset *ds, char *err,
                size_t errlen) {
    memset(ds, 0, sizeof *ds);
    memset(hdr, 0, sizeof *hdr);
    disk_header d;
    if (check_header(buf, len, &d, err, errlen)) return -1;
    if (read_names(buf, &d, ds, err, errlen) || (d.has_labels && read_labels(buf, &d, ds, err, errlen))) {
        dataset_free(ds);
        return -1;
    }
    // The pixels stay in the caller's buffer; they are not owned by ds.
    ds->pixels = (uint8_t *)(buf + d.pixels_off);
    ds->n = d.n;
    ds->c = d.nc;
    ds->h = ds->w = d.size;
    snprintf(hdr->kind, sizeof hdr->kind, "%s", d.kind);
    snprintf(hdr->source, sizeof hdr->source, "%s", d.source);
    snprintf(hdr->classes, sizeof hdr->classes, "%s", d.classes);
    snprintf(hdr->preprocess, sizeof hdr->preprocess, "%s", d.preprocess);
    hdr->size = d.size;
    hdr->nc = d.nc;
    hdr->n = d.n;
    hdr->nclasses = d.nclasses;
    hdr->has_labels = d.has_labels;
    hdr->fingerprint = d.fingerprint;
    return 0;
}

int cache_open(const char *path, cache_header *hdr, dcgan_dataset *ds, char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT) return 1;
        return set_error(err, errlen, "%s: cannot open cache: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return set_error(err, errlen, "%s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    if (len < HEADER_BYTES) {
        close(fd);
        return set_error(err, errlen, "%s: truncated cache (%zu bytes)", path, len);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);   // the mapping keeps the file
    if (map == MAP_FAILED) return set_error(err, errlen, "%s: cannot map cache: %s", path, strerror(errno));
    char why[256];
    if (cache_parse(map, len, hdr, ds, why, sizeof why)) {
        munmap(map, len);
        return set_error(err, errlen, "%s: %s", path, why);
    }
    ds->map = map;
    ds->map_bytes = len;
    return 0;
}

static int write_all(FILE *f, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, f) == n; }

int cache_write(const char *path, const cache_header *hdr, const dcgan_dataset *ds, char *err,
                size_t errlen) {
    disk_header d;
    memset(&d, 0, sizeof d);
    memcpy(d.magic, CACHE_MAGIC, 8);
    d.version = CACHE_VERSION;
    d.header_bytes = HEADER_BYTES;
    d.size = ds->h;
    d.nc = ds->c;
    d.n = ds->n;
    d.nclasses = ds->class_names ? ds->nclasses : 0;
    d.has_labels = ds->labels && d.nclasses > 0;
    d.fingerprint = hdr->fingerprint;
    uint64_t pixels = (uint64_t)ds->n * ds->c * ds->h * ds->w;
    d.pixels_off = HEADER_BYTES;
    d.pixels_bytes = pixels;
    d.labels_off = (d.pixels_off + pixels + 3) & ~3ull;
    d.names_off = d.labels_off + (d.has_labels ? 4 * (uint64_t)ds->n : 0);
    for (int i = 0; i < d.nclasses; i++) d.names_bytes += strlen(ds->class_names[i]) + 1;
    d.file_bytes = d.names_off + d.names_bytes;
    snprintf(d.kind, sizeof d.kind, "%s", hdr->kind);
    snprintf(d.preprocess, sizeof d.preprocess, "%s", hdr->preprocess);
    snprintf(d.classes, sizeof d.classes, "%s", hdr->classes);
    snprintf(d.source, sizeof d.source, "%s", hdr->source);
    d.check = fnv1a(FNV_INIT, &d, offsetof(disk_header, check));

    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return set_error(err, errlen, "%s: out of memory", path);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        free(tmp);
        return set_error(err, errlen, "%s: cannot create cache: %s", path, strerror(e));
    }
    static const uint8_t zeros[HEADER_BYTES];
    int ok = write_all(f, &d, sizeof d) && write_all(f, zeros, HEADER_BYTES - sizeof d) &&
             write_all(f, ds->pixels, pixels) &&
             write_all(f, zeros, d.labels_off - d.pixels_off - pixels) &&
             (!d.has_labels || write_all(f, ds->labels, 4 * (size_t)ds->n));
    for (int i = 0; ok && i < d.nclasses; i++)
        ok = write_all(f, ds->class_names[i], strlen(ds->class_names[i]) + 1);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    if (fclose(f) && ok) { ok = 0; e = errno; }
    if (ok && rename(tmp, path)) { ok = 0; e = errno; }
    if (!ok) remove(tmp);
    free(tmp);
    if (!ok) return set_error(err, errlen, "%s: cannot write cache: %s", path, strerror(e));
    return 0;
}
