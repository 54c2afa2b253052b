// Layer benchmark: every convolution and transposed convolution of the 64 px DCGAN (ngf = ndf =
// 64, nc 3, nz 100, batch 128 by default), each of its three passes (forward, input gradient,
// weight gradient) with EVERY cuDNN algorithm, in fp32 (CUDNN_FMA_MATH: no tensor cores) and
// TF32 (CUDNN_DEFAULT_MATH, which lets cuDNN use TF32 tensor cores for float data).
// Times are medians of cudaEvent-timed repeats after a warm-up; TFLOP/s are reported against the
// device's peak for that math, computed from cudaDeviceProp as SMs x clock x FMA/cycle/SM x 2.
//
// FMA per cycle per SM (dense, from NVIDIA's architecture whitepapers):
//   sm_90 (H100/H200): fp32 128, TF32 tensor 1024    (132 SMs x 1.98 GHz x 256 = 67 TFLOP/s fp32)
//   sm_80 (A100):      fp32  64, TF32 tensor  512
//   other:             fp32 128, TF32 not known (no percentage printed)
//
// A transposed convolution is the adjoint of a convolution (caffe's cudnn_deconv_layer): its
// forward is cudnnConvolutionBackwardData, its input gradient cudnnConvolutionForward and its
// weight gradient cudnnConvolutionBackwardFilter, all on the convolution that maps its output
// back to its input.
//
// Usage: bench_layers [--batch N] [--reps N] [--json FILE]; exits 77 without a CUDA device.
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); exit(1); } } while (0)
#define CUDNN_CHECK(x) do { cudnnStatus_t s_ = (x); if (s_ != CUDNN_STATUS_SUCCESS) { \
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudnnGetErrorString(s_)); exit(1); } } while (0)

// Workspaces above this are skipped (reported as "workspace"), as a trainer would skip them.
static const size_t WORKSPACE_CAP = (size_t)4 << 30;

// One layer as the convolution x [B, xc, xs, xs] * w [yc, xc, K, K] -> y [B, yc, ys, ys].
typedef struct {
    const char *name;
    int transposed;   // 1: the layer maps y -> x (a ConvTranspose2d with weight [yc, xc, K, K])
    int xc, xs, yc, ys, K, stride, pad;
} layer_shape;

// The 64 px model of the PyTorch example.
static const layer_shape LAYERS[] = {
    {"G.convT1 100->512 1->4", 1, 512, 4, 100, 1, 4, 1, 0},
    {"G.convT2 512->256 4->8", 1, 256, 8, 512, 4, 4, 2, 1},
    {"G.convT3 256->128 8->16", 1, 128, 16, 256, 8, 4, 2, 1},
    {"G.convT4 128->64 16->32", 1, 64, 32, 128, 16, 4, 2, 1},
    {"G.convT5 64->3 32->64", 1, 3, 64, 64, 32, 4, 2, 1},
    {"D.conv1 3->64 64->32", 0, 3, 64, 64, 32, 4, 2, 1},
    {"D.conv2 64->128 32->16", 0, 64, 32, 128, 16, 4, 2, 1},
    {"D.conv3 128->256 16->8", 0, 128, 16, 256, 8, 4, 2, 1},
    {"D.conv4 256->512 8->4", 0, 256, 8, 512, 4, 4, 2, 1},
    {"D.conv5 512->1 4->1", 0, 512, 4, 1, 1, 4, 1, 0},
};
#define NLAYERS ((int)(sizeof LAYERS / sizeof LAYERS[0]))

typedef enum { OP_FWD, OP_BWD_DATA, OP_BWD_FILTER } cudnn_op;
static const char *const OP_NAMES[] = {"ConvolutionForward", "ConvolutionBackwardData", "ConvolutionBackwardFilter"};

