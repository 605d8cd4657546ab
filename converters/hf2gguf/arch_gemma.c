/*
 * arch_gemma.c -- gemma2 (Gemma2ForCausalLM) and gemma3 (Gemma3ForCausalLM,
 * and the language model of Gemma3ForConditionalGeneration). Facts from
 * convert_hf_to_gguf.py at ec562eb:
 * - Gemma2Model: its own hparam block (not the shared one: no
 *   rope.freq_base), every norm weight shifted by +1, lm_head.weight dropped
 *   (the output is tied), tokenizer.model only, then add_space_prefix False.
 * - Gemma3Model: the shared block, then its own values for keys the shared
 *   block wrote (replaced in place) or did not (appended); norm weights
 *   (q/k norms too) +1; token_embd cut to the vocabulary; add_space_prefix
 *   False after a tokenizer.model vocabulary only.
 */
#include <stdio.h>
#include <string.h>

#include "converters/hf2gguf/arch.h"

/* ------------------------------------------------------------------------ */
/* Tensor tables                                                              */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
#define NORM(hf, gguf, dim)                                                                        \
    { hf, gguf, CV_XF_NORM_ADD1, {dim, CV_DIM_NONE}, 0 }
#define MAT(hf, gguf, rows, cols)                                                                  \
    { hf, gguf, CV_XF_NONE, {rows, cols}, 0 }

static const cv_tensor_rule gemma2_tensors[] = {
    MAT("model.embed_tokens.weight", "token_embd.weight", CV_DIM_VOCAB, CV_DIM_EMBD),
    NORM("model.norm.weight", "output_norm.weight", CV_DIM_EMBD),
    {"lm_head.weight", NULL, CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 1},
    NORM(L "input_layernorm.weight", "blk.#.attn_norm.weight", CV_DIM_EMBD),
    NORM(L "post_attention_layernorm.weight", "blk.#.post_attention_norm.weight", CV_DIM_EMBD),
    NORM(L "pre_feedforward_layernorm.weight", "blk.#.ffn_norm.weight", CV_DIM_EMBD),
    NORM(L "post_feedforward_layernorm.weight", "blk.#.post_ffw_norm.weight", CV_DIM_EMBD),
    MAT(L "self_attn.q_proj.weight", "blk.#.attn_q.weight", CV_DIM_QDIM, CV_DIM_EMBD),
    MAT(L "self_attn.k_proj.weight", "blk.#.attn_k.weight", CV_DIM_KVDIM, CV_DIM_EMBD),
    MAT(L "self_attn.v_proj.weight", "blk.#.attn_v.weight", CV_DIM_KVDIM, CV_DIM_EMBD),
    MAT(L "self_attn.o_proj.weight", "blk.#.attn_output.weight", CV_DIM_EMBD, CV_DIM_QDIM),
    MAT(L "mlp.gate_proj.weight", "blk.#.ffn_gate.weight", CV_DIM_FF, CV_DIM_EMBD),
    MAT(L "mlp.up_proj.weight", "blk.#.ffn_up.weight", CV_DIM_FF, CV_DIM_EMBD),
    MAT(L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_DIM_EMBD, CV_DIM_FF),
};

