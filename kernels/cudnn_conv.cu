// conv2d and conv_transpose2d on cuDNN's legacy convolution API; every cuDNN call of the backend
// is in this file. A transposed convolution is run as the adjoint of the convolution it inverts
// (as caffe's cudnn_deconv_layer): forward = BackwardData, input gradient = Forward, weight
// gradient = BackwardFilter with the roles of input and output swapped.
//
// Both ops are therefore one "underlying convolution" X [B, xc, xh, xw] * Wt [fk, xc, K, K] ->
// Y [B, fk, yh, yw]:   conv2d:  X = in,  Y = out, Wt = weight [OC, C, K, K]
//                      convt2d: X = out, Y = in,  Wt = weight [C, OC, K, K]
// Descriptors and the algorithm of each direction are chosen once per underlying convolution
// (batch size included) and cached. The whole-image cases (G's first layer on a 1x1 input, D's
// last layer down to a 1x1 logit) are plain matrix products and go to cuBLAS instead.
#include <string.h>
#include "cuda_check.h"
#include "cuda_ops.h"
#include "cublas_dense.h"

typedef struct {
    int B, xc, xh, xw, fk, K, stride, pad;
} conv_key;

typedef struct {
    conv_key key;
    int yh, yw;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv_fwd, conv_bwd_data, conv_bwd_filter;   // one per math type choice
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    size_t ws_fwd, ws_bwd_data, ws_bwd_filter;
} conv_plan;

#define MAX_PLANS 512
static conv_plan plans[MAX_PLANS];
static int nplans;

static conv_key conv_key_of(const conv_geom *g) {
    conv_key k = {g->B, g->C, g->H, g->W, g->OC, g->K, g->stride, g->pad};
    return k;
}

static conv_key convt_key_of(const conv_geom *g) {
    conv_key k = {g->B, g->OC, g->OH, g->OW, g->C, g->K, g->stride, g->pad};
    return k;
}

// The kernel covers the whole unpadded image at a single output position (same test as the CPU
// ops'): the convolution is out[B, fk] = X[B, xc*K*K] . Wt[fk, xc*K*K]^T.
static int key_is_dense(const conv_key *k) {
    int yh = (k->xh + 2 * k->pad - k->K) / k->stride + 1, yw = (k->xw + 2 * k->pad - k->K) / k->stride + 1;
    return yh == 1 && yw == 1 && k->pad == 0 && k->xh == k->K && k->xw == k->K;
}

static const char *fwd_name(cudnnConvolutionFwdAlgo_t a) {
    static const char *n[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING",
                              "WINOGRAD", "WINOGRAD_NONFUSED"};
    return (unsigned)a < sizeof n / sizeof *n ? n[a] : "?";
}
static const char *bwd_data_name(cudnnConvolutionBwdDataAlgo_t a) {
    static const char *n[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
    return (unsigned)a < sizeof n / sizeof *n ? n[a] : "?";
}
static const char *bwd_filter_name(cudnnConvolutionBwdFilterAlgo_t a) {
    static const char *n[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED", "FFT_TILING"};
    return (unsigned)a < sizeof n / sizeof *n ? n[a] : "?";
}
static const char *math_name(cudnnMathType_t m) {
    switch (m) {
    case CUDNN_DEFAULT_MATH: return "default";
    case CUDNN_TENSOR_OP_MATH: return "tensor-op";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor-op-conv";
    case CUDNN_FMA_MATH: return "fma";
    default: return "?";
    }
}

static cudnnConvolutionDescriptor_t make_conv_desc(const conv_key *k) {
    cudnnConvolutionDescriptor_t d;
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d));
    // PyTorch's convolutions are cross-correlations.
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d, k->pad, k->pad, k->stride, k->stride, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionMathType(d, cuda_math_fma() ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));
    return d;
}

// The math type a chosen algorithm runs with: FMA only in fma mode (no TF32, as PyTorch does with
// allow_tf32 off), else what the search measured.
static cudnnMathType_t chosen_math(cudnnMathType_t measured) { return cuda_math_fma() ? CUDNN_FMA_MATH : measured; }

// Index of the fastest successful result whose workspace fits `limit` (results come sorted by
// time); in fma mode a deterministic algorithm is preferred so that test runs repeat exactly.
#define PICK_BEST(perf, n, limit, out) do { \
    out = -1; \
    for (int pass = cuda_math_fma() ? 0 : 1; pass < 2 && out < 0; pass++) \
        for (int i_ = 0; i_ < (n); i_++) \
            if ((perf)[i_].status == CUDNN_STATUS_SUCCESS && (perf)[i_].memory <= (limit) && \
                (pass == 1 || (perf)[i_].determinism == CUDNN_DETERMINISTIC)) { out = i_; break; } \
} while (0)

