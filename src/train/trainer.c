// One GAN training iteration on any backend, in the PyTorch DCGAN example's order.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/error.h"
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
    h->lr_g = h->lr_d = h->lr;
}

static void *alloc_or_flag(const dcgan_backend *be, size_t bytes, int *failed) {
    if (*failed) return NULL;
    void *p = be->alloc(be, bytes);
    if (!p) *failed = 1;
    return p;
}

// The ops an iteration runs besides the layers', checked once.
static int check_backend(const dcgan_backend *be, char *err, size_t errlen) {
    const dcgan_op ops[] = {OP_LOSS, OP_OPTIM, OP_NOISE, OP_DATA};
    tensor_desc f32 = tensor_f32(1, 1, 1, 1);
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (backend_check(be, ops[i], &f32, err, errlen)) return -1;
    return 0;
}

static int init_buffers(trainer *t, char *err, size_t errlen) {
    const dcgan_backend *be = t->be;
    const train_hparams *hp = &t->hp;
    int B = hp->batch_size, failed = 0;
    size_t need_g = 0, need_d = 0;
    char why[512] = "";
    if (dcgan_net_build(&t->G, &hp->cfg, 1, be) || dcgan_net_build(&t->D, &hp->cfg, 0, be)) failed = 1;
    if (!failed && hp->ema > 0 && dcgan_net_build(&t->G_ema, &hp->cfg, 1, be)) failed = 1;
    const act_format fmt = {hp->precision, be->native_layout};
    if (!failed && net_exec_init(&t->xg, &t->G, B, &fmt, &need_g, why, sizeof why)) failed = 1;
    if (!failed && net_exec_init(&t->xd, &t->D, B, &fmt, &need_d, why, sizeof why)) failed = 1;
    if (failed && need_g == 0 && need_d == 0 && why[0]) {   // refused, not out of memory
        set_error(err, errlen, "%s", why);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        t->opt_g[i] = alloc_or_flag(be, t->G.nparams * sizeof(float), &failed);
        t->opt_d[i] = alloc_or_flag(be, t->D.nparams * sizeof(float), &failed);
    }
    size_t img = (size_t)B * dcgan_net_out_numel(&t->G);
    t->dlogits = alloc_or_flag(be, (size_t)B * sizeof(float), &failed);
    t->dfake = alloc_or_flag(be, img * sizeof(float), &failed);
    t->stats = alloc_or_flag(be, 8 * sizeof(float), &failed);
    t->counters = alloc_or_flag(be, sizeof(train_counters), &failed);
    for (int j = 0; j < hp->d_steps; j++) {
        t->reals[j] = alloc_or_flag(be, img * sizeof(float), &failed);
        t->noises[j] = alloc_or_flag(be, (size_t)B * hp->cfg.nz * sizeof(float), &failed);
        if (hp->cfg.nclasses > 0) {
            t->real_classes[j] = alloc_or_flag(be, (size_t)B * sizeof(int32_t), &failed);
            t->fake_classes[j] = alloc_or_flag(be, (size_t)B * sizeof(int32_t), &failed);
        }
    }
    if (!failed) return 0;
    size_t fr = 0, total = 0;
    char avail[96] = "";
    if (be->mem_info(be, &fr, &total) == 0)
        snprintf(avail, sizeof avail, "; %.1f MiB of %.1f MiB are free", fr / 1048576.0, total / 1048576.0);
    set_error(err, errlen, "out of %s memory for batch size %d: activations of G need %.1f MiB and of D %.1f MiB%s"
              " (try a smaller --batch-size)", be->name, B, need_g / 1048576.0, need_d / 1048576.0, avail);
    return -1;
}

