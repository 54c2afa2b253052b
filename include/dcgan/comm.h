// The ranks of a data-parallel run (src/comm/): which process this is among how many, on which
// machine, and the host-side collectives the training loop needs. Started by an MPI launcher
// (mpirun, srun, ...) in a build with MPI, the ranks talk through MPI; otherwise the run is one
// process and every collective is the identity. Nothing here includes mpi.h: the rest of the
// program sees this header only. A failed collective, or one that waits past the watchdog's
// limit, prints one line naming the rank and what it waited for and ends the process, so that
// the launcher stops the other ranks instead of leaving them hanging.
#ifndef DCGAN_COMM_H
#define DCGAN_COMM_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/desc.h"

struct dcgan_comm {
    int rank, size;             // this process and the processes of the run
    int local_rank, local_size; // among the processes on this machine (the GPU a rank takes)
    int mpi;                    // 1: started by an MPI launcher, the ranks talk through MPI
    double allreduce_s;         // seconds spent in comm_allreduce so far (benchmarks)
    long allreduce_calls;
};

// 1 when this build has MPI (DCGAN_MPI).
int comm_have_mpi(void);
// Joins the run: MPI when an MPI launcher started the process (and the build has MPI), else a
// single process. Returns 0, or -1 with a one-line reason: a launcher started several processes
// but this build has no MPI, or the launcher set up no MPI process manager.
int comm_init(dcgan_comm *c, char *err, size_t errlen);
void comm_finalize(dcgan_comm *c);
// How many processes the environment says a launcher started (1 when none) and the variable
// that says so (NULL when none). Read by comm_init; exposed for its tests.
int comm_launcher_size(const char **var);

// buf[0 .. n-1] = the sum over the ranks, floats (f64 = 0) or doubles (f64 = 1), in place. With
// two ranks a + b == b + a, so every rank gets the same bits; MPI's reductions give all ranks one
// result for more ranks too (the hash check at checkpoints would say otherwise).
void comm_allreduce(dcgan_comm *c, void *buf, size_t n, int f64);
void comm_bcast(const dcgan_comm *c, void *buf, size_t bytes, int root);
// The largest v over the ranks: the ranks agree on stopping, or on a failure one of them had.
int comm_max(const dcgan_comm *c, int v);
// all[r] = rank r's v, on every rank.
void comm_allgather_u64(const dcgan_comm *c, uint64_t v, uint64_t *all);
void comm_barrier(const dcgan_comm *c);

// The watchdog (runs of more than one rank): a rank that makes no progress for the limit
// (DCGAN_COMM_TIMEOUT seconds, default 60, and at least 10 times the slowest beat so far) is
// waiting for a rank that died or hangs; it prints which iteration it was in and exits, and the
// launcher ends the others. comm_beat marks progress (the loop calls it every iteration);
// comm_watch(c, 0) stops the watch (long work of one rank, e.g. rank 0 writing a checkpoint,
// must call comm_beat after it), comm_watch(c, 1) starts it again.
void comm_beat(dcgan_comm *c, long iteration);
void comm_watch(dcgan_comm *c, int on);

#endif
