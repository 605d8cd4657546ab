/*
 * inspect_internal.h -- gguf-inspect's view of a model: one GGUF file, a
 * split GGUF set (NAME-0000K-of-0000N.gguf), or safetensors; statistics
 * derived from the header only (tensor data is never read); renderers for
 * people (text) and for pipes (JSON). Never included from outside inspect/.
 */
#ifndef INSPECT_INTERNAL_H
#define INSPECT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "formats/gguf.h"
#include "formats/io.h"
#include "formats/mixture.h"
#include "formats/safetensors.h"
#include "formats/split.h"
#include "memplan.h"

/* One tensor of the combined model. */
typedef struct {
    const char *name; /* NUL-terminated copy */
    int type;         /* kern_type id, or -1 for a safetensors dtype */
    const char *type_name;
    uint32_t n_dims;
    int64_t ne[8]; /* ggml order (ne[0] = row length) */
    uint64_t n_elements;
    uint64_t bytes;
    uint64_t offset; /* GGUF: relative to the data section; safetensors: absolute */
    uint32_t shard;
} insp_tensor;

typedef struct {
    char *path;
    uint64_t file_size;
    fmt_gguf *gguf; /* borrowed from insp_model.split; NULL for safetensors */
} insp_shard;

typedef struct {
    int is_safetensors;
    insp_shard *shards;
    uint32_t n_shards;
    insp_tensor *tensors;
    uint64_t n_tensors;
    fmt_split *split;      /* GGUF input: the file, or every file of its split set */
    fmt_input *planned_in; /* or the header hf2gguf would write (insp_model_plan_hf), */
    fmt_gguf *planned;     /* read from its --header-only stream */
    fmt_safetensors *st;   /* safetensors input */
    char *config_json;     /* config.json beside safetensors, if any (raw text) */
} insp_model;

/* Options that change what is shown. */
typedef struct {
    int no_kv, no_tensors, full, layers, json;
    const char *tensor_regex;      /* NULL = all */
    const char *sort;              /* NULL, "name", "size", "offset", "type" */
    int mem;                       /* --mem: plan memory as llama.cpp allocates it */
    mp_params mp;                  /* its knobs (-c, -b, -ub, -np, -ctk, -ctv, -fa, -ngl, ...) */
    int ngl_set;                   /* -ngl given: --fit searches the context, else the layers */
    uint64_t fit[1 + MP_MAX_GPUS]; /* --fit limits per device (0 = none): CPU, GPU0.. */
    int fit_n;                     /* devices named in --fit */
    const fmt_mix_preset *as;      /* --as PRESET: weights as requant would write them */
} insp_opts;

/* Open path (GGUF, "-", .zst, any shard of a split set, .safetensors, or a
 * HF directory). On failure returns non-OK and fills e with the file at
 * fault (the path, or the shard that failed) and the problem. */
gk_status insp_model_open(const char *path, insp_model *m, gk_error *e);
/* The GGUF hf2gguf would make of the Hugging Face directory dir, from its
 * header alone (no tensor data is read): with --outtype f16 when f16 is set
 * (what --as quantizes from, as hf2gguf --outtype PRESET does), else
 * hf2gguf's default outtype. The file size is the one hf2gguf would write.
 * On failure fills e as insp_model_open does; hf2gguf's own refusals
 * (an unsupported architecture, a bad config.json) keep its message. */
gk_status insp_model_plan_hf(const char *dir, int f16, insp_model *m, gk_error *e);
void insp_model_close(insp_model *m);

/* hfplan.c: run `hf2gguf --header-only -o - dir` (beside this program, else
 * on PATH) and open the header it writes, as *in (a pipe) and *g, both
 * owned by the caller (fmt_gguf_close, then fmt_input_close). On failure
 * both are NULL and e holds hf2gguf's message, or why it could not run. */
gk_status insp_hf_header(const char *dir, int f16, fmt_input **in, fmt_gguf **g, gk_error *e);

/* Derived statistics. */
typedef struct {
    int type;
    const char *type_name;
    uint64_t tensors, params, bytes;
} insp_type_stat;

typedef struct {
    int64_t layer; /* -1: tensors outside blk.N */
    uint64_t tensors, params, bytes;
    uint64_t expert_tensors, expert_params, expert_bytes; /* its expert stacks (MoE) */
} insp_layer_stat;

typedef struct {
    uint64_t params, bytes, file_size;
    insp_type_stat *types; /* sorted by bytes, descending */
    size_t n_types;
    insp_layer_stat *layers; /* layer order, non-layer row last */
    size_t n_layers;
    /* Mixture of experts: a GGUF with expert stacks (tensors named
     * *_exps.* or *_chexps.*, llama.cpp's LLM_FFN_EXPS_REGEX, biases too).
     * moe is 0 otherwise and the rest unset. n_expert and n_expert_used
     * come from {arch}.expert_count / expert_used_count (0 when absent),
     * n_expert_shared from {arch}.expert_shared_count, else 1 when the
     * layers have a shared expert (*_shexp.*), else 0. active_params: the
     * parameters a token runs through, every tensor but the expert stacks
     * whole and n_expert_used / n_expert of each stack; UINT64_MAX when
     * the counts are missing or a stack does not divide by n_expert. */
    int moe;
    uint64_t n_expert, n_expert_used, n_expert_shared;
    uint64_t expert_tensors, expert_params, expert_bytes, active_params;
} insp_stats;

