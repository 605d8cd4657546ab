/*
 * family_olmo2.c -- gguf2onnx's olmo2 decoder (OLMo 2). Facts from
 * llama.cpp ec562eb src/models/olmo2.cpp:
 * - a block has no input norm: q/k/v project the residual stream itself;
 * - the q and k norms are RMSNorms over the whole projection (n_head *
 *   head_dim and n_head_kv * head_dim values), before the rope;
 * - rotate-halves rope (LLAMA_ROPE_TYPE_NEOX), query scale 1/sqrt(head_dim);
 * - attention output -> post_attention_norm -> residual add; SwiGLU MLP on
 *   the sum (no pre-norm) -> post_ffw_norm -> residual add;
 * - OLMo 3's sliding window (attention.sliding_window with a per-layer
 *   pattern) is not built here: refused.
 */
#include <stdio.h>

#include "converters/gguf2onnx/decoder_internal.h"

static gk_status olmo2_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                               size_t errcap) {
    (void)src;
    char k[128];
    uint64_t w;
    snprintf(k, sizeof k, "%s.attention.sliding_window", hp->arch);
    if (fmt_gguf_get_u64(g, k, &w) && w > 0) {
        snprintf(err, errcap, "unsupported hparam '%s' (OLMo 3's sliding window is not built)", k);
        return GK_E_UNSUPPORTED;
    }
    return GK_OK;
}

static gk_status olmo2_layer(ox_dctx *d, int64_t l, const char **x, const char **skip) {
    ox_graph *g = d->g;
    long long L = (long long)l;
    if (*skip)
        *x = ox_add(d, *x, *skip, ox_name(g, "/model/layers.%lld/residual_mlp/output_0", L - 1));
    const char *ao = NULL;
    gk_status st = ox_attention(d, l, *x, &ao);
    const char *an = ox_name(g, "/model/layers.%lld/post_attention_layernorm/output_0", L);
    if (st == GK_OK)
        st = ox_resid_norm(d, &ao, NULL, "blk.#.post_attention_norm.weight", l,
                           ox_name(g, "model.layers.%lld.post_attention_layernorm.weight", L), an,
                           NULL);
    *x = ox_add(d, *x, an, ox_name(g, "/model/layers.%lld/residual_attn/output_0", L));
    const char *m = ox_name(g, "/model/layers.%lld/mlp/output_0", L);
    if (st == GK_OK)
        st = ox_mlp(d, l, *x, OX_ACT_SILU, m);
    *skip = ox_name(g, "/model/layers.%lld/post_feedforward_layernorm/output_0", L);
    if (st == GK_OK)
        st = ox_resid_norm(d, &m, NULL, "blk.#.post_ffw_norm.weight", l,
                           ox_name(g, "model.layers.%lld.post_feedforward_layernorm.weight", L),
                           *skip, NULL);
    return st;
}

const ox_family ox_family_olmo2 = {"olmo2", &cv_arch_olmo2, 1, olmo2_hparams, olmo2_layer, 1};
