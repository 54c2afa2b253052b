// PNG reading and writing with libpng; libpng errors longjmp back into the calling function.
// One reading core (png_decode) serves files (png_read) and the dataset decoder's memory buffers.
#include "dcgan/error.h"
#include "dcgan/io.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// State shared with the libpng callbacks. Everything that changes after setjmp lives here
// (not in locals of the function calling setjmp), so it is still valid after a longjmp.
typedef struct {
    png_structp png;
    png_infop info;
    FILE *fp;                   // writing
    const png_source *src;      // reading
    uint8_t *pixels;
    png_bytep *rows;
    char msg[256];
} png_ctx;

static void on_error(png_structp png, png_const_charp msg) {
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

// Warnings (e.g. unknown chunks, bad gamma) do not stop decoding; stay quiet.
static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static png_bytep *row_pointers(uint8_t *pixels, int height, size_t stride) {
    png_bytep *rows = malloc((size_t)height * sizeof *rows);
    for (int y = 0; rows && y < height; y++) rows[y] = pixels + (size_t)y * stride;
    return rows;
}

// ---------------------------------------------------------------------------------------------
// Writing

static int color_type(int channels) {
    switch (channels) {
    case 1: return PNG_COLOR_TYPE_GRAY;
    case 2: return PNG_COLOR_TYPE_GRAY_ALPHA;
    case 3: return PNG_COLOR_TYPE_RGB;
    default: return PNG_COLOR_TYPE_RGB_ALPHA;
    }
}

// Encodes into ctx->fp; returns 0, or -1 with ctx->msg set by the error callback.
static int encode(png_ctx *ctx, int width, int height, int channels) {
    ctx->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_error, on_warning);
    if (!ctx->png) { snprintf(ctx->msg, sizeof ctx->msg, "cannot create PNG writer"); return -1; }
    ctx->info = png_create_info_struct(ctx->png);
    if (!ctx->info) { snprintf(ctx->msg, sizeof ctx->msg, "cannot create PNG info"); return -1; }
    if (setjmp(png_jmpbuf(ctx->png))) return -1;
    png_init_io(ctx->png, ctx->fp);
    png_set_IHDR(ctx->png, ctx->info, (png_uint_32)width, (png_uint_32)height, 8,
                 color_type(channels), PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(ctx->png, ctx->info);
    png_write_image(ctx->png, ctx->rows);
    png_write_end(ctx->png, NULL);
    return 0;
}

static char *temp_name(const char *path) {
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp) snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    return tmp;
}

// Encodes to tmp, syncs and closes it; returns a static description of the failing step.
static const char *write_temp(png_ctx *ctx, const char *tmp, int width, int height, int channels,
                              int *saved_errno) {
    ctx->fp = fopen(tmp, "wb");
    if (!ctx->fp) { *saved_errno = errno; return "cannot create temporary file"; }
    const char *what = NULL;
    errno = 0;   // libpng's "Write Error" leaves the reason of the failed fwrite here
    if (encode(ctx, width, height, channels)) what = "PNG encoding failed";
    else if (fflush(ctx->fp)) what = "flush failed";
    else if (fsync(fileno(ctx->fp))) what = "fsync failed";
    *saved_errno = errno;
    if (ctx->png) png_destroy_write_struct(&ctx->png, ctx->info ? &ctx->info : NULL);
    if (fclose(ctx->fp) && !what) { what = "close failed"; *saved_errno = errno; }
    ctx->fp = NULL;
    return what;
}

int png_write(const char *path, const uint8_t *pixels, int width, int height, int channels,
              char *err, size_t errlen) {
    if (!pixels || width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
        width > PNG_USER_WIDTH_MAX || height > PNG_USER_HEIGHT_MAX)
        return path_error(err, errlen, path, "invalid image %dx%d with %d channels", width, height,
                          channels);
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    // libpng only reads the rows; the cast drops const for its row-pointer type.
    ctx.rows = row_pointers((uint8_t *)pixels, height, (size_t)width * (size_t)channels);
    char *tmp = temp_name(path);
    if (!ctx.rows || !tmp) {
        free(ctx.rows);
        free(tmp);
        return path_error(err, errlen, path, "out of memory");
    }
    int e = 0;
    const char *what = write_temp(&ctx, tmp, width, height, channels, &e);
    if (!what && rename(tmp, path)) { what = "rename failed"; e = errno; }
    int rc = 0;
    if (what) {
        if (ctx.msg[0] && e) rc = path_error(err, errlen, path, "%s: %s: %s", what, ctx.msg, strerror(e));
        else if (ctx.msg[0]) rc = path_error(err, errlen, path, "%s: %s", what, ctx.msg);
        else rc = path_error(err, errlen, path, "%s: %s", what, strerror(e));
        remove(tmp);
    }
    free(ctx.rows);
    free(tmp);
    return rc;
}

