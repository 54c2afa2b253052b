// Convolutions and transposed convolutions on oneDNN: one plan per shape, made once (at
// conv_plan / dense_plan), holding the forward, backward-data and backward-weights primitives
// (the forward alone for a forward-only descriptor), the formats of the weight copies they read,
// and the reorder that adds the weight gradient (in the backward primitive's blocked format) into
// the fp32 PyTorch-layout gradient.
//
// Blocked activations (the tensors inside a net) are read and written by the primitives in
// exactly the descriptor's format: nothing is reordered between layers. A tensor in NCHW (a net's
// input and output, and their gradients: the data batch, z, G's image, the logits) is left to the
// primitive (format_tag::any) and reordered to or from its format when the two differ: oneDNN's
// fast kernels read a 1- or 3-channel image as it is but write it padded to 16 channels, and
// turn fp32 inputs into bf16 for bf16 arithmetic. The whole-image layers (dense_desc) are convolutions whose kernel
// covers the image: G's first layer a 1x1 -> 4x4 transposed convolution, D's last a 4x4 -> 1x1
// convolution.
#include "onednn_impl.h"
#include "dcgan/error.h"

// One side of a primitive: the format it reads or writes a tensor in, and the reorder from or to
// the caller's format when they differ.
typedef struct {
    dnnl_memory_desc_t md;
    int reorder;
    prim r;
} side;

// A direction: forward (in -> out), backward data (d out -> d in), backward weights.
typedef struct {
    prim p;
    side in, out;       // the tensors shaped as d.in and as d.out
} direction;

struct oconv {
    conv_desc d;
    dnnl_data_type_t ct;            // the arithmetic: bf16 when either side is bf16
    dnnl_memory_desc_t wplain;      // fp32 weights as PyTorch keeps them: [OC, C, kh, kw] / [C, OC, kh, kw]
    dnnl_memory_desc_t w_fwd, w_bwd;    // the copies forward and backward-data read
    direction fwd, bwd_d, bwd_w;
    prim dw_add;                    // bwd_w's weight gradient added into the caller's
    void *in_buf, *out_buf;         // the primitive's side of a reordered tensor
    void *dw;                       // the weight gradient in bwd_w's format (fp32)
    struct oconv *next;
};

typedef union { dnnl_convolution_desc_t conv; dnnl_deconvolution_desc_t deconv; } op_desc;
enum { FWD, BWD_D, BWD_W };

static dnnl_data_type_t dt_of(dcgan_dtype t) { return t == DTYPE_BF16 ? dnnl_bf16 : dnnl_f32; }

static void md_of(dnnl_memory_desc_t *md, const tensor_desc *t, dnnl_data_type_t dt) {
    dnnl_dims_t dims = {t->n, t->c, t->h, t->w};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 4, dims, dt, tensor_blocked(t) ? dnnl_aBcd16b : dnnl_abcd));
}

static dnnl_status_t desc_init(op_desc *u, const conv_desc *d, int dir, const dnnl_memory_desc_t *src,
                               const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *dst) {
    dnnl_dims_t strides = {d->sh, d->sw}, pad = {d->ph, d->pw};
    if (d->kind == CONV_TRANSPOSE_2D) {
        const dnnl_alg_kind_t alg = dnnl_deconvolution_direct;
        if (dir == FWD)
            return dnnl_deconvolution_forward_desc_init(&u->deconv, dnnl_forward_training, alg, src, w, NULL, dst, strides, pad, pad);
        if (dir == BWD_D) return dnnl_deconvolution_backward_data_desc_init(&u->deconv, alg, src, w, dst, strides, pad, pad);
        return dnnl_deconvolution_backward_weights_desc_init(&u->deconv, alg, src, w, NULL, dst, strides, pad, pad);
    }
    const dnnl_alg_kind_t alg = dnnl_convolution_direct;
    if (dir == FWD)
        return dnnl_convolution_forward_desc_init(&u->conv, dnnl_forward_training, alg, src, w, NULL, dst, strides, pad, pad);
    if (dir == BWD_D) return dnnl_convolution_backward_data_desc_init(&u->conv, alg, src, w, dst, strides, pad, pad);
    return dnnl_convolution_backward_weights_desc_init(&u->conv, alg, src, w, NULL, dst, strides, pad, pad);
}

