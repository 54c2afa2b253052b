// Kernel benchmark: our batchnorm (+ fused activation) forward / backward against cuDNN's batchnorm
// on every DCGAN batchnorm shape (32, 64, 128 px; ngf = ndf = 64) at batch 64, 128 and 256, plus
// the activations, the loss, the optimisers, the noise and the data gather; and Inception-v3's (FID)
// pools against cudnnPoolingForward, its bilinear resize to 299 x 299 and its concatenation copies,
// at batch 50 and 128. Times are medians of repeats measured with cudaEvents after a warm-up, each
// repeat after a write of twice the L2 cache (outside the timed region), so that a tensor of a few
// MB is read from memory, as in training, and not from the L2 the previous repeat left it in;
// bandwidth is the minimum traffic of the op over its time, against the device's peak (memory
// clock x bus width from the device attributes).
// Usage: bench_kernels [--op NAME] [repeats]   (NAME: batchnorm, activation, optim, loss, noise,
// data, pool, resize, copy; DCGAN_BENCH_QUICK=1: batch 64 only, Inception's at batch 50 only)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cuda_check.h"
#include "cuda_ops.h"
extern "C" {
#include "dcgan/model.h"
}

extern "C" const dcgan_backend *backend_cuda(int device, char *err, size_t errlen);

static int reps = 20;
static double peak_gbs;
static const dcgan_backend *be;
static void *l2_flush;          // twice the L2 cache, written before every timed repeat
static size_t l2_flush_bytes;

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// Median milliseconds of fn() over `reps` runs after 3 warm-up runs, each run from a flushed L2.
template <typename F> static float median_ms(F fn) {
    cudaStream_t s = ctx_of(be)->stream;
    cudaEvent_t a, b;
    CUDA_CHECK(cudaEventCreate(&a));
    CUDA_CHECK(cudaEventCreate(&b));
    for (int i = 0; i < 3; i++) fn();
    float *t = (float *)malloc(sizeof(float) * reps);
    for (int i = 0; i < reps; i++) {
        // Evicts the op's tensors from the L2; ordered before the start event, so not timed.
        CUDA_CHECK(cudaMemsetAsync(l2_flush, i & 0xff, l2_flush_bytes, s));
        CUDA_CHECK(cudaEventRecord(a, s));
        fn();
        CUDA_CHECK(cudaEventRecord(b, s));
        CUDA_CHECK(cudaEventSynchronize(b));
        CUDA_CHECK(cudaEventElapsedTime(&t[i], a, b));
    }
    qsort(t, reps, sizeof(float), cmp_float);
    float m = t[reps / 2];
    free(t);
    CUDA_CHECK(cudaEventDestroy(a));
    CUDA_CHECK(cudaEventDestroy(b));
    return m;
}

static double gbs(double bytes, float ms) { return bytes / (ms * 1e-3) / 1e9; }

static float *dalloc(size_t n, float value) {
    float *p;
    CUDA_CHECK(cudaMalloc(&p, n * sizeof(float)));
    float *h = (float *)malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) h[i] = value + 0.001f * (float)((i * 2654435761u) % 1000);
    CUDA_CHECK(cudaMemcpy(p, h, n * sizeof(float), cudaMemcpyHostToDevice));
    free(h);
    return p;
}

