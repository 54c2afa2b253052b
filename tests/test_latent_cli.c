// The latent tools and the pictures of a run, through the dcgan binary: interpolation endpoints
// equal `dcgan sample` of the same vectors pixel for pixel, frames, numbered sheets, arithmetic,
// the run's plot (with its FID panel when metrics.jsonl holds evaluation records) and progress
// GIF, and a clear error with a non-zero exit for every bad input.
// Usage: test_latent_cli PATH_TO_DCGAN (or DCGAN_BIN set)
#include <gif_lib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dcgan/io.h"
#include "test_util.h"

#define NZ 16
#define S 32            // image size
#define CELL (S + 2)    // grid cell with its padding

static void expect_error(int status, const char *err, const char *needle) {
    printf("exit %d: %s", status, err);
    CHECK(status != 0);
    CHECK(strncmp(err, "error: ", 7) == 0);
    CHECK(strstr(err, needle) != NULL);
    if (!strstr(err, needle)) fprintf(stderr, "  (expected '%s' in the message)\n", needle);
    CHECK(strchr(err, '\n') == strrchr(err, '\n') || strstr(err, "--help"));   // one line (+ hint)
}

typedef struct { uint8_t *px; int w, h, c; } picture;

static int load(picture *p, const char *path) {
    char err[512];
    if (png_read(path, &p->px, &p->w, &p->h, &p->c, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        p->px = NULL;
        return -1;
    }
    return 0;
}

// 1 when cell (r, c) of grid a equals cell (r2, c2) of grid b, pixel for pixel.
static int same_cell(const picture *a, int r, int c, const picture *b, int r2, int c2) {
    for (int y = 0; y < S; y++) {
        const uint8_t *pa = a->px + ((size_t)(r * CELL + 2 + y) * a->w + c * CELL + 2) * a->c;
        const uint8_t *pb = b->px + ((size_t)(r2 * CELL + 2 + y) * b->w + c2 * CELL + 2) * b->c;
        if (memcmp(pa, pb, (size_t)S * a->c)) return 0;
    }
    return 1;
}

// The GIF has `frames` frames and its first frame equals the first gray grid exactly.
static void check_gif(const char *gif_path, const char *first_png, int frames) {
    int e = 0;
    GifFileType *gif = DGifOpenFileName(gif_path, &e);
    CHECK(gif != NULL);
    if (!gif) { fprintf(stderr, "%s: %s\n", gif_path, GifErrorString(e)); return; }
    CHECK(DGifSlurp(gif) == GIF_OK);
    printf("%s: %d frame(s), %dx%d\n", gif_path, gif->ImageCount, gif->SWidth, gif->SHeight);
    CHECK(gif->ImageCount == frames);
    picture p;
    if (gif->ImageCount > 0 && load(&p, first_png) == 0) {
        const SavedImage *im = &gif->SavedImages[0];
        const ColorMapObject *map = im->ImageDesc.ColorMap ? im->ImageDesc.ColorMap : gif->SColorMap;
        CHECK(map && p.c == 1 && im->ImageDesc.Width == p.w && im->ImageDesc.Height == p.h);
        int same = map != NULL;
        for (long i = 0; same && i < (long)p.w * p.h; i++) same = map->Colors[im->RasterBits[i]].Red == p.px[i];
        CHECK(same);
        free(p.px);
    }
    DGifCloseFile(gif, &e);
}

// A training record of iteration i; `shift` tells apart the records a resumed run replaces.
static void loss_line(FILE *f, int i, double shift) {
    fprintf(f, "{\"iter\": %d, \"loss_d\": %g, \"loss_g\": %g, \"d_x\": %g, \"d_g_z1\": %g, \"d_g_z2\": %g, \"lr\": 0.0002}\n",
            i, 1.5 - 0.01 * i + shift, 2.0 + 0.1 * (i % 7) + shift, 0.7 + 0.02 * (i % 5), 0.3 + 0.02 * (i % 3), 0.25 + 0.01 * (i % 4));
}

// An evaluation record as the trainer writes it every --fid-every iterations; kid < 0: none.
static void fid_line(FILE *f, int i, double fid, double kid) {
    if (kid < 0)
        fprintf(f, "{\"iter\": %d, \"fid\": %g, \"fid_images\": 10000, \"fid_seconds\": 42.1, \"fid_g\": \"ema\"}\n", i, fid);
    else
        fprintf(f, "{\"iter\": %d, \"fid\": %g, \"kid\": %g, \"kid_std\": 0.003, \"fid_images\": 10000, \"fid_seconds\": 42.1,"
                   " \"fid_g\": \"ema\"}\n", i, fid, kid);
}

// Writes RUN/metrics.jsonl under dir: `what` 0: losses of iterations 1..100 only; 1: the same
// with FID records at 20, 40, .., 100; 2: the records of 1 as a resumed run leaves them: a first
// run to iteration 60 (other losses, other FIDs at 40 and 60), then a run resumed from its
// checkpoint at 40 that evaluates that iteration again and goes on to 100.
static void write_fid_metrics(const char *dir, const char *run, int what) {
    static const double fid[] = {0, 250, 120, 80, 65, 58}, kid[] = {0, -1, 0.09, 0.05, 0.04, 0.035};
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, run);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/metrics.jsonl", dir, run);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    int resumed = what == 2;
    for (int i = 1; i <= (resumed ? 60 : 100); i++) {
        loss_line(f, i, resumed && i > 40 ? 3.0 : 0.0);
        if (what && i % 20 == 0) fid_line(f, i, resumed && i > 20 ? 900 : fid[i / 20], kid[i / 20]);
    }
    if (resumed) {
        fid_line(f, 40, fid[2], kid[2]);
        for (int i = 41; i <= 100; i++) {
            loss_line(f, i, 0.0);
            if (i % 20 == 0) fid_line(f, i, fid[i / 20], kid[i / 20]);
        }
    }
    fclose(f);
}

