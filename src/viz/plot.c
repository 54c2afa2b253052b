// The plot of a training run: metrics.jsonl read with jansson, drawn with cairo into two
// panels (losses; D outputs) that share the iteration axis, and a third one (FID, with KID on a
// second y axis on the right) when the file holds evaluation records.
#include <cairo.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/error.h"
#include "dcgan/viz.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { S_LOSS_D, S_LOSS_G, S_D_X, S_D_G_Z1, S_D_G_Z2, NSERIES };
static const char *const field[NSERIES] = {"loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"};
static const char *const legend[NSERIES] = {"Loss_D (real + fake)", "Loss_G", "D(x)",
                                            "D(G(z)) before D step", "D(G(z)) after D step"};
static const double colour[NSERIES][3] = {
    {0.12, 0.47, 0.71}, {0.85, 0.37, 0.01}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74}};

// The evaluation records' columns, in a series of their own (nv = NEVAL).
enum { E_FID, E_KID, E_KID_STD, E_G, NEVAL };   // E_G: which generator was scored, see gen_code
enum { GEN_UNSAID, GEN_EMA, GEN_G };

typedef struct {
    long n, cap;
    int nv;                     // columns in use: NSERIES (training records) or NEVAL
    double *iter;
    double *v[NSERIES];
} series;

static void series_free(series *s) {
    free(s->iter);
    for (int k = 0; k < NSERIES; k++) free(s->v[k]);
}

// Drops the records at iteration `it` and later.
static void series_cut(series *s, double it) {
    while (s->n > 0 && s->iter[s->n - 1] >= it) s->n--;
}

static int series_push(series *s, double it, const double *vals) {
    if (s->n == s->cap) {
        long cap = s->cap ? 2 * s->cap : 1024;
        double *p = realloc(s->iter, (size_t)cap * sizeof(double));
        if (!p) return -1;
        s->iter = p;
        for (int k = 0; k < s->nv; k++) {
            if (!(p = realloc(s->v[k], (size_t)cap * sizeof(double)))) return -1;
            s->v[k] = p;
        }
        s->cap = cap;
    }
    // A resumed run appends iterations that may repeat ones logged before its checkpoint:
    // the later records replace them.
    series_cut(s, it);
    s->iter[s->n] = it;
    for (int k = 0; k < s->nv; k++) s->v[k][s->n] = vals[k];
    s->n++;
    return 0;
}

static double number_or_nan(const json_t *o, const char *key) {
    const json_t *x = json_object_get(o, key);
    return json_is_number(x) ? json_number_value(x) : NAN;
}

static double gen_code(const json_t *o) {
    const char *g = json_string_value(json_object_get(o, "fid_g"));
    return !g ? GEN_UNSAID : !strcmp(g, "ema") ? GEN_EMA : !strcmp(g, "g") ? GEN_G : GEN_UNSAID;
}

// One record (a JSON object) of line lineno: its loss fields to s, an evaluation ("fid") to e.
static int read_record(const json_t *o, long lineno, series *s, series *e, const char *path, char *err,
                       size_t errlen) {
    json_t *it = json_object_get(o, "iter");
    double vals[NSERIES];
    int missing = -1;   // the first loss field that is not a number
    for (int k = 0; k < NSERIES; k++) {
        vals[k] = number_or_nan(o, field[k]);
        if (missing < 0 && !json_is_number(json_object_get(o, field[k]))) missing = k;
    }
    const int is_eval = json_is_number(json_object_get(o, "fid"));
    if (!json_is_integer(it)) return path_error(err, errlen, path, "line %ld: no integer \"iter\"", lineno);
    if (missing >= 0 && !is_eval)
        return path_error(err, errlen, path, "line %ld: no number \"%s\"", lineno,
                          json_object_get(o, "fid") ? "fid" : field[missing]);
    const double iv = (double)json_integer_value(it);
    int oom = 0;
    if (missing < 0) {
        if (s->n > 0 && iv <= s->iter[s->n - 1]) series_cut(e, iv);
        oom = series_push(s, iv, vals) != 0;
    }
    if (!oom && is_eval) {
        double ev[NEVAL] = {number_or_nan(o, "fid"), number_or_nan(o, "kid"), number_or_nan(o, "kid_std"), gen_code(o)};
        oom = series_push(e, iv, ev) != 0;
    }
    return oom ? path_error(err, errlen, path, "out of memory") : 0;
}

