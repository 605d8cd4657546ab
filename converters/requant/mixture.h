/*
 * mixture.h -- which type each tensor gets when requant quantizes a model:
 * the presets (llama ftype ids), llama-quantize's per-tensor rules with
 * their position counters, the fallback for row lengths a block type cannot
 * hold, and the user overrides (--pure, --tensor-type, --output-tensor-type,
 * --token-embedding-type, --leave-output-tensor).
 *
 * Pure functions over a list of tensor descriptions: no file, no I/O. The
 * rules follow llama.cpp ec562eb src/llama-quant.cpp (llama_tensor_get_type,
 * its _impl and llama_model_quantize_impl).
 */
#ifndef CONVERTERS_MIXTURE_H
#define CONVERTERS_MIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "ggufkit.h"

/* ------------------------------------------------------------------------ */
/* Presets                                                                    */
/* ------------------------------------------------------------------------ */

/* llama ftype ids (llama.h enum llama_ftype), written to general.file_type. */
enum {
    MIX_FTYPE_ALL_F32 = 0,
    MIX_FTYPE_F16 = 1,
    MIX_FTYPE_Q4_0 = 2,
    MIX_FTYPE_Q4_1 = 3,
    MIX_FTYPE_Q8_0 = 7,
    MIX_FTYPE_Q5_0 = 8,
    MIX_FTYPE_Q5_1 = 9,
    MIX_FTYPE_Q2_K = 10,
    MIX_FTYPE_Q3_K_S = 11,
    MIX_FTYPE_Q3_K_M = 12,
    MIX_FTYPE_Q3_K_L = 13,
    MIX_FTYPE_Q4_K_S = 14,
    MIX_FTYPE_Q4_K_M = 15,
    MIX_FTYPE_Q5_K_S = 16,
    MIX_FTYPE_Q5_K_M = 17,
    MIX_FTYPE_Q6_K = 18,
    MIX_FTYPE_IQ2_XXS = 19,
    MIX_FTYPE_IQ2_XS = 20,
    MIX_FTYPE_Q2_K_S = 21,
    MIX_FTYPE_IQ3_XS = 22,
    MIX_FTYPE_IQ3_XXS = 23,
    MIX_FTYPE_IQ1_S = 24,
    MIX_FTYPE_IQ4_NL = 25,
    MIX_FTYPE_IQ3_S = 26,
    MIX_FTYPE_IQ3_M = 27,
    MIX_FTYPE_IQ2_S = 28,
    MIX_FTYPE_IQ2_M = 29,
    MIX_FTYPE_IQ4_XS = 30,
    MIX_FTYPE_IQ1_M = 31,
    MIX_FTYPE_BF16 = 32,
    MIX_FTYPE_TQ1_0 = 36,
    MIX_FTYPE_TQ2_0 = 37,
    MIX_FTYPE_MXFP4_MOE = 38,
    MIX_FTYPE_Q1_0 = 40,
};

/* One preset a user can name on the command line. */
typedef struct {
    const char *name;  /* "Q4_K_M"; aliases have their own row */
    int ftype;         /* MIX_FTYPE_* */
    int default_type;  /* kern type id every quantized tensor starts from */
    double bpw;        /* nominal bits per weight of the preset */
    int needs_imatrix; /* llama-quantize refuses the preset without one */
    int is_alias;      /* 1 for Q3_K, Q4_K, Q5_K (shown as aliases) */
    const char *desc;  /* one line for --list */
    int only_copy;     /* COPY: nothing converted, file_type = the input's */
} mix_preset;

/* Number of presets and the i-th one (table order, for --list). */
size_t mix_preset_count(void);
const mix_preset *mix_preset_at(size_t i);

/* Preset by name (case-insensitive, aliases included) or by decimal ftype
 * id; NULL when unknown. Never returns the COPY pseudo-preset. */
const mix_preset *mix_preset_find(const char *name);

