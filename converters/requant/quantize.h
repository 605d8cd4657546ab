/*
 * quantize.h -- requant's engine: plan a GGUF-to-GGUF quantization with the
 * mixture rules, then stream the input once and write the output header
 * first, converting row chunks on a thread pool. Output bytes never depend
 * on the thread count. Per-tensor error metrics (RMSE, max abs error,
 * relative error, SNR) are measured on each chunk right after it is
 * quantized, so there is no second pass over the data.
 *
 * Layout of the output follows llama-quantize (ec562eb): GGUF v3, tensors in
 * llama's weight order, alignment 32, every input KV copied in order except
 * split.*, then general.quantization_version and general.file_type moved to
 * the end, then the KV overrides, then <arch>.block_count when pruning.
 */
#ifndef CONVERTERS_QUANTIZE_H
#define CONVERTERS_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "formats/io.h"
#include "verify/verify.h"
#include "formats/imatrix.h"
#include "formats/mixture.h"

/* One --override-kv KEY=TYPE:VALUE (TYPE int, float, bool or str). */
typedef struct {
    char key[128];
    int type;    /* FMT_GGUF_I32, FMT_GGUF_F32, FMT_GGUF_BOOL or FMT_GGUF_STRING */
    int64_t i;   /* int and bool values */
    double f;    /* float values */
    char s[128]; /* string values (at most 127 bytes, as llama.cpp) */
} rq_kv_override;

/* Parse "KEY=TYPE:VALUE" as llama.cpp's string_parse_kv_override does.
 * GK_E_USAGE with a message for a malformed spec. */
gk_status rq_parse_kv_override(const char *spec, rq_kv_override *out, char *err, size_t errcap);

/* Options of a run. Zero-initialise, then set what is needed. */
typedef struct {
    const fmt_mix_preset *preset; /* required */
    fmt_mix_opts mix;             /* ftype is taken from preset; has_imatrix is set by rq_plan */
    const imx *imatrix;           /* borrowed; NULL for none */
    const char *imatrix_path;     /* written to quantize.imatrix.file */
    int allow_requantize;         /* dequantize already-quantized inputs */
    int nthreads;                 /* < 1: all online cores */
    const rq_kv_override *kv;     /* --override-kv list, applied in order */
    size_t n_kv;
    double max_rel_error; /* > 0: fail when a tensor's relative error exceeds it */
    int measure;          /* 1: compute error metrics (default in requant) */
    /* Tensor data source instead of the reader's data section, for a reader
     * that holds only a header (fmt_gguf_writer_header_reader): fill buf
     * with the size bytes of input tensor i (reader index). Called from
     * rq_run's thread, tensors in output order. NULL: read from the reader. */
    gk_status (*read_tensor)(void *ctx, uint64_t i, void *buf, uint64_t size, char *err,
                             size_t errcap);
    void *read_ctx;
    int keep_split; /* one output file per input shard (rq_plan_split) */
    /* --prune-layers: block ids to drop, sorted, unique, each below the
     * model's block_count. The other blocks are renumbered as
     * llama-quantize's remap_layer does (in weight order, the first
     * "blk.N." of a name), <arch>.block_count becomes the kept count (u32,
     * moved after the overrides); the mixture keeps the input's layer count,
     * the imatrix is looked up by the input names. */
    const int *prune;
    size_t n_prune;
} rq_opts;

/* What happened (or will happen) to one tensor, in output order. */
typedef struct {
    const char *name; /* borrowed from the reader */
    uint32_t n_dims;
    int64_t ne[4];
    int old_type, new_type;
    int fallback; /* the row-length fallback picked new_type */
    uint64_t bytes_old, bytes_new;
    int has_metrics;  /* 1 when the data was converted and measured */
    int used_imatrix; /* an imatrix entry was applied */
    vfy_metrics m;
} rq_tensor;

typedef struct rq_job rq_job;

/* Plan the output of reader g with options o (both borrowed until
 * rq_free): the type of every tensor and the output header. Fails with
 * GK_E_USAGE (impossible option combination: a type that needs an imatrix
 * without one, an already-quantized input without allow_requantize, an
 * imatrix entry of the wrong size), GK_E_UNSUPPORTED (a row length no type
 * can hold) or GK_E_FORMAT, with a message in err[errcap]. */
rq_job *rq_plan(fmt_gguf *g, const rq_opts *o, gk_status *st, char *err, size_t errcap);

/* The same over the shards of a split model, in split.no order, as
 * fmt_split_open() gives and checks them (KVs come from shards[0], the
 * array is copied, the readers are borrowed). Without keep_split the output is one file, as
 * for the merged model; with it, one file per shard holding that shard's
 * tensors (llama-quantize's order: shard, then offset; the mixture counters
 * advance in that order), split.no/split.count (u16) and
 * split.tensors.count (i32) set last in each, no other KV after file 0.
 * On failure returns NULL and fills e, naming input (the path as given,
 * NULL for none) as the file at fault. */
rq_job *rq_plan_split(fmt_gguf *const *shards, size_t n_shards, const rq_opts *o, const char *input,
                      gk_error *e);

/* Number of output files (rq_run_split needs that many outputs). */
size_t rq_n_outputs(const rq_job *j);

/* Tensors in output order. */
size_t rq_n_tensors(const rq_job *j);
const rq_tensor *rq_tensor_at(const rq_job *j, size_t i);

/* Totals: input tensor bytes, output tensor bytes, elements, output file
 * size (summed over the files). */
uint64_t rq_bytes_in(const rq_job *j);
uint64_t rq_bytes_out(const rq_job *j);
uint64_t rq_n_elements(const rq_job *j);
uint64_t rq_file_size(const rq_job *j);

/* Write the output to out: header first, then every tensor in order.
 * progress may be NULL. Returns GK_E_CHECK (with err naming the tensor)
 * when max_rel_error is exceeded; the caller then must not commit out. */
gk_status rq_run(rq_job *j, fmt_output *out, fmt_progress *progress, char *err, size_t errcap);

/* rq_run for rq_n_outputs() files, outs[k] receiving output file k. On
 * failure fills e with the file at fault: out_names[k] for a failed
 * output, in_names[s] for bad or missing data in input shard s (split.no
 * order), none for GK_E_CHECK or out of memory. Either names array may be
 * NULL (no file named). */
gk_status rq_run_split(rq_job *j, fmt_output *const *outs, const char *const *out_names,
                       const char *const *in_names, fmt_progress *progress, gk_error *e);

void rq_free(rq_job *j); /* accepts NULL */

#endif
