/*
 * arch.h -- what hf2gguf knows about one model architecture, as data: the
 * Hugging Face class names it accepts, its tensor table (HF name -> GGUF
 * name, expected shape, per-tensor transform), its vocabulary path, and two
 * hooks for what is not a table (hparams after the shared block, generated
 * tensors). Adding an architecture = one arch_*.c with a cv_arch + a test.
 *
 * Facts from llama.cpp convert_hf_to_gguf.py / gguf-py tensor_mapping.py at
 * ec562eb (13 May 2026).
 */
#ifndef CONVERTERS_ARCH_H
#define CONVERTERS_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ggufkit.h"
#include "formats/gguf.h"
#include "formats/view.h"
#include "formats/vocab.h"

/* Symbolic dimensions of an expected tensor shape, resolved from config.json. */
typedef enum {
    CV_DIM_NONE = 0, /* dimension not present */
    CV_DIM_VOCAB,    /* vocab_size */
    CV_DIM_EMBD,     /* hidden_size */
    CV_DIM_FF,       /* intermediate_size */
    CV_DIM_QDIM,     /* num_attention_heads * head_dim */
    CV_DIM_KVDIM,    /* num_key_value_heads * head_dim */
    CV_DIM_HEAD,     /* head_dim */
    CV_DIM_QKV,      /* fused q|k|v rows: (heads + 2 * kv heads) * head_dim */
    CV_DIM_FF2,      /* fused gate|up rows: 2 * intermediate_size */
    CV_DIM_EXPERTS,  /* num_local_experts / num_experts (experts.h) */
    CV_DIM_EXP_FF,   /* one expert's width: moe_intermediate_size, else intermediate_size */
    CV_DIM_SHEXP_FF, /* the shared expert's width: shared_expert_intermediate_size */
    CV_DIM_ONE,      /* 1 (qwen2moe's shared expert gate rows) */
    /* the family's own dimensions, resolved by cv_arch.family_dims */
    CV_DIM_F0 = 16,
    CV_DIM_F1,
    CV_DIM_F2,
    CV_DIM_F3,
    CV_DIM_F4,
    CV_DIM_F5,
    CV_DIM_F6,
    CV_DIM_F7,
    CV_DIM_F8,
    CV_DIM_F9,
    CV_DIM_F10,
    CV_DIM_F11,
    CV_DIM_COUNT
} cv_dim;

/* Transform applied to a tensor's rows before conversion. */
typedef enum {
    CV_XF_NONE = 0,
    CV_XF_PERMUTE_Q, /* llama rotate-half -> interleaved rows, H = n_head */
    CV_XF_PERMUTE_K, /* same with H = n_head_kv (when present and different) */
    CV_XF_NORM_ADD1, /* gemma: w + 1 (in f16 for F16 sources, else in f32), stored F32 */
    /* gemma3: keep the first n_vocab rows (a larger matrix is cut) */
    CV_XF_TRIM_VOCAB,
} cv_xform;

/* One tensor rule. In hf and gguf, '#' stands for the block number. An
 * expert rule has '*' in hf for the expert number: each expert's tensor has
 * the rule's shape, and the experts of a block are stacked into the one
 * GGUF tensor gguf names (converters/hf2gguf/experts.h). */
typedef struct {
    const char *hf;
    const char *gguf; /* NULL: the converter drops the tensor (gemma2's lm_head) */
    cv_xform xform;
    cv_dim shape[3]; /* PyTorch order (shape[0] = rows); {X, NONE} = 1-D, {E, R, C} = 3-D */
    int optional;    /* may be absent (lm_head of tied models) */
} cv_tensor_rule;

