// --device selection after a failed CUDA start: the failure is not remembered, so each request
// gets the reason for the GPU it asked for (a missing cuda:7 must not answer a later "cuda" with
// "GPU 7 ..."), a retry tries again, and "auto" falls back to the CPU naming GPU 0. Runs anywhere:
// without a GPU (or a CUDA build) every CUDA request fails with its own reason; with one GPU,
// "cuda" starts on GPU 0 and a later request for another GPU is refused naming it.
#include <stdio.h>
#include <string.h>
#include "dcgan/backend.h"
#include "test_util.h"

static int cuda_built;

// Selects name (gpu: the caller's GPU for "cuda" and "auto"); returns the backend, with the
// reason in err (empty when it started).
static const dcgan_backend *pick(const char *name, int gpu, char *err, size_t n) {
    err[0] = 0;
    const dcgan_backend *be = backend_select_gpu(name, gpu, NULL, err, n);
    printf("%-8s gpu %2d: %s\n", name, gpu, be ? be->name : err);
    CHECK(be ? err[0] == 0 : err[0] != 0);
    return be;
}

// A refused request names the device asked for and not `not_word` (NULL: no such check; a GPU
// that started is named in later refusals). `gpu_word`: "GPU K" in the reason (absent from a
// build without CUDA, whose reason names no device).
static void expect_names(const dcgan_backend *be, const char *err, const char *device, const char *gpu_word,
                         const char *not_word) {
    if (be) return;   // started (a GPU machine)
    char prefix[64];
    snprintf(prefix, sizeof prefix, "--device %s: ", device);
    CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
    if (cuda_built) CHECK(strstr(err, gpu_word) != NULL);
    if (not_word) CHECK(strstr(err, not_word) == NULL);
}

int main(void) {
    cuda_built = strstr(backend_list(), "cuda") != NULL;
    char e7[512], e0[512], e3[512], again[512];

    const dcgan_backend *b7 = pick("cuda:7", -1, e7, sizeof e7);
    expect_names(b7, e7, "cuda:7", "GPU 7", "GPU 0");
    // The old backend kept "GPU 7 does not exist" and returned it for every later request.
    const dcgan_backend *b0 = pick("cuda", -1, e0, sizeof e0);
    const char *not7 = b7 ? NULL : "GPU 7";
    expect_names(b0, e0, "cuda", "GPU 0", not7);
    const dcgan_backend *b3 = pick("cuda:3", -1, e3, sizeof e3);
    expect_names(b3, e3, "cuda:3", "GPU 3", not7);
    // "cuda" with the caller's GPU (a data-parallel rank's local GPU).
    const dcgan_backend *b2 = pick("cuda", 2, again, sizeof again);
    expect_names(b2, again, "cuda", "GPU 2", b3 ? NULL : "GPU 3");

    // A retry of the first request tries again: the same reason when nothing started meanwhile,
    // the refusal naming both GPUs when GPU 0 started.
    const dcgan_backend *r7 = pick("cuda:7", -1, again, sizeof again);
    CHECK(b7 == NULL || r7 == b7);
    if (!b7 && !b0) CHECK(strcmp(again, e7) == 0);
    if (!r7 && b0 && cuda_built) CHECK(strstr(again, "already runs on GPU 0, not on GPU 7") != NULL);
    // Once started on GPU 0, "cuda" keeps answering with that backend.
    if (b0) CHECK(pick("cuda", -1, again, sizeof again) == b0);

    // auto: the GPU when one started, else the CPU with a notice naming GPU 0.
    const char *notice = NULL;
    const dcgan_backend *a = backend_select("auto", &notice, again, sizeof again);
    printf("auto: %s%s%s\n", a ? a->name : again, notice ? ", notice: " : "", notice ? notice : "");
    CHECK(a != NULL);
    if (a && !b0 && !b7) {
        CHECK(a->host_memory && notice != NULL);
        if (notice && cuda_built) CHECK(strstr(notice, "GPU 0") && !strstr(notice, "GPU 7") && !strstr(notice, "GPU 3"));
    }
    if (b0) CHECK(a == b0 && notice == NULL);

    // Names that are not devices.
    CHECK(pick("cuda:x", -1, again, sizeof again) == NULL && strstr(again, "is not cuda:K"));
    CHECK(pick("gpu", -1, again, sizeof again) == NULL && strstr(again, "unknown device 'gpu'"));
    return test_summary("test_backend_select");
}
