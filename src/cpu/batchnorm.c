// Batch normalisation over [B, C, HW]. Channel statistics are summed in double, one thread per
// channel with a static schedule, so results do not depend on the thread count.
#include "dcgan/cpu.h"
#include "dcgan/formulas.h"
#include <math.h>

// Sum of x[n] in double; four partial sums keep the add chain short.
static double sum_f64(const float *x, size_t n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i];
        s1 += x[i + 1];
        s2 += x[i + 2];
        s3 += x[i + 3];
    }
    for (; i < n; i++) s0 += x[i];
    return (s0 + s1) + (s2 + s3);
}

// Sum of (x - mean)^2 in double.
static double sumsq_dev_f64(const float *x, size_t n, double mean) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        double d0 = x[i] - mean, d1 = x[i + 1] - mean, d2 = x[i + 2] - mean, d3 = x[i + 3] - mean;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i < n; i++) {
        double d = x[i] - mean;
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}

// Sums of dy and dy * (x - mean), dy = act'(out) * dout (or dout itself when out is NULL).
// Float partial sums over one plane (at most a few thousand terms), double across planes.
static void grad_sums(double *sdy, double *sdyx, const float *dout, const float *out,
                      const float *x, int n, float mean, float slope) {
    float a = 0.0f, b = 0.0f;
    if (out) {
        for (int i = 0; i < n; i++) {
            const float d = act_fused_grad(dout[i], out[i], slope);
            a += d;
            b += d * (x[i] - mean);
        }
    } else {
        for (int i = 0; i < n; i++) {
            a += dout[i];
            b += dout[i] * (x[i] - mean);
        }
    }
    *sdy += a;
    *sdyx += b;
}

// out = act((in - mean) * scale + shift) over one channel of every sample. Centring first keeps
// precision when |mean| is large next to the spread.
static void affine_channel(float *out, const float *in, int B, int C, int HW, int c, float mean,
                           float scale, float shift, float slope) {
    for (int b = 0; b < B; b++) {
        const size_t off = ((size_t)b * C + c) * HW;
        for (int i = 0; i < HW; i++) {
            out[off + i] = act_fused(bn_affine(in[off + i], mean, scale, shift), slope);
        }
    }
}

static void check(const bn_desc *d) { DCGAN_REQUIRE(d->x.dtype == DTYPE_F32 && d->x.layout == LAYOUT_NCHW && d->x.n > 0); }

void cpu_batchnorm_forward_train(const dcgan_backend *be, void *out_, float *save_mean, float *save_invstd,
                                 float *running, int64_t *batches_tracked, const void *in_, const float *gamma,
                                 const float *beta, const bn_desc *d) {
    // out, in: [B, C, HW]; save_*, gamma, beta: [C]; running: [2C] (mean, var)
    (void)be;
    check(d);
    float *out = out_;
    const float *in = in_;
    const int B = d->x.n, C = d->x.c, HW = d->x.h * d->x.w;
    const double momentum = d->momentum;
    const size_t N = (size_t)B * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double sum = 0;
        for (int b = 0; b < B; b++) sum += sum_f64(in + ((size_t)b * C + c) * HW, (size_t)HW);
        const double mean = sum / (double)N;
        double sq = 0;
        for (int b = 0; b < B; b++) sq += sumsq_dev_f64(in + ((size_t)b * C + c) * HW, (size_t)HW, mean);
        const double var = sq / (double)N;
        const double invstd = 1.0 / sqrt(var + d->eps);
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        if (running) bn_running_update(running, C, c, mean, var, (double)N, momentum);
        affine_channel(out, in, B, C, HW, c, (float)mean, (float)(gamma[c] * invstd), beta[c], d->act_slope);
    }
    if (batches_tracked) ++*batches_tracked;
}

void cpu_batchnorm_forward_eval(const dcgan_backend *be, void *out, const void *in_, const float *gamma,
                                const float *beta, const float *running, const bn_desc *d) {
    // out, in: [B, C, HW]; gamma, beta: [C]; running: [2C] (mean, var)
    (void)be;
    check(d);
    const float *in = in_;
    const int B = d->x.n, C = d->x.c, HW = d->x.h * d->x.w;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const double scale = gamma[c] / sqrt((double)running[C + c] + d->eps);
        affine_channel(out, in, B, C, HW, c, running[c], (float)scale, beta[c], d->act_slope);
    }
}

void cpu_batchnorm_backward(const dcgan_backend *be, void *din_, float *dgamma, float *dbeta, const void *dout_,
                            const void *out_, const void *in_, const float *save_mean, const float *save_invstd,
                            const float *gamma, const bn_desc *d) {
    // din, dout, out, in: [B, C, HW]; dgamma, dbeta, save_*, gamma: [C]
    (void)be;
    check(d);
    float *din = din_;
    const float *dout = dout_, *in = in_;
    const float act_slope = d->act_slope;
    const float *out = act_slope == 1.0f ? NULL : out_;   // no activation: dout is already d bn(in)
    const int B = d->x.n, C = d->x.c, HW = d->x.h * d->x.w;
    const double N = (double)B * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const double mean = save_mean[c], invstd = save_invstd[c];
        double sdy = 0, sdyx = 0;   // sum dout, sum dout * (x - mean)
        for (int b = 0; b < B; b++) {
            const size_t off = ((size_t)b * C + c) * HW;
            grad_sums(&sdy, &sdyx, dout + off, out ? out + off : NULL, in + off, HW, (float)mean, act_slope);
        }
        dbeta[c] += (float)sdy;
        dgamma[c] += (float)(sdyx * invstd);
        // din = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)) = dy*k + (x - mean)*m + k0
        const double k = gamma[c] * invstd;
        const float kf = (float)k, meanf = save_mean[c];
        const float mf = (float)(-k * sdyx * invstd * invstd / N), k0f = (float)(-k * sdy / N);
        for (int b = 0; b < B; b++) {
            const size_t off = ((size_t)b * C + c) * HW;
            if (out)
                for (int i = 0; i < HW; i++)
                    din[off + i] = bn_input_grad(act_fused_grad(dout[off + i], out[off + i], act_slope), in[off + i],
                                                 meanf, kf, mf, k0f);
            else
                for (int i = 0; i < HW; i++) din[off + i] = bn_input_grad(dout[off + i], in[off + i], meanf, kf, mf, k0f);
        }
    }
}

