// Perf mode: the median time of each of a case's phases on a target after a warm-up, with the
// least bytes it moves (GB/s, and the share of the device's peak on CUDA) and its flops (TFLOP/s),
// and a ratio against a baseline where one exists: cuDNN's own op on CUDA (batchnorm, pooling),
// cpu-ref for the other CPU backends.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "harness.h"
#include "perf.h"
#include "test_util.h"

static double peak_gbs;   // the CUDA device's, from perf_describe

typedef struct {
    const op_case *c;
    int phase;
    const case_bufs *cb;
} phase_arg;

static void run_phase(void *arg) {
    const phase_arg *a = arg;
    case_run_phase(a->c, a->phase, a->cb);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Median milliseconds of fn(arg) over reps runs after 3 warm-up runs, on a monotonic clock.
static double host_median_ms(const op_target *tg, perf_fn fn, void *arg, int reps) {
    for (int i = 0; i < 3; i++) fn(arg);
    tg->be->sync(tg->be);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t) { fprintf(stderr, "test_ops: out of memory\n"); exit(1); }
    for (int i = 0; i < reps; i++) {
        const double t0 = now_ms();
        fn(arg);
        tg->be->sync(tg->be);
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    const double m = t[reps / 2];
    free(t);
    return m;
}

static double median_ms(const op_target *tg, perf_fn fn, void *arg, int reps) {
#ifdef DCGAN_HAVE_CUDA
    if (tg->cuda) return perf_cuda_median_ms(tg->be, fn, arg, reps);
#endif
    return host_median_ms(tg, fn, arg, reps);
}

// ms[k] (and base[k], the case's own baseline) for each timed phase; -1 where not timed. Phases not
// timed still run once, in order, so that a later phase reads what an earlier one wrote.
static int time_phases(const op_case *c, const op_target *tg, int reps, double *ms, double *base) {
    case_bufs cb;
    if (bufs_open(&cb, c, tg, NULL)) return -1;
    const unsigned timed = c->perf_phases ? c->perf_phases : (unsigned)case_phase_mask(c->nphases);
    for (int k = 0; k < c->nphases; k++) {
        phase_arg a = {c, k, &cb};
        ms[k] = base[k] = -1;
        if (!(timed >> k & 1)) { run_phase(&a); continue; }
        ms[k] = median_ms(tg, run_phase, &a, reps);
        if (c->baseline) base[k] = c->baseline(c, k, tg, cb.p, reps);
    }
    tg->be->sync(tg->be);
    bufs_close(&cb, c);
    return 0;
}

void case_perf(const op_case *c, const op_target *tg, int reps) {
    double ms[OP_MAX_PHASES], base[OP_MAX_PHASES], ref_ms[OP_MAX_PHASES], unused[OP_MAX_PHASES];
    if (time_phases(c, tg, reps, ms, base)) return;
    const char *base_name = c->baseline_name;
    const op_target ref = target_ref();
    if (!tg->cuda && tg->be != ref.be && !time_phases(c, &ref, reps, ref_ms, unused)) {
        for (int k = 0; k < c->nphases; k++) base[k] = ref_ms[k];
        base_name = "cpu-ref";
    }
    for (int k = 0; k < c->nphases; k++) {
        if (ms[k] < 0) continue;
        printf("%-12s %-46s %-10s %9.4f ms", tg->name, c->name, c->phase_name[k], ms[k]);
        const double bytes = c->bytes ? c->bytes(c, k) : 0, flops = c->flops ? c->flops(c, k) : 0;
        if (bytes > 0) {
            const double gbs = bytes / (ms[k] * 1e6);
            printf(" %8.1f GB/s", gbs);
            if (tg->cuda && peak_gbs > 0) printf(" (%4.1f%% of peak)", 100 * gbs / peak_gbs);
        }
        if (flops > 0) printf(" %7.3f TFLOP/s", flops / (ms[k] * 1e9));
        if (base[k] > 0) printf("  %s %9.4f ms  x%.2f", base_name, base[k], base[k] / ms[k]);
        printf("\n");
    }
}

void perf_describe(const op_target *tg, int reps) {
    test_print_backend(tg->be);
#ifdef DCGAN_HAVE_CUDA
    if (tg->cuda) { peak_gbs = perf_cuda_describe(tg->be, reps); return; }
#endif
    printf("%s: median of %d repeats after 3 warm-up runs (monotonic clock)%s\n", tg->name, reps,
           tg->be == target_ref().be ? "" : "; the ratio is cpu-ref's time over this backend's");
}
