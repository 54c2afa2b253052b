// The op test and benchmark of every backend (after ggml's tests/test-backend-ops.cpp): one list
// of cases per op family (tests/ops/<family>.c: the DCGAN's layer shapes at 32, 64 and 128 px,
// Inception-v3's, odd batches and sides, dtypes and layouts), run on every backend the build has
// in each activation format it serves, against cpu-ref, within tolerances each family derives
// for the target. A new backend needs no new test: it answers supports() and gets the cases.
//
//   test_ops [--op NAME[,NAME...]] [--backend NAME[,NAME...]] [--grad | --perf [--reps N]]
//            [--math fma|default] [--full] [--filter TEXT] [--list]
//
// Modes. test (the default): each case on each target and on cpu-ref from the same inputs,
// compared after every phase; on cpu-ref itself, its own checks against direct loops and
// hand-computed values. --grad: each case's backward against finite differences of its forward,
// on the CPU (default cpu-ref; any host-memory backend in fp32 NCHW). --perf: the median time of
// each phase at the benchmark's shapes (batch 64 and up), GB/s and TFLOP/s, against cuDNN's op
// where there is one (batchnorm, pooling) and against cpu-ref for the other CPU backends; on CUDA
// with cudaEvents and the L2 flushed before every repeat (DCGAN_BENCH_QUICK=1: the smaller half).
//
// --backend: cpu-ref, onednn, cuda (default: every one the build has). A backend's targets: fp32
// in its native layout, fp32 NCHW, bf16 where it serves them ("onednn", "onednn-nchw",
// "onednn-bf16"). --math fma (the default) runs cuDNN and cuBLAS without TF32, so that fp32
// tolerances apply; --math default is the production configuration (TF32 allowed, as PyTorch's
// convolutions), the "cuda-tf32" target: the conv and dense layers of the 64 px model at batch 64
// and 128, where cudnnFind picks other algorithms. Sizes: the CPU backends run the light cases
// (32 px at batch 3, Inception's ops at batch 1, the small odd shapes: a few seconds) unless
// --full; CUDA runs every case, and under DCGAN_TEST_QUICK=1 (compute-sanitizer) the light and
// quick ones (32 px at every batch, 64 px at batch 3, Inception's ops at batch 3 too but over the
// largest planes).
// Without a usable CUDA device, --backend cuda exits 77 (skipped), or 1 with DCGAN_REQUIRE_GPU=1.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ops/harness.h"
#include "test_util.h"

static const op_family *const families[] = {
    &op_family_conv,  &op_family_dense, &op_family_batchnorm, &op_family_activation, &op_family_loss,
    &op_family_optim, &op_family_noise, &op_family_data,      &op_family_concat,     &op_family_pool,
    &op_family_resize, &op_family_copy,
};
#define NFAMILIES ((int)(sizeof families / sizeof *families))

// The backends by their backend_select names, cpu-ref (the reference) first.
static const char *const backend_names[] = {"cpu-ref", "onednn", "cuda"};
#define NBACKENDS ((int)(sizeof backend_names / sizeof *backend_names))

typedef struct {
    const char *ops, *backends, *math, *filter;
    int grad, perf, full, list, reps, quick;
} options;

// Whether the comma-separated list names `name` (every name when the list is NULL).
static int listed(const char *list, const char *name) {
    if (!list) return 1;
    const size_t n = strlen(name);
    for (const char *p = list;; p++) {
        const size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len;
        if (!*p) return 0;
    }
}

// Every name of the list is one of known[]; else a one-line message and 0.
static int all_known(const char *list, const char *what, const char *const *known, int n) {
    for (const char *p = list; p && *p;) {
        const size_t len = strcspn(p, ",");
        int ok = 0;
        for (int i = 0; i < n; i++) ok |= strlen(known[i]) == len && !strncmp(p, known[i], len);
        if (!ok) { fprintf(stderr, "test_ops: %s: unknown name '%.*s'\n", what, (int)len, p); return 0; }
        p += len + (p[len] == ',');
    }
    return 1;
}

static int usage(void) {
    fprintf(stderr, "usage: test_ops [--op NAME[,NAME...]] [--backend cpu-ref|onednn|cuda[,...]] [--grad | --perf "
                    "[--reps N]] [--math fma|default] [--full] [--filter TEXT] [--list]\n");
    return 2;
}

static int parse(int argc, char **argv, options *o) {
    *o = (options){.math = "fma", .reps = 20};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--op") && v) o->ops = argv[++i];
        else if (!strcmp(a, "--backend") && v) o->backends = argv[++i];
        else if (!strcmp(a, "--math") && v) o->math = argv[++i];
        else if (!strcmp(a, "--filter") && v) o->filter = argv[++i];
        else if (!strcmp(a, "--reps") && v && atoi(v) > 0) o->reps = atoi(argv[++i]);
        else if (!strcmp(a, "--grad")) o->grad = 1;
        else if (!strcmp(a, "--perf")) o->perf = 1;
        else if (!strcmp(a, "--full")) o->full = 1;
        else if (!strcmp(a, "--list")) o->list = 1;
        else return usage();
    }
    const char *names[NFAMILIES];
    for (int i = 0; i < NFAMILIES; i++) names[i] = families[i]->name;
    if (!all_known(o->ops, "--op", names, NFAMILIES) || !all_known(o->backends, "--backend", backend_names, NBACKENDS))
        return 2;
    if (strcmp(o->math, "fma") && strcmp(o->math, "default")) {
        fprintf(stderr, "test_ops: --math: fma or default\n");
        return 2;
    }
    if (o->grad && o->perf) { fprintf(stderr, "test_ops: --grad and --perf are two modes: one at a time\n"); return 2; }
    const char *q = getenv(o->perf ? "DCGAN_BENCH_QUICK" : "DCGAN_TEST_QUICK");
    o->quick = q && !strcmp(q, "1");
    return 0;
}

