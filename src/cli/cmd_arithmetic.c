// dcgan arithmetic: the DCGAN paper's latent vector arithmetic (e.g. smiling woman - neutral
// woman + neutral man) on exemplars picked by index from a `dcgan sample --sheet`.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dcgan/gen.h"
#include "dcgan/io.h"
#include "dcgan/viz.h"

#define MAX_GROUPS 16
#define NEIGHBOURS 8
#define RNG_STREAM_NEIGHBOURS 6

static void help(void) {
    printf(
        "usage: dcgan arithmetic --ckpt netG.safetensors --z sheet.npy --plus I,J,.. [--minus I,J,..] ...\n"
        "Vector arithmetic on latent vectors: each --plus / --minus group of indices into --z (the\n"
        "numbers printed on a `dcgan sample --sheet`) is averaged, and the averages are added or\n"
        "subtracted in command-line order, e.g.\n"
        "  dcgan arithmetic --ckpt G --z sheet.npy --plus 3,17,42 --minus 5,8,9 --plus 11,20,30\n"
        "\n"
        "Output grid, one row per group then one for the result, each cell labelled in its corner:\n"
        "  row g:    the group's exemplars (\"+3\", \"-5\", ...), then their average (\"avg+\" / \"avg-\")\n"
        "  last row: the result (\"=\"), then 8 neighbours of it (\"~1\" ... \"~8\"): the result plus\n"
        "            uniform noise in [-R, R) per coordinate (R = --noise)\n"
        "Unused cells are black. The vectors of the last row are saved with --z-out.\n"
        "\n"
        "  --ckpt FILE|DIR      generator checkpoint (required); a run directory means its\n"
        "                       netG_ema.safetensors when it has one, else its netG.safetensors\n"
        "  --no-ema             with a run directory: netG.safetensors, not the moving average\n"
        "  --z FILE.npy         the latent vectors the indices refer to, float32 [N, nz] (required)\n"
        "  --plus LIST          a group to add: comma-separated indices (repeatable)\n"
        "  --minus LIST         a group to subtract (repeatable)\n"
        "  --grid FILE          output grid PNG                            [arithmetic.png]\n"
        "  --z-out FILE.npy     save the result and its neighbours, [9, nz]\n"
        "  --noise R            neighbour noise amplitude                  [0.25]\n"
        "  --seed S             seed of the neighbour noise                [1]\n"
        "  --bn MODE            running | batch: batchnorm statistics      [running]\n"
        "  --batch-size N       images generated per forward pass         [64]\n"
        "  --device D           cpu | cuda | auto                         [auto]\n"
        "  --class K            conditional G: the class of every image (index or name)  [0]\n");
}

typedef struct {
    generator_options gen;
    const char *z_out;
    const char *lists[MAX_GROUPS];
    int signs[MAX_GROUPS], ngroups;
    float noise;
} arith_options;

