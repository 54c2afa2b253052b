// IDX files (the MNIST container format), plain or gzip-compressed.
#include "dcgan/data.h"
#include "dcgan/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAX_COUNT 100000000
#define IDX_MAX_SIDE 4096
#define IDX_CHUNK (1u << 30)   // gzread takes an unsigned length and returns an int

typedef struct {
    const char *path;
    gzFile gz;
    int compressed;
} idx_stream;

// 1 when the file starts with the gzip magic bytes 1f 8b, 0 when not, -1 on an open failure.
static int sniff_gzip(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return path_error(err, errlen, path, "cannot open: %s", strerror(errno));
    unsigned char m[2] = {0, 0};
    size_t got = fread(m, 1, 2, f);
    int rerr = ferror(f), e = errno;
    fclose(f);   // read-only: a failed close loses nothing
    if (rerr) return path_error(err, errlen, path, "read error: %s", strerror(e));
    return got == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

// gzopen also reads plain files transparently, so one reader serves both.
static int stream_open(idx_stream *s, const char *path, char *err, size_t errlen) {
    s->path = path;
    s->compressed = sniff_gzip(path, err, errlen);
    if (s->compressed < 0) return -1;
    s->gz = gzopen(path, "rb");
    if (!s->gz)
        return path_error(err, errlen, path, "cannot open: %s",
                          errno ? strerror(errno) : "zlib error");
    return 0;
}

static void stream_close(idx_stream *s) {
    if (s->gz) gzclose(s->gz);   // read-only: nothing to lose on a failed close
    s->gz = NULL;
}

// Reads up to n bytes; returns the count read (short at end of data) or -1 with err set.
static long long stream_read(idx_stream *s, void *buf, size_t n, char *err, size_t errlen) {
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < IDX_CHUNK ? n - done : IDX_CHUNK;
        int got = gzread(s->gz, (char *)buf + done, (unsigned)want);
        if (got < 0) {
            int zerr = 0;
            const char *msg = gzerror(s->gz, &zerr);
            path_error(err, errlen, s->path, "%s error: %s", s->compressed ? "gzip" : "read",
                       zerr == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        if (got == 0) break;
        done += (size_t)got;
    }
    return (long long)done;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// Reads and checks the magic (00 00 08 ndim) and the ndim big-endian dimensions.
static int read_header(idx_stream *s, int ndim, const char *what, uint32_t *dims, char *err,
                       size_t errlen) {
    unsigned char h[4 + 4 * 3];
    size_t need = 4 + 4 * (size_t)ndim;
    long long got = stream_read(s, h, need, err, errlen);
    if (got < 0) return -1;
    if (got < 4)
        return path_error(err, errlen, s->path,
                          "truncated: %lld bytes, too short for an IDX header", got);
    uint32_t magic = be32(h), expect = 0x800u | (uint32_t)ndim;
    if (h[0] != 0 || h[1] != 0)
        return path_error(err, errlen, s->path,
                          "not an IDX %s file (magic 0x%08x, expected 0x%08x)", what, magic,
                          expect);
    if (h[2] != 0x08)
        return path_error(err, errlen, s->path,
                          "unsupported IDX data type 0x%02x (only unsigned byte 0x08)", h[2]);
    if (h[3] != ndim)
        return path_error(err, errlen, s->path, "IDX file has %d dimensions, expected %d for %s",
                          h[3], ndim, what);
    if ((size_t)got < need)
        return path_error(err, errlen, s->path, "truncated: IDX header has %lld of %zu bytes", got,
                          need);
    for (int i = 0; i < ndim; i++) dims[i] = be32(h + 4 + 4 * i);
    return 0;
}

static int check_dim(const char *path, const char *name, uint32_t v, uint32_t max, char *err,
                     size_t errlen) {
    if (v == 0 || v > max)
        return path_error(err, errlen, path, "implausible %s %u (allowed 1..%u)", name, v, max);
    return 0;
}

// Reads exactly n data bytes into a fresh buffer; a short file is reported as truncated.
// The buffer grows as data arrives, so a header claiming a huge count cannot force a huge
// allocation before the shortfall is noticed.
static uint8_t *read_body(idx_stream *s, size_t n, const char *what, char *err, size_t errlen) {
    const size_t first = (size_t)1 << 26;
    uint8_t *buf = NULL;
    size_t cap = 0, done = 0;
    while (done < n) {
        if (done == cap) {
            size_t grown = cap == 0 ? (n < first ? n : first) : (cap > n / 2 ? n : cap * 2);
            uint8_t *nb = realloc(buf, grown);
            if (!nb) {
                free(buf);
                path_error(err, errlen, s->path, "out of memory (%zu bytes)", n);
                return NULL;
            }
            buf = nb;
            cap = grown;
        }
        long long got = stream_read(s, buf + done, cap - done, err, errlen);
        if (got < 0) { free(buf); return NULL; }
        done += (size_t)got;
        if (done < cap) break;   // end of data before the buffer filled
    }
    if (done < n) {
        free(buf);
        path_error(err, errlen, s->path, "truncated: expected %zu bytes of %s data, got %zu", n,
                   what, done);
        return NULL;
    }
    return buf;
}

int idx_read_images(const char *path, uint8_t **pixels, int *n, int *rows, int *cols,
                    char *err, size_t errlen) {
    *pixels = NULL;
    idx_stream s = {0};
    if (stream_open(&s, path, err, errlen)) return -1;
    uint32_t d[3] = {0};
    int rc = read_header(&s, 3, "images", d, err, errlen);
    if (!rc) rc = check_dim(path, "image count", d[0], IDX_MAX_COUNT, err, errlen);
    if (!rc) rc = check_dim(path, "row count", d[1], IDX_MAX_SIDE, err, errlen);
    if (!rc) rc = check_dim(path, "column count", d[2], IDX_MAX_SIDE, err, errlen);
    if (!rc) {
        size_t bytes = (size_t)d[0] * d[1] * d[2];   // at most 1e8 * 4096^2: fits in 64 bits
        *pixels = read_body(&s, bytes, "image", err, errlen);
        rc = *pixels ? 0 : -1;
    }
    stream_close(&s);
    if (rc) return -1;
    *n = (int)d[0];
    *rows = (int)d[1];
    *cols = (int)d[2];
    return 0;
}

int idx_read_labels(const char *path, int32_t **labels, int *n, char *err, size_t errlen) {
    *labels = NULL;
    idx_stream s = {0};
    if (stream_open(&s, path, err, errlen)) return -1;
    uint32_t d[1] = {0};
    int rc = read_header(&s, 1, "labels", d, err, errlen);
    if (!rc) rc = check_dim(path, "label count", d[0], IDX_MAX_COUNT, err, errlen);
    uint8_t *raw = rc ? NULL : read_body(&s, d[0], "label", err, errlen);
    stream_close(&s);
    if (!raw) return -1;
    int32_t *out = malloc((size_t)d[0] * sizeof *out);
    if (!out) { free(raw); return path_error(err, errlen, path, "out of memory"); }
    for (uint32_t i = 0; i < d[0]; i++) out[i] = raw[i];
    free(raw);
    *labels = out;
    *n = (int)d[0];
    return 0;
}
