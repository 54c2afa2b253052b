// One GAN training iteration on any backend, in the PyTorch DCGAN example's order.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/train.h"

void train_hparams_defaults(train_hparams *h, gan_loss loss) {
    memset(h, 0, sizeof *h);
    h->cfg = (dcgan_config){.size = 64, .nc = 3, .nz = 100, .ngf = 64, .ndf = 64};
    h->loss = loss;
    h->batch_size = 64;
    h->seed = 1;
    h->eps = 1e-8f;
    if (loss == LOSS_WGAN) {
        h->optimizer = OPT_RMSPROP;
        h->lr = 5e-5f; h->beta1 = 0.0f; h->beta2 = 0.99f;   // beta2 doubles as RMSprop's alpha
        h->clip = 0.01f;
        h->d_steps = 5;
    } else {
        h->optimizer = OPT_ADAM;
        h->lr = 2e-4f; h->beta1 = 0.5f; h->beta2 = 0.999f;
        h->d_steps = 1;
    }
}

static float *alloc_floats(const dcgan_backend *be, size_t n) { return be->alloc(n * sizeof(float)); }

int trainer_init(trainer *t, const train_hparams *hp, const dcgan_backend *be, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->hp = *hp;
    t->be = be;
    if (dcgan_config_check(&hp->cfg, err, errlen)) return -1;
    if (hp->batch_size < 1 || hp->d_steps < 1) {
        snprintf(err, errlen, "batch size and D steps must be at least 1");
        return -1;
    }
    size_t need_g = 0, need_d = 0;
    int B = hp->batch_size, failed = 0;
    if (dcgan_net_build(&t->G, &hp->cfg, 1, be) || dcgan_net_build(&t->D, &hp->cfg, 0, be)) failed = 1;
    if (!failed && net_exec_init(&t->xg, &t->G, B, &need_g)) failed = 1;
    if (!failed && net_exec_init(&t->xd, &t->D, B, &need_d)) failed = 1;
    for (int i = 0; i < 2 && !failed; i++) {
        if (!(t->opt_g[i] = alloc_floats(be, t->G.nparams))) failed = 1;
        if (!failed && !(t->opt_d[i] = alloc_floats(be, t->D.nparams))) failed = 1;
    }
    if (!failed && !(t->dlogits = alloc_floats(be, (size_t)B))) failed = 1;
    if (!failed && !(t->dfake = alloc_floats(be, (size_t)B * dcgan_net_out_numel(&t->G)))) failed = 1;
    if (!failed && !(t->stats = alloc_floats(be, 8))) failed = 1;
    if (!failed && !(t->fake_classes = calloc((size_t)B, sizeof(int32_t)))) failed = 1;
    if (failed) {
        size_t fr = 0, total = 0;
        char avail[96] = "";
        if (be->mem_info(&fr, &total) == 0)
            snprintf(avail, sizeof avail, "; %.1f MiB of %.1f MiB are free", fr / 1048576.0, total / 1048576.0);
        snprintf(err, errlen, "out of %s memory for batch size %d: activations of G need %.1f MiB and of D %.1f MiB%s"
                 " (try a smaller --batch-size)", be->name, B, need_g / 1048576.0, need_d / 1048576.0, avail);
        trainer_free(t);
        return -1;
    }
    dcgan_net_init(&t->G, hp->seed);
    dcgan_net_init(&t->D, hp->seed);
    return 0;
}

void trainer_free(trainer *t) {
    const dcgan_backend *be = t->be;
    if (!be) return;
    net_exec_free(&t->xg);
    net_exec_free(&t->xd);
    dcgan_net_free(&t->G);
    dcgan_net_free(&t->D);
    float *bufs[] = {t->opt_g[0], t->opt_g[1], t->opt_d[0], t->opt_d[1], t->dlogits, t->dfake, t->stats};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(bufs[i]);
    free(t->fake_classes);
    memset(t, 0, sizeof *t);
}

void trainer_d_grads(trainer *t, const float *real, const float *noise) {
    trainer_d_grads_cond(t, real, NULL, noise, NULL);
}

