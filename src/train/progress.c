// Progress line and metrics log for training.
#include <stdio.h>
#include <unistd.h>
#include "dcgan/clock.h"
#include "dcgan/train.h"

void progress_init(progress *p, long start_iter, long total_iters, int images_per_iter, int log_every, FILE *metrics) {
    p->tty = isatty(STDOUT_FILENO);
    p->log_every = log_every > 0 ? log_every : 50;
    p->start_iter = start_iter;
    p->total_iters = total_iters;
    p->start_time = monotonic_seconds();
    p->last_draw = 0;
    p->images_per_iter = images_per_iter;
    p->metrics = metrics;
    p->tb = NULL;
    p->line_open = 0;
}

void progress_tb_failed(progress *p, const char *why) {
    progress_break(p);
    fprintf(stderr, "warning: TensorBoard events no longer written: %s\n", why);
    tb_close(p->tb);
    p->tb = NULL;
}

// The metrics of one iteration as TensorBoard scalars.
static void write_scalars(progress *p, long iter, const step_stats *st, double ips) {
    const struct { const char *tag; double value; } s[] = {
        {"loss/D", st->loss_d_real + st->loss_d_fake}, {"loss/D_real", st->loss_d_real},
        {"loss/D_fake", st->loss_d_fake}, {"loss/G", st->loss_g}, {"D/x", st->d_x},
        {"D/G(z)_before_D_step", st->d_g_z1}, {"D/G(z)_after_D_step", st->d_g_z2}, {"speed/images_per_s", ips},
    };
    char err[512];
    for (size_t i = 0; i < sizeof s / sizeof *s && p->tb; i++)
        if (tb_scalar(p->tb, s[i].tag, iter, (float)s[i].value, err, sizeof err)) progress_tb_failed(p, err);
}

static void format_eta(char *buf, size_t n, double seconds) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, n, "%02ld:%02ld", s / 60, s % 60);
}

void progress_update(progress *p, long iter, long epoch, const step_stats *st) {
    double now = monotonic_seconds(), elapsed = now - p->start_time;
    long done = iter - p->start_iter;
    double ips = elapsed > 0 ? done * (double)p->images_per_iter / elapsed : 0;
    double eta = done > 0 ? elapsed / done * (p->total_iters - iter) : 0;
    double loss_d = st->loss_d_real + st->loss_d_fake;
    if (p->metrics) {
        fprintf(p->metrics,
                "{\"iter\":%ld,\"epoch\":%ld,\"loss_d\":%.6g,\"loss_d_real\":%.6g,\"loss_d_fake\":%.6g,"
                "\"loss_g\":%.6g,\"d_x\":%.6g,\"d_g_z1\":%.6g,\"d_g_z2\":%.6g,\"images_per_s\":%.1f,\"time_s\":%.3f}\n",
                iter, epoch, loss_d, st->loss_d_real, st->loss_d_fake, st->loss_g, st->d_x, st->d_g_z1,
                st->d_g_z2, ips, elapsed);
    }
    if (p->tb) write_scalars(p, iter, st, ips);
    int last = iter == p->total_iters;
    if (p->tty && !last && now - p->last_draw < 0.1) return;   // redraw at most 10 times a second
    if (!p->tty && !last && iter % p->log_every) return;
    p->last_draw = now;
    char eta_s[32];
    format_eta(eta_s, sizeof eta_s, eta);
    printf("%s[%ld/%ld] epoch %ld  Loss_D: %.4f  Loss_G: %.4f  D(x): %.4f  D(G(z)): %.4f / %.4f  %.1f img/s  ETA %s%s",
           p->tty ? "\r" : "", iter, p->total_iters, epoch, loss_d, st->loss_g, st->d_x, st->d_g_z1, st->d_g_z2,
           ips, eta_s, p->tty ? "\033[K" : "\n");
    p->line_open = p->tty;
    if (last) progress_break(p);
    fflush(stdout);
}

void progress_break(progress *p) {
    if (p->line_open) { putchar('\n'); p->line_open = 0; }
    if (p->metrics) fflush(p->metrics);
    char err[512];
    if (p->tb && tb_flush(p->tb, err, sizeof err)) progress_tb_failed(p, err);
}