static void bench_bn(const char *tag, int B, int C, int HW, float slope) {
    size_t n = (size_t)B * C * HW;
    float *x = dalloc(n, -0.3f), *y = dalloc(n, 0), *dy = dalloc(n, -0.5f), *dx = dalloc(n, 0);
    float *gamma = dalloc(C, 1), *beta = dalloc(C, 0), *running = dalloc(2 * C, 1), *rm = running, *rv = running + C;
    float *mean = dalloc(C, 0), *inv = dalloc(C, 1), *dg = dalloc(C, 0), *db = dalloc(C, 0);
    float *mean2 = dalloc(C, 0), *inv2 = dalloc(C, 1);
    cudnnTensorDescriptor_t xd, bd;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&xd));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&bd));
    int h = 1;
    while (h * h < HW) h++;
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, B, C, h, HW / h));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, C, 1, 1));
    const float one = 1.0f, zero = 0.0f;
    bn_desc d = {.x = tensor_f32(B, C, HW, 1), .momentum = 0.1f, .eps = 1e-5f, .act_slope = slope, .group_n = B};
    float ours_f = median_ms([&] { cuda_batchnorm_forward_train(be, y, mean, inv, running, NULL, x, gamma, beta, &d); });
    float cudnn_f = median_ms([&] {
        CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(ctx_of(be)->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, xd, x, xd,
                                                           dx, bd, gamma, beta, 0.1, rm, rv, 1e-5, mean2, inv2));
    });
    float ours_b = median_ms([&] { cuda_batchnorm_backward(be, dx, dg, db, dy, y, x, mean, inv, gamma, &d); });
    float cudnn_b = median_ms([&] {
        CUDNN_CHECK(cudnnBatchNormalizationBackward(ctx_of(be)->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &one, xd, x,
                                                    xd, dy, xd, dx, bd, gamma, dg, db, 1e-5, mean2, inv2));
    });
    // Minimum traffic: forward reads x and writes y; backward reads x, dy (and y for the activation)
    // and writes dx. cuDNN's ops have no activation, so theirs is one tensor less in backward.
    double fb = 2.0 * n * 4, bb_ours = (slope != 1.0f ? 4.0 : 3.0) * n * 4, bb_cudnn = 3.0 * n * 4;
    printf("bn %-4s B%-3d C%-4d HW%-5d act %.1f | fwd ours %8.3f ms %7.1f GB/s (%4.1f%%)  cudnn %8.3f ms %7.1f GB/s"
           "  speed-up x%.2f | bwd ours %8.3f ms %7.1f GB/s (%4.1f%%)  cudnn %8.3f ms %7.1f GB/s  speed-up x%.2f\n",
           tag, B, C, HW, slope, ours_f, gbs(fb, ours_f), 100 * gbs(fb, ours_f) / peak_gbs, cudnn_f, gbs(fb, cudnn_f),
           cudnn_f / ours_f, ours_b, gbs(bb_ours, ours_b), 100 * gbs(bb_ours, ours_b) / peak_gbs, cudnn_b,
           gbs(bb_cudnn, cudnn_b), cudnn_b / ours_b);
    float *bufs[] = {x, y, dy, dx, gamma, beta, running, mean, inv, dg, db, mean2, inv2};
    for (int i = 0; i < 13; i++) CUDA_CHECK(cudaFree(bufs[i]));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(xd));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(bd));
}

static void bench_elementwise(size_t n) {
    float *a = dalloc(n, -0.5f), *b = dalloc(n, 0), *c = dalloc(n, 0.1f), *d = dalloc(n, 0);
    struct { const char *name; double tensors; float ms; } r[6];
    static const char *const names[3][2] = {{"relu fwd", "relu bwd"}, {"leaky relu fwd", "leaky relu bwd"},
                                            {"tanh fwd", "tanh bwd"}};
    for (int k = ACT_RELU; k <= ACT_TANH; k++) {
        act_desc ad = {.kind = (act_kind)k, .slope = 0.2f, .x = tensor_f32((int)n, 1, 1, 1)};
        r[2 * k] = {names[k][0], 2, median_ms([&] { cuda_activation_forward(be, b, a, &ad); })};
        r[2 * k + 1] = {names[k][1], 3, median_ms([&] { cuda_activation_backward(be, d, c, b, &ad); })};
    }
    for (int i = 0; i < 6; i++)
        printf("%-16s n %zu: %8.3f ms %7.1f GB/s (%4.1f%% of peak)\n", r[i].name, n, r[i].ms,
               gbs(r[i].tensors * n * 4, r[i].ms), 100 * gbs(r[i].tensors * n * 4, r[i].ms) / peak_gbs);
    CUDA_CHECK(cudaFree(a)); CUDA_CHECK(cudaFree(b)); CUDA_CHECK(cudaFree(c)); CUDA_CHECK(cudaFree(d));
}

