// What callers ask conv_plan for: Inception's convolutions (FID features) are planned forward
// only, so a backend need not choose backward algorithms for them (on CUDA: ~190 timed cuDNN
// searches fewer), and forward is all they run; a DCGAN's layers are planned for all three
// directions. Checked through the default CPU backend with its conv rows wrapped to record the
// descriptors. The CUDA side (one search per forward-only plan) is test_gpu_conv_plan.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/backend.h"
#include "dcgan/eval.h"
#include "dcgan/model.h"
#include "dcgan/net_exec.h"
#include "inception_random.h"
#include "test_util.h"

static const dcgan_backend *inner;
static dcgan_backend rec;
static int plans, plans_forward_only, forwards, forwards_forward_only, backwards;

static int rec_conv_plan(const dcgan_backend *be, const conv_desc *d, char *err, size_t errlen) {
    (void)be;
    plans++;
    plans_forward_only += d->forward_only == 1;
    return inner->conv_plan(inner, d, err, errlen);
}
static void rec_conv_forward(const dcgan_backend *be, void *out, const void *in, const float *w, const conv_desc *d) {
    (void)be;
    forwards++;
    forwards_forward_only += d->forward_only == 1;
    inner->conv_forward(inner, out, in, w, d);
}
static void rec_conv_backward_data(const dcgan_backend *be, void *din, const void *dout, const float *w,
                                   const conv_desc *d) {
    (void)be;
    backwards++;
    inner->conv_backward_data(inner, din, dout, w, d);
}
static void rec_conv_backward_filter(const dcgan_backend *be, float *dw, const void *dout, const void *in,
                                     const conv_desc *d) {
    (void)be;
    backwards++;
    inner->conv_backward_filter(inner, dw, dout, in, d);
}

static void reset_counts(void) { plans = plans_forward_only = forwards = forwards_forward_only = backwards = 0; }

// Features of one 3 x 16 x 16 image: every convolution planned and run forward only.
static void inception_requests(void) {
    char err[512], weights[600];
    const char *dir = make_temp_dir("conv_plan");
    snprintf(weights, sizeof weights, "%s/inception-formula.safetensors", dir);
    if (inception_random_write(weights, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return; }
    inception *net = NULL;
    reset_counts();
    if (inception_open(&net, weights, &rec, 1, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
    } else {
        float image[3 * 16 * 16], *features = malloc(INCEPTION_FEATURES * sizeof(float));
        fill_random(image, sizeof image / sizeof *image, 5, 1.0f);
        const inception_input in = {.c = 3, .h = 16, .w = 16, .scale = 1.0f};
        CHECK(features && inception_features(net, features, image, 1, &in, err, sizeof err) == 0);
        printf("inception: %d conv plans (%d forward only), %d forwards (%d forward only), %d backwards\n", plans,
               plans_forward_only, forwards, forwards_forward_only, backwards);
        CHECK(plans == 94 && plans_forward_only == plans);   // pytorch-fid's network has 94 convolutions
        CHECK(forwards == plans && forwards_forward_only == forwards && backwards == 0);
        free(features);
        inception_close(net);
    }
    remove_temp_dir(dir);
}

// A training net (G and D at 32 px, batch 4) plans every convolution for all three directions.
static void dcgan_requests(int is_generator) {
    char err[512];
    dcgan_config cfg = {.size = 32, .nc = 3, .nz = 8, .ngf = 4, .ndf = 4};
    dcgan_net net;
    net_exec x;
    reset_counts();
    CHECK(dcgan_net_build(&net, &cfg, is_generator, &rec) == 0);
    if (net_exec_init(&x, &net, 4, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
    } else {
        printf("%s: %d conv plans (%d forward only)\n", is_generator ? "G" : "D", plans, plans_forward_only);
        CHECK(plans > 0 && plans_forward_only == 0);
        net_exec_free(&x);
    }
    dcgan_net_free(&net);
}

int main(void) {
    inner = backend_cpu_default();
    rec = *inner;   // the same context: only the conv rows are wrapped
    rec.conv_plan = rec_conv_plan;
    rec.conv_forward = rec_conv_forward;
    rec.conv_backward_data = rec_conv_backward_data;
    rec.conv_backward_filter = rec_conv_backward_filter;
    test_print_backend(inner);
    inception_requests();
    dcgan_requests(1);
    dcgan_requests(0);
    return test_summary("test_conv_plan");
}
