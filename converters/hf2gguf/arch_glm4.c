/*
 * arch_glm4.c -- glm4 (Glm4ForCausalLM, GLM-4-0414). Upstream's Glm4Model
 * (convert_hf_to_gguf.py ec562eb) is TextModel with: q/k/v biases, the
 * fused gate_up_proj kept whole as ffn_up, norms after attention and after
 * the MLP (post_attention_layernorm is the FFN norm here), rope over part
 * of each head (rope.dimension_count = int(head_dim * partial_rotary_factor)
 * after general.file_type, the factor read from the rope parameters with
 * 0.5 by default) and a BPE vocabulary whose eos, eot, unk and bos are set
 * from added tokens when the tokenizer files do not set them. GLM-4V's
 * M-RoPE (Q/K rows re-ordered for NEOX) is refused.
 */
#include <math.h>
#include <stdio.h>

#include "converters/hf2gguf/arch.h"

#include "formats/hfdir.h"

/* ------------------------------------------------------------------------ */
/* Tensor table                                                               */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
static const cv_tensor_rule glm4_tensors[] = {
    {"model.embed_tokens.weight", "token_embd.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 0},
    {"model.norm.weight", "output_norm.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_NONE}, 0},
    {"lm_head.weight", "output.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 1},
    {L "input_layernorm.weight",
     "blk.#.attn_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
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
    /* attention_bias: q/k/v only */
    {L "self_attn.q_proj.bias", "blk.#.attn_q.bias", CV_XF_NONE, {CV_DIM_QDIM, CV_DIM_NONE}, 1},
    {L "self_attn.k_proj.bias", "blk.#.attn_k.bias", CV_XF_NONE, {CV_DIM_KVDIM, CV_DIM_NONE}, 1},
    {L "self_attn.v_proj.bias", "blk.#.attn_v.bias", CV_XF_NONE, {CV_DIM_KVDIM, CV_DIM_NONE}, 1},
    {L "self_attn.o_proj.weight",
     "blk.#.attn_output.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_QDIM},
     0},
    {L "post_self_attn_layernorm.weight",
     "blk.#.post_attention_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
    /* both FFN_NORM and ATTN_POST_NORM list this name; the later wins */
    {L "post_attention_layernorm.weight",
     "blk.#.ffn_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
    {L "mlp.gate_up_proj.weight", "blk.#.ffn_up.weight", CV_XF_NONE, {CV_DIM_FF2, CV_DIM_EMBD}, 0},
    {L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_FF}, 0},
    {L "post_mlp_layernorm.weight",
     "blk.#.post_ffw_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
};
#undef L

/* ------------------------------------------------------------------------ */
/* Hparams after general.file_type: the partial rope dimension               */
/* ------------------------------------------------------------------------ */

static gk_status glm4_hparams(fmt_gguf_writer *w, const char *arch, const json_t *config, char *err,
                              size_t errcap) {
    json_t *rp = fmt_hf_rope_parameters(config);
    if (!rp)
        return GK_E_NOMEM;
    const json_t *f = json_object_get(rp, "partial_rotary_factor");
    int mrope = json_object_get(rp, "mrope_section") != NULL;
    double factor = json_is_number(f) ? json_number_value(f) : 0.5;
    int bad_factor = f && (!json_is_number(f) || !isfinite(factor) || factor < 0 || factor > 1);
    json_decref(rp);
    if (mrope) {
        snprintf(err, errcap,
                 "config.json: 'mrope_section' (GLM-4V M-RoPE) is not supported for glm4");
        return GK_E_UNSUPPORTED;
    }
    if (bad_factor) {
        snprintf(err, errcap, "config.json: 'partial_rotary_factor' must be a number in [0, 1]");
        return GK_E_FORMAT;
    }
    long long hd;
    gk_status st = cv_llama_head_dim(config, 1, &hd, err, errcap);
    if (st != GK_OK)
        return st;
    if (hd <= 0 || hd > UINT32_MAX) {
        snprintf(err, errcap, "config.json: 'head_dim' = %lld is out of range", hd);
        return GK_E_FORMAT;
    }
    char key[128];
    snprintf(key, sizeof key, "%s.rope.dimension_count", arch);
    return fmt_gguf_writer_add_u32(w, key, (uint32_t)((double)hd * factor));
}

/* ------------------------------------------------------------------------ */
/* The table                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const glm4_classes[] = {"Glm4ForCausalLM", NULL};

/* Glm4Config: head_dim 128. */
static const cv_config_fill glm4_fills[] = {{"head_dim", CV_FILL_INT, 128}, {NULL, CV_FILL_INT, 0}};

/* Glm4Model.set_vocab's _set_special_token calls, in its order */
static const fmt_vocab_special glm4_specials[] = {
    {"eos", "<|endoftext|>"}, {"eot", "<|user|>"}, {"unk", "<|endoftext|>"},
    {"bos", "<|endoftext|>"}, {NULL, NULL},
};

const cv_arch cv_arch_glm4 = {
    .name = "glm4",
    .hf_classes = glm4_classes,
    .tensors = glm4_tensors,
    .n_tensors = sizeof glm4_tensors / sizeof glm4_tensors[0],
    .vocab = CV_VOCAB_BPE,
    .extra_hparams = glm4_hparams,
    .vocab_specials = glm4_specials,
    .config_fills = glm4_fills,
};
