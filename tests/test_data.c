// Image datasets: decoding (PNG, JPEG, WebP and their colour variants), the folder, LSUN and
// CIFAR-10 loaders with broken files among the good ones, the cache, the CLI's messages and
// exit codes, and a short training run on each kind. Every dataset is written here, with
// the libraries themselves.
#include "dcgan/data.h"
#include "dcgan/io.h"
#include "test_util.h"

#include <jpeglib.h>
#include <lmdb.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <webp/encode.h>
#include <zlib.h>

static char root[256];
static const char *bin;

// ---------------------------------------------------------------------------------------------
// Writers

static void picture(uint8_t *rgb, int w, int h, int seed) {   // interleaved RGB
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                rgb[(y * w + x) * 3 + c] = (uint8_t)(x * (3 + c) + y * (5 - c) + seed * 40);
}

static int write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

static uint8_t *jpeg_encode(const uint8_t *px, int w, int h, int gray, size_t *n) {
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    unsigned char *out = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&ci, &out, &len);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = gray ? 1 : 3;
    ci.in_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 90, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)px + (size_t)ci.next_scanline * w * (gray ? 1 : 3);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    *n = len;
    return out;
}

static void write_jpeg(const char *path, int w, int h, int seed, int gray) {
    uint8_t *rgb = malloc((size_t)w * h * 3);
    picture(rgb, w, h, seed);
    size_t n;
    uint8_t *j = jpeg_encode(rgb, w, h, gray, &n);   // gray reads the first w*h bytes
    CHECK(j && write_bytes(path, j, n) == 0);
    free(j);
    free(rgb);
}

static uint8_t *webp_encode(int w, int h, int seed, int alpha, size_t *n) {
    uint8_t *px = malloc((size_t)w * h * 4), *out = NULL;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    picture(rgb, w, h, seed);
    for (int i = 0; i < w * h; i++) {
        memcpy(px + 4 * i, rgb + 3 * i, 3);
        px[4 * i + 3] = (uint8_t)(i * 7);
    }
    *n = alpha ? WebPEncodeRGBA(px, w, h, w * 4, 90, &out) : WebPEncodeRGB(rgb, w, h, w * 3, 90, &out);
    free(px);
    free(rgb);
    return out;
}

static void write_webp(const char *path, int w, int h, int seed, int alpha) {
    size_t n;
    uint8_t *b = webp_encode(w, h, seed, alpha, &n);
    CHECK(b && n && write_bytes(path, b, n) == 0);
    WebPFree(b);
}

static void write_png(const char *path, int w, int h, int seed, int channels) {
    uint8_t *rgb = malloc((size_t)w * h * 3), *px = malloc((size_t)w * h * 4);
    picture(rgb, w, h, seed);
    for (int i = 0; i < w * h; i++)
        for (int c = 0; c < channels; c++) px[i * channels + c] = rgb[3 * i + (c < 3 ? c : 0)];
    char err[256];
    CHECK(png_write(path, px, w, h, channels, err, sizeof err) == 0);
    free(rgb);
    free(px);
}

// 16-bit RGB or a 4-colour palette, written with libpng directly.
static void write_png_special(const char *path, int w, int h, int sixteen) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!f || !png || !info || setjmp(png_jmpbuf(png))) { CHECK(!"png writer"); return; }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, sixteen ? 16 : 8,
                 sixteen ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {40, 80, 200}};
    if (!sixteen) png_set_PLTE(png, info, pal, 4);
    png_write_info(png, info);
    size_t stride = (size_t)w * (sixteen ? 6 : 1);
    uint8_t *row = malloc(stride);
    for (int y = 0; y < h; y++) {
        for (size_t i = 0; i < stride; i++) row[i] = (uint8_t)(sixteen ? (i % 2 ? 0x7f : 200) : (i + y) % 4);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    free(row);
}

static void path_of(char *out, size_t n, const char *dir, const char *name) {
    snprintf(out, n, "%s/%s", dir, name);
}

