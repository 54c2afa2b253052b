// Batchnorm fused with its activation on the backend's formats: NCHW, or 16-channel blocks
// (nChw16c), in fp32 or bf16 (statistics, gamma, beta and their gradients fp32). A work item is
// one sample's plane of one channel block: HW positions of L = 16 (blocked) or 1 (NCHW) channels,
// contiguous, so the loops run over the 16 channels of a vector. The arithmetic is the reference's
// (src/cpu/batchnorm.c) in the same order: each plane summed in double with four partial sums
// (forward) or in float (backward), the planes added in double sample by sample, the element
// formulas of formulas.h; so in fp32 the results equal the reference's bit for bit, whatever the
// layout and the thread count.
#include "dcgan/formulas.h"
#include "onednn_impl.h"
#include <math.h>

#define MAXL LAYOUT_BLOCK

// formulas.h's act_fused with the comparisons written out: fmaxf / fminf are calls into libm that
// stop the lane loops from vectorising. Equal to act_fused for every input (NaN included) except
// the sign of a zero result.
static inline float fused(float y, float slope) { return hd_add(y > 0.0f ? y : 0.0f, hd_mul(slope, y < 0.0f ? y : 0.0f)); }

#define LD_F32(v) (v)
#define LD_BF16(v) bf16_to(v)
#define ST_F32(v) (v)
#define ST_BF16(v) bf16_from(v)

// The per-item loops, for one element type T and L lanes.
#define BN_KERNELS(T, SUF, LD, ST)                                                                            \
    static inline __attribute__((always_inline)) void sum_##SUF(double *res, const T *x, size_t HW, int L,   \
                                                               const double *mean) {                         \
        double a0[MAXL] = {0}, a1[MAXL] = {0}, a2[MAXL] = {0}, a3[MAXL] = {0};                               \
        size_t i = 0;                                                                                         \
        if (!mean) {                                                                                          \
            for (; i + 4 <= HW; i += 4)                                                                       \
                for (int j = 0; j < L; j++) {                                                                 \
                    a0[j] += (double)LD(x[i * L + j]);                                                        \
                    a1[j] += (double)LD(x[(i + 1) * L + j]);                                                  \
                    a2[j] += (double)LD(x[(i + 2) * L + j]);                                                  \
                    a3[j] += (double)LD(x[(i + 3) * L + j]);                                                  \
                }                                                                                             \
            for (; i < HW; i++)                                                                               \
                for (int j = 0; j < L; j++) a0[j] += (double)LD(x[i * L + j]);                                \
        } else {                                                                                              \
            for (; i + 4 <= HW; i += 4)                                                                       \
                for (int j = 0; j < L; j++) {                                                                 \
                    double d0 = LD(x[i * L + j]) - mean[j], d1 = LD(x[(i + 1) * L + j]) - mean[j];            \
                    double d2 = LD(x[(i + 2) * L + j]) - mean[j], d3 = LD(x[(i + 3) * L + j]) - mean[j];      \
                    a0[j] += d0 * d0;                                                                         \
                    a1[j] += d1 * d1;                                                                         \
                    a2[j] += d2 * d2;                                                                         \
                    a3[j] += d3 * d3;                                                                         \
                }                                                                                             \
            for (; i < HW; i++)                                                                               \
                for (int j = 0; j < L; j++) {                                                                 \
                    double d = LD(x[i * L + j]) - mean[j];                                                    \
                    a0[j] += d * d;                                                                           \
                }                                                                                             \
        }                                                                                                     \
        for (int j = 0; j < L; j++) res[j] = (a0[j] + a1[j]) + (a2[j] + a3[j]);                              \
    }                                                                                                         \
    static inline __attribute__((always_inline)) void affine_##SUF(T *out, const T *in, size_t HW, int L,    \
                                                                  const float *mean, const float *scale,      \
                                                                  const float *shift, float slope) {          \
        for (size_t i = 0; i < HW; i++)                                                                       \
            for (int j = 0; j < L; j++)                                                                       \
                out[i * L + j] = ST(fused(bn_affine(LD(in[i * L + j]), mean[j], scale[j], shift[j]), slope)); \
    }                                                                                                         \
    static inline __attribute__((always_inline)) void gsum_##SUF(double *sdy, double *sdyx, const T *dout,   \
                                                                const T *out, const T *x, size_t HW, int L,  \
                                                                const float *mean, float slope) {             \
        float a[MAXL] = {0}, b[MAXL] = {0};                                                                   \
        for (size_t i = 0; i < HW; i++)                                                                       \
            for (int j = 0; j < L; j++) {                                                                     \
                const float d = out ? act_fused_grad(LD(dout[i * L + j]), LD(out[i * L + j]), slope)          \
                                    : LD(dout[i * L + j]);                                                    \
                a[j] += d;                                                                                    \
                b[j] += d * (LD(x[i * L + j]) - mean[j]);                                                     \
            }                                                                                                 \
        for (int j = 0; j < L; j++) { sdy[j] = a[j]; sdyx[j] = b[j]; }                                        \
    }                                                                                                         \
    static inline __attribute__((always_inline)) void dx_##SUF(T *din, const T *dout, const T *out,          \
                                                              const T *x, size_t HW, int L, const float *mean, \
                                                              const float *k, const float *m, const float *k0, \
                                                              float slope) {                                  \
        for (size_t i = 0; i < HW; i++)                                                                       \
            for (int j = 0; j < L; j++) {                                                                     \
                const float d = out ? act_fused_grad(LD(dout[i * L + j]), LD(out[i * L + j]), slope)          \
                                    : LD(dout[i * L + j]);                                                    \
                din[i * L + j] = ST(bn_input_grad(d, LD(x[i * L + j]), mean[j], k[j], m[j], k0[j]));         \
            }                                                                                                 \
    }

