// Data parallelism in one program run by `mpirun -np 2` (tests/CMakeLists.txt), CPU backend:
//  - the communicator: ranks, exact float and double sums, the agreement and gather collectives;
//  - 2 ranks x batch B for K iterations (trainer_iteration with the all-reduces) end with weights,
//    optimiser state and counters bit-identical on both ranks and equal, bit for bit, to one
//    process that runs the two shards with their own batchnorm statistics and averages the
//    gradients ((g0 + g1) * 0.5, the sum MPI forms with two ranks): for a plain DCGAN and for a
//    WGAN with 5 D steps that crosses an epoch; each rank's running statistics equal its shard's;
//  - --sync-bn: the ranks against one process on the concatenated 2B batch (tolerances below);
//  - the parameter hash sees a one-ulp change on one rank.
// Without MPI in the build, or started without a launcher, it reports itself skipped (77).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/comm.h"
#include "dcgan/cpu.h"
#include "dcgan/train.h"
#include "test_util.h"
#include "train_compare.h"

static dcgan_comm comm;

static void hparams(train_hparams *h, gan_loss loss, int B) {
    train_hparams_defaults(h, loss);
    h->cfg = (dcgan_config){.size = 32, .nc = 1, .nz = 16, .ngf = 8, .ndf = 8};
    h->batch_size = B;
    h->seed = 5;
}

static void test_collectives(void) {
    float f[3] = {1.0f + comm.rank, 1e-8f, (float)comm.rank * 0.1f};
    comm_allreduce(&comm, f, 3, 0);
    CHECK(f[0] == 3.0f && f[1] == 1e-8f + 1e-8f && f[2] == 0.1f);
    double d[2] = {0.25 * comm.rank, 1e300};
    comm_allreduce(&comm, d, 2, 1);
    CHECK(d[0] == 0.25 && d[1] == 2e300);
    CHECK(comm_max(&comm, comm.rank == 1 ? 7 : 0) == 7);
    uint64_t all[2];
    comm_allgather_u64(&comm, 100 + (uint64_t)comm.rank, all);
    CHECK(all[0] == 100 && all[1] == 101);
    uint64_t word = comm.rank == 0 ? 0x1234 : 0;
    comm_bcast(&comm, &word, sizeof word, 0);
    CHECK(word == 0x1234);
    printf("rank %d: collectives ok (sum, max, gather, bcast)\n", comm.rank);
}

// The inputs of D step j on one trainer: its shard's batch and its rank's noise.
static void inputs(trainer *t, int j) {
    const dcgan_backend *be = t->be;
    be->data_gather(be, t->reals[j], NULL, t->data.pixels, NULL, t->data.order, t->data.cursor, &t->data.desc);
    be->noise_normal(be, t->noises[j], &t->counters->noise_offset, &t->noise);
}

static void average_into_both(float *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i++) a[i] = b[i] = (a[i] + b[i]) * 0.5f;
}

// The reference: both shards in this process, one after the other, the gradients averaged.
static void reference_iteration(train_runner *r) {
    trainer *t0 = &r[0].t, *t1 = &r[1].t;
    batcher_prepare(&r[0].data);
    batcher_prepare(&r[1].data);
    for (int j = 0; j < t0->hp.d_steps; j++) {
        for (int k = 0; k < 2; k++) {
            inputs(&r[k].t, j);
            trainer_d_grads(&r[k].t, r[k].t.reals[j], NULL, r[k].t.noises[j], NULL);
        }
        average_into_both(t0->D.grads, t1->D.grads, t0->D.nparams);
        trainer_d_update(t0);
        trainer_d_update(t1);
    }
    trainer_g_grads(t0);
    trainer_g_grads(t1);
    average_into_both(t0->G.grads, t1->G.grads, t0->G.nparams);
    trainer_g_update(t0);
    trainer_g_update(t1);
}

static int same_floats(const float *a, const float *b, size_t n) { return !memcmp(a, b, n * sizeof(float)); }

// Everything of trainer a equals b, bit for bit: weights, running statistics, batch counts,
// optimiser moments and counters.
static int same_state(const trainer *a, const trainer *b) {
    const dcgan_net *na[2] = {&a->G, &a->D}, *nb[2] = {&b->G, &b->D};
    int same = 1;
    for (int k = 0; k < 2; k++) {
        same = same && same_floats(na[k]->params, nb[k]->params, na[k]->nparams);
        same = same && same_floats(na[k]->stats, nb[k]->stats, na[k]->nstats);
        same = same && !memcmp(na[k]->num_batches_tracked, nb[k]->num_batches_tracked, na[k]->nbn * sizeof(int64_t));
    }
    for (int s = 0; s < (a->hp.optimizer == OPT_ADAM ? 2 : 1); s++)
        same = same && same_floats(a->opt_g[s], b->opt_g[s], a->G.nparams) &&
               same_floats(a->opt_d[s], b->opt_d[s], a->D.nparams);
    return same && !memcmp(a->counters, b->counters, sizeof *a->counters) && *a->data.cursor == *b->data.cursor;
}

