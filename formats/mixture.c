/*
 * mixture.c -- per-tensor type choice of llama-quantize (see mixture.h).
 *
 * Facts from llama.cpp ec562eb: src/llama-quant.cpp (tensor_get_category,
 * tensor_allows_quantization, llama_tensor_get_type and its _impl,
 * tensor_type_fallback, tensor_requires_imatrix), tools/quantize/quantize.cpp
 * (QUANT_OPTIONS, parse_tensor_type), src/llama-model-loader.h
 * (weight_name_comparer). On the Feb 2025 goldens (c392e50) both versions
 * choose the same types; they differ for fused qkv, tied embeddings of
 * gemma3n-style per-layer embeddings, overrides and fallbacks, and for MoE:
 * DeepSeek's legacy attn_kv_b, which older versions counted among the
 * attn_v tensors but did not rule, now takes attn_v's rules (ec562eb is
 * followed), and MXFP4_MOE (added with gpt-oss, Aug 2025) makes every 3-D
 * weight MXFP4. MoE byte-identity: tests/cli/requant/moe-golden.sh.
 */
#include "mixture.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gguf.h"
#include "kernels/kernels.h"

/* ======================================================================== */
/* Presets                                                                    */
/* ======================================================================== */

/* Table order is llama-quantize's QUANT_OPTIONS order. The nominal bpw is
 * the bits per weight of the preset's base type (the K mixes spend a little
 * more on attn_v/ffn_down/output; --dry-run shows the real figure). */
