// The CPU backend: host memory, one convolution workspace, and the table of the src/cpu/ ops.
#include <cblas.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/cpu.h"

typedef struct {
    float *workspace;           // the convolutions' scratch, grown to the largest planned shape
    size_t workspace_floats;
} cpu_ctx;

static cpu_ctx ctx;

float *cpu_workspace(const dcgan_backend *be, size_t floats) {
    cpu_ctx *c = be->ctx;
    if (floats > c->workspace_floats) {
        float *w = malloc(floats * sizeof(float));
        if (!w) return NULL;
        free(c->workspace);
        c->workspace = w;
        c->workspace_floats = floats;
    }
    return c->workspace ? c->workspace : (float *)&c->workspace_floats;   // any valid pointer for 0 floats
}

void *cpu_alloc(const dcgan_backend *be, size_t bytes) { (void)be; return calloc(1, bytes ? bytes : 1); }
void cpu_release(const dcgan_backend *be, void *p) { (void)be; free(p); }
void cpu_copy(const dcgan_backend *be, void *dst, const void *src, size_t bytes) { (void)be; if (bytes) memmove(dst, src, bytes); }
void cpu_upload(const dcgan_backend *be, void *dst, const void *src, size_t bytes) { cpu_copy(be, dst, src, bytes); }
void cpu_download(const dcgan_backend *be, void *dst, const void *src, size_t bytes) { cpu_copy(be, dst, src, bytes); }
void cpu_copy_2d(const dcgan_backend *be, void *dst, size_t dst_pitch, const void *src, size_t src_pitch, size_t width,
                 size_t rows) {
    (void)be;
    for (size_t r = 0; r < rows; r++) memcpy((char *)dst + r * dst_pitch, (const char *)src + r * src_pitch, width);
}
void cpu_zero(const dcgan_backend *be, void *p, size_t bytes) { (void)be; memset(p, 0, bytes); }
void cpu_sync(const dcgan_backend *be) { (void)be; }

void *cpu_host_alloc(const dcgan_backend *be, size_t bytes) { (void)be; return malloc(bytes ? bytes : 1); }
void cpu_host_release(const dcgan_backend *be, void *p) { (void)be; free(p); }
void cpu_stage_upload(const dcgan_backend *be, void *dst, const void *src, size_t bytes, int slot) {
    (void)slot;
    cpu_copy(be, dst, src, bytes);
}
void cpu_stage_release(const dcgan_backend *be, int slot) { (void)be; (void)slot; }
void cpu_stage_host_wait(const dcgan_backend *be, int slot) { (void)be; (void)slot; }

int cpu_mem_info(const dcgan_backend *be, size_t *free_bytes, size_t *total_bytes) {
    (void)be;
    *free_bytes = *total_bytes = 0;
    return -1;
}
void cpu_set_verbose(const dcgan_backend *be, int on) { (void)be; (void)on; }

int cpu_describe(const dcgan_backend *be, char *buf, size_t len) {
    (void)be;
    return snprintf(buf, len, "cpu: %s, libpng %s", openblas_get_config(), PNG_LIBPNG_VER_STRING);
}

// fp32 NCHW for every op.
int cpu_dense_plan(const dcgan_backend *be, const dense_desc *d, char *err, size_t errlen) {
    (void)be; (void)d; (void)err; (void)errlen;
    return 0;
}

int cpu_supports(const dcgan_backend *be, dcgan_op op, dcgan_dtype dtype, dcgan_layout layout) {
    (void)be;
    return (unsigned)op < OP_COUNT && dtype == DTYPE_F32 && layout == LAYOUT_NCHW;
}

size_t cpu_tensor_bytes(const dcgan_backend *be, const tensor_desc *t) { (void)be; return tensor_numel(t) * dtype_size(t->dtype); }

void cpu_ring_push(const dcgan_backend *be, float *ring, const float *values, int n, int64_t *slot, int ring_len) {
    (void)be;
    memcpy(ring + (size_t)(*slot % ring_len) * n, values, (size_t)n * sizeof(float));
    ++*slot;
}

#define CPU_ENTRY(ret, name, params) .name = cpu_##name,
static const dcgan_backend cpu_backend = {
    .name = "cpu-ref",
    .host_memory = 1,
    .native_layout = LAYOUT_NCHW,
    .ctx = &ctx,
    DCGAN_BACKEND_OPS(CPU_ENTRY)
};

const dcgan_backend *backend_cpu(void) { return &cpu_backend; }
