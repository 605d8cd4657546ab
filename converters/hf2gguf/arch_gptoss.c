/*
 * arch_gptoss.c -- gpt-oss (GptOssForCausalLM). Upstream's GptOssModel
 * (convert_hf_to_gguf.py ec562eb) is TextModel with:
 * - experts already stacked per layer: mlp.experts.gate_up_proj [E, 2F, H]
 *   with gate and up interleaved by row (even rows gate, odd rows up, the
 *   bias [E, 2F] likewise) and mlp.experts.down_proj [E, H, F];
 * - in the released checkpoints (quantization_config quant_method "mxfp4")
 *   those as MXFP4 NAME_blocks / NAME_scales pairs, repacked to ggml MXFP4 and
 *   written first, kept MXFP4 whatever --outtype is (general.file_type 38,
 *   MOSTLY_MXFP4_MOE, for f32/f16/bf16; q8_0 keeps 7); dequant_model is
 *   skipped, so nothing is dequantized;
 * - in the bf16-experts variant (no quantization_config) float tensors
 *   gate_up_proj [E, H, 2F] and down_proj [E, F, H], transposed and
 *   converted like other weights ("not in MXFP4" warning);
 * - attention sinks (self_attn.sinks, F32), a router with a bias (F32),
 *   q/k/v/o biases, sliding_window and expert_feed_forward_length after
 *   general.file_type, and a BPE vocabulary.
 * Our source transform (formats/view.h, formats/mxfp4.h) makes the
 * records NAME[gate] / NAME[up] and the transposed down_proj.
 */
#include <stdio.h>
#include <string.h>

#include "converters/hf2gguf/arch.h"

#include "formats/io.h"
#include "formats/mxfp4.h"

/* family dimensions */
#define DIM_EXPERTS CV_DIM_F0
#define DIM_HEADS CV_DIM_F1

