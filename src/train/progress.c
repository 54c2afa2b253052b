// Progress line and metrics log for training. A failed write to metrics.jsonl or the TensorBoard
// file is an error: the run stops with its last checkpoint and the records it covers intact.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/clock.h"
#include "dcgan/error.h"
#include "dcgan/train.h"

void progress_init(progress *p, long start_iter, long total_iters, int images_per_iter, int log_every, FILE *metrics,
                   const char *metrics_path, tb_writer *tb) {
    p->tty = isatty(STDOUT_FILENO);
    p->log_every = log_every > 0 ? log_every : 50;
    p->start_iter = start_iter;
    p->total_iters = total_iters;
    p->start_time = monotonic_seconds();
    p->last_draw = 0;
    p->images_per_iter = images_per_iter;
    p->metrics = metrics;
    p->metrics_path = metrics_path;
    p->tb = tb;
    p->line_open = 0;
}

int progress_log(progress *p, char *err, size_t errlen, const char *fmt, ...) {
    if (!p->metrics) return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(p->metrics, fmt, ap);
    va_end(ap);
    return n < 0 ? path_error(err, errlen, p->metrics_path, "write failed: %s", strerror(errno)) : 0;
}

int progress_scalar(progress *p, const char *tag, long step, float value, char *err, size_t errlen) {
    return p->tb ? tb_scalar(p->tb, tag, step, value, err, errlen) : 0;
}

// The metrics of one iteration as TensorBoard scalars.
static int write_scalars(progress *p, long iter, const step_stats *st, double ips, char *err, size_t errlen) {
    const struct { const char *tag; double value; } s[] = {
        {"loss/D", st->loss_d_real + st->loss_d_fake}, {"loss/D_real", st->loss_d_real},
        {"loss/D_fake", st->loss_d_fake}, {"loss/G", st->loss_g}, {"D/x", st->d_x},
        {"D/G(z)_before_D_step", st->d_g_z1}, {"D/G(z)_after_D_step", st->d_g_z2}, {"speed/images_per_s", ips},
    };
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        if (progress_scalar(p, s[i].tag, iter, (float)s[i].value, err, errlen)) return -1;
    return 0;
}

static void format_eta(char *buf, size_t n, double seconds) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, n, "%02ld:%02ld", s / 60, s % 60);
}

int progress_update(progress *p, long iter, long epoch, const step_stats *st, char *err, size_t errlen) {
    double now = monotonic_seconds(), elapsed = now - p->start_time;
    long done = iter - p->start_iter;
    double ips = elapsed > 0 ? done * (double)p->images_per_iter / elapsed : 0;
    double eta = done > 0 ? elapsed / done * (p->total_iters - iter) : 0;
    double loss_d = st->loss_d_real + st->loss_d_fake;
    if (progress_log(p, err, errlen,
                     "{\"iter\":%ld,\"epoch\":%ld,\"loss_d\":%.6g,\"loss_d_real\":%.6g,\"loss_d_fake\":%.6g,"
                     "\"loss_g\":%.6g,\"d_x\":%.6g,\"d_g_z1\":%.6g,\"d_g_z2\":%.6g,\"images_per_s\":%.1f,\"time_s\":%.3f}\n",
                     iter, epoch, loss_d, st->loss_d_real, st->loss_d_fake, st->loss_g, st->d_x, st->d_g_z1,
                     st->d_g_z2, ips, elapsed) ||
        write_scalars(p, iter, st, ips, err, errlen))
        return -1;
    int last = iter == p->total_iters;
    if (p->tty && !last && now - p->last_draw < 0.1) return 0;   // redraw at most 10 times a second
    if (!p->tty && !last && iter % p->log_every) return 0;
    p->last_draw = now;
    char eta_s[32];
    format_eta(eta_s, sizeof eta_s, eta);
    printf("%s[%ld/%ld] epoch %ld  Loss_D: %.4f  Loss_G: %.4f  D(x): %.4f  D(G(z)): %.4f / %.4f  %.1f img/s  ETA %s%s",
           p->tty ? "\r" : "", iter, p->total_iters, epoch, loss_d, st->loss_g, st->d_x, st->d_g_z1, st->d_g_z2,
           ips, eta_s, p->tty ? "\033[K" : "\n");
    p->line_open = p->tty;
    if (last) progress_break(p);
    fflush(stdout);
    return 0;
}

int progress_flush(progress *p, int sync, char *err, size_t errlen) {
    if (p->metrics && (sync ? file_sync : file_flush)(p->metrics, p->metrics_path, err, errlen)) return -1;
    if (p->tb && (sync ? tb_sync : tb_flush)(p->tb, err, errlen)) return -1;
    return 0;
}

void progress_break(progress *p) {
    if (p->line_open) { putchar('\n'); p->line_open = 0; }
}
