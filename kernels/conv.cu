// conv2d and conv_transpose2d on cuDNN's legacy convolution API; every cuDNN call of the backend
// is in this file. A transposed convolution is run as the adjoint of the convolution it inverts
// (as caffe's cudnn_deconv_layer): forward = BackwardData, input gradient = Forward, weight
// gradient = BackwardFilter with the roles of input and output swapped.
//
// Both ops are therefore one "underlying convolution" X [B, xc, xh, xw] * Wt [fk, xc, K, K] ->
// Y [B, fk, yh, yw]:   conv2d:  X = in,  Y = out, Wt = weight [OC, C, K, K]
//                      convt2d: X = out, Y = in,  Wt = weight [C, OC, K, K]
// Descriptors and the algorithm of each direction are chosen once per underlying convolution
// (batch size included) when conv_plan is called, and cached.
#include <string.h>
#include "cuda_check.h"
#include "cuda_ops.h"

typedef struct {
    int B, xc, xh, xw, fk, kh, kw, sh, sw, ph, pw;
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
struct conv_plan_cache {
    conv_plan plans[MAX_PLANS];
    int n;
};

// The underlying convolution of a descriptor: X is the input of a conv2d, the output of a
// transposed one.
static conv_key key_of(const conv_desc *d) {
    const tensor_desc *x = d->kind == CONV_2D ? &d->in : &d->out, *y = d->kind == CONV_2D ? &d->out : &d->in;
    conv_key k = {d->in.n, x->c, x->h, x->w, y->c, d->kh, d->kw, d->sh, d->sw, d->ph, d->pw};
    return k;
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

static cudnnConvolutionDescriptor_t make_conv_desc(const cuda_ctx *c, const conv_key *k) {
    cudnnConvolutionDescriptor_t d;
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d));
    // PyTorch's convolutions are cross-correlations.
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d, k->ph, k->pw, k->sh, k->sw, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionMathType(d, c->math_fma ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));
    return d;
}

// The math types an algorithm may run with: FMA only in fma mode (no TF32, as PyTorch does with
// allow_tf32 off), any otherwise.
static int math_allowed(const cuda_ctx *c, cudnnMathType_t m) { return !c->math_fma || m == CUDNN_FMA_MATH; }

// Index of the first (results come sorted: by measured time, or by the heuristics' preference)
// successful result whose math type is allowed and whose workspace fits `limit`; in fma mode a
// deterministic algorithm is preferred so that test runs repeat exactly.
#define PICK_BEST(c, perf, n, limit, out) do { \
    out = -1; \
    for (int pass = (c)->math_fma ? 0 : 1; pass < 2 && out < 0; pass++) \
        for (int i_ = 0; i_ < (n); i_++) \
            if ((perf)[i_].status == CUDNN_STATUS_SUCCESS && (perf)[i_].memory <= (limit) && \
                math_allowed(c, (perf)[i_].mathType) && \
                (pass == 1 || (perf)[i_].determinism == CUDNN_DETERMINISTIC)) { out = i_; break; } \
} while (0)

// The heuristics' workspace limit: what the timed search may use at most, and no more than a
// quarter of the free memory.
static size_t heuristic_limit(void) {
    size_t fr = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&fr, &total));
    size_t cap = (size_t)512 << 20;
    return fr / 4 < cap ? fr / 4 : cap;
}

static void *try_malloc(size_t bytes) {
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) { (void)cudaGetLastError(); return NULL; }
    return p;
}

