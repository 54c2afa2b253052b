// safetensors reader/writer: 8-byte little-endian header length, JSON header, raw data.
#include "dcgan/error.h"
#include "dcgan/io.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Tensor data is stored little-endian and copied as raw host memory.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define ST_MAX_HEADER (100u * 1024u * 1024u)   // same cap as the reference implementation
#define ST_META_KEY "__metadata__"

const char *st_dtype_name(st_dtype d) { return d == ST_I64 ? "I64" : d == ST_F64 ? "F64" : "F32"; }
static size_t dtype_size(st_dtype d) { return d == ST_F32 ? 4 : 8; }

// Element count of a shape; -1 on a negative dimension or overflow.
static int64_t shape_numel(const int64_t *shape, int ndim) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] != 0 && n > INT64_MAX / shape[i]) return -1;
        n *= shape[i];
    }
    return n;
}

// ---------------------------------------------------------------------------------------------
// Writing

static int check_tensor(const char *path, const st_tensor *t, char *err, size_t errlen) {
    size_t len = strnlen(t->name, sizeof t->name);
    if (len == 0 || len == sizeof t->name)
        return path_error(err, errlen, path, "tensor name empty or not terminated");
    if (strcmp(t->name, ST_META_KEY) == 0)
        return path_error(err, errlen, path, "tensor name '%s' is reserved", t->name);
    if (t->dtype != ST_F32 && t->dtype != ST_I64 && t->dtype != ST_F64)
        return path_error(err, errlen, path, "tensor '%s' has an unknown dtype", t->name);
    if (t->ndim < 0 || t->ndim > 8)
        return path_error(err, errlen, path, "tensor '%s' has %d dimensions (0..8 allowed)",
                          t->name, t->ndim);
    int64_t numel = shape_numel(t->shape, t->ndim);
    if (numel < 0 || (uint64_t)numel > SIZE_MAX / dtype_size(t->dtype))
        return path_error(err, errlen, path, "tensor '%s' has an invalid shape", t->name);
    size_t need = (size_t)numel * dtype_size(t->dtype);
    if (t->nbytes != need)
        return path_error(err, errlen, path, "tensor '%s': nbytes %zu but shape and dtype need %zu",
                          t->name, t->nbytes, need);
    if (need > 0 && !t->data)
        return path_error(err, errlen, path, "tensor '%s' has no data", t->name);
    return 0;
}

static json_t *tensor_entry(const st_tensor *t, size_t begin) {
    json_t *e = json_object(), *shape = json_array(), *offs = json_array();
    int bad = !e || !shape || !offs;
    for (int i = 0; !bad && i < t->ndim; i++)
        bad = json_array_append_new(shape, json_integer(t->shape[i])) != 0;
    if (!bad)
        bad = json_array_append_new(offs, json_integer((json_int_t)begin)) != 0 ||
              json_array_append_new(offs, json_integer((json_int_t)(begin + t->nbytes))) != 0;
    if (!bad)
        bad = json_object_set_new(e, "dtype", json_string(st_dtype_name(t->dtype))) != 0 ||
              json_object_set(e, "shape", shape) != 0 ||
              json_object_set(e, "data_offsets", offs) != 0;
    json_decref(shape);
    json_decref(offs);
    if (bad) { json_decref(e); return NULL; }
    return e;
}

static json_t *meta_object(const st_meta *meta, int nmeta) {
    json_t *m = json_object();
    for (int i = 0; m && i < nmeta; i++) {
        if (json_object_set_new(m, meta[i].key, json_string(meta[i].value)) != 0) {
            json_decref(m);
            return NULL;
        }
    }
    return m;
}

