// Backend dispatch: the model and the training loop call ops only through this table, so the
// same code runs on the CPU reference ops and on the CUDA kernels. The functions are listed once
// in backend_ops.h; descriptors are in desc.h.
#ifndef DCGAN_BACKEND_H
#define DCGAN_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/desc.h"
#include "dcgan/backend_ops.h"

typedef struct dcgan_backend dcgan_backend;

struct dcgan_backend {
    const char *name;
    int host_memory;        // 1: backend memory is host memory
    dcgan_layout native_layout; // the layout of the activations inside a net (NCHW unless said)
    void *ctx;              // the backend's own state
#define DCGAN_BACKEND_MEMBER(ret, name, params) ret (*name) params;
    DCGAN_BACKEND_OPS(DCGAN_BACKEND_MEMBER)
#undef DCGAN_BACKEND_MEMBER
};

// The CPU reference backend (OpenBLAS): what the tests compare every other backend with.
const dcgan_backend *backend_cpu(void);
// "cpu" (the oneDNN backend when built, else the reference), "cpu-ref" (the reference),
// "onednn", "cuda" or "auto". Returns NULL and writes a one-line reason when unavailable;
// for "auto" without a usable GPU it returns the "cpu" backend and sets *notice.
const dcgan_backend *backend_select(const char *name, const char **notice, char *err, size_t errlen);
// backend_select, with "cuda:K" for GPU K; "cuda" and "auto" take GPU `gpu` (-1: GPU 0). A
// data-parallel run passes its local rank, so each rank of a machine gets its own GPU.
const dcgan_backend *backend_select_gpu(const char *name, int gpu, const char **notice, char *err, size_t errlen);
// The default CPU backend ("cpu"): oneDNN when built, else the reference.
const dcgan_backend *backend_cpu_default(void);
// The backends this build has, e.g. "onednn (cpu), cpu-ref, cuda".
const char *backend_list(void);
// The program's version, its backends and the libraries they use, one per line (no device needed).
int backend_versions(char *buf, size_t len);
// 0 when the backend serves op in dtype and layout; else -1 with a one-line reason in err.
int backend_check(const dcgan_backend *be, dcgan_op op, const tensor_desc *t, char *err, size_t errlen);

#endif
