// dcgan interpolate: walks through latent space, drawn as one grid (a row per walk) or as
// numbered frames for a video.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "dcgan/error.h"
#include "dcgan/gen.h"
#include "dcgan/io.h"
#include "dcgan/viz.h"

static void help(void) {
    printf(
        "usage: dcgan interpolate --ckpt netG.safetensors [options]\n"
        "Draws walks through the latent space: each row walks in --steps images through --chain points.\n"
        "The first and last image of a row (and every point the walk passes) are exactly what\n"
        "`dcgan sample --z` draws for those vectors.\n"
        "\n"
        "  --ckpt FILE|DIR      generator checkpoint (required); a run directory means its\n"
        "                       netG_ema.safetensors when it has one, else its netG.safetensors\n"
        "  --no-ema             with a run directory: netG.safetensors, not the moving average\n"
        "  --rows R             number of walks                           [4, or the rows of --z / K]\n"
        "  --steps S            images per walk, at least --chain          [10]\n"
        "  --chain K            points each walk passes through, in order  [2]\n"
        "                       (the DCGAN paper's walks: --chain 9 --steps 9..)\n"
        "  --mode M             slerp | lerp                                [slerp]\n"
        "                       slerp follows the great circle and moves the norm linearly; it falls\n"
        "                       back to lerp between (anti)parallel vectors\n"
        "  --seed S             points z ~ N(0, 1): the R*K vectors `dcgan sample --seed S` draws  [1]\n"
        "  --z FILE.npy         the points, float32 [R*K, nz]: walk r passes rows r*K ... r*K+K-1\n"
        "  --grid FILE          one grid PNG, one row per walk             [interpolation.png]\n"
        "  --frames DIR         instead: DIR/000000.png ... one frame per step showing every walk\n"
        "                       (e.g. ffmpeg -framerate 10 -i DIR/%%06d.png walk.mp4)\n"
        "  --bn MODE            running | batch: batchnorm statistics      [running]\n"
        "  --batch-size N       images generated per forward pass         [64]\n"
        "  --device D           cpu | cuda | auto                         [auto]\n"
        "  --class K            conditional G: every walk in class K (index or name)\n"
        "                       [walk r in class r mod the class count]\n");
}

typedef struct {
    generator_options gen;
    const char *frames;
    int rows, steps, chain;
    latent_mode mode;
} interp_options;