static const fmt_mix_preset presets[] = {
    {"Q1_0", FMT_MIX_FTYPE_Q1_0, KERN_TYPE_Q1_0, 1.125, 0, 0, "1.125 bpw quantization", 0},
    {"Q4_0", FMT_MIX_FTYPE_Q4_0, KERN_TYPE_Q4_0, 4.5, 0, 0, "4.34G, +0.4685 ppl @ Llama-3-8B", 0},
    {"Q4_1", FMT_MIX_FTYPE_Q4_1, KERN_TYPE_Q4_1, 5.0, 0, 0, "4.78G, +0.4511 ppl @ Llama-3-8B", 0},
    {"Q5_0", FMT_MIX_FTYPE_Q5_0, KERN_TYPE_Q5_0, 5.5, 0, 0, "5.21G, +0.1316 ppl @ Llama-3-8B", 0},
    {"Q5_1", FMT_MIX_FTYPE_Q5_1, KERN_TYPE_Q5_1, 6.0, 0, 0, "5.65G, +0.1062 ppl @ Llama-3-8B", 0},
    {"IQ2_XXS", FMT_MIX_FTYPE_IQ2_XXS, KERN_TYPE_IQ2_XXS, 2.0625, 1, 0, "2.06 bpw quantization", 0},
    {"IQ2_XS", FMT_MIX_FTYPE_IQ2_XS, KERN_TYPE_IQ2_XS, 2.3125, 1, 0, "2.31 bpw quantization", 0},
    {"IQ2_S", FMT_MIX_FTYPE_IQ2_S, KERN_TYPE_IQ2_XS, 2.5, 1, 0, "2.5  bpw quantization", 0},
    {"IQ2_M", FMT_MIX_FTYPE_IQ2_M, KERN_TYPE_IQ2_S, 2.7, 0, 0, "2.7  bpw quantization", 0},
    {"IQ1_S", FMT_MIX_FTYPE_IQ1_S, KERN_TYPE_IQ1_S, 1.5625, 1, 0, "1.56 bpw quantization", 0},
    {"IQ1_M", FMT_MIX_FTYPE_IQ1_M, KERN_TYPE_IQ1_M, 1.75, 1, 0, "1.75 bpw quantization", 0},
    {"TQ1_0", FMT_MIX_FTYPE_TQ1_0, KERN_TYPE_TQ1_0, 1.6875, 0, 0, "1.69 bpw ternarization", 0},
    {"TQ2_0", FMT_MIX_FTYPE_TQ2_0, KERN_TYPE_TQ2_0, 2.0625, 0, 0, "2.06 bpw ternarization", 0},
    {"Q2_K", FMT_MIX_FTYPE_Q2_K, KERN_TYPE_Q2_K, 2.625, 0, 0, "2.96G, +3.5199 ppl @ Llama-3-8B", 0},
    {"Q2_K_S", FMT_MIX_FTYPE_Q2_K_S, KERN_TYPE_Q2_K, 2.625, 1, 0, "2.96G, +3.1836 ppl @ Llama-3-8B",
     0},
    {"IQ3_XXS", FMT_MIX_FTYPE_IQ3_XXS, KERN_TYPE_IQ3_XXS, 3.0625, 1, 0, "3.06 bpw quantization", 0},
    {"IQ3_S", FMT_MIX_FTYPE_IQ3_S, KERN_TYPE_IQ3_S, 3.4375, 0, 0, "3.44 bpw quantization", 0},
    {"IQ3_M", FMT_MIX_FTYPE_IQ3_M, KERN_TYPE_IQ3_S, 3.66, 0, 0, "3.66 bpw quantization mix", 0},
    {"Q3_K", FMT_MIX_FTYPE_Q3_K_M, KERN_TYPE_Q3_K, 3.4375, 0, 1, "alias for Q3_K_M", 0},
    {"IQ3_XS", FMT_MIX_FTYPE_IQ3_XS, KERN_TYPE_IQ3_S, 3.3, 0, 0, "3.3 bpw quantization", 0},
    {"Q3_K_S", FMT_MIX_FTYPE_Q3_K_S, KERN_TYPE_Q3_K, 3.4375, 0, 0,
     "3.41G, +1.6321 ppl @ Llama-3-8B", 0},
    {"Q3_K_M", FMT_MIX_FTYPE_Q3_K_M, KERN_TYPE_Q3_K, 3.4375, 0, 0,
     "3.74G, +0.6569 ppl @ Llama-3-8B", 0},
    {"Q3_K_L", FMT_MIX_FTYPE_Q3_K_L, KERN_TYPE_Q3_K, 3.4375, 0, 0,
     "4.03G, +0.5562 ppl @ Llama-3-8B", 0},
    {"IQ4_NL", FMT_MIX_FTYPE_IQ4_NL, KERN_TYPE_IQ4_NL, 4.5, 0, 0,
     "4.50 bpw non-linear quantization", 0},
    {"IQ4_XS", FMT_MIX_FTYPE_IQ4_XS, KERN_TYPE_IQ4_XS, 4.25, 0, 0,
     "4.25 bpw non-linear quantization", 0},
    {"Q4_K", FMT_MIX_FTYPE_Q4_K_M, KERN_TYPE_Q4_K, 4.5, 0, 1, "alias for Q4_K_M", 0},
    {"Q4_K_S", FMT_MIX_FTYPE_Q4_K_S, KERN_TYPE_Q4_K, 4.5, 0, 0, "4.37G, +0.2689 ppl @ Llama-3-8B",
     0},
    {"Q4_K_M", FMT_MIX_FTYPE_Q4_K_M, KERN_TYPE_Q4_K, 4.5, 0, 0, "4.58G, +0.1754 ppl @ Llama-3-8B",
     0},
    {"Q5_K", FMT_MIX_FTYPE_Q5_K_M, KERN_TYPE_Q5_K, 5.5, 0, 1, "alias for Q5_K_M", 0},
    {"Q5_K_S", FMT_MIX_FTYPE_Q5_K_S, KERN_TYPE_Q5_K, 5.5, 0, 0, "5.21G, +0.1049 ppl @ Llama-3-8B",
     0},
    {"Q5_K_M", FMT_MIX_FTYPE_Q5_K_M, KERN_TYPE_Q5_K, 5.5, 0, 0, "5.33G, +0.0569 ppl @ Llama-3-8B",
     0},
    {"Q6_K", FMT_MIX_FTYPE_Q6_K, KERN_TYPE_Q6_K, 6.5625, 0, 0, "6.14G, +0.0217 ppl @ Llama-3-8B",
     0},
    {"Q8_0", FMT_MIX_FTYPE_Q8_0, KERN_TYPE_Q8_0, 8.5, 0, 0, "7.96G, +0.0026 ppl @ Llama-3-8B", 0},
    {"MXFP4_MOE", FMT_MIX_FTYPE_MXFP4_MOE, KERN_TYPE_MXFP4, 4.25, 0, 0,
     "MXFP4 experts, Q8_0 elsewhere", 0},
    {"F16", FMT_MIX_FTYPE_F16, KERN_TYPE_F16, 16.0, 0, 0, "14.00G, +0.0020 ppl @ Mistral-7B", 0},
    {"BF16", FMT_MIX_FTYPE_BF16, KERN_TYPE_BF16, 16.0, 0, 0, "14.00G, -0.0050 ppl @ Mistral-7B", 0},
    {"F32", FMT_MIX_FTYPE_ALL_F32, KERN_TYPE_F32, 32.0, 0, 0, "26.00G              @ 7B", 0},
    /* an alias row so that fmt_mix_preset_by_ftype(0) stays F32 */
    {"COPY", FMT_MIX_FTYPE_ALL_F32, KERN_TYPE_F32, 0.0, 0, 1, "only copy tensors, no quantizing",
     1},
};

#define N_PRESETS (sizeof presets / sizeof presets[0])

size_t fmt_mix_preset_count(void) {
    return N_PRESETS;
}

const fmt_mix_preset *fmt_mix_preset_at(size_t i) {
    return i < N_PRESETS ? &presets[i] : NULL;
}

const fmt_mix_preset *fmt_mix_preset_by_ftype(int ftype) {
    for (size_t i = 0; i < N_PRESETS; i++)
        if (presets[i].ftype == ftype && !presets[i].is_alias)
            return &presets[i];
    return NULL;
}

const fmt_mix_preset *fmt_mix_preset_find(const char *name) {
    if (!name || !*name)
        return NULL;
    for (size_t i = 0; i < N_PRESETS; i++)
        if (strcasecmp(presets[i].name, name) == 0)
            return &presets[i];
    /* a plain decimal ftype id, as llama-quantize accepts */
    int id = 0;
    for (const char *p = name; *p; p++) {
        if (*p < '0' || *p > '9' || id > 1000)
            return NULL;
        id = id * 10 + (*p - '0');
    }
    return fmt_mix_preset_by_ftype(id);
}

