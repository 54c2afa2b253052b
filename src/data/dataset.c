// The in-memory dataset: releasing it, naming its classes, and the batcher that turns its uint8
// images into the normalised float batches of a training step.
#include "source.h"
#include "dcgan/formulas.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void dataset_free(dcgan_dataset *ds) {
    if (!ds) return;
    if (ds->map) munmap(ds->map, ds->map_bytes);   // pixels point into the mapping
    else free(ds->pixels);
    free(ds->labels);
    for (int i = 0; ds->class_names && i < ds->nclasses; i++) free(ds->class_names[i]);
    free(ds->class_names);
    memset(ds, 0, sizeof *ds);
}

char **copy_names(const char *const *names, int n) {
    char **copy = calloc((size_t)n, sizeof *copy);
    if (!copy) return NULL;
    for (int i = 0; i < n; i++)
        if (!(copy[i] = strdup(names[i]))) {
            for (int j = 0; j < i; j++) free(copy[j]);
            free(copy);
            return NULL;
        }
    return copy;
}

int dataset_set_class_names(dcgan_dataset *ds, const char *const *names, int n) {
    char **copy = copy_names(names, n);
    if (!copy) return -1;
    for (int i = 0; ds->class_names && i < ds->nclasses; i++) free(ds->class_names[i]);
    free(ds->class_names);
    ds->class_names = copy;
    ds->nclasses = n;
    return 0;
}

void dataset_batch(const dcgan_dataset *ds, const uint32_t *idx, int B, float *out) {
    // ToTensor then Normalize(0.5, 0.5): the data op's formula, tabulated.
    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = pixel_to_unit((uint8_t)v);
    size_t per = (size_t)ds->c * ds->h * ds->w;
    #pragma omp parallel for schedule(static) if (B * per > 65536)
    for (int b = 0; b < B; b++) {
        const uint8_t *src = ds->pixels + (size_t)idx[b] * per;
        float *dst = out + (size_t)b * per;
        for (size_t i = 0; i < per; i++) dst[i] = lut[src[i]];
    }
}