// 1 when rows [y0, y1) of the two pictures differ somewhere.
static int rows_differ(const picture *a, const picture *b, int y0, int y1) {
    size_t row = (size_t)a->w * a->c;
    return memcmp(a->px + y0 * row, b->px + y0 * row, (size_t)(y1 - y0) * row) != 0;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

int main(int argc, char **argv) {
    test_dcgan_bin(argc, argv, "test_latent_cli");
    const char *dir = make_temp_dir("latent");
    char err[4096], path[1024], G[1024];
    int rc = run_dcgan(err, sizeof err, "train --dataset synthetic --size 32 --ngf 8 --ndf 8 --nz %d --batch-size 8 --iters 3"
                   " --sample-every 1 --device cpu --out %s/run", NZ, dir);
    CHECK(rc == 0);
    if (rc) { fprintf(stderr, "%s", err); return test_summary("test_latent_cli"); }
    snprintf(G, sizeof G, "%s/run/netG.safetensors", dir);

    // The trainer drew the plot at its checkpoint and the animation at the end.
    picture plot;
    snprintf(path, sizeof path, "%s/run/plot.png", dir);
    CHECK(load(&plot, path) == 0 && plot.w == 1000 && plot.h == 700);
    free(plot.px);
    snprintf(path, sizeof path, "%s/run/progress.gif", dir);
    FILE *f = fopen(path, "rb");
    char magic[6] = {0}, first[1024];
    CHECK(f && fread(magic, 1, 6, f) == 6 && memcmp(magic, "GIF89a", 6) == 0);
    if (f) fclose(f);
    snprintf(first, sizeof first, "%s/run/samples_000001.png", dir);
    check_gif(path, first, 3);

    // Points with a large spread, so that even a barely trained G draws them differently.
    enum { R = 2, K = 2, STEPS = 5 };
    float pts[R * K * NZ];
    fill_random(pts, R * K * NZ, 11, 3.0f);
    char pts_path[1024];
    snprintf(pts_path, sizeof pts_path, "%s/pts.npy", dir);
    CHECK(npy_write_matrix(pts_path, pts, R * K, NZ, err, sizeof err) == 0);

    // Interpolation grid: row r runs from point 2r to point 2r+1; sample of the same vectors.
    rc = run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --z %s --steps %d --grid %s/interp.png", G, pts_path, STEPS, dir);
    CHECK(rc == 0);
    rc = run_dcgan(err, sizeof err, "sample --ckpt %s --device cpu --z %s --grid %s/ends.png", G, pts_path, dir);
    CHECK(rc == 0);
    picture ig = {0}, sg = {0};
    snprintf(path, sizeof path, "%s/interp.png", dir);
    CHECK(load(&ig, path) == 0);
    snprintf(path, sizeof path, "%s/ends.png", dir);
    CHECK(load(&sg, path) == 0);
    if (ig.px && sg.px) {
        CHECK(ig.w == STEPS * CELL + 2 && ig.h == R * CELL + 2 && sg.w == R * K * CELL + 2);
        for (int r = 0; r < R; r++) {
            CHECK(same_cell(&ig, r, 0, &sg, 0, r * K));               // first image of the walk
            CHECK(same_cell(&ig, r, STEPS - 1, &sg, 0, r * K + 1));   // last image of the walk
        }
        // The comparison means something: the endpoints differ from each other and from the middle.
        CHECK(!same_cell(&sg, 0, 0, &sg, 0, 1));
        CHECK(!same_cell(&ig, 0, 0, &ig, 0, STEPS / 2));
    }
    free(ig.px);
    free(sg.px);

    // From a seed, the walks' points are the vectors `dcgan sample --seed` draws.
    rc = run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --seed 7 --rows 1 --chain 3 --steps 5 --mode lerp"
               " --grid %s/chain.png", G, dir);
    CHECK(rc == 0);
    rc = run_dcgan(err, sizeof err, "sample --ckpt %s --device cpu --seed 7 --count 3 --grid %s/chain_pts.png", G, dir);
    CHECK(rc == 0);
    snprintf(path, sizeof path, "%s/chain.png", dir);
    CHECK(load(&ig, path) == 0);
    snprintf(path, sizeof path, "%s/chain_pts.png", dir);
    CHECK(load(&sg, path) == 0);
    if (ig.px && sg.px)
        for (int k = 0; k < 3; k++) CHECK(same_cell(&ig, 0, 2 * k, &sg, 0, k));
    free(ig.px);
    free(sg.px);

    // Frames: one numbered PNG per step, each showing every walk.
    rc = run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --rows 3 --steps 6 --frames %s/frames", G, dir);
    CHECK(rc == 0);
    int frames = 0;
    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof path, "%s/frames/%06d.png", dir, i);
        frames += file_exists(path);
    }
    CHECK(frames == 6);
    picture fr;
    snprintf(path, sizeof path, "%s/frames/000005.png", dir);
    CHECK(load(&fr, path) == 0 && fr.w == 3 * CELL + 2 && fr.h == CELL + 2);
    free(fr.px);

    // A numbered sheet and its vectors.
    rc = run_dcgan(err, sizeof err, "sample --ckpt %s --device cpu --count 20 --sheet %s/sheet.png", G, dir);
    CHECK(rc == 0);
    snprintf(path, sizeof path, "%s/sheet.npy", dir);
    float *z = NULL;
    int rows = 0, cols = 0;
    CHECK(npy_read_matrix(path, &z, &rows, &cols, err, sizeof err) == 0 && rows == 20 && cols == NZ);
    free(z);
    picture sheet;
    snprintf(path, sizeof path, "%s/sheet.png", dir);
    // 32 px cells are drawn twice as large: (8 * 34 + 2) * 2 by (3 * 34 + 2) * 2.
    CHECK(load(&sheet, path) == 0 && sheet.w == 548 && sheet.h == 208 && sheet.c == 1);
    if (sheet.px) {   // the index of cell 0 is printed (white text) in its corner
        int white = 0;
        for (int y = 4; y < 20; y++)
            for (int x = 4; x < 20; x++) white += sheet.px[(size_t)y * sheet.w + x] > 240;
        CHECK(white > 5);
    }
    free(sheet.px);

    // Arithmetic on the sheet: 3 groups + result row, 9 columns, cells drawn twice as large.
    char sheet_npy[1024];
    snprintf(sheet_npy, sizeof sheet_npy, "%s/sheet.npy", dir);
    rc = run_dcgan(err, sizeof err, "arithmetic --ckpt %s --device cpu --z %s --plus 3,17,4 --minus 5,8,9 --plus 11,19,0"
               " --grid %s/arith.png --z-out %s/arith.npy", G, sheet_npy, dir, dir);
    CHECK(rc == 0);
    picture ar;
    snprintf(path, sizeof path, "%s/arith.png", dir);
    CHECK(load(&ar, path) == 0 && ar.w == (9 * CELL + 2) * 2 && ar.h == (4 * CELL + 2) * 2);
    free(ar.px);
    snprintf(path, sizeof path, "%s/arith.npy", dir);
    CHECK(npy_read_matrix(path, &z, &rows, &cols, err, sizeof err) == 0 && rows == 9 && cols == NZ);
    free(z);

    // dcgan plot and the animation on demand.
    rc = run_dcgan(err, sizeof err, "plot %s/run --out %s/plot.png --smooth 0.6 --size 800x600 --gif-out %s/p.gif", dir, dir, dir);
    CHECK(rc == 0);
    snprintf(path, sizeof path, "%s/plot.png", dir);
    CHECK(load(&plot, path) == 0 && plot.w == 800 && plot.h == 600);
    free(plot.px);
    snprintf(path, sizeof path, "%s/p.gif", dir);
    CHECK(file_exists(path));

    // FID records interleaved with the losses add a third panel at the bottom. A resumed run's
    // records replace the earlier ones at the same and later iterations: its plot is the one of
    // the same run written without interruption, pixel for pixel (the stale FIDs of 900 would
    // change the FID axis).
    write_fid_metrics(dir, "nofid", 0);
    write_fid_metrics(dir, "fid", 1);
    write_fid_metrics(dir, "resumed", 2);
    picture pn = {0}, pf = {0}, pr = {0};
    static const char *const runs[] = {"nofid", "fid", "resumed"};
    picture *pics[] = {&pn, &pf, &pr};
    for (int k = 0; k < 3; k++) {
        rc = run_dcgan(err, sizeof err, "plot %s/%s", dir, runs[k]);
        CHECK(rc == 0);
        if (rc) fprintf(stderr, "%s", err);
        snprintf(path, sizeof path, "%s/%s/plot.png", dir, runs[k]);
        CHECK(load(pics[k], path) == 0 && pics[k]->w == 1000 && pics[k]->h == 700);
    }
    if (pn.px && pf.px && pr.px && pn.c == pf.c && pf.c == pr.c) {
        CHECK(rows_differ(&pn, &pf, 2 * 700 / 3, 700));   // the FID panel is there
        CHECK(!rows_differ(&pf, &pr, 0, 700));
    }
    free(pn.px);
    free(pf.px);
    free(pr.px);

    // Bad input: one clear line and a non-zero exit.
    float wrong[3 * (NZ + 1)];
    fill_random(wrong, 3 * (NZ + 1), 3, 1.0f);
    char wrong_npy[1024];
    snprintf(wrong_npy, sizeof wrong_npy, "%s/wrong.npy", dir);
    CHECK(npy_write_matrix(wrong_npy, wrong, 3, NZ + 1, err, sizeof err) == 0);
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s/missing.safetensors --device cpu", dir), err, "missing.safetensors");
    expect_error(run_dcgan(err, sizeof err, "arithmetic --ckpt %s/missing.safetensors --device cpu --z %s --plus 1", dir, sheet_npy), err, "missing.safetensors");
    expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s/missing.safetensors --device cpu --sheet %s/x.png", dir, dir), err, "missing.safetensors");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s/run/netD.safetensors --device cpu", dir), err, "discriminator");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --z %s --chain 3", G, wrong_npy), err, "nz = 16");
    expect_error(run_dcgan(err, sizeof err, "arithmetic --ckpt %s --device cpu --z %s --plus 1", G, wrong_npy), err, "nz = 16");
    expect_error(run_dcgan(err, sizeof err, "arithmetic --ckpt %s --device cpu --z %s --plus 1,20", G, sheet_npy), err, "out of range");
    expect_error(run_dcgan(err, sizeof err, "arithmetic --ckpt %s --device cpu --z %s --plus 1 --minus 2,,3", G, sheet_npy), err, "empty entry");
    expect_error(run_dcgan(err, sizeof err, "arithmetic --ckpt %s --device cpu --z %s --minus x", G, sheet_npy), err, "not an index");
    expect_error(run_dcgan(err, sizeof err, "arithmetic --ckpt %s --device cpu --z %s", G, sheet_npy), err, "--plus");
    expect_error(run_dcgan(err, sizeof err, "arithmetic --ckpt %s --device cpu --z %s/none.npy --plus 1", G, dir), err, "none.npy");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --steps 1", G), err, "--steps");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --steps abc", G), err, "--steps");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --rows 0", G), err, "--rows");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --chain 1", G), err, "--chain");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --chain 6 --steps 4", G), err, "--chain");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --mode cubic", G), err, "cubic");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --z %s --chain 3", G, pts_path), err, "--chain 3");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --z %s --rows 3", G, pts_path), err, "--rows 3");
    expect_error(run_dcgan(err, sizeof err, "interpolate --ckpt %s --device cpu --grid a.png --frames b", G), err, "--frames");
    expect_error(run_dcgan(err, sizeof err, "sample --ckpt %s --device cpu --sheet a.png --grid b.png", G), err, "--sheet");
    expect_error(run_dcgan(err, sizeof err, "plot %s/nothing-here", dir), err, "nothing-here");
    snprintf(path, sizeof path, "%s/bad", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/bad/metrics.jsonl", dir);
    f = fopen(path, "w");
    if (f) { fputs("{\"iter\":1,\"loss_d\":1,\"loss_g\":1,\"d_x\":0.5,\"d_g_z1\":0.5,\"d_g_z2\":0.5}\n{broken\n", f); fclose(f); }
    expect_error(run_dcgan(err, sizeof err, "plot %s/bad", dir), err, "line 2");
    f = fopen(path, "w");
    if (f) { fputs("{\"iter\":1,\"loss_g\":1}\n", f); fclose(f); }
    expect_error(run_dcgan(err, sizeof err, "plot %s/bad", dir), err, "loss_d");
    f = fopen(path, "w");   // neither the losses nor a FID
    if (f) { fputs("{\"iter\":1,\"loss_d\":1,\"loss_g\":1,\"d_x\":0.5,\"d_g_z1\":0.5,\"d_g_z2\":0.5}\n{\"iter\":2,\"kid\":0.05}\n", f); fclose(f); }
    expect_error(run_dcgan(err, sizeof err, "plot %s/bad", dir), err, "line 2: no number \"loss_d\"");
    f = fopen(path, "w");
    if (f) { fputs("{\"iter\":1,\"loss_d\":1,\"loss_g\":1,\"d_x\":0.5,\"d_g_z1\":0.5,\"d_g_z2\":0.5}\n{\"iter\":2,\"fid\":null}\n", f); fclose(f); }
    expect_error(run_dcgan(err, sizeof err, "plot %s/bad", dir), err, "line 2: no number \"fid\"");
    f = fopen(path, "w");
    if (f) { fputs("{\"iter\":500,\"fid\":123.4,\"fid_g\":\"g\"}\n", f); fclose(f); }
    expect_error(run_dcgan(err, sizeof err, "plot %s/bad", dir), err, "no records");
    f = fopen(path, "w");
    if (f) fclose(f);
    expect_error(run_dcgan(err, sizeof err, "plot %s/bad", dir), err, "no records");
    expect_error(run_dcgan(err, sizeof err, "plot %s/bad --gif-only", dir), err, "samples_");
    expect_error(run_dcgan(err, sizeof err, "plot %s/run --smooth 1.5", dir), err, "--smooth");
    expect_error(run_dcgan(err, sizeof err, "plot %s/run --size 10x10", dir), err, "--size");
    return test_summary("test_latent_cli");
}
