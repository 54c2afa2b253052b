// Bilinear resizing (the formula of formulas.h, as src/cpu/resize.c: the CPU's results bit for
// bit), one thread per output value.
#include "cuda_check.h"
#include "cuda_ops.h"
#include "dcgan/formulas.h"

__global__ void resize_kernel(float *__restrict__ out, const float *__restrict__ in, size_t total, resize_desc d) {
    const int H = d.in.h, W = d.in.w, OH = d.out.h, OW = d.out.w, C = d.out.c;
    GRID_STRIDE(i, total) {
        const size_t p = i / ((size_t)OH * OW), b = p / C, c = d.in.c == 1 ? 0 : p % C;
        out[i] = resize_value(in + (b * d.in.c + c) * H * W, H, W, OH, OW, (int)(i / OW % OH), (int)(i % OW), &d);
    }
}

void cuda_resize_bilinear(const dcgan_backend *be, void *out, const void *in, const resize_desc *d) {
    NVTX_RANGE("resize_bilinear");
    DCGAN_REQUIRE(d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW && d->in.n == d->out.n &&
                  (d->in.c == d->out.c || d->in.c == 1));
    const cuda_ctx *c = ctx_of(be);
    const size_t total = tensor_numel(&d->out);
    if (!total) return;
    resize_kernel<<<grid_for(c, total, 256), 256, 0, c->stream>>>((float *)out, (const float *)in, total, *d);
    CUDA_CHECK_LAUNCH();
}
