/*
 * lora.h -- LoRA adapters merged into a base model as requant reads it
 * (requant --lora ADAPTER.gguf[:SCALE]).
 *
 * The merge stands for the file llama-export-lora (llama.cpp ec562eb)
 * writes from the base and the adapters, without writing it: its header
 * (the base's KVs with general.file_type moved last as u32 1 = MOSTLY_F16,
 * the base's tensors sorted by name, each adapted tensor F16, or F32 over an
 * F32 base tensor) is a header-only reader that requant's planner takes as
 * its input, and its tensor data is computed on demand by rq_lora_read.
 * So requant --lora TYPE writes what export-lora then llama-quantize TYPE
 * write, and rq_lora_write writes export-lora's file itself.
 *
 * Each adapted tensor is W + sum over adapters of scale * (B x A), with
 * scale = SCALE * alpha / rank (SCALE alone when alpha is 0), computed in
 * f32 in ggml's CPU order (see lora.c), then rounded to the output type
 * once: the bytes are those of export-lora built for x86-64 with AVX-512
 * and the llamafile sgemm (ggml's default native build on such a CPU).
 */
#ifndef CONVERTERS_REQUANT_LORA_H
#define CONVERTERS_REQUANT_LORA_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "formats/io.h"

#define RQ_LORA_PATH 4096 /* longest adapter file name + 1 */

/* One --lora argument. */
typedef struct {
    const char *path;
    float scale; /* the user's scale, 1 by default */
} rq_lora_spec;

/* Split "FILE[:SCALE]" as requant --lora takes it: a final ":SCALE" that
 * parses as a finite number is the scale, unless the whole argument names
 * an existing file. path gets a copy of the file name (cap bytes).
 * GK_E_USAGE with a message when the name does not fit. */
gk_status rq_lora_parse(const char *arg, char *path, size_t cap, float *scale, char *err,
                        size_t errcap);

typedef struct rq_lora rq_lora;

/* Open the adapters over base (borrowed until rq_lora_free; its data must
 * be readable: a file, or a stream made seekable), checking each one: a
 * LoRA adapter GGUF (general.type adapter, adapter.type lora) of the
 * base's architecture with a finite adapter.lora.alpha; F32, F16 or BF16
 * tensors named T.lora_a and T.lora_b in pairs for 2-D base tensors T, with
 * shapes that fit T and a rank above 0; every adapter adapting the same
 * tensors (as export-lora requires). On failure returns NULL and fills e
 * (the file at fault: base_path or the adapter's path). */
rq_lora *rq_lora_open(fmt_gguf *base, const char *base_path, const rq_lora_spec *specs, size_t n,
                      int nthreads, gk_error *e);

/* The merged model's header, as export-lora writes it (owned by m). */
fmt_gguf *rq_lora_header(rq_lora *m);

/* Tensors the adapters change. */
size_t rq_lora_n_merged(const rq_lora *m);

/* requant's read_tensor source (rq_opts): the size bytes of tensor i of
 * rq_lora_header() into buf; ctx is the rq_lora. */
gk_status rq_lora_read(void *ctx, uint64_t i, void *buf, uint64_t size, char *err, size_t errcap);

/* Write the merged model as export-lora writes it: the header, then every
 * tensor in order. progress (may be NULL) counts input bytes. */
gk_status rq_lora_write(rq_lora *m, fmt_output *out, fmt_progress *progress, char *err,
                        size_t errcap);

void rq_lora_free(rq_lora *m); /* accepts NULL */

#endif