BN_KERNELS(float, f32, LD_F32, ST_F32)
BN_KERNELS(uint16_t, bf16, LD_BF16, ST_BF16)

// One work item: dispatch on the element type and the lane count (constant in each copy, so the
// lane loops vectorise).
typedef struct {
    int bf16, L;
    size_t HW;
} item_shape;

#define DISPATCH(s, call16, call1) do { if ((s)->L == MAXL) { call16; } else { call1; } } while (0)

ONEDNN_CLONES static void item_sum(const item_shape *s, double *res, const void *x, const double *mean) {
    if (s->bf16) DISPATCH(s, sum_bf16(res, x, s->HW, MAXL, mean), sum_bf16(res, x, s->HW, 1, mean));
    else DISPATCH(s, sum_f32(res, x, s->HW, MAXL, mean), sum_f32(res, x, s->HW, 1, mean));
}
ONEDNN_CLONES static void item_affine(const item_shape *s, void *out, const void *in, const float *mean,
                                      const float *scale, const float *shift, float slope) {
    if (s->bf16) DISPATCH(s, affine_bf16(out, in, s->HW, MAXL, mean, scale, shift, slope),
                          affine_bf16(out, in, s->HW, 1, mean, scale, shift, slope));
    else DISPATCH(s, affine_f32(out, in, s->HW, MAXL, mean, scale, shift, slope),
                  affine_f32(out, in, s->HW, 1, mean, scale, shift, slope));
}
ONEDNN_CLONES static void item_gsum(const item_shape *s, double *sdy, double *sdyx, const void *dout, const void *out,
                                    const void *x, const float *mean, float slope) {
    if (s->bf16) DISPATCH(s, gsum_bf16(sdy, sdyx, dout, out, x, s->HW, MAXL, mean, slope),
                          gsum_bf16(sdy, sdyx, dout, out, x, s->HW, 1, mean, slope));
    else DISPATCH(s, gsum_f32(sdy, sdyx, dout, out, x, s->HW, MAXL, mean, slope),
                  gsum_f32(sdy, sdyx, dout, out, x, s->HW, 1, mean, slope));
}
ONEDNN_CLONES static void item_dx(const item_shape *s, void *din, const void *dout, const void *out, const void *x,
                                  const float *mean, const float *k, const float *m, const float *k0, float slope) {
    if (s->bf16) DISPATCH(s, dx_bf16(din, dout, out, x, s->HW, MAXL, mean, k, m, k0, slope),
                          dx_bf16(din, dout, out, x, s->HW, 1, mean, k, m, k0, slope));
    else DISPATCH(s, dx_f32(din, dout, out, x, s->HW, MAXL, mean, k, m, k0, slope),
                  dx_f32(din, dout, out, x, s->HW, 1, mean, k, m, k0, slope));
}