static void bench_optim(size_t n) {
    float *p = dalloc(n, 0), *g = dalloc(n, 0.01f), *m = dalloc(n, 0), *v = dalloc(n, 0);
    int64_t *step;
    CUDA_CHECK(cudaMalloc(&step, sizeof *step));
    CUDA_CHECK(cudaMemset(step, 0, sizeof *step));
    optim_desc adam_d = optim_desc_make(OPT_ADAM, n, 2e-4f, 0.5f, 0.999f, 1e-8f);
    optim_desc rms_d = optim_desc_make(OPT_RMSPROP, n, 5e-5f, 0.0f, 0.99f, 1e-8f);
    float adam = median_ms([&] { cuda_optim_update(be, p, g, m, v, step, &adam_d); });
    float rms = median_ms([&] { cuda_optim_update(be, p, g, m, NULL, step, &rms_d); });
    float clip = median_ms([&] { cuda_optim_clip(be, p, n, 0.01f); });
    CUDA_CHECK(cudaFree(step));
    printf("adam     n %zu: %8.3f ms %7.1f GB/s (%4.1f%% of peak; reads p g m v, writes p m v)\n", n, adam,
           gbs(7.0 * n * 4, adam), 100 * gbs(7.0 * n * 4, adam) / peak_gbs);
    printf("rmsprop  n %zu: %8.3f ms %7.1f GB/s (%4.1f%% of peak)\n", n, rms, gbs(5.0 * n * 4, rms),
           100 * gbs(5.0 * n * 4, rms) / peak_gbs);
    printf("clip     n %zu: %8.3f ms %7.1f GB/s (%4.1f%% of peak)\n", n, clip, gbs(2.0 * n * 4, clip),
           100 * gbs(2.0 * n * 4, clip) / peak_gbs);
    CUDA_CHECK(cudaFree(p)); CUDA_CHECK(cudaFree(g)); CUDA_CHECK(cudaFree(m)); CUDA_CHECK(cudaFree(v));
}

static void bench_loss(int B) {
    float *l = dalloc(B, -0.2f), *dl = dalloc(B, 0), *st = dalloc(2, 0);
    loss_desc d = {.kind = LOSS_NONSAT, .role = ROLE_D_REAL, .B = B};
    float ms = median_ms([&] { cuda_loss(be, dl, st, l, &d); });
    printf("loss (nonsat, D real) B %d: %.4f ms (one launch: gradient, loss and D(x) reduced on the device)\n", B, ms);
    CUDA_CHECK(cudaFree(l)); CUDA_CHECK(cudaFree(dl)); CUDA_CHECK(cudaFree(st));
}

// The noise of a batch (B x nz normals) and the gather of a 64 px RGB batch from a resident set.
static void bench_noise_and_data(int B) {
    float *z = dalloc((size_t)B * 100, 0);
    uint64_t *counter;
    CUDA_CHECK(cudaMalloc(&counter, sizeof *counter));
    CUDA_CHECK(cudaMemset(counter, 0, sizeof *counter));
    noise_desc nd = {.n = (size_t)B * 100, .seed = 1, .stream = 0, .offset = 0, .mean = 0.0f, .std = 1.0f, .nclasses = 0};
    float noise = median_ms([&] { cuda_noise_normal(be, z, counter, &nd); });
    printf("noise    B %d x nz 100: %8.4f ms\n", B, noise);
    const int n = 4096;
    const size_t per = 3 * 64 * 64;
    uint8_t *pixels;
    uint32_t *order;
    int64_t *cursor;
    float *images = dalloc((size_t)B * per, 0);
    CUDA_CHECK(cudaMalloc(&pixels, (size_t)n * per));
    CUDA_CHECK(cudaMemset(pixels, 7, (size_t)n * per));
    CUDA_CHECK(cudaMalloc(&order, 2 * n * sizeof(uint32_t)));
    CUDA_CHECK(cudaMemset(order, 0, 2 * n * sizeof(uint32_t)));
    CUDA_CHECK(cudaMalloc(&cursor, sizeof *cursor));
    CUDA_CHECK(cudaMemset(cursor, 0, sizeof *cursor));
    data_desc dd = {.B = B, .n = n, .per = per, .batches_per_epoch = n / B, .slots = 2, .stride = B, .first = 0};
    float gather = median_ms([&] { cuda_data_gather(be, images, NULL, pixels, NULL, order, cursor, &dd); });
    double bytes = (double)B * per * 5;   // uint8 in, float out
    printf("gather   B %d x 3x64x64: %8.4f ms %7.1f GB/s (%4.1f%% of peak)\n", B, gather, gbs(bytes, gather),
           100 * gbs(bytes, gather) / peak_gbs);
    void *bufs[] = {z, counter, pixels, order, cursor, images};
    for (int i = 0; i < 6; i++) CUDA_CHECK(cudaFree(bufs[i]));
}

