// The shapes the op test lists: every layer of the DCGAN at 32, 64 and 128 px (ngf = ndf = 64,
// nc = 3, nz = 100, as the PyTorch example and models/dcgan.c build it) and every distinct
// convolution, pool, concatenation copy and resize of Inception-v3 for FID (models/inception.c).
#ifndef DCGAN_OP_SHAPES_H
#define DCGAN_OP_SHAPES_H

// One convolution layer of G or D (4x4 kernels) and what follows it.
typedef struct {
    char tag[8];            // "G64", "D32": the net and image size
    int transposed, dense;  // a ConvTranspose2d; a layer whose kernel covers the image (a matrix product)
    int C, H, OC, OH, stride, pad;
    int in_plain, out_plain;    // the net's input (z, the image) or output (the image, the logit)
    int bn;                 // a batchnorm over [OC, OH, OH] follows, fused with the activation
    float slope;            // that activation: 0 ReLU (G), 0.2 leaky ReLU (D)
} dcgan_layer_shape;

#define DCGAN_MAX_SHAPES 8
// The layers of G (gen = 1) or D at this image size, in order; returns their number.
int dcgan_layer_shapes(int size, int gen, dcgan_layer_shape *out);

typedef struct { int c, h, w, oc, kh, kw, sh, sw, ph, pw; } inception_conv_shape;
typedef struct { int max, c, h, w, k, stride, pad, count_pad; } inception_pool_shape;
typedef struct { int c, h, w, out_c, offset; } inception_copy_shape;

extern const inception_conv_shape inception_convs[];
extern const int inception_nconvs;
extern const inception_pool_shape inception_pools[];
extern const int inception_npools;
extern const inception_copy_shape inception_copies[];
extern const int inception_ncopies;

// The batch sizes of the test (odd ones: 1, 3, 65).
extern const int test_batches[3];

// The size class of a DCGAN case: 32 px at batch 3 light; 32 px at any batch and 64 px at batch 3
// quick; the rest full.
int dcgan_case_size(int size, int B);
// The size class of an Inception case: batch 1 light, batch 3 quick (full over the largest planes),
// batch 65 full.
int inception_case_size(int B, int large_planes);

#endif
