// A run killed with SIGKILL at random moments (in its set-up, mid-iteration, mid-checkpoint) and
// resumed, again and again, then run to its end, leaves the directory an uninterrupted run leaves
// (run_dir_check.h): the same weights bit for bit, every iteration once in metrics.jsonl and in
// TensorBoard with the same losses, a plot, no temporary file. After each kill `dcgan plot` reads
// the directory (a last line cut short skipped with a warning). The kill times are drawn from a
// seed (DCGAN_CRASH_SEED, default 1) and printed.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dcgan/train.h"
#include "run_dir_check.h"
#include "test_util.h"

#define ITERS 300
#define KILLS 12
#define MAX_DELAY 0.15   // of the reference run's wall time: a dozen kills leave most of the run to do

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

// Starts `dcgan train` in the background with its output appended to log: a resume once the
// directory holds a checkpoint, else a new run.
static pid_t start_training(const char *bin, const char *run, const char *log) {
    char args[2048], ckpt[1024], *argv[64];
    snprintf(ckpt, sizeof ckpt, "%s/netG.safetensors", run);
    if (file_exists(ckpt)) snprintf(args, sizeof args, CHECK_RUN_RESUME " --iters %d --resume %s", ITERS, run);
    else snprintf(args, sizeof args, CHECK_RUN_NEW " --iters %d --out %s", ITERS, run);
    int argc = 0;
    argv[argc++] = (char *)bin;
    for (char *tok = strtok(args, " "); tok && argc < 63; tok = strtok(NULL, " ")) argv[argc++] = tok;
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(126);
        execv(bin, argv);
        _exit(127);
    }
    return pid;
}

static void sleep_seconds(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts)) continue;
}