static void *try_malloc(size_t bytes) {
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) { (void)cudaGetLastError(); return NULL; }
    return p;
}

// Chooses the three algorithms: timed search (cudnnFind*AlgorithmEx) on scratch buffers, or the
// v7 heuristics when asked to or when the scratch buffers do not fit.
static void choose_algorithms(conv_plan *p) {
    const conv_key *k = &p->key;
    cudnnHandle_t h = cuda_cudnn();
    size_t nx = (size_t)k->B * k->xc * k->xh * k->xw, ny = (size_t)k->B * k->fk * p->yh * p->yw;
    size_t nw = (size_t)k->fk * k->xc * k->K * k->K;
    float *x = NULL, *y = NULL, *w = NULL;
    void *ws = NULL;
    size_t ws_bytes = 0;
    int timed = !cuda_algo_heuristic();
    if (timed) {
        x = (float *)try_malloc(nx * 4);
        y = (float *)try_malloc(ny * 4);
        w = (float *)try_malloc(nw * 4);
        timed = x && y && w;
        if (timed) {
            CUDA_CHECK(cudaMemsetAsync(x, 0, nx * 4, cuda_stream()));
            CUDA_CHECK(cudaMemsetAsync(y, 0, ny * 4, cuda_stream()));
            CUDA_CHECK(cudaMemsetAsync(w, 0, nw * 4, cuda_stream()));
            // As much search workspace as the device gives, up to 512 MiB.
            for (ws_bytes = (size_t)512 << 20; ws_bytes >= ((size_t)1 << 20) && !(ws = try_malloc(ws_bytes)); ws_bytes /= 2) {}
            if (!ws) ws_bytes = 0;
            CUDA_CHECK(cudaStreamSynchronize(cuda_stream()));
        }
    }
    cudnnConvolutionFwdAlgoPerf_t pf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    cudnnConvolutionBwdDataAlgoPerf_t pd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    cudnnConvolutionBwdFilterAlgoPerf_t pw[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int nf = 0, nd = 0, nwf = 0, bf, bd, bw;
    size_t limit = timed ? ws_bytes : (size_t)-1;
    if (timed) {
        CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, p->x, x, p->w, w, p->conv_fwd, p->y, y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &nf, pf, ws, ws_bytes));
        CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(h, p->w, w, p->y, y, p->conv_bwd_data, p->x, x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &nd, pd, ws, ws_bytes));
        CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, p->x, x, p->y, y, p->conv_bwd_filter, p->w, w,
                                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &nwf, pw, ws, ws_bytes));
    } else {
        CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p->x, p->w, p->conv_fwd, p->y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &nf, pf));
        CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->w, p->y, p->conv_bwd_data, p->x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &nd, pd));
        CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p->x, p->y, p->conv_bwd_filter, p->w,
                                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &nwf, pw));
    }
    PICK_BEST(pf, nf, limit, bf);
    PICK_BEST(pd, nd, limit, bd);
    PICK_BEST(pw, nwf, limit, bw);
    if (bf < 0 || bd < 0 || bw < 0) {
        fprintf(stderr, "error: cuDNN offers no convolution algorithm for X [%d, %d, %d, %d], W [%d, %d, %d, %d], "
                "stride %d, pad %d\n", k->B, k->xc, k->xh, k->xw, k->fk, k->xc, k->K, k->K, k->stride, k->pad);
        exit(1);
    }
    p->fwd = pf[bf].algo;
    p->bwd_data = pd[bd].algo;
    p->bwd_filter = pw[bw].algo;
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_fwd, chosen_math(pf[bf].mathType)));
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_bwd_data, chosen_math(pd[bd].mathType)));
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_bwd_filter, chosen_math(pw[bw].mathType)));
    // Workspace sizes for the math type actually set (they can differ from the search's).
    CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, p->x, p->w, p->conv_fwd, p->y, p->fwd, &p->ws_fwd));
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->w, p->y, p->conv_bwd_data, p->x, p->bwd_data,
                                                             &p->ws_bwd_data));
    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->x, p->y, p->conv_bwd_filter, p->w,
                                                               p->bwd_filter, &p->ws_bwd_filter));
    if (timed || x || y || w) {
        CUDA_CHECK(cudaStreamSynchronize(cuda_stream()));
        if (x) CUDA_CHECK(cudaFree(x));
        if (y) CUDA_CHECK(cudaFree(y));
        if (w) CUDA_CHECK(cudaFree(w));
        if (ws) CUDA_CHECK(cudaFree(ws));
    }
    if (cuda_verbose())
        printf("cudnn: X [%d, %d, %d, %d] W [%d, %d, %d, %d] s%d p%d -> Y [%d, %d, %d, %d]: fwd %s (%s, %.3f ms), "
               "bwd-data %s (%s, %.3f ms), bwd-filter %s (%s, %.3f ms), workspace %.1f MiB, %s\n",
               k->B, k->xc, k->xh, k->xw, k->fk, k->xc, k->K, k->K, k->stride, k->pad, k->B, k->fk, p->yh, p->yw,
               fwd_name(p->fwd), math_name(chosen_math(pf[bf].mathType)), pf[bf].time,
               bwd_data_name(p->bwd_data), math_name(chosen_math(pd[bd].mathType)), pd[bd].time,
               bwd_filter_name(p->bwd_filter), math_name(chosen_math(pw[bw].mathType)), pw[bw].time,
               (double)(p->ws_fwd > p->ws_bwd_data ? (p->ws_fwd > p->ws_bwd_filter ? p->ws_fwd : p->ws_bwd_filter)
                                                    : (p->ws_bwd_data > p->ws_bwd_filter ? p->ws_bwd_data : p->ws_bwd_filter)) / 1048576.0,
               timed ? "timed" : "heuristic");
}