int trainer_init(trainer *t, const train_hparams *hp, const dcgan_backend *be, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->hp = *hp;
    t->be = be;
    if (dcgan_config_check(&hp->cfg, err, errlen)) return -1;
    if (hp->batch_size < 1 || hp->d_steps < 1 || hp->d_steps > TRAIN_MAX_D_STEPS)
        return set_error(err, errlen, "batch size must be at least 1 and D steps 1..%d", TRAIN_MAX_D_STEPS);
    if (!(hp->ema >= 0 && hp->ema < 1))
        return set_error(err, errlen, "the EMA decay must be in [0, 1) (got %g)", hp->ema);
    if (hp->precision != DTYPE_F32 && !be->supports(be, OP_CONV, hp->precision, be->native_layout))
        return set_error(err, errlen, "--precision %s: the %s backend has no %s convolutions (bf16 needs the onednn backend "
                         "on a CPU with AVX512_BF16)", dtype_name(hp->precision), be->name, dtype_name(hp->precision));
    if (check_backend(be, err, errlen) || init_buffers(t, err, errlen)) {
        trainer_free(t);
        return -1;
    }
    const int B = hp->batch_size;
    t->opt_desc_g = optim_desc_make(hp->optimizer, t->G.nparams, hp->lr_g, hp->beta1, hp->beta2, hp->eps);
    t->opt_desc_d = optim_desc_make(hp->optimizer, t->D.nparams, hp->lr_d, hp->beta1, hp->beta2, hp->eps);
    t->loss_real = (loss_desc){.kind = hp->loss, .role = ROLE_D_REAL, .B = B};
    t->loss_fake = (loss_desc){.kind = hp->loss, .role = ROLE_D_FAKE, .B = B};
    t->loss_gen = (loss_desc){.kind = hp->loss, .role = ROLE_G, .B = B};
    t->noise = (noise_desc){.n = (size_t)B * hp->cfg.nz, .seed = hp->seed, .stream = RNG_STREAM_NOISE,
                            .mean = 0.0f, .std = 1.0f};
    t->fake_class_noise = (noise_desc){.n = (size_t)B, .seed = hp->seed, .stream = RNG_STREAM_FAKE_CLASSES,
                                       .nclasses = hp->cfg.nclasses};
    t->ranks = 1;
    if (dcgan_net_init(&t->G, hp->seed) || dcgan_net_init(&t->D, hp->seed)) {
        trainer_free(t);
        return set_error(err, errlen, "out of host memory initialising the weights");
    }
    if (hp->ema > 0) trainer_ema_reset(t);
    return 0;
}

void trainer_ema_reset(trainer *t) {
    const dcgan_backend *be = t->be;
    be->copy(be, t->G_ema.params, t->G.params, t->G.nparams * sizeof(float));
    be->copy(be, t->G_ema.stats, t->G.stats, t->G.nstats * sizeof(float));
    be->copy(be, t->G_ema.num_batches_tracked, t->G.num_batches_tracked, (size_t)t->G.nbn * sizeof(int64_t));
}

void trainer_free(trainer *t) {
    const dcgan_backend *be = t->be;
    if (!be) return;
    net_exec_free(&t->xg);
    net_exec_free(&t->xd);
    dcgan_net_free(&t->G);
    dcgan_net_free(&t->D);
    dcgan_net_free(&t->G_ema);
    void *bufs[] = {t->opt_g[0], t->opt_g[1], t->opt_d[0], t->opt_d[1], t->dlogits, t->dfake, t->stats, t->counters};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(be, bufs[i]);
    for (int j = 0; j < TRAIN_MAX_D_STEPS; j++) {
        void *step_bufs[] = {t->reals[j], t->noises[j], t->real_classes[j], t->fake_classes[j]};
        for (size_t i = 0; i < 4; i++) if (step_bufs[i]) be->release(be, step_bufs[i]);
    }
    memset(t, 0, sizeof *t);
}

