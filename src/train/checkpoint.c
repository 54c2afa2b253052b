// Saving and loading G and D in the PyTorch example's state_dict layout.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/error.h"
#include "dcgan/train.h"

int ckpt_net_tensors(const dcgan_net *net, const char *prefix, st_tensor *out, int max, void **host_copy) {
    // One host block: num_batches_tracked (int64, first for its alignment), params, stats.
    const dcgan_backend *be = net->be;
    size_t pbytes = net->nparams * sizeof(float), sbytes = net->nstats * sizeof(float);
    size_t cbytes = (size_t)net->nbn * sizeof(int64_t);
    uint8_t *host = malloc(pbytes + sbytes + cbytes + 1);
    if (!host || net->ntensors > max) { free(host); return -1; }
    be->download(be, host, net->num_batches_tracked, cbytes);
    be->download(be, host + cbytes, net->params, pbytes);
    be->download(be, host + cbytes + pbytes, net->stats, sbytes);
    const int64_t *counts = (const int64_t *)host;
    const float *params = (const float *)(host + cbytes), *stats = (const float *)(host + cbytes + pbytes);
    for (int i = 0; i < net->ntensors; i++) {
        const named_tensor *t = &net->tensors[i];
        st_tensor *s = &out[i];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s%s", prefix, t->name);
        s->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) s->shape[d] = t->shape[d];
        if (t->role == TENSOR_COUNT) {
            s->dtype = ST_I64;
            s->data = &counts[t->off];
            s->nbytes = sizeof(int64_t);
        } else {
            s->dtype = ST_F32;
            s->data = (t->role == TENSOR_STAT ? stats : params) + t->off;
            s->nbytes = t->numel * sizeof(float);
        }
    }
    *host_copy = host;
    return net->ntensors;
}

static int add_meta(st_meta *m, int n, const char *key, const char *fmt, long value) {
    snprintf(m[n].key, sizeof m[n].key, "%s", key);
    snprintf(m[n].value, sizeof m[n].value, fmt, value);
    return n + 1;
}

int ckpt_stage_net(const dcgan_net *net, const char *path, const st_meta *extra, int nextra,
                   char *err, size_t errlen) {
    st_tensor tensors[64];
    void *host = NULL;
    // Heap-allocated: the extra entries of a conditional net include one per class name.
    st_meta *meta = calloc((size_t)(16 + (nextra > 0 ? nextra : 0)), sizeof *meta);
    if (!meta || ckpt_net_tensors(net, "", tensors, 64, &host) < 0) {
        path_error(err, errlen, path, "out of memory while saving");
        free(meta);
        return -1;
    }
    int n = 0;
    snprintf(meta[n].key, sizeof meta[n].key, "format"); snprintf(meta[n].value, sizeof meta[n].value, "dcgan"); n++;
    snprintf(meta[n].key, sizeof meta[n].key, "net");
    snprintf(meta[n].value, sizeof meta[n].value, "%s", net->is_generator ? "G" : "D"); n++;
    n = add_meta(meta, n, "size", "%ld", net->cfg.size);
    n = add_meta(meta, n, "nc", "%ld", net->cfg.nc);
    n = add_meta(meta, n, "nz", "%ld", net->cfg.nz);
    n = add_meta(meta, n, "ngf", "%ld", net->cfg.ngf);
    n = add_meta(meta, n, "ndf", "%ld", net->cfg.ndf);
    if (net->cfg.nclasses > 0) {
        n = add_meta(meta, n, "conditional", "%ld", 1);
        n = add_meta(meta, n, "nclasses", "%ld", net->cfg.nclasses);
    }
    for (int i = 0; i < nextra; i++) meta[n++] = extra[i];
    int rc = st_stage(path, tensors, net->ntensors, meta, n, err, errlen);
    free(host);
    free(meta);
    return rc;
}

int ckpt_save_net(const dcgan_net *net, const char *path, const st_meta *extra, int nextra,
                  char *err, size_t errlen) {
    return ckpt_stage_net(net, path, extra, nextra, err, errlen) || st_commit(path, err, errlen) ? -1 : 0;
}

static int meta_int(const st_file *f, const char *key, int *out) {
    const char *v = st_meta_get(f, key);
    if (!v) return -1;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || end == v) return -1;
    *out = (int)x;
    return 0;
}

static const st_tensor *weight_of(const st_file *f, int index) {
    char name[64];
    snprintf(name, sizeof name, "main.%d.weight", index);
    return st_find(f, name);
}