static int write_frames(const char *dir, const float *images, int R, int S, int c, int s, char *err, size_t errlen) {
    if (mkdir(dir, 0777) && errno != EEXIST) return set_error(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    size_t per = (size_t)c * s * s;
    float *frame = malloc((size_t)R * per * sizeof(float));
    if (!frame) return set_error(err, errlen, "out of memory");
    int rc = 0;
    for (int i = 0; i < S && !rc; i++) {
        for (int r = 0; r < R; r++) memcpy(frame + r * per, images + ((size_t)r * S + i) * per, per * sizeof(float));
        char path[4200];
        snprintf(path, sizeof path, "%s/%06d.png", dir, i);
        rc = save_grid_png(path, frame, R, c, s, s, R < 8 ? R : 8, err, errlen);
    }
    free(frame);
    return rc;
}

static int run(interp_options *o) {
    char err[1024];
    generator g;
    if (open_generator(&g, &o->gen)) return 1;
    float *points = NULL, *walk = NULL, *images = NULL;
    int32_t *labels = NULL;
    int rc = 1, K = o->chain;
    if (o->gen.z_path) {
        int n, cols;
        if (npy_read_matrix(o->gen.z_path, &points, &n, &cols, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
        if (check_latents(o->gen.z_path, cols, g.nz)) goto done;
        if (o->rows == 0) {
            if (n % K) { fprintf(stderr, "error: %s: %d vectors do not make whole walks of --chain %d points\n", o->gen.z_path, n, K); goto done; }
            o->rows = n / K;
        } else if (n != o->rows * K) {
            fprintf(stderr, "error: %s: holds %d vectors; --rows %d with --chain %d needs %d\n", o->gen.z_path, n, o->rows, K, o->rows * K);
            goto done;
        }
    } else {
        if (o->rows == 0) o->rows = 4;
        if ((long)o->rows * o->steps > 65536) {
            fprintf(stderr, "error: %d walks of %d steps are too many images (at most 65536)\n", o->rows, o->steps);
            goto done;
        }
        if (!(points = malloc((size_t)o->rows * K * g.nz * sizeof(float)))) { fprintf(stderr, "error: out of memory\n"); goto done; }
        generator_seed_noise(points, 0, o->rows * K, g.nz, o->gen.seed);
    }
    int R = o->rows, S = o->steps;
    if ((long)R * S > 65536) { fprintf(stderr, "error: %d walks of %d steps are too many images (at most 65536)\n", R, S); goto done; }
    walk = malloc((size_t)R * S * g.nz * sizeof(float));
    images = malloc((size_t)R * S * generator_image_numel(&g) * sizeof(float));
    if (!walk || !images) { fprintf(stderr, "error: out of memory\n"); goto done; }
    int fallbacks = 0;
    for (int r = 0; r < R; r++)
        fallbacks += latent_walk(walk + (size_t)r * S * g.nz, points + (size_t)r * K * g.nz, K, S, g.nz, o->mode);
    if (fallbacks) printf("note: %d segment(s) join (anti)parallel vectors; interpolated linearly there\n", fallbacks);
    if (generator_labels(&g, o->gen.class_arg, (long)R * S, S, &labels, err, sizeof err) ||
        generator_run(&g, images, walk, labels, R * S, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
    if (o->frames) {
        if (write_frames(o->frames, images, R, S, g.nc, g.size, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
        printf("wrote %d frames to %s (%d walk(s), %s)\n", S, o->frames, R, o->mode == LATENT_SLERP ? "slerp" : "lerp");
    } else {
        const char *path = o->gen.grid ? o->gen.grid : "interpolation.png";
        if (save_grid_png(path, images, R * S, g.nc, g.size, g.size, S, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
        printf("wrote %s (%d walk(s) of %d steps through %d points, %s)\n", path, R, S, K, o->mode == LATENT_SLERP ? "slerp" : "lerp");
    }
    rc = 0;
done:
    free(labels);
    free(points);
    free(walk);
    free(images);
    generator_close(&g);
    return rc;
}

int cmd_interpolate(int argc, char **argv) {
    interp_options o = {.gen = GENERATOR_DEFAULTS, .steps = 10, .chain = 2, .mode = LATENT_SLERP};
    option_parser p;
    options_begin(&p, "interpolate", argc, argv, GENERATOR_OPTIONS " rows steps chain mode frames help");
    for (int c; (c = next_option(&p)) != -1;) {
        if (generator_option(&o.gen, "interpolate", c, optarg)) continue;
        switch (c) {
        case OPT_ROWS: o.rows = (int)parse_long("--rows", optarg, 1, 4096); break;
        case OPT_STEPS: o.steps = (int)parse_long("--steps", optarg, 2, 4096); break;
        case OPT_CHAIN: o.chain = (int)parse_long("--chain", optarg, 2, 4096); break;
        case OPT_MODE:
            if (!strcmp(optarg, "slerp")) o.mode = LATENT_SLERP;
            else if (!strcmp(optarg, "lerp")) o.mode = LATENT_LERP;
            else usage_error("interpolate", "--mode: expected slerp or lerp, got '%s'", optarg);
            break;
        case OPT_FRAMES: o.frames = optarg; break;
        case OPT_HELP: help(); return 0;
        }
    }
    generator_options_end(&p, &o.gen);
    if (o.gen.grid && o.frames) usage_error("interpolate", "give either --grid or --frames, not both");
    if (o.gen.seed_given && o.gen.z_path) usage_error("interpolate", "give either --seed or --z, not both");
    if (o.steps < o.chain)
        usage_error("interpolate", "--steps %d is fewer than the %d points of --chain: every point needs a step", o.steps, o.chain);
    return run(&o);
}
