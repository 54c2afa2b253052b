// Subcommands of the dcgan binary and the option-parsing helpers they share (options.c).
#ifndef DCGAN_CLI_H
#define DCGAN_CLI_H
#include <getopt.h>
#include "dcgan/gen.h"

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_arithmetic(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_fid(int argc, char **argv);

// Where --dataset fashion-mnist is read from without --data (Debian's dataset-fashion-mnist).
#define DEFAULT_FASHION_MNIST "/usr/share/datasets/fashion-mnist"

// Every long option of the binary, once (options.c holds their names and whether they take a
// value). A command names the ones it takes.
enum {
    OPT_BATCH = 256, OPT_BETA1, OPT_BETA2, OPT_BN, OPT_CACHE, OPT_CHAIN, OPT_CKPT, OPT_CKPT_EVERY,
    OPT_CLASS, OPT_CLASSES, OPT_CLIP, OPT_CONDITIONAL, OPT_COUNT, OPT_DATA, OPT_DATASET, OPT_DELAY,
    OPT_DEVICE, OPT_DSTEPS, OPT_EMA, OPT_EPOCHS, OPT_FID_COUNT, OPT_FID_EVERY, OPT_FRAMES, OPT_GIF, OPT_GIF_ONLY, OPT_GIF_OUT, OPT_GRID,
    OPT_HELP, OPT_INCEPTION, OPT_ITERS, OPT_JSON, OPT_KID_SUBSETS, OPT_LOG_EVERY, OPT_LOSS, OPT_LR, OPT_LR_D, OPT_LR_G, OPT_MINUS, OPT_MODE, OPT_NC,
    OPT_NDF, OPT_NGF, OPT_NO_EMA, OPT_NO_TENSORBOARD, OPT_NOISE, OPT_NZ, OPT_OUT, OPT_OUT_DIR, OPT_PLUS, OPT_PRECISION, OPT_REPEATS, OPT_RESUME, OPT_ROWS,
    OPT_SAMPLE_EVERY, OPT_SAVE_STATS, OPT_SEED, OPT_SHEET, OPT_SIZE, OPT_SMOOTH, OPT_STEPS, OPT_STRICT, OPT_SYNC_BN, OPT_THREADS,
    OPT_VERBOSE, OPT_WARMUP, OPT_WRITERS, OPT_Z, OPT_Z_OUT,
    OPT_END_
};

// getopt_long over argv with long options only and our own messages:
//   option_parser p;
//   options_begin(&p, "sample", argc, argv, "ckpt grid help");
//   for (int c; (c = next_option(&p)) != -1;) switch (c) { case OPT_CKPT: ... optarg ... }
//   options_end(&p);
typedef struct {
    const char *command;
    int argc;
    char **argv;
    struct option table[OPT_END_ - OPT_BATCH + 1];
} option_parser;
// Starts at argv[1]; `names` lists the command's options, space-separated.
void options_begin(option_parser *p, const char *command, int argc, char **argv, const char *names);
// The next option (OPT_*, its value in optarg), or -1 after the last. An unknown option, or one
// without its value, is a usage error.
int next_option(option_parser *p);
// After the options: an operand left over is a usage error.
void options_end(const option_parser *p);
// "name" of option OPT_* (without the dashes).
const char *option_name(int opt);

// Strict number parsing for option values: on a bad value prints
// "error: --NAME: 'VALUE' is not a valid ..." and exits with status 2.
long parse_long(const char *option, const char *value, long min, long max);
float parse_float(const char *option, const char *value, float min, float max);
unsigned long long parse_seed(const char *option, const char *value);
// --precision fp32 | bf16 (a usage error otherwise).
dcgan_dtype parse_precision(const char *command, const char *value);
// --threads N: the OpenMP threads every op (ours, oneDNN's, OpenBLAS's) runs on.
void set_threads(const char *value);
// Prints "error: ..." plus a hint to run --help, and exits 2.
void usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

// ---------------------------------------------------------------------------------------------
// The options of the commands that run a generator (sample, interpolate, arithmetic).

#define GENERATOR_OPTIONS "ckpt device batch-size seed bn z grid class no-ema"
typedef struct {
    const char *ckpt, *device, *z_path, *grid, *class_arg;
    unsigned long long seed;
    int seed_given;
    int no_ema;                 // --ckpt RUN_DIR: netG.safetensors even where netG_ema.safetensors is
    bn_mode bn;
    int batch;
} generator_options;
#define GENERATOR_DEFAULTS {.device = "auto", .seed = 1, .bn = BN_RUNNING, .batch = 64}
// Takes option c (value arg) when it is one of GENERATOR_OPTIONS: 1, else 0.
int generator_option(generator_options *o, const char *command, int c, const char *arg);
// options_end, then --ckpt is required.
void generator_options_end(const option_parser *p, const generator_options *o);
// generator_open with the options; on failure prints "error: ..." and returns -1.
int open_generator(generator *g, const generator_options *o);
// 0 when the latent vectors read from path (`cols` values each) suit a generator of nz; else
// prints the error and returns -1.
int check_latents(const char *path, int cols, int nz);

#endif
