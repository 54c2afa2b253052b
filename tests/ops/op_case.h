// The op test's vocabulary (tests/test_ops.c): a case is one op family at one shape, written once
// and run on every backend the build has. A case owns numbered buffers (inputs, outputs, counters),
// runs in phases (forward, backward data, ...), and says after which phase each output is compared
// with the reference backend (cpu-ref) and within what tolerance for the target it ran on. The same
// case serves the finite-difference mode (grad) and the timing mode (perf).
#ifndef DCGAN_OP_CASE_H
#define DCGAN_OP_CASE_H
#include <stddef.h>
#include <stdint.h>
#include "dcgan/backend.h"

#define OP_MAX_BUFS 16
#define OP_MAX_PHASES 8
#define OP_MAX_GRADS 3

// What a buffer holds. BUF_ACT is an activation tensor: a target gives it its own dtype and layout
// (bf16, blocked) unless the buffer is plain; every other type is the same bytes on every backend.
typedef enum { BUF_ACT, BUF_F32, BUF_F64, BUF_I32, BUF_I64, BUF_U8, BUF_U32 } op_buf_type;

typedef struct {
    const char *name;       // names the buffer in the comparison lines: "out", "din", ...
    op_buf_type type;
    tensor_desc t;          // BUF_ACT: the shape (fp32 NCHW as written; the target's format is applied)
    size_t n;               // elements (BUF_ACT: tensor_numel(&t), set by buf_act)
    int plain;              // BUF_ACT that stays fp32 NCHW everywhere: a net's input or output, z, the logit
    int weight;             // BUF_F32 weights: a bf16 target's convolutions read a bf16 copy of them
    int accum;              // an output the op adds to (a parameter gradient): starts non-zero
    int garbage;            // an output the op must overwrite: starts as NaN, so a missed element shows
    float scale, offset;    // float buffers start as offset + uniform(-scale, scale) (both 0: zeros)
    unsigned seed;
    unsigned check;         // bit k: compared with the reference after phase k
    unsigned load;          // bit k: before phase k both backends get the reference's values (op by op)
} op_buf;

// |got - want| <= rel * max|want| + abs + rtol * |want| element by element; exact: the same bits too.
typedef struct {
    double rel, abs, rtol;
    int exact;
} op_tol;

// Where a case runs: a backend in one activation format. Every backend gets fp32 NCHW; a backend
// that serves the blocked layout or bf16 (supports) gets those targets too.
typedef struct {
    char name[32];          // "onednn", "onednn-bf16", "cuda", "cuda-tf32", ...
    const dcgan_backend *be;
    dcgan_dtype dtype;
    dcgan_layout layout;
    int cuda;               // the CUDA backend (its own device memory, cuDNN and cuBLAS)
    int tf32;               // CUDA's production math: TF32 tensor cores in convolutions and GEMMs
    int first;              // the backend's first target: runs the cases without activation tensors
} op_target;

typedef struct op_case op_case;

// Runs phase k of the case on be; p[i] is buffer i there, t[i] its descriptor in be's format.
typedef void (*op_run_fn)(const op_case *c, int phase, const dcgan_backend *be, void *const *p, const tensor_desc *t);

