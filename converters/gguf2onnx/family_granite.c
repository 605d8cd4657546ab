/*
 * family_granite.c -- gguf2onnx's granite decoder (Granite 3.x dense): the
 * llama block with four multipliers. Facts from llama.cpp ec562eb
 * src/models/granite.cpp and llm_graph_context::build_inp_embd:
 * - granite: token embeddings times embedding_scale, query scale
 *   attention.scale (1/sqrt(head_dim) when absent or 0), each block's
 *   attention and MLP outputs times residual_scale before their residual
 *   adds, logits times 1/logit_scale (a required key); no rope at all when
 *   rope.scaling.finetuned is false;
 * - rope over pairs (LLAMA_ROPE_TYPE_NORM; the Q/K rows are permuted).
 */
#include <math.h>
#include <stdio.h>

#include "converters/gguf2onnx/decoder_internal.h"

/* Optional positive float key ARCH.suffix into *out (left as is when
 * absent or 0, as llama.cpp treats 0); a negative or non-finite value is an
 * error naming the key. */
static gk_status opt_scale(fmt_gguf *g, const ox_hparams *hp, const char *suffix, double *out,
                           int required, char *err, size_t errcap) {
    char k[128];
    double v;
    snprintf(k, sizeof k, "%s.%s", hp->arch, suffix);
    if (!fmt_gguf_find_kv(g, k)) {
        if (!required)
            return GK_OK;
        snprintf(err, errcap, "missing hparam '%s' (needed by architecture %s)", k, hp->arch);
        return GK_E_FORMAT;
    }
    if (!fmt_gguf_get_f64(g, k, &v) || !isfinite(v) || v < 0 || v > 1e9 || (required && v == 0)) {
        snprintf(err, errcap, "invalid hparam '%s' (need a %s number)", k,
                 required ? "positive" : "non-negative");
        return GK_E_FORMAT;
    }
    if (v > 0)
        *out = v;
    return GK_OK;
}

static gk_status granite_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                                 size_t errcap) {
    (void)src;
    gk_status st = opt_scale(g, hp, "logit_scale", &hp->logit_scale, 1, err, errcap);
    if (st == GK_OK)
        st = opt_scale(g, hp, "residual_scale", &hp->residual_scale, 0, err, errcap);
    if (st == GK_OK)
        st = opt_scale(g, hp, "embedding_scale", &hp->embd_scale, 0, err, errcap);
    if (st == GK_OK)
        st = opt_scale(g, hp, "attention.scale", &hp->attn_scale, 0, err, errcap);
    char k[128];
    int finetuned = 1;
    snprintf(k, sizeof k, "%s.rope.scaling.finetuned", hp->arch);
    if (st == GK_OK && fmt_gguf_find_kv(g, k) && !fmt_gguf_get_bool(g, k, &finetuned)) {
        snprintf(err, errcap, "invalid hparam '%s' (need a bool)", k);
        return GK_E_FORMAT;
    }
    if (!finetuned) /* granite's switch for rope: no block rotates */
        hp->nope_period = 1;
    return st;
}

/* branch * residual_scale (unchanged without the key) */
static const char *resid_scaled(ox_dctx *d, const char *branch, long long L, const char *what) {
    if (!(d->hp->residual_scale > 0))
        return branch;
    return ox_scale_by(d, branch, (float)d->hp->residual_scale,
                       ox_name(d->g, "/model/layers.%lld/%s/residual_scale", L, what),
                       ox_name(d->g, "/model/layers.%lld/%s/residual_scale/output_0", L, what));
}

static gk_status granite_layer(ox_dctx *d, int64_t l, const char **x, const char **skip) {
    ox_graph *g = d->g;
    long long L = (long long)l;
    const char *ao = NULL;
    gk_status st = ox_norm_attention(d, l, x, *skip, &ao);
    ao = resid_scaled(d, ao, L, "attn");
    const char *h2 = ox_name(g, "/model/layers.%lld/post_attention_layernorm/output_0", L);
    if (st == GK_OK)
        st = ox_resid_norm(d, x, ao, "blk.#.ffn_norm.weight", l,
                           ox_name(g, "model.layers.%lld.post_attention_layernorm.weight", L), h2,
                           ox_name(g, "/model/layers.%lld/residual_attn/output_0", L));
    const char *m = ox_name(g, "/model/layers.%lld/mlp/output_0", L);
    if (st == GK_OK)
        st = ox_mlp(d, l, h2, OX_ACT_SILU, m);
    *skip = resid_scaled(d, m, L, "mlp");
    return st;
}

const ox_family ox_family_granite = {"granite",       &cv_arch_granite, 0,
                                     granite_hparams, granite_layer,    0};
