// Image decoding from memory: PNG (libpng, through io's png_decode), JPEG (libjpeg-turbo), WebP
// (libwebp), chosen by the first bytes. Output is planar 8-bit gray or RGB, converted the way
// PIL's Image.convert does, so that the preprocessing matches torchvision's loaders.
#include "dcgan/data.h"
#include "dcgan/error.h"
#include "dcgan/io.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <webp/decode.h>

image_format image_sniff(const uint8_t *b, size_t n) {
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return IMAGE_PNG;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return IMAGE_JPEG;
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) return IMAGE_WEBP;
    return IMAGE_UNKNOWN;
}

static int too_big(unsigned w, unsigned h) {
    return w == 0 || h == 0 || (uint64_t)w * h > IMAGE_MAX_PIXELS;
}

// Interleaved [h, w, ic] (ic = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) -> planar [nc, h, w].
// Alpha is dropped; RGB -> L uses PIL's fixed-point ITU-R 601-2 weights.
static void to_planar(uint8_t *dst, const uint8_t *src, int w, int h, int ic, int nc) {
    size_t plane = (size_t)w * h;
    for (size_t i = 0; i < plane; i++) {
        const uint8_t *p = src + i * (size_t)ic;
        if (ic <= 2) {
            for (int c = 0; c < nc; c++) dst[c * plane + i] = p[0];
        } else if (nc == 3) {
            dst[i] = p[0];
            dst[plane + i] = p[1];
            dst[2 * plane + i] = p[2];
        } else {
            dst[i] = (uint8_t)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
        }
    }
}

// Converts a decoded interleaved buffer and hands out the planar result.
static int finish(uint8_t *inter, int w, int h, int ic, int nc, uint8_t **out, int *ow, int *oh,
                  char *why, size_t n) {
    uint8_t *planar = malloc((size_t)w * h * nc);
    if (!planar) { free(inter); return set_error(why, n, "out of memory for %dx%d pixels", w, h); }
    to_planar(planar, inter, w, h, ic, nc);
    free(inter);
    *out = planar;
    *ow = w;
    *oh = h;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// PNG

typedef struct {
    const uint8_t *buf;
    size_t len, pos;
} mem_stream;

static const char *read_mem(void *ctx, uint8_t *out, size_t n) {
    mem_stream *m = ctx;
    if (n > m->len - m->pos) return "truncated (unexpected end of data)";
    memcpy(out, m->buf + m->pos, n);
    m->pos += n;
    return NULL;
}

int image_decode_png(const uint8_t *buf, size_t len, int nc, uint8_t **out, int *w, int *h,
                     char *why, size_t whylen) {
    *out = NULL;
    if (image_sniff(buf, len) != IMAGE_PNG) return set_error(why, whylen, "not a PNG file");
    mem_stream m = {.buf = buf, .len = len, .pos = 8};   // past the signature
    // PIL keeps the high byte of 16-bit samples.
    png_source src = {.read = read_mem, .ctx = &m, .max_side = 1u << 20,
                      .max_pixels = IMAGE_MAX_PIXELS, .high_byte = 1};
    uint8_t *pixels = NULL;
    int ic = 0;
    char msg[256];
    int rc = png_decode(&src, &pixels, w, h, &ic, msg, sizeof msg);
    if (rc == -2) return set_error(why, whylen, "out of memory for a PNG reader");
    if (rc) return set_error(why, whylen, "invalid PNG: %s", msg);
    return finish(pixels, *w, *h, ic, nc, out, w, h, why, whylen);
}

// ---------------------------------------------------------------------------------------------
// JPEG

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

// libjpeg reports a truncated file as a warning and pads with gray; PIL refuses such files,
// so that warning is an error here. Other warnings (e.g. stray bytes) are tolerated, as by PIL.
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_on_error(cinfo);
}

typedef struct {
    uint8_t *pixels;
} jpeg_out;