#define MAX_TARGETS 16

// The targets of the backends asked for (grad: each backend's fp32 NCHW target). A backend this
// build or machine lacks is named in a line; when cuda was asked for by name and is missing,
// *skip_rc is test_skip_or_fail's answer (77, or 1 with DCGAN_REQUIRE_GPU=1).
static int collect_targets(const options *o, op_target *tg, int *skip_rc) {
    const char *asked = o->backends ? o->backends : o->grad ? "cpu-ref" : NULL;
    int n = 0;
    for (int b = 0; b < NBACKENDS; b++) {
        if (!listed(asked, backend_names[b])) continue;
        char err[512];
        const int cuda = !strcmp(backend_names[b], "cuda");
        const dcgan_backend *be = b == 0 ? backend_cpu() : backend_select(backend_names[b], NULL, err, sizeof err);
        if (!be) {   // (not "not available:": gpu-check.sh reads that as a part a machine cannot run)
            if (cuda && o->backends) *skip_rc = test_skip_or_fail(err);
            else printf("backend %s left out: %s\n", backend_names[b], err);
            continue;
        }
        op_target own[4];
        const int k = b == 0 ? (own[0] = target_ref(), 1) : targets_of(be, cuda && !strcmp(o->math, "default"), own, 4);
        for (int i = 0; i < k && n < MAX_TARGETS; i++) {
            if (o->grad && (own[i].dtype != DTYPE_F32 || own[i].layout != LAYOUT_NCHW || !be->host_memory)) continue;
            tg[n++] = own[i];
        }
    }
    return n;
}

// Whether the case runs on the target in this run: served, not left out for its size, filtered.
static int selected(const options *o, const op_case *c, const op_target *tg) {
    if (o->filter && !strstr(c->name, o->filter)) return 0;
    if (c->size > (o->full ? SIZE_FULL : tg->cuda ? (o->quick ? SIZE_QUICK : SIZE_FULL) : SIZE_LIGHT)) return 0;
    if (o->grad) return c->fd.ngrads > 0;
    return case_runs_on(c, tg);
}

static void run_target(const options *o, const op_target *tg, const op_list *l) {
    int ran = 0, left = 0;
    printf("=== %s (%s, %s)\n", tg->name, dtype_name(tg->dtype), layout_name(tg->layout));
    if (o->perf && !o->list) perf_describe(tg, o->reps);
    const int ref_checks = !o->grad && !o->perf && tg->be == backend_cpu();
    for (int f = 0; ref_checks && !o->list && f < NFAMILIES; f++)
        if (listed(o->ops, families[f]->name) && families[f]->ref_checks && !o->filter) families[f]->ref_checks();
    for (int i = 0; i < l->n; i++) {
        const op_case *c = &l->cases[i];
        if (ref_checks ? !c->check_ref || (o->filter && !strstr(c->name, o->filter))
                       : !selected(o, c, tg)) { left++; continue; }
        ran++;
        if (o->list) printf("%-12s %-10s %s\n", tg->name, c->family, c->name);
        else if (ref_checks) c->check_ref(c);
        else if (o->grad) case_grad(c, tg);
        else if (o->perf) case_perf(c, tg, o->reps);
        else case_test(c, tg);
    }
    printf("--- %s: %d cases%s, %d not run here (other formats, sizes or modes)\n", tg->name, ran,
           ref_checks ? " checked against direct loops (and each family's hand-computed values)" : "", left);
}

int main(int argc, char **argv) {
    options o;
    const int bad = parse(argc, argv, &o);
    if (bad) return bad;
    setenv("DCGAN_CUDNN_MATH", o.math, 1);
    op_target targets[MAX_TARGETS];
    int skip_rc = 0;
    const int nt = collect_targets(&o, targets, &skip_rc);
    if (skip_rc == 1) return 1;
    if (!nt) return skip_rc ? skip_rc : (printf("skipped: no backend to run\n"), 77);
    op_list l = {0};
    const op_list_opts lo = {.perf = o.perf, .quick = o.quick};
    for (int f = 0; f < NFAMILIES; f++)
        if (listed(o.ops, families[f]->name)) families[f]->list(&l, &lo);
    for (int t = 0; t < nt; t++) {
        if (!o.list && !o.perf) test_print_backend(targets[t].be);
        run_target(&o, &targets[t], &l);
    }
    case_free_list(&l);
    return o.list || o.perf ? (test_failures ? 1 : 0) : test_summary("test_ops");
}
