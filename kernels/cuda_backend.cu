// The CUDA backend: device memory, the compute and copy streams, cuDNN / cuBLAS handles and the
// op table. All ops run in order on one non-blocking compute stream; only download() and the
// staging host wait block the host.
#include <stdlib.h>
#include <string.h>
#include "cuda_check.h"
#include "cuda_ops.h"

static struct {
    int ready;
    cudaStream_t stream, copy_stream;
    cudnnHandle_t cudnn;
    cublasHandle_t cublas;
    int verbose, math_fma, heuristic, sm_count;
    cudaDeviceProp prop;
    void *workspace;
    size_t workspace_bytes;
    cudaEvent_t staged[4], released[4];
    int released_set[4], staged_set[4];
} g;

cudaStream_t cuda_stream(void) { return g.stream; }
cudnnHandle_t cuda_cudnn(void) { return g.cudnn; }
cublasHandle_t cuda_cublas(void) { return g.cublas; }
int cuda_verbose(void) { return g.verbose; }
int cuda_math_fma(void) { return g.math_fma; }
int cuda_algo_heuristic(void) { return g.heuristic; }
int cuda_sm_count(void) { return g.sm_count > 0 ? g.sm_count : 1; }

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

void *cuda_workspace(size_t bytes, size_t *have) {
    if (bytes > g.workspace_bytes) {
        // Only reached while shapes are first seen (net_exec_init), never inside an iteration.
        CUDA_CHECK(cudaStreamSynchronize(g.stream));
        if (g.workspace) CUDA_CHECK(cudaFree(g.workspace));
        g.workspace = device_malloc(bytes);
        g.workspace_bytes = g.workspace ? bytes : 0;
    }
    if (have) *have = g.workspace_bytes;
    return g.workspace;
}

static void *cu_alloc(size_t bytes) {
    void *p = device_malloc(bytes);
    if (p) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes ? bytes : 1, g.stream));
    return p;
}

static void cu_release(void *p) {
    // cudaFree waits for the device, so no pending op still reads p.
    CUDA_CHECK(cudaFree(p));
}

static void cu_upload(void *dst, const void *src, size_t bytes) {
    // From pageable memory the source is staged before the call returns, so the caller may reuse it.
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, g.stream));
}

static void cu_download(void *dst, const void *src, size_t bytes) {
    if (!bytes) return;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, g.stream));
    CUDA_CHECK(cudaStreamSynchronize(g.stream));
}

static void cu_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, g.stream));
}

static void cu_zero(void *p, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, g.stream));
}

static void cu_sync(void) { CUDA_CHECK(cudaStreamSynchronize(g.stream)); }

static void *cu_host_alloc(size_t bytes) {
    void *p = NULL;
    cudaError_t e = cudaMallocHost(&p, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) { (void)cudaGetLastError(); return NULL; }
    CUDA_CHECK(e);
    return p;
}

static void cu_host_release(void *p) { CUDA_CHECK(cudaFreeHost(p)); }

static void cu_stage_upload(void *dst, const void *src, size_t bytes, int slot) {
    slot &= 3;
    // The copy may not overwrite dst before the compute work that last read it has run ...
    if (g.released_set[slot]) CUDA_CHECK(cudaStreamWaitEvent(g.copy_stream, g.released[slot], 0));
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, g.copy_stream));
    CUDA_CHECK(cudaEventRecord(g.staged[slot], g.copy_stream));
    g.staged_set[slot] = 1;
    // ... and compute enqueued from here on waits for the copy.
    CUDA_CHECK(cudaStreamWaitEvent(g.stream, g.staged[slot], 0));
}

static void cu_stage_release(int slot) {
    slot &= 3;
    CUDA_CHECK(cudaEventRecord(g.released[slot], g.stream));
    g.released_set[slot] = 1;
}

static void cu_stage_host_wait(int slot) {
    slot &= 3;
    if (g.staged_set[slot]) CUDA_CHECK(cudaEventSynchronize(g.staged[slot]));
}

static int cu_mem_info(size_t *free_bytes, size_t *total_bytes) {
    CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
    return 0;
}

