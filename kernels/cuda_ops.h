// The CUDA backend's pieces, shared between kernels/ files: the backend context (streams, library
// handles, workspace, staging events; made once by backend_cuda) and the launchers each op file
// exports. Launchers take device pointers, assert their preconditions, enqueue on the context's
// compute stream, open an NVTX range and never synchronise the host.
#ifndef DCGAN_CUDA_OPS_H
#define DCGAN_CUDA_OPS_H
#include <stddef.h>
#include <stdint.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h>
extern "C" {
#include "dcgan/backend.h"
}

struct conv_plan_cache;   // kernels/conv.cu

typedef struct {
    cudaStream_t stream, copy_stream;
    cudnnHandle_t cudnn;
    cublasHandle_t cublas;
    int verbose;
    int math_fma;           // 1: FMA-only math in cuDNN and cuBLAS (no TF32)
    int heuristic;          // 1: cuDNN heuristics instead of timed search
    int sm_count;
    cudaDeviceProp prop;
    void *workspace;        // the convolutions' shared workspace
    size_t workspace_bytes;
    cudaEvent_t staged[4], released[4];
    int released_set[4], staged_set[4];
    conv_plan_cache *plans;
    // Data parallelism (kernels/comm.cu): the NCCL communicator and its stream; reduction slot k
    // starts after ready[k] (recorded on the compute stream) and the compute stream waits on done[k].
    void *nccl;
    cudaStream_t comm_stream;
    cudaEvent_t reduce_ready[4], reduce_done[4];
    int device;
} cuda_ctx;

static inline cuda_ctx *ctx_of(const dcgan_backend *be) { return (cuda_ctx *)be->ctx; }

// Grid size for a grid-stride loop over n elements.
static inline int grid_for(const cuda_ctx *c, size_t n, int threads) {
    size_t blocks = (n + threads - 1) / threads, cap = (size_t)(c->sm_count > 0 ? c->sm_count : 1) * 32;
    if (blocks > cap) blocks = cap;
    return blocks ? (int)blocks : 1;
}

#define GRID_STRIDE(i, n) \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

extern "C" {
#define DCGAN_CUDA_DECLARE(ret, name, params) ret cuda_##name params;
DCGAN_BACKEND_OPS(DCGAN_CUDA_DECLARE)
#undef DCGAN_CUDA_DECLARE
}

// *counter += by on the device, ordered after the ops that read it (kernels/backend.cu).
void cuda_counter_add(cuda_ctx *c, void *counter, uint64_t by);
// Grows the shared convolution workspace to at least `bytes`; NULL when that fails.
void *cuda_workspace(cuda_ctx *c, size_t bytes, size_t *have);

#endif
