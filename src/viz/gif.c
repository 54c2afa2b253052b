// The animation of a run's fixed-noise grids (samples_<iter>.png) as a looping GIF with giflib.
#include <dirent.h>
#include <errno.h>
#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/error.h"
#include "dcgan/viz.h"
#include "dcgan/io.h"

#define MAX_FRAMES 300
#define LAST_FRAME_DELAY_CS 200

typedef struct { long iter; char name[280]; } frame_file;

static int by_iter(const void *a, const void *b) {
    long x = ((const frame_file *)a)->iter, y = ((const frame_file *)b)->iter;
    return (x > y) - (x < y);
}

// samples_<digits>.png in dir, sorted by iteration. Returns the count, or -1.
static int list_frames(const char *dir, frame_file **out, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) return path_error(err, errlen, dir, "cannot open: %s", strerror(errno));
    frame_file *f = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        size_t len = strlen(s);
        if (len < 13 || len >= sizeof f->name || strncmp(s, "samples_", 8) || strcmp(s + len - 4, ".png")) continue;
        size_t digits = strspn(s + 8, "0123456789");
        if (digits == 0 || digits != len - 12) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            frame_file *p = realloc(f, (size_t)cap * sizeof *f);
            if (!p) { free(f); closedir(d); set_error(err, errlen, "out of memory"); return -1; }
            f = p;
        }
        f[n].iter = strtol(s + 8, NULL, 10);
        snprintf(f[n].name, sizeof f[n].name, "%s", s);
        n++;
    }
    closedir(d);
    if (n == 0) { free(f); path_error(err, errlen, dir, "no samples_<iteration>.png grids to animate"); return -1; }
    qsort(f, (size_t)n, sizeof *f, by_iter);
    *out = f;
    return n;
}

// Fixed 6x7x6 colour cube with Floyd-Steinberg error diffusion: the fallback when the median-cut
// quantizer is missing or fails.
static void quantize_fixed(const uint8_t *rgb, int w, int h, uint8_t *idx, GifColorType *map) {
    static const int NR = 6, NG = 7, NB = 6;
    for (int i = 0; i < 256; i++) map[i].Red = map[i].Green = map[i].Blue = 0;
    for (int r = 0; r < NR; r++)
        for (int g = 0; g < NG; g++)
            for (int b = 0; b < NB; b++) {
                GifColorType *c = &map[(r * NG + g) * NB + b];
                c->Red = (GifByteType)(r * 255 / (NR - 1));
                c->Green = (GifByteType)(g * 255 / (NG - 1));
                c->Blue = (GifByteType)(b * 255 / (NB - 1));
            }
    float *errs = calloc((size_t)2 * (w + 2) * 3, sizeof(float));   // this row's and the next row's error
    for (int y = 0; y < h; y++) {
        float *cur = errs ? errs + (size_t)(y & 1) * (w + 2) * 3 : NULL;
        float *nxt = errs ? errs + (size_t)((y + 1) & 1) * (w + 2) * 3 : NULL;
        if (nxt) memset(nxt, 0, (size_t)(w + 2) * 3 * sizeof(float));
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            float want[3];
            int q[3];
            static const int levels[3] = {6, 7, 6};
            for (int c = 0; c < 3; c++) {
                float v = p[c] + (cur ? cur[(x + 1) * 3 + c] : 0);
                if (v < 0) v = 0;
                if (v > 255) v = 255;
                want[c] = v;
                q[c] = (int)(v * (levels[c] - 1) / 255.0f + 0.5f);
            }
            int k = (q[0] * NG + q[1]) * NB + q[2];
            idx[(size_t)y * w + x] = (uint8_t)k;
            if (!cur) continue;
            float got[3] = {map[k].Red, map[k].Green, map[k].Blue};
            for (int c = 0; c < 3; c++) {
                float e = want[c] - got[c];
                cur[(x + 2) * 3 + c] += e * 7 / 16;
                nxt[x * 3 + c] += e * 3 / 16;
                nxt[(x + 1) * 3 + c] += e * 5 / 16;
                nxt[(x + 2) * 3 + c] += e * 1 / 16;
            }
        }
    }
    free(errs);
}

// Indices into a 256-entry palette for one frame. Gray frames use the exact gray ramp.
static int quantize(const uint8_t *px, int w, int h, int c, uint8_t *idx, GifColorType *map) {
    size_t n = (size_t)w * h;
    if (c <= 2) {   // gray (+ alpha, dropped)
        for (size_t i = 0; i < n; i++) idx[i] = px[i * c];
        for (int i = 0; i < 256; i++) map[i].Red = map[i].Green = map[i].Blue = (GifByteType)i;
        return 0;
    }
    uint8_t *rgb = malloc(n * 3);
    if (!rgb) return -1;
    for (size_t i = 0; i < n; i++) memcpy(rgb + i * 3, px + i * c, 3);   // RGBA: alpha dropped
#ifdef DCGAN_HAVE_GIF_QUANTIZE
    GifByteType *planes = malloc(n * 3);
    int size = 256, ok = 0;
    if (planes) {
        for (size_t i = 0; i < n; i++) {
            planes[i] = rgb[i * 3];
            planes[n + i] = rgb[i * 3 + 1];
            planes[2 * n + i] = rgb[i * 3 + 2];
        }
        for (int i = 0; i < 256; i++) map[i].Red = map[i].Green = map[i].Blue = 0;
        ok = GifQuantizeBuffer((unsigned)w, (unsigned)h, &size, planes, planes + n, planes + 2 * n, idx, map) == GIF_OK;
        free(planes);
    }
    if (!ok) quantize_fixed(rgb, w, h, idx, map);
#else
    quantize_fixed(rgb, w, h, idx, map);
#endif
    free(rgb);
    return 0;
}

