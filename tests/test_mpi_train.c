// Data-parallel runs of the dcgan binary under mpirun (DCGAN_MPIRUN, set by tests/CMakeLists.txt
// in a build with MPI), CPU backend, 2 ranks of one OpenMP thread:
//  - a 2-rank run resumed with 2 ranks ends bit for bit where the uninterrupted 2-rank run ends;
//  - the same run resumed by one process continues, says that the data position was re-sharded,
//    and its position is the re-sharded one; the checkpoint of the 2-rank run loads as any other;
//  - `mpirun -np 1` (the all-reduce path with one rank) equals a plain run bit for bit;
//  - rank 1 killed: mpirun stops within 30 s with a message, and the last checkpoint loads;
//  - rank 1 stopped (a hang): rank 0's watchdog stops the run within 30 s, saying why;
//  - SIGUSR1 to mpirun: every rank finishes the iteration, one checkpoint is saved, exit 130.
// Always (with or without MPI): processes started by a launcher that set up no MPI (or by any
// launcher, in a build without MPI) refuse to train N independent runs, with a clear error.
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dcgan/comm.h"
#include "dcgan/train.h"
#include "test_util.h"

static const char *bin, *mpirun, *dir;
#define MODEL "--dataset synthetic --device cpu --size 32 --nz 16 --ngf 8 --ndf 8 --batch-size 16 --sample-every 0"

static void nap_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Runs a shell command, output into log; returns its exit status.
static int sh(const char *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(const char *log, const char *fmt, ...) {
    char cmd[4096], full[4600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "timeout 300 %s > %s 2>&1", cmd, log);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path) {
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    return buf;
}

static int same_run(const char *what, const char *a, const char *b) {
    int same = same_tensors(what, a, b, "netG.safetensors") && same_tensors(what, a, b, "netD.safetensors") &&
               same_tensors(what, a, b, "train_state.safetensors");
    printf("%s: %s\n", what, same ? "bit-identical" : "DIFFERENT");
    CHECK(same);
    return same;
}

static const char *meta(const char *run, const char *key) {
    static char value[256];
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/train_state.safetensors", run);
    st_file f;
    value[0] = 0;
    if (st_read(path, &f, err, sizeof err)) return value;
    const char *v = st_meta_get(&f, key);
    snprintf(value, sizeof value, "%s", v ? v : "");
    st_free(&f);
    return value;
}

// The checkpoint in run loads: both nets build from their files, and the state file reads.
static int loads(const char *run) {
    char path[1024], err[512];
    dcgan_net net;
    int ok = 1;
    const char *files[2] = {"netG.safetensors", "netD.safetensors"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", run, files[k]);
        if (ckpt_load_net(&net, path, !k, backend_cpu(), err, sizeof err)) { fprintf(stderr, "%s\n", err); ok = 0; }
        else dcgan_net_free(&net);
    }
    st_file f;
    snprintf(path, sizeof path, "%s/train_state.safetensors", run);
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "%s\n", err); ok = 0; }
    else st_free(&f);
    return ok;
}

static void resume_tests(void) {
    char a[512], b[512], c[512], log[512];
    snprintf(a, sizeof a, "%s/whole", dir);
    snprintf(b, sizeof b, "%s/halves", dir);
    snprintf(c, sizeof c, "%s/one", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    CHECK(sh(log, "%s -np 2 %s train " MODEL " --iters 8 --out %s", mpirun, bin, a) == 0);
    CHECK(strstr(slurp(log), "data parallel: 2 ranks"));
    CHECK(!strcmp(meta(a, "ranks"), "2"));
    CHECK(sh(log, "%s -np 2 %s train " MODEL " --iters 4 --out %s", mpirun, bin, b) == 0);
    CHECK(sh(log, "cp -r %s %s", b, c) == 0);
    CHECK(sh(log, "%s -np 2 %s train --resume %s --iters 8", mpirun, bin, b) == 0);
    same_run("2 ranks, 4 + 4 iterations resumed with 2 ranks vs 8 uninterrupted", a, b);
    // One process continues the 2-rank run: 4 iterations of 2 x 16 images read 128 images of
    // epoch 0, i.e. batch 8 of 16; 4 more iterations end at batch 12.
    int rc = sh(log, "%s train --resume %s --iters 8", bin, c);
    const char *out = slurp(log);
    printf("2-rank run resumed by 1 process: exit %d, %s", rc, strstr(out, "note:") ? strstr(out, "note:") : out);
    CHECK(rc == 0 && strstr(out, "re-sharded") && strstr(out, "epoch 0, batch 8 of 1 x 16"));
    CHECK(!strcmp(meta(c, "ranks"), "1") && !strcmp(meta(c, "batch_pos"), "12") && !strcmp(meta(c, "iteration"), "8"));
    CHECK(loads(a) && loads(c));
    // The all-reduce path with one rank is the identity: mpirun -np 1 equals a plain run.
    snprintf(a, sizeof a, "%s/np1", dir);
    snprintf(b, sizeof b, "%s/plain", dir);
    CHECK(sh(log, "%s -np 1 %s train " MODEL " --iters 5 --out %s", mpirun, bin, a) == 0);
    CHECK(sh(log, "%s train " MODEL " --iters 5 --out %s", bin, b) == 0);
    same_run("mpirun -np 1 vs one plain process, 5 iterations", a, b);
}

// The pid of the rank process of this test run (its environment names the rank, its command
// line the run directory), or -1.
static pid_t find_rank(int rank, const char *run) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    char want[64], path[300], buf[65536];
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    pid_t found = -1;
    while (d && (e = readdir(d)) && found < 0) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0) continue;
        snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++) if (!buf[i]) buf[i] = ' ';
        buf[n] = 0;
        if (!strstr(buf, run) || !strstr(buf, " train ") || strstr(buf, "mpirun") || strstr(buf, "timeout")) continue;
        snprintf(path, sizeof path, "/proc/%d/environ", pid);
        if (!(f = fopen(path, "r"))) continue;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i + strlen(want) <= n; i++)
            if (!memcmp(buf + i, want, strlen(want)) && (i == 0 || buf[i - 1] == 0)) { found = pid; break; }
    }
    if (d) closedir(d);
    return found;
}

