/*
 * convert.h -- the hf2gguf conversion engine: Hugging Face checkpoint
 * directory -> GGUF, written the way llama.cpp's convert_hf_to_gguf.py
 * (ec562eb) writes it: same keys in the same order, same tensor names,
 * order, types and bytes.
 *
 * Data path: safetensors shards are mmapped; the GGUF header is written
 * first, then tensor data is converted in row chunks by -j worker threads
 * into a bounded ring of buffers and written in order, so output bytes do
 * not depend on the thread count and memory does not grow with model size.
 */
#ifndef CONVERTERS_CONVERT_H
#define CONVERTERS_CONVERT_H

#include <stdint.h>
#include <stdio.h>

#include "ggufkit.h"
#include "converters/hf2gguf/arch.h"
#include "formats/hfmeta.h"
#include "formats/imatrix.h"
#include "formats/mixture.h"

/* --outtype values. */
typedef enum {
    CV_OUT_F32,
    CV_OUT_F16,
    CV_OUT_BF16,
    CV_OUT_Q8_0,
    CV_OUT_AUTO, /* BF16/F16 as the first 2-D+ bf16/f16 tensor, else F16 (ec562eb) */
} cv_outtype;

typedef struct {
    const char *model_dir; /* required */
    const char *out_path;  /* NULL: default name inside model_dir; "-": stdout */
    cv_outtype outtype;
    int vocab_only;            /* header + KV only */
    int dry_run;               /* print the plan, write nothing */
    int header_only;           /* write each file's header (keys, tensor infos), no data */
    int json;                  /* plan as JSON (with dry_run) */
    int force;                 /* overwrite an existing output */
    int jobs;                  /* worker threads (>= 1) */
    int zstd_level;            /* 0 = plain */
    int progress;              /* -1 auto, 0 off, 1 on */
    int strict;                /* non-finite weights are an error (else a warning) */
    int keep_quant;            /* 1 --keep-quant, 2 =strict (formats/keepquant.h) */
    const char *model_name;    /* --model-name or NULL */
    const char *metadata_path; /* --metadata JSON or NULL */
    const char *pre;           /* --pre NAME or NULL */
    int merge_scores;          /* LlamaHf vocab: score tokens by -merge rank (not c392e50) */
    /* config.json as written (upstream without transformers, as the goldens
     * were made), not with the keys the family's transformers config class
     * fills in (cv_arch.config_fills: upstream with transformers) */
    int config_as_written;
    uint64_t split_max_tensors; /* 0 = no limit; else files of at most N tensors */
    uint64_t split_max_size;    /* 0 = no limit; else files of at most N data bytes */
    /* A requant preset instead of outtype: the F16 plan is handed to
     * requant's engine and quantized in the same pass, giving the bytes of
     * hf2gguf --outtype f16 followed by requant -t PRESET. */
    const fmt_mix_preset *preset;
    const imx *imatrix;       /* borrowed; NULL for none (preset only) */
    const char *imatrix_path; /* as given, for quantize.imatrix.file */
} cv_options;

/* Convert. On failure returns the status and fills e (the file at fault,
 * when one is, and what is wrong); nothing is left at the output path. The dry-run plan
 * goes to plan_out (normally stdout). The written path (when not stdout) is
 * copied into out_written[out_cap] when that is non-NULL (the first file
 * when split). Split output follows gguf-py: OUT-0000K-of-0000N.gguf, all
 * KVs in the first file, split.no/split.count/split.tensors.count in every
 * file; a plan that fits in one file is written unsplit. */
gk_status cv_convert(const cv_options *o, FILE *plan_out, char *out_written, size_t out_cap,
                     gk_error *e);

/* Supported architectures, for --list-archs and error messages. */
size_t cv_arch_count(void);
const cv_arch *cv_arch_at(size_t i);

/* Architecture for a config.json "architectures" entry, or NULL. */
const cv_arch *cv_arch_find(const char *hf_class);

/* Outtype from its name ("f32", "f16", "bf16", "q8_0", "auto"); -1 if none. */
int cv_outtype_from_name(const char *name);

/* What an adapter needs of its base model (converters/hf2gguf/lora.h):
 * the family, the layer count, the Q/K permutation's head counts and the
 * dimensions its tensor table refers to (-1 when unknown). */
typedef struct {
    const cv_arch *arch;
    long long n_layer, n_head, n_head_kv;
    long long dims[CV_DIM_COUNT];
    long long n_expert;     /* a family with expert rules, else 0 */
    const char *expert_key; /* the key that gave n_expert (static), or NULL */
} cv_base;

/* The base from a checkpoint directory's config.json, as cv_convert reads
 * it (text_config merged, the family's config fills); no weight is read. */
gk_status cv_base_from_dir(const char *dir, cv_base *b, char *err, size_t errcap);

/* The first architecture whose general.architecture is name, or NULL
 * (mixtral's "llama" is llama's: they share the dense tensor table). */
const cv_arch *cv_arch_by_name(const char *name);

/* Source row feeding output row r of a rows-row tensor under the llama Q/K
 * permutation with heads heads (LlamaModel.permute). */
int64_t cv_perm_src(int64_t r, int64_t rows, int64_t heads);

/* n f32 values stored as ggml type (F32, F16, BF16 or a quantized type,
 * one row) at dst, as gguf-py's quantize() writes them. */
void cv_store_row(int type, const float *src, int64_t n, uint8_t *dst);

/* gguf-py naming_convention() without the kind suffix: NAME[-SIZE][-FINETUNE]
 * [-VERSION]-TYPE (no size with vocab_only, then "-vocab"). */
void cv_default_name(const fmt_hfmeta *m, const char *type, int vocab_only, char *out, size_t cap);

#endif
