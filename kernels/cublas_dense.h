// Whole-image convolutions as cuBLAS matrix products (kernels/cublas_dense.cu). X [B, R] is the
// image side flattened per sample, Y [B, F] the 1x1 side, W [F, R] the weight as stored.
#ifndef DCGAN_CUBLAS_DENSE_H
#define DCGAN_CUBLAS_DENSE_H

void dense_forward(float *y, const float *x, const float *w, int B, int R, int F);          // Y = X W^T
void dense_backward_data(float *dx, const float *dy, const float *w, int B, int R, int F);  // dX = dY W
void dense_backward_filter(float *dw, const float *dy, const float *x, int B, int R, int F); // dW += dY^T X

#endif