// Builds the JSON header text, padded with spaces so the data section starts 8-byte aligned.
static char *build_header(const char *path, const st_tensor *tensors, int ntensors,
                          const st_meta *meta, int nmeta, size_t *hlen, char *err, size_t errlen) {
    json_t *root = json_object();
    if (!root) { path_error(err, errlen, path, "out of memory building the header"); return NULL; }
    if (nmeta > 0) {
        json_t *m = meta_object(meta, nmeta);
        if (!m || json_object_set_new(root, ST_META_KEY, m) != 0) {
            json_decref(root);
            path_error(err, errlen, path, "metadata keys and values must be valid UTF-8 strings");
            return NULL;
        }
    }
    size_t off = 0;
    for (int i = 0; i < ntensors; i++) {
        if (json_object_get(root, tensors[i].name)) {
            json_decref(root);
            path_error(err, errlen, path, "duplicate tensor name '%s'", tensors[i].name);
            return NULL;
        }
        json_t *e = tensor_entry(&tensors[i], off);
        if (!e || json_object_set_new(root, tensors[i].name, e) != 0) {
            json_decref(root);
            path_error(err, errlen, path,
                       "cannot add tensor '%s' to the header (invalid UTF-8 name?)",
                       tensors[i].name);
            return NULL;
        }
        off += tensors[i].nbytes;
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text) { path_error(err, errlen, path, "cannot serialise the header"); return NULL; }
    size_t n = strlen(text), padded = (n + 7) & ~(size_t)7;
    char *out = realloc(text, padded + 1);
    if (!out) { free(text); path_error(err, errlen, path, "out of memory"); return NULL; }
    memset(out + n, ' ', padded - n);
    out[padded] = '\0';
    *hlen = padded;
    return out;
}

static int write_all(FILE *fp, const void *p, size_t n) {
    return n == 0 || fwrite(p, 1, n, fp) == n ? 0 : -1;
}

static int write_contents(FILE *fp, const char *header, size_t hlen, const st_tensor *tensors,
                          int ntensors) {
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    if (write_all(fp, len8, 8) || write_all(fp, header, hlen)) return -1;
    for (int i = 0; i < ntensors; i++)
        if (write_all(fp, tensors[i].data, tensors[i].nbytes)) return -1;
    return 0;
}

// Writes path's temporary file and syncs it; a failed write leaves no temporary file.
static int write_staged(const char *path, const char *header, size_t hlen,
                        const st_tensor *tensors, int ntensors, char *err, size_t errlen) {
    char tmp[4200];
    temp_path(tmp, sizeof tmp, path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) return path_error(err, errlen, path, "cannot create %s: %s", tmp, strerror(errno));
    const char *what = NULL;
    if (write_contents(fp, header, hlen, tensors, ntensors)) what = "write";
    else if (fflush(fp)) what = "flush";
    else if (fsync(fileno(fp))) what = "fsync";
    int saved = errno;
    if (fclose(fp) && !what) { what = "close"; saved = errno; }
    if (what) {
        path_error(err, errlen, path, "%s failed: %s", what, strerror(saved));
        remove(tmp);
        return -1;
    }
    return 0;
}

int st_stage(const char *path, const st_tensor *tensors, int ntensors,
             const st_meta *meta, int nmeta, char *err, size_t errlen) {
    if (ntensors < 0 || nmeta < 0 || (ntensors > 0 && !tensors) || (nmeta > 0 && !meta))
        return path_error(err, errlen, path, "invalid arguments");
    for (int i = 0; i < ntensors; i++)
        if (check_tensor(path, &tensors[i], err, errlen)) return -1;
    for (int i = 0; i < nmeta; i++) {
        if (strnlen(meta[i].key, sizeof meta[i].key) == sizeof meta[i].key ||
            strnlen(meta[i].value, sizeof meta[i].value) == sizeof meta[i].value)
            return path_error(err, errlen, path, "metadata entry %d is not terminated", i);
    }
    size_t hlen = 0;
    char *header = build_header(path, tensors, ntensors, meta, nmeta, &hlen, err, errlen);
    if (!header) return -1;
    int rc = write_staged(path, header, hlen, tensors, ntensors, err, errlen);
    free(header);
    return rc;
}

int st_commit(const char *path, char *err, size_t errlen) {
    char tmp[4200];
    temp_path(tmp, sizeof tmp, path);
    if (!rename(tmp, path)) return 0;
    path_error(err, errlen, path, "rename failed: %s", strerror(errno));
    remove(tmp);
    return -1;
}

void st_discard(const char *path) {
    char tmp[4200];
    temp_path(tmp, sizeof tmp, path);
    remove(tmp);
}