void trainer_d_grads(trainer *t, const float *real, const int32_t *real_classes, const float *noise,
                     const int32_t *fake_classes) {
    const dcgan_backend *be = t->be;
    be->zero(be, t->D.grads, t->D.nparams * sizeof(float));
    // Real half: forward, loss, backward (D's input gradient is not needed).
    net_use_classes(&t->xd, real_classes);
    const void *logits = net_forward(&t->xd, real, BN_TRAIN);
    be->loss(be, t->dlogits, t->stats + 0, logits, &t->loss_real);
    net_backward(&t->xd, t->dlogits, NULL, 1);
    // Fake half: a separate forward pass, so separate BN statistics; gradients add up. A
    // conditional D judges each fake with the class G drew it for.
    t->g_classes = fake_classes;
    net_use_classes(&t->xg, fake_classes);
    net_use_classes(&t->xd, fake_classes);
    const void *fake = net_forward(&t->xg, noise, BN_TRAIN);
    logits = net_forward(&t->xd, fake, BN_TRAIN);
    be->loss(be, t->dlogits, t->stats + 2, logits, &t->loss_fake);
    net_backward(&t->xd, t->dlogits, NULL, 1);
}

void trainer_d_update(trainer *t) {
    t->be->optim_update(t->be, t->D.params, t->D.grads, t->opt_d[0], t->opt_d[1], &t->counters->steps_d, &t->opt_desc_d);
    if (t->hp.clip > 0) t->be->optim_clip(t->be, t->D.params, t->D.nparams, t->hp.clip);
}

void trainer_g_grads(trainer *t) {
    const dcgan_backend *be = t->be;
    be->zero(be, t->G.grads, t->G.nparams * sizeof(float));
    // G's activations are still those of the last D step's fake batch: G has not changed since.
    const void *fake = t->xg.act[t->G.nlayers - 1];
    net_use_classes(&t->xd, t->g_classes);
    const void *logits = net_forward(&t->xd, fake, BN_TRAIN);
    be->loss(be, t->dlogits, t->stats + 4, logits, &t->loss_gen);
    net_backward(&t->xd, t->dlogits, t->dfake, 0);   // D's weight gradients are not needed here
    net_backward(&t->xg, t->dfake, NULL, 1);
}

void trainer_g_update(trainer *t) {
    t->be->optim_update(t->be, t->G.params, t->G.grads, t->opt_g[0], t->opt_g[1], &t->counters->steps_g, &t->opt_desc_g);
}

void trainer_ema_update(trainer *t) {
    const dcgan_backend *be = t->be;
    be->optim_ema(be, t->G_ema.params, t->G.params, t->G.nparams, t->hp.ema);
    be->optim_ema(be, t->G_ema.stats, t->G.stats, t->G.nstats, t->hp.ema);
    be->copy(be, t->G_ema.num_batches_tracked, t->G.num_batches_tracked, (size_t)t->G.nbn * sizeof(int64_t));
}

int trainer_bind_data(trainer *t, const batcher *b, char *err, size_t errlen) {
    const train_hparams *h = &t->hp;
    if (b->src.desc.B != h->batch_size || b->d_steps != h->d_steps)
        return set_error(err, errlen, "the data is batched for batch size %d and %d D steps, the trainer for %d and %d",
                         b->src.desc.B, b->d_steps, h->batch_size, h->d_steps);
    if (h->cfg.nclasses > 0 && !b->src.labels)
        return set_error(err, errlen, "a conditional net needs the data's labels, and the batcher serves none");
    t->data = b->src;
    return 0;
}

// The inputs of D step j: a real batch, noise and (conditional nets) the fakes' classes.
static void make_inputs(trainer *t, int j) {
    const dcgan_backend *be = t->be;
    const batch_source *src = &t->data;
    const int conditional = t->hp.cfg.nclasses > 0;
    be->data_gather(be, t->reals[j], conditional ? t->real_classes[j] : NULL, src->pixels,
                    conditional ? src->labels : NULL, src->order, src->cursor, &src->desc);
    be->noise_normal(be, t->noises[j], &t->counters->noise_offset, &t->noise);
    if (conditional) be->noise_classes(be, t->fake_classes[j], &t->counters->class_offset, &t->fake_class_noise);
}

