// metrics.jsonl of a run: one JSON record per line, appended to as the run goes. A run continuing
// from its checkpoint first cuts the file back to the records of the iterations the checkpoint
// holds, so that no iteration is logged twice and no record is spliced onto a cut-off line.
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include "dcgan/error.h"
#include "dcgan/train.h"

// The "iter" of a whole line holding a JSON object with an integer "iter"; -1 for anything else
// (a line a crash cut short, two records spliced together).
static long record_iter(const char *line, ssize_t len) {
    if (len < 1 || line[len - 1] != '\n') return -1;
    json_t *o = json_loadb(line, (size_t)len, 0, NULL);
    json_t *it = json_object_get(o, "iter");
    long v = json_is_integer(it) ? (long)json_integer_value(it) : -1;
    json_decref(o);
    return v;
}

// The length of the file's first lines that are whole records of iterations <= keep_iter; *dropped
// gets the count of the lines after them. -1 on a read error.
static off_t kept_length(FILE *f, long keep_iter, long *dropped) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    off_t keep = 0;
    int cut = 0;
    *dropped = 0;
    errno = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        long it = cut ? -1 : record_iter(line, len);
        cut = it < 0 || it > keep_iter;
        if (cut) (*dropped)++;
        else keep += len;
        errno = 0;
    }
    int failed = ferror(f) || errno == ENOMEM;
    free(line);
    return failed ? -1 : keep;
}

FILE *metrics_open(const char *path, long keep_iter, long *dropped, char *err, size_t errlen) {
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    if (fd < 0) {
        path_error(err, errlen, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "r+");
    if (!f) {
        path_error(err, errlen, path, "cannot open: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    // ftruncate at a computed offset: a crash during it leaves a file the next start cuts again.
    off_t keep = kept_length(f, keep_iter, dropped);
    if (keep < 0) path_error(err, errlen, path, "cannot read: %s", strerror(errno));
    else if (ftruncate(fd, keep) || fseeko(f, keep, SEEK_SET) || fsync(fd))
        path_error(err, errlen, path, "cannot cut back to iteration %ld: %s", keep_iter, strerror(errno));
    else return f;
    fclose(f);
    return NULL;
}
