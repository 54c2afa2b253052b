// TensorBoard event files: the CRC-32C of the TFRecord framing against its reference value, the
// records' framing and protobuf content read back, and the whole file read by TensorBoard's own
// event loader (tests/read_tensorboard.py; exit 77 when the tensorboard package is absent) with
// every scalar and image compared to what was written. Then a training run's events file: every
// iteration's scalars equal metrics.jsonl's, and the sample grids are its samples_*.png.
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dcgan/io.h"
#include "test_util.h"
#include "tensorboard.pb-c.h"

#define STEPS 5

static float scalar_value(int tag, int step) { return (tag ? -1.0f : 1.0f) * (0.1f * (float)step + 1.0f / 3.0f); }

static void fill_image(uint8_t *px, int w, int h, int c, int step) {
    for (int i = 0; i < w * h * c; i++) px[i] = (uint8_t)(i * 37 + step * 11);
}

static uint64_t get_le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t unmask(uint32_t m) {
    uint32_t r = m - 0xa282ead8u;
    return (r >> 17) | (r << 15);
}

// Walks the records: lengths, both CRCs, and each Event decoded with protobuf-c. Returns the
// number of summary values, -1 on a broken record; steps[] (when given) gets the first `max`
// values' steps.
static int read_back(const char *path, long *steps, int max) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int values = 0, records = 0;
    uint8_t head[12], tail[4];
    while (fread(head, 1, 12, f) == 12) {
        uint64_t n = get_le(head, 8);
        uint8_t *data = malloc(n ? n : 1);
        int ok = data && crc32c(head, 8) == unmask((uint32_t)get_le(head + 8, 4)) && fread(data, 1, n, f) == n &&
                 fread(tail, 1, 4, f) == 4 && crc32c(data, n) == unmask((uint32_t)get_le(tail, 4));
        Tensorboard__Event *ev = ok ? tensorboard__event__unpack(NULL, n, data) : NULL;
        free(data);
        if (!ev) { fclose(f); return -1; }
        if (records++ == 0) CHECK(ev->what_case == TENSORBOARD__EVENT__WHAT_FILE_VERSION);
        for (size_t i = 0; ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY && i < ev->summary->n_value; i++, values++)
            if (steps && values < max) steps[values] = (long)ev->step;
        tensorboard__event__free_unpacked(ev, NULL);
    }
    fclose(f);
    return values;
}

// The events file of a run directory (the newest when there are several).
static int find_events(const char *dir, char *out, size_t n) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int found = -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, "tfevents")) { snprintf(out, n, "%s/%s", dir, e->d_name); found = 0; }
    closedir(d);
    return found;
}

// A short training run: TensorBoard's view of its events file against metrics.jsonl and the PNGs.
static void training_run(const char *dir) {
    char err[4096], run[600], events[1200], cmd[4000], line[1024];
    snprintf(run, sizeof run, "%s/run", dir);
    CHECK(run_dcgan(err, sizeof err, "train --dataset synthetic --device cpu --iters 4 --batch-size 16 --ngf 8 --ndf 8 "
                    "--nz 16 --sample-every 2 --out %s", run) == 0);
    if (find_events(run, events, sizeof events)) { CHECK(!"the run wrote an events file"); return; }
    // metrics.jsonl's loss_g per iteration (6 significant digits).
    double loss_g[5] = {0};
    snprintf(cmd, sizeof cmd, "%s/metrics.jsonl", run);
    FILE *m = fopen(cmd, "r");
    for (long it; m && fgets(line, sizeof line, m);) {
        const char *g = strstr(line, "\"loss_g\":");
        if (sscanf(line, "{\"iter\":%ld", &it) == 1 && g && it >= 1 && it <= 4) loss_g[it] = strtod(g + 9, NULL);
    }
    if (m) fclose(m);
    snprintf(cmd, sizeof cmd, "python3 read_tensorboard.py '%s' '%s'", events, dir);
    FILE *p = popen(cmd, "r");
    int scalars = 0, matched = 0, images = 0;
    while (p && fgets(line, sizeof line, p)) {
        char tag[64], file[256];
        long step;
        float v;
        int w, h, c;
        if (sscanf(line, "scalar %63s %ld %f", tag, &step, &v) == 3) {
            scalars++;
            if (!strcmp(tag, "loss/G") && step >= 1 && step <= 4) matched += fabs(v - loss_g[step]) <= 1e-5 * fabs(loss_g[step]) + 1e-6;
        } else if (sscanf(line, "image %63s %ld %d %d %d %255s", tag, &step, &w, &h, &c, file) == 6) {
            char a[1400], b[1400];
            snprintf(a, sizeof a, "%s/%s", dir, file);
            snprintf(b, sizeof b, "%s/samples_%06ld.png", run, step);
            uint8_t *pa = NULL, *pb = NULL;
            int wa, ha, ca, wb, hb, cb;
            CHECK(!png_read(a, &pa, &wa, &ha, &ca, err, sizeof err) && !png_read(b, &pb, &wb, &hb, &cb, err, sizeof err) &&
                  wa == wb && ha == hb && ca == cb && !memcmp(pa, pb, (size_t)wa * ha * ca));
            free(pa);
            free(pb);
            images++;
        }
    }
    if (p) pclose(p);
    printf("training run: %d scalars (loss/G equal to metrics.jsonl at %d of 4 iterations), %d sample grids equal to the PNGs\n",
           scalars, matched, images);
    CHECK(scalars == 4 * 8 && matched == 4 && images == 2);
}