void trainer_iteration(trainer *t) {
    const dcgan_backend *be = t->be;
    make_inputs(t, 0);
    for (int j = 0; j < t->hp.d_steps; j++) {
        trainer_d_grads(t, t->reals[j], t->real_classes[j], t->noises[j], t->fake_classes[j]);
        if (t->comm) be->allreduce(be, t->D.grads, &t->reduce_d);
        // The next step's inputs do not depend on D's update: they are made beside the reduction.
        if (j + 1 < t->hp.d_steps) make_inputs(t, j + 1);
        if (t->comm) be->allreduce_wait(be, &t->reduce_d);
        trainer_d_update(t);
    }
    trainer_g_grads(t);
    if (t->comm) {
        be->allreduce(be, t->G.grads, &t->reduce_g);
        be->allreduce_wait(be, &t->reduce_g);
    }
    trainer_g_update(t);
    if (t->hp.ema > 0) trainer_ema_update(t);
}

void trainer_shard(trainer *t, int rank, int ranks) {
    t->rank = rank;
    t->ranks = ranks;
    t->noise.stream = rng_rank_stream(RNG_STREAM_NOISE, rank);
    t->fake_class_noise.stream = rng_rank_stream(RNG_STREAM_FAKE_CLASSES, rank);
}

int trainer_attach_comm(trainer *t, dcgan_comm *comm, char *err, size_t errlen) {
    const dcgan_backend *be = t->be;
    tensor_desc f32 = tensor_f32(1, 1, 1, 1);
    if (backend_check(be, OP_COMM, &f32, err, errlen) || be->comm_attach(be, comm, err, errlen)) return -1;
    trainer_shard(t, comm->rank, comm->size);
    t->comm = comm;
    const float scale = 1.0f / (float)comm->size;   // the mean of the ranks' gradients
    t->reduce_d = (reduce_desc){.n = t->D.nparams, .scale = scale, .slot = 0};
    t->reduce_g = (reduce_desc){.n = t->G.nparams, .scale = scale, .slot = 1};
    if (t->hp.sync_bn && (net_exec_sync_bn(&t->xg, comm->size, err, errlen) ||
                          net_exec_sync_bn(&t->xd, comm->size, err, errlen)))
        return -1;
    return 0;
}

// 64-bit words folded one at a time (multiply-xorshift), then finalised.
static uint64_t hash_words(uint64_t h, const void *data, size_t bytes) {
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    for (; i < bytes; i++) h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

int trainer_hash(const trainer *t, uint64_t *hash, char *err, size_t errlen) {
    const dcgan_backend *be = t->be;
    const dcgan_net *nets[2] = {&t->G, &t->D};
    float *const *states[2] = {t->opt_g, t->opt_d};
    int nstate = t->hp.optimizer == OPT_ADAM ? 2 : 1;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int k = 0; k < 2; k++) {
        size_t bytes = nets[k]->nparams * sizeof(float);
        float *host = malloc(bytes);
        if (!host) return set_error(err, errlen, "out of memory hashing the weights (%.1f MiB)", bytes / 1048576.0);
        be->download(be, host, nets[k]->params, bytes);
        h = hash_words(h, host, bytes);
        for (int s = 0; s < nstate; s++) {
            be->download(be, host, states[k][s], bytes);
            h = hash_words(h, host, bytes);
        }
        free(host);
    }
    *hash = h ^ (h >> 31);
    return 0;
}

void trainer_read_stats(trainer *t, step_stats *st) {
    float s[6];
    t->be->download(t->be, s, t->stats, sizeof s);
    st->loss_d_real = s[0]; st->d_x = s[1];
    st->loss_d_fake = s[2]; st->d_g_z1 = s[3];
    st->loss_g = s[4]; st->d_g_z2 = s[5];
}

void trainer_get_counters(const trainer *t, train_counters *c) { t->be->download(t->be, c, t->counters, sizeof *c); }
void trainer_set_counters(trainer *t, const train_counters *c) { t->be->upload(t->be, t->counters, c, sizeof *c); }
