// Training parity of the class-conditional DCGAN with PyTorch: replays
// fixtures/parity_cond.safetensors (tests/make_fixture_cond.py: the example's iteration with the
// one-hot class appended to z and, as constant planes, to D's input) and compares every loss,
// fake batch, gradient and updated tensor.
// Usage: test_parity_cond [cpu|cuda]; exits 77 when the backend is absent.
#include <stdio.h>
#include <stdlib.h>
#include "fixture_compare.h"
#include "test_util.h"

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "cpu";
    setenv("DCGAN_CUDNN_MATH", "fma", 1);   // GPU convolutions without TF32: fp32 tolerances
    char err[512];
    const dcgan_backend *be = backend_select(device, NULL, err, sizeof err);
    if (!be) return test_skip_or_fail(err);
    test_print_backend(be);
    const char *path = "fixtures/parity_cond.safetensors";
    st_file f;
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); return 1; }
    train_hparams h;
    fixture_hparams(&f, LOSS_NONSAT, &h);
    trainer t;
    if (trainer_init(&t, &h, be, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); st_free(&f); return 1; }
    // The conditional state_dict shapes: the first layers take the classes as extra channels.
    const int K = h.cfg.nclasses;
    CHECK(K > 0 && t.G.tensors[0].shape[0] == h.cfg.nz + K && t.D.tensors[0].shape[1] == h.cfg.nc + K);
    printf("--- conditional, %d classes (%s, %d iterations)\n", K, be->name, fixture_meta_int(&f, "iters"));
    fixture_replay(&f, &t, 0);
    trainer_free(&t);
    st_free(&f);
    return test_summary("test_parity_cond");
}
