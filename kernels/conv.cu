// conv2d and conv_transpose2d on cuDNN's legacy convolution API; every cuDNN call of the backend
// is in this file. A transposed convolution is run as the adjoint of the convolution it inverts
// (as caffe's cudnn_deconv_layer): forward = BackwardData, input gradient = Forward, weight
// gradient = BackwardFilter with the roles of input and output swapped.
//
// Both ops are therefore one "underlying convolution" X [B, xc, xh, xw] * Wt [fk, xc, K, K] ->
// Y [B, fk, yh, yw]:   conv2d:  X = in,  Y = out, Wt = weight [OC, C, K, K]
//                      convt2d: X = out, Y = in,  Wt = weight [C, OC, K, K]
// Descriptors and the algorithm of each direction are chosen once per underlying convolution
// (batch size included) when conv_plan is called, and cached; a forward-only descriptor
// (Inception's) has only the direction its forward runs chosen, the others when a later descriptor
// of the same shape asks for them. The cache grows and keeps every plan while the backend lives:
// net_exec and Inception hold planned descriptors for as long as the process runs them.
#include <string.h>
#include "cuda_check.h"
#include "cuda_ops.h"

typedef struct {
    int B, xc, xh, xw, fk, kh, kw, sh, sw, ph, pw;
} conv_key;

// The underlying directions, as bits of conv_plan.chosen.
enum { UNDER_FWD = 1, UNDER_BWD_DATA = 2, UNDER_BWD_FILTER = 4, UNDER_ALL = 7 };

typedef struct {
    conv_key key;
    int yh, yw;
    int chosen;             // UNDER_* bits whose algorithm and workspace are set
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv_fwd, conv_bwd_data, conv_bwd_filter;   // one per math type choice
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    size_t ws_fwd, ws_bwd_data, ws_bwd_filter;   // 0 for a direction not chosen
} conv_plan;

struct conv_plan_cache {
    conv_plan **plans;      // each allocated once, so a pointer stays valid as the array grows
    int n, cap;
};

// The underlying convolution of a descriptor: X is the input of a conv2d, the output of a
// transposed one.
static conv_key key_of(const conv_desc *d) {
    const tensor_desc *x = d->kind == CONV_2D ? &d->in : &d->out, *y = d->kind == CONV_2D ? &d->out : &d->in;
    conv_key k = {d->in.n, x->c, x->h, x->w, y->c, d->kh, d->kw, d->sh, d->sw, d->ph, d->pw};
    return k;
}

// The underlying directions a descriptor needs: all three, or the one its forward runs.
static int directions_of(const conv_desc *d) {
    if (!d->forward_only) return UNDER_ALL;
    return d->kind == CONV_2D ? UNDER_FWD : UNDER_BWD_DATA;
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

// What a search runs on: scratch tensors and workspace for the timed search (timed = 0: the
// heuristics, when asked for or when the scratch does not fit), and the workspace limit of a pick.
typedef struct {
    int timed;
    float *x, *y, *w;
    void *ws;
    size_t ws_bytes, limit;
} search_scratch;

static void scratch_open(const cuda_ctx *c, const conv_plan *p, search_scratch *s) {
    const conv_key *k = &p->key;
    memset(s, 0, sizeof *s);
    s->timed = !c->heuristic;
    if (s->timed) {
        size_t nx = (size_t)k->B * k->xc * k->xh * k->xw, ny = (size_t)k->B * k->fk * p->yh * p->yw;
        size_t nw = (size_t)k->fk * k->xc * k->kh * k->kw;
        s->x = (float *)try_malloc(nx * 4);
        s->y = (float *)try_malloc(ny * 4);
        s->w = (float *)try_malloc(nw * 4);
        s->timed = s->x && s->y && s->w;
        if (s->timed) {
            CUDA_CHECK(cudaMemsetAsync(s->x, 0, nx * 4, c->stream));
            CUDA_CHECK(cudaMemsetAsync(s->y, 0, ny * 4, c->stream));
            CUDA_CHECK(cudaMemsetAsync(s->w, 0, nw * 4, c->stream));
            // As much search workspace as the device gives, up to 512 MiB.
            for (s->ws_bytes = (size_t)512 << 20; s->ws_bytes >= ((size_t)1 << 20) && !(s->ws = try_malloc(s->ws_bytes));
                 s->ws_bytes /= 2) {}
            if (!s->ws) s->ws_bytes = 0;
            CUDA_CHECK(cudaStreamSynchronize(c->stream));
        }
    }
    s->limit = s->timed ? s->ws_bytes : heuristic_limit();
}

static void scratch_close(const cuda_ctx *c, search_scratch *s) {
    if (!(s->x || s->y || s->w || s->ws)) return;
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
    if (s->x) CUDA_CHECK(cudaFree(s->x));
    if (s->y) CUDA_CHECK(cudaFree(s->y));
    if (s->w) CUDA_CHECK(cudaFree(s->w));
    if (s->ws) CUDA_CHECK(cudaFree(s->ws));
}

// What a search picked, in any direction.
typedef struct {
    int algo;
    cudnnMathType_t math;
    float ms;
} choice;

// Inside search: runs the timed search `find` or the heuristics `heur` into perf (an array of
// type T), picks from it into *out, and returns -1 when cuDNN offers nothing usable.
#define SEARCH_PICK(T, count, find, heur) do { \
    T perf[count]; \
    int n = 0, best; \
    if (s->timed) CUDNN_CHECK(find); \
    else CUDNN_CHECK(heur); \
    PICK_BEST(c, perf, n, s->limit, best); \
    if (best < 0) return -1; \
    *out = choice{(int)perf[best].algo, perf[best].mathType, perf[best].time}; \
} while (0)

