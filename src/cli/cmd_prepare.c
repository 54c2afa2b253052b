// dcgan prepare: decodes and preprocesses a dataset into its cache, so that training starts
// from the memory-mapped cache.
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "dcgan/data.h"

static void help(void) {
    printf(
        "usage: dcgan prepare --dataset KIND --data PATH [options]\n"
        "Decodes and preprocesses a dataset (Resize + CenterCrop at --size) into the cache that\n"
        "dcgan train maps on later runs. Use the same --size, --nc, --classes and --cache (or --out)\n"
        "as the training run.\n"
        "\n"
        "  --dataset KIND       folder | lsun | cifar10\n"
        "  --data PATH          the dataset (see dcgan train --help)\n"
        "  --classes A,B        lsun: the classes to read                          [all]\n"
        "  --size N             image size                                         [32]\n"
        "  --nc N               image channels: 1 or 3                             [3]\n"
        "  --cache PATH         cache directory, or a .dcgancache file             [--out]\n"
        "  --out DIR            the run directory the cache goes into by default   [out]\n"
        "  --strict             stop on an undecodable image instead of skipping it\n");
}

int cmd_prepare(int argc, char **argv) {
    const char *kind = NULL, *path = NULL, *out = "out";
    dataset_options opt = {.progress = 1};
    long size = 32, nc = 3;
    option_parser p;
    options_begin(&p, "prepare", argc, argv, "dataset data classes size nc cache out strict help");
    for (int c; (c = next_option(&p)) != -1;) {
        switch (c) {
        case OPT_DATASET: kind = optarg; break;
        case OPT_DATA: path = optarg; break;
        case OPT_CLASSES: opt.classes = optarg; break;
        case OPT_SIZE: size = parse_long("--size", optarg, 1, 4096); break;
        case OPT_NC: nc = parse_long("--nc", optarg, 1, 3); break;
        case OPT_CACHE: opt.cache = optarg; break;
        case OPT_OUT: out = optarg; break;
        case OPT_STRICT: opt.strict = 1; break;
        case OPT_HELP: help(); return 0;
        }
    }
    options_end(&p);
    if (!kind) usage_error("prepare", "--dataset is required (folder, lsun or cifar10)");
    if (strcmp(kind, "folder") && strcmp(kind, "lsun") && strcmp(kind, "cifar10")) {
        if (dataset_kind_valid(kind))
            usage_error("prepare", "--dataset %s is read directly; only folder, lsun and cifar10 are cached", kind);
        usage_error("prepare", "--dataset: unknown kind '%s' (valid: %s)", kind, dataset_kinds);
    }
    if (!path) usage_error("prepare", "--dataset %s needs --data PATH", kind);
    if (nc == 2) usage_error("prepare", "--nc must be 1 or 3");
    if (!opt.cache) opt.cache = out;
    dcgan_dataset ds;
    char err[1024];
    if (dataset_load_opts(&ds, kind, path, (int)size, (int)nc, 0, &opt, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    printf("prepared %d images of %ldx%ldx%ld", ds.n, nc, size, size);
    if (ds.nclasses) printf(" in %d classes", ds.nclasses);
    printf("\n");
    dataset_free(&ds);
    return 0;
}
