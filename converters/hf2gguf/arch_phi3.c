/*
 * arch_phi3.c -- phi3 (Phi3ForCausalLM: Phi-3, Phi-3.5, Phi-4, Phi-4-mini).
 * The fused qkv_proj and gate_up_proj stay fused (attn_qkv, ffn_up), nothing
 * is permuted; the family writes its own hparam list in its own order,
 * LongRoPE factor tensors with an attention factor key placed right after
 * general.architecture, and its own SentencePiece vocabulary. Facts from
 * convert_hf_to_gguf.py ec562eb class Phi3MiniModel.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "converters/hf2gguf/arch.h"

#include "formats/hfdir.h"

/* ------------------------------------------------------------------------ */
/* Tensor table                                                               */
/* ------------------------------------------------------------------------ */

#define L "model.layers.#."
static const cv_tensor_rule phi3_tensors[] = {
    {"model.embed_tokens.weight", "token_embd.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 0},
    {"model.norm.weight", "output_norm.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_NONE}, 0},
    {"lm_head.weight", "output.weight", CV_XF_NONE, {CV_DIM_VOCAB, CV_DIM_EMBD}, 1},
    {L "input_layernorm.weight",
     "blk.#.attn_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
    {L "self_attn.qkv_proj.weight",
     "blk.#.attn_qkv.weight",
     CV_XF_NONE,
     {CV_DIM_QKV, CV_DIM_EMBD},
     0},
    {L "self_attn.o_proj.weight",
     "blk.#.attn_output.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_QDIM},
     0},
    {L "post_attention_layernorm.weight",
     "blk.#.ffn_norm.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_NONE},
     0},
    {L "mlp.gate_up_proj.weight", "blk.#.ffn_up.weight", CV_XF_NONE, {CV_DIM_FF2, CV_DIM_EMBD}, 0},
    {L "mlp.down_proj.weight", "blk.#.ffn_down.weight", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_FF}, 0},
};
#undef L

/* ------------------------------------------------------------------------ */
/* config.json lookups (find_hparam: the first key present decides)           */
/* ------------------------------------------------------------------------ */

static gk_status missing(const char *const *keys, char *err, size_t errcap) {
    size_t o = (size_t)snprintf(err, errcap, "config.json: could not find any of:");
    for (; *keys && o < errcap; keys++)
        o += (size_t)snprintf(err + o, errcap - o, " '%s'", *keys);
    return GK_E_FORMAT;
}

/* An unsigned 32-bit value (struct 'I' takes integers only). */
static gk_status get_u32(const json_t *cfg, const char *const *keys, long long *out, char *err,
                         size_t errcap) {
    for (const char *const *k = keys; *k; k++) {
        const json_t *v = json_object_get(cfg, *k);
        if (!v)
            continue;
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > (json_int_t)UINT32_MAX) {
            snprintf(err, errcap, "config.json: '%s' must be an integer in 0..4294967295", *k);
            return GK_E_FORMAT;
        }
        *out = json_integer_value(v);
        return GK_OK;
    }
    return missing(keys, err, errcap);
}

static gk_status get_num(const json_t *cfg, const char *const *keys, double *out, char *err,
                         size_t errcap) {
    for (const char *const *k = keys; *k; k++) {
        const json_t *v = json_object_get(cfg, *k);
        if (!v)
            continue;
        if (!json_is_number(v)) {
            snprintf(err, errcap, "config.json: '%s' must be a number", *k);
            return GK_E_FORMAT;
        }
        *out = json_number_value(v);
        return GK_OK;
    }
    return missing(keys, err, errcap);
}

static const char *const k_embd[] = {"hidden_size", "n_embd", NULL};
static const char *const k_head[] = {"num_attention_heads", "n_head", NULL};
static const char *const k_max_pos[] = {"n_positions", "max_position_embeddings", NULL};
static const char *const k_orig[] = {"original_max_position_embeddings", NULL};

/* int(partial_rotary_factor * n_embd) // n_head */
static gk_status rope_dims(const json_t *cfg, long long *dims, char *err, size_t errcap) {
    static const char *const k_rot[] = {"partial_rotary_factor", NULL};
    long long embd, head;
    double rot = 1.0;
    gk_status st;
    if ((st = get_u32(cfg, k_embd, &embd, err, errcap)) != GK_OK ||
        (st = get_u32(cfg, k_head, &head, err, errcap)) != GK_OK)
        return st;
    if (json_object_get(cfg, k_rot[0]) && (st = get_num(cfg, k_rot, &rot, err, errcap)) != GK_OK)
        return st;
    double prod = trunc(rot * (double)embd);
    if (head == 0 || !(prod >= 0 && prod <= (double)UINT32_MAX)) {
        snprintf(err, errcap,
                 "config.json: 'partial_rotary_factor' * 'hidden_size' / 'num_attention_heads' "
                 "is not a rope dimension count");
        return GK_E_FORMAT;
    }
    *dims = (long long)prod / head;
    return GK_OK;
}

/* rope_theta as TextModel finds it: rope_parameters (or rope_scaling), its
 * full_attention part when present, else the top-level theta keys. */
static gk_status rope_theta(const json_t *cfg, double *theta, char *err, size_t errcap) {
    static const char *const k_theta[] = {"global_rope_theta", "rope_global_theta",
                                          "rope_theta_global", "rope_theta",
                                          "rotary_emb_base",   NULL};
    static const char *const k_inner[] = {"rope_theta", NULL};
    const json_t *rp = json_object_get(cfg, "rope_parameters"); /* present as null: {} */
    if (!rp)
        rp = json_object_get(cfg, "rope_scaling");
    const json_t *full = json_object_get(rp, "full_attention");
    if (full)
        return get_num(full, k_inner, theta, err, errcap);
    if (json_object_get(rp, "rope_theta") || json_object_get(rp, "sliding_attention"))
        return get_num(rp, k_inner, theta, err, errcap);
    for (const char *const *k = k_theta; *k; k++) {
        const json_t *v = json_object_get(cfg, *k);
        if (v && json_is_null(v))
            break; /* the first key present decides, null included */
        if (v) {
            const char *const one[] = {*k, NULL};
            return get_num(cfg, one, theta, err, errcap);
        }
    }
    return missing(k_inner, err, errcap);
}

/* ------------------------------------------------------------------------ */
/* LongRoPE                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    const json_t *scaling; /* rope_scaling, NULL when absent or null */
    double attn_factor;
    long long rope_dims;
} phi3_rope;

