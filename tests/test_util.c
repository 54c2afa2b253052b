#define _XOPEN_SOURCE 700   // nftw
#include "test_util.h"
#include "dcgan/backend.h"
#include "dcgan/io.h"
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/wait.h>
#include <unistd.h>

int test_failures = 0;

// Every test's stdout is line-buffered, so that in a log that merges it with stderr (ctest's) a
// FAIL line lands after the lines printed before it, not inside one of them.
__attribute__((constructor)) static void line_buffered_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

int check_close(const char *name, const float *got, const float *expected, size_t n,
                double atol, double rtol) {
    double max_abs = 0, max_rel = 0, of_bound = 0;   // of_bound: the largest difference / its bound
    size_t bad = 0, first_bad = 0;
    for (size_t i = 0; i < n; i++) {
        double e = expected[i], g = got[i], d = fabs(g - e), bound = atol + rtol * fabs(e);
        if (!(d <= bound)) { if (!bad) first_bad = i; bad++; }
        if (bound > 0 && d / bound > of_bound) of_bound = d / bound;
        if (d > max_abs || isnan(d)) max_abs = isnan(d) ? INFINITY : d;
        double rel = d / (fabs(e) + 1e-12);
        if (fabs(e) > atol && rel > max_rel) max_rel = rel;
    }
    printf("%-44s n=%-8zu max_abs=%.3e max_rel=%.3e of_bound=%.3f %s\n", name, n, max_abs, max_rel, of_bound,
           bad ? "MISMATCH" : "ok");
    if (bad) {
        fprintf(stderr, "FAIL %s: %zu of %zu elements differ; first at %zu: got %.8g expected %.8g\n",
                name, bad, n, first_bad, got[first_bad], expected[first_bad]);
        test_failures++;
        return 0;
    }
    return 1;
}

void fill_random(float *x, size_t n, unsigned seed, float scale) {
    unsigned long long s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = scale * (2.0f * (float)((s >> 40) & 0xFFFFFF) / 16777216.0f - 1.0f);
    }
}

int same_tensors(const char *what, const char *a_dir, const char *b_dir, const char *file) {
    char a[4096], b[4096], err[512];
    snprintf(a, sizeof a, "%s/%s", a_dir, file);
    snprintf(b, sizeof b, "%s/%s", b_dir, file);
    st_file fa, fb;
    if (st_read(a, &fa, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 0; }
    if (st_read(b, &fb, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); st_free(&fa); return 0; }
    const char *differs = fa.ntensors == fb.ntensors ? NULL : "(the number of tensors)";
    for (int i = 0; i < fa.ntensors && !differs; i++) {
        const st_tensor *t = st_find(&fb, fa.tensors[i].name);
        if (!t || t->nbytes != fa.tensors[i].nbytes || memcmp(t->data, fa.tensors[i].data, t->nbytes))
            differs = fa.tensors[i].name;
    }
    if (differs) printf("%s, %s: DIFFERENT at %s\n", what, file, differs);
    else printf("%s, %s: bit-identical\n", what, file);
    st_free(&fa);
    st_free(&fb);
    return !differs;
}

const char *make_temp_dir(const char *tag) {
    static char path[256];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/dcgan-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(path)) { perror("mkdtemp"); exit(1); }
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void remove_temp_dir(const char *path) {
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS)) perror(path);
}

int test_skip_or_fail(const char *why) {
    const char *require = getenv("DCGAN_REQUIRE_GPU");
    if (require && !strcmp(require, "1")) {
        fprintf(stderr, "FAIL DCGAN_REQUIRE_GPU=1 but the GPU is not usable: %s\n", why);
        return 1;
    }
    printf("skipped: %s\n", why);
    return 77;
}

void test_print_backend(const dcgan_backend *be) {
    char line[1024];
    be->describe(be, line, sizeof line);
    printf("%s\n", line);
}

int test_summary(const char *name) {
    if (test_failures) { printf("%s: %d check(s) FAILED\n", name, test_failures); return 1; }
    printf("%s: all checks passed\n", name);
    return 0;
}

static const char *dcgan_bin;

const char *test_dcgan_bin(int argc, char **argv, const char *test_name) {
    dcgan_bin = argc > 1 ? argv[1] : getenv("DCGAN_BIN");
    if (!dcgan_bin) {
        fprintf(stderr, "usage: %s PATH_TO_DCGAN (or set DCGAN_BIN)\n", test_name);
        exit(2);
    }
    return dcgan_bin;
}

// Reads what the command left in path into buf[n] and removes the file.
static void take_file(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "r");
    buf[0] = 0;
    if (f) { size_t got = fread(buf, 1, n - 1, f); buf[got] = 0; fclose(f); }
    remove(path);
}

static int run_args(char *outbuf, size_t outn, char *errbuf, size_t n, const char *args) {
    char cmd[4096], errfile[] = "/tmp/dcgan-test-err-XXXXXX", outfile[] = "/tmp/dcgan-test-out-XXXXXX";
    int fd = mkstemp(errfile);
    if (fd >= 0) close(fd);
    if (outbuf && (fd = mkstemp(outfile)) >= 0) close(fd);
    snprintf(cmd, sizeof cmd, "%s %s > %s 2> %s", dcgan_bin, args, outbuf ? outfile : "/dev/null", errfile);
    int status = system(cmd);
    take_file(errfile, errbuf, n);
    if (outbuf) take_file(outfile, outbuf, outn);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_dcgan(char *errbuf, size_t n, const char *fmt, ...) {
    char args[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return run_args(NULL, 0, errbuf, n, args);
}

int run_dcgan_output(char *outbuf, size_t outn, char *errbuf, size_t n, const char *fmt, ...) {
    char args[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return run_args(outbuf, outn, errbuf, n, args);
}
