// The whole-image layers as matrix products on OpenBLAS: out [B, F] from in [B, R], the weight in
// its convolution layout ([F, R] for a Conv2d, [R, F] for a ConvTranspose2d; see dense_desc).
#include "dcgan/cpu.h"
#include <cblas.h>

static void check(const dense_desc *d) { DCGAN_REQUIRE(dense_desc_valid(d) && d->in.dtype == DTYPE_F32 && d->out.dtype == DTYPE_F32); }

void cpu_dense_forward(const dcgan_backend *be, void *out, const void *in, const float *w, const dense_desc *d) {
    (void)be;
    check(d);
    const int B = d->in.n, R = (int)(tensor_numel(&d->in) / B), F = (int)(tensor_numel(&d->out) / B);
    if (d->transposed)   // out = in . W[R, F]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, F, R, 1.0f, in, R, w, F, 0.0f, out, F);
    else                 // out = in . W[F, R]^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, F, R, 1.0f, in, R, w, R, 0.0f, out, F);
}

void cpu_dense_backward_data(const dcgan_backend *be, void *din, const void *dout, const float *w, const dense_desc *d) {
    (void)be;
    check(d);
    const int B = d->in.n, R = (int)(tensor_numel(&d->in) / B), F = (int)(tensor_numel(&d->out) / B);
    if (d->transposed)   // din = dout . W[R, F]^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, R, F, 1.0f, dout, F, w, F, 0.0f, din, R);
    else                 // din = dout . W[F, R]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, R, F, 1.0f, dout, F, w, R, 0.0f, din, R);
}

void cpu_dense_backward_filter(const dcgan_backend *be, float *dw, const void *dout, const void *in, const dense_desc *d) {
    (void)be;
    check(d);
    const int B = d->in.n, R = (int)(tensor_numel(&d->in) / B), F = (int)(tensor_numel(&d->out) / B);
    if (d->transposed)   // dW[R, F] += in^T . dout
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, R, F, B, 1.0f, in, R, dout, F, 1.0f, dw, F);
    else                 // dW[F, R] += dout^T . in
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, F, R, B, 1.0f, dout, F, in, R, 1.0f, dw, R);
}