// Readers never see a partially written file: it is written and synced under a temporary name,
// then renamed over path.
int st_write(const char *path, const st_tensor *tensors, int ntensors,
             const st_meta *meta, int nmeta, char *err, size_t errlen) {
    return st_stage(path, tensors, ntensors, meta, nmeta, err, errlen) || st_commit(path, err, errlen) ? -1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Reading

// Reads the whole file; 7 spare bytes let the data section be moved to an aligned offset.
static int read_file(const char *path, uint8_t **buf, size_t *size, char *err, size_t errlen) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return path_error(err, errlen, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st)) {
        int e = errno;
        fclose(fp);
        return path_error(err, errlen, path, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(fp);
        return path_error(err, errlen, path, "not a regular file");
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = malloc(n + 8);
    if (!b) { fclose(fp); return path_error(err, errlen, path, "out of memory (%zu bytes)", n); }
    size_t got = n ? fread(b, 1, n, fp) : 0;
    int rerr = ferror(fp);
    fclose(fp);
    if (got != n || rerr) {
        free(b);
        return path_error(err, errlen, path, "read error (%zu of %zu bytes)", got, n);
    }
    *buf = b;
    *size = n;
    return 0;
}

static int get_int(const json_t *v, int64_t *out) {
    if (!json_is_integer(v)) return -1;
    *out = (int64_t)json_integer_value(v);
    return *out < 0 ? -1 : 0;
}

static int parse_dtype(const char *path, const char *name, const json_t *e, st_dtype *d,
                       char *err, size_t errlen) {
    const char *s = json_string_value(json_object_get(e, "dtype"));
    if (!s) return path_error(err, errlen, path, "tensor '%s' has no dtype string", name);
    if (strcmp(s, "F32") == 0) *d = ST_F32;
    else if (strcmp(s, "I64") == 0) *d = ST_I64;
    else if (strcmp(s, "F64") == 0) *d = ST_F64;
    else return path_error(err, errlen, path,
                           "tensor '%s' has unsupported dtype '%s' (supported: F32, F64, I64)", name, s);
    return 0;
}

static int parse_shape(const char *path, st_tensor *t, const json_t *e, char *err, size_t errlen) {
    const json_t *sh = json_object_get(e, "shape");
    if (!json_is_array(sh))
        return path_error(err, errlen, path, "tensor '%s' has no shape array", t->name);
    size_t nd = json_array_size(sh);
    if (nd > 8)
        return path_error(err, errlen, path, "tensor '%s' has %zu dimensions (max 8)", t->name, nd);
    t->ndim = (int)nd;
    for (size_t i = 0; i < nd; i++)
        if (get_int(json_array_get(sh, i), &t->shape[i]))
            return path_error(err, errlen, path,
                              "tensor '%s': shape must hold non-negative integers", t->name);
    return 0;
}

// Checks data_offsets against the data section and the size implied by dtype and shape.
static int parse_offsets(const char *path, st_tensor *t, const json_t *e, size_t data_len,
                         int64_t *begin, char *err, size_t errlen) {
    const json_t *off = json_object_get(e, "data_offsets");
    int64_t b, en;
    if (!json_is_array(off) || json_array_size(off) != 2 || get_int(json_array_get(off, 0), &b) ||
        get_int(json_array_get(off, 1), &en) || en < b)
        return path_error(err, errlen, path, "tensor '%s': data_offsets must be [begin, end] with "
                          "0 <= begin <= end", t->name);
    if ((uint64_t)en > data_len)
        return path_error(err, errlen, path,
                          "truncated: tensor '%s' ends at byte %lld but the data section has %zu "
                          "bytes", t->name, (long long)en, data_len);
    int64_t numel = shape_numel(t->shape, t->ndim);
    int64_t isz = (int64_t)dtype_size(t->dtype);
    if (numel < 0 || numel > INT64_MAX / isz)
        return path_error(err, errlen, path, "tensor '%s': shape is too large", t->name);
    if (en - b != numel * isz)
        return path_error(err, errlen, path, "tensor '%s': data_offsets span %lld bytes but its %s "
                          "shape needs %lld", t->name, (long long)(en - b), st_dtype_name(t->dtype),
                          (long long)(numel * isz));
    t->nbytes = (size_t)(en - b);
    *begin = b;
    return 0;
}

static int parse_meta(const char *path, st_file *f, const json_t *m, char *err, size_t errlen) {
    if (!json_is_object(m)) return path_error(err, errlen, path, "__metadata__ must be an object");
    size_t n = json_object_size(m);
    f->meta = calloc(n ? n : 1, sizeof *f->meta);
    if (!f->meta) return path_error(err, errlen, path, "out of memory");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        const char *s = json_string_value(v);
        if (!s) return path_error(err, errlen, path, "metadata value for '%s' is not a string", k);
        st_meta *dst = &f->meta[f->nmeta++];
        if (strlen(k) >= sizeof dst->key || strlen(s) >= sizeof dst->value)
            return path_error(err, errlen, path, "metadata entry '%.40s' is too long", k);
        strcpy(dst->key, k);
        strcpy(dst->value, s);
    }
    return 0;
}

