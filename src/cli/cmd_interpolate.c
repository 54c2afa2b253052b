// dcgan interpolate: walks through latent space, drawn as one grid (a row per walk) or as
// numbered frames for a video.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
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
        "  --ckpt FILE          generator checkpoint (required)\n"
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

enum { O_CKPT = 256, O_ROWS, O_STEPS, O_CHAIN, O_MODE, O_SEED, O_Z, O_GRID, O_FRAMES, O_BN, O_BATCH, O_DEVICE, O_HELP, O_CLASS };
static const struct option long_options[] = {
    {"ckpt", required_argument, 0, O_CKPT}, {"rows", required_argument, 0, O_ROWS},
    {"steps", required_argument, 0, O_STEPS}, {"chain", required_argument, 0, O_CHAIN},
    {"mode", required_argument, 0, O_MODE}, {"seed", required_argument, 0, O_SEED}, {"z", required_argument, 0, O_Z},
    {"grid", required_argument, 0, O_GRID}, {"frames", required_argument, 0, O_FRAMES}, {"bn", required_argument, 0, O_BN},
    {"batch-size", required_argument, 0, O_BATCH}, {"device", required_argument, 0, O_DEVICE},
    {"help", no_argument, 0, O_HELP}, {"class", required_argument, 0, O_CLASS}, {0, 0, 0, 0},
};

typedef struct {
    const char *ckpt, *z_path, *grid, *frames, *device, *class_arg;
    int rows, steps, chain, batch;
    latent_mode mode;
    unsigned long long seed;
    bn_mode bn;
} interp_options;

static int write_frames(const char *dir, const float *images, int R, int S, int c, int s, char *err, size_t errlen) {
    if (mkdir(dir, 0777) && errno != EEXIST) { snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno)); return -1; }
    size_t per = (size_t)c * s * s;
    float *frame = malloc((size_t)R * per * sizeof(float));
    if (!frame) { snprintf(err, errlen, "out of memory"); return -1; }
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
    if (generator_open(&g, o->ckpt, o->device, o->bn, o->batch, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    float *points = NULL, *walk = NULL, *images = NULL;
    int32_t *labels = NULL;
    int rc = 1, K = o->chain;
    if (o->z_path) {
        int n, cols;
        if (npy_read_matrix(o->z_path, &points, &n, &cols, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
        if (cols != g.nz) {
            fprintf(stderr, "error: %s: latent vectors have %d values, the generator expects nz = %d\n", o->z_path, cols, g.nz);
            goto done;
        }
        if (o->rows == 0) {
            if (n % K) { fprintf(stderr, "error: %s: %d vectors do not make whole walks of --chain %d points\n", o->z_path, n, K); goto done; }
            o->rows = n / K;
        } else if (n != o->rows * K) {
            fprintf(stderr, "error: %s: holds %d vectors; --rows %d with --chain %d needs %d\n", o->z_path, n, o->rows, K, o->rows * K);
            goto done;
        }
    } else {
        if (o->rows == 0) o->rows = 4;
        if ((long)o->rows * o->steps > 65536) {
            fprintf(stderr, "error: %d walks of %d steps are too many images (at most 65536)\n", o->rows, o->steps);
            goto done;
        }
        if (!(points = malloc((size_t)o->rows * K * g.nz * sizeof(float)))) { fprintf(stderr, "error: out of memory\n"); goto done; }
        generator_seed_noise(points, 0, o->rows * K, g.nz, o->seed);
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
    if (generator_labels(&g, o->class_arg, (long)R * S, S, &labels, err, sizeof err) ||
        generator_run(&g, images, walk, labels, R * S, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
    if (o->frames) {
        if (write_frames(o->frames, images, R, S, g.nc, g.size, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
        printf("wrote %d frames to %s (%d walk(s), %s)\n", S, o->frames, R, o->mode == LATENT_SLERP ? "slerp" : "lerp");
    } else {
        const char *path = o->grid ? o->grid : "interpolation.png";
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
    interp_options o = {.device = "auto", .seed = 1, .bn = BN_RUNNING, .batch = 64, .steps = 10, .chain = 2,
                        .mode = LATENT_SLERP};
    int c, seed_given = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case O_CKPT: o.ckpt = optarg; break;
        case O_ROWS: o.rows = (int)parse_long("--rows", optarg, 1, 4096); break;
        case O_STEPS: o.steps = (int)parse_long("--steps", optarg, 2, 4096); break;
        case O_CHAIN: o.chain = (int)parse_long("--chain", optarg, 2, 4096); break;
        case O_MODE:
            if (!strcmp(optarg, "slerp")) o.mode = LATENT_SLERP;
            else if (!strcmp(optarg, "lerp")) o.mode = LATENT_LERP;
            else usage_error("interpolate", "--mode: expected slerp or lerp, got '%s'", optarg);
            break;
        case O_SEED: o.seed = parse_seed("--seed", optarg); seed_given = 1; break;
        case O_Z: o.z_path = optarg; break;
        case O_GRID: o.grid = optarg; break;
        case O_FRAMES: o.frames = optarg; break;
        case O_BN: o.bn = parse_bn("interpolate", optarg); break;
        case O_BATCH: o.batch = (int)parse_long("--batch-size", optarg, 1, 65536); break;
        case O_DEVICE: o.device = optarg; break;
        case O_CLASS: o.class_arg = optarg; break;
        case O_HELP: help(); return 0;
        default: usage_error("interpolate", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) usage_error("interpolate", "unexpected argument '%s'", argv[optind]);
    if (!o.ckpt) usage_error("interpolate", "--ckpt FILE is required");
    if (o.grid && o.frames) usage_error("interpolate", "give either --grid or --frames, not both");
    if (seed_given && o.z_path) usage_error("interpolate", "give either --seed or --z, not both");
    if (o.steps < o.chain)
        usage_error("interpolate", "--steps %d is fewer than the %d points of --chain: every point needs a step", o.steps, o.chain);
    return run(&o);
}
