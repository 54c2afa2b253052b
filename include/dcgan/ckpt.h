// Checkpoints of G and D as safetensors files whose tensor names and shapes equal the PyTorch
// example's state_dict (main.0.weight, main.1.running_mean, ...), architecture in the metadata.
#ifndef DCGAN_CKPT_H
#define DCGAN_CKPT_H
#include <stddef.h>
#include "dcgan/model.h"
#include "dcgan/io.h"

// Metadata key prefix of a conditional net's class names: "class_name.<k>" = name of class k.
#define CKPT_CLASS_NAME_KEY "class_name."

// Writes the net's state_dict plus metadata (format, net, size, nc, nz, ngf, ndf, and for a
// conditional net conditional = "1" and nclasses; then `extra`).
int ckpt_save_net(const dcgan_net *net, const char *path, const st_meta *extra, int nextra,
                  char *err, size_t errlen);
// Reads the architecture of a checkpoint: from its metadata, or inferred from the tensor shapes
// for a state_dict saved by PyTorch. Sets *is_generator. A state_dict is read as unconditional
// unless its metadata says conditional = "1"; the class count then comes from metadata nclasses,
// or from main.0.weight's input channels minus nz (G) or nc (D) given in the metadata.
int ckpt_read_config(const st_file *f, dcgan_config *cfg, int *is_generator, char *err, size_t errlen);
// Copies every tensor of the (already built) net from f; a missing tensor or a shape or dtype
// that differs is an error naming the tensor. `prefix` is prepended to names (may be "").
int ckpt_load_tensors(dcgan_net *net, const st_file *f, const char *prefix, char *err, size_t errlen);
// Opens path, builds *net on backend be from its architecture and loads it. want_generator:
// 1 = must be G, 0 = must be D, -1 = either.
int ckpt_load_net(dcgan_net *net, const char *path, int want_generator, const dcgan_backend *be,
                  char *err, size_t errlen);
// The class names of a conditional checkpoint (metadata class_name.<k>; a class without a name is
// called by its index). Returns a malloc'ed array of nclasses malloc'ed strings, or NULL when out
// of memory; free with ckpt_free_class_names.
char **ckpt_class_names(const st_file *f, int nclasses);
void ckpt_free_class_names(char **names, int nclasses);
// Collects the net's tensors (downloaded into *host_copy, which the caller frees) as st_tensors
// named prefix + state_dict name. Returns the count, or -1 when out of memory.
int ckpt_net_tensors(const dcgan_net *net, const char *prefix, st_tensor *out, int max,
                     void **host_copy);

#endif
