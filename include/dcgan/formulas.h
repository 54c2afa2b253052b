// The element formulas both backends must agree on bit for bit, written once for host and device
// (see hd.h): the GAN losses and their gradients, the activations and their gradients, the
// batchnorm affine step, the optimiser updates, the pixel scaling of a training batch, and the
// pooling and bilinear resizing of Inception-v3's input side (FID).
// src/cpu/<op>.c and kernels/<op>.cu loop over elements; the arithmetic of one element is here.
#ifndef DCGAN_FORMULAS_H
#define DCGAN_FORMULAS_H
#include <float.h>
#include <math.h>
#include <stdint.h>
#include "dcgan/desc.h"
#include "dcgan/hd.h"

// --- losses (on D's logits, in double) ------------------------------------------------------------

// log(1 + exp(x)) without overflow.
DCGAN_HD double hd_softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }

DCGAN_HD double hd_sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    const double e = exp(x);
    return e / (1.0 + e);
}

// The loss of one logit l for a role, and its derivative d loss / d l (before the 1/B of the mean).
DCGAN_HD void gan_loss_point(double l, gan_loss kind, loss_role role, double *loss, double *grad) {
    if (role == ROLE_G) {
        switch (kind) {
        case LOSS_MINIMAX: *loss = -hd_softplus(l); *grad = -hd_sigmoid(l); break;
        case LOSS_ML: *loss = -0.5 * exp(l); *grad = *loss; break;
        case LOSS_WGAN:
        case LOSS_HINGE: *loss = -l; *grad = -1.0; break;
        case LOSS_LSGAN: *loss = 0.5 * (l - 1) * (l - 1); *grad = l - 1; break;
        default: *loss = hd_softplus(-l); *grad = hd_sigmoid(l) - 1; break;   // non-saturating
        }
        return;
    }
    const int real = role == ROLE_D_REAL;
    switch (kind) {
    case LOSS_WGAN: *loss = real ? -l : l; *grad = real ? -1.0 : 1.0; break;
    case LOSS_LSGAN:
        *loss = real ? 0.5 * (l - 1) * (l - 1) : 0.5 * l * l;
        *grad = real ? l - 1 : l;
        break;
    case LOSS_HINGE:
        *loss = real ? fmax(1 - l, 0.0) : fmax(1 + l, 0.0);
        *grad = real ? (1 - l > 0 ? -1.0 : 0.0) : (1 + l > 0 ? 1.0 : 0.0);
        break;
    default:   // BCE with targets 1 (real) or 0 (fake)
        *loss = real ? hd_softplus(-l) : hd_softplus(l);
        *grad = real ? hd_sigmoid(l) - 1 : hd_sigmoid(l);
        break;
    }
}

// The gradient the loss op writes for one logit: the point gradient of the mean over B.
DCGAN_HD float gan_loss_dlogit(double grad, int B) { return (float)(grad * (1.0 / B)); }

// D's output probability for a logit, the D(x) / D(G(z)) of the progress line.
DCGAN_HD double logit_probability(double l) { return 1.0 / (1.0 + exp(-l)); }

// --- activations ------------------------------------------------------------------------------------

DCGAN_HD float act_relu(float x) { return x > 0.0f ? x : 0.0f; }
DCGAN_HD float act_leaky_relu(float x, float slope) { return x > 0.0f ? x : hd_mul(x, slope); }
// ReLU's and leaky ReLU's derivative, picked by the sign of the output (which is the input's sign).
DCGAN_HD float act_relu_grad(float dout, float out) { return out > 0.0f ? dout : 0.0f; }
DCGAN_HD float act_leaky_relu_grad(float dout, float out, float slope) { return out > 0.0f ? dout : hd_mul(dout, slope); }
// d tanh = 1 - tanh^2, from the saved output.
DCGAN_HD float act_tanh_grad(float dout, float out) { return hd_mul(dout, hd_sub(1.0f, hd_mul(out, out))); }

// The activation fused into batchnorm: slope 1 none, 0 ReLU, 0.2 leaky ReLU.
DCGAN_HD float act_fused(float y, float slope) { return hd_add(fmaxf(y, 0.0f), hd_mul(slope, fminf(y, 0.0f))); }
DCGAN_HD float act_fused_grad(float dout, float out, float slope) { return hd_mul(dout, out > 0.0f ? 1.0f : slope); }

// --- batchnorm, per element ---------------------------------------------------------------------------