// xorshift64*: the same kill times for the same seed on every machine.
static double uniform(unsigned long long *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (double)((*state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

// dcgan plot reads the directory as the kill left it (once it holds a whole record).
static int plot_after_kill(const char *dir, const char *run) {
    char path[1024], err[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    FILE *f = fopen(path, "r");
    int whole = 0;
    for (int c; f && !whole && (c = fgetc(f)) != EOF;) whole = c == '\n';
    if (f) fclose(f);
    if (!whole) return 0;
    int rc = run_dcgan(err, sizeof err, "plot %s --out %s/after_kill.png", run, dir);
    if (rc) fprintf(stderr, "FAIL dcgan plot after a kill: exit %d: %s", rc, err);
    CHECK(rc == 0);
    return strstr(err, "warning:") != NULL;
}

// How often a start found what a kill left: temporary files, a checkpoint cut mid-commit, records
// after the checkpoint.
static void count_notes(const char *log) {
    FILE *f = fopen(log, "r");
    char line[1024];
    int temps = 0, completed = 0, cut = 0;
    while (f && fgets(line, sizeof line, f)) {
        temps += strstr(line, "temporary file") != NULL;
        completed += strstr(line, "completed the checkpoint") != NULL;
        cut += strstr(line, "(the checkpoint) dropped") != NULL;
    }
    if (f) fclose(f);
    printf("the starts after a kill found: temporary files %d times, a checkpoint cut mid-commit %d times, records"
           " after the checkpoint %d times\n", temps, completed, cut);
}

static void print_log(const char *log) {
    char *lines[64];
    FILE *f = fopen(log, "r");
    char line[1024];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (n == 64) { free(lines[0]); memmove(lines, lines + 1, 63 * sizeof *lines); n--; }
        lines[n++] = strdup(line);
    }
    if (f) fclose(f);
    fprintf(stderr, "--- the end of %s:\n", log);
    for (int i = 0; i < n; i++) { fputs(lines[i], stderr); free(lines[i]); }
}

static void copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b && fclose(b)) ok = 0;
    CHECK(ok);
}

// A pid no process has: a child that has ended.
static long dead_pid(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

// A checkpoint whose commit was cut between its renames: netG of iteration 12 in place, netD and
// train_state of iteration 12 still staged by a dead process, those of iteration 9 in place. The
// next start completes it (without the staged files it refuses the mixed set in one line) and
// the run ends as an uninterrupted one.
static void cut_commit(const char *dir) {
    char ref[600], run[600], path[700], old[700], staged[700], err[4096];
    snprintf(ref, sizeof ref, "%s/ref20", dir);
    snprintf(run, sizeof run, "%s/cut", dir);
    train_reference(ref, 20);
    CHECK(run_dcgan(err, sizeof err, CHECK_RUN_NEW " --iters 9 --out %s", run) == 0);
    const char *files[2] = {"netD.safetensors", "train_state.safetensors"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", run, files[k]);
        snprintf(old, sizeof old, "%s/%s.9", dir, files[k]);
        copy_file(path, old);
    }
    CHECK(run_dcgan(err, sizeof err, CHECK_RUN_RESUME " --iters 12 --resume %s", run) == 0);
    long pid = dead_pid();
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", run, files[k]);
        snprintf(old, sizeof old, "%s/%s.9", dir, files[k]);
        snprintf(staged, sizeof staged, "%s.tmp.%ld", path, pid);
        CHECK(rename(path, staged) == 0);
        copy_file(old, path);
    }
    // The grids of the two runs' last iterations, which a run to 20 does not draw.
    for (int it = 9; it <= 12; it += 3) {
        snprintf(path, sizeof path, "%s/samples_%06d.png", run, it);
        CHECK(remove(path) == 0);
    }
    snprintf(staged, sizeof staged, "%s/train_state.safetensors.tmp.%ld", run, pid);
    snprintf(old, sizeof old, "%s/train_state.hidden", dir);
    CHECK(rename(staged, old) == 0);
    int rc = run_dcgan(err, sizeof err, CHECK_RUN_RESUME " --iters 20 --resume %s", run);
    printf("netG of iteration 12, netD and train_state of 9, nothing staged: exit %d: %s", rc, err);
    CHECK(rc == 1 && strstr(err, "incomplete") && strchr(err, '\n') == err + strlen(err) - 1);
    CHECK(rename(old, staged) == 0);
    char out[8192];
    rc = run_dcgan_output(out, sizeof out, err, sizeof err, CHECK_RUN_RESUME " --iters 20 --resume %s", run);
    printf("the same with netD and train_state of 12 staged by a dead process: exit %d, %s\n", rc,
           strstr(out, "completed the checkpoint") ? "completed" : "NOT COMPLETED");
    CHECK(rc == 0 && strstr(out, "completed the checkpoint") && strstr(out, "iterations 12 -> 20"));
    check_same_run(ref, run, 20);
}

static long file_text(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(buf, 1, n - 1, f) : 0;
    if (f) fclose(f);
    buf[got] = 0;
    return (long)got;
}

// metrics.jsonl cut back to a checkpoint: the records up to its iteration kept (its FID record
// too), the later ones and a line cut short dropped; cutting again changes nothing. dcgan plot
// skips a last line cut short with one warning line.
static void metrics_cut(const char *dir) {
    char path[700], err[4096], text[4096];
    snprintf(path, sizeof path, "%s/metrics/metrics.jsonl", dir);
    snprintf(text, sizeof text, "%s/metrics", dir);
    CHECK(mkdir(text, 0777) == 0);
    const char *kept = "{\"iter\":1,\"loss_d\":1,\"loss_g\":1,\"d_x\":0.5,\"d_g_z1\":0.5,\"d_g_z2\":0.5}\n"
                       "{\"iter\":2,\"loss_d\":1,\"loss_g\":1,\"d_x\":0.5,\"d_g_z1\":0.5,\"d_g_z2\":0.5}\n"
                       "{\"iter\": 2, \"fid\": 99.5}\n";
    const char *after = "{\"iter\":3,\"loss_d\":1,\"loss_g\":1,\"d_x\":0.5,\"d_g_z1\":0.5,\"d_g_z2\":0.5}\n"
                        "{\"iter\":4,\"loss_d\":1,\"loss_g\":1,\"d_x";
    FILE *f = fopen(path, "w");
    CHECK(f && fprintf(f, "%s%s", kept, after) > 0);
    if (f) fclose(f);
    int rc = run_dcgan(err, sizeof err, "plot %s/metrics", dir);
    printf("dcgan plot, last line cut short: exit %d, %s", rc, err);
    CHECK(rc == 0 && strstr(err, "warning:") && strstr(err, "line 5") && strchr(err, '\n') == err + strlen(err) - 1);
    for (int pass = 0; pass < 2; pass++) {
        long dropped = -1;
        f = metrics_open(path, 2, &dropped, err, sizeof err);
        CHECK(f != NULL);
        if (f) fclose(f);
        file_text(path, text, sizeof text);
        printf("cut back to iteration 2 (pass %d): %ld lines dropped, %s\n", pass + 1, dropped,
               strcmp(text, kept) ? "WRONG CONTENT" : "the records of iterations 1 and 2 kept");
        CHECK(!strcmp(text, kept) && dropped == (pass ? 0 : 2));
    }
}

int main(int argc, char **argv) {
    const char *bin = test_dcgan_bin(argc, argv, "test_crash_resume");
    quiet_leak_report();
    const char *seed_env = getenv("DCGAN_CRASH_SEED");
    unsigned long long seed = seed_env ? strtoull(seed_env, NULL, 10) : 1, state = seed * 0x9E3779B97F4A7C15ULL + 1;
    char dir[512], ref[600], run[600], log[600];
    snprintf(dir, sizeof dir, "%s", make_temp_dir("crash"));
    snprintf(ref, sizeof ref, "%s/ref", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(log, sizeof log, "%s/run.log", dir);
    double t_ref = train_reference(ref, ITERS);
    printf("uninterrupted run: %d iterations in %.2f s; kills within %.2f s of each start (seed %llu)\n", ITERS, t_ref,
           MAX_DELAY * t_ref, seed);

    int kills = 0, cut_lines = 0;
    for (int k = 0; k < KILLS; k++) {
        double delay = MAX_DELAY * t_ref * uniform(&state);
        pid_t pid = start_training(bin, run, log);
        CHECK(pid > 0);
        if (pid <= 0) break;
        sleep_seconds(delay);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        printf("start %d: %s after %.3f s\n", k + 1, killed ? "killed" : "ended", delay);
        if (!killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            fprintf(stderr, "FAIL the run ended on its own with status %d\n", status);
            print_log(log);
            test_failures++;
        }
        kills += killed;
        cut_lines += plot_after_kill(dir, run);
    }
    printf("%d kills; dcgan plot read the directory after each (%d times skipping a last line cut short)\n", kills,
           cut_lines);
    CHECK(kills >= 10);

    pid_t pid = start_training(bin, run, log);
    int status = -1;
    if (pid > 0) waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) print_log(log);
    count_notes(log);
    check_same_run(ref, run, ITERS);
    cut_commit(dir);
    metrics_cut(dir);
    if (!test_failures) remove_temp_dir(dir);
    return test_summary("test_crash_resume");
}
