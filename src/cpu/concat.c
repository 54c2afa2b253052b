// Inputs of the class-conditional nets: data with one-hot class planes appended, and the
// channel slice that takes the data part of a gradient back out.
#include <string.h>
#include "dcgan/cpu.h"

void cpu_concat_onehot(const dcgan_backend *be, float *out, const float *in, const int32_t *classes,
                       const concat_desc *d) {
    // out: [B, C + K, HW]; in: [B, C, HW]; classes: [B], each in [0, K)
    (void)be;
    const int B = d->in.n, K = d->nclasses, HW = d->in.h * d->in.w;
    const size_t data = (size_t)d->in.c * HW, planes = (size_t)K * HW;
    #pragma omp parallel for schedule(static) if ((size_t)B * (data + planes) > 65536)
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * (data + planes);
        memcpy(o, in + (size_t)b * data, data * sizeof(float));
        memset(o + data, 0, planes * sizeof(float));
        int k = classes[b];
        if (k < 0 || k >= K) continue;   // an invalid class conditions on nothing rather than writing out of bounds
        float *plane = o + data + (size_t)k * HW;
        for (int i = 0; i < HW; i++) plane[i] = 1.0f;
    }
}

void cpu_slice_channels(const dcgan_backend *be, float *out, const float *in, const concat_desc *d) {
    // out: [B, C, HW] = channels 0..C-1 of in [B, C + K, HW]
    (void)be;
    const size_t n = (size_t)d->in.c * d->in.h * d->in.w, stride = n + (size_t)d->nclasses * d->in.h * d->in.w;
    for (int b = 0; b < d->in.n; b++) memcpy(out + (size_t)b * n, in + (size_t)b * stride, n * sizeof(float));
}