// A state_dict without our metadata: G's main.1 is BatchNorm (1-D weight), D's main.1 is
// LeakyReLU (no tensors). Conv weights are the 4-D main.N.weight tensors in order.
static int infer_config(const st_file *f, dcgan_config *cfg, int *is_generator, char *err, size_t errlen) {
    const st_tensor *w0 = weight_of(f, 0);
    if (!w0 || w0->ndim != 4)
        return set_error(err, errlen, "not a DCGAN state_dict: no 4-D main.0.weight");
    const st_tensor *convs[16];
    int nconv = 0;
    for (int i = 0; i < 64 && nconv < 16; i++) {
        const st_tensor *w = weight_of(f, i);
        if (w && w->ndim == 4) convs[nconv++] = w;
    }
    int blocks = nconv - 1;
    *is_generator = weight_of(f, 1) != NULL;
    cfg->size = 4 << blocks;
    cfg->nclasses = 0;
    // The first layer's input channels: z (G) or the image (D), plus the classes of a conditional net.
    int in0 = (int)(*is_generator ? w0->shape[0] : w0->shape[1]);
    if (*is_generator) {
        cfg->nz = in0;
        cfg->ngf = (int)(w0->shape[1] >> (blocks - 1));
        cfg->nc = (int)convs[nconv - 1]->shape[1];
        cfg->ndf = 64;
    } else {
        cfg->nc = in0;
        cfg->ndf = (int)w0->shape[0];
        cfg->nz = 100;
        cfg->ngf = 64;
    }
    const char *cond = st_meta_get(f, "conditional");
    if (cond && !strcmp(cond, "1")) {
        int K = 0, base = 0;
        if (!meta_int(f, "nclasses", &K)) base = in0 - K;
        else if (!meta_int(f, *is_generator ? "nz" : "nc", &base)) K = in0 - base;
        else
            return set_error(err, errlen, "a conditional state_dict needs metadata nclasses (or %s)", *is_generator ? "nz" : "nc");
        if (K < 1 || base < 1)
            return set_error(err, errlen, "main.0.weight has %d input channels, too few for %d classes", in0, K);
        cfg->nclasses = K;
        if (*is_generator) cfg->nz = base;
        else cfg->nc = base;
    }
    return blocks >= 1 ? 0 : set_error(err, errlen, "not a DCGAN state_dict: %d conv layers", nconv);
}

int ckpt_read_config(const st_file *f, dcgan_config *cfg, int *is_generator, char *err, size_t errlen) {
    const char *net = st_meta_get(f, "net");
    if (!net) return infer_config(f, cfg, is_generator, err, errlen);
    if (strcmp(net, "G") && strcmp(net, "D"))
        return set_error(err, errlen, "metadata 'net' is '%s' (expected G or D)", net);
    *is_generator = !strcmp(net, "G");
    if (meta_int(f, "size", &cfg->size) || meta_int(f, "nc", &cfg->nc) || meta_int(f, "nz", &cfg->nz) ||
        meta_int(f, "ngf", &cfg->ngf) || meta_int(f, "ndf", &cfg->ndf))
        return set_error(err, errlen, "metadata lacks an integer size, nc, nz, ngf or ndf");
    cfg->nclasses = 0;
    if (st_meta_get(f, "nclasses") && meta_int(f, "nclasses", &cfg->nclasses))
        return set_error(err, errlen, "metadata 'nclasses' is not an integer");
    return dcgan_config_check(cfg, err, errlen);
}

char **ckpt_class_names(const st_file *f, int nclasses) {
    char **names = calloc((size_t)(nclasses > 0 ? nclasses : 1), sizeof *names);
    for (int k = 0; names && k < nclasses; k++) {
        char key[32], index[16];
        snprintf(key, sizeof key, CKPT_CLASS_NAME_KEY "%d", k);
        snprintf(index, sizeof index, "%d", k);
        const char *v = st_meta_get(f, key);
        if (!(names[k] = strdup(v ? v : index))) { ckpt_free_class_names(names, k); return NULL; }
    }
    return names;
}

void ckpt_free_class_names(char **names, int nclasses) {
    for (int k = 0; names && k < nclasses; k++) free(names[k]);
    free(names);
}

static void shape_str(char *buf, size_t n, const int64_t *shape, int ndim) {
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

int ckpt_load_tensors(dcgan_net *net, const st_file *f, const char *prefix, char *err, size_t errlen) {
    for (int i = 0; i < net->ntensors; i++) {
        const named_tensor *t = &net->tensors[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const st_tensor *s = st_find(f, name);
        if (!s) return set_error(err, errlen, "missing tensor '%s'", name);
        int same = s->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = s->shape[d] == t->shape[d];
        if (!same) {
            char got[96], want[96];
            shape_str(got, sizeof got, s->shape, s->ndim);
            shape_str(want, sizeof want, t->shape, t->ndim);
            set_error(err, errlen, "tensor '%s' has shape %s, the model needs %s", name, got, want);
            return -1;
        }
        st_dtype want_dtype = t->role == TENSOR_COUNT ? ST_I64 : ST_F32;
        if (s->dtype != want_dtype)
            return set_error(err, errlen, "tensor '%s' has dtype %s, expected %s", name, st_dtype_name(s->dtype),
                             st_dtype_name(want_dtype));
        const dcgan_backend *be = net->be;
        be->upload(be, net_tensor_data(net, t), s->data, named_tensor_bytes(t));
    }
    return 0;
}

int ckpt_load_net(dcgan_net *net, const char *path, int want_generator, const dcgan_backend *be,
                  char *err, size_t errlen) {
    st_file f;
    char why[400];
    if (st_read(path, &f, err, errlen)) return -1;
    dcgan_config cfg;
    int is_g = 0, rc = -1;
    if (ckpt_read_config(&f, &cfg, &is_g, why, sizeof why) || dcgan_config_check(&cfg, why, sizeof why)) {
        path_error(err, errlen, path, "%s", why);
    } else if (want_generator >= 0 && is_g != want_generator) {
        path_error(err, errlen, path, "this is a %s checkpoint, expected a %s",
                   is_g ? "generator (G)" : "discriminator (D)", want_generator ? "generator (G)" : "discriminator (D)");
    } else if (dcgan_net_build(net, &cfg, is_g, be)) {
        path_error(err, errlen, path, "out of memory building the model");
    } else if (ckpt_load_tensors(net, &f, "", why, sizeof why)) {
        path_error(err, errlen, path, "%s", why);
        dcgan_net_free(net);
    } else {
        rc = 0;
    }
    st_free(&f);
    return rc;
}