// The items of x: B samples times CB channel blocks, item t = (n, cb) at byte offset t * bytes.
typedef struct {
    item_shape s;
    int B, C, CB;
    size_t bytes;       // of one item
} items;

static items items_of(const bn_desc *d) {
    DCGAN_REQUIRE((d->x.dtype == DTYPE_F32 || d->x.dtype == DTYPE_BF16) &&
                  (d->x.layout == LAYOUT_NCHW || d->x.layout == LAYOUT_BLOCKED) && d->x.n > 0);
    items it;
    it.s.bf16 = d->x.dtype == DTYPE_BF16;
    it.s.L = tensor_blocked(&d->x) ? MAXL : 1;
    it.s.HW = (size_t)d->x.h * d->x.w;
    it.B = d->x.n;
    it.C = d->x.c;
    it.CB = it.C / it.s.L;
    it.bytes = it.s.HW * it.s.L * dtype_size(d->x.dtype);
    return it;
}

static const void *at(const void *p, const items *it, long t) { return p ? (const char *)p + (size_t)t * it->bytes : NULL; }
static void *at_w(void *p, const items *it, long t) { return (char *)p + (size_t)t * it->bytes; }

// Per-sample channel sums: [B][C] doubles, twice over (backward needs two).
static double *partials(const dcgan_backend *be, const items *it) {
    onednn_ctx *c = onednn_ctx_of(be);
    size_t n = 2 * (size_t)it->B * it->C;
    if (n > c->part_n) {
        double *p = realloc(c->part, n * sizeof(double));
        DCGAN_REQUIRE(p != NULL);   // out of memory for a few doubles per channel
        c->part = p;
        c->part_n = n;
    }
    return c->part;
}

// sum[c] = the samples' sums added in sample order.
static void reduce(double *sum, const double *part, const items *it) {
    for (int c = 0; c < it->C; c++) {
        double s = 0;
        for (int n = 0; n < it->B; n++) s += part[(size_t)n * it->C + c];
        sum[c] = s;
    }
}

// The lanes' per-channel values of channel block cb.
#define LANES(it, cb) ((size_t)(cb) * (it)->s.L)

// --- the passes over every item, across the thread team ---------------------------------------------

// res: [C], each channel's sum of x (mean NULL) or of (x - mean)^2 (mean: [C]); part: [B][C] the
// per-sample sums on the way.
static void sum_pass(double *res, double *part, const items *it, const void *in, const double *mean) {
    const long T = (long)it->B * it->CB;
#pragma omp parallel for schedule(static)
    for (long t = 0; t < T; t++) {
        const size_t c0 = LANES(it, t % it->CB);
        item_sum(&it->s, part + (size_t)(t / it->CB) * it->C + c0, at(in, it, t), mean ? mean + c0 : NULL);
    }
    reduce(res, part, it);
}

// out = act((in - mean) * scale + shift), per-channel mean, scale, shift: [C].
static void affine_pass(void *out, const items *it, const void *in, const float *mean, const float *scale,
                        const float *shift, float slope) {
    const long T = (long)it->B * it->CB;
#pragma omp parallel for schedule(static)
    for (long t = 0; t < T; t++) {
        const size_t c0 = LANES(it, t % it->CB);
        item_affine(&it->s, at_w(out, it, t), at(in, it, t), mean + c0, scale + c0, shift + c0, slope);
    }
}