// --- Inception-v3 (FID): pools, resize, concatenation copies ---------------------------------------

// One pool of the graph: ours against cudnnPoolingForward in the same mode (max; average over the
// window's inside or over all of it). Minimum traffic: read the input once, write the output.
static void bench_pool(const pool_desc *d) {
    const size_t nin = tensor_numel(&d->in), nout = tensor_numel(&d->out);
    float *x = dalloc(nin, -0.25f), *y = dalloc(nout, 0), *y2 = dalloc(nout, 0);
    cudnnTensorDescriptor_t xd, yd;
    cudnnPoolingDescriptor_t pd;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&xd));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&yd));
    CUDNN_CHECK(cudnnCreatePoolingDescriptor(&pd));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->in.n, d->in.c, d->in.h, d->in.w));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->out.n, d->out.c, d->out.h, d->out.w));
    const cudnnPoolingMode_t mode = d->kind == POOL_MAX ? CUDNN_POOLING_MAX
                                    : d->count_pad      ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                        : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    CUDNN_CHECK(cudnnSetPooling2dDescriptor(pd, mode, CUDNN_NOT_PROPAGATE_NAN, d->kh, d->kw, d->ph, d->pw, d->sh, d->sw));
    int on = 0, oc = 0, oh = 0, ow = 0;
    CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(pd, xd, &on, &oc, &oh, &ow));
    if (on != d->out.n || oc != d->out.c || oh != d->out.h || ow != d->out.w) {
        fprintf(stderr, "bench_kernels: cuDNN's pool output %dx%dx%dx%d differs from ours %dx%dx%dx%d\n", on, oc, oh, ow,
                d->out.n, d->out.c, d->out.h, d->out.w);
        exit(1);
    }
    const float one = 1.0f, zero = 0.0f;
    float ours = median_ms([&] { cuda_pool_forward(be, y, x, d); });
    float cudnn = median_ms([&] { CUDNN_CHECK(cudnnPoolingForward(ctx_of(be)->cudnn, pd, &one, xd, x, &zero, yd, y2)); });
    const double bytes = (double)(nin + nout) * 4;
    char shape[96];
    snprintf(shape, sizeof shape, "%s%s %dx%d/%d p%d B%d %dx%dx%d->%dx%d", d->kind == POOL_MAX ? "max" : "avg",
             d->kind == POOL_AVG ? (d->count_pad ? "+pad" : "-pad") : "", d->kh, d->kw, d->sh, d->ph, d->in.n, d->in.c,
             d->in.h, d->in.w, d->out.h, d->out.w);
    printf("pool %-40s | ours %8.4f ms %7.1f GB/s (%4.1f%%)  cudnn %8.4f ms %7.1f GB/s  speed-up x%.2f\n", shape, ours,
           gbs(bytes, ours), 100 * gbs(bytes, ours) / peak_gbs, cudnn, gbs(bytes, cudnn), cudnn / ours);
    CUDNN_CHECK(cudnnDestroyPoolingDescriptor(pd));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(xd));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(yd));
    CUDA_CHECK(cudaFree(x)); CUDA_CHECK(cudaFree(y)); CUDA_CHECK(cudaFree(y2));
}

