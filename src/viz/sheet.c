// Grids with text in the cells' corners: the image pixels are copied into a cairo surface,
// the labels drawn by cairo (outlined text, readable on any background), the result written
// through png_write so it is atomic like every other PNG of the project.
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/error.h"
#include "dcgan/viz.h"
#include "dcgan/io.h"

#define PAD 2
#define MIN_CELL 64     // small images are scaled up so a label covers only a corner of them

static int cairo_failed(cairo_status_t st, const char *path, const char *what, char *err, size_t errlen) {
    if (st == CAIRO_STATUS_SUCCESS) return 0;
    path_error(err, errlen, path, "%s: %s", what, cairo_status_to_string(st));
    return 1;
}

// The grid's pixels (c channels, gw wide) into the surface, nearest-neighbour scaled by f:
// RGB24 is one native-endian 32-bit word per pixel.
static void paint_grid(cairo_surface_t *surf, const uint8_t *grid, int gw, int c, int f) {
    cairo_surface_flush(surf);
    uint8_t *data = cairo_image_surface_get_data(surf);
    const int stride = cairo_image_surface_get_stride(surf);
    const int W = cairo_image_surface_get_width(surf), H = cairo_image_surface_get_height(surf);
    for (int y = 0; y < H; y++) {
        uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
        const uint8_t *src = grid + (size_t)(y / f) * gw * c;
        for (int x = 0; x < W; x++) {
            const uint8_t *p = src + (size_t)(x / f) * c;
            uint32_t r = p[0], g = c == 3 ? p[1] : p[0], b = c == 3 ? p[2] : p[0];
            row[x] = r << 16 | g << 8 | b;
        }
    }
    cairo_surface_mark_dirty(surf);
}

// Each cell's label in its top-left corner: white text outlined in black. cairo's status after.
static cairo_status_t draw_labels(cairo_surface_t *surf, int n, int h, int w, int ncol, int f,
                                  const char *const *labels) {
    cairo_t *cr = cairo_create(surf);
    int cols = ncol < n ? ncol : n;
    double font = (h * f) / 6.0;
    if (font < 9) font = 9;
    if (font > 16) font = 16;
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, font);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    for (int i = 0; i < n; i++) {
        if (!labels[i] || !labels[i][0]) continue;
        int pad = n == 1 ? 0 : PAD;
        double x0 = ((i % cols) * (w + pad) + pad) * f, y0 = ((i / cols) * (h + pad) + pad) * f;
        cairo_new_path(cr);
        cairo_move_to(cr, x0 + 2, y0 + 1 + fe.ascent);
        cairo_text_path(cr, labels[i]);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, font / 4);
        cairo_stroke_preserve(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill(cr);
    }
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surf);
    return st;
}

// The surface back to c interleaved channels (gray stays gray: the labels are black, white and
// grays), written as a PNG.
static int write_surface(cairo_surface_t *surf, int c, const char *path, char *err, size_t errlen) {
    const uint8_t *data = cairo_image_surface_get_data(surf);
    const int stride = cairo_image_surface_get_stride(surf);
    const int W = cairo_image_surface_get_width(surf), H = cairo_image_surface_get_height(surf);
    uint8_t *out = malloc((size_t)W * H * c);
    if (!out) return path_error(err, errlen, path, "out of memory");
    for (int y = 0; y < H; y++) {
        const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
        for (int x = 0; x < W; x++) {
            uint8_t *o = out + ((size_t)y * W + x) * c;
            o[0] = (uint8_t)(row[x] >> 16);
            if (c == 3) { o[1] = (uint8_t)(row[x] >> 8); o[2] = (uint8_t)row[x]; }
        }
    }
    int rc = png_write(path, out, W, H, c, err, errlen);
    free(out);
    return rc;
}

int save_labelled_grid_png(const char *path, const float *images, int n, int c, int h, int w,
                           int ncol, const char *const *labels, char *err, size_t errlen) {
    if (c != 1 && c != 3) return path_error(err, errlen, path, "cannot label %d-channel images", c);
    int gw, gh;
    uint8_t *grid = image_grid(images, n, c, h, w, ncol, PAD, &gw, &gh);
    if (!grid) return path_error(err, errlen, path, "cannot build a grid of %d images (out of memory?)", n);
    int f = h >= MIN_CELL ? 1 : (MIN_CELL + h - 1) / h;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, gw * f, gh * f);
    int rc = -1;
    if (!cairo_failed(cairo_surface_status(surf), path, "cannot create the drawing surface", err, errlen)) {
        paint_grid(surf, grid, gw, c, f);
        if (!cairo_failed(draw_labels(surf, n, h, w, ncol, f, labels), path, "drawing the labels failed", err, errlen))
            rc = write_surface(surf, c, path, err, errlen);
    }
    cairo_surface_destroy(surf);
    free(grid);
    return rc;
}

int save_sheet_png(const char *path, const float *images, int n, int c, int h, int w, int ncol,
                   int first, char *err, size_t errlen) {
    char (*text)[16] = malloc((size_t)n * sizeof *text);
    const char **labels = malloc((size_t)n * sizeof *labels);
    if (!text || !labels) {
        free(text);
        free(labels);
        path_error(err, errlen, path, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        snprintf(text[i], sizeof text[i], "%d", first + i);
        labels[i] = text[i];
    }
    int rc = save_labelled_grid_png(path, images, n, c, h, w, ncol, labels, err, errlen);
    free(text);
    free(labels);
    return rc;
}