// sdy, sdyx: [C], each channel's sum of dy and of dy * (x - mean), dy = act'(out) * dout (or dout
// itself when out is NULL); part: [2][B][C] the per-sample sums on the way.
static void gsum_pass(double *sdy, double *sdyx, double *part, const items *it, const void *dout, const void *out,
                      const void *in, const float *mean, float slope) {
    const long T = (long)it->B * it->CB;
    double *pdy = part, *pdyx = part + (size_t)it->B * it->C;
#pragma omp parallel for schedule(static)
    for (long t = 0; t < T; t++) {
        const size_t c0 = LANES(it, t % it->CB), off = (size_t)(t / it->CB) * it->C + c0;
        item_gsum(&it->s, pdy + off, pdyx + off, at(dout, it, t), at(out, it, t), at(in, it, t), mean + c0, slope);
    }
    reduce(sdy, pdy, it);
    reduce(sdyx, pdyx, it);
}

// din = dy * k + (x - mean) * m + k0 (dy as in gsum_pass), per-channel mean, k, m, k0: [C].
static void dx_pass(void *din, const items *it, const void *dout, const void *out, const void *in, const float *mean,
                    const float *k, const float *m, const float *k0, float slope) {
    const long T = (long)it->B * it->CB;
#pragma omp parallel for schedule(static)
    for (long t = 0; t < T; t++) {
        const size_t c0 = LANES(it, t % it->CB);
        item_dx(&it->s, at_w(din, it, t), at(dout, it, t), at(out, it, t), at(in, it, t), mean + c0, k + c0, m + c0,
                k0 + c0, slope);
    }
}

// --- the table's rows ---------------------------------------------------------------------------------

void onednn_batchnorm_forward_train(const dcgan_backend *be, void *out, float *save_mean, float *save_invstd,
                                    float *running, int64_t *batches_tracked, const void *in, const float *gamma,
                                    const float *beta, const bn_desc *d) {
    const items it = items_of(d);
    const int C = it.C;
    const double N = (double)it.B * it.s.HW;
    double *part = partials(be, &it), *sum = part + (size_t)it.B * C;   // sum: [C] past the first B*C
    double mean_d[C > 0 ? C : 1];
    float meanf[C > 0 ? C : 1], scale[C > 0 ? C : 1];
    sum_pass(sum, part, &it, in, NULL);
    for (int c = 0; c < C; c++) mean_d[c] = sum[c] / N;
    sum_pass(sum, part, &it, in, mean_d);
    for (int c = 0; c < C; c++) {
        const double var = sum[c] / N, invstd = 1.0 / sqrt(var + d->eps);
        save_mean[c] = meanf[c] = (float)mean_d[c];
        save_invstd[c] = (float)invstd;
        scale[c] = (float)(gamma[c] * invstd);
        if (running) bn_running_update(running, C, c, mean_d[c], var, N, (double)d->momentum);
    }
    affine_pass(out, &it, in, meanf, scale, beta, d->act_slope);
    if (batches_tracked) ++*batches_tracked;
}

void onednn_batchnorm_forward_eval(const dcgan_backend *be, void *out, const void *in, const float *gamma,
                                   const float *beta, const float *running, const bn_desc *d) {
    (void)be;
    const items it = items_of(d);
    const int C = it.C;
    float scale[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) scale[c] = (float)(gamma[c] / sqrt((double)running[C + c] + d->eps));
    affine_pass(out, &it, in, running, scale, beta, d->act_slope);
}

