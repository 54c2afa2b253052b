// The whole-image layers (G's first: 1x1 -> 4x4, D's last: 4x4 -> 1x1 logit) as cuBLAS matrix
// products: out [B, F] from in [B, R], the weight in its convolution layout ([F, R] for a Conv2d,
// [R, F] for a ConvTranspose2d; see dense_desc). cuBLAS is column-major; a row-major M x N matrix
// is its column-major transpose, so the row-major C = op(A) op(B) is computed as the
// column-major C^T = op(B)^T op(A)^T.
#include "cuda_check.h"
#include "cuda_ops.h"

// Row-major C[M, N] = alpha * op(A)[M, K] . op(B)[K, N] + beta * C; lda/ldb/ldc are row strides.
static void gemm_rm(cuda_ctx *c, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *Bm, int ldb, float beta, float *C, int ldc) {
    CUBLAS_CHECK(cublasSgemm(c->cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                             N, M, K, &alpha, Bm, ldb, A, lda, &beta, C, ldc));
}

typedef struct { int B, R, F; } dims;

static dims dims_of(const dense_desc *d) {
    DCGAN_REQUIRE(dense_desc_valid(d) && d->in.dtype == DTYPE_F32 && d->out.dtype == DTYPE_F32);
    dims m = {d->in.n, (int)(tensor_numel(&d->in) / d->in.n), (int)(tensor_numel(&d->out) / d->in.n)};
    return m;
}

void cuda_dense_forward(const dcgan_backend *be, void *out, const void *in, const float *w, const dense_desc *d) {
    NVTX_RANGE("dense_forward");
    const dims m = dims_of(d);
    const float *x = (const float *)in;
    if (d->transposed) gemm_rm(ctx_of(be), 0, 0, m.B, m.F, m.R, 1.0f, x, m.R, w, m.F, 0.0f, (float *)out, m.F);   // in . W[R, F]
    else gemm_rm(ctx_of(be), 0, 1, m.B, m.F, m.R, 1.0f, x, m.R, w, m.R, 0.0f, (float *)out, m.F);                // in . W[F, R]^T
}

void cuda_dense_backward_data(const dcgan_backend *be, void *din, const void *dout, const float *w, const dense_desc *d) {
    NVTX_RANGE("dense_backward_data");
    const dims m = dims_of(d);
    const float *dy = (const float *)dout;
    if (d->transposed) gemm_rm(ctx_of(be), 0, 1, m.B, m.R, m.F, 1.0f, dy, m.F, w, m.F, 0.0f, (float *)din, m.R);  // dout . W^T
    else gemm_rm(ctx_of(be), 0, 0, m.B, m.R, m.F, 1.0f, dy, m.F, w, m.R, 0.0f, (float *)din, m.R);               // dout . W
}

void cuda_dense_backward_filter(const dcgan_backend *be, float *dw, const void *dout, const void *in, const dense_desc *d) {
    NVTX_RANGE("dense_backward_filter");
    const dims m = dims_of(d);
    const float *dy = (const float *)dout, *x = (const float *)in;
    if (d->transposed) gemm_rm(ctx_of(be), 1, 0, m.R, m.F, m.B, 1.0f, x, m.R, dy, m.F, 1.0f, dw, m.F);   // dW[R, F] += in^T dout
    else gemm_rm(ctx_of(be), 1, 0, m.F, m.R, m.B, 1.0f, dy, m.F, x, m.R, 1.0f, dw, m.R);                 // dW[F, R] += dout^T in
}

// cuBLAS needs no plan.
int cuda_dense_plan(const dcgan_backend *be, const dense_desc *d, char *err, size_t errlen) {
    (void)be; (void)d; (void)err; (void)errlen;
    return 0;
}
