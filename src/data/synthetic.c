// The synthetic shapes set: bright discs (label 0) and squares (label 1) on a dark background,
// drawn from the seed alone (no files), for tests and benchmarks.
#include "dcgan/error.h"
#include "source.h"

#include <stdlib.h>

#define SYNTH_COUNT 2048

static const char *const synthetic_names[2] = {"disc", "square"};

// splitmix64: a small self-contained generator, so the set depends only on the seed.
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int uniform_int(uint64_t *s, int lo, int hi) {   // inclusive bounds
    return lo + (int)(next_u64(s) % (uint64_t)(hi - lo + 1));
}

static void draw_shape(uint8_t *img, int nc, int size, int label, uint64_t *s) {
    int r = uniform_int(s, size / 8 > 1 ? size / 8 : 1, size / 3 > 1 ? size / 3 : 1);
    int cx = uniform_int(s, 0, size - 1), cy = uniform_int(s, 0, size - 1);
    uint8_t bg[4], fg[4];
    for (int ch = 0; ch < nc; ch++) {
        bg[ch] = (uint8_t)uniform_int(s, 0, 40);
        fg[ch] = (uint8_t)uniform_int(s, 170, 255);
    }
    size_t plane = (size_t)size * size;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            int dx = x - cx, dy = y - cy;
            int in = label == 0 ? dx * dx + dy * dy <= r * r
                                : (dx >= -r && dx <= r && dy >= -r && dy <= r);
            for (int ch = 0; ch < nc; ch++)
                img[ch * plane + (size_t)y * size + x] = in ? fg[ch] : bg[ch];
        }
}

int synthetic_load(dcgan_dataset *ds, int size, int nc, uint64_t seed, char *err, size_t errlen) {
    ds->n = SYNTH_COUNT;
    ds->c = nc;
    ds->h = ds->w = size;
    if (dataset_set_class_names(ds, synthetic_names, 2)) return set_error(err, errlen, "synthetic: out of memory");
    size_t per = (size_t)nc * size * size;
    ds->pixels = malloc(SYNTH_COUNT * per);
    ds->labels = malloc(SYNTH_COUNT * sizeof *ds->labels);
    if (!ds->pixels || !ds->labels) return set_error(err, errlen, "synthetic: out of memory");
    uint64_t s = seed;
    for (int i = 0; i < SYNTH_COUNT; i++) {
        ds->labels[i] = (int32_t)(next_u64(&s) & 1);
        draw_shape(ds->pixels + i * per, nc, size, ds->labels[i], &s);
    }
    return 0;
}
