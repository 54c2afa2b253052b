// dcgan sample: images from a trained generator, as a grid, a numbered sheet, or individual PNGs.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "dcgan/error.h"
#include "dcgan/clock.h"
#include "dcgan/gen.h"
#include "dcgan/io.h"
#include "dcgan/viz.h"

static void help(void) {
    printf(
        "usage: dcgan sample --ckpt netG.safetensors [options]\n"
        "Writes images from a trained generator (ours, or a PyTorch DCGAN state_dict in safetensors).\n"
        "\n"
        "  --ckpt FILE|DIR      generator checkpoint (required); a run directory means its\n"
        "                       netG_ema.safetensors when it has one, else its netG.safetensors\n"
        "  --no-ema             with a run directory: netG.safetensors, not the moving average\n"
        "  --grid FILE          write one grid PNG, 8 columns            [samples.png unless --out-dir/--sheet]\n"
        "  --sheet FILE.png     a grid with each cell's index printed in its corner, and its latent\n"
        "                       vectors in FILE.npy (pick exemplars for `dcgan arithmetic` from it)\n"
        "  --z-out FILE.npy     also save the latent vectors used, float32 [N, nz]\n"
        "  --out-dir DIR        write --count individual PNGs 000000.png ... (for FID tools)\n"
        "  --count N            number of images                         [64, or the rows of --z]\n"
        "  --seed S             latent vectors z ~ N(0, 1) from seed S   [1]\n"
        "  --z FILE.npy         latent vectors, float32 [N, nz] (instead of --seed)\n"
        "  --bn MODE            running | batch: batchnorm statistics     [running]\n"
        "                       (running: each image depends on its own z only)\n"
        "  --batch-size N       images generated per forward pass        [64]\n"
        "  --writers N          PNG-writing threads for --out-dir        [one per CPU]\n"
        "  --device D           cpu | cuda | auto                        [auto]\n"
        "  --class K            conditional G: every image of class K (index or name)\n"
        "\n"
        "A conditional generator without --class draws one row per class, each row the same 8 latent\n"
        "vectors (the first 8 of --seed or --z), so rows differ by class and columns by z; with\n"
        "--out-dir image i gets class i mod the class count and its own z.\n");
}

typedef struct {
    generator_options gen;
    const char *sheet, *z_out, *out_dir;
    long count;
    int writers;
} sample_options;

// FILE.png -> FILE.npy (or FILE + ".npy" when it does not end in .png).
static void sheet_npy_path(char *out, size_t n, const char *sheet) {
    size_t len = strlen(sheet);
    if (len > 4 && !strcmp(sheet + len - 4, ".png")) snprintf(out, n, "%.*s.npy", (int)(len - 4), sheet);
    else snprintf(out, n, "%s.npy", sheet);
}

// Individual files: generation of chunk k + 1 overlaps the pool writing chunk k.
static int write_files(generator *g, const sample_options *o, const float *z_all, const int32_t *labels,
                       long count, char *err, size_t errlen) {
    if (mkdir(o->out_dir, 0777) && errno != EEXIST)
        return set_error(err, errlen, "cannot create %s: %s", o->out_dir, strerror(errno));
    image_writer *w = image_writer_start(o->out_dir, o->writers, 3, g->batch, g->nc, g->size, err, errlen);
    if (!w) return -1;
    float *zchunk = z_all ? NULL : malloc((size_t)g->batch * g->nz * sizeof(float));
    int rc = (!z_all && !zchunk) ? set_error(err, errlen, "out of memory") : 0;
    double t0 = monotonic_seconds();
    for (long first = 0; !rc && first < count; first += g->batch) {
        int n = (int)(count - first < g->batch ? count - first : g->batch);
        const float *z = z_all ? z_all + (size_t)first * g->nz : zchunk;
        if (!z_all) generator_seed_noise(zchunk, first, n, g->nz, o->gen.seed);
        float *buf = image_writer_acquire(w);
        if (!buf) break;   // a write failed; finish reports it
        if (generator_run(g, buf, z, labels ? labels + first : NULL, n, err, errlen)) rc = -1;
        image_writer_submit(w, buf, first, rc ? 0 : n);
    }
    char werr[1024];
    if (image_writer_finish(w, werr, sizeof werr) && !rc) {
        rc = set_error(err, errlen, "%s", werr);
    }
    double dt = monotonic_seconds() - t0;
    if (!rc) printf("wrote %ld images to %s in %.2f s (%.0f images/s)\n", count, o->out_dir, dt, count / (dt > 0 ? dt : 1e-9));
    free(zchunk);
    return rc;
}

static int fail(const char *err) {
    fprintf(stderr, "error: %s\n", err);
    return -1;
}

