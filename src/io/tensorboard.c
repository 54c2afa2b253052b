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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tensorboard.pb-c.h"

#define EVENTS_PREFIX "events.out.tfevents."

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

static uint64_t get_le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

// Reads the record at fp's position (`left` bytes before the end of the file): 0 with its Event's
// step and its size; 1 where no whole, intact record starts (the end of the file, or a record a
// crash cut short); -1 on a read error or out of memory.
static int next_record(FILE *fp, uint64_t left, int64_t *step, uint64_t *size) {
    uint8_t head[12], tail[4];
    if (left < 16) return 1;
    if (fread(head, 1, 12, fp) != 12) return ferror(fp) ? -1 : 1;
    uint64_t n = get_le(head, 8);
    if (masked_crc(head, 8) != (uint32_t)get_le(head + 8, 4) || n > left - 16) return 1;
    uint8_t *data = malloc(n ? n : 1);
    if (!data) {
        errno = ENOMEM;
        return -1;
    }
    int rc = 1;
    if (fread(data, 1, n, fp) != n || fread(tail, 1, 4, fp) != 4) rc = ferror(fp) ? -1 : 1;
    else if (masked_crc(data, n) == (uint32_t)get_le(tail, 4)) {
        Tensorboard__Event *ev = tensorboard__event__unpack(NULL, n, data);
        if (ev) {
            *step = ev->step;
            *size = n + 16;
            rc = 0;
            tensorboard__event__free_unpacked(ev, NULL);
        }
    }
    free(data);
    return rc;
}

// Cuts an events file after its last whole record of step <= keep_step; *end gets its new size.
static int cut_events(const char *path, long keep_step, uint64_t *end, char *err, size_t errlen) {
    FILE *fp = fopen(path, "r+b");
    if (!fp) return path_error(err, errlen, path, "cannot open: %s", strerror(errno));
    struct stat st;
    int rc = fstat(fileno(fp), &st) ? -1 : 0;
    uint64_t size = rc ? 0 : (uint64_t)st.st_size, keep = 0, len = 0;
    int64_t step = 0;
    while (!rc && !(rc = next_record(fp, size - keep, &step, &len)) && step <= keep_step) keep += len;
    if (rc < 0) path_error(err, errlen, path, "cannot read: %s", strerror(errno));
    else if ((keep < size && ftruncate(fileno(fp), (off_t)keep)) || fsync(fileno(fp)))
        rc = path_error(err, errlen, path, "cannot cut back to step %ld: %s", keep_step, strerror(errno));
    else rc = 0;
    fclose(fp);
    *end = keep;
    return rc;
}

typedef struct {
    long keep_step;
    char last[1024];    // the events file TensorBoard reads last: the greatest name
    uint64_t last_end;
} events_dir;

static int cut_if_events(const char *dir, const char *name, void *ctx, char *err, size_t errlen) {
    events_dir *d = ctx;
    if (strncmp(name, EVENTS_PREFIX, strlen(EVENTS_PREFIX)) || temp_file_pid(name) >= 0) return 0;
    char path[5200];
    uint64_t end = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (cut_events(path, d->keep_step, &end, err, errlen)) return -1;
    if (strcmp(name, d->last) > 0) {
        snprintf(d->last, sizeof d->last, "%s", name);
        d->last_end = end;
    }
    return 0;
}

int tb_open(tb_writer *w, const char *dir, long keep_step, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    events_dir d = {.keep_step = keep_step};
    if (list_dir(dir, cut_if_events, &d, err, errlen)) return -1;
    if (d.last[0]) {
        snprintf(w->path, sizeof w->path, "%s/%s", dir, d.last);
    } else {
        char host[256] = "localhost";
        if (gethostname(host, sizeof host - 1)) snprintf(host, sizeof host, "localhost");
        // TensorBoard finds event files by "tfevents" in the name; time and host keep runs apart.
        snprintf(w->path, sizeof w->path, "%s/" EVENTS_PREFIX "%ld.%s.%ld", dir, (long)time(NULL), host, (long)getpid());
    }
    if (!(w->fp = fopen(w->path, "ab"))) return path_error(err, errlen, w->path, "cannot open: %s", strerror(errno));
    int rc = 0;
    if (d.last_end == 0) {   // a new file, or one with no whole record: it starts with its version
        Tensorboard__Event ev = TENSORBOARD__EVENT__INIT;
        ev.wall_time = wall_time();
        ev.what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION;
        ev.file_version = "brain.Event:2";
        rc = write_event(w, &ev, err, errlen);
    }
    if (rc || tb_sync(w, err, errlen) || dir_sync(dir, err, errlen)) {
        tb_close(w, NULL, 0);
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

int tb_flush(tb_writer *w, char *err, size_t errlen) { return file_flush(w->fp, w->path, err, errlen); }

int tb_sync(tb_writer *w, char *err, size_t errlen) { return file_sync(w->fp, w->path, err, errlen); }

int tb_close(tb_writer *w, char *err, size_t errlen) {
    int rc = w->fp && fclose(w->fp) ? path_error(err, errlen, w->path, "write failed: %s", strerror(errno)) : 0;
    w->fp = NULL;
    return rc;
}