/* ======================================================================== */
/* Helpers                                                                    */
/* ======================================================================== */

static int contains(const char *s, const char *sub) {
    return strstr(s, sub) != NULL;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

static int is_arch(const fmt_mix_model *m, const char *a) {
    return m->arch && strcmp(m->arch, a) == 0;
}

/* Layer number of "blk.N." names, as sscanf("blk.%d.") yields it; -1 else. */
static int64_t layer_of(const char *name) {
    if (strncmp(name, "blk.", 4) != 0)
        return -1;
    const char *p = name + 4;
    int neg = 0;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    if (*p < '0' || *p > '9')
        return -1;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v < 100000000)
            v = v * 10 + (*p - '0');
        p++;
    }
    /* sscanf assigns the number even when the "." does not follow */
    return neg ? -v : v;
}

static int64_t blck(int type) {
    const kern_type_traits *tt = kern_type_info(type);
    return tt ? tt->blck_size : 1;
}

/* llama_model's n_gqa(): heads per KV head of layer 0, 0 without KV heads. */
static int64_t n_gqa(const fmt_mix_model *m) {
    return m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 0;
}

/* LLM_TYPE_70B as llama_model::load_hparams decides it. */
static int is_70b(const fmt_mix_model *m) {
    if (m->n_layer != 80)
        return 0;
    if (is_arch(m, "llama"))
        return m->n_head != m->n_head_kv;
    return is_arch(m, "deci") || is_arch(m, "qwen2") || is_arch(m, "olmo");
}

static int use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* ======================================================================== */
/* Order                                                                      */
/* ======================================================================== */

static const fmt_mix_tensor *sort_base;

static int cmp_weights(const void *pa, const void *pb) {
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const char *na = sort_base[a].name, *nb = sort_base[b].name;
    int64_t la = layer_of(na), lb = layer_of(nb);
    if (la != lb)
        return la < lb ? -1 : 1;
    int c = strcmp(na, nb);
    if (c)
        return c;
    return a < b ? -1 : (a > b);
}

void fmt_mix_sort_order(const fmt_mix_tensor *t, size_t n, size_t *order) {
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* qsort with a file-static base: callers are single-threaded here */
    sort_base = t;
    qsort(order, n, sizeof *order, cmp_weights);
    sort_base = NULL;
}

/* ======================================================================== */
/* Which tensors are converted                                                */
/* ======================================================================== */

static uint32_t ggml_n_dims(const fmt_mix_tensor *t) {
    for (int i = 3; i >= 1; i--)
        if (t->ne[i] > 1)
            return (uint32_t)i + 1;
    return 1;
}

int fmt_mix_is_quantizable(const fmt_mix_model *m, const fmt_mix_opts *o, const fmt_mix_tensor *t) {
    static const char *const never[] = {
        "ffn_gate_inp.weight",
        "altup",
        "laurel",
        "per_layer_model_proj",
        "ssm_conv1d",
        "shortconv.conv.weight",
        "time_mix_first.weight",
        "time_mix_w0.weight",
        "time_mix_w1.weight",
        "time_mix_w2.weight",
        "time_mix_v0.weight",
        "time_mix_v1.weight",
        "time_mix_v2.weight",
        "time_mix_a0.weight",
        "time_mix_a1.weight",
        "time_mix_a2.weight",
        "time_mix_g1.weight",
        "time_mix_g2.weight",
        "time_mix_decay_w1.weight",
        "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight",
        "attn_rel_b.weight",
        /* multimodal projector tensors */
        ".position_embd",
        "sam.pos_embd",
        "sam.neck.",
        "sam.net_",
        ".rel_pos",
        ".patch_embd",
        ".patch_merger",
    };
    const char *name = t->name;
    (void)m;
    if (o->only_copy || ggml_n_dims(t) < 2)
        return 0;
    if (!ends_with(name, "weight") || contains(name, "_norm.weight"))
        return 0;
    if (o->leave_output && strcmp(name, "output.weight") == 0)
        return 0;
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (contains(name, never[i]))
            return 0;
    /* LLM_TENSOR_POS_EMBD / TOKEN_TYPES have these names for every arch */
    if (strcmp(name, "position_embd.weight") == 0 || strcmp(name, "token_types.weight") == 0)
        return 0;
    return 1;
}

/* ======================================================================== */
/* llama_tensor_get_type                                                      */
/* ======================================================================== */

/* tensor_get_category: broad classes by name, tested in this order, so a
 * fused attn_qkv or MLA attn_kv_b is ATTN_V-like and counts as such. */
typedef enum {
    CAT_TOKEN_EMBD,
    CAT_ATTN_Q,
    CAT_ATTN_V,
    CAT_ATTN_K,
    CAT_ATTN_QKV,
    CAT_ATTN_KV_B,
    CAT_ATTN_OUTPUT,
    CAT_FFN_UP,
    CAT_FFN_GATE,
    CAT_FFN_DOWN,
    CAT_OUTPUT,
    CAT_OTHER,
} category;