// Training records (the loss fields) go to s, evaluation records (a number "fid") to e; a line
// may be both. Each series keeps, at a repeated iteration, the later record. A resumed run also
// starts its training records over below the last one: the evaluations logged at or after that
// iteration belong to the abandoned stretch and are dropped with it.
// *cut_line gets the number of a last line cut short (a run killed while writing it), skipped.
static int read_metrics(const char *path, series *s, series *e, long *cut_line, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) return path_error(err, errlen, path, "cannot open: %s", strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    while (!rc && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        int complete = line[len - 1] == '\n';
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)len, 0, &je);
        if (o && json_is_object(o)) {
            rc = read_record(o, lineno, s, e, path, err, errlen);
        } else if (!complete) {   // the trainer may be writing the last line right now, or was killed
            *cut_line = lineno;
            json_decref(o);
            break;
        } else {
            rc = path_error(err, errlen, path, "line %ld: not a JSON object%s%s", lineno, o ? "" : ": ", o ? "" : je.text);
        }
        json_decref(o);
    }
    if (!rc && ferror(f)) rc = path_error(err, errlen, path, "read error");
    if (!rc && s->n == 0)
        rc = path_error(err, errlen, path, "no records to plot%s", e->n ? " (FID evaluations only, no losses)" : "");
    free(line);
    fclose(f);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// Drawing

typedef struct { double x0, y0, w, h; double xmin, xmax, ymin, ymax; } panel;

static double px(const panel *p, double x) { return p->x0 + (x - p->xmin) / (p->xmax - p->xmin) * p->w; }
static double py(const panel *p, double y) { return p->y0 + p->h - (y - p->ymin) / (p->ymax - p->ymin) * p->h; }

// A tick spacing of 1, 2 or 5 times a power of ten giving about `target` intervals.
static double nice_step(double range, int target) {
    double raw = range / target, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

static void widen(double *lo, double *hi) {
    if (!(*hi > *lo)) { *lo -= 0.5; *hi += 0.5; }
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - te.width * ax - te.x_bearing, y - te.height * ay - te.y_bearing);
    cairo_show_text(cr, s);
}

static void format_tick(char *buf, size_t n, double v, double step) {
    if (fabs(v) < step * 1e-6) v = 0;
    if (fabs(v) >= 10000 && step >= 1000) snprintf(buf, n, "%gk", v / 1000);
    else snprintf(buf, n, "%g", v);
}

static void draw_axes(cairo_t *cr, const panel *p, const char *title, const char *ylabel, const char *xlabel) {
    cairo_set_font_size(cr, 12);
    cairo_set_line_width(cr, 1);
    double xs = fmax(1.0, nice_step(p->xmax - p->xmin, 8)), ys = nice_step(p->ymax - p->ymin, 5);   // whole iterations
    char buf[32];
    for (double v = ceil(p->xmin / xs) * xs; v <= p->xmax + xs * 1e-9; v += xs) {
        double x = px(p, v);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, p->y0);
        cairo_line_to(cr, x, p->y0 + p->h);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, p->y0 + p->h);
        cairo_line_to(cr, x, p->y0 + p->h + 5);
        cairo_stroke(cr);
        format_tick(buf, sizeof buf, v, xs);
        text_at(cr, x, p->y0 + p->h + 8, buf, 0.5, 0.0);
    }
    for (double v = ceil(p->ymin / ys) * ys; v <= p->ymax + ys * 1e-9; v += ys) {
        double y = py(p, v);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, p->x0, y);
        cairo_line_to(cr, p->x0 + p->w, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, p->x0 - 5, y);
        cairo_line_to(cr, p->x0, y);
        cairo_stroke(cr);
        format_tick(buf, sizeof buf, v, ys);
        text_at(cr, p->x0 - 8, y, buf, 1.0, 0.5);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 14);
    text_at(cr, p->x0 + p->w / 2, p->y0 - 10, title, 0.5, 1.0);
    cairo_set_font_size(cr, 12);
    if (xlabel) text_at(cr, p->x0 + p->w / 2, p->y0 + p->h + 26, xlabel, 0.5, 0.0);
    cairo_save(cr);
    cairo_translate(cr, p->x0 - 52, p->y0 + p->h / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, ylabel, 0.5, 1.0);
    cairo_restore(cr);
}

