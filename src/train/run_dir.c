// The run directory: made at the start, a killed run's temporary files removed, the logs
// (metrics.jsonl, the TensorBoard file) cut back to the checkpoint the run starts from, and the
// pictures of the run (the plot at checkpoints, the animation at the end).
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "dcgan/error.h"
#include "dcgan/viz.h"
#include "run.h"

int run_make_dir(const char *dir, char *err, size_t errlen) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0777) && errno != EEXIST) break;
        *p = '/';
    }
    if (mkdir(tmp, 0777) && errno != EEXIST)
        return set_error(err, errlen, "cannot create output directory '%s': %s", dir, strerror(errno));
    return 0;
}

// The temporary files of a killed process (a checkpoint, a sample grid, the plot it was writing).
int run_clean_dir(const char *dir, char *err, size_t errlen) {
    int removed = 0;
    if (remove_stale_temps(dir, &removed, err, errlen)) return -1;
    if (removed) printf("note: %s: removed %d temporary file%s left by a killed run\n", dir, removed, removed > 1 ? "s" : "");
    return 0;
}

int run_logs_open(run_logs *l, const run_options *o, long iter, char *err, size_t errlen) {
    snprintf(l->metrics_path, sizeof l->metrics_path, "%s/metrics.jsonl", o->out_dir);
    long dropped = 0;
    if (!(l->metrics = metrics_open(l->metrics_path, iter, &dropped, err, errlen))) return -1;
    if (o->resume && dropped)
        printf("note: %s: %ld line%s after iteration %ld (the checkpoint) dropped\n", l->metrics_path, dropped,
               dropped > 1 ? "s" : "", iter);
    if (o->no_tensorboard) return 0;
    if (tb_open(&l->tb, o->out_dir, iter, err, errlen)) return -1;
    l->have_tb = 1;
    return 0;
}

int run_logs_close(run_logs *l, int rc, char *err, size_t errlen) {
    if (l->metrics && fclose(l->metrics) && rc != 1) {
        path_error(err, errlen, l->metrics_path, "write failed: %s", strerror(errno));
        rc = 1;
    }
    if (l->have_tb && tb_close(&l->tb, rc != 1 ? err : NULL, errlen) && rc != 1) rc = 1;
    l->metrics = NULL;
    l->have_tb = 0;
    return rc;
}

void run_refresh_plot(const run_options *o, progress *pr) {
    char metrics_path[4200], png[4200], err[1024];
    snprintf(metrics_path, sizeof metrics_path, "%s/metrics.jsonl", o->out_dir);
    snprintf(png, sizeof png, "%s/plot.png", o->out_dir);
    if (plot_metrics(metrics_path, png, NULL, NULL, err, sizeof err)) {
        progress_break(pr);
        fprintf(stderr, "warning: plot not updated: %s\n", err);
    }
}

void run_write_gif(const run_options *o) {
    char gif[4200], err[1024];
    snprintf(gif, sizeof gif, "%s/progress.gif", o->out_dir);
    int frames = 0;
    if (progress_gif(o->out_dir, gif, 20, &frames, err, sizeof err))
        fprintf(stderr, "warning: no progress animation: %s\n", err);
}