static int search(const cuda_ctx *c, const conv_plan *p, const search_scratch *s, int under, choice *out) {
    cudnnHandle_t h = c->cudnn;
    if (under == UNDER_FWD)
        SEARCH_PICK(cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                    cudnnFindConvolutionForwardAlgorithmEx(h, p->x, s->x, p->w, s->w, p->conv_fwd, p->y, s->y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf, s->ws, s->ws_bytes),
                    cudnnGetConvolutionForwardAlgorithm_v7(h, p->x, p->w, p->conv_fwd, p->y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    else if (under == UNDER_BWD_DATA)
        SEARCH_PICK(cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                    cudnnFindConvolutionBackwardDataAlgorithmEx(h, p->w, s->w, p->y, s->y, p->conv_bwd_data, p->x, s->x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf, s->ws,
                                                                s->ws_bytes),
                    cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->w, p->y, p->conv_bwd_data, p->x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
    else
        SEARCH_PICK(cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                    cudnnFindConvolutionBackwardFilterAlgorithmEx(h, p->x, s->x, p->y, s->y, p->conv_bwd_filter, p->w,
                                                                  s->w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf,
                                                                  s->ws, s->ws_bytes),
                    cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p->x, p->y, p->conv_bwd_filter, p->w,
                                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
    return 0;
}

// Searches direction `under`, sets the algorithm and the math type picked, and sizes the
// workspace for that math type (it can differ from the search's). -1 when nothing is usable.
static int choose(const cuda_ctx *c, conv_plan *p, const search_scratch *s, int under, char *note, size_t len) {
    choice ch;
    if (search(c, p, s, under, &ch)) return -1;
    cudnnHandle_t h = c->cudnn;
    const char *dir, *algo;
    if (under == UNDER_FWD) {
        p->fwd = (cudnnConvolutionFwdAlgo_t)ch.algo;
        CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_fwd, ch.math));
        CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, p->x, p->w, p->conv_fwd, p->y, p->fwd, &p->ws_fwd));
        dir = "fwd", algo = fwd_name(p->fwd);
    } else if (under == UNDER_BWD_DATA) {
        p->bwd_data = (cudnnConvolutionBwdDataAlgo_t)ch.algo;
        CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_bwd_data, ch.math));
        CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->w, p->y, p->conv_bwd_data, p->x, p->bwd_data,
                                                                 &p->ws_bwd_data));
        dir = "bwd-data", algo = bwd_data_name(p->bwd_data);
    } else {
        p->bwd_filter = (cudnnConvolutionBwdFilterAlgo_t)ch.algo;
        CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_bwd_filter, ch.math));
        CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->x, p->y, p->conv_bwd_filter, p->w,
                                                                   p->bwd_filter, &p->ws_bwd_filter));
        dir = "bwd-filter", algo = bwd_filter_name(p->bwd_filter);
    }
    size_t used = strlen(note);
    if (used < len)
        snprintf(note + used, len - used, "%s%s %s (%s, %.3f ms)", used ? ", " : "", dir, algo, math_name(ch.math), ch.ms);
    return 0;
}

static size_t plan_workspace(const conv_plan *p) {
    size_t m = p->ws_fwd;
    if (p->ws_bwd_data > m) m = p->ws_bwd_data;
    if (p->ws_bwd_filter > m) m = p->ws_bwd_filter;
    return m;
}