static const cv_tensor_rule gemma3_tensors[] = {
    {"model.embed_tokens.weight",
     "token_embd.weight",
     CV_XF_TRIM_VOCAB,
     {CV_DIM_VOCAB, CV_DIM_EMBD},
     0},
    NORM("model.norm.weight", "output_norm.weight", CV_DIM_EMBD),
    {"lm_head.weight", "output.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 1},
    NORM(L "input_layernorm.weight", "blk.#.attn_norm.weight", CV_DIM_EMBD),
    NORM(L "post_attention_layernorm.weight", "blk.#.post_attention_norm.weight", CV_DIM_EMBD),
    NORM(L "pre_feedforward_layernorm.weight", "blk.#.ffn_norm.weight", CV_DIM_EMBD),
    NORM(L "post_feedforward_layernorm.weight", "blk.#.post_ffw_norm.weight", CV_DIM_EMBD),
    NORM(L "self_attn.q_norm.weight", "blk.#.attn_q_norm.weight", CV_DIM_HEAD),
    NORM(L "self_attn.k_norm.weight", "blk.#.attn_k_norm.weight", CV_DIM_HEAD),
    MAT(L "self_attn.q_proj.weight", "blk.#.attn_q.weight", CV_DIM_QDIM, CV_DIM_EMBD),
    MAT(L "self_attn.k_proj.weight", "blk.#.attn_k.weight", CV_DIM_KVDIM, CV_DIM_EMBD),
    MAT(L "self_attn.v_proj.weight", "blk.#.attn_v.weight", CV_DIM_KVDIM, CV_DIM_EMBD),
    MAT(L "self_attn.o_proj.weight", "blk.#.attn_output.weight", CV_DIM_EMBD, CV_DIM_QDIM),
    MAT(L "mlp.gate_proj.weight", "blk.#.ffn_gate.weight", CV_DIM_FF, CV_DIM_EMBD),
    MAT(L "mlp.up_proj.weight", "blk.#.ffn_up.weight", CV_DIM_FF, CV_DIM_EMBD),
    MAT(L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_DIM_EMBD, CV_DIM_FF),
};
#undef MAT
#undef NORM
#undef L

/* ------------------------------------------------------------------------ */
/* Config values                                                              */
/* ------------------------------------------------------------------------ */

/* The converter reads these keys with hparams[KEY] and packs them with
 * struct: absent, null, a real for an integer key or a string crashes it;
 * we refuse the same inputs (exit 2) naming the key. */
static gk_status need_value(const json_t *cfg, const char *key, int integer, double *out, char *err,
                            size_t errcap) {
    const char *const keys[] = {key, NULL};
    const cv_hparam row = {NULL, keys, integer ? CV_HP_U32 : CV_HP_F32, 1};
    int found;
    return cv_hparam_value(cfg, &row, &found, out, err, errcap);
}

/* ------------------------------------------------------------------------ */
/* gemma2 hparams                                                             */
/* ------------------------------------------------------------------------ */

/* Gemma2Model.set_gguf_parameters up to general.file_type. The converter
 * never reads query_pre_attn_scalar (llama.cpp derives the attention scale
 * from the model size); every released Gemma 2 config has it, and a config
 * without it is refused as not a Gemma 2 config. */
static gk_status gemma2_hparams(fmt_gguf_writer *w, const char *arch, const json_t *cfg,
                                long long n_layer, char *err, size_t errcap) {
    static const char *const k_ctx[] = {"max_position_embeddings", NULL};
    static const char *const k_embd[] = {"hidden_size", NULL};
    static const char *const k_ff[] = {"intermediate_size", NULL};
    static const char *const k_head[] = {"num_attention_heads", NULL};
    static const char *const k_kv[] = {"num_key_value_heads", "num_attention_heads", NULL};
    static const char *const k_rms[] = {"rms_norm_eps", NULL};
    static const char *const k_hd[] = {"head_dim", NULL};
    static const cv_hparam rows[] = {
        {"context_length", k_ctx, CV_HP_U32, 1},
        {"embedding_length", k_embd, CV_HP_U32, 1},
        {"block_count", NULL, CV_HP_BLOCK_COUNT, 1},
        {"feed_forward_length", k_ff, CV_HP_U32, 1},
        {"attention.head_count", k_head, CV_HP_U32, 1},
        {"attention.head_count_kv", k_kv, CV_HP_U32, 1},
        {"attention.layer_norm_rms_epsilon", k_rms, CV_HP_F32, 1},
        {"attention.key_length", k_hd, CV_HP_U32, 1},
        {"attention.value_length", k_hd, CV_HP_U32, 1},
    };
    double scalar;
    gk_status st = need_value(cfg, "query_pre_attn_scalar", 0, &scalar, err, errcap);
    if (st != GK_OK)
        return st;
    return cv_write_hparams(w, arch, cfg, rows, sizeof rows / sizeof *rows, n_layer, err, errcap);
}

/* The keys Gemma2Model writes after general.file_type. */
static gk_status gemma2_tail(fmt_gguf_writer *w, const char *arch, const json_t *cfg, char *err,
                             size_t errcap) {
    static const char *const k_attn[] = {"attn_logit_softcapping", NULL};
    static const char *const k_final[] = {"final_logit_softcapping", NULL};
    static const char *const k_swa[] = {"sliding_window", NULL};
    static const cv_hparam rows[] = {{"attn_logit_softcapping", k_attn, CV_HP_F32, 1},
                                     {"final_logit_softcapping", k_final, CV_HP_F32, 1},
                                     {"attention.sliding_window", k_swa, CV_HP_U32, 1}};
    return cv_write_hparams(w, arch, cfg, rows, sizeof rows / sizeof *rows, 0, err, errcap);
}

/* ------------------------------------------------------------------------ */
/* gemma3 hparams                                                             */
/* ------------------------------------------------------------------------ */

/* hparams.get(key, def) packed as u32 or f32: an absent key gives def, a
 * present one must have the right type (null crashes the converter). */
static gk_status get_or(const json_t *cfg, const char *key, int integer, double def, double *out,
                        char *err, size_t errcap) {
    *out = def;
    return json_object_get(cfg, key) ? need_value(cfg, key, integer, out, err, errcap) : GK_OK;
}

/* Write KEY (arch-prefixed) as the converter's add_key_value does: the
 * value replaces an earlier one in place, else it is appended. */
static gk_status set_num(fmt_gguf_writer *w, const char *arch, const char *suffix, int integer,
                         double v) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", arch, suffix);
    fmt_gguf_value val = integer ? (fmt_gguf_value){.type = FMT_GGUF_U32, .v.u = (uint64_t)v}
                                 : (fmt_gguf_value){.type = FMT_GGUF_F32, .v.f = (float)v};
    return fmt_gguf_writer_set_kv(w, name, &val);
}

