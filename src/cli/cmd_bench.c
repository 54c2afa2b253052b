// dcgan bench: training throughput (images/s) of the full iteration on synthetic data.
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <string.h>
#include "cli.h"
#include "dcgan/clock.h"
#include "dcgan/comm.h"
#include "dcgan/data.h"
#include "dcgan/error.h"
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

typedef struct {
    train_hparams h;
    long iters, warmup, repeats;
    int json, verbose;
    const char *device;
} bench_options;

static void parse(int argc, char **argv, bench_options *b) {
    train_hparams *h = &b->h;
    option_parser p;
    options_begin(&p, "bench", argc, argv,
                  "size nc batch-size nz ngf ndf iters repeats warmup device json help sync-bn precision threads verbose");
    for (int c; (c = next_option(&p)) != -1;) {
        switch (c) {
        case OPT_SIZE: h->cfg.size = (int)parse_long("--size", optarg, 1, 4096); break;
        case OPT_NC: h->cfg.nc = (int)parse_long("--nc", optarg, 1, 3); break;
        case OPT_BATCH: h->batch_size = (int)parse_long("--batch-size", optarg, 1, 65536); break;
        case OPT_NZ: h->cfg.nz = (int)parse_long("--nz", optarg, 1, 4096); break;
        case OPT_NGF: h->cfg.ngf = (int)parse_long("--ngf", optarg, 1, 1024); break;
        case OPT_NDF: h->cfg.ndf = (int)parse_long("--ndf", optarg, 1, 1024); break;
        case OPT_ITERS: b->iters = parse_long("--iters", optarg, 1, 1000000); break;
        case OPT_REPEATS: b->repeats = parse_long("--repeats", optarg, 1, 1000); break;
        case OPT_WARMUP: b->warmup = parse_long("--warmup", optarg, 0, 1000000); break;
        case OPT_DEVICE: b->device = optarg; break;
        case OPT_JSON: b->json = 1; break;
        case OPT_SYNC_BN: h->sync_bn = 1; break;
        case OPT_PRECISION: h->precision = parse_precision("bench", optarg); break;
        case OPT_THREADS: set_threads(optarg); break;
        case OPT_VERBOSE: b->verbose = 1; break;
        case OPT_HELP: help(); exit(0);
        }
    }
    options_end(&p);
}

// What a rank trains: the run's own set-up (train.h) on the synthetic shapes, resident on the
// backend as a real run's data.
typedef struct {
    dcgan_comm comm;
    const dcgan_backend *be;
    trainer t;
    dcgan_dataset ds;
    batcher data;
} bench_rank;

static int bench_setup(bench_rank *r, const bench_options *b, char *err, size_t errlen) {
    const int root = r->comm.rank == 0;
    if (!(r->be = train_backend(b->device, &r->comm, b->verbose, root ? stderr : NULL, err, errlen))) return -1;
    char what[1024];
    r->be->describe(r->be, what, sizeof what);
    if (root) fprintf(b->json ? stderr : stdout, "%s\n", what);   // what the numbers were measured on
    if (trainer_init(&r->t, &b->h, r->be, err, errlen)) return -1;
    if (r->comm.mpi && trainer_attach_comm(&r->t, &r->comm, err, errlen)) return -1;
    if (dataset_load(&r->ds, "synthetic", NULL, b->h.cfg.size, b->h.cfg.nc, 7, err, errlen)) return -1;
    return trainer_feed(&r->t, &r->data, &r->ds, &r->comm, 0, 0, err, errlen);
}

static void bench_free(bench_rank *r) {
    batcher_free(&r->data);
    dataset_free(&r->ds);
    trainer_free(&r->t);
    comm_finalize(&r->comm);
}

typedef struct {
    int blocks;                 // timed in blocks of iterations (an asynchronous backend)
    long samples;               // timed blocks, or iterations
    double median;              // seconds per iteration
    double reduce_per_iter;     // seconds per iteration inside the host-side all-reduces
    long reduces_per_iter;
    double alone;               // one all-reduce of both gradients after a barrier
} bench_result;

static void iterations(bench_rank *r, long n) {
    for (long i = 0; i < n; i++) {
        batcher_prepare(&r->data);
        trainer_iteration(&r->t);
    }
}

// Host backends: each iteration alone. Asynchronous ones: blocks of iterations with one
// synchronisation each, so the host's enqueueing overlaps the device's work as in training.
static int time_iterations(bench_rank *r, const bench_options *b, bench_result *res, char *err, size_t errlen) {
    const dcgan_backend *be = r->be;
    res->blocks = !be->host_memory;
    res->samples = res->blocks ? b->repeats : b->iters;
    const long per_sample = res->blocks ? b->iters : 1;
    double *times = malloc((size_t)res->samples * sizeof(double));
    if (!times) return set_error(err, errlen, "out of memory for %ld timings", res->samples);
    iterations(r, b->warmup);
    be->sync(be);
    comm_barrier(&r->comm);
    const double reduce_s0 = r->comm.allreduce_s;
    const long reduce_calls0 = r->comm.allreduce_calls;
    for (long k = 0; k < res->samples; k++) {
        double t0 = monotonic_seconds();
        iterations(r, per_sample);
        be->sync(be);
        times[k] = (monotonic_seconds() - t0) / per_sample;
    }
    // Host-side all-reduces (the CPU backend's): seconds per iteration inside MPI_Allreduce.
    const long timed_iters = res->samples * per_sample;
    res->reduce_per_iter = (r->comm.allreduce_s - reduce_s0) / timed_iters;
    res->reduces_per_iter = (r->comm.allreduce_calls - reduce_calls0) / timed_iters;
    qsort(times, (size_t)res->samples, sizeof(double), compare_double);
    res->median = times[res->samples / 2];
    free(times);
    return 0;
}