// Chooses the three algorithms: timed search (cudnnFind*AlgorithmEx) on scratch buffers, or the
// v7 heuristics when asked to or when the scratch buffers do not fit.
static void choose_algorithms(const cuda_ctx *c, conv_plan *p) {
    const conv_key *k = &p->key;
    cudnnHandle_t h = c->cudnn;
    size_t nx = (size_t)k->B * k->xc * k->xh * k->xw, ny = (size_t)k->B * k->fk * p->yh * p->yw;
    size_t nw = (size_t)k->fk * k->xc * k->kh * k->kw;
    float *x = NULL, *y = NULL, *w = NULL;
    void *ws = NULL;
    size_t ws_bytes = 0;
    int timed = !c->heuristic;
    if (timed) {
        x = (float *)try_malloc(nx * 4);
        y = (float *)try_malloc(ny * 4);
        w = (float *)try_malloc(nw * 4);
        timed = x && y && w;
        if (timed) {
            CUDA_CHECK(cudaMemsetAsync(x, 0, nx * 4, c->stream));
            CUDA_CHECK(cudaMemsetAsync(y, 0, ny * 4, c->stream));
            CUDA_CHECK(cudaMemsetAsync(w, 0, nw * 4, c->stream));
            // As much search workspace as the device gives, up to 512 MiB.
            for (ws_bytes = (size_t)512 << 20; ws_bytes >= ((size_t)1 << 20) && !(ws = try_malloc(ws_bytes)); ws_bytes /= 2) {}
            if (!ws) ws_bytes = 0;
            CUDA_CHECK(cudaStreamSynchronize(c->stream));
        }
    }
    cudnnConvolutionFwdAlgoPerf_t pf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    cudnnConvolutionBwdDataAlgoPerf_t pd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    cudnnConvolutionBwdFilterAlgoPerf_t pw[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int nf = 0, nd = 0, nwf = 0, bf, bd, bw;
    size_t limit = timed ? ws_bytes : heuristic_limit();
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
    PICK_BEST(c, pf, nf, limit, bf);
    PICK_BEST(c, pd, nd, limit, bd);
    PICK_BEST(c, pw, nwf, limit, bw);
    if (bf < 0 || bd < 0 || bw < 0) {
        fprintf(stderr, "error: cuDNN offers no convolution algorithm for X [%d, %d, %d, %d], W [%d, %d, %d, %d], "
                "stride %dx%d, pad %dx%d\n", k->B, k->xc, k->xh, k->xw, k->fk, k->xc, k->kh, k->kw, k->sh, k->sw, k->ph,
                k->pw);
        exit(1);
    }
    p->fwd = pf[bf].algo;
    p->bwd_data = pd[bd].algo;
    p->bwd_filter = pw[bw].algo;
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_fwd, pf[bf].mathType));
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_bwd_data, pd[bd].mathType));
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_bwd_filter, pw[bw].mathType));
    // Workspace sizes for the math type actually set (they can differ from the search's).
    CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, p->x, p->w, p->conv_fwd, p->y, p->fwd, &p->ws_fwd));
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->w, p->y, p->conv_bwd_data, p->x, p->bwd_data,
                                                             &p->ws_bwd_data));
    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->x, p->y, p->conv_bwd_filter, p->w,
                                                               p->bwd_filter, &p->ws_bwd_filter));
    if (timed || x || y || w) {
        CUDA_CHECK(cudaStreamSynchronize(c->stream));
        if (x) CUDA_CHECK(cudaFree(x));
        if (y) CUDA_CHECK(cudaFree(y));
        if (w) CUDA_CHECK(cudaFree(w));
        if (ws) CUDA_CHECK(cudaFree(ws));
    }
    if (c->verbose)
        printf("cudnn: X [%d, %d, %d, %d] W [%d, %d, %d, %d] s%dx%d p%dx%d -> Y [%d, %d, %d, %d]: fwd %s (%s, %.3f ms), "
               "bwd-data %s (%s, %.3f ms), bwd-filter %s (%s, %.3f ms), workspace %.1f MiB, %s\n",
               k->B, k->xc, k->xh, k->xw, k->fk, k->xc, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw, k->B, k->fk, p->yh, p->yw,
               fwd_name(p->fwd), math_name(pf[bf].mathType), pf[bf].time,
               bwd_data_name(p->bwd_data), math_name(pd[bd].mathType), pd[bd].time,
               bwd_filter_name(p->bwd_filter), math_name(pw[bw].mathType), pw[bw].time,
               (double)(p->ws_fwd > p->ws_bwd_data ? (p->ws_fwd > p->ws_bwd_filter ? p->ws_fwd : p->ws_bwd_filter)
                                                    : (p->ws_bwd_data > p->ws_bwd_filter ? p->ws_bwd_data : p->ws_bwd_filter)) / 1048576.0,
               timed ? "timed" : "heuristic");
}

