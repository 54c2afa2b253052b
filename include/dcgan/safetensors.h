// Reading and writing the safetensors format: u64 little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}, then raw data.
#ifndef DCGAN_SAFETENSORS_H
#define DCGAN_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>

typedef enum { ST_F32, ST_I64 } st_dtype;

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
// Reads and validates a file (JSON parsed with jansson; offsets, sizes and dtypes checked
// against the file length). Returns 0 or -1 with a one-line reason in err.
int st_read(const char *path, st_file *f, char *err, size_t errlen);
void st_free(st_file *f);
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta_get(const st_file *f, const char *key);   // NULL when absent

#endif