/* Gemma3Model.set_gguf_parameters a-f: hparams.get(KEY, default) over what
 * the shared block wrote. rope.freq_base keeps the shared block's value
 * (rope_params' rope_theta, the same lookup); without one it is 1e6. */
static gk_status gemma3_defaults(fmt_gguf_writer *w, const char *arch, const json_t *cfg, char *err,
                                 size_t errcap) {
    static const struct {
        const char *suffix, *key;
        int integer;
        double def;
    } keys[] = {
        {"context_length", "max_position_embeddings", 1, 131072},
        {"attention.head_count", "num_attention_heads", 1, 8},
        {"attention.layer_norm_rms_epsilon", "rms_norm_eps", 0, 1e-6},
        {"attention.key_length", "head_dim", 1, 256},
        {"attention.value_length", "head_dim", 1, 256},
    };
    gk_status st = GK_OK;
    double v;
    for (size_t i = 0; st == GK_OK && i < sizeof keys / sizeof keys[0]; i++)
        if ((st = get_or(cfg, keys[i].key, keys[i].integer, keys[i].def, &v, err, errcap)) == GK_OK)
            st = set_num(w, arch, keys[i].suffix, keys[i].integer, v);
    char name[128];
    snprintf(name, sizeof name, "%s.rope.freq_base", arch);
    if (st == GK_OK && !fmt_gguf_writer_has_kv(w, name))
        st = set_num(w, arch, "rope.freq_base", 0, 1000000.0);
    return st;
}