static int run(const arith_options *o) {
    char err[1024];
    float *z = NULL, *vecs = NULL, *images = NULL, *cells = NULL;
    const char **labels = NULL;
    int32_t *classes = NULL;    // conditional G: the class of every image
    char (*text)[16] = NULL;
    int rows, nz, rc = 1;
    if (npy_read_matrix(o->gen.z_path, &z, &rows, &nz, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    latent_group groups[MAX_GROUPS];
    for (int i = 0; i < o->ngroups; i++) {
        groups[i].sign = o->signs[i];
        groups[i].n = latent_parse_indices(o->lists[i], groups[i].idx, LATENT_MAX_GROUP, rows, err, sizeof err);
        if (groups[i].n < 0) {
            fprintf(stderr, "error: --%s %s: %s (in %s)\n", o->signs[i] > 0 ? "plus" : "minus", o->lists[i], err, o->gen.z_path);
            free(z);
            return 1;
        }
    }
    generator g;
    if (open_generator(&g, &o->gen)) { free(z); return 1; }
    if (check_latents(o->gen.z_path, nz, g.nz)) goto done;
    // Vectors in grid order: each group's exemplars and mean, then the result and its neighbours.
    int ncol = NEIGHBOURS + 1, nvec = 0;
    for (int i = 0; i < o->ngroups; i++) {
        if (groups[i].n + 1 > ncol) ncol = groups[i].n + 1;
        nvec += groups[i].n + 1;
    }
    nvec += NEIGHBOURS + 1;
    int ncells = (o->ngroups + 1) * ncol;
    size_t per = generator_image_numel(&g);
    vecs = malloc((size_t)nvec * nz * sizeof(float));
    images = malloc((size_t)nvec * per * sizeof(float));
    cells = malloc((size_t)ncells * per * sizeof(float));
    labels = calloc((size_t)ncells, sizeof *labels);
    text = calloc((size_t)ncells, sizeof *text);
    if (!vecs || !images || !cells || !labels || !text) { fprintf(stderr, "error: out of memory\n"); goto done; }
    int cellidx[MAX_GROUPS * (LATENT_MAX_GROUP + 1) + NEIGHBOURS + 1];
    int v = 0;
    for (int i = 0; i < o->ngroups; i++) {
        const latent_group *gr = &groups[i];
        char sign = gr->sign > 0 ? '+' : '-';
        for (int k = 0; k < gr->n; k++, v++) {
            memcpy(vecs + (size_t)v * nz, z + (size_t)gr->idx[k] * nz, (size_t)nz * sizeof(float));
            cellidx[v] = i * ncol + k;
            snprintf(text[cellidx[v]], sizeof text[0], "%c%d", sign, gr->idx[k]);
        }
        latent_group_mean(vecs + (size_t)v * nz, z, nz, gr);
        cellidx[v] = i * ncol + gr->n;
        snprintf(text[cellidx[v]], sizeof text[0], "avg%c", sign);
        v++;
    }
    float *result = vecs + (size_t)v * nz;
    latent_arithmetic(result, z, nz, groups, o->ngroups);
    latent_neighbours(result + nz, result, nz, NEIGHBOURS, o->noise, o->gen.seed, RNG_STREAM_NEIGHBOURS);
    for (int k = 0; k <= NEIGHBOURS; k++, v++) {
        cellidx[v] = o->ngroups * ncol + k;
        if (k == 0) snprintf(text[cellidx[v]], sizeof text[0], "=");
        else snprintf(text[cellidx[v]], sizeof text[0], "~%d", k);
    }
    if (generator_labels(&g, o->gen.class_arg, nvec, nvec, &classes, err, sizeof err) ||
        generator_run(&g, images, vecs, classes, nvec, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
    for (size_t i = 0; i < (size_t)ncells * per; i++) cells[i] = -1.0f;   // unused cells: black
    for (int k = 0; k < nvec; k++) {
        memcpy(cells + (size_t)cellidx[k] * per, images + (size_t)k * per, per * sizeof(float));
        labels[cellidx[k]] = text[cellidx[k]];
    }
    const char *path = o->gen.grid ? o->gen.grid : "arithmetic.png";
    if (save_labelled_grid_png(path, cells, ncells, g.nc, g.size, g.size, ncol, labels, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        goto done;
    }
    printf("wrote %s (%d group(s); last row: the result and %d neighbours)\n", path, o->ngroups, NEIGHBOURS);
    if (o->z_out) {
        if (npy_write_matrix(o->z_out, result, NEIGHBOURS + 1, nz, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
        printf("wrote %s (the result and its neighbours, [%d, %d])\n", o->z_out, NEIGHBOURS + 1, nz);
    }
    rc = 0;
done:
    free(z);
    free(vecs);
    free(images);
    free(cells);
    free(labels);
    free(classes);
    free(text);
    generator_close(&g);
    return rc;
}

int cmd_arithmetic(int argc, char **argv) {
    arith_options o = {.gen = GENERATOR_DEFAULTS, .noise = 0.25f};
    option_parser p;
    options_begin(&p, "arithmetic", argc, argv, GENERATOR_OPTIONS " plus minus z-out noise help");
    for (int c; (c = next_option(&p)) != -1;) {
        if (generator_option(&o.gen, "arithmetic", c, optarg)) continue;
        switch (c) {
        case OPT_PLUS:
        case OPT_MINUS:
            if (o.ngroups == MAX_GROUPS) usage_error("arithmetic", "at most %d --plus / --minus groups", MAX_GROUPS);
            o.signs[o.ngroups] = c == OPT_PLUS ? 1 : -1;
            o.lists[o.ngroups++] = optarg;
            break;
        case OPT_Z_OUT: o.z_out = optarg; break;
        case OPT_NOISE: o.noise = parse_float("--noise", optarg, 0.0f, 100.0f); break;
        case OPT_HELP: help(); return 0;
        }
    }
    generator_options_end(&p, &o.gen);
    if (!o.gen.z_path) usage_error("arithmetic", "--z FILE.npy is required (the vectors of a `dcgan sample --sheet`)");
    if (o.ngroups == 0) usage_error("arithmetic", "give at least one --plus or --minus group of indices");
    return run(&o);
}
