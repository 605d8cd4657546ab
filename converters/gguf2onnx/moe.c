/*
 * moe.c -- gguf2onnx's mixture-of-experts feed-forward block (Mixtral's
 * layout in a llama GGUF, and qwen3moe: expert_count set, ffn_gate_inp and 3-D
 * ffn_{gate,up,down}_exps instead of the dense weights): the router linear, then one
 * com.microsoft MoE node, which ONNX Runtime 1.30's CPU provider implements
 * (MoE<float>; QMoE too, for 4/8-bit weights with their own block layout).
 * Facts from llama.cpp ec562eb (llm_graph_context::build_moe_ffn as the
 * llama and qwen3moe graphs call it): router logits -> softmax over all
 * experts -> the expert_used_count largest -> weights renormalized to sum 1
 * -> sum of weight * down(silu(gate(x)) * up(x)). MoE computes the same
 * with normalize_routing_weights=1 and its fused SwiGLU (swiglu_fusion=1:
 * fc1 holds each expert's gate and up rows interleaved; alpha 1, beta 0
 * make G * sigmoid(alpha G) * (L + beta) SiLU's). Q4_0 or Q8_0 experts
 * become QMoE's 4/8-bit blocks as they are (block_size 32, default zero
 * points: the same codes and scales as MatMulNBits); any other type is
 * dequantized to f32 for MoE (exact either way).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converters/gguf2onnx/decoder_internal.h"

/* [rows, K] of tensor pattern at layer l, checked against the hparams. */
static gk_status check_shape(const fmt_src *src, const char *pattern, int64_t l, int64_t n_expert,
                             int64_t rows, int64_t k, char *err, size_t errcap) {
    int64_t ix = ox_tensor_ix(src, pattern, l);
    const fmt_src_tensor *t = ix >= 0 ? fmt_src_tensor_at(src, (uint64_t)ix) : NULL;
    if (!t) {
        snprintf(err, errcap, "missing tensor '%.*s%lld%s' (needed by a mixture of experts)",
                 (int)(strchr(pattern, '#') - pattern), pattern, (long long)l,
                 strchr(pattern, '#') + 1);
        return GK_E_FORMAT;
    }
    int want_dims = n_expert ? 3 : 2;
    if (t->n_dims == (uint32_t)want_dims && fmt_src_row_len(t) == k &&
        t->shape[t->n_dims - 2] == rows && (!n_expert || t->shape[0] == n_expert))
        return GK_OK;
    snprintf(err, errcap,
             "tensor '%s' has the wrong shape for %lld experts of [%lld, %lld] (from the hparams)",
             t->name, (long long)(n_expert ? n_expert : 1), (long long)rows, (long long)k);
    return GK_E_FORMAT;
}

gk_status ox_moe_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                         size_t errcap) {
    char k[128];
    uint64_t v;
    snprintf(k, sizeof k, "%s.expert_count", hp->arch);
    if (!fmt_gguf_get_u64(g, k, &v) || v == 0)
        return GK_OK; /* dense */
    if (v > 4096) {
        snprintf(err, errcap, "invalid hparam '%s'", k);
        return GK_E_FORMAT;
    }
    hp->n_expert = (int64_t)v;
    snprintf(k, sizeof k, "%s.expert_used_count", hp->arch);
    if (!fmt_gguf_get_u64(g, k, &v) || v == 0 || v > (uint64_t)hp->n_expert) {
        snprintf(err, errcap, "missing or invalid hparam '%s' (1..expert_count)", k);
        return GK_E_FORMAT;
    }
    hp->n_expert_used = (int64_t)v;
    hp->n_ff_exp = hp->n_ff;
    snprintf(k, sizeof k, "%s.expert_feed_forward_length", hp->arch);
    if (fmt_gguf_get_u64(g, k, &v)) {
        if (v == 0 || v > (uint64_t)1 << 30) {
            snprintf(err, errcap, "invalid hparam '%s'", k);
            return GK_E_FORMAT;
        }
        hp->n_ff_exp = (int64_t)v;
    }
    gk_status st = GK_OK;
    for (int64_t l = 0; l < hp->n_layer && st == GK_OK; l++) {
        st = check_shape(src, "blk.#.ffn_gate_inp.weight", l, 0, hp->n_expert, hp->n_embd, err,
                         errcap);
        if (st == GK_OK)
            st = check_shape(src, "blk.#.ffn_gate_exps.weight", l, hp->n_expert, hp->n_ff_exp,
                             hp->n_embd, err, errcap);
        if (st == GK_OK)
            st = check_shape(src, "blk.#.ffn_up_exps.weight", l, hp->n_expert, hp->n_ff_exp,
                             hp->n_embd, err, errcap);
        if (st == GK_OK)
            st = check_shape(src, "blk.#.ffn_down_exps.weight", l, hp->n_expert, hp->n_embd,
                             hp->n_ff_exp, err, errcap);
    }
    return st;
}

