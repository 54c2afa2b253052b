// Status checks for CUDA, cuDNN and cuBLAS calls: a failure prints the expression, file and line
// with the library's own message and ends the process (a failed GPU call leaves no state worth
// continuing from). Allocation failures are not routed through here: they are reported to the
// caller, who knows the batch size that needed the memory.
#ifndef DCGAN_CUDA_CHECK_H
#define DCGAN_CUDA_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h>

static inline const char *cublas_status_name(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_(unknown)";
    }
}

static inline void cuda_fail(const char *lib, const char *msg, const char *expr, const char *file, int line) {
    fprintf(stderr, "error: %s: %s\n  in %s\n  at %s:%d\n", lib, msg, expr, file, line);
    exit(1);
}

#define CUDA_CHECK(expr) do { cudaError_t e_ = (expr); \
    if (e_ != cudaSuccess) cuda_fail("CUDA", cudaGetErrorString(e_), #expr, __FILE__, __LINE__); } while (0)
#define CUDNN_CHECK(expr) do { cudnnStatus_t s_ = (expr); \
    if (s_ != CUDNN_STATUS_SUCCESS) cuda_fail("cuDNN", cudnnGetErrorString(s_), #expr, __FILE__, __LINE__); } while (0)
#define CUBLAS_CHECK(expr) do { cublasStatus_t s_ = (expr); \
    if (s_ != CUBLAS_STATUS_SUCCESS) cuda_fail("cuBLAS", cublas_status_name(s_), #expr, __FILE__, __LINE__); } while (0)
// After a kernel launch: configuration errors show up here, execution errors at the next sync.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

// NVTX_RANGE("name"): a range around the rest of the scope in Nsight timelines; compiled out when
// the NVTX headers are absent.
#if __has_include(<nvtx3/nvToolsExt.h>)
#include <nvtx3/nvToolsExt.h>
struct nvtx_scope {
    explicit nvtx_scope(const char *name) { nvtxRangePushA(name); }
    ~nvtx_scope() { nvtxRangePop(); }
};
#define NVTX_CAT2(a, b) a##b
#define NVTX_CAT(a, b) NVTX_CAT2(a, b)
#define NVTX_RANGE(name) nvtx_scope NVTX_CAT(nvtx_scope_, __LINE__)(name)
#else
#define NVTX_RANGE(name) ((void)0)
#endif

#endif