// A second y axis on the right edge of the panel, for p's y range: ticks, their values and the
// label; no grid lines (those of the left axis are already there).
static void draw_right_axis(cairo_t *cr, const panel *p, const char *ylabel) {
    cairo_set_font_size(cr, 12);
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    double ys = nice_step(p->ymax - p->ymin, 5), x = p->x0 + p->w, wmax = 0;
    char buf[32];
    for (double v = ceil(p->ymin / ys) * ys; v <= p->ymax + ys * 1e-9; v += ys) {
        double y = py(p, v);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + 5, y);
        cairo_stroke(cr);
        format_tick(buf, sizeof buf, v, ys);
        cairo_text_extents_t te;
        cairo_text_extents(cr, buf, &te);
        if (te.width > wmax) wmax = te.width;
        text_at(cr, x + 8, y, buf, 0.0, 0.5);
    }
    cairo_save(cr);
    cairo_translate(cr, x + 8 + wmax + 6, p->y0 + p->h / 2);
    cairo_rotate(cr, M_PI / 2);
    text_at(cr, 0, 0, ylabel, 0.5, 1.0);
    cairo_restore(cr);
}

static void draw_line(cairo_t *cr, const panel *p, const double *x, const double *y, long n, const double *rgb,
                      double alpha, double width) {
    cairo_save(cr);
    cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
    cairo_clip(cr);
    cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    if (n == 1) {   // a single record: a dot
        cairo_arc(cr, px(p, x[0]), py(p, y[0]), 3, 0, 2 * M_PI);
        cairo_fill(cr);
    } else {
        for (long i = 0; i < n; i++) {
            if (i == 0) cairo_move_to(cr, px(p, x[i]), py(p, y[i]));
            else cairo_line_to(cr, px(p, x[i]), py(p, y[i]));
        }
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}

enum { MARK_NONE, MARK_CIRCLE, MARK_SQUARE };

// A filled marker of radius r centred on (x, y), in the current source colour.
static void draw_marker(cairo_t *cr, double x, double y, int kind, double r) {
    cairo_new_sub_path(cr);
    if (kind == MARK_CIRCLE) cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    else if (kind == MARK_SQUARE) cairo_rectangle(cr, x - r, y - r, 2 * r, 2 * r);
    cairo_fill(cr);
}

typedef struct {
    const char *label;
    const double *rgb;
    int dashed, marker;
} legend_item;

// The legend box in the top-right corner of the panel: a line sample (dashed or not, with the
// series' marker on it) and the label for each item.
static void draw_legend_items(cairo_t *cr, const panel *p, const legend_item *item, int n) {
    cairo_set_font_size(cr, 12);
    double w = 0;
    for (int i = 0; i < n; i++) {
        cairo_text_extents_t te;
        cairo_text_extents(cr, item[i].label, &te);
        if (te.x_advance > w) w = te.x_advance;
    }
    double bw = w + 44, bh = 18.0 * n + 8, x = p->x0 + p->w - bw - 8, y = p->y0 + 8;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, x, y, bw, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        const double *c = item[i].rgb;
        double ly = y + 13 + 18.0 * i;
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        cairo_set_line_width(cr, 2.5);
        if (item[i].dashed) {
            static const double dash[] = {5, 3};
            cairo_set_dash(cr, dash, 2, 0);
        }
        cairo_move_to(cr, x + 6, ly);
        cairo_line_to(cr, x + 30, ly);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        if (item[i].marker) draw_marker(cr, x + 18, ly, item[i].marker, 3.5);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, x + 36, ly, item[i].label, 0.0, 0.5);
    }
}

static void draw_legend(cairo_t *cr, const panel *p, const int *which, int n) {
    legend_item item[NSERIES];
    for (int i = 0; i < n; i++) item[i] = (legend_item){legend[which[i]], colour[which[i]], 0, MARK_NONE};
    draw_legend_items(cr, p, item, n);
}

static void ema(double *out, const double *in, long n, double a) {
    double s = in[0];
    for (long i = 0; i < n; i++) out[i] = s = a * s + (1 - a) * in[i];
}

