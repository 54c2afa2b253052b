// The CPU backend: host memory and the reference ops of src/cpu/.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/backend.h"
#include "dcgan/data.h"
#include "dcgan/rng.h"

static void *cpu_alloc(size_t bytes) { return calloc(1, bytes ? bytes : 1); }
static void cpu_release(void *p) { free(p); }
static void cpu_copy(void *dst, const void *src, size_t bytes) { if (bytes) memmove(dst, src, bytes); }
static void cpu_zero(void *p, size_t bytes) { memset(p, 0, bytes); }
static void cpu_sync(void) {}

// D's mean output probability, the D(x) / D(G(z)) of the progress line.
static double mean_sigmoid(const float *logits, int B) {
    double s = 0;
    for (int i = 0; i < B; i++) s += 1.0 / (1.0 + exp(-(double)logits[i]));
    return s / B;
}

static void cpu_loss_d(float *dlogits, float *stats, const float *logits, int B, gan_loss kind, int real) {
    stats[0] = (float)gan_loss_d(dlogits, logits, B, kind, real);
    stats[1] = (float)mean_sigmoid(logits, B);
}

static void cpu_loss_g(float *dlogits, float *stats, const float *logits, int B, gan_loss kind) {
    stats[0] = (float)gan_loss_g(dlogits, logits, B, kind);
    stats[1] = (float)mean_sigmoid(logits, B);
}

static void cpu_fill_normal(float *out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset,
                            float mean, float std) {
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = mean + std * philox_normal_at(seed, stream, offset + i);
}

static void cpu_gather_normalize(float *out, const uint8_t *pixels, const uint32_t *idx, int B, size_t per) {
    dcgan_dataset ds = {.c = 1, .h = 1, .w = (int)per, .pixels = (uint8_t *)pixels};
    dataset_batch(&ds, idx, B, out);
}

static void *cpu_host_alloc(size_t bytes) { return malloc(bytes ? bytes : 1); }
static void cpu_stage_upload(void *dst, const void *src, size_t bytes, int slot) { (void)slot; cpu_copy(dst, src, bytes); }
static void cpu_stage_noop(int slot) { (void)slot; }
static int cpu_mem_info(size_t *free_bytes, size_t *total_bytes) { *free_bytes = *total_bytes = 0; return -1; }
static void cpu_set_verbose(int on) { (void)on; }

static const dcgan_backend cpu_backend = {
    .name = "cpu",
    .alloc = cpu_alloc, .release = cpu_release,
    .upload = cpu_copy, .download = cpu_copy, .copy = cpu_copy, .zero = cpu_zero, .sync = cpu_sync,
    .conv2d_forward = conv2d_forward, .conv2d_backward_data = conv2d_backward_data,
    .conv2d_backward_filter = conv2d_backward_filter,
    .convt2d_forward = convt2d_forward, .convt2d_backward_data = convt2d_backward_data,
    .convt2d_backward_filter = convt2d_backward_filter,
    .conv_workspace_floats = conv_workspace_floats,
    .batchnorm_forward_train = batchnorm_forward_train, .batchnorm_forward_eval = batchnorm_forward_eval,
    .batchnorm_backward = batchnorm_backward,
    .relu_forward = relu_forward, .relu_backward = relu_backward,
    .leaky_relu_forward = leaky_relu_forward, .leaky_relu_backward = leaky_relu_backward,
    .tanh_forward = tanh_forward, .tanh_backward = tanh_backward,
    .loss_d = cpu_loss_d, .loss_g = cpu_loss_g,
    .adam_update = adam_update, .rmsprop_update = rmsprop_update, .clip_values = clip_values,
    .fill_normal = cpu_fill_normal,
    .gather_normalize = cpu_gather_normalize, .host_memory = 1,
    .host_alloc = cpu_host_alloc, .host_release = cpu_release,
    .stage_upload = cpu_stage_upload, .stage_release = cpu_stage_noop, .stage_host_wait = cpu_stage_noop,
    .mem_info = cpu_mem_info, .set_verbose = cpu_set_verbose,
    .concat_onehot = concat_onehot, .slice_channels = slice_channels,
};

const dcgan_backend *backend_cpu(void) { return &cpu_backend; }
