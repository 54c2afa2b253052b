// Inception-v3 features on a backend: the rows of models/inception.c for one input, run forward only
// by the executor (activations sharing memory by liveness, each batchnorm with its ReLU in eval
// mode over its convolution's output), the weights loaded once and kept across inputs.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/error.h"
#include "dcgan/eval.h"
#include "dcgan/io.h"
#include "dcgan/model.h"
#include "dcgan/net_exec.h"

struct inception {
    const dcgan_backend *be;
    int batch;
    dcgan_net net;              // the rows for the planned input; the weights (any input's)
    net_exec x;                 // planned for `planned` (x.net NULL: nothing planned yet)
    inception_input planned;
    void *images;               // [batch, c, h, w] backend memory: the network's input
};

static size_t image_bytes(const inception *n) {
    return (size_t)n->batch * n->planned.c * n->planned.h * n->planned.w * sizeof(float);
}

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

// Loads every trained tensor and statistic (the counters are not in the file and eval mode does not
// read them), checking names and shapes.
static int load_weights(inception *n, const char *path, char *err, size_t errlen) {
    if (access(path, F_OK))
        return path_error(err, errlen, path, "no Inception weights file there: FID needs " WEIGHTS_HINT
                          " (--inception FILE or $DCGAN_INCEPTION to give another place)");
    st_file f;
    if (st_read(path, &f, err, errlen)) return -1;
    const dcgan_backend *be = n->be;
    int rc = 0;
    for (int i = 0; i < n->net.ntensors && !rc; i++) {
        const named_tensor *t = &n->net.tensors[i];
        if (t->role == TENSOR_COUNT) continue;
        const st_tensor *s = st_find(&f, t->name);
        if (!s)
            rc = path_error(err, errlen, path, "no tensor '%s': not the FID Inception weights (" WEIGHTS_HINT ")",
                            t->name);
        else if (s->dtype != ST_F32 || s->nbytes != named_tensor_bytes(t))
            rc = path_error(err, errlen, path, "tensor '%s' has %zu bytes of %s, the network needs %zu float32",
                            t->name, s->nbytes, st_dtype_name(s->dtype), t->numel);
        else be->upload(be, net_tensor_data(&n->net, t), s->data, s->nbytes);
    }
    st_free(&f);
    return rc;
}

static void release_plan(inception *n) {
    net_exec_free(&n->x);
    if (n->images) n->be->release(n->be, n->images);
    n->images = NULL;
    memset(&n->planned, 0, sizeof n->planned);
}

static int same_input(const inception_input *a, const inception_input *b) {
    return a->c == b->c && a->h == b->h && a->w == b->w && a->scale == b->scale && a->shift == b->shift &&
           a->quantize == b->quantize;
}

// The rows for images `in` over the same weights, planned forward only (fp32 NCHW, activations
// sharing memory by liveness), and the input's buffer.
static int plan(inception *n, const inception_input *in, char *err, size_t errlen) {
    const dcgan_backend *be = n->be;
    release_plan(n);
    dcgan_net rows;
    if (inception_net_describe(&rows, in)) {
        dcgan_net_free(&rows);
        return set_error(err, errlen, "out of memory describing the Inception network");
    }
    net_take_memory(&rows, &n->net);   // the rows' tensors do not depend on the input
    dcgan_net_free(&n->net);
    n->net = rows;
    const act_format f32 = {DTYPE_F32, LAYOUT_NCHW};
    n->planned = *in;
    if (net_exec_init_forward(&n->x, &n->net, n->batch, &f32, BN_RUNNING, NULL, err, errlen)) {
        release_plan(n);
        return -1;
    }
    if (!(n->images = be->alloc(be, image_bytes(n)))) {
        release_plan(n);
        return set_error(err, errlen, "out of %s memory for a batch of %d images", be->name, n->batch);
    }
    return 0;
}

int inception_open(inception **out, const char *weights, const dcgan_backend *be, int batch, char *err, size_t errlen) {
    *out = NULL;
    if (batch < 1) return set_error(err, errlen, "Inception batch size must be at least 1");
    inception *n = calloc(1, sizeof *n);
    if (!n) return set_error(err, errlen, "out of memory");
    n->be = be;
    n->batch = batch;
    const inception_input any = {.c = 3, .h = INCEPTION_SIZE, .w = INCEPTION_SIZE, .scale = 1.0f};
    const act_format f32 = {DTYPE_F32, LAYOUT_NCHW};
    int rc = inception_net_describe(&n->net, &any) ? set_error(err, errlen, "out of memory") : 0;
    if (!rc) rc = net_exec_check(&n->net, be, &f32, err, errlen);
    if (!rc && dcgan_net_alloc(&n->net, be))
        rc = set_error(err, errlen, "out of %s memory for Inception's %.1f M parameters", be->name,
                       n->net.nparams / 1e6);
    if (!rc) rc = load_weights(n, weights, err, errlen);
    if (rc) {
        inception_close(n);
        return -1;
    }
    *out = n;
    return 0;
}

void inception_close(inception *n) {
    if (!n) return;
    release_plan(n);
    dcgan_net_free(&n->net);
    free(n);
}

int inception_batch(const inception *n) { return n->batch; }
int inception_default_batch(const dcgan_backend *be) { return be->host_memory ? 10 : 50; }
const dcgan_backend *inception_backend(const inception *n) { return n->be; }

int inception_run(inception *n, float *features, long count, const inception_input *in, inception_source src,
                  void *ctx, char *err, size_t errlen) {
    if (in->c != 1 && in->c != 3) return set_error(err, errlen, "Inception features need 1 or 3 channels, not %d", in->c);
    if (in->h < 1 || in->w < 1) return set_error(err, errlen, "Inception features of %d x %d images", in->h, in->w);
    if (!same_input(&n->planned, in) && plan(n, in, err, errlen)) return -1;
    const dcgan_backend *be = n->be;
    for (long first = 0; first < count; first += n->batch) {
        const int m = (int)(count - first < n->batch ? count - first : n->batch);
        if (m < n->batch) be->zero(be, n->images, image_bytes(n));
        if (src(ctx, n->images, first, m, err, errlen)) return -1;
        const void *out = net_forward(&n->x, n->images, BN_RUNNING);
        be->download(be, features + (size_t)first * INCEPTION_FEATURES, out,
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
