// Inception-v3 forward throughput (the FID features, inception_features) on one backend: random
// images in [0, 1] mapped to [-1, 1] as pytorch-fid's forward does (scale 2, shift -1), resized to
// 299 x 299 inside the network. One warm-up batch (it plans the convolutions), then --repeats
// timed passes over --images images; prints images/s per repeat, the median, and GFLOP/s from
// the convolutions' FLOPs. benchmarks/pytorch_inception.py times pytorch-fid's InceptionV3 the
// same way; benchmarks/inception_cpu.sh runs both and prints the ratio.
// Usage: bench_inception [--device cpu|cpu-ref|cuda] [--batch B] [--size S] [--nc C] [--images N]
//                        [--repeats R] [--threads T] [--weights FILE] [--json]
// Without --weights the network carries the formula weights of tests/inception_random.c (the
// speed does not depend on the values), written to a temporary file that is removed after.
#include <errno.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/backend.h"
#include "dcgan/clock.h"
#include "dcgan/eval.h"
#include "dcgan/model.h"
#include "inception_random.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_inception [options]\n"
            "  --device D     cpu | cpu-ref | cuda (default cpu)\n"
            "  --batch B      images per network batch (default 50, pytorch-fid's)\n"
            "  --size S       input image side (default 64)\n"
            "  --nc C         input channels, 1 or 3 (default 3)\n"
            "  --images N     images per timed repeat (default 200)\n"
            "  --repeats R    timed repeats (default 3)\n"
            "  --threads T    OpenMP threads (default: OpenMP's)\n"
            "  --weights FILE the network's weights (default: formula weights in a temporary file)\n"
            "  --write-formula-weights FILE  write the formula weights (tests/inception_random.c) and exit\n"
            "  --json         print one JSON line after the text (the text goes to stderr)\n");
}

static long parse_long(const char *opt, const char *v, long lo, long hi) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "error: %s wants an integer in [%ld, %ld], got '%s'\n", opt, lo, hi, v);
        exit(2);
    }
    return x;
}

static int compare_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// FLOPs of one image through the network: 2 * oc * ic * kh * kw * oh * ow per convolution (the
// pools, resize, copies and batchnorm/ReLU are left out; they are a small share).
static double graph_flops(int c, int h, int w) {
    dcgan_net g;
    const inception_input in = {.c = c, .h = h, .w = w, .scale = 1.0f};
    double flops = 0;
    if (inception_net_describe(&g, &in) == 0)
        for (int i = 0; i < g.nlayers; i++) {
            const layer *l = &g.layers[i];
            if (l->type == &layer_conv) flops += 2.0 * l->OC * l->C * l->p.kh * l->p.kw * l->OH * l->OW;
        }
    dcgan_net_free(&g);
    return flops;
}

