// The class-conditional DCGAN end to end through the dcgan binary: a short CPU training on
// Fashion-MNIST learns class-dependent images, the conditioning survives the checkpoint (sample
// reproduces the run's per-class grid; a resumed run equals an uninterrupted one), plain
// state_dicts load as conditional only when their metadata says so, and misuse gets a clear error.
// Runs with DCGAN_BIN set; exits 77 when the Fashion-MNIST files are not installed.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dcgan/io.h"
#include "dcgan/rng.h"
#include "test_util.h"

#define FASHION "/usr/share/datasets/fashion-mnist"
#define K 10            // Fashion-MNIST classes
#define S 32            // image size
#define NZ 16
#define PER_CLASS 256   // samples per class for the class-mean measure
#define CELL (S + 2)    // grid cell: image + 2 px padding

static void expect_ok(int status, const char *err) {
    CHECK(status == 0);
    if (status) fprintf(stderr, "%s", err);
}

static void expect_error(int status, const char *err, const char *needle) {
    printf("exit %d: %s", status, err);
    CHECK(status != 0);
    CHECK(strstr(err, needle) != NULL);
    CHECK(strchr(err, '\n') == strrchr(err, '\n') || strstr(err, "--help"));   // one line (+ hint)
}

// A grid PNG of gray S x S cells (8 columns) as float pixels [n, S, S].
static float *read_cells(const char *path, int n) {
    uint8_t *px;
    int w, h, c;
    char err[512];
    if (png_read(path, &px, &w, &h, &c, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return NULL; }
    int cols = n < 8 ? n : 8, rows = (n + 7) / 8;
    if (c != 1 || w != (n == 1 ? S : cols * CELL + 2) || h != (n == 1 ? S : rows * CELL + 2)) {
        fprintf(stderr, "FAIL %s: %dx%dx%d is not a grid of %d images\n", path, w, h, c, n);
        test_failures++;
        free(px);
        return NULL;
    }
    float *cells = malloc((size_t)n * S * S * sizeof(float));
    for (int i = 0; i < n; i++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int gx = n == 1 ? x : 2 + (i % 8) * CELL + x, gy = n == 1 ? y : 2 + (i / 8) * CELL + y;
                cells[((size_t)i * S + y) * S + x] = px[(size_t)gy * w + gx];
            }
    free(px);
    return cells;
}

static double rms(const float *a, const float *b) {
    double s = 0;
    for (int i = 0; i < S * S; i++) s += (a[i] - b[i]) * (double)(a[i] - b[i]);
    return sqrt(s / (S * S));
}

static void mean_of(float *out, const float *cells, int first, int n) {
    for (int i = 0; i < S * S; i++) {
        double s = 0;
        for (int j = first; j < first + n; j++) s += cells[(size_t)j * S * S + i];
        out[i] = (float)(s / n);
    }
}

// Per-class mean images: the mean of PER_CLASS / 2 samples of class a differs from that of class b
// (between) far more than from the mean of the other PER_CLASS / 2 samples of class a (within,
// sampling noise only). Each class has its own latent vectors, so a G that ignored the class would
// give between ~ within.
static void classes_differ(const char *dir) {
    char err[4096], path[1024];
    static float means[K][2][S * S];
    for (int k = 0; k < K; k++) {
        snprintf(path, sizeof path, "%s/class%d.png", dir, k);
        expect_ok(run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --class %d --count %d"
                        " --seed %d --grid %s", dir, k, PER_CLASS, 100 + k, path), err);
        float *cells = read_cells(path, PER_CLASS);
        if (!cells) return;
        mean_of(means[k][0], cells, 0, PER_CLASS / 2);
        mean_of(means[k][1], cells, PER_CLASS / 2, PER_CLASS / 2);
        free(cells);
    }
    double within = 0, between = 0;
    int pairs = 0;
    for (int a = 0; a < K; a++) {
        within += rms(means[a][0], means[a][1]) / K;
        for (int b = a + 1; b < K; b++, pairs++) between += rms(means[a][0], means[b][0]);
    }
    between /= pairs;
    printf("class means (gray levels, rms): between classes %.2f, within a class %.2f, ratio %.2f\n",
           between, within, between / within);
    CHECK(between > 2.0 * within);
}

