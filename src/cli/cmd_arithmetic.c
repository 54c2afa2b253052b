// dcgan arithmetic: the DCGAN paper's latent vector arithmetic (e.g. smiling woman - neutral
// woman + neutral man) on exemplars picked by index from a `dcgan sample --sheet`.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dcgan/error.h"
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

// The --plus / --minus groups as indices into the rows of --z. 0, or -1 after printing the error.
static int parse_groups(const arith_options *o, int rows, latent_group *groups) {
    char err[1024];
    for (int i = 0; i < o->ngroups; i++) {
        groups[i].sign = o->signs[i];
        groups[i].n = latent_parse_indices(o->lists[i], groups[i].idx, LATENT_MAX_GROUP, rows, err, sizeof err);
        if (groups[i].n < 0) {
            fprintf(stderr, "error: --%s %s: %s (in %s)\n", o->signs[i] > 0 ? "plus" : "minus", o->lists[i], err,
                    o->gen.z_path);
            return -1;
        }
    }
    return 0;
}

// The grid: its vectors in grid order (each group's exemplars and mean, then the result and its
// neighbours), the cell of each and the cells' labels.
typedef struct {
    int ncol, nvec, ncells;
    float *vecs;                // [nvec, nz]
    int cellidx[MAX_GROUPS * (LATENT_MAX_GROUP + 1) + NEIGHBOURS + 1];
    char (*text)[16];           // [ncells]
} arith_grid;

static int grid_alloc(arith_grid *gr, const latent_group *groups, int ngroups, int nz) {
    gr->ncol = NEIGHBOURS + 1;
    gr->nvec = NEIGHBOURS + 1;
    for (int i = 0; i < ngroups; i++) {
        if (groups[i].n + 1 > gr->ncol) gr->ncol = groups[i].n + 1;
        gr->nvec += groups[i].n + 1;
    }
    gr->ncells = (ngroups + 1) * gr->ncol;
    gr->vecs = malloc((size_t)gr->nvec * nz * sizeof(float));
    gr->text = calloc((size_t)gr->ncells, sizeof *gr->text);
    return gr->vecs && gr->text ? 0 : -1;
}

// Fills the grid's vectors and labels from z; returns the result's row (then its neighbours).
static float *grid_fill(arith_grid *gr, const arith_options *o, const latent_group *groups, const float *z, int nz) {
    int v = 0;
    for (int i = 0; i < o->ngroups; i++) {
        const latent_group *g = &groups[i];
        char sign = g->sign > 0 ? '+' : '-';
        for (int k = 0; k < g->n; k++, v++) {
            memcpy(gr->vecs + (size_t)v * nz, z + (size_t)g->idx[k] * nz, (size_t)nz * sizeof(float));
            gr->cellidx[v] = i * gr->ncol + k;
            snprintf(gr->text[gr->cellidx[v]], sizeof gr->text[0], "%c%d", sign, g->idx[k]);
        }
        latent_group_mean(gr->vecs + (size_t)v * nz, z, nz, g);
        gr->cellidx[v] = i * gr->ncol + g->n;
        snprintf(gr->text[gr->cellidx[v]], sizeof gr->text[0], "avg%c", sign);
        v++;
    }
    float *result = gr->vecs + (size_t)v * nz;
    latent_arithmetic(result, z, nz, groups, o->ngroups);
    latent_neighbours(result + nz, result, nz, NEIGHBOURS, o->noise, o->gen.seed, RNG_STREAM_NEIGHBOURS);
    for (int k = 0; k <= NEIGHBOURS; k++, v++) {
        gr->cellidx[v] = o->ngroups * gr->ncol + k;
        if (k == 0) snprintf(gr->text[gr->cellidx[v]], sizeof gr->text[0], "=");
        else snprintf(gr->text[gr->cellidx[v]], sizeof gr->text[0], "~%d", k);
    }
    return result;
}

// G's images of the grid's vectors in their cells (unused cells black), labelled, as one PNG.
static int render(generator *g, const arith_options *o, const arith_grid *gr, const char *path, char *err,
                  size_t errlen) {
    const size_t per = generator_image_numel(g);
    float *images = malloc((size_t)gr->nvec * per * sizeof(float));
    float *cells = malloc((size_t)gr->ncells * per * sizeof(float));
    const char **labels = calloc((size_t)gr->ncells, sizeof *labels);
    int32_t *classes = NULL;    // conditional G: the class of every image
    int rc = images && cells && labels ? 0 : set_error(err, errlen, "out of memory");
    if (!rc && (generator_labels(g, o->gen.class_arg, gr->nvec, gr->nvec, &classes, err, errlen) ||
                generator_run(g, images, gr->vecs, classes, gr->nvec, err, errlen)))
        rc = -1;
    if (!rc) {
        for (size_t i = 0; i < (size_t)gr->ncells * per; i++) cells[i] = -1.0f;
        for (int k = 0; k < gr->nvec; k++) {
            memcpy(cells + (size_t)gr->cellidx[k] * per, images + (size_t)k * per, per * sizeof(float));
            labels[gr->cellidx[k]] = gr->text[gr->cellidx[k]];
        }
        rc = save_labelled_grid_png(path, cells, gr->ncells, g->nc, g->size, g->size, gr->ncol, labels, err, errlen);
    }
    free(images);
    free(cells);
    free(labels);
    free(classes);
    return rc;
}

static int run(const arith_options *o) {
    char err[1024];
    float *z = NULL;
    int rows, nz;
    if (npy_read_matrix(o->gen.z_path, &z, &rows, &nz, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    latent_group groups[MAX_GROUPS];
    generator g;
    if (parse_groups(o, rows, groups) || open_generator(&g, &o->gen)) { free(z); return 1; }
    arith_grid gr = {0};
    int rc = check_latents(o->gen.z_path, nz, g.nz) ? 1 : 0;
    if (!rc && grid_alloc(&gr, groups, o->ngroups, nz)) rc = set_error(err, sizeof err, "out of memory");
    const char *path = o->gen.grid ? o->gen.grid : "arithmetic.png";
    float *result = rc ? NULL : grid_fill(&gr, o, groups, z, nz);
    if (!rc && !(rc = render(&g, o, &gr, path, err, sizeof err)))
        printf("wrote %s (%d group(s); last row: the result and %d neighbours)\n", path, o->ngroups, NEIGHBOURS);
    if (!rc && o->z_out && !(rc = npy_write_matrix(o->z_out, result, NEIGHBOURS + 1, nz, err, sizeof err)))
        printf("wrote %s (the result and its neighbours, [%d, %d])\n", o->z_out, NEIGHBOURS + 1, nz);
    if (rc < 0) fprintf(stderr, "error: %s\n", err);
    free(z);
    free(gr.vecs);
    free(gr.text);
    generator_close(&g);
    return rc ? 1 : 0;
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