static void mkdir_in(char *out, size_t n, const char *dir, const char *name) {
    path_of(out, n, dir, name);
    CHECK(mkdir(out, 0700) == 0);
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

static int run_cli(const char *args, char *out, size_t outlen) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s 2>&1", root, bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect_cli(const char *label, const char *args, int want_ok, const char *needle) {
    static char out[65536];
    int rc = run_cli(args, out, sizeof out);
    int ok = want_ok ? rc == 0 : rc > 0;
    if (!ok || (needle && !strstr(out, needle))) {
        fprintf(stderr, "FAIL %s: dcgan %s -> exit %d, output:\n%s\n(wanted %s%s%s)\n", label, args,
                rc, out, want_ok ? "success" : "failure", needle ? " and text: " : "",
                needle ? needle : "");
        test_failures++;
        return;
    }
    // One line for an error: the last non-empty line names the problem.
    const char *last = out, *p = out;
    while ((p = strstr(p, "error:"))) last = p++;
    printf("%-34s exit %d%s%.*s\n", label, rc, want_ok ? "" : "  ", want_ok ? 0 : (int)strcspn(last, "\n"), last);
}

// ---------------------------------------------------------------------------------------------

static void test_resize_fixture(void) {
    FILE *f = fopen("fixtures/resize/cases.txt", "r");
    CHECK(f != NULL);
    if (!f) return;
    char src[256], ref[256];
    int size, nc, count = 0;
    while (fscanf(f, "%255s %255s %d %d", src, ref, &size, &nc) == 4) {
        char p[600], why[256] = "";
        snprintf(p, sizeof p, "fixtures/resize/%s", src);
        size_t len = 0;
        uint8_t *buf = slurp(p, &len), *img = NULL;
        int w = 0, h = 0;
        CHECK(buf && image_decode(buf, len, nc, &img, &w, &h, why, sizeof why) == 0);
        free(buf);
        if (!img) { fprintf(stderr, "%s: %s\n", p, why); continue; }
        uint8_t *got = malloc((size_t)nc * size * size), *want = NULL;
        resize_center_crop(got, img, nc, h, w, size);
        snprintf(p, sizeof p, "fixtures/resize/%s", ref);
        int rw = 0, rh = 0, rc = 0;
        CHECK(png_read(p, &want, &rw, &rh, &rc, why, sizeof why) == 0);
        CHECK(rw == size && rh == size && rc == nc);
        double sum = 0;
        int worst = 0;
        for (int c = 0; want && c < nc && rc == nc; c++)
            for (int i = 0; i < size * size; i++) {
                int d = abs((int)got[(size_t)c * size * size + i] - (int)want[(size_t)i * nc + c]);
                sum += d;
                if (d > worst) worst = d;
            }
        double mean = sum / ((double)nc * size * size);
        CHECK(mean <= 1.0);   // 1/255 on the [0, 1] scale
        // Lossless sources go through exactly the same arithmetic as Pillow.
        if (strstr(src, ".png")) CHECK(worst == 0);
        printf("resize %-20s -> %3d px nc %d: mean |diff| %.4f/255, max %d\n", src, size, nc, mean,
               worst);
        count++;
        free(img);
        free(got);
        free(want);
    }
    fclose(f);
    CHECK(count == 12);
}

