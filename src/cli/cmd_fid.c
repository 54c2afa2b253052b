// dcgan fid: FID and KID of a generator against its dataset, or of two image folders (or saved
// feature sets), with pytorch-fid's Inception-v3 on our backend.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "dcgan/clock.h"
#include "dcgan/error.h"
#include "dcgan/eval.h"
#include "dcgan/train.h"

static void help(void) {
    char weights[4096];
    printf(
        "usage: dcgan fid --ckpt RUN_DIR|netG.safetensors [--dataset KIND --data PATH] [options]\n"
        "       dcgan fid A B [options]     A, B: image folders or saved feature sets (.safetensors)\n"
        "       dcgan fid A --save-stats FILE\n"
        "FID (Heusel et al., as pytorch-fid computes it) and KID (as torch-fidelity) of a generator's\n"
        "images against its training data, or of two sets of images.\n"
        "\n"
        "  --ckpt FILE|DIR      generator; a run directory means its netG_ema.safetensors when it has\n"
        "                       one (else netG), and its dataset unless --dataset says otherwise\n"
        "  --no-ema             with a run directory: netG.safetensors, not the moving average\n"
        "  --dataset KIND       the reference data, read at the generator's size and channels\n"
        "  --data PATH          (see dcgan train --help)\n"
        "  --classes A,B        lsun: the classes to read\n"
        "  --cache DIR          where the data cache and the dataset's reference statistics are kept\n"
        "                       (computed once)                        [the run directory, or --ckpt's]\n"
        "  --count N            generated images, and dataset images in the reference (all of them\n"
        "                       when the dataset has fewer)                           [50000]\n"
        "  --seed S             the latent vectors of `dcgan sample --seed S`         [1]\n"
        "  --size N             folders: images are resized to N x N (Resize + CenterCrop)\n"
        "                                                         [the first image's shorter side]\n"
        "  --kid-subsets N      KID over N subsets of 1000 vectors (0: no KID)       [100]\n"
        "  --save-stats FILE    also save the generated (or A's) feature set: mean, covariance and\n"
        "                       the features KID needs, for later use as an operand\n"
        "  --inception FILE     the network's weights     [%s]\n"
        "  --batch-size N       images per Inception pass            [50 on a GPU, 10 on the CPU]\n"
        "  --device D           cpu | cuda | auto                                     [auto]\n"
        "  --json               print the scores as one JSON object\n"
        "\n"
        "The weights are pytorch-fid's pt_inception-2015-12-05-6726825d.pth, converted once with\n"
        "  python3 scripts/inception_weights.py pt_inception-2015-12-05-6726825d.pth\n"
        "Generated images are scored as the PNG files `dcgan sample --out-dir` would write (8-bit\n"
        "pixels); dataset images as pytorch-fid reads files (pixels / 255), each resized to 299 x 299.\n",
        inception_default_weights(weights, sizeof weights));
}

typedef struct {
    const char *ckpt, *dataset, *data, *classes, *cache, *save_stats, *weights, *device;
    long count;
    unsigned long long seed;
    int size, kid_subsets, batch, json, no_ema;
    const char *operand[2];
    int noperands;
} fid_options;

static int is_dir(const char *p) {
    struct stat st;
    return !stat(p, &st) && S_ISDIR(st.st_mode);
}

// One operand: a saved feature set, or the features of a folder's images.
static int operand_set(inception *net, const fid_options *o, const char *path, fid_set *set, char *err, size_t errlen) {
    if (!is_dir(path)) return fid_set_load(set, path, NULL, err, errlen);
    int size = o->size, w, h;
    if (!size) {
        if (folder_first_image_size(path, &w, &h, err, errlen)) return -1;
        size = w < h ? w : h;
    }
    dataset_options dopt = {.cache = o->cache, .progress = 1};
    dcgan_dataset ds;
    if (dataset_load_opts(&ds, "folder", path, size, 3, 0, &dopt, err, errlen)) return -1;
    printf("fid: %s: %d images at %d x %d\n", path, ds.n, size, size);
    float *features;
    long n;
    int rc = fid_dataset_features(net, &ds, o->count, 0, 1, &features, &n, err, errlen);
    dataset_free(&ds);
    if (!rc) rc = fid_set_make(set, features, n, err, errlen);
    free(features);
    return rc;
}