/* 1 when name is one of llama.cpp's expert stacks (*_exps.*, *_chexps.*). */
int insp_is_expert_stack(const char *name);

gk_status insp_stats_compute(const insp_model *m, insp_stats *s);
void insp_stats_free(insp_stats *s);

/* Hyper-parameters read from "{arch}.*" keys (0 / NaN when absent). */
typedef struct {
    const char *arch;
    uint64_t context_length, embedding_length, block_count, feed_forward_length;
    uint64_t head_count, head_count_kv, key_length, value_length;
    uint64_t rope_dimension_count, expert_count, expert_used_count, vocab_size;
    double rope_freq_base, rms_eps, norm_eps, rope_scaling_factor;
    fmt_str rope_scaling_type;
    /* Sliding-window attention as llama.cpp loads it: swa_layers of the
     * block_count layers attend over the last swa_window tokens only
     * (every swa_period-th layer is global). All 0 when llama.cpp uses no
     * window for the architecture. */
    uint64_t swa_window, swa_layers;
    uint32_t swa_period;
} insp_hparams;

void insp_hparams_read(const fmt_gguf *g, insp_hparams *hp);

/* Family-specific hyper-parameters: "{arch}.suffix" keys that only some
 * architectures write, each shown (text) and reported (JSON) as is. */
typedef struct {
    const char *suffix;
    const char *label; /* text view */
    const char *field; /* JSON hparams field */
} insp_hparam_key;

extern const insp_hparam_key insp_hparam_keys[];
extern const size_t insp_n_hparam_keys;

/* The "{arch}.suffix" key of g, or NULL. */
const fmt_gguf_kv *insp_arch_kv(const fmt_gguf *g, const char *arch, const char *suffix);

/* The rope factor tensors llama.cpp reads (rope_freqs, LongRoPE's
 * rope_factors_long/short) present in m: up to cap, in that order. */
size_t insp_rope_factor_tensors(const insp_model *m, const insp_tensor **out, size_t cap);

/* --mem views (memview.c): the plan of memplan.h for a GGUF model, as a
 * text section or a JSON object. Both return 0, or 2 after printing
 * "gguf-inspect: FILE: message" (parameters the model cannot take). */
int insp_mem_text(FILE *f, const insp_model *m, const insp_hparams *hp, const insp_opts *o);
int insp_mem_json(const insp_model *m, const insp_hparams *hp, const insp_opts *o, json_t **out);

/* adapter.c: a LoRA adapter (general.type "adapter"). */
typedef struct {
    char *weight;    /* the base weight, "blk.0.attn_q.weight" */
    int64_t rank;    /* lora_a ne[1] */
    int64_t in, out; /* lora_a ne[0], lora_b ne[1] (-1: no lora_b) */
    int64_t experts; /* ne[2] of 3-D expert stacks, else 0 */
    int consistent;  /* lora_b present, its ne[0] is the rank, same experts */
} insp_lora_pair;

typedef struct {
    int is_adapter;     /* the rest is set only when 1 */
    fmt_str type, arch; /* adapter.type, general.architecture (may be empty) */
    int has_alpha;      /* adapter.lora.alpha present */
    double alpha;
    uint64_t n_invocation_tokens; /* aLoRA: adapter.alora.invocation_tokens */
    insp_lora_pair *pairs;        /* tensor order of the lora_a halves */
    size_t n_pairs;
    char **modules; /* target modules, sorted, unique */
    size_t n_modules;
    int64_t rank_min, rank_max, n_blocks;
    size_t unpaired; /* tensors that are neither half of a pair */
} insp_adapter;

gk_status insp_adapter_read(const insp_model *m, insp_adapter *a);
void insp_adapter_free(insp_adapter *a);

/* Tensor order for display after filtering and sorting; *n set to count.
 * Returns NULL on allocation failure or bad regex (message in err). */
uint64_t *insp_select_tensors(const insp_model *m, const insp_opts *o, uint64_t *n, char *err,
                              size_t errcap);

/* Render. Return 0 on success, non-zero on write error. */
int insp_render_text(FILE *f, const insp_model *m, const insp_opts *o);
int insp_render_json(FILE *f, const insp_model *m, const insp_opts *o);

/* Print one KV's value raw (--key): strings as bytes, arrays one element per
 * line. Returns 0, or 1 when the key is absent. */
int insp_print_key(FILE *f, const insp_model *m, const char *key);

/* gguf-inspect's engine (run.c): opens input (a GGUF, a split set, stdin,
 * a safetensors file, or with --mem a Hugging Face directory, planned) and
 * prints --key's value, the JSON or the text view. Returns the exit code. */
int insp_run(const char *input, const char *key, const insp_opts *o);

/* Human-readable byte size ("1.75 MiB"). */
void insp_human_bytes(uint64_t n, char *buf, size_t cap);

#endif