int main(int argc, char **argv) {
    const char *device = "cpu", *weights = NULL;
    int batch = 50, size = 64, nc = 3, repeats = 3, threads = 0, json = 0;
    long images = 200;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (i + 1 >= argc || strncmp(a, "--", 2)) {
            fprintf(stderr, "error: %s: unknown option or missing value\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--device")) device = v;
        else if (!strcmp(a, "--batch")) batch = (int)parse_long(a, v, 1, 4096);
        else if (!strcmp(a, "--size")) size = (int)parse_long(a, v, 1, 4096);
        else if (!strcmp(a, "--nc")) nc = (int)parse_long(a, v, 1, 3);
        else if (!strcmp(a, "--images")) images = parse_long(a, v, 1, 10000000);
        else if (!strcmp(a, "--repeats")) repeats = (int)parse_long(a, v, 1, 100000);
        else if (!strcmp(a, "--threads")) threads = (int)parse_long(a, v, 1, 4096);
        else if (!strcmp(a, "--weights")) weights = v;
        else if (!strcmp(a, "--write-formula-weights")) {   // for scripts that need a weights file
            char err[512];
            if (inception_random_write(v, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
            printf("wrote the formula weights to %s\n", v);
            return 0;
        } else {
            fprintf(stderr, "error: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (nc != 1 && nc != 3) { fprintf(stderr, "error: --nc must be 1 or 3\n"); return 2; }
    if (threads) omp_set_num_threads(threads);
    FILE *text = json ? stderr : stdout;

    char err[512];
    const dcgan_backend *be = backend_select(device, NULL, err, sizeof err);
    if (!be) {
        fprintf(stderr, "%s: %s\n", strcmp(device, "cuda") ? "error" : "skipped", err);
        return strcmp(device, "cuda") ? 1 : 77;   // no GPU: skipped, as the other GPU benchmarks
    }
    char what[1024];
    be->describe(be, what, sizeof what);
    fprintf(text, "%s\n", what);

    // The formula weights in a temporary directory of their own, removed at the end.
    char dir[512] = "", path[600];
    if (!weights) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/bench_inception.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) { fprintf(stderr, "error: mkdtemp %s: %s\n", dir, strerror(errno)); return 1; }
        snprintf(path, sizeof path, "%s/inception-formula.safetensors", dir);
        if (inception_random_write(path, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            remove(path);
            rmdir(dir);
            return 1;
        }
        weights = path;
    }
    inception *net = NULL;
    const int rc = inception_open(&net, weights, be, batch, err, sizeof err);
    if (dir[0]) {   // loaded (or failed): the file is not needed any more
        remove(path);
        rmdir(dir);
    }
    if (rc) { fprintf(stderr, "error: %s\n", err); return 1; }

    // Random images in [0, 1] (a 64-bit LCG's top 24 bits), room for the warm-up batch too.
    const long nimg = images > batch ? images : batch;
    const size_t per = (size_t)nc * size * size;
    float *img = malloc((size_t)nimg * per * sizeof(float));
    float *feat = malloc((size_t)nimg * INCEPTION_FEATURES * sizeof(float));
    double *ips = malloc((size_t)repeats * sizeof(double));
    if (!img || !feat || !ips) { fprintf(stderr, "error: out of memory\n"); return 1; }
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < (size_t)nimg * per; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        img[i] = (float)(state >> 40) * (1.0f / 16777216.0f);
    }
    if (images % batch)
        fprintf(stderr, "note: %ld images are not a multiple of the batch (%d): the last batch is padded to a full one\n",
                images, batch);
    const inception_input in = {.c = nc, .h = size, .w = size, .scale = 2.0f, .shift = -1.0f};

    if (inception_features(net, feat, img, batch, &in, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    be->sync(be);
    for (int r = 0; r < repeats; r++) {
        const double t0 = monotonic_seconds();
        if (inception_features(net, feat, img, images, &in, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            return 1;
        }
        be->sync(be);
        ips[r] = (double)images / (monotonic_seconds() - t0);
        fprintf(text, "repeat %d: %.2f images/s\n", r + 1, ips[r]);
    }
    double *sorted = malloc((size_t)repeats * sizeof(double));
    if (!sorted) { fprintf(stderr, "error: out of memory\n"); return 1; }
    memcpy(sorted, ips, (size_t)repeats * sizeof(double));
    qsort(sorted, (size_t)repeats, sizeof(double), compare_double);
    const double median = repeats % 2 ? sorted[repeats / 2] : 0.5 * (sorted[repeats / 2 - 1] + sorted[repeats / 2]);
    const double flops = graph_flops(nc, size, size);
    const int nthreads = omp_get_max_threads();
    fprintf(text,
            "dcgan inception (%s, %d threads): size %d nc %d batch %d, %ld images x %d repeats: median %.2f images/s,"
            " %.2f GFLOP/image (convolutions), %.1f GFLOP/s\n",
            be->name, nthreads, size, nc, batch, images, repeats, median, flops / 1e9, median * flops / 1e9);
    if (json) {
        printf("{\"impl\":\"dcgan\",\"backend\":\"%s\",\"size\":%d,\"nc\":%d,\"batch\":%d,\"images\":%ld,\"repeats\":%d,"
               "\"threads\":%d,\"images_per_s\":%.3f,\"repeat_images_per_s\":[",
               be->name, size, nc, batch, images, repeats, nthreads, median);
        for (int r = 0; r < repeats; r++) printf("%s%.3f", r ? "," : "", ips[r]);
        printf("],\"gflop_per_image\":%.4f,\"gflop_per_s\":%.2f}\n", flops / 1e9, median * flops / 1e9);
    }
    free(sorted);
    free(ips);
    free(feat);
    free(img);
    inception_close(net);
    return 0;
}
