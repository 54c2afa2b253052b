// GAN losses computed on D's logits (numerically stable softplus forms).
#ifndef DCGAN_LOSS_H
#define DCGAN_LOSS_H

typedef enum {
    LOSS_NONSAT,   // D: BCE; G: -log D(G(z))              = mean softplus(-l)
    LOSS_MINIMAX,  // D: BCE; G: log(1 - D(G(z)))           = -mean softplus(l)
    LOSS_ML,       // D: BCE; G: -1/2 E exp(l)               (Goodfellow 2014 maximum likelihood)
    LOSS_WGAN,     // D: mean l_fake - mean l_real; G: -mean l_fake
    LOSS_LSGAN,    // D: 1/2 mean (l_real-1)^2 + 1/2 mean l_fake^2; G: 1/2 mean (l_fake-1)^2
    LOSS_HINGE,    // D: mean relu(1-l_real) + mean relu(1+l_fake); G: -mean l_fake
    LOSS_COUNT
} gan_loss;

// Parses a --loss name; returns -1 when unknown.
int gan_loss_parse(const char *name);
const char *gan_loss_name(gan_loss kind);

#endif
