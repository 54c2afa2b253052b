// The CUDA backend: device memory, the compute and copy streams, cuDNN / cuBLAS handles, the
// counters an iteration advances, and the op table. All ops run in order on one non-blocking
// compute stream; only download() and the staging host wait block the host.
#include <stdlib.h>
#include <string.h>
#include "cuda_check.h"
#include "cuda_ops.h"

static cuda_ctx g;

// cudaMalloc that reports exhaustion to the caller instead of failing the process.
static void *device_malloc(size_t bytes) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();   // clear the (non-sticky) error
        return NULL;
    }
    CUDA_CHECK(e);
    return p;
}

void *cuda_workspace(cuda_ctx *c, size_t bytes, size_t *have) {
    if (bytes > c->workspace_bytes) {
        // Only reached while shapes are planned (net_exec_init), never inside an iteration.
        CUDA_CHECK(cudaStreamSynchronize(c->stream));
        if (c->workspace) CUDA_CHECK(cudaFree(c->workspace));
        c->workspace = device_malloc(bytes);
        c->workspace_bytes = c->workspace ? bytes : 0;
    }
    if (have) *have = c->workspace_bytes;
    return c->workspace;
}

__global__ void counter_add_kernel(unsigned long long *counter, unsigned long long by) { *counter += by; }

void cuda_counter_add(cuda_ctx *c, void *counter, uint64_t by) {
    counter_add_kernel<<<1, 1, 0, c->stream>>>((unsigned long long *)counter, by);
    CUDA_CHECK_LAUNCH();
}

void *cuda_alloc(const dcgan_backend *be, size_t bytes) {
    void *p = device_malloc(bytes);
    if (p) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes ? bytes : 1, ctx_of(be)->stream));
    return p;
}

void cuda_release(const dcgan_backend *be, void *p) {
    (void)be;
    // cudaFree waits for the device, so no pending op still reads p.
    CUDA_CHECK(cudaFree(p));
}

void cuda_upload(const dcgan_backend *be, void *dst, const void *src, size_t bytes) {
    // From pageable memory the source is staged before the call returns, so the caller may reuse it.
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx_of(be)->stream));
}

void cuda_download(const dcgan_backend *be, void *dst, const void *src, size_t bytes) {
    if (!bytes) return;
    cudaStream_t s = ctx_of(be)->stream;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
}

void cuda_copy(const dcgan_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx_of(be)->stream));
}

void cuda_copy_2d(const dcgan_backend *be, void *dst, size_t dst_pitch, const void *src, size_t src_pitch, size_t width,
                  size_t rows) {
    if (width && rows)
        CUDA_CHECK(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, rows, cudaMemcpyDeviceToDevice,
                                     ctx_of(be)->stream));
}

void cuda_zero(const dcgan_backend *be, void *p, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, ctx_of(be)->stream));
}

void cuda_sync(const dcgan_backend *be) { CUDA_CHECK(cudaStreamSynchronize(ctx_of(be)->stream)); }

void *cuda_host_alloc(const dcgan_backend *be, size_t bytes) {
    (void)be;
    void *p = NULL;
    cudaError_t e = cudaMallocHost(&p, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) { (void)cudaGetLastError(); return NULL; }
    CUDA_CHECK(e);
    return p;
}

void cuda_host_release(const dcgan_backend *be, void *p) { (void)be; CUDA_CHECK(cudaFreeHost(p)); }

void cuda_stage_release(const dcgan_backend *be, int slot) {
    cuda_ctx *c = ctx_of(be);
    slot &= 3;
    CUDA_CHECK(cudaEventRecord(c->released[slot], c->stream));
    c->released_set[slot] = 1;
}

void cuda_stage_upload(const dcgan_backend *be, void *dst, const void *src, size_t bytes, int slot) {
    cuda_ctx *c = ctx_of(be);
    slot &= 3;
    // The copy may not overwrite dst before the compute work that last read it has run; the first
    // copy into a slot waits for what is enqueued so far, the zero-fill of dst among it.
    if (!c->released_set[slot]) cuda_stage_release(be, slot);
    CUDA_CHECK(cudaStreamWaitEvent(c->copy_stream, c->released[slot], 0));
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->copy_stream));
    CUDA_CHECK(cudaEventRecord(c->staged[slot], c->copy_stream));
    c->staged_set[slot] = 1;
    // Compute enqueued from here on waits for the copy.
    CUDA_CHECK(cudaStreamWaitEvent(c->stream, c->staged[slot], 0));
}

