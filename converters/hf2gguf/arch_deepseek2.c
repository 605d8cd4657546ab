/*
 * arch_deepseek2.c -- deepseek2 (DeepseekV2ForCausalLM, DeepseekV3ForCausalLM).
 * Upstream's DeepseekV2Model (convert_hf_to_gguf.py ec562eb) is TextModel
 * with:
 * - multi-head latent attention (MLA): q through a low-rank q_a/q_b pair
 *   (q_lora_rank; a plain q_proj when it is null), kv through
 *   kv_a_proj_with_mqa (kv_lora_rank + qk_rope_head_dim rows) and kv_b_proj,
 *   which is cut per head into k_b [heads, kv_lora, qk_nope] (transposed)
 *   and v_b [heads, v_head, kv_lora]; written as MQA (head_count_kv 1,
 *   key_length kv_lora + rope, value_length kv_lora) with the MLA lengths
 *   apart;
 * - first_k_dense_replace leading dense blocks, then routed experts
 *   (n_routed_experts, stacked per layer), shared experts, a router kept
 *   F32, e_score_correction_bias as exp_probs_b.bias, expert groups and
 *   sigmoid/softmax gating (the shared block), weights scale and norm;
 * - yarn rope.scaling.yarn_log_multiplier = 0.1 * mscale_all_dim;
 * - tied lm_head and Multi-Token-Prediction layers (index >= n_layer)
 *   dropped; a BPE vocabulary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converters/hf2gguf/arch.h"

#include "formats/hfdir.h"

/* family dimensions */
#define DIM_EXPERTS CV_DIM_F0 /* n_routed_experts */
#define DIM_QB CV_DIM_F1      /* heads * (qk_nope + qk_rope) */
#define DIM_QLORA CV_DIM_F2   /* q_lora_rank */
#define DIM_KVLORA CV_DIM_F3  /* kv_lora_rank */
#define DIM_KVA CV_DIM_F4     /* kv_lora_rank + qk_rope */
#define DIM_O CV_DIM_F5       /* heads * v_head */
#define DIM_MOE_FF CV_DIM_F6  /* moe_intermediate_size */
#define DIM_SH_FF CV_DIM_F7   /* moe_intermediate_size * n_shared_experts */
#define DIM_HEADS CV_DIM_F8
#define DIM_NOPE CV_DIM_F9
#define DIM_V CV_DIM_F10

/* ------------------------------------------------------------------------ */
/* Tensor table                                                               */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
#define A L "self_attn."
#define MAT(hf, gguf, r, c, opt)                                                                   \
    { hf, gguf, CV_XF_NONE, {r, c}, opt }
#define VEC(hf, gguf, d, opt)                                                                      \
    { hf, gguf, CV_XF_NONE, {d}, opt }