// With fewer than 8 vectors in --z, a conditional grid has one column per vector (and reads none
// beyond them): a row per class of 3 images.
static void few_vectors_grid(const char *dir) {
    char err[4096], path[1024], zpath[1024];
    float z[3 * NZ];
    for (int i = 0; i < 3 * NZ; i++) z[i] = philox_normal_at(2, RNG_STREAM_FIXED_NOISE, (uint64_t)i);
    snprintf(zpath, sizeof zpath, "%s/z3.npy", dir);
    CHECK(npy_write_matrix(zpath, z, 3, NZ, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/three.png", dir);
    expect_ok(run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --z %s --grid %s", dir, zpath,
                        path), err);
    uint8_t *px = NULL;
    int w = 0, h = 0, c = 0;
    CHECK(png_read(path, &px, &w, &h, &c, err, sizeof err) == 0);
    printf("--z with 3 vectors: a %dx%d grid (expected %dx%d)\n", w, h, 3 * (S + 2) + 2, K * (S + 2) + 2);
    CHECK(w == 3 * (S + 2) + 2 && h == K * (S + 2) + 2);
    free(px);
}

// The run's last fixed-noise grid (one row per class, the same 8 latent vectors in every row) is
// reproduced by `dcgan sample` from the saved G given those vectors, and --class K gives row K.
static void checkpoint_keeps_conditioning(const char *dir, long iters) {
    char err[4096], path[1024], zpath[1024];
    float z[8 * NZ];
    for (int i = 0; i < 8 * NZ; i++) z[i] = philox_normal_at(1, RNG_STREAM_FIXED_NOISE, (uint64_t)i);   // seed 1
    snprintf(zpath, sizeof zpath, "%s/z8.npy", dir);
    CHECK(npy_write_matrix(zpath, z, 8, NZ, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/rows.png", dir);
    expect_ok(run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --z %s --batch-size 80 --grid %s",
                    dir, zpath, path), err);
    float *rows = read_cells(path, 8 * K);
    snprintf(path, sizeof path, "%s/run/samples_%06ld.png", dir, iters);
    float *run = read_cells(path, 8 * K);
    snprintf(path, sizeof path, "%s/trouser.png", dir);
    expect_ok(run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --z %s --class trouser --grid %s",
                    dir, zpath, path), err);
    float *row1 = read_cells(path, 8);
    if (rows && run && row1) {
        double worst = 0, worst_row = 0;
        for (size_t i = 0; i < (size_t)8 * K * S * S; i++) worst = fmax(worst, fabs(rows[i] - run[i]));
        for (size_t i = 0; i < (size_t)8 * S * S; i++) worst_row = fmax(worst_row, fabs(row1[i] - rows[8 * S * S + i]));
        printf("sample from the checkpoint vs the run's grid: max pixel difference %.0f; --class trouser vs row 1: %.0f\n",
               worst, worst_row);
        // Same weights, same inputs: at most one gray level from float rounding in other batch shapes.
        CHECK(worst <= 1 && worst_row <= 1);
        // ...and the rows are not one picture repeated: the class changes the image.
        CHECK(rms(rows, rows + 1 * 8 * S * S) > 5);
    }
    // interpolate and arithmetic take the class too: a walk through the 8 vectors in 8 steps
    // lands on each of them, so with --class trouser it redraws row 1 exactly.
    snprintf(path, sizeof path, "%s/walk.png", dir);
    expect_ok(run_dcgan(err, sizeof err, "interpolate --ckpt %s/run/netG.safetensors --device cpu --z %s --rows 1"
                    " --chain 8 --steps 8 --class trouser --grid %s", dir, zpath, path), err);
    float *walk = read_cells(path, 8);
    if (walk && row1) {
        double worst = 0;
        for (size_t i = 0; i < (size_t)8 * S * S; i++) worst = fmax(worst, fabs(walk[i] - row1[i]));
        printf("interpolate --class trouser through the 8 vectors vs sample --class trouser: max difference %.0f\n", worst);
        CHECK(worst == 0);
    }
    snprintf(path, sizeof path, "%s/arith.png", dir);
    expect_ok(run_dcgan(err, sizeof err, "arithmetic --ckpt %s/run/netG.safetensors --device cpu --z %s --plus 0,1"
                    " --minus 2 --class 3 --grid %s", dir, zpath, path), err);
    expect_error(run_dcgan(err, sizeof err, "arithmetic --ckpt %s/run/netG.safetensors --device cpu --z %s --plus 0"
                       " --class 10 --grid %s", dir, zpath, path), err, "out of range");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s/run/netG.safetensors --device cpu --class Hat"
                       " --grid %s", dir, path), err, "Hat");
    free(walk);
    free(rows);
    free(run);
    free(row1);
}

