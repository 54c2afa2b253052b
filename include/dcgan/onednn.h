// The oneDNN CPU backend (src/onednn/): oneDNN's convolutions and transposed convolutions
// (deconvolution primitives) in fp32 or bf16 on channel-blocked activations (LAYOUT_BLOCKED:
// nChw16c), our fused batchnorm + activation kernels on that layout, and the CPU reference ops
// for the rest (loss, optimiser, noise, data, concat). Each onednn_<name> is the table entry
// `name` of backend_ops.h (same parameters, same contract).
#ifndef DCGAN_ONEDNN_H
#define DCGAN_ONEDNN_H
#include "dcgan/backend.h"

#define DCGAN_ONEDNN_DECLARE(ret, name, params) ret onednn_##name params;
DCGAN_BACKEND_OPS(DCGAN_ONEDNN_DECLARE)
#undef DCGAN_ONEDNN_DECLARE

// The backend, or NULL with a one-line reason when oneDNN cannot run here.
const dcgan_backend *backend_onednn(char *err, size_t errlen);
// oneDNN's version and the instruction set it runs on, one line.
int onednn_library_versions(char *buf, size_t len);
// 1 when this CPU runs bf16 convolutions natively (AVX512_BF16), as oneDNN reports it (so
// DNNL_MAX_CPU_ISA=AVX512_CORE hides it).
int onednn_has_bf16(void);

// A tensor of backend memory in t's format from fp32 NCHW host values, and back (tests).
void onednn_tensor_import(void *dst, const float *src, const tensor_desc *t);
void onednn_tensor_export(float *dst, const void *src, const tensor_desc *t);

#endif
