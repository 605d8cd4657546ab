/*
 * arch_llama.c -- llama (LlamaForCausalLM, MistralForCausalLM) and mixtral
 * (MixtralForCausalLM: the same class, experts): tensor tables, hparams
 * after the shared block, Llama 3 rope_freqs. Facts from
 * convert_hf_to_gguf.py ec562eb class LlamaModel; its subclasses (smollm3,
 * granite) share the table and hooks through arch.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converters/hf2gguf/arch.h"

#include "formats/hfdir.h"

/* ------------------------------------------------------------------------ */
/* Tensor table                                                               */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
/* LlamaModel's tensors but the MLP's, and its optional q/k/v/o biases. */
#define LLAMA_ATTN_RULES                                                                           \
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
         CV_XF_PERMUTE_Q,                                                                          \
         {CV_DIM_QDIM, CV_DIM_EMBD},                                                               \
         0},                                                                                       \
        {L "self_attn.k_proj.weight",                                                              \
         "blk.#.attn_k.weight",                                                                    \
         CV_XF_PERMUTE_K,                                                                          \
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
    {                                                                                              \
        L "post_attention_layernorm.weight", "blk.#.ffn_norm.weight", CV_XF_NONE,                  \
            {CV_DIM_EMBD, CV_DIM_NONE}, 0                                                          \
    }
/* optional q/k biases of some llama finetunes: permuted like the weights */
#define LLAMA_BIAS_RULES                                                                           \
    {L "self_attn.q_proj.bias",                                                                    \
     "blk.#.attn_q.bias",                                                                          \
     CV_XF_PERMUTE_Q,                                                                              \
     {CV_DIM_QDIM, CV_DIM_NONE},                                                                   \
     1},                                                                                           \
        {L "self_attn.k_proj.bias",                                                                \
         "blk.#.attn_k.bias",                                                                      \
         CV_XF_PERMUTE_K,                                                                          \
         {CV_DIM_KVDIM, CV_DIM_NONE},                                                              \
         1},                                                                                       \
        {L "self_attn.v_proj.bias",                                                                \
         "blk.#.attn_v.bias",                                                                      \
         CV_XF_NONE,                                                                               \
         {CV_DIM_KVDIM, CV_DIM_NONE},                                                              \
         1},                                                                                       \
    {                                                                                              \
        L "self_attn.o_proj.bias", "blk.#.attn_output.bias", CV_XF_NONE,                           \
            {CV_DIM_EMBD, CV_DIM_NONE}, 1                                                          \
    }

const cv_tensor_rule cv_llama_tensors[] = {
    LLAMA_ATTN_RULES,
    {L "mlp.gate_proj.weight", "blk.#.ffn_gate.weight", CV_XF_NONE, {CV_DIM_FF, CV_DIM_EMBD}, 0},
    {L "mlp.up_proj.weight", "blk.#.ffn_up.weight", CV_XF_NONE, {CV_DIM_FF, CV_DIM_EMBD}, 0},
    {L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_FF}, 0},
    LLAMA_BIAS_RULES,
};

/* Mixtral (MixtralForCausalLM, a LlamaModel upstream): the MLP is a router
 * and num_local_experts experts, stacked per block in the order
 * modify_tensors merges them: w1 (gate), w2 (down), w3 (up). */
