// Minimal .npy reader/writer for float32 matrices (format versions 1.0-3.0).
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/error.h"
#include "dcgan/io.h"

// Parses the shape tuple of the header dict, e.g. "'shape': (16, 100), ".
static int parse_shape(const char *hdr, long *dims, int *ndim) {
    const char *p = strstr(hdr, "'shape'");
    if (!p || !(p = strchr(p, '('))) return -1;
    p++;
    *ndim = 0;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || *ndim >= 4) return -1;
        dims[(*ndim)++] = v;
        p = end;
    }
    return *p == ')' ? 0 : -1;
}

int npy_read_matrix(const char *path, float **data, int *rows, int *cols, char *err, size_t errlen) {
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return path_error(err, errlen, path, "cannot open: %s", strerror(errno));
    unsigned char pre[12];
    char *hdr = NULL;
    int rc = -1;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) {
        path_error(err, errlen, path, "not a .npy file (bad magic)");
        goto done;
    }
    size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (pre[6] >= 2) {   // versions 2 and 3 use a 4-byte header length
        if (fread(pre + 10, 1, 2, f) != 2) { path_error(err, errlen, path, "truncated header"); goto done; }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (hlen > 65536 || !(hdr = calloc(1, hlen + 1)) || fread(hdr, 1, hlen, f) != hlen) {
        path_error(err, errlen, path, "truncated or oversized header");
        goto done;
    }
    if (!strstr(hdr, "'descr': '<f4'")) {
        path_error(err, errlen, path, "dtype must be little-endian float32 ('<f4'); convert with .astype('float32')");
        goto done;
    }
    if (strstr(hdr, "'fortran_order': True")) { path_error(err, errlen, path, "Fortran-ordered arrays are not supported"); goto done; }
    long d[4];
    int nd;
    if (parse_shape(hdr, d, &nd)) { path_error(err, errlen, path, "cannot parse the shape in the header"); goto done; }
    long r, c;
    if (nd == 1) { r = 1; c = d[0]; }
    else if (nd == 2 || (nd == 4 && d[2] == 1 && d[3] == 1)) { r = d[0]; c = d[1]; }
    else { path_error(err, errlen, path, "expected shape [N, nz] (or [N, nz, 1, 1])"); goto done; }
    if (r < 1 || c < 1 || r > 10000000 || c > 100000) { path_error(err, errlen, path, "shape [%ld, %ld] is empty or too large", r, c); goto done; }
    size_t n = (size_t)r * (size_t)c;
    if (!(*data = malloc(n * sizeof(float)))) { path_error(err, errlen, path, "out of memory"); goto done; }
    size_t got = fread(*data, sizeof(float), n, f);
    if (got != n) { path_error(err, errlen, path, "truncated: expected %zu floats, found %zu", n, got); goto done; }
    *rows = (int)r;
    *cols = (int)c;
    rc = 0;
done:
    if (rc) { free(*data); *data = NULL; }
    free(hdr);
    fclose(f);
    return rc;
}

int npy_write_matrix(const char *path, const float *data, int rows, int cols, char *err, size_t errlen) {
    char dict[128], tmp[4096];
    int dlen = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols);
    int total = 10 + dlen + 1;
    int pad = (64 - total % 64) % 64;   // header padded so the data is 64-byte aligned
    unsigned hlen = (unsigned)(dlen + pad + 1);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return path_error(err, errlen, path, "cannot create: %s", strerror(errno));
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)dlen, f) == (size_t)dlen;
    for (int i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(data, sizeof(float), (size_t)rows * cols, f) == (size_t)rows * cols;
    ok = (fflush(f) == 0) && ok && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path)) {
        path_error(err, errlen, path, "write failed: %s", strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