/* ------------------------------------------------------------------------ */
/* Tensor table                                                               */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
#define X L "mlp.experts."
static const cv_tensor_rule gptoss_tensors[] = {
    {"model.embed_tokens.weight", "token_embd.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 0},
    {"model.norm.weight", "output_norm.weight", CV_XF_NONE, {CV_DIM_EMBD}, 0},
    {"lm_head.weight", "output.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 1},
    {L "input_layernorm.weight", "blk.#.attn_norm.weight", CV_XF_NONE, {CV_DIM_EMBD}, 0},
    {L "post_attention_layernorm.weight",
     "blk.#.post_attention_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD},
     0},
    {L "self_attn.q_proj.weight", "blk.#.attn_q.weight", CV_XF_NONE, {CV_DIM_QDIM, CV_DIM_EMBD}, 0},
    {L "self_attn.k_proj.weight",
     "blk.#.attn_k.weight",
     CV_XF_NONE,
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
    {L "self_attn.q_proj.bias", "blk.#.attn_q.bias", CV_XF_NONE, {CV_DIM_QDIM}, 0},
    {L "self_attn.k_proj.bias", "blk.#.attn_k.bias", CV_XF_NONE, {CV_DIM_KVDIM}, 0},
    {L "self_attn.v_proj.bias", "blk.#.attn_v.bias", CV_XF_NONE, {CV_DIM_KVDIM}, 0},
    {L "self_attn.o_proj.bias", "blk.#.attn_output.bias", CV_XF_NONE, {CV_DIM_EMBD}, 0},
    {L "self_attn.sinks", "blk.#.attn_sinks.weight", CV_XF_NONE, {DIM_HEADS}, 0},
    {L "mlp.router.weight", "blk.#.ffn_gate_inp.weight", CV_XF_NONE, {DIM_EXPERTS, CV_DIM_EMBD}, 0},
    {L "mlp.router.bias", "blk.#.ffn_gate_inp.bias", CV_XF_NONE, {DIM_EXPERTS}, 0},
    {X "down_proj",
     "blk.#.ffn_down_exps.weight",
     CV_XF_NONE,
     {DIM_EXPERTS, CV_DIM_EMBD, CV_DIM_FF},
     0},
    {X "gate_up_proj[gate]",
     "blk.#.ffn_gate_exps.weight",
     CV_XF_NONE,
     {DIM_EXPERTS, CV_DIM_FF, CV_DIM_EMBD},
     0},
    {X "gate_up_proj[up]",
     "blk.#.ffn_up_exps.weight",
     CV_XF_NONE,
     {DIM_EXPERTS, CV_DIM_FF, CV_DIM_EMBD},
     0},
    {X "down_proj_bias", "blk.#.ffn_down_exps.bias", CV_XF_NONE, {DIM_EXPERTS, CV_DIM_EMBD}, 0},
    {X "gate_up_proj_bias[gate]",
     "blk.#.ffn_gate_exps.bias",
     CV_XF_NONE,
     {DIM_EXPERTS, CV_DIM_FF},
     0},
    {X "gate_up_proj_bias[up]", "blk.#.ffn_up_exps.bias", CV_XF_NONE, {DIM_EXPERTS, CV_DIM_FF}, 0},
};
#undef X
#undef L

/* ------------------------------------------------------------------------ */
/* Dimensions and hparams                                                     */
/* ------------------------------------------------------------------------ */

static gk_status gptoss_dims(const json_t *cfg, long long *dims, char *err, size_t errcap) {
    static const char *const k_exp[] = {"num_local_experts", "num_experts", NULL};
    static const char *const k_used[] = {"num_experts_per_tok", "experts_per_token", NULL};
    static const char *const k_heads[] = {"num_attention_heads", NULL};
    const cv_hparam exp = {"expert_count", k_exp, CV_HP_U32, 1};
    const cv_hparam used = {"expert_used_count", k_used, CV_HP_U32, 0};
    const cv_hparam heads = {"head_count", k_heads, CV_HP_U32, 1};
    double n_exp, n_used, n_heads;
    int found;
    gk_status st = cv_hparam_value(cfg, &exp, &found, &n_exp, err, errcap);
    if (st == GK_OK)
        st = cv_hparam_value(cfg, &heads, &found, &n_heads, err, errcap);
    if (st == GK_OK)
        st = cv_hparam_value(cfg, &used, &found, &n_used, err, errcap);
    if (st != GK_OK)
        return st;
    if (n_exp < 1 || (found && (n_used < 1 || n_used > n_exp))) {
        snprintf(err, errcap,
                 "config.json: num_experts_per_tok = %.0f with num_local_experts = %.0f (need 1 "
                 "<= used <= experts)",
                 found ? n_used : 0.0, n_exp);
        return GK_E_FORMAT;
    }
    dims[DIM_EXPERTS - CV_DIM_F0] = (long long)n_exp;
    dims[DIM_HEADS - CV_DIM_F0] = (long long)n_heads;
    return GK_OK;
}

/* GptOssModel.set_gguf_parameters after the shared block. */
static gk_status gptoss_hparams(fmt_gguf_writer *w, const char *arch, const json_t *cfg, char *err,
                                size_t errcap) {
    static const char *const k_swa[] = {"sliding_window", NULL};
    static const char *const k_ff[] = {"intermediate_size", NULL};
    static const cv_hparam rows[] = {{"attention.sliding_window", k_swa, CV_HP_U32, 1},
                                     {"expert_feed_forward_length", k_ff, CV_HP_U32, 1}};
    return cv_write_hparams(w, arch, cfg, rows, 2, 0, err, errcap);
}

/* ------------------------------------------------------------------------ */
/* Source transform                                                           */
/* ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static gk_status view_fail(const fmt_src_tensor *t, const char *what, char *err, size_t errcap) {
    snprintf(err, errcap, "%s: tensor '%s' (%s): %s", t->file, t->name, t->dtype, what);
    return GK_E_FORMAT;
}

/* NAME[gate] and NAME[up]: rows (dim 1 of [E, 2F, H], after the transpose
 * of a weight) or columns (the last dim of the bias [E, 2F]) 0, 2, 4, ...
 * and 1, 3, 5, ... */
static gk_status deinterleave(fmt_xset *x, const fmt_src_tensor *t, int weight, char *err,
                              size_t errcap) {
    fmt_view v;
    if (fmt_view_of(&v, t) != GK_OK || t->n_dims != (weight ? 3u : 2u))
        return view_fail(t,
                         weight ? "need a 3-D float tensor [experts, hidden, 2 * ff]"
                                : "need a 2-D float tensor [experts, 2 * ff]",
                         err, errcap);
    if (weight)
        fmt_view_transpose(&v, 1, 2);
    uint32_t d = 1; /* [E, 2F, H] after the transpose, or [E, 2F] */
    if (v.shape[d] % 2 != 0)
        return view_fail(t, "the gate|up dimension is odd", err, errcap);
    char name[512];
    for (int part = 0; part < 2; part++) {
        fmt_view h = v;
        fmt_view_slice(&h, d, part, v.shape[d] / 2, 2);
        snprintf(name, sizeof name, "%s[%s]", t->name, part ? "up" : "gate");
        gk_status st = fmt_xset_add_view(x, name, &h);
        if (st != GK_OK)
            return st;
    }
    return GK_OK;
}

/* X_scales with its X_blocks: MXFP4 records X (down_proj) or X[gate] and
 * X[up] (gate_up_proj). */
static gk_status repack(const fmt_src *in, fmt_xset *x, const fmt_src_tensor *scales, char *err,
                        size_t errcap) {
    char base[512], name[600];
    snprintf(base, sizeof base, "%.*s", (int)(strlen(scales->name) - strlen("_scales")),
             scales->name);
    snprintf(name, sizeof name, "%s_blocks", base);
    const fmt_src_tensor *blocks = fmt_src_find(in, name);
    if (!blocks) {
        snprintf(err, errcap, "%s: tensor '%s' has no '%s'", scales->file, scales->name, name);
        return GK_E_FORMAT;
    }
    if (!ends_with(base, "gate_up_proj"))
        return fmt_mxfp4_add(x, base, blocks, scales, 0, 1, err, errcap);
    gk_status st = GK_OK;
    for (int part = 0; st == GK_OK && part < 2; part++) {
        snprintf(name, sizeof name, "%s[%s]", base, part ? "up" : "gate");
        st = fmt_mxfp4_add(x, name, blocks, scales, part, 2, err, errcap);
    }
    return st;
}

static gk_status gptoss_transform(const fmt_src *in, const json_t *cfg, long long n_layer,
                                  fmt_xset *x, char *err, size_t errcap) {
    (void)cfg;
    (void)n_layer;
    gk_status st = GK_OK;
    int warned = 0;
    for (uint64_t i = 0; st == GK_OK && i < fmt_src_n_tensors(in); i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(in, i);
        if (!strstr(t->name, ".mlp.experts.")) {
            st = fmt_xset_keep(x, t);
        } else if (ends_with(t->name, "_blocks")) {
            char sc[512];
            snprintf(sc, sizeof sc, "%.*s_scales", (int)(strlen(t->name) - 7), t->name);
            if (!fmt_src_find(in, sc)) {
                snprintf(err, errcap, "%s: tensor '%s' has no '%s'", t->file, t->name, sc);
                st = GK_E_FORMAT;
            }
        } else if (ends_with(t->name, "_scales")) {
            st = repack(in, x, t, err, errcap);
        } else if (ends_with(t->name, ".gate_up_proj_bias")) {
            st = deinterleave(x, t, 0, err, errcap);
        } else if (ends_with(t->name, ".gate_up_proj")) {
            if (!warned++)
                fmt_log(1, "warning: %s: experts not in MXFP4, performance may be degraded",
                        t->file);
            st = deinterleave(x, t, 1, err, errcap);
        } else if (ends_with(t->name, ".down_proj")) {
            fmt_view v;
            if (fmt_view_of(&v, t) != GK_OK || t->n_dims != 3)
                return view_fail(t, "need a 3-D float tensor [experts, ff, hidden]", err, errcap);
            fmt_view_transpose(&v, 1, 2);
            st = fmt_xset_add_view(x, t->name, &v);
        } else {
            st = fmt_xset_keep(x, t);
        }
    }
    if (st == GK_E_NOMEM)
        snprintf(err, errcap, "out of memory");
    return st;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const gptoss_classes[] = {"GptOssForCausalLM", NULL};

const cv_arch cv_arch_gptoss = {
    .name = "gpt-oss",
    .hf_classes = gptoss_classes,
    .tensors = gptoss_tensors,
    .n_tensors = sizeof gptoss_tensors / sizeof gptoss_tensors[0],
    .vocab = CV_VOCAB_BPE,
    .extra_hparams = gptoss_hparams,
    .family_dims = gptoss_dims,
    .transform = gptoss_transform,
    .own_quant_method = "mxfp4",
    .own_quant_file_type = 38, /* LlamaFileType.MOSTLY_MXFP4_MOE */
};
