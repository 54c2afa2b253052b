// End to end through the dcgan binary: a short CPU training run writes PNGs that libpng decodes,
// checkpoints that `dcgan sample` reloads, and user mistakes get a clear error and a non-zero exit.
// Usage: test_e2e PATH_TO_DCGAN
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dcgan/io.h"
#include "test_util.h"

// min_spread: the least max-min pixel range that shows the image is not blank.
static void expect_png(const char *path, int w, int h, int c, int min_spread) {
    uint8_t *px;
    int pw, ph, pc;
    char err[512];
    int rc = png_read(path, &px, &pw, &ph, &pc, err, sizeof err);
    CHECK(rc == 0);
    if (rc) { fprintf(stderr, "%s\n", err); return; }
    printf("%s: %dx%d, %d channel(s)\n", path, pw, ph, pc);
    CHECK(pw == w && ph == h && pc == c);
    // Not a blank image: some spread of values.
    int lo = 255, hi = 0;
    for (long i = 0; i < (long)pw * ph * pc; i++) { if (px[i] < lo) lo = px[i]; if (px[i] > hi) hi = px[i]; }
    CHECK(hi - lo >= min_spread);
    free(px);
}

static void expect_error(int status, const char *err, const char *needle) {
    printf("exit %d: %s", status, err);
    CHECK(status != 0);
    CHECK(strstr(err, needle) != NULL);
    CHECK(strchr(err, '\n') == strrchr(err, '\n') || strstr(err, "--help"));   // one line (+ hint)
}

int main(int argc, char **argv) {
    test_dcgan_bin(argc, argv, "test_e2e");
    const char *dir = make_temp_dir("e2e");
    char err[4096], path[1024];
    // 32 px, 64 fixed-noise samples in an 8x8 grid with 2-pixel padding: 8*34+2 = 274.
    int rc = run_dcgan(err, sizeof err, "train --dataset synthetic --device cpu --iters 4 --batch-size 16 --ngf 8 --ndf 8"
                   " --nz 16 --sample-every 2 --out %s/run", dir);
    CHECK(rc == 0);
    if (rc) fprintf(stderr, "%s", err);
    snprintf(path, sizeof path, "%s/run/samples_000004.png", dir);
    expect_png(path, 274, 274, 1, 10);
    snprintf(path, sizeof path, "%s/run/real_samples.png", dir);
    expect_png(path, 274, 274, 1, 100);
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    FILE *m = fopen(path, "r");
    int lines = 0;
    char line[1024];
    while (m && fgets(line, sizeof line, m)) { lines++; CHECK(strstr(line, "\"loss_d\":") != NULL); }
    if (m) fclose(m);
    CHECK(lines == 4);

    // dcgan sample reloads the generator: a grid, individual files, and given latent vectors.
    rc = run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --count 10 --grid %s/grid.png", dir, dir);
    CHECK(rc == 0);
    snprintf(path, sizeof path, "%s/grid.png", dir);
    expect_png(path, 8 * 34 + 2, 2 * 34 + 2, 1, 10);
    rc = run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --count 5 --out-dir %s/fid", dir, dir);
    CHECK(rc == 0);
    snprintf(path, sizeof path, "%s/fid/000004.png", dir);
    expect_png(path, 32, 32, 1, 0);   // an untrained G may draw a flat image
    float z[3 * 16];
    for (int i = 0; i < 48; i++) z[i] = (float)((i * 37) % 11 - 5) / 3.0f;
    snprintf(path, sizeof path, "%s/z.npy", dir);
    CHECK(npy_write_matrix(path, z, 3, 16, err, sizeof err) == 0);
    rc = run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --z %s --grid %s/z.png", dir, path, dir);
    CHECK(rc == 0);

    // Mistakes: a clear line and a non-zero exit.
    expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s/nope.safetensors --device cpu", dir), err, "nope.safetensors");
    expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s/run/netD.safetensors --device cpu", dir), err, "discriminator");
    snprintf(path, sizeof path, "%s/z_bad.npy", dir);
    CHECK(npy_write_matrix(path, z, 2, 24, err, sizeof err) == 0);
    expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --z %s", dir, path), err, "nz = 16");
    expect_error(run_dcgan(err, sizeof err, "train --dataset mnist --data %s/none --device cpu --out %s/x", dir, dir), err, "none");
    expect_error(run_dcgan(err, sizeof err, "train --dataset cifar --device cpu --out %s/x", dir), err, "cifar");
    expect_error(run_dcgan(err, sizeof err, "train --size 48 --dataset synthetic --device cpu"), err, "48");
    expect_error(run_dcgan(err, sizeof err, "train --lr abc"), err, "--lr");
    expect_error(run_dcgan(err, sizeof err, "train --loss foo"), err, "foo");
    expect_error(run_dcgan(err, sizeof err, "train --resume %s/run --size 64", dir), err, "--size");
    expect_error(run_dcgan(err, sizeof err, "train --resume %s/nothing-here", dir), err, "nothing-here");
    expect_error(run_dcgan(err, sizeof err, "frobnicate"), err, "frobnicate");
    return test_summary("test_e2e");
}