static int read_file_st(const char *path, st_file *f) {
    char err[512];
    if (st_read(path, f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return -1; }
    return 0;
}

// A conditional run resumed from its checkpoint ends bit-identical to an uninterrupted one (the
// fake-class stream position is saved), and stays conditional with its class names.
static void resume_keeps_conditioning(const char *dir) {
    char err[4096], a[1024], b[1024];
    const char *common = "--dataset synthetic --device cpu --batch-size 16 --ngf 8 --ndf 8 --nz 16 --sample-every 0 --ckpt-every 0";
    expect_ok(run_dcgan(err, sizeof err, "train %s --conditional --iters 6 --out %s/full", common, dir), err);
    expect_ok(run_dcgan(err, sizeof err, "train %s --conditional --iters 3 --out %s/part", common, dir), err);
    expect_ok(run_dcgan(err, sizeof err, "train --resume %s/part --iters 6", dir), err);
    const char *files[] = {"netG.safetensors", "netD.safetensors", "train_state.safetensors"};
    for (int i = 0; i < 3; i++) {
        st_file fa, fb;
        snprintf(a, sizeof a, "%s/full/%s", dir, files[i]);
        snprintf(b, sizeof b, "%s/part/%s", dir, files[i]);
        if (read_file_st(a, &fa)) continue;
        if (read_file_st(b, &fb)) { st_free(&fa); continue; }
        int same = fa.ntensors == fb.ntensors;
        for (int t = 0; same && t < fa.ntensors; t++) {
            const st_tensor *tb = st_find(&fb, fa.tensors[t].name);
            same = tb && tb->nbytes == fa.tensors[t].nbytes && !memcmp(tb->data, fa.tensors[t].data, tb->nbytes);
        }
        const char *nclasses = st_meta_get(&fb, "nclasses"), *name1 = st_meta_get(&fb, "class_name.1");
        printf("conditional resume vs uninterrupted, %s: %s; nclasses %s, class 1 '%s'\n", files[i],
               same ? "bit-identical" : "DIFFERENT", nclasses ? nclasses : "-", name1 ? name1 : "-");
        CHECK(same);
        CHECK(nclasses && !strcmp(nclasses, "2") && name1 && !strcmp(name1, "square"));
        if (i == 0) CHECK(st_meta_get(&fb, "conditional") && !strcmp(st_meta_get(&fb, "conditional"), "1"));
        st_free(&fa);
        st_free(&fb);
    }
}

// The saved G rewritten as a bare state_dict: read as conditional only when the metadata says so.
static void plain_state_dicts(const char *dir) {
    char err[4096], src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/full/netG.safetensors", dir);
    st_file f;
    if (read_file_st(src, &f)) return;
    st_meta cond[2] = {{"conditional", "1"}, {"nclasses", "2"}};
    snprintf(dst, sizeof dst, "%s/plain_cond.safetensors", dir);
    CHECK(st_write(dst, f.tensors, f.ntensors, cond, 2, err, sizeof err) == 0);
    expect_ok(run_dcgan(err, sizeof err, "sample --ckpt %s --device cpu --class 1 --count 4 --grid %s/p.png", dst, dir), err);
    snprintf(dst, sizeof dst, "%s/plain.safetensors", dir);
    CHECK(st_write(dst, f.tensors, f.ntensors, NULL, 0, err, sizeof err) == 0);
    // Without metadata the 18 input channels are taken for nz = 18 of an unconditional G.
    expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s --device cpu --class 1", dst), err, "unconditional");
    st_free(&f);
}

static void user_errors(const char *dir, int have_fashion) {
    char err[4096], path[1024];
    if (have_fashion) {
        expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --class 10", dir), err,
                     "out of range");
        expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s/run/netG.safetensors --device cpu --class Hat", dir), err,
                     "Hat");
    }
    expect_ok(run_dcgan(err, sizeof err, "train --dataset synthetic --device cpu --iters 1 --batch-size 8 --ngf 4 --ndf 4"
                    " --nz 8 --sample-every 0 --out %s/uncond", dir), err);
    expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s/uncond/netG.safetensors --device cpu --class 0", dir), err,
                 "unconditional");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s/uncond/netG.safetensors --device cpu --class 0"
                       " --grid %s/w.png", dir, dir), err, "unconditional");
    expect_error(run_dcgan(err, sizeof err, "train --resume %s/part --conditional", dir), err, "--conditional");
    // An IDX image file with no label file beside it: a dataset without labels.
    snprintf(path, sizeof path, "%s/nolabels-idx3-ubyte", dir);
    FILE *f = fopen(path, "wb");
    uint8_t header[16] = {0, 0, 8, 3, 0, 0, 0, 16, 0, 0, 0, 28, 0, 0, 0, 28}, img[28 * 28] = {0};
    fwrite(header, 1, sizeof header, f);
    for (int i = 0; i < 16; i++) fwrite(img, 1, sizeof img, f);
    fclose(f);
    expect_error(run_dcgan(err, sizeof err, "train --dataset mnist --data %s --conditional --device cpu --batch-size 8"
                       " --out %s/x", path, dir), err, "labels");
}

