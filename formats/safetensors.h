/*
 * safetensors.h -- safetensors reader (mmap; JSON header parsed with
 * jansson), single files and sharded checkpoints through
 * model.safetensors.index.json. Validation follows the reference
 * implementation: header <= 100 MB and inside the file, a JSON object,
 * offsets contiguous from 0 without overlap or gaps, byte length equal to
 * elements * dtype size, unique names, __metadata__ string -> string only.
 */
#ifndef FORMATS_SAFETENSORS_H
#define FORMATS_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"

#define FMT_ST_MAX_HEADER (100u * 1000u * 1000u)
#define FMT_ST_MAX_DIMS 8

typedef enum {
    FMT_ST_F64,
    FMT_ST_F32,
    FMT_ST_F16,
    FMT_ST_BF16,
    FMT_ST_I64,
    FMT_ST_I32,
    FMT_ST_I16,
    FMT_ST_I8,
    FMT_ST_U8,
    FMT_ST_BOOL,
    FMT_ST_F8_E4M3,
    FMT_ST_F8_E5M2,
    FMT_ST_DTYPE_COUNT
} fmt_st_dtype;

typedef struct {
    const char *name; /* NUL-terminated, owned by the reader */
    fmt_st_dtype dtype;
    uint32_t n_dims;                /* 0 for a scalar */
    int64_t shape[FMT_ST_MAX_DIMS]; /* row-major (PyTorch) order: shape[n_dims-1] is the row */
    uint64_t n_elements;
    uint64_t size;       /* bytes */
    uint64_t offset;     /* absolute offset in its shard file */
    uint32_t shard;      /* index into the shard list */
    const uint8_t *data; /* mapped bytes, valid until close */
} fmt_st_tensor;

typedef struct fmt_safetensors fmt_safetensors;

/* Open a .safetensors file, a model.safetensors.index.json, or a directory
 * (index if present, else model.safetensors). Index entries must name files
 * inside the index's directory (no '/' components leaving it, no symlinks
 * out of it, except into ../../blobs when the directory is a Hugging Face hub
 * cache snapshot). Every weight_map tensor must be in exactly the shard it
 * names, and no shard may hold a tensor the map does not list. A path ending
 * in ".json" is an index; any other file is one .safetensors file. Returns
 * NULL with *st set (GK_E_FORMAT malformed, GK_E_UNSUPPORTED a valid dtype
 * or rank we do not handle, GK_E_IO, GK_E_NOMEM); then
 * fmt_safetensors_open_errmsg() holds "FILE: what is wrong (at byte N)". */
fmt_safetensors *fmt_safetensors_open(const char *path, gk_status *st);
/* One safetensors image in memory the caller owns and keeps alive until
 * close (tests, fuzzing); label names it in messages. Same validation as a
 * single file; tensors' data point into buf. */
fmt_safetensors *fmt_safetensors_open_mem(const uint8_t *buf, size_t len, const char *label,
                                          gk_status *st);

/* Message of this thread's last failed open ("" after a successful one). */
const char *fmt_safetensors_open_errmsg(void);

/* Number of tensors over all shards. */
uint64_t fmt_safetensors_n_tensors(const fmt_safetensors *s);
/* Tensors in the order of their data offsets within each shard, shards in
 * index order (sorted file names). NULL when i is out of range. The record
 * and its name and data stay valid until close. */
const fmt_st_tensor *fmt_safetensors_tensor_at(const fmt_safetensors *s, uint64_t i);
/* Tensor by name (binary search), NULL when absent. */
const fmt_st_tensor *fmt_safetensors_find(const fmt_safetensors *s, const char *name);

/* Shard files: 1 for a single file. Paths are index directory + "/" +
 * name (or the path given), owned by the reader; NULL when out of range. */
uint32_t fmt_safetensors_n_shards(const fmt_safetensors *s);
const char *fmt_safetensors_shard_path(const fmt_safetensors *s, uint32_t shard);

/* __metadata__ entries of the first shard, then the index's "metadata"
 * entries whose keys are new (numbers and booleans as decimal text; nested
 * values skipped). Strings owned by the reader; NULLs when out of range. */
uint64_t fmt_safetensors_n_metadata(const fmt_safetensors *s);
void fmt_safetensors_metadata_at(const fmt_safetensors *s, uint64_t i, const char **key,
                                 const char **value);

/* Dtype name as in the header ("F32", "BF16", ...; "?" out of range) and
 * bytes per element (0 out of range). */
const char *fmt_st_dtype_name(fmt_st_dtype d);
size_t fmt_st_dtype_size(fmt_st_dtype d);

/* Unmap every shard and free the reader; accepts NULL. */
void fmt_safetensors_close(fmt_safetensors *s);

#endif