static void test_decode_variants(void) {
    char dir[512], p[600], why[256];
    mkdir_in(dir, sizeof dir, root, "decode");
    struct { const char *name; int kind; } files[] = {
        {"rgb.png", 0}, {"gray.png", 1}, {"graya.png", 2}, {"rgba.png", 3}, {"pal.png", 4},
        {"p16.png", 5}, {"rgb.jpg", 6}, {"gray.jpg", 7}, {"rgb.webp", 8}, {"rgba.webp", 9}};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        path_of(p, sizeof p, dir, files[k].name);
        switch (files[k].kind) {
        case 0: write_png(p, 19, 13, 1, 3); break;
        case 1: write_png(p, 19, 13, 1, 1); break;
        case 2: write_png(p, 19, 13, 1, 2); break;
        case 3: write_png(p, 19, 13, 1, 4); break;
        case 4: write_png_special(p, 19, 13, 0); break;
        case 5: write_png_special(p, 19, 13, 1); break;
        case 6: write_jpeg(p, 19, 13, 1, 0); break;
        case 7: write_jpeg(p, 19, 13, 1, 1); break;
        case 8: write_webp(p, 19, 13, 1, 0); break;
        default: write_webp(p, 19, 13, 1, 1); break;
        }
        size_t len = 0;
        uint8_t *buf = slurp(p, &len);
        for (int nc = 1; nc <= 3; nc += 2) {
            uint8_t *img = NULL;
            int w = 0, h = 0;
            int rc = image_decode(buf, len, nc, &img, &w, &h, why, sizeof why);
            CHECK(rc == 0 && w == 19 && h == 13 && img);
            if (rc) fprintf(stderr, "%s: %s\n", files[k].name, why);
            if (img && nc == 3 && files[k].kind == 0) {   // lossless RGB: exact, planar
                uint8_t rgb[19 * 13 * 3];
                picture(rgb, 19, 13, 1);
                int bad = 0;
                for (int i = 0; i < 19 * 13; i++)
                    for (int c = 0; c < 3; c++) bad += img[c * 19 * 13 + i] != rgb[3 * i + c];
                CHECK(bad == 0);
            }
            if (img && nc == 3 && (files[k].kind == 1 || files[k].kind == 2 || files[k].kind == 7))
                CHECK(memcmp(img, img + 19 * 13, 19 * 13) == 0);   // gray replicated
            if (img && files[k].kind == 4 && nc == 3)
                CHECK(img[0] == 0 && img[1] == 255 && img[19 * 13 + 2] == 255 && img[2 * 19 * 13 + 3] == 200);
            if (img && files[k].kind == 5 && nc == 3)
                CHECK(img[0] == 200 && img[19 * 13] == 200);   // 16-bit: high byte, as PIL
            free(img);
        }
        free(buf);
    }
    // Broken inputs: refused with a reason, never a crash.
    uint8_t junk[64];
    for (int i = 0; i < 64; i++) junk[i] = (uint8_t)(i * 37);
    const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *img = NULL;
    int w, h;
    CHECK(image_decode(junk, sizeof junk, 3, &img, &w, &h, why, sizeof why) == -1 && !img);
    CHECK(image_decode(png_sig, 8, 3, &img, &w, &h, why, sizeof why) == -1 && strstr(why, "PNG"));
    CHECK(image_decode(junk, 0, 3, &img, &w, &h, why, sizeof why) == -1 && strstr(why, "empty"));
    path_of(p, sizeof p, dir, "rgb.jpg");
    size_t len;
    uint8_t *buf = slurp(p, &len);
    CHECK(image_decode(buf, len / 2, 3, &img, &w, &h, why, sizeof why) == -1);
    printf("truncated JPEG -> %s\n", why);
    free(buf);
    path_of(p, sizeof p, dir, "rgb.png");
    buf = slurp(p, &len);
    CHECK(image_decode(buf, len - 20, 3, &img, &w, &h, why, sizeof why) == -1);
    printf("truncated PNG -> %s\n", why);
    // A header claiming 100000 x 100000 pixels (valid CRC) is refused before any allocation.
    buf[16] = 0; buf[17] = 1; buf[18] = 0x86; buf[19] = 0xa0;
    buf[20] = 0; buf[21] = 1; buf[22] = 0x86; buf[23] = 0xa0;
    uint32_t crc = (uint32_t)crc32(0, buf + 12, 17);
    for (int i = 0; i < 4; i++) buf[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    CHECK(image_decode(buf, len, 3, &img, &w, &h, why, sizeof why) == -1);
    CHECK(strstr(why, "too large") != NULL);
    printf("huge PNG header -> %s\n", why);
    free(buf);
    path_of(p, sizeof p, dir, "rgb.webp");
    buf = slurp(p, &len);
    CHECK(image_decode(buf, len - 10, 3, &img, &w, &h, why, sizeof why) == -1);
    printf("truncated WebP -> %s\n", why);
    free(buf);
    CHECK(image_sniff((const uint8_t *)"RIFF\0\0\0\0WEBPVP8 ", 16) == IMAGE_WEBP);
    CHECK(image_sniff((const uint8_t *)"\xff\xd8\xff\xe0", 4) == IMAGE_JPEG);
}