/* Where the vocabulary comes from. */
typedef enum {
    CV_VOCAB_SPM_THEN_BPE, /* tokenizer.model if present, else tokenizer.json BPE */
    CV_VOCAB_PHI3,         /* Phi3MiniModel.set_vocab (fmt_vocab_write_phi3) */
    /* tokenizer.model required; then add_space_prefix False (gemma2) */
    CV_VOCAB_SPM_NO_SPACE_PREFIX,
    /* as above when tokenizer.model exists, else tokenizer.json BPE (gemma3) */
    CV_VOCAB_SPM_NO_SPACE_PREFIX_THEN_BPE,
    /* TextModel.set_vocab: tokenizer.json BPE only, cv_arch.vocab_specials
     * set after SpecialVocab's own (olmo2, glm4) */
    CV_VOCAB_BPE,
} cv_vocab_kind;

/* A config key the family's transformers config class fills in when
 * config.json omits it: upstream loads the config through
 * AutoConfig.from_pretrained(...).to_dict() when transformers is installed
 * (what users get) and reads config.json as written otherwise (how the
 * goldens were made, --config-as-written). The tensor shapes assume these
 * values either way. */
typedef enum {
    CV_FILL_INT,            /* value, when the key is absent */
    CV_FILL_HIDDEN_PER_HEAD /* hidden_size // num_attention_heads, when absent or null */
} cv_fill_kind;

typedef struct {
    const char *key; /* NULL ends a list */
    cv_fill_kind kind;
    long long value; /* CV_FILL_INT */
} cv_config_fill;

/* A generated tensor (F32, written before the checkpoint's tensors). */
typedef struct {
    char name[64];
    float *data; /* malloc'd, owned by the caller after the hook returns */
    int64_t n;
} cv_gen_tensor;

typedef struct cv_arch {
    const char *name;              /* general.architecture */
    const char *const *hf_classes; /* NULL-terminated config "architectures" values */
    const cv_tensor_rule *tensors;
    size_t n_tensors;
    cv_vocab_kind vocab;
    /* KVs after the shared hparam block (rope scaling and the like), or NULL.
     * Messages name the config key; return GK_E_FORMAT on bad values. */
    gk_status (*extra_hparams)(fmt_gguf_writer *w, const char *arch, const json_t *config,
                               char *err, size_t errcap);
    /* Generated tensors, or NULL. Fills out[0..*n) (cap entries at most). */
    gk_status (*generate)(const json_t *config, cv_gen_tensor *out, size_t cap, size_t *n,
                          char *err, size_t errcap);
    /* LlamaModel.set_vocab and its subclasses: the llama vocabulary extras
     * (CodeLlama FIM ids, add_space_prefix, the 49152-token add_bos rule). */
    int llama_vocab;
    /* The class pops head_dim before the shared block (GraniteModel): no
     * attention.key_length / value_length. */
    int ignores_head_dim;
    /* When set, replaces the shared hparam block and extra_hparams: the
     * family's own keys in its own order, general.file_type among them. */
    gk_status (*own_hparams)(fmt_gguf_writer *w, const char *arch, const json_t *config,
                             long long n_layer, uint32_t file_type, char *err, size_t errcap);
    /* KVs right after general.architecture, or NULL: the converter writes
     * them while generating tensors, before the rest of the metadata (so
     * not with --vocab-only). */
    gk_status (*head_keys)(fmt_gguf_writer *w, const char *arch, const json_t *config, char *err,
                           size_t errcap);
    /* What the family's transformers config class fills in, or NULL. */
    const cv_config_fill *config_fills;
    /* CV_VOCAB_BPE: special tokens set by text (NULL type ends), or NULL. */
    const fmt_vocab_special *vocab_specials;
    /* The family's own dimensions (CV_DIM_F0..F11, -1 when unknown) from the
     * config, or NULL. Messages name the config key. */
    gk_status (*family_dims)(const json_t *config, long long *dims, char *err, size_t errcap);
    /* A source transform over the checkpoint's tensors, or NULL: the records
     * the rules see, built into *out (formats/view.h) from in's (kept,
     * dropped, or cut/repacked into records named NAME[part] so that they
     * sort where NAME does). Messages name the file and tensor at fault. */
    gk_status (*transform)(const fmt_src *in, const json_t *config, long long n_layer,
                           fmt_xset *out, char *err, size_t errcap);
    /* The converter's own edits of its hparams before writing them (both
     * with and without --config-as-written), or NULL. */
    gk_status (*adjust_config)(json_t *config);
    /* A quantization_config quant_method the family reads itself (its
     * transform keeps the weights as they are: upstream skips dequant_model),
     * and the general.file_type it then writes for f32/f16/bf16 outtypes. */
    const char *own_quant_method;
    uint32_t own_quant_file_type;
} cv_arch;