/* gpt-oss's expert biases as MoE's f32 fc1/fc2 biases: [E, 2 ff] with the
 * gate and up biases interleaved (as fc1's rows are), and [E, n_embd]. The
 * family's hparams checked the tensors. */
static gk_status expert_biases(ox_dctx *d, int64_t l, const char *b1, const char *b2) {
    const ox_hparams *hp = d->hp;
    static const char *const names[3] = {"blk.#.ffn_gate_exps.bias", "blk.#.ffn_up_exps.bias",
                                         "blk.#.ffn_down_exps.bias"};
    int64_t e = hp->n_expert, ff = hp->n_ff_exp, emb = hp->n_embd;
    size_t n1 = (size_t)(e * ff), n2 = (size_t)(e * emb);
    float *gate = malloc((4 * n1 + n2) * sizeof *gate);
    if (!gate)
        return GK_E_NOMEM;
    float *up = gate + n1, *fc1 = up + n1, *down = fc1 + 2 * n1;
    float *dst[3] = {gate, up, down};
    gk_status st = GK_OK;
    for (int i = 0; i < 3 && st == GK_OK; i++) {
        int64_t ix = ox_tensor_ix(d->w->src, names[i], l);
        st = ix < 0 ? GK_E_FORMAT
                    : fmt_src_read_rows(fmt_src_tensor_at(d->w->src, (uint64_t)ix), 0, e, dst[i]);
    }
    for (size_t i = 0; i < n1; i++) {
        fc1[2 * i] = gate[i];
        fc1[2 * i + 1] = up[i];
    }
    int64_t d1[2] = {e, 2 * ff}, d2[2] = {e, emb};
    if (st == GK_OK) {
        ox_init_inline(d->g, b1, OX_FLOAT, 2, d1, fc1, 2 * n1 * sizeof *fc1);
        ox_init_inline(d->g, b2, OX_FLOAT, 2, d2, down, n2 * sizeof *down);
    }
    free(gate);
    return st;
}

