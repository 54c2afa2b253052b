// One training iteration is a fixed sequence of backend calls with fixed arguments: everything
// that advances (optimiser steps, noise and class stream offsets, the data cursor, batchnorm
// counts) lives in backend memory and is advanced by the ops. Checked on the CPU backend, as a
// CUDA graph would replay it: after the first call the trainer's host state is frozen (compared
// byte for byte around every later call), and N such calls, with only the batcher's work between
// them, end bit for bit where N ordinary iterations of the training loop (run_training) end,
// across epoch boundaries, for a plain DCGAN and a conditional WGAN (5 D steps, RMSprop,
// clipping), with the data resident and staged through host memory. A dtype or layout the
// backend does not serve is refused when the net is planned, and a batcher made for other batches
// when it is bound. The data op's cursor (backend memory) and the batcher's own count agree.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dcgan/train.h"
#include "test_util.h"

typedef struct { const char *name; gan_loss loss; int conditional; long iters; } scenario;

static void options(run_options *o, const scenario *sc, const char *out) {
    memset(o, 0, sizeof *o);
    train_hparams_defaults(&o->hp, sc->loss);
    o->hp.cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 16, .ngf = 8, .ndf = 8};
    o->hp.batch_size = 64;   // 32 batches per epoch of the 2048 synthetic images
    o->hp.seed = 11;
    o->dataset = "synthetic";
    o->device = "cpu";
    o->out_dir = out;
    o->iters = sc->iters;
    o->log_every = 1000;
    o->conditional = sc->conditional;
}

