// The monotonic clock. A leaf of its own rather than a part of error.h (which is about
// messages): data/, the trainer and the CLI all time things without depending on each other.
#ifndef DCGAN_CLOCK_H
#define DCGAN_CLOCK_H

// Seconds from an arbitrary fixed point (CLOCK_MONOTONIC): only differences mean anything.
double monotonic_seconds(void);

#endif