#define E L "block_sparse_moe.experts.*."
static const cv_tensor_rule mixtral_tensors[] = {
    LLAMA_ATTN_RULES,
    {E "w1.weight", "blk.#.ffn_gate_exps.weight", CV_XF_NONE, {CV_DIM_EXP_FF, CV_DIM_EMBD}, 0},
    {E "w2.weight", "blk.#.ffn_down_exps.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_EXP_FF}, 0},
    {E "w3.weight", "blk.#.ffn_up_exps.weight", CV_XF_NONE, {CV_DIM_EXP_FF, CV_DIM_EMBD}, 0},
    {L "block_sparse_moe.gate.weight",
     "blk.#.ffn_gate_inp.weight",
     CV_XF_NONE,
     {CV_DIM_EXPERTS, CV_DIM_EMBD},
     0},
    LLAMA_BIAS_RULES,
};
#undef E
#undef LLAMA_ATTN_RULES
#undef LLAMA_BIAS_RULES
#undef L
_Static_assert(sizeof cv_llama_tensors / sizeof cv_llama_tensors[0] == CV_LLAMA_N_TENSORS,
               "CV_LLAMA_N_TENSORS");

/* ------------------------------------------------------------------------ */
/* Hparams: vocab_size, rope.dimension_count                                  */
/* ------------------------------------------------------------------------ */

gk_status cv_llama_hparams(fmt_gguf_writer *w, const char *arch, const json_t *config, char *err,
                           size_t errcap) {
    char key[128];
    long long v;
    static const char *const k_vocab[] = {"vocab_size", NULL};
    if (!fmt_hf_get_int(config, k_vocab, &v) || v <= 0 || v > UINT32_MAX) {
        snprintf(err, errcap, "config.json: 'vocab_size' missing or invalid");
        return GK_E_FORMAT;
    }
    snprintf(key, sizeof key, "%s.vocab_size", arch);
    gk_status st = fmt_gguf_writer_add_u32(w, key, (uint32_t)v);
    if (st != GK_OK)
        return st;
    long long rope_dim;
    if ((st = cv_llama_head_dim(config, 1, &rope_dim, err, errcap)) != GK_OK)
        return st;
    snprintf(key, sizeof key, "%s.rope.dimension_count", arch);
    return fmt_gguf_writer_add_u32(w, key, (uint32_t)rope_dim);
}

gk_status cv_llama_head_dim(const json_t *config, int use_head_dim, long long *hd, char *err,
                            size_t errcap) {
    static const char *const k_hd[] = {"head_dim", NULL};
    static const char *const k_hidden[] = {"hidden_size", NULL};
    static const char *const k_heads[] = {"num_attention_heads", NULL};
    long long hidden, heads;
    if (use_head_dim && fmt_hf_get_int(config, k_hd, hd))
        return GK_OK;
    if (!fmt_hf_get_int(config, k_hidden, &hidden) || !fmt_hf_get_int(config, k_heads, &heads) ||
        heads <= 0) {
        snprintf(err, errcap, "config.json: need 'hidden_size' and 'num_attention_heads'");
        return GK_E_FORMAT;
    }
    *hd = hidden / heads;
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Llama 3 rope_freqs.weight                                                  */
/* ------------------------------------------------------------------------ */

/* rope_freqs of a llama3 rope_params rs; theta is the mirrored one. */
static gk_status llama3_freqs(const json_t *config, const json_t *rs, cv_gen_tensor *out, char *err,
                              size_t errcap) {
    static const char *const k_theta[] = {"rope_theta", NULL};
    static const char *const k_factor[] = {"factor", NULL};
    static const char *const k_low[] = {"low_freq_factor", NULL};
    static const char *const k_high[] = {"high_freq_factor", NULL};
    static const char *const k_old[] = {"original_max_position_embeddings", NULL};
    double base = 10000.0, factor = 8.0, low = 1.0, high = 4.0;
    long long dim, old = 8192;
    fmt_hf_get_num(rs, k_theta, &base);
    gk_status st = cv_llama_head_dim(config, 1, &dim, err, errcap);
    if (st != GK_OK)
        return st;
    fmt_hf_get_num(rs, k_factor, &factor);
    fmt_hf_get_num(rs, k_low, &low);
    fmt_hf_get_num(rs, k_high, &high);
    fmt_hf_get_int(config, k_old, &old);
    /* upstream no longer asserts low != high and divides by zero: refused */
    if (dim <= 0 || dim > 1 << 20 || low == high || low == 0 || high == 0) {
        snprintf(err, errcap, "config.json: invalid llama3 rope_scaling parameters");
        return GK_E_FORMAT;
    }
    double low_wavelen = (double)old / low, high_wavelen = (double)old / high;
    int64_t cnt = (dim + 1) / 2;
    float *f = malloc((size_t)cnt * sizeof *f);
    if (!f)
        return GK_E_NOMEM;
    const float two_pi = (float)(2.0 * M_PI), fbase = (float)base;
    for (int64_t k = 0; k < cnt; k++) {
        float e = (float)(2 * k) / (float)dim;
        float freq = 1.0f / powf(fbase, e);
        float wavelen = two_pi / freq;
        if (wavelen < (float)high_wavelen) {
            f[k] = 1.0f;
        } else if (wavelen > (float)low_wavelen) {
            f[k] = (float)factor;
        } else {
            float smooth = ((float)old / wavelen - (float)low) / (float)(high - low);
            f[k] = 1.0f / ((1.0f - smooth) / (float)factor + smooth);
        }
    }
    snprintf(out[0].name, sizeof out[0].name, "rope_freqs.weight");
    out[0].data = f;
    out[0].n = cnt;
    return GK_OK;
}

/* Follows LlamaModel.generate_extra_tensors: torch float32 arithmetic step
 * by step, Python scalars rounded to float32 where torch does so. */
gk_status cv_llama_generate(const json_t *config, cv_gen_tensor *out, size_t cap, size_t *n,
                            char *err, size_t errcap) {
    *n = 0;
    json_t *rp = fmt_hf_rope_parameters(config);
    if (!rp)
        return GK_E_NOMEM;
    const json_t *rs = json_object_get(rp, "full_attention");
    if (!rs)
        rs = rp;
    const char *rt = fmt_hf_get_str(rs, "rope_type");
    gk_status st = GK_OK;
    if (rt && strcasecmp(rt, "llama3") == 0 && cap >= 1)
        st = llama3_freqs(config, rs, out, err, errcap);
    *n = st == GK_OK && rt && strcasecmp(rt, "llama3") == 0 && cap >= 1;
    json_decref(rp);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const llama_classes[] = {"LlamaForCausalLM", "MistralForCausalLM",
                                            "LLaMAForCausalLM", NULL};

/* LlamaConfig and MistralConfig: head_dim = hidden_size // heads when None. */
static const cv_config_fill llama_fills[] = {{"head_dim", CV_FILL_HIDDEN_PER_HEAD, 0},
                                             {NULL, CV_FILL_INT, 0}};

static const char *const mixtral_classes[] = {"MixtralForCausalLM", NULL};

const cv_arch cv_arch_llama = {
    .name = "llama",
    .hf_classes = llama_classes,
    .tensors = cv_llama_tensors,
    .n_tensors = CV_LLAMA_N_TENSORS,
    .vocab = CV_VOCAB_SPM_THEN_BPE,
    .extra_hparams = cv_llama_hparams,
    .generate = cv_llama_generate,
    .llama_vocab = 1,
    .config_fills = llama_fills,
};

/* The same class as llama upstream, with expert tensors (experts.h). */
const cv_arch cv_arch_mixtral = {
    .name = "llama",
    .hf_classes = mixtral_classes,
    .tensors = mixtral_tensors,
    .n_tensors = sizeof mixtral_tensors / sizeof mixtral_tensors[0],
    .vocab = CV_VOCAB_SPM_THEN_BPE,
    .extra_hparams = cv_llama_hparams,
    .generate = cv_llama_generate,
    .llama_vocab = 1,
    .config_fills = llama_fills,
};
