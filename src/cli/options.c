// Option parsing shared by the subcommands: the table of every long option, the loop over
// argv, the number parsers with their one-line messages, and the options of the commands that
// run a generator.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <string.h>
#include "cli.h"

#define ARG(name, val) {name, required_argument, 0, val}
#define FLAG(name, val) {name, no_argument, 0, val}

static const struct option all_options[] = {
    ARG("batch-size", OPT_BATCH), ARG("beta1", OPT_BETA1), ARG("beta2", OPT_BETA2),
    ARG("bn", OPT_BN), ARG("cache", OPT_CACHE), ARG("chain", OPT_CHAIN), ARG("ckpt", OPT_CKPT),
    ARG("ckpt-every", OPT_CKPT_EVERY), ARG("class", OPT_CLASS), ARG("classes", OPT_CLASSES),
    ARG("clip", OPT_CLIP), FLAG("conditional", OPT_CONDITIONAL), ARG("count", OPT_COUNT),
    ARG("data", OPT_DATA), ARG("dataset", OPT_DATASET), ARG("delay", OPT_DELAY),
    ARG("device", OPT_DEVICE), ARG("d-steps", OPT_DSTEPS), ARG("ema", OPT_EMA), ARG("epochs", OPT_EPOCHS),
    ARG("fid-count", OPT_FID_COUNT), ARG("fid-every", OPT_FID_EVERY),
    ARG("frames", OPT_FRAMES), FLAG("gif", OPT_GIF), FLAG("gif-only", OPT_GIF_ONLY),
    ARG("gif-out", OPT_GIF_OUT), ARG("grid", OPT_GRID), FLAG("help", OPT_HELP), ARG("inception", OPT_INCEPTION),
    ARG("iters", OPT_ITERS), FLAG("json", OPT_JSON), ARG("kid-subsets", OPT_KID_SUBSETS), ARG("log-every", OPT_LOG_EVERY),
    ARG("loss", OPT_LOSS), ARG("lr", OPT_LR), ARG("lr-d", OPT_LR_D), ARG("lr-g", OPT_LR_G), ARG("minus", OPT_MINUS), ARG("mode", OPT_MODE),
    ARG("nc", OPT_NC), ARG("ndf", OPT_NDF), ARG("ngf", OPT_NGF), FLAG("no-ema", OPT_NO_EMA), FLAG("no-tensorboard", OPT_NO_TENSORBOARD), ARG("noise", OPT_NOISE),
    ARG("nz", OPT_NZ), ARG("out", OPT_OUT), ARG("out-dir", OPT_OUT_DIR), ARG("plus", OPT_PLUS), ARG("precision", OPT_PRECISION),
    ARG("repeats", OPT_REPEATS), ARG("resume", OPT_RESUME), ARG("rows", OPT_ROWS), ARG("sample-every", OPT_SAMPLE_EVERY), ARG("save-stats", OPT_SAVE_STATS),
    ARG("seed", OPT_SEED), ARG("sheet", OPT_SHEET), ARG("size", OPT_SIZE),
    ARG("smooth", OPT_SMOOTH), ARG("steps", OPT_STEPS), FLAG("strict", OPT_STRICT), FLAG("sync-bn", OPT_SYNC_BN), ARG("threads", OPT_THREADS),
    FLAG("verbose", OPT_VERBOSE), ARG("warmup", OPT_WARMUP), ARG("writers", OPT_WRITERS),
    ARG("z", OPT_Z), ARG("z-out", OPT_Z_OUT),
};
#define NOPTIONS (sizeof all_options / sizeof all_options[0])
_Static_assert(NOPTIONS == OPT_END_ - OPT_BATCH, "one entry per OPT_ value");

void options_begin(option_parser *p, const char *command, int argc, char **argv, const char *names) {
    p->command = command;
    p->argc = argc;
    p->argv = argv;
    size_t n = 0;
    for (const char *s = names; *s;) {
        size_t len = strcspn(s, " ");
        size_t i = 0;
        while (i < NOPTIONS && (strlen(all_options[i].name) != len || strncmp(all_options[i].name, s, len)))
            i++;
        if (i == NOPTIONS || n + 1 >= sizeof p->table / sizeof p->table[0]) {
            fprintf(stderr, "dcgan %s: no option '%.*s' in the table\n", command, (int)len, s);
            abort();
        }
        p->table[n++] = all_options[i];
        s += len;
        s += strspn(s, " ");
    }
    memset(&p->table[n], 0, sizeof p->table[n]);
    opterr = 0;
    optind = 1;
}