// The latent vectors of the images in *z (left NULL for --out-dir without --z or --z-out: drawn
// chunk by chunk), their count and the grid's columns. A conditional G's class rows repeat the
// first `cols` vectors in every row. 0, or -1 after printing the error.
static int latents(const generator *g, const sample_options *o, int class_rows, float **z, long *count, int *cols) {
    char err[1024];
    if (o->gen.z_path) {
        int rows, dims;
        if (npy_read_matrix(o->gen.z_path, z, &rows, &dims, err, sizeof err)) return fail(err);
        if (check_latents(o->gen.z_path, dims, g->nz)) return -1;
        if (o->count > rows) {
            fprintf(stderr, "error: --count %ld exceeds the %d vectors in %s\n", o->count, rows, o->gen.z_path);
            return -1;
        }
        *count = o->count > 0 ? o->count : rows;
        if (class_rows) {   // every class row shows the first (up to 8) vectors of --z
            if (rows < *cols) *cols = rows;
            if (o->count <= 0) *count = (long)*cols * g->nclasses;
        }
    } else if (!o->out_dir || o->z_out) {
        // Grids and sheets keep every vector (and the image) in memory anyway.
        if (!(*z = malloc((size_t)*count * g->nz * sizeof(float)))) return fail("out of memory");
        generator_seed_noise(*z, 0, (int)*count, g->nz, o->gen.seed);
    }
    if (!class_rows) return 0;
    float *rows_z = malloc((size_t)*count * g->nz * sizeof(float));
    if (!rows_z) return fail("out of memory");
    for (long i = 0; i < *count; i++)
        memcpy(rows_z + i * g->nz, *z + (i % *cols) * g->nz, (size_t)g->nz * sizeof(float));
    free(*z);
    *z = rows_z;
    return 0;
}

// One picture: a sheet (--sheet) or a grid.
static int write_picture(generator *g, const sample_options *o, const float *z, const int32_t *labels, long count,
                         int cols) {
    char err[1024];
    size_t per = generator_image_numel(g);
    float *images = malloc((size_t)count * per * sizeof(float));
    if (!images) return fail("out of memory");
    const char *path = o->sheet ? o->sheet : o->gen.grid ? o->gen.grid : "samples.png";
    int rc = generator_run(g, images, z, labels, (int)count, err, sizeof err);
    if (!rc)
        rc = o->sheet ? save_sheet_png(path, images, (int)count, g->nc, g->size, g->size, cols, 0, err, sizeof err)
                      : save_grid_png(path, images, (int)count, g->nc, g->size, g->size, cols, err, sizeof err);
    free(images);
    if (rc) return fail(err);
    printf("wrote %s (%ld images)\n", path, count);
    return 0;
}

// --z-out, or a sheet's vectors beside it.
static int save_latents(const generator *g, const sample_options *o, const float *z, long count) {
    char err[1024], npy[4200];
    const char *z_out = o->z_out;
    if (o->sheet && !z_out) {
        sheet_npy_path(npy, sizeof npy, o->sheet);
        z_out = npy;
    }
    if (!z_out) return 0;
    if (npy_write_matrix(z_out, z, (int)count, g->nz, err, sizeof err)) return fail(err);
    printf("wrote %s (latent vectors [%ld, %d])\n", z_out, count, g->nz);
    return 0;
}

static int run(const sample_options *o) {
    char err[1024];
    generator g;
    if (open_generator(&g, &o->gen)) return 1;
    float *z = NULL;
    int32_t *labels = NULL;
    long count = o->count > 0 ? o->count : 64;
    int cols = 8;
    // A conditional G's default picture: one row of `cols` per class, every row the same vectors.
    const int class_rows = g.nclasses > 0 && !o->gen.class_arg && !o->out_dir;
    if (class_rows && o->count <= 0) count = (long)cols * g.nclasses;
    int rc = latents(&g, o, class_rows, &z, &count, &cols);
    if (!rc && generator_labels(&g, o->gen.class_arg, count, class_rows ? cols : 1, &labels, err, sizeof err))
        rc = fail(err);
    if (!rc && o->out_dir && write_files(&g, o, z, labels, count, err, sizeof err)) rc = fail(err);
    if (!rc && !o->out_dir) rc = write_picture(&g, o, z, labels, count, cols);
    if (!rc) rc = save_latents(&g, o, z, count);
    free(labels);
    free(z);
    generator_close(&g);
    return rc ? 1 : 0;
}

int cmd_sample(int argc, char **argv) {
    sample_options o = {.gen = GENERATOR_DEFAULTS};
    option_parser p;
    options_begin(&p, "sample", argc, argv, GENERATOR_OPTIONS " sheet z-out out-dir count writers help");
    for (int c; (c = next_option(&p)) != -1;) {
        if (generator_option(&o.gen, "sample", c, optarg)) continue;
        switch (c) {
        case OPT_SHEET: o.sheet = optarg; break;
        case OPT_Z_OUT: o.z_out = optarg; break;
        case OPT_OUT_DIR: o.out_dir = optarg; break;
        case OPT_COUNT: o.count = parse_long("--count", optarg, 1, 10000000L); break;
        case OPT_WRITERS: o.writers = (int)parse_long("--writers", optarg, 1, 64); break;
        case OPT_HELP: help(); return 0;
        }
    }
    generator_options_end(&p, &o.gen);
    if (!!o.gen.grid + !!o.out_dir + !!o.sheet > 1) usage_error("sample", "give one of --grid, --sheet and --out-dir");
    return run(&o);
}
