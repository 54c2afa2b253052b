// dcgan plot: the pictures of a training run: losses, D outputs and FID (plot.png) and, with --gif,
// the animation of its fixed-noise sample grids (progress.gif).
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "dcgan/viz.h"

static void help(void) {
    printf(
        "usage: dcgan plot RUN_DIR [options]\n"
        "Draws RUN_DIR/metrics.jsonl: the losses (Loss_D = real + fake, Loss_G) and the mean outputs of D\n"
        "(D(x), D(G(z)) before and after D's step) over the iterations, two panels, as a PNG; when the\n"
        "file holds FID evaluations (--fid-every), a third panel under them: FID, its best value marked,\n"
        "and KID on a second axis on the right.\n"
        "The trainer redraws RUN_DIR/plot.png at every checkpoint and writes RUN_DIR/progress.gif\n"
        "at the end of the run; this command redraws them, e.g. for a run still in progress. A last\n"
        "line of metrics.jsonl cut short (a run killed while writing it) is skipped with a warning.\n"
        "\n"
        "  --out FILE           the plot PNG                               [RUN_DIR/plot.png]\n"
        "  --smooth A           also draw an exponential moving average with weight A in [0, 1)\n"
        "                       on the previous value (0.9 smooths strongly); 0: raw only   [0]\n"
        "  --size WxH           figure size in pixels                      [1000x700]\n"
        "  --gif                also write the progress animation: the fixed-noise grids\n"
        "                       RUN_DIR/samples_<iter>.png in iteration order, looping\n"
        "  --gif-out FILE       where to write it (implies --gif)          [RUN_DIR/progress.gif]\n"
        "  --gif-only           write the animation only, not the plot\n"
        "  --delay CS           hundredths of a second per GIF frame       [20]\n");
}

int cmd_plot(int argc, char **argv) {
    plot_options po = {1000, 700, 0.0};
    const char *out = NULL, *gif_out = NULL;
    int gif = 0, gif_only = 0, delay = 20;
    option_parser p;
    options_begin(&p, "plot", argc, argv, "out smooth size gif gif-out gif-only delay help");
    for (int c; (c = next_option(&p)) != -1;) {
        switch (c) {
        case OPT_OUT: out = optarg; break;
        case OPT_SMOOTH: po.smooth = parse_float("--smooth", optarg, 0.0f, 0.9999f); break;
        case OPT_SIZE: {
            int w, h, k = 0;
            if (sscanf(optarg, "%dx%d%n", &w, &h, &k) != 2 || optarg[k] || w < 300 || h < 240 || w > 10000 || h > 10000)
                usage_error("plot", "--size: expected WxH between 300x240 and 10000x10000, got '%s'", optarg);
            po.width = w;
            po.height = h;
            break;
        }
        case OPT_GIF: gif = 1; break;
        case OPT_GIF_OUT: gif = 1; gif_out = optarg; break;
        case OPT_GIF_ONLY: gif = gif_only = 1; break;
        case OPT_DELAY: delay = (int)parse_long("--delay", optarg, 1, 10000); break;
        case OPT_HELP: help(); return 0;
        }
    }
    if (optind >= argc) usage_error("plot", "give the run directory, e.g. dcgan plot out");
    if (optind + 1 < argc) usage_error("plot", "unexpected argument '%s'", argv[optind + 1]);
    const char *dir = argv[optind];
    char err[1024], metrics[4200], png[4200], gifp[4200];
    if (!gif_only) {
        snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", dir);
        snprintf(png, sizeof png, "%s/plot.png", dir);
        plot_summary sum;
        if (plot_metrics(metrics, out ? out : png, &po, &sum, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            return 1;
        }
        if (sum.cut_line)
            fprintf(stderr, "warning: %s: line %ld is cut short (a run killed while writing it, or still writing); skipped\n",
                    metrics, sum.cut_line);
        printf("wrote %s (%d iterations)\n", out ? out : png, sum.records);
    }
    if (gif) {
        snprintf(gifp, sizeof gifp, "%s/progress.gif", dir);
        int frames = 0;
        if (progress_gif(dir, gif_out ? gif_out : gifp, delay, &frames, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            return 1;
        }
        printf("wrote %s (%d frames)\n", gif_out ? gif_out : gifp, frames);
    }
    return 0;
}
