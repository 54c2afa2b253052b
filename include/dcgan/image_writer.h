// Writing many images as numbered PNG files on a pool of threads, overlapped with whatever
// produces them: the producer fills one buffer while the pool encodes the ones before it.
#ifndef DCGAN_IMAGE_WRITER_H
#define DCGAN_IMAGE_WRITER_H
#include <stddef.h>

typedef struct image_writer image_writer;

// Starts `threads` threads (0: one per online CPU) that write images [c, s, s] (values in
// [-1, 1]) to dir/NNNNNN.png, with `nbuf` buffers of `batch` images each. NULL with err set
// when out of memory or a thread cannot be started.
image_writer *image_writer_start(const char *dir, int threads, int nbuf, int batch, int c, int s,
                                 char *err, size_t errlen);
// A free buffer [batch, c, s, s]; waits while all are queued. NULL once a write has failed.
float *image_writer_acquire(image_writer *w);
// Queues the first n images of buf (from acquire) as files first, first + 1, ...
void image_writer_submit(image_writer *w, float *buf, long first, int n);
// Waits for the queue to drain, stops the threads and frees everything. Returns 0, or -1 with
// the first write error in err.
int image_writer_finish(image_writer *w, char *err, size_t errlen);

#endif
