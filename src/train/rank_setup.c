// What every training process sets up for its rank, shared by the training run and dcgan bench:
// the rank's backend, and its shard of the data placed and bound to the trainer.
#include "dcgan/train.h"

const dcgan_backend *train_backend(const char *device, const dcgan_comm *comm, int verbose, FILE *notes, char *err,
                                   size_t errlen) {
    const char *notice = NULL;
    // Each rank of a machine takes its own GPU (its local rank) unless --device cuda:K says which.
    const dcgan_backend *be = backend_select_gpu(device, comm->mpi ? comm->local_rank : -1, &notice, err, errlen);
    if (!be) return NULL;
    if (notice && notes) fprintf(notes, "note: --device auto: %s; using the CPU\n", notice);
    be->set_verbose(be, verbose);
    return be;
}

int trainer_feed(trainer *t, batcher *b, const dcgan_dataset *ds, const dcgan_comm *comm, int staged, int verbose,
                 char *err, size_t errlen) {
    const train_hparams *h = &t->hp;
    if (batcher_init_shard(b, t->be, ds, h->batch_size, comm->rank, comm->size, h->d_steps, h->seed,
                           h->cfg.nclasses > 0, staged, verbose, err, errlen))
        return -1;
    return trainer_bind_data(t, b, err, errlen);
}
