// FID through the binary, with the formula weights of tests/inception_random.c (their features are
// pytorch-fid's to 4.4e-7: test_inception): train --fid-every writes FID records, the best G and the
// reference set, and --resume keeps the settings and the best score; `dcgan fid --ckpt RUN_DIR`
// equals `dcgan sample --out-dir` + `dcgan fid FOLDER REFERENCE` (generated images are scored as
// their PNG files); a cached reference gives the same score; a folder against itself scores 0;
// --save-stats files are operands; and every user mistake is one line and a non-zero exit.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "dcgan/io.h"
#include "inception_random.h"
#include "test_util.h"

static char weights[600], run[600];
static const char *dir;

// The number after "key": in text (NAN when absent).
static double json_number(const char *text, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = strstr(text, k);
    return p ? strtod(p + strlen(k), NULL) : NAN;
}

// `dcgan fid ARGS --json` on the formula weights: the FID, NAN on failure.
static double fid_of(const char *args) {
    char out[8192], err[8192];
    const int rc = run_dcgan_output(out, sizeof out, err, sizeof err, "fid %s --inception %s --device cpu --json", args,
                                    weights);
    if (rc) fprintf(stderr, "dcgan fid %s: exit %d: %s", args, rc, err);
    const char *line = strstr(out, "{\"fid\"");
    return rc || !line ? NAN : json_number(line, "fid");
}

// The FID records of a run's metrics.jsonl: iterations and scores (at most max); returns the count.
static int fid_records(const char *run_dir, long *iters, double *fids, int max) {
    char path[700], line[1024];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "\"fid\"") && n < max) {
            iters[n] = (long)json_number(line, "iter");
            fids[n++] = json_number(line, "fid");
        }
    if (f) fclose(f);
    return n;
}

static double best_of_run(const char *run_dir, long *iter) {
    char path[700], err[512];
    snprintf(path, sizeof path, "%s/netG_best.safetensors", run_dir);
    st_file f;
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "%s\n", err); return NAN; }
    const char *fid = st_meta_get(&f, "fid"), *it = st_meta_get(&f, "iteration");
    const double v = fid ? strtod(fid, NULL) : NAN;
    *iter = it ? atol(it) : -1;
    st_free(&f);
    return v;
}

// The reference file the run keeps (fid-*.safetensors in its directory).
static int reference_file(char *path, size_t n) {
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls %s/fid-*.safetensors 2>/dev/null", run);
    FILE *p = popen(cmd, "r");
    int ok = p && fgets(path, (int)n, p);
    if (p) pclose(p);
    if (ok) path[strcspn(path, "\n")] = 0;
    return ok;
}

static void training(void) {
    char err[8192];
    const char *common = "--dataset synthetic --device cpu --batch-size 16 --ngf 8 --ndf 8 --nz 16 --sample-every 0 "
                         "--ema 0.9";
    CHECK(run_dcgan(err, sizeof err, "train %s --iters 4 --fid-every 2 --fid-count 24 --inception %s --out %s", common,
                    weights, run) == 0);
    long iters[8], best_iter;
    double fids[8];
    int n = fid_records(run, iters, fids, 8);
    printf("train --fid-every 2: %d FID records:", n);
    for (int i = 0; i < n; i++) printf(" %ld: %.4f", iters[i], fids[i]);
    printf("\n");
    CHECK(n == 2 && iters[0] == 2 && iters[1] == 4 && isfinite(fids[0]) && isfinite(fids[1]) && fids[0] > 0);
    double best = best_of_run(run, &best_iter);
    const int k = n == 2 && fids[1] < fids[0] ? 1 : 0;
    printf("netG_best.safetensors: FID %.6f at iteration %ld\n", best, best_iter);
    CHECK(n == 2 && fabs(best - fids[k]) <= 1e-6 * fids[k] && best_iter == iters[k]);
    char ref[700];
    CHECK(reference_file(ref, sizeof ref));
    // --resume keeps --fid-every, --fid-count and --inception: a record at 6; the best only improves.
    CHECK(run_dcgan(err, sizeof err, "train --resume %s --iters 6", run) == 0);
    n = fid_records(run, iters, fids, 8);
    printf("after --resume --iters 6: %d FID records, the last at %ld\n", n, n ? iters[n - 1] : -1L);
    CHECK(n == 3 && iters[2] == 6);
    double best2 = best_of_run(run, &best_iter);
    CHECK(best2 <= best && fabs(best2 - fmin(fids[0], fmin(fids[1], fids[2]))) <= 1e-6 * best2);
}

