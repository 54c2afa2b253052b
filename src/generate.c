// Generator inference shared by the sample, interpolate and arithmetic commands.
#include "dcgan/generate.h"

#include <stdio.h>
#include <string.h>
#include "dcgan/ckpt.h"
#include "dcgan/rng.h"

int generator_open(generator *g, const char *ckpt_path, const char *device, bn_mode bn, int batch,
                   char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    if (batch < 1) { snprintf(err, errlen, "batch size must be at least 1, got %d", batch); return -1; }
    const char *notice = NULL;
    g->be = backend_select(device, &notice, err, errlen);
    if (!g->be) return -1;
    if (ckpt_load_net(&g->G, ckpt_path, 1, g->be, err, errlen)) return -1;
    g->bn = bn;
    g->batch = batch;
    g->nz = g->G.cfg.nz;
    g->nc = g->G.cfg.nc;
    g->size = g->G.cfg.size;
    if (net_exec_init(&g->x, &g->G, batch, NULL)) {
        snprintf(err, errlen, "out of %s memory for a batch of %d images", g->be->name, batch);
        generator_close(g);
        return -1;
    }
    if (!(g->zdev = g->be->alloc((size_t)batch * g->nz * sizeof(float)))) {
        snprintf(err, errlen, "out of %s memory for the latent vectors", g->be->name);
        generator_close(g);
        return -1;
    }
    return 0;
}

int generator_run(generator *g, float *images, const float *z, const int32_t *labels, int n,
                  char *err, size_t errlen) {
    if (labels && g->nclasses == 0) {
        snprintf(err, errlen, "this generator is not conditional: it takes no class");
        return -1;
    }
    const dcgan_backend *be = g->be;
    size_t per = generator_image_numel(g);
    for (int first = 0; first < n; first += g->batch) {
        int m = n - first < g->batch ? n - first : g->batch;
        size_t zbytes = (size_t)m * g->nz * sizeof(float);
        if (m < g->x.B && g->bn != BN_RUNNING) {
            // Batch statistics must see only this chunk's images: buffers of its own size.
            net_exec_free(&g->x);
            if (net_exec_init(&g->x, &g->G, m, NULL)) {
                snprintf(err, errlen, "out of %s memory for a batch of %d images", be->name, m);
                return -1;
            }
        }
        if (m < g->x.B) be->zero(g->zdev, (size_t)g->x.B * g->nz * sizeof(float));
        be->upload(g->zdev, z + (size_t)first * g->nz, zbytes);
        const float *out = net_forward(&g->x, g->zdev, g->bn);
        be->download(images + (size_t)first * per, out, (size_t)m * per * sizeof(float));
    }
    // Back to full-size buffers for the next call.
    if (g->x.B != g->batch) {
        net_exec_free(&g->x);
        if (net_exec_init(&g->x, &g->G, g->batch, NULL)) {
            snprintf(err, errlen, "out of %s memory for a batch of %d images", be->name, g->batch);
            return -1;
        }
    }
    return 0;
}

void generator_close(generator *g) {
    if (g->zdev) g->be->release(g->zdev);
    net_exec_free(&g->x);
    if (g->G.be) dcgan_net_free(&g->G);
    memset(g, 0, sizeof *g);
}

void generator_seed_noise(float *z, long first, int n, int nz, uint64_t seed) {
    uint64_t base = (uint64_t)first * (uint64_t)nz;
    size_t count = (size_t)n * (size_t)nz;
    #pragma omp parallel for schedule(static) if (count > 65536)
    for (size_t i = 0; i < count; i++) z[i] = philox_normal_at(seed, RNG_STREAM_SAMPLE, base + i);
}