static const cv_tensor_rule ds_tensors[] = {
    MAT("model.embed_tokens.weight", "token_embd.weight", CV_DIM_VOCAB, CV_DIM_EMBD, 0),
    VEC("model.norm.weight", "output_norm.weight", CV_DIM_EMBD, 0),
    MAT("lm_head.weight", "output.weight", CV_DIM_VOCAB, CV_DIM_EMBD, 1),
    VEC(L "input_layernorm.weight", "blk.#.attn_norm.weight", CV_DIM_EMBD, 0),
    VEC(L "post_attention_layernorm.weight", "blk.#.ffn_norm.weight", CV_DIM_EMBD, 0),
    /* q: plain (q_lora_rank null) or low-rank; checked in the transform */
    MAT(A "q_proj.weight", "blk.#.attn_q.weight", DIM_QB, CV_DIM_EMBD, 1),
    MAT(A "q_a_proj.weight", "blk.#.attn_q_a.weight", DIM_QLORA, CV_DIM_EMBD, 1),
    VEC(A "q_a_layernorm.weight", "blk.#.attn_q_a_norm.weight", DIM_QLORA, 1),
    MAT(A "q_b_proj.weight", "blk.#.attn_q_b.weight", DIM_QB, DIM_QLORA, 1),
    MAT(A "kv_a_proj_with_mqa.weight", "blk.#.attn_kv_a_mqa.weight", DIM_KVA, CV_DIM_EMBD, 0),
    VEC(A "kv_a_layernorm.weight", "blk.#.attn_kv_a_norm.weight", DIM_KVLORA, 0),
    {A "kv_b_proj.weight[k_b]",
     "blk.#.attn_k_b.weight",
     CV_XF_NONE,
     {DIM_HEADS, DIM_KVLORA, DIM_NOPE},
     0},
    {A "kv_b_proj.weight[v_b]",
     "blk.#.attn_v_b.weight",
     CV_XF_NONE,
     {DIM_HEADS, DIM_V, DIM_KVLORA},
     0},
    MAT(A "o_proj.weight", "blk.#.attn_output.weight", CV_DIM_EMBD, DIM_O, 0),
    /* dense blocks (first_k_dense_replace) and MoE blocks: checked in the transform */
    MAT(L "mlp.gate_proj.weight", "blk.#.ffn_gate.weight", CV_DIM_FF, CV_DIM_EMBD, 1),
    MAT(L "mlp.up_proj.weight", "blk.#.ffn_up.weight", CV_DIM_FF, CV_DIM_EMBD, 1),
    MAT(L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_DIM_EMBD, CV_DIM_FF, 1),
    /* routed experts, stacked (experts.h) down, gate, up as modify_tensors merges them */
    MAT(L "mlp.experts.*.down_proj.weight", "blk.#.ffn_down_exps.weight", CV_DIM_EMBD, DIM_MOE_FF,
        1),
    MAT(L "mlp.experts.*.gate_proj.weight", "blk.#.ffn_gate_exps.weight", DIM_MOE_FF, CV_DIM_EMBD,
        1),
    MAT(L "mlp.experts.*.up_proj.weight", "blk.#.ffn_up_exps.weight", DIM_MOE_FF, CV_DIM_EMBD, 1),
    MAT(L "mlp.gate.weight", "blk.#.ffn_gate_inp.weight", DIM_EXPERTS, CV_DIM_EMBD, 1),
    VEC(L "mlp.gate.e_score_correction_bias", "blk.#.exp_probs_b.bias", DIM_EXPERTS, 1),
    MAT(L "mlp.shared_experts.gate_proj.weight", "blk.#.ffn_gate_shexp.weight", DIM_SH_FF,
        CV_DIM_EMBD, 1),
    MAT(L "mlp.shared_experts.up_proj.weight", "blk.#.ffn_up_shexp.weight", DIM_SH_FF, CV_DIM_EMBD,
        1),
    MAT(L "mlp.shared_experts.down_proj.weight", "blk.#.ffn_down_shexp.weight", CV_DIM_EMBD,
        DIM_SH_FF, 1),
};
#undef VEC
#undef MAT
#undef A
#undef L

/* ------------------------------------------------------------------------ */
/* Config values                                                              */
/* ------------------------------------------------------------------------ */

/* hparams[KEY] as an unsigned integer: absent, null or another type is an
 * error naming the key (the converter fails on them). */
static gk_status need_u32(const json_t *cfg, const char *key, long long *out, char *err,
                          size_t errcap) {
    const char *const keys[] = {key, NULL};
    const cv_hparam row = {key, keys, CV_HP_U32, 1};
    int found;
    double v;
    gk_status st = cv_hparam_value(cfg, &row, &found, &v, err, errcap);
    *out = (long long)v;
    return st;
}

/* hparams.get(KEY): *found 0 when absent or null. */
static gk_status get_u32(const json_t *cfg, const char *key, int *found, long long *out, char *err,
                         size_t errcap) {
    const json_t *j = json_object_get(cfg, key);
    *found = j && !json_is_null(j);
    return *found ? need_u32(cfg, key, out, err, errcap) : GK_OK;
}

/* The MLA and expert dimensions. */
typedef struct {
    long long heads, nope, rope, v, kv_lora, q_lora, moe_ff, n_shared, n_experts, n_dense, n_layer;
    int has_q_lora, has_experts;
} ds_dims;

