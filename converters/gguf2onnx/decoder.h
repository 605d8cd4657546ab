/*
 * decoder.h -- gguf2onnx's decoder graph: hyper-parameters read and checked
 * from the GGUF, the decoder built from them, and genai_config.json.
 */
#ifndef CONVERTERS_GGUF2ONNX_DECODER_H
#define CONVERTERS_GGUF2ONNX_DECODER_H

#include <stdint.h>

#include <jansson.h>

#include "converters/gguf2onnx/weights.h"
#include "formats/gguf.h"
#include "formats/source.h"
#include "ggufkit.h"

typedef enum { OX_GRAPH_STANDARD = 0, OX_GRAPH_GENAI } ox_graph_kind;

struct ox_family; /* one family's graph builder (decoder_internal.h) */

/* Hyperparameters read from the GGUF. */
typedef struct {
    char arch[16];                  /* general.architecture, one of the families */
    const struct ox_family *family; /* static, never NULL after ox_read_hparams */
    int rope_neox;                  /* 1 for qwen2/qwen3/gemma (rotate halves), 0 interleaved */
    int64_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx, rope_dim;
    double eps, rope_base, rope_scale; /* rope_scale = 1/linear factor */
    /* LongRoPE (phi3): the short factors up to this total length, the long
     * ones beyond it; 0 = none. rope_mscale multiplies cos and sin. */
    int64_t rope_orig_ctx;
    double rope_mscale;
    int64_t bos, eos, pad; /* -1 when absent */
    double attn_scale;     /* query scale, 1/sqrt(head_dim) unless the family says */
    double attn_softcap;   /* cap * tanh(scores / cap) before the softmax; 0 = none */
    double final_softcap;  /* the same on the logits; 0 = none */
    double embd_scale;     /* token embeddings are multiplied by it; 1 = none */
    double residual_scale; /* granite: each block branch times it before its add; 0 = none */
    double logit_scale;    /* granite: the logits are divided by it; 0 = none */
    /* Blocks without rope (NoPE): block l does not rotate when (l + 1) %
     * nope_period == 0 (smollm3: 4; 1: no block rotates); 0 = all rotate. */
    int64_t nope_period;
    /* Mixture of experts (moe.c): n_expert 0 = a dense feed-forward */
    int64_t n_expert, n_expert_used, n_ff_exp;
    /* Sliding-window layers (n_swa 0 = none): layer l slides when
     * l % swa_period < swa_period - 1 (period 0: all), and its query at p sees the
     * keys at p - n_swa < pos <= p, rotated with rope_base_swa/scale_swa. */
    int64_t n_swa, swa_period;
    double rope_base_swa, rope_scale_swa;
    /* YaRN (rope.scaling.type yarn): ggml's rope_yarn with ext_factor 1,
     * the ramp between yarn_corr[0] and [1] (ggml_rope_yarn_corr_dims with
     * beta_fast 32, beta_slow 1 over the original context) and the
     * magnitude yarn_mscale on cos and sin. */
    int yarn;
    float yarn_corr[2], yarn_mscale;
    /* gpt-oss: per-head attention sinks (blk.#.attn_sinks.weight), and the
     * MoE's biases with its clamped SwiGLU (x * sigmoid(1.702 x) * (y + 1),
     * x <= 7, |y| <= 7) and softmax over the selected experts' logits */
    int attn_sinks, moe_oai;
} ox_hparams;

/* Read and validate the hparams from the metadata of g and the tensor set
 * src over it (names from the hf2gguf architecture tables, shapes against
 * the hparams, then the family's own keys). GK_E_FORMAT / GK_E_UNSUPPORTED
 * with a message in err (an unknown architecture: the supported list). */
gk_status ox_read_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                          size_t errcap);

/* Build the whole decoder graph into w->g. */
typedef struct {
    ox_graph_kind kind;
    int kv_f16;
} ox_decoder_opts;
gk_status ox_build_decoder(ox_wctx *w, const ox_hparams *hp, const ox_decoder_opts *o);

/* genai_config.json content (new reference). */
json_t *ox_genai_config(const ox_hparams *hp, const ox_decoder_opts *o);

#endif
