// One-line error messages for the library functions.
#include "dcgan/error.h"

#include <stdarg.h>
#include <stdio.h>

int set_error(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int path_error(char *err, size_t errlen, const char *path, const char *fmt, ...) {
    if (err && errlen) {
        int k = snprintf(err, errlen, "%s: ", path);
        if (k >= 0 && (size_t)k < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}