static void draw_panel(cairo_t *cr, panel *p, const series *s, double *const *sm, const int *which, int nw,
                       int fixed_range, double smooth, const char *title, const char *ylabel, const char *xlabel) {
    if (!fixed_range) {
        p->ymin = INFINITY;
        p->ymax = -INFINITY;
        for (int i = 0; i < nw; i++)
            for (long j = 0; j < s->n; j++) {
                double v = s->v[which[i]][j];
                if (isfinite(v) && v < p->ymin) p->ymin = v;
                if (isfinite(v) && v > p->ymax) p->ymax = v;
            }
        if (!isfinite(p->ymin)) { p->ymin = 0; p->ymax = 1; }
        widen(&p->ymin, &p->ymax);
        double m = 0.05 * (p->ymax - p->ymin);
        p->ymin -= m;
        p->ymax += m;
    }
    draw_axes(cr, p, title, ylabel, xlabel);
    for (int i = 0; i < nw; i++) {
        int k = which[i];
        if (smooth > 0) {
            draw_line(cr, p, s->iter, s->v[k], s->n, colour[k], 0.25, 1.0);
            draw_line(cr, p, s->iter, sm[k], s->n, colour[k], 1.0, 2.0);
        } else {
            draw_line(cr, p, s->iter, s->v[k], s->n, colour[k], 1.0, 1.5);
        }
    }
    draw_legend(cr, p, which, nw);
}

static const double fid_colour[3] = {0.00, 0.45, 0.55}, kid_colour[3] = {0.55, 0.34, 0.29},
                    best_colour[3] = {0.84, 0.15, 0.16};

static int any_kid(const series *e) {
    for (long j = 0; j < e->n; j++)
        if (isfinite(e->v[E_KID][j])) return 1;
    return 0;
}

// KID on its own scale on a right axis of p: dashed, square markers, +- kid_std as whiskers.
static void draw_kid(cairo_t *cr, const panel *p, const series *e) {
    panel k = *p;
    k.ymin = INFINITY;
    k.ymax = -INFINITY;
    for (long j = 0; j < e->n; j++) {
        double v = e->v[E_KID][j], sd = isfinite(e->v[E_KID_STD][j]) ? e->v[E_KID_STD][j] : 0;
        if (!isfinite(v)) continue;
        k.ymin = fmin(k.ymin, v - sd);
        k.ymax = fmax(k.ymax, v + sd);
    }
    widen(&k.ymin, &k.ymax);
    double m = 0.05 * (k.ymax - k.ymin);
    k.ymin -= m;
    k.ymax += m;
    draw_right_axis(cr, &k, "KID");
    // Records without KID break the line.
    cairo_set_source_rgb(cr, kid_colour[0], kid_colour[1], kid_colour[2]);
    cairo_set_line_width(cr, 1.5);
    static const double dash[] = {5, 3};
    cairo_set_dash(cr, dash, 2, 0);
    int pen = 0;
    for (long j = 0; j < e->n; j++) {
        double v = e->v[E_KID][j];
        if (!isfinite(v)) { pen = 0; continue; }
        if (pen) cairo_line_to(cr, px(&k, e->iter[j]), py(&k, v));
        else cairo_move_to(cr, px(&k, e->iter[j]), py(&k, v));
        pen = 1;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_width(cr, 1);
    for (long j = 0; j < e->n; j++) {
        double v = e->v[E_KID][j], sd = e->v[E_KID_STD][j], x = px(&k, e->iter[j]);
        if (!isfinite(v)) continue;
        if (isfinite(sd) && sd > 0) {
            cairo_move_to(cr, x, py(&k, v - sd));
            cairo_line_to(cr, x, py(&k, v + sd));
            cairo_move_to(cr, x - 3, py(&k, v - sd));
            cairo_line_to(cr, x + 3, py(&k, v - sd));
            cairo_move_to(cr, x - 3, py(&k, v + sd));
            cairo_line_to(cr, x + 3, py(&k, v + sd));
            cairo_stroke(cr);
        }
        draw_marker(cr, x, py(&k, v), MARK_SQUARE, 2.5);
    }
}

// FID's points joined by lines with a marker at each evaluation, and the best (lowest) one
// ringed and labelled with its value. The markers, the ring and the label are inside the y range
// and are left unclipped, so that those at the first and last iterations show whole.
static void draw_fid(cairo_t *cr, const panel *p, const series *e, long best) {
    if (e->n > 1) draw_line(cr, p, e->iter, e->v[E_FID], e->n, fid_colour, 1.0, 2.0);
    cairo_save(cr);
    cairo_set_source_rgb(cr, fid_colour[0], fid_colour[1], fid_colour[2]);
    for (long j = 0; j < e->n; j++) draw_marker(cr, px(p, e->iter[j]), py(p, e->v[E_FID][j]), MARK_CIRCLE, 3.5);
    double bx = px(p, e->iter[best]), by = py(p, e->v[E_FID][best]);
    cairo_set_source_rgb(cr, best_colour[0], best_colour[1], best_colour[2]);
    cairo_set_line_width(cr, 2);
    cairo_arc(cr, bx, by, 7, 0, 2 * M_PI);
    cairo_stroke(cr);
    char label[96];
    snprintf(label, sizeof label, "best FID %.2f at %.0f", e->v[E_FID][best], e->iter[best]);
    cairo_set_font_size(cr, 12);
    cairo_text_extents_t te;
    cairo_text_extents(cr, label, &te);
    double lx = fmax(p->x0 + 4, fmin(bx - te.width / 2, p->x0 + p->w - te.width - 4)), ly = by + 10;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, lx - 2, ly - 1, te.width + 4, te.height + 2);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, best_colour[0], best_colour[1], best_colour[2]);
    text_at(cr, lx, ly, label, 0.0, 0.0);
    cairo_restore(cr);
}

