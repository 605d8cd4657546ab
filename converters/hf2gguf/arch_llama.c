/*
 * arch_llama.c -- llama (LlamaForCausalLM, MistralForCausalLM): tensor table,
 * hparams after the shared block, Llama 3 rope_freqs. Facts from
 * convert_hf_to_gguf.py c392e50 class LlamaModel.
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
static const cv_tensor_rule llama_tensors[] = {
    {"model.embed_tokens.weight", "token_embd.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 0},
    {"model.norm.weight", "output_norm.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_NONE}, 0},
    {"lm_head.weight", "output.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 1},
    {L "input_layernorm.weight",
     "blk.#.attn_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
    {L "self_attn.q_proj.weight",
     "blk.#.attn_q.weight",
     CV_XF_PERMUTE_Q,
     {CV_DIM_QDIM, CV_DIM_EMBD},
     0},
    {L "self_attn.k_proj.weight",
     "blk.#.attn_k.weight",
     CV_XF_PERMUTE_K,
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
    {L "post_attention_layernorm.weight",
     "blk.#.ffn_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
    {L "mlp.gate_proj.weight", "blk.#.ffn_gate.weight", CV_XF_NONE, {CV_DIM_FF, CV_DIM_EMBD}, 0},
    {L "mlp.up_proj.weight", "blk.#.ffn_up.weight", CV_XF_NONE, {CV_DIM_FF, CV_DIM_EMBD}, 0},
    {L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_FF}, 0},
    /* optional q/k biases of some llama finetunes: permuted like the weights */
    {L "self_attn.q_proj.bias",
     "blk.#.attn_q.bias",
     CV_XF_PERMUTE_Q,
     {CV_DIM_QDIM, CV_DIM_NONE},
     1},
    {L "self_attn.k_proj.bias",
     "blk.#.attn_k.bias",
     CV_XF_PERMUTE_K,
     {CV_DIM_KVDIM, CV_DIM_NONE},
     1},
    {L "self_attn.v_proj.bias", "blk.#.attn_v.bias", CV_XF_NONE, {CV_DIM_KVDIM, CV_DIM_NONE}, 1},
    {L "self_attn.o_proj.bias",
     "blk.#.attn_output.bias",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     1},
};
#undef L

/* ------------------------------------------------------------------------ */
/* Hparams: vocab_size, rope.dimension_count, linear rope scaling             */
/* ------------------------------------------------------------------------ */

static gk_status llama_hparams(fmt_gguf_writer *w, const char *arch, const json_t *config,
                               char *err, size_t errcap) {
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

    static const char *const k_hd[] = {"head_dim", NULL};
    static const char *const k_hidden[] = {"hidden_size", NULL};
    static const char *const k_heads[] = {"num_attention_heads", NULL};
    long long rope_dim, hidden, heads;
    if (!fmt_hf_get_int(config, k_hd, &rope_dim)) {
        if (!fmt_hf_get_int(config, k_hidden, &hidden) ||
            !fmt_hf_get_int(config, k_heads, &heads) || heads <= 0) {
            snprintf(err, errcap, "config.json: need 'hidden_size' and 'num_attention_heads'");
            return GK_E_FORMAT;
        }
        rope_dim = hidden / heads;
    }
    snprintf(key, sizeof key, "%s.rope.dimension_count", arch);
    if ((st = fmt_gguf_writer_add_u32(w, key, (uint32_t)rope_dim)) != GK_OK)
        return st;

    const json_t *rs = json_object_get(config, "rope_scaling");
    static const char *const k_factor[] = {"factor", NULL};
    double factor;
    if (json_is_object(rs) && json_object_get(rs, "factor")) {
        const char *type = fmt_hf_get_str(rs, "type");
        if (type && strcmp(type, "linear") == 0 && fmt_hf_get_num(rs, k_factor, &factor)) {
            snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
            if ((st = fmt_gguf_writer_add_str(w, key, "linear", 6)) != GK_OK)
                return st;
            snprintf(key, sizeof key, "%s.rope.scaling.factor", arch);
            if ((st = fmt_gguf_writer_add_f32(w, key, (float)factor)) != GK_OK)
                return st;
        }
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Llama 3 rope_freqs.weight                                                  */
/* ------------------------------------------------------------------------ */

/* Follows LlamaModel.generate_extra_tensors: torch float32 arithmetic step
 * by step, Python scalars rounded to float32 where torch does so. */
static gk_status llama_generate(const json_t *config, cv_gen_tensor *out, size_t cap, size_t *n,
                                char *err, size_t errcap) {
    *n = 0;
    const json_t *rs = json_object_get(config, "rope_scaling");
    if (!json_is_object(rs))
        return GK_OK;
    const char *rt = fmt_hf_get_str(rs, "rope_type");
    if (!rt || strcasecmp(rt, "llama3") != 0 || cap < 1)
        return GK_OK;

    static const char *const k_theta[] = {"rope_theta", NULL};
    static const char *const k_hd[] = {"head_dim", NULL};
    static const char *const k_hidden[] = {"hidden_size", NULL};
    static const char *const k_heads[] = {"num_attention_heads", NULL};
    static const char *const k_factor[] = {"factor", NULL};
    static const char *const k_low[] = {"low_freq_factor", NULL};
    static const char *const k_high[] = {"high_freq_factor", NULL};
    static const char *const k_old[] = {"original_max_position_embeddings", NULL};
    double base = 10000.0, factor = 8.0, low = 1.0, high = 4.0;
    long long dim, hidden, heads, old = 8192;
    fmt_hf_get_num(config, k_theta, &base);
    if (!fmt_hf_get_int(config, k_hd, &dim)) {
        if (!fmt_hf_get_int(config, k_hidden, &hidden) ||
            !fmt_hf_get_int(config, k_heads, &heads) || heads <= 0) {
            snprintf(err, errcap, "config.json: need 'hidden_size' and 'num_attention_heads'");
            return GK_E_FORMAT;
        }
        dim = hidden / heads;
    }
    fmt_hf_get_num(rs, k_factor, &factor);
    fmt_hf_get_num(rs, k_low, &low);
    fmt_hf_get_num(rs, k_high, &high);
    fmt_hf_get_int(config, k_old, &old);
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
    *n = 1;
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const llama_classes[] = {"LlamaForCausalLM", "MistralForCausalLM",
                                            "LLaMAForCausalLM", NULL};

const cv_arch cv_arch_llama = {
    .name = "llama",
    .hf_classes = llama_classes,
    .tensors = llama_tensors,
    .n_tensors = sizeof llama_tensors / sizeof llama_tensors[0],
    .vocab = CV_VOCAB_SPM_THEN_BPE,
    .extra_hparams = llama_hparams,
    .generate = llama_generate,
};
