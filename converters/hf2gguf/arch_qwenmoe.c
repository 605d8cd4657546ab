/*
 * arch_qwenmoe.c -- qwen2moe (Qwen2MoeForCausalLM: q/k/v biases, a router,
 * num_experts experts and a shared expert with its own sigmoid gate) and
 * qwen3moe (Qwen3MoeForCausalLM: q/k norms, no biases, no shared expert).
 * The experts of a block are stacked (experts.h) in the order
 * modify_tensors merges them: down_proj, gate_proj, up_proj. Neither
 * permutes Q/K; the vocabulary is TextModel's tokenizer.json BPE.
 * Facts from convert_hf_to_gguf.py ec562eb classes Qwen2MoeModel,
 * Qwen3MoeModel.
 */
#include <stdio.h>

#include "converters/hf2gguf/arch.h"

/* ------------------------------------------------------------------------ */
/* Tensor tables                                                              */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
#define E L "mlp.experts.*."
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
        {E "down_proj.weight",                                                                     \
         "blk.#.ffn_down_exps.weight",                                                             \
         CV_XF_NONE,                                                                               \
         {CV_DIM_EMBD, CV_DIM_EXP_FF},                                                             \
         0},                                                                                       \
        {E "gate_proj.weight",                                                                     \
         "blk.#.ffn_gate_exps.weight",                                                             \
         CV_XF_NONE,                                                                               \
         {CV_DIM_EXP_FF, CV_DIM_EMBD},                                                             \
         0},                                                                                       \
        {E "up_proj.weight",                                                                       \
         "blk.#.ffn_up_exps.weight",                                                               \
         CV_XF_NONE,                                                                               \
         {CV_DIM_EXP_FF, CV_DIM_EMBD},                                                             \
         0},                                                                                       \
    {                                                                                              \
        L "mlp.gate.weight", "blk.#.ffn_gate_inp.weight", CV_XF_NONE,                              \
            {CV_DIM_EXPERTS, CV_DIM_EMBD}, 0                                                       \
    }

static const cv_tensor_rule qwen2moe_tensors[] = {
    COMMON_TENSORS,
    {L "self_attn.q_proj.bias", "blk.#.attn_q.bias", CV_XF_NONE, {CV_DIM_QDIM, CV_DIM_NONE}, 0},
    {L "self_attn.k_proj.bias", "blk.#.attn_k.bias", CV_XF_NONE, {CV_DIM_KVDIM, CV_DIM_NONE}, 0},
    {L "self_attn.v_proj.bias", "blk.#.attn_v.bias", CV_XF_NONE, {CV_DIM_KVDIM, CV_DIM_NONE}, 0},
    {L "mlp.shared_expert.gate_proj.weight",
     "blk.#.ffn_gate_shexp.weight",
     CV_XF_NONE,
     {CV_DIM_SHEXP_FF, CV_DIM_EMBD},
     0},
    {L "mlp.shared_expert.up_proj.weight",
     "blk.#.ffn_up_shexp.weight",
     CV_XF_NONE,
     {CV_DIM_SHEXP_FF, CV_DIM_EMBD},
     0},
    {L "mlp.shared_expert.down_proj.weight",
     "blk.#.ffn_down_shexp.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_SHEXP_FF},
     0},
    {L "mlp.shared_expert_gate.weight",
     "blk.#.ffn_gate_inp_shexp.weight",
     CV_XF_NONE,
     {CV_DIM_ONE, CV_DIM_EMBD},
     0},
};

static const cv_tensor_rule qwen3moe_tensors[] = {
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
#undef E
#undef L

/* ------------------------------------------------------------------------ */
/* Hparams                                                                    */
/* ------------------------------------------------------------------------ */

/* Qwen2MoeModel.set_gguf_parameters after the shared block: the expert and
 * shared-expert widths, when the config has them. */
static gk_status qwenmoe_hparams(fmt_gguf_writer *w, const char *arch, const json_t *config,
                                 char *err, size_t errcap) {
    static const char *const k_exp_ff[] = {"moe_intermediate_size", NULL};
    static const char *const k_shexp_ff[] = {"shared_expert_intermediate_size", NULL};
    static const cv_hparam rows[] = {
        {"expert_feed_forward_length", k_exp_ff, CV_HP_U32, 0},
        {"expert_shared_feed_forward_length", k_shexp_ff, CV_HP_U32, 0}};
    return cv_write_hparams(w, arch, config, rows, sizeof rows / sizeof *rows, 0, err, errcap);
}

/* ------------------------------------------------------------------------ */
/* The tables                                                                 */
/* ------------------------------------------------------------------------ */

static const char *const qwen2moe_classes[] = {"Qwen2MoeForCausalLM", NULL};
static const char *const qwen3moe_classes[] = {"Qwen3MoeForCausalLM", NULL};

const cv_arch cv_arch_qwen2moe = {
    .name = "qwen2moe",
    .hf_classes = qwen2moe_classes,
    .tensors = qwen2moe_tensors,
    .n_tensors = sizeof qwen2moe_tensors / sizeof qwen2moe_tensors[0],
    .vocab = CV_VOCAB_BPE,
    .extra_hparams = qwenmoe_hparams,
};

const cv_arch cv_arch_qwen3moe = {
    .name = "qwen3moe",
    .hf_classes = qwen3moe_classes,
    .tensors = qwen3moe_tensors,
    .n_tensors = sizeof qwen3moe_tensors / sizeof qwen3moe_tensors[0],
    .vocab = CV_VOCAB_BPE,
    .extra_hparams = qwenmoe_hparams,
};