static dnnl_primitive_attr_t user_scratchpad(void) {
    dnnl_primitive_attr_t attr;
    DNNL_CHECK(dnnl_primitive_attr_create(&attr));
    DNNL_CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    return attr;
}

static const char *impl_of(const_dnnl_primitive_desc_t pd) {
    const char *s = "-";   // a direction not planned (forward-only)
    if (pd) dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s);
    return s;
}

static dnnl_primitive_desc_t pd_create(onednn_ctx *c, const conv_desc *d, int dir, const dnnl_memory_desc_t *src,
                                       const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *dst,
                                       const_dnnl_primitive_desc_t hint) {
    op_desc u;
    dnnl_primitive_desc_t pd = NULL;
    if (desc_init(&u, d, dir, src, w, dst) != dnnl_success) return NULL;
    dnnl_primitive_attr_t attr = user_scratchpad();
    if (dnnl_primitive_desc_create(&pd, &u, attr, c->engine, hint) != dnnl_success) pd = NULL;
    dnnl_primitive_attr_destroy(attr);
    return pd;
}

// pd_create, unless it finds only oneDNN's reference implementation: then the same with both
// activations left to the primitive (any), reordered around it (a channel count that is not a
// multiple of 16 next to a blocked tensor has no fast kernel in the blocked layout).
static dnnl_primitive_desc_t pd_best(onednn_ctx *c, const conv_desc *d, int dir, const dnnl_memory_desc_t *src,
                                     const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *dst,
                                     const_dnnl_primitive_desc_t hint) {
    dnnl_primitive_desc_t pd = pd_create(c, d, dir, src, w, dst, hint);
    if (pd && strncmp(impl_of(pd), "ref", 3)) return pd;
    dnnl_memory_desc_t src_any = *src, dst_any = *dst;
    dnnl_dims_t in = {d->in.n, d->in.c, d->in.h, d->in.w}, out = {d->out.n, d->out.c, d->out.h, d->out.w};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, in, src->data_type, dnnl_format_tag_any));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, out, dst->data_type, dnnl_format_tag_any));
    dnnl_primitive_desc_t alt = pd_create(c, d, dir, &src_any, w, &dst_any, hint);
    if (alt && (!pd || strncmp(impl_of(alt), "ref", 3))) {
        if (pd) dnnl_primitive_desc_destroy(pd);
        return alt;
    }
    if (alt) dnnl_primitive_desc_destroy(alt);
    return pd;
}


static void direction_free(direction *r) {
    prim_free(&r->p);
    prim_free(&r->in.r);
    prim_free(&r->out.r);
}

static void oconv_free(oconv *k) {
    direction_free(&k->fwd);
    direction_free(&k->bwd_d);
    direction_free(&k->bwd_w);
    prim_free(&k->dw_add);
    free(k->in_buf);
    free(k->out_buf);
    free(k->dw);
    free(k);
}

void onednn_convs_free(onednn_ctx *c) {
    while (c->convs) {
        oconv *k = c->convs;
        c->convs = k->next;
        oconv_free(k);
    }
}

// The format a primitive is asked to use for tensor t: a blocked tensor's own (in the arithmetic's
// type), any other's left to the primitive.
static void prim_md(dnnl_memory_desc_t *md, const tensor_desc *t, dnnl_data_type_t dt) {
    if (tensor_blocked(t)) { md_of(md, t, dt); return; }
    dnnl_dims_t dims = {t->n, t->c, t->h, t->w};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 4, dims, dt, dnnl_format_tag_any));
}