static conv_plan *plan_for(cuda_ctx *c, const conv_key *k) {
    if (!c->plans && !(c->plans = (conv_plan_cache *)calloc(1, sizeof *c->plans))) {
        fprintf(stderr, "error: out of memory for the convolution plans\n");
        exit(1);
    }
    conv_plan_cache *cache = c->plans;
    for (int i = 0; i < cache->n; i++)
        if (!memcmp(&cache->plans[i].key, k, sizeof *k)) return &cache->plans[i];
    if (cache->n == MAX_PLANS) cuda_conv_release_all(c);   // a long-running process with many shapes: start over
    conv_plan *p = &cache->plans[cache->n++];
    memset(p, 0, sizeof *p);
    p->key = *k;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, k->B, k->xc, k->xh, k->xw));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k->fk, k->xc, k->kh, k->kw));
    p->conv_fwd = make_conv_desc(c, k);
    p->conv_bwd_data = make_conv_desc(c, k);
    p->conv_bwd_filter = make_conv_desc(c, k);
    int n, ch;
    CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p->conv_fwd, p->x, p->w, &n, &ch, &p->yh, &p->yw));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, k->B, k->fk, p->yh, p->yw));
    choose_algorithms(c, p);
    return p;
}

void cuda_conv_release_all(cuda_ctx *c) {
    if (!c->plans) return;
    for (int i = 0; i < c->plans->n; i++) {
        conv_plan *p = &c->plans->plans[i];
        CUDNN_CHECK(cudnnDestroyTensorDescriptor(p->x));
        CUDNN_CHECK(cudnnDestroyTensorDescriptor(p->y));
        CUDNN_CHECK(cudnnDestroyFilterDescriptor(p->w));
        CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(p->conv_fwd));
        CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(p->conv_bwd_data));
        CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(p->conv_bwd_filter));
    }
    c->plans->n = 0;
}

static size_t plan_workspace(const conv_plan *p) {
    size_t m = p->ws_fwd;
    if (p->ws_bwd_data > m) m = p->ws_bwd_data;
    if (p->ws_bwd_filter > m) m = p->ws_bwd_filter;
    return m;
}

static void oom_message(char *err, size_t errlen, int B, size_t need) {
    size_t fr = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&fr, &total));
    snprintf(err, errlen, "out of GPU memory: the convolution workspace for batch size %d needs %.1f MiB, "
             "%.1f MiB of %.1f MiB are free (try a smaller --batch-size)", B, need / 1048576.0, fr / 1048576.0,
             total / 1048576.0);
}

// Chooses the algorithms of the shape and grows the shared workspace to them, at set-up time.
int cuda_conv_plan(const dcgan_backend *be, const conv_desc *d, char *err, size_t errlen) {
    DCGAN_REQUIRE(conv_desc_valid(d));
    cuda_ctx *c = ctx_of(be);
    conv_key k = key_of(d);
    const conv_plan *p = plan_for(c, &k);
    size_t have = 0, need = plan_workspace(p);
    if (need && (!cuda_workspace(c, need, &have) || have < need)) {
        oom_message(err, errlen, k.B, need);
        return -1;
    }
    return 0;
}

