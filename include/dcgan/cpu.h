// The CPU backend (src/cpu/): the reference ops the CUDA backend is tested against, one file per
// op, fp32 NCHW, OpenBLAS for the matrix products and OpenMP across channels and samples. Each
// cpu_<name> is the table entry `name` of backend_ops.h (same parameters, same contract).
#ifndef DCGAN_CPU_H
#define DCGAN_CPU_H
#include "dcgan/backend.h"

#define DCGAN_CPU_DECLARE(ret, name, params) ret cpu_##name params;
DCGAN_BACKEND_OPS(DCGAN_CPU_DECLARE)
#undef DCGAN_CPU_DECLARE

// The loss op's arithmetic: writes dlogits[B] and returns the mean loss in double.
double gan_loss_mean(float *dlogits, const float *logits, const loss_desc *d);
// Floats of scratch memory a convolution needs (the CPU backend grows one workspace to the
// largest planned); cpu_workspace returns it grown to at least `floats`, NULL when out of memory.
size_t cpu_conv_workspace_floats(const conv_desc *d);
float *cpu_workspace(const dcgan_backend *be, size_t floats);

#endif
