// What the files of the oneDNN backend share: the context (engine, stream, scratchpad, planned
// convolutions, the weight copies), the status check, bf16 conversions and the element loops.
#ifndef DCGAN_ONEDNN_IMPL_H
#define DCGAN_ONEDNN_IMPL_H
#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/onednn.h"

// A oneDNN call that fails inside an op is a programming error: it names the call and stops.
#define DNNL_CHECK(call) do { \
        dnnl_status_t st_ = (call); \
        if (st_ != dnnl_success) onednn_failed(#call, st_, __FILE__, __LINE__); \
    } while (0)
void onednn_failed(const char *call, dnnl_status_t st, const char *file, int line) __attribute__((noreturn));

// Hot loops are compiled for AVX-512 and AVX2 besides the baseline; the CPU picks one at load time.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ONEDNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ONEDNN_CLONES
#endif

// A primitive with its arguments: memory objects made once, pointed at the op's buffers per call.
#define PRIM_MAX_ARGS 6
typedef struct {
    dnnl_primitive_t p;
    int n;                          // arguments besides the scratchpad
    dnnl_exec_arg_t a[PRIM_MAX_ARGS + 1];
} prim;

// A copy of fp32 plain weights in the format a primitive reads (blocked, maybe bf16), made
// again when an op wrote the plain weights' memory.
typedef struct wcopy {
    const float *plain;
    size_t bytes;                   // of the plain weights
    dnnl_memory_desc_t md;          // the copy's format
    void *data;
    int valid;
    prim reorder;                   // plain -> md
    struct wcopy *next;
} wcopy;

typedef struct oconv oconv;         // a planned convolution shape (conv.c)

typedef struct {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    void *scratch;                  // the primitives' scratchpad, grown to the largest at planning
    size_t scratch_bytes;
    oconv *convs;                   // planned shapes
    wcopy *weights;                 // the weight copies
    double *part;                   // batchnorm's per-sample channel sums, grown to the largest batch
    size_t part_n;
    int verbose;
    int bf16;                       // the CPU runs bf16 convolutions
} onednn_ctx;

onednn_ctx *onednn_ctx_of(const dcgan_backend *be);
// 64-byte aligned, zero-filled memory; NULL when out of memory.
void *onednn_buffer(size_t bytes);
// Grows the scratchpad to `bytes` at planning; 0, or -1 when out of memory.
int onednn_scratch_reserve(onednn_ctx *c, size_t bytes);
// Makes a primitive from pd with the arguments args[0..n-1] (DNNL_ARG_*) and the scratchpad.
int prim_make(onednn_ctx *c, prim *r, const_dnnl_primitive_desc_t pd, const int *args, int n);
// Runs it on the buffers ptrs[0..n-1], in the order of its arguments.
void prim_run(onednn_ctx *c, prim *r, void *const *ptrs);
void prim_free(prim *r);
// The copy of plain weights w in format md, made (again) when stale; NULL when out of memory.
void *onednn_weights(onednn_ctx *c, const float *w, const dnnl_memory_desc_t *plain_md, const dnnl_memory_desc_t *md);
// Marks stale the weight copies made from memory in [p, p + bytes).
void onednn_weights_written(onednn_ctx *c, const void *p, size_t bytes);
void onednn_convs_free(onednn_ctx *c);

// bf16: the upper 16 bits of a float, rounded to nearest even.
// Written without a branch, so that the element loops around it vectorise.
static inline uint16_t bf16_from(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16, quiet = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);   // NaN stays NaN
}
static inline float bf16_to(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
// dst[n] <- src[n] across the thread team.
void bf16_from_f32(uint16_t *dst, const float *src, size_t n);
void f32_from_bf16(float *dst, const uint16_t *src, size_t n);

#endif
