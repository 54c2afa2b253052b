// The layer table and its executor:
//   - a forward-only executor (activations sharing memory by liveness, batchnorm over a dead input)
//     gives G's and D's outputs bit for bit as a training executor does, in less memory, on cpu-ref
//     and the default CPU backend, plain and conditional, with running and with batch statistics;
//   - a kind written here, outside src/ (an identity), is one struct plus its row: a net with it
//     trains (outputs, input gradient, parameter gradients) bit for bit as the net without it;
//   - a kind that declares computes_weights gets convolutions whose backend keeps no weight copy
//     across calls: on oneDNN, weights rewritten by the layer itself are read afresh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/net_exec.h"
#include "test_util.h"

enum { B = 5 };

static void *upload_random(const dcgan_backend *be, size_t n, unsigned seed) {
    float *host = malloc(n * sizeof(float));
    void *dev = be->alloc(be, n * sizeof(float));
    fill_random(host, n, seed, 1.0f);
    be->upload(be, dev, host, n * sizeof(float));
    free(host);
    return dev;
}

static float *download(const dcgan_backend *be, const void *src, size_t n) {
    float *host = malloc(n * sizeof(float));
    be->download(be, host, src, n * sizeof(float));
    return host;
}

static void forward_only_matches(const dcgan_backend *be, const dcgan_config *cfg, int is_g, bn_mode bn) {
    dcgan_net net;
    net_exec train, eval;
    char err[512];
    size_t need_train = 0, need_eval = 0;
    CHECK(dcgan_net_build(&net, cfg, is_g, be) == 0 && dcgan_net_init(&net, 7) == 0);
    const size_t nin = B * dcgan_net_in_numel(&net), nout = B * dcgan_net_out_numel(&net);
    void *in = upload_random(be, nin, 3);
    int32_t classes[B];
    for (int i = 0; i < B; i++) classes[i] = cfg->nclasses ? i % cfg->nclasses : 0;
    CHECK(net_exec_init(&train, &net, B, NULL, &need_train, err, sizeof err) == 0);
    CHECK(net_exec_init_forward(&eval, &net, B, NULL, bn, &need_eval, err, sizeof err) == 0);
    net_set_classes(&train, classes);
    net_set_classes(&eval, classes);
    float *a = download(be, net_forward(&train, in, bn), nout), *b = download(be, net_forward(&eval, in, bn), nout);
    const int same = !memcmp(a, b, nout * sizeof(float));
    printf("%-8s %s %3d px%s, %s statistics: forward only %s, %.2f MiB against %.2f MiB\n", be->name, is_g ? "G" : "D",
           cfg->size, cfg->nclasses ? " conditional" : "", bn == BN_RUNNING ? "running" : "batch",
           same ? "bit-identical" : "DIFFERENT", need_eval / 1048576.0, need_train / 1048576.0);
    CHECK(same && need_eval < need_train);
    free(a);
    free(b);
    be->release(be, in);
    net_exec_free(&train);
    net_exec_free(&eval);
    dcgan_net_free(&net);
}

// --- a kind written outside src/: the identity, on the backend's copy row --------------------------

static void identity_forward(const layer_ctx *c, void *out, const void *in, const layer_pass *p) {
    (void)p;
    c->be->copy(c->be, out, in, c->be->tensor_bytes(c->be, &c->in));
}
static void identity_backward(const layer_ctx *c, void *din, const void *dout, const void *in, const void *out,
                              const layer_pass *p) {
    (void)in;
    (void)out;
    (void)p;
    if (din) c->be->copy(c->be, din, dout, c->be->tensor_bytes(c->be, &c->in));
}
static const layer_type layer_identity = {.name = "identity", .format = LAYER_FMT_SAME, .shape = layer_same_shape,
                                          .forward = identity_forward, .backward = identity_backward};

// A small D on 3 x 16 x 16 images; with_identity puts the identity between a convolution and its batchnorm.
static void describe_d(dcgan_net *net, int with_identity) {
    const layer_params bn = {.eps = 1e-5f, .momentum = 0.1f}, leaky = {.act = ACT_LEAKY_RELU, .slope = 0.2f};
    const layer_params down = {.kh = 4, .kw = 4, .sh = 2, .sw = 2, .ph = 1, .pw = 1};
    layer_params c1 = down, c2 = down, logit = {.oc = 1, .kh = 4, .kw = 4, .sh = 1, .sw = 1};
    c1.oc = 8;
    c2.oc = 16;
    net_begin(net, 3, 16, 16);
    int x = net_add(net, &layer_conv, "main.0", 0, NET_NEW, c1);
    x = net_add(net, &layer_activation, "main.1", x, NET_NEW, leaky);
    x = net_add(net, &layer_conv, "main.2", x, NET_NEW, c2);
    if (with_identity) x = net_add(net, &layer_identity, "extra", x, NET_NEW, (layer_params){0});
    x = net_add(net, &layer_batchnorm, "main.3", x, NET_NEW, bn);
    x = net_add(net, &layer_activation, "main.4", x, NET_NEW, leaky);
    net_add(net, &layer_conv, "main.5", x, NET_NEW, logit);
}

