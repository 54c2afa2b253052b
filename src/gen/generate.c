// Generator inference shared by the sample, interpolate and arithmetic commands.
#include "dcgan/error.h"
#include "dcgan/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "dcgan/train.h"
#include "dcgan/rng.h"

const char *generator_checkpoint(const char *ckpt, int use_ema, char *buf, size_t n) {
    struct stat st;
    if (stat(ckpt, &st) || !S_ISDIR(st.st_mode)) return ckpt;
    snprintf(buf, n, "%s/netG_ema.safetensors", ckpt);
    if (use_ema && stat(buf, &st) == 0) return buf;
    snprintf(buf, n, "%s/netG.safetensors", ckpt);
    return buf;
}

int generator_open(generator *g, const char *ckpt_path, const char *device, bn_mode bn, int batch,
                   char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    if (batch < 1) return set_error(err, errlen, "batch size must be at least 1, got %d", batch);
    const char *notice = NULL;
    g->be = backend_select(device, &notice, err, errlen);
    if (!g->be) return -1;
    if (notice) fprintf(stderr, "note: --device auto: %s; using the CPU\n", notice);
    if (ckpt_load_net(&g->G, ckpt_path, 1, g->be, err, errlen)) return -1;
    g->bn = bn;
    g->batch = batch;
    g->nz = g->G.cfg.nz;
    g->nc = g->G.cfg.nc;
    g->size = g->G.cfg.size;
    g->nclasses = g->G.cfg.nclasses;
    if (g->nclasses > 0) {
        st_file f;
        if (st_read(ckpt_path, &f, err, errlen)) { generator_close(g); return -1; }
        g->class_names = ckpt_class_names(&f, g->nclasses);
        st_free(&f);
        if (!g->class_names || !(g->classes = calloc((size_t)batch, sizeof(int32_t)))) {
            set_error(err, errlen, "out of memory");
            generator_close(g);
            return -1;
        }
    }
    if (net_exec_init_forward(&g->x, &g->G, batch, NULL, bn, NULL, err, errlen)) {
        set_error(err, errlen, "out of %s memory for a batch of %d images", g->be->name, batch);
        generator_close(g);
        return -1;
    }
    if (!(g->zdev = g->be->alloc(g->be, (size_t)batch * g->nz * sizeof(float)))) {
        set_error(err, errlen, "out of %s memory for the latent vectors", g->be->name);
        generator_close(g);
        return -1;
    }
    return 0;
}

int generator_run(generator *g, float *images, const float *z, const int32_t *labels, int n,
                  char *err, size_t errlen) {
    if (labels && g->nclasses == 0)
        return set_error(err, errlen, "this generator is not conditional: it takes no class");
    if (!labels && g->nclasses > 0)
        return set_error(err, errlen, "this generator is conditional: each image needs a class");
    for (int i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= g->nclasses)
            return set_error(err, errlen, "class %d is out of range: the generator has classes 0..%d", labels[i],
                             g->nclasses - 1);
    const dcgan_backend *be = g->be;
    size_t per = generator_image_numel(g);
    for (int first = 0; first < n; first += g->batch) {
        int m = n - first < g->batch ? n - first : g->batch;
        size_t zbytes = (size_t)m * g->nz * sizeof(float);
        if (m < g->x.B && g->bn != BN_RUNNING) {
            // Batch statistics must see only this chunk's images: buffers of its own size.
            net_exec_free(&g->x);
            if (net_exec_init_forward(&g->x, &g->G, m, NULL, g->bn, NULL, err, errlen))
                return set_error(err, errlen, "out of %s memory for a batch of %d images", be->name, m);
        }
        if (m < g->x.B) be->zero(be, g->zdev, (size_t)g->x.B * g->nz * sizeof(float));
        be->upload(be, g->zdev, z + (size_t)first * g->nz, zbytes);
        if (labels) {
            // Padding images of a short chunk get class 0; their pixels are discarded.
            memset(g->classes, 0, (size_t)g->x.B * sizeof(int32_t));
            memcpy(g->classes, labels + first, (size_t)m * sizeof(int32_t));
            net_set_classes(&g->x, g->classes);
        }
        const void *out = net_forward(&g->x, g->zdev, g->bn);
        be->download(be, images + (size_t)first * per, out, (size_t)m * per * sizeof(float));
    }
    // Back to full-size buffers for the next call.
    if (g->x.B != g->batch) {
        net_exec_free(&g->x);
        if (net_exec_init_forward(&g->x, &g->G, g->batch, NULL, g->bn, NULL, err, errlen))
            return set_error(err, errlen, "out of %s memory for a batch of %d images", be->name, g->batch);
    }
    return 0;
}

void generator_close(generator *g) {
    if (g->class_names) ckpt_free_class_names(g->class_names, g->nclasses);
    free(g->classes);
    if (g->zdev) g->be->release(g->be, g->zdev);
    net_exec_free(&g->x);
    if (g->G.be) dcgan_net_free(&g->G);
    memset(g, 0, sizeof *g);
}

int generator_class(const generator *g, const char *arg, char *err, size_t errlen) {
    if (g->nclasses <= 0)
        return set_error(err, errlen, "--class: the generator is unconditional (trained without --conditional)");
    char *end;
    long k = strtol(arg, &end, 10);
    if (end != arg && !*end) {
        if (k >= 0 && k < g->nclasses) return (int)k;
        set_error(err, errlen, "--class %s is out of range: the generator has classes 0..%d", arg, g->nclasses - 1);
        return -1;
    }
    for (int i = 0; i < g->nclasses; i++)
        if (!strcasecmp(g->class_names[i], arg)) return i;
    char list[400] = "";
    for (int i = 0; i < g->nclasses && strlen(list) + 40 < sizeof list; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", g->class_names[i]);
    set_error(err, errlen, "--class: no class '%s' (classes: %s%s)", arg, list, strlen(list) + 40 >= sizeof list ? ", ..." : "");
    return -1;
}

int generator_labels(const generator *g, const char *class_arg, long n, long run, int32_t **labels,
                     char *err, size_t errlen) {
    *labels = NULL;
    int fixed = -1;
    if (class_arg && (fixed = generator_class(g, class_arg, err, errlen)) < 0) return -1;
    if (g->nclasses <= 0) return 0;
    if (!(*labels = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t))))
        return set_error(err, errlen, "out of memory");
    for (long i = 0; i < n; i++) (*labels)[i] = fixed >= 0 ? fixed : (int32_t)((i / (run > 0 ? run : 1)) % g->nclasses);
    return 0;
}

void generator_seed_noise(float *z, long first, int n, int nz, uint64_t seed) {
    rng_vectors_normal(z, first, n, nz, seed, RNG_STREAM_SAMPLE);
}
