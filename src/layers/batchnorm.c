// BatchNorm2d, with the ReLU or leaky ReLU after it folded in (the backend's fused rows): batch
// statistics in training (synchronised over the ranks after net_exec_sync_bn), running ones in
// evaluation. Keeps, between a forward and its backward, each channel's batch mean and 1/std.
#include "dcgan/layer.h"

int layer_channel_shape(const layer *l, int64_t shape[4]) {
    shape[0] = l->C;
    return 1;
}
int layer_scalar_shape(const layer *l, int64_t shape[4]) {
    (void)l;
    (void)shape;
    return 0;
}

// Declared in this order: running_mean and running_var are adjacent in the stats block, the [2C]
// the ops take.
static const tensor_decl tensors[] = {
    {"weight", TENSOR_PARAM, INIT_NORMAL_ONE, layer_channel_shape},
    {"bias", TENSOR_PARAM, INIT_ZERO, layer_channel_shape},
    {"running_mean", TENSOR_STAT, INIT_ZERO, layer_channel_shape},
    {"running_var", TENSOR_STAT, INIT_ONE, layer_channel_shape},
    {"num_batches_tracked", TENSOR_COUNT, INIT_ZERO, layer_scalar_shape},
};
enum { GAMMA, BETA, RUNNING, RUNNING_VAR, COUNT };

typedef struct {
    bn_desc bn;
    reduce_desc reduce;         // synchronised: the all-reduce of the sums [2C] (slot 2)
    int sync;
} bn_plan;

// saved: mean [C], 1/std [C] (float), then the synchronised sums [2C] (double).
static size_t saved_bytes(const layer *l, int B) {
    (void)B;
    return 2 * (size_t)l->C * (sizeof(float) + sizeof(double));
}
static float *saved_mean(const layer_ctx *c) { return c->saved; }
static float *saved_invstd(const layer_ctx *c) { return (float *)c->saved + c->l->C; }
static double *saved_sums(const layer_ctx *c) { return (double *)((float *)c->saved + 2 * (size_t)c->l->C); }

static int plan(layer_ctx *c, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    bn_plan *k = c->plan;
    DCGAN_REQUIRE((float *)c->tensor[RUNNING_VAR] == (float *)c->tensor[RUNNING] + c->l->C);
    *k = (bn_plan){.bn = {.x = c->in, .momentum = c->l->p.momentum, .eps = c->l->p.eps, .act_slope = c->fused_slope}};
    return 0;
}

static void sync(layer_ctx *c, int ranks) {
    bn_plan *k = c->plan;
    k->bn.group_n = c->in.n * ranks;
    k->reduce = (reduce_desc){.n = 2 * (size_t)c->l->C, .f64 = 1, .scale = 1.0f, .slot = 2};
    k->sync = 1;
}

static void forward(const layer_ctx *c, void *out, const void *in, const layer_pass *p) {
    const bn_plan *k = c->plan;
    const dcgan_backend *be = c->be;
    const float *gamma = c->tensor[GAMMA], *beta = c->tensor[BETA];
    float *running = c->tensor[RUNNING];
    int64_t *count = c->tensor[COUNT];
    if (p->bn == BN_RUNNING) {
        be->batchnorm_forward_eval(be, out, in, gamma, beta, running, &k->bn);
    } else if (p->bn == BN_TRAIN && k->sync) {
        double *sums = saved_sums(c);
        be->batchnorm_sums(be, sums, in, &k->bn);
        be->allreduce(be, sums, &k->reduce);
        be->allreduce_wait(be, &k->reduce);
        be->batchnorm_forward_global(be, out, saved_mean(c), saved_invstd(c), running, count, in, gamma, beta, sums,
                                     &k->bn);
    } else {
        const int train = p->bn == BN_TRAIN;   // BN_BATCH leaves the running statistics alone
        be->batchnorm_forward_train(be, out, saved_mean(c), saved_invstd(c), train ? running : NULL,
                                    train ? count : NULL, in, gamma, beta, &k->bn);
    }
}

// The gradients of gamma and beta come with the input's (the backend computes them together).
static void backward(const layer_ctx *c, void *din, const void *dout, const void *in, const void *out,
                     const layer_pass *p) {
    (void)p;
    if (!din) return;
    const bn_plan *k = c->plan;
    const dcgan_backend *be = c->be;
    const void *act = k->bn.act_slope != 1.0f ? out : NULL;   // a fused activation's output
    if (k->sync) {
        double *sums = saved_sums(c);
        be->batchnorm_backward_sums(be, sums, c->grad[GAMMA], c->grad[BETA], dout, act, in, saved_mean(c),
                                    saved_invstd(c), &k->bn);
        be->allreduce(be, sums, &k->reduce);
        be->allreduce_wait(be, &k->reduce);
        be->batchnorm_backward_global(be, din, dout, act, in, saved_mean(c), saved_invstd(c), c->tensor[GAMMA], sums,
                                      &k->bn);
    } else {
        be->batchnorm_backward(be, din, c->grad[GAMMA], c->grad[BETA], dout, act, in, saved_mean(c), saved_invstd(c),
                               c->tensor[GAMMA], &k->bn);
    }
}

const layer_type layer_batchnorm = {.name = "batchnorm", .tensors = tensors, .ntensors = 5, .ops = {OP_BATCHNORM},
                                    .nops = 1, .format = LAYER_FMT_SAME, .absorbs_activation = 1, .in_place = 1,
                                    .plan_bytes = sizeof(bn_plan), .saved_bytes = saved_bytes,
                                    .shape = layer_same_shape, .plan = plan, .forward = forward, .backward = backward,
                                    .sync = sync};
