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

int inception_random_write(const char *path, char *err, size_t errlen) {
    inception_graph *g = malloc(sizeof *g);
    if (!g) return set_error(err, errlen, "out of memory");
    inception_graph_build(g, 3, INCEPTION_SIZE, INCEPTION_SIZE);
    int convs = 0;
    for (int i = 0; i < g->nsteps; i++) convs += g->steps[i].kind == INC_CONV;
    float *values = malloc(g->nparams * sizeof(float));
    st_tensor *t = calloc((size_t)convs * 5, sizeof *t);
    int rc = -1;
    if (!values || !t) {
        set_error(err, errlen, "out of memory");
        goto done;
    }
    int k = 0;
    for (int i = 0; i < g->nsteps; i++) {
        const inception_step *s = &g->steps[i];
        if (s->kind != INC_CONV) continue;
        const int ic = g->c[s->in], fan_in = ic * s->kh * s->kw;
        float *v = values + s->param_off;
        for (int p = 0; p < 5; p++, k++) {
            const size_t n = p ? (size_t)s->oc : (size_t)s->oc * fan_in;
            snprintf(t[k].name, sizeof t[k].name, "%s.%s", s->name, part_name[p]);
            fill(v, n, t[k].name, p, fan_in);
            t[k].dtype = ST_F32;
            t[k].data = v;
            t[k].nbytes = n * sizeof(float);
            t[k].ndim = p ? 1 : 4;
            t[k].shape[0] = s->oc;
            if (!p) { t[k].shape[1] = ic; t[k].shape[2] = s->kh; t[k].shape[3] = s->kw; }
            v += n;
        }
    }
    rc = st_write(path, t, k, NULL, 0, err, errlen);
done:
    free(t);
    free(values);
    free(g);
    return rc;
}
