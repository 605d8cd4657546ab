/*
 * arch_qwen.c -- qwen2 (Qwen2ForCausalLM: q/k/v biases) and qwen3
 * (Qwen3ForCausalLM: q/k norms, no biases). Neither permutes Q/K (NEOX-style
 * rope in llama.cpp); rope scaling (yarn and others) is the shared block's.
 * Facts from convert_hf_to_gguf.py ec562eb classes Qwen2Model, Qwen3Model.
 */
#include <stdio.h>
#include <string.h>

#include "converters/hf2gguf/arch.h"

#include "formats/hfdir.h"

/* ------------------------------------------------------------------------ */
/* Tensor tables                                                              */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
#define COMMON_TENSORS                                                                             \
    {"model.embed_tokens.weight",                                                                  \
     "token_embd.weight",                                                                          \
     CV_XF_NONE,                                                                                   \
     {CV_DIM_VOCAB, CV_DIM_EMBD},                                                                  \
     0},                                                                                           \
        {"model.norm.weight", "output_norm.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_NONE}, 0},    \
        {"lm_head.weight", "output.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 1},           \
        {L "input_layernorm.weight",                                                               \
         "blk.#.attn_norm.weight",                                                                 \
         CV_XF_NONE,                                                                               \
         {CV_DIM_EMBD, CV_DIM_NONE},                                                               \
         0},                                                                                       \
        {L "self_attn.q_proj.weight",                                                              \
         "blk.#.attn_q.weight",                                                                    \
         CV_XF_NONE,                                                                               \
         {CV_DIM_QDIM, CV_DIM_EMBD},                                                               \
         0},                                                                                       \
        {L "self_attn.k_proj.weight",                                                              \
         "blk.#.attn_k.weight",                                                                    \
         CV_XF_NONE,                                                                               \
         {CV_DIM_KVDIM, CV_DIM_EMBD},                                                              \
         0},                                                                                       \
        {L "self_attn.v_proj.weight",                                                              \
         "blk.#.attn_v.weight",                                                                    \
         CV_XF_NONE,                                                                               \
         {CV_DIM_KVDIM, CV_DIM_EMBD},                                                              \
         0},                                                                                       \
        {L "self_attn.o_proj.weight",                                                              \
         "blk.#.attn_output.weight",                                                               \
         CV_XF_NONE,                                                                               \
         {CV_DIM_EMBD, CV_DIM_QDIM},                                                               \
         0},                                                                                       \
        {L "post_attention_layernorm.weight",                                                      \
         "blk.#.ffn_norm.weight",                                                                  \
         CV_XF_NONE,                                                                               \
         {CV_DIM_EMBD, CV_DIM_NONE},                                                               \
         0},                                                                                       \
        {L "mlp.gate_proj.weight",                                                                 \
         "blk.#.ffn_gate.weight",                                                                  \
         CV_XF_NONE,                                                                               \
         {CV_DIM_FF, CV_DIM_EMBD},                                                                 \
         0},                                                                                       \
        {L "mlp.up_proj.weight", "blk.#.ffn_up.weight", CV_XF_NONE, {CV_DIM_FF, CV_DIM_EMBD}, 0},  \
    {                                                                                              \
        L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_FF}, 0 \
    }

static const cv_tensor_rule qwen2_tensors[] = {
    COMMON_TENSORS,
    {L "self_attn.q_proj.bias", "blk.#.attn_q.bias", CV_XF_NONE, {CV_DIM_QDIM, CV_DIM_NONE}, 0},
    {L "self_attn.k_proj.bias", "blk.#.attn_k.bias", CV_XF_NONE, {CV_DIM_KVDIM, CV_DIM_NONE}, 0},
    {L "self_attn.v_proj.bias", "blk.#.attn_v.bias", CV_XF_NONE, {CV_DIM_KVDIM, CV_DIM_NONE}, 0},
};

static const cv_tensor_rule qwen3_tensors[] = {
    COMMON_TENSORS,
    {L "self_attn.q_norm.weight",
     "blk.#.attn_q_norm.weight",
     CV_XF_NONE,
     {CV_DIM_HEAD, CV_DIM_NONE},
     0},
    {L "self_attn.k_norm.weight",
     "blk.#.attn_k_norm.weight",
     CV_XF_NONE,
     {CV_DIM_HEAD, CV_DIM_NONE},
     0},
};
#undef COMMON_TENSORS
#undef L

/* ------------------------------------------------------------------------ */
/* The tables                                                                 */
/* ------------------------------------------------------------------------ */

static const char *const qwen2_classes[] = {"Qwen2ForCausalLM", NULL};
static const char *const qwen3_classes[] = {"Qwen3ForCausalLM", "Qwen3Model", NULL};

/* Qwen3Config: head_dim 128 (Qwen2Config has none). */
static const cv_config_fill qwen3_fills[] = {{"head_dim", CV_FILL_INT, 128},
                                             {NULL, CV_FILL_INT, 0}};

const cv_arch cv_arch_qwen2 = {
    .name = "qwen2",
    .hf_classes = qwen2_classes,
    .tensors = qwen2_tensors,
    .n_tensors = sizeof qwen2_tensors / sizeof qwen2_tensors[0],
    .vocab = CV_VOCAB_SPM_THEN_BPE,
    .extra_hparams = NULL,
    .generate = NULL,
};

const cv_arch cv_arch_qwen3 = {
    .name = "qwen3",
    .hf_classes = qwen3_classes,
    .tensors = qwen3_tensors,
    .n_tensors = sizeof qwen3_tensors / sizeof qwen3_tensors[0],
    .vocab = CV_VOCAB_SPM_THEN_BPE,
    .extra_hparams = NULL,
    .generate = NULL,
    .config_fills = qwen3_fills,
};
