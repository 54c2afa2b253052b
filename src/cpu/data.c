// Training batches on the CPU: gathers the images of batch *cursor from the epoch's order and
// scales them to [-1, 1] (formulas.h), with their labels for a conditional run.
#include "dcgan/cpu.h"
#include "dcgan/formulas.h"

void cpu_data_gather(const dcgan_backend *be, float *images, int32_t *classes, const uint8_t *pixels,
                     const int32_t *labels, const uint32_t *order, int64_t *cursor, const data_desc *d) {
    // images: [B, per]; classes: [B]; see data_desc for the rest
    (void)be;
    const int B = d->B;
    const size_t per = d->per;
    const int64_t k = (*cursor)++;
    const uint32_t *idx = NULL;
    if (order) {
        idx = order + (size_t)((k / d->batches_per_epoch) % d->slots) * d->n + data_order_index(d, k, 0);   // this rank's slice
    } else {   // the staged batch itself
        pixels += (size_t)(k % d->slots) * B * per;
        if (labels) labels += (size_t)(k % d->slots) * B;
    }
    #pragma omp parallel for schedule(static) if ((size_t)B * per > 65536)
    for (int b = 0; b < B; b++) {
        const uint8_t *src = pixels + (size_t)(idx ? idx[b] : (uint32_t)b) * per;
        float *dst = images + (size_t)b * per;
        for (size_t i = 0; i < per; i++) dst[i] = pixel_to_unit(src[i]);
    }
    if (labels && classes)
        for (int b = 0; b < B; b++) classes[b] = labels[idx ? idx[b] : (uint32_t)b];
}