// Two classes of good images of every format, plus broken files.
static void make_folder(char *dir, size_t n) {
    char cls[600], p[700];
    mkdir_in(dir, n, root, "folder");
    mkdir_in(cls, sizeof cls, dir, "cat");
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/c%d.jpg", cls, i);
        write_jpeg(p, 40 + i, 50, i, i == 3);
    }
    path_of(p, sizeof p, cls, "alpha.png");
    write_png(p, 30, 20, 5, 4);
    path_of(p, sizeof p, cls, "notes.txt");   // not an image: ignored
    CHECK(write_bytes(p, "hello", 5) == 0);
    mkdir_in(cls, sizeof cls, dir, "dog");
    path_of(p, sizeof p, cls, "d0.webp");
    write_webp(p, 33, 33, 6, 0);
    path_of(p, sizeof p, cls, "d1.WEBP");
    write_webp(p, 33, 40, 7, 1);
    path_of(p, sizeof p, cls, "d2.png");
    write_png_special(p, 25, 25, 0);
    char sub[700];
    mkdir_in(sub, sizeof sub, cls, "nested");
    path_of(p, sizeof p, sub, "d3.png");
    write_png_special(p, 25, 25, 1);
    path_of(p, sizeof p, sub, "d4.png");   // a JPEG named .png: the content decides
    write_jpeg(p, 30, 30, 8, 0);
    // Broken: garbage, truncated, empty.
    path_of(p, sizeof p, cls, "a_garbage.png");
    CHECK(write_bytes(p, "this is not an image at all", 27) == 0);
    char good[700];
    path_of(good, sizeof good, dir, "cat/c0.jpg");
    size_t len;
    uint8_t *b = slurp(good, &len);
    path_of(p, sizeof p, cls, "b_truncated.jpg");
    CHECK(b && write_bytes(p, b, len / 2) == 0);
    free(b);
    path_of(p, sizeof p, cls, "c_empty.webp");
    CHECK(write_bytes(p, "", 0) == 0);
}

static void test_folder(void) {
    char dir[512], err[1024] = "";
    make_folder(dir, sizeof dir);
    dcgan_dataset ds;
    dataset_options opt = {0};
    CHECK(dataset_load_opts(&ds, "folder", dir, 32, 3, 0, &opt, err, sizeof err) == 0);
    CHECK(ds.n == 10 && ds.c == 3 && ds.h == 32 && ds.nclasses == 2 && ds.labels);
    CHECK(ds.class_names && !strcmp(ds.class_names[0], "cat") && !strcmp(ds.class_names[1], "dog"));
    int count[2] = {0, 0};
    for (int i = 0; ds.labels && i < ds.n; i++) count[ds.labels[i] & 1]++;
    CHECK(count[0] == 5 && count[1] == 5);
    printf("folder: %d images, classes %s (%d) and %s (%d)\n", ds.n, ds.class_names[0], count[0],
           ds.class_names[1], count[1]);
    dataset_free(&ds);
    opt.strict = 1;
    CHECK(dataset_load_opts(&ds, "folder", dir, 32, 3, 0, &opt, err, sizeof err) == -1);
    CHECK(strstr(err, "a_garbage.png") && strstr(err, "--strict"));
    printf("folder --strict -> %s\n", err);

    // A flat folder (CelebA's img_align_celeba/*.jpg): no classes, no labels.
    char flat[600], p[700];
    mkdir_in(flat, sizeof flat, root, "img_align_celeba");
    for (int i = 0; i < 9; i++) {
        snprintf(p, sizeof p, "%s/%06d.jpg", flat, i + 1);
        write_jpeg(p, 178, 218, i, 0);
    }
    CHECK(dataset_load(&ds, "folder", flat, 16, 1, 0, err, sizeof err) == 0);
    CHECK(ds.n == 9 && ds.nclasses == 0 && ds.labels == NULL && ds.c == 1 && ds.h == 16);
    dataset_free(&ds);

    char empty[600];
    mkdir_in(empty, sizeof empty, root, "empty-folder");
    mkdir_in(p, sizeof p, empty, "sub");
    CHECK(dataset_load(&ds, "folder", empty, 32, 3, 0, err, sizeof err) == -1 && strstr(err, "no images"));
    printf("empty folder -> %s\n", err);
    path_of(p, sizeof p, root, "missing");
    CHECK(dataset_load(&ds, "folder", p, 32, 3, 0, err, sizeof err) == -1 && strstr(err, "cannot access"));
    printf("missing folder -> %s\n", err);
    // Only broken files: an error, not an empty dataset.
    char broken[600];
    mkdir_in(broken, sizeof broken, root, "broken-only");
    path_of(p, sizeof p, broken, "x.jpg");
    CHECK(write_bytes(p, "\xff\xd8\xff", 3) == 0);
    CHECK(dataset_load(&ds, "folder", broken, 32, 3, 0, err, sizeof err) == -1 && strstr(err, "none of"));
    printf("undecodable folder -> %s\n", err);
}