// Output, input gradient and parameter gradients of one training step of a described D.
static void train_step(const dcgan_backend *be, int with_identity, float **out, float **din, float **grads,
                       size_t *nparams) {
    dcgan_net net;
    net_exec x;
    char err[512];
    describe_d(&net, with_identity);
    CHECK(!net.failed && dcgan_net_alloc(&net, be) == 0 && dcgan_net_init(&net, 5) == 0);
    CHECK(net_exec_init(&x, &net, B, NULL, NULL, err, sizeof err) == 0);
    const size_t nin = B * dcgan_net_in_numel(&net);
    void *in = upload_random(be, nin, 11), *dout = upload_random(be, B, 12), *dx = be->alloc(be, nin * sizeof(float));
    be->zero(be, net.grads, net.nparams * sizeof(float));
    *out = download(be, net_forward(&x, in, BN_TRAIN), B);
    net_backward(&x, dout, dx, 1);
    *din = download(be, dx, nin);
    *grads = download(be, net.grads, net.nparams);
    *nparams = net.nparams;
    void *bufs[] = {in, dout, dx};
    for (int i = 0; i < 3; i++) be->release(be, bufs[i]);
    net_exec_free(&x);
    dcgan_net_free(&net);
}

static void new_kind(const dcgan_backend *be) {
    float *out[2], *din[2], *grads[2];
    size_t np[2];
    for (int k = 0; k < 2; k++) train_step(be, k, &out[k], &din[k], &grads[k], &np[k]);
    const int same = np[0] == np[1] && !memcmp(out[0], out[1], B * sizeof(float)) &&
                     !memcmp(din[0], din[1], B * 3 * 16 * 16 * sizeof(float)) &&
                     !memcmp(grads[0], grads[1], np[0] * sizeof(float));
    printf("%-8s a kind defined in the test (identity) in a D: logits, input and parameter gradients %s\n", be->name,
           same ? "bit-identical" : "DIFFERENT");
    CHECK(same);
    for (int k = 0; k < 2; k++) {
        free(out[k]);
        free(din[k]);
        free(grads[k]);
    }
}

// A convolution whose weights the layer rewrites in place between calls (weights_vary), on oneDNN:
// each call reads the weights as they are, as cpu-ref does.
static void computed_weights(void) {
    const char *notice = NULL;
    char err[512];
    const dcgan_backend *be = backend_select("onednn", &notice, err, sizeof err), *ref = backend_cpu();
    if (!be) {
        printf("computed weights: no oneDNN backend in this build (%s)\n", err);
        return;
    }
    conv_desc d = conv_desc_make(CONV_2D, tensor_f32(2, 16, 8, 8), 16, 3, 1, 1);
    d.weights_vary = 1;
    CHECK(be->conv_plan(be, &d, err, sizeof err) == 0 && ref->conv_plan(ref, &d, err, sizeof err) == 0);
    const size_t nw = 16 * 16 * 9, nx = tensor_numel(&d.in), ny = tensor_numel(&d.out);
    float *w = be->alloc(be, nw * sizeof(float)), *x = upload_random(be, nx, 21), *y = be->alloc(be, ny * sizeof(float));
    float *want = malloc(ny * sizeof(float));
    int ok = 1;
    for (unsigned round = 0; round < 3; round++) {
        fill_random(w, nw, 30 + round, 0.2f);   // written as the layer would: not through the table
        be->conv_forward(be, y, x, w, &d);
        ref->conv_forward(ref, want, x, w, &d);
        char label[64];
        snprintf(label, sizeof label, "onednn conv, weights rewritten (round %u)", round);
        ok = check_close(label, y, want, ny, 1e-5, 1e-4) && ok;
    }
    CHECK(ok);
    free(want);
    void *bufs[] = {w, x, y};
    for (int i = 0; i < 3; i++) be->release(be, bufs[i]);
}

int main(void) {
    const dcgan_backend *backends[] = {backend_cpu(), backend_cpu_default()};
    const int nb = backends[0] == backends[1] ? 1 : 2;
    for (int k = 0; k < nb; k++) {
        const dcgan_backend *be = backends[k];
        dcgan_config cfg = {.size = 32, .nc = 3, .nz = 16, .ngf = 16, .ndf = 16};
        for (int is_g = 1; is_g >= 0; is_g--) {
            forward_only_matches(be, &cfg, is_g, BN_RUNNING);
            forward_only_matches(be, &cfg, is_g, BN_BATCH);
        }
        cfg.size = 64;
        cfg.nclasses = 3;
        for (int is_g = 1; is_g >= 0; is_g--) forward_only_matches(be, &cfg, is_g, BN_RUNNING);
        new_kind(be);
    }
    computed_weights();
    return test_summary("test_layers");
}
