// The backend's function table, listed once. Each row is X(return type, name, parameters); the
// list becomes the members of dcgan_backend (backend.h), the declarations of the CPU functions
// cpu_<name> (cpu.h) and of the CUDA launchers cuda_<name> (kernels/cuda_ops.h), and both tables
// (src/cpu/backend.c, kernels/backend.cu). Every function takes the backend first (for its
// context: the CUDA stream, handles and workspace; the CPU workspace) and its descriptor last.
//
// Pointers are backend memory (host memory for the CPU backends, device memory for CUDA).
// A backend may keep its own copy of the weights w it is given (blocked, bf16): the copy is
// refreshed after an op of this table wrote the weights' memory (optim_update, optim_clip, upload,
// copy, zero), so a caller that writes weights in host memory by other means calls upload.
// Activation tensors are void *: their element type is the descriptor's dtype. Parameters,
// gradients, optimiser state and batchnorm statistics are always float (fp32 master copies).
// Backward passes OVERWRITE input gradients and ACCUMULATE parameter gradients.
// Counters (int64_t / uint64_t pointers: step counts, stream offsets, the data cursor) are backend
// memory that the op reads and advances itself, so one training iteration is a fixed sequence of
// calls with fixed arguments.
#ifndef DCGAN_BACKEND_OPS_H
#define DCGAN_BACKEND_OPS_H

