// A run directory against the reference run's: see run_dir_check.h.
#include "run_dir_check.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dcgan/io.h"
#include "test_util.h"

#define MAX_LINES 4096

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void quiet_leak_report(void) {
    const char *now = getenv("LSAN_OPTIONS");
    char options[2048];
    snprintf(options, sizeof options, "%s%sprint_suppressions=0", now ? now : "", now && *now ? ":" : "");
    setenv("LSAN_OPTIONS", options, 1);
}

double train_reference(const char *dir, long iters) {
    char err[4096];
    double t0 = now_seconds();
    int rc = run_dcgan(err, sizeof err, CHECK_RUN_NEW " --iters %ld --out %s", iters, dir);
    if (rc) fprintf(stderr, "FAIL reference run: exit %d: %s", rc, err);
    CHECK(rc == 0);
    return now_seconds() - t0;
}

// The file names of dir, sorted; the count, -1 when dir cannot be read. Free with free_names.
static int list_names(const char *dir, struct dirent ***names) {
    return scandir(dir, names, NULL, alphasort);
}

static void free_names(struct dirent **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

int has_temp_files(const char *dir) {
    struct dirent **names;
    int n = list_names(dir, &names), found = 0;
    for (int i = 0; i < n && !found; i++)
        if (strstr(names[i]->d_name, ".tmp.")) {
            printf("temporary file left in %s: %s\n", dir, names[i]->d_name);
            found = 1;
        }
    if (n >= 0) free_names(names, n);
    return found;
}

// The lines of a text file (each with its newline, when it has one); the count, -1 when unreadable.
static int read_lines(const char *path, char **lines, int max) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    while (n < max && getline(&line, &cap, f) > 0) lines[n++] = strdup(line);
    free(line);
    fclose(f);
    return n;
}

static void free_lines(char **lines, int n) {
    for (int i = 0; i < n; i++) free(lines[i]);
}

// A record's text up to its timing fields (images_per_s, time_s: the only ones that may differ).
static size_t loss_part(const char *line) {
    const char *t = strstr(line, ",\"images_per_s\"");
    return t ? (size_t)(t - line) : strlen(line);
}

static void compare_metrics(const char *ref, const char *run, long iters) {
    char path[1024];
    static char *a[MAX_LINES], *b[MAX_LINES];
    snprintf(path, sizeof path, "%s/metrics.jsonl", ref);
    int na = read_lines(path, a, MAX_LINES);
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    int nb = read_lines(path, b, MAX_LINES), bad = -1;
    for (int k = 0; k < nb && bad < 0; k++) {
        long it = -1;
        int whole = b[k][strlen(b[k]) - 1] == '\n';
        if (!whole || sscanf(b[k], "{\"iter\":%ld,", &it) != 1 || it != k + 1 || k >= na ||
            loss_part(b[k]) != loss_part(a[k]) || memcmp(a[k], b[k], loss_part(b[k])))
            bad = k;
    }
    printf("metrics.jsonl: %d records (the reference %d)%s", nb, na, bad < 0 ? ", iterations 1.. once each, losses"
           " byte for byte the reference's\n" : "; FIRST DIFFERENCE at line ");
    if (bad >= 0) printf("%d:\n  %s  reference: %s", bad + 1, b[bad], bad < na ? a[bad] : "(none)\n");
    CHECK(na == iters && nb == iters && bad < 0);
    free_lines(a, na > 0 ? na : 0);
    free_lines(b, nb > 0 ? nb : 0);
}

// The loss scalars of a run directory as TensorBoard's EventAccumulator reads them ("scalar TAG
// STEP VALUE" lines); the count, -1 when the tensorboard package is absent.
static int read_loss_scalars(const char *dir, char **lines, int max) {
    char cmd[1200], line[512];
    snprintf(cmd, sizeof cmd, "python3 read_tensorboard.py '%s' 2>/dev/null", dir);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int n = 0, skipped = 0;
    while (fgets(line, sizeof line, p)) {
        if (!strncmp(line, "skipped", 7)) skipped = 1;
        else if (!strncmp(line, "scalar loss/", 12) && n < max) lines[n++] = strdup(line);
    }
    pclose(p);
    if (skipped) free_lines(lines, n);
    return skipped ? -1 : n;
}

