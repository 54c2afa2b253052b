// The oneDNN backend: host memory (64-byte aligned, its sizes kept so that a write can mark the
// weight copies made from it stale), the engine and stream, the shared scratchpad, and the table.
// Loss, noise, data and concat are the reference CPU ops (their tensors are fp32 NCHW: a net's
// boundary); the optimiser is too, followed by marking the updated weights' copies stale.
#include <omp.h>
#include <png.h>
#include "dcgan/error.h"
#include "dcgan/cpu.h"
#include "onednn_impl.h"

static onednn_ctx ctx;

onednn_ctx *onednn_ctx_of(const dcgan_backend *be) { return be->ctx; }

void onednn_failed(const char *call, dnnl_status_t st, const char *file, int line) {
    fprintf(stderr, "error: oneDNN call failed (status %d): %s\n  at %s:%d\n", (int)st, call, file, line);
    abort();
}

// --- memory: a 64-byte header before each block holds its size ------------------------------------

#define HEADER 64

void *onednn_buffer(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (p) memset(p, 0, (bytes + 63) / 64 * 64 + 64);
    return p;
}

void *onednn_alloc(const dcgan_backend *be, size_t bytes) {
    (void)be;
    unsigned char *p = onednn_buffer(bytes + HEADER);
    if (!p) return NULL;
    memcpy(p, &bytes, sizeof bytes);
    return p + HEADER;
}

void onednn_release(const dcgan_backend *be, void *p) {
    if (!p) return;
    unsigned char *base = (unsigned char *)p - HEADER;
    size_t bytes;
    memcpy(&bytes, base, sizeof bytes);
    onednn_weights_written(onednn_ctx_of(be), p, bytes);
    free(base);
}

void onednn_copy(const dcgan_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes) memmove(dst, src, bytes);
    onednn_weights_written(onednn_ctx_of(be), dst, bytes);
}
void onednn_upload(const dcgan_backend *be, void *dst, const void *src, size_t bytes) { onednn_copy(be, dst, src, bytes); }
void onednn_copy_2d(const dcgan_backend *be, void *dst, size_t dst_pitch, const void *src, size_t src_pitch, size_t width,
                    size_t rows) {
    cpu_copy_2d(backend_cpu(), dst, dst_pitch, src, src_pitch, width, rows);
    if (rows) onednn_weights_written(onednn_ctx_of(be), dst, (rows - 1) * dst_pitch + width);
}
void onednn_download(const dcgan_backend *be, void *dst, const void *src, size_t bytes) { (void)be; if (bytes) memmove(dst, src, bytes); }
void onednn_zero(const dcgan_backend *be, void *p, size_t bytes) {
    memset(p, 0, bytes);
    onednn_weights_written(onednn_ctx_of(be), p, bytes);
}
void onednn_sync(const dcgan_backend *be) { DNNL_CHECK(dnnl_stream_wait(onednn_ctx_of(be)->stream)); }

void *onednn_host_alloc(const dcgan_backend *be, size_t bytes) { (void)be; return malloc(bytes ? bytes : 1); }
void onednn_host_release(const dcgan_backend *be, void *p) { (void)be; free(p); }
void onednn_stage_upload(const dcgan_backend *be, void *dst, const void *src, size_t bytes, int slot) {
    (void)slot;
    onednn_copy(be, dst, src, bytes);
}
void onednn_stage_release(const dcgan_backend *be, int slot) { (void)be; (void)slot; }
void onednn_stage_host_wait(const dcgan_backend *be, int slot) { (void)be; (void)slot; }

int onednn_mem_info(const dcgan_backend *be, size_t *free_bytes, size_t *total_bytes) {
    (void)be;
    *free_bytes = *total_bytes = 0;
    return -1;
}
void onednn_set_verbose(const dcgan_backend *be, int on) { onednn_ctx_of(be)->verbose = on; }

int onednn_scratch_reserve(onednn_ctx *c, size_t bytes) {
    if (bytes <= c->scratch_bytes) return 0;
    void *p = onednn_buffer(bytes);
    if (!p) return -1;
    free(c->scratch);
    c->scratch = p;
    c->scratch_bytes = bytes;
    return 0;
}

// --- primitives --------------------------------------------------------------------------------------

int prim_make(onednn_ctx *c, prim *r, const_dnnl_primitive_desc_t pd, const int *args, int n) {
    memset(r, 0, sizeof *r);
    if (n > PRIM_MAX_ARGS || dnnl_primitive_create(&r->p, pd) != dnnl_success) return -1;
    r->n = n;
    for (int i = 0; i <= n; i++) {
        int arg = i < n ? args[i] : DNNL_ARG_SCRATCHPAD;
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
        r->a[i].arg = arg;
        if (dnnl_memory_create(&r->a[i].memory, md, c->engine, DNNL_MEMORY_NONE) != dnnl_success) return -1;
    }
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    return onednn_scratch_reserve(c, sp ? dnnl_memory_desc_get_size(sp) : 0);
}

