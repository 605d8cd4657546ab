/*
 * decoder.c -- gguf2onnx's decoder graph: the family table, the shared
 * pieces (hparams, rope caches, masks, attention, MLP, embedding and
 * lm_head), the llama block for llama/mistral/qwen2/qwen3, and
 * genai_config.json. Other families bring their own block and keys in a
 * family_*.c (decoder_internal.h); a GGUF with experts gets moe.c's
 * feed-forward in place of the MLP. Graph facts (I/O names and shapes as
 * onnxruntime-genai uses them, op semantics on ONNX Runtime 1.30) are in
 * ../shared/docs/onnx-notes.md sections 1 and 4.
 *
 * Standard graph (opset 23): Gather -> per layer RMSNormalization,
 * q/k/v linear (+ qwen2 biases, + qwen3 per-head q/k RMSNormalization),
 * RotaryEmbedding (interleaved pairs for llama, whose GGUF Q/K rows are
 * permuted by the converter; rotate-halves for qwen), Attention with
 * is_causal, a padding mask and past/present (GQA by kv_num_heads), o
 * linear, residual Add, RMSNormalization, SwiGLU MLP, residual Add; final
 * RMSNormalization and the lm_head (token_embd when output.weight is absent).
 * Family hparams add an embedding scale, a query scale, attention and
 * final-logit soft-capping (Attention's softcap; Mul, Tanh, Mul on the
 * logits) and sliding-window blocks (a second bool mask from position_ids,
 * and their own rope caches when their base differs).
 *
 * Genai graph (com.microsoft ops): SimplifiedLayerNormalization /
 * SkipSimplifiedLayerNormalization, GroupQueryAttention with the rotary
 * fused (do_rotary) and seqlens_k/total_sequence_length computed from
 * attention_mask, no position_ids input; the q/k/v weights packed into one
 * (rows concatenated) when they share a type, else their outputs
 * concatenated, into the packed QKV input that GQA takes. GQA's
 * local_window_size counts the query's own key, as llama.cpp's n_swa does
 * (measured against node-llama-cpp: n_swa - 1 drops one key too many).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "converters/gguf2onnx/decoder_internal.h"

/* ------------------------------------------------------------------------ */
/* Hparams and tensor set                                                     */
/* ------------------------------------------------------------------------ */

/* The llama-block families here; the others in their family_*.c. */
static const ox_family family_llama = {"llama", &cv_arch_llama, 0, NULL, NULL, 0};
static const ox_family family_mistral = {"mistral", &cv_arch_llama, 0, NULL, NULL, 0};
static const ox_family family_qwen2 = {"qwen2", &cv_arch_qwen2, 1, NULL, NULL, 0};
static const ox_family family_qwen3 = {"qwen3", &cv_arch_qwen3, 1, NULL, NULL, 0};
/* qwen3's block with moe.c's experts (the dense FFN rules are skipped) */
static const ox_family family_qwen3moe = {"qwen3moe", &cv_arch_qwen3, 1, NULL, NULL, 0};

static const ox_family *const families[] = {
    &family_llama,      &family_mistral,    &family_qwen2,    &family_qwen3,
    &ox_family_gemma2,  &ox_family_gemma3,  &ox_family_phi3,  &ox_family_olmo2,
    &ox_family_granite, &ox_family_smollm3, &family_qwen3moe, &ox_family_gptoss};
#define N_FAMILIES (sizeof families / sizeof families[0])

static const ox_family *find_family(const char *arch) {
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (strcmp(arch, families[i]->name) == 0)
            return families[i];
    return NULL;
}

/* "llama, mistral, ..." for the unsupported-architecture message. */
static void supported_list(char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < N_FAMILIES && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", families[i]->name);
}

static int get_int(fmt_gguf *g, const char *arch, const char *key, int64_t *out) {
    char k[128];
    uint64_t v;
    snprintf(k, sizeof k, "%s.%s", arch, key);
    if (!fmt_gguf_get_u64(g, k, &v) || v > (uint64_t)1 << 40)
        return 0;
    *out = (int64_t)v;
    return 1;
}

int64_t ox_tensor_ix(const fmt_src *src, const char *pattern, int64_t layer) {
    char name[128];
    const char *hash = strchr(pattern, '#');
    if (hash)
        snprintf(name, sizeof name, "%.*s%lld%s", (int)(hash - pattern), pattern, (long long)layer,
                 hash + 1);
    else
        snprintf(name, sizeof name, "%s", pattern);
    return fmt_src_index(src, name);
}

static int64_t dim_of(const ox_hparams *hp, cv_dim d) {
    switch (d) {
    case CV_DIM_VOCAB: return hp->n_vocab;
    case CV_DIM_EMBD: return hp->n_embd;
    case CV_DIM_FF: return hp->n_ff;
    case CV_DIM_QDIM: return hp->n_head * hp->head_dim;
    case CV_DIM_KVDIM: return hp->n_head_kv * hp->head_dim;
    case CV_DIM_HEAD: return hp->head_dim;
    case CV_DIM_QKV: return (hp->n_head + 2 * hp->n_head_kv) * hp->head_dim;
    case CV_DIM_FF2: return 2 * hp->n_ff;
    default: return 1;
    }
}

/* The dense feed-forward weights, which a mixture of experts replaces. */
static int is_dense_ffn(const char *name) {
    return strcmp(name, "blk.#.ffn_gate.weight") == 0 || strcmp(name, "blk.#.ffn_up.weight") == 0 ||
           strcmp(name, "blk.#.ffn_down.weight") == 0;
}

/* Every required tensor present with the shape the hparams imply. */
static gk_status check_tensors(const fmt_src *src, const ox_hparams *hp, const cv_arch *a,
                               char *err, size_t errcap) {
    for (size_t r = 0; r < a->n_tensors; r++) {
        const cv_tensor_rule *rule = &a->tensors[r];
        if (!rule->gguf) /* dropped by the converter (gemma2's lm_head) */
            continue;
        if (hp->n_expert > 0 && is_dense_ffn(rule->gguf)) /* moe.c checks the experts */
            continue;
        if (rule->shape[0] >= CV_DIM_F0) /* the family's own dimensions: its hparams check */
            continue;
        int per_layer = strchr(rule->gguf, '#') != NULL;
        for (int64_t l = 0; l < (per_layer ? hp->n_layer : 1); l++) {
            int64_t ix = ox_tensor_ix(src, rule->gguf, l);
            char name[128];
            const char *hash = strchr(rule->gguf, '#');
            if (hash)
                snprintf(name, sizeof name, "%.*s%lld%s", (int)(hash - rule->gguf), rule->gguf,
                         (long long)l, hash + 1);
            else
                snprintf(name, sizeof name, "%s", rule->gguf);
            if (ix < 0) {
                if (rule->optional)
                    continue;
                snprintf(err, errcap, "missing tensor '%s' (needed by architecture %s)", name,
                         hp->arch);
                return GK_E_FORMAT;
            }
            const fmt_src_tensor *t = fmt_src_tensor_at(src, (uint64_t)ix);
            int64_t rows = dim_of(hp, rule->shape[0]);
            int64_t cols = rule->shape[1] == CV_DIM_NONE ? rows : dim_of(hp, rule->shape[1]);
            int64_t e0 = fmt_src_row_len(t), e1 = t->n_dims > 1 ? t->shape[t->n_dims - 2] : 1;
            int ok = rule->shape[1] == CV_DIM_NONE ? (e0 == rows && t->n_elements == (uint64_t)e0)
                                                   : (e0 == cols && e1 == rows && t->n_dims == 2);
            if (!ok) {
                snprintf(err, errcap,
                         "tensor '%s' has shape [%lld, %lld], expected [%lld, %lld] from the "
                         "hparams",
                         name, (long long)e0, (long long)e1,
                         (long long)(rule->shape[1] == CV_DIM_NONE ? rows : cols),
                         (long long)(rule->shape[1] == CV_DIM_NONE ? 1 : rows));
                return GK_E_FORMAT;
            }
        }
    }
    return GK_OK;
}

/* ggml_rope_yarn_corr_dim: the rotary dimension whose wavelength fits
 * n_rot times in the original context. */
static float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return (float)n_dims * logf((float)n_ctx_orig / (n_rot * 2 * (float)M_PI)) / (2 * logf(base));
}

