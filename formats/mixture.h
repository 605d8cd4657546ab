/*
 * mixture.h -- which type each tensor gets when a model is quantized with a
 * llama-quantize preset: the presets (llama ftype ids), llama-quantize's
 * per-tensor rules with their position counters, the fallback for row
 * lengths a block type cannot hold, and the user overrides (--pure,
 * --tensor-type, --output-tensor-type, --token-embedding-type,
 * --leave-output-tensor). Used by requant, hf2gguf's presets and
 * gguf-inspect --as (sizes without quantizing), hence in formats/.
 *
 * Pure functions over a list of tensor descriptions: no file, no I/O. The
 * rules follow llama.cpp ec562eb src/llama-quant.cpp (llama_tensor_get_type,
 * its _impl and llama_model_quantize_impl).
 */
#ifndef FORMATS_MIXTURE_H
#define FORMATS_MIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "gguf.h"

/* ------------------------------------------------------------------------ */
/* Presets                                                                    */
/* ------------------------------------------------------------------------ */

/* llama ftype ids (llama.h enum llama_ftype), written to general.file_type. */
enum {
    FMT_MIX_FTYPE_ALL_F32 = 0,
    FMT_MIX_FTYPE_F16 = 1,
    FMT_MIX_FTYPE_Q4_0 = 2,
    FMT_MIX_FTYPE_Q4_1 = 3,
    FMT_MIX_FTYPE_Q8_0 = 7,
    FMT_MIX_FTYPE_Q5_0 = 8,
    FMT_MIX_FTYPE_Q5_1 = 9,
    FMT_MIX_FTYPE_Q2_K = 10,
    FMT_MIX_FTYPE_Q3_K_S = 11,
    FMT_MIX_FTYPE_Q3_K_M = 12,
    FMT_MIX_FTYPE_Q3_K_L = 13,
    FMT_MIX_FTYPE_Q4_K_S = 14,
    FMT_MIX_FTYPE_Q4_K_M = 15,
    FMT_MIX_FTYPE_Q5_K_S = 16,
    FMT_MIX_FTYPE_Q5_K_M = 17,
    FMT_MIX_FTYPE_Q6_K = 18,
    FMT_MIX_FTYPE_IQ2_XXS = 19,
    FMT_MIX_FTYPE_IQ2_XS = 20,
    FMT_MIX_FTYPE_Q2_K_S = 21,
    FMT_MIX_FTYPE_IQ3_XS = 22,
    FMT_MIX_FTYPE_IQ3_XXS = 23,
    FMT_MIX_FTYPE_IQ1_S = 24,
    FMT_MIX_FTYPE_IQ4_NL = 25,
    FMT_MIX_FTYPE_IQ3_S = 26,
    FMT_MIX_FTYPE_IQ3_M = 27,
    FMT_MIX_FTYPE_IQ2_S = 28,
    FMT_MIX_FTYPE_IQ2_M = 29,
    FMT_MIX_FTYPE_IQ4_XS = 30,
    FMT_MIX_FTYPE_IQ1_M = 31,
    FMT_MIX_FTYPE_BF16 = 32,
    FMT_MIX_FTYPE_TQ1_0 = 36,
    FMT_MIX_FTYPE_TQ2_0 = 37,
    FMT_MIX_FTYPE_MXFP4_MOE = 38,
    FMT_MIX_FTYPE_Q1_0 = 40,
};

/* One preset a user can name on the command line. */
typedef struct {
    const char *name;  /* "Q4_K_M"; aliases have their own row */
    int ftype;         /* FMT_MIX_FTYPE_* */
    int default_type;  /* kern type id every quantized tensor starts from */
    double bpw;        /* nominal bits per weight of the preset */
    int needs_imatrix; /* llama-quantize refuses the preset without one */
    int is_alias;      /* 1 for Q3_K, Q4_K, Q5_K (shown as aliases) */
    const char *desc;  /* one line for --list */
    int only_copy;     /* COPY: nothing converted, file_type = the input's */
} fmt_mix_preset;

/* Number of presets and the i-th one (table order, for --list). */
size_t fmt_mix_preset_count(void);
const fmt_mix_preset *fmt_mix_preset_at(size_t i);

/* Preset by name (case-insensitive, aliases included) or by decimal ftype
 * id; NULL when unknown. Never returns the COPY pseudo-preset. */
