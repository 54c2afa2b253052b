// A full disk mid-run: training into a small tmpfs stops with one error line naming the file and
// "No space left on device", the last checkpoint stays whole and loads, `dcgan plot` reads the
// directory, and once space is freed --resume ends the run as an uninterrupted one
// (run_dir_check.h). Twice: first the space runs out at a checkpoint, then (checkpoints far apart)
// while the metrics, TensorBoard records and sample grids are written.
// Mounting needs root: as root the test runs in a mount namespace of its own (unshare --mount), else in
// a user namespace mapped to root (unshare --user --map-root-user --mount); without either it
// mounts directly as root, and otherwise it is skipped (exit 77).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "dcgan/backend.h"
#include "dcgan/train.h"
#include "run_dir_check.h"
#include "test_util.h"

#define ITERS 60
#define NS_ENV "DCGAN_FULL_DISK_NS"

// Runs this test again inside a new mount namespace (and user namespace when not root), where
// the tmpfs goes away with the process. Returns only when that is not possible.
static void reexec_in_namespace(char **argv) {
    if (getenv(NS_ENV)) return;
    const int root = geteuid() == 0;
    char self[4096], probe[128];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    snprintf(probe, sizeof probe, "unshare %s--mount true >/dev/null 2>&1", root ? "" : "--user --map-root-user ");
    if (n <= 0 || system(probe) != 0) return;
    self[n] = 0;
    char *args[8];
    int k = 0;
    args[k++] = "unshare";
    if (!root) { args[k++] = "--user"; args[k++] = "--map-root-user"; }
    args[k++] = "--mount";
    args[k++] = self;
    args[k++] = argv[1];   // the dcgan binary when given (else DCGAN_BIN)
    args[k] = NULL;
    setenv(NS_ENV, "1", 1);
    fflush(stdout);
    execvp("unshare", args);
    perror("unshare");
}

static long dir_bytes(const char *dir) {
    char cmd[700], out[64] = "";
    snprintf(cmd, sizeof cmd, "du -sb '%s'", dir);
    FILE *p = popen(cmd, "r");
    if (p && !fgets(out, sizeof out, p)) out[0] = 0;
    if (p) pclose(p);
    return atol(out);
}

// Replaces the filler file so that `bytes` stay free on the disk.
static void leave_free(const char *disk, long bytes) {
    char filler[700];
    snprintf(filler, sizeof filler, "%s/filler", disk);
    remove(filler);
    struct statvfs fs;
    CHECK(statvfs(disk, &fs) == 0);
    long fill = (long)(fs.f_bavail * fs.f_frsize) - bytes;
    FILE *f = fopen(filler, "wb");
    static char zeros[4096];
    for (long done = 0; f && done < fill; done += (long)sizeof zeros)
        if (fwrite(zeros, 1, sizeof zeros, f) != sizeof zeros) break;
    CHECK(f && fclose(f) == 0);
}

// The checkpoint left by a failed run: its files of one iteration, each loading.
static long checkpoint_iteration(const char *run) {
    const char *files[3] = {"netG.safetensors", "netD.safetensors", "train_state.safetensors"};
    char path[700], err[512];
    long iter[3] = {-1, -2, -3};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", run, files[k]);
        st_file f;
        if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; continue; }
        const char *v = st_meta_get(&f, "iteration");
        iter[k] = v ? atol(v) : -1;
        st_free(&f);
        dcgan_net net;
        if (k < 2 && !ckpt_load_net(&net, path, k == 0, backend_cpu(), err, sizeof err)) dcgan_net_free(&net);
        else if (k < 2) { fprintf(stderr, "FAIL %s\n", err); test_failures++; }
    }
    CHECK(iter[0] == iter[1] && iter[1] == iter[2] && iter[0] > 0);
    return iter[0];
}

// A run stopped by the full disk: one error line naming a file of the run and the reason (plot
// warnings may come before it), the checkpoint whole, no temporary file, the plot readable.
static void check_stopped(const char *dir, const char *run, int rc, const char *err) {
    const char *line = strstr(err, "error: ");
    int one_line = line && !strstr(line + 1, "error: ") && strchr(line, '\n') == line + strlen(line) - 1;
    printf("exit %d: %s", rc, line ? line : "(no error line)\n");
    CHECK(rc == 1 && one_line && strstr(line, run) && strstr(line, "No space left on device"));
    printf("the last checkpoint loads: iteration %ld\n", checkpoint_iteration(run));
    CHECK(!has_temp_files(run));
    char out[4096];
    int prc = run_dcgan(out, sizeof out, "plot %s --out %s/plot_full.png", run, dir);
    printf("dcgan plot on the directory as it was left: exit %d%s%s", prc, out[0] ? ", " : "\n", out);
    CHECK(prc == 0);
}

int main(int argc, char **argv) {
    test_dcgan_bin(argc, argv, "test_full_disk");
    reexec_in_namespace(argv);
    quiet_leak_report();
    char dir[512], ref[600], disk[600], run[700], cmd[1400], err[4096];
    snprintf(dir, sizeof dir, "%s", make_temp_dir("fulldisk"));
    snprintf(ref, sizeof ref, "%s/ref", dir);
    snprintf(disk, sizeof disk, "%s/disk", dir);
    snprintf(run, sizeof run, "%s/run", disk);
    CHECK(mkdir(disk, 0777) == 0);
    train_reference(ref, ITERS);
    const long size = dir_bytes(ref);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=%ldk tmpfs '%s' 2>&1", 4 * size / 1024 + 1024, disk);
    if (system(cmd) != 0) {
        printf("skipped: cannot mount a tmpfs (%s)\n", getenv(NS_ENV) ? "in a new namespace" : "not root");
        remove_temp_dir(dir);
        return test_failures ? 1 : 77;
    }
    printf("the uninterrupted run's directory: %ld bytes; a tmpfs of %ld KiB for the run\n", size, 4 * size / 1024 + 1024);

    leave_free(disk, size / 2);
    int rc = run_dcgan(err, sizeof err, CHECK_RUN_NEW " --iters %d --out %s", ITERS, run);
    printf("1. %ld bytes free: ", size / 2);
    check_stopped(dir, run, rc, err);

    // Checkpoints far apart: the space runs out between them.
    leave_free(disk, 96 * 1024);
    rc = run_dcgan(err, sizeof err, CHECK_RUN_RESUME " --ckpt-every 1000 --iters %d --resume %s", ITERS, run);
    printf("2. %d bytes free, no checkpoint before the end: ", 96 * 1024);
    check_stopped(dir, run, rc, err);

    leave_free(disk, 3 * size);
    rc = run_dcgan(err, sizeof err, CHECK_RUN_RESUME " --iters %d --resume %s", ITERS, run);
    printf("3. space freed, --resume: exit %d%s%s", rc, err[0] ? ": " : "\n", err);
    CHECK(rc == 0);
    snprintf(cmd, sizeof cmd, "%s/filler", disk);
    CHECK(remove(cmd) == 0);
    check_same_run(ref, run, ITERS);
    snprintf(cmd, sizeof cmd, "umount '%s'", disk);
    CHECK(system(cmd) == 0);
    if (!test_failures) remove_temp_dir(dir);
    return test_summary("test_full_disk");
}
