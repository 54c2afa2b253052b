// Ctrl-C, SIGTERM and SIGUSR1 during training: the first asks the run to stop after its iteration
// with a checkpoint; a second ends the process at once. mpirun forwards SIGUSR1 to every rank
// (Ctrl-C makes it kill them): the way to stop a data-parallel run with a checkpoint.
#include <signal.h>
#include <unistd.h>
#include "run.h"

static volatile sig_atomic_t stop_requested = 0;
static volatile sig_atomic_t signal_rank = -1;   // >= 0 in a data-parallel run: say which rank got it
static const int caught[] = {SIGINT, SIGTERM, SIGUSR1};

static void on_signal(int sig) {
    stop_requested = sig;
    signal(sig, SIG_DFL);   // a second Ctrl-C ends the process at once
    if (signal_rank >= 0) {
        static const char msg[] = "dcgan: signal received; the ranks stop after this iteration\n";
        if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) stop_requested = sig;
    }
}

void run_signals_catch(const dcgan_comm *comm) {
    for (size_t i = 0; i < sizeof caught / sizeof *caught; i++) signal(caught[i], on_signal);
    signal_rank = comm->size > 1 ? comm->rank : -1;
}

int run_stop_requested(void) { return stop_requested != 0; }

void run_signals_release(void) {
    for (size_t i = 0; i < sizeof caught / sizeof *caught; i++) signal(caught[i], SIG_DFL);
}
