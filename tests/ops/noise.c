// The Philox noise: normals (z) and uniform classes (a conditional run's fake labels) from one
// stream, and the counter each advances in backend memory.
#include <stdio.h>
#include "dcgan/cpu.h"
#include "dcgan/rng.h"
#include "op_case.h"
#include "test_util.h"

enum { N_Z, N_COUNTER, N_CLASSES };
enum { PH_NORMAL, PH_CLASSES };
enum { ARG_CLASSES };   // how many classes to draw

// CUDA: the same Philox words; CUDA's logf/sinf/cosf and glibc's differ by at most 2 ulp: < 2e-6
// for |z| < 6, so 5e-6 absolute and 1e-6 relative. The classes and the counter: equal. The other
// backends call the reference.
static op_tol noise_tol(const op_case *c, int buf, int phase, const op_target *tg) {
    (void)c; (void)phase;
    return tg->cuda && buf == N_Z ? (op_tol){.abs = 5e-6, .rtol = 1e-6} : tol_equal();
}

static void noise_run(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t) {
    (void)t;
    noise_desc d = c->d.noise;
    if (phase == PH_NORMAL) { be->noise_normal(be, p[N_Z], p[N_COUNTER], &d); return; }
    d.n = (size_t)c->arg[ARG_CLASSES];
    be->noise_classes(be, p[N_CLASSES], p[N_COUNTER], &d);
}

static void counter_starts_at_8(const op_case *c, void *const *host) {
    (void)c;
    *(int64_t *)host[N_COUNTER] = 8;
}

static double noise_bytes(const op_case *c, int phase) {
    return phase == PH_NORMAL ? c->d.noise.n * 4.0 : c->arg[ARG_CLASSES] * 4.0;
}

static void noise_case(op_list *l, size_t n, int classes) {
    op_case *c = case_add(l, "noise", OP_NOISE);
    c->d.noise = (noise_desc){.n = n, .seed = 42, .stream = 3, .offset = 4, .mean = 0.5f, .std = 2.0f, .nclasses = 10};
    c->arg[ARG_CLASSES] = classes;
    snprintf(c->name, sizeof c->name, "philox n%zu, %d classes", n, classes);
    buf_out(c, N_Z, "normals", BUF_F32, n)->check = 1u << PH_NORMAL;
    buf_flat(c, N_COUNTER, "counter", BUF_I64, 1, 0, 0, 0)->check = 1u << PH_NORMAL | 1u << PH_CLASSES;
    buf_out(c, N_CLASSES, "classes", BUF_I32, (size_t)classes)->check = 1u << PH_CLASSES;
    c->init = counter_starts_at_8;
    c->nphases = 2;
    c->phase_name[PH_NORMAL] = "normal", c->phase_name[PH_CLASSES] = "classes";
    c->run = noise_run;
    c->tol = noise_tol;
    c->bytes = noise_bytes;
}

static void noise_list(op_list *l, const op_list_opts *o) {
    if (!o->perf) { noise_case(l, 10007, 300); return; }
    noise_case(l, 64 * 100, 64);    // a batch's z (nz 100) and fake classes
    noise_case(l, 128 * 100, 128);
}

// cpu-ref's counter advances by whole Philox blocks (4 words) for normals.
static void noise_ref_checks(void) {
    const dcgan_backend *be = backend_cpu();
    float z[10];
    uint64_t counter = 8;
    const noise_desc d = {.n = 10, .seed = 1, .stream = 0, .offset = 0, .mean = 0.0f, .std = 1.0f};
    cpu_noise_normal(be, z, &counter, &d);
    printf("cpu-ref philox counter after 10 normals: %llu (expected %llu)\n", (unsigned long long)counter,
           (unsigned long long)(8 + rng_block_words(10)));
    CHECK(counter == 8 + rng_block_words(10));
}

const op_family op_family_noise = {"noise", noise_list, noise_ref_checks};