static int count_events_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, "tfevents") != NULL;
    if (d) closedir(d);
    return n;
}

// Reopening cuts the file back: a record a crash cut short and the steps after keep_step are
// dropped, the same file is continued, and a file with no whole record starts again.
static void cut_back(const char *parent) {
    char dir[600], err[512];
    snprintf(dir, sizeof dir, "%s/cut", parent);
    CHECK(mkdir(dir, 0777) == 0);
    tb_writer w;
    if (tb_open(&w, dir, 0, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return; }
    for (int step = 1; step <= 6; step++) CHECK(tb_scalar(&w, "loss/G", step, (float)step, err, sizeof err) == 0);
    CHECK(fwrite("\x2a\0\0\0\0\0\0\0\1\2", 1, 10, w.fp) == 10);   // a record's head, cut short
    CHECK(tb_close(&w, err, sizeof err) == 0);
    char first[4096];
    snprintf(first, sizeof first, "%s", w.path);
    CHECK(tb_open(&w, dir, 4, err, sizeof err) == 0 && !strcmp(w.path, first));
    CHECK(tb_scalar(&w, "loss/G", 5, 50.0f, err, sizeof err) == 0);
    CHECK(tb_close(&w, err, sizeof err) == 0);
    long steps[8] = {0};
    int n = read_back(first, steps, 8);
    printf("cut back to step 4 and continued: %d values, steps %ld %ld %ld %ld %ld\n", n, steps[0], steps[1], steps[2],
           steps[3], steps[4]);
    CHECK(n == 5 && steps[0] == 1 && steps[3] == 4 && steps[4] == 5 && count_events_files(dir) == 1);
    FILE *f = fopen(first, "wb");   // nothing whole left: the file starts again with its version
    CHECK(f && fwrite("garbage", 1, 7, f) == 7);
    if (f) fclose(f);
    CHECK(tb_open(&w, dir, 4, err, sizeof err) == 0 && tb_close(&w, err, sizeof err) == 0);
    CHECK(read_back(first, NULL, 0) == 0 && count_events_files(dir) == 1);
}

int main(int argc, char **argv) {
    test_dcgan_bin(argc, argv, "test_tensorboard");
    CHECK(crc32c("123456789", 9) == 0xE3069283u);   // the CRC-32C check value
    const char *dir = make_temp_dir("tensorboard");
    char err[512];
    tb_writer w;
    if (tb_open(&w, dir, 0, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }
    const char *tags[2] = {"loss/D", "loss/G"};
    uint8_t rgb[13 * 7 * 3], gray[5 * 9];
    for (int step = 1; step <= STEPS; step++) {
        for (int t = 0; t < 2; t++) CHECK(tb_scalar(&w, tags[t], step, scalar_value(t, step), err, sizeof err) == 0);
        fill_image(rgb, 13, 7, 3, step);
        CHECK(tb_image(&w, "samples", step, rgb, 13, 7, 3, err, sizeof err) == 0);
    }
    fill_image(gray, 5, 9, 1, 0);
    CHECK(tb_image(&w, "gray", 0, gray, 5, 9, 1, err, sizeof err) == 0);
    CHECK(tb_flush(&w, err, sizeof err) == 0);
    CHECK(tb_close(&w, err, sizeof err) == 0);
    int values = read_back(w.path, NULL, 0);
    printf("%s: %d summary values read back (framing and CRCs checked)\n", w.path, values);
    CHECK(values == 3 * STEPS + 1);
    cut_back(dir);

    char cmd[9000];
    snprintf(cmd, sizeof cmd, "python3 read_tensorboard.py '%s' '%s'", w.path, dir);
    FILE *p = popen(cmd, "r");
    if (!p) { perror("popen"); return 1; }
    char line[1024];
    int scalars = 0, images = 0, skipped = 0;
    while (fgets(line, sizeof line, p)) {
        char tag[64], file[256];
        long step;
        float v;
        int iw, ih, ic;
        if (!strncmp(line, "skipped", 7)) { printf("%s", line); skipped = 1; continue; }
        if (sscanf(line, "scalar %63s %ld %f", tag, &step, &v) == 3) {
            int t = strcmp(tag, tags[0]) ? 1 : 0;
            CHECK(v == scalar_value(t, (int)step));
            scalars++;
        } else if (sscanf(line, "image %63s %ld %d %d %d %255s", tag, &step, &iw, &ih, &ic, file) == 6) {
            char path[8500];
            snprintf(path, sizeof path, "%s/%s", dir, file);
            uint8_t *px = NULL, want[13 * 7 * 3];
            int pw, ph, pc;
            int is_gray = !strcmp(tag, "gray");
            fill_image(want, is_gray ? 5 : 13, is_gray ? 9 : 7, is_gray ? 1 : 3, (int)step);
            CHECK(png_read(path, &px, &pw, &ph, &pc, err, sizeof err) == 0);
            CHECK(pw == iw && ph == ih && pc == ic && px && !memcmp(px, want, (size_t)pw * ph * pc));
            free(px);
            images++;
        }
    }
    int status = pclose(p);
    if (skipped) return test_failures ? 1 : 77;
    printf("TensorBoard's reader: %d scalars, %d images, all equal to what was written\n", scalars, images);
    CHECK(status == 0 && scalars == 2 * STEPS && images == STEPS + 1);
    training_run(dir);
    return test_summary("test_tensorboard");
}