// giflib failures: the step and giflib's description of the error code.
static int gif_fail(char *err, size_t errlen, const char *path, const char *what, int code) {
    const char *why = GifErrorString(code);
    path_error(err, errlen, path, "%s: %s", what, why ? why : "unknown giflib error");
    return -1;
}

static int put_loop_extension(GifFileType *gif) {
    static const GifByteType loop[3] = {1, 0, 0};   // sub-block 1: loop count 0 = forever
    if (EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR) return -1;
    if (EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") == GIF_ERROR) return -1;
    if (EGifPutExtensionBlock(gif, 3, loop) == GIF_ERROR) return -1;
    return EGifPutExtensionTrailer(gif) == GIF_ERROR ? -1 : 0;
}

static int put_frame(GifFileType *gif, const uint8_t *idx, int w, int h, const GifColorType *colors,
                     int delay_cs) {
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSE_DO_NOT, .UserInputFlag = false,
                                .DelayTime = delay_cs, .TransparentColor = NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, ext) == GIF_ERROR) return -1;
    ColorMapObject *map = GifMakeMapObject(256, colors);
    if (!map) return -1;
    int rc = EGifPutImageDesc(gif, 0, 0, w, h, false, map) == GIF_ERROR ? -1 : 0;
    GifFreeMapObject(map);
    for (int y = 0; !rc && y < h; y++)
        if (EGifPutLine(gif, (GifPixelType *)idx + (size_t)y * w, w) == GIF_ERROR) rc = -1;
    return rc;
}

int progress_gif(const char *run_dir, const char *gif_path, int delay_cs, int *frames,
                 char *err, size_t errlen) {
    frame_file *files = NULL;
    int nfiles = list_frames(run_dir, &files, err, errlen);
    if (nfiles < 0) return -1;
    // Evenly spaced frames, the last grid always among them.
    int nout = nfiles < MAX_FRAMES ? nfiles : MAX_FRAMES;
    char tmp[4200], path[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", gif_path, (long)getpid());
    uint8_t *px = NULL, *idx = NULL;
    GifColorType *colors = calloc(256, sizeof *colors);
    GifFileType *gif = NULL;
    int W = 0, H = 0, C = 0, rc = -1, code = 0;
    if (!colors) { set_error(err, errlen, "out of memory"); goto done; }
    for (int k = 0; k < nout; k++) {
        int f = nout == 1 ? nfiles - 1 : (int)((long)k * (nfiles - 1) / (nout - 1));
        int w, h, c;
        snprintf(path, sizeof path, "%s/%s", run_dir, files[f].name);
        free(px);
        px = NULL;
        if (png_read(path, &px, &w, &h, &c, err, errlen)) goto done;
        if (k == 0) {
            W = w; H = h; C = c;
            if (!(idx = malloc((size_t)W * H))) { set_error(err, errlen, "out of memory"); goto done; }
            if (!(gif = EGifOpenFileName(tmp, false, &code))) { gif_fail(err, errlen, gif_path, "cannot create", code); goto done; }
            EGifSetGifVersion(gif, true);   // GIF89a: frame delays and looping
            if (EGifPutScreenDesc(gif, W, H, 8, 0, NULL) == GIF_ERROR || put_loop_extension(gif)) {
                gif_fail(err, errlen, gif_path, "cannot write the header", gif->Error);
                goto done;
            }
        } else if (w != W || h != H || c != C) {
            path_error(err, errlen, path, "%dx%d with %d channel(s), unlike the first grid's %dx%d with %d; "
                       "grids of different runs in one directory?", w, h, c, W, H, C);
            goto done;
        }
        if (quantize(px, W, H, C, idx, colors)) { set_error(err, errlen, "out of memory"); goto done; }
        if (put_frame(gif, idx, W, H, colors, k == nout - 1 ? LAST_FRAME_DELAY_CS : delay_cs)) {
            gif_fail(err, errlen, gif_path, "cannot write a frame", gif->Error);
            goto done;
        }
    }
    rc = 0;
done:
    if (gif) {
        int close_code = 0;
        if (EGifCloseFile(gif, &close_code) == GIF_ERROR && rc == 0) rc = gif_fail(err, errlen, gif_path, "cannot finish", close_code);
    }
    if (rc == 0 && rename(tmp, gif_path)) {
        rc = path_error(err, errlen, gif_path, "cannot write: %s", strerror(errno));
    }
    if (rc) remove(tmp);
    else if (frames) *frames = nout;
    free(px);
    free(idx);
    free(colors);
    free(files);
    return rc;
}
