// Convolution and transposed convolution on the CPU: im2col / col2im over a chunk of the batch
// (columns ordered (b, oh, ow)) and one large sgemm per chunk, so BLAS does the FLOPs.
//
// Both ops are described by one "lowering": an image side [n, ch, ih, iw] that is unfolded into
// columns, and an activation side [n, oc, oh, ow] whose positions index the columns. The weight is
// [oc, ch*kh*kw] in both cases: for conv2d the image is the input and the weight [OC, C, kh, kw];
// for conv_transpose2d (the adjoint of a conv) the image is the output and the weight [C, OC, kh, kw].
#include "dcgan/error.h"
#include "dcgan/cpu.h"
#include <cblas.h>
#include <stdio.h>
#include <string.h>

// Scratch is capped near 64 MB per chunk of the batch, unless one sample alone needs more.
#define CONV_WORK_BUDGET_FLOATS ((size_t)16 << 20)

typedef struct {
    int ch, ih, iw;     // image side (unfolded by im2col)
    int oc, oh, ow;     // activation side; oh*ow column positions per sample
    int kh, kw, sh, sw, ph, pw;
} lowering;

// conv2d: the image is the input; conv_transpose2d (a conv's adjoint): the image is the output.
static lowering lowering_of(const conv_desc *d) {
    const tensor_desc *img = d->kind == CONV_2D ? &d->in : &d->out, *act = d->kind == CONV_2D ? &d->out : &d->in;
    lowering l = {img->c, img->h, img->w, act->c, act->h, act->w, d->kh, d->kw, d->sh, d->sw, d->ph, d->pw};
    return l;
}

static size_t col_rows(const lowering *l) { return (size_t)l->ch * l->kh * l->kw; }
static size_t positions(const lowering *l) { return (size_t)l->oh * l->ow; }

// Samples per chunk: as many as fit the budget, at least one.
static int chunk_size(const lowering *l, int B) {
    size_t per_sample = (col_rows(l) + (size_t)l->oc) * positions(l);
    if (per_sample == 0) return B;
    size_t n = CONV_WORK_BUDGET_FLOATS / per_sample;
    if (n < 1) n = 1;
    return n < (size_t)B ? (int)n : B;
}

// col buffer [rows, n*P] followed by the activation buffer [oc, n*P].
size_t cpu_conv_workspace_floats(const conv_desc *d) {
    lowering l = lowering_of(d);
    return (size_t)chunk_size(&l, d->in.n) * (col_rows(&l) + (size_t)l.oc) * positions(&l);
}

// Output positions o in [lo, hi) whose tap o*stride + off lands inside [0, n_in).
static void tap_range(int *lo, int *hi, int off, int stride, int n_in, int n_out) {
    int a = off < 0 ? (-off + stride - 1) / stride : 0;
    int b = n_in - 1 - off < 0 ? 0 : (n_in - 1 - off) / stride + 1;
    if (b > n_out) b = n_out;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

// col[ch*kh*kw, n*P] <- img[n, ch, ih, iw]; taps in the padding read as zero. One thread per
// column row, which walks every sample, so the tap ranges are computed once per row.
static void im2col(float *col, const float *img, int n, const lowering *l) {
    const int KK = l->kh * l->kw, sy = l->sh, s = l->sw, oh = l->oh, ow = l->ow;
    const size_t P = positions(l), ncols = (size_t)n * P, plane = (size_t)l->ih * l->iw;
    const long rows = (long)col_rows(l);
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        const int c = (int)(r / KK), kh = (int)(r % KK) / l->kw, kw = (int)(r % l->kw);
        const int offy = kh - l->ph, offx = kw - l->pw;
        int ylo, yhi, xlo, xhi;
        tap_range(&ylo, &yhi, offy, sy, l->ih, oh);
        tap_range(&xlo, &xhi, offx, s, l->iw, ow);
        for (int b = 0; b < n; b++) {
            const float *src = img + ((size_t)b * l->ch + c) * plane;
            float *dst = col + (size_t)r * ncols + (size_t)b * P;
            memset(dst, 0, (size_t)ylo * ow * sizeof(float));
            for (int y = ylo; y < yhi; y++) {
                float *d = dst + (size_t)y * ow;
                const float *row = src + (size_t)(y * sy + offy) * l->iw;
                for (int x = 0; x < xlo; x++) d[x] = 0.0f;
                if (s == 1) {
                    memcpy(d + xlo, row + xlo + offx, (size_t)(xhi - xlo) * sizeof(float));
                } else {
                    for (int x = xlo; x < xhi; x++) d[x] = row[x * s + offx];
                }
                for (int x = xhi; x < ow; x++) d[x] = 0.0f;
            }
            memset(dst + (size_t)yhi * ow, 0, (size_t)(oh - yhi) * ow * sizeof(float));
        }
    }
}