#define DCGAN_BACKEND_OPS(X) \
    /* memory: alloc is zero-filled and returns NULL when out of memory */ \
    X(void *, alloc, (const dcgan_backend *be, size_t bytes)) \
    X(void, release, (const dcgan_backend *be, void *p)) \
    X(void, upload, (const dcgan_backend *be, void *dst, const void *host_src, size_t bytes)) \
    X(void, download, (const dcgan_backend *be, void *host_dst, const void *src, size_t bytes)) \
    X(void, copy, (const dcgan_backend *be, void *dst, const void *src, size_t bytes)) \
    X(void, zero, (const dcgan_backend *be, void *p, size_t bytes)) \
    X(void, sync, (const dcgan_backend *be)) \
    /* page-locked host buffers, and uploads staged through slot 0..3 on a side stream: the copy */ \
    /* runs after the work marked by stage_release(slot), later ops wait for it, and */ \
    /* stage_host_wait(slot) blocks until the slot's host buffer may be refilled */ \
    X(void *, host_alloc, (const dcgan_backend *be, size_t bytes)) \
    X(void, host_release, (const dcgan_backend *be, void *p)) \
    X(void, stage_upload, (const dcgan_backend *be, void *dst, const void *host_src, size_t bytes, int slot)) \
    X(void, stage_release, (const dcgan_backend *be, int slot)) \
    X(void, stage_host_wait, (const dcgan_backend *be, int slot)) \
    /* what the backend is and can do */ \
    X(int, mem_info, (const dcgan_backend *be, size_t *free_bytes, size_t *total_bytes)) \
    X(void, set_verbose, (const dcgan_backend *be, int on)) \
    X(int, describe, (const dcgan_backend *be, char *buf, size_t len)) \
    X(int, supports, (const dcgan_backend *be, dcgan_op op, dcgan_dtype dtype, dcgan_layout layout)) \
    X(size_t, tensor_bytes, (const dcgan_backend *be, const tensor_desc *t)) \
    /* plans a convolution (dense) shape once (algorithm choice, workspace); 0, or -1 with err set */ \
    X(int, conv_plan, (const dcgan_backend *be, const conv_desc *d, char *err, size_t errlen)) \
    X(int, dense_plan, (const dcgan_backend *be, const dense_desc *d, char *err, size_t errlen)) \
    /* ring[(*slot % ring_len) * n ...] = values[0 .. n-1], then ++*slot */ \
    X(void, ring_push, (const dcgan_backend *be, float *ring, const float *values, int n, int64_t *slot, int ring_len)) \
    /* conv: in, out as d->in, d->out; w in the layout of d->kind */ \
    X(void, conv_forward, (const dcgan_backend *be, void *out, const void *in, const float *w, const conv_desc *d)) \
    X(void, conv_backward_data, (const dcgan_backend *be, void *din, const void *dout, const float *w, const conv_desc *d)) \
    X(void, conv_backward_filter, (const dcgan_backend *be, float *dw, const void *dout, const void *in, const conv_desc *d)) \
    /* dense: G's first and D's last layer as matrix products */ \
    X(void, dense_forward, (const dcgan_backend *be, void *out, const void *in, const float *w, const dense_desc *d)) \
    X(void, dense_backward_data, (const dcgan_backend *be, void *din, const void *dout, const float *w, const dense_desc *d)) \
    X(void, dense_backward_filter, (const dcgan_backend *be, float *dw, const void *dout, const void *in, const dense_desc *d)) \
    /* batchnorm fused with its activation. Training normalises with the biased batch variance, */ \
    /* saves mean and 1/sqrt(var + eps) per channel, updates running [2C] (mean, then var) with */ \
    /* the unbiased variance and adds 1 to *batches_tracked (both as PyTorch; running and */ \
    /* batches_tracked may be NULL: left alone). Backward reads out (the activation's output) */ \
    /* when act_slope != 1. */ \
    X(void, batchnorm_forward_train, (const dcgan_backend *be, void *out, float *save_mean, float *save_invstd, \
                                      float *running, int64_t *batches_tracked, const void *in, const float *gamma, \
                                      const float *beta, const bn_desc *d)) \
    X(void, batchnorm_forward_eval, (const dcgan_backend *be, void *out, const void *in, const float *gamma, \
                                     const float *beta, const float *running, const bn_desc *d)) \
    X(void, batchnorm_backward, (const dcgan_backend *be, void *din, float *dgamma, float *dbeta, const void *dout, \
                                 const void *out, const void *in, const float *save_mean, const float *save_invstd, \
                                 const float *gamma, const bn_desc *d)) \
    /* synchronised batchnorm (--sync-bn), the training pair above split around two all-reduces: */ \
    /* batchnorm_sums writes sums [2C] = per channel sum x, then sum x^2 of the local batch (double); */ \
    /* after their all-reduce, batchnorm_forward_global does what batchnorm_forward_train does with */ \
    /* the mean and variance of the d->group_n samples of every rank (formulas.h: bn_stats_from_sums). */ \
    /* batchnorm_backward_sums writes sums [2C] = sum dy, then sum dy * (x - mean) of the local batch */ \
    /* (dy = act'(out) * dout) and accumulates the local dgamma, dbeta (the gradient all-reduce sums */ \
    /* them over the ranks); after the sums' all-reduce, batchnorm_backward_global writes din. */ \
    X(void, batchnorm_sums, (const dcgan_backend *be, double *sums, const void *in, const bn_desc *d)) \
    X(void, batchnorm_forward_global, (const dcgan_backend *be, void *out, float *save_mean, float *save_invstd, \
                                       float *running, int64_t *batches_tracked, const void *in, const float *gamma, \
                                       const float *beta, const double *sums, const bn_desc *d)) \
    X(void, batchnorm_backward_sums, (const dcgan_backend *be, double *sums, float *dgamma, float *dbeta, \
                                      const void *dout, const void *out, const void *in, const float *save_mean, \
                                      const float *save_invstd, const bn_desc *d)) \
    X(void, batchnorm_backward_global, (const dcgan_backend *be, void *din, const void *dout, const void *out, \
                                        const void *in, const float *save_mean, const float *save_invstd, \
                                        const float *gamma, const double *sums, const bn_desc *d)) \
    /* element-wise activations; backward reads the forward's output */ \
    X(void, activation_forward, (const dcgan_backend *be, void *out, const void *in, const act_desc *d)) \
    X(void, activation_backward, (const dcgan_backend *be, void *din, const void *dout, const void *out, const act_desc *d)) \
    /* loss on logits[B]: dlogits[B], stats[0] = the mean loss, stats[1] = mean sigmoid(logits) */ \
    X(void, loss, (const dcgan_backend *be, float *dlogits, float *stats, const float *logits, const loss_desc *d)) \
    /* optimiser: ++*step, then the update with that step count; state0, state1 = Adam's m and v, */ \
    /* or RMSprop's square average and nothing; clip: params = clamp(params, -limit, limit) */ \
    X(void, optim_update, (const dcgan_backend *be, float *params, const float *grads, float *state0, \
                           float *state1, int64_t *step, const optim_desc *d)) \
    X(void, optim_clip, (const dcgan_backend *be, float *params, size_t n, float limit)) \
    /* moving average: avg = decay * avg + (1 - decay) * x, as avg.lerp_(x, 1 - decay) */ \
    X(void, optim_ema, (const dcgan_backend *be, float *avg, const float *x, size_t n, float decay)) \
    /* noise from word d->offset + *counter of the stream (counter may be NULL: 0, not advanced); */ \
    /* *counter advances by n rounded up to a whole Philox block (4 words) for normals, by the */ \
    /* words consumed for classes */ \
    X(void, noise_normal, (const dcgan_backend *be, float *out, uint64_t *counter, const noise_desc *d)) \
    X(void, noise_classes, (const dcgan_backend *be, int32_t *out, uint64_t *counter, const noise_desc *d)) \
    /* data: batch *cursor of the run (see data_desc), then ++*cursor: images [B, per] in [-1, 1] */ \
    /* and, when labels and classes are not NULL, classes [B]; order NULL: staged batches */ \
    X(void, data_gather, (const dcgan_backend *be, float *images, int32_t *classes, const uint8_t *pixels, \
                          const int32_t *labels, const uint32_t *order, int64_t *cursor, const data_desc *d)) \
    /* class conditioning: one-hot planes appended, and the gradient's data channels taken back out */ \
    X(void, concat_onehot, (const dcgan_backend *be, float *out, const float *in, const int32_t *classes, const concat_desc *d)) \
    X(void, slice_channels, (const dcgan_backend *be, float *out, const float *in, const concat_desc *d)) \
    /* pooling and bilinear resizing (Inception-v3's, for FID); forward only */ \
    X(void, pool_forward, (const dcgan_backend *be, void *out, const void *in, const pool_desc *d)) \
    X(void, resize_bilinear, (const dcgan_backend *be, void *out, const void *in, const resize_desc *d)) \
    /* rows copies of width bytes from src (rows src_pitch apart) to dst (dst_pitch apart): a */ \
    /* channel range of a batch, e.g. one branch of a concatenation */ \
    X(void, copy_2d, (const dcgan_backend *be, void *dst, size_t dst_pitch, const void *src, size_t src_pitch, \
                      size_t width, size_t rows)) \
    /* data parallelism (include/dcgan/comm.h): comm_attach makes the backend's side of the ranks' */ \
    /* communicator once, before training (CUDA: an NCCL communicator bootstrapped through MPI, and */ \
    /* its own stream); 0, or -1 with err set. allreduce starts the reduction of d (desc.h: */ \
    /* reduce_desc) once the ops before it have written buf; allreduce_wait makes the ops after it */ \
    /* wait for the result (a host-memory backend may finish in allreduce and return at once from */ \
    /* allreduce_wait; the CPU backend's pair, src/cpu/comm.c, serves any host-memory backend). */ \
    X(int, comm_attach, (const dcgan_backend *be, dcgan_comm *comm, char *err, size_t errlen)) \
    X(void, allreduce, (const dcgan_backend *be, void *buf, const reduce_desc *d)) \
    X(void, allreduce_wait, (const dcgan_backend *be, const reduce_desc *d))

#endif