// Every distinct pool of the Inception graph at batch B.
static void bench_pools(int B) {
    static inception_graph g;
    inception_graph_build(&g, 3, INCEPTION_SIZE, INCEPTION_SIZE);
    for (int i = 0; i < g.nsteps; i++) {
        const inception_step *s = &g.steps[i];
        if (s->kind != INC_POOL) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) {
            const inception_step *u = &g.steps[j];
            seen = u->kind == INC_POOL && u->pool == s->pool && u->k == s->k && u->stride == s->stride &&
                   u->pad == s->pad && u->count_pad == s->count_pad && g.c[u->in] == g.c[s->in] &&
                   g.h[u->in] == g.h[s->in] && g.w[u->in] == g.w[s->in];
        }
        if (seen) continue;
        pool_desc d = pool_desc_make(s->pool, tensor_f32(B, g.c[s->in], g.h[s->in], g.w[s->in]), s->k, s->stride, s->pad,
                                     s->count_pad);
        bench_pool(&d);
    }
}

// The resize of B images c x h x w to 3 x 299 x 299 (scale 2, shift -1; quantize: read as PNG pixels).
// Minimum traffic: read the input once, write the output.
static void bench_resize(int B, int c, int h, int w, int quantize) {
    resize_desc d = {.in = tensor_f32(B, c, h, w), .out = tensor_f32(B, 3, INCEPTION_SIZE, INCEPTION_SIZE), .scale = 2.0f,
                     .shift = -1.0f, .quantize = quantize};
    const size_t nin = tensor_numel(&d.in), nout = tensor_numel(&d.out);
    float *x = dalloc(nin, -0.5f), *y = dalloc(nout, 0);
    float ms = median_ms([&] { cuda_resize_bilinear(be, y, x, &d); });
    const double bytes = (double)(nin + nout) * 4;
    printf("resize B%-3d %dx%dx%d->3x%dx%d%s: %8.4f ms %7.1f GB/s (%4.1f%% of peak)\n", B, c, h, w, INCEPTION_SIZE,
           INCEPTION_SIZE, quantize ? " png" : "    ", ms, gbs(bytes, ms), 100 * gbs(bytes, ms) / peak_gbs);
    CUDA_CHECK(cudaFree(x)); CUDA_CHECK(cudaFree(y));
}

// All the concatenation copies of one Inception batch (each branch into its place in the block's
// output), one after another as the network runs them: bytes read + written over the time.
static void bench_copies(int B) {
    static inception_graph g;
    inception_graph_build(&g, 3, INCEPTION_SIZE, INCEPTION_SIZE);
    size_t most = 0;
    double bytes = 0;
    int n = 0;
    for (int i = 0; i < g.nsteps; i++) {
        const inception_step *s = &g.steps[i];
        if (s->kind != INC_COPY) continue;
        const size_t per = (size_t)g.c[s->out] * g.h[s->out] * g.w[s->out];
        if (per > most) most = per;
        bytes += 2.0 * B * g.c[s->in] * g.h[s->in] * g.w[s->in] * 4;
        n++;
    }
    float *src = dalloc((size_t)B * most, 0.5f), *dst = dalloc((size_t)B * most, 0);
    float ms = median_ms([&] {
        for (int i = 0; i < g.nsteps; i++) {
            const inception_step *s = &g.steps[i];
            if (s->kind != INC_COPY) continue;
            const size_t hw = (size_t)g.h[s->in] * g.w[s->in], row = (size_t)g.c[s->in] * hw * sizeof(float);
            cuda_copy_2d(be, dst + (size_t)s->offset * hw, (size_t)g.c[s->out] * hw * sizeof(float), src, row, row,
                         (size_t)B);
        }
    });
    printf("copy_2d B%-3d the %d concatenation copies of Inception: %8.4f ms %7.1f GB/s (%4.1f%% of peak)\n", B, n, ms,
           gbs(bytes, ms), 100 * gbs(bytes, ms) / peak_gbs);
    CUDA_CHECK(cudaFree(src)); CUDA_CHECK(cudaFree(dst));
}

