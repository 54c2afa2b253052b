// The GPU all-reduce: one rank under mpirun trains through NCCL (ncclAllReduce of each gradient
// on the backend's communication stream, with one rank a copy, then the 1/1 scale) and must end
// bit for bit where the plain GPU run ends, with the same deterministic math (FMA, heuristic
// algorithms). Exits 77 without a CUDA device, or without MPI in the build (DCGAN_MPIRUN unset).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "dcgan/comm.h"
#include "dcgan/train.h"
#include "test_util.h"

int main(int argc, char **argv) {
    const char *bin = test_dcgan_bin(argc, argv, "test_gpu_nccl");
    setenv("DCGAN_CUDNN_MATH", "fma", 1);
    setenv("DCGAN_CUDNN_ALGO", "heuristic", 1);
    char err[512];
    const dcgan_backend *gpu = backend_select("cuda", NULL, err, sizeof err);
    if (!gpu) return test_skip_or_fail(err);
    test_print_backend(gpu);
    const char *mpirun = getenv("DCGAN_MPIRUN");
    if (!comm_have_mpi() || !mpirun || !*mpirun) return test_skip_or_fail("this build has no MPI (and so no NCCL path)");
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
    const char *what = "1 rank through NCCL vs the plain GPU run, 10 iterations";
    int same = same_tensors(what, a, b, "netG.safetensors") && same_tensors(what, a, b, "netD.safetensors") &&
               same_tensors(what, a, b, "train_state.safetensors");
    CHECK(same);
    return test_summary("test_gpu_nccl");
}