/* The canonical (non-alias) preset for an ftype id; NULL when unknown. */
const mix_preset *mix_preset_by_ftype(int ftype);

/* ------------------------------------------------------------------------ */
/* Plan                                                                       */
/* ------------------------------------------------------------------------ */

/* Model facts the rules use (from the GGUF metadata). */
typedef struct {
    const char *arch;  /* general.architecture ("llama"); NULL = unknown */
    int64_t n_layer;   /* <arch>.block_count */
    int64_t n_head;    /* head_count of layer 0 */
    int64_t n_head_kv; /* head_count_kv of layer 0 (defaults to n_head) */
    int64_t n_expert;  /* <arch>.expert_count, 0 when absent */
} mix_model;

/* One tensor of the input, as the caller describes it. */
typedef struct {
    const char *name; /* NUL-terminated, borrowed */
    uint32_t n_dims;  /* as stored in the file */
    int64_t ne[4];    /* unused dims are 1 */
    int type;         /* input kern type */
    int has_imatrix;  /* an imatrix entry exists for this name */
} mix_tensor;

/* --tensor-type REGEX=TYPE: compiled by the caller's mix_rules_add(). */
typedef struct mix_rules mix_rules;

/* User options that shape the plan. */
typedef struct {
    int ftype;              /* MIX_FTYPE_* of the preset */
    int pure;               /* --pure: every quantized tensor gets the default type */
    int leave_output;       /* --leave-output-tensor */
    int only_copy;          /* COPY: nothing is converted */
    int output_type;        /* --output-tensor-type, -1 when not given */
    int token_embd_type;    /* --token-embedding-type, -1 when not given */
    int has_imatrix;        /* an imatrix was loaded (changes some rules) */
    const mix_rules *rules; /* --tensor-type list, may be NULL */
    const size_t *order;    /* walk order of the counters (--keep-split: shard, offset);
                               NULL: mix_sort_order() */
} mix_opts;

/* What the plan decided for one tensor. */
typedef struct {
    int new_type;      /* kern type of the output tensor */
    int convert;       /* 1 when the data is converted (new_type != type) */
    int fallback;      /* 1 when the row-length fallback changed the type */
    int needs_imatrix; /* llama-quantize would insist on an imatrix entry */
} mix_choice;

/* Fill order[0..n) with tensor indices in the order llama-quantize walks
 * them (tensors outside "blk.N." first, then by layer, then by byte-wise
 * name). Ties of equal names keep input order. */
void mix_sort_order(const mix_tensor *t, size_t n, size_t *order);

/* Decide the output type of every tensor. t[] is in any order; the rules'
 * counters advance in mix_sort_order() order, as in llama-quantize.
 * out[i] belongs to t[i]. On failure returns GK_E_UNSUPPORTED or
 * GK_E_USAGE and writes a message ("tensor 'x': ...") into err[errcap]. */
gk_status mix_plan(const mix_model *m, const mix_opts *o, const mix_tensor *t, size_t n,
                   mix_choice *out, char *err, size_t errcap);

/* 1 when the tensor is one llama-quantize converts at all (ends in
 * "weight", at least 2 dims, not a norm, gate-inp, conv1d, ...). */
int mix_is_quantizable(const mix_model *m, const mix_opts *o, const mix_tensor *t);

/* ------------------------------------------------------------------------ */
/* --tensor-type rules                                                        */
/* ------------------------------------------------------------------------ */

/* Empty list; NULL on allocation failure. */
mix_rules *mix_rules_create(void);

/* Add "REGEX=TYPE" (POSIX extended regex, searched anywhere in the tensor
 * name; TYPE a ggml type name). GK_E_USAGE with a message in err for a
 * malformed spec, bad regex or unknown type. */
gk_status mix_rules_add(mix_rules *r, const char *spec, char *err, size_t errcap);

/* Type of the first rule whose regex matches name, or -1. */
int mix_rules_match(const mix_rules *r, const char *name);

void mix_rules_free(mix_rules *r); /* accepts NULL */

#endif
