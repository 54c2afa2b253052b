// Writes a small seed corpus for the fuzzers into DIR/<target>/: tiny valid PNG, JPEG and WebP
// images (several colour types), a dataset cache, IDX files (plain and gzip) and a CIFAR batch.
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>
#include <string.h>
#include <sys/stat.h>
#include <webp/encode.h>
#include <zlib.h>
#include "dcgan/data.h"
#include "dcgan/io.h"

static const char *root;

static void put(const char *target, const char *name, const void *data, size_t n) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, target);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/%s/%s", root, target, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f)) { fprintf(stderr, "cannot write %s\n", p); exit(1); }
}

static void pixels(uint8_t *px, int n) { for (int i = 0; i < n; i++) px[i] = (uint8_t)(i * 13 + i / 5); }

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_seeds DIR\n"); return 2; }
    root = argv[1];
    mkdir(root, 0777);
    uint8_t px[16 * 12 * 4];
    pixels(px, sizeof px);
    char err[256], p[1024];
    // PNG: gray, gray+alpha, RGB, RGBA (written through png_write, then read back as bytes).
    for (int c = 1; c <= 4; c++) {
        snprintf(p, sizeof p, "%s/tmp.png", root);
        if (png_write(p, px, 16, 12, c, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        FILE *f = fopen(p, "rb");
        uint8_t buf[8192];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        remove(p);
        char name[32];
        snprintf(name, sizeof name, "c%d.png", c);
        put("png", name, buf, n);
    }
    // JPEG: gray and RGB, baseline and progressive.
    for (int k = 0; k < 4; k++) {
        struct jpeg_compress_struct ci;
        struct jpeg_error_mgr jerr;
        ci.err = jpeg_std_error(&jerr);
        jpeg_create_compress(&ci);
        unsigned char *out = NULL;
        unsigned long len = 0;
        jpeg_mem_dest(&ci, &out, &len);
        ci.image_width = 16;
        ci.image_height = 12;
        ci.input_components = k & 1 ? 1 : 3;
        ci.in_color_space = k & 1 ? JCS_GRAYSCALE : JCS_RGB;
        jpeg_set_defaults(&ci);
        if (k & 2) jpeg_simple_progression(&ci);
        jpeg_start_compress(&ci, TRUE);
        while (ci.next_scanline < ci.image_height) {
            JSAMPROW row = px + ci.next_scanline * 16 * ci.input_components;
            jpeg_write_scanlines(&ci, &row, 1);
        }
        jpeg_finish_compress(&ci);
        jpeg_destroy_compress(&ci);
        char name[32];
        snprintf(name, sizeof name, "k%d.jpg", k);
        put("jpeg", name, out, len);
        free(out);
    }
    // WebP: lossy RGB, lossy RGBA, lossless.
    uint8_t *w = NULL;
    size_t n = WebPEncodeRGB(px, 16, 12, 48, 80, &w);
    put("webp", "lossy.webp", w, n);
    WebPFree(w);
    n = WebPEncodeRGBA(px, 16, 12, 64, 80, &w);
    put("webp", "alpha.webp", w, n);
    WebPFree(w);
    n = WebPEncodeLosslessRGB(px, 16, 12, 48, &w);
    put("webp", "lossless.webp", w, n);
    WebPFree(w);
    // Cache: a tiny labelled dataset.
    dcgan_dataset ds = {.n = 3, .c = 3, .h = 4, .w = 4, .pixels = px};
    int32_t labels[3] = {0, 1, 1};
    ds.labels = labels;
    char *names[2] = {"a", "bb"};
    ds.class_names = names;
    ds.nclasses = 2;
    cache_header h = {.kind = "folder", .source = "/data/x", .preprocess = "seed", .fingerprint = 7};
    snprintf(p, sizeof p, "%s/tmp.cache", root);
    if (cache_write(p, &h, &ds, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    FILE *f = fopen(p, "rb");
    static uint8_t cbuf[1 << 16];
    n = fread(cbuf, 1, sizeof cbuf, f);
    fclose(f);
    remove(p);
    put("cache", "labelled.cache", cbuf, n);
    // IDX: 2 images of 3x2, and 2 labels; plus a gzip copy of the images.
    uint8_t idx[16 + 12] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2};
    memcpy(idx + 16, px, 12);
    put("idx", "images.idx", idx, sizeof idx);
    uint8_t lab[10] = {0, 0, 8, 1, 0, 0, 0, 2, 3, 7};
    put("idx", "labels.idx", lab, sizeof lab);
    uint8_t gz[256];
    uLongf glen = sizeof gz;
    z_stream zs = {0};
    deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);   // gzip wrapper
    zs.next_in = idx;
    zs.avail_in = sizeof idx;
    zs.next_out = gz;
    zs.avail_out = sizeof gz;
    deflate(&zs, Z_FINISH);
    glen = zs.total_out;
    deflateEnd(&zs);
    put("idx", "images.idx.gz", gz, glen);
    // CIFAR: two records.
    static uint8_t rec[2 * CIFAR_RECORD];
    pixels(rec, sizeof rec);
    rec[0] = 3;
    rec[CIFAR_RECORD] = 9;
    put("cifar", "two.bin", rec, sizeof rec);
    printf("seeds written to %s\n", root);
    return 0;
}