/* YaRN as llama.cpp ec562eb sets it up (llama-context.cpp, ggml.c): ext
 * factor 1, attn_factor get_mscale(f, 1) / (1 + 0.1 ln f) * rope.scaling.
 * attn_factor, which rope_yarn multiplies by 1 + 0.1 ln(1 / freq_scale);
 * the ramp between floor(corr_dim(32)) and ceil(corr_dim(1)) over
 * rope.scaling.original_context_length. Keys after the shared ones. */
static gk_status yarn_params(fmt_gguf *g, ox_hparams *hp, char *err, size_t errcap) {
    char k[128];
    int64_t orig = hp->n_ctx;
    double af = 1.0;
    snprintf(k, sizeof k, "%s.rope.scaling.original_context_length", hp->arch);
    if (fmt_gguf_find_kv(g, k) &&
        (!get_int(g, hp->arch, "rope.scaling.original_context_length", &orig) || orig <= 0 ||
         orig > INT32_MAX)) {
        snprintf(err, errcap, "invalid hparam '%s'", k);
        return GK_E_FORMAT;
    }
    snprintf(k, sizeof k, "%s.rope.scaling.attn_factor", hp->arch);
    if (fmt_gguf_find_kv(g, k) && (!fmt_gguf_get_f64(g, k, &af) || !(af > 0 && af < 1e6))) {
        snprintf(err, errcap, "invalid hparam '%s'", k);
        return GK_E_FORMAT;
    }
    const float fs = (float)hp->rope_scale, factor = 1.0f / fs, base = (float)hp->rope_base;
    float attn = factor <= 1.0f ? 1.0f : 0.1f * 1.0f * logf(factor) + 1.0f;
    attn *= 1.0f / (1.0f + 0.1f * logf(factor));
    attn *= (float)af;
    hp->yarn_mscale = attn * (1.0f + 0.1f * logf(1.0f / fs));
    int nd = (int)hp->rope_dim;
    float lo = floorf(yarn_corr_dim(nd, (int)orig, 32.0f, base));
    float hi = ceilf(yarn_corr_dim(nd, (int)orig, 1.0f, base));
    hp->yarn_corr[0] = lo > 0 ? lo : 0;
    hp->yarn_corr[1] = hi < (float)(nd - 1) ? hi : (float)(nd - 1);
    return GK_OK;
}

