// Checkpoints: bit-exact round trip, rejection of truncated and wrong-shape files, and a resumed
// run that ends with the same weights as an uninterrupted one.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/train.h"
#include "dcgan/train.h"
#include "test_util.h"

static void round_trip(const char *dir) {
    const dcgan_backend *be = backend_cpu();
    dcgan_config cfg = {.size = 64, .nc = 3, .nz = 20, .ngf = 8, .ndf = 8};
    dcgan_net a, b;
    char path[512], err[512];
    for (int is_g = 0; is_g < 2; is_g++) {
        CHECK(dcgan_net_build(&a, &cfg, is_g, be) == 0);
        dcgan_net_init(&a, 42);
        for (int i = 0; i < a.nbn; i++) a.num_batches_tracked[i] = 1000 + i;
        snprintf(path, sizeof path, "%s/net%d.safetensors", dir, is_g);
        CHECK(ckpt_save_net(&a, path, NULL, 0, err, sizeof err) == 0);
        int rc = ckpt_load_net(&b, path, is_g, be, err, sizeof err);
        CHECK(rc == 0);
        if (rc) { fprintf(stderr, "%s\n", err); dcgan_net_free(&a); continue; }
        CHECK(b.nparams == a.nparams && b.nstats == a.nstats);
        CHECK(memcmp(a.params, b.params, a.nparams * sizeof(float)) == 0);
        CHECK(memcmp(a.stats, b.stats, a.nstats * sizeof(float)) == 0);
        CHECK(memcmp(a.num_batches_tracked, b.num_batches_tracked, (size_t)a.nbn * sizeof(int64_t)) == 0);
        printf("round trip %s: %zu params bit-exact\n", is_g ? "G" : "D", a.nparams);
        // Asking for the other network is refused.
        CHECK(ckpt_load_net(&b, path, !is_g, be, err, sizeof err) == -1 && strstr(err, "expected"));
        dcgan_net_free(&a);
        dcgan_net_free(&b);
    }
}

static void rejects_bad_files(const char *dir) {
    const dcgan_backend *be = backend_cpu();
    char path[512], cut[512], err[512];
    dcgan_config small = {.size = 32, .nc = 1, .nz = 10, .ngf = 4, .ndf = 4};
    dcgan_net g, other;
    CHECK(dcgan_net_build(&g, &small, 1, be) == 0);
    dcgan_net_init(&g, 1);
    snprintf(path, sizeof path, "%s/g.safetensors", dir);
    CHECK(ckpt_save_net(&g, path, NULL, 0, err, sizeof err) == 0);
    // Truncated copies: every cut must be refused with a message, never crash.
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *bytes = malloc((size_t)size);
    CHECK(fread(bytes, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    long cuts[] = {0, 4, 9, 100, size / 2, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        snprintf(cut, sizeof cut, "%s/cut%zu.safetensors", dir, i);
        FILE *o = fopen(cut, "wb");
        fwrite(bytes, 1, (size_t)cuts[i], o);
        fclose(o);
        err[0] = 0;
        CHECK(ckpt_load_net(&other, cut, 1, be, err, sizeof err) == -1 && err[0]);
        printf("truncated at %ld bytes: %s\n", cuts[i], err);
    }
    free(bytes);
    // Wrong shape: a net of other widths refuses the tensors and names the first mismatch.
    st_file sf;
    CHECK(st_read(path, &sf, err, sizeof err) == 0);
    dcgan_config wide = small;
    wide.ngf = 8;
    CHECK(dcgan_net_build(&other, &wide, 1, be) == 0);
    CHECK(ckpt_load_tensors(&other, &sf, "", err, sizeof err) == -1 && strstr(err, "shape"));
    printf("wrong shape: %s\n", err);
    st_free(&sf);
    dcgan_net_free(&other);
    dcgan_net_free(&g);
    // A missing file.
    snprintf(cut, sizeof cut, "%s/missing.safetensors", dir);
    CHECK(ckpt_load_net(&other, cut, 1, be, err, sizeof err) == -1 && strstr(err, "missing.safetensors"));
}

static void run_short(const char *out, const char *resume, long iters) {
    run_options o;
    memset(&o, 0, sizeof o);
    train_hparams_defaults(&o.hp, LOSS_NONSAT);
    o.hp.cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 16, .ngf = 8, .ndf = 8};
    o.hp.batch_size = 16;
    o.hp.seed = 7;
    o.dataset = "synthetic";
    o.device = "cpu";
    o.out_dir = out;
    o.resume = resume;
    o.iters = iters;
    o.sample_every = 0;
    o.ckpt_every = 0;
    o.log_every = 100;
    CHECK(run_training(&o) == 0);
}

static void resume_equals_uninterrupted(const char *dir) {
    char full[512], part[512];
    snprintf(full, sizeof full, "%s/full", dir);
    snprintf(part, sizeof part, "%s/part", dir);
    run_short(full, NULL, 6);
    run_short(part, NULL, 3);   // stops after 3 iterations (as an interrupted run's checkpoint)
    run_short(part, part, 6);   // continues to 6
    const char *files[] = {"netG.safetensors", "netD.safetensors", "train_state.safetensors"};
    for (int i = 0; i < 3; i++) CHECK(same_tensors("resume vs uninterrupted", full, part, files[i]));
}

int main(void) {
    const char *dir = make_temp_dir("ckpt");
    round_trip(dir);
    rejects_bad_files(dir);
    resume_equals_uninterrupted(dir);
    return test_summary("test_ckpt");
}
