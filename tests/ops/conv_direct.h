// The buffers and phases of a convolution case (tests/ops/conv.c), and cpu-ref's convolutions
// checked against direct loops in double (tests/ops/conv_direct.c).
#ifndef DCGAN_OP_CONV_DIRECT_H
#define DCGAN_OP_CONV_DIRECT_H
#include "op_case.h"

enum { CV_IN, CV_W, CV_DOUT, CV_DW, CV_OUT, CV_DIN };
enum { PH_FWD, PH_DATA, PH_FILTER, PH_NEW_WEIGHTS };
enum { ARG_DENSE, ARG_DIRECT, ARG_CHUNKS };   // a dense layer; checked against direct loops (expecting chunks)

// cpu-ref's forward, backward data and backward filter of the case against the direct loops:
// outputs start as garbage (overwritten), the filter gradient at 0.5 (accumulated); for a
// convolution also the workspace cut into chunks of whole samples (arg[ARG_CHUNKS]: several).
void conv_direct_check(const op_case *c);

#endif