// The evaluation panel: FID on the left axis, KID (when the records have it) on a right axis.
static void draw_eval_panel(cairo_t *cr, panel *p, const series *e) {
    int kid = any_kid(e), std = 0;
    long best = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (long j = 0; j < e->n; j++) {
        double v = e->v[E_FID][j];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (v < e->v[E_FID][best]) best = j;
        if (isfinite(e->v[E_KID][j]) && isfinite(e->v[E_KID_STD][j])) std = 1;
    }
    widen(&lo, &hi);
    // Room under the lowest point for the label of the best FID.
    double r = hi - lo, mt = 0.05 * r, f = fmin(0.4, 26 / p->h);
    p->ymin = lo - f * (r + mt) / (1 - f);
    p->ymax = hi + mt;
    draw_axes(cr, p, kid ? "FID and KID (lower is better)" : "FID (lower is better)", "FID", "iteration");
    cairo_save(cr);
    if (kid) draw_kid(cr, p, e);
    cairo_restore(cr);
    draw_fid(cr, p, e, best);
    // The generator the FID was measured on, when every record says the same one.
    int g = e->n ? (int)e->v[E_G][0] : GEN_UNSAID;
    for (long j = 1; j < e->n; j++)
        if ((int)e->v[E_G][j] != g) g = GEN_UNSAID;
    legend_item item[2] = {{g == GEN_EMA ? "FID (EMA of G)" : g == GEN_G ? "FID (G)" : "FID", fid_colour, 0, MARK_CIRCLE},
                           {std ? "KID (right axis, +- std)" : "KID (right axis)", kid_colour, 1, MARK_SQUARE}};
    draw_legend_items(cr, p, item, kid ? 2 : 1);
}

// The panels on a W x H page: losses, D's outputs and, when there are evaluations, FID (and KID).
static void draw_page(cairo_t *cr, int W, int H, const series *s, const series *e, double *const *sm, double smooth) {
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    double xmin = s->iter[0], xmax = s->iter[s->n - 1];
    if (e->n) {
        xmin = fmin(xmin, e->iter[0]);
        xmax = fmax(xmax, e->iter[e->n - 1]);
    }
    widen(&xmin, &xmax);
    // Three panels when there are evaluations: the two upper ones leave the "iteration" label
    // to the bottom one, so the gaps between panels are narrower; KID's axis needs a right margin.
    int np = e->n ? 3 : 2;
    double left = 80, right = e->n && any_kid(e) ? 72 : 20, top = 40, gap = e->n ? 58 : 80, bottom = 55;
    const char *xlabel = e->n ? NULL : "iteration";
    double ph = (H - top - (np - 1) * gap - bottom) / np;
    panel top_p = {left, top, W - left - right, ph, xmin, xmax, 0, 0};
    panel bot_p = {left, top + ph + gap, W - left - right, ph, xmin, xmax, -0.02, 1.02};
    panel ev_p = {left, top + 2 * (ph + gap), W - left - right, ph, xmin, xmax, 0, 0};
    static const int losses[] = {S_LOSS_D, S_LOSS_G}, douts[] = {S_D_X, S_D_G_Z1, S_D_G_Z2};
    char title[160];
    if (smooth > 0) snprintf(title, sizeof title, "Losses (faint: raw, solid: EMA %.3g)", smooth);
    else snprintf(title, sizeof title, "Losses");
    draw_panel(cr, &top_p, s, sm, losses, 2, 0, smooth, title, "loss", xlabel);
    draw_panel(cr, &bot_p, s, sm, douts, 3, 1, smooth, "Discriminator outputs (mean sigmoid)", "D output", xlabel);
    if (e->n) draw_eval_panel(cr, &ev_p, e);
}

