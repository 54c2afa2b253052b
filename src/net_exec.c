// The executor: forward and backward walks over a net's layers through their kinds' functions.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/error.h"
#include "net_plan.h"

static int alloc_tables(net_exec *x) {
    const dcgan_net *net = x->net;
    const size_t L = (size_t)net->nlayers, A = (size_t)net->nacts;
    x->ctx = calloc(L, sizeof *x->ctx);
    x->steps = calloc(L, sizeof *x->steps);
    x->act = calloc(L, sizeof *x->act);
    x->afmt = calloc(A, sizeof *x->afmt);
    x->buf = calloc(A, sizeof *x->buf);
    x->blocks = calloc(A + L + 4, sizeof *x->blocks);
    return x->ctx && x->steps && x->act && x->afmt && x->buf && x->blocks ? 0 : -1;
}

// The training nets' backward walks a chain: layer i reads activation i and writes i + 1.
static int check_chain(const dcgan_net *net, char *err, size_t errlen) {
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].in != i || net->layers[i].out != i + 1)
            return set_error(err, errlen, "layer %d (%s) does not follow the one before it: only a chain of layers "
                             "can be trained", i, net->layers[i].type->name);
    return 0;
}

static int init(net_exec *x, dcgan_net *net, int B, const act_format *fmt, size_t *bytes_needed, char *err,
                size_t errlen) {
    const dcgan_backend *be = net->be;
    x->net = net;
    x->B = B;
    x->fmt = fmt ? *fmt : (act_format){DTYPE_F32, be->native_layout};
    if (bytes_needed) *bytes_needed = 0;
    if (alloc_tables(x)) {
        net_exec_free(x);
        return set_error(err, errlen, "out of host memory planning a net of %d layers", net->nlayers);
    }
    plan_fusion(x);
    plan_formats(x);
    if ((!x->forward_only && check_chain(net, err, errlen)) || plan_layers(x, err, errlen)) {
        net_exec_free(x);
        return -1;
    }
    size_t total = 0;
    const int failed = plan_memory(x, &total);
    if (bytes_needed) *bytes_needed = total;
    if (failed) {
        set_error(err, errlen, "out of %s memory: the buffers for batch size %d need %.1f MiB", be->name, B,
                  total / 1048576.0);
        net_exec_free(x);
        return -1;
    }
    return 0;
}

int net_exec_init(net_exec *x, dcgan_net *net, int B, const act_format *fmt, size_t *bytes_needed,
                  char *err, size_t errlen) {
    memset(x, 0, sizeof *x);
    return init(x, net, B, fmt, bytes_needed, err, errlen);
}

int net_exec_init_forward(net_exec *x, dcgan_net *net, int B, const act_format *fmt, bn_mode bn,
                          size_t *bytes_needed, char *err, size_t errlen) {
    memset(x, 0, sizeof *x);
    x->forward_only = 1;
    x->bn = bn;
    return init(x, net, B, fmt, bytes_needed, err, errlen);
}

void net_exec_free(net_exec *x) {
    if (!x->net) return;
    const dcgan_backend *be = x->net->be;
    for (int k = 0; k < x->nblocks; k++) if (x->blocks[k]) be->release(be, x->blocks[k]);
    for (int i = 0; x->ctx && i < x->net->nlayers; i++) free(x->ctx[i].plan);
    void *tables[] = {x->ctx, x->steps, x->act, x->afmt, x->buf, x->blocks};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) free(tables[i]);
    memset(x, 0, sizeof *x);
}

int net_exec_check(const dcgan_net *net, const dcgan_backend *be, const act_format *fmt, char *err, size_t errlen) {
    const tensor_desc inner = {1, 1, 1, 1, fmt ? fmt->dtype : DTYPE_F32, fmt ? fmt->layout : be->native_layout};
    const tensor_desc f32 = tensor_f32(1, 1, 1, 1);
    for (int i = 0; i < net->nlayers; i++) {
        const layer_type *type = net->layers[i].type;
        const tensor_desc *t = type->format == LAYER_FMT_F32 ? &f32 : &inner;
        for (int k = 0; k < type->nops; k++)
            if (backend_check(be, type->ops[k], t, err, errlen)) return -1;
    }
    return 0;
}

int net_exec_sync_bn(net_exec *x, int ranks, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    for (int i = 0; i < x->net->nlayers; i++)
        if (x->steps[i].run && x->net->layers[i].type->sync) x->net->layers[i].type->sync(&x->ctx[i], ranks);
    return 0;
}

void net_set_classes(net_exec *x, const int32_t *classes) {
    if (!x->own_classes) return;
    const dcgan_backend *be = x->net->be;
    be->upload(be, x->own_classes, classes, (size_t)x->B * sizeof(int32_t));
    x->classes = x->own_classes;
}

void net_use_classes(net_exec *x, const int32_t *classes) {
    if (x->own_classes) x->classes = classes;
}

const void *net_forward(net_exec *x, const void *in, bn_mode bn) {
    const dcgan_net *net = x->net;
    DCGAN_REQUIRE(!x->forward_only || bn == x->bn);
    const layer_pass pass = {.bn = bn, .classes = x->classes};
    x->buf[0] = (void *)in;
    for (int i = 0; i < net->nlayers; i++) {
        const layer_ctx *c = &x->ctx[i];
        if (x->steps[i].run) c->l->type->forward(c, x->buf[x->steps[i].out], x->buf[c->l->in], &pass);
    }
    return x->buf[net->output];
}

void net_backward(net_exec *x, const void *dout, void *din, int param_grads) {
    const dcgan_net *net = x->net;
    DCGAN_REQUIRE(!x->forward_only);
    const layer_pass pass = {.classes = x->classes, .param_grads = param_grads};
    const void *g_out = dout;
    for (int i = net->nlayers - 1; i >= 0; i--) {
        const layer_ctx *c = &x->ctx[i];
        if (!x->steps[i].run) continue;   // folded into the layer before it
        // The first layer writes straight into din; the others alternate between the two buffers,
        // and skip their input gradient when neither din nor a trained layer before them needs it.
        void *g_in = din;
        if (i > 0 && (din || x->steps[i].grads_before)) g_in = g_out == x->grad_a ? x->grad_b : x->grad_a;
        else if (i > 0) g_in = NULL;
        c->l->type->backward(c, g_in, g_out, x->buf[c->l->in], x->buf[x->steps[i].out], &pass);
        if (!g_in) return;   // nothing before it needs a gradient
        g_out = g_in;
    }
}