// Each loss tag's steps are 1..iters, once each and in order.
static int steps_once(char **lines, int n, long iters) {
    char tag[128] = "", prev[128] = "";
    long step, want = 0;
    int tags = 0;
    for (int i = 0; i < n; i++) {
        if (sscanf(lines[i], "scalar %127s %ld", tag, &step) != 2) return 0;
        if (strcmp(tag, prev)) {
            if (tags++ && want != iters) return 0;
            snprintf(prev, sizeof prev, "%s", tag);
            want = 0;
        }
        if (step != ++want) return 0;
    }
    return tags == 4 && want == iters;   // loss/D, loss/D_fake, loss/D_real, loss/G
}

static int compare_tensorboard(const char *ref, const char *run, long iters) {
    static char *a[4 * MAX_LINES], *b[4 * MAX_LINES];
    int na = read_loss_scalars(ref, a, 4 * MAX_LINES), nb = na < 0 ? -1 : read_loss_scalars(run, b, 4 * MAX_LINES);
    if (na < 0 || nb < 0) {
        printf("note: the tensorboard package is not installed (pip install tensorboard): TensorBoard's reading not checked\n");
        if (na >= 0) free_lines(a, na);
        return 0;
    }
    int same = na == nb;
    for (int i = 0; i < na && same; i++) same = !strcmp(a[i], b[i]);
    int once = steps_once(b, nb, iters);
    printf("TensorBoard (EventAccumulator on the directory): %d loss scalars, %s, %s\n", nb,
           once ? "each step once" : "STEPS MISSING OR REPEATED", same ? "equal to the reference's" : "DIFFERENT from the reference's");
    CHECK(once && same);
    free_lines(a, na);
    free_lines(b, nb);
    return 1;
}

static int same_bytes(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb, ca = 0, cb = 0;
    while (same && ca != EOF) {
        ca = fgetc(fa);
        cb = fgetc(fb);
        same = ca == cb;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static int is_events(const char *name) { return !strncmp(name, "events.out.tfevents.", 20); }

// The same names (one events file each), the pictures byte for byte, no temporary file.
static void compare_files(const char *ref, const char *run) {
    struct dirent **a, **b;
    int na = list_names(ref, &a), nb = list_names(run, &b), ia = 0, ib = 0, events = 0, pictures = 0, same = 1;
    while (same && (ia < na || ib < nb)) {
        if (ib < nb && is_events(b[ib]->d_name)) { events++; ib++; continue; }
        if (ia < na && is_events(a[ia]->d_name)) { ia++; continue; }
        const char *x = ia < na ? a[ia]->d_name : "", *y = ib < nb ? b[ib]->d_name : "";
        same = !strcmp(x, y);
        if (!same) printf("file names differ from the reference's: %s / %s\n", x[0] ? x : "(none)", y[0] ? y : "(none)");
        if (same && (strstr(x, "samples_") || !strcmp(x, "progress.gif"))) {
            char pa[1024], pb[1024];
            snprintf(pa, sizeof pa, "%s/%s", ref, x);
            snprintf(pb, sizeof pb, "%s/%s", run, y);
            same = same_bytes(pa, pb);
            if (!same) printf("%s differs from the reference's\n", y);
            pictures++;
        }
        ia++;
        ib++;
    }
    printf("files: the reference's names, %d events file, %d pictures byte for byte the reference's: %s\n", events,
           pictures, same && events == 1 ? "yes" : "NO");
    CHECK(same && events == 1 && !has_temp_files(run));
    if (na >= 0) free_names(a, na);
    if (nb >= 0) free_names(b, nb);
}

int check_same_run(const char *ref, const char *run, long iters) {
    const char *tensor_files[] = {"netG.safetensors", "netD.safetensors", "train_state.safetensors"};
    for (int i = 0; i < 3; i++) CHECK(same_tensors("against the uninterrupted run", ref, run, tensor_files[i]));
    compare_metrics(ref, run, iters);
    int tb = compare_tensorboard(ref, run, iters);
    compare_files(ref, run);
    char err[4096];
    int rc = run_dcgan(err, sizeof err, "plot %s", run);
    printf("dcgan plot: exit %d%s%s", rc, err[0] ? ", " : "\n", err);
    CHECK(rc == 0 && !err[0]);
    return tb;
}