int next_option(option_parser *p) {
    int c = getopt_long(p->argc, p->argv, "", p->table, NULL);
    if (c == '?') usage_error(p->command, "unknown or incomplete option '%s'", p->argv[optind - 1]);
    return c;
}

void options_end(const option_parser *p) {
    if (optind < p->argc) usage_error(p->command, "unexpected argument '%s'", p->argv[optind]);
}

const char *option_name(int opt) {
    return opt >= OPT_BATCH && opt < OPT_END_ ? all_options[opt - OPT_BATCH].name : "";
}

// ---------------------------------------------------------------------------------------------

long parse_long(const char *option, const char *value, long min, long max) {
    char *end;
    errno = 0;
    long x = strtol(value, &end, 10);
    if (errno || end == value || *end || x < min || x > max) {
        fprintf(stderr, "error: %s: '%s' is not an integer in [%ld, %ld]\n", option, value, min, max);
        exit(2);
    }
    return x;
}

float parse_float(const char *option, const char *value, float min, float max) {
    char *end;
    errno = 0;
    float x = strtof(value, &end);
    if (errno || end == value || *end || !isfinite(x) || x < min || x > max) {
        fprintf(stderr, "error: %s: '%s' is not a number in [%g, %g]\n", option, value, min, max);
        exit(2);
    }
    return x;
}

unsigned long long parse_seed(const char *option, const char *value) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(value, &end, 10);
    if (errno || end == value || *end || value[0] == '-') {
        fprintf(stderr, "error: %s: '%s' is not a non-negative integer\n", option, value);
        exit(2);
    }
    return x;
}

void usage_error(const char *command, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see: dcgan %s --help)\n", command);
    va_end(ap);
    exit(2);
}

// ---------------------------------------------------------------------------------------------

// --bn running|batch; a usage error for anything else.
static bn_mode parse_bn(const char *command, const char *value) {
    if (!strcmp(value, "running")) return BN_RUNNING;
    if (!strcmp(value, "batch")) return BN_BATCH;
    usage_error(command, "--bn: expected running or batch, got '%s'", value);
}

int generator_option(generator_options *o, const char *command, int c, const char *arg) {
    switch (c) {
    case OPT_CKPT: o->ckpt = arg; return 1;
    case OPT_DEVICE: o->device = arg; return 1;
    case OPT_BATCH: o->batch = (int)parse_long("--batch-size", arg, 1, 65536); return 1;
    case OPT_SEED: o->seed = parse_seed("--seed", arg); o->seed_given = 1; return 1;
    case OPT_BN: o->bn = parse_bn(command, arg); return 1;
    case OPT_Z: o->z_path = arg; return 1;
    case OPT_GRID: o->grid = arg; return 1;
    case OPT_CLASS: o->class_arg = arg; return 1;
    case OPT_NO_EMA: o->no_ema = 1; return 1;
    default: return 0;
    }
}

void generator_options_end(const option_parser *p, const generator_options *o) {
    options_end(p);
    if (!o->ckpt) usage_error(p->command, "--ckpt FILE (or a run directory) is required");
}

int open_generator(generator *g, const generator_options *o) {
    char err[1024], path[4200];
    const char *ckpt = generator_checkpoint(o->ckpt, !o->no_ema, path, sizeof path);
    if (ckpt != o->ckpt) fprintf(stderr, "note: generator %s\n", ckpt);
    if (!generator_open(g, ckpt, o->device, o->bn, o->batch, err, sizeof err)) return 0;
    fprintf(stderr, "error: %s\n", err);
    return -1;
}

int check_latents(const char *path, int cols, int nz) {
    if (cols == nz) return 0;
    fprintf(stderr, "error: %s: latent vectors have %d values, the generator expects nz = %d\n", path,
            cols, nz);
    return -1;
}

dcgan_dtype parse_precision(const char *command, const char *value) {
    if (!strcmp(value, "fp32")) return DTYPE_F32;
    if (!strcmp(value, "bf16")) return DTYPE_BF16;
    usage_error(command, "--precision: unknown precision '%s' (fp32 or bf16)", value);
}

void set_threads(const char *value) { omp_set_num_threads((int)parse_long("--threads", value, 1, 4096)); }
