// A net as rows of layer kinds: the rows, the activations between them, the named tensors their
// kinds declare, and the memory behind those tensors (one block per tensor role).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/model.h"
#include "dcgan/rng.h"

// Grows *items (of `size` bytes each) to hold n + 1; 0, or -1 (net->failed) when out of memory.
static int grow(dcgan_net *net, void **items, int *cap, int n, size_t size) {
    if (n < *cap) return 0;
    const int want = *cap ? 2 * *cap : 16;
    void *p = realloc(*items, (size_t)want * size);
    if (!p) {
        net->failed = 1;
        return -1;
    }
    *items = p;
    *cap = want;
    return 0;
}

void net_begin(dcgan_net *net, int c, int h, int w) {
    memset(net, 0, sizeof *net);
    net->init_std = 0.02f;
    net_new_act(net, c, h, w);
}

int net_new_act(dcgan_net *net, int c, int h, int w) {
    if (grow(net, (void **)&net->acts, &net->cap_acts, net->nacts, sizeof *net->acts)) return -1;
    net->acts[net->nacts] = (act_shape){c, h, w};
    return net->nacts++;
}

static int declare_tensor(dcgan_net *net, const layer *l, const tensor_decl *d) {
    if (grow(net, (void **)&net->tensors, &net->cap_tensors, net->ntensors, sizeof *net->tensors)) return -1;
    named_tensor *t = &net->tensors[net->ntensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s.%s", l->name, d->name);
    t->role = d->role;
    t->ndim = d->shape(l, t->shape);
    t->numel = 1;
    for (int i = 0; i < t->ndim; i++) t->numel *= (size_t)t->shape[i];
    // Each role's tensors are carved from its own block, in the order they are declared.
    if (d->role == TENSOR_PARAM) {
        t->off = net->nparams;
        net->nparams += t->numel;
    } else if (d->role == TENSOR_STAT) {
        t->off = net->nstats;
        net->nstats += t->numel;
    } else {
        t->off = (size_t)net->nbn++;
    }
    return 0;
}

int net_add(dcgan_net *net, const layer_type *type, const char *name, int in, int out, layer_params p) {
    if (net->failed || grow(net, (void **)&net->layers, &net->cap_layers, net->nlayers, sizeof *net->layers)) return -1;
    DCGAN_REQUIRE(in >= 0 && in < net->nacts && out < net->nacts && type->ntensors <= LAYER_MAX_TENSORS);
    layer l = {.type = type, .in = in, .p = p, .first_tensor = net->ntensors};
    snprintf(l.name, sizeof l.name, "%s", name);
    l.C = net->acts[in].c;
    l.H = net->acts[in].h;
    l.W = net->acts[in].w;
    if (out == NET_NEW) {
        type->shape(&l);
        if ((out = net_new_act(net, l.OC, l.OH, l.OW)) < 0) return -1;
    } else {
        l.OC = net->acts[out].c;
        l.OH = net->acts[out].h;
        l.OW = net->acts[out].w;
    }
    l.out = out;
    for (int i = 0; i < type->ntensors; i++)
        if (declare_tensor(net, &l, &type->tensors[i])) return -1;
    net->layers[net->nlayers++] = l;
    net->output = out;
    return out;
}

int dcgan_net_alloc(dcgan_net *net, const dcgan_backend *be) {
    net->be = be;
    net->params = be->alloc(be, (net->nparams ? net->nparams : 1) * sizeof(float));
    net->grads = be->alloc(be, (net->nparams ? net->nparams : 1) * sizeof(float));
    net->stats = be->alloc(be, (net->nstats ? net->nstats : 1) * sizeof(float));
    net->num_batches_tracked = be->alloc(be, (size_t)(net->nbn ? net->nbn : 1) * sizeof(int64_t));
    return net->params && net->grads && net->stats && net->num_batches_tracked ? 0 : -1;
}

void *net_tensor_data(const dcgan_net *net, const named_tensor *t) {
    if (t->role == TENSOR_PARAM) return net->params + t->off;
    if (t->role == TENSOR_STAT) return net->stats + t->off;
    return net->num_batches_tracked + t->off;
}

size_t named_tensor_bytes(const named_tensor *t) {
    return t->numel * (t->role == TENSOR_COUNT ? sizeof(int64_t) : sizeof(float));
}

void net_take_memory(dcgan_net *dst, dcgan_net *src) {
    DCGAN_REQUIRE(dst->nparams == src->nparams && dst->nstats == src->nstats && dst->nbn == src->nbn);
    dst->be = src->be;
    dst->params = src->params;
    dst->grads = src->grads;
    dst->stats = src->stats;
    dst->num_batches_tracked = src->num_batches_tracked;
    src->be = NULL;
    src->params = src->grads = src->stats = NULL;
    src->num_batches_tracked = NULL;
}

void dcgan_net_free(dcgan_net *net) {
    const dcgan_backend *be = net->be;
    if (be) {
        void *bufs[] = {net->params, net->grads, net->stats, net->num_batches_tracked};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) if (bufs[i]) be->release(be, bufs[i]);
    }
    free(net->layers);
    free(net->acts);
    free(net->tensors);
    memset(net, 0, sizeof *net);
}

// One tensor's initial value in its host block; the normal draws advance r.
static void init_tensor(const named_tensor *t, tensor_init init, float std, float *params, float *stats,
                        dcgan_rng *r) {
    if (t->role == TENSOR_COUNT) return;   // counters start at 0
    float *v = (t->role == TENSOR_PARAM ? params : stats) + t->off;
    if (init == INIT_NORMAL || init == INIT_NORMAL_ONE)
        rng_fill_normal(r, v, t->numel, init == INIT_NORMAL ? 0.0f : 1.0f, std);
    else
        for (size_t i = 0; i < t->numel; i++) v[i] = init == INIT_ONE ? 1.0f : 0.0f;
}

int dcgan_net_init(dcgan_net *net, uint64_t seed) {
    float *params = calloc(net->nparams ? net->nparams : 1, sizeof(float));
    float *stats = calloc(net->nstats ? net->nstats : 1, sizeof(float));
    if (!params || !stats) {
        free(params);
        free(stats);
        return -1;
    }
    // Each net draws from its own stream so G and D init independently of each other's size.
    dcgan_rng r = rng_make(seed, RNG_STREAM_INIT + 16 * (uint64_t)!net->is_generator);
    for (int i = 0; i < net->nlayers; i++) {
        const layer *l = &net->layers[i];
        for (int k = 0; k < l->type->ntensors; k++)
            init_tensor(&net->tensors[l->first_tensor + k], l->type->tensors[k].init, net->init_std, params, stats, &r);
    }
    const dcgan_backend *be = net->be;
    be->upload(be, net->params, params, net->nparams * sizeof(float));
    be->upload(be, net->stats, stats, net->nstats * sizeof(float));
    be->zero(be, net->num_batches_tracked, (size_t)net->nbn * sizeof(int64_t));
    free(params);
    free(stats);
    return 0;
}

const named_tensor *dcgan_net_find(const dcgan_net *net, const char *name) {
    for (int i = 0; i < net->ntensors; i++)
        if (!strcmp(net->tensors[i].name, name)) return &net->tensors[i];
    return NULL;
}

static size_t act_numel(const dcgan_net *net, int a) {
    return (size_t)net->acts[a].c * net->acts[a].h * net->acts[a].w;
}
size_t dcgan_net_in_numel(const dcgan_net *net) { return act_numel(net, 0); }
size_t dcgan_net_out_numel(const dcgan_net *net) { return act_numel(net, net->output); }
