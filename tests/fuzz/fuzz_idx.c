// libFuzzer: the IDX image and label readers (plain or gzip) on arbitrary file contents.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "dcgan/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/dcgan-fuzz-idx-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t wrote = fwrite(data, 1, size, f);
    if (fclose(f) || wrote != size) return 0;
    uint8_t *px = NULL;
    int n = 0, r = 0, c = 0;
    char err[512];
    if (idx_read_images(path, &px, &n, &r, &c, err, sizeof err) == 0 && (!px || n <= 0)) abort();
    free(px);
    int32_t *lab = NULL;
    if (idx_read_labels(path, &lab, &n, err, sizeof err) == 0 && (!lab || n <= 0)) abort();
    free(lab);
    return 0;
}