void cuda_stage_host_wait(const dcgan_backend *be, int slot) {
    cuda_ctx *c = ctx_of(be);
    slot &= 3;
    if (c->staged_set[slot]) CUDA_CHECK(cudaEventSynchronize(c->staged[slot]));
}

int cuda_mem_info(const dcgan_backend *be, size_t *free_bytes, size_t *total_bytes) {
    (void)be;
    CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
    return 0;
}

// Library versions, which need no device: the runtime linked in, the driver (0 when none), and
// cuDNN and cuBLAS as loaded next to the versions this binary was built with.
extern "C" int cuda_library_versions(char *buf, size_t len) {
    int rt = 0, drv = 0, major = 0, minor = 0, patch = 0;
    (void)cudaRuntimeGetVersion(&rt);
    if (cudaDriverGetVersion(&drv) != cudaSuccess) drv = 0;
    (void)cudaGetLastError();
    cublasGetProperty(MAJOR_VERSION, &major);
    cublasGetProperty(MINOR_VERSION, &minor);
    cublasGetProperty(PATCH_LEVEL, &patch);
    return snprintf(buf, len, "CUDA runtime %d.%d, driver %d.%d, cuDNN %zu (built with %d), cuBLAS %d.%d.%d (built with %d.%d.%d)",
                    rt / 1000, rt % 1000 / 10, drv / 1000, drv % 1000 / 10, cudnnGetVersion(), CUDNN_VERSION, major,
                    minor, patch, CUBLAS_VER_MAJOR, CUBLAS_VER_MINOR, CUBLAS_VER_PATCH);
}

int cuda_describe(const dcgan_backend *be, char *buf, size_t len) {
    const cuda_ctx *c = ctx_of(be);
    size_t fr = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&fr, &total));
    int n = snprintf(buf, len, "cuda: GPU %d %s (sm_%d%d, %d SMs, %.0f of %.0f MiB free), ", c->device, c->prop.name, c->prop.major,
                     c->prop.minor, c->prop.multiProcessorCount, fr / 1048576.0, total / 1048576.0);
    if (n < 0 || (size_t)n >= len) return n;
    n += cuda_library_versions(buf + n, len - n);
    if (n < 0 || (size_t)n >= len) return n;
    return n + snprintf(buf + n, len - n, ", math %s, conv algorithms by %s",
                        c->math_fma ? "fma (no TF32)" : "default (TF32 allowed)", c->heuristic ? "heuristics" : "timed search");
}

void cuda_set_verbose(const dcgan_backend *be, int on) {
    ctx_of(be)->verbose = on;
    if (!on) return;
    char line[512];
    cuda_describe(be, line, sizeof line);
    printf("%s\n", line);
}

// fp32 NCHW for every op (bf16 and NHWC are declared, not implemented).
int cuda_supports(const dcgan_backend *be, dcgan_op op, dcgan_dtype dtype, dcgan_layout layout) {
    (void)be;
    return (unsigned)op < OP_COUNT && dtype == DTYPE_F32 && layout == LAYOUT_NCHW;
}

size_t cuda_tensor_bytes(const dcgan_backend *be, const tensor_desc *t) {
    (void)be;
    return tensor_numel(t) * dtype_size(t->dtype);
}

__global__ void ring_push_kernel(float *ring, const float *values, int n, long long *slot, int ring_len) {
    __shared__ long long s;
    if (threadIdx.x == 0) s = *slot;
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += blockDim.x) ring[(s % ring_len) * n + i] = values[i];
    if (threadIdx.x == 0) *slot = s + 1;
}

void cuda_ring_push(const dcgan_backend *be, float *ring, const float *values, int n, int64_t *slot, int ring_len) {
    DCGAN_REQUIRE(n > 0 && ring_len > 0);
    ring_push_kernel<<<1, 32, 0, ctx_of(be)->stream>>>(ring, values, n, (long long *)slot, ring_len);
    CUDA_CHECK_LAUNCH();
}

#define CUDA_ENTRY(ret, name, params) .name = cuda_##name,
static const dcgan_backend cuda_backend = {
    .name = "cuda",
    .host_memory = 0,
    .native_layout = LAYOUT_NCHW,
    .ctx = &g,
    DCGAN_BACKEND_OPS(CUDA_ENTRY)
};

// DCGAN_CUDNN_MATH=fma|default (default: default, i.e. TF32 allowed as in PyTorch's convolutions);
// DCGAN_CUDNN_ALGO=find|heuristic (default: find).
static void read_settings(void) {
    const char *m = getenv("DCGAN_CUDNN_MATH"), *a = getenv("DCGAN_CUDNN_ALGO");
    g.math_fma = m && !strcmp(m, "fma");
    g.heuristic = a && !strcmp(a, "heuristic");
}

