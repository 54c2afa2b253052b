// The executor's decisions, made once: folding, formats, plans and memory (net_plan.h).
#include <stdlib.h>
#include <string.h>
#include "dcgan/error.h"
#include "net_plan.h"

static int count_readers(const dcgan_net *net, int a) {
    int n = 0;
    for (int i = 0; i < net->nlayers; i++) n += net->layers[i].in == a;
    return n;
}

static int count_writers(const dcgan_net *net, int a) {
    int n = 0;
    for (int i = 0; i < net->nlayers; i++) n += net->layers[i].out == a;
    return n;
}

static int has_trained_tensors(const layer_type *type) {
    for (int k = 0; k < type->ntensors; k++)
        if (type->tensors[k].role == TENSOR_PARAM) return 1;
    return 0;
}

void plan_fusion(net_exec *x) {
    const dcgan_net *net = x->net;
    for (int i = 0; i < net->nlayers; i++) {
        x->steps[i] = (net_step){.run = 1, .out = net->layers[i].out};
        x->ctx[i].fused_slope = 1.0f;
    }
    for (int i = 0; i + 1 < net->nlayers; i++) {
        const layer *l = &net->layers[i], *next = &net->layers[i + 1];
        float slope;
        if (!x->steps[i].run || !l->type->absorbs_activation || !next->type->as_slope || next->in != l->out ||
            count_readers(net, l->out) != 1 || count_writers(net, l->out) != 1 || !next->type->as_slope(next, &slope))
            continue;
        x->ctx[i].fused_slope = slope;
        x->steps[i].out = next->out;
        x->steps[i + 1].run = 0;
    }
    int trained = 0;
    for (int i = 0; i < net->nlayers; i++) {
        x->steps[i].grads_before = trained;
        trained = trained || has_trained_tensors(net->layers[i].type);
    }
}

void plan_formats(net_exec *x) {
    const dcgan_net *net = x->net;
    const act_format f32 = {DTYPE_F32, LAYOUT_NCHW};
    for (int a = 0; a < net->nacts; a++) x->afmt[a] = x->fmt;
    x->afmt[0] = x->afmt[net->output] = f32;
    for (int i = 0; i < net->nlayers; i++)
        if (x->steps[i].run && net->layers[i].type->format == LAYER_FMT_F32)
            x->afmt[net->layers[i].in] = x->afmt[x->steps[i].out] = f32;
    // Backwards, so that a chain of element-wise layers takes the format of what follows it (G's
    // last convolution writes fp32 NCHW for the tanh).
    for (int i = net->nlayers - 1; i >= 0; i--)
        if (x->steps[i].run && net->layers[i].type->format == LAYER_FMT_SAME)
            x->afmt[net->layers[i].in] = x->afmt[x->steps[i].out];
}

static tensor_desc act_tensor(const net_exec *x, int a) {
    const act_shape *s = &x->net->acts[a];
    return (tensor_desc){x->B, s->c, s->h, s->w, x->afmt[a].dtype, x->afmt[a].layout};
}

static void bind_tensors(const dcgan_net *net, layer_ctx *c) {
    for (int k = 0; k < c->l->type->ntensors; k++) {
        const named_tensor *t = &net->tensors[c->l->first_tensor + k];
        c->tensor[k] = net_tensor_data(net, t);
        c->grad[k] = t->role == TENSOR_PARAM ? net->grads + t->off : NULL;
    }
}

int plan_layers(net_exec *x, char *err, size_t errlen) {
    const dcgan_net *net = x->net;
    for (int i = 0; i < net->nlayers; i++) {
        layer_ctx *c = &x->ctx[i];
        const layer *l = &net->layers[i];
        c->be = net->be;
        c->l = l;
        c->forward_only = x->forward_only;
        c->in = act_tensor(x, l->in);
        c->out = act_tensor(x, x->steps[i].out);
        bind_tensors(net, c);
        if (!x->steps[i].run) continue;
        for (int k = 0; k < l->type->nops; k++)
            if (backend_check(net->be, l->type->ops[k], &c->in, err, errlen) ||
                backend_check(net->be, l->type->ops[k], &c->out, err, errlen))
                return -1;
        if (!x->forward_only && !l->type->backward)
            return set_error(err, errlen, "layer %d (%s) has no backward pass: the net cannot be trained", i,
                             l->type->name);
        if (l->type->format == LAYER_FMT_SAME && (c->in.dtype != c->out.dtype || c->in.layout != c->out.layout))
            return set_error(err, errlen, "layer %d (%s) reads %s %s and writes %s %s: it needs one format", i,
                             l->type->name, dtype_name(c->in.dtype), layout_name(c->in.layout),
                             dtype_name(c->out.dtype), layout_name(c->out.layout));
        if (l->type->plan_bytes && !(c->plan = calloc(1, l->type->plan_bytes)))
            return set_error(err, errlen, "out of host memory planning layer %d", i);
        if (l->type->plan && l->type->plan(c, err, errlen)) return -1;
    }
    return 0;
}