void onednn_batchnorm_backward(const dcgan_backend *be, void *din, float *dgamma, float *dbeta, const void *dout,
                               const void *out_, const void *in, const float *save_mean, const float *save_invstd,
                               const float *gamma, const bn_desc *d) {
    const items it = items_of(d);
    const int C = it.C;
    const double N = (double)it.B * it.s.HW;
    const float slope = d->act_slope;
    const void *out = slope == 1.0f ? NULL : out_;   // no activation: dout is already d bn(in)
    double sdy[C > 0 ? C : 1], sdyx[C > 0 ? C : 1];
    float kf[C > 0 ? C : 1], mf[C > 0 ? C : 1], k0f[C > 0 ? C : 1];
    gsum_pass(sdy, sdyx, partials(be, &it), &it, dout, out, in, save_mean, slope);
    for (int c = 0; c < C; c++) {
        const double invstd = save_invstd[c], k = gamma[c] * invstd;
        dbeta[c] += (float)sdy[c];
        dgamma[c] += (float)(sdyx[c] * invstd);
        kf[c] = (float)k;
        mf[c] = (float)(-k * sdyx[c] * invstd * invstd / N);
        k0f[c] = (float)(-k * sdy[c] / N);
    }
    dx_pass(din, &it, dout, out, in, save_mean, kf, mf, k0f, slope);
}

// --- synchronised batchnorm (--sync-bn): the local sums, and the passes that use every rank's ---

void onednn_batchnorm_sums(const dcgan_backend *be, double *sums, const void *in, const bn_desc *d) {
    // sums: [2C] (sum x, then sum x^2 of the local batch)
    const items it = items_of(d);
    const int C = it.C;
    double *part = partials(be, &it), zero[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) zero[c] = 0.0;
    sum_pass(sums, part, &it, in, NULL);
    sum_pass(sums + C, part, &it, in, zero);   // squares: deviations from 0
}

void onednn_batchnorm_forward_global(const dcgan_backend *be, void *out, float *save_mean, float *save_invstd,
                                     float *running, int64_t *batches_tracked, const void *in, const float *gamma,
                                     const float *beta, const double *sums, const bn_desc *d) {
    (void)be;
    const items it = items_of(d);
    DCGAN_REQUIRE(d->group_n >= d->x.n);
    const int C = it.C;
    const double N = (double)d->group_n * it.s.HW;
    float scale[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) {
        bn_global_channel(save_mean, save_invstd, running, sums, C, c, N, d->eps, d->momentum);
        scale[c] = (float)(gamma[c] * (double)save_invstd[c]);   // from the saved 1/std, as the other backends
    }
    affine_pass(out, &it, in, save_mean, scale, beta, d->act_slope);
    if (batches_tracked) ++*batches_tracked;
}

void onednn_batchnorm_backward_sums(const dcgan_backend *be, double *sums, float *dgamma, float *dbeta,
                                    const void *dout, const void *out_, const void *in, const float *save_mean,
                                    const float *save_invstd, const bn_desc *d) {
    // sums: [2C] (sum dy, then sum dy * (x - mean) of the local batch)
    const items it = items_of(d);
    const int C = it.C;
    const float slope = d->act_slope;
    const void *out = slope == 1.0f ? NULL : out_;
    gsum_pass(sums, sums + C, partials(be, &it), &it, dout, out, in, save_mean, slope);
    for (int c = 0; c < C; c++) {
        dbeta[c] += (float)sums[c];
        dgamma[c] += (float)(sums[C + c] * save_invstd[c]);
    }
}

void onednn_batchnorm_backward_global(const dcgan_backend *be, void *din, const void *dout, const void *out_,
                                      const void *in, const float *save_mean, const float *save_invstd,
                                      const float *gamma, const double *sums, const bn_desc *d) {
    (void)be;
    const items it = items_of(d);
    const int C = it.C;
    const double N = (double)d->group_n * it.s.HW;
    const float slope = d->act_slope;
    const void *out = slope == 1.0f ? NULL : out_;
    float kf[C > 0 ? C : 1], mf[C > 0 ? C : 1], k0f[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) {
        const double invstd = save_invstd[c], k = gamma[c] * invstd;
        kf[c] = (float)k;
        mf[c] = (float)(-k * sums[C + c] * invstd * invstd / N);
        k0f[c] = (float)(-k * sums[c] / N);
    }
    dx_pass(din, &it, dout, out, in, save_mean, kf, mf, k0f, slope);
}