// img[n, ch, ih, iw] <- sum over taps of col[ch*kh*kw, n*P] (overwrites). One thread per image
// plane, so the scatter needs no atomics and is deterministic.
static void col2im(float *img, const float *col, int n, const lowering *l) {
    const int sy = l->sh, s = l->sw, ow = l->ow;
    const size_t P = positions(l), ncols = (size_t)n * P, plane = (size_t)l->ih * l->iw;
    const long tasks = (long)n * l->ch;
#pragma omp parallel for schedule(static)
    for (long t = 0; t < tasks; t++) {
        const int b = (int)(t / l->ch), c = (int)(t % l->ch);
        float *dst = img + (size_t)t * plane;
        memset(dst, 0, plane * sizeof(float));
        for (int kh = 0; kh < l->kh; kh++) {
            const int offy = kh - l->ph;
            int ylo, yhi;
            tap_range(&ylo, &yhi, offy, sy, l->ih, l->oh);
            for (int kw = 0; kw < l->kw; kw++) {
                const int offx = kw - l->pw;
                int xlo, xhi;
                tap_range(&xlo, &xhi, offx, s, l->iw, ow);
                const float *src = col + ((size_t)c * l->kh * l->kw + (size_t)kh * l->kw + kw) * ncols + (size_t)b * P;
                for (int y = ylo; y < yhi; y++) {
                    float *row = dst + (size_t)(y * sy + offy) * l->iw;
                    const float *sr = src + (size_t)y * ow;
                    for (int x = xlo; x < xhi; x++) row[x * s + offx] += sr[x];
                }
            }
        }
    }
}

// dst[oc, n*P] <- src[n, oc, P]
static void to_channel_major(float *dst, const float *src, int n, int oc, size_t P) {
    const long tasks = (long)n * oc;
#pragma omp parallel for schedule(static)
    for (long t = 0; t < tasks; t++) {
        const int b = (int)(t / oc), c = (int)(t % oc);
        memcpy(dst + ((size_t)c * n + b) * P, src + (size_t)t * P, P * sizeof(float));
    }
}

// dst[n, oc, P] <- src[oc, n*P]
static void to_batch_major(float *dst, const float *src, int n, int oc, size_t P) {
    const long tasks = (long)n * oc;
#pragma omp parallel for schedule(static)
    for (long t = 0; t < tasks; t++) {
        const int b = (int)(t / oc), c = (int)(t % oc);
        memcpy(dst + (size_t)t * P, src + ((size_t)c * n + b) * P, P * sizeof(float));
    }
}

// How a batch is cut into chunks that fit the workspace: col [rows, n*P] then buf [oc, n*P].
typedef struct {
    int chunk;
    size_t rows, P, img_floats, act_floats;
    float *col, *buf;
} chunking;

static chunking chunking_of(const lowering *l, int B, float *work) {
    chunking c = {.chunk = chunk_size(l, B), .rows = col_rows(l), .P = positions(l),
                  .img_floats = (size_t)l->ch * l->ih * l->iw, .act_floats = (size_t)l->oc * positions(l)};
    c.col = work;
    c.buf = work + c.rows * c.chunk * c.P;
    return c;
}

// The chunk's activations [oc, n*P]: act itself for one sample, else transposed into buf.
static const float *chunk_activations(const chunking *c, const float *act, int n, const lowering *l) {
    if (n == 1) return act;
    to_channel_major(c->buf, act, n, l->oc, c->P);
    return c->buf;
}