gk_status ox_read_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                          size_t errcap) {
    memset(hp, 0, sizeof *hp);
    fmt_str s;
    if (!fmt_gguf_get_str(g, "general.architecture", &s)) {
        snprintf(err, errcap, "missing general.architecture");
        return GK_E_FORMAT;
    }
    if (s.len >= sizeof hp->arch ||
        !(hp->family = find_family(
              (snprintf(hp->arch, sizeof hp->arch, "%.*s", (int)s.len, s.ptr), hp->arch)))) {
        char list[256];
        supported_list(list, sizeof list);
        snprintf(err, errcap, "unsupported architecture '%.*s' (supported: %s)",
                 (int)(s.len > 64 ? 64 : s.len), s.ptr, list);
        return GK_E_UNSUPPORTED;
    }
    const char *a = hp->arch;
    hp->rope_neox = hp->family->rope_neox;
    static const char *const req[] = {"embedding_length", "block_count", "attention.head_count",
                                      "feed_forward_length", "context_length"};
    int64_t *dst[] = {&hp->n_embd, &hp->n_layer, &hp->n_head, &hp->n_ff, &hp->n_ctx};
    for (int i = 0; i < 5; i++)
        if (!get_int(g, a, req[i], dst[i]) || *dst[i] <= 0) {
            snprintf(err, errcap, "missing or invalid hparam '%s.%s'", a, req[i]);
            return GK_E_FORMAT;
        }
    if (!get_int(g, a, "attention.head_count_kv", &hp->n_head_kv))
        hp->n_head_kv = hp->n_head;
    if (hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv != 0) {
        snprintf(err, errcap, "%s.attention.head_count_kv = %lld does not divide head_count %lld",
                 a, (long long)hp->n_head_kv, (long long)hp->n_head);
        return GK_E_FORMAT;
    }
    if (!get_int(g, a, "attention.key_length", &hp->head_dim))
        hp->head_dim = hp->n_embd / hp->n_head;
    if (hp->head_dim <= 0 || hp->head_dim % 2) {
        snprintf(err, errcap, "invalid head size %lld", (long long)hp->head_dim);
        return GK_E_FORMAT;
    }
    if (!get_int(g, a, "rope.dimension_count", &hp->rope_dim))
        hp->rope_dim = hp->head_dim;
    if (hp->rope_dim <= 0 || hp->rope_dim > hp->head_dim || hp->rope_dim % 2) {
        snprintf(err, errcap, "invalid %s.rope.dimension_count %lld", a, (long long)hp->rope_dim);
        return GK_E_FORMAT;
    }
    char k[128];
    snprintf(k, sizeof k, "%s.attention.layer_norm_rms_epsilon", a);
    if (!fmt_gguf_get_f64(g, k, &hp->eps) || !(hp->eps > 0)) {
        snprintf(err, errcap, "missing or invalid hparam '%s'", k);
        return GK_E_FORMAT;
    }
    snprintf(k, sizeof k, "%s.rope.freq_base", a);
    if (!fmt_gguf_get_f64(g, k, &hp->rope_base))
        hp->rope_base = 10000.0;
    hp->rope_scale = 1.0;
    snprintf(k, sizeof k, "%s.rope.scaling.type", a);
    fmt_str st;
    if (fmt_gguf_get_str(g, k, &st) && !(st.len == 4 && memcmp(st.ptr, "none", 4) == 0)) {
        double factor = 1.0;
        snprintf(k, sizeof k, "%s.rope.scaling.factor", a);
        hp->yarn = st.len == 4 && memcmp(st.ptr, "yarn", 4) == 0;
        if (!hp->yarn && !(st.len == 6 && memcmp(st.ptr, "linear", 6) == 0)) {
            snprintf(err, errcap, "unsupported rope scaling '%.*s' (supported: none, linear, yarn)",
                     (int)(st.len > 32 ? 32 : st.len), st.ptr);
            return GK_E_UNSUPPORTED;
        }
        if (fmt_gguf_get_f64(g, k, &factor) && factor > 0)
            hp->rope_scale = 1.0 / factor;
        if (hp->yarn) {
            gk_status ys = yarn_params(g, hp, err, errcap);
            if (ys != GK_OK)
                return ys;
        }
    }
    const fmt_src_tensor *te = fmt_src_find(src, "token_embd.weight");
    if (!te) {
        snprintf(err, errcap, "missing tensor 'token_embd.weight'");
        return GK_E_FORMAT;
    }
    hp->n_vocab = te->n_dims == 2 ? te->shape[0] : 0;
    if (hp->n_vocab <= 0) {
        snprintf(err, errcap, "tensor 'token_embd.weight' is not 2-D");
        return GK_E_FORMAT;
    }
    uint64_t v;
    hp->bos = fmt_gguf_get_u64(g, "tokenizer.ggml.bos_token_id", &v) ? (int64_t)v : -1;
    hp->eos = fmt_gguf_get_u64(g, "tokenizer.ggml.eos_token_id", &v) ? (int64_t)v : -1;
    hp->pad = fmt_gguf_get_u64(g, "tokenizer.ggml.padding_token_id", &v) ? (int64_t)v : -1;
    fmt_str tm;
    if (fmt_gguf_get_str(g, "tokenizer.ggml.model", &tm) && tm.len == 5 &&
        memcmp(tm.ptr, "llama", 5) == 0) { /* llama.cpp's SentencePiece defaults */
        if (hp->bos < 0)
            hp->bos = 1;
        if (hp->eos < 0)
            hp->eos = 2;
    }
    hp->attn_scale = 1.0 / sqrt((double)hp->head_dim);
    hp->embd_scale = 1.0;
    hp->rope_mscale = 1.0;
    hp->rope_base_swa = hp->rope_base;
    hp->rope_scale_swa = hp->rope_scale;
    gk_status ok = ox_moe_hparams(g, src, hp, err, errcap);
    if (ok == GK_OK)
        ok = check_tensors(src, hp, hp->family->table, err, errcap);
    if (ok == GK_OK && hp->family->hparams)
        ok = hp->family->hparams(g, src, hp, err, errcap);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Graph helpers                                                              */
/* ------------------------------------------------------------------------ */

static ox_node *op1(ox_dctx *d, const char *op, const char *dom, int n_in, const char *const *in,
                    const char *out) {
    return ox_add_node(d->g, op, dom, n_in, in, 1, &out);
}

static const char *op2(ox_dctx *d, const char *op, const char *a, const char *b, const char *out) {
    const char *in[2] = {a, b};
    op1(d, op, NULL, 2, in, out);
    return out;
}

static gk_status norm(ox_dctx *d, const char *x, const char *tensor, int64_t layer,
                      const char *wname, const char *out) {
    int64_t ti = ox_tensor_ix(d->w->src, tensor, layer);
    gk_status st = ox_vector_f32(d->w, ti, wname);
    const char *in[2] = {x, wname};
    ox_node *n = op1(d, "RMSNormalization", NULL, 2, in, out);
    ox_attr_int(d->g, n, "axis", -1);
    ox_attr_float(d->g, n, "epsilon", (float)d->hp->eps);
    return st;
}

/* out = norm(x + skip) with x <- x + skip (named sum) when skip is given.
 * Standard graph: Add + RMSNormalization. Genai graph: the ORT-internal
 * SimplifiedLayerNormalization, and com.microsoft
 * SkipSimplifiedLayerNormalization whose output 3 is the sum. */
gk_status ox_resid_norm(ox_dctx *d, const char **x, const char *skip, const char *tensor,
                        int64_t layer, const char *wname, const char *out, const char *sum) {
    if (d->o->kind == OX_GRAPH_STANDARD) {
        if (skip)
            *x = op2(d, "Add", *x, skip, sum);
        return norm(d, *x, tensor, layer, wname, out);
    }
    gk_status st = ox_vector_f32(d->w, ox_tensor_ix(d->w->src, tensor, layer), wname);
    ox_node *n;
    if (skip) {
        const char *in[3] = {*x, skip, wname}, *outs[4] = {out, "", "", sum};
        n = ox_add_node(d->g, "SkipSimplifiedLayerNormalization", "com.microsoft", 3, in, 4, outs);
        *x = sum;
    } else {
        const char *in[2] = {*x, wname};
        n = op1(d, "SimplifiedLayerNormalization", NULL, 2, in, out);
        ox_attr_int(d->g, n, "axis", -1);
        ox_attr_int(d->g, n, "stash_type", 1);
    }
    ox_attr_float(d->g, n, "epsilon", (float)d->hp->eps);
    return st;
}

static void int64_const(ox_dctx *d, const char *name, int n, const int64_t *v) {
    int64_t dim = n;
    ox_init_inline(d->g, name, OX_INT64, 1, &dim, v, (size_t)n * sizeof *v);
}

/* Whether block l is a sliding-window block (llama.cpp's set_swa_pattern:
 * period 0 makes every block slide). */
static int slides(const ox_hparams *hp, int64_t l) {
    return hp->n_swa > 0 && (hp->swa_period == 0 || l % hp->swa_period < hp->swa_period - 1);
}

/* Whether block l applies rope (llama.cpp's n_no_rope_layer_step). */
static int rotates(const ox_hparams *hp, int64_t l) {
    return hp->nope_period == 0 || (l + 1) % hp->nope_period != 0;
}

/* Sliding-window blocks rotate with their own caches when their base or
 * scale differs (gemma3's local base). */
static int own_swa_caches(const ox_hparams *hp) {
    return hp->n_swa > 0 &&
           (hp->rope_base_swa != hp->rope_base || hp->rope_scale_swa != hp->rope_scale);
}

static const char *cache_name(const ox_hparams *hp, int64_t l, int sin) {
    if (own_swa_caches(hp) && slides(hp, l))
        return sin ? "sin_cache_swa" : "cos_cache_swa";
    if (hp->rope_orig_ctx > 0)
        return sin ? "/model/rope/sin_cache/Slice/output_0"
                   : "/model/rope/cos_cache/Slice/output_0";
    return sin ? "sin_cache" : "cos_cache";
}

/* One run of n_ctx positions in a rope cache. */
typedef struct {
    const float *ff; /* per-frequency divisors (rope_freqs, LongRoPE factors), or NULL */
    double base, scale;
} rope_seg;

/* cos/sin caches [n_seg * n_ctx, rope_dim/2], segment after segment, as
 * ggml_rope_cache_init computes them in float: theta_i = pos *
 * base^(-2i/n_dims) by repeated multiplication, divided by the factors,
 * times the linear scale; cos and sin times hp->rope_mscale. */
static gk_status rope_cache(ox_dctx *d, const rope_seg *seg, int n_seg, const char *cos_name,
                            const char *sin_name) {
    const ox_hparams *hp = d->hp;
    int64_t half = hp->rope_dim / 2;
    float *cs = malloc((size_t)half * sizeof(float));
    if (!cs)
        return GK_E_NOMEM;
    gk_status st = GK_OK;
    const float ms = hp->yarn ? hp->yarn_mscale : (float)hp->rope_mscale;
    int64_t dims[2] = {n_seg * hp->n_ctx, half};
    for (int pass = 0; pass < 2 && st == GK_OK; pass++) {
        st = ox_init_begin(d->g, pass ? sin_name : cos_name, OX_FLOAT, 2, dims);
        for (int k = 0; k < n_seg; k++) {
            const float theta_scale = powf((float)seg[k].base, -2.0f / (float)hp->rope_dim);
            const float fs = (float)seg[k].scale;
            const float *ff = seg[k].ff;
            for (int64_t p = 0; p < hp->n_ctx && st == GK_OK; p++) {
                float theta = (float)p;
                for (int64_t i = 0; i < half; i++) {
                    float ext = theta / (ff ? ff[i] : 1.0f), t = fs * ext;
                    if (hp->yarn) { /* rope_yarn with ext_factor 1 */
                        float y = ((float)i - hp->yarn_corr[0]) /
                                  fmaxf(0.001f, hp->yarn_corr[1] - hp->yarn_corr[0]);
                        float mix = 1 - fminf(1, fmaxf(0, y));
                        t = t * (1 - mix) + ext * mix;
                    }
                    cs[i] = (pass ? sinf(t) : cosf(t)) * ms;
                    theta *= theta_scale;
                }
                st = ox_init_write(d->g, cs, (size_t)half * sizeof(float));
            }
        }
        if (st == GK_OK)
            st = ox_init_end(d->g);
    }
    free(cs);
    return st;
}

/* rope_dim/2 F32 divisors from tensor name into *ff (malloc'd; NULL and
 * GK_OK when the tensor is absent). */
static gk_status read_factors(ox_dctx *d, const char *name, float **ff) {
    int64_t half = d->hp->rope_dim / 2;
    const fmt_src_tensor *t = fmt_src_find(d->w->src, name);
    *ff = NULL;
    if (!t)
        return GK_OK;
    if (!(*ff = malloc((size_t)(half ? half : 1) * sizeof(float))))
        return GK_E_NOMEM;
    int64_t len = fmt_src_row_len(t);
    if (t->type != KERN_TYPE_F32 || t->n_elements != (uint64_t)half || len <= 0 ||
        fmt_src_read_rows(t, 0, half / len, *ff) != GK_OK) {
        snprintf(d->w->err, sizeof d->w->err, "tensor '%s': expected %lld F32 values", name,
                 (long long)half);
        free(*ff);
        *ff = NULL;
        return GK_E_FORMAT;
    }
    return GK_OK;
}

/* LongRoPE's caches hold the short-factor run, then the long-factor one;
 * the graph takes rows [off, off + T) with off = n_ctx when the total
 * length T exceeds the original context (onnxruntime-genai's switch). */
static void longrope_select(ox_dctx *d) {
    ox_graph *g = d->g;
    int64_t orig = d->hp->rope_orig_ctx, n_ctx = d->hp->n_ctx, zero = 0;
    int64_const(d, "/model/constants/INT64/[orig_ctx]", 1, &orig);
    int64_const(d, "/model/constants/INT64/[n_ctx]", 1, &n_ctx);
    int64_const(d, "/model/constants/INT64/[0]", 1, &zero);
    const char *in = "attention_mask", *t = "/model/rope/Shape/output_0";
    ox_node *n = op1(d, "Shape", NULL, 1, &in, t);
    ox_attr_int(g, n, "start", 1);
    ox_attr_int(g, n, "end", 2);
    const char *gt =
        op2(d, "Greater", t, "/model/constants/INT64/[orig_ctx]", "/model/rope/Greater/output_0");
    const char *c = "/model/rope/Cast/output_0";
    ox_attr_int(g, op1(d, "Cast", NULL, 1, &gt, c), "to", OX_INT64);
    const char *off =
        op2(d, "Mul", c, "/model/constants/INT64/[n_ctx]", "/model/rope/Mul/output_0");
    const char *end = op2(d, "Add", off, t, "/model/rope/Add/output_0");
    for (int sin = 0; sin < 2; sin++) {
        const char *sl[4] = {sin ? "sin_cache" : "cos_cache", off, end,
                             "/model/constants/INT64/[0]"};
        op1(d, "Slice", NULL, 4, sl, cache_name(d->hp, 0, sin));
    }
}

/* The rope caches: cos_cache/sin_cache (LongRoPE: both runs and their
 * selection), and the sliding-window blocks' own. */
static gk_status rope_caches(ox_dctx *d) {
    const ox_hparams *hp = d->hp;
    float *ff = NULL, *lf = NULL;
    gk_status st;
    if (hp->rope_orig_ctx > 0) {
        st = read_factors(d, "rope_factors_short.weight", &ff);
        if (st == GK_OK)
            st = read_factors(d, "rope_factors_long.weight", &lf);
        rope_seg seg[2] = {{ff, hp->rope_base, hp->rope_scale},
                           {lf, hp->rope_base, hp->rope_scale}};
        if (st == GK_OK)
            st = rope_cache(d, seg, 2, "cos_cache", "sin_cache");
        if (st == GK_OK)
            longrope_select(d);
    } else {
        st = read_factors(d, "rope_freqs.weight", &ff);
        rope_seg seg = {ff, hp->rope_base, hp->rope_scale};
        if (st == GK_OK)
            st = rope_cache(d, &seg, 1, "cos_cache", "sin_cache");
    }
    rope_seg swa = {ff, hp->rope_base_swa, hp->rope_scale_swa};
    if (st == GK_OK && own_swa_caches(hp))
        st = rope_cache(d, &swa, 1, "cos_cache_swa", "sin_cache_swa");
    free(ff);
    free(lf);
    return st;
}

static void io_decls(ox_dctx *d) {
    const ox_hparams *hp = d->hp;
    ox_graph *g = d->g;
    char nkv[24], hd[24], nv[24];
    snprintf(nkv, sizeof nkv, "%lld", (long long)hp->n_head_kv);
    snprintf(hd, sizeof hd, "%lld", (long long)hp->head_dim);
    snprintf(nv, sizeof nv, "%lld", (long long)hp->n_vocab);
    const char *bs[2] = {"batch_size", "sequence_length"};
    const char *bt[2] = {"batch_size", "total_sequence_length"};
    ox_input(g, "input_ids", OX_INT64, 2, bs);
    ox_input(g, "attention_mask", OX_INT64, 2, bt);
    if (d->o->kind == OX_GRAPH_STANDARD)
        ox_input(g, "position_ids", OX_INT64, 2, bs);
    int kvt = d->o->kv_f16 ? OX_FLOAT16 : OX_FLOAT;
    const char *past[4] = {"batch_size", nkv, "past_sequence_length", hd};
    const char *pres[4] = {"batch_size", nkv, "total_sequence_length", hd};
    const char *lg[3] = {"batch_size", "sequence_length", nv};
    ox_output(g, "logits", OX_FLOAT, 3, lg);
    for (int64_t l = 0; l < hp->n_layer; l++) {
        ox_input(g, ox_name(g, "past_key_values.%lld.key", (long long)l), kvt, 4, past);
        ox_input(g, ox_name(g, "past_key_values.%lld.value", (long long)l), kvt, 4, past);
        ox_output(g, ox_name(g, "present.%lld.key", (long long)l), kvt, 4, pres);
        ox_output(g, ox_name(g, "present.%lld.value", (long long)l), kvt, 4, pres);
    }
}

/* Qwen3: RMSNormalization over each head of x [B,S,heads*hd]. */
static gk_status head_norm(ox_dctx *d, const char *x, const char *tensor, int64_t l, int64_t heads,
                           const char *base, const char **out) {
    const char *shp = ox_name(d->g, "%s/heads_shape", base);
    int64_t sv[4] = {0, 0, heads, d->hp->head_dim};
    int64_t fv[3] = {0, 0, heads * d->hp->head_dim};
    int64_const(d, shp, 4, sv);
    const char *flat = ox_name(d->g, "%s/flat_shape", base);
    int64_const(d, flat, 3, fv);
    const char *r = op2(d, "Reshape", x, shp, ox_name(d->g, "%s/Reshape", base));
    const char *n = ox_name(d->g, "%s/RMSNormalization", base);
    gk_status st = norm(d, r, tensor, l, ox_name(d->g, "%s.weight", base), n);
    *out = op2(d, "Reshape", n, flat, ox_name(d->g, "%s/Reshape_1", base));
    return st;
}

/* The q/k norms of block l on *q and *k: over each head (qwen3, gemma3),
 * or over the whole projection (the family's qk_norm_full: olmo2). */
static gk_status qk_norms(ox_dctx *d, int64_t l, const char *pre, const char **q, const char **k) {
    ox_graph *g = d->g;
    const ox_hparams *hp = d->hp;
    if (hp->family->qk_norm_full) {
        const char *qn = ox_name(g, "/%s/q_norm/output_0", pre);
        const char *kn = ox_name(g, "/%s/k_norm/output_0", pre);
        gk_status st =
            norm(d, *q, "blk.#.attn_q_norm.weight", l, ox_name(g, "%s.q_norm.weight", pre), qn);
        if (st == GK_OK)
            st =
                norm(d, *k, "blk.#.attn_k_norm.weight", l, ox_name(g, "%s.k_norm.weight", pre), kn);
        *q = qn;
        *k = kn;
        return st;
    }
    gk_status st = head_norm(d, *q, "blk.#.attn_q_norm.weight", l, hp->n_head,
                             ox_name(g, "%s.q_norm", pre), q);
    if (st == GK_OK)
        st = head_norm(d, *k, "blk.#.attn_k_norm.weight", l, hp->n_head_kv,
                       ox_name(g, "%s.k_norm", pre), k);
    return st;
}

/* outs[0..n) = x split along the last axis into pieces of sz[0..n). */
static void split_last(ox_dctx *d, const char *x, int n, const int64_t *sz, const char **outs,
                       const char *base) {
    const char *sn = ox_name(d->g, "%s/split_sizes", base);
    int64_const(d, sn, n, sz);
    const char *in[2] = {x, sn};
    ox_attr_int(d->g, ox_add_node(d->g, "Split", NULL, 2, in, n, outs), "axis", -1);
}

/* q, k, v of block l into outs: the fused attn_qkv linear (phi3) split,
 * or three linears (+ biases). */
static gk_status qkv_linears(ox_dctx *d, int64_t l, const char *h, const char *pre,
                             const char **outs) {
    ox_wctx *w = d->w;
    const ox_hparams *hp = d->hp;
    int64_t fused = ox_tensor_ix(w->src, "blk.#.attn_qkv.weight", l);
    if (fused >= 0) {
        const char *qkv = ox_name(d->g, "/%s/qkv_proj/output_0", pre);
        int64_t sz[3] = {hp->n_head * hp->head_dim, hp->n_head_kv * hp->head_dim,
                         hp->n_head_kv * hp->head_dim};
        gk_status st = ox_linear(w, h, fused, ox_tensor_ix(w->src, "blk.#.attn_qkv.bias", l),
                                 ox_name(d->g, "%s.qkv_proj", pre), qkv);
        split_last(d, qkv, 3, sz, outs, ox_name(d->g, "/%s/qkv_split", pre));
        return st;
    }
    static const char *const proj[3] = {"q", "k", "v"};
    gk_status st = GK_OK;
    for (int i = 0; i < 3 && st == GK_OK; i++) {
        char wn[64], bn[64];
        snprintf(wn, sizeof wn, "blk.#.attn_%s.weight", proj[i]);
        snprintf(bn, sizeof bn, "blk.#.attn_%s.bias", proj[i]);
        st = ox_linear(w, h, ox_tensor_ix(w->src, wn, l), ox_tensor_ix(w->src, bn, l),
                       ox_name(d->g, "%s.%s_proj", pre, proj[i]), outs[i]);
    }
    return st;
}

/* KV input/outputs in the graph's KV dtype around float compute. */
static const char *kv_in(ox_dctx *d, const char *name) {
    if (!d->o->kv_f16)
        return name;
    const char *c = ox_name(d->g, "%s/Cast", name);
    ox_attr_int(d->g, op1(d, "Cast", NULL, 1, &name, c), "to", OX_FLOAT);
    return c;
}

static const char *kv_out(ox_dctx *d, const char *name) {
    return d->o->kv_f16 ? ox_name(d->g, "%s/float", name) : name;
}

static void kv_out_cast(ox_dctx *d, const char *name) {
    if (!d->o->kv_f16)
        return;
    const char *f = ox_name(d->g, "%s/float", name);
    ox_attr_int(d->g, op1(d, "Cast", NULL, 1, &f, name), "to", OX_FLOAT16);
}

/* ------------------------------------------------------------------------ */
/* Layers                                                                     */
/* ------------------------------------------------------------------------ */

static gk_status sinks_init(ox_dctx *d, int64_t l, const char *pre);

/* [B,S,heads*D] -> [B,heads,S,D] */
static const char *to_bhsd(ox_dctx *d, const char *x, int64_t heads, const char *pre,
                           const char *what) {
    ox_graph *g = d->g;
    int64_t sh[4] = {0, 0, heads, d->hp->head_dim};
    const char *sn = ox_name(g, "/%s/%s_bhsd/shape", pre, what);
    int64_const(d, sn, 4, sh);
    const char *r = op2(d, "Reshape", x, sn, ox_name(g, "/%s/%s_bhsd/Reshape/output_0", pre, what));
    const char *t = ox_name(g, "/%s/%s_bhsd/Transpose/output_0", pre, what);
    int64_t perm[4] = {0, 2, 1, 3};
    ox_attr_ints(g, op1(d, "Transpose", NULL, 1, &r, t), "perm", 4, perm);
    return t;
}

/* Standard graph with attention sinks (gpt-oss): ggml adds each head's sink
 * to its softmax sum, with no value. The Attention op gets the keys and
 * values with one zero slot in front, whose score (0) the float mask moves
 * to the sink; the cache (present = past ++ new) has no such slot. */
static gk_status attention_sinks_std(ox_dctx *d, int64_t l, const char *pre, const char *q,
                                     const char *k, const char *v, const char **attn_out) {
    ox_graph *g = d->g;
    const ox_hparams *hp = d->hp;
    long long L = (long long)l;
    gk_status st = sinks_init(d, l, pre);
    const char *kv[2] = {to_bhsd(d, k, hp->n_head_kv, pre, "k"),
                         to_bhsd(d, v, hp->n_head_kv, pre, "v")};
    const char *past[2] = {ox_name(g, "past_key_values.%lld.key", L),
                           ox_name(g, "past_key_values.%lld.value", L)};
    const char *pres[2] = {ox_name(g, "present.%lld.key", L), ox_name(g, "present.%lld.value", L)};
    int64_t z0 = 0, z1 = 1, z2 = 2, sdims[4] = {1, -1, 1, 1};
    const char *c0 = ox_name(g, "/%s/sink/zero", pre), *c1 = ox_name(g, "/%s/sink/one", pre);
    const char *ax2 = ox_name(g, "/%s/sink/axis2", pre), *ax3 = ox_name(g, "/%s/sink/axis3", pre);
    int64_const(d, c0, 1, &z0);
    int64_const(d, c1, 1, &z1);
    int64_const(d, ax2, 1, &z2);
    int64_t three = 3;
    int64_const(d, ax3, 1, &three);
    float fz = 0.0f;
    const char *f0 = ox_name(g, "/%s/sink/fzero", pre);
    ox_init_inline(g, f0, OX_FLOAT, 0, NULL, &fz, sizeof fz);
    const char *slot[2];
    for (int i = 0; i < 2; i++) {
        const char *cin[2] = {kv_in(d, past[i]), kv[i]}, *p = kv_out(d, pres[i]);
        ox_attr_int(g, op1(d, "Concat", NULL, 2, cin, p), "axis", 2);
        kv_out_cast(d, pres[i]);
        const char *sin[4] = {p, c0, c1, ax2};
        const char *first = ox_name(g, "/%s/sink/Slice_%d/output_0", pre, i);
        op1(d, "Slice", NULL, 4, sin, first);
        const char *z = op2(d, "Mul", first, f0, ox_name(g, "/%s/sink/Mul_%d/output_0", pre, i));
        const char *zin[2] = {z, p};
        slot[i] = ox_name(g, "/%s/sink/Concat_%d/output_0", pre, i);
        ox_attr_int(g, op1(d, "Concat", NULL, 2, zin, slot[i]), "axis", 2);
    }
    const char *sd = ox_name(g, "/%s/sink/shape", pre);
    int64_const(d, sd, 4, sdims);
    const char *s4 = op2(d, "Reshape", ox_name(g, "%s.sinks", pre), sd,
                         ox_name(g, "/%s/sink/Reshape/output_0", pre));
    const char *fm = slides(hp, l) ? d->fmask_swa : d->fmask;
    const char *cin[4] = {fm, c0, c1, ax3}, *col0 = ox_name(g, "/%s/sink/Slice_m/output_0", pre);
    op1(d, "Slice", NULL, 4, cin, col0);
    const char *cs = ox_name(g, "/%s/sink/Shape/output_0", pre); /* [B,H,S,1] */
    op1(d, "Shape", NULL, 1, &col0, cs);
    const char *col = op2(d, "Expand", s4, cs, ox_name(g, "/%s/sink/Expand/output_0", pre));
    const char *min[2] = {col, fm}, *mask = ox_name(g, "/%s/sink/mask", pre);
    ox_attr_int(g, op1(d, "Concat", NULL, 2, min, mask), "axis", 3);
    const char *q4 = to_bhsd(d, q, hp->n_head, pre, "q");
    const char *ain[4] = {q4, slot[0], slot[1], mask};
    const char *y4 = ox_name(g, "/%s/Attention/output_0", pre);
    ox_node *n = op1(d, "Attention", NULL, 4, ain, y4);
    ox_attr_int(g, n, "is_causal", 0);
    ox_attr_float(g, n, "scale", (float)hp->attn_scale);
    int64_t perm[4] = {0, 2, 1, 3}, osh[3] = {0, 0, hp->n_head * hp->head_dim};
    const char *yt = ox_name(g, "/%s/Attention/Transpose/output_0", pre);
    ox_attr_ints(g, op1(d, "Transpose", NULL, 1, &y4, yt), "perm", 4, perm);
    const char *os = ox_name(g, "/%s/Attention/shape", pre);
    int64_const(d, os, 3, osh);
    *attn_out = op2(d, "Reshape", yt, os, ox_name(g, "/%s/Attention/Reshape/output_0", pre));
    return st;
}

static gk_status attention_std(ox_dctx *d, int64_t l, const char *h, const char **attn_out) {
    ox_graph *g = d->g;
    ox_wctx *w = d->w;
    const ox_hparams *hp = d->hp;
    long long L = (long long)l;
    const char *pre = ox_name(g, "model.layers.%lld.attn", L);
    const char *q = ox_name(g, "/%s/q_proj/output_0", pre),
               *k = ox_name(g, "/%s/k_proj/output_0", pre),
               *v = ox_name(g, "/%s/v_proj/output_0", pre);
    const char *outs[3] = {q, k, v};
    gk_status st = qkv_linears(d, l, h, pre, outs);
    if (st == GK_OK && ox_tensor_ix(w->src, "blk.#.attn_q_norm.weight", l) >= 0)
        st = qk_norms(d, l, pre, &q, &k);
    const char *qk[2] = {q, k};
    int64_t heads[2] = {hp->n_head, hp->n_head_kv};
    for (int i = 0; i < 2 && rotates(hp, l); i++) {
        const char *in[4] = {qk[i], cache_name(hp, l, 0), cache_name(hp, l, 1), "position_ids"};
        const char *r = ox_name(g, "/%s/%s_rotary/output_0", pre, i ? "k" : "q");
        ox_node *n = op1(d, "RotaryEmbedding", NULL, 4, in, r);
        ox_attr_int(g, n, "interleaved", hp->rope_neox ? 0 : 1);
        ox_attr_int(g, n, "num_heads", heads[i]);
        if (hp->rope_dim != hp->head_dim)
            ox_attr_int(g, n, "rotary_embedding_dim", hp->rope_dim);
        qk[i] = r;
    }
    if (st == GK_OK && hp->attn_sinks)
        return attention_sinks_std(d, l, pre, qk[0], qk[1], v, attn_out);
    const char *pk = ox_name(g, "past_key_values.%lld.key", L);
    const char *pv = ox_name(g, "past_key_values.%lld.value", L);
    const char *ok = ox_name(g, "present.%lld.key", L), *ov = ox_name(g, "present.%lld.value", L);
    const char *in[6] = {qk[0],        qk[1],       v, slides(hp, l) ? d->mask_swa : d->mask,
                         kv_in(d, pk), kv_in(d, pv)};
    const char *y = ox_name(g, "/%s/Attention/output_0", pre);
    const char *out3[3] = {y, kv_out(d, ok), kv_out(d, ov)};
    ox_node *n = ox_add_node(g, "Attention", NULL, 6, in, 3, out3);
    ox_attr_int(g, n, "q_num_heads", hp->n_head);
    ox_attr_int(g, n, "kv_num_heads", hp->n_head_kv);
    ox_attr_int(g, n, "is_causal", 1);
    ox_attr_float(g, n, "scale", (float)hp->attn_scale);
    if (hp->attn_softcap > 0)
        ox_attr_float(g, n, "softcap", (float)hp->attn_softcap);
    kv_out_cast(d, ok);
    kv_out_cast(d, ov);
    *attn_out = y;
    return st;
}

/* GroupQueryAttention over a packed [B,S,(Nq+2Nkv)*hd] input, rotary fused. */
static void gqa(ox_dctx *d, int64_t l, const char *qkv, const char **attn_out) {
    ox_graph *g = d->g;
    const ox_hparams *hp = d->hp;
    long long L = (long long)l;
    const char *pre = ox_name(g, "model.layers.%lld.attn", L);
    const char *pk = ox_name(g, "past_key_values.%lld.key", L);
    const char *pv = ox_name(g, "past_key_values.%lld.value", L);
    const char *ok = ox_name(g, "present.%lld.key", L), *ov = ox_name(g, "present.%lld.value", L);
    const char *in[12] = {qkv,
                          "",
                          "",
                          kv_in(d, pk),
                          kv_in(d, pv),
                          "seqlens_k",
                          "total_seq_len",
                          rotates(hp, l) ? cache_name(hp, l, 0) : "",
                          rotates(hp, l) ? cache_name(hp, l, 1) : "",
                          "",
                          "",
                          hp->attn_sinks ? ox_name(g, "%s.sinks", pre) : ""};
    const char *y = ox_name(g, "/%s/GroupQueryAttention/output_0", pre);
    const char *out3[3] = {y, kv_out(d, ok), kv_out(d, ov)};
    /* head_sink (input 11): the sink joins each head's softmax sum, as ggml's */
    ox_node *n = ox_add_node(g, "GroupQueryAttention", "com.microsoft", hp->attn_sinks ? 12 : 9, in,
                             3, out3);
    ox_attr_int(g, n, "num_heads", hp->n_head);
    ox_attr_int(g, n, "kv_num_heads", hp->n_head_kv);
    ox_attr_float(g, n, "scale", (float)hp->attn_scale);
    ox_attr_int(g, n, "local_window_size", slides(hp, l) ? hp->n_swa : -1);
    if (hp->attn_softcap > 0)
        ox_attr_float(g, n, "softcap", (float)hp->attn_softcap);
    ox_attr_int(g, n, "do_rotary", rotates(hp, l));
    ox_attr_int(g, n, "rotary_interleaved", hp->rope_neox ? 0 : 1);
    kv_out_cast(d, ok);
    kv_out_cast(d, ov);
    *attn_out = y;
}

/* Block l's attention sinks as the f32 initializer PRE.sinks [n_head]. */
static gk_status sinks_init(ox_dctx *d, int64_t l, const char *pre) {
    if (!d->hp->attn_sinks)
        return GK_OK;
    return ox_vector_f32(d->w, ox_tensor_ix(d->w->src, "blk.#.attn_sinks.weight", l),
                         ox_name(d->g, "%s.sinks", pre));
}

static gk_status attention_genai(ox_dctx *d, int64_t l, const char *h, const char **attn_out) {
    ox_graph *g = d->g;
    ox_wctx *w = d->w;
    long long L = (long long)l;
    const char *pre = ox_name(g, "model.layers.%lld.attn", L);
    gk_status sst = sinks_init(d, l, pre);
    if (sst != GK_OK)
        return sst;
    const char *q = ox_name(g, "/%s/q_proj/output_0", pre),
               *k = ox_name(g, "/%s/k_proj/output_0", pre),
               *v = ox_name(g, "/%s/v_proj/output_0", pre);
    const char *proj[3] = {"q", "k", "v"};
    const char *outs[3] = {q, k, v};
    int64_t wt[3], bt[3];
    for (int i = 0; i < 3; i++) {
        char wn[64], bn[64];
        snprintf(wn, sizeof wn, "blk.#.attn_%s.weight", proj[i]);
        snprintf(bn, sizeof bn, "blk.#.attn_%s.bias", proj[i]);
        wt[i] = ox_tensor_ix(w->src, wn, l);
        bt[i] = ox_tensor_ix(w->src, bn, l);
    }
    gk_status st = GK_OK;
    int qk_norm = ox_tensor_ix(w->src, "blk.#.attn_q_norm.weight", l) >= 0;
    int64_t fused = ox_tensor_ix(w->src, "blk.#.attn_qkv.weight", l);
    if (!qk_norm && fused >= 0) { /* phi3's q|k|v rows are GQA's packed input */
        const char *qkv = ox_name(g, "/%s/qkv_proj/output_0", pre);
        st = ox_linear(w, h, fused, ox_tensor_ix(w->src, "blk.#.attn_qkv.bias", l),
                       ox_name(g, "%s.qkv_proj", pre), qkv);
        gqa(d, l, qkv, attn_out);
        return st;
    }
    if (!qk_norm && ox_can_pack(w, wt, bt, 3)) {
        /* one MatMul(NBits) over the q, k and v rows: GQA's packed input */
        const char *qkv = ox_name(g, "/%s/qkv_proj/output_0", pre);
        st = ox_linear_packed(w, h, wt, bt, 3, ox_name(g, "%s.qkv_proj", pre), qkv);
        gqa(d, l, qkv, attn_out);
        return st;
    }
    st = qkv_linears(d, l, h, pre, outs);
    if (st == GK_OK && qk_norm)
        st = qk_norms(d, l, pre, &q, &k);
    const char *cin[3] = {q, k, v};
    const char *qkv = ox_name(g, "/%s/qkv/output_0", pre);
    ox_attr_int(g, op1(d, "Concat", NULL, 3, cin, qkv), "axis", -1);
    gqa(d, l, qkv, attn_out);
    return st;
}

gk_status ox_mlp(ox_dctx *d, int64_t l, const char *h, ox_act act, const char *out) {
    if (d->hp->n_expert > 0 && act == OX_ACT_SILU)
        return ox_moe(d, l, h, out);
    ox_graph *g = d->g;
    ox_wctx *w = d->w;
    long long L = (long long)l;
    const char *pre = ox_name(g, "model.layers.%lld.mlp", L);
    const char *gt = ox_name(g, "/%s/gate_proj/output_0", pre);
    const char *up = ox_name(g, "/%s/up_proj/output_0", pre);
    int64_t gate = ox_tensor_ix(w->src, "blk.#.ffn_gate.weight", l);
    int64_t upt = ox_tensor_ix(w->src, "blk.#.ffn_up.weight", l);
    gk_status st;
    if (gate < 0) { /* phi3: ffn_up holds the gate rows, then the up rows */
        const char *gu = ox_name(g, "/%s/gate_up_proj/output_0", pre), *outs[2] = {gt, up};
        int64_t sz[2] = {d->hp->n_ff, d->hp->n_ff};
        st = ox_linear(w, h, upt, -1, ox_name(g, "%s.gate_up_proj", pre), gu);
        split_last(d, gu, 2, sz, outs, ox_name(g, "/%s/gate_up_split", pre));
    } else {
        st = ox_linear(w, h, gate, -1, ox_name(g, "%s.gate_proj", pre), gt);
        if (st == GK_OK)
            st = ox_linear(w, h, upt, -1, ox_name(g, "%s.up_proj", pre), up);
    }
    const char *a;
    if (act == OX_ACT_GELU_TANH) {
        a = ox_name(g, "/%s/act_fn/Gelu/output_0", pre);
        ox_attr_str(g, op1(d, "Gelu", NULL, 1, &gt, a), "approximate", "tanh");
    } else {
        const char *sg = ox_name(g, "/%s/act_fn/Sigmoid/output_0", pre);
        op1(d, "Sigmoid", NULL, 1, &gt, sg);
        a = op2(d, "Mul", gt, sg, ox_name(g, "/%s/act_fn/Mul/output_0", pre));
    }
    const char *m = op2(d, "Mul", a, up, ox_name(g, "/%s/Mul/output_0", pre));
    if (st == GK_OK)
        st = ox_linear(w, m, ox_tensor_ix(w->src, "blk.#.ffn_down.weight", l), -1,
                       ox_name(g, "%s.down_proj", pre), out);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Whole graph                                                                */
/* ------------------------------------------------------------------------ */

gk_status ox_attention(ox_dctx *d, int64_t l, const char *h, const char **out) {
    ox_graph *g = d->g;
    ox_wctx *w = d->w;
    long long L = (long long)l;
    const char *a = NULL;
    gk_status st =
        d->o->kind == OX_GRAPH_STANDARD ? attention_std(d, l, h, &a) : attention_genai(d, l, h, &a);
    *out = ox_name(g, "/model/layers.%lld/attn/o_proj/output_0", L);
    if (st == GK_OK)
        st = ox_linear(w, a, ox_tensor_ix(w->src, "blk.#.attn_output.weight", l),
                       ox_tensor_ix(w->src, "blk.#.attn_output.bias", l),
                       ox_name(g, "model.layers.%lld.attn.o_proj", L), *out);
    return st;
}

gk_status ox_norm_attention(ox_dctx *d, int64_t l, const char **x, const char *skip,
                            const char **out) {
    ox_graph *g = d->g;
    long long L = (long long)l;
    const char *h = ox_name(g, "/model/layers.%lld/input_layernorm/output_0", L);
    gk_status st = ox_resid_norm(d, x, skip, "blk.#.attn_norm.weight", l,
                                 ox_name(g, "model.layers.%lld.input_layernorm.weight", L), h,
                                 ox_name(g, "/model/layers.%lld/residual_mlp/output_0", L - 1));
    return st == GK_OK ? ox_attention(d, l, h, out) : st;
}

/* The llama block: pre-norms, attention and SwiGLU MLP, residual adds. */
static gk_status llama_layer(ox_dctx *d, int64_t l, const char **x, const char **skip) {
    return ox_prenorm_layer(d, l, x, skip, "blk.#.ffn_norm.weight");
}

gk_status ox_prenorm_layer(ox_dctx *d, int64_t l, const char **x, const char **skip,
                           const char *ffn_norm) {
    ox_graph *g = d->g;
    long long L = (long long)l;
    const char *ao = NULL;
    gk_status st = ox_norm_attention(d, l, x, *skip, &ao);
    const char *h2 = ox_name(g, "/model/layers.%lld/post_attention_layernorm/output_0", L);
    if (st == GK_OK)
        st = ox_resid_norm(d, x, ao, ffn_norm, l,
                           ox_name(g, "model.layers.%lld.post_attention_layernorm.weight", L), h2,
                           ox_name(g, "/model/layers.%lld/residual_attn/output_0", L));
    *skip = ox_name(g, "/model/layers.%lld/mlp/output_0", L);
    if (st == GK_OK)
        st = ox_mlp(d, l, h2, OX_ACT_SILU, *skip);
    return st;
}

const char *ox_add(ox_dctx *d, const char *a, const char *b, const char *out) {
    return op2(d, "Add", a, b, out);
}

const char *ox_scale_by(ox_dctx *d, const char *x, float v, const char *vname, const char *out) {
    ox_init_inline(d->g, vname, OX_FLOAT, 0, NULL, &v, sizeof v);
    return op2(d, "Mul", x, vname, out);
}

/* logits = cap * tanh(raw / cap), as llama.cpp: scale by 1/cap, tanh, scale. */
static void softcap_logits(ox_dctx *d, const char *raw) {
    float cap = (float)d->hp->final_softcap;
    const char *s = ox_scale_by(d, raw, 1.0f / cap, "/model/constants/FLOAT/1_over_final_softcap",
                                "/model/logits_softcap/Mul/output_0");
    const char *t = "/model/logits_softcap/Tanh/output_0";
    op1(d, "Tanh", NULL, 1, &s, t);
    ox_scale_by(d, t, cap, "/model/constants/FLOAT/final_softcap", "logits");
}

/* Standard graph: bool [B,1,S,T] from the padding mask, and for the
 * sliding-window blocks the same and-ed with position - key < n_swa. */
static void swa_mask(ox_dctx *d) {
    ox_graph *g = d->g;
    int64_t ax[2] = {1, 3}, zero = 0, one = 1, w = d->hp->n_swa;
    int64_const(d, "/model/constants/INT64/[1, 3]", 2, ax);
    ox_init_inline(g, "/model/constants/INT64/0", OX_INT64, 0, NULL, &zero, sizeof zero);
    ox_init_inline(g, "/model/constants/INT64/1", OX_INT64, 0, NULL, &one, sizeof one);
    ox_init_inline(g, "/model/constants/INT64/n_swa", OX_INT64, 0, NULL, &w, sizeof w);
    const char *qp = op2(d, "Unsqueeze", "position_ids", "/model/constants/INT64/[1, 3]",
                         "/model/attn_mask_swa/Unsqueeze/output_0");
    const char *in = "attention_mask", *shp = "/model/attn_mask_swa/Shape/output_0";
    op1(d, "Shape", NULL, 1, &in, shp);
    const char *t =
        op2(d, "Gather", shp, "/model/constants/INT64/1", "/model/attn_mask_swa/Gather/output_0");
    const char *rin[3] = {"/model/constants/INT64/0", t, "/model/constants/INT64/1"};
    const char *kp = "/model/attn_mask_swa/Range/output_0";
    op1(d, "Range", NULL, 3, rin, kp);
    const char *dist = op2(d, "Sub", qp, kp, "/model/attn_mask_swa/Sub/output_0");
    const char *near =
        op2(d, "Less", dist, "/model/constants/INT64/n_swa", "/model/attn_mask_swa/Less/output_0");
    d->mask_swa = op2(d, "And", d->mask, near, "/model/attn_mask_swa/And/output_0");
}

/* Standard graph with sinks: the bool masks and-ed with causality (key
 * position <= query position) as float [B,H,S,T], 0 or -inf, for
 * attention_sinks_std's explicit mask (the Attention op then runs with
 * is_causal 0). Needs swa_mask's constants (gpt-oss always slides). */
static void sink_masks(ox_dctx *d) {
    ox_graph *g = d->g;
    int64_t h = d->hp->n_head, dims[4] = {1, h, 1, 1};
    float *zero = calloc((size_t)h, sizeof *zero), *ninf = malloc((size_t)h * sizeof *ninf);
    for (int64_t i = 0; ninf && i < h; i++)
        ninf[i] = -INFINITY;
    if (!zero || !ninf) {
        free(zero);
        free(ninf);
        return; /* ox_init_inline below then fails the graph as out of memory */
    }
    ox_init_inline(g, "/model/constants/FLOAT/zeros_heads", OX_FLOAT, 4, dims, zero,
                   (size_t)h * sizeof *zero);
    ox_init_inline(g, "/model/constants/FLOAT/-inf_heads", OX_FLOAT, 4, dims, ninf,
                   (size_t)h * sizeof *ninf);
    free(zero);
    free(ninf);
    const char *dist = "/model/attn_mask_swa/Sub/output_0"; /* query - key position */
    const char *causal = op2(d, "GreaterOrEqual", dist, "/model/constants/INT64/0",
                             "/model/attn_mask_sink/GreaterOrEqual/output_0");
    const char *bm[2] = {d->mask, d->mask_swa}, **fm[2] = {&d->fmask, &d->fmask_swa};
    for (int i = 0; i < 2; i++) {
        const char *both =
            op2(d, "And", bm[i], causal, ox_name(g, "/model/attn_mask_sink/And_%d/output_0", i));
        const char *in[3] = {both, "/model/constants/FLOAT/zeros_heads",
                             "/model/constants/FLOAT/-inf_heads"};
        *fm[i] = ox_name(g, "/model/attn_mask_sink/Where_%d/output_0", i);
        op1(d, "Where", NULL, 3, in, *fm[i]);
    }
}

static gk_status mask_inputs(ox_dctx *d) {
    ox_graph *g = d->g;
    if (d->o->kind == OX_GRAPH_STANDARD) {
        /* attention_mask [B,T] int64 -> bool [B,1,1,T], and-ed with is_causal */
        const char *in = "attention_mask";
        const char *b = "/model/attn_mask/Cast/output_0";
        ox_attr_int(g, op1(d, "Cast", NULL, 1, &in, b), "to", OX_BOOL);
        int64_t ax[2] = {1, 2};
        int64_const(d, "/model/constants/INT64/[1, 2]", 2, ax);
        const char *u = op2(d, "Unsqueeze", b, "/model/constants/INT64/[1, 2]",
                            "/model/attn_mask/Unsqueeze/output_0");
        /* ORT wants the query dimension spelled out: Expand to [B,1,S,T] */
        const char *ids = "input_ids", *sl = "/model/attn_mask/Shape/output_0";
        ox_node *n = op1(d, "Shape", NULL, 1, &ids, sl);
        ox_attr_int(g, n, "start", 1);
        ox_attr_int(g, n, "end", 2);
        int64_t ones[2] = {1, 1};
        int64_const(d, "/model/constants/INT64/[1, 1]", 2, ones);
        int64_const(d, "/model/constants/INT64/[1]", 1, ones);
        const char *cin[3] = {"/model/constants/INT64/[1, 1]", sl, "/model/constants/INT64/[1]"};
        const char *shp = "/model/attn_mask/Concat/output_0";
        ox_attr_int(g, op1(d, "Concat", NULL, 3, cin, shp), "axis", 0);
        d->mask = op2(d, "Expand", u, shp, "/model/attn_mask/Expand/output_0");
        if (d->hp->n_swa > 0)
            swa_mask(d);
        if (d->hp->attn_sinks)
            sink_masks(d);
        return GK_OK;
    }
    /* genai: seqlens_k = sum(mask) - 1 (int32 [B]); total_seq_len = T (int32) */
    int64_t one = 1;
    int64_t dim1 = 1;
    ox_init_inline(g, "/model/constants/INT64/[1]", OX_INT64, 1, &dim1, &one, sizeof one);
    ox_init_inline(g, "/model/constants/INT64/1", OX_INT64, 0, NULL, &one, sizeof one);
    ox_node *n = op1(d, "ReduceSum", NULL, 2,
                     (const char *const[]){"attention_mask", "/model/constants/INT64/[1]"},
                     "/model/attn_mask/ReduceSum/output_0");
    ox_attr_int(g, n, "keepdims", 0);
    const char *sub = op2(d, "Sub", "/model/attn_mask/ReduceSum/output_0",
                          "/model/constants/INT64/1", "/model/attn_mask/Sub/output_0");
    ox_attr_int(g, op1(d, "Cast", NULL, 1, &sub, "seqlens_k"), "to", OX_INT32);
    const char *in = "attention_mask";
    const char *shp = "/model/attn_mask/Shape/output_0";
    op1(d, "Shape", NULL, 1, &in, shp);
    const char *t =
        op2(d, "Gather", shp, "/model/constants/INT64/1", "/model/attn_mask/Gather/output_0");
    ox_attr_int(g, op1(d, "Cast", NULL, 1, &t, "total_seq_len"), "to", OX_INT32);
    return GK_OK;
}

gk_status ox_build_decoder(ox_wctx *w, const ox_hparams *hp, const ox_decoder_opts *o) {
    ox_dctx d = {w, w->g, hp, o, "", "", "", ""};
    ox_graph *g = w->g;
    io_decls(&d);
    gk_status st = rope_caches(&d);
    if (st == GK_OK)
        st = mask_inputs(&d);
    int64_t emb = fmt_src_index(w->src, "token_embd.weight");
    const char *x = "/model/embed_tokens/output_0";
    if (st == GK_OK)
        st = ox_embedding(w, "input_ids", emb, "model.embed_tokens", x);
    if (hp->embd_scale != 1.0)
        x = ox_scale_by(&d, x, (float)hp->embd_scale, "/model/constants/FLOAT/embd_scale",
                        "/model/embed_tokens/Mul/output_0");
    const char *skip = NULL; /* the residual branch not yet added to x */
    for (int64_t l = 0; l < hp->n_layer && st == GK_OK; l++)
        st =
            hp->family->layer ? hp->family->layer(&d, l, &x, &skip) : llama_layer(&d, l, &x, &skip);
    const char *hn = "/model/norm/output_0";
    if (st == GK_OK)
        st = ox_resid_norm(
            &d, &x, skip, "output_norm.weight", 0, "model.norm.weight", hn,
            ox_name(g, "/model/layers.%lld/residual_mlp/output_0", (long long)hp->n_layer - 1));
    int64_t out = fmt_src_index(w->src, "output.weight");
    int post = hp->final_softcap > 0 || hp->logit_scale > 0; /* ops after lm_head */
    const char *raw = post ? "/model/lm_head/output_0" : "logits";
    if (st == GK_OK)
        st = ox_linear(w, hn, out >= 0 ? out : emb, -1, "lm_head", raw);
    if (st == GK_OK && hp->logit_scale > 0) /* llama.cpp: ggml_scale by 1.0f / scale */
        raw = ox_scale_by(&d, raw, 1.0f / (float)hp->logit_scale,
                          "/model/constants/FLOAT/1_over_logit_scale",
                          hp->final_softcap > 0 ? "/model/lm_head/Mul/output_0" : "logits");
    if (st == GK_OK && hp->final_softcap > 0)
        softcap_logits(&d, raw);
    return st;
}

/* ------------------------------------------------------------------------ */
/* genai_config.json                                                          */
/* ------------------------------------------------------------------------ */

json_t *ox_genai_config(const ox_hparams *hp, const ox_decoder_opts *o) {
    json_t *inputs = json_pack("{s:s, s:s, s:s, s:s}", "input_ids", "input_ids", "attention_mask",
                               "attention_mask", "past_key_names", "past_key_values.%d.key",
                               "past_value_names", "past_key_values.%d.value");
    if (o->kind == OX_GRAPH_STANDARD)
        json_object_set_new(inputs, "position_ids", json_string("position_ids"));
    json_t *outputs = json_pack("{s:s, s:s, s:s}", "logits", "logits", "present_key_names",
                                "present.%d.key", "present_value_names", "present.%d.value");
    json_t *decoder = json_pack(
        "{s:{s:s, s:[]}, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "session_options", "log_id",
        "onnxruntime-genai", "provider_options", "filename", "model.onnx", "head_size",
        (json_int_t)hp->head_dim, "hidden_size", (json_int_t)hp->n_embd, "num_attention_heads",
        (json_int_t)hp->n_head, "num_hidden_layers", (json_int_t)hp->n_layer, "num_key_value_heads",
        (json_int_t)hp->n_head_kv, "inputs", inputs, "outputs", outputs);
    json_t *model = json_pack("{s:I, s:I, s:I, s:I, s:o, s:s, s:I}", "bos_token_id",
                              (json_int_t)hp->bos, "eos_token_id", (json_int_t)hp->eos,
                              "pad_token_id", (json_int_t)(hp->pad >= 0 ? hp->pad : hp->eos),
                              "context_length", (json_int_t)hp->n_ctx, "decoder", decoder, "type",
                              hp->arch, "vocab_size", (json_int_t)hp->n_vocab);
    json_t *search = json_pack(
        "{s:b, s:f, s:i, s:f, s:f, s:i, s:i, s:I, s:i, s:b, s:f, s:f, s:i, s:b}", "do_sample", 0,
        "temperature", 1.0, "top_k", 50, "top_p", 1.0, "repetition_penalty", 1.0, "num_beams", 1,
        "num_return_sequences", 1, "max_length", (json_int_t)hp->n_ctx, "min_length", 0,
        "early_stopping", 1, "length_penalty", 1.0, "diversity_penalty", 0.0,
        "no_repeat_ngram_size", 0, "past_present_share_buffer", o->kind == OX_GRAPH_GENAI);
    return json_pack("{s:o, s:o}", "model", model, "search", search);
}
