// dcgan: train DCGANs and use their generators.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

// One line per subcommand: name, entry point, one-line summary for the usage text.
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"train", cmd_train, "train a DCGAN"},
    {"sample", cmd_sample, "write images from a trained generator"},
    {"interpolate", cmd_interpolate, "walk between latent vectors: a grid or video frames"},
    {"arithmetic", cmd_arithmetic, "latent vector arithmetic on exemplars of a sample sheet"},
    {"plot", cmd_plot, "draw a run's losses and D outputs (and its progress GIF)"},
    {"bench", cmd_bench, "measure training throughput on synthetic data"},
    {"prepare", cmd_prepare, "decode and preprocess a dataset into its cache"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f) {
    fprintf(f, "usage: dcgan <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\ndcgan <command> --help documents every option and its default; dcgan --version prints the\n"
               "version, the backends built in and the versions of the libraries they use.\n");
}

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

bn_mode parse_bn(const char *command, const char *value) {
    if (!strcmp(value, "running")) return BN_RUNNING;
    if (!strcmp(value, "batch")) return BN_BATCH;
    usage_error(command, "--bn: expected running or batch, got '%s'", value);
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

int main(int argc, char **argv) {
    if (argc < 2) { print_usage(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { print_usage(stdout); return 0; }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        char versions[1024];
        backend_versions(versions, sizeof versions);
        printf("%s\n", versions);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "error: unknown command '%s'\n", cmd);
    print_usage(stderr);
    return 2;
}
