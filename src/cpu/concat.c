// Inputs of the class-conditional nets: data with one-hot class planes appended, and the
// channel slice that takes the data part of a gradient back out.
#include <string.h>
#include "dcgan/ops.h"

void concat_onehot(float *out, const float *in, const int32_t *classes, int B, int C, int HW, int K) {
    size_t data = (size_t)C * HW, planes = (size_t)K * HW;
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

void slice_channels(float *out, const float *in, int B, int C, int Ctot, int HW) {
    size_t n = (size_t)C * HW, stride = (size_t)Ctot * HW;
    for (int b = 0; b < B; b++) memcpy(out + (size_t)b * n, in + (size_t)b * stride, n * sizeof(float));
}
