// Training parity with PyTorch: replays the fixtures written by tests/make_fixture.py (the PyTorch
// DCGAN example's iteration, 3 iterations per loss) and compares every loss, gradient, running
// statistic and updated weight. Usage: test_parity [cpu|cuda]; exits 77 when the backend is absent.
#include <stdio.h>
#include <stdlib.h>
#include "fixture_compare.h"
#include "test_util.h"

static const char *LOSSES[] = {"nonsat", "minimax", "ml", "wgan", "lsgan", "hinge"};

static void run_fixture(const char *loss, const dcgan_backend *be) {
    char path[256], err[512];
    snprintf(path, sizeof path, "fixtures/parity_%s.safetensors", loss);
    st_file f;
    if (st_read(path, &f, err, sizeof err)) { fprintf(stderr, "FAIL %s\n", err); test_failures++; return; }
    train_hparams h;
    fixture_hparams(&f, (gan_loss)gan_loss_parse(loss), &h);
    trainer t;
    if (trainer_init(&t, &h, be, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        test_failures++;
    } else {
        printf("--- %s (%s backend, %d iterations, %d D steps each)\n", loss, be->name, fixture_meta_int(&f, "iters"),
               h.d_steps);
        fixture_replay(&f, &t, 1);
        trainer_free(&t);
    }
    st_free(&f);
}

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "cpu";
    setenv("DCGAN_CUDNN_MATH", "fma", 1);   // GPU convolutions without TF32: fp32 tolerances
    char err[256];
    const dcgan_backend *be = backend_select(device, NULL, err, sizeof err);
    if (!be) return test_skip_or_fail(err);
    test_print_backend(be);
    for (size_t i = 0; i < sizeof LOSSES / sizeof *LOSSES; i++) run_fixture(LOSSES[i], be);
    return test_summary("test_parity");
}