// Side s of pd (query q) against the caller's format user: a reorder (user -> side for an input,
// side -> user for an output) when they differ. Returns the bytes of the side's buffer (0: none).
static int side_make(onednn_ctx *c, side *s, const_dnnl_primitive_desc_t pd, dnnl_query_t q,
                     const dnnl_memory_desc_t *user, int input, size_t *bytes) {
    s->md = *dnnl_primitive_desc_query_md(pd, q, 0);
    s->reorder = !dnnl_memory_desc_equal(&s->md, user);
    if (!s->reorder) return 0;
    dnnl_primitive_desc_t r = NULL;
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_status_t st = input ? dnnl_reorder_primitive_desc_create(&r, user, c->engine, &s->md, c->engine, attr)
                             : dnnl_reorder_primitive_desc_create(&r, &s->md, c->engine, user, c->engine, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return -1;
    const int args[] = {DNNL_ARG_SRC, DNNL_ARG_DST};
    int rc = prim_make(c, &s->r, r, args, 2);
    dnnl_primitive_desc_destroy(r);
    size_t b = dnnl_memory_desc_get_size(&s->md);
    if (b > *bytes) *bytes = b;
    return rc;
}

// The primitive descriptors of a plan: forward, and unless d is forward-only (Inception's) the
// two backward ones and the reorder that adds the weight gradient into the caller's. The memory
// formats a primitive reads and writes: the arithmetic's type (ct), or the caller's where the
// primitive implements it. Returns NULL, or what is missing.
typedef struct { dnnl_primitive_desc_t fwd, bwd_d, bwd_w, add; } plan_pds;

static void pds_free(plan_pds *p) {
    dnnl_primitive_desc_t all[] = {p->fwd, p->bwd_d, p->bwd_w, p->add};
    for (int i = 0; i < 4; i++) if (all[i]) dnnl_primitive_desc_destroy(all[i]);
}

static const char *pds_make(onednn_ctx *c, oconv *k, plan_pds *p) {
    const conv_desc *d = &k->d;
    dnnl_dims_t wdims = {d->out.c, d->in.c, d->kh, d->kw};
    dnnl_memory_desc_t w_any, dw_any, in_c, out_c, in_o, out_o;
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&w_any, 4, wdims, k->ct, dnnl_format_tag_any));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&dw_any, 4, wdims, dnnl_f32, dnnl_format_tag_any));
    prim_md(&in_c, &d->in, k->ct);                  // read in the arithmetic's type
    prim_md(&out_c, &d->out, k->ct);
    prim_md(&in_o, &d->in, dt_of(d->in.dtype));     // written in the caller's type where implemented
    prim_md(&out_o, &d->out, dt_of(d->out.dtype));
    p->fwd = pd_best(c, d, FWD, &in_c, &w_any, &out_o, NULL);
    if (!p->fwd) p->fwd = pd_best(c, d, FWD, &in_c, &w_any, &out_c, NULL);
    if (!p->fwd) return "no forward implementation";
    k->w_fwd = *dnnl_primitive_desc_query_md(p->fwd, dnnl_query_weights_md, 0);
    if (d->forward_only) return NULL;
    p->bwd_d = pd_best(c, d, BWD_D, &in_o, &w_any, &out_c, p->fwd);
    if (!p->bwd_d) p->bwd_d = pd_best(c, d, BWD_D, &in_c, &w_any, &out_c, p->fwd);
    if (!p->bwd_d) return "no backward-data implementation";
    p->bwd_w = pd_best(c, d, BWD_W, &in_c, &dw_any, &out_c, p->fwd);
    if (!p->bwd_w) return "no backward-weights implementation";
    k->w_bwd = *dnnl_primitive_desc_query_md(p->bwd_d, dnnl_query_weights_md, 0);
    // The weight gradient is added into the caller's: a reorder with a sum post-op.
    const dnnl_memory_desc_t *dw_md = dnnl_primitive_desc_query_md(p->bwd_w, dnnl_query_diff_weights_md, 0);
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_post_ops_t po;
    DNNL_CHECK(dnnl_post_ops_create(&po));
    DNNL_CHECK(dnnl_post_ops_append_sum(po, 1.0f));
    DNNL_CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
    dnnl_post_ops_destroy(po);
    if (dnnl_reorder_primitive_desc_create(&p->add, dw_md, c->engine, &k->wplain, c->engine, attr) != dnnl_success)
        p->add = NULL;
    dnnl_primitive_attr_destroy(attr);
    return p->add ? NULL : "no weight-gradient reorder";
}