static conv_plan *plan_for(const conv_key *k) {
    for (int i = 0; i < nplans; i++)
        if (!memcmp(&plans[i].key, k, sizeof *k)) return &plans[i];
    if (nplans == MAX_PLANS) {   // a long-running process with many shapes: start the cache over
        cuda_conv_release_all();
    }
    conv_plan *p = &plans[nplans++];
    memset(p, 0, sizeof *p);
    p->key = *k;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, k->B, k->xc, k->xh, k->xw));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k->fk, k->xc, k->K, k->K));
    p->conv_fwd = make_conv_desc(k);
    p->conv_bwd_data = make_conv_desc(k);
    p->conv_bwd_filter = make_conv_desc(k);
    int n, c;
    CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p->conv_fwd, p->x, p->w, &n, &c, &p->yh, &p->yw));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, k->B, k->fk, p->yh, p->yw));
    choose_algorithms(p);
    return p;
}

void cuda_conv_release_all(void) {
    for (int i = 0; i < nplans; i++) {
        conv_plan *p = &plans[i];
        CUDNN_CHECK(cudnnDestroyTensorDescriptor(p->x));
        CUDNN_CHECK(cudnnDestroyTensorDescriptor(p->y));
        CUDNN_CHECK(cudnnDestroyFilterDescriptor(p->w));
        CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(p->conv_fwd));
        CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(p->conv_bwd_data));
        CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(p->conv_bwd_filter));
    }
    nplans = 0;
}

static size_t plan_workspace(const conv_plan *p) {
    size_t m = p->ws_fwd;
    if (p->ws_bwd_data > m) m = p->ws_bwd_data;
    if (p->ws_bwd_filter > m) m = p->ws_bwd_filter;
    return m;
}

// The shared workspace, grown to this plan's need. Growing happens when a shape is first planned
// (net_exec_init asks for every layer's geometry up front), so iterations never allocate.
static void *workspace_for(const conv_plan *p, size_t need) {
    size_t have = 0;
    void *ws = cuda_workspace(need, &have);
    if (need && (!ws || have < need)) {
        size_t fr = 0, total = 0;
        CUDA_CHECK(cudaMemGetInfo(&fr, &total));
        fprintf(stderr, "error: out of GPU memory: the convolution workspace for batch size %d needs %.1f MiB, "
                "%.1f MiB of %.1f MiB are free (try a smaller --batch-size)\n", p->key.B, need / 1048576.0,
                fr / 1048576.0, total / 1048576.0);
        exit(1);
    }
    return ws;
}