/* token_embd and gemma3n's per-layer embeddings are both embeddings */
static int is_token_embd(const char *name) {
    return strcmp(name, "token_embd.weight") == 0 ||
           strcmp(name, "per_layer_token_embd.weight") == 0;
}

static category category_of(const char *name) {
    static const struct {
        const char *sub;
        category cat;
    } by_sub[] = {
        {"attn_qkv.weight", CAT_ATTN_QKV},
        {"attn_kv_b.weight", CAT_ATTN_KV_B},
        {"attn_v.weight", CAT_ATTN_V},
        {"attn_k.weight", CAT_ATTN_K},
        {"attn_q.weight", CAT_ATTN_Q},
        {"attn_output.weight", CAT_ATTN_OUTPUT},
        {"ffn_up", CAT_FFN_UP},
        {"ffn_gate", CAT_FFN_GATE},
        {"ffn_down", CAT_FFN_DOWN},
    };
    if (strcmp(name, "output.weight") == 0)
        return CAT_OUTPUT;
    if (is_token_embd(name))
        return CAT_TOKEN_EMBD;
    for (size_t i = 0; i < sizeof by_sub / sizeof by_sub[0]; i++)
        if (contains(name, by_sub[i].sub))
            return by_sub[i].cat;
    return CAT_OTHER;
}

static int is_attn_v_like(category c) {
    return c == CAT_ATTN_V || c == CAT_ATTN_QKV || c == CAT_ATTN_KV_B;
}

typedef struct {
    int64_t n_attention_wv, i_attention_wv;
    int64_t n_ffn_down, n_ffn_gate, n_ffn_up;
    int64_t i_ffn_down, i_ffn_gate, i_ffn_up;
    int tied_embeddings; /* no output.weight: token_embd is the output too */
} state;