// The planned shape of d: planning inside an iteration would search and allocate, so a shape
// that was not planned is a programming error.
static const conv_plan *planned(cuda_ctx *c, const conv_desc *d, void **ws) {
    DCGAN_REQUIRE(conv_desc_valid(d) && d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW &&
                  d->out.dtype == DTYPE_F32 && d->out.layout == LAYOUT_NCHW);
    conv_key k = key_of(d);
    const conv_plan *p = NULL;
    for (int i = 0; c->plans && i < c->plans->n && !p; i++)
        if (!memcmp(&c->plans->plans[i].key, &k, sizeof k)) p = &c->plans->plans[i];
    DCGAN_REQUIRE(p != NULL && c->workspace_bytes >= plan_workspace(p));
    *ws = c->workspace;
    return p;
}

static const float ONE = 1.0f, ZERO = 0.0f;

// Y = conv(X, Wt)
static void under_forward(cuda_ctx *c, const conv_plan *p, void *ws, float *y, const float *x, const float *w) {
    CUDNN_CHECK(cudnnConvolutionForward(c->cudnn, &ONE, p->x, x, p->w, w, p->conv_fwd, p->fwd, ws, p->ws_fwd, &ZERO,
                                        p->y, y));
}

// dX = conv^T(dY, Wt)
static void under_backward_data(cuda_ctx *c, const conv_plan *p, void *ws, float *dx, const float *dy, const float *w) {
    CUDNN_CHECK(cudnnConvolutionBackwardData(c->cudnn, &ONE, p->w, w, p->y, dy, p->conv_bwd_data, p->bwd_data, ws,
                                             p->ws_bwd_data, &ZERO, p->x, dx));
}

// dWt += dY (x) X
static void under_backward_filter(cuda_ctx *c, const conv_plan *p, void *ws, float *dw, const float *dy, const float *x) {
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(c->cudnn, &ONE, p->x, x, p->y, dy, p->conv_bwd_filter, p->bwd_filter,
                                               ws, p->ws_bwd_filter, &ONE, p->w, dw));
}

// A conv2d's forward is the underlying forward and its input gradient the underlying backward
// data; a transposed convolution swaps the two. The weight gradient is backward filter of both,
// with X the input of a conv2d and the output of a transposed one.
typedef enum { DIR_FORWARD, DIR_BACKWARD_DATA, DIR_BACKWARD_FILTER } conv_direction;

static void conv_run(const dcgan_backend *be, conv_direction dir, float *out, const float *a, const float *b,
                     const conv_desc *d) {
    cuda_ctx *c = ctx_of(be);
    void *ws;
    const conv_plan *p = planned(c, d, &ws);
    const int transposed = d->kind == CONV_TRANSPOSE_2D;
    if (dir == DIR_BACKWARD_FILTER) under_backward_filter(c, p, ws, out, transposed ? b : a, transposed ? a : b);
    else if ((dir == DIR_FORWARD) != transposed) under_forward(c, p, ws, out, a, b);
    else under_backward_data(c, p, ws, out, a, b);
}

// conv2d:           in [B, C, H, W], weight [OC, C, K, K], out [B, OC, OH, OW]
// conv_transpose2d: in [B, C, H, W], weight [C, OC, K, K], out [B, OC, OH, OW]
void cuda_conv_forward(const dcgan_backend *be, void *out, const void *in, const float *w, const conv_desc *d) {
    NVTX_RANGE("conv_forward");
    conv_run(be, DIR_FORWARD, (float *)out, (const float *)in, w, d);
}

void cuda_conv_backward_data(const dcgan_backend *be, void *din, const void *dout, const float *w, const conv_desc *d) {
    NVTX_RANGE("conv_backward_data");
    conv_run(be, DIR_BACKWARD_DATA, (float *)din, (const float *)dout, w, d);
}

void cuda_conv_backward_filter(const dcgan_backend *be, float *dw, const void *dout, const void *in, const conv_desc *d) {
    NVTX_RANGE("conv_backward_filter");
    conv_run(be, DIR_BACKWARD_FILTER, dw, (const float *)dout, (const float *)in, d);
}
