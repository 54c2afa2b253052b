// The dense layers of the DCGAN on cuBLAS: G's first layer (a 1x1 input, [B, nz] x [nz, C*16])
// and D's last layer (one logit per sample: a dot product of each image with the weight).
// cuBLAS is column-major; a row-major M x N matrix is its column-major transpose, so the row-major
// product C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T.
#include "cuda_check.h"
#include "cuda_ops.h"
#include "cublas_dense.h"

// Row-major C[M, N] = alpha * op(A)[M, K] . op(B)[K, N] + beta * C; lda/ldb/ldc are row strides.
static void gemm_rm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *Bm, int ldb, float beta, float *C, int ldc) {
    CUBLAS_CHECK(cublasSgemm(cuda_cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                             N, M, K, &alpha, Bm, ldb, A, lda, &beta, C, ldc));
}

void dense_forward(float *y, const float *x, const float *w, int B, int R, int F) {
    // y[B, F] = x[B, R] . w[F, R]^T
    gemm_rm(0, 1, B, F, R, 1.0f, x, R, w, R, 0.0f, y, F);
}

void dense_backward_data(float *dx, const float *dy, const float *w, int B, int R, int F) {
    // dx[B, R] = dy[B, F] . w[F, R]
    gemm_rm(0, 0, B, R, F, 1.0f, dy, F, w, R, 0.0f, dx, R);
}

void dense_backward_filter(float *dw, const float *dy, const float *x, int B, int R, int F) {
    // dw[F, R] += dy[B, F]^T . x[B, R]
    gemm_rm(1, 0, F, R, B, 1.0f, dy, F, x, R, 1.0f, dw, R);
}
