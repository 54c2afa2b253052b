// Inception-v3 features on a backend: the graph of models/inception.c planned for one input shape
// and batch, its buffers reused once their last reader has run, every step an op of the backend
// table (resize, convolution, batchnorm with its ReLU in eval mode, pooling, the concatenations as
// strided copies).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/error.h"
#include "dcgan/eval.h"
#include "dcgan/io.h"
#include "dcgan/model.h"

#define BN_EPS_INCEPTION 1e-3f

struct inception {
    const dcgan_backend *be;
    int batch;
    float *params;              // backend memory [nparams]: every conv's weight and batchnorm
    inception_graph g;
    int c, h, w;                // the input shape the graph is planned for (0: none yet)
    void *buf[INCEPTION_MAX_BUFFERS];   // per buffer: its memory (shared by buffers not alive together)
    void *blocks[INCEPTION_MAX_BUFFERS];    // the allocations behind buf
    size_t block_bytes[INCEPTION_MAX_BUFFERS];
    int nblocks;
    conv_desc conv[INCEPTION_MAX_STEPS];
};

static tensor_desc shape(const inception *n, int b) { return tensor_f32(n->batch, n->g.c[b], n->g.h[b], n->g.w[b]); }
static size_t buffer_bytes(const inception *n, int b) { tensor_desc t = shape(n, b); return tensor_numel(&t) * sizeof(float); }

#define WEIGHTS_HINT "pytorch-fid's pt_inception-2015-12-05-6726825d.pth (https://github.com/mseitzer/" \
    "pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth) converted by " \
    "scripts/inception_weights.py"

