// Subcommands of the dcgan binary and the option-parsing helpers they share.
#ifndef DCGAN_CLI_H
#define DCGAN_CLI_H
#include "dcgan/net_exec.h"

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_arithmetic(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_prepare(int argc, char **argv);

// Strict number parsing for option values: on a bad value prints
// "error: --NAME: 'VALUE' is not a valid ..." and exits with status 2.
long parse_long(const char *option, const char *value, long min, long max);
float parse_float(const char *option, const char *value, float min, float max);
unsigned long long parse_seed(const char *option, const char *value);
// --bn running|batch for the commands that run G; a usage error for anything else.
bn_mode parse_bn(const char *command, const char *value);
// Prints "error: ..." plus a hint to run --help, and exits 2.
void usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
