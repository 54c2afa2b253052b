// PNG round trips, grid geometry and value mapping, and rejection of bad files.
#include "dcgan/viz.h"
#include "dcgan/io.h"
#include "test_util.h"

#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static void round_trip(const char *name, int w, int h, int c) {
    size_t n = (size_t)w * h * c;
    uint8_t *px = malloc(n);
    for (size_t i = 0; i < n; i++) px[i] = (uint8_t)(i * 37u + (i >> 5) * 11u);
    char p[512], err[512] = "";
    path_in(p, sizeof p, name);
    CHECK(png_write(p, px, w, h, c, err, sizeof err) == 0);
    if (err[0]) printf("%s\n", err);
    uint8_t *back = NULL;
    int bw = 0, bh = 0, bc = 0;
    CHECK(png_read(p, &back, &bw, &bh, &bc, err, sizeof err) == 0);
    CHECK(bw == w && bh == h && bc == c);
    CHECK(back && bw == w && bh == h && bc == c && memcmp(back, px, n) == 0);
    printf("round trip %-10s %dx%dx%d ok\n", name, w, h, c);
    free(back);
    free(px);
}

// Writes a PNG in a stored format png_write never produces (palette, 16-bit, low bit depth).
static int write_raw_png(const char *path, int w, int h, int depth, int color, png_bytep *rows,
                         const png_color *pal, int npal, const png_byte *trns, int ntrns) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0 ? 0 : -1;
}

static uint8_t *read_expect(const char *p, int w, int h, int c) {
    uint8_t *px = NULL;
    int bw = 0, bh = 0, bc = 0;
    char err[512] = "";
    int rc = png_read(p, &px, &bw, &bh, &bc, err, sizeof err);
    CHECK(rc == 0 && bw == w && bh == h && bc == c);
    if (rc) printf("%s\n", err);
    return rc == 0 && bw == w && bh == h && bc == c ? px : NULL;
}

static void test_read_expansions(void) {
    char p[512];
    // Palette with transparency -> RGBA.
    png_color pal[3] = {{10, 20, 30}, {200, 100, 50}, {0, 255, 0}};
    png_byte trns[2] = {0, 128};
    png_byte prow[2][2] = {{0, 1}, {2, 1}};
    png_bytep prows[2] = {prow[0], prow[1]};
    path_in(p, sizeof p, "pal.png");
    CHECK(write_raw_png(p, 2, 2, 8, PNG_COLOR_TYPE_PALETTE, prows, pal, 3, trns, 2) == 0);
    uint8_t *px = read_expect(p, 2, 2, 4);
    const uint8_t pexp[16] = {10, 20, 30, 0, 200, 100, 50, 128, 0, 255, 0, 255, 200, 100, 50, 128};
    CHECK(px && memcmp(px, pexp, 16) == 0);
    free(px);
    // 16-bit RGB -> 8-bit (0xFFFF -> 255, 0x0000 -> 0, 0x8080 -> 128).
    png_byte row16[6] = {0xff, 0xff, 0x00, 0x00, 0x80, 0x80};
    png_bytep rows16[1] = {row16};
    path_in(p, sizeof p, "rgb16.png");
    CHECK(write_raw_png(p, 1, 1, 16, PNG_COLOR_TYPE_RGB, rows16, NULL, 0, NULL, 0) == 0);
    px = read_expect(p, 1, 1, 3);
    CHECK(px && px[0] == 255 && px[1] == 0 && px[2] == 128);
    free(px);
    // 2-bit gray -> 8 bit (levels 0, 85, 170, 255).
    png_byte row2[1] = {0x1b};   // pixels 0, 1, 2, 3
    png_bytep rows2[1] = {row2};
    path_in(p, sizeof p, "gray2.png");
    CHECK(write_raw_png(p, 4, 1, 2, PNG_COLOR_TYPE_GRAY, rows2, NULL, 0, NULL, 0) == 0);
    px = read_expect(p, 4, 1, 1);
    CHECK(px && px[0] == 0 && px[1] == 85 && px[2] == 170 && px[3] == 255);
    free(px);
    printf("palette+tRNS, 16-bit and 2-bit gray expansions checked\n");
}

static void test_grid_geometry(void) {
    const int n = 10, c = 1, h = 3, w = 3;
    float img[10 * 9];
    for (int k = 0; k < n; k++)
        for (int i = 0; i < 9; i++)
            img[k * 9 + i] = (k % 3 == 0) ? -1.0f : (k % 3 == 1 ? 1.0f : 0.0f);
    int gw = 0, gh = 0;
    uint8_t *g = image_grid(img, n, c, h, w, 8, 2, &gw, &gh);
    CHECK(g != NULL);
    CHECK(gw == 42 && gh == 12);
    if (!g) return;
    // Image k sits at x = 2 + (k % 8) * 5, y = 2 + (k / 8) * 5; everything else is padding.
    int bad = 0;
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++) {
            int expect = 0;
            int cx = x - 2, cy = y - 2;
            if (cx >= 0 && cy >= 0 && cx % 5 < 3 && cy % 5 < 3) {
                int k = (cy / 5) * 8 + cx / 5;
                if (k < n) expect = (k % 3 == 0) ? 0 : (k % 3 == 1 ? 255 : 128);
            }
            if (g[y * gw + x] != expect) bad++;
        }
    CHECK(bad == 0);
    free(g);

    // Fewer images than columns: the grid narrows to n columns (make_grid xmaps = min(nrow, n)).
    g = image_grid(img, 3, c, h, w, 8, 2, &gw, &gh);
    CHECK(g && gw == 3 * 5 + 2 && gh == 7);
    free(g);
    // A single image comes back unpadded, as make_grid does.
    g = image_grid(img + 9, 1, c, h, w, 8, 2, &gw, &gh);
    CHECK(g && gw == 3 && gh == 3 && g[0] == 255);
    free(g);
    CHECK(image_grid(img, 0, c, h, w, 8, 2, &gw, &gh) == NULL);
    CHECK(image_grid(img, 2, c, h, w, 0, 2, &gw, &gh) == NULL);
}

