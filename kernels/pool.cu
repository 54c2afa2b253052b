// Max and average pooling (the window formula of formulas.h, as src/cpu/pool.c: the CPU's results
// bit for bit), one thread per output value.
#include "cuda_check.h"
#include "cuda_ops.h"
#include "dcgan/formulas.h"

__global__ void pool_kernel(float *__restrict__ out, const float *__restrict__ in, size_t total, pool_desc d) {
    const int H = d.in.h, W = d.in.w, OH = d.out.h, OW = d.out.w;
    GRID_STRIDE(i, total) {
        const size_t p = i / ((size_t)OH * OW);
        out[i] = pool_value(in + p * H * W, H, W, (int)(i / OW % OH), (int)(i % OW), &d);
    }
}

void cuda_pool_forward(const dcgan_backend *be, void *out, const void *in, const pool_desc *d) {
    NVTX_RANGE("pool_forward");
    DCGAN_REQUIRE(d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW && d->in.n == d->out.n &&
                  d->in.c == d->out.c && d->kh > 0 && d->kw > 0 && d->sh > 0 && d->sw > 0);
    const cuda_ctx *c = ctx_of(be);
    const size_t total = tensor_numel(&d->out);
    if (!total) return;
    pool_kernel<<<grid_for(c, total, 256), 256, 0, c->stream>>>((float *)out, (const float *)in, total, *d);
    CUDA_CHECK_LAUNCH();
}