// Chooses the algorithms of the directions in `want` not chosen yet; the verbose line names the
// directions searched, so a forward-only plan shows one search and no backward ones.
static void choose_algorithms(const cuda_ctx *c, conv_plan *p, int want) {
    const conv_key *k = &p->key;
    want &= ~p->chosen;
    if (!want) return;
    search_scratch s;
    scratch_open(c, p, &s);
    char note[384] = "";
    int rc = 0;
    for (int under = UNDER_FWD; under <= UNDER_BWD_FILTER; under <<= 1)
        if (want & under) rc |= choose(c, p, &s, under, note, sizeof note);
    scratch_close(c, &s);
    if (rc) {
        fprintf(stderr, "error: cuDNN offers no convolution algorithm for X [%d, %d, %d, %d], W [%d, %d, %d, %d], "
                "stride %dx%d, pad %dx%d\n", k->B, k->xc, k->xh, k->xw, k->fk, k->xc, k->kh, k->kw, k->sh, k->sw, k->ph,
                k->pw);
        exit(1);
    }
    p->chosen |= want;
    if (c->verbose)
        printf("cudnn: X [%d, %d, %d, %d] W [%d, %d, %d, %d] s%dx%d p%dx%d -> Y [%d, %d, %d, %d]: %s, workspace %.1f MiB, "
               "%s\n", k->B, k->xc, k->xh, k->xw, k->fk, k->xc, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw, k->B, k->fk,
               p->yh, p->yw, note, (double)plan_workspace(p) / 1048576.0, s.timed ? "timed" : "heuristic");
}

static conv_plan *find_plan(const cuda_ctx *c, const conv_key *k) {
    for (int i = 0; c->plans && i < c->plans->n; i++)
        if (!memcmp(&c->plans->plans[i]->key, k, sizeof *k)) return c->plans->plans[i];
    return NULL;
}

static void out_of_host_memory(void) {
    fprintf(stderr, "error: out of memory for the convolution plans\n");
    exit(1);
}

// A new plan of shape k with its descriptors made and no direction chosen, added to the cache.
static conv_plan *add_plan(cuda_ctx *c, const conv_key *k) {
    if (!c->plans && !(c->plans = (conv_plan_cache *)calloc(1, sizeof *c->plans))) out_of_host_memory();
    conv_plan_cache *cache = c->plans;
    if (cache->n == cache->cap) {
        // Grown, never emptied: a plan in the cache may be one a live net still runs.
        int cap = cache->cap ? 2 * cache->cap : 64;
        conv_plan **grown = (conv_plan **)realloc(cache->plans, (size_t)cap * sizeof *grown);
        if (!grown) out_of_host_memory();
        cache->plans = grown;
        cache->cap = cap;
    }
    conv_plan *p = (conv_plan *)calloc(1, sizeof *p);
    if (!p) out_of_host_memory();
    cache->plans[cache->n++] = p;
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
    return p;
}

static void oom_message(char *err, size_t errlen, int B, size_t need) {
    size_t fr = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&fr, &total));
    snprintf(err, errlen, "out of GPU memory: the convolution workspace for batch size %d needs %.1f MiB, "
             "%.1f MiB of %.1f MiB are free (try a smaller --batch-size)", B, need / 1048576.0, fr / 1048576.0,
             total / 1048576.0);
}

// Chooses the algorithms of the directions d needs and grows the shared workspace to them, at
// set-up time.
int cuda_conv_plan(const dcgan_backend *be, const conv_desc *d, char *err, size_t errlen) {
    DCGAN_REQUIRE(conv_desc_valid(d));
    cuda_ctx *c = ctx_of(be);
    conv_key k = key_of(d);
    conv_plan *p = find_plan(c, &k);
    if (!p) p = add_plan(c, &k);
    choose_algorithms(c, p, directions_of(d));
    size_t have = 0, need = plan_workspace(p);
    if (need && (!cuda_workspace(c, need, &have) || have < need)) {
        oom_message(err, errlen, k.B, need);
        return -1;
    }
    return 0;
}

// The plan of d, with underlying direction `under` chosen: planning inside an iteration would
// search and allocate, so a shape or direction that was not planned is a programming error.
static const conv_plan *planned(cuda_ctx *c, const conv_desc *d, int under, void **ws) {
    DCGAN_REQUIRE(conv_desc_valid(d) && d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW &&
                  d->out.dtype == DTYPE_F32 && d->out.layout == LAYOUT_NCHW);
    conv_key k = key_of(d);
    const conv_plan *p = find_plan(c, &k);
    DCGAN_REQUIRE(p != NULL && (p->chosen & under) && c->workspace_bytes >= plan_workspace(p));
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
    const int transposed = d->kind == CONV_TRANSPOSE_2D;
    const int under = dir == DIR_BACKWARD_FILTER ? UNDER_BWD_FILTER
                      : (dir == DIR_FORWARD) != transposed ? UNDER_FWD : UNDER_BWD_DATA;
    DCGAN_REQUIRE(dir == DIR_FORWARD || !d->forward_only);
    void *ws;
    const conv_plan *p = planned(c, d, under, &ws);
    if (under == UNDER_BWD_FILTER) under_backward_filter(c, p, ws, out, transposed ? b : a, transposed ? a : b);
    else if (under == UNDER_FWD) under_forward(c, p, ws, out, a, b);
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