static void lmdb_put_all(const char *dir, int count, int broken) {
    CHECK(mkdir(dir, 0700) == 0);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    CHECK(mdb_env_create(&env) == 0);
    CHECK(mdb_env_set_mapsize(env, 64u << 20) == 0);
    CHECK(mdb_env_open(env, dir, 0, 0664) == 0);
    CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    CHECK(mdb_dbi_open(txn, NULL, 0, &dbi) == 0);
    for (int i = 0; i < count + broken; i++) {
        char key[64];
        snprintf(key, sizeof key, "%040x", i * 2654435761u);
        size_t n = 0;
        uint8_t *b = NULL;
        int webp = i % 2 == 0;
        if (i >= count) {
            n = 20;
            b = malloc(n);
            memcpy(b, "RIFF\x10\0\0\0WEBPVP8 broken", n);
            webp = 2;
        }
        else if (webp) b = webp_encode(64 + i, 48, i, 0, &n);
        else {
            uint8_t *rgb = malloc(48 * 64 * 3);
            picture(rgb, 48, 64, i);
            b = jpeg_encode(rgb, 48, 64, 0, &n);
            free(rgb);
        }
        MDB_val k = {strlen(key), key}, v = {n, b};
        CHECK(mdb_put(txn, dbi, &k, &v, 0) == 0);
        if (webp == 1) WebPFree(b);
        else free(b);
    }
    CHECK(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
}

static void test_lsun(void) {
    char dir[512], db[600], err[1024];
    mkdir_in(dir, sizeof dir, root, "lsun");
    path_of(db, sizeof db, dir, "bedroom_train_lmdb");
    lmdb_put_all(db, 6, 1);
    path_of(db, sizeof db, dir, "church_outdoor_train_lmdb");
    lmdb_put_all(db, 4, 0);
    path_of(db, sizeof db, dir, "tower_train_lmdb");
    lmdb_put_all(db, 3, 0);
    // The databases are read-only from here on: no lock file is needed or written.
    char p[700];
    path_of(p, sizeof p, dir, "bedroom_train_lmdb/lock.mdb");
    unlink(p);
    path_of(p, sizeof p, dir, "bedroom_train_lmdb");
    CHECK(chmod(p, 0500) == 0);
    dcgan_dataset ds;
    dataset_options opt = {.classes = "bedroom,church_outdoor"};
    CHECK(dataset_load_opts(&ds, "lsun", dir, 32, 3, 0, &opt, err, sizeof err) == 0);
    CHECK(ds.n == 10 && ds.nclasses == 2 && ds.labels);
    CHECK(ds.class_names && !strcmp(ds.class_names[0], "bedroom") && !strcmp(ds.class_names[1], "church_outdoor"));
    int c1 = 0;
    for (int i = 0; ds.labels && i < ds.n; i++) c1 += ds.labels[i] == 1;
    CHECK(c1 == 4);
    printf("lsun --classes bedroom,church_outdoor: %d images, %d church_outdoor\n", ds.n, c1);
    dataset_free(&ds);
    CHECK(access(p, W_OK) != 0 || getuid() == 0);   // still read-only
    path_of(p, sizeof p, dir, "bedroom_train_lmdb/lock.mdb");
    CHECK(access(p, F_OK) != 0);
    // One database given directly; all databases of a directory.
    path_of(p, sizeof p, dir, "tower_train_lmdb");
    CHECK(dataset_load(&ds, "lsun", p, 16, 3, 0, err, sizeof err) == 0);
    CHECK(ds.n == 3 && ds.nclasses == 1 && !strcmp(ds.class_names[0], "tower"));
    dataset_free(&ds);
    CHECK(dataset_load(&ds, "lsun", dir, 16, 3, 0, err, sizeof err) == 0 && ds.n == 13 && ds.nclasses == 3);
    dataset_free(&ds);
    opt.strict = 1;
    opt.classes = "bedroom";
    CHECK(dataset_load_opts(&ds, "lsun", dir, 16, 3, 0, &opt, err, sizeof err) == -1 && strstr(err, "bedroom_train_lmdb:"));
    printf("lsun --strict -> %s\n", err);
    opt = (dataset_options){.classes = "kitchen"};
    CHECK(dataset_load_opts(&ds, "lsun", dir, 16, 3, 0, &opt, err, sizeof err) == -1 && strstr(err, "kitchen"));
    printf("lsun missing class -> %s\n", err);
    // An unreadable database.
    char bad[600];
    mkdir_in(bad, sizeof bad, root, "bad_lmdb");
    path_of(p, sizeof p, bad, "data.mdb");
    char junk[8192];
    memset(junk, 0x5a, sizeof junk);
    CHECK(write_bytes(p, junk, sizeof junk) == 0);
    CHECK(dataset_load(&ds, "lsun", bad, 16, 3, 0, err, sizeof err) == -1 && strstr(err, "cannot read LSUN database"));
    printf("corrupt LMDB -> %s\n", err);
    path_of(p, sizeof p, root, "folder");
    CHECK(dataset_load(&ds, "lsun", p, 16, 3, 0, err, sizeof err) == -1 && strstr(err, "no LSUN database"));
    printf("wrong kind (folder as lsun) -> %s\n", err);
}

static void make_cifar(char *dir, size_t n) {
    mkdir_in(dir, n, root, "cifar-10-batches-bin");
    uint8_t rec[CIFAR_RECORD * 7];
    for (int r = 0; r < 7; r++) {
        rec[r * CIFAR_RECORD] = (uint8_t)(r % 10);
        for (int i = 0; i < 3072; i++) rec[r * CIFAR_RECORD + 1 + i] = (uint8_t)(i / 32 * 8 + r);
    }
    char p[700];
    path_of(p, sizeof p, dir, "data_batch_1.bin");
    CHECK(write_bytes(p, rec, CIFAR_RECORD * 5) == 0);
    rec[CIFAR_RECORD] = 42;   // a bad label in the second batch's second record
    path_of(p, sizeof p, dir, "data_batch_2.bin");
    CHECK(write_bytes(p, rec, CIFAR_RECORD * 3 + 100) == 0);   // and a truncated tail
    path_of(p, sizeof p, dir, "batches.meta.txt");
    const char *names = "plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";
    CHECK(write_bytes(p, names, strlen(names)) == 0);
}

static void test_cifar(void) {
    char dir[512], err[1024];
    make_cifar(dir, sizeof dir);
    dcgan_dataset ds;
    CHECK(dataset_load(&ds, "cifar10", root, 32, 3, 0, err, sizeof err) == 0);   // the parent works
    CHECK(ds.n == 7 && ds.nclasses == 10 && ds.labels && !strcmp(ds.class_names[1], "car"));
    CHECK(ds.labels && ds.labels[0] == 0 && ds.labels[4] == 4 && ds.labels[5] == 0 && ds.labels[6] == 2);
    // 32 -> 32 is a copy of the planes.
    CHECK(ds.pixels[0] == 0 && ds.pixels[32] == 8 && ds.pixels[3 * 1024 + 1] == 1);
    printf("cifar10: %d records, labels %d %d %d, class 1 '%s'\n", ds.n, ds.labels[0], ds.labels[5],
           ds.labels[6], ds.class_names[1]);
    dataset_free(&ds);
    dataset_options opt = {.strict = 1};
    CHECK(dataset_load_opts(&ds, "cifar10", dir, 32, 3, 0, &opt, err, sizeof err) == -1 && strstr(err, "data_batch_2.bin#1"));
    printf("cifar10 --strict -> %s\n", err);
    char p[700];
    path_of(p, sizeof p, root, "empty-folder");
    CHECK(dataset_load(&ds, "cifar10", p, 32, 3, 0, err, sizeof err) == -1 && strstr(err, "data_batch_1.bin"));
    printf("cifar10 missing -> %s\n", err);
    int nrec, bad;
    size_t tail;
    uint8_t one[CIFAR_RECORD] = {11};
    CHECK(cifar_scan(one, sizeof one, &nrec, &bad, &tail) == 0 && nrec == 1 && bad == 1 && tail == 0);
    CHECK(cifar_scan(one, 100, &nrec, &bad, &tail) == -1 && tail == 100);
}

static void test_cache(void) {
    char dir[600], cache[600], err[1024], p[700];
    path_of(dir, sizeof dir, root, "img_align_celeba");
    path_of(cache, sizeof cache, root, "cache");
    dcgan_dataset a, b, c;
    dataset_options opt = {.cache = cache};
    CHECK(dataset_load_opts(&a, "folder", dir, 16, 3, 0, &opt, err, sizeof err) == 0 && a.map == NULL);
    CHECK(dataset_load_opts(&b, "folder", dir, 16, 3, 0, &opt, err, sizeof err) == 0 && b.map != NULL);
    CHECK(a.n == b.n && memcmp(a.pixels, b.pixels, (size_t)a.n * 3 * 16 * 16) == 0);
    printf("cache: second load mapped, %d images identical\n", b.n);
    dataset_free(&b);
    // Another size: another cache file; the first stays valid.
    CHECK(dataset_load_opts(&c, "folder", dir, 8, 3, 0, &opt, err, sizeof err) == 0 && c.map == NULL && c.h == 8);
    dataset_free(&c);
    // A changed source makes the cache stale: rebuilt, with the new image.
    snprintf(p, sizeof p, "%s/%06d.jpg", dir, 100);
    write_jpeg(p, 178, 218, 77, 0);
    CHECK(dataset_load_opts(&b, "folder", dir, 16, 3, 0, &opt, err, sizeof err) == 0);
    CHECK(b.map == NULL && b.n == a.n + 1);
    dataset_free(&b);
    CHECK(dataset_load_opts(&b, "folder", dir, 16, 3, 0, &opt, err, sizeof err) == 0 && b.map && b.n == a.n + 1);
    dataset_free(&b);
    printf("cache: stale cache rebuilt (%d -> %d images)\n", a.n, a.n + 1);
    // An explicit cache file built with other settings is an error, not overwritten.
    path_of(p, sizeof p, root, "celeba.dcgancache");
    opt.cache = p;
    CHECK(dataset_load_opts(&b, "folder", dir, 16, 3, 0, &opt, err, sizeof err) == 0);
    dataset_free(&b);
    CHECK(dataset_load_opts(&b, "folder", dir, 24, 3, 0, &opt, err, sizeof err) == -1 && strstr(err, "was built from"));
    printf("cache other settings -> %s\n", err);
    CHECK(dataset_load_opts(&b, "folder", dir, 16, 3, 0, &opt, err, sizeof err) == 0 && b.map);
    dataset_free(&b);
    // A file that is not a cache is left alone.
    path_of(p, sizeof p, root, "notes.dcgancache");
    CHECK(write_bytes(p, "precious", 8) == 0);
    CHECK(dataset_load_opts(&b, "folder", dir, 16, 3, 0, &opt, err, sizeof err) == -1 && strstr(err, "truncated"));
    size_t len;
    uint8_t *keep = slurp(p, &len);
    CHECK(keep && len == 8 && !memcmp(keep, "precious", 8));
    free(keep);
    // Corrupted caches are refused by the parser: every single-byte header change and truncation.
    opt.cache = cache;
    CHECK(dataset_load_opts(&b, "folder", dir, 16, 3, 0, &opt, err, sizeof err) == 0 && b.map);
    uint8_t *img = malloc(b.map_bytes);
    memcpy(img, b.map, b.map_bytes);
    size_t total = b.map_bytes;
    dataset_free(&b);
    cache_header h;
    int refused = 0;
    for (size_t i = 0; i < 4096; i += 7) {
        img[i] ^= 0x41;
        if (cache_parse(img, total, &h, &c, err, sizeof err)) refused++;
        else { c.pixels = NULL; dataset_free(&c); }
        img[i] ^= 0x41;
    }
    CHECK(refused == (4096 + 6) / 7);
    CHECK(cache_parse(img, total - 1, &h, &c, err, sizeof err) == -1);
    CHECK(cache_parse(img, total, &h, &c, err, sizeof err) == 0 && c.n == a.n + 1);
    c.pixels = NULL;
    dataset_free(&c);
    free(img);
    dataset_free(&a);
}

static void test_cli(void) {
    char args[2048];
    const char *tiny = "--size 32 --ngf 8 --ndf 8 --batch-size 8 --iters 2 --device cpu --sample-every 0";
    snprintf(args, sizeof args, "train --dataset folder --data folder --nc 3 %s --out run-folder", tiny);
    expect_cli("train folder (3 broken files)", args, 1, "skipped 3 of 13 files");
    snprintf(args, sizeof args, "train --dataset folder --data folder --nc 3 %s --out run-folder", tiny);
    expect_cli("train folder again (cache)", args, 1, "using cache run-folder/folder-folder-32px-3c-");
    snprintf(args, sizeof args, "train --dataset folder --data folder --nc 3 --strict %s --out run-strict", tiny);
    expect_cli("train folder --strict", args, 0, "a_garbage.png: not a PNG, JPEG or WebP image");
    snprintf(args, sizeof args, "train --dataset lsun --data lsun --classes bedroom,church_outdoor --nc 3 %s --out run-lsun", tiny);
    expect_cli("train lsun", args, 1, "done: 2 iterations");
    snprintf(args, sizeof args, "train --dataset cifar10 --data cifar-10-batches-bin --nc 3 %s --batch-size 4 --out run-cifar", tiny);
    expect_cli("train cifar10", args, 1, "skipped 2 of 9 records");
    snprintf(args, sizeof args, "train --dataset folder --data img_align_celeba --nc 1 %s --out run-celeba", tiny);
    expect_cli("train flat folder", args, 1, "done: 2 iterations");
    expect_cli("prepare folder", "prepare --dataset folder --data img_align_celeba --size 32 --nc 3 --cache prep", 1,
               "prepared 10 images of 3x32x32");
    snprintf(args, sizeof args, "train --dataset folder --data img_align_celeba --nc 3 --cache prep %s --out run-prep", tiny);
    expect_cli("train after prepare", args, 1, "using cache prep/");
    expect_cli("wrong kind", "train --dataset celeba --data folder", 0, "unknown kind 'celeba'");
    expect_cli("missing path", "train --dataset folder --data nowhere --device cpu --out run-x", 0, "nowhere: cannot access");
    expect_cli("empty dataset", "train --dataset folder --data empty-folder --device cpu --out run-x", 0, "no images found");
    expect_cli("unreadable LMDB", "train --dataset lsun --data bad_lmdb --device cpu --out run-x", 0, "cannot read LSUN database");
    expect_cli("folder as cifar10", "train --dataset cifar10 --data folder --device cpu --out run-x", 0, "no CIFAR-10 binary batches");
    expect_cli("cache with other settings", "train --dataset folder --data img_align_celeba --size 64 --nc 3 --cache celeba.dcgancache --device cpu --out run-x",
               0, "was built from");
    expect_cli("prepare without --data", "prepare --dataset folder", 0, "needs --data");
}

int main(void) {
    bin = getenv("DCGAN_BIN");
    snprintf(root, sizeof root, "%s", make_temp_dir("data"));
    test_resize_fixture();
    test_decode_variants();
    test_folder();
    test_lsun();
    test_cifar();
    test_cache();
    if (bin) test_cli();
    else printf("DCGAN_BIN not set: command-line checks skipped\n");
    return test_summary("test_data");
}
