// The GPU all-reduce through NCCL. Two parts:
//  1. Without a launcher: this process is rank 0 of 1 (comm_init with no MPI launcher), which joins
//     NCCL with a unique id of its own (ncclGetUniqueId, ncclCommInitRank). A trainer attached to it
//     (trainer_attach_comm: ncclAllReduce of each gradient on the backend's communication stream,
//     ordered with events, with one rank a copy, then the 1/1 scale) must end 10 iterations bit for
//     bit where the same trainer without a communicator ends: weights, running statistics, batch
//     counts, optimiser state and counters, with the same deterministic math (FMA, heuristic
//     algorithms). This needs no MPI, so it runs wherever the GPU and NCCL's library are.
//  2. The command line under an MPI launcher (DCGAN_MPIRUN, which tests/CMakeLists.txt sets in a
//     build with MPI): `mpirun -np 1 dcgan train` takes the data-parallel path and must end where a
//     plain `dcgan train` ends. Where the launcher is missing (a GPU machine without Open MPI, as
//     the proof's is) or the build has no MPI, this part prints one line "not available: ..." and is
//     neither run nor counted as passed; scripts/gpu-check.sh lists that line in its summary.
// Exits 77 without a CUDA device, or when the build has no NCCL.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/comm.h"
#include "dcgan/train.h"
#include "test_util.h"
#include "train_compare.h"

// bytes of backend memory at a and at b are the same.
static int same_device_bytes(const dcgan_backend *be, const void *a, const void *b, size_t bytes) {
    if (!bytes) return 1;
    unsigned char *ha = malloc(bytes), *hb = malloc(bytes);
    if (!ha || !hb) { fprintf(stderr, "FAIL out of memory\n"); exit(1); }
    be->download(be, ha, a, bytes);
    be->download(be, hb, b, bytes);
    int same = !memcmp(ha, hb, bytes);
    free(ha);
    free(hb);
    return same;
}

// Everything of trainer a equals b, bit for bit: weights, running statistics, batch counts,
// optimiser moments and counters.
static int same_state(const trainer *a, const trainer *b) {
    const dcgan_backend *be = a->be;
    const dcgan_net *na[2] = {&a->G, &a->D}, *nb[2] = {&b->G, &b->D};
    int same = 1;
    for (int k = 0; k < 2; k++) {
        same = same && same_device_bytes(be, na[k]->params, nb[k]->params, na[k]->nparams * sizeof(float));
        same = same && same_device_bytes(be, na[k]->stats, nb[k]->stats, na[k]->nstats * sizeof(float));
        same = same && same_device_bytes(be, na[k]->num_batches_tracked, nb[k]->num_batches_tracked,
                                         na[k]->nbn * sizeof(int64_t));
    }
    for (int s = 0; s < (a->hp.optimizer == OPT_ADAM ? 2 : 1); s++)
        same = same && same_device_bytes(be, a->opt_g[s], b->opt_g[s], a->G.nparams * sizeof(float)) &&
               same_device_bytes(be, a->opt_d[s], b->opt_d[s], a->D.nparams * sizeof(float));
    train_counters ca, cb;
    trainer_get_counters(a, &ca);
    trainer_get_counters(b, &cb);
    return same && !memcmp(&ca, &cb, sizeof ca) && same_device_bytes(be, a->data.cursor, b->data.cursor, sizeof(int64_t));
}