/* What generate_extra_tensors checks before it writes anything: the
 * lengths, then the scaling type and its attention factor. */
static gk_status rope_params(const json_t *cfg, phi3_rope *r, char *err, size_t errcap) {
    long long max_pos, orig;
    gk_status st;
    memset(r, 0, sizeof *r);
    if ((st = get_u32(cfg, k_max_pos, &max_pos, err, errcap)) != GK_OK ||
        (st = get_u32(cfg, k_orig, &orig, err, errcap)) != GK_OK ||
        (st = rope_dims(cfg, &r->rope_dims, err, errcap)) != GK_OK)
        return st;
    const json_t *rs = json_object_get(cfg, "rope_scaling");
    if (!rs || json_is_null(rs))
        return GK_OK;
    if (!json_is_object(rs)) {
        snprintf(err, errcap, "config.json: 'rope_scaling' must be an object");
        return GK_E_FORMAT;
    }
    const json_t *tv = json_object_get(rs, "rope_type");
    const char *tkey = tv ? "rope_type" : "type";
    if (!tv)
        tv = json_object_get(rs, "type");
    const char *type = json_string_value(tv);
    if (!type || !*type) {
        snprintf(err, errcap, "config.json: missing the required key rope_scaling.%s", tkey);
        return GK_E_FORMAT;
    }
    if (orig == 0) {
        snprintf(err, errcap, "config.json: 'original_max_position_embeddings' is 0");
        return GK_E_FORMAT;
    }
    double scale = (double)max_pos / (double)orig;
    if (!strcasecmp(type, "su") || !strcasecmp(type, "longrope")) {
        if (scale > 1.0 && orig == 1) {
            snprintf(err, errcap, "config.json: 'original_max_position_embeddings' is 1");
            return GK_E_FORMAT;
        }
        r->attn_factor = scale > 1.0 ? sqrt(1 + log(scale) / log((double)orig)) : 1.0;
    } else if (!strcasecmp(type, "yarn")) {
        r->attn_factor = scale > 1.0 ? 0.1 * log(scale) + 1.0 : 1.0;
    } else {
        snprintf(err, errcap,
                 "config.json: rope_scaling.%s '%s' is not supported (su, longrope or yarn)", tkey,
                 type);
        return GK_E_UNSUPPORTED;
    }
    r->scaling = rs;
    return GK_OK;
}

static gk_status phi3_head_keys(fmt_gguf_writer *w, const char *arch, const json_t *config,
                                char *err, size_t errcap) {
    phi3_rope r;
    gk_status st = rope_params(config, &r, err, errcap);
    if (st != GK_OK || !r.scaling)
        return st;
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.attn_factor", arch);
    return fmt_gguf_writer_add_f32(w, key, (float)r.attn_factor);
}

/* One factor list as float32 values. */
static gk_status factor_tensor(const json_t *list, const char *key, const char *name,
                               cv_gen_tensor *out, char *err, size_t errcap) {
    size_t n = json_array_size(list);
    float *f = malloc((n ? n : 1) * sizeof *f);
    if (!f)
        return GK_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(list, i);
        if (!json_is_number(v)) {
            free(f);
            snprintf(err, errcap, "config.json: rope_scaling.%s[%zu] is not a number", key, i);
            return GK_E_FORMAT;
        }
        f[i] = (float)json_number_value(v);
    }
    snprintf(out->name, sizeof out->name, "%s", name);
    out->data = f;
    out->n = (int64_t)n;
    return GK_OK;
}