/* One hyper-parameter KV read from config.json, as a row of a table that
 * cv_write_hparams walks in order. */
typedef enum {
    CV_HP_U32,        /* an unsigned 32-bit integer */
    CV_HP_F32,        /* a number stored as float32 */
    CV_HP_BLOCK_COUNT /* the resolved layer count (keys NULL) */
} cv_hp_type;

typedef struct {
    const char *suffix;      /* the GGUF key after "<arch>." */
    const char *const *keys; /* NULL-terminated config keys; the first present decides */
    cv_hp_type type;
    /* 1: hparams[KEY] upstream: an absent key, or a value of the wrong type
     * or range, is an error naming it. 0: find_hparam(optional=True): no
     * number, no key; a U32 out of range is an error; a real is truncated. */
    int required;
} cv_hparam;

/* The value of a row (not CV_HP_BLOCK_COUNT) in obj: *found = 1 and *v, or
 * *found = 0 for an optional row without a number. GK_E_FORMAT with a
 * message naming the key in err otherwise. */
gk_status cv_hparam_value(const json_t *obj, const cv_hparam *row, int *found, double *v, char *err,
                          size_t errcap);

/* Write rows[0..n) from obj (n_layer for CV_HP_BLOCK_COUNT), in order,
 * as "<arch>.<suffix>" KVs; optional rows without a number are skipped.
 * Stops at the first error (message in err for a bad value). */
gk_status cv_write_hparams(fmt_gguf_writer *w, const char *arch, const json_t *obj,
                           const cv_hparam *rows, size_t n, long long n_layer, char *err,
                           size_t errcap);

/* The architectures, each defined in its arch_*.c. */
extern const cv_arch cv_arch_llama;
extern const cv_arch cv_arch_qwen2;
extern const cv_arch cv_arch_qwen3;
extern const cv_arch cv_arch_smollm3;
extern const cv_arch cv_arch_granite;
extern const cv_arch cv_arch_phi3;
extern const cv_arch cv_arch_gemma2;
extern const cv_arch cv_arch_gemma3;
extern const cv_arch cv_arch_olmo2;
extern const cv_arch cv_arch_glm4;
extern const cv_arch cv_arch_mixtral;  /* arch_llama.c */
extern const cv_arch cv_arch_qwen2moe; /* arch_qwenmoe.c */
extern const cv_arch cv_arch_qwen3moe;
extern const cv_arch cv_arch_gptoss;
extern const cv_arch cv_arch_deepseek2;

/* LlamaModel's pieces, shared by its subclasses (arch_llama.c): the tensor
 * table, the keys after general.file_type (vocab_size,
 * rope.dimension_count) and the Llama 3 rope_freqs generator. */
#define CV_LLAMA_N_TENSORS 16
extern const cv_tensor_rule cv_llama_tensors[CV_LLAMA_N_TENSORS];
gk_status cv_llama_hparams(fmt_gguf_writer *w, const char *arch, const json_t *config, char *err,
                           size_t errcap);
gk_status cv_llama_generate(const json_t *config, cv_gen_tensor *out, size_t cap, size_t *n,
                            char *err, size_t errcap);
/* rope.dimension_count: config head_dim when use_head_dim and non-null,
 * else hidden_size / num_attention_heads (both required). */
gk_status cv_llama_head_dim(const json_t *config, int use_head_dim, long long *hd, char *err,
                            size_t errcap);

#endif
