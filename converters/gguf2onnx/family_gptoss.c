/*
 * family_gptoss.c -- gguf2onnx's gpt-oss decoder. Facts from llama.cpp
 * ec562eb (src/models/openai-moe.cpp, llama-graph.cpp, ggml-cpu ops.cpp):
 * - a block is attn_norm, attention with q/k/v and output biases and
 *   per-head sinks (each head's softmax sum gains exp(sink), no value),
 *   residual add, post_attention_norm, the mixture of experts, residual add;
 * - NEOX rope with YaRN (decoder.c's caches), query scale 1/sqrt(head_dim);
 * - even blocks slide (attention.sliding_window_pattern, default 2) over
 *   attention.sliding_window keys, rotating with rope.freq_base_swa when
 *   given;
 * - the router has a bias; the experts have biases and ggml's SWIGLU_OAI;
 *   the routing weights are the softmax of the selected logits (moe.c).
 */
#include <stdio.h>
#include <string.h>

#include "converters/gguf2onnx/decoder_internal.h"
#include "kernels/kernels.h"

/* Tensor pattern at every block is F32-readable with n elements. */
static gk_status check_vec(const fmt_src *src, const ox_hparams *hp, const char *pattern,
                           int64_t rows, int64_t n, char *err, size_t errcap) {
    for (int64_t l = 0; l < hp->n_layer; l++) {
        int64_t ix = ox_tensor_ix(src, pattern, l);
        const fmt_src_tensor *t = ix >= 0 ? fmt_src_tensor_at(src, (uint64_t)ix) : NULL;
        const char *hash = strchr(pattern, '#');
        if (!t || t->n_elements != (uint64_t)(rows * n) || fmt_src_row_len(t) != n ||
            !kern_row_to_f32_supported(t->type)) {
            snprintf(err, errcap,
                     "tensor '%.*s%lld%s' is missing or not %lld x %lld (needed by architecture "
                     "%s)",
                     (int)(hash - pattern), pattern, (long long)l, hash + 1, (long long)rows,
                     (long long)n, hp->arch);
            return GK_E_FORMAT;
        }
    }
    return GK_OK;
}

static gk_status gptoss_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                                size_t errcap) {
    char k[128];
    uint64_t w, p = 2;
    snprintf(k, sizeof k, "%s.attention.sliding_window", hp->arch);
    if (!fmt_gguf_get_u64(g, k, &w) || w == 0 || w > 1u << 30) {
        snprintf(err, errcap, "missing or invalid hparam '%s' (needed by architecture %s)", k,
                 hp->arch);
        return GK_E_FORMAT;
    }
    hp->n_swa = (int64_t)w;
    snprintf(k, sizeof k, "%s.attention.sliding_window_pattern", hp->arch);
    if (fmt_gguf_find_kv(g, k) && (!fmt_gguf_get_u64(g, k, &p) || p == 0 || p > 1u << 20)) {
        snprintf(err, errcap, "unsupported hparam '%s' (need one integer period)", k);
        return GK_E_UNSUPPORTED;
    }
    hp->swa_period = (int64_t)p;
    snprintf(k, sizeof k, "%s.rope.freq_base_swa", hp->arch);
    if (!fmt_gguf_get_f64(g, k, &hp->rope_base_swa))
        hp->rope_base_swa = hp->rope_base;
    if (hp->n_expert == 0) {
        snprintf(err, errcap, "missing hparam '%s.expert_count' (gpt-oss is a mixture of experts)",
                 hp->arch);
        return GK_E_FORMAT;
    }
    hp->attn_sinks = 1;
    hp->moe_oai = 1;
    gk_status st = check_vec(src, hp, "blk.#.attn_sinks.weight", 1, hp->n_head, err, errcap);
    if (st == GK_OK)
        st = check_vec(src, hp, "blk.#.ffn_gate_inp.bias", 1, hp->n_expert, err, errcap);
    if (st == GK_OK)
        st =
            check_vec(src, hp, "blk.#.ffn_gate_exps.bias", hp->n_expert, hp->n_ff_exp, err, errcap);
    if (st == GK_OK)
        st = check_vec(src, hp, "blk.#.ffn_up_exps.bias", hp->n_expert, hp->n_ff_exp, err, errcap);
    if (st == GK_OK)
        st = check_vec(src, hp, "blk.#.ffn_down_exps.bias", hp->n_expert, hp->n_embd, err, errcap);
    return st;
}

static gk_status gptoss_layer(ox_dctx *d, int64_t l, const char **x, const char **skip) {
    return ox_prenorm_layer(d, l, x, skip, "blk.#.post_attention_norm.weight");
}

const ox_family ox_family_gptoss = {"gpt-oss", &cv_arch_gptoss, 1, gptoss_hparams, gptoss_layer, 0};