const fmt_mix_preset *fmt_mix_preset_find(const char *name);

/* The canonical (non-alias) preset for an ftype id; NULL when unknown. */
const fmt_mix_preset *fmt_mix_preset_by_ftype(int ftype);

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
} fmt_mix_model;

/* m's facts from a GGUF header: general.architecture (copied into
 * arch[cap], which m->arch points at), block_count, expert_count, and the
 * head counts of layer 0 (per-layer arrays give their first element;
 * head_count_kv defaults to head_count). Absent keys leave 0. */
void fmt_mix_model_read(const fmt_gguf *g, fmt_mix_model *m, char *arch, size_t cap);

/* One tensor of the input, as the caller describes it. */
typedef struct {
    const char *name; /* NUL-terminated, borrowed */
    uint32_t n_dims;  /* as stored in the file */
    int64_t ne[4];    /* unused dims are 1 */
    int type;         /* input kern type */
    int has_imatrix;  /* an imatrix entry exists for this name */
} fmt_mix_tensor;

/* --tensor-type REGEX=TYPE: compiled by the caller's fmt_mix_rules_add(). */
typedef struct fmt_mix_rules fmt_mix_rules;

/* User options that shape the plan. */
typedef struct {
    int ftype;                  /* FMT_MIX_FTYPE_* of the preset */
    int pure;                   /* --pure: every quantized tensor gets the default type */
    int leave_output;           /* --leave-output-tensor */
    int only_copy;              /* COPY: nothing is converted */
    int output_type;            /* --output-tensor-type, -1 when not given */
    int token_embd_type;        /* --token-embedding-type, -1 when not given */
    int has_imatrix;            /* an imatrix was loaded (changes some rules) */
    const fmt_mix_rules *rules; /* --tensor-type list, may be NULL */
    const size_t *order;        /* walk order of the counters (--keep-split: shard, offset);
                                   NULL: fmt_mix_sort_order() */
} fmt_mix_opts;

/* What the plan decided for one tensor. */
typedef struct {
    int new_type;      /* kern type of the output tensor */
    int convert;       /* 1 when the data is converted (new_type != type) */
    int fallback;      /* 1 when the row-length fallback changed the type */
    int needs_imatrix; /* llama-quantize would insist on an imatrix entry */
} fmt_mix_choice;

/* Fill order[0..n) with tensor indices in the order llama-quantize walks
 * them (tensors outside "blk.N." first, then by layer, then by byte-wise
 * name). Ties of equal names keep input order. */
void fmt_mix_sort_order(const fmt_mix_tensor *t, size_t n, size_t *order);

/* Decide the output type of every tensor. t[] is in any order; the rules'
 * counters advance in fmt_mix_sort_order() order, as in llama-quantize.
 * out[i] belongs to t[i]. On failure returns GK_E_UNSUPPORTED or
 * GK_E_USAGE and writes a message ("tensor 'x': ...") into err[errcap]. */
gk_status fmt_mix_plan(const fmt_mix_model *m, const fmt_mix_opts *o, const fmt_mix_tensor *t,
                       size_t n, fmt_mix_choice *out, char *err, size_t errcap);

/* 1 when the tensor is one llama-quantize converts at all (ends in
 * "weight", at least 2 dims, not a norm, gate-inp, conv1d, ...). */
int fmt_mix_is_quantizable(const fmt_mix_model *m, const fmt_mix_opts *o, const fmt_mix_tensor *t);

/* ------------------------------------------------------------------------ */
/* --tensor-type rules                                                        */
/* ------------------------------------------------------------------------ */

/* Empty list; NULL on allocation failure. */
fmt_mix_rules *fmt_mix_rules_create(void);

/* Add "REGEX=TYPE" (POSIX extended regex, searched anywhere in the tensor
 * name; TYPE a ggml type name). GK_E_USAGE with a message in err for a
 * malformed spec, bad regex or unknown type. */
gk_status fmt_mix_rules_add(fmt_mix_rules *r, const char *spec, char *err, size_t errcap);

/* Type of the first rule whose regex matches name, or -1. */
int fmt_mix_rules_match(const fmt_mix_rules *r, const char *name);

void fmt_mix_rules_free(fmt_mix_rules *r); /* accepts NULL */

#endif
