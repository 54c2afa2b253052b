// One-line error messages: library functions write what went wrong (naming the file, the value
// and the problem) into a caller's buffer and return -1; the CLI prints it.
#ifndef DCGAN_ERROR_H
#define DCGAN_ERROR_H
#include <stddef.h>

// Formats the message into err (when err and errlen are set) and returns -1.
int set_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// set_error for a message about a file: "PATH: " then the formatted text. Returns -1.
int path_error(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
