// Sample grids laid out like torchvision.utils.save_image.
#ifndef DCGAN_IMAGE_H
#define DCGAN_IMAGE_H
#include <stddef.h>
#include <stdint.h>

// Tiles images [n, c, h, w] with values in [-1, 1] into a grid of `ncol` columns with `pad`
// pixels of black padding (torchvision make_grid: nrow=ncol, padding=pad, pad_value=0),
// mapping x -> clamp(round((x + 1) / 2 * 255)). Output is interleaved [gh, gw, c], malloc'ed.
uint8_t *image_grid(const float *images, int n, int c, int h, int w, int ncol, int pad,
                    int *grid_w, int *grid_h);
// image_grid + png_write.
int save_grid_png(const char *path, const float *images, int n, int c, int h, int w, int ncol,
                  char *err, size_t errlen);
// One image [c, h, w] in [-1, 1] to a PNG.
int save_image_png(const char *path, const float *image, int c, int h, int w,
                   char *err, size_t errlen);

#endif
