// Picks the backend named by --device, and checks what a backend serves.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dcgan/error.h"
#include "dcgan/backend.h"

#ifdef DCGAN_HAVE_CUDA
// Provided by kernels/ when the CUDA backend is built: NULL (with reason) when GPU `device` is not usable.
const dcgan_backend *backend_cuda(int device, char *err, size_t errlen);
int cuda_library_versions(char *buf, size_t len);
#else
static const dcgan_backend *backend_cuda(int device, char *err, size_t errlen) {
    (void)device;
    set_error(err, errlen, "this build has no CUDA backend (configure with nvcc and cuDNN installed, -DDCGAN_CUDA=ON)");
    return NULL;
}
#endif

#ifdef DCGAN_HAVE_ONEDNN
// Provided by src/onednn/: NULL (with reason) when oneDNN cannot run on this CPU.
const dcgan_backend *backend_onednn(char *err, size_t errlen);
int onednn_library_versions(char *buf, size_t len);
#else
static const dcgan_backend *backend_onednn(char *err, size_t errlen) {
    set_error(err, errlen, "this build has no oneDNN backend (install libdnnl-dev and configure with -DDCGAN_ONEDNN=ON)");
    return NULL;
}
#endif

const dcgan_backend *backend_cpu_default(void) {
    char why[256];
    const dcgan_backend *be = backend_onednn(why, sizeof why);
    return be ? be : backend_cpu();
}

const dcgan_backend *backend_select(const char *name, const char **notice, char *err, size_t errlen) {
    return backend_select_gpu(name, -1, notice, err, errlen);
}

const dcgan_backend *backend_select_gpu(const char *name, int gpu, const char **notice, char *err, size_t errlen) {
    static char why[256];
    if (notice) *notice = NULL;
    if (!strcmp(name, "cpu")) return backend_cpu_default();
    if (!strcmp(name, "cpu-ref")) return backend_cpu();
    if (!strcmp(name, "onednn")) {
        const dcgan_backend *be = backend_onednn(why, sizeof why);
        if (!be) set_error(err, errlen, "--device onednn: %s", why);
        return be;
    }
    if (!strncmp(name, "cuda:", 5)) {   // an explicit GPU wins over the caller's choice
        char *end;
        long k = strtol(name + 5, &end, 10);
        if (end == name + 5 || *end || k < 0 || k > 4096) {
            set_error(err, errlen, "--device: '%s' is not cuda:K with K a GPU index", name);
            return NULL;
        }
        const dcgan_backend *be = backend_cuda((int)k, why, sizeof why);
        if (!be) set_error(err, errlen, "--device %s: %s", name, why);
        return be;
    }
    if (gpu < 0) gpu = 0;
    if (!strcmp(name, "cuda")) {
        const dcgan_backend *be = backend_cuda(gpu, why, sizeof why);
        if (!be) set_error(err, errlen, "--device cuda: %s", why);
        return be;
    }
    if (!strcmp(name, "auto")) {
        const dcgan_backend *be = backend_cuda(gpu, why, sizeof why);
        if (be) return be;
        if (notice) *notice = why;
        return backend_cpu_default();
    }
    set_error(err, errlen, "--device: unknown device '%s' (expected cpu, cpu-ref, onednn, cuda, cuda:K or auto)", name);
    return NULL;
}

const char *backend_list(void) {
#if defined(DCGAN_HAVE_ONEDNN) && defined(DCGAN_HAVE_CUDA)
    return "onednn (cpu), cpu-ref, cuda";
#elif defined(DCGAN_HAVE_ONEDNN)
    return "onednn (cpu), cpu-ref";
#elif defined(DCGAN_HAVE_CUDA)
    return "cpu-ref (cpu), cuda";
#else
    return "cpu-ref (cpu)";
#endif
}

#if defined(DCGAN_HAVE_ONEDNN) || defined(DCGAN_HAVE_CUDA)
// Appends "\n<name>: " and the library versions that versions writes to the n characters in buf.
static int append_versions(char *buf, size_t len, int n, const char *name, int (*versions)(char *, size_t)) {
    if (n < 0 || (size_t)n >= len) return n;
    n += snprintf(buf + n, len - n, "\n%s: ", name);
    if (n < 0 || (size_t)n >= len) return n;
    return n + versions(buf + n, len - n);
}
#endif

int backend_versions(char *buf, size_t len) {
    const dcgan_backend *cpu = backend_cpu();
    int n = snprintf(buf, len, "dcgan %s\nbackends: %s\n", DCGAN_VERSION, backend_list());
    if (n < 0 || (size_t)n >= len) return n;
    n += cpu->describe(cpu, buf + n, len - n);
#ifdef DCGAN_HAVE_ONEDNN
    n = append_versions(buf, len, n, "onednn", onednn_library_versions);
#endif
#ifdef DCGAN_HAVE_CUDA
    n = append_versions(buf, len, n, "cuda", cuda_library_versions);
#endif
    return n;
}

int backend_check(const dcgan_backend *be, dcgan_op op, const tensor_desc *t, char *err, size_t errlen) {
    if (be->supports(be, op, t->dtype, t->layout)) return 0;
    set_error(err, errlen, "the %s backend has no %s op for %s %s tensors", be->name, op_name(op), dtype_name(t->dtype),
              layout_name(t->layout));
    return -1;
}