static gk_status read_dims(const json_t *cfg, ds_dims *d, char *err, size_t errcap) {
    static const char *const k_moe_ff[] = {"moe_intermediate_size", "intermediate_size", NULL};
    const cv_hparam moe_ff = {"expert_feed_forward_length", k_moe_ff, CV_HP_U32, 1};
    memset(d, 0, sizeof *d);
    int found;
    double v;
    gk_status st;
    if ((st = need_u32(cfg, "num_attention_heads", &d->heads, err, errcap)) != GK_OK ||
        (st = need_u32(cfg, "num_hidden_layers", &d->n_layer, err, errcap)) != GK_OK ||
        (st = need_u32(cfg, "qk_nope_head_dim", &d->nope, err, errcap)) != GK_OK ||
        (st = need_u32(cfg, "qk_rope_head_dim", &d->rope, err, errcap)) != GK_OK ||
        (st = need_u32(cfg, "v_head_dim", &d->v, err, errcap)) != GK_OK ||
        (st = get_u32(cfg, "q_lora_rank", &d->has_q_lora, &d->q_lora, err, errcap)) != GK_OK ||
        (st = get_u32(cfg, "kv_lora_rank", &found, &d->kv_lora, err, errcap)) != GK_OK ||
        (st = cv_hparam_value(cfg, &moe_ff, &found, &v, err, errcap)) != GK_OK)
        return st;
    d->moe_ff = (long long)v;
    if (!json_object_get(cfg, "kv_lora_rank"))
        d->kv_lora = 512; /* hparams.get("kv_lora_rank", 512) */
    if ((st = get_u32(cfg, "n_routed_experts", &d->has_experts, &d->n_experts, err, errcap)) !=
        GK_OK)
        return st;
    if (json_object_get(cfg, "n_shared_experts") &&
        (st = need_u32(cfg, "n_shared_experts", &d->n_shared, err, errcap)) != GK_OK)
        return st;
    int has_dense;
    if ((st = get_u32(cfg, "first_k_dense_replace", &has_dense, &d->n_dense, err, errcap)) != GK_OK)
        return st;
    if (!has_dense)
        d->n_dense = d->has_experts ? 0 : d->n_layer;
    if (d->heads <= 0 || d->kv_lora <= 0 || (d->has_q_lora && d->q_lora <= 0)) {
        snprintf(err, errcap,
                 "config.json: MLA ranks must be positive (num_attention_heads %lld, "
                 "kv_lora_rank %lld, q_lora_rank %lld)",
                 d->heads, d->kv_lora, d->q_lora);
        return GK_E_FORMAT;
    }
    long long used;
    if (d->has_experts &&
        (st = get_u32(cfg, "num_experts_per_tok", &found, &used, err, errcap)) == GK_OK && found &&
        (used < 1 || used > d->n_experts)) {
        snprintf(err, errcap,
                 "config.json: num_experts_per_tok = %lld with n_routed_experts = %lld (need 1 <= "
                 "used <= experts)",
                 used, d->n_experts);
        return GK_E_FORMAT;
    }
    return st;
}

static gk_status ds_family_dims(const json_t *cfg, long long *dims, char *err, size_t errcap) {
    ds_dims d;
    gk_status st = read_dims(cfg, &d, err, errcap);
    if (st != GK_OK)
        return st;
    dims[DIM_EXPERTS - CV_DIM_F0] = d.has_experts ? d.n_experts : -1;
    dims[DIM_QB - CV_DIM_F0] = d.heads * (d.nope + d.rope);
    dims[DIM_QLORA - CV_DIM_F0] = d.has_q_lora ? d.q_lora : -1;
    dims[DIM_KVLORA - CV_DIM_F0] = d.kv_lora;
    dims[DIM_KVA - CV_DIM_F0] = d.kv_lora + d.rope;
    dims[DIM_O - CV_DIM_F0] = d.heads * d.v;
    dims[DIM_MOE_FF - CV_DIM_F0] = d.moe_ff;
    dims[DIM_SH_FF - CV_DIM_F0] = d.moe_ff * d.n_shared;
    dims[DIM_HEADS - CV_DIM_F0] = d.heads;
    dims[DIM_NOPE - CV_DIM_F0] = d.nope;
    dims[DIM_V - CV_DIM_F0] = d.v;
    return GK_OK;
}

/* set_gguf_parameters' edits before the shared block. */
static gk_status ds_adjust(json_t *cfg) {
    if (json_object_set_new(cfg, "num_key_value_heads", json_integer(1)) != 0)
        return GK_E_NOMEM;
    if (!json_object_get(cfg, "rms_norm_eps") &&
        json_object_set_new(cfg, "rms_norm_eps", json_real(1e-6)) != 0)
        return GK_E_NOMEM;
    return GK_OK;
}

