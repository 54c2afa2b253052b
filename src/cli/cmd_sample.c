// dcgan sample: images from a trained generator, as a grid or as individual PNG files.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "cli.h"
#include "dcgan/ckpt.h"
#include "dcgan/image.h"
#include "dcgan/net_exec.h"
#include "dcgan/npy.h"
#include "dcgan/rng.h"

#define RNG_STREAM_SAMPLE 5

static void help(void) {
    printf(
        "usage: dcgan sample --ckpt netG.safetensors [options]\n"
        "Writes images from a trained generator (ours, or a PyTorch DCGAN state_dict in safetensors).\n"
        "\n"
        "  --ckpt FILE          generator checkpoint (required)\n"
        "  --grid FILE          write one grid PNG, 8 columns            [samples.png unless --out-dir]\n"
        "  --out-dir DIR        write --count individual PNGs 000000.png ... (for FID tools)\n"
        "  --count N            number of images                         [64, or the rows of --z]\n"
        "  --seed S             latent vectors z ~ N(0, 1) from seed S   [1]\n"
        "  --z FILE.npy         latent vectors, float32 [N, nz] (instead of --seed)\n"
        "  --bn MODE            running | batch: batchnorm statistics     [running]\n"
        "  --batch-size N       images generated per forward pass        [64]\n"
        "  --device D           cpu | cuda | auto                        [auto]\n"
        "  --class K            conditional G: every image of class K (index or name)\n"
        "\n"
        "A conditional generator without --class draws one row per class, each row the same 8 latent\n"
        "vectors (the first 8 of --seed or --z), so rows differ by class and columns by z; with\n"
        "--out-dir image i gets class i mod the class count and its own z.\n");
}

enum { O_CKPT = 256, O_GRID, O_OUTDIR, O_COUNT, O_SEED, O_Z, O_BN, O_BATCH, O_DEVICE, O_HELP, O_CLASS };
static const struct option long_options[] = {
    {"ckpt", required_argument, 0, O_CKPT}, {"grid", required_argument, 0, O_GRID},
    {"out-dir", required_argument, 0, O_OUTDIR}, {"count", required_argument, 0, O_COUNT},
    {"seed", required_argument, 0, O_SEED}, {"z", required_argument, 0, O_Z}, {"bn", required_argument, 0, O_BN},
    {"batch-size", required_argument, 0, O_BATCH}, {"device", required_argument, 0, O_DEVICE},
    {"help", no_argument, 0, O_HELP}, {"class", required_argument, 0, O_CLASS}, {0, 0, 0, 0},
};

typedef struct {
    const char *ckpt, *grid, *out_dir, *z_path, *device, *class_arg;
    long count;
    unsigned long long seed;
    bn_mode bn;
    int batch;
} sample_options;

static int write_individual(const char *dir, long first, const float *images, int n, int c, int s,
                            char *err, size_t errlen) {
    int failed = 0;
    #pragma omp parallel for schedule(dynamic)
    for (int i = 0; i < n; i++) {
        char path[4096], why[512];
        if (failed) continue;
        snprintf(path, sizeof path, "%s/%06ld.png", dir, first + i);
        if (save_image_png(path, images + (size_t)i * c * s * s, c, s, s, why, sizeof why)) {
            #pragma omp critical
            { if (!failed) snprintf(err, errlen, "%s", why); failed = 1; }
        }
    }
    return failed ? -1 : 0;
}

// --class for the conditional G loaded from path: an index, or a class name (case-insensitive).
// Returns the class, or -1 after printing the error.
static int resolve_class(const char *path, const char *arg, const dcgan_config *cfg) {
    if (cfg->nclasses <= 0) {
        fprintf(stderr, "error: --class: %s is an unconditional generator (trained without --conditional)\n", path);
        return -1;
    }
    char err[512], *end;
    long k = strtol(arg, &end, 10);
    if (end != arg && !*end) {
        if (k >= 0 && k < cfg->nclasses) return (int)k;
        fprintf(stderr, "error: --class %s is out of range: %s has classes 0..%d\n", arg, path, cfg->nclasses - 1);
        return -1;
    }
    st_file f;
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return -1; }
    char **names = ckpt_class_names(&f, cfg->nclasses);
    st_free(&f);
    if (!names) { fprintf(stderr, "error: out of memory\n"); return -1; }
    int found = -1;
    for (int i = 0; i < cfg->nclasses && found < 0; i++) if (!strcasecmp(names[i], arg)) found = i;
    if (found < 0) {
        char list[512] = "";
        for (int i = 0; i < cfg->nclasses && strlen(list) + 40 < sizeof list; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
        fprintf(stderr, "error: --class: no class '%s' in %s (classes: %s%s)\n", arg, path, list,
                strlen(list) + 40 >= sizeof list ? ", ..." : "");
    }
    ckpt_free_class_names(names, cfg->nclasses);
    return found;
}

// The default picture of a conditional G: latent rows for `count` images laid out one row of
// `cols` per class, every row the same `cols` vectors (z, or the first of the seed's stream).
static float *class_rows_z(const float *z, int cols, long count, int nz, unsigned long long seed) {
    float *out = malloc((size_t)count * nz * sizeof(float));
    for (long i = 0; out && i < count; i++)
        for (int j = 0; j < nz; j++) {
            size_t src = (size_t)(i % cols) * nz + j;
            out[i * nz + j] = z ? z[src] : philox_normal_at(seed, RNG_STREAM_SAMPLE, src);
        }
    return out;
}

