// Training batches on the device (src/cpu/data.c's contract): the images of batch *cursor, found
// through the epoch orders (or the staged slot), scaled to [-1, 1] with pixel_to_unit, and their
// labels; then the cursor is advanced on the device.
#include "cuda_check.h"
#include "cuda_ops.h"
extern "C" {
#include "dcgan/formulas.h"
}

// The index of image b of batch k in pixels (see data_desc).
__device__ __forceinline__ size_t source_image(const uint32_t *order, long long k, int b, const data_desc &d) {
    if (order) return order[(size_t)((k / d.batches_per_epoch) % d.slots) * d.n + data_order_index(&d, k, b)];
    return (size_t)(k % d.slots) * d.B + b;   // the staged batch itself
}

__global__ void data_gather_kernel(float *__restrict__ images, int32_t *__restrict__ classes,
                                   const uint8_t *__restrict__ pixels, const int32_t *__restrict__ labels,
                                   const uint32_t *__restrict__ order, const long long *__restrict__ cursor, data_desc d) {
    const long long k = *cursor;
    const size_t total = (size_t)d.B * d.per;
    GRID_STRIDE(i, total) {
        const size_t b = i / d.per, e = i - b * d.per;
        images[i] = pixel_to_unit(pixels[source_image(order, k, (int)b, d) * d.per + e]);
    }
    if (labels && classes)
        GRID_STRIDE(b, (size_t)d.B) classes[b] = labels[source_image(order, k, (int)b, d)];
}

void cuda_data_gather(const dcgan_backend *be, float *images, int32_t *classes, const uint8_t *pixels,
                      const int32_t *labels, const uint32_t *order, int64_t *cursor, const data_desc *d) {
    NVTX_RANGE("data_gather");
    DCGAN_REQUIRE(d->B > 0 && d->batches_per_epoch > 0 && d->slots > 0);
    cuda_ctx *c = ctx_of(be);
    size_t total = (size_t)d->B * d->per;
    data_gather_kernel<<<grid_for(c, total, 256), 256, 0, c->stream>>>(images, classes, pixels, labels, order,
                                                                       (const long long *)cursor, *d);
    CUDA_CHECK_LAUNCH();
    cuda_counter_add(c, cursor, 1);
}