static int ft_in(int ft, const int *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (list[i] == ft)
            return 1;
    return 0;
}
#define FT_IN(ft, ...)                                                                             \
    ft_in((ft), (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

/* (layer, n_layer) of a ffn tensor: the running counter, or the layer
 * parsed from the name for MoE models (experts are not consecutive). */
static gk_status layer_info(const fmt_mix_model *m, int64_t counter, int64_t n, const char *name,
                            int64_t *layer, char *err, size_t cap) {
    *layer = counter;
    if (m->n_expert > 1) {
        if (strncmp(name, "blk.", 4) != 0 || (name[4] < '0' || name[4] > '9')) {
            gk_msgf(err, cap, "tensor '%s': cannot determine its layer", name);
            return GK_E_UNSUPPORTED;
        }
        int64_t l = layer_of(name);
        if (l < 0 || l >= n) {
            gk_msgf(err, cap, "tensor '%s': layer %lld outside [0, %lld)", name, (long long)l,
                    (long long)n);
            return GK_E_UNSUPPORTED;
        }
        *layer = l;
    }
    return GK_OK;
}

/* tensor_type_fallback; -1 when llama-quantize throws. */
static int fallback_type(int type, int64_t ne0) {
    int nt;
    switch (type) {
    case KERN_TYPE_IQ1_S:
    case KERN_TYPE_IQ1_M:
    case KERN_TYPE_IQ2_XXS:
    case KERN_TYPE_IQ2_XS:
    case KERN_TYPE_IQ2_S:
    case KERN_TYPE_IQ3_XXS:
    case KERN_TYPE_IQ3_S:
    case KERN_TYPE_IQ4_XS: nt = KERN_TYPE_IQ4_NL; break;
    case KERN_TYPE_Q2_K:
    case KERN_TYPE_Q3_K:
    case KERN_TYPE_TQ1_0:
    case KERN_TYPE_TQ2_0: nt = KERN_TYPE_Q4_0; break;
    case KERN_TYPE_Q4_K: nt = KERN_TYPE_Q5_0; break;
    case KERN_TYPE_Q5_K: nt = KERN_TYPE_Q5_1; break;
    case KERN_TYPE_Q6_K: nt = KERN_TYPE_Q8_0; break;
    default: return -1;
    }
    if (ne0 % blck(nt) != 0)
        nt = KERN_TYPE_F16;
    return nt;
}

/* The branch ladder of llama_tensor_get_type_impl (without the fallback). */
static gk_status get_type(state *qs, const fmt_mix_model *m, const fmt_mix_opts *o,
                          const fmt_mix_tensor *t, int *type, char *err, size_t cap) {
    const char *name = t->name;
    const category cat = category_of(name);
    const int ft = o->ftype;
    const int falcon = is_arch(m, "falcon");
    const int64_t n_expert = m->n_expert;
    int nt = *type;
    int64_t L = 0;
    gk_status st;

    if (cat == CAT_OUTPUT || (qs->tied_embeddings && cat == CAT_TOKEN_EMBD)) {
        if (o->output_type >= 0) {
            nt = o->output_type;
        } else if (ft == FMT_MIX_FTYPE_MXFP4_MOE || falcon || t->ne[0] % blck(nt) != 0) {
            nt = KERN_TYPE_Q8_0;
        } else if (FT_IN(ft, FMT_MIX_FTYPE_IQ2_XXS, FMT_MIX_FTYPE_IQ2_XS, FMT_MIX_FTYPE_IQ3_XXS,
                         FMT_MIX_FTYPE_IQ1_S, FMT_MIX_FTYPE_IQ2_S, FMT_MIX_FTYPE_IQ2_M,
                         FMT_MIX_FTYPE_IQ1_M)) {
            nt = KERN_TYPE_Q5_K;
        } else if (nt != KERN_TYPE_Q8_0) {
            nt = KERN_TYPE_Q6_K;
        }
    } else if (ft == FMT_MIX_FTYPE_MXFP4_MOE) {
        /* experts (3-D) get MXFP4, everything else Q8_0 */
        nt = t->ne[2] > 1 ? KERN_TYPE_MXFP4 : KERN_TYPE_Q8_0;
    } else if (cat == CAT_TOKEN_EMBD) {
        if (o->token_embd_type >= 0)
            nt = o->token_embd_type;
        else if (FT_IN(ft, FMT_MIX_FTYPE_IQ2_XXS, FMT_MIX_FTYPE_IQ2_XS, FMT_MIX_FTYPE_IQ1_S,
                       FMT_MIX_FTYPE_IQ1_M))
            nt = KERN_TYPE_Q2_K;
        else if (FT_IN(ft, FMT_MIX_FTYPE_IQ2_S, FMT_MIX_FTYPE_IQ2_M, FMT_MIX_FTYPE_IQ3_XXS))
            nt = KERN_TYPE_IQ3_S;
        else if (FT_IN(ft, FMT_MIX_FTYPE_TQ1_0, FMT_MIX_FTYPE_TQ2_0))
            nt = KERN_TYPE_Q4_K;
    } else if (FT_IN(ft, FMT_MIX_FTYPE_IQ2_XXS, FMT_MIX_FTYPE_IQ2_XS, FMT_MIX_FTYPE_IQ1_S,
                     FMT_MIX_FTYPE_IQ2_S, FMT_MIX_FTYPE_IQ2_M, FMT_MIX_FTYPE_IQ1_M)) {
        const int s_or_m = ft == FMT_MIX_FTYPE_IQ2_S || ft == FMT_MIX_FTYPE_IQ2_M;
        if (is_attn_v_like(cat)) {
            if (n_gqa(m) >= 4 || n_expert >= 4)
                nt = KERN_TYPE_Q4_K;
            else
                nt = s_or_m ? KERN_TYPE_IQ3_S : KERN_TYPE_Q2_K;
            ++qs->i_attention_wv;
        } else if (n_expert == 8 && cat == CAT_ATTN_K) {
            nt = KERN_TYPE_Q4_K;
        } else if (cat == CAT_FFN_DOWN) {
            if (qs->i_ffn_down < qs->n_ffn_down / 8)
                nt = s_or_m ? KERN_TYPE_IQ3_S : KERN_TYPE_Q2_K;
            ++qs->i_ffn_down;
        } else if (cat == CAT_ATTN_OUTPUT) {
            if (n_expert == 8)
                nt = KERN_TYPE_Q5_K;
            else if (ft == FMT_MIX_FTYPE_IQ1_S || ft == FMT_MIX_FTYPE_IQ1_M)
                nt = KERN_TYPE_IQ2_XXS;
            else if (s_or_m)
                nt = KERN_TYPE_IQ3_S;
        }
    } else if (is_attn_v_like(cat)) {
        /* ec562eb: fused attn_qkv takes attn_v's rules (its own Q4_K_M ->
         * Q5_K rule of c392e50 is no longer reached) */
        const int64_t g = n_gqa(m);
        if (ft == FMT_MIX_FTYPE_Q2_K)
            nt = g >= 4 ? KERN_TYPE_Q4_K : KERN_TYPE_Q3_K;
        else if (ft == FMT_MIX_FTYPE_Q2_K_S && g >= 4)
            nt = KERN_TYPE_Q4_K;
        else if (ft == FMT_MIX_FTYPE_IQ3_XXS)
            nt = g >= 4 ? KERN_TYPE_Q4_K : !o->has_imatrix ? KERN_TYPE_IQ3_S : KERN_TYPE_IQ3_XXS;
        else if ((ft == FMT_MIX_FTYPE_IQ3_XS || ft == FMT_MIX_FTYPE_IQ3_S) && g >= 4)
            nt = KERN_TYPE_Q4_K;
        else if (ft == FMT_MIX_FTYPE_IQ3_M)
            nt = KERN_TYPE_Q4_K;
        else if (ft == FMT_MIX_FTYPE_Q3_K_M)
            nt = qs->i_attention_wv < 2 ? KERN_TYPE_Q5_K : KERN_TYPE_Q4_K;
        else if (ft == FMT_MIX_FTYPE_Q3_K_L)
            nt = KERN_TYPE_Q5_K;
        else if ((ft == FMT_MIX_FTYPE_IQ4_NL || ft == FMT_MIX_FTYPE_IQ4_XS) && g >= 4)
            nt = KERN_TYPE_Q5_K;
        else if ((ft == FMT_MIX_FTYPE_Q4_K_M || ft == FMT_MIX_FTYPE_Q5_K_M) &&
                 use_more_bits(qs->i_attention_wv, qs->n_attention_wv))
            nt = KERN_TYPE_Q6_K;
        else if (ft == FMT_MIX_FTYPE_Q4_K_S && qs->i_attention_wv < 4)
            nt = KERN_TYPE_Q5_K;
        /* 70B: attn_v is 8x smaller than attn_q, so more bits are cheap */
        if (is_70b(m) && (nt == KERN_TYPE_Q3_K || nt == KERN_TYPE_Q4_K))
            nt = KERN_TYPE_Q5_K;
        if (n_expert == 8)
            nt = KERN_TYPE_Q8_0;
        ++qs->i_attention_wv;
    } else if (cat == CAT_ATTN_K) {
        if (n_expert == 8)
            nt = KERN_TYPE_Q8_0;
        else if (ft == FMT_MIX_FTYPE_IQ3_XS)
            nt = KERN_TYPE_IQ3_XXS;
        else if (ft == FMT_MIX_FTYPE_IQ3_XXS)
            nt = KERN_TYPE_IQ2_S;
    } else if (cat == CAT_ATTN_Q) {
        if (ft == FMT_MIX_FTYPE_IQ3_XS)
            nt = KERN_TYPE_IQ3_XXS;
        else if (ft == FMT_MIX_FTYPE_IQ3_XXS)
            nt = KERN_TYPE_IQ2_S;
    } else if (cat == CAT_FFN_DOWN) {
        if ((st = layer_info(m, qs->i_ffn_down, qs->n_ffn_down, name, &L, err, cap)) != GK_OK)
            return st;
        const int64_t N = qs->n_ffn_down;
        if (ft == FMT_MIX_FTYPE_Q2_K) {
            nt = KERN_TYPE_Q3_K;
        } else if (ft == FMT_MIX_FTYPE_Q2_K_S) {
            if (L < N / 8)
                nt = KERN_TYPE_Q4_K;
        } else if (ft == FMT_MIX_FTYPE_IQ3_XXS && !o->has_imatrix) {
            nt = L < N / 8 ? KERN_TYPE_Q4_K : KERN_TYPE_Q3_K;
        } else if (ft == FMT_MIX_FTYPE_Q3_K_M) {
            nt = L < N / 16                       ? KERN_TYPE_Q5_K
                 : !falcon || use_more_bits(L, N) ? KERN_TYPE_Q4_K
                                                  : KERN_TYPE_Q3_K;
        } else if (ft == FMT_MIX_FTYPE_IQ3_M &&
                   (L < N / 8 || (n_expert == 8 && use_more_bits(L, N)))) {
            nt = KERN_TYPE_Q4_K;
        } else if (ft == FMT_MIX_FTYPE_Q3_K_L) {
            nt = falcon ? KERN_TYPE_Q4_K : KERN_TYPE_Q5_K;
        } else if (ft == FMT_MIX_FTYPE_Q4_K_M) {
            if (falcon)
                nt = L < N / 16            ? KERN_TYPE_Q6_K
                     : use_more_bits(L, N) ? KERN_TYPE_Q5_K
                                           : KERN_TYPE_Q4_K;
            else if (use_more_bits(L, N))
                nt = KERN_TYPE_Q6_K;
        } else if (L < N / 8 && (ft == FMT_MIX_FTYPE_IQ4_NL || ft == FMT_MIX_FTYPE_IQ4_XS) &&
                   !o->has_imatrix) {
            nt = KERN_TYPE_Q5_K;
        } else if (ft == FMT_MIX_FTYPE_Q5_K_M && use_more_bits(L, N)) {
            nt = KERN_TYPE_Q6_K;
        } else if (ft == FMT_MIX_FTYPE_Q4_K_S && !falcon && L < N / 8) {
            nt = KERN_TYPE_Q5_K;
        } else if ((ft == FMT_MIX_FTYPE_Q4_0 || ft == FMT_MIX_FTYPE_Q5_0) && o->has_imatrix &&
                   L < N / 8) {
            nt = ft == FMT_MIX_FTYPE_Q4_0 ? KERN_TYPE_Q4_1 : KERN_TYPE_Q5_1;
        }
        ++qs->i_ffn_down;
    } else if (cat == CAT_ATTN_OUTPUT) {
        if (!falcon) {
            if (n_expert == 8) {
                if (FT_IN(ft, FMT_MIX_FTYPE_Q2_K, FMT_MIX_FTYPE_IQ3_XS, FMT_MIX_FTYPE_IQ3_XXS,
                          FMT_MIX_FTYPE_Q3_K_S, FMT_MIX_FTYPE_Q3_K_M, FMT_MIX_FTYPE_IQ4_NL,
                          FMT_MIX_FTYPE_Q4_K_S, FMT_MIX_FTYPE_Q4_K_M, FMT_MIX_FTYPE_IQ3_S,
                          FMT_MIX_FTYPE_IQ3_M, FMT_MIX_FTYPE_IQ4_XS))
                    nt = KERN_TYPE_Q5_K;
            } else {
                if (ft == FMT_MIX_FTYPE_Q2_K)
                    nt = KERN_TYPE_Q3_K;
                else if (ft == FMT_MIX_FTYPE_IQ3_XXS)
                    nt = KERN_TYPE_IQ3_S;
                else if (ft == FMT_MIX_FTYPE_Q3_K_M)
                    nt = KERN_TYPE_Q4_K;
                else if (ft == FMT_MIX_FTYPE_Q3_K_L)
                    nt = KERN_TYPE_Q5_K;
                else if (ft == FMT_MIX_FTYPE_IQ3_M)
                    nt = KERN_TYPE_Q4_K;
            }
        } else if (ft == FMT_MIX_FTYPE_Q3_K_L) {
            nt = KERN_TYPE_Q4_K;
        }
    } else if (cat == CAT_FFN_GATE || cat == CAT_FFN_UP) {
        const int gate = cat == CAT_FFN_GATE;
        int64_t *ctr = gate ? &qs->i_ffn_gate : &qs->i_ffn_up;
        const int64_t N = gate ? qs->n_ffn_gate : qs->n_ffn_up;
        if ((st = layer_info(m, *ctr, N, name, &L, err, cap)) != GK_OK)
            return st;
        if (ft == FMT_MIX_FTYPE_IQ3_XS && L >= N / 8 && L < 7 * N / 8)
            nt = KERN_TYPE_IQ3_XXS;
        ++*ctr;
    }
    *type = nt;
    return GK_OK;
}

/* ======================================================================== */
/* Model facts                                                                */
/* ======================================================================== */

void fmt_mix_model_read(const fmt_gguf *g, fmt_mix_model *m, char *arch, size_t cap) {
    memset(m, 0, sizeof *m);
    fmt_str a;
    arch[0] = 0;
    if (fmt_gguf_get_str(g, "general.architecture", &a) && a.len < cap) {
        memcpy(arch, a.ptr, a.len);
        arch[a.len] = 0;
    }
    m->arch = arch;
    char key[256];
    uint64_t u;
    snprintf(key, sizeof key, "%s.block_count", arch);
    if (fmt_gguf_get_u64(g, key, &u) && u < INT32_MAX)
        m->n_layer = (int64_t)u;
    snprintf(key, sizeof key, "%s.expert_count", arch);
    if (fmt_gguf_get_u64(g, key, &u) && u < INT32_MAX)
        m->n_expert = (int64_t)u;
    /* head counts may be per-layer arrays: layer 0 decides n_gqa */
    for (int which = 0; which < 2; which++) {
        snprintf(key, sizeof key, which ? "%s.attention.head_count_kv" : "%s.attention.head_count",
                 arch);
        const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, key);
        int64_t v0 = which ? m->n_head : 0;
        if (kv && kv->value.type == FMT_GGUF_ARRAY) {
            fmt_gguf_iter it;
            fmt_gguf_value e;
            fmt_gguf_iter_init(&it, &kv->value);
            if (fmt_gguf_iter_next(&it, &e))
                v0 = e.type == FMT_GGUF_I8 || e.type == FMT_GGUF_I16 || e.type == FMT_GGUF_I32 ||
                             e.type == FMT_GGUF_I64
                         ? e.v.i
                         : (int64_t)e.v.u;
        } else if (kv) {
            int64_t x;
            if (fmt_gguf_get_i64(g, key, &x))
                v0 = x;
        }
        if (which)
            m->n_head_kv = v0;
        else
            m->n_head = v0;
    }
}

/* ======================================================================== */
/* Plan                                                                       */
/* ======================================================================== */

static int row_fits(int type, int64_t ne0) {
    return ne0 % blck(type) == 0;
}

/* tensor_requires_imatrix: llama-quantize fails without an imatrix entry. */
static int requires_imatrix(const char *name, int type, int ftype) {
    if (is_token_embd(name) || strcmp(name, "output.weight") == 0)
        return 0;
    switch (type) {
    case KERN_TYPE_IQ3_XXS:
    case KERN_TYPE_IQ2_XXS:
    case KERN_TYPE_IQ2_XS:
    case KERN_TYPE_IQ2_S:
    case KERN_TYPE_IQ1_M:
    case KERN_TYPE_IQ1_S: return 1;
    case KERN_TYPE_Q2_K: return ftype == FMT_MIX_FTYPE_Q2_K_S;
    default: return 0;
    }
}

/* llama_tensor_get_type (the outer wrapper) for one quantizable tensor:
 * --token-embedding-type and --output-tensor-type win outright; a
 * --tensor-type match replaces the mixture rules (their counters do not
 * advance); both go through the row-length fallback. */
static gk_status choose(state *qs, const fmt_mix_model *m, const fmt_mix_opts *o,
                        const fmt_mix_preset *p, const fmt_mix_tensor *x, fmt_mix_choice *c,
                        char *err, size_t errcap) {
    const category cat = category_of(x->name);
    int nt = p->default_type;
    const kern_type_traits *dt = kern_type_info(nt);
    gk_status st;
    if (o->token_embd_type >= 0 && cat == CAT_TOKEN_EMBD) {
        nt = o->token_embd_type;
    } else if (o->output_type >= 0 && cat == CAT_OUTPUT) {
        nt = o->output_type;
    } else if (!o->pure && dt && dt->is_quantized) {
        int rt = fmt_mix_rules_match(o->rules, x->name);
        if (rt >= 0)
            nt = rt;
        else if ((st = get_type(qs, m, o, x, &nt, err, errcap)) != GK_OK)
            return st;
        if (!row_fits(nt, x->ne[0])) {
            int fb = fallback_type(nt, x->ne[0]);
            if (fb < 0) {
                gk_msgf(err, errcap,
                        "tensor '%s': row length %lld is not a multiple of %s's block size %lld "
                        "and %s has no fallback type",
                        x->name, (long long)x->ne[0], kern_type_label(nt), (long long)blck(nt),
                        kern_type_label(nt));
                return GK_E_UNSUPPORTED;
            }
            nt = fb;
            c->fallback = 1;
        }
    }
    if (!row_fits(nt, x->ne[0])) {
        gk_msgf(err, errcap,
                "tensor '%s': row length %lld is not a multiple of %s's block size %lld", x->name,
                (long long)x->ne[0], kern_type_label(nt), (long long)blck(nt));
        return GK_E_USAGE;
    }
    c->new_type = nt;
    c->convert = nt != x->type;
    c->needs_imatrix = c->convert && requires_imatrix(x->name, nt, o->ftype);
    return GK_OK;
}

gk_status fmt_mix_plan(const fmt_mix_model *m, const fmt_mix_opts *o, const fmt_mix_tensor *t,
                       size_t n, fmt_mix_choice *out, char *err, size_t errcap) {
    const fmt_mix_preset *p = fmt_mix_preset_by_ftype(o->ftype);
    if (!p) {
        gk_msgf(err, errcap, "unknown file type %d", o->ftype);
        return GK_E_USAGE;
    }
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        gk_msgf(err, errcap, "out of memory");
        return GK_E_NOMEM;
    }
    if (o->order)
        memcpy(order, o->order, n * sizeof *order);
    else
        fmt_mix_sort_order(t, n, order);

    /* init_quantize_state_counters (ec562eb no longer checks the count of
     * attention tensors against the layers) */
    state qs;
    memset(&qs, 0, sizeof qs);
    qs.tied_embeddings = 1;
    for (size_t i = 0; i < n; i++) {
        category cat = category_of(t[i].name);
        if (is_attn_v_like(cat))
            ++qs.n_attention_wv;
        else if (cat == CAT_OUTPUT)
            qs.tied_embeddings = 0;
    }
    qs.n_ffn_down = qs.n_ffn_gate = qs.n_ffn_up = m->n_layer;

    gk_status st = GK_OK;
    for (size_t k = 0; k < n && st == GK_OK; k++) {
        const fmt_mix_tensor *x = &t[order[k]];
        fmt_mix_choice *c = &out[order[k]];
        memset(c, 0, sizeof *c);
        c->new_type = x->type;
        if (fmt_mix_is_quantizable(m, o, x))
            st = choose(&qs, m, o, p, x, c, err, errcap);
    }
    free(order);
    return st;
}