static int parse_tensor(const char *path, st_tensor *t, const char *name, const json_t *e,
                        size_t data_len, int64_t *begin, char *err, size_t errlen) {
    if (!json_is_object(e)) return path_error(err, errlen, path, "entry '%s' is not an object",
                                              name);
    if (strlen(name) >= sizeof t->name)
        return path_error(err, errlen, path, "tensor name '%.40s...' is too long", name);
    strcpy(t->name, name);
    if (parse_dtype(path, name, e, &t->dtype, err, errlen)) return -1;
    if (parse_shape(path, t, e, err, errlen)) return -1;
    return parse_offsets(path, t, e, data_len, begin, err, errlen);
}

// Fills f->tensors and f->meta from the parsed header; data pointers are set by the caller.
static int parse_header(const char *path, st_file *f, const json_t *root, size_t data_len,
                        int64_t *begins, char *err, size_t errlen) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)root, k, v) {
        if (strcmp(k, ST_META_KEY) == 0) {
            if (parse_meta(path, f, v, err, errlen)) return -1;
            continue;
        }
        int i = f->ntensors;
        if (parse_tensor(path, &f->tensors[i], k, v, data_len, &begins[i], err, errlen)) return -1;
        f->ntensors++;
    }
    return 0;
}

static json_t *load_header(const char *path, const st_file *f, size_t *hlen, char *err,
                           size_t errlen) {
    if (f->size < 8) {
        path_error(err, errlen, path, "truncated: %zu bytes, too short for a safetensors header",
                   f->size);
        return NULL;
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | f->buffer[i];
    if (n > f->size - 8) {
        path_error(err, errlen, path,
                   "truncated: header length %llu exceeds the %zu bytes after it",
                   (unsigned long long)n, f->size - 8);
        return NULL;
    }
    if (n > ST_MAX_HEADER) {
        path_error(err, errlen, path, "header length %llu exceeds the 100 MB limit",
                   (unsigned long long)n);
        return NULL;
    }
    json_error_t jerr;
    json_t *root =
        json_loadb((const char *)f->buffer + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        path_error(err, errlen, path, "invalid JSON header: %s (line %d, column %d)", jerr.text,
                   jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        path_error(err, errlen, path, "JSON header is not an object");
        return NULL;
    }
    *hlen = (size_t)n;
    return root;
}

// Moves the data section to an 8-byte aligned offset (a no-op for files written by st_write)
// so F32/I64 data can be read in place.
static const uint8_t *align_data(st_file *f, size_t start) {
    size_t aligned = (start + 7) & ~(size_t)7;
    if (aligned != start) memmove(f->buffer + aligned, f->buffer + start, f->size - start);
    return f->buffer + aligned;
}

int st_read(const char *path, st_file *f, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    if (read_file(path, &f->buffer, &f->size, err, errlen)) return -1;
    size_t hlen = 0;
    json_t *root = load_header(path, f, &hlen, err, errlen);
    if (!root) { st_free(f); return -1; }
    size_t cap = json_object_size(root);
    size_t data_len = f->size - 8 - hlen;
    int64_t *begins = malloc((cap ? cap : 1) * sizeof *begins);
    f->tensors = calloc(cap ? cap : 1, sizeof *f->tensors);
    int rc = (!begins || !f->tensors) ? path_error(err, errlen, path, "out of memory")
                                      : parse_header(path, f, root, data_len, begins, err, errlen);
    json_decref(root);
    if (rc == 0) {
        const uint8_t *data = align_data(f, 8 + hlen);
        for (int i = 0; i < f->ntensors; i++) f->tensors[i].data = data + begins[i];
    }
    free(begins);
    if (rc) st_free(f);
    return rc;
}

void st_free(st_file *f) {
    if (!f) return;
    free(f->tensors);
    free(f->meta);
    free(f->buffer);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name) {
    for (int i = 0; f && i < f->ntensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *st_meta_get(const st_file *f, const char *key) {
    for (int i = 0; f && i < f->nmeta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}
