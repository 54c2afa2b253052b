// Same seed, same data, 20 training iterations on the CPU backend and on the CUDA backend: the
// gradients and updates of the first iteration and the losses and mean D outputs of every
// iteration must agree (tolerances derived in train_compare.c; test_train_sensitivity shows they
// catch 1% errors). The staged data path (batches copied through host memory) must give exactly
// the results of the resident one. Exits 77 without a CUDA device.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_util.h"
#include "train_compare.h"

int main(void) {
    setenv("DCGAN_CUDNN_MATH", "fma", 1);
    char err[256];
    const dcgan_backend *gpu = backend_select("cuda", NULL, err, sizeof err);
    if (!gpu) return test_skip_or_fail(err);
    test_print_backend(gpu);
    const gan_loss losses[] = {LOSS_NONSAT, LOSS_WGAN};
    for (int i = 0; i < 2; i++) {
        train_record c, g, s;
        if (train_record_run(backend_cpu(), losses[i], 0, &c) || train_record_run(gpu, losses[i], 0, &g) ||
            train_record_run(gpu, losses[i], 1, &s))
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s cpu vs cuda", gan_loss_name(losses[i]));
        if (train_record_compare(name, &c, &g)) { fprintf(stderr, "FAIL %s\n", name); test_failures++; }
        // Staged and resident batches are the same bytes in the same order: identical runs.
        int same = !memcmp(g.v, s.v, sizeof g.v) && !memcmp(g.fake, s.fake, g.nfake * sizeof(float));
        for (int k = 0; k < 2; k++) same = same && !memcmp(g.update[k], s.update[k], g.n[k] * sizeof(float));
        printf("%s cuda staged vs resident: %s\n", gan_loss_name(losses[i]), same ? "bit-identical" : "DIFFERENT");
        CHECK(same);
        train_record_free(&c);
        train_record_free(&g);
        train_record_free(&s);
    }
    return test_summary("test_gpu_train");
}
