// CUDA convolution planning. A forward-only descriptor (Inception's) costs one cuDNN algorithm
// search, for the direction its forward runs (Forward for a conv2d, BackwardData for a transposed
// one); a full descriptor of the same shape then adds the two others and not the forward again;
// the forward-only plans compute what the CPU reference does. The plan cache keeps every plan past
// its old limit of 512 (which emptied it while nets still used the plans): the first plans still
// run after 520 more. Searches are counted from the backend's verbose lines ("cudnn: X [...] ...:
// fwd ALGO (...), bwd-data ALGO (...), ..."). Exits 77 without a CUDA device.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/backend.h"
#include "test_util.h"

static const dcgan_backend *cpu, *gpu;

typedef struct { int lines, fwd, bwd_data, bwd_filter; } search_count;

static int count_of(const char *text, const char *word) {
    int n = 0;
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) n++;
    return n;
}

// Plans d on the GPU with the backend's verbose lines captured from stdout; counts its searches.
static search_count plan_counted(const conv_desc *d, const char *what) {
    search_count c = {0};
    char err[512], text[4096];
    FILE *tmp = tmpfile();
    if (!tmp || fflush(stdout)) { fprintf(stderr, "FAIL no temporary file for stdout\n"); exit(1); }
    const int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0) { perror("FAIL dup"); exit(1); }
    const int rc = gpu->conv_plan(gpu, d, err, sizeof err);
    if (fflush(stdout) || dup2(saved, STDOUT_FILENO) < 0 || close(saved)) { perror("FAIL restoring stdout"); exit(1); }
    rewind(tmp);
    const size_t got = fread(text, 1, sizeof text - 1, tmp);
    text[got] = 0;
    fclose(tmp);
    if (rc) { fprintf(stderr, "FAIL plan %s: %s\n", what, err); test_failures++; }
    c.lines = count_of(text, "cudnn: ");
    c.fwd = count_of(text, " fwd ");
    c.bwd_data = count_of(text, " bwd-data ");
    c.bwd_filter = count_of(text, " bwd-filter ");
    printf("%s: %d searches (fwd %d, bwd-data %d, bwd-filter %d)\n%s", what, c.fwd + c.bwd_data + c.bwd_filter, c.fwd,
           c.bwd_data, c.bwd_filter, text);
    return c;
}

static void expect(search_count c, int lines, int fwd, int bwd_data, int bwd_filter) {
    CHECK(c.lines == lines && c.fwd == fwd && c.bwd_data == bwd_data && c.bwd_filter == bwd_filter);
}

// conv_forward of d on both backends (the CPU one planned here), compared at fp32 tolerance.
static void forward_matches(const conv_desc *d, const char *what) {
    const size_t nin = tensor_numel(&d->in), nout = tensor_numel(&d->out);
    const size_t nw = (size_t)d->in.c * d->out.c * d->kh * d->kw;
    float *in = malloc(nin * sizeof(float)), *w = malloc(nw * sizeof(float)), *want = malloc(nout * sizeof(float));
    float *got = malloc(nout * sizeof(float));
    void *d_in = gpu->alloc(gpu, nin * sizeof(float)), *d_out = gpu->alloc(gpu, nout * sizeof(float));
    float *d_w = gpu->alloc(gpu, nw * sizeof(float));
    char err[512];
    if (!in || !w || !want || !got || !d_in || !d_out || !d_w) { fprintf(stderr, "FAIL out of memory\n"); exit(1); }
    fill_random(in, nin, 21, 1.0f);
    fill_random(w, nw, 22, 0.1f);
    CHECK(cpu->conv_plan(cpu, d, err, sizeof err) == 0);
    cpu->conv_forward(cpu, want, in, w, d);
    gpu->upload(gpu, d_in, in, nin * sizeof(float));
    gpu->upload(gpu, d_w, w, nw * sizeof(float));
    gpu->conv_forward(gpu, d_out, d_in, d_w, d);
    gpu->download(gpu, got, d_out, nout * sizeof(float));
    float scale = 0;
    for (size_t i = 0; i < nout; i++) scale = fmaxf(scale, fabsf(want[i]));
    check_close(what, got, want, nout, 1e-5 * scale + 1e-6, 0);
    gpu->release(gpu, d_in);
    gpu->release(gpu, d_out);
    gpu->release(gpu, d_w);
    free(in); free(w); free(want); free(got);
}

int main(void) {
    setenv("DCGAN_CUDNN_MATH", "fma", 1);   // no TF32: fp32 tolerances
    char err[512];
    if (!(gpu = backend_select("cuda", NULL, err, sizeof err))) return test_skip_or_fail(err);
    cpu = backend_cpu();
    test_print_backend(gpu);
    gpu->set_verbose(gpu, 1);

    conv_desc a = conv_desc_rect(CONV_2D, tensor_f32(2, 3, 17, 15), 8, 3, 1, 1, 1, 1, 0);
    a.forward_only = 1;
    expect(plan_counted(&a, "conv2d, forward only"), 1, 1, 0, 0);
    expect(plan_counted(&a, "the same again"), 0, 0, 0, 0);
    conv_desc t = conv_desc_make(CONV_TRANSPOSE_2D, tensor_f32(2, 8, 6, 6), 4, 4, 2, 1);
    t.forward_only = 1;
    expect(plan_counted(&t, "transposed, forward only"), 1, 0, 1, 0);
    forward_matches(&a, "conv2d forward (forward-only plan)");
    forward_matches(&t, "transposed forward (forward-only plan)");
    conv_desc full = a;
    full.forward_only = 0;
    expect(plan_counted(&full, "conv2d, all directions, after its forward-only plan"), 1, 0, 1, 1);

    // 520 more shapes (batch sizes 3 .. 522 of a 1x1 convolution): past the old limit of 512.
    gpu->set_verbose(gpu, 0);
    for (int b = 3; b < 523; b++) {
        conv_desc s = conv_desc_make(CONV_2D, tensor_f32(b, 1, 2, 2), 1, 1, 1, 0);
        s.forward_only = 1;
        if (gpu->conv_plan(gpu, &s, err, sizeof err)) { fprintf(stderr, "FAIL plan batch %d: %s\n", b, err); return 1; }
    }
    // The first plans still run (the old cache had freed them: a precondition failure here).
    forward_matches(&a, "conv2d forward after 520 more plans");
    forward_matches(&t, "transposed forward after 520 more plans");
    return test_summary("test_gpu_conv_plan");
}