// --- memory ---------------------------------------------------------------------------------------

static size_t act_bytes(const net_exec *x, int a) {
    const tensor_desc t = act_tensor(x, a);
    return x->net->be->tensor_bytes(x->net->be, &t);
}

// A new allocation, kept in x->blocks (NULL there when it failed: the bytes still count).
static int take(net_exec *x, size_t bytes, size_t *total) {
    const dcgan_backend *be = x->net->be;
    *total += bytes;
    x->blocks[x->nblocks] = be->alloc(be, bytes);
    return x->nblocks++;
}

// Every activation a layer writes gets its own memory: backward reads them all.
static void one_each(net_exec *x, size_t *total) {
    for (int i = 0; i < x->net->nlayers; i++) {
        const int a = x->steps[i].out;
        if (x->steps[i].run && !x->buf[a]) x->buf[a] = x->blocks[take(x, act_bytes(x, a), total)];
    }
}

// The smallest free block of at least `need` bytes, else -1.
static int free_block(const size_t *bytes, const char *in_use, int n, size_t need) {
    int pick = -1;
    for (int k = 0; k < n; k++)
        if (!in_use[k] && bytes[k] >= need && (pick < 0 || bytes[k] < bytes[pick])) pick = k;
    return pick;
}

// What liveness assignment keeps: per activation its last reader and its block, per block its size
// and whether an activation alive now holds it. One allocation.
typedef struct {
    int *last, *owner;
    size_t *bytes;
    char *in_use;
} liveness;

static void *liveness_make(liveness *v, int nacts, int nblocks) {
    const size_t A = (size_t)nacts, K = (size_t)nblocks;
    char *p = calloc(1, 2 * A * sizeof(int) + K * (sizeof(size_t) + 1));
    if (!p) return NULL;
    v->last = (int *)p;
    v->owner = v->last + A;
    v->bytes = (size_t *)(p + 2 * A * sizeof(int));   // 8-byte aligned: an even count of ints
    v->in_use = (char *)(v->bytes + K);
    for (size_t a = 0; a < A; a++) v->last[a] = v->owner[a] = -1;
    return p;
}

// Liveness: an activation gets memory at its first write (its input's when the kind may write over
// it and nothing reads the input later, else a free block that fits, else a new one) and gives it
// back after its last read. The net's input is the caller's; its output is never given back.
static int share_by_liveness(net_exec *x, size_t *total) {
    const dcgan_net *net = x->net;
    liveness v;
    void *scratch = liveness_make(&v, net->nacts, net->nacts + net->nlayers);
    if (!scratch) return -1;
    for (int i = 0; i < net->nlayers; i++) if (x->steps[i].run) v.last[net->layers[i].in] = i;
    v.last[net->output] = net->nlayers;
    for (int i = 0; i < net->nlayers; i++) {
        const layer *l = &net->layers[i];
        const int a = x->steps[i].out, dies = l->in != 0 && v.last[l->in] == i;
        if (!x->steps[i].run) continue;
        if (v.owner[a] < 0) {
            const size_t need = act_bytes(x, a);
            const int over = dies && l->type->in_place && x->bn == BN_RUNNING && count_writers(net, a) == 1 &&
                             v.bytes[v.owner[l->in]] >= need;
            int k = over ? v.owner[l->in] : free_block(v.bytes, v.in_use, x->nblocks, need);
            if (k < 0) v.bytes[k = take(x, need, total)] = need;
            v.in_use[k] = 1;
            v.owner[a] = k;
            x->buf[a] = x->blocks[k];
        }
        if (dies && v.owner[l->in] != v.owner[a]) v.in_use[v.owner[l->in]] = 0;
    }
    free(scratch);
    return 0;
}

static int uses_classes(const dcgan_net *net) {
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].type->reads_classes) return 1;
    return 0;
}

int plan_memory(net_exec *x, size_t *total) {
    const dcgan_net *net = x->net;
    if (x->forward_only) {
        if (share_by_liveness(x, total)) return -1;
    } else {
        one_each(x, total);
    }
    size_t grad_bytes = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const layer *l = &net->layers[i];
        if (!x->steps[i].run) continue;
        if (l->type->saved_bytes) x->ctx[i].saved = x->blocks[take(x, l->type->saved_bytes(l, x->B), total)];
        const size_t in = act_bytes(x, l->in), out = act_bytes(x, x->steps[i].out);
        if (in > grad_bytes) grad_bytes = in;
        if (out > grad_bytes) grad_bytes = out;
    }
    if (!x->forward_only) {
        x->grad_a = x->blocks[take(x, grad_bytes, total)];
        x->grad_b = x->blocks[take(x, grad_bytes, total)];
    }
    if (uses_classes(net)) x->classes = x->own_classes = x->blocks[take(x, (size_t)x->B * sizeof(int32_t), total)];
    for (int i = 0; i < net->nlayers; i++) x->act[i] = x->buf[net->layers[i].out];
    for (int k = 0; k < x->nblocks; k++)
        if (!x->blocks[k]) return -1;
    return 0;
}
