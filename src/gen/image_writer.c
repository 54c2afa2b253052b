// A fixed pool of PNG-writing threads fed batch by batch (see gen.h). Workers take one
// image at a time from the oldest queued batch, so every thread stays busy on the last batch too.
#include "dcgan/error.h"
#include "dcgan/gen.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dcgan/viz.h"

#define MAX_BUFFERS 8
#define MAX_THREADS 64

typedef struct {
    float *data;
    int queued;                 // submitted and not yet fully written
    long first;
    int n, next, done;          // images in the batch, claimed by workers, written
    long order;                 // submission number: workers serve batches oldest first
} slot;

struct image_writer {
    pthread_mutex_t mu;
    pthread_cond_t work, freed;
    pthread_t threads[MAX_THREADS];
    int nthreads, nbuf, stop, failed;
    slot slots[MAX_BUFFERS];
    long submitted;
    char dir[4096];
    int c, s;
    size_t per;                 // floats per image
    char err[1024];
};

// The oldest batch with an unclaimed image, or NULL.
static slot *next_job(image_writer *w) {
    slot *best = NULL;
    for (int i = 0; i < w->nbuf; i++) {
        slot *b = &w->slots[i];
        if (b->queued && b->next < b->n && (!best || b->order < best->order)) best = b;
    }
    return best;
}

static void *worker(void *arg) {
    image_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        slot *b;
        while (!(b = next_job(w)) && !w->stop) pthread_cond_wait(&w->work, &w->mu);
        if (!b) break;
        int k = b->next++;
        int skip = w->failed;
        pthread_mutex_unlock(&w->mu);
        char path[4200], why[1024];
        int rc = 0;
        if (!skip) {
            snprintf(path, sizeof path, "%s/%06ld.png", w->dir, b->first + k);
            rc = save_image_png(path, b->data + (size_t)k * w->per, w->c, w->s, w->s, why, sizeof why);
        }
        pthread_mutex_lock(&w->mu);
        if (rc && !w->failed) { w->failed = 1; snprintf(w->err, sizeof w->err, "%s", why); }
        if (++b->done == b->n) {
            b->queued = 0;
            pthread_cond_broadcast(&w->freed);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

image_writer *image_writer_start(const char *dir, int threads, int nbuf, int batch, int c, int s,
                                 char *err, size_t errlen) {
    if (threads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (int)cpus : 1;
    }
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (nbuf < 2) nbuf = 2;
    if (nbuf > MAX_BUFFERS) nbuf = MAX_BUFFERS;
    image_writer *w = calloc(1, sizeof *w);
    if (!w) { set_error(err, errlen, "out of memory"); return NULL; }
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    w->c = c;
    w->s = s;
    w->per = (size_t)c * s * s;
    w->nbuf = nbuf;
    for (int i = 0; i < nbuf; i++) {
        if (!(w->slots[i].data = malloc((size_t)batch * w->per * sizeof(float)))) {
            set_error(err, errlen, "out of memory for %d image buffers of %d images", nbuf, batch);
            for (int j = 0; j < i; j++) free(w->slots[j].data);
            free(w);
            return NULL;
        }
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->freed, NULL);
    for (int i = 0; i < threads; i++) {
        int e = pthread_create(&w->threads[i], NULL, worker, w);
        if (e) {
            set_error(err, errlen, "cannot start a writer thread: %s", strerror(e));
            char ignored[8];
            image_writer_finish(w, ignored, sizeof ignored);
            return NULL;
        }
        w->nthreads++;
    }
    return w;
}

float *image_writer_acquire(image_writer *w) {
    pthread_mutex_lock(&w->mu);
    float *buf = NULL;
    while (!w->failed) {
        for (int i = 0; i < w->nbuf && !buf; i++)
            if (!w->slots[i].queued) buf = w->slots[i].data;
        if (buf) break;
        pthread_cond_wait(&w->freed, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return buf;
}

void image_writer_submit(image_writer *w, float *buf, long first, int n) {
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < w->nbuf; i++) {
        slot *b = &w->slots[i];
        if (b->data != buf) continue;
        b->queued = n > 0;
        b->first = first;
        b->n = n;
        b->next = b->done = 0;
        b->order = w->submitted++;
    }
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
}

int image_writer_finish(image_writer *w, char *err, size_t errlen) {
    pthread_mutex_lock(&w->mu);
    w->stop = 1;   // workers leave once no unclaimed image is left
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++) pthread_join(w->threads[i], NULL);
    int rc = w->failed ? -1 : 0;
    if (rc) set_error(err, errlen, "%s", w->err);
    for (int i = 0; i < w->nbuf; i++) free(w->slots[i].data);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->freed);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return rc;
}