gk_status ox_moe(ox_dctx *d, int64_t l, const char *h, const char *out) {
    ox_graph *g = d->g;
    ox_wctx *w = d->w;
    const ox_hparams *hp = d->hp;
    long long L = (long long)l;
    const char *pre = ox_name(g, "model.layers.%lld.moe", L);
    const char *router = ox_name(g, "/%s/router/output_0", pre);
    gk_status st = ox_linear(w, h, ox_tensor_ix(w->src, "blk.#.ffn_gate_inp.weight", l),
                             ox_tensor_ix(w->src, "blk.#.ffn_gate_inp.bias", l),
                             ox_name(g, "%s.router", pre), router);
    const char *b1 = "", *b2 = "";
    if (hp->moe_oai) {
        b1 = ox_name(g, "%s.experts.fc1_bias", pre);
        b2 = ox_name(g, "%s.experts.fc2_bias", pre);
        if (st == GK_OK)
            st = expert_biases(d, l, b1, b2);
    }
    /* MoE takes [tokens, hidden] and [tokens, experts] */
    int64_t sh[2][2] = {{-1, hp->n_embd}, {-1, hp->n_expert}};
    const char *shn[2] = {ox_name(g, "/%s/hidden_2d", pre), ox_name(g, "/%s/router_2d", pre)};
    for (int i = 0; i < 2; i++) {
        int64_t two = 2;
        ox_init_inline(g, shn[i], OX_INT64, 1, &two, sh[i], sizeof sh[i]);
    }
    const char *in2[2] = {h, shn[0]}, *h2 = ox_name(g, "/%s/Reshape/output_0", pre);
    ox_add_node(g, "Reshape", NULL, 2, in2, 1, &h2);
    const char *rin[2] = {router, shn[1]}, *r2 = ox_name(g, "/%s/Reshape_1/output_0", pre);
    ox_add_node(g, "Reshape", NULL, 2, rin, 1, &r2);
    const char *fc1 = ox_name(g, "%s.experts.fc1", pre), *fc2 = ox_name(g, "%s.experts.fc2", pre);
    int64_t gu[2] = {ox_tensor_ix(w->src, "blk.#.ffn_gate_exps.weight", l),
                     ox_tensor_ix(w->src, "blk.#.ffn_up_exps.weight", l)};
    int64_t dn = ox_tensor_ix(w->src, "blk.#.ffn_down_exps.weight", l);
    int bits = ox_experts_nbits(w, gu, 2);
    if (bits != ox_experts_nbits(w, &dn, 1))
        bits = 0;
    const char *y = ox_name(g, "/%s/MoE/output_0", pre);
    ox_node *n;
    if (bits) { /* Q4_0 / Q8_0 experts: QMoE over the GGUF's own blocks */
        const char *s1 = ox_name(g, "%s.experts.fc1_scales", pre);
        const char *s2 = ox_name(g, "%s.experts.fc2_scales", pre);
        if (st == GK_OK)
            st = ox_experts_blocks(w, gu, 2, hp->n_expert, fc1, s1);
        if (st == GK_OK)
            st = ox_experts_blocks(w, &dn, 1, hp->n_expert, fc2, s2);
        const char *qin[8] = {h2, r2, fc1, s1, b1, fc2, s2, b2};
        n = ox_add_node(g, "QMoE", "com.microsoft", hp->moe_oai ? 8 : 7, qin, 1, &y);
        ox_attr_int(g, n, "expert_weight_bits", bits);
        ox_attr_int(g, n, "block_size", 32);
    } else {
        if (st == GK_OK)
            st = ox_experts_f32(w, gu, 2, hp->n_expert, fc1);
        if (st == GK_OK)
            st = ox_experts_f32(w, &dn, 1, hp->n_expert, fc2);
        const char *min[6] = {h2, r2, fc1, b1, fc2, b2};
        n = ox_add_node(g, "MoE", "com.microsoft", hp->moe_oai ? 6 : 5, min, 1, &y);
    }
    ox_attr_int(g, n, "k", hp->n_expert_used);
    ox_attr_str(g, n, "activation_type", "swiglu");
    ox_attr_int(g, n, "swiglu_fusion", 1);
    /* gpt-oss: ggml's SWIGLU_OAI, min(g, 7) * sigmoid(1.702 g) * (clamp(u, -7, 7) + 1) */
    ox_attr_float(g, n, "activation_alpha", hp->moe_oai ? 1.702f : 1.0f);
    ox_attr_float(g, n, "activation_beta", hp->moe_oai ? 1.0f : 0.0f);
    if (hp->moe_oai)
        ox_attr_float(g, n, "swiglu_limit", 7.0f);
    ox_attr_int(g, n, "normalize_routing_weights", 1);
    /* back to [B, S, hidden] */
    const char *hs = ox_name(g, "/%s/Shape/output_0", pre);
    ox_add_node(g, "Shape", NULL, 1, &h, 1, &hs);
    const char *bin[2] = {y, hs};
    ox_add_node(g, "Reshape", NULL, 2, bin, 1, &out);
    return st;
}
