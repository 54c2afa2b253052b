// What the executor decides once, when it is made (net_plan.c): which layers run and which fold
// into the one before, each activation's format, each layer's plan, and memory for the activations
// (every one apart for training; shared by liveness for forward-only passes).
#ifndef DCGAN_NET_PLAN_H
#define DCGAN_NET_PLAN_H
#include "dcgan/net_exec.h"

// Folds each activation with a slope into a batchnorm (or any kind that absorbs one) right before
// it that is its only reader; fills x->steps and the layers' fused_slope.
void plan_fusion(net_exec *x);
// x->afmt: the net's input and output fp32 NCHW, fp32-only kinds' activations too, an element-wise
// kind's input in its output's format, the rest in x->fmt.
void plan_formats(net_exec *x);
// Each running layer's context (shapes, formats, tensors), checked against the backend and planned.
int plan_layers(net_exec *x, char *err, size_t errlen);
// Memory for every activation a layer writes, the layers' saved memory and (training) the gradient
// buffers; *total counts the bytes asked for. 0, or -1 when out of memory.
int plan_memory(net_exec *x, size_t *total);

#endif