/* ======================================================================== */
/* --tensor-type rules                                                        */
/* ======================================================================== */

struct fmt_mix_rules {
    size_t n, cap;
    regex_t *re;
    int *type;
};

fmt_mix_rules *fmt_mix_rules_create(void) {
    return calloc(1, sizeof(fmt_mix_rules));
}

gk_status fmt_mix_rules_add(fmt_mix_rules *r, const char *spec, char *err, size_t errcap) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
        gk_msgf(err, errcap, "--tensor-type '%s': expected REGEX=TYPE", spec);
        return GK_E_USAGE;
    }
    int type = kern_type_from_name(eq + 1);
    if (!kern_type_info(type)) {
        gk_msgf(err, errcap, "--tensor-type '%s': unknown type '%s'", spec, eq + 1);
        return GK_E_USAGE;
    }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 8;
        regex_t *nre = realloc(r->re, nc * sizeof *nre);
        if (!nre)
            return GK_E_NOMEM;
        r->re = nre;
        int *nty = realloc(r->type, nc * sizeof *nty);
        if (!nty)
            return GK_E_NOMEM;
        r->type = nty;
        r->cap = nc;
    }
    size_t len = (size_t)(eq - spec);
    char *pat = malloc(len + 1);
    if (!pat)
        return GK_E_NOMEM;
    /* llama-quantize lower-cases the pattern (tensor names are lower case) */
    for (size_t i = 0; i < len; i++)
        pat[i] = (char)tolower((unsigned char)spec[i]);
    pat[len] = 0;
    int rc = regcomp(&r->re[r->n], pat, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char buf[128];
        regerror(rc, &r->re[r->n], buf, sizeof buf);
        gk_msgf(err, errcap, "--tensor-type '%s': bad regex: %s", spec, buf);
        free(pat);
        return GK_E_USAGE;
    }
    free(pat);
    r->type[r->n++] = type;
    return GK_OK;
}

int fmt_mix_rules_match(const fmt_mix_rules *r, const char *name) {
    if (!r)
        return -1;
    for (size_t i = 0; i < r->n; i++)
        if (regexec(&r->re[i], name, 0, NULL, 0) == 0)
            return r->type[i];
    return -1;
}

void fmt_mix_rules_free(fmt_mix_rules *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        regfree(&r->re[i]);
    free(r->re);
    free(r->type);
    free(r);
}