static void test_local_bn(const char *name, gan_loss loss, long iters, const dcgan_dataset *ds) {
    train_hparams h;
    hparams(&h, loss, 16);
    char err[512];
    train_runner me, ref[2];
    if (train_runner_init(&me, backend_cpu(), ds, &h, comm.rank, comm.size)) return;
    CHECK(trainer_attach_comm(&me.t, &comm, err, sizeof err) == 0);
    for (long i = 0; i < iters; i++) {
        batcher_prepare(&me.data);
        trainer_iteration(&me.t);
    }
    long bpe = me.data.src.desc.batches_per_epoch;
    CHECK(*me.t.data.cursor == iters * h.d_steps && batcher_cursor(&me.data) == iters * h.d_steps);
    if (train_runner_init(&ref[0], backend_cpu(), ds, &h, 0, 2) ||
        train_runner_init(&ref[1], backend_cpu(), ds, &h, 1, 2))
        return;
    trainer_shard(&ref[0].t, 0, 2);
    trainer_shard(&ref[1].t, 1, 2);
    for (long i = 0; i < iters; i++) reference_iteration(ref);
    int same = same_state(&me.t, &ref[comm.rank].t);
    printf("rank %d, %s: %ld iterations (%ld batches, %ld per epoch) vs one process running both shards: %s\n",
           comm.rank, name, iters, iters * h.d_steps, bpe, same ? "bit-identical" : "DIFFERENT");
    CHECK(same);
    // The reference's two trainers hold the same weights; only the running statistics differ.
    CHECK(same_floats(ref[0].t.D.params, ref[1].t.D.params, ref[0].t.D.nparams));
    CHECK(!same_floats(ref[0].t.D.stats, ref[1].t.D.stats, ref[0].t.D.nstats));
    uint64_t hashes[2], mine = 0;
    CHECK(trainer_hash(&me.t, &mine, err, sizeof err) == 0);
    comm_allgather_u64(&comm, mine, hashes);
    CHECK(hashes[0] == hashes[1]);
    // A change of one ulp in one weight on one rank changes its hash.
    if (comm.rank == 1) me.t.G.params[7] = nextafterf(me.t.G.params[7], 1.0f);
    CHECK(trainer_hash(&me.t, &mine, err, sizeof err) == 0);
    comm_allgather_u64(&comm, mine, hashes);
    CHECK(hashes[0] != hashes[1]);
    train_runner_free(&ref[0]);
    train_runner_free(&ref[1]);
    train_runner_free(&me);
}

static double max_abs_diff(const float *a, const float *b, size_t n, double *scale) {
    double m = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
        if (fabs(b[i]) > s) s = fabs(b[i]);
    }
    if (scale) *scale = s;
    return m;
}

