/*
 * arch_olmo2.c -- olmo2 (Olmo2ForCausalLM, Olmo3ForCausalLM). Upstream's
 * Olmo2Model (convert_hf_to_gguf.py ec562eb) is TextModel with the OLMO2
 * tensor set: no input_layernorm, q/k norms over all heads (not per head),
 * norms after attention and after the MLP, no Q/K permutation (NEOX rope),
 * the tokenizer.json BPE vocabulary of TextModel.set_vocab. OLMo 3 adds a
 * sliding window, written after general.file_type with its per-layer
 * pattern.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converters/hf2gguf/arch.h"

#include "formats/hfdir.h"

/* ------------------------------------------------------------------------ */
/* Tensor table                                                               */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
static const cv_tensor_rule olmo2_tensors[] = {
    {"model.embed_tokens.weight", "token_embd.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 0},
    {"model.norm.weight", "output_norm.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_NONE}, 0},
    {"lm_head.weight", "output.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 1},
    {L "self_attn.q_proj.weight", "blk.#.attn_q.weight", CV_XF_NONE, {CV_DIM_QDIM, CV_DIM_EMBD}, 0},
    {L "self_attn.k_proj.weight",
     "blk.#.attn_k.weight",
     CV_XF_NONE,
     {CV_DIM_KVDIM, CV_DIM_EMBD},
     0},
    {L "self_attn.v_proj.weight",
     "blk.#.attn_v.weight",
     CV_XF_NONE,
     {CV_DIM_KVDIM, CV_DIM_EMBD},
     0},
    {L "self_attn.o_proj.weight",
     "blk.#.attn_output.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_QDIM},
     0},
    {L "self_attn.q_norm.weight",
     "blk.#.attn_q_norm.weight",
     CV_XF_NONE,
     {CV_DIM_QDIM, CV_DIM_NONE},
     0},
    {L "self_attn.k_norm.weight",
     "blk.#.attn_k_norm.weight",
     CV_XF_NONE,
     {CV_DIM_KVDIM, CV_DIM_NONE},
     0},
    /* OLMO2 has no FFN_NORM: this name maps to the post-attention norm */
    {L "post_attention_layernorm.weight",
     "blk.#.post_attention_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
    {L "post_feedforward_layernorm.weight",
     "blk.#.post_ffw_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
    {L "mlp.gate_proj.weight", "blk.#.ffn_gate.weight", CV_XF_NONE, {CV_DIM_FF, CV_DIM_EMBD}, 0},
    {L "mlp.up_proj.weight", "blk.#.ffn_up.weight", CV_XF_NONE, {CV_DIM_FF, CV_DIM_EMBD}, 0},
    {L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_FF}, 0},
};
#undef L

/* ------------------------------------------------------------------------ */
/* Hparams after general.file_type: OLMo 3's sliding window                   */
/* ------------------------------------------------------------------------ */

/* The pattern: layer_types' "sliding_attention" entries when the config has
 * that key, else every layer but each 4th (OLMo 3's default). */
static gk_status window_pattern(const json_t *config, uint8_t **pat, size_t *n, char *err,
                                size_t errcap) {
    static const char *const k_layers[] = {"num_hidden_layers", NULL};
    const json_t *types = json_object_get(config, "layer_types");
    long long layers = 0;
    if (types && (!json_is_array(types) || json_array_size(types) == 0)) {
        snprintf(err, errcap, "config.json: 'layer_types' must be a non-empty list");
        return GK_E_FORMAT;
    }
    if (!types && (!fmt_hf_get_int(config, k_layers, &layers) || layers <= 0 || layers > 100000)) {
        snprintf(err, errcap, "config.json: 'num_hidden_layers' missing or invalid");
        return GK_E_FORMAT;
    }
    *n = types ? json_array_size(types) : (size_t)layers;
    if (!(*pat = malloc(*n)))
        return GK_E_NOMEM;
    for (size_t i = 0; i < *n; i++) {
        const char *t = types ? json_string_value(json_array_get(types, i)) : NULL;
        (*pat)[i] = types ? t && strcmp(t, "sliding_attention") == 0 : (i + 1) % 4 != 0;
    }
    return GK_OK;
}

static gk_status olmo2_hparams(fmt_gguf_writer *w, const char *arch, const json_t *config,
                               char *err, size_t errcap) {
    static const char *const k_swa[] = {"sliding_window", NULL};
    /* written as a u32 whatever the key holds: null fails upstream */
    static const cv_hparam window[] = {{"attention.sliding_window", k_swa, CV_HP_U32, 1}};
    if (!json_object_get(config, "sliding_window"))
        return GK_OK;
    gk_status st = cv_write_hparams(w, arch, config, window, 1, 0, err, errcap);
    uint8_t *pat = NULL;
    size_t n = 0;
    if (st == GK_OK && (st = window_pattern(config, &pat, &n, err, errcap)) == GK_OK) {
        char key[128];
        snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", arch);
        st = fmt_gguf_writer_add_array(w, key, FMT_GGUF_BOOL, n, pat);
    }
    free(pat);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const olmo2_classes[] = {"Olmo2ForCausalLM", "Olmo3ForCausalLM", NULL};

const cv_arch cv_arch_olmo2 = {
    .name = "olmo2",
    .hf_classes = olmo2_classes,
    .tensors = olmo2_tensors,
    .n_tensors = sizeof olmo2_tensors / sizeof olmo2_tensors[0],
    .vocab = CV_VOCAB_BPE,
    .extra_hparams = olmo2_hparams,
};
