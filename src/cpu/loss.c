// GAN losses on D's logits (formulas.h), summed in double; loss names for the CLI.
#include "dcgan/cpu.h"
#include "dcgan/formulas.h"
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

double gan_loss_mean(float *dlogits, const float *logits, const loss_desc *d) {
    // dlogits, logits: [B]
    double sum = 0;
    for (int i = 0; i < d->B; i++) {
        double loss, grad;
        gan_loss_point(logits[i], d->kind, d->role, &loss, &grad);
        sum += loss;
        dlogits[i] = gan_loss_dlogit(grad, d->B);
    }
    return sum * (1.0 / d->B);
}

void cpu_loss(const dcgan_backend *be, float *dlogits, float *stats, const float *logits, const loss_desc *d) {
    (void)be;
    DCGAN_REQUIRE(d->B > 0);
    stats[0] = (float)gan_loss_mean(dlogits, logits, d);
    double p = 0;
    for (int i = 0; i < d->B; i++) p += logit_probability(logits[i]);
    stats[1] = (float)(p / d->B);
}