// --sync-bn against one process on the concatenated batch: the reference reads the global batch
// (shard 0 then shard 1) with batch 2B and takes rank 0's noise then rank 1's.
//
// Tolerances. The two computations differ only in the order of float sums: the ranks sum each
// convolution's weight gradient over B samples and add the two halves (all-reduce), the
// reference over 2B at once; batchnorm's statistics are one-pass double sums on the ranks and
// two-pass on the reference (a difference far below float precision); the loss gradients are
// the same numbers (g / B * 0.5 == g / 2B: halving commutes with rounding). A float sum of n
// terms in two orders differs by at most about n * 2^-24 of the sum of the terms' magnitudes;
// with n up to 2B * 16 * 16 = 8192 products per weight (D's first layer) and terms of one sign
// mostly, that is 5e-4 of the largest gradient in the worst case, typically sqrt(n) * 2^-24 =
// 5e-6. The check takes 1e-3 of the tensor's largest gradient. Adam turns a gradient into a step
// of about lr * sign(g) at first, so the weights after K iterations are within K * lr of each
// other in the worst case (a gradient whose sign flips); the check asks 1e-2 of that, since a
// flipped sign needs a gradient within its rounding of zero. The losses follow the weights: 1e-4.
// Local batchnorm statistics on the same data would fail these tolerances by far: checked too.
static void test_sync_bn(const dcgan_dataset *ds, int sync, double *grad_err) {
    const int B = 16;
    const long iters = 3;
    train_hparams h, h2;
    hparams(&h, LOSS_NONSAT, B);
    h.sync_bn = sync;
    hparams(&h2, LOSS_NONSAT, 2 * B);
    char err[512];
    train_runner me, ref;
    if (train_runner_init(&me, backend_cpu(), ds, &h, comm.rank, comm.size) ||
        train_runner_init(&ref, backend_cpu(), ds, &h2, 0, 1))
        return;
    CHECK(trainer_attach_comm(&me.t, &comm, err, sizeof err) == 0);
    const size_t zn = (size_t)B * h.cfg.nz;
    double worst_grad = 0, worst_w = 0, worst_loss = 0;
    for (long i = 0; i < iters; i++) {
        batcher_prepare(&me.data);
        trainer_iteration(&me.t);
        // The reference: the global batch, then each rank's noise from its own stream.
        trainer *t = &ref.t;
        batcher_prepare(&ref.data);
        const dcgan_backend *be = t->be;
        be->data_gather(be, t->reals[0], NULL, t->data.pixels, NULL, t->data.order, t->data.cursor, &t->data.desc);
        for (int r = 0; r < 2; r++) {
            noise_desc nd = me.t.noise;
            nd.stream = rng_rank_stream(RNG_STREAM_NOISE, r);
            nd.offset = t->counters->noise_offset;
            be->noise_normal(be, t->noises[0] + r * zn, NULL, &nd);
        }
        t->counters->noise_offset += rng_block_words(zn);
        trainer_d_grads(t, t->reals[0], NULL, t->noises[0], NULL);
        trainer_d_update(t);
        trainer_g_grads(t);
        double scale, d = max_abs_diff(me.t.G.grads, t->G.grads, t->G.nparams, &scale);
        if (d / scale > worst_grad) worst_grad = d / scale;
        trainer_g_update(t);
        step_stats a, b;
        trainer_read_stats(&me.t, &a);
        trainer_read_stats(t, &b);
        // The ranks' losses are those of their own halves: their mean is the global batch's.
        double la[3] = {a.loss_d_real, a.loss_d_fake, a.loss_g}, lb[3] = {b.loss_d_real, b.loss_d_fake, b.loss_g};
        comm_allreduce(&comm, la, 3, 1);
        for (int k = 0; k < 3; k++) {
            double e = fabs(la[k] / 2 - lb[k]);
            if (e > worst_loss) worst_loss = e;
        }
    }
    const dcgan_net *na[2] = {&me.t.G, &me.t.D}, *nb[2] = {&ref.t.G, &ref.t.D};
    for (int k = 0; k < 2; k++) {
        double d = max_abs_diff(na[k]->params, nb[k]->params, na[k]->nparams, NULL);
        if (d > worst_w) worst_w = d;
    }
    const double w_tol = 1e-2 * iters * h.lr;
    int ok = worst_grad <= 1e-3 && worst_w <= w_tol && worst_loss <= 1e-4;
    printf("rank %d, %s batchnorm vs one process on the 2B batch, %ld iterations: G gradients %.2e of their largest"
           " (tol 1e-3), weights %.2e (tol %.1e), losses %.2e (tol 1e-4): %s\n", comm.rank, sync ? "synchronised" : "local",
           iters, worst_grad, worst_w, w_tol, worst_loss, ok ? "within" : "beyond");
    if (sync) CHECK(ok);
    else CHECK(!ok);   // the check can tell the two apart
    *grad_err = worst_grad;
    train_runner_free(&me);
    train_runner_free(&ref);
}

int main(void) {
    char err[512];
    if (!comm_have_mpi()) { printf("skipped: this build has no MPI\n"); return 77; }
    if (comm_init(&comm, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }
    if (!comm.mpi || comm.size != 2) {
        printf("skipped: run under mpirun -np 2 (this is %d process(es))\n", comm.size);
        comm_finalize(&comm);
        return 77;
    }
    CHECK(cpu_comm_attach(backend_cpu(), &comm, err, sizeof err) == 0);
    test_collectives();
    dcgan_dataset ds;
    CHECK(dataset_load(&ds, "synthetic", NULL, 32, 1, 5, err, sizeof err) == 0);
    test_local_bn("nonsat", LOSS_NONSAT, 6, &ds);
    test_local_bn("wgan, 5 D steps, across an epoch", LOSS_WGAN, 14, &ds);
    double e_sync = 0, e_local = 0;
    test_sync_bn(&ds, 1, &e_sync);
    test_sync_bn(&ds, 0, &e_local);
    dataset_free(&ds);
    int failures = comm_max(&comm, test_failures);
    int rank = comm.rank;
    comm_finalize(&comm);
    if (failures && !test_failures) test_failures = 1;
    char name[64];
    snprintf(name, sizeof name, "test_mpi_ranks (rank %d)", rank);
    return test_summary(name);
}
