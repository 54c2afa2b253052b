// libFuzzer: the PNG decoder on arbitrary bytes, to gray and to RGB.
#include <stdlib.h>
#include "dcgan/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int nc = 1; nc <= 3; nc += 2) {
        uint8_t *img = NULL;
        int w = 0, h = 0;
        char why[256];
        if (image_decode_png(data, size, nc, &img, &w, &h, why, sizeof why) == 0) {
            if (!img || w <= 0 || h <= 0) abort();
            uint8_t crop[3 * 8 * 8];   // and the preprocessing on what was decoded
            resize_center_crop(crop, img, nc, h, w, 8);
        }
        free(img);
    }
    return 0;
}
