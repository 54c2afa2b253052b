// GAN losses on D's logits, in the stable softplus forms; sums in double.
#include "dcgan/loss.h"
#include <math.h>
#include <stddef.h>
#include <string.h>

static const char *const loss_names[LOSS_COUNT] = {"nonsat", "minimax", "ml", "wgan", "lsgan", "hinge"};

int gan_loss_parse(const char *name) {
    if (!name) return -1;
    for (int k = 0; k < LOSS_COUNT; k++)
        if (strcmp(name, loss_names[k]) == 0) return k;
    return -1;
}

const char *gan_loss_name(gan_loss kind) {
    return (int)kind >= 0 && kind < LOSS_COUNT ? loss_names[kind] : "unknown";
}

// log(1 + exp(x)) without overflow.
static double softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }

static double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double gan_loss_d(float *dlogits, const float *logits, int B, gan_loss kind, int real) {
    // dlogits, logits: [B]
    double sum = 0;
    const double inv = 1.0 / B;
    for (int i = 0; i < B; i++) {
        const double l = logits[i];
        double loss, grad;
        switch (kind) {
        case LOSS_WGAN:
            loss = real ? -l : l;
            grad = real ? -1.0 : 1.0;
            break;
        case LOSS_LSGAN:
            loss = real ? 0.5 * (l - 1) * (l - 1) : 0.5 * l * l;
            grad = real ? l - 1 : l;
            break;
        case LOSS_HINGE:
            loss = real ? fmax(1 - l, 0.0) : fmax(1 + l, 0.0);
            grad = real ? (1 - l > 0 ? -1.0 : 0.0) : (1 + l > 0 ? 1.0 : 0.0);
            break;
        default:    // BCE with targets 1 (real) or 0 (fake)
            loss = real ? softplus(-l) : softplus(l);
            grad = real ? sigmoid(l) - 1 : sigmoid(l);
            break;
        }
        sum += loss;
        dlogits[i] = (float)(grad * inv);
    }
    return sum * inv;
}

double gan_loss_g(float *dlogits, const float *logits, int B, gan_loss kind) {
    // dlogits, logits: [B]
    double sum = 0;
    const double inv = 1.0 / B;
    for (int i = 0; i < B; i++) {
        const double l = logits[i];
        double loss, grad;
        switch (kind) {
        case LOSS_MINIMAX:
            loss = -softplus(l);
            grad = -sigmoid(l);
            break;
        case LOSS_ML:
            loss = -0.5 * exp(l);
            grad = loss;
            break;
        case LOSS_WGAN:
        case LOSS_HINGE:
            loss = -l;
            grad = -1.0;
            break;
        case LOSS_LSGAN:
            loss = 0.5 * (l - 1) * (l - 1);
            grad = l - 1;
            break;
        default:    // non-saturating: -log sigmoid(l)
            loss = softplus(-l);
            grad = sigmoid(l) - 1;
            break;
        }
        sum += loss;
        dlogits[i] = (float)(grad * inv);
    }
    return sum * inv;
}