const char *inception_default_weights(char *buf, size_t n) {
    const char *env = getenv("DCGAN_INCEPTION"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (env && *env) snprintf(buf, n, "%s", env);
    else if (xdg && *xdg) snprintf(buf, n, "%s/dcgan/" INCEPTION_WEIGHTS_FILE, xdg);
    else snprintf(buf, n, "%s/.cache/dcgan/" INCEPTION_WEIGHTS_FILE, home && *home ? home : ".");
    return buf;
}

// Loads every conv's weight and batchnorm into n->params, checking names and shapes.
static int load_weights(inception *n, const char *path, char *err, size_t errlen) {
    if (access(path, F_OK))
        return path_error(err, errlen, path, "no Inception weights file there: FID needs " WEIGHTS_HINT
                          " (--inception FILE or $DCGAN_INCEPTION to give another place)");
    st_file f;
    if (st_read(path, &f, err, errlen)) return -1;
    const dcgan_backend *be = n->be;
    int rc = 0;
    for (int i = 0; i < n->g.nsteps && !rc; i++) {
        const inception_step *s = &n->g.steps[i];
        if (s->kind != INC_CONV) continue;
        const int ic = n->g.c[s->in];
        const char *part[5] = {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"};
        size_t off = s->param_off;
        for (int k = 0; k < 5 && !rc; k++) {
            char name[96];
            snprintf(name, sizeof name, "%s.%s", s->name, part[k]);
            const st_tensor *t = st_find(&f, name);
            const size_t want = k ? (size_t)s->oc : (size_t)s->oc * ic * s->kh * s->kw;
            if (!t)
                rc = path_error(err, errlen, path, "no tensor '%s': not the FID Inception weights (" WEIGHTS_HINT ")",
                                name);
            else if (t->dtype != ST_F32 || t->nbytes != want * sizeof(float))
                rc = path_error(err, errlen, path, "tensor '%s' has %zu bytes of %s, the network needs %zu float32",
                                name, t->nbytes, st_dtype_name(t->dtype), want);
            else be->upload(be, n->params + off, t->data, t->nbytes);
            off += want;
        }
    }
    st_free(&f);
    return rc;
}

static void release_buffers(inception *n) {
    for (int i = 0; i < n->nblocks; i++) n->be->release(n->be, n->blocks[i]);
    n->nblocks = 0;
    memset(n->buf, 0, sizeof n->buf);
    n->c = n->h = n->w = 0;
}

// Buffers by liveness: a buffer gets memory at its first write, from an allocation no longer in
// use when one is large enough, and gives it back after its last read.
static int plan(inception *n, int c, int h, int w, char *err, size_t errlen) {
    const dcgan_backend *be = n->be;
    release_buffers(n);
    inception_graph_build(&n->g, c, h, w);
    int last_use[INCEPTION_MAX_BUFFERS], owner[INCEPTION_MAX_BUFFERS];
    for (int b = 0; b < n->g.nbuffers; b++) last_use[b] = -1;
    for (int i = 0; i < n->g.nsteps; i++) last_use[n->g.steps[i].in] = i;
    last_use[n->g.output] = n->g.nsteps;
    int in_use[INCEPTION_MAX_BUFFERS] = {0};
    for (int i = 0; i < n->g.nsteps; i++) {
        const inception_step *s = &n->g.steps[i];
        if (!n->buf[s->out]) {
            const size_t need = buffer_bytes(n, s->out);
            int pick = -1;
            for (int k = 0; k < n->nblocks; k++)
                if (!in_use[k] && n->block_bytes[k] >= need && (pick < 0 || n->block_bytes[k] < n->block_bytes[pick])) pick = k;
            if (pick < 0) {
                if (!(n->blocks[n->nblocks] = be->alloc(be, need))) {
                    release_buffers(n);
                    return set_error(err, errlen, "out of %s memory for Inception's activations at batch %d", be->name,
                                     n->batch);
                }
                n->block_bytes[n->nblocks] = need;
                pick = n->nblocks++;
            }
            in_use[pick] = 1;
            owner[s->out] = pick;
            n->buf[s->out] = n->blocks[pick];
        }
        if (s->kind == INC_CONV) {
            n->conv[i] = conv_desc_rect(CONV_2D, shape(n, s->in), s->oc, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw);
            n->conv[i].forward_only = 1;   // features only: no backward algorithms to choose
            if (be->conv_plan(be, &n->conv[i], err, errlen)) { release_buffers(n); return -1; }
        }
        // The input's memory is free after its last read (the images' buffer is the caller's copy).
        if (s->in != n->g.input && last_use[s->in] == i) in_use[owner[s->in]] = 0;
    }
    if (!(n->buf[n->g.input] = be->alloc(be, buffer_bytes(n, n->g.input)))) {
        release_buffers(n);
        return set_error(err, errlen, "out of %s memory for a batch of %d images", be->name, n->batch);
    }
    n->blocks[n->nblocks++] = n->buf[n->g.input];
    n->c = c;
    n->h = h;
    n->w = w;
    return 0;
}

int inception_open(inception **out, const char *weights, const dcgan_backend *be, int batch, char *err, size_t errlen) {
    *out = NULL;
    if (batch < 1) return set_error(err, errlen, "Inception batch size must be at least 1");
    inception *n = calloc(1, sizeof *n);
    if (!n) return set_error(err, errlen, "out of memory");
    n->be = be;
    n->batch = batch;
    inception_graph_build(&n->g, 3, INCEPTION_SIZE, INCEPTION_SIZE);   // the weights do not depend on the input
    const tensor_desc f32 = tensor_f32(1, 1, 1, 1);
    const dcgan_op ops[] = {OP_CONV, OP_BATCHNORM, OP_POOL, OP_RESIZE};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (backend_check(be, ops[i], &f32, err, errlen)) { free(n); return -1; }
    const size_t nparams = n->g.nparams;
    if (!(n->params = be->alloc(be, nparams * sizeof(float)))) {
        free(n);
        return set_error(err, errlen, "out of %s memory for Inception's %.1f M parameters", be->name, nparams / 1e6);
    }
    if (load_weights(n, weights, err, errlen)) {
        inception_close(n);
        return -1;
    }
    *out = n;
    return 0;
}

void inception_close(inception *n) {
    if (!n) return;
    release_buffers(n);
    if (n->params) n->be->release(n->be, n->params);
    free(n);
}

// One batch: buffer 0 holds the images.
static void run(inception *n, const inception_input *in) {
    const dcgan_backend *be = n->be;
    for (int i = 0; i < n->g.nsteps; i++) {
        const inception_step *s = &n->g.steps[i];
        void *x = n->buf[s->in], *y = n->buf[s->out];
        switch (s->kind) {
        case INC_RESIZE: {
            resize_desc d = {.in = shape(n, s->in), .out = shape(n, s->out), .scale = in->scale, .shift = in->shift,
                             .quantize = in->quantize};
            be->resize_bilinear(be, y, x, &d);
            break;
        }
        case INC_CONV: {
            const float *w = n->params + s->param_off;
            const size_t nw = (size_t)s->oc * n->g.c[s->in] * s->kh * s->kw;
            const float *gamma = w + nw, *beta = gamma + s->oc, *running = beta + s->oc;   // running: mean, var
            bn_desc bn = {.x = shape(n, s->out), .momentum = 0.1f, .eps = BN_EPS_INCEPTION, .act_slope = 0.0f};
            be->conv_forward(be, y, x, w, &n->conv[i]);
            be->batchnorm_forward_eval(be, y, y, gamma, beta, running, &bn);   // in place, with the ReLU
            break;
        }
        case INC_POOL: {
            pool_desc d = {.kind = s->pool, .in = shape(n, s->in), .out = shape(n, s->out), .kh = s->k, .kw = s->k,
                           .sh = s->stride, .sw = s->stride, .ph = s->pad, .pw = s->pad, .count_pad = s->count_pad};
            be->pool_forward(be, y, x, &d);
            break;
        }
        case INC_COPY: {
            const size_t hw = (size_t)n->g.h[s->in] * n->g.w[s->in];
            be->copy_2d(be, (float *)y + (size_t)s->offset * hw, (size_t)n->g.c[s->out] * hw * sizeof(float), x,
                        (size_t)n->g.c[s->in] * hw * sizeof(float), (size_t)n->g.c[s->in] * hw * sizeof(float),
                        (size_t)n->batch);
            break;
        }
        }
    }
}

int inception_batch(const inception *n) { return n->batch; }
int inception_default_batch(const dcgan_backend *be) { return be->host_memory ? 10 : 50; }
const dcgan_backend *inception_backend(const inception *n) { return n->be; }

int inception_run(inception *n, float *features, long count, const inception_input *in, inception_source src,
                  void *ctx, char *err, size_t errlen) {
    if (in->c != 1 && in->c != 3) return set_error(err, errlen, "Inception features need 1 or 3 channels, not %d", in->c);
    if (in->h < 1 || in->w < 1) return set_error(err, errlen, "Inception features of %d x %d images", in->h, in->w);
    if ((n->c != in->c || n->h != in->h || n->w != in->w) && plan(n, in->c, in->h, in->w, err, errlen)) return -1;
    const dcgan_backend *be = n->be;
    for (long first = 0; first < count; first += n->batch) {
        const int m = (int)(count - first < n->batch ? count - first : n->batch);
        if (m < n->batch) be->zero(be, n->buf[n->g.input], buffer_bytes(n, n->g.input));
        if (src(ctx, n->buf[n->g.input], first, m, err, errlen)) return -1;
        run(n, in);
        be->download(be, features + (size_t)first * INCEPTION_FEATURES, n->buf[n->g.output],
                     (size_t)m * INCEPTION_FEATURES * sizeof(float));
    }
    return 0;
}

typedef struct {
    const dcgan_backend *be;
    const float *images;
    size_t per;                 // floats per image
} host_images;

static int upload_images(void *ctx, void *dst, long first, int n, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    const host_images *h = ctx;
    h->be->upload(h->be, dst, h->images + (size_t)first * h->per, (size_t)n * h->per * sizeof(float));
    return 0;
}

int inception_features(inception *n, float *features, const float *images, long count, const inception_input *in,
                       char *err, size_t errlen) {
    host_images h = {.be = n->be, .images = images, .per = (size_t)in->c * in->h * in->w};
    return inception_run(n, features, count, in, upload_images, &h, err, errlen);
}
