/*
 * decoder_internal.h -- the per-family hook table of gguf2onnx's decoder
 * and the graph pieces decoder.c lends to the family files (family_*.c).
 * Included only from converters/gguf2onnx/.
 */
#ifndef CONVERTERS_GGUF2ONNX_DECODER_INTERNAL_H
#define CONVERTERS_GGUF2ONNX_DECODER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "converters/gguf2onnx/decoder.h"
#include "converters/hf2gguf/arch.h"

/* One graph under construction: borrowed pointers, valid for the build. */
typedef struct {
    ox_wctx *w;
    ox_graph *g;
    const ox_hparams *hp;
    const ox_decoder_opts *o;
    const char *mask, *mask_swa; /* standard graph's Attention masks ("" if unused) */
    /* standard graph with attention sinks: the same as float [B,H,S,T]
     * (0 or -inf), causality included ("" if unused) */
    const char *fmask, *fmask_swa;
} ox_dctx;

/* One model family: what differs from the llama decoder. */
typedef struct ox_family {
    const char *name;     /* general.architecture */
    const cv_arch *table; /* hf2gguf's tensor table: required names and shapes */
    int rope_neox;        /* rotate halves (GGUF Q/K rows not permuted) */
    /* The family's own keys (and tensors it checks, src) into hp, the
     * shared ones being read, or NULL. GK_E_FORMAT with a message naming
     * the key or tensor at fault. */
    gk_status (*hparams)(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err, size_t errcap);
    /* One decoder block, or NULL for the llama block. x is the residual
     * stream and *skip the branch not yet added to it (NULL before block
     * 0); the block leaves its own output branch in *skip. */
    gk_status (*layer)(ox_dctx *d, int64_t l, const char **x, const char **skip);
    /* q/k norms over the whole projection (olmo2), not over each head */
    int qk_norm_full;
} ox_family;

extern const ox_family ox_family_gemma2;
extern const ox_family ox_family_gemma3;
extern const ox_family ox_family_phi3;
extern const ox_family ox_family_olmo2;
extern const ox_family ox_family_granite;
extern const ox_family ox_family_smollm3;
extern const ox_family ox_family_gptoss;

/* The index of tensor pattern ('#' = layer) in src, -1 if absent. */
int64_t ox_tensor_ix(const fmt_src *src, const char *pattern, int64_t layer);

/* out = RMSNorm(x + skip) with weight tensor (pattern, layer) as the
 * initializer wname; with skip, *x becomes the sum (named sum). Standard
 * graph: Add + RMSNormalization; genai: (Skip)SimplifiedLayerNormalization. */
gk_status ox_resid_norm(ox_dctx *d, const char **x, const char *skip, const char *tensor,
                        int64_t layer, const char *wname, const char *out, const char *sum);

/* Self-attention of block l over the normed input h (q/k/v, q/k norms,
 * rope, attention, o_proj) into "/model/layers.L/attn/o_proj/output_0"
 * (returned in *out). */
gk_status ox_attention(ox_dctx *d, int64_t l, const char *h, const char **out);

/* out = a + b, and out = x * v with v a float scalar initializer vname. */
const char *ox_add(ox_dctx *d, const char *a, const char *b, const char *out);
const char *ox_scale_by(ox_dctx *d, const char *x, float v, const char *vname, const char *out);

/* Block l's input: *x += skip (the previous block's pending branch, NULL
 * before block 0) and the input norm, then self-attention through o_proj
 * into "/model/layers.L/attn/o_proj/output_0" (returned in *out): q/k/v (+
 * biases, + q/k norms), rope, causal attention with the KV cache, the
 * sliding window, scale and soft-capping of hp. */
gk_status ox_norm_attention(ox_dctx *d, int64_t l, const char **x, const char *skip,
                            const char **out);

/* A pre-norm block: norm, attention, residual add, the feed-forward norm
 * (tensor ffn_norm: llama's ffn_norm, gpt-oss's post_attention_norm), the
 * SwiGLU MLP or the mixture of experts (ox_mlp), its branch left in *skip. */
gk_status ox_prenorm_layer(ox_dctx *d, int64_t l, const char **x, const char **skip,
                           const char *ffn_norm);

/* Gated MLP of block l: down(act(gate(h)) * up(h)) into out. */
typedef enum { OX_ACT_SILU = 0, OX_ACT_GELU_TANH } ox_act;
gk_status ox_mlp(ox_dctx *d, int64_t l, const char *h, ox_act act, const char *out);

/* Mixture of experts (moe.c): ox_moe_hparams reads expert_count (none:
 * dense, GK_OK), expert_used_count and expert_feed_forward_length into hp
 * and checks the router and expert tensors of every block; ox_moe is block
 * l's feed-forward on h into out (the router linear and one com.microsoft
 * MoE node). */
gk_status ox_moe_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err, size_t errcap);
gk_status ox_moe(ox_dctx *d, int64_t l, const char *h, const char *out);

#endif