int main(int argc, char **argv) {
    test_dcgan_bin(argc, argv, "test_conditional");
    // Threads that wait passively: on a loaded machine OpenMP's default spinning made the training
    // below ten times slower (73 s instead of 7 s wall with two threads on two busy cores).
    setenv("OMP_WAIT_POLICY", "passive", 0);
    const char *dir = make_temp_dir("cond");
    char err[4096];
    struct stat st;
    int have_fashion = stat(FASHION, &st) == 0;
    resume_keeps_conditioning(dir);
    plain_state_dicts(dir);
    if (have_fashion) {
        // 120 iterations of batch 32 at 32 px, widths 8: about 3 s of CPU (7 s wall on two busy cores).
        // nz 16 rather than 100 keeps the one-hot class a large share of G's input, so the
        // conditioning shows within so few steps (with nz 100 it takes several hundred).
        long iters = 120;
        expect_ok(run_dcgan(err, sizeof err, "train --dataset fashion-mnist --data " FASHION " --conditional --device cpu"
                        " --size %d --nz %d --ngf 8 --ndf 8 --batch-size 32 --iters %ld --sample-every %ld"
                        " --ckpt-every 0 --out %s/run", S, NZ, iters, iters, dir), err);
        classes_differ(dir);
        checkpoint_keeps_conditioning(dir, iters);
        few_vectors_grid(dir);
    } else {
        printf("skipped the Fashion-MNIST part: %s not found\n", FASHION);
    }
    user_errors(dir, have_fashion);
    int rc = test_summary("test_conditional");
    return rc == 0 && !have_fashion ? 77 : rc;
}