// The primitives of the descriptors, the reorders of the NCHW sides and their buffers.
static const char *prims_make(onednn_ctx *c, oconv *k, const plan_pds *p) {
    static const int fa[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    static const int da[] = {DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_DST};
    static const int wa[] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_DST};
    static const int ra[] = {DNNL_ARG_SRC, DNNL_ARG_DST};
    const int backward = !k->d.forward_only;
    dnnl_memory_desc_t in_user, out_user;
    md_of(&in_user, &k->d.in, dt_of(k->d.in.dtype));
    md_of(&out_user, &k->d.out, dt_of(k->d.out.dtype));
    size_t in_bytes = 0, out_bytes = 0;
    if (prim_make(c, &k->fwd.p, p->fwd, fa, 3) ||
        side_make(c, &k->fwd.in, p->fwd, dnnl_query_src_md, &in_user, 1, &in_bytes) ||
        side_make(c, &k->fwd.out, p->fwd, dnnl_query_dst_md, &out_user, 0, &out_bytes) ||
        (backward && (prim_make(c, &k->bwd_d.p, p->bwd_d, da, 3) || prim_make(c, &k->bwd_w.p, p->bwd_w, wa, 3) ||
                      prim_make(c, &k->dw_add, p->add, ra, 2) ||
                      side_make(c, &k->bwd_d.in, p->bwd_d, dnnl_query_diff_src_md, &in_user, 0, &in_bytes) ||
                      side_make(c, &k->bwd_d.out, p->bwd_d, dnnl_query_diff_dst_md, &out_user, 1, &out_bytes) ||
                      side_make(c, &k->bwd_w.in, p->bwd_w, dnnl_query_src_md, &in_user, 1, &in_bytes) ||
                      side_make(c, &k->bwd_w.out, p->bwd_w, dnnl_query_diff_dst_md, &out_user, 1, &out_bytes))))
        return "out of memory, or no reorder between the formats";
    if (backward)
        k->dw = onednn_buffer(dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(p->bwd_w,
                                                                                      dnnl_query_diff_weights_md, 0)));
    if (in_bytes) k->in_buf = onednn_buffer(in_bytes);
    if (out_bytes) k->out_buf = onednn_buffer(out_bytes);
    if ((backward && !k->dw) || (in_bytes && !k->in_buf) || (out_bytes && !k->out_buf)) return "out of memory";
    return NULL;
}

static void plan_describe(const oconv *k, const plan_pds *p) {
    const tensor_desc *in = &k->d.in, *out = &k->d.out;
    fprintf(stderr, "onednn: %s %dx%dx%d -> %dx%dx%d batch %d (%s): fwd %s, bwd_d %s, bwd_w %s; reorders:%s%s%s%s%s%s\n",
            k->d.kind == CONV_TRANSPOSE_2D ? "deconv" : "conv", in->c, in->h, in->w, out->c, out->h, out->w, in->n,
            k->ct == dnnl_bf16 ? "bf16" : "fp32", impl_of(p->fwd), impl_of(p->bwd_d), impl_of(p->bwd_w),
            k->fwd.in.reorder ? " fwd in" : "", k->fwd.out.reorder ? " fwd out" : "",
            k->bwd_d.in.reorder ? " bwd_d din" : "", k->bwd_d.out.reorder ? " bwd_d dout" : "",
            k->bwd_w.in.reorder ? " bwd_w in" : "", k->bwd_w.out.reorder ? " bwd_w dout" : "");
}

