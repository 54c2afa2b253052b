// libFuzzer: the CIFAR-10 loader on an arbitrary data_batch_1.bin (records, labels, tails).
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dcgan/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[64], path[96];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/dcgan-fuzz-cifar-%ld", (long)getpid());
        mkdir(dir, 0700);
        snprintf(path, sizeof path, "%s/data_batch_1.bin", dir);
    }
    if (size > 20 * CIFAR_RECORD) size = 20 * CIFAR_RECORD;   // a few records say it all
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t wrote = fwrite(data, 1, size, f);
    if (fclose(f) || wrote != size) return 0;
    int n, bad;
    size_t tail;
    if (cifar_scan(data, size, &n, &bad, &tail) == 0 && (n <= 0 || bad > n)) abort();
    dcgan_dataset ds;
    char err[512];
    if (dataset_load(&ds, "cifar10", dir, 12, (size & 1) ? 1 : 3, 0, err, sizeof err) == 0) {
        for (int i = 0; i < ds.n; i++)
            if (!ds.labels || ds.labels[i] < 0 || ds.labels[i] > 9) abort();
        dataset_free(&ds);
    }
    return 0;
}