int png_encode(const uint8_t *pixels, int width, int height, int channels, uint8_t **out, size_t *len,
               char *err, size_t errlen) {
    *out = NULL;
    *len = 0;
    if (!pixels || width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
        width > PNG_USER_WIDTH_MAX || height > PNG_USER_HEIGHT_MAX)
        return set_error(err, errlen, "PNG: invalid image %dx%d with %d channels", width, height, channels);
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    char *buf = NULL;
    size_t n = 0;
    ctx.rows = row_pointers((uint8_t *)pixels, height, (size_t)width * (size_t)channels);
    ctx.fp = ctx.rows ? open_memstream(&buf, &n) : NULL;   // the same encoder, into memory
    if (!ctx.fp) {
        free(ctx.rows);
        return set_error(err, errlen, "PNG: out of memory");
    }
    int rc = encode(&ctx, width, height, channels);
    if (ctx.png) png_destroy_write_struct(&ctx.png, ctx.info ? &ctx.info : NULL);
    if (fclose(ctx.fp) && !rc) rc = -1;
    free(ctx.rows);
    if (rc) {
        free(buf);
        return set_error(err, errlen, "PNG encoding failed: %s", ctx.msg[0] ? ctx.msg : "out of memory");
    }
    *out = (uint8_t *)buf;
    *len = n;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Reading

static void read_data(png_structp png, png_bytep out, size_t n) {
    png_ctx *ctx = png_get_io_ptr(png);
    const char *why = ctx->src->read(ctx->src->ctx, out, n);
    if (why) png_error(png, why);
}

// Requests 8-bit gray, gray+alpha, RGB or RGBA output whatever the stored format.
static void set_transforms(png_structp png, png_infop info, int high_byte) {
    png_set_expand(png);   // palette -> RGB, gray < 8 bit -> 8 bit, tRNS -> alpha
    if (png_get_bit_depth(png, info) == 16) {
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
        if (!high_byte) png_set_scale_16(png);
        else png_set_strip_16(png);
#else
        (void)high_byte;
        png_set_strip_16(png);
#endif
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

static int decode(png_ctx *ctx, int *width, int *height, int *channels) {
    if (setjmp(png_jmpbuf(ctx->png))) return -1;
    const png_source *src = ctx->src;
    png_set_read_fn(ctx->png, ctx, read_data);
    png_set_sig_bytes(ctx->png, 8);
    if (src->max_side) png_set_user_limits(ctx->png, src->max_side, src->max_side);
    png_read_info(ctx->png, ctx->info);
    png_uint_32 w = png_get_image_width(ctx->png, ctx->info);
    png_uint_32 h = png_get_image_height(ctx->png, ctx->info);
    if (src->max_pixels && (w == 0 || h == 0 || (uint64_t)w * h > src->max_pixels))
        png_error(ctx->png, "image too large (pixel limit)");
    set_transforms(ctx->png, ctx->info, src->high_byte);
    int c = png_get_channels(ctx->png, ctx->info);
    size_t stride = png_get_rowbytes(ctx->png, ctx->info);
    if (c < 1 || c > 4 || stride != (size_t)w * (size_t)c || (size_t)h > SIZE_MAX / stride)
        png_error(ctx->png, "unsupported pixel layout after expansion");
    ctx->pixels = malloc((size_t)h * stride);
    if (!ctx->pixels) png_error(ctx->png, "out of memory for pixels");
    ctx->rows = row_pointers(ctx->pixels, (int)h, stride);
    if (!ctx->rows) png_error(ctx->png, "out of memory for row pointers");
    png_read_image(ctx->png, ctx->rows);
    png_read_end(ctx->png, NULL);
    *width = (int)w;
    *height = (int)h;
    *channels = c;
    return 0;
}

int png_decode(const png_source *src, uint8_t **pixels, int *width, int *height, int *channels,
               char *msg, size_t msglen) {
    *pixels = NULL;
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.src = src;
    int rc = -2;
    ctx.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!ctx.png) snprintf(ctx.msg, sizeof ctx.msg, "cannot create PNG reader");
    else if (!(ctx.info = png_create_info_struct(ctx.png)))
        snprintf(ctx.msg, sizeof ctx.msg, "cannot create PNG info");
    else rc = decode(&ctx, width, height, channels);
    if (ctx.png) png_destroy_read_struct(&ctx.png, ctx.info ? &ctx.info : NULL, NULL);
    free(ctx.rows);
    if (rc) {
        free(ctx.pixels);
        set_error(msg, msglen, "%s", ctx.msg);
        return rc;
    }
    *pixels = ctx.pixels;
    return 0;
}

// Like libpng's default reader, but names the usual cause of a short read.
static const char *read_file(void *fp, uint8_t *out, size_t n) {
    if (fread(out, 1, n, fp) == n) return NULL;
    return ferror(fp) ? "read error" : "truncated (unexpected end of file)";
}

int png_read(const char *path, uint8_t **pixels, int *width, int *height, int *channels,
             char *err, size_t errlen) {
    *pixels = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return path_error(err, errlen, path, "cannot open: %s", strerror(errno));
    png_byte sig[8];
    size_t got = fread(sig, 1, 8, fp);
    if (got != 8 || png_sig_cmp(sig, 0, 8)) {
        int rerr = ferror(fp), e = errno;
        fclose(fp);
        if (rerr) return path_error(err, errlen, path, "read error: %s", strerror(e));
        if (got < 8) return path_error(err, errlen, path, "truncated or not a PNG (%zu bytes)",
                                       got);
        return path_error(err, errlen, path, "not a PNG file (bad signature)");
    }
    png_source src = {.read = read_file, .ctx = fp};
    char msg[256];
    int rc = png_decode(&src, pixels, width, height, channels, msg, sizeof msg);
    fclose(fp);   // read-only stream: nothing to lose on a failed close
    if (rc) return path_error(err, errlen, path, "invalid PNG: %s", msg);
    return 0;
}