// The same run with the iteration called alone: fixed arguments, frozen host state.
static void fixed_calls(const scenario *sc, const char *loop_dir, const char *dir, int staged) {
    run_options o;
    options(&o, sc, dir);
    char err[512];
    dcgan_dataset ds;
    trainer t;
    batcher data;
    CHECK(dataset_load(&ds, "synthetic", NULL, 32, 1, o.hp.seed, err, sizeof err) == 0);
    if (sc->conditional) o.hp.cfg.nclasses = ds.nclasses;
    CHECK(trainer_init(&t, &o.hp, backend_cpu_default(), err, sizeof err) == 0);
    CHECK(batcher_init(&data, t.be, &ds, o.hp.batch_size, o.hp.d_steps, o.hp.seed, sc->conditional, staged, 0,
                       err, sizeof err) == 0);
    CHECK(trainer_bind_data(&t, &data, err, sizeof err) == 0);
    trainer *snapshot = malloc(sizeof t);
    long frozen = 0;
    for (long i = 0; i < sc->iters; i++) {
        batcher_prepare(&data);
        memcpy(snapshot, &t, sizeof t);
        trainer_iteration(&t);
        if (i > 0) frozen += memcmp(snapshot, &t, sizeof t) == 0;
    }
    printf("%s%s: the trainer's host state was unchanged by %ld of %ld calls\n", sc->name, staged ? " (staged)" : "",
           frozen, sc->iters - 1);
    CHECK(frozen == sc->iters - 1);
    train_counters c;
    trainer_get_counters(&t, &c);
    int64_t cursor;   // the data op's, in backend memory, and the batcher's own count
    t.be->download(t.be, &cursor, data.src.cursor, sizeof cursor);
    CHECK(cursor == batcher_cursor(&data));
    CHECK(cursor == sc->iters * o.hp.d_steps && c.steps_d == sc->iters * o.hp.d_steps && c.steps_g == sc->iters);
    CHECK(cursor > data.src.desc.batches_per_epoch);   // the run crossed an epoch
    char path[512];
    snprintf(path, sizeof path, "%s/netG.safetensors", dir);
    CHECK(ckpt_save_net(&t.G, path, NULL, 0, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/netD.safetensors", dir);
    CHECK(ckpt_save_net(&t.D, path, NULL, 0, err, sizeof err) == 0);
    char what[128];
    snprintf(what, sizeof what, "%s: %ld fixed calls%s vs the training loop", sc->name, sc->iters, staged ? " (staged data)" : "");
    CHECK(same_tensors(what, loop_dir, dir, "netG.safetensors"));
    CHECK(same_tensors(what, loop_dir, dir, "netD.safetensors"));
    // The loop's saved position is what the backend's counters say.
    run_position pos;
    memset(&pos, 0, sizeof pos);
    trainer check;
    run_options lo;
    options(&lo, sc, loop_dir);
    CHECK(run_load_options(loop_dir, &lo, err, sizeof err) == 0);
    CHECK(trainer_init(&check, &lo.hp, backend_cpu_default(), err, sizeof err) == 0);
    CHECK(run_load_checkpoint(&check, loop_dir, &pos, err, sizeof err) == 0);
    CHECK(pos.noise_offset == c.noise_offset && pos.class_offset == c.class_offset && pos.steps_g == c.steps_g &&
          pos.steps_d == c.steps_d);
    CHECK((int64_t)pos.epoch * data.src.desc.batches_per_epoch + pos.batch_pos == cursor);
    trainer_free(&check);
    free(snapshot);
    batcher_free(&data);
    trainer_free(&t);
    dataset_free(&ds);
}

// A format the backend does not serve is refused when the net is planned, with a clear reason.
static void unsupported_format(void) {
    dcgan_config cfg = {.size = 32, .nc = 1, .nz = 16, .ngf = 8, .ndf = 8};
    dcgan_net g;
    net_exec x;
    char err[512] = "";
    CHECK(dcgan_net_build(&g, &cfg, 1, backend_cpu()) == 0);
    const act_format formats[] = {{DTYPE_BF16, LAYOUT_NCHW}, {DTYPE_F32, LAYOUT_NHWC}, {DTYPE_F16, LAYOUT_NHWC}};
    for (int i = 0; i < 3; i++) {
        CHECK(net_exec_init(&x, &g, 4, &formats[i], NULL, err, sizeof err) == -1);
        printf("%s %s: %s\n", dtype_name(formats[i].dtype), layout_name(formats[i].layout), err);
        CHECK(strstr(err, "cpu-ref backend") && strstr(err, dtype_name(formats[i].dtype)) &&
              strstr(err, layout_name(formats[i].layout)));
    }
    const act_format f32 = {DTYPE_F32, LAYOUT_NCHW};
    CHECK(net_exec_init(&x, &g, 4, &f32, NULL, err, sizeof err) == 0);
    net_exec_free(&x);
    dcgan_net_free(&g);
}

// A batcher made for another batch size, another number of D steps or without the labels a
// conditional net reads is refused when it is bound, with a reason.
static void mismatched_data(void) {
    char err[512] = "";
    dcgan_dataset ds;
    trainer t;
    batcher data;
    train_hparams h;
    train_hparams_defaults(&h, LOSS_WGAN);   // 5 D steps
    h.cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 16, .ngf = 8, .ndf = 8};
    h.batch_size = 16;
    CHECK(dataset_load(&ds, "synthetic", NULL, 32, 1, 1, err, sizeof err) == 0);
    h.cfg.nclasses = ds.nclasses;
    CHECK(trainer_init(&t, &h, backend_cpu(), err, sizeof err) == 0);
    const struct { int B, d_steps, labels; } cases[] = {{8, 5, 1}, {16, 1, 1}, {16, 5, 0}, {16, 5, 1}};
    for (int i = 0; i < 4; i++) {
        CHECK(batcher_init(&data, t.be, &ds, cases[i].B, cases[i].d_steps, h.seed, cases[i].labels, 0, 0, err,
                           sizeof err) == 0);
        int rc = trainer_bind_data(&t, &data, err, sizeof err);
        printf("bind a batcher of batch %d, %d D steps%s: %s\n", cases[i].B, cases[i].d_steps,
               cases[i].labels ? "" : ", no labels", rc ? err : "bound");
        CHECK(rc == (i < 3 ? -1 : 0));
        batcher_free(&data);
    }
    trainer_free(&t);
    dataset_free(&ds);
}

int main(void) {
    unsupported_format();
    mismatched_data();
    const char *dir = make_temp_dir("iteration");
    const scenario scenarios[] = {
        {"nonsat", LOSS_NONSAT, 0, 40},
        {"conditional wgan", LOSS_WGAN, 1, 8},
    };
    for (int i = 0; i < 2; i++) {
        const scenario *sc = &scenarios[i];
        char loop_dir[512], calls_dir[512], staged_dir[512];
        snprintf(loop_dir, sizeof loop_dir, "%s/loop%d", dir, i);
        snprintf(calls_dir, sizeof calls_dir, "%s/calls%d", dir, i);
        snprintf(staged_dir, sizeof staged_dir, "%s/staged%d", dir, i);
        run_options o;
        options(&o, sc, loop_dir);
        CHECK(run_training(&o) == 0);
        if (mkdir(calls_dir, 0700) || mkdir(staged_dir, 0700)) { CHECK(!"temp dirs"); continue; }
        fixed_calls(sc, loop_dir, calls_dir, 0);
        fixed_calls(sc, loop_dir, staged_dir, 1);
    }
    return test_summary("test_iteration");
}