// One all-reduce of G's and D's gradients alone, after a barrier: the transfer without waits.
static double allreduce_alone(bench_rank *r) {
    const dcgan_backend *be = r->be;
    const trainer *t = &r->t;
    reduce_desc rd = {.n = t->D.nparams, .scale = 1.0f / r->comm.size, .slot = 0},
                rg = {.n = t->G.nparams, .scale = 1.0f / r->comm.size, .slot = 1};
    double best = 1e30;
    for (int k = 0; k < 5; k++) {
        be->sync(be);
        comm_barrier(&r->comm);
        double t0 = monotonic_seconds();
        be->allreduce(be, t->D.grads, &rd);
        be->allreduce(be, t->G.grads, &rg);
        be->allreduce_wait(be, &rd);
        be->allreduce_wait(be, &rg);
        be->sync(be);
        double dt = monotonic_seconds() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

static void report(const bench_rank *r, const bench_options *b, const bench_result *res) {
    const train_hparams *h = &b->h;
    const dcgan_backend *be = r->be;
    const int ranks = r->comm.size;
    const size_t grad_floats = r->t.G.nparams + r->t.D.nparams;
    const double ips = (double)h->batch_size * ranks / res->median;
    if (b->json)
        printf("{\"backend\":\"%s\",\"size\":%d,\"nc\":%d,\"batch_size\":%d,\"ngf\":%d,\"ndf\":%d,\"nz\":%d,"
               "\"precision\":\"%s\",\"threads\":%d,\"iters\":%ld,\"repeats\":%ld,\"timing\":\"%s\",\"median_iter_s\":%.6f,"
               "\"images_per_s\":%.1f,\"ranks\":%d,\"sync_bn\":%d,\"grad_bytes\":%zu,\"allreduce_s_per_iter\":%.6f,"
               "\"allreduces_per_iter\":%ld,\"allreduce_alone_s\":%.6f}\n",
               be->name, h->cfg.size, h->cfg.nc, h->batch_size, h->cfg.ngf, h->cfg.ndf, h->cfg.nz, dtype_name(h->precision),
               omp_get_max_threads(), b->iters, res->blocks ? b->repeats : 1, res->blocks ? "blocks" : "each", res->median,
               ips, ranks, h->sync_bn, grad_floats * sizeof(float), res->reduce_per_iter, res->reduces_per_iter, res->alone);
    else if (ranks > 1 || r->comm.mpi)
        printf("dcgan bench (%s, %d ranks%s): size %d nc %d batch %d per rank ngf %d ndf %d: median %.2f ms/iter, %.1f"
               " images/s in all; all-reduce %.2f ms/iter (%ld calls; %.1f%% of the iteration, waits included), both"
               " gradients (%.2f MB) alone %.2f ms\n",
               be->name, ranks, h->sync_bn ? ", --sync-bn" : "", h->cfg.size, h->cfg.nc, h->batch_size, h->cfg.ngf,
               h->cfg.ndf, res->median * 1e3, ips, res->reduce_per_iter * 1e3, res->reduces_per_iter,
               100 * res->reduce_per_iter / res->median, grad_floats * 4 / 1e6, res->alone * 1e3);
    else
        printf("dcgan bench (%s, %s, %d threads): size %d nc %d batch %d ngf %d ndf %d: median %.2f ms/iter, %.1f images/s\n",
               be->name, dtype_name(h->precision), omp_get_max_threads(), h->cfg.size, h->cfg.nc, h->batch_size,
               h->cfg.ngf, h->cfg.ndf, res->median * 1e3, ips);
}

int cmd_bench(int argc, char **argv) {
    bench_options b = {.iters = 20, .warmup = 3, .repeats = 5, .device = "auto"};
    train_hparams_defaults(&b.h, LOSS_NONSAT);
    parse(argc, argv, &b);
    char err[512];
    bench_rank r;
    memset(&r, 0, sizeof r);
    if (comm_init(&r.comm, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    bench_result res = {0};
    int rc = bench_setup(&r, &b, err, sizeof err) ? -1 : time_iterations(&r, &b, &res, err, sizeof err);
    if (!rc && r.comm.mpi) res.alone = allreduce_alone(&r);
    if (rc) fprintf(stderr, "error: %s\n", err);
    else if (r.comm.rank == 0) report(&r, &b, &res);
    bench_free(&r);
    return rc ? 1 : 0;
}