static void cu_set_verbose(int on) {
    g.verbose = on;
    if (!on) return;
    size_t fr = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&fr, &total));
    int rt = 0, drv = 0;
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    CUDA_CHECK(cudaDriverGetVersion(&drv));
    printf("cuda: %s (sm_%d%d, %d SMs, %.0f of %.0f MiB free), runtime %d, driver %d, cuDNN %zu, "
           "math %s, conv algorithms by %s\n",
           g.prop.name, g.prop.major, g.prop.minor, g.prop.multiProcessorCount, fr / 1048576.0,
           total / 1048576.0, rt, drv, cudnnGetVersion(), g.math_fma ? "fma (no TF32)" : "default (TF32 allowed)",
           g.heuristic ? "heuristics" : "timed search");
}

static const dcgan_backend cuda_backend = {
    .name = "cuda",
    .alloc = cu_alloc, .release = cu_release,
    .upload = cu_upload, .download = cu_download, .copy = cu_copy, .zero = cu_zero, .sync = cu_sync,
    .conv2d_forward = cuda_conv2d_forward, .conv2d_backward_data = cuda_conv2d_backward_data,
    .conv2d_backward_filter = cuda_conv2d_backward_filter,
    .convt2d_forward = cuda_convt2d_forward, .convt2d_backward_data = cuda_convt2d_backward_data,
    .convt2d_backward_filter = cuda_convt2d_backward_filter,
    .conv_workspace_floats = cuda_conv_workspace_floats,
    .batchnorm_forward_train = cuda_batchnorm_forward_train,
    .batchnorm_forward_eval = cuda_batchnorm_forward_eval,
    .batchnorm_backward = cuda_batchnorm_backward,
    .relu_forward = cuda_relu_forward, .relu_backward = cuda_relu_backward,
    .leaky_relu_forward = cuda_leaky_relu_forward, .leaky_relu_backward = cuda_leaky_relu_backward,
    .tanh_forward = cuda_tanh_forward, .tanh_backward = cuda_tanh_backward,
    .loss_d = cuda_loss_d, .loss_g = cuda_loss_g,
    .adam_update = cuda_adam_update, .rmsprop_update = cuda_rmsprop_update, .clip_values = cuda_clip_values,
    .fill_normal = cuda_fill_normal,
    .gather_normalize = cuda_gather_normalize, .host_memory = 0,
    .host_alloc = cu_host_alloc, .host_release = cu_host_release,
    .stage_upload = cu_stage_upload, .stage_release = cu_stage_release, .stage_host_wait = cu_stage_host_wait,
    .mem_info = cu_mem_info, .set_verbose = cu_set_verbose,
    .concat_onehot = cuda_concat_onehot, .slice_channels = cuda_slice_channels,
};

// DCGAN_CUDNN_MATH=fma|default (default: default, i.e. TF32 allowed as in PyTorch's convolutions);
// DCGAN_CUDNN_ALGO=find|heuristic (default: find).
static void read_settings(void) {
    const char *m = getenv("DCGAN_CUDNN_MATH"), *a = getenv("DCGAN_CUDNN_ALGO");
    g.math_fma = m && !strcmp(m, "fma");
    g.heuristic = a && !strcmp(a, "heuristic");
}

extern "C" const dcgan_backend *backend_cuda(char *err, size_t errlen) {
    static int tried = 0;
    static char why[256];
    if (g.ready) return &cuda_backend;
    if (tried) { snprintf(err, errlen, "%s", why); return NULL; }
    tried = 1;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        // Without an NVIDIA driver the runtime says "driver version is insufficient"; name the cause.
        const char *reason = e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice
                                 ? "no NVIDIA GPU driver or device found"
                                 : e != cudaSuccess ? cudaGetErrorString(e) : "the driver reports none";
        snprintf(why, sizeof why, "no usable CUDA device (%s)", reason);
        (void)cudaGetLastError();
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    CUDA_CHECK(cudaSetDevice(0));
    CUDA_CHECK(cudaGetDeviceProperties(&g.prop, 0));
    g.sm_count = g.prop.multiProcessorCount;
    cudnnStatus_t s = cudnnCreate(&g.cudnn);
    if (s != CUDNN_STATUS_SUCCESS) {
        snprintf(why, sizeof why, "cuDNN cannot start on %s: %s", g.prop.name, cudnnGetErrorString(s));
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    cublasStatus_t bs = cublasCreate(&g.cublas);
    if (bs != CUBLAS_STATUS_SUCCESS) {
        snprintf(why, sizeof why, "cuBLAS cannot start on %s: %s", g.prop.name, cublas_status_name(bs));
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
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
    g.ready = 1;
    return &cuda_backend;
}