static void scoring(void) {
    char args[2000], ref[700], samples[700], stats[700], err[8192];
    CHECK(reference_file(ref, sizeof ref));
    // The generator against its dataset, twice: the second run reads the kept reference set.
    snprintf(args, sizeof args, "--ckpt %s --count 24 --kid-subsets 4", run);
    const double direct = fid_of(args), again = fid_of(args);
    printf("fid --ckpt RUN_DIR: %.9g, again from the kept reference: %.9g\n", direct, again);
    CHECK(isfinite(direct) && direct == again);
    // The same images as PNG files, against the same reference set given as a file.
    snprintf(samples, sizeof samples, "%s/samples", dir);
    CHECK(run_dcgan(err, sizeof err, "sample --ckpt %s --device cpu --count 24 --seed 1 --out-dir %s", run, samples) == 0);
    snprintf(args, sizeof args, "%s %s --kid-subsets 0", samples, ref);
    const double files = fid_of(args);
    printf("sample --out-dir + fid FOLDER REFERENCE: %.9g (relative difference %.2e)\n", files,
           fabs(files - direct) / direct);
    CHECK(fabs(files - direct) <= 1e-6 * direct);
    // A saved set is an operand; a set against itself scores 0 (FID's terms cancel to rounding).
    snprintf(stats, sizeof stats, "%s/samples.safetensors", dir);
    CHECK(run_dcgan(err, sizeof err, "fid %s --save-stats %s --inception %s --device cpu", samples, stats, weights) == 0);
    snprintf(args, sizeof args, "%s %s --kid-subsets 0", stats, ref);
    const double saved = fid_of(args);
    snprintf(args, sizeof args, "%s %s --kid-subsets 0", stats, samples);
    const double self = fid_of(args);
    printf("saved set vs reference %.9g; the folder against its saved set %.3g\n", saved, self);
    CHECK(saved == files);
    CHECK(fabs(self) < 1e-6 * direct);
}

// One error line (a usage error adds its "(see: ...)" hint) naming the problem, and a non-zero exit.
static void expect_error(const char *needle, const char *fmt, const char *a) {
    char args[2000], err[8192];
    snprintf(args, sizeof args, fmt, a);
    const int rc = run_dcgan(err, sizeof err, "%s", args);
    int errors = 0;
    for (const char *p = err; (p = strstr(p, "error:")); p++) errors++;
    printf("dcgan %s -> exit %d: %s", args, rc, err);
    CHECK(rc != 0 && strstr(err, needle) && errors == 1);
}

static void mistakes(void) {
    char missing[700], empty[700], g[700], args[2000];
    snprintf(missing, sizeof missing, "%s/none.safetensors", dir);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    CHECK(mkdir(empty, 0777) == 0);
    snprintf(g, sizeof g, "%s/netG.safetensors", run);
    expect_error("pt_inception-2015-12-05-6726825d.pth", "fid --ckpt %s --count 4 --device cpu --inception /nonexistent/w.safetensors", run);
    expect_error("scripts/inception_weights.py", "train --dataset synthetic --iters 2 --fid-every 1 --device cpu "
                 "--inception /nonexistent/w.safetensors --out %s/bad", dir);
    expect_error("not both", "fid --ckpt %s a b", run);
    expect_error("nothing to compare", "fid%s", "");
    expect_error("--save-stats", "fid %s", empty);
    snprintf(args, sizeof args, "fid %%s %s --inception %s --device cpu", g, weights);
    expect_error("not a FID feature set", args, g);
    snprintf(args, sizeof args, "fid %%s %s --inception %s --device cpu", g, weights);
    expect_error("no images found", args, empty);
    snprintf(args, sizeof args, "fid --ckpt %%s --inception %s --device cpu --count 4", weights);
    expect_error("--dataset and --data", args, g);
    expect_error("--count", "fid --ckpt x --count %s", "1");
}

int main(int argc, char **argv) {
    test_dcgan_bin(argc, argv, "test_fid_cli");
    dir = make_temp_dir("fid-cli");
    char err[512];
    snprintf(weights, sizeof weights, "%s/inception-formula.safetensors", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    if (inception_random_write(weights, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }
    training();
    scoring();
    mistakes();
    remove_temp_dir(dir);
    return test_summary("test_fid_cli");
}
