// Max and average pooling over NCHW planes (the window formula: formulas.h), one thread per plane.
#include "dcgan/cpu.h"
#include "dcgan/formulas.h"

void cpu_pool_forward(const dcgan_backend *be, void *out_, const void *in_, const pool_desc *d) {
    // out: [B, C, OH, OW]; in: [B, C, H, W]
    (void)be;
    DCGAN_REQUIRE(d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW && d->in.n == d->out.n &&
                  d->in.c == d->out.c && d->kh > 0 && d->kw > 0 && d->sh > 0 && d->sw > 0);
    float *out = out_;
    const float *in = in_;
    const int H = d->in.h, W = d->in.w, OH = d->out.h, OW = d->out.w;
    const long planes = (long)d->in.n * d->in.c;
#pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; p++) {
        const float *x = in + (size_t)p * H * W;
        float *y = out + (size_t)p * OH * OW;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) y[(size_t)oh * OW + ow] = pool_value(x, H, W, oh, ow, d);
    }
}