typedef struct {
    cudnnHandle_t h;
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    float *x, *y, *w;
    void *ws;
    size_t ws_size;
    cudaEvent_t e0, e1;
    int reps;
} bench_ctx;

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int algo_count(cudnn_op op) {
    if (op == OP_FWD) return (int)CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    if (op == OP_BWD_DATA) return (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    return (int)CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
}

static cudnnStatus_t workspace_size(bench_ctx *c, cudnn_op op, int algo, size_t *bytes) {
    switch (op) {
    case OP_FWD:
        return cudnnGetConvolutionForwardWorkspaceSize(c->h, c->xd, c->wd, c->cd, c->yd,
                                                       (cudnnConvolutionFwdAlgo_t)algo, bytes);
    case OP_BWD_DATA:
        return cudnnGetConvolutionBackwardDataWorkspaceSize(c->h, c->wd, c->yd, c->cd, c->xd,
                                                            (cudnnConvolutionBwdDataAlgo_t)algo, bytes);
    default:
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(c->h, c->xd, c->yd, c->cd, c->wd,
                                                              (cudnnConvolutionBwdFilterAlgo_t)algo, bytes);
    }
}

static cudnnStatus_t run_op(bench_ctx *c, cudnn_op op, int algo, size_t ws) {
    const float one = 1.0f, zero = 0.0f;
    switch (op) {
    case OP_FWD:
        return cudnnConvolutionForward(c->h, &one, c->xd, c->x, c->wd, c->w, c->cd,
                                       (cudnnConvolutionFwdAlgo_t)algo, c->ws, ws, &zero, c->yd, c->y);
    case OP_BWD_DATA:
        return cudnnConvolutionBackwardData(c->h, &one, c->wd, c->w, c->yd, c->y, c->cd,
                                            (cudnnConvolutionBwdDataAlgo_t)algo, c->ws, ws, &zero, c->xd, c->x);
    default:
        return cudnnConvolutionBackwardFilter(c->h, &one, c->xd, c->x, c->yd, c->y, c->cd,
                                              (cudnnConvolutionBwdFilterAlgo_t)algo, c->ws, ws, &zero, c->wd, c->w);
    }
}

// Median milliseconds of one call, or a negative value with *why set when the algorithm does not
// run on this shape.
static float time_algo(bench_ctx *c, cudnn_op op, int algo, const char **why) {
    size_t ws = 0;
    if (workspace_size(c, op, algo, &ws) != CUDNN_STATUS_SUCCESS) { *why = "not supported"; return -1; }
    if (ws > WORKSPACE_CAP) { *why = "workspace"; return -1; }
    if (ws > c->ws_size) {
        if (c->ws) CUDA_CHECK(cudaFree(c->ws));
        c->ws = NULL;
        c->ws_size = 0;
        if (cudaMalloc(&c->ws, ws) != cudaSuccess) { (void)cudaGetLastError(); *why = "out of memory"; return -1; }
        c->ws_size = ws;
    }
    for (int i = 0; i < 2; i++) {   // warm-up; the first call may fail for shapes the algorithm rejects
        cudnnStatus_t s = run_op(c, op, algo, ws);
        if (s != CUDNN_STATUS_SUCCESS) { *why = cudnnGetErrorString(s); return -1; }
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    float *ms = (float *)malloc((size_t)c->reps * sizeof(float));
    if (!ms) { fprintf(stderr, "error: out of host memory\n"); exit(1); }
    for (int r = 0; r < c->reps; r++) {
        CUDA_CHECK(cudaEventRecord(c->e0));
        CUDNN_CHECK(run_op(c, op, algo, ws));
        CUDA_CHECK(cudaEventRecord(c->e1));
        CUDA_CHECK(cudaEventSynchronize(c->e1));
        CUDA_CHECK(cudaEventElapsedTime(&ms[r], c->e0, c->e1));
    }
    qsort(ms, (size_t)c->reps, sizeof(float), cmp_float);
    float med = ms[c->reps / 2];
    free(ms);
    return med;
}

static void fill(float *p, size_t n) {
    float *h = (float *)malloc(n * sizeof(float));
    if (!h) { fprintf(stderr, "error: out of host memory\n"); exit(1); }
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) { s = s * 1664525u + 1013904223u; h[i] = (float)(s >> 8) / 16777216.0f - 0.5f; }
    CUDA_CHECK(cudaMemcpy(p, h, n * sizeof(float), cudaMemcpyHostToDevice));
    free(h);
}

// Which pass of the layer a cuDNN call is: a conv's forward is the layer's forward; for a
// transposed conv the roles of ConvolutionForward and BackwardData swap.
static const char *pass_name(const layer_shape *l, cudnn_op op) {
    if (op == OP_BWD_FILTER) return "weight-grad";
    if (op == OP_FWD) return l->transposed ? "input-grad" : "forward";
    return l->transposed ? "forward" : "input-grad";
}

int main(int argc, char **argv) {
    int B = 128, reps = 20;
    const char *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) B = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
        else {
            fprintf(stderr, "usage: bench_layers [--batch N] [--reps N] [--json FILE]\n");
            return 2;
        }
    }
    if (B < 1 || reps < 1) { fprintf(stderr, "error: --batch and --reps must be at least 1\n"); return 2; }
    int ndev = 0;
    if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
        fprintf(stderr, "bench_layers: no CUDA device; skipped\n");
        return 77;
    }
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    int clock_khz = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0));
    int fma_fp32 = 128, fma_tf32 = 0;
    if (prop.major == 9) fma_tf32 = 1024;
    else if (prop.major == 8 && prop.minor == 0) { fma_fp32 = 64; fma_tf32 = 512; }
    const double sm_ghz = prop.multiProcessorCount * (clock_khz * 1e-6);
    const double peak_fp32 = sm_ghz * fma_fp32 * 2 * 1e-3, peak_tf32 = sm_ghz * fma_tf32 * 2 * 1e-3;   // TFLOP/s
    printf("device: %s (sm_%d%d, %d SMs, %.0f MHz); peak fp32 %.1f TFLOP/s, TF32 %s; cuDNN %zu; batch %d, median of %d\n",
           prop.name, prop.major, prop.minor, prop.multiProcessorCount, clock_khz * 1e-3, peak_fp32,
           fma_tf32 ? "" : "unknown", cudnnGetVersion(), B, reps);
    if (fma_tf32) printf("peak TF32 %.1f TFLOP/s\n", peak_tf32);

    FILE *json = NULL;
    if (json_path && !(json = fopen(json_path, "w"))) { fprintf(stderr, "error: cannot write %s\n", json_path); return 1; }
    if (json) fprintf(json, "{\"device\":\"%s\",\"batch\":%d,\"peak_fp32_tflops\":%.2f,\"peak_tf32_tflops\":%.2f,\"results\":[\n",
                      prop.name, B, peak_fp32, peak_tf32);
    int first_json = 1;

    bench_ctx c;
    memset(&c, 0, sizeof c);
    c.reps = reps;
    CUDNN_CHECK(cudnnCreate(&c.h));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&c.xd));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&c.yd));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&c.wd));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&c.cd));
    CUDA_CHECK(cudaEventCreate(&c.e0));
    CUDA_CHECK(cudaEventCreate(&c.e1));

    printf("%-26s %-11s %-4s %-26s %4s %10s %9s %7s\n", "layer", "pass", "math", "cudnn call", "algo", "ms", "TFLOP/s", "%peak");
    for (int li = 0; li < NLAYERS; li++) {
        const layer_shape *l = &LAYERS[li];
        const size_t nx = (size_t)B * l->xc * l->xs * l->xs, ny = (size_t)B * l->yc * l->ys * l->ys;
        const size_t nw = (size_t)l->yc * l->xc * l->K * l->K;
        const double flop = 2.0 * B * l->yc * l->ys * l->ys * (double)l->xc * l->K * l->K;
        CUDA_CHECK(cudaMalloc((void **)&c.x, nx * sizeof(float)));
        CUDA_CHECK(cudaMalloc((void **)&c.y, ny * sizeof(float)));
        CUDA_CHECK(cudaMalloc((void **)&c.w, nw * sizeof(float)));
        fill(c.x, nx);
        fill(c.y, ny);
        fill(c.w, nw);
        CUDNN_CHECK(cudnnSetTensor4dDescriptor(c.xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, B, l->xc, l->xs, l->xs));
        CUDNN_CHECK(cudnnSetTensor4dDescriptor(c.yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, B, l->yc, l->ys, l->ys));
        CUDNN_CHECK(cudnnSetFilter4dDescriptor(c.wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, l->yc, l->xc, l->K, l->K));
        CUDNN_CHECK(cudnnSetConvolution2dDescriptor(c.cd, l->pad, l->pad, l->stride, l->stride, 1, 1,
                                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        for (int tf32 = 0; tf32 < 2; tf32++) {
            CUDNN_CHECK(cudnnSetConvolutionMathType(c.cd, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
            const double peak = tf32 ? peak_tf32 : peak_fp32;
            for (int op = 0; op < 3; op++) {
                for (int algo = 0; algo < algo_count((cudnn_op)op); algo++) {
                    const char *why = "";
                    float ms = time_algo(&c, (cudnn_op)op, algo, &why);
                    const char *pass = pass_name(l, (cudnn_op)op), *math = tf32 ? "tf32" : "fp32";
                    if (ms < 0) {
                        printf("%-26s %-11s %-4s %-26s %4d %10s  (%s)\n", l->name, pass, math, OP_NAMES[op], algo, "-", why);
                        continue;
                    }
                    const double tflops = flop / (ms * 1e-3) * 1e-12;
                    char pct[16] = "-";
                    if (peak > 0) snprintf(pct, sizeof pct, "%.1f", 100.0 * tflops / peak);
                    printf("%-26s %-11s %-4s %-26s %4d %10.4f %9.2f %7s\n", l->name, pass, math, OP_NAMES[op], algo, ms, tflops, pct);
                    if (json) {
                        fprintf(json, "%s{\"layer\":\"%s\",\"pass\":\"%s\",\"math\":\"%s\",\"call\":\"%s\",\"algo\":%d,"
                                "\"ms\":%.5f,\"tflops\":%.3f,\"pct_peak\":%.2f}",
                                first_json ? "" : ",\n", l->name, pass, math, OP_NAMES[op], algo, ms, tflops,
                                peak > 0 ? 100.0 * tflops / peak : -1.0);
                        first_json = 0;
                    }
                }
            }
        }
        CUDA_CHECK(cudaFree(c.x));
        CUDA_CHECK(cudaFree(c.y));
        CUDA_CHECK(cudaFree(c.w));
    }
    if (json) {
        fprintf(json, "\n]}\n");
        if (fclose(json)) { fprintf(stderr, "error: cannot write %s\n", json_path); return 1; }
    }
    if (c.ws) CUDA_CHECK(cudaFree(c.ws));
    CUDA_CHECK(cudaEventDestroy(c.e0));
    CUDA_CHECK(cudaEventDestroy(c.e1));
    CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(c.cd));
    CUDNN_CHECK(cudnnDestroyFilterDescriptor(c.wd));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(c.xd));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(c.yd));
    CUDNN_CHECK(cudnnDestroy(c.h));
    return 0;
}
