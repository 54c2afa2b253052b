// The formula of tests/inception_random.h, in float32 arithmetic step by step as the Python side
// evaluates it (each value one rounding at most, so the two agree bit for bit).
#include "inception_random.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/error.h"
#include "dcgan/io.h"
#include "dcgan/model.h"

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

// u in [0, 1): the top 24 bits of a 32-bit mix of (name hash + i * golden ratio).
static float uniform(uint32_t name_hash, uint32_t i) {
    uint32_t x = name_hash + i * 0x9E3779B9u;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return (float)(x >> 8) * 0x1p-24f;
}

enum { CONV_WEIGHT, BN_WEIGHT, BN_BIAS, BN_MEAN, BN_VAR };
static const char *const part_name[5] = {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"};

// Tensor `name` (part `part` of a BasicConv2d) of n values.
static void fill(float *v, size_t n, const char *name, int part, int fan_in) {
    const uint32_t h = fnv1a(name);
    const float bound = (float)sqrt(6.0 / fan_in);   // He-uniform: ReLU keeps the activations' scale
    for (size_t i = 0; i < n; i++) {
        const float u = uniform(h, (uint32_t)i), sym = u * 2.0f - 1.0f;   // sym: exact, in [-1, 1)
        v[i] = part == CONV_WEIGHT ? sym * bound
             : part == BN_WEIGHT   ? 0.75f + 0.5f * u
             : part == BN_BIAS     ? sym * 0.25f
             : part == BN_MEAN     ? sym * 0.125f
                                   : 0.5f + u;
    }
}

// Which part of a BasicConv2d a tensor name is ("<prefix>.conv.weight", ...), or -1.
static int part_of(const char *name) {
    const size_t n = strlen(name);
    for (int p = 0; p < 5; p++) {
        const size_t k = strlen(part_name[p]);
        if (n > k && name[n - k - 1] == '.' && !strcmp(name + n - k, part_name[p])) return p;
    }
    return -1;
}

int inception_random_write(const char *path, char *err, size_t errlen) {
    dcgan_net net;
    const inception_input in = {.c = 3, .h = INCEPTION_SIZE, .w = INCEPTION_SIZE, .scale = 1.0f};
    float *values = NULL;
    st_tensor *t = NULL;
    int rc = -1, k = 0;
    if (inception_net_describe(&net, &in) || !(values = malloc((net.nparams + net.nstats) * sizeof(float))) ||
        !(t = calloc((size_t)net.ntensors, sizeof *t))) {
        set_error(err, errlen, "out of memory");
        goto done;
    }
    float *v = values;
    for (int i = 0; i < net.ntensors; i++) {
        const named_tensor *nt = &net.tensors[i];
        const int p = part_of(nt->name);
        if (nt->role == TENSOR_COUNT) continue;   // num_batches_tracked: not read
        if (p < 0) {
            set_error(err, errlen, "tensor %s is no part of a BasicConv2d", nt->name);
            goto done;
        }
        const int fan_in = p == CONV_WEIGHT ? (int)(nt->shape[1] * nt->shape[2] * nt->shape[3]) : 1;
        fill(v, nt->numel, nt->name, p, fan_in);
        snprintf(t[k].name, sizeof t[k].name, "%s", nt->name);
        t[k].dtype = ST_F32;
        t[k].data = v;
        t[k].nbytes = nt->numel * sizeof(float);
        t[k].ndim = nt->ndim;
        for (int d = 0; d < nt->ndim; d++) t[k].shape[d] = nt->shape[d];
        v += nt->numel;
        k++;
    }
    rc = st_write(path, t, k, NULL, 0, err, errlen);
done:
    free(t);
    free(values);
    dcgan_net_free(&net);
    return rc;
}