// The backend's workspace is its own (shared) allocation, so net_exec needs no scratch from us;
// planning here makes the algorithm search and the workspace growth happen at set-up time.
extern "C" size_t cuda_conv_workspace_floats(const conv_geom *g) {
    int s = g->stride, p = g->pad, K = g->K;
    int is_conv = g->OH == (g->H + 2 * p - K) / s + 1 && g->OW == (g->W + 2 * p - K) / s + 1;
    int is_convt = g->OH == (g->H - 1) * s - 2 * p + K && g->OW == (g->W - 1) * s - 2 * p + K;
    conv_key keys[2];
    int nk = 0;
    if (is_conv || !is_convt) keys[nk++] = conv_key_of(g);
    if (is_convt || !is_conv) keys[nk++] = convt_key_of(g);
    for (int i = 0; i < nk; i++) {
        if (key_is_dense(&keys[i])) continue;
        const conv_plan *pl = plan_for(&keys[i]);
        size_t have = 0, need = plan_workspace(pl);
        if (need && (!cuda_workspace(need, &have) || have < need)) return (size_t)-1 / 8;   // net_exec reports OOM
    }
    return 0;
}

static const float ONE = 1.0f, ZERO = 0.0f;

// Y = conv(X, Wt)
static void under_forward(float *y, const float *x, const float *w, const conv_key *k) {
    if (key_is_dense(k)) { dense_forward(y, x, w, k->B, k->xc * k->K * k->K, k->fk); return; }
    const conv_plan *p = plan_for(k);
    void *ws = workspace_for(p, p->ws_fwd);
    CUDNN_CHECK(cudnnConvolutionForward(cuda_cudnn(), &ONE, p->x, x, p->w, w, p->conv_fwd, p->fwd, ws, p->ws_fwd,
                                        &ZERO, p->y, y));
}

// dX = conv^T(dY, Wt)
static void under_backward_data(float *dx, const float *dy, const float *w, const conv_key *k) {
    if (key_is_dense(k)) { dense_backward_data(dx, dy, w, k->B, k->xc * k->K * k->K, k->fk); return; }
    const conv_plan *p = plan_for(k);
    void *ws = workspace_for(p, p->ws_bwd_data);
    CUDNN_CHECK(cudnnConvolutionBackwardData(cuda_cudnn(), &ONE, p->w, w, p->y, dy, p->conv_bwd_data, p->bwd_data,
                                             ws, p->ws_bwd_data, &ZERO, p->x, dx));
}

// dWt += dY (x) X
static void under_backward_filter(float *dw, const float *dy, const float *x, const conv_key *k) {
    if (key_is_dense(k)) { dense_backward_filter(dw, dy, x, k->B, k->xc * k->K * k->K, k->fk); return; }
    const conv_plan *p = plan_for(k);
    void *ws = workspace_for(p, p->ws_bwd_filter);
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(cuda_cudnn(), &ONE, p->x, x, p->y, dy, p->conv_bwd_filter,
                                               p->bwd_filter, ws, p->ws_bwd_filter, &ONE, p->w, dw));
}

// conv2d: in [B, C, H, W], weight [OC, C, K, K], out [B, OC, OH, OW]
extern "C" void cuda_conv2d_forward(float *out, const float *in, const float *w, const conv_geom *g, float *work) {
    (void)work;
    conv_key k = conv_key_of(g);
    under_forward(out, in, w, &k);
}
extern "C" void cuda_conv2d_backward_data(float *din, const float *dout, const float *w, const conv_geom *g, float *work) {
    (void)work;
    conv_key k = conv_key_of(g);
    under_backward_data(din, dout, w, &k);
}
extern "C" void cuda_conv2d_backward_filter(float *dw, const float *dout, const float *in, const conv_geom *g, float *work) {
    (void)work;
    conv_key k = conv_key_of(g);
    under_backward_filter(dw, dout, in, &k);
}

// conv_transpose2d: in [B, C, H, W], weight [C, OC, K, K], out [B, OC, OH, OW]
extern "C" void cuda_convt2d_forward(float *out, const float *in, const float *w, const conv_geom *g, float *work) {
    (void)work;
    conv_key k = convt_key_of(g);
    under_backward_data(out, in, w, &k);
}
extern "C" void cuda_convt2d_backward_data(float *din, const float *dout, const float *w, const conv_geom *g, float *work) {
    (void)work;
    conv_key k = convt_key_of(g);
    under_forward(din, dout, w, &k);
}
extern "C" void cuda_convt2d_backward_filter(float *dw, const float *dout, const float *in, const conv_geom *g, float *work) {
    (void)work;
    conv_key k = convt_key_of(g);
    under_backward_filter(dw, in, dout, &k);
}
