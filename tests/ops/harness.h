// Running a case on a target (tests/ops/buffers.c, harness.c, grad.c, perf.c): its buffers there,
// and the three modes of the op test.
#ifndef DCGAN_OP_HARNESS_H
#define DCGAN_OP_HARNESS_H
#include "op_case.h"

// The targets a backend offers: fp32 in its native layout, fp32 NCHW, bf16 in its native layout,
// each that its supports() serves; tf32 marks CUDA's production math. Returns their number.
int targets_of(const dcgan_backend *be, int tf32, op_target *out, int max);
// The reference: cpu-ref, fp32 NCHW.
op_target target_ref(void);
// 1 when the case runs on tg: its activation formats served (a case without activation tensors:
// on a backend's first target only) and, under CUDA's production math, a case that asks for it.
int case_runs_on(const op_case *c, const op_target *tg);

// A case's buffers on one target.
typedef struct {
    const op_target *tg;
    void *p[OP_MAX_BUFS];
    tensor_desc t[OP_MAX_BUFS];
} case_bufs;

// Allocates the case's buffers on tg and fills them: from the reference's buffers `from` (their
// values rounded to tg's dtype where tg reads them so: the reference sees what tg sees), or with
// the case's own initial values (from NULL). Plans the case. 0, or -1 with a FAIL line printed.
int bufs_open(case_bufs *cb, const op_case *c, const op_target *tg, const case_bufs *from);
void bufs_close(case_bufs *cb, const op_case *c);
// Buffer i of `from` (the reference, host memory) into cb's, rounded as bufs_open does.
void bufs_load(case_bufs *cb, const op_case *c, const case_bufs *from, int i);
// Buffer i of cb as host values: fp32 for activations, else its own type (malloc'd).
void *bufs_fetch(const case_bufs *cb, const op_case *c, int i);
void case_run_phase(const op_case *c, int phase, const case_bufs *cb);

// The modes. test: the case on tg and on cpu-ref from the same inputs, compared after each phase;
// grad: finite differences of the case's forward phases against its backward phases on tg (a
// host-memory fp32 NCHW target); perf: the median time of each phase on tg (and of the baseline).
void case_test(const op_case *c, const op_target *tg);
void case_grad(const op_case *c, const op_target *tg);
void case_perf(const op_case *c, const op_target *tg, int reps);
// The perf header for a target (CUDA: the device, its peak bandwidth, the L2 flush).
void perf_describe(const op_target *tg, int reps);

#endif