// Why GPU `device` cannot be used, in words: a missing driver, one too old for this runtime, or none.
static void no_device_reason(cudaError_t e, int device, char *why, size_t len) {
    int drv = 0, rt = 0;
    if (cudaDriverGetVersion(&drv) != cudaSuccess) drv = 0;
    (void)cudaRuntimeGetVersion(&rt);
    (void)cudaGetLastError();
    if (drv == 0)
        snprintf(why, len, "GPU %d: no usable CUDA device (no NVIDIA GPU driver found)", device);
    else if (e == cudaErrorInsufficientDriver)
        snprintf(why, len, "GPU %d: the NVIDIA driver (CUDA %d.%d) is too old for this build's CUDA runtime %d.%d", device,
                 drv / 1000, drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
    else if (e == cudaErrorNoDevice || e == cudaSuccess)
        snprintf(why, len, "GPU %d: no usable CUDA device (the driver reports none)", device);
    else
        snprintf(why, len, "GPU %d: no usable CUDA device (%s)", device, cudaGetErrorString(e));
}

// Starts the backend on GPU `device` into g: 0, or -1 with the reason in err and nothing left
// behind (no handle kept, g untouched), so that a later call for this GPU or another starts afresh.
static int start(int device, char *err, size_t errlen) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        no_device_reason(e, device, err, errlen);
        return -1;
    }
    if (device < 0 || device >= n) {
        snprintf(err, errlen, "GPU %d does not exist: the driver sees %d (cuda:0 .. cuda:%d)", device, n, n - 1);
        return -1;
    }
    cudaDeviceProp prop;
    // cudaFree(0) makes the device's context now: a GPU that is busy (exclusive mode) or broken
    // fails here, with a reason, instead of in the first op.
    if ((e = cudaSetDevice(device)) != cudaSuccess || (e = cudaFree(0)) != cudaSuccess ||
        (e = cudaGetDeviceProperties(&prop, device)) != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(err, errlen, "GPU %d cannot start: %s", device, cudaGetErrorString(e));
        return -1;
    }
    cudnnHandle_t dnn;
    cudnnStatus_t s = cudnnCreate(&dnn);
    if (s != CUDNN_STATUS_SUCCESS) {
        snprintf(err, errlen, "cuDNN cannot start on GPU %d (%s): %s", device, prop.name, cudnnGetErrorString(s));
        return -1;
    }
    cublasHandle_t blas;
    cublasStatus_t bs = cublasCreate(&blas);
    if (bs != CUBLAS_STATUS_SUCCESS) {
        CUDNN_CHECK(cudnnDestroy(dnn));
        snprintf(err, errlen, "cuBLAS cannot start on GPU %d (%s): %s", device, prop.name, cublas_status_name(bs));
        return -1;
    }
    g.device = device;
    g.prop = prop;
    g.sm_count = prop.multiProcessorCount;
    g.cudnn = dnn;
    g.cublas = blas;
    read_settings();
    CUDA_CHECK(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking));
    CUDA_CHECK(cudaStreamCreateWithFlags(&g.copy_stream, cudaStreamNonBlocking));
    for (int i = 0; i < 4; i++) {
        CUDA_CHECK(cudaEventCreateWithFlags(&g.staged[i], cudaEventDisableTiming));
        CUDA_CHECK(cudaEventCreateWithFlags(&g.released[i], cudaEventDisableTiming));
    }
    CUDNN_CHECK(cudnnSetStream(g.cudnn, g.stream));
    CUBLAS_CHECK(cublasSetStream(g.cublas, g.stream));
    // TF32 in cuBLAS only when cuDNN may use it too; pedantic FMA math for the parity runs.
    CUBLAS_CHECK(cublasSetMathMode(g.cublas, g.math_fma ? CUBLAS_PEDANTIC_MATH : CUBLAS_TF32_TENSOR_OP_MATH));
    return 0;
}

// One backend per process, on the first GPU that starts. A failure is not remembered: its reason
// names the GPU asked for, and the next call (another GPU, or this one once it is free) tries again.
extern "C" const dcgan_backend *backend_cuda(int device, char *err, size_t errlen) {
    static const dcgan_backend *ready;
    if (ready && device != g.device) {
        snprintf(err, errlen, "the CUDA backend of this process already runs on GPU %d, not on GPU %d", g.device, device);
        return NULL;
    }
    if (!ready && !start(device, err, errlen)) ready = &cuda_backend;
    return ready;
}
