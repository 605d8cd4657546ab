/*
 * source.h -- the tensor source: one record for a tensor, whatever file it
 * comes from, and an open set of them. The conversion, quantization and
 * ONNX engines read tensors only through it.
 *
 * A set is opened over one or more files: a .safetensors file, a sharded
 * set (model.safetensors.index.json, or a directory holding one; the index
 * is validated by formats/safetensors.c), a PyTorch checkpoint
 * (pytorch_model*.bin, formats/pickle.h) or a GGUF file (formats/gguf.h).
 * Each tensor is a fmt_src_tensor: its name, its type as a ggml type id, its
 * shape in row-major order, its stored bytes when they are mapped, and a
 * read function that returns a range of rows as f32.
 *
 * Transforms. Inputs that need computing (FP8 weights with a scale tensor,
 * GPTQ/AWQ packs, LoRA adapters merged into a base, MoE experts stacked
 * into one tensor) are sources too: a transform builds fmt_src_tensor
 * records whose read function computes rows from the records of the sets it
 * wraps (ctx points at its own state, e.g. the N expert records or the
 * weight and scale_inv pair), leaves data NULL, and hands them to
 * fmt_src_create(). Engines cannot tell the difference: they list, find and
 * read rows; only a byte-for-byte copy looks at data, and falls back to
 * reading rows when it is NULL.
 */
#ifndef FORMATS_SOURCE_H
#define FORMATS_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "gguf.h"

#define FMT_SRC_MAX_DIMS 8

typedef struct fmt_src_tensor fmt_src_tensor;

/* Rows [r0, r0 + n) of t as f32 into dst (n * fmt_src_row_len(t) floats).
 * The caller has checked the range. GK_E_UNSUPPORTED when the type cannot
 * be read as f32, or whatever the transform's inputs report. */
typedef gk_status (*fmt_src_read_fn)(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst);

/* Rows [r0, r0 + n) of t as stored bytes of t->type into dst (n *
 * kern_row_bytes(t->type, fmt_src_row_len(t)) bytes), for a computed record
 * whose values are ggml blocks without being mapped: repacked MXFP4 experts
 * (formats/mxfp4.h), a GPTQ weight kept as Q4_0 (formats/keepquant.h). The
 * caller has checked the range. */
typedef gk_status (*fmt_src_raw_fn)(const fmt_src_tensor *t, int64_t r0, int64_t n, uint8_t *dst);

/* After rows [r0, r1) of a computed record are written: drop the mapped
 * input pages they read (fmt_release_pages), so that resident memory stays
 * bounded by the rows in flight (formats/view.h, formats/mxfp4.h). */
typedef void (*fmt_src_release_fn)(const fmt_src_tensor *t, int64_t r0, int64_t r1);

struct fmt_src_tensor {
    const char *name;  /* NUL-terminated, owned by the set */
    int type;          /* ggml type (KERN_TYPE_*), -1 when the stored dtype has none */
    const char *dtype; /* the dtype as the file names it ("BF16", "F8_E4M3", "Q4_K") */
    uint32_t n_dims;   /* 0 for a scalar */
    int64_t shape[FMT_SRC_MAX_DIMS]; /* row-major (PyTorch) order: shape[n_dims-1] is the row */
    uint64_t n_elements;
    uint64_t size;              /* bytes of data */
    const uint8_t *data;        /* stored bytes, mapped, valid until close; NULL when computed */
    const char *file;           /* the file holding it, for messages; owned by the set */
    fmt_src_read_fn read;       /* never NULL */
    void *ctx;                  /* the read function's state, owned by whoever made the record */
    fmt_src_raw_fn read_raw;    /* NULL, or the stored bytes of a computed record */
    void *raw_ctx;              /* read_raw's state, owned by whoever made the record */
    fmt_src_release_fn release; /* NULL, or how a computed record drops what it read */
};

typedef struct fmt_src fmt_src;

/* Open one input: a GGUF file, a PyTorch zip checkpoint, or anything
 * fmt_safetensors_open() takes (a .safetensors file, an index .json, a
 * directory). The kind is taken from the file's first bytes. Returns NULL
 * with *st set as the format's reader sets it; fmt_src_open_errmsg() then
 * holds that reader's message ("FILE: what is wrong (at byte N)"). */
fmt_src *fmt_src_open(const char *path, gk_status *st);

/* Open n inputs as one set: tensors in the order of paths, each file's in
 * its reader's order (data offsets for safetensors, the state_dict's for
 * pickles, the header's for GGUF). Fails on the first input that fails. */
fmt_src *fmt_src_open_files(const char *const *paths, size_t n, gk_status *st);

/* A set over GGUF readers the caller has open, so that a header is parsed
 * once: readers[0..n) (the shards of a split model, in order), files[i]
 * naming reader i in records and messages (files NULL: ""). Records follow each reader's
 * header order, so record i of a one-reader set is tensor i of that reader.
 * The readers and their inputs are borrowed (close the set first). A reader
 * whose input is not mapped (a stream, or a header-only reader) gives
 * records with data NULL: fmt_src_load() reads their bytes, and reading
 * their rows is GK_E_UNSUPPORTED. */
fmt_src *fmt_src_over_gguf(fmt_gguf *const *readers, size_t n, const char *const *files,
                           gk_status *st);

/* A set over n records the caller built (a transform). The records are
 * copied; their names, dtypes, files, data and ctx must outlive the set. */
fmt_src *fmt_src_create(const fmt_src_tensor *tensors, uint64_t n, gk_status *st);

/* Message of this thread's last failed open ("" after a successful one). */
const char *fmt_src_open_errmsg(void);

/* Tensors of the set; NULL when i is out of range. Records stay valid
 * until close. */
uint64_t fmt_src_n_tensors(const fmt_src *s);
const fmt_src_tensor *fmt_src_tensor_at(const fmt_src *s, uint64_t i);

/* The first tensor of that name in set order, NULL when absent. */
const fmt_src_tensor *fmt_src_find(const fmt_src *s, const char *name);

/* Index of the first tensor of that name in set order, -1 when absent. */
int64_t fmt_src_index(const fmt_src *s, const char *name);

/* Files the set reads (the shards of an index, not the index), owned by the
 * set; NULL when out of range. */
size_t fmt_src_n_files(const fmt_src *s);
const char *fmt_src_file_at(const fmt_src *s, size_t i);

/* Elements per row: shape[n_dims-1], 1 for a scalar. */
int64_t fmt_src_row_len(const fmt_src_tensor *t);

/* Rows [r0, r0 + n) of t as f32 into dst (n * fmt_src_row_len(t) floats);
 * GK_E_FORMAT when the range is outside the tensor. */
gk_status fmt_src_read_rows(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst);

/* The file-backed read function: rows of t->data through kern_row_to_f32
 * (transforms that only rename or regroup stored tensors reuse it). */
gk_status fmt_src_read_stored(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst);

/* The stored bytes of t (t->size of them): t->data when mapped, else read
 * into buf (t->size bytes) from its GGUF reader, forward on a stream (in
 * input order that is cheap; going back spills the stream, formats/io.h).
 * *bytes is t->data or buf. Failures: the reader's status and message
 * ("tensor 'X': unexpected end of file") into err[errcap];
 * GK_E_UNSUPPORTED for a computed record, which has only rows. */
gk_status fmt_src_load(const fmt_src_tensor *t, void *buf, const uint8_t **bytes, char *err,
                       size_t errcap);

/* Close every reader and free the set; accepts NULL. */
void fmt_src_close(fmt_src *s);

#endif