void prim_run(onednn_ctx *c, prim *r, void *const *ptrs) {
    for (int i = 0; i < r->n; i++) DNNL_CHECK(dnnl_memory_set_data_handle(r->a[i].memory, ptrs[i]));
    DNNL_CHECK(dnnl_memory_set_data_handle(r->a[r->n].memory, c->scratch));
    DNNL_CHECK(dnnl_primitive_execute(r->p, c->stream, r->n + 1, r->a));
}

void prim_free(prim *r) {
    if (r->p) dnnl_primitive_destroy(r->p);
    for (int i = 0; i <= r->n && i <= PRIM_MAX_ARGS; i++)
        if (r->a[i].memory) dnnl_memory_destroy(r->a[i].memory);
    memset(r, 0, sizeof *r);
}

// --- weight copies -----------------------------------------------------------------------------------

static dnnl_primitive_attr_t scratch_attr(void) {
    dnnl_primitive_attr_t attr;
    DNNL_CHECK(dnnl_primitive_attr_create(&attr));
    DNNL_CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    return attr;
}

void *onednn_weights(onednn_ctx *c, const float *w, const dnnl_memory_desc_t *plain_md, const dnnl_memory_desc_t *md) {
    wcopy *k = c->weights;
    while (k && !(k->plain == w && dnnl_memory_desc_equal(&k->md, md))) k = k->next;
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k) return NULL;
        k->plain = w;
        k->bytes = dnnl_memory_desc_get_size(plain_md);
        k->md = *md;
        k->data = onednn_buffer(dnnl_memory_desc_get_size(md));
        dnnl_primitive_attr_t attr = scratch_attr();
        dnnl_primitive_desc_t pd = NULL;
        int ok = k->data && dnnl_reorder_primitive_desc_create(&pd, plain_md, c->engine, md, c->engine, attr) == dnnl_success;
        const int args[] = {DNNL_ARG_SRC, DNNL_ARG_DST};
        if (ok) ok = prim_make(c, &k->reorder, pd, args, 2) == 0;
        if (pd) dnnl_primitive_desc_destroy(pd);
        dnnl_primitive_attr_destroy(attr);
        if (!ok) {
            prim_free(&k->reorder);
            free(k->data);
            free(k);
            return NULL;
        }
        k->next = c->weights;
        c->weights = k;
    }
    if (!k->valid) {
        void *ptrs[] = {(void *)w, k->data};
        prim_run(c, &k->reorder, ptrs);
        k->valid = 1;
    }
    return k->data;
}

void onednn_weights_written(onednn_ctx *c, const void *p, size_t bytes) {
    const char *lo = p, *hi = lo + bytes;
    for (wcopy *k = c->weights; k; k = k->next) {
        const char *a = (const char *)k->plain, *b = a + k->bytes;
        if (a < hi && lo < b) k->valid = 0;
    }
}

// --- what the backend is ------------------------------------------------------------------------------

