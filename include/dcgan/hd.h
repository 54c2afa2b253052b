// Code written once for the host and the CUDA device. A function marked DCGAN_HD compiles as a
// static inline C function in host code and as a __host__ __device__ function in kernels/, so
// both backends run the very same formula. The hd_* operations round every step as IEEE
// single precision does: nvcc would otherwise contract a * b + c into one fused multiply-add,
// which rounds once instead of twice and breaks bit-for-bit agreement with the CPU.
#ifndef DCGAN_HD_H
#define DCGAN_HD_H
#include <math.h>

#if defined(__CUDACC__)
#define DCGAN_HD __host__ __device__ __forceinline__
#else
#define DCGAN_HD static inline
#endif

#if defined(__CUDA_ARCH__)
DCGAN_HD float hd_add(float a, float b) { return __fadd_rn(a, b); }
DCGAN_HD float hd_sub(float a, float b) { return __fsub_rn(a, b); }
DCGAN_HD float hd_mul(float a, float b) { return __fmul_rn(a, b); }
DCGAN_HD float hd_div(float a, float b) { return __fdiv_rn(a, b); }
DCGAN_HD float hd_sqrt(float a) { return __fsqrt_rn(a); }
#else
// Host C17 (ISO mode) never contracts, so plain operators round each step.
DCGAN_HD float hd_add(float a, float b) { return a + b; }
DCGAN_HD float hd_sub(float a, float b) { return a - b; }
DCGAN_HD float hd_mul(float a, float b) { return a * b; }
DCGAN_HD float hd_div(float a, float b) { return a / b; }
DCGAN_HD float hd_sqrt(float a) { return sqrtf(a); }
#endif

#endif