void trainer_d_grads_cond(trainer *t, const float *real, const int32_t *real_classes, const float *noise,
                          const int32_t *fake_classes) {
    const dcgan_backend *be = t->be;
    int B = t->hp.batch_size;
    be->zero(t->D.grads, t->D.nparams * sizeof(float));
    // Real half: forward, loss, backward (D's input gradient is not needed).
    if (real_classes) net_set_classes(&t->xd, real_classes);
    const float *logits = net_forward(&t->xd, real, BN_TRAIN);
    be->loss_d(t->dlogits, t->stats + 0, logits, B, t->hp.loss, 1);
    net_backward(&t->xd, t->dlogits, NULL, 1);
    // Fake half: a separate forward pass, so separate BN statistics; gradients add up. A
    // conditional D judges each fake with the class G drew it for.
    if (fake_classes) {
        memcpy(t->fake_classes, fake_classes, (size_t)B * sizeof(int32_t));
        net_set_classes(&t->xg, fake_classes);
        net_set_classes(&t->xd, fake_classes);
    }
    const float *fake = net_forward(&t->xg, noise, BN_TRAIN);
    logits = net_forward(&t->xd, fake, BN_TRAIN);
    be->loss_d(t->dlogits, t->stats + 2, logits, B, t->hp.loss, 0);
    net_backward(&t->xd, t->dlogits, NULL, 1);
}

static void optimizer_step(trainer *t, dcgan_net *net, float **state, long step) {
    const train_hparams *h = &t->hp;
    if (h->optimizer == OPT_ADAM)
        t->be->adam_update(net->params, net->grads, state[0], state[1], net->nparams, h->lr, h->beta1, h->beta2, h->eps, step);
    else
        t->be->rmsprop_update(net->params, net->grads, state[0], net->nparams, h->lr, h->beta2, h->eps);
}

void trainer_d_update(trainer *t) {
    optimizer_step(t, &t->D, t->opt_d, ++t->steps_d);
    if (t->hp.clip > 0) t->be->clip_values(t->D.params, t->D.nparams, t->hp.clip);
}

void trainer_g_grads(trainer *t) {
    const dcgan_backend *be = t->be;
    int B = t->hp.batch_size;
    be->zero(t->G.grads, t->G.nparams * sizeof(float));
    // G's activations are still those of the last D step's fake batch: G has not changed since.
    const float *fake = t->xg.act[t->G.nlayers - 1];
    net_set_classes(&t->xd, t->fake_classes);   // (conditional nets) the classes of those fakes
    const float *logits = net_forward(&t->xd, fake, BN_TRAIN);
    be->loss_g(t->dlogits, t->stats + 4, logits, B, t->hp.loss);
    net_backward(&t->xd, t->dlogits, t->dfake, 0);   // D's weight gradients are not needed here
    net_backward(&t->xg, t->dfake, NULL, 1);
}

void trainer_g_update(trainer *t) { optimizer_step(t, &t->G, t->opt_g, ++t->steps_g); }

void trainer_read_stats(trainer *t, step_stats *st) {
    float s[6];
    t->be->download(s, t->stats, sizeof s);
    st->loss_d_real = s[0]; st->d_x = s[1];
    st->loss_d_fake = s[2]; st->d_g_z1 = s[3];
    st->loss_g = s[4]; st->d_g_z2 = s[5];
}

void trainer_iteration(trainer *t, float *const *reals, float *const *noises, step_stats *st) {
    trainer_iteration_cond(t, reals, NULL, noises, NULL, st);
}

void trainer_iteration_cond(trainer *t, float *const *reals, int32_t *const *real_classes, float *const *noises,
                            int32_t *const *fake_classes, step_stats *st) {
    for (int j = 0; j < t->hp.d_steps; j++) {
        trainer_d_grads_cond(t, reals[j], real_classes ? real_classes[j] : NULL, noises[j],
                             fake_classes ? fake_classes[j] : NULL);
        trainer_d_update(t);
    }
    trainer_g_grads(t);
    trainer_g_update(t);
    if (st) trainer_read_stats(t, st);
}