int main(int argc, char **argv) {
    char err[256];
    const char *op = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--op") && i + 1 < argc) op = argv[++i];
        else if (atoi(argv[i]) > 0) reps = atoi(argv[i]);
        else { fprintf(stderr, "usage: bench_kernels [--op NAME] [repeats]\n"); return 2; }
    }
    static const char *const ops[] = {"batchnorm", "activation", "optim", "loss", "noise", "data", "pool", "resize", "copy"};
    int known = !op;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) known |= op && !strcmp(op, ops[i]);
    if (!known) { fprintf(stderr, "bench_kernels: unknown --op '%s'\n", op); return 2; }
    if (!(be = backend_cuda(0, err, sizeof err))) { printf("skipped: %s\n", err); return 77; }
    int dev = 0, clk_khz = 0, bus_bits = 0, l2_bytes = 0;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&clk_khz, cudaDevAttrMemoryClockRate, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, dev));
    peak_gbs = 2.0 * clk_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    // At least 2x the L2 (an unreported size: 64 MiB, above an H100's 50 MB).
    l2_flush_bytes = 2 * (size_t)(l2_bytes > 0 ? l2_bytes : 32 << 20);
    CUDA_CHECK(cudaMalloc(&l2_flush, l2_flush_bytes));
    printf("device %s, %d SMs, peak memory bandwidth %.0f GB/s (2 x %d MHz x %d bit), L2 %.1f MiB; median of %d repeats,"
           " each after a %.0f MiB write that flushes the L2\n", prop.name, prop.multiProcessorCount, peak_gbs,
           clk_khz / 1000, bus_bits, l2_bytes / 1048576.0, reps, l2_flush_bytes / 1048576.0);
    const char *q = getenv("DCGAN_BENCH_QUICK");
    int quick = q && !strcmp(q, "1");
    const int batches[] = {64, 128, 256};
#define WANT(name) (!op || !strcmp(op, name))
    for (int bi = 0; WANT("batchnorm") && bi < (quick ? 1 : 3); bi++) {
        int B = batches[bi];
        for (int size = 32; size <= 128; size *= 2) {
            int blocks = 0;
            for (int s = 4; s < size; s *= 2) blocks++;
            char tag[8];
            // G: BN after each ConvT except the last: channels 64 * 2^(blocks-1) at 4x4 halving as the side doubles.
            snprintf(tag, sizeof tag, "G%d", size);
            for (int k = 0, ch = 64 << (blocks - 1), hw = 4; k < blocks; k++, ch /= 2, hw *= 2)
                bench_bn(tag, B, ch, hw * hw, 0.0f);
            // D: BN after each stride-2 conv but the first: 128 channels at size/4, doubling as the side halves.
            snprintf(tag, sizeof tag, "D%d", size);
            for (int k = 1, ch = 128, hw = size / 4; k < blocks; k++, ch *= 2, hw /= 2)
                bench_bn(tag, B, ch, hw * hw, 0.2f);
        }
    }
    if (WANT("activation")) bench_elementwise((size_t)128 * 128 * 32 * 32);
    if (WANT("optim")) bench_optim((size_t)3576704);   // G's parameters at 64 px, nc 3
    if (WANT("loss")) { bench_loss(64); bench_loss(256); }
    if (WANT("noise") || WANT("data")) { bench_noise_and_data(64); bench_noise_and_data(128); }
    // Inception-v3 for FID, at its usual batch (50, pytorch-fid's) and at 128.
    const int fid_batches[] = {50, 128};
    for (int bi = 0; bi < (quick ? 1 : 2); bi++) {
        const int B = fid_batches[bi];
        if (WANT("pool")) bench_pools(B);
        if (WANT("resize")) {
            static const int shapes[][3] = {{1, 32, 32}, {3, 32, 32}, {3, 64, 64}, {3, 64, 48}, {3, 128, 128}};
            for (int k = 0; k < 5; k++)
                for (int q = 0; q < 2; q++) bench_resize(B, shapes[k][0], shapes[k][1], shapes[k][2], q);
        }
        if (WANT("copy")) bench_copies(B);
    }
    CUDA_CHECK(cudaFree(l2_flush));
    return 0;
}
