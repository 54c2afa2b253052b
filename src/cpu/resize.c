// Bilinear resizing as PyTorch's interpolate (align_corners False; the formula: formulas.h), one
// thread per output plane.
#include "dcgan/cpu.h"
#include "dcgan/formulas.h"

void cpu_resize_bilinear(const dcgan_backend *be, void *out_, const void *in_, const resize_desc *d) {
    // out: [B, C, OH, OW]; in: [B, C or 1, H, W]
    (void)be;
    DCGAN_REQUIRE(d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW && d->in.n == d->out.n &&
                  (d->in.c == d->out.c || d->in.c == 1));
    float *out = out_;
    const float *in = in_;
    const int H = d->in.h, W = d->in.w, OH = d->out.h, OW = d->out.w, C = d->out.c;
    const long planes = (long)d->out.n * C;
#pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; p++) {
        const long b = p / C, c = d->in.c == 1 ? 0 : p % C;
        const float *x = in + ((size_t)b * d->in.c + c) * H * W;
        float *y = out + (size_t)p * OH * OW;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) y[(size_t)oh * OW + ow] = resize_value(x, H, W, OH, OW, oh, ow, d);
    }
}
