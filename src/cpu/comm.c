// The all-reduce of a host-memory backend: MPI_Allreduce on the buffer itself (comm.h), then the
// scale. Any backend whose memory is host memory can take these three functions as its own.
#include "dcgan/comm.h"
#include "dcgan/cpu.h"

static dcgan_comm *attached;   // one communicator per process

int cpu_comm_attach(const dcgan_backend *be, dcgan_comm *comm, char *err, size_t errlen) {
    (void)be; (void)err; (void)errlen;
    attached = comm;
    return 0;
}

void cpu_allreduce(const dcgan_backend *be, void *buf, const reduce_desc *d) {
    // buf: [n] floats or doubles
    (void)be;
    DCGAN_REQUIRE(attached && d->slot >= 0 && d->slot < 4);
    comm_allreduce(attached, buf, d->n, d->f64);
    if (d->scale == 1.0f) return;
    if (d->f64) {
        double *x = buf;
        for (size_t i = 0; i < d->n; i++) x[i] *= (double)d->scale;
    } else {
        float *x = buf;
        for (size_t i = 0; i < d->n; i++) x[i] *= d->scale;
    }
}

void cpu_allreduce_wait(const dcgan_backend *be, const reduce_desc *d) { (void)be; (void)d; }
