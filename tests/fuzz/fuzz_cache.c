// libFuzzer: the dataset-cache parser on arbitrary bytes (it must refuse, never overrun).
#include <stdlib.h>
#include <string.h>
#include "dcgan/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // A private copy with the size the parser is told, so ASan sees any read past it.
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    cache_header h;
    dcgan_dataset ds;
    char err[256];
    if (cache_parse(copy, size, &h, &ds, err, sizeof err) == 0) {
        size_t per = (size_t)ds.c * ds.h * ds.w;
        unsigned sum = 0;
        for (size_t i = 0; i < (size_t)ds.n * per; i++) sum += ds.pixels[i];   // in bounds
        for (int i = 0; ds.labels && i < ds.n; i++)
            if (ds.labels[i] < 0 || ds.labels[i] >= ds.nclasses) abort();
        (void)sum;
        ds.pixels = NULL;   // points into copy
        dataset_free(&ds);
    }
    free(copy);
    return 0;
}