struct op_case {
    const char *family;     // the op family --op names: conv, dense, batchnorm, ...
    dcgan_op op;            // what supports() is asked
    char name[112];
    int size;               // SIZE_LIGHT, SIZE_QUICK or SIZE_FULL: which runs take the case (below)
    int tf32;               // also run under CUDA's production math (--math default)
    int nbufs, nphases;
    const char *phase_name[OP_MAX_PHASES];
    op_buf buf[OP_MAX_BUFS];
    union {
        conv_desc conv;
        dense_desc dense;
        bn_desc bn;
        act_desc act;
        loss_desc loss;
        optim_desc optim;
        noise_desc noise;
        data_desc data;
        concat_desc concat;
        pool_desc pool;
        resize_desc resize;
    } d;                    // the op's descriptor as fp32 NCHW; run() puts the target's tensors in
    int arg[4];             // the family's own knobs
    op_run_fn run;
    // Chooses the algorithms of a convolution shape; 0, or -1 with err set. NULL: nothing to plan.
    int (*plan)(const op_case *c, const dcgan_backend *be, const tensor_desc *t, char *err, size_t errlen);
    // Values a random fill cannot give (indices, pixels, a counter's start), on the host copy.
    void (*init)(const op_case *c, void *const *host);
    // Before phase k, on the reference's values (new gradients, doubled sums, negated weights).
    void (*prepare)(const op_case *c, int phase, void *const *host);
    op_tol (*tol)(const op_case *c, int buf, int phase, const op_target *tg);
    // cpu-ref's own check against an independent computation (direct loops), or NULL.
    void (*check_ref)(const op_case *c);
    // Finite differences: L = sum(out * weight) (weight < 0: L = out[0]) after the phases in
    // fwd_phases; the phases in bwd_phases write the gradients of L, grads[k] = {input, gradient}.
    struct {
        unsigned fwd_phases, bwd_phases;
        int out, weight, ngrads;
        int grads[OP_MAX_GRADS][2];
        float eps;
        op_tol tol;
    } fd;
    // Timing: the phases timed (0: all), the least bytes each moves and the flops it does.
    unsigned perf_phases;
    double (*bytes)(const op_case *c, int phase);
    double (*flops)(const op_case *c, int phase);
    // The same work done another way on tg (cuDNN's batchnorm, say), median ms; < 0: none there.
    double (*baseline)(const op_case *c, int phase, const op_target *tg, void *const *p, int reps);
    const char *baseline_name;
};

// How large a case is. The CPU backends run the light cases (a few seconds in all, for CI) unless
// --full; CUDA runs every case, and the light and quick ones under DCGAN_TEST_QUICK=1 (the
// compute-sanitizer runs).
enum { SIZE_LIGHT, SIZE_QUICK, SIZE_FULL };

// Which cases a family lists: the test's shapes, or the benchmark's (batch 64 and up).
typedef struct {
    int perf;
    int quick;              // DCGAN_TEST_QUICK / DCGAN_BENCH_QUICK: the smaller half
} op_list_opts;

typedef struct {
    op_case *cases;
    int n, cap;
} op_list;

// One op family: its cases, and cpu-ref's checks that are not one case (hand-computed values).
typedef struct {
    const char *name;
    void (*list)(op_list *l, const op_list_opts *o);
    void (*ref_checks)(void);
} op_family;

// tests/ops/cases.c: building cases.
op_case *case_add(op_list *l, const char *family, dcgan_op op);
void case_free_list(op_list *l);
op_buf *buf_act(op_case *c, int i, const char *name, tensor_desc t, float scale, float offset, unsigned seed);
op_buf *buf_flat(op_case *c, int i, const char *name, op_buf_type type, size_t n, float scale, float offset,
                 unsigned seed);
// A garbage-filled output of the act type or a flat type.
op_buf *buf_out_act(op_case *c, int i, const char *name, tensor_desc t);
op_buf *buf_out(op_case *c, int i, const char *name, op_buf_type type, size_t n);
size_t buf_elem_bytes(op_buf_type type);
int case_phase_mask(int nphases);
// Finite differences of L = sum(out * weight) (weight < 0: L = out[0]) after the phases in fwd; the
// phases in bwd write the gradients case_fd_grad names, compared within tol for a step of eps.
void case_fd(op_case *c, unsigned fwd, unsigned bwd, int out, int weight, float eps, op_tol tol);
void case_fd_grad(op_case *c, int input, int gradient);

// The op families, each in its own file (tests/ops/<family>.c).
extern const op_family op_family_conv, op_family_dense, op_family_batchnorm, op_family_activation, op_family_loss,
    op_family_optim, op_family_noise, op_family_data, op_family_concat, op_family_pool, op_family_resize,
    op_family_copy;

// Tolerances common to the families: bit for bit, equal values; and as an op_case.tol for every
// buffer on every target.
static inline op_tol tol_exact(void) { return (op_tol){.exact = 1}; }
static inline op_tol tol_equal(void) { return (op_tol){0}; }
op_tol case_tol_exact(const op_case *c, int buf, int phase, const op_target *tg);
op_tol case_tol_equal(const op_case *c, int buf, int phase, const op_target *tg);

#endif