/* rope_factors_long.weight, then rope_factors_short.weight (F32). */
static gk_status phi3_generate(const json_t *config, cv_gen_tensor *out, size_t cap, size_t *n,
                               char *err, size_t errcap) {
    phi3_rope r;
    *n = 0;
    gk_status st = rope_params(config, &r, err, errcap);
    if (st != GK_OK || !r.scaling)
        return st;
    const json_t *lf = json_object_get(r.scaling, "long_factor");
    const json_t *sf = json_object_get(r.scaling, "short_factor");
    if (!lf || json_is_null(lf) || !sf || json_is_null(sf) || cap < 2) {
        snprintf(err, errcap,
                 "config.json: missing the required key rope_scaling.long_factor or "
                 "rope_scaling.short_factor");
        return GK_E_FORMAT;
    }
    if (!json_is_array(lf) || !json_is_array(sf) || json_array_size(lf) != json_array_size(sf) ||
        2 * (long long)json_array_size(lf) != r.rope_dims) {
        snprintf(err, errcap,
                 "config.json: the length of rope_scaling.long_factor and short_factor must be "
                 "%g (rope dimension count / 2); long_factor has %zu, short_factor has %zu",
                 (double)r.rope_dims / 2, json_array_size(lf), json_array_size(sf));
        return GK_E_FORMAT;
    }
    if ((st = factor_tensor(lf, "long_factor", "rope_factors_long.weight", &out[0], err, errcap)) !=
        GK_OK)
        return st;
    if ((st = factor_tensor(sf, "short_factor", "rope_factors_short.weight", &out[1], err,
                            errcap)) != GK_OK) {
        free(out[0].data);
        return st;
    }
    *n = 2;
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Hparams: Phi3MiniModel.set_gguf_parameters                                 */
/* ------------------------------------------------------------------------ */

static gk_status add_u32(fmt_gguf_writer *w, const char *arch, const char *suffix, long long v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return fmt_gguf_writer_add_u32(w, key, (uint32_t)v);
}

static gk_status add_f32(fmt_gguf_writer *w, const char *arch, const char *suffix, double v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return fmt_gguf_writer_add_f32(w, key, (float)v);
}

static gk_status phi3_hparams(fmt_gguf_writer *w, const char *arch, const json_t *config,
                              long long n_layer, uint32_t file_type, char *err, size_t errcap) {
    static const char *const k_ff[] = {"intermediate_size", NULL};
    static const char *const k_kv[] = {"num_key_value_heads", "n_head_kv", NULL};
    static const char *const k_rms[] = {"rms_norm_eps", NULL};
    static const char *const k_swa[] = {"sliding_window", NULL};
    static const cv_hparam dims_rows[] = {
        {"context_length", k_max_pos, CV_HP_U32, 1},
        {"rope.scaling.original_context_length", k_orig, CV_HP_U32, 1},
        {"embedding_length", k_embd, CV_HP_U32, 1},
        {"feed_forward_length", k_ff, CV_HP_U32, 1},
        {"block_count", NULL, CV_HP_BLOCK_COUNT, 1},
        {"attention.head_count", k_head, CV_HP_U32, 1},
        {"attention.head_count_kv", k_kv, CV_HP_U32, 1}};
    long long dims, swa = 0;
    double rms, theta;
    gk_status st;
    if ((st = get_num(config, k_rms, &rms, err, errcap)) != GK_OK ||
        (st = rope_dims(config, &dims, err, errcap)) != GK_OK ||
        (st = rope_theta(config, &theta, err, errcap)) != GK_OK)
        return st;
    /* null or absent: 0, which tells Phi-4 from the other phi3 models */
    const json_t *swa_v = json_object_get(config, k_swa[0]);
    if (swa_v && !json_is_null(swa_v) && (st = get_u32(config, k_swa, &swa, err, errcap)) != GK_OK)
        return st;
    if ((st = cv_write_hparams(w, arch, config, dims_rows, 7, n_layer, err, errcap)) != GK_OK ||
        (st = add_f32(w, arch, "attention.layer_norm_rms_epsilon", rms)) != GK_OK ||
        (st = add_u32(w, arch, "rope.dimension_count", dims)) != GK_OK ||
        (st = add_f32(w, arch, "rope.freq_base", theta)) != GK_OK ||
        (st = fmt_gguf_writer_add_u32(w, "general.file_type", file_type)) != GK_OK)
        return st;
    return add_u32(w, arch, "attention.sliding_window", swa);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const phi3_classes[] = {"Phi3ForCausalLM", NULL};

const cv_arch cv_arch_phi3 = {
    .name = "phi3",
    .hf_classes = phi3_classes,
    .tensors = phi3_tensors,
    .n_tensors = sizeof phi3_tensors / sizeof phi3_tensors[0],
    .vocab = CV_VOCAB_PHI3,
    .extra_hparams = NULL,
    .generate = phi3_generate,
    .own_hparams = phi3_hparams,
    .head_keys = phi3_head_keys,
};
