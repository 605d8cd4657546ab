/*
 * family_phi3.c -- gguf2onnx's phi3 decoder (Phi-3, Phi-3.5, Phi-4). The
 * llama block with rotate-halves rope, the fused attn_qkv (q | k | v rows:
 * GroupQueryAttention's packed input as it is, split in the standard
 * graph) and the fused ffn_up (gate rows, then up rows: split, SwiGLU).
 * Facts from llama.cpp ec562eb src/models/phi3.cpp and
 * llama_model::get_rope_factors:
 * - LongRoPE: rope_factors_short/long.weight divide the frequencies; the
 *   cos/sin tables are multiplied by rope.scaling.attn_factor. llama.cpp
 *   picks the long factors for a context larger than
 *   rope.scaling.original_context_length; the graph switches on the total
 *   length as onnxruntime-genai does (the same choice below that length);
 * - the sliding window some Phi-3 GGUFs carry is ignored (llama.cpp
 *   disables Phi SWA).
 */
#include <stdio.h>

#include "converters/gguf2onnx/decoder_internal.h"
#include "kernels/kernels.h"

/* A factor tensor: absent (NULL), or rope_dim/2 F32 values. */
static gk_status factor_tensor(const fmt_src *src, const ox_hparams *hp, const char *name,
                               const fmt_src_tensor **out, char *err, size_t errcap) {
    const fmt_src_tensor *t = fmt_src_find(src, name);
    *out = t;
    if (!t || (t->type == KERN_TYPE_F32 && t->n_elements == (uint64_t)(hp->rope_dim / 2)))
        return GK_OK;
    snprintf(err, errcap, "tensor '%s' has %llu values of type %s, expected %lld F32 (rope_dim/2)",
             name, (unsigned long long)t->n_elements,
             kern_type_info(t->type) ? kern_type_info(t->type)->name : "?",
             (long long)(hp->rope_dim / 2));
    return GK_E_FORMAT;
}

static gk_status phi3_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                              size_t errcap) {
    char k[128];
    const fmt_src_tensor *sf, *lf;
    gk_status st = factor_tensor(src, hp, "rope_factors_short.weight", &sf, err, errcap);
    if (st == GK_OK)
        st = factor_tensor(src, hp, "rope_factors_long.weight", &lf, err, errcap);
    if (st != GK_OK)
        return st;
    snprintf(k, sizeof k, "%s.rope.scaling.attn_factor", hp->arch);
    if (fmt_gguf_find_kv(g, k) && !(fmt_gguf_get_f64(g, k, &hp->rope_mscale) &&
                                    hp->rope_mscale > 0 && hp->rope_mscale < 1e3)) {
        snprintf(err, errcap, "invalid hparam '%s'", k);
        return GK_E_FORMAT;
    }
    if (!sf && !lf)
        return GK_OK;
    if (!sf || !lf) {
        snprintf(err, errcap, "missing tensor '%s' (LongRoPE needs the short and long factors)",
                 sf ? "rope_factors_long.weight" : "rope_factors_short.weight");
        return GK_E_FORMAT;
    }
    uint64_t orig;
    snprintf(k, sizeof k, "%s.rope.scaling.original_context_length", hp->arch);
    if (!fmt_gguf_get_u64(g, k, &orig) || orig == 0 || orig > (uint64_t)1 << 40) {
        snprintf(err, errcap, "missing or invalid hparam '%s' (needed by LongRoPE)", k);
        return GK_E_FORMAT;
    }
    hp->rope_orig_ctx = (int64_t)orig;
    return GK_OK;
}

const ox_family ox_family_phi3 = {"phi3", &cv_arch_phi3, 1, phi3_hparams, NULL, 0};
