// dcgan: train DCGANs and use their generators.
#include <stdio.h>
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
    {"fid", cmd_fid, "FID and KID of a generator against its data, or of two image sets"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f) {
    fprintf(f, "usage: dcgan <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\ndcgan <command> --help documents every option and its default; dcgan --version prints the\n"
               "version, the backends built in and the versions of the libraries they use.\n");
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
