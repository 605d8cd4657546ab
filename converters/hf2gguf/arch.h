/*
 * arch.h -- what hf2gguf knows about one model architecture, as data: the
 * Hugging Face class names it accepts, its tensor table (HF name -> GGUF
 * name, expected shape, per-tensor transform), its vocabulary path, and two
 * hooks for what is not a table (hparams after the shared block, generated
 * tensors). Adding an architecture = one arch_*.c with a cv_arch + a test.
 *
 * Facts from llama.cpp convert_hf_to_gguf.py / gguf-py tensor_mapping.py at
 * c392e50 (see ../shared/docs/hf2gguf-notes.md sections 1.3, 2).
 */
#ifndef CONVERTERS_ARCH_H
#define CONVERTERS_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ggufkit.h"
#include "formats/gguf.h"

/* Symbolic dimensions of an expected tensor shape, resolved from config.json. */
typedef enum {
    CV_DIM_NONE = 0, /* dimension not present */
    CV_DIM_VOCAB,    /* vocab_size */
    CV_DIM_EMBD,     /* hidden_size */
    CV_DIM_FF,       /* intermediate_size */
    CV_DIM_QDIM,     /* num_attention_heads * head_dim */
    CV_DIM_KVDIM,    /* num_key_value_heads * head_dim */
    CV_DIM_HEAD,     /* head_dim */
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

/* One tensor rule. In hf and gguf, '#' stands for the block number. */
typedef struct {
    const char *hf;
    const char *gguf; /* NULL: the converter drops the tensor (gemma2's lm_head) */
    cv_xform xform;
    cv_dim shape[2]; /* PyTorch order (shape[0] = rows); {X, NONE} = 1-D */
    int optional;    /* may be absent (lm_head of tied models) */
} cv_tensor_rule;

/* Where the vocabulary comes from. */
typedef enum {
    CV_VOCAB_SPM_THEN_BPE, /* tokenizer.model if present, else tokenizer.json BPE */
    /* tokenizer.model required; then add_space_prefix False (gemma2) */
    CV_VOCAB_SPM_NO_SPACE_PREFIX,
    /* as above when tokenizer.model exists, else tokenizer.json BPE (gemma3) */
    CV_VOCAB_SPM_NO_SPACE_PREFIX_THEN_BPE,
} cv_vocab_kind;

/* A value the tensor shapes assume for a config key the config omits. */
typedef struct {
    const char *key; /* NULL ends a list */
    long long value;
} cv_config_default;

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
    /* The hparam KVs before general.file_type when the family writes its
     * own block instead of the shared one (gemma2), or NULL. */
    gk_status (*own_hparams)(fmt_gguf_writer *w, const char *arch, const json_t *config,
                             long long n_layer, char *err, size_t errcap);
    /* Defaults for the shape dimensions (resolve_dims), or NULL. */
    const cv_config_default *dim_defaults;
} cv_arch;

/* The architectures, defined in arch_<family>.c. */
extern const cv_arch cv_arch_llama;
extern const cv_arch cv_arch_qwen2;
extern const cv_arch cv_arch_qwen3;
extern const cv_arch cv_arch_gemma2;
extern const cv_arch cv_arch_gemma3;

#endif