// y = (x - mean) * scale + shift; centring first keeps precision when |mean| is large.
DCGAN_HD float bn_affine(float x, float mean, float scale, float shift) {
    return hd_add(hd_mul(hd_sub(x, mean), scale), shift);
}
// PyTorch's running statistics: running = (1 - momentum) running + momentum * batch statistic,
// the variance unbiased (N / (N - 1)); running holds C means, then C variances.
DCGAN_HD void bn_running_update(float *running, int C, int c, double mean, double var, double N, double momentum) {
    const double unbiased = N > 1 ? var * N / (N - 1) : var;
    running[c] = (float)((1.0 - momentum) * running[c] + momentum * mean);
    running[C + c] = (float)((1.0 - momentum) * running[C + c] + momentum * unbiased);
}
// Synchronised batchnorm: a channel's mean, biased variance and 1 / sqrt(var + eps) from the sums
// of x and x^2 over the n values of every rank's batch (in double; the variance clamped at 0).
DCGAN_HD void bn_stats_from_sums(double sum, double sumsq, double n, double eps, double *mean, double *var,
                                 double *invstd) {
    const double m = sum / n, v = sumsq / n - m * m;
    *mean = m;
    *var = v > 0.0 ? v : 0.0;
    *invstd = 1.0 / sqrt(*var + eps);
}
// Synchronised batchnorm, channel c: the saved mean and 1 / std, and the running statistics, from
// sums [2C] (sum x, then sum x^2) over the n values of every rank's batch.
DCGAN_HD void bn_global_channel(float *save_mean, float *save_invstd, float *running, const double *sums, int C,
                                int c, double n, double eps, double momentum) {
    double mean, var, invstd;
    bn_stats_from_sums(sums[c], sums[C + c], n, eps, &mean, &var, &invstd);
    save_mean[c] = (float)mean;
    save_invstd[c] = (float)invstd;
    if (running) bn_running_update(running, C, c, mean, var, n, momentum);
}
// din = dy * k + (x - mean) * m + k0, the batch-statistics gradient (k, m, k0 per channel).
DCGAN_HD float bn_input_grad(float dy, float x, float mean, float k, float m, float k0) {
    return hd_add(hd_add(hd_mul(dy, k), hd_mul(hd_sub(x, mean), m)), k0);
}

// --- optimisers -----------------------------------------------------------------------------------------

// torch's two-sided lerp: a + w (x - a) for w < 0.5, else x - (x - a)(1 - w); the moving average
// a.lerp_(x, 1 - decay) and Adam's first moment use it.
DCGAN_HD float lerp_element(float a, float x, float w) {
    const float diff = hd_sub(x, a);
    return w < 0.5f ? hd_add(a, hd_mul(w, diff)) : hd_sub(x, hd_mul(diff, hd_sub(1.0f, w)));
}

// b^t by squaring: only multiplications, so host and device round identically.
DCGAN_HD double hd_pow_int(double b, int64_t t) {
    double r = 1.0;
    for (; t > 0; t >>= 1, b *= b)
        if (t & 1) r *= b;
    return r;
}

// Adam's factors for step t (1-based): the step size with bias correction 1 and the square root
// of bias correction 2 in double, then rounded, as torch's single-tensor Adam does.
typedef struct { float step, bc2_sqrt, w1, w2, b2; } adam_factors;
DCGAN_HD adam_factors adam_factors_at(const optim_desc *d, int64_t t) {
    adam_factors f;
    const double bc1 = 1.0 - hd_pow_int(d->beta1_dec, t), bc2 = 1.0 - hd_pow_int(d->beta2_dec, t);
    f.step = (float)(-d->lr_dec / bc1);
    f.bc2_sqrt = (float)sqrt(bc2);
    f.w1 = (float)(1.0 - d->beta1_dec);
    f.w2 = (float)(1.0 - d->beta2_dec);
    f.b2 = (float)d->beta2_dec;
    return f;
}

DCGAN_HD void adam_element(float *p, float *m, float *v, float g, const adam_factors *f, float eps) {
    const float mi = lerp_element(*m, g, f->w1);   // m.lerp_(g, 1 - beta1)
    const float vi = hd_add(hd_mul(*v, f->b2), hd_mul(hd_mul(f->w2, g), g));
    *m = mi;
    *v = vi;
    const float denom = hd_add(hd_div(hd_sqrt(vi), f->bc2_sqrt), eps);
    *p = hd_add(*p, hd_div(hd_mul(f->step, mi), denom));
}

DCGAN_HD void rmsprop_element(float *p, float *sq, float g, const optim_desc *d) {
    const float a = (float)d->beta2_dec, w = (float)(1.0 - d->beta2_dec);
    const float s = hd_add(hd_mul(*sq, a), hd_mul(hd_mul(w, g), g));
    *sq = s;
    *p = hd_add(*p, hd_div(hd_mul(-d->lr, g), hd_add(hd_sqrt(s), d->eps)));
}

