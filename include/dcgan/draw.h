// Pictures drawn with cairo and giflib: numbered sample sheets, the plot of a run's metrics and
// the animation of its fixed-noise sample grids.
#ifndef DCGAN_DRAW_H
#define DCGAN_DRAW_H
#include <stddef.h>

// A grid of images [n, c, h, w] in [-1, 1] (ncol columns, 2-pixel padding, as save_grid_png),
// scaled up by a whole factor when the images are small, with the index first + i printed in the
// top-left corner of cell i (white with a black outline). Written as a PNG with c channels.
int save_sheet_png(const char *path, const float *images, int n, int c, int h, int w, int ncol,
                   int first, char *err, size_t errlen);

// Labels drawn over a grid: `text` at the top-left corner of cell `cell` (NULL entries skipped).
int save_labelled_grid_png(const char *path, const float *images, int n, int c, int h, int w,
                           int ncol, const char *const *labels, char *err, size_t errlen);

typedef struct {
    int width, height;          // pixels of the whole figure               [1000 x 700]
    double smooth;              // EMA weight of the previous value, 0: none [0]
} plot_options;

// Reads a metrics.jsonl (one JSON object per iteration, as the trainer writes) and draws two
// panels over the iterations: losses (Loss_D = real + fake, Loss_G) and D outputs (D(x),
// D(G(z)) before and after D's step), with axes, ticks, labels and legends. A resumed run's
// repeated iterations keep the later records. Written atomically. *records gets the count.
int plot_metrics(const char *metrics_path, const char *png_path, const plot_options *o,
                 int *records, char *err, size_t errlen);

// Animates the run's fixed-noise grids RUN_DIR/samples_<iter>.png in iteration order into a
// looping GIF (gray: exact 256-level palette; colour: a 256-colour palette per frame). Frames
// show `delay_cs` hundredths of a second, the last one longer; at most 300 frames, taken evenly
// (the last always kept). *frames gets the number written. Written atomically.
int progress_gif(const char *run_dir, const char *gif_path, int delay_cs, int *frames,
                 char *err, size_t errlen);

#endif
