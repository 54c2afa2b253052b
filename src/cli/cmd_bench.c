// dcgan bench: training throughput (images/s) of the full iteration on synthetic data.
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <string.h>
#include "cli.h"
#include "dcgan/clock.h"
#include "dcgan/comm.h"
#include "dcgan/data.h"
#include "dcgan/train.h"

static void help(void) {
    printf(
        "usage: dcgan bench [options]\n"
        "Times full training iterations (data gather, noise, D step on real + fake, G step, Adam) on\n"
        "the synthetic shapes resident on the device, and prints the median images/s. On the CPU each\n"
        "iteration is timed alone; on a GPU each repeat times --iters iterations as one block between\n"
        "two synchronisations (as the PyTorch reference, benchmarks/pytorch_dcgan.py, times its own).\n"
        "\n"
        "  --size N        32 | 64 | 128          [64]\n"
        "  --nc N          1 | 3                  [3]\n"
        "  --batch-size N                         [64]\n"
        "  --nz N / --ngf N / --ndf N             [100 / 64 / 64]\n"
        "  --iters N       timed iterations       [20]   (GPU: per repeat)\n"
        "  --repeats N     GPU: timed blocks      [5]\n"
        "  --warmup N      untimed iterations     [3]\n"
        "  --device D      cpu | cpu-ref | onednn | cuda | cuda:K | auto   [auto]\n"
        "  --precision P   fp32 | bf16            [fp32]  (bf16: onednn on a CPU with AVX512_BF16)\n"
        "  --threads N     OpenMP threads         [all cores, or OMP_NUM_THREADS]\n"
        "  --verbose       print each planned convolution's oneDNN implementations\n"
        "  --sync-bn       data-parallel: batchnorm over the global batch\n"
        "  --json          print one JSON line instead of text\n"
        "\n"
        "Under mpirun -np N (any MPI launcher) every rank trains its shard of batch --batch-size and\n"
        "rank 0 prints the global images/s, the time spent in the gradient all-reduces per iteration\n"
        "(waits for the slowest rank included) and the time of one all-reduce of both gradients alone.\n");
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cmd_bench(int argc, char **argv) {
    train_hparams h;
    train_hparams_defaults(&h, LOSS_NONSAT);
    long iters = 20, warmup = 3, repeats = 5;
    int json = 0, verbose = 0;
    const char *device = "auto";
    option_parser p;
    options_begin(&p, "bench", argc, argv,
                  "size nc batch-size nz ngf ndf iters repeats warmup device json help sync-bn precision threads verbose");
    for (int c; (c = next_option(&p)) != -1;) {
        switch (c) {
        case OPT_SIZE: h.cfg.size = (int)parse_long("--size", optarg, 1, 4096); break;
        case OPT_NC: h.cfg.nc = (int)parse_long("--nc", optarg, 1, 3); break;
        case OPT_BATCH: h.batch_size = (int)parse_long("--batch-size", optarg, 1, 65536); break;
        case OPT_NZ: h.cfg.nz = (int)parse_long("--nz", optarg, 1, 4096); break;
        case OPT_NGF: h.cfg.ngf = (int)parse_long("--ngf", optarg, 1, 1024); break;
        case OPT_NDF: h.cfg.ndf = (int)parse_long("--ndf", optarg, 1, 1024); break;
        case OPT_ITERS: iters = parse_long("--iters", optarg, 1, 1000000); break;
        case OPT_REPEATS: repeats = parse_long("--repeats", optarg, 1, 1000); break;
        case OPT_WARMUP: warmup = parse_long("--warmup", optarg, 0, 1000000); break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_SYNC_BN: h.sync_bn = 1; break;
        case OPT_PRECISION: h.precision = parse_precision("bench", optarg); break;
        case OPT_THREADS: set_threads(optarg); break;
        case OPT_VERBOSE: verbose = 1; break;
        case OPT_HELP: help(); return 0;
        }
    }
    options_end(&p);
    char err[512];
    dcgan_comm comm;
    if (comm_init(&comm, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    const int root = comm.rank == 0;
    const char *notice;
    const dcgan_backend *be = backend_select_gpu(device, comm.mpi ? comm.local_rank : -1, &notice, err, sizeof err);
    if (!be) { fprintf(stderr, "error: %s\n", err); return 1; }
    if (notice && root) fprintf(stderr, "note: --device auto: %s; using the CPU\n", notice);
    be->set_verbose(be, verbose);
    char what[1024];
    be->describe(be, what, sizeof what);
    if (root) fprintf(json ? stderr : stdout, "%s\n", what);   // what the numbers were measured on
    trainer t;
    if (trainer_init(&t, &h, be, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    if (comm.mpi && trainer_attach_comm(&t, &comm, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    // The synthetic shapes, resident on the backend as a real run's data.
    dcgan_dataset ds;
    batcher data;
    if (dataset_load(&ds, "synthetic", NULL, h.cfg.size, h.cfg.nc, 7, err, sizeof err) ||
        batcher_init_shard(&data, be, &ds, h.batch_size, comm.rank, comm.size, h.d_steps, 7, 0, 0, 0, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    if (trainer_bind_data(&t, &data, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    // Host backends: each iteration alone. Asynchronous ones: blocks of iterations with one
    // synchronisation each, so the host's enqueueing overlaps the device's work as in training.
    const int blocks = !be->host_memory;
    const long samples = blocks ? repeats : iters, per_sample = blocks ? iters : 1;
    double *times = malloc((size_t)samples * sizeof(double));
    if (!times) { fprintf(stderr, "error: out of memory\n"); return 1; }
    for (long i = 0; i < warmup; i++) {
        batcher_prepare(&data);
        trainer_iteration(&t);
    }
    be->sync(be);
    comm_barrier(&comm);
    const double reduce_s0 = comm.allreduce_s;
    const long reduce_calls0 = comm.allreduce_calls;
    for (long r = 0; r < samples; r++) {
        double t0 = monotonic_seconds();
        for (long i = 0; i < per_sample; i++) {
            batcher_prepare(&data);
            trainer_iteration(&t);
        }
        be->sync(be);
        times[r] = (monotonic_seconds() - t0) / per_sample;
    }
    // Host-side all-reduces (the CPU backend's): seconds per iteration inside MPI_Allreduce.
    const long timed_iters = samples * per_sample;
    const double reduce_per_iter = (comm.allreduce_s - reduce_s0) / timed_iters;
    const long reduces_per_iter = (comm.allreduce_calls - reduce_calls0) / timed_iters;
    // One all-reduce of G's and D's gradients alone, after a barrier: the transfer without waits.
    double alone = 0;
    const size_t grad_floats = t.G.nparams + t.D.nparams;
    if (comm.mpi) {
        reduce_desc rd = {.n = t.D.nparams, .scale = 1.0f / comm.size, .slot = 0}, rg = {.n = t.G.nparams, .scale = 1.0f / comm.size, .slot = 1};
        double best = 1e30;
        for (int r = 0; r < 5; r++) {
            be->sync(be);
            comm_barrier(&comm);
            double t0 = monotonic_seconds();
            be->allreduce(be, t.D.grads, &rd);
            be->allreduce(be, t.G.grads, &rg);
            be->allreduce_wait(be, &rd);
            be->allreduce_wait(be, &rg);
            be->sync(be);
            double dt = monotonic_seconds() - t0;
            if (dt < best) best = dt;
        }
        alone = best;
    }
    qsort(times, (size_t)samples, sizeof(double), compare_double);
    double median = times[samples / 2], ips = (double)h.batch_size * comm.size / median;
    if (!root) {
    } else if (json)
        printf("{\"backend\":\"%s\",\"size\":%d,\"nc\":%d,\"batch_size\":%d,\"ngf\":%d,\"ndf\":%d,\"nz\":%d,"
               "\"precision\":\"%s\",\"threads\":%d,\"iters\":%ld,\"repeats\":%ld,\"timing\":\"%s\",\"median_iter_s\":%.6f,"
               "\"images_per_s\":%.1f,\"ranks\":%d,\"sync_bn\":%d,\"grad_bytes\":%zu,\"allreduce_s_per_iter\":%.6f,"
               "\"allreduces_per_iter\":%ld,\"allreduce_alone_s\":%.6f}\n",
               be->name, h.cfg.size, h.cfg.nc, h.batch_size, h.cfg.ngf, h.cfg.ndf, h.cfg.nz, dtype_name(h.precision),
               omp_get_max_threads(), iters, blocks ? repeats : 1, blocks ? "blocks" : "each", median, ips, comm.size,
               h.sync_bn, grad_floats * sizeof(float), reduce_per_iter, reduces_per_iter, alone);
    else if (comm.size > 1 || comm.mpi)
        printf("dcgan bench (%s, %d ranks%s): size %d nc %d batch %d per rank ngf %d ndf %d: median %.2f ms/iter, %.1f"
               " images/s in all; all-reduce %.2f ms/iter (%ld calls; %.1f%% of the iteration, waits included), both"
               " gradients (%.2f MB) alone %.2f ms\n",
               be->name, comm.size, h.sync_bn ? ", --sync-bn" : "", h.cfg.size, h.cfg.nc, h.batch_size, h.cfg.ngf,
               h.cfg.ndf, median * 1e3, ips, reduce_per_iter * 1e3, reduces_per_iter, 100 * reduce_per_iter / median,
               grad_floats * 4 / 1e6, alone * 1e3);
    else
        printf("dcgan bench (%s, %s, %d threads): size %d nc %d batch %d ngf %d ndf %d: median %.2f ms/iter, %.1f images/s\n",
               be->name, dtype_name(h.precision), omp_get_max_threads(), h.cfg.size, h.cfg.nc, h.batch_size, h.cfg.ngf, h.cfg.ndf, median * 1e3, ips);
    free(times);
    batcher_free(&data);
    dataset_free(&ds);
    trainer_free(&t);
    comm_finalize(&comm);
    return 0;
}
