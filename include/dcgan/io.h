// File formats: safetensors (checkpoints), NumPy .npy (latent vectors) and PNG (libpng).
// Every writer is atomic: a temporary file in the same directory, flushed, synced and renamed.
#ifndef DCGAN_IO_H
#define DCGAN_IO_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// ---------------------------------------------------------------------------------------------
// Durable files: a file is written under a temporary name beside it, synced and renamed over it,
// so that a crash leaves the old file or the new one, never a mix.

// "<path>.tmp.<pid>": where this process writes path before renaming it.
void temp_path(char *buf, size_t n, const char *path);
// The same name for process pid.
void temp_path_of(char *buf, size_t n, const char *path, long pid);
// fflush; -1 with "PATH: write failed: <reason>" in err.
int file_flush(FILE *fp, const char *path, char *err, size_t errlen);
// fflush and fsync; -1 with "PATH: write failed: <reason>" in err.
int file_sync(FILE *fp, const char *path, char *err, size_t errlen);
// fsync of a directory: the files created and renamed in it survive a power cut.
int dir_sync(const char *dir, char *err, size_t errlen);
// The pid of a temporary file's name ("NAME.tmp.<pid>"), or -1 for any other name.
long temp_file_pid(const char *name);
// 1 when process pid may still be writing its temporary files: it is alive and runs the same
// program as this process (by /proc/PID/comm; kept as alive when /proc cannot tell).
int temp_writer_alive(long pid);
// Calls visit for each entry of dir but "." and "..", until it returns non-zero (-1: an
// error, set in err; 1: stop). 0, or -1 with err set.
typedef int (*dir_visit)(const char *dir, const char *name, void *ctx, char *err, size_t errlen);
int list_dir(const char *dir, dir_visit visit, void *ctx, char *err, size_t errlen);
// Removes the temporary files in dir whose writer is gone (a killed process's); *removed gets
// their count. 0, or -1 with err set.
int remove_stale_temps(const char *dir, int *removed, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// safetensors: u64 little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}, then raw data.

typedef enum { ST_F32, ST_I64, ST_F64 } st_dtype;

typedef struct {
    char name[96];
    st_dtype dtype;
    int ndim;
    int64_t shape[8];
    const void *data;   // writing: caller's data; reading: points into the file buffer
    size_t nbytes;
} st_tensor;

typedef struct {
    char key[64];
    char value[512];
} st_meta;

typedef struct {
    int ntensors;
    st_tensor *tensors;
    int nmeta;
    st_meta *meta;
    uint8_t *buffer;    // whole file
    size_t size;
} st_file;

// Writes tensors + metadata to path atomically (temp file in the same directory, fsync, rename).
int st_write(const char *path, const st_tensor *tensors, int ntensors,
             const st_meta *meta, int nmeta, char *err, size_t errlen);
// st_write in two steps, for files that are committed together: st_stage writes and syncs path's
// temporary file (temp_path), st_commit renames it over path, st_discard removes it.
int st_stage(const char *path, const st_tensor *tensors, int ntensors,
             const st_meta *meta, int nmeta, char *err, size_t errlen);
int st_commit(const char *path, char *err, size_t errlen);
void st_discard(const char *path);
// Reads and validates a file (JSON parsed with jansson; offsets, sizes and dtypes checked
// against the file length). Returns 0 or -1 with a one-line reason in err.
int st_read(const char *path, st_file *f, char *err, size_t errlen);
void st_free(st_file *f);
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta_get(const st_file *f, const char *key);   // NULL when absent
const char *st_dtype_name(st_dtype d);                          // "F32", "F64", "I64"

// ---------------------------------------------------------------------------------------------
// NumPy .npy files of float32 latent vectors.

// Reads a little-endian float32, C-order array of shape [N, D] (or [N, D, 1, 1], or [D] as N = 1).
// *data is malloc'ed. Returns 0, or -1 with a one-line reason naming the file.
int npy_read_matrix(const char *path, float **data, int *rows, int *cols, char *err, size_t errlen);
// Writes a float32 [rows, cols] array (atomically).
int npy_write_matrix(const char *path, const float *data, int rows, int cols, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// PNG (libpng).

// Writes an 8-bit PNG; channels 1 (gray), 3 (RGB) or 4 (RGBA); pixels interleaved, rows top-down.
// Atomic: written to a temporary file and renamed. Returns 0 or -1 with err set.
int png_write(const char *path, const uint8_t *pixels, int width, int height, int channels,
              char *err, size_t errlen);
// The same PNG, into memory: *out is malloc'ed, *len its bytes. Returns 0 or -1 with err set.
int png_encode(const uint8_t *pixels, int width, int height, int channels, uint8_t **out, size_t *len,
               char *err, size_t errlen);
// Reads an 8-bit PNG of any colour type, expanded to gray (1) or RGB (3) / RGBA (4) as stored.
// *pixels is malloc'ed. Returns 0 or -1 with err set.
int png_read(const char *path, uint8_t **pixels, int *width, int *height, int *channels,
             char *err, size_t errlen);

// Where png_decode gets its bytes, and what it refuses.
typedef struct {
    // Fills out[0..n-1]; returns NULL, or the reason it cannot (it becomes the error message).
    const char *(*read)(void *ctx, uint8_t *out, size_t n);
    void *ctx;
    uint32_t max_side;          // refuse a wider or taller image (libpng's user limit); 0: libpng's
    uint64_t max_pixels;        // refuse width * height above this; 0: no limit
    int high_byte;              // 16-bit samples: 1 keeps the high byte (as PIL), 0 rounds
} png_source;
// The libpng reading core of png_read and of image_decode_png: decodes a PNG whose 8-byte
// signature the caller has already read and checked into 8-bit interleaved pixels, 1 to 4
// channels as stored (palette and low bit depths expanded, tRNS to alpha). *pixels is malloc'ed.
// Returns 0; -1 with libpng's (or the reader's) reason in msg; -2 when libpng's reader could not
// be created (msg says which part).
int png_decode(const png_source *src, uint8_t **pixels, int *width, int *height, int *channels,
               char *msg, size_t msglen);

// ---------------------------------------------------------------------------------------------
// TensorBoard event files (events.out.tfevents.*): TFRecord-framed protobuf Event messages with
// scalar and PNG-image summaries, readable by `tensorboard --logdir`.

typedef struct {
    FILE *fp;
    char path[4096];
} tb_writer;

// Opens the run's events file in dir for appending. Every events.out.tfevents.* file there is first
// cut back after its last whole record of step <= keep_step (the records of a stretch abandoned
// for a checkpoint, and a record a crash cut short, are dropped), and the one TensorBoard reads
// last (the greatest name) is continued; without one, dir/events.out.tfevents.<time>.<host>.<pid>
// is created with the file-version event. So a run directory keeps one file, each step once.
int tb_open(tb_writer *w, const char *dir, long keep_step, char *err, size_t errlen);
int tb_scalar(tb_writer *w, const char *tag, long step, float value, char *err, size_t errlen);
// An 8-bit image (interleaved rows, 1/3/4 channels), stored PNG-encoded.
int tb_image(tb_writer *w, const char *tag, long step, const uint8_t *pixels, int width, int height, int channels,
             char *err, size_t errlen);
int tb_flush(tb_writer *w, char *err, size_t errlen);
// Flushed and synced to the disk.
int tb_sync(tb_writer *w, char *err, size_t errlen);
// 0, or -1 with err set (when given) if the last writes failed.
int tb_close(tb_writer *w, char *err, size_t errlen);
// CRC-32C (Castagnoli) of n bytes, the checksum of the TFRecord framing.
uint32_t crc32c(const void *data, size_t n);

#endif