static oconv *plan(onednn_ctx *c, const conv_desc *d, char *err, size_t errlen) {
    const tensor_desc *in = &d->in, *out = &d->out;
    oconv *k = calloc(1, sizeof *k);
    plan_pds p = {0};
    const char *failed = k ? NULL : "out of memory";
    if (k) {
        k->d = *d;
        k->ct = in->dtype == DTYPE_BF16 || out->dtype == DTYPE_BF16 ? dnnl_bf16 : dnnl_f32;
        dnnl_dims_t wdims = {out->c, in->c, d->kh, d->kw};
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(&k->wplain, 4, wdims, dnnl_f32,
                                                d->kind == CONV_TRANSPOSE_2D ? dnnl_iohw : dnnl_oihw));
        failed = pds_make(c, k, &p);
        if (!failed) failed = prims_make(c, k, &p);
        if (!failed && c->verbose) plan_describe(k, &p);
    }
    pds_free(&p);
    if (failed) {
        set_error(err, errlen, "oneDNN cannot plan the %s %dx%dx%d -> %dx%dx%d (%s %s -> %s %s): %s",
                  d->kind == CONV_2D ? "convolution" : "transposed convolution", in->c, in->h, in->w, out->c, out->h,
                  out->w, dtype_name(in->dtype), layout_name(in->layout), dtype_name(out->dtype),
                  layout_name(out->layout), failed);
        if (k) oconv_free(k);
        return NULL;
    }
    k->next = c->convs;
    c->convs = k;
    return k;
}

static oconv *find(onednn_ctx *c, const conv_desc *d) {
    for (oconv *k = c->convs; k; k = k->next)
        if (!memcmp(&k->d, d, sizeof *d)) return k;
    return NULL;
}

int onednn_conv_plan(const dcgan_backend *be, const conv_desc *d, char *err, size_t errlen) {
    DCGAN_REQUIRE(conv_desc_valid(d));
    onednn_ctx *c = onednn_ctx_of(be);
    return find(c, d) || plan(c, d, err, errlen) ? 0 : -1;
}

// The plan of d; a shape that was not planned is planned now (outside the training loop's
// fixed sequence that never happens: net_exec plans every layer).
static oconv *planned(const dcgan_backend *be, const conv_desc *d) {
    DCGAN_REQUIRE(conv_desc_valid(d));
    onednn_ctx *c = onednn_ctx_of(be);
    oconv *k = find(c, d);
    char err[512];
    // A plan that fails here has no caller to report to: the op's contract is a planned shape.
    if (!k && !(k = plan(c, d, err, sizeof err))) dcgan_require_failed(err, __FILE__, __LINE__);
    return k;
}

static void *weights(const dcgan_backend *be, const oconv *k, const float *w, const dnnl_memory_desc_t *md) {
    // Weights the layer computes anew in each pass: any copy of them is out of date.
    if (k->d.weights_vary) onednn_weights_written(onednn_ctx_of(be), w, dnnl_memory_desc_get_size(&k->wplain));
    void *p = onednn_weights(onednn_ctx_of(be), w, &k->wplain, md);
    DCGAN_REQUIRE(p != NULL);   // out of memory for a weight copy
    return p;
}

// An input in the primitive's format: the caller's buffer, or its reorder into buf.
static void *side_in(onednn_ctx *c, side *s, const void *user, void *buf) {
    if (!s->reorder) return (void *)user;
    void *ptrs[] = {(void *)user, buf};
    prim_run(c, &s->r, ptrs);
    return buf;
}
// Where the primitive writes an output: the caller's buffer, or buf (side_out then reorders it).
static void *side_target(side *s, void *user, void *buf) { return s->reorder ? buf : user; }
static void side_out(onednn_ctx *c, side *s, void *user, void *buf) {
    if (!s->reorder) return;
    void *ptrs[] = {buf, user};
    prim_run(c, &s->r, ptrs);
}