// Part 1. Returns 77 (skipped) when the build has no NCCL, else 0 (failures are counted).
static int in_process_rank(const dcgan_backend *gpu) {
    char err[512];
    dcgan_comm comm;
    if (comm_init(&comm, err, sizeof err)) {
        fprintf(stderr, "FAIL comm_init: %s\n", err);
        test_failures++;
        return 0;
    }
    if (comm.size != 1) {
        fprintf(stderr, "FAIL started as one of %d ranks: run test_gpu_nccl as one process\n", comm.size);
        test_failures++;
        comm_finalize(&comm);
        return 0;
    }
    train_hparams h;
    train_hparams_defaults(&h, LOSS_NONSAT);
    h.cfg = (dcgan_config){.size = 64, .nc = 3, .nz = 32, .ngf = 16, .ndf = 16};
    h.batch_size = 32;
    h.seed = 3;
    dcgan_dataset ds;
    if (dataset_load(&ds, "synthetic", NULL, h.cfg.size, h.cfg.nc, h.seed, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
        comm_finalize(&comm);
        return 0;
    }
    int rc = 0;
    train_runner plain, nccl;
    if (train_runner_init(&plain, gpu, &ds, &h, 0, 1) == 0) {
        if (train_runner_init(&nccl, gpu, &ds, &h, 0, 1) == 0) {
            if (trainer_attach_comm(&nccl.t, &comm, err, sizeof err)) {
                // The CUDA backend says so when the build has no NCCL; any other reason is a failure.
                if (strstr(err, "no NCCL")) rc = 77;
                else { fprintf(stderr, "FAIL NCCL without a launcher: %s\n", err); test_failures++; }
            } else {
                const long iters = 10;
                for (long i = 0; i < iters; i++) {
                    batcher_prepare(&plain.data);
                    trainer_iteration(&plain.t);
                    batcher_prepare(&nccl.data);
                    trainer_iteration(&nccl.t);
                }
                int same = same_state(&nccl.t, &plain.t);
                printf("1 rank through NCCL without a launcher (ncclCommInitRank with its own unique id) vs no"
                       " communicator, %ld iterations: %s\n", iters, same ? "bit-identical" : "DIFFERENT");
                CHECK(same);
            }
            train_runner_free(&nccl);
        }
        train_runner_free(&plain);
    }
    dataset_free(&ds);
    comm_finalize(&comm);
    if (rc == 77) return test_skip_or_fail(err);
    return 0;
}

// The launcher of DCGAN_MPIRUN (its first word) as an executable file; NULL with the reason in why.
static const char *launcher(char *why, size_t n) {
    const char *mpirun = getenv("DCGAN_MPIRUN");
    if (!comm_have_mpi() || !mpirun || !*mpirun) {
        snprintf(why, n, "this build has no MPI");
        return NULL;
    }
    char exe[512];
    snprintf(exe, sizeof exe, "%s", mpirun);
    exe[strcspn(exe, " \t")] = '\0';
    if (access(exe, X_OK)) {
        snprintf(why, n, "no MPI launcher at %s on this machine", exe);
        return NULL;
    }
    return mpirun;
}

// Part 2: the command line under `mpirun -np 1` against a plain run.
static void under_launcher(const char *bin) {
    char why[600];
    const char *mpirun = launcher(why, sizeof why);
    if (!mpirun) {
        printf("not available: test_gpu_nccl's mpirun part (dcgan train as 1 rank under an MPI launcher): %s;"
               " the NCCL all-reduce itself ran without a launcher\n", why);
        return;
    }
    const char *dir = make_temp_dir("gpu-nccl");
    const char *model = "--dataset synthetic --device cuda --size 64 --nc 3 --nz 32 --ngf 16 --ndf 16 --batch-size 32"
                        " --sample-every 0 --iters 10";
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s -np 1 %s train %s --out %s/nccl > %s/nccl.log 2>&1", mpirun, bin, model, dir, dir);
    int rc1 = system(cmd);
    snprintf(cmd, sizeof cmd, "%s train %s --out %s/plain > %s/plain.log 2>&1", bin, model, dir, dir);
    int rc2 = system(cmd);
    CHECK(rc1 == 0 && rc2 == 0);
    snprintf(cmd, sizeof cmd, "grep -q 'data parallel: 1 ranks on cuda' %s/nccl.log", dir);
    CHECK(system(cmd) == 0);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/nccl", dir);
    snprintf(b, sizeof b, "%s/plain", dir);
    const char *what = "dcgan train, 1 rank under mpirun through NCCL vs the plain GPU run, 10 iterations";
    int same = same_tensors(what, a, b, "netG.safetensors") && same_tensors(what, a, b, "netD.safetensors") &&
               same_tensors(what, a, b, "train_state.safetensors");
    CHECK(same);
    if (rc1 == 0 && rc2 == 0 && same) remove_temp_dir(dir);   // kept for a look otherwise
}

int main(int argc, char **argv) {
    const char *bin = test_dcgan_bin(argc, argv, "test_gpu_nccl");
    setenv("DCGAN_CUDNN_MATH", "fma", 1);
    setenv("DCGAN_CUDNN_ALGO", "heuristic", 1);
    setenv("NCCL_DEBUG", "WARN", 0);   // NCCL's own reason in the log when it cannot start
    char err[512];
    const dcgan_backend *gpu = backend_select("cuda", NULL, err, sizeof err);
    if (!gpu) return test_skip_or_fail(err);
    test_print_backend(gpu);
    int rc = in_process_rank(gpu);
    if (rc) return rc;
    under_launcher(bin);
    return test_summary("test_gpu_nccl");
}