static void test_value_mapping(void) {
    // Channel-planar RGB input becomes interleaved output.
    float img[3 * 1 * 4] = {-1.0f, 1.0f, 0.0f, -2.0f,      // R
                            3.0f, 0.5f, -0.5f, 0.001f,     // G
                            -0.999f, 0.999f, 1e-7f, -1e-7f};
    int gw = 0, gh = 0;
    uint8_t *g = image_grid(img, 1, 3, 1, 4, 8, 2, &gw, &gh);
    CHECK(g && gw == 4 && gh == 1);
    if (!g) return;
    const uint8_t expect[12] = {0, 255, 0,   255, 191, 255,   128, 64, 128,   0, 128, 127};
    for (int i = 0; i < 12; i++)
        if (g[i] != expect[i]) {
            fprintf(stderr, "FAIL value mapping at %d: got %d expected %d\n", i, g[i], expect[i]);
            test_failures++;
        }
    free(g);
}

static void test_save(void) {
    float img[2 * 3 * 4 * 5];
    fill_random(img, sizeof img / sizeof img[0], 5, 1.2f);
    char p[512], err[512] = "";
    path_in(p, sizeof p, "grid.png");
    CHECK(save_grid_png(p, img, 2, 3, 4, 5, 8, err, sizeof err) == 0);
    uint8_t *px = NULL;
    int w = 0, h = 0, c = 0;
    CHECK(png_read(p, &px, &w, &h, &c, err, sizeof err) == 0);
    CHECK(w == 2 * 7 + 2 && h == 8 && c == 3);
    int ref_w = 0, ref_h = 0;
    uint8_t *ref = image_grid(img, 2, 3, 4, 5, 8, 2, &ref_w, &ref_h);
    CHECK(px && ref && ref_w == w && ref_h == h && memcmp(px, ref, (size_t)w * h * 3) == 0);
    free(px);
    free(ref);
    path_in(p, sizeof p, "one.png");
    CHECK(save_image_png(p, img, 1, 4, 5, err, sizeof err) == 0);
    CHECK(png_read(p, &px, &w, &h, &c, err, sizeof err) == 0);
    CHECK(w == 5 && h == 4 && c == 1);
    free(px);
}

static int spit(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = (n == 0 || fwrite(data, 1, n, f) == n);
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void expect_read_fail(const char *label, const char *p) {
    uint8_t *px = (uint8_t *)1;
    int w, h, c;
    char err[512] = "";
    CHECK(png_read(p, &px, &w, &h, &c, err, sizeof err) == -1);
    CHECK(err[0] != '\0' && strstr(err, p) != NULL);
    CHECK(px == NULL);
    printf("reject %-22s -> %s\n", label, err);
}

static void test_rejects(void) {
    // A valid PNG cut at several points.
    uint8_t img[16 * 16 * 3];
    for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i * 97u ^ (i >> 3));
    char p[512], q[512], err[512] = "";
    path_in(p, sizeof p, "full.png");
    CHECK(png_write(p, img, 16, 16, 3, err, sizeof err) == 0);
    FILE *f = fopen(p, "rb");
    uint8_t buf[4096];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK(n > 60 && n < sizeof buf);
    path_in(q, sizeof q, "cut.png");
    size_t cuts[] = {4, 8, 20, 40, n / 2, n - 13};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "truncated at %zu/%zu", cuts[i], n);
        CHECK(spit(q, buf, cuts[i]) == 0);
        expect_read_fail(label, q);
    }
    path_in(q, sizeof q, "text.png");
    CHECK(spit(q, "this is not a png file at all\n", 30) == 0);
    expect_read_fail("not a PNG", q);
    path_in(q, sizeof q, "missing.png");
    expect_read_fail("nonexistent", q);

    snprintf(q, sizeof q, "%s/no/such/dir/out.png", dir);
    err[0] = '\0';
    CHECK(png_write(q, img, 16, 16, 3, err, sizeof err) == -1);
    CHECK(err[0] != '\0' && strstr(err, q) != NULL);
    printf("reject %-22s -> %s\n", "write to missing dir", err);
    err[0] = '\0';
    CHECK(png_write(p, img, 0, 16, 3, err, sizeof err) == -1 && err[0]);
    CHECK(png_write(p, img, 16, 16, 5, err, sizeof err) == -1 && err[0]);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s", make_temp_dir("png"));
    round_trip("gray.png", 13, 7, 1);
    round_trip("rgb.png", 5, 9, 3);
    round_trip("rgba.png", 8, 3, 4);
    round_trip("ga.png", 4, 4, 2);
    round_trip("one.png", 1, 1, 1);
    test_read_expansions();
    test_grid_geometry();
    test_value_mapping();
    test_save();
    test_rejects();
    return test_summary("test_png");
}