// The generated set of --ckpt and the reference set of its dataset.
static int generator_sets(inception *net, const fid_options *o, fid_set *gen, fid_set *ref, char *err, size_t errlen) {
    char ckpt_buf[4200], cache[4096];
    const char *ckpt = generator_checkpoint(o->ckpt, !o->no_ema, ckpt_buf, sizeof ckpt_buf);
    const int run_dir = ckpt != o->ckpt;
    run_options run = {0};
    if (run_dir && run_load_options(o->ckpt, &run, err, errlen)) return -1;
    const char *kind = o->dataset ? o->dataset : run.dataset;
    const char *data = o->dataset ? o->data : run.data_path;
    const char *classes = o->dataset ? o->classes : run.classes;
    if (!kind) return set_error(err, errlen, "--ckpt %s is not a run directory: --dataset and --data say what to compare with", o->ckpt);
    if (!dataset_kind_valid(kind)) return set_error(err, errlen, "--dataset: unknown kind '%s' (valid: %s)", kind, dataset_kinds);
    // The reference statistics (and the data cache) beside the run's, or beside the checkpoint.
    if (o->cache) snprintf(cache, sizeof cache, "%s", o->cache);
    else if (run_dir) snprintf(cache, sizeof cache, "%s", o->ckpt);
    else {
        const char *slash = strrchr(ckpt, '/');
        snprintf(cache, sizeof cache, "%.*s", slash ? (int)(slash - ckpt) : 1, slash ? ckpt : ".");
    }
    const dcgan_backend *be = inception_backend(net);
    dcgan_net G;
    if (ckpt_load_net(&G, ckpt, 1, be, err, errlen)) return -1;
    printf("fid: generator %s (%d px, %d channel%s)\n", ckpt, G.cfg.size, G.cfg.nc, G.cfg.nc > 1 ? "s" : "");
    dataset_options dopt = {.cache = cache, .classes = classes, .progress = 1};
    dcgan_dataset ds;
    int rc = dataset_load_opts(&ds, kind, data, G.cfg.size, G.cfg.nc, 0, &dopt, err, errlen);
    if (!rc) {
        char path[4600], key[12000];
        const fid_reference_source src = {.kind = kind, .data = data, .classes = classes, .weights = o->weights,
                                          .size = G.cfg.size, .nc = G.cfg.nc, .count = o->count};
        fid_reference_name(path, sizeof path, key, sizeof key, cache, &src);
        rc = fid_reference(ref, net, &ds, o->count, path, key, 1, err, errlen);
        dataset_free(&ds);
    }
    float *features = NULL;
    if (!rc) rc = fid_generator_features(net, &G, o->count, o->seed, 1, &features, err, errlen);
    if (!rc) rc = fid_set_make(gen, features, o->count, err, errlen);
    free(features);
    dcgan_net_free(&G);
    return rc;
}