// Starts a long 2-rank run in the background; waits for its first checkpoint. Returns mpirun's pid.
static pid_t start_long_run(const char *run, const char *log, const char *env) {
    char cmd[4096], state[600];
    snprintf(cmd, sizeof cmd, "exec env %s %s -np 2 %s train " MODEL " --iters 1000000 --ckpt-every 5 --out %s > %s 2>&1",
             env, mpirun, bin, run, log);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    snprintf(state, sizeof state, "%s/train_state.safetensors", run);
    for (double t0 = now(); now() - t0 < 120 && access(state, F_OK); ) nap_ms(100);
    nap_ms(300);
    return pid;
}

// Waits up to limit seconds for pid; returns its exit status (-2: still running, then killed).
static int wait_for(pid_t pid, double limit, double *took) {
    double t0 = now();
    int st = 0;
    while (now() - t0 < limit) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            *took = now() - t0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        nap_ms(50);
    }
    *took = now() - t0;
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -2;
}

static void failure_tests(void) {
    char run[512], log[512];
    double took;
    // A rank dies.
    snprintf(run, sizeof run, "%s/killed", dir);
    snprintf(log, sizeof log, "%s/killed.log", dir);
    pid_t mp = start_long_run(run, log, "DCGAN_COMM_TIMEOUT=60");
    pid_t r1 = find_rank(1, run);
    CHECK(r1 > 0);
    if (r1 > 0) kill(r1, SIGKILL);
    int rc = wait_for(mp, 30, &took);
    const char *out = slurp(log);
    printf("rank 1 killed: mpirun ended after %.1f s with status %d\n", took, rc);
    CHECK(rc > 0 && took < 30);
    CHECK(strstr(out, "signal 9") || strstr(out, "Killed") || strstr(out, "killed"));
    if (!strstr(out, "signal 9")) printf("%s\n", out);
    CHECK(loads(run));
    // A rank hangs: the other's watchdog stops the run.
    snprintf(run, sizeof run, "%s/hung", dir);
    snprintf(log, sizeof log, "%s/hung.log", dir);
    mp = start_long_run(run, log, "DCGAN_COMM_TIMEOUT=3");
    r1 = find_rank(1, run);
    CHECK(r1 > 0);
    if (r1 > 0) kill(r1, SIGSTOP);
    rc = wait_for(mp, 30, &took);
    out = slurp(log);
    const char *line = strstr(out, "error: rank 0 of 2: no progress");
    printf("rank 1 stopped: mpirun ended after %.1f s with status %d: %.*s\n", took, rc,
           line ? (int)strcspn(line, "\n") : 0, line ? line : "");
    CHECK(rc > 0 && took < 30 && line);
    if (r1 > 0) kill(r1, SIGKILL);
    CHECK(loads(run));
    // SIGUSR1: a clean stop of every rank with a checkpoint, which resumes.
    snprintf(run, sizeof run, "%s/usr1", dir);
    snprintf(log, sizeof log, "%s/usr1.log", dir);
    mp = start_long_run(run, log, "DCGAN_COMM_TIMEOUT=60");
    kill(mp, SIGUSR1);
    rc = wait_for(mp, 30, &took);
    out = slurp(log);
    line = strstr(out, "interrupted: checkpoint of iteration");
    printf("SIGUSR1 to mpirun: ended after %.1f s with status %d: %.*s\n", took, rc, line ? (int)strcspn(line, "\n") : 0,
           line ? line : "");
    CHECK(rc == 130 && line);
    long it = line ? atol(line + strlen("interrupted: checkpoint of iteration")) : -1;
    CHECK(it > 0 && atol(meta(run, "iteration")) == it);
    CHECK(loads(run));
}

// A launcher that set up no MPI for its processes (or any launcher, without MPI in the build).
static void launcher_without_mpi(void) {
    char log[512];
    snprintf(log, sizeof log, "%s/nompi.log", dir);
    const char *var = comm_have_mpi() ? "SLURM_STEP_NUM_TASKS" : "OMPI_COMM_WORLD_SIZE";
    int rc = sh(log, "env %s=2 %s train " MODEL " --iters 2 --out %s/nompi", var, bin, dir);
    const char *out = slurp(log);
    printf("%s=2 without MPI: exit %d: %s", var, rc, out);
    CHECK(rc == 1 && strstr(out, "independent runs"));
    CHECK(strstr(out, comm_have_mpi() ? "no MPI process manager" : "built without MPI"));
}

int main(int argc, char **argv) {
    bin = test_dcgan_bin(argc, argv, "test_mpi_train");
    dir = make_temp_dir("mpi-train");
    setenv("OMP_NUM_THREADS", "1", 0);
    launcher_without_mpi();
    mpirun = getenv("DCGAN_MPIRUN");
    if (!comm_have_mpi() || !mpirun || !*mpirun) {
        printf("no MPI in this build: only the launcher check ran\n");
        return test_summary("test_mpi_train");
    }
    resume_tests();
    failure_tests();
    return test_summary("test_mpi_train");
}
