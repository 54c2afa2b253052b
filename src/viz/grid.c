// Sample grids with torchvision.utils.make_grid / save_image(normalize=True,
// value_range=(-1, 1)) semantics.
#include "dcgan/error.h"
#include "dcgan/viz.h"
#include "dcgan/formulas.h"
#include "dcgan/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Copies image [c, h, w] into the interleaved grid at pixel (x0, y0).
static void place(uint8_t *grid, int gw, const float *img, int c, int h, int w, int x0, int y0) {
    for (int y = 0; y < h; y++) {
        uint8_t *row = grid + ((size_t)(y0 + y) * gw + x0) * c;
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                row[(size_t)x * c + ch] = unit_to_pixel(img[((size_t)ch * h + y) * w + x]);
    }
}

uint8_t *image_grid(const float *images, int n, int c, int h, int w, int ncol, int pad,
                    int *grid_w, int *grid_h) {
    if (!images || n <= 0 || c <= 0 || h <= 0 || w <= 0 || ncol <= 0 || pad < 0) return NULL;
    // make_grid returns a single image unpadded.
    if (n == 1) pad = 0;
    int cols = ncol < n ? ncol : n;   // make_grid: xmaps = min(nrow, n)
    int rows = (n + cols - 1) / cols;
    long long gw = (long long)cols * (w + pad) + pad, gh = (long long)rows * (h + pad) + pad;
    if (gw > 1000000 || gh > 1000000) return NULL;
    uint8_t *grid = calloc((size_t)gw * (size_t)gh, (size_t)c);   // padding value 0
    if (!grid) return NULL;
    size_t plane = (size_t)c * h * w;
    for (int k = 0; k < n; k++) {
        int x0 = (k % cols) * (w + pad) + pad, y0 = (k / cols) * (h + pad) + pad;
        place(grid, (int)gw, images + (size_t)k * plane, c, h, w, x0, y0);
    }
    *grid_w = (int)gw;
    *grid_h = (int)gh;
    return grid;
}

int save_grid_png(const char *path, const float *images, int n, int c, int h, int w, int ncol,
                  char *err, size_t errlen) {
    if (c < 1 || c > 4)
        return path_error(err, errlen, path, "cannot save %d-channel images as PNG", c);
    int gw = 0, gh = 0;
    uint8_t *grid = image_grid(images, n, c, h, w, ncol, 2, &gw, &gh);
    if (!grid)
        return path_error(err, errlen, path, "cannot build a grid of %d images %dx%d in %d columns "
                          "(invalid shape or out of memory)", n, w, h, ncol);
    int rc = png_write(path, grid, gw, gh, c, err, errlen);
    free(grid);
    return rc;
}

int save_image_png(const char *path, const float *image, int c, int h, int w,
                   char *err, size_t errlen) {
    return save_grid_png(path, image, 1, c, h, w, 1, err, errlen);
}