static int run(const fid_options *o) {
    char err[2048];
    const char *notice = NULL;
    const dcgan_backend *be = backend_select(o->device, &notice, err, sizeof err);
    if (!be) { fprintf(stderr, "error: %s\n", err); return 1; }
    if (notice) fprintf(stderr, "note: --device auto: %s; using the CPU\n", notice);
    inception *net = NULL;
    const int batch = o->batch ? o->batch : inception_default_batch(be);
    if (inception_open(&net, o->weights, be, batch, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    fid_set a = {0}, b = {0};
    int rc = 1;
    const double t0 = monotonic_seconds();
    if (o->ckpt ? generator_sets(net, o, &a, &b, err, sizeof err)
                : operand_set(net, o, o->operand[0], &a, err, sizeof err) ||
                      (o->noperands > 1 && operand_set(net, o, o->operand[1], &b, err, sizeof err))) {
        fprintf(stderr, "error: %s\n", err);
        goto done;
    }
    if (o->save_stats) {
        if (fid_set_save(&a, o->save_stats, NULL, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
        printf("fid: saved the feature set of %ld images to %s\n", a.stats.count, o->save_stats);
    }
    if (!o->ckpt && o->noperands < 2) { rc = 0; goto done; }
    fid_scores s;
    if (fid_scores_of(&a, &b, o->kid_subsets, &s, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto done; }
    const double seconds = monotonic_seconds() - t0;
    if (o->json) {
        printf("{\"fid\": %.6f", s.fid);
        if (s.has_kid) printf(", \"kid\": %.8f, \"kid_std\": %.8f, \"kid_subset_size\": %d", s.kid, s.kid_std, s.kid_subset_size);
        printf(", \"count_a\": %ld, \"count_b\": %ld, \"seconds\": %.2f, \"device\": \"%s\"}\n", a.stats.count,
               b.stats.count, seconds, be->name);
    } else {
        printf("FID %.4f", s.fid);
        if (s.has_kid) printf("  KID %.6f +- %.6f (%d subsets of %d)", s.kid, s.kid_std, o->kid_subsets, s.kid_subset_size);
        printf("  (%ld %s images against %ld; %.1f s)\n", a.stats.count, o->ckpt ? "generated" : "A", b.stats.count, seconds);
    }
    rc = 0;
done:
    fid_set_free(&a);
    fid_set_free(&b);
    inception_close(net);
    return rc;
}

int cmd_fid(int argc, char **argv) {
    static char weights[4096];
    fid_options o = {.count = 50000, .seed = 1, .kid_subsets = KID_SUBSETS, .device = "auto",
                     .weights = inception_default_weights(weights, sizeof weights)};
    option_parser p;
    options_begin(&p, "fid", argc, argv,
                  "ckpt no-ema dataset data classes cache count seed size kid-subsets save-stats inception batch-size "
                  "device json help");
    for (int c; (c = next_option(&p)) != -1;) {
        switch (c) {
        case OPT_CKPT: o.ckpt = optarg; break;
        case OPT_NO_EMA: o.no_ema = 1; break;
        case OPT_DATASET: o.dataset = optarg; break;
        case OPT_DATA: o.data = optarg; break;
        case OPT_CLASSES: o.classes = optarg; break;
        case OPT_CACHE: o.cache = optarg; break;
        case OPT_COUNT: o.count = parse_long("--count", optarg, 2, 10000000); break;
        case OPT_SEED: o.seed = parse_seed("--seed", optarg); break;
        case OPT_SIZE: o.size = (int)parse_long("--size", optarg, 1, 4096); break;
        case OPT_KID_SUBSETS: o.kid_subsets = (int)parse_long("--kid-subsets", optarg, 0, 100000); break;
        case OPT_SAVE_STATS: o.save_stats = optarg; break;
        case OPT_INCEPTION: o.weights = optarg; break;
        case OPT_BATCH: o.batch = (int)parse_long("--batch-size", optarg, 1, 4096); break;
        case OPT_DEVICE: o.device = optarg; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_HELP: help(); return 0;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o.noperands == 2) usage_error("fid", "unexpected argument '%s': at most two sets (A B)", argv[i]);
        o.operand[o.noperands++] = argv[i];
    }
    if (o.ckpt && o.noperands) usage_error("fid", "give --ckpt or the sets A B, not both");
    if (!o.ckpt && !o.noperands) usage_error("fid", "nothing to compare: --ckpt RUN_DIR, or two sets A B");
    if (!o.ckpt && o.noperands == 1 && !o.save_stats)
        usage_error("fid", "one set (%s): give a second one to compare with, or --save-stats FILE", o.operand[0]);
    if (!o.ckpt && (o.dataset || o.data)) usage_error("fid", "--dataset and --data go with --ckpt");
    if (o.dataset && !o.data && !strcmp(o.dataset, "fashion-mnist")) o.data = DEFAULT_FASHION_MNIST;
    if (o.dataset && !o.data && strcmp(o.dataset, "synthetic")) usage_error("fid", "--dataset %s needs --data PATH", o.dataset);
    if (o.no_ema && !o.ckpt) usage_error("fid", "--no-ema goes with --ckpt");
    return run(&o);
}
