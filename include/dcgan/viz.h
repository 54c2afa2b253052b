// Pictures: sample grids laid out like torchvision.utils.save_image, and, drawn with cairo and
// giflib, numbered sample sheets, the plot of a run's metrics and the animation of its
// fixed-noise sample grids. Every picture is written atomically.
#ifndef DCGAN_VIZ_H
#define DCGAN_VIZ_H
#include <stddef.h>
#include <stdint.h>

// ---------------------------------------------------------------------------------------------
// Grids

// Tiles images [n, c, h, w] with values in [-1, 1] into a grid of `ncol` columns with `pad`
// pixels of black padding (torchvision make_grid: nrow=ncol, padding=pad, pad_value=0),
// mapping x -> clamp(round((x + 1) / 2 * 255)). Output is interleaved [gh, gw, c], malloc'ed.
uint8_t *image_grid(const float *images, int n, int c, int h, int w, int ncol, int pad,
                    int *grid_w, int *grid_h);
// image_grid + png_write.
int save_grid_png(const char *path, const float *images, int n, int c, int h, int w, int ncol,
                  char *err, size_t errlen);
// One image [c, h, w] in [-1, 1] to a PNG.
int save_image_png(const char *path, const float *image, int c, int h, int w,
                   char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// Sheets: grids with text in the cells' corners

// A grid of images [n, c, h, w] in [-1, 1] (ncol columns, 2-pixel padding, as save_grid_png),
// scaled up by a whole factor when the images are small, with the index first + i printed in the
// top-left corner of cell i (white with a black outline). Written as a PNG with c channels.
int save_sheet_png(const char *path, const float *images, int n, int c, int h, int w, int ncol,
                   int first, char *err, size_t errlen);

// Labels drawn over a grid: `text` at the top-left corner of cell `cell` (NULL entries skipped).
int save_labelled_grid_png(const char *path, const float *images, int n, int c, int h, int w,
                           int ncol, const char *const *labels, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// The plot of a run's metrics

typedef struct {
    int width, height;          // pixels of the whole figure               [1000 x 700]
    double smooth;              // EMA weight of the previous value, 0: none [0]
} plot_options;

// Reads a metrics.jsonl (as the trainer writes it) and draws panels over the iterations, with
// axes, ticks, labels and legends: losses (Loss_D = real + fake, Loss_G) and D outputs (D(x),
// D(G(z)) before and after D's step), from the training records (one per iteration, with the
// loss fields); and, under them, when the file also holds evaluation records (a line with a
// number "fid", written every --fid-every iterations; the loss fields not needed), a third
// panel: FID at each evaluation (points joined by lines, the best, lowest, ringed and labelled
// with its value) and, when the records have it, KID (+- kid_std) on a second y axis on the
// right. Without evaluation records the figure is the two panels alone. A line that is neither
// kind is an error. A resumed run's repeated iterations keep the later records, in both kinds;
// the evaluations after the iteration a run resumed from are dropped with its other records.
// A last line without its newline that does not parse (a run killed while writing it) is skipped
// and named in the summary. Written atomically.
typedef struct {
    int records;                // training records drawn
    long cut_line;              // the number of the skipped last line; 0: none
} plot_summary;
int plot_metrics(const char *metrics_path, const char *png_path, const plot_options *o,
                 plot_summary *summary, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// The progress GIF

// Animates the run's fixed-noise grids RUN_DIR/samples_<iter>.png in iteration order into a
// looping GIF (gray: exact 256-level palette; colour: a 256-colour palette per frame). Frames
// show `delay_cs` hundredths of a second, the last one longer; at most 300 frames, taken evenly
// (the last always kept). *frames gets the number written. Written atomically.
int progress_gif(const char *run_dir, const char *gif_path, int delay_cs, int *frames,
                 char *err, size_t errlen);

#endif
