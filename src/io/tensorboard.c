// TensorBoard event files: TFRecord framing around protobuf Event messages (protobuf-c, generated
// from tensorboard.proto). A record is u64 length, u32 masked CRC32C of the length, the data, u32
// masked CRC32C of the data, all little-endian (tensorflow/core/lib/io/record_writer.cc).
#include "dcgan/error.h"
#include "dcgan/io.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tensorboard.pb-c.h"

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord uses it.
static uint32_t crc_table[256];

static void make_crc_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t crc32c(const void *data, size_t n) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_crc_table);
    const uint32_t *table = crc_table;
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

// TFRecord's mask: a rotation and a constant, so that a CRC of data holding CRCs stays strong.
static uint32_t masked_crc(const void *data, size_t n) {
    uint32_t c = crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static void put_le(uint8_t *out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) out[i] = (uint8_t)(v >> (8 * i));
}

static int write_record(tb_writer *w, const uint8_t *data, size_t n, char *err, size_t errlen) {
    uint8_t head[12], tail[4];
    put_le(head, n, 8);
    put_le(head + 8, masked_crc(head, 8), 4);
    put_le(tail, masked_crc(data, n), 4);
    if (fwrite(head, 1, 12, w->fp) != 12 || fwrite(data, 1, n, w->fp) != n || fwrite(tail, 1, 4, w->fp) != 4)
        return path_error(err, errlen, w->path, "write failed: %s", strerror(errno));
    return 0;
}

static int write_event(tb_writer *w, Tensorboard__Event *ev, char *err, size_t errlen) {
    size_t n = tensorboard__event__get_packed_size(ev);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return path_error(err, errlen, w->path, "out of memory (%zu bytes)", n);
    tensorboard__event__pack(ev, buf);
    int rc = write_record(w, buf, n, err, errlen);
    free(buf);
    return rc;
}

static double wall_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int tb_open(tb_writer *w, const char *dir, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    // TensorBoard finds event files by "tfevents" in the name; time and host keep runs apart.
    snprintf(w->path, sizeof w->path, "%s/events.out.tfevents.%ld.%s.%ld", dir, (long)time(NULL), host, (long)getpid());
    if (!(w->fp = fopen(w->path, "wb"))) return path_error(err, errlen, w->path, "cannot create: %s", strerror(errno));
    Tensorboard__Event ev = TENSORBOARD__EVENT__INIT;
    ev.wall_time = wall_time();
    ev.what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION;
    ev.file_version = "brain.Event:2";
    if (write_event(w, &ev, err, errlen) || tb_flush(w, err, errlen)) {
        tb_close(w);
        return -1;
    }
    return 0;
}

static int write_value(tb_writer *w, long step, Tensorboard__SummaryValue *v, char *err, size_t errlen) {
    Tensorboard__SummaryValue *values[1] = {v};
    Tensorboard__Summary summary = TENSORBOARD__SUMMARY__INIT;
    summary.n_value = 1;
    summary.value = values;
    Tensorboard__Event ev = TENSORBOARD__EVENT__INIT;
    ev.wall_time = wall_time();
    ev.step = step;
    ev.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY;
    ev.summary = &summary;
    return write_event(w, &ev, err, errlen);
}

int tb_scalar(tb_writer *w, const char *tag, long step, float value, char *err, size_t errlen) {
    Tensorboard__SummaryValue v = TENSORBOARD__SUMMARY_VALUE__INIT;
    v.tag = (char *)tag;   // protobuf-c's string fields are not const; packing only reads them
    v.value_case = TENSORBOARD__SUMMARY_VALUE__VALUE_SIMPLE_VALUE;
    v.simple_value = value;
    return write_value(w, step, &v, err, errlen);
}

int tb_image(tb_writer *w, const char *tag, long step, const uint8_t *pixels, int width, int height, int channels,
             char *err, size_t errlen) {
    uint8_t *png = NULL;
    size_t len = 0;
    if (png_encode(pixels, width, height, channels, &png, &len, err, errlen)) return -1;
    Tensorboard__SummaryImage img = TENSORBOARD__SUMMARY_IMAGE__INIT;
    img.height = height;
    img.width = width;
    img.colorspace = channels;
    img.encoded_image_string.data = png;
    img.encoded_image_string.len = len;
    Tensorboard__SummaryValue v = TENSORBOARD__SUMMARY_VALUE__INIT;
    v.tag = (char *)tag;
    v.value_case = TENSORBOARD__SUMMARY_VALUE__VALUE_IMAGE;
    v.image = &img;
    int rc = write_value(w, step, &v, err, errlen);
    free(png);
    return rc;
}

int tb_flush(tb_writer *w, char *err, size_t errlen) {
    if (fflush(w->fp)) return path_error(err, errlen, w->path, "flush failed: %s", strerror(errno));
    return 0;
}

void tb_close(tb_writer *w) {
    if (w->fp) fclose(w->fp);
    w->fp = NULL;
}