int onednn_has_bf16(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    if ((isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx) return "avx512_core_amx";
    if ((isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16) return "avx512_core_bf16";
    if ((isa & dnnl_cpu_isa_avx512_core_vnni) == dnnl_cpu_isa_avx512_core_vnni) return "avx512_core_vnni";
    if ((isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core) return "avx512_core";
    if ((isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2) return "avx2";
    if ((isa & dnnl_cpu_isa_avx) == dnnl_cpu_isa_avx) return "avx";
    return "sse41";
}

int onednn_library_versions(char *buf, size_t len) {
    const dnnl_version_t *v = dnnl_version();
    return snprintf(buf, len, "oneDNN %d.%d.%d (built with %d.%d.%d), isa %s%s, %d OpenMP threads", v->major, v->minor,
                    v->patch, DNNL_VERSION_MAJOR, DNNL_VERSION_MINOR, DNNL_VERSION_PATCH,
                    isa_name(dnnl_get_effective_cpu_isa()), onednn_has_bf16() ? " (bf16)" : " (no bf16)",
                    omp_get_max_threads());
}

int onednn_describe(const dcgan_backend *be, char *buf, size_t len) {
    (void)be;
    int n = snprintf(buf, len, "onednn: ");
    if (n < 0 || (size_t)n >= len) return n;
    n += onednn_library_versions(buf + n, len - n);
    if (n < 0 || (size_t)n >= len) return n;
    return n + snprintf(buf + n, len - n, "; libpng %s", PNG_LIBPNG_VER_STRING);
}

// fp32 for every op in NCHW or blocked; bf16 activations for the ops that touch them, on a CPU with
// AVX512_BF16.
int onednn_supports(const dcgan_backend *be, dcgan_op op, dcgan_dtype dtype, dcgan_layout layout) {
    if ((unsigned)op >= OP_COUNT || (layout != LAYOUT_NCHW && layout != LAYOUT_BLOCKED)) return 0;
    if (op == OP_POOL || op == OP_RESIZE) return dtype == DTYPE_F32 && layout == LAYOUT_NCHW;   // the reference's
    if (dtype == DTYPE_F32) return 1;
    return dtype == DTYPE_BF16 && onednn_ctx_of(be)->bf16 &&
           (op == OP_CONV || op == OP_DENSE || op == OP_BATCHNORM || op == OP_ACTIVATION);
}

size_t onednn_tensor_bytes(const dcgan_backend *be, const tensor_desc *t) { (void)be; return tensor_numel(t) * dtype_size(t->dtype); }

// --- the reference ops, on fp32 NCHW -----------------------------------------------------------------

void onednn_ring_push(const dcgan_backend *be, float *ring, const float *values, int n, int64_t *slot, int ring_len) {
    (void)be;
    cpu_ring_push(backend_cpu(), ring, values, n, slot, ring_len);
}
void onednn_loss(const dcgan_backend *be, float *dlogits, float *stats, const float *logits, const loss_desc *d) {
    (void)be;
    cpu_loss(backend_cpu(), dlogits, stats, logits, d);
}
void onednn_optim_update(const dcgan_backend *be, float *params, const float *grads, float *state0, float *state1,
                         int64_t *step, const optim_desc *d) {
    cpu_optim_update(backend_cpu(), params, grads, state0, state1, step, d);
    onednn_weights_written(onednn_ctx_of(be), params, d->n * sizeof(float));
}
void onednn_optim_clip(const dcgan_backend *be, float *params, size_t n, float limit) {
    cpu_optim_clip(backend_cpu(), params, n, limit);
    onednn_weights_written(onednn_ctx_of(be), params, n * sizeof(float));
}
void onednn_optim_ema(const dcgan_backend *be, float *avg, const float *x, size_t n, float decay) {
    cpu_optim_ema(backend_cpu(), avg, x, n, decay);
    onednn_weights_written(onednn_ctx_of(be), avg, n * sizeof(float));   // the average may be a net's weights
}
// Host memory: the CPU backend's MPI all-reduce serves as it is.
int onednn_comm_attach(const dcgan_backend *be, dcgan_comm *comm, char *err, size_t errlen) {
    (void)be;
    return cpu_comm_attach(backend_cpu(), comm, err, errlen);
}
void onednn_allreduce(const dcgan_backend *be, void *buf, const reduce_desc *d) {
    cpu_allreduce(backend_cpu(), buf, d);
    (void)be;
}
void onednn_allreduce_wait(const dcgan_backend *be, const reduce_desc *d) {
    (void)be;
    cpu_allreduce_wait(backend_cpu(), d);
}
void onednn_pool_forward(const dcgan_backend *be, void *out, const void *in, const pool_desc *d) {
    (void)be;
    cpu_pool_forward(backend_cpu(), out, in, d);
}
void onednn_resize_bilinear(const dcgan_backend *be, void *out, const void *in, const resize_desc *d) {
    (void)be;
    cpu_resize_bilinear(backend_cpu(), out, in, d);
}
void onednn_noise_normal(const dcgan_backend *be, float *out, uint64_t *counter, const noise_desc *d) {
    (void)be;
    cpu_noise_normal(backend_cpu(), out, counter, d);
}
void onednn_noise_classes(const dcgan_backend *be, int32_t *out, uint64_t *counter, const noise_desc *d) {
    (void)be;
    cpu_noise_classes(backend_cpu(), out, counter, d);
}
void onednn_data_gather(const dcgan_backend *be, float *images, int32_t *classes, const uint8_t *pixels,
                        const int32_t *labels, const uint32_t *order, int64_t *cursor, const data_desc *d) {
    (void)be;
    cpu_data_gather(backend_cpu(), images, classes, pixels, labels, order, cursor, d);
}
void onednn_concat_onehot(const dcgan_backend *be, float *out, const float *in, const int32_t *classes, const concat_desc *d) {
    (void)be;
    DCGAN_REQUIRE(d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW);
    cpu_concat_onehot(backend_cpu(), out, in, classes, d);
}
void onednn_slice_channels(const dcgan_backend *be, float *out, const float *in, const concat_desc *d) {
    (void)be;
    DCGAN_REQUIRE(d->in.dtype == DTYPE_F32 && d->in.layout == LAYOUT_NCHW);
    cpu_slice_channels(backend_cpu(), out, in, d);
}

#define ONEDNN_ENTRY(ret, name, params) .name = onednn_##name,
static const dcgan_backend onednn_backend = {
    .name = "onednn",
    .host_memory = 1,
    .native_layout = LAYOUT_BLOCKED,
    .ctx = &ctx,
    DCGAN_BACKEND_OPS(ONEDNN_ENTRY)
};

const dcgan_backend *backend_onednn(char *err, size_t errlen) {
    static int tried, ok;
    if (!tried) {
        tried = 1;
        ok = dnnl_engine_create(&ctx.engine, dnnl_cpu, 0) == dnnl_success &&
             dnnl_stream_create(&ctx.stream, ctx.engine, dnnl_stream_default_flags) == dnnl_success;
        ctx.bf16 = ok && onednn_has_bf16();
    }
    if (!ok) {
        set_error(err, errlen, "oneDNN could not create a CPU engine");
        return NULL;
    }
    return &onednn_backend;
}
