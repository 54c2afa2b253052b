// The all-reduce on the device: ncclAllReduce on the backend's own communication stream, ordered
// against the compute stream with events (src/cpu/comm.c's contract). The communicator is
// bootstrapped through MPI as llm.c's zero.cuh does it: rank 0's ncclGetUniqueId goes to every
// rank with MPI_Bcast (comm_bcast), then ncclCommInitRank. Without NCCL in the build, a
// data-parallel run on the GPU is refused at comm_attach.
#include "cuda_check.h"
#include "cuda_ops.h"
extern "C" {
#include "dcgan/comm.h"
}
#ifdef DCGAN_HAVE_NCCL
#include <nccl.h>

#define NCCL_CHECK(expr) do { ncclResult_t r_ = (expr); \
    if (r_ != ncclSuccess) cuda_fail("NCCL", ncclGetErrorString(r_), #expr, __FILE__, __LINE__); } while (0)
#endif

__global__ void scale_f32_kernel(float *x, size_t n, float s) { GRID_STRIDE(i, n) x[i] *= s; }
__global__ void scale_f64_kernel(double *x, size_t n, double s) { GRID_STRIDE(i, n) x[i] *= s; }

int cuda_comm_attach(const dcgan_backend *be, dcgan_comm *comm, char *err, size_t errlen) {
    cuda_ctx *c = ctx_of(be);
#ifdef DCGAN_HAVE_NCCL
    if (c->nccl) return 0;
    ncclUniqueId id;
    if (comm->rank == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    comm_bcast(comm, &id, sizeof id, 0);
    ncclComm_t nc;
    ncclResult_t r = ncclCommInitRank(&nc, comm->size, id, comm->rank);
    if (r != ncclSuccess) {
        snprintf(err, errlen, "NCCL cannot start rank %d of %d on GPU %d: %s", comm->rank, comm->size, c->device,
                 ncclGetErrorString(r));
        return -1;
    }
    c->nccl = nc;
    CUDA_CHECK(cudaStreamCreateWithFlags(&c->comm_stream, cudaStreamNonBlocking));
    for (int k = 0; k < 4; k++) {
        CUDA_CHECK(cudaEventCreateWithFlags(&c->reduce_ready[k], cudaEventDisableTiming));
        CUDA_CHECK(cudaEventCreateWithFlags(&c->reduce_done[k], cudaEventDisableTiming));
    }
    return 0;
#else
    (void)c;
    snprintf(err, errlen, "this build has no NCCL, which a data-parallel run on the GPU needs (%d ranks); rebuild with"
             " NCCL installed next to CUDA, or train on the CPU (--device cpu)", comm->size);
    return -1;
#endif
}

void cuda_allreduce(const dcgan_backend *be, void *buf, const reduce_desc *d) {
    NVTX_RANGE("allreduce");
    cuda_ctx *c = ctx_of(be);
    DCGAN_REQUIRE(c->nccl && d->slot >= 0 && d->slot < 4);
#ifdef DCGAN_HAVE_NCCL
    const int k = d->slot;
    // The reduction starts once the compute stream has written buf; compute work enqueued before
    // allreduce_wait runs beside it.
    CUDA_CHECK(cudaEventRecord(c->reduce_ready[k], c->stream));
    CUDA_CHECK(cudaStreamWaitEvent(c->comm_stream, c->reduce_ready[k], 0));
    NCCL_CHECK(ncclAllReduce(buf, buf, d->n, d->f64 ? ncclDouble : ncclFloat, ncclSum, (ncclComm_t)c->nccl,
                             c->comm_stream));
    if (d->scale != 1.0f) {
        if (d->f64) scale_f64_kernel<<<grid_for(c, d->n, 256), 256, 0, c->comm_stream>>>((double *)buf, d->n, d->scale);
        else scale_f32_kernel<<<grid_for(c, d->n, 256), 256, 0, c->comm_stream>>>((float *)buf, d->n, d->scale);
        CUDA_CHECK_LAUNCH();
    }
    CUDA_CHECK(cudaEventRecord(c->reduce_done[k], c->comm_stream));
#else
    (void)buf;
#endif
}

void cuda_allreduce_wait(const dcgan_backend *be, const reduce_desc *d) {
    cuda_ctx *c = ctx_of(be);
    DCGAN_REQUIRE(c->nccl && d->slot >= 0 && d->slot < 4);
    CUDA_CHECK(cudaStreamWaitEvent(c->stream, c->reduce_done[d->slot], 0));
}