// act[B, oc, P] = wmat[oc, rows] . im2col(img)   (conv2d forward, convt2d backward data)
static void unfold_gemm(float *act, const float *img, const float *wmat, const lowering *l, int B, float *work) {
    const chunking c = chunking_of(l, B, work);
    for (int b0 = 0; b0 < B; b0 += c.chunk) {
        const int n = B - b0 < c.chunk ? B - b0 : c.chunk, N = (int)(n * c.P);
        float *dst = act + b0 * c.act_floats;
        im2col(c.col, img + b0 * c.img_floats, n, l);
        // With one sample, [oc, 1*P] and [1, oc, P] are the same layout: write in place.
        float *out = n == 1 ? dst : c.buf;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->oc, N, (int)c.rows,
                    1.0f, wmat, (int)c.rows, c.col, N, 0.0f, out, N);
        if (n > 1) to_batch_major(dst, c.buf, n, l->oc, c.P);
    }
}

// img[B, ch, ih, iw] = col2im(wmat^T . act)   (conv2d backward data, convt2d forward)
static void gemm_fold(float *img, const float *act, const float *wmat, const lowering *l, int B, float *work) {
    const chunking c = chunking_of(l, B, work);
    for (int b0 = 0; b0 < B; b0 += c.chunk) {
        const int n = B - b0 < c.chunk ? B - b0 : c.chunk, N = (int)(n * c.P);
        const float *a = chunk_activations(&c, act + b0 * c.act_floats, n, l);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c.rows, N, l->oc,
                    1.0f, wmat, (int)c.rows, a, N, 0.0f, c.col, N);
        col2im(img + b0 * c.img_floats, c.col, n, l);
    }
}

// dwmat[oc, rows] += act . im2col(img)^T   (the weight gradient of both ops)
static void unfold_filter(float *dwmat, const float *act, const float *img, const lowering *l, int B, float *work) {
    const chunking c = chunking_of(l, B, work);
    for (int b0 = 0; b0 < B; b0 += c.chunk) {
        const int n = B - b0 < c.chunk ? B - b0 : c.chunk, N = (int)(n * c.P);
        const float *a = chunk_activations(&c, act + b0 * c.act_floats, n, l);
        im2col(c.col, img + b0 * c.img_floats, n, l);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->oc, (int)c.rows, N,
                    1.0f, a, N, c.col, N, 1.0f, dwmat, (int)c.rows);
    }
}

static float *workspace_for(const dcgan_backend *be, const conv_desc *d) {
    DCGAN_REQUIRE(conv_desc_valid(d) && d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW &&
                  d->out.dtype == DTYPE_F32 && d->out.layout == LAYOUT_NCHW);
    float *work = cpu_workspace(be, cpu_conv_workspace_floats(d));
    DCGAN_REQUIRE(work != NULL);   // conv_plan grew it at set-up time
    return work;
}

// conv2d:           in [B, C, H, W], weight [OC, C, kh, kw], out [B, OC, OH, OW]
// conv_transpose2d: in [B, C, H, W], weight [C, OC, kh, kw], out [B, OC, OH, OW]
void cpu_conv_forward(const dcgan_backend *be, void *out, const void *in, const float *w, const conv_desc *d) {
    float *work = workspace_for(be, d);
    lowering l = lowering_of(d);
    if (d->kind == CONV_2D) unfold_gemm(out, in, w, &l, d->in.n, work);
    else gemm_fold(out, in, w, &l, d->in.n, work);
}

void cpu_conv_backward_data(const dcgan_backend *be, void *din, const void *dout, const float *w, const conv_desc *d) {
    DCGAN_REQUIRE(!d->forward_only);
    float *work = workspace_for(be, d);
    lowering l = lowering_of(d);
    if (d->kind == CONV_2D) gemm_fold(din, dout, w, &l, d->in.n, work);
    else unfold_gemm(din, dout, w, &l, d->in.n, work);
}

void cpu_conv_backward_filter(const dcgan_backend *be, float *dw, const void *dout, const void *in, const conv_desc *d) {
    DCGAN_REQUIRE(!d->forward_only);
    float *work = workspace_for(be, d);
    lowering l = lowering_of(d);
    // The unfolded side is always the image: the input of a conv2d, the output of a transposed one.
    if (d->kind == CONV_2D) unfold_filter(dw, dout, in, &l, d->in.n, work);
    else unfold_filter(dw, in, dout, &l, d->in.n, work);
}

int cpu_conv_plan(const dcgan_backend *be, const conv_desc *d, char *err, size_t errlen) {
    size_t floats = cpu_conv_workspace_floats(d);
    if (cpu_workspace(be, floats)) return 0;
    set_error(err, errlen, "out of memory for the %.1f MiB convolution workspace", floats * 4.0 / 1048576.0);
    return -1;
}
