// Comparisons of a training step against a PyTorch fixture.
#include "fixture_compare.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_util.h"

int fixture_meta_int(const st_file *f, const char *key) {
    const char *v = st_meta_get(f, key);
    return v ? atoi(v) : -1;
}

float fixture_meta_float(const st_file *f, const char *key) {
    const char *v = st_meta_get(f, key);
    return v ? strtof(v, NULL) : NAN;
}

const st_tensor *fixture_need(const st_file *f, const char *name) {
    const st_tensor *t = st_find(f, name);
    if (!t) { fprintf(stderr, "FAIL fixture lacks tensor %s\n", name); test_failures++; }
    return t;
}

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

void fixture_compare(const char *label, const float *got, const st_tensor *want, double rel) {
    size_t n = want->nbytes / sizeof(float);
    const float *w = want->data;
    check_close(label, got, w, n, rel * (max_abs(w, n) + 1e-6), 1e-3);
}

void fixture_compare_scalar(const char *label, double got, const st_tensor *want) {
    if (!want) return;
    float g = (float)got;
    check_close(label, &g, want->data, 1, 1e-5, 1e-4);
}

void fixture_compare_net(const dcgan_net *net, const st_file *f, const char *prefix, int grads, int counts,
                         double rel) {
    float *params = malloc(net->nparams * sizeof(float)), *stats = malloc((net->nstats + 1) * sizeof(float));
    net->be->download(params, grads ? net->grads : net->params, net->nparams * sizeof(float));
    net->be->download(stats, net->stats, net->nstats * sizeof(float));
    for (int i = 0; i < net->ntensors; i++) {
        const named_tensor *t = &net->tensors[i];
        if ((grads && t->is_stat) || (!counts && t->is_stat == 2)) continue;
        char name[160];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const st_tensor *want = fixture_need(f, name);
        if (!want) continue;
        if (t->is_stat == 2) {
            int64_t expect;
            memcpy(&expect, want->data, sizeof expect);
            if (net->num_batches_tracked[t->off] != expect) {
                fprintf(stderr, "FAIL %s: %lld, expected %lld\n", name, (long long)net->num_batches_tracked[t->off],
                        (long long)expect);
                test_failures++;
            }
            continue;
        }
        fixture_compare(name, (t->is_stat ? stats : params) + t->off, want, rel);
    }
    free(params);
    free(stats);
}