// --- synchronised batchnorm: the statistics of every rank's batch ---------------------------------

// Sum of x^2 in double (each square is exact in double).
static double sumsq_f64(const float *x, size_t n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += (double)x[i] * x[i];
        s1 += (double)x[i + 1] * x[i + 1];
        s2 += (double)x[i + 2] * x[i + 2];
        s3 += (double)x[i + 3] * x[i + 3];
    }
    for (; i < n; i++) s0 += (double)x[i] * x[i];
    return (s0 + s1) + (s2 + s3);
}

void cpu_batchnorm_sums(const dcgan_backend *be, double *sums, const void *in_, const bn_desc *d) {
    // sums: [2C] (sum x, then sum x^2); in: [B, C, HW]
    (void)be;
    check(d);
    const float *in = in_;
    const int B = d->x.n, C = d->x.c, HW = d->x.h * d->x.w;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (int b = 0; b < B; b++) {
            const float *x = in + ((size_t)b * C + c) * HW;
            s += sum_f64(x, (size_t)HW);
            q += sumsq_f64(x, (size_t)HW);
        }
        sums[c] = s;
        sums[C + c] = q;
    }
}

void cpu_batchnorm_forward_global(const dcgan_backend *be, void *out_, float *save_mean, float *save_invstd,
                                  float *running, int64_t *batches_tracked, const void *in_, const float *gamma,
                                  const float *beta, const double *sums, const bn_desc *d) {
    // out, in: [B, C, HW]; save_*, gamma, beta: [C]; running: [2C]; sums: [2C] over all ranks
    (void)be;
    check(d);
    DCGAN_REQUIRE(d->group_n >= d->x.n);
    float *out = out_;
    const float *in = in_;
    const int B = d->x.n, C = d->x.c, HW = d->x.h * d->x.w;
    const double N = (double)d->group_n * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        bn_global_channel(save_mean, save_invstd, running, sums, C, c, N, d->eps, d->momentum);
        // the scale from the saved (float) 1/std, as the CUDA op computes it
        affine_channel(out, in, B, C, HW, c, save_mean[c], (float)(gamma[c] * (double)save_invstd[c]), beta[c],
                       d->act_slope);
    }
    if (batches_tracked) ++*batches_tracked;
}

void cpu_batchnorm_backward_sums(const dcgan_backend *be, double *sums, float *dgamma, float *dbeta, const void *dout_,
                                 const void *out_, const void *in_, const float *save_mean, const float *save_invstd,
                                 const bn_desc *d) {
    // sums: [2C] (sum dy, then sum dy * (x - mean)); dout, out, in: [B, C, HW]; dgamma, dbeta, save_*: [C]
    (void)be;
    check(d);
    const float *dout = dout_, *in = in_;
    const float *out = d->act_slope == 1.0f ? NULL : out_;
    const int B = d->x.n, C = d->x.c, HW = d->x.h * d->x.w;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double sdy = 0, sdyx = 0;
        for (int b = 0; b < B; b++) {
            const size_t off = ((size_t)b * C + c) * HW;
            grad_sums(&sdy, &sdyx, dout + off, out ? out + off : NULL, in + off, HW, save_mean[c], d->act_slope);
        }
        sums[c] = sdy;
        sums[C + c] = sdyx;
        dbeta[c] += (float)sdy;
        dgamma[c] += (float)(sdyx * save_invstd[c]);
    }
}

void cpu_batchnorm_backward_global(const dcgan_backend *be, void *din_, const void *dout_, const void *out_,
                                   const void *in_, const float *save_mean, const float *save_invstd,
                                   const float *gamma, const double *sums, const bn_desc *d) {
    // din, dout, out, in: [B, C, HW]; save_*, gamma: [C]; sums: [2C] over all ranks
    (void)be;
    check(d);
    float *din = din_;
    const float *dout = dout_, *in = in_;
    const float act_slope = d->act_slope;
    const float *out = act_slope == 1.0f ? NULL : out_;
    const int B = d->x.n, C = d->x.c, HW = d->x.h * d->x.w;
    const double N = (double)d->group_n * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const double invstd = save_invstd[c], sdy = sums[c], sdyx = sums[C + c];
        const double k = gamma[c] * invstd;
        const float kf = (float)k, meanf = save_mean[c];
        const float mf = (float)(-k * sdyx * invstd * invstd / N), k0f = (float)(-k * sdy / N);
        for (int b = 0; b < B; b++) {
            const size_t off = ((size_t)b * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                const float dy = out ? act_fused_grad(dout[off + i], out[off + i], act_slope) : dout[off + i];
                din[off + i] = bn_input_grad(dy, in[off + i], meanf, kf, mf, k0f);
            }
        }
    }
}