static int jpeg_run(struct jpeg_decompress_struct *ci, jpeg_err *je, jpeg_out *o,
                    const uint8_t *buf, size_t len, int *w, int *h, int *ic) {
    if (setjmp(je->jump)) return -1;
    jpeg_create_decompress(ci);
    jpeg_mem_src(ci, buf, (unsigned long)len);
    jpeg_read_header(ci, TRUE);
    if (too_big(ci->image_width, ci->image_height)) {
        snprintf(je->msg, sizeof je->msg, "image too large (pixel limit)");
        return -1;
    }
    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = cmyk ? JCS_CMYK : ci->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(ci);
    int c = ci->output_components;
    size_t stride = (size_t)ci->output_width * c;
    o->pixels = malloc(stride * ci->output_height);
    if (!o->pixels) {
        snprintf(je->msg, sizeof je->msg, "out of memory");
        return -1;
    }
    while (ci->output_scanline < ci->output_height) {
        JSAMPROW row = o->pixels + (size_t)ci->output_scanline * stride;
        jpeg_read_scanlines(ci, &row, 1);
    }
    jpeg_finish_decompress(ci);
    *w = (int)ci->output_width;
    *h = (int)ci->output_height;
    *ic = c;
    if (cmyk) {   // Adobe's inverted CMYK, as PIL reads it: R = C * K / 255
        size_t npx = (size_t)*w * *h;
        for (size_t i = 0; i < npx; i++) {
            const uint8_t *p = o->pixels + 4 * i;
            uint8_t *q = o->pixels + 3 * i;
            unsigned k = p[3];
            uint8_t r = (uint8_t)(p[0] * k / 255), g = (uint8_t)(p[1] * k / 255),
                    b = (uint8_t)(p[2] * k / 255);
            q[0] = r; q[1] = g; q[2] = b;
        }
        *ic = 3;
    }
    return 0;
}

int image_decode_jpeg(const uint8_t *buf, size_t len, int nc, uint8_t **out, int *w, int *h,
                      char *why, size_t whylen) {
    *out = NULL;
    if (len < 3 || buf[0] != 0xFF || buf[1] != 0xD8) return set_error(why, whylen, "not a JPEG file");
    struct jpeg_decompress_struct ci;
    jpeg_err je;
    memset(&ci, 0, sizeof ci);
    memset(&je, 0, sizeof je);
    ci.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jpeg_on_error;
    je.pub.emit_message = jpeg_on_message;
    jpeg_out o = {0};
    int ic = 0, rc = jpeg_run(&ci, &je, &o, buf, len, w, h, &ic);
    jpeg_destroy_decompress(&ci);
    if (rc) {
        free(o.pixels);
        return set_error(why, whylen, "invalid JPEG: %s", je.msg);
    }
    return finish(o.pixels, *w, *h, ic, nc, out, w, h, why, whylen);
}

// ---------------------------------------------------------------------------------------------
// WebP

int image_decode_webp(const uint8_t *buf, size_t len, int nc, uint8_t **out, int *w, int *h,
                      char *why, size_t whylen) {
    *out = NULL;
    WebPBitstreamFeatures f;
    if (WebPGetFeatures(buf, len, &f) != VP8_STATUS_OK)
        return set_error(why, whylen, "invalid WebP: bad header");
    if (f.has_animation) return set_error(why, whylen, "animated WebP is not supported");
    if (too_big((unsigned)f.width, (unsigned)f.height))
        return set_error(why, whylen, "invalid WebP: image too large (pixel limit)");
    size_t stride = (size_t)f.width * 3, bytes = stride * (size_t)f.height;
    uint8_t *rgb = malloc(bytes);
    if (!rgb) return set_error(why, whylen, "out of memory");
    // RGB output discards alpha without blending, as PIL's convert("RGB") does.
    if (!WebPDecodeRGBInto(buf, len, rgb, bytes, (int)stride)) {
        free(rgb);
        return set_error(why, whylen, "invalid WebP: cannot decode (corrupt or truncated)");
    }
    return finish(rgb, f.width, f.height, 3, nc, out, w, h, why, whylen);
}

int image_decode(const uint8_t *buf, size_t len, int nc, uint8_t **out, int *w, int *h,
                 char *why, size_t whylen) {
    *out = NULL;
    if (nc != 1 && nc != 3) return set_error(why, whylen, "channel count %d not supported", nc);
    switch (image_sniff(buf, len)) {
    case IMAGE_PNG: return image_decode_png(buf, len, nc, out, w, h, why, whylen);
    case IMAGE_JPEG: return image_decode_jpeg(buf, len, nc, out, w, h, why, whylen);
    case IMAGE_WEBP: return image_decode_webp(buf, len, nc, out, w, h, why, whylen);
    default: return set_error(why, whylen, len ? "not a PNG, JPEG or WebP image" : "empty file");
    }
}