void onednn_conv_forward(const dcgan_backend *be, void *out, const void *in, const float *w, const conv_desc *d) {
    oconv *k = planned(be, d);
    onednn_ctx *c = onednn_ctx_of(be);
    void *ptrs[] = {side_in(c, &k->fwd.in, in, k->in_buf), weights(be, k, w, &k->w_fwd),
                    side_target(&k->fwd.out, out, k->out_buf)};
    prim_run(c, &k->fwd.p, ptrs);
    side_out(c, &k->fwd.out, out, k->out_buf);
}

void onednn_conv_backward_data(const dcgan_backend *be, void *din, const void *dout, const float *w, const conv_desc *d) {
    DCGAN_REQUIRE(!d->forward_only);
    oconv *k = planned(be, d);
    onednn_ctx *c = onednn_ctx_of(be);
    void *ptrs[] = {side_target(&k->bwd_d.in, din, k->in_buf), weights(be, k, w, &k->w_bwd),
                    side_in(c, &k->bwd_d.out, dout, k->out_buf)};
    prim_run(c, &k->bwd_d.p, ptrs);
    side_out(c, &k->bwd_d.in, din, k->in_buf);
}

void onednn_conv_backward_filter(const dcgan_backend *be, float *dw, const void *dout, const void *in, const conv_desc *d) {
    DCGAN_REQUIRE(!d->forward_only);
    oconv *k = planned(be, d);
    onednn_ctx *c = onednn_ctx_of(be);
    void *ptrs[] = {side_in(c, &k->bwd_w.in, in, k->in_buf), k->dw, side_in(c, &k->bwd_w.out, dout, k->out_buf)};
    prim_run(c, &k->bwd_w.p, ptrs);
    void *add[] = {k->dw, dw};
    prim_run(c, &k->dw_add, add);
}

// --- the whole-image layers as convolutions ---------------------------------------------------------

static conv_desc conv_of(const dense_desc *d) {
    DCGAN_REQUIRE(dense_desc_valid(d));
    conv_desc c = {.kind = d->transposed ? CONV_TRANSPOSE_2D : CONV_2D, .in = d->in, .out = d->out,
                   .kh = d->transposed ? d->out.h : d->in.h, .kw = d->transposed ? d->out.w : d->in.w,
                   .sh = 1, .sw = 1, .ph = 0, .pw = 0, .weights_vary = d->weights_vary};
    DCGAN_REQUIRE(d->transposed ? d->in.h == 1 && d->in.w == 1 && d->out.h == d->out.w
                                : d->out.h == 1 && d->out.w == 1 && d->in.h == d->in.w);
    return c;
}

int onednn_dense_plan(const dcgan_backend *be, const dense_desc *d, char *err, size_t errlen) {
    conv_desc c = conv_of(d);
    return onednn_conv_plan(be, &c, err, errlen);
}
void onednn_dense_forward(const dcgan_backend *be, void *out, const void *in, const float *w, const dense_desc *d) {
    conv_desc c = conv_of(d);
    onednn_conv_forward(be, out, in, w, &c);
}
void onednn_dense_backward_data(const dcgan_backend *be, void *din, const void *dout, const float *w, const dense_desc *d) {
    conv_desc c = conv_of(d);
    onednn_conv_backward_data(be, din, dout, w, &c);
}
void onednn_dense_backward_filter(const dcgan_backend *be, float *dw, const void *dout, const void *in, const dense_desc *d) {
    conv_desc c = conv_of(d);
    onednn_conv_backward_filter(be, dw, dout, in, &c);
}