DCGAN_HD float clip_element(float x, float limit) { return x < -limit ? -limit : (x > limit ? limit : x); }

// --- data -------------------------------------------------------------------------------------------------

// torchvision's ToTensor then Normalize(0.5, 0.5) in float32: (v / 255 - 0.5) / 0.5.
DCGAN_HD float pixel_to_unit(uint8_t v) { return hd_div(hd_sub(hd_div((float)v, 255.0f), 0.5f), 0.5f); }

// Position of image b of batch k in its epoch's permutation: this rank's slice of the batch step
// (data_desc: stride images per step, the rank's from `first` on; stride 0 means B).
DCGAN_HD size_t data_order_index(const data_desc *d, long long k, int b) {
    return (size_t)(k % d->batches_per_epoch) * (size_t)(d->stride ? d->stride : d->B) + (size_t)d->first + (size_t)b;
}

// save_image's 8-bit pixel of a [-1, 1] value: clamped (NaN black), scaled to [0, 255], + 0.5 and
// truncated, in float32 (what a sample PNG stores).
DCGAN_HD uint8_t unit_to_pixel(float x) {
    if (!(x >= -1.0f)) x = -1.0f;
    if (x > 1.0f) x = 1.0f;
    float v = hd_add(hd_mul(hd_div(hd_add(x, 1.0f), 2.0f), 255.0f), 0.5f);
    if (v > 255.0f) v = 255.0f;
    return (uint8_t)v;
}

// --- pooling and resizing (forward only) ------------------------------------------------------------

// Output (oh, ow) of a pool over the plane x [H, W]: the window's values in row order, padding
// left out (a max never takes it; an average divides by the window's inside, or by kh * kw with
// count_pad).
DCGAN_HD float pool_value(const float *x, int H, int W, int oh, int ow, const pool_desc *d) {
    const int h0 = oh * d->sh - d->ph, w0 = ow * d->sw - d->pw;
    float m = -FLT_MAX, s = 0.0f;
    int n = 0;
    for (int kh = 0; kh < d->kh; kh++) {
        const int h = h0 + kh;
        if (h < 0 || h >= H) continue;
        for (int kw = 0; kw < d->kw; kw++) {
            const int w = w0 + kw;
            if (w < 0 || w >= W) continue;
            const float v = x[(size_t)h * W + w];
            m = v > m ? v : m;
            s = hd_add(s, v);
            n++;
        }
    }
    return d->kind == POOL_MAX ? m : hd_div(s, (float)(d->count_pad ? d->kh * d->kw : n));
}

// PyTorch's bilinear source of output position o (align_corners False): (o + 0.5) * in / out - 0.5,
// clamped at 0; the two neighbours and the second one's weight.
DCGAN_HD void resize_source(int o, int in, int out, int *i0, int *i1, float *lambda) {
    float x = hd_sub(hd_mul(hd_add((float)o, 0.5f), hd_div((float)in, (float)out)), 0.5f);
    if (x < 0) x = 0;
    *i0 = (int)x;
    *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
    *lambda = hd_sub(x, (float)*i0);
}

// A source value of a resize: the value itself, or with d->quantize the [-1, 1] value read back
// from its 8-bit pixel as a PNG of it stores, in [0, 1].
DCGAN_HD float resize_read(const float *x, size_t i, const resize_desc *d) {
    return d->quantize ? hd_div((float)unit_to_pixel(x[i]), 255.0f) : x[i];
}

DCGAN_HD float resize_mix(float a, float b, float l) { return hd_add(hd_mul(hd_sub(1.0f, l), a), hd_mul(l, b)); }

// Output (oh, ow) of the bilinear resize of the plane x [H, W] to [OH, OW], then scale * v + shift.
DCGAN_HD float resize_value(const float *x, int H, int W, int OH, int OW, int oh, int ow, const resize_desc *d) {
    int h0, h1, w0, w1;
    float lh, lw;
    resize_source(oh, H, OH, &h0, &h1, &lh);
    resize_source(ow, W, OW, &w0, &w1, &lw);
    const float top = resize_mix(resize_read(x, (size_t)h0 * W + w0, d), resize_read(x, (size_t)h0 * W + w1, d), lw);
    const float bottom = resize_mix(resize_read(x, (size_t)h1 * W + w0, d), resize_read(x, (size_t)h1 * W + w1, d), lw);
    return hd_add(hd_mul(d->scale, resize_mix(top, bottom, lh)), d->shift);
}

#endif