static int run(const sample_options *o) {
    char err[1024];
    const char *notice;
    const dcgan_backend *be = backend_select(o->device, &notice, err, sizeof err);
    if (!be) { fprintf(stderr, "error: %s\n", err); return 1; }
    dcgan_net G;
    if (ckpt_load_net(&G, o->ckpt, 1, be, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    const dcgan_config *cfg = &G.cfg;
    float *z = NULL;
    long count = o->count > 0 ? o->count : 64;
    if (o->z_path) {
        int rows, cols;
        if (npy_read_matrix(o->z_path, &z, &rows, &cols, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto fail; }
        if (cols != cfg->nz) {
            fprintf(stderr, "error: %s: latent vectors have %d values, the generator expects nz = %d\n", o->z_path, cols, cfg->nz);
            goto fail;
        }
        if (o->count > rows) { fprintf(stderr, "error: --count %ld exceeds the %d vectors in %s\n", o->count, rows, o->z_path); goto fail; }
        count = o->count > 0 ? o->count : rows;
    }
    // Conditional G: the class of image i (-1: one row of `cols` per class, see --help).
    int fixed_class = -1, cols = 8;
    if (o->class_arg && (fixed_class = resolve_class(o->ckpt, o->class_arg, cfg)) < 0) goto fail;
    if (cfg->nclasses > 0 && fixed_class < 0 && !o->out_dir) {
        if (z && count < cols) cols = (int)count;
        if (o->count <= 0) count = (long)cols * cfg->nclasses;
        float *rows_z = class_rows_z(z, cols, count, cfg->nz, o->seed);
        if (!rows_z) { fprintf(stderr, "error: out of memory\n"); goto fail; }
        free(z);
        z = rows_z;
    }
    if (o->out_dir && mkdir(o->out_dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "error: cannot create %s: %s\n", o->out_dir, strerror(errno));
        goto fail;
    }
    int B = (int)(o->batch < count ? o->batch : count);
    net_exec x;
    if (net_exec_init(&x, &G, B, NULL)) { fprintf(stderr, "error: out of %s memory for batch %d\n", be->name, B); goto fail; }
    size_t per = (size_t)cfg->nc * cfg->size * cfg->size;
    float *zdev = be->alloc((size_t)B * cfg->nz * sizeof(float));
    float *images = malloc((size_t)(o->out_dir ? B : count) * per * sizeof(float));
    int32_t *classes = malloc((size_t)B * sizeof(int32_t));
    int rc = (!zdev || !images || !classes) ? (fprintf(stderr, "error: out of memory\n"), 1) : 0;
    for (long first = 0; !rc && first < count; first += B) {
        int n = (int)(count - first < B ? count - first : B);
        for (int b = 0; b < n && cfg->nclasses > 0; b++) {
            long i = first + b;
            classes[b] = fixed_class >= 0 ? fixed_class
                       : (int32_t)((o->out_dir ? i : i / cols) % cfg->nclasses);
        }
        if (z) be->upload(zdev, z + first * cfg->nz, (size_t)n * cfg->nz * sizeof(float));
        else be->fill_normal(zdev, (size_t)n * cfg->nz, o->seed, RNG_STREAM_SAMPLE, (uint64_t)first * cfg->nz, 0.0f, 1.0f);
        // A short last chunk gets buffers of its own size, so batch statistics see only its images.
        if (n < x.B) {
            net_exec_free(&x);
            if (net_exec_init(&x, &G, n, NULL)) { fprintf(stderr, "error: out of memory\n"); rc = 1; break; }
        }
        net_set_classes(&x, classes);
        const float *out = net_forward(&x, zdev, o->bn);
        float *dst = o->out_dir ? images : images + first * per;
        be->download(dst, out, (size_t)n * per * sizeof(float));
        if (o->out_dir && write_individual(o->out_dir, first, images, n, cfg->nc, cfg->size, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            rc = 1;
        }
    }
    if (!rc && !o->out_dir) {
        const char *grid = o->grid ? o->grid : "samples.png";
        if (save_grid_png(grid, images, (int)count, cfg->nc, cfg->size, cfg->size, cols, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            rc = 1;
        } else {
            printf("wrote %s (%ld images)\n", grid, count);
        }
    }
    if (!rc && o->out_dir) printf("wrote %ld images to %s\n", count, o->out_dir);
    if (zdev) be->release(zdev);
    free(images);
    free(classes);
    net_exec_free(&x);
    dcgan_net_free(&G);
    free(z);
    return rc;
fail:
    dcgan_net_free(&G);
    free(z);
    return 1;
}

int cmd_sample(int argc, char **argv) {
    sample_options o = {.device = "auto", .seed = 1, .bn = BN_RUNNING, .batch = 64};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case O_CKPT: o.ckpt = optarg; break;
        case O_GRID: o.grid = optarg; break;
        case O_OUTDIR: o.out_dir = optarg; break;
        case O_COUNT: o.count = parse_long("--count", optarg, 1, 100000000L); break;
        case O_SEED: o.seed = parse_seed("--seed", optarg); break;
        case O_Z: o.z_path = optarg; break;
        case O_BN:
            if (!strcmp(optarg, "running")) o.bn = BN_RUNNING;
            else if (!strcmp(optarg, "batch")) o.bn = BN_BATCH;
            else usage_error("sample", "--bn: expected running or batch, got '%s'", optarg);
            break;
        case O_BATCH: o.batch = (int)parse_long("--batch-size", optarg, 1, 65536); break;
        case O_DEVICE: o.device = optarg; break;
        case O_CLASS: o.class_arg = optarg; break;
        case O_HELP: help(); return 0;
        default: usage_error("sample", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) usage_error("sample", "unexpected argument '%s'", argv[optind]);
    if (!o.ckpt) usage_error("sample", "--ckpt FILE is required");
    if (o.grid && o.out_dir) usage_error("sample", "give either --grid or --out-dir, not both");
    return run(&o);
}
