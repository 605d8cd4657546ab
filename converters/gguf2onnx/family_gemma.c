/*
 * family_gemma.c -- gguf2onnx's gemma2 and gemma3 decoders. Facts from
 * llama.cpp ec562eb (src/models/gemma2.cpp, gemma3.cpp, llama-hparams.cpp):
 * - Gemma's RMSNorm multiplies by (1 + w); the converter stores w + 1
 *   (hf2gguf and convert_hf_to_gguf.py alike), so every norm here is a
 *   plain RMSNorm with the stored weight, q/k norms included;
 * - token embeddings are multiplied by sqrtf(n_embd);
 * - a block is attn_norm, attention, post_attention_norm, residual add,
 *   ffn_norm, GELU-tanh gated MLP, post_ffw_norm, residual add;
 * - the query scale is 1/sqrt(head_dim), 1/sqrt(n_embd/n_head) for the 27B
 *   models (gemma2: 46 blocks, gemma3: 62);
 * - gemma2: attention and final logit soft-capping, sliding-window blocks
 *   every other block (pattern 2) with the global rope;
 * - gemma3: per-head q/k norms; when the GGUF has a sliding window, 5 of
 *   every 6 blocks slide and rotate with rope.freq_base_swa (10000 when
 *   absent) unscaled; final soft-capping only when the key is present.
 */
#include <math.h>
#include <stdio.h>

#include "converters/gguf2onnx/decoder_internal.h"

/* ------------------------------------------------------------------------ */
/* Hyper-parameters                                                           */
/* ------------------------------------------------------------------------ */

/* "ARCH.suffix" into k[128]. */
static const char *key(char *k, const ox_hparams *hp, const char *suffix) {
    snprintf(k, 128, "%s.%s", hp->arch, suffix);
    return k;
}

/* A positive number under the key, or GK_E_FORMAT naming it. */
static gk_status need_pos(fmt_gguf *g, const ox_hparams *hp, const char *suffix, double *out,
                          char *err, size_t errcap) {
    char k[128];
    if (fmt_gguf_get_f64(g, key(k, hp, suffix), out) && *out > 0 && *out < 1e9)
        return GK_OK;
    snprintf(err, errcap, "missing or invalid hparam '%s' (needed by architecture %s)", k,
             hp->arch);
    return GK_E_FORMAT;
}

/* The sliding-window period (attention.sliding_window_pattern, else def). */
static gk_status swa_period(fmt_gguf *g, ox_hparams *hp, int64_t def, char *err, size_t errcap) {
    char k[128];
    uint64_t v;
    hp->swa_period = def;
    if (!fmt_gguf_find_kv(g, key(k, hp, "attention.sliding_window_pattern")))
        return GK_OK;
    if (!fmt_gguf_get_u64(g, k, &v) || v > 1u << 20) {
        snprintf(err, errcap, "unsupported hparam '%s' (need one integer period)", k);
        return GK_E_UNSUPPORTED;
    }
    hp->swa_period = (int64_t)v;
    return GK_OK;
}

/* What both generations share: embedding and query scales. */
static void gemma_scales(ox_hparams *hp, int64_t n_layer_27b) {
    hp->embd_scale = sqrtf((float)hp->n_embd);
    hp->attn_scale = hp->n_layer == n_layer_27b ? 1.0f / sqrtf((float)(hp->n_embd / hp->n_head))
                                                : 1.0f / sqrtf((float)hp->head_dim);
}

static gk_status gemma2_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                                size_t errcap) {
    (void)src;
    double w = 0;
    char k[128];
    gk_status st = need_pos(g, hp, "attn_logit_softcapping", &hp->attn_softcap, err, errcap);
    if (st == GK_OK)
        st = need_pos(g, hp, "final_logit_softcapping", &hp->final_softcap, err, errcap);
    if (st == GK_OK)
        st = need_pos(g, hp, "attention.sliding_window", &w, err, errcap);
    if (st == GK_OK)
        st = swa_period(g, hp, 2, err, errcap);
    hp->n_swa = (int64_t)w;
    if (!fmt_gguf_get_f64(g, key(k, hp, "rope.freq_base_swa"), &hp->rope_base_swa))
        hp->rope_base_swa = hp->rope_base;
    gemma_scales(hp, 46);
    return st;
}

static gk_status gemma3_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                                size_t errcap) {
    (void)src;
    char k[128];
    uint64_t w;
    gk_status st = GK_OK;
    if (fmt_gguf_get_u64(g, key(k, hp, "attention.sliding_window"), &w) && w > 0) {
        if (w > 1u << 30) {
            snprintf(err, errcap, "invalid hparam '%s'", k);
            return GK_E_FORMAT;
        }
        hp->n_swa = (int64_t)w;
        st = swa_period(g, hp, 6, err, errcap);
        if (!fmt_gguf_get_f64(g, key(k, hp, "rope.freq_base_swa"), &hp->rope_base_swa))
            hp->rope_base_swa = 10000.0;
        hp->rope_scale_swa = 1.0;
    }
    if (st == GK_OK && fmt_gguf_find_kv(g, key(k, hp, "final_logit_softcapping")))
        st = need_pos(g, hp, "final_logit_softcapping", &hp->final_softcap, err, errcap);
    gemma_scales(hp, 62);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Block                                                                      */
/* ------------------------------------------------------------------------ */

static gk_status gemma_layer(ox_dctx *d, int64_t l, const char **x, const char **skip) {
    ox_graph *g = d->g;
    long long L = (long long)l;
    const char *ao = NULL;
    gk_status st = ox_norm_attention(d, l, x, *skip, &ao);
    const char *an = ox_name(g, "/model/layers.%lld/post_attention_layernorm/output_0", L);
    if (st == GK_OK)
        st = ox_resid_norm(d, &ao, NULL, "blk.#.post_attention_norm.weight", l,
                           ox_name(g, "model.layers.%lld.post_attention_layernorm.weight", L), an,
                           NULL);
    const char *h2 = ox_name(g, "/model/layers.%lld/pre_feedforward_layernorm/output_0", L);
    if (st == GK_OK)
        st = ox_resid_norm(d, x, an, "blk.#.ffn_norm.weight", l,
                           ox_name(g, "model.layers.%lld.pre_feedforward_layernorm.weight", L), h2,
                           ox_name(g, "/model/layers.%lld/residual_attn/output_0", L));
    const char *m = ox_name(g, "/model/layers.%lld/mlp/output_0", L);
    if (st == GK_OK)
        st = ox_mlp(d, l, h2, OX_ACT_GELU_TANH, m);
    *skip = ox_name(g, "/model/layers.%lld/post_feedforward_layernorm/output_0", L);
    if (st == GK_OK)
        st = ox_resid_norm(d, &m, NULL, "blk.#.post_ffw_norm.weight", l,
                           ox_name(g, "model.layers.%lld.post_feedforward_layernorm.weight", L),
                           *skip, NULL);
    return st;
}

const ox_family ox_family_gemma2 = {"gemma2", &cv_arch_gemma2, 1, gemma2_hparams, gemma_layer, 0};
const ox_family ox_family_gemma3 = {"gemma3", &cv_arch_gemma3, 1, gemma3_hparams, gemma_layer, 0};
