// safetensors round trip and rejection of damaged files.
#include "dcgan/io.h"
#include "test_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *b = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)len + 1)) != NULL &&
            fread(b, 1, (size_t)len, f) != (size_t)len) {
            free(b);
            b = NULL;
        }
        *n = len >= 0 ? (size_t)len : 0;
    }
    fclose(f);
    return b;
}

static int spit(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = (n == 0 || fwrite(data, 1, n, f) == n);
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

// Writes raw bytes and expects st_read to reject them with a message.
static void expect_reject(const char *label, const void *data, size_t n, const char *needle) {
    char p[512], err[512] = "";
    path_in(p, sizeof p, "bad.safetensors");
    CHECK(spit(p, data, n) == 0);
    st_file f;
    int rc = st_read(p, &f, err, sizeof err);
    CHECK(rc == -1);
    CHECK(err[0] != '\0');
    CHECK(strstr(err, p) != NULL);
    if (needle && !strstr(err, needle)) {
        fprintf(stderr, "FAIL %s: error '%s' lacks '%s'\n", label, err, needle);
        test_failures++;
    }
    printf("reject %-28s -> %s\n", label, err);
    if (rc == 0) st_free(&f);
}

// A file with a hand-written header (length prefix computed here) and `data_len` zero bytes.
static void expect_reject_header(const char *label, const char *json, size_t data_len,
                                 const char *needle) {
    size_t h = strlen(json), n = 8 + h + data_len;
    uint8_t *b = calloc(1, n);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, json, h);
    expect_reject(label, b, n, needle);
    free(b);
}

static void test_round_trip(void) {
    float w[2 * 3 * 4];
    fill_random(w, 24, 7, 3.0f);
    w[0] = -0.0f;
    w[1] = 1e-38f;
    int64_t steps[3] = {0, -5, INT64_MAX};
    float scalar = 42.5f;
    st_tensor t[4];
    memset(t, 0, sizeof t);
    strcpy(t[0].name, "main.0.weight");
    t[0].dtype = ST_F32; t[0].ndim = 3; t[0].shape[0] = 2; t[0].shape[1] = 3; t[0].shape[2] = 4;
    t[0].data = w; t[0].nbytes = sizeof w;
    strcpy(t[1].name, "step");
    t[1].dtype = ST_I64; t[1].ndim = 1; t[1].shape[0] = 3;
    t[1].data = steps; t[1].nbytes = sizeof steps;
    strcpy(t[2].name, "scalar");
    t[2].dtype = ST_F32; t[2].ndim = 0; t[2].data = &scalar; t[2].nbytes = 4;
    strcpy(t[3].name, "empty");
    t[3].dtype = ST_F32; t[3].ndim = 2; t[3].shape[0] = 0; t[3].shape[1] = 5; t[3].data = NULL;
    t[3].nbytes = 0;
    st_meta m[2];
    memset(m, 0, sizeof m);
    strcpy(m[0].key, "format"); strcpy(m[0].value, "pt");
    strcpy(m[1].key, "args"); strcpy(m[1].value, "{\"lr\": 0.0002, \"name\": \"caf\xc3\xa9\"}");

    char p[512], err[512] = "";
    path_in(p, sizeof p, "ok.safetensors");
    CHECK(st_write(p, t, 4, m, 2, err, sizeof err) == 0);
    if (err[0]) printf("write error: %s\n", err);

    size_t n = 0;
    uint8_t *raw = slurp(p, &n);
    CHECK(raw != NULL && n >= 8);
    if (raw) {
        uint64_t h = 0;
        for (int i = 7; i >= 0; i--) h = (h << 8) | raw[i];
        CHECK((8 + h) % 8 == 0);
        CHECK(n == 8 + h + sizeof w + sizeof steps + 4);
        CHECK(memcmp(raw + 8, "{\"__metadata__\":", 16) == 0);
        free(raw);
    }

    st_file f;
    CHECK(st_read(p, &f, err, sizeof err) == 0);
    CHECK(f.ntensors == 4 && f.nmeta == 2);
    const st_tensor *a = st_find(&f, "main.0.weight"), *b = st_find(&f, "step");
    const st_tensor *c = st_find(&f, "scalar"), *e = st_find(&f, "empty");
    CHECK(a && b && c && e && !st_find(&f, "missing"));
    if (a && b && c && e) {
        CHECK(a->dtype == ST_F32 && a->ndim == 3 && a->shape[2] == 4 && a->nbytes == sizeof w);
        CHECK(memcmp(a->data, w, sizeof w) == 0);
        CHECK(b->dtype == ST_I64 && b->ndim == 1 && b->shape[0] == 3);
        CHECK(memcmp(b->data, steps, sizeof steps) == 0);
        CHECK(((uintptr_t)a->data % 8) == 0 && ((uintptr_t)b->data % 8) == 0);
        CHECK(c->ndim == 0 && c->nbytes == 4 && memcmp(c->data, &scalar, 4) == 0);
        CHECK(e->ndim == 2 && e->shape[0] == 0 && e->shape[1] == 5 && e->nbytes == 0);
    }
    CHECK(st_meta_get(&f, "format") && strcmp(st_meta_get(&f, "format"), "pt") == 0);
    CHECK(st_meta_get(&f, "args") && strcmp(st_meta_get(&f, "args"), m[1].value) == 0);
    CHECK(st_meta_get(&f, "nope") == NULL);
    st_free(&f);
    CHECK(f.buffer == NULL && f.ntensors == 0);

    // Without metadata there is no __metadata__ key; overwriting an existing file works.
    CHECK(st_write(p, t, 2, NULL, 0, err, sizeof err) == 0);
    raw = slurp(p, &n);
    CHECK(raw && n > 16 && memcmp(raw + 8, "{\"main.0.weight\":", 17) == 0);
    free(raw);
    CHECK(st_read(p, &f, err, sizeof err) == 0);
    CHECK(f.ntensors == 2 && f.nmeta == 0 && st_meta_get(&f, "format") == NULL);
    st_free(&f);
}