/* Gemma3Model.set_gguf_parameters g-j, after the defaults above. */
static gk_status gemma3_hparams(fmt_gguf_writer *w, const char *arch, const json_t *cfg, char *err,
                                size_t errcap) {
    gk_status st = gemma3_defaults(w, arch, cfg, err, errcap);
    const json_t *cap = json_object_get(cfg, "attn_logit_softcapping");
    if (st == GK_OK && cap && !json_is_null(cap)) {
        snprintf(err, errcap,
                 "config.json: 'attn_logit_softcapping' must be absent or null for "
                 "gemma3 (llama.cpp has no attention soft-capping for it)");
        return GK_E_FORMAT;
    }
    /* final_logit_softcapping only when truthy */
    const json_t *fin = json_object_get(cfg, "final_logit_softcapping");
    double v;
    if (st == GK_OK && fin && !json_is_null(fin) && !json_is_false(fin) &&
        (st = need_value(cfg, "final_logit_softcapping", 0, &v, err, errcap)) == GK_OK && v != 0)
        st = set_num(w, arch, "final_logit_softcapping", 0, v);
    /* the sliding window unless sliding_window_pattern == 1 */
    const json_t *pat = json_object_get(cfg, "sliding_window_pattern");
    int pattern1 = json_is_true(pat) || (json_is_number(pat) && json_number_value(pat) == 1.0);
    if (st == GK_OK && !pattern1 &&
        (st = need_value(cfg, "sliding_window", 1, &v, err, errcap)) == GK_OK)
        st = set_num(w, arch, "attention.sliding_window", 1, v);
    if (st == GK_OK && (st = get_or(cfg, "num_key_value_heads", 1, 4, &v, err, errcap)) == GK_OK)
        st = set_num(w, arch, "attention.head_count_kv", 1, v);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The tables                                                                 */
/* ------------------------------------------------------------------------ */

static const char *const gemma2_classes[] = {"Gemma2ForCausalLM", NULL};

/* Gemma2Config: head_dim 256. */
static const cv_config_fill gemma2_fills[] = {{"head_dim", CV_FILL_INT, 256},
                                              {NULL, CV_FILL_INT, 0}};

/* Gemma2Model.set_gguf_parameters: its own block, general.file_type, then
 * the soft-capping and sliding-window keys. */
static gk_status gemma2_all_hparams(fmt_gguf_writer *w, const char *arch, const json_t *cfg,
                                    long long n_layer, uint32_t file_type, char *err,
                                    size_t errcap) {
    gk_status st = gemma2_hparams(w, arch, cfg, n_layer, err, errcap);
    if (st == GK_OK)
        st = fmt_gguf_writer_add_u32(w, "general.file_type", file_type);
    if (st == GK_OK)
        st = gemma2_tail(w, arch, cfg, err, errcap);
    return st;
}

const cv_arch cv_arch_gemma2 = {
    .name = "gemma2",
    .hf_classes = gemma2_classes,
    .tensors = gemma2_tensors,
    .n_tensors = sizeof gemma2_tensors / sizeof gemma2_tensors[0],
    .vocab = CV_VOCAB_SPM_NO_SPACE_PREFIX,
    .generate = NULL,
    .own_hparams = gemma2_all_hparams,
    .config_fills = gemma2_fills,
};

static const char *const gemma3_classes[] = {"Gemma3ForCausalLM", "Gemma3ForConditionalGeneration",
                                             NULL};

/* Gemma3TextConfig's defaults for the keys a Gemma3ForConditionalGeneration
 * text_config often omits (the same values Gemma3Model writes for them). */
static const cv_config_fill gemma3_fills[] = {{"num_attention_heads", CV_FILL_INT, 8},
                                              {"num_key_value_heads", CV_FILL_INT, 4},
                                              {"head_dim", CV_FILL_INT, 256},
                                              {NULL, CV_FILL_INT, 0}};

const cv_arch cv_arch_gemma3 = {
    .name = "gemma3",
    .hf_classes = gemma3_classes,
    .tensors = gemma3_tensors,
    .n_tensors = sizeof gemma3_tensors / sizeof gemma3_tensors[0],
    .vocab = CV_VOCAB_SPM_NO_SPACE_PREFIX_THEN_BPE,
    .extra_hparams = gemma3_hparams,
    .generate = NULL,
    .own_hparams = NULL,
    .config_fills = gemma3_fills,
};
