// Small assertion helpers shared by the C tests.
#ifndef DCGAN_TEST_UTIL_H
#define DCGAN_TEST_UTIL_H
#include <stddef.h>
#include <stdio.h>

extern int test_failures;

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); test_failures++; } } while (0)

// Compares two arrays; prints the name, the largest absolute and relative differences and the
// largest difference as a share of its bound (of_bound), and counts a failure when any element
// differs by more than atol + rtol * |expected|. Returns 1 when they match.
int check_close(const char *name, const float *got, const float *expected, size_t n,
                double atol, double rtol);
// Fills x with reproducible values in [-scale, scale].
void fill_random(float *x, size_t n, unsigned seed, float scale);
// Every tensor of a_dir/file equals b_dir/file bit for bit (the same names, sizes and bytes). Prints
// "what, file: bit-identical" or "DIFFERENT" with the first tensor that differs (an unreadable file
// is a FAIL line) and returns 1 when they are equal; counts nothing: callers CHECK it.
int same_tensors(const char *what, const char *a_dir, const char *b_dir, const char *file);
// Makes a fresh temporary directory and returns its path (static storage).
const char *make_temp_dir(const char *tag);
// Removes a temporary directory and everything in it.
void remove_temp_dir(const char *path);
// The dcgan binary under test: argv[1], else $DCGAN_BIN; exits 2 with a usage line when neither.
const char *test_dcgan_bin(int argc, char **argv, const char *test_name);
// Runs the binary with the printf-formatted arguments, stdout discarded; returns its exit status
// and keeps its stderr in errbuf[n].
int run_dcgan(char *errbuf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// The same, keeping its stdout in outbuf[outn] too.
int run_dcgan_output(char *outbuf, size_t outn, char *errbuf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
// A gpu test whose backend is unavailable (reason in why): "skipped", exit code 77, or with
// DCGAN_REQUIRE_GPU=1 in the environment a failure naming the reason, exit code 1.
int test_skip_or_fail(const char *why);
// Prints the backend's description (for CUDA: the device, driver and runtime, cuDNN and cuBLAS as
// loaded and as built), so that every log says what it ran on.
struct dcgan_backend;
void test_print_backend(const struct dcgan_backend *be);
// Returns 0 when no test failed (prints a summary), 1 otherwise.
int test_summary(const char *name);

#endif