static void test_write_errors(void) {
    char err[512] = "";
    float x = 1;
    st_tensor t;
    memset(&t, 0, sizeof t);
    strcpy(t.name, "x");
    t.dtype = ST_F32; t.ndim = 1; t.shape[0] = 1; t.data = &x; t.nbytes = 4;
    char p[512];
    snprintf(p, sizeof p, "%s/no/such/dir/x.safetensors", dir);
    CHECK(st_write(p, &t, 1, NULL, 0, err, sizeof err) == -1 && err[0]);
    printf("write into missing dir -> %s\n", err);
    path_in(p, sizeof p, "w.safetensors");
    t.nbytes = 8;   // inconsistent with the shape
    err[0] = '\0';
    CHECK(st_write(p, &t, 1, NULL, 0, err, sizeof err) == -1 && err[0]);
    t.nbytes = 4;
    st_tensor two[2] = {t, t};   // duplicate names
    err[0] = '\0';
    CHECK(st_write(p, two, 2, NULL, 0, err, sizeof err) == -1 && strstr(err, "duplicate"));
    FILE *probe = fopen(p, "rb");
    CHECK(probe == NULL);   // failed writes leave nothing behind
    if (probe) fclose(probe);
}

static void test_truncation(void) {
    float w[64];
    fill_random(w, 64, 3, 1.0f);
    st_tensor t;
    memset(&t, 0, sizeof t);
    strcpy(t.name, "main.0.weight");
    t.dtype = ST_F32; t.ndim = 2; t.shape[0] = 8; t.shape[1] = 8; t.data = w; t.nbytes = sizeof w;
    char p[512], err[512];
    path_in(p, sizeof p, "full.safetensors");
    CHECK(st_write(p, &t, 1, NULL, 0, err, sizeof err) == 0);
    size_t n = 0;
    uint8_t *raw = slurp(p, &n);
    CHECK(raw != NULL);
    if (!raw) return;
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--) h = (h << 8) | raw[i];
    size_t cuts[] = {0, 1, 7, 8, 9, 8 + (size_t)h / 2, 8 + (size_t)h - 1, 8 + (size_t)h,
                     8 + (size_t)h + 1, 8 + (size_t)h + 100, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "cut at %zu of %zu", cuts[i], n);
        expect_reject(label, raw, cuts[i], cuts[i] > 8 + h ? "truncated" : NULL);
    }
    // The exact message for a data section that is too short.
    expect_reject("short data", raw, 8 + (size_t)h + 100,
                  "ends at byte 256 but the data section has 100");
    // A header length larger than the file.
    uint8_t big[16] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, '{', '}'};
    expect_reject("huge header length", big, sizeof big, "header length");
    free(raw);
}

static void test_bad_headers(void) {
    expect_reject_header("corrupt JSON", "{\"a\": {\"dtype\": \"F32\",", 0, "invalid JSON");
    expect_reject_header("not an object", "[1, 2, 3]", 0, "not an object");
    expect_reject_header("wrong dtype",
        "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "F16");
    expect_reject_header("missing dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                         "dtype");
    expect_reject_header("offsets mismatch",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16, "span 12 bytes");
    expect_reject_header("offsets reversed",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 16, "data_offsets");
    expect_reject_header("offsets past end",
        "{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "truncated");
    expect_reject_header("negative shape",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape");
    expect_reject_header("float shape",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, "shape");
    expect_reject_header("huge shape",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4,
        "shape");
    expect_reject_header("non-string metadata", "{\"__metadata__\":{\"epoch\":3}}", 0, "epoch");
    expect_reject_header("duplicate key",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "invalid JSON");

    // An unpadded header written elsewhere still reads, with aligned data.
    const char *json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t h = strlen(json);
    uint8_t buf[128] = {0};
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, json, h);
    float v[2] = {1.5f, -2.25f};
    memcpy(buf + 8 + h, v, 8);
    char p[512], err[512] = "";
    path_in(p, sizeof p, "unpadded.safetensors");
    CHECK(h % 8 != 0);
    CHECK(spit(p, buf, 8 + h + 8) == 0);
    st_file f;
    CHECK(st_read(p, &f, err, sizeof err) == 0);
    const st_tensor *a = st_find(&f, "a");
    CHECK(a && (uintptr_t)a->data % 8 == 0 && memcmp(a->data, v, 8) == 0);
    st_free(&f);
}

static void test_missing(void) {
    char p[512], err[512] = "";
    path_in(p, sizeof p, "does-not-exist.safetensors");
    st_file f;
    CHECK(st_read(p, &f, err, sizeof err) == -1 && strstr(err, p));
    printf("reject %-28s -> %s\n", "nonexistent", err);
    err[0] = '\0';
    CHECK(st_read(dir, &f, err, sizeof err) == -1 && err[0]);
    printf("reject %-28s -> %s\n", "directory", err);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s", make_temp_dir("st"));
    test_round_trip();
    test_write_errors();
    test_truncation();
    test_bad_headers();
    test_missing();
    return test_summary("test_safetensors");
}