/* DeepseekV2Model.set_gguf_parameters after the shared block. */
static gk_status ds_hparams(fmt_gguf_writer *w, const char *arch, const json_t *cfg, char *err,
                            size_t errcap) {
    ds_dims d;
    gk_status st = read_dims(cfg, &d, err, errcap);
    long long vocab;
    if (st != GK_OK || (st = need_u32(cfg, "vocab_size", &vocab, err, errcap)) != GK_OK)
        return st;
    char key[128];
#define U32(suffix, val)                                                                           \
    do {                                                                                           \
        snprintf(key, sizeof key, "%s.%s", arch, suffix);                                          \
        if ((st = fmt_gguf_writer_add_u32(w, key, (uint32_t)(val))) != GK_OK)                      \
            return st;                                                                             \
    } while (0)
    U32("leading_dense_block_count", d.n_dense);
    U32("vocab_size", vocab);
    if (d.has_q_lora)
        U32("attention.q_lora_rank", d.q_lora);
    U32("attention.kv_lora_rank", d.kv_lora);
    U32("attention.key_length", d.kv_lora + d.rope);
    U32("attention.value_length", d.kv_lora);
    U32("attention.key_length_mla", d.nope + d.rope);
    U32("attention.value_length_mla", d.v);
    U32("expert_feed_forward_length", d.moe_ff);
    if (d.has_experts)
        U32("expert_count", d.n_experts);
    U32("expert_shared_count", d.n_shared);
    static const char *const k_scale[] = {"routed_scaling_factor", NULL};
    const cv_hparam scale = {"expert_weights_scale", k_scale, CV_HP_F32, 1};
    if (json_object_get(cfg, "routed_scaling_factor") &&
        !json_is_null(json_object_get(cfg, "routed_scaling_factor")) &&
        (st = cv_write_hparams(w, arch, cfg, &scale, 1, 0, err, errcap)) != GK_OK)
        return st;
    const json_t *norm = json_object_get(cfg, "norm_topk_prob");
    if (norm && !json_is_null(norm) && !json_is_false(norm) &&
        !(json_is_number(norm) && json_number_value(norm) == 0)) {
        snprintf(key, sizeof key, "%s.expert_weights_norm", arch);
        if ((st = fmt_gguf_writer_add_bool(w, key, 1)) != GK_OK)
            return st;
    }
    U32("rope.dimension_count", d.rope);
#undef U32
    json_t *rp = fmt_hf_rope_parameters(cfg);
    if (!rp)
        return GK_E_NOMEM;
    const json_t *ms = json_object_get(rp, "mscale_all_dim");
    if (ms && !json_is_null(ms)) {
        if (!json_is_number(ms)) {
            json_decref(rp);
            snprintf(err, errcap, "config.json: 'mscale_all_dim' must be a number");
            return GK_E_FORMAT;
        }
        snprintf(key, sizeof key, "%s.rope.scaling.yarn_log_multiplier", arch);
        st = fmt_gguf_writer_add_f32(w, key, (float)(0.1 * json_number_value(ms)));
    }
    json_decref(rp);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Source transform                                                           */
/* ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* The block number of a "model.layers.N." name, else -1. */
static long long block_of(const char *name) {
    static const char pre[] = "model.layers.";
    if (strncmp(name, pre, sizeof pre - 1) != 0)
        return -1;
    char *end;
    long long b = strtoll(name + sizeof pre - 1, &end, 10);
    return *end == '.' ? b : -1;
}

/* kv_b_proj [heads * (nope + v), kv_lora] as [heads, nope + v, kv_lora]:
 * k_b = [:, :nope, :] transposed to [heads, kv_lora, nope], v_b the rest. */
static gk_status split_kv_b(fmt_xset *x, const fmt_src_tensor *t, const ds_dims *d, char *err,
                            size_t errcap) {
    fmt_view v;
    if (fmt_view_of(&v, t) != GK_OK) {
        snprintf(err, errcap, "%s: tensor '%s' has dtype %s (need a float weight)", t->file,
                 t->name, t->dtype);
        return GK_E_FORMAT;
    }
    if (t->n_dims != 2 || t->shape[0] != d->heads * (d->nope + d->v) || t->shape[1] != d->kv_lora) {
        snprintf(err, errcap,
                 "%s: tensor '%s' (%s) has shape %lldx%lld; the MLA ranks in config.json need "
                 "%lldx%lld (num_attention_heads %lld * (qk_nope_head_dim %lld + v_head_dim "
                 "%lld), kv_lora_rank)",
                 t->file, t->name, t->dtype, (long long)t->shape[0],
                 (long long)(t->n_dims > 1 ? t->shape[1] : 0), d->heads * (d->nope + d->v),
                 d->kv_lora, d->heads, d->nope, d->v);
        return GK_E_FORMAT;
    }
    fmt_view k = v, val;
    fmt_view_split(&k, 0, d->heads);
    val = k;
    fmt_view_slice(&k, 1, 0, d->nope, 1);
    fmt_view_transpose(&k, 1, 2);
    fmt_view_slice(&val, 1, d->nope, d->v, 1);
    char name[600];
    snprintf(name, sizeof name, "%s[k_b]", t->name);
    gk_status st = fmt_xset_add_view(x, name, &k);
    snprintf(name, sizeof name, "%s[v_b]", t->name);
    if (st == GK_OK)
        st = fmt_xset_add_view(x, name, &val);
    return st;
}

/* The tensors a block needs by the config (the table has them optional). */
static gk_status check_block(const fmt_src *in, long long b, const ds_dims *d, char *err,
                             size_t errcap) {
    static const char *const q_lora[] = {"self_attn.q_a_proj.weight",
                                         "self_attn.q_a_layernorm.weight",
                                         "self_attn.q_b_proj.weight", NULL};
    static const char *const q_plain[] = {"self_attn.q_proj.weight", NULL};
    static const char *const dense[] = {"mlp.gate_proj.weight", "mlp.up_proj.weight",
                                        "mlp.down_proj.weight", NULL};
    static const char *const moe[] = {"mlp.gate.weight", NULL};
    static const char *const shexp[] = {"mlp.shared_experts.gate_proj.weight",
                                        "mlp.shared_experts.up_proj.weight",
                                        "mlp.shared_experts.down_proj.weight", NULL};
    const char *const *lists[] = {d->has_q_lora ? q_lora : q_plain, b < d->n_dense ? dense : moe,
                                  b >= d->n_dense && d->n_shared > 0 ? shexp : NULL};
    for (long long xid = 0; b >= d->n_dense && xid < d->n_experts; xid++)
        for (int k = 0; k < 3; k++) {
            static const char *const proj[] = {"down", "gate", "up"};
            char name[256];
            snprintf(name, sizeof name, "model.layers.%lld.mlp.experts.%lld.%s_proj.weight", b, xid,
                     proj[k]);
            if (!fmt_src_find(in, name)) {
                snprintf(err, errcap,
                         "missing tensor '%s' (config.json: n_routed_experts %lld, "
                         "first_k_dense_replace %lld)",
                         name, d->n_experts, d->n_dense);
                return GK_E_FORMAT;
            }
        }
    for (size_t l = 0; l < 3; l++)
        for (const char *const *n = lists[l]; n && *n; n++) {
            char name[256];
            snprintf(name, sizeof name, "model.layers.%lld.%s", b, *n);
            if (!fmt_src_find(in, name)) {
                snprintf(err, errcap,
                         "missing tensor '%s' (config.json: q_lora_rank %s, "
                         "first_k_dense_replace %lld, n_shared_experts %lld)",
                         name, d->has_q_lora ? "set" : "null", d->n_dense, d->n_shared);
                return GK_E_FORMAT;
            }
        }
    return GK_OK;
}

static gk_status ds_transform(const fmt_src *in, const json_t *cfg, long long n_layer, fmt_xset *x,
                              char *err, size_t errcap) {
    ds_dims d;
    gk_status st = read_dims(cfg, &d, err, errcap);
    const json_t *tie = json_object_get(cfg, "tie_word_embeddings");
    int tied = tie && !json_is_null(tie) && !json_is_false(tie) &&
               !(json_is_number(tie) && json_number_value(tie) == 0);
    for (long long b = 0; st == GK_OK && b < n_layer; b++)
        st = check_block(in, b, &d, err, errcap);
    for (uint64_t i = 0; st == GK_OK && i < fmt_src_n_tensors(in); i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(in, i);
        if (tied &&
            (!strcmp(t->name, "lm_head.weight") || !strcmp(t->name, "model.lm_head.weight")))
            continue; /* the tied output is token_embd */
        if (block_of(t->name) >= n_layer)
            continue; /* Multi-Token Prediction layers */
        if (ends_with(t->name, ".self_attn.kv_b_proj.weight"))
            st = split_kv_b(x, t, &d, err, errcap);
        else
            st = fmt_xset_keep(x, t);
    }
    if (st == GK_E_NOMEM)
        snprintf(err, errcap, "out of memory");
    return st;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const ds_classes[] = {"DeepseekV2ForCausalLM", "DeepseekV3ForCausalLM", NULL};

const cv_arch cv_arch_deepseek2 = {
    .name = "deepseek2",
    .hf_classes = ds_classes,
    .tensors = ds_tensors,
    .n_tensors = sizeof ds_tensors / sizeof ds_tensors[0],
    .vocab = CV_VOCAB_BPE,
    .extra_hparams = ds_hparams,
    .family_dims = ds_family_dims,
    .transform = ds_transform,
    .adjust_config = ds_adjust,
};