// Atomic replace: the trainer refreshes the plot while someone may be looking at it.
static int write_png(cairo_surface_t *surf, const char *png_path, char *err, size_t errlen) {
    size_t tn = strlen(png_path) + 32;
    char *tmp = malloc(tn);
    if (!tmp) return set_error(err, errlen, "out of memory");
    snprintf(tmp, tn, "%s.tmp.%ld", png_path, (long)getpid());
    cairo_status_t st = cairo_surface_write_to_png(surf, tmp);
    int rc = 0;
    if (st) rc = path_error(err, errlen, png_path, "cannot write: %s", cairo_status_to_string(st));
    else if (rename(tmp, png_path)) rc = path_error(err, errlen, png_path, "cannot write: %s", strerror(errno));
    if (rc) remove(tmp);
    free(tmp);
    return rc;
}

// The page drawn on a new surface and written to png_path.
static int render(const char *png_path, int W, int H, const series *s, const series *e, double *const *sm,
                  double smooth, char *err, size_t errlen) {
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    int rc = 0;
    if (cairo_surface_status(surf)) {
        rc = path_error(err, errlen, png_path, "cannot create the drawing surface: %s",
                        cairo_status_to_string(cairo_surface_status(surf)));
    } else {
        cairo_t *cr = cairo_create(surf);
        draw_page(cr, W, H, s, e, sm, smooth);
        cairo_status_t st = cairo_status(cr);
        cairo_destroy(cr);
        rc = st ? path_error(err, errlen, png_path, "drawing failed: %s", cairo_status_to_string(st))
                : write_png(surf, png_path, err, errlen);
    }
    cairo_surface_destroy(surf);
    return rc;
}

int plot_metrics(const char *metrics_path, const char *png_path, const plot_options *o,
                 plot_summary *summary, char *err, size_t errlen) {
    plot_options d = {1000, 700, 0.0};
    if (!o) o = &d;
    int W = o->width > 0 ? o->width : d.width, H = o->height > 0 ? o->height : d.height;
    if (W < 300 || H < 240 || W > 10000 || H > 10000)
        return set_error(err, errlen, "plot size %dx%d is outside 300x240 .. 10000x10000", W, H);
    if (!(o->smooth >= 0 && o->smooth < 1)) return set_error(err, errlen, "smoothing must be in [0, 1), got %g", o->smooth);
    series s, e;
    memset(&s, 0, sizeof s);
    memset(&e, 0, sizeof e);
    s.nv = NSERIES;
    e.nv = NEVAL;
    long cut_line = 0;
    double *sm[NSERIES] = {0};
    int rc = read_metrics(metrics_path, &s, &e, &cut_line, err, errlen);
    for (int k = 0; !rc && o->smooth > 0 && k < NSERIES; k++) {
        if (!(sm[k] = malloc((size_t)s.n * sizeof(double)))) rc = set_error(err, errlen, "out of memory");
        else ema(sm[k], s.v[k], s.n, o->smooth);
    }
    if (!rc) rc = render(png_path, W, H, &s, &e, sm, o->smooth, err, errlen);
    if (!rc && summary) *summary = (plot_summary){.records = (int)s.n, .cut_line = cut_line};
    for (int k = 0; k < NSERIES; k++) free(sm[k]);
    series_free(&s);
    series_free(&e);
    return rc;
}
