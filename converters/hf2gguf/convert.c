/*
 * convert.c -- the hf2gguf engine: plan the tensors of a Hugging Face
 * checkpoint, write the metadata in convert_hf_to_gguf.py's order, then
 * stream the converted tensor data through a bounded, ordered worker pool.
 */
#include "converters/hf2gguf/convert.h"
#include "converters/hf2gguf/experts.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/hfmeta.h"
#include "formats/vocab.h"

#include "formats/dequant.h"
#include "formats/ftype.h"
#include "formats/gguf.h"
#include "formats/hfdir.h"
#include "formats/io.h"
#include "formats/keepquant.h"
#include "formats/pool.h"
#include "formats/source.h"
#include "formats/split.h"
#include "formats/stack.h"
#include "kernels/kernels.h"
#include "converters/requant/quantize.h"

/* Output bytes per work chunk: large enough to amortize locking, small
 * enough that 2 * jobs chunks bound the memory. */
#define CHUNK_BYTES (4u << 20)
#define MAX_GEN 4

/* ------------------------------------------------------------------------ */
/* Architecture registry                                                      */
/* ------------------------------------------------------------------------ */

static const cv_arch *const archs[] = {
    &cv_arch_llama,   &cv_arch_qwen2,    &cv_arch_qwen3,    &cv_arch_smollm3, &cv_arch_granite,
    &cv_arch_phi3,    &cv_arch_gemma2,   &cv_arch_gemma3,   &cv_arch_olmo2,   &cv_arch_glm4,
    &cv_arch_mixtral, &cv_arch_qwen2moe, &cv_arch_qwen3moe, &cv_arch_gptoss,  &cv_arch_deepseek2};

size_t cv_arch_count(void) {
    return sizeof archs / sizeof archs[0];
}

const cv_arch *cv_arch_at(size_t i) {
    return i < cv_arch_count() ? archs[i] : NULL;
}

const cv_arch *cv_arch_find(const char *hf_class) {
    for (size_t i = 0; i < cv_arch_count(); i++)
        for (const char *const *c = archs[i]->hf_classes; *c; c++)
            if (strcmp(*c, hf_class) == 0)
                return archs[i];
    return NULL;
}

int cv_outtype_from_name(const char *name) {
    static const char *const names[] = {"f32", "f16", "bf16", "q8_0", "auto"};
    for (int i = 0; i < 5; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

static const int outtype_ftype[] = {0, 1, 32, 7}; /* LlamaFileType of f32 f16 bf16 q8_0 */
static const int outtype_kern[] = {KERN_TYPE_F32, KERN_TYPE_F16, KERN_TYPE_BF16, KERN_TYPE_Q8_0};

/* ------------------------------------------------------------------------ */
/* The plan                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *hf;            /* checkpoint name (or the generated name) */
    char name[64];             /* GGUF name */
    const fmt_src_tensor *src; /* source, or NULL for generated */
    const char *file;          /* shard path for messages */
    float *gen;                /* generated data (owned) */
    int type;                  /* output kern type */
    uint32_t n_dims;
    int64_t ne[FMT_GGUF_MAX_DIMS]; /* ggml order */
    int64_t row_len, n_rows;
    int64_t perm_heads; /* 0: none */
    size_t out_row_bytes;
    uint64_t n_elements;
    uint64_t nonfinite; /* NaN/Inf values seen in the source */
    cv_xform xform;     /* the rule's transform */
} plan_t;

typedef struct {
    const cv_options *o;
    fmt_hfdir *dir;
    const json_t *cfg;
    const cv_arch *arch;
    fmt_src *raw; /* the weight files */
    fmt_dq *dq;   /* their quantized weights dequantized (formats/dequant.h) */
    fmt_kq *kq;   /* --keep-quant: those kept as blocks (formats/keepquant.h) */
    fmt_src *src; /* the weights as the converter sees them: raw through dq (and xs) */
    fmt_xset *xs; /* the family's source transform (cv_arch.transform), or NULL */
    plan_t *plan;
    size_t n_plan;
    int ftype; /* resolved outtype index */
    long long dims[CV_DIM_COUNT];
    long long n_head, n_head_kv;
    char *err;
    size_t errcap;
    json_t *text_cfg;   /* owned: config.json with text_config merged over it */
    json_t *filled_cfg; /* owned: that with the family's config_fills */
    long long n_expert; /* families with expert rules (experts.h), else 0 */
    const char *expert_key;
    cv_experts *experts;  /* the per-expert tensors gathered, and their stacks */
    json_t *adjusted_cfg; /* owned: the config after cv_arch.adjust_config */
} conv;

/* A weight file's name inside the checkpoint directory, as messages give it. */
static const char *shard_name(const conv *c, const char *file) {
    size_t n = strlen(fmt_hfdir_path(c->dir));
    if (strncmp(file, fmt_hfdir_path(c->dir), n) == 0 && file[n] == '/')
        return file + n + 1;
    return file;
}

static gk_status fail(conv *c, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gk_status fail(conv *c, gk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errcap, fmt, ap);
    va_end(ap);
    return st;
}

/* The architecture permutes Q/K (LlamaModel and its subclasses). */
static int permutes(const cv_arch *a) {
    for (size_t r = 0; r < a->n_tensors; r++)
        if (a->tensors[r].xform != CV_XF_NONE)
            return 1;
    return 0;
}

/* find_hparam semantics: a key present with null still counts as found. */
static int key_absent(const json_t *cfg, const char *key) {
    return json_object_get(cfg, key) == NULL;
}

/* Resolve the config dimensions the tensor table refers to. */
static gk_status resolve_dims(conv *c, long long *n_layer) {
    static const char *const k_layers[] = {"n_layers", "num_hidden_layers", "n_layer", "num_layers",
                                           NULL};
    static const char *const k_vocab[] = {"vocab_size", NULL};
    static const char *const k_embd[] = {"hidden_size", "n_embd", NULL};
    static const char *const k_ff[] = {"intermediate_size", "n_inner", NULL};
    static const char *const k_head[] = {"num_attention_heads", "n_head", NULL};
    static const char *const k_kv[] = {"num_key_value_heads", "n_kv_heads", NULL};
    static const char *const k_hd[] = {"head_dim", NULL};
    const char *cfgp = "config.json";
    long long v[CV_DIM_COUNT] = {0}, heads, kv, hd;
    if (permutes(c->arch) &&
        (key_absent(c->cfg, "n_kv_heads") && key_absent(c->cfg, "num_key_value_heads")))
        return fail(c, GK_E_FORMAT, "%s/%s: could not find any of: n_kv_heads, num_key_value_heads",
                    fmt_hfdir_path(c->dir), cfgp);
    if (!fmt_hf_get_int(c->cfg, k_layers, n_layer) || *n_layer <= 0 || *n_layer > 100000)
        return fail(c, GK_E_FORMAT, "%s/%s: could not find any of: num_hidden_layers, n_layers",
                    fmt_hfdir_path(c->dir), cfgp);
    if (!fmt_hf_get_int(c->cfg, k_embd, &v[CV_DIM_EMBD]) ||
        !fmt_hf_get_int(c->cfg, k_head, &heads) || heads <= 0 || v[CV_DIM_EMBD] <= 0)
        return fail(c, GK_E_FORMAT, "%s/%s: need hidden_size and num_attention_heads",
                    fmt_hfdir_path(c->dir), cfgp);
    if (!fmt_hf_get_int(c->cfg, k_kv, &kv))
        kv = heads;
    if (c->arch->ignores_head_dim || !fmt_hf_get_int(c->cfg, k_hd, &hd))
        hd = v[CV_DIM_EMBD] / heads;
    v[CV_DIM_VOCAB] = -1;
    fmt_hf_get_int(c->cfg, k_vocab, &v[CV_DIM_VOCAB]);
    v[CV_DIM_FF] = -1;
    fmt_hf_get_int(c->cfg, k_ff, &v[CV_DIM_FF]);
    v[CV_DIM_QDIM] = heads * hd;
    v[CV_DIM_KVDIM] = kv * hd;
    v[CV_DIM_HEAD] = hd;
    v[CV_DIM_QKV] = (heads + 2 * kv) * hd;
    v[CV_DIM_FF2] = v[CV_DIM_FF] < 0 ? -1 : 2 * v[CV_DIM_FF];
    static const char *const k_exp_ff[] = {"moe_intermediate_size", "intermediate_size", NULL};
    static const char *const k_shexp_ff[] = {"shared_expert_intermediate_size", NULL};
    v[CV_DIM_EXPERTS] = v[CV_DIM_EXP_FF] = v[CV_DIM_SHEXP_FF] = -1;
    v[CV_DIM_ONE] = 1;
    fmt_hf_get_int(c->cfg, k_exp_ff, &v[CV_DIM_EXP_FF]);
    fmt_hf_get_int(c->cfg, k_shexp_ff, &v[CV_DIM_SHEXP_FF]);
    if (cv_arch_has_experts(c->arch)) {
        gk_status st = cv_experts_config(c->cfg, &c->n_expert, &c->expert_key, c->err, c->errcap);
        if (st != GK_OK)
            return st;
        v[CV_DIM_EXPERTS] = c->n_expert;
    }
    for (int k = CV_DIM_F0; k < CV_DIM_COUNT; k++)
        v[k] = -1;
    if (c->arch->family_dims) {
        gk_status st = c->arch->family_dims(c->cfg, v + CV_DIM_F0, c->err, c->errcap);
        if (st != GK_OK)
            return st;
    }
    memcpy(c->dims, v, sizeof v);
    /* LlamaModel.modify_tensors: find_hparam(["n_heads", "num_attention_heads"]) */
    static const char *const k_perm_head[] = {"n_heads", "num_attention_heads", NULL};
    static const char *const k_perm_kv[] = {"n_kv_heads", "num_key_value_heads", NULL};
    if (!permutes(c->arch) || !fmt_hf_get_int(c->cfg, k_perm_head, &c->n_head))
        c->n_head = heads;
    if (!permutes(c->arch) || !fmt_hf_get_int(c->cfg, k_perm_kv, &c->n_head_kv))
        c->n_head_kv = kv;
    return GK_OK;
}

/* The config with what the family's transformers config class fills in
 * (cv_arch.config_fills), new reference. */
static json_t *filled_config(const json_t *cfg, const cv_config_fill *f) {
    static const char *const k_hidden[] = {"hidden_size", NULL};
    static const char *const k_heads[] = {"num_attention_heads", NULL};
    json_t *out = json_copy((json_t *)cfg);
    for (; out && f && f->key; f++) {
        const json_t *v = json_object_get(out, f->key);
        long long hidden, heads;
        if (f->kind == CV_FILL_INT && !v)
            json_object_set_new(out, f->key, json_integer(f->value));
        else if (f->kind == CV_FILL_HIDDEN_PER_HEAD && (!v || json_is_null(v)) &&
                 fmt_hf_get_int(out, k_hidden, &hidden) && fmt_hf_get_int(out, k_heads, &heads) &&
                 heads > 0)
            json_object_set_new(out, f->key, json_integer(hidden / heads));
    }
    return out;
}

/* resolve_dims over the filled config (the shapes assume its values); the
 * rest of the conversion reads it too unless --config-as-written. */
static gk_status resolve_dims_filled(conv *c, long long *n_layer) {
    const json_t *cfg = c->cfg;
    if (!(c->filled_cfg = filled_config(cfg, c->arch->config_fills)))
        return fail(c, GK_E_NOMEM, "out of memory");
    c->cfg = c->filled_cfg;
    gk_status st = resolve_dims(c, n_layer);
    if (c->o->config_as_written)
        c->cfg = cfg;
    if (st == GK_OK && c->arch->adjust_config) {
        if (!(c->adjusted_cfg = json_deep_copy(c->cfg)))
            return fail(c, GK_E_NOMEM, "out of memory");
        c->cfg = c->adjusted_cfg;
        st = c->arch->adjust_config(c->adjusted_cfg);
    }
    return st;
}

/* Output type of a tensor (prepare_tensors rules for our archs). */
static int out_type(const conv *c, const plan_t *p) {
    if (p->src && p->src->read_raw) /* --keep-quant blocks, gpt-oss's MXFP4 experts */
        return p->src->type;
    size_t L = strlen(p->name);
    int force_f32 = p->n_dims <= 1 || (L >= 12 && !strcmp(p->name + L - 12, "_norm.weight")) ||
                    L < 7 || strcmp(p->name + L - 7, ".weight") != 0;
    /* routers stay F32 (prepare_tensors: FFN_GATE_INP, FFN_GATE_INP_SHEXP) */
    const char *dot = strchr(p->name, '.');
    if (force_f32 ||
        (!strncmp(p->name, "blk.", 4) && dot && (dot = strchr(dot + 1, '.')) &&
         (!strcmp(dot, ".ffn_gate_inp.weight") || !strcmp(dot, ".ffn_gate_inp_shexp.weight"))))
        return KERN_TYPE_F32;
    int t = outtype_kern[c->ftype];
    if (t == KERN_TYPE_Q8_0 && p->row_len % 32 != 0)
        return KERN_TYPE_F16; /* QuantError -> falls back to F16 */
    return t;
}

static gk_status add_plan(conv *c, plan_t *p) {
    plan_t *np = realloc(c->plan, (c->n_plan + 1) * sizeof *np);
    if (!np)
        return fail(c, GK_E_NOMEM, "out of memory");
    c->plan = np;
    c->plan[c->n_plan++] = *p;
    return GK_OK;
}

/* Fill ggml shape fields from a PyTorch shape. */
static gk_status set_shape(conv *c, plan_t *p, uint32_t nd, const int64_t *shape) {
    if (nd > FMT_GGUF_MAX_DIMS)
        return fail(c, GK_E_UNSUPPORTED, "%s: tensor '%s' has %u dimensions (at most 4)", p->file,
                    p->hf, nd);
    p->n_dims = nd ? nd : 1;
    for (int i = 0; i < FMT_GGUF_MAX_DIMS; i++)
        p->ne[i] = 1;
    for (uint32_t i = 0; i < nd; i++)
        p->ne[i] = shape[nd - 1 - i];
    p->row_len = p->ne[0];
    p->n_rows = p->ne[1] * p->ne[2] * p->ne[3];
    p->n_elements = (uint64_t)p->row_len * (uint64_t)p->n_rows;
    return GK_OK;
}

/* The architecture's generated tensors (F32), planned first as the
 * converter writes them first. */
static gk_status plan_generated(conv *c) {
    cv_gen_tensor g[MAX_GEN];
    size_t ng = 0;
    gk_status st;
    if ((st = c->arch->generate(c->cfg, g, MAX_GEN, &ng, c->err, c->errcap)) != GK_OK)
        return st;
    for (size_t i = 0; i < ng; i++) {
        plan_t p = {0};
        memcpy(p.name, g[i].name, sizeof p.name);
        p.name[sizeof p.name - 1] = '\0';
        p.hf = "(generated)";
        p.file = "(generated)";
        p.gen = g[i].data;
        int64_t shape[1] = {g[i].n};
        set_shape(c, &p, 1, shape);
        p.type = KERN_TYPE_F32;
        if ((st = add_plan(c, &p)) != GK_OK) {
            for (size_t k = i; k < ng; k++)
                free(g[k].data);
            return st;
        }
    }
    return GK_OK;
}

/* Tensors the converter skips (buffers saved by old transformers). */
static int is_dropped(const char *hf) {
    static const char *const drop[] = {".attention.masked_bias", ".attention.bias",
                                       ".rotary_emb.inv_freq"};
    size_t L = strlen(hf);
    for (size_t k = 0; k < sizeof drop / sizeof *drop; k++) {
        size_t dl = strlen(drop[k]);
        if (L >= dl && !strcmp(hf + L - dl, drop[k]))
            return 1;
    }
    return 0;
}

static int is_pickle(const char *file) {
    size_t L = strlen(file);
    return L >= 4 && strcmp(file + L - 4, ".bin") == 0;
}

/* gpt-oss's MXFP4 experts, kept as they are, come first: GptOssModel
 * writes them from generate_extra_tensors. */
static int kept_first(const fmt_src_tensor *t) {
    return t->read_raw && t->type == KERN_TYPE_MXFP4;
}

/* The converter's tensor order (ModelBase.index_tensors): parts in sorted
 * file-name order; within a safetensors part, names sorted as byte strings
 * (gguf-py SafetensorsLocal), so blk.10 comes before blk.2; a pickle part
 * keeps its state-dict order. Dequantized GPTQ weights are new tensors
 * that dequant_model appends after all of those. */
static int cmp_source_order(const void *a, const void *b) {
    const fmt_src_tensor *x = *(const fmt_src_tensor *const *)a;
    const fmt_src_tensor *y = *(const fmt_src_tensor *const *)b;
    int r = kept_first(y) - kept_first(x);
    if (r == 0)
        r = fmt_dq_appended(x) - fmt_dq_appended(y);
    if (r == 0)
        r = strcmp(x->file, y->file);
    if (r == 0 && !is_pickle(x->file))
        r = strcmp(x->name, y->name);
    if (r == 0)
        r = x < y ? -1 : x > y;
    return r;
}

/* Tensors of a multimodal checkpoint that are not the language model's
 * (TextModel.filter_tensors: vision towers, projectors, audio parts). */
static int is_multimodal(const char *hf) {
    static const char *const prefixes[] = {
        "mlp",     "vit.",       "vpm.",           "siglip2.",          "conformer.",
        "merger.", "resampler.", "sound_encoder.", "sound_projection.", "speech_embeddings."};
    static const char *const parts[] = {"visual.",
                                        "vision.",
                                        "audio.",
                                        "talker.",
                                        "vision_",
                                        "audio_",
                                        "sam_model",
                                        "token2wav.",
                                        "code2wav.",
                                        "projector.",
                                        "pre_mm_projector_norm",
                                        "image_newline",
                                        "view_seperator",
                                        "patch_embed",
                                        "patch_embedding",
                                        "patch_merger.",
                                        "model.connector."};
    for (size_t k = 0; k < sizeof prefixes / sizeof *prefixes; k++)
        if (!strncmp(hf, prefixes[k], strlen(prefixes[k])))
            return 1;
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++)
        if (strstr(hf, parts[k]))
            return 1;
    return 0;
}

/* The name without "language_model." (ModelBase.filter_tensors removes it
 * wherever it occurs), in buf. */
static const char *text_model_name(const char *hf, char *buf, size_t cap) {
    static const char part[] = "language_model.";
    size_t o = 0;
    while (*hf && o + 1 < cap) {
        if (!strncmp(hf, part, sizeof part - 1))
            hf += sizeof part - 1;
        else
            buf[o++] = *hf++;
    }
    buf[o] = '\0';
    return buf;
}

/* The row count the converter keeps of a CV_XF_TRIM_VOCAB tensor
 * (Gemma3Model: the vocabulary size, data[:n]): config vocab_size with a
 * tokenizer.model, else tokenizer.json's vocab plus added tokens. */
static gk_status trim_vocab_rows(conv *c, plan_t *p) {
    long long n = c->dims[CV_DIM_VOCAB];
    json_t *tok = NULL;
    gk_status st = GK_OK;
    if (!fmt_hfdir_has(c->dir, "tokenizer.model")) {
        tok = fmt_hfdir_json(c->dir, FMT_HF_TOKENIZER, &st, c->err, c->errcap);
        const json_t *vocab = json_object_get(json_object_get(tok, "model"), "vocab");
        const json_t *added = json_object_get(tok, "added_tokens");
        if (!json_is_object(vocab) || !json_is_array(added))
            return st != GK_OK ? st
                               : fail(c, GK_E_FORMAT,
                                      "%s/tokenizer.json: needs model.vocab and added_tokens (%s "
                                      "cuts token_embd to their count)",
                                      fmt_hfdir_path(c->dir), c->arch->name);
        n = (long long)(json_object_size(vocab) + json_array_size(added));
    } else if (n <= 0) {
        return fail(c, GK_E_FORMAT, "config.json: %s needs 'vocab_size' to cut token_embd",
                    c->arch->name);
    }
    if (p->ne[1] > n) {
        p->ne[1] = n;
        p->n_rows = n;
        p->n_elements = (uint64_t)p->row_len * (uint64_t)n;
    }
    return GK_OK;
}

/* The shape the rule and config.json expect, else an error naming both. */
static gk_status check_shape(conv *c, const fmt_src_tensor *t, const cv_tensor_rule *rule) {
    uint32_t want_nd = rule->shape[1] == CV_DIM_NONE ? 1 : rule->shape[2] == CV_DIM_NONE ? 2 : 3;
    int ok = t->n_dims == want_nd;
    for (uint32_t k = 0; ok && k < want_nd; k++) {
        long long want = c->dims[rule->shape[k]];
        if (want >= 0 && t->shape[k] != want &&
            !(k == 0 && rule->xform == CV_XF_TRIM_VOCAB && t->shape[k] > want))
            ok = 0;
    }
    if (ok)
        return GK_OK;
    char got[96] = "", exp[96] = "";
    for (uint32_t k = 0; k < t->n_dims && k < 4; k++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", k ? "x" : "",
                 (long long)t->shape[k]);
    for (uint32_t k = 0; k < want_nd; k++)
        snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s%lld", k ? "x" : "",
                 c->dims[rule->shape[k]]);
    int vocab_dim = rule->shape[0] == CV_DIM_VOCAB;
    return fail(c, GK_E_FORMAT, "%s: tensor '%s' has shape %s, config.json implies %s%s", t->file,
                t->name, got[0] ? got : "()", exp, vocab_dim ? " (vocab size mismatch)" : "");
}

/* The inputs the converter takes (integers and FP8 it refuses). */
static gk_status check_dtype(conv *c, const fmt_src_tensor *t, const char *hf) {
    if (t->type != KERN_TYPE_F32 && t->type != KERN_TYPE_F16 && t->type != KERN_TYPE_BF16 &&
        t->type != KERN_TYPE_F64 && !t->read_raw)
        return fail(c, GK_E_UNSUPPORTED, "%s: tensor '%s' has dtype %s (need F32/F16/BF16/F64)",
                    t->file, hf, t->dtype);
    return GK_OK;
}

/* A plan entry for record t under rule's GGUF name in block bid. */
static gk_status plan_record(conv *c, const fmt_src_tensor *t, const cv_tensor_rule *rule,
                             long long bid, plan_t *p) {
    memset(p, 0, sizeof *p);
    p->hf = t->name;
    p->src = t;
    p->file = shard_name(c, t->file);
    cv_pattern_fill(rule->gguf, bid, -1, p->name, sizeof p->name);
    p->xform = rule->xform;
    return set_shape(c, p, t->n_dims, t->shape);
}

/* One expert's tensor (experts.h): gathered; when it completes its block,
 * the block's stacked tensors are planned, in rule order. */
static gk_status plan_expert(conv *c, const fmt_src_tensor *t, const char *hf, size_t r,
                             long long bid, long long xid, unsigned char *seen, long long n_layer) {
    gk_status st;
    int complete;
    if (!c->experts && !(c->experts = cv_experts_new(c->arch, n_layer, c->n_expert, c->expert_key)))
        return fail(c, GK_E_NOMEM, "out of memory");
    if ((st = check_shape(c, t, &c->arch->tensors[r])) != GK_OK ||
        (st = check_dtype(c, t, hf)) != GK_OK)
        return st;
    if ((st = cv_experts_add(c->experts, r, bid, xid, t, &complete, c->err, c->errcap)) != GK_OK ||
        !complete)
        return st;
    for (size_t k = 0; k < c->arch->n_tensors; k++) {
        const fmt_src_tensor *s = cv_experts_stacked(c->experts, k, bid);
        plan_t p;
        if (!s)
            continue;
        seen[k * (size_t)(n_layer + 1) + (size_t)(bid + 1)] = 1;
        if ((st = plan_record(c, s, &c->arch->tensors[k], bid, &p)) != GK_OK ||
            (st = add_plan(c, &p)) != GK_OK)
            return st;
    }
    return GK_OK;
}

/* Plan one checkpoint tensor by its rule. seen[rule * (n_layer+1) + bid+1]
 * marks what was found, for duplicates and for missing tensors. */
static gk_status plan_source_tensor(conv *c, const fmt_src_tensor *t, unsigned char *seen,
                                    long long n_layer) {
    char name[512];
    const char *hf = text_model_name(t->name, name, sizeof name), *path = t->file;
    size_t r, n_rules = c->arch->n_tensors;
    long long bid = -1, xid = -1;
    gk_status st;
    for (r = 0; r < n_rules; r++)
        if (cv_pattern_match(c->arch->tensors[r].hf, hf, &bid, &xid))
            break;
    if (r == n_rules)
        return fail(c, GK_E_FORMAT, "%s: can not map tensor '%s' (not a %s tensor)", path, hf,
                    c->arch->name);
    const cv_tensor_rule *rule = &c->arch->tensors[r];
    if (!rule->gguf)
        return GK_OK; /* a tensor the converter drops */
    if (bid >= n_layer)
        return fail(c, GK_E_FORMAT,
                    "%s: tensor '%s' belongs to block %lld but config.json has %lld layers", path,
                    hf, bid, n_layer);
    if (xid >= 0 && bid >= 0)
        return plan_expert(c, t, hf, r, bid, xid, seen, n_layer);
    size_t si = r * (size_t)(n_layer + 1) + (size_t)(bid + 1);
    if (seen[si])
        return fail(c, GK_E_FORMAT, "%s: duplicate tensor '%s' (also in an earlier shard)", path,
                    hf);
    seen[si] = 1;
    if ((st = check_shape(c, t, rule)) != GK_OK || (st = check_dtype(c, t, hf)) != GK_OK)
        return st;
    plan_t p;
    if ((st = plan_record(c, t, rule, bid, &p)) != GK_OK)
        return st;
    if (rule->xform == CV_XF_TRIM_VOCAB && (st = trim_vocab_rows(c, &p)) != GK_OK)
        return st;
    if (rule->xform == CV_XF_PERMUTE_Q || rule->xform == CV_XF_PERMUTE_K) {
        long long h = rule->xform == CV_XF_PERMUTE_Q ? c->n_head : c->n_head_kv;
        if (h <= 0 || t->shape[0] % (2 * h) != 0)
            return fail(c, GK_E_FORMAT, "%s: tensor '%s': %lld rows do not split into %lld heads",
                        path, hf, (long long)t->shape[0], h);
        p.perm_heads = h;
    }
    return add_plan(c, &p);
}

/* The first rule a checkpoint lacks, as an error. */
static gk_status check_missing(conv *c, const unsigned char *seen, long long n_layer) {
    for (size_t r = 0; r < c->arch->n_tensors; r++) {
        const cv_tensor_rule *rule = &c->arch->tensors[r];
        int expert = cv_rule_is_expert(rule);
        if (rule->optional && !expert)
            continue;
        int per_block = strchr(rule->hf, '#') != NULL;
        for (long long b = per_block ? 0 : -1; b < (per_block ? n_layer : 0); b++) {
            if (seen[r * (size_t)(n_layer + 1) + (size_t)(b + 1)])
                continue;
            /* an optional expert rule: a block may have no experts (a
             * leading dense block), not some of them */
            if (expert && rule->optional && (!c->experts || !cv_experts_in_block(c->experts, b)))
                continue;
            gk_status st;
            if (cv_rule_is_expert(rule) && c->experts &&
                (st = cv_experts_missing(c->experts, r, b, fmt_hfdir_path(c->dir), c->err,
                                         c->errcap)) != GK_OK)
                return st;
            if (cv_rule_is_expert(rule) && c->experts)
                continue; /* another rule of the block lacks an expert */
            char nm[256];
            cv_pattern_fill(rule->hf, b, 0, nm, sizeof nm);
            return fail(c, GK_E_FORMAT, "%s: missing tensor '%s' (config.json has %lld layers)",
                        fmt_hfdir_path(c->dir), nm, n_layer);
        }
    }
    return GK_OK;
}

static gk_status plan_tensors(conv *c, long long n_layer) {
    gk_status st;
    if (c->arch->generate && !c->o->vocab_only && (st = plan_generated(c)) != GK_OK)
        return st;
    size_t seen_n = c->arch->n_tensors * (size_t)(n_layer + 1);
    unsigned char *seen = calloc(seen_n ? seen_n : 1, 1);
    if (!seen)
        return fail(c, GK_E_NOMEM, "out of memory");
    uint64_t n_src = fmt_src_n_tensors(c->src);
    const fmt_src_tensor **order = calloc(n_src ? n_src : 1, sizeof *order);
    st = order ? GK_OK : fail(c, GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; order && i < n_src; i++)
        order[i] = fmt_src_tensor_at(c->src, i);
    if (order)
        qsort(order, n_src, sizeof *order, cmp_source_order);
    size_t n_multimodal = 0;
    for (uint64_t i = 0; st == GK_OK && i < n_src; i++) {
        if (is_multimodal(order[i]->name))
            n_multimodal++;
        else if (!is_dropped(order[i]->name))
            st = plan_source_tensor(c, order[i], seen, n_layer);
    }
    if (n_multimodal)
        fmt_log(2, "note: skipped %zu vision/audio/projector tensors (the text model only)",
                n_multimodal);
    if (st == GK_OK)
        st = check_missing(c, seen, n_layer);
    free(order);
    free(seen);
    return st;
}

/* --outtype auto (LlamaFileType.GUESSED): the first tensor of two or more
 * dimensions, in the converter's order, that is bf16 or f16 decides;
 * otherwise f16. */
static int guess_outtype(const conv *c) {
    for (size_t i = 0; i < c->n_plan; i++) {
        const fmt_src_tensor *t = c->plan[i].src;
        if (!t || t->n_dims < 2)
            continue;
        if (t->type == KERN_TYPE_BF16)
            return CV_OUT_BF16;
        if (t->type == KERN_TYPE_F16)
            return CV_OUT_F16;
    }
    return CV_OUT_F16;
}

/* ------------------------------------------------------------------------ */
/* Weights                                                                    */
/* ------------------------------------------------------------------------ */

/* The checkpoint's quant_method is the family's own (gpt-oss "mxfp4"). */
static int own_quant(const conv *c) {
    const json_t *q = json_object_get(c->cfg, "quantization_config");
    const char *m = json_string_value(json_object_get(q, "quant_method"));
    return c->arch->own_quant_method && m && !strcmp(m, c->arch->own_quant_method);
}

/* general.file_type: the outtype's, or the family's own for a checkpoint
 * it keeps quantized when the outtype is a float type (ModelBase.
 * prepare_metadata: MOSTLY_MXFP4_MOE for gpt-oss). */
static uint32_t file_type(const conv *c) {
    if (c->ftype != CV_OUT_Q8_0 && own_quant(c))
        return c->arch->own_quant_file_type;
    return (uint32_t)outtype_ftype[c->ftype];
}

/* The family's source transform (cv_arch.transform) over the weights. */
static gk_status apply_transform(conv *c, long long n_layer) {
    gk_status st;
    if (!c->arch->transform)
        return GK_OK;
    if (!(c->xs = fmt_xset_new()))
        return fail(c, GK_E_NOMEM, "out of memory");
    if ((st = c->arch->transform(c->src, c->cfg, n_layer, c->xs, c->err, c->errcap)) != GK_OK)
        return st;
    fmt_src *s = fmt_xset_source(c->xs, &st);
    if (!s)
        return fail(c, st, "out of memory");
    c->src = s;
    return GK_OK;
}

/* Pre-quantized weights (config.json quantization_config) dequantized as
 * ModelBase.dequant_model does. Without it, an AutoGPTQ quantize_config.json
 * (which upstream ignores, then fails on the packs) is read as a gptq
 * config when it names no method. */
static gk_status open_dequant(conv *c) {
    gk_status st;
    char cfg_name[4200];
    const json_t *q = json_object_get(c->cfg, "quantization_config");
    if (own_quant(c)) {
        c->src = c->raw; /* the family's transform reads them */
        return GK_OK;
    }
    const json_t *old = q ? NULL : fmt_hfdir_json(c->dir, FMT_HF_QUANTIZE_CONFIG, NULL, NULL, 0);
    json_t *gptq =
        json_is_object(old) && !json_object_get(old, "quant_method") ? json_deep_copy(old) : NULL;
    if (gptq)
        json_object_set_new(gptq, "quant_method", json_string("gptq"));
    snprintf(cfg_name, sizeof cfg_name, "%s/%s", fmt_hfdir_path(c->dir),
             old ? "quantize_config.json" : "config.json");
    c->dq = fmt_dq_open(c->raw,
                        gptq  ? gptq
                        : old ? old
                              : q,
                        cfg_name, old ? NULL : "quantization_config", &st, c->err, c->errcap);
    json_decref(gptq);
    if (c->dq)
        c->src = fmt_dq_source(c->dq);
    if (c->dq && c->o->keep_quant) {
        if (!(c->kq = fmt_kq_open(c->src, &st, c->err, c->errcap)))
            return st;
        c->src = fmt_kq_source(c->kq);
        for (size_t i = 0; c->o->keep_quant > 1 && i < fmt_kq_count(c->kq); i++) {
            const fmt_kq_stats *k = fmt_kq_at(c->kq, i);
            if (k->rounded)
                return fail(c, GK_E_FORMAT,
                            "%s: tensor '%s': %llu of %llu blocks cannot be kept exactly: %s "
                            "(--keep-quant=strict)",
                            fmt_hfdir_path(c->dir), k->name, (unsigned long long)k->rounded,
                            (unsigned long long)(k->rounded + k->exact), k->why);
        }
    }
    return st;
}

/* The weights as one tensor source, found as the converter finds them:
 * model*.safetensors (through model.safetensors.index.json when there is
 * one, which formats/safetensors.c validates), else pytorch_model*.bin,
 * files in sorted name order. */
static gk_status open_source(conv *c) {
    gk_status st;
    size_t n = 0;
    int is_bin = 0;
    char **names = fmt_hfdir_list(c->dir, "model", ".safetensors", &n, &st);
    if (names && n == 0) {
        fmt_hfdir_free_list(names);
        names = fmt_hfdir_list(c->dir, "pytorch_model", ".bin", &n, &st);
        is_bin = 1;
    }
    if (!names)
        return fail(c, st, "%s: cannot list directory", fmt_hfdir_path(c->dir));
    char **paths = n ? calloc(n, sizeof *paths) : NULL;
    char index[4096];
    const char *index_name = fmt_hfdir_file_name(FMT_HF_INDEX);
    st = n ? GK_OK
           : fail(c, GK_E_FORMAT, "%s: no weights (model*.safetensors or pytorch_model*.bin)",
                  fmt_hfdir_path(c->dir));
    if (st == GK_OK && !paths)
        st = fail(c, GK_E_NOMEM, "out of memory");
    for (size_t i = 0; st == GK_OK && i < n; i++) {
        char path[4096];
        if (!fmt_hfdir_join(c->dir, names[i], path, sizeof path) || !(paths[i] = strdup(path)))
            st = fail(c, GK_E_NOMEM, "out of memory");
        /* as for index entries: a symlink may not lead out of the checkpoint */
        else if (!fmt_hfdir_contains(c->dir, names[i]))
            st = fail(c, GK_E_FORMAT, "%s: resolves outside the checkpoint directory", path);
    }
    if (st == GK_OK) {
        int indexed = !is_bin && fmt_hfdir_has(c->dir, index_name) &&
                      fmt_hfdir_join(c->dir, index_name, index, sizeof index);
        const char *one = index;
        c->raw = indexed ? fmt_src_open_files(&one, 1, &st)
                         : fmt_src_open_files((const char *const *)paths, n, &st);
        if (!c->raw)
            fail(c, st, "%s", fmt_src_open_errmsg());
    }
    if (st == GK_OK)
        st = open_dequant(c);
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    fmt_hfdir_free_list(names);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                   */
/* ------------------------------------------------------------------------ */

/* "config.json: 'a' or 'b' is missing (need ...)" */
static gk_status hparam_missing(const cv_hparam *row, char *err, size_t errcap) {
    size_t o = (size_t)snprintf(err, errcap, "config.json:");
    for (const char *const *k = row->keys; *k && o < errcap; k++)
        o += (size_t)snprintf(err + o, errcap - o, "%s '%s'", k == row->keys ? "" : " or", *k);
    if (o < errcap)
        snprintf(err + o, errcap - o, " is missing (need %s)",
                 row->type == CV_HP_U32 ? "an integer in 0..4294967295" : "a number");
    return GK_E_FORMAT;
}

/* Required: the first key present must hold the type (struct packs it). */
static gk_status hparam_required(const json_t *obj, const cv_hparam *row, double *v, char *err,
                                 size_t errcap) {
    for (const char *const *k = row->keys; *k; k++) {
        const json_t *j = json_object_get(obj, *k);
        if (!j)
            continue;
        int ok = row->type == CV_HP_U32 ? json_is_integer(j) && json_integer_value(j) >= 0 &&
                                              json_integer_value(j) <= (json_int_t)UINT32_MAX
                                        : json_is_number(j);
        if (!ok) {
            snprintf(err, errcap, "config.json: '%s' has the wrong type or range (need %s)", *k,
                     row->type == CV_HP_U32 ? "an integer in 0..4294967295" : "a number");
            return GK_E_FORMAT;
        }
        *v = json_number_value(j);
        return GK_OK;
    }
    return hparam_missing(row, err, errcap);
}

gk_status cv_hparam_value(const json_t *obj, const cv_hparam *row, int *found, double *v, char *err,
                          size_t errcap) {
    long long i;
    *found = 1;
    if (row->required)
        return hparam_required(obj, row, v, err, errcap);
    if (row->type == CV_HP_F32) {
        *found = fmt_hf_get_num(obj, row->keys, v);
        return GK_OK;
    }
    if (!(*found = fmt_hf_get_int(obj, row->keys, &i)))
        return GK_OK;
    if (i < 0 || i > UINT32_MAX) {
        snprintf(err, errcap, "config.json: '%s' = %lld is out of range", row->keys[0], i);
        return GK_E_FORMAT;
    }
    *v = (double)i;
    return GK_OK;
}

gk_status cv_write_hparams(fmt_gguf_writer *w, const char *arch, const json_t *obj,
                           const cv_hparam *rows, size_t n, long long n_layer, char *err,
                           size_t errcap) {
    gk_status st = GK_OK;
    for (size_t r = 0; st == GK_OK && r < n; r++) {
        double v = (double)n_layer;
        int found = 1;
        if (rows[r].type != CV_HP_BLOCK_COUNT &&
            ((st = cv_hparam_value(obj, &rows[r], &found, &v, err, errcap)) != GK_OK || !found))
            continue;
        char key[128];
        snprintf(key, sizeof key, "%s.%s", arch, rows[r].suffix);
        st = rows[r].type == CV_HP_F32 ? fmt_gguf_writer_add_f32(w, key, (float)v)
                                       : fmt_gguf_writer_add_u32(w, key, (uint32_t)v);
    }
    return st;
}

/* One optional float of obj (rope parameters), by its config name. */
static gk_status add_f32_from(conv *c, fmt_gguf_writer *w, const char *suffix, const json_t *obj,
                              const char *name) {
    const char *const keys[] = {name, NULL};
    const cv_hparam row = {suffix, keys, CV_HP_F32, 0};
    return cv_write_hparams(w, c->arch->name, obj, &row, 1, 0, c->err, c->errcap);
}

static gk_status add_str_key(conv *c, fmt_gguf_writer *w, const char *suffix, const char *v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", c->arch->name, suffix);
    return fmt_gguf_writer_add_str(w, key, v, strlen(v));
}

/* A number in rope_params, or an error naming it (Python would raise). */
static gk_status rope_number(conv *c, const json_t *params, const char *name, double *v) {
    const char *const keys[] = {name, NULL};
    if (fmt_hf_get_num(params, keys, v))
        return GK_OK;
    return fail(c, GK_E_FORMAT, "%s/config.json: rope scaling '%s' missing or not a number",
                fmt_hfdir_path(c->dir), name);
}

/* TextModel.set_gguf_parameters' rope scaling keys (before rope.freq_base):
 * linear and yarn with a factor, longrope/su by type only. */
static gk_status write_rope_scaling(conv *c, fmt_gguf_writer *w, const json_t *params) {
    const char *type = fmt_hf_get_str(params, "rope_type");
    const json_t *factor_j = json_object_get(params, "factor");
    gk_status st = GK_OK;
    double factor, orig;
    if (!type)
        return GK_OK;
    if (!strcasecmp(type, "su") || !strcasecmp(type, "longrope"))
        return add_str_key(c, w, "rope.scaling.type", "longrope");
    int linear = !strcasecmp(type, "linear"), yarn = !strcasecmp(type, "yarn");
    if ((!linear && !yarn) || !factor_j || json_is_null(factor_j))
        return GK_OK;
    if ((st = rope_number(c, params, "factor", &factor)) != GK_OK ||
        (yarn && (st = rope_number(c, params, "original_max_position_embeddings", &orig)) != GK_OK))
        return st;
    if ((st = add_str_key(c, w, "rope.scaling.type", linear ? "linear" : "yarn")) != GK_OK ||
        (st = add_f32_from(c, w, "rope.scaling.factor", params, "factor")) != GK_OK || linear)
        return st;
    if (orig < 0 || orig > UINT32_MAX)
        return fail(c, GK_E_FORMAT, "config.json: 'original_max_position_embeddings' out of range");
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.original_context_length", c->arch->name);
    const char *attn = json_object_get(params, "attention_factor") &&
                               !json_is_null(json_object_get(params, "attention_factor"))
                           ? "attention_factor"
                           : "attn_factor";
    if ((st = fmt_gguf_writer_add_u32(w, key, (uint32_t)orig)) != GK_OK ||
        (st = add_f32_from(c, w, "rope.scaling.yarn_ext_factor", params, "extrapolation_factor")) !=
            GK_OK ||
        (st = add_f32_from(c, w, "rope.scaling.yarn_attn_factor", params, attn)) != GK_OK ||
        (st = add_f32_from(c, w, "rope.scaling.yarn_beta_fast", params, "beta_fast")) != GK_OK)
        return st;
    return add_f32_from(c, w, "rope.scaling.yarn_beta_slow", params, "beta_slow");
}

/* rope.dimension_sections: mrope_section padded with 0 / cut to 4 entries. */
static gk_status write_mrope(conv *c, fmt_gguf_writer *w, const json_t *rp) {
    const json_t *sec = json_object_get(rp, "mrope_section");
    if (!sec)
        return GK_OK;
    int32_t v[4] = {0};
    for (size_t i = 0; i < 4 && i < json_array_size(sec); i++) {
        const json_t *e = json_array_get(sec, i);
        if (!json_is_integer(e))
            return fail(c, GK_E_FORMAT, "config.json: 'mrope_section' must hold integers");
        v[i] = (int32_t)json_integer_value(e);
    }
    char key[128];
    snprintf(key, sizeof key, "%s.rope.dimension_sections", c->arch->name);
    return fmt_gguf_writer_add_array(w, key, FMT_GGUF_I32, 4, v);
}

/* expert_gating_func: sigmoid 2, softmax 1; any other value is an error. */
static gk_status write_gating(conv *c, fmt_gguf_writer *w) {
    static const char *const k_gate[] = {"score_function",
                                         "scoring_func",
                                         "score_func",
                                         "moe_router_activation",
                                         "moe_router_activation_func",
                                         NULL};
    for (const char *const *k = k_gate; *k; k++) {
        const json_t *v = json_object_get(c->cfg, *k);
        if (!v)
            continue;
        if (json_is_null(v))
            return GK_OK;
        const char *f = json_string_value(v);
        char key[128];
        snprintf(key, sizeof key, "%s.expert_gating_func", c->arch->name);
        if (f && !strcmp(f, "sigmoid"))
            return fmt_gguf_writer_add_u32(w, key, 2);
        if (f && !strcmp(f, "softmax"))
            return fmt_gguf_writer_add_u32(w, key, 1);
        return fail(c, GK_E_FORMAT, "%s/config.json: unsupported expert score function in '%s'",
                    fmt_hfdir_path(c->dir), *k);
    }
    return GK_OK;
}

/* The dimensions block of TextModel.set_gguf_parameters. */
static gk_status write_dims(conv *c, fmt_gguf_writer *w, long long n_layer) {
    static const char *const k_ctx[] = {
        "max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length",
        "model_max_length",        NULL};
    static const char *const k_embd[] = {"hidden_size", "n_embd", "dim", NULL};
    static const char *const k_ff[] = {"intermediate_size", "n_inner", "hidden_dim", NULL};
    static const char *const k_head[] = {"num_attention_heads", "n_head", "n_heads", NULL};
    static const char *const k_kv[] = {"num_key_value_heads", "n_kv_heads", NULL};
    static const cv_hparam rows[] = {{"block_count", NULL, CV_HP_BLOCK_COUNT, 0},
                                     {"context_length", k_ctx, CV_HP_U32, 0},
                                     {"embedding_length", k_embd, CV_HP_U32, 0},
                                     {"feed_forward_length", k_ff, CV_HP_U32, 0},
                                     {"attention.head_count", k_head, CV_HP_U32, 0},
                                     {"attention.head_count_kv", k_kv, CV_HP_U32, 0}};
    gk_status st = cv_write_hparams(w, c->arch->name, c->cfg, rows, sizeof rows / sizeof *rows,
                                    n_layer, c->err, c->errcap);
    if (st == GK_OK && json_is_false(json_object_get(c->cfg, "is_causal"))) {
        char key[128];
        snprintf(key, sizeof key, "%s.attention.causal", c->arch->name);
        st = fmt_gguf_writer_add_bool(w, key, 0);
    }
    return st;
}

/* The rope keys of TextModel.set_gguf_parameters: scaling, M-RoPE
 * sections, the global and the sliding-window theta. */
static gk_status write_rope(conv *c, fmt_gguf_writer *w) {
    json_t *rp = fmt_hf_rope_parameters(c->cfg);
    if (!rp)
        return fail(c, GK_E_NOMEM, "out of memory");
    const json_t *params = json_object_get(rp, "full_attention");
    if (!params)
        params = rp;
    gk_status st = write_rope_scaling(c, w, params);
    if (st == GK_OK)
        st = write_mrope(c, w, rp);
    if (st == GK_OK)
        st = add_f32_from(c, w, "rope.freq_base", params, "rope_theta");
    if (st == GK_OK)
        st = add_f32_from(c, w, "rope.freq_base_swa", json_object_get(rp, "sliding_attention"),
                          "rope_theta");
    json_decref(rp);
    return st;
}

/* TextModel.set_gguf_parameters (ec562eb order), then the architecture's
 * own keys. */
static gk_status write_hparams(conv *c, fmt_gguf_writer *w, long long n_layer) {
    static const char *const k_rms[] = {"rms_norm_eps", "norm_eps", NULL};
    static const char *const k_ln[] = {"layer_norm_eps", "layer_norm_epsilon", "norm_epsilon",
                                       NULL};
    static const char *const k_exp[] = {"num_local_experts", "num_experts", NULL};
    static const char *const k_used[] = {"num_experts_per_tok", "num_experts_per_token",
                                         "top_k_experts", NULL};
    static const char *const k_group[] = {"n_group", NULL};
    static const char *const k_group_used[] = {"topk_group", NULL};
    static const char *const k_hd[] = {"head_dim", NULL};
    static const cv_hparam norms_experts[] = {
        {"attention.layer_norm_rms_epsilon", k_rms, CV_HP_F32, 0},
        {"attention.layer_norm_epsilon", k_ln, CV_HP_F32, 0},
        {"expert_count", k_exp, CV_HP_U32, 0},
        {"expert_used_count", k_used, CV_HP_U32, 0},
        {"expert_group_count", k_group, CV_HP_U32, 0},
        {"expert_group_used_count", k_group_used, CV_HP_U32, 0}};
    static const cv_hparam head_dim[] = {{"attention.key_length", k_hd, CV_HP_U32, 0},
                                         {"attention.value_length", k_hd, CV_HP_U32, 0}};
    const char *arch = c->arch->name;
    if (c->arch->own_hparams)
        return c->arch->own_hparams(w, arch, c->cfg, n_layer, file_type(c), c->err, c->errcap);
    gk_status st = write_dims(c, w, n_layer);
    if (st == GK_OK)
        st = write_rope(c, w);
    if (st == GK_OK)
        st = cv_write_hparams(w, arch, c->cfg, norms_experts, 6, 0, c->err, c->errcap);
    if (st == GK_OK)
        st = write_gating(c, w);
    if (st == GK_OK && !c->arch->ignores_head_dim)
        st = cv_write_hparams(w, arch, c->cfg, head_dim, 2, 0, c->err, c->errcap);
    if (st == GK_OK)
        st = fmt_gguf_writer_add_u32(w, "general.file_type", file_type(c));
    if (st == GK_OK && c->arch->extra_hparams)
        st = c->arch->extra_hparams(w, arch, c->cfg, c->err, c->errcap);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Data conversion                                                            */
/* ------------------------------------------------------------------------ */

/* Source row (PyTorch dim 0) feeding output row r under the llama Q/K
 * permutation: out (h, i, j) <- in (h, j, i) with rows split as
 * (heads, 2, D/2). */
int64_t cv_perm_src(int64_t r, int64_t rows, int64_t heads) {
    int64_t d = rows / heads, h = r / d, w = r % d;
    return h * d + (w % 2) * (d / 2) + w / 2;
}

void cv_store_row(int type, const float *src, int64_t n, uint8_t *dst) {
    switch (type) {
    case KERN_TYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case KERN_TYPE_F16: kern_fp32_to_fp16_row(src, (uint16_t *)(void *)dst, n); break;
    case KERN_TYPE_BF16: kern_fp32_to_bf16_row(src, (uint16_t *)(void *)dst, n); break;
    default: kern_type_info(type)->quantize_ref(src, dst, 1, n, NULL); break;
    }
}

/* A gemma norm weight plus 1, as the converter computes it: F16 sources
 * add in half precision (torch half add: f32 sum rounded to f16), the
 * others after conversion to f32; then stored as the plan's type. */
static uint64_t convert_norm_add1(const plan_t *p, uint8_t *dst, float *scratch) {
    const fmt_src_tensor *t = p->src;
    gk_status st = fmt_src_read_rows(t, 0, 1, scratch);
    assert(st == GK_OK);
    (void)st;
    for (int64_t i = 0; i < p->row_len; i++) {
        float v = scratch[i] + 1.0f;
        scratch[i] = t->type == KERN_TYPE_F16 ? kern_fp16_to_fp32(kern_fp32_to_fp16(v)) : v;
    }
    cv_store_row(p->type, scratch, p->row_len, dst);
    return kern_count_nonfinite(t->type, t->data, p->row_len);
}

/* Rows of a computed record (a dequantized weight) through its read
 * function, which cannot fail: formats/dequant checked its inputs. */
static uint64_t convert_computed(const plan_t *p, int64_t r0, int64_t r1, uint8_t *dst,
                                 float *scratch) {
    uint64_t bad = 0;
    for (int64_t r = r0; r < r1; r++, dst += p->out_row_bytes) {
        int64_t sr = p->perm_heads ? cv_perm_src(r, p->n_rows, p->perm_heads) : r;
        gk_status st = fmt_src_read_rows(p->src, sr, 1, scratch);
        assert(st == GK_OK);
        (void)st;
        bad += kern_count_nonfinite(KERN_TYPE_F32, scratch, p->row_len);
        cv_store_row(p->type, scratch, p->row_len, dst);
    }
    return bad;
}

/* Rows of a record kept as blocks (--keep-quant, gpt-oss's MXFP4 experts),
 * which cannot be non-finite: their readers checked the scales. */
static uint64_t convert_blocks(const plan_t *p, int64_t r0, int64_t r1, uint8_t *dst) {
    for (int64_t r = r0; r < r1; r++, dst += p->out_row_bytes) {
        int64_t sr = p->perm_heads ? cv_perm_src(r, p->n_rows, p->perm_heads) : r;
        gk_status st = p->src->read_raw(p->src, sr, 1, dst);
        assert(st == GK_OK);
        (void)st;
    }
    return 0;
}

/* Output rows [r0, r0 + n) of plan p into dst; scratch holds row_len floats.
 * Returns the number of non-finite source values seen. The source types
 * were checked in plan_tensors, so reading cannot fail. */
static uint64_t convert_rows(const plan_t *p, int64_t r0, int64_t r1, uint8_t *dst,
                             float *scratch) {
    if (p->gen) {
        cv_store_row(p->type, p->gen, p->row_len, dst);
        return 0;
    }
    if (p->xform == CV_XF_NORM_ADD1)
        return convert_norm_add1(p, dst, scratch);
    const fmt_src_tensor *t = p->src;
    if (!t->data && t->read_raw && t->type == p->type)
        return convert_blocks(p, r0, r1, dst);
    if (!t->data && !fmt_stack_is(t))
        return convert_computed(p, r0, r1, dst, scratch);
    size_t es = kern_row_bytes(t->type, 1), rb = kern_row_bytes(t->type, p->row_len);
    uint64_t bad = 0;
    gk_status st = GK_OK;
    if (p->n_dims == 1 && p->perm_heads) {
        /* permuted 1-D bias: gather elements */
        for (int64_t i = 0; i < p->row_len; i++)
            kern_row_to_f32(t->type,
                            t->data + (size_t)cv_perm_src(i, p->row_len, p->perm_heads) * es,
                            scratch + i, 1);
        cv_store_row(p->type, scratch, p->row_len, dst);
        return kern_count_nonfinite(t->type, t->data, p->row_len);
    }
    for (int64_t r = r0; r < r1; r++, dst += p->out_row_bytes) {
        int64_t sr = p->perm_heads ? cv_perm_src(r, p->n_rows, p->perm_heads) : r;
        /* a stacked record's rows are its parts' (formats/stack.h) */
        const uint8_t *src = t->data ? t->data + (size_t)sr * rb : fmt_stack_row_data(t, sr);
        if (!src) { /* a computed expert */
            bad += convert_computed(p, r, r + 1, dst, scratch);
            continue;
        }
        uint64_t row_bad = kern_count_nonfinite(t->type, src, p->row_len);
        bad += row_bad;
        /* the stored bytes when the type does not change, except that the
         * converter takes BF16 through f32 (numpy has no bf16), which
         * quiets NaNs */
        if (t->type == p->type && !(row_bad && t->type == KERN_TYPE_BF16)) {
            memcpy(dst, src, p->out_row_bytes);
        } else {
            st = fmt_src_read_rows(t, sr, 1, scratch);
            assert(st == GK_OK);
            cv_store_row(p->type, scratch, p->row_len, dst);
        }
    }
    (void)st;
    return bad;
}

/* ------------------------------------------------------------------------ */
/* Chunks converted in parallel, written in order                             */
/* ------------------------------------------------------------------------ */

typedef struct {
    size_t plan;
    int64_t r0, r1;
    size_t bytes;
    uint64_t nonfinite; /* filled with the chunk */
} job_t;

typedef struct {
    conv *c;
    job_t *jobs;
    fmt_gguf_writer *w;
    fmt_output *out;
    fmt_progress *prog;
    uint64_t done;    /* bytes written */
    int write_failed; /* c->err is set */
} write_ctx;

/* fmt_pool_fill_fn: convert chunk j; scratch holds the longest row. */
static gk_status fill_chunk(void *ctx, uint64_t j, void *buf, void *scratch) {
    write_ctx *x = ctx;
    job_t *jb = &x->jobs[j];
    const plan_t *p = &x->c->plan[jb->plan];
    jb->nonfinite = convert_rows(p, jb->r0, jb->r1, buf, scratch);
    /* stacked experts: their rows are in buf now; dropping their pages here
     * rather than once written bounds the mapped source by the chunks
     * being filled, not by every buffer in flight */
    if (fmt_stack_is(p->src))
        fmt_stack_release(p->src, jb->r0, jb->r1);
    return GK_OK;
}

/* Once a chunk is written, drop its source pages from our mapping so that
 * resident memory stays bounded by the chunks in flight, not by the model
 * or tensor size (permuted tensors read rows out of order: dropped after
 * their last chunk). The mapping is read-only and file-backed: a page that
 * another chunk still needs is simply faulted in again. filled: fill_chunk
 * already dropped the pages of stacked experts. */
static void release_source(const plan_t *p, int64_t r0, int64_t r1, int filled) {
    const fmt_src_tensor *t = p->src;
    if (t && t->release) { /* a family's transform (formats/view, formats/mxfp4) */
        t->release(t, r0, r1);
        return;
    }
    if (fmt_stack_is(t)) { /* stacked experts: their parts' rows */
        if (!filled)
            fmt_stack_release(t, r0, r1);
        return;
    }
    if (t && !t->data) { /* a dequantized weight: formats/dequant knows what it read */
        if (!p->perm_heads || r1 == p->n_rows)
            fmt_dq_release(t, p->perm_heads ? 0 : r0, r1);
        return;
    }
    if (!t || t->size == 0)
        return;
    if (p->perm_heads || p->n_dims == 1) {
        if (r1 == p->n_rows)
            fmt_release_pages(t->data, (size_t)t->size);
        return;
    }
    size_t rb = kern_row_bytes(t->type, p->row_len);
    fmt_release_pages(t->data + (size_t)r0 * rb, (size_t)(r1 - r0) * rb);
}

/* fmt_pool_drain_fn: write chunk j, the chunks before it being written. */
static gk_status write_chunk(void *ctx, uint64_t j, const void *buf) {
    write_ctx *x = ctx;
    const job_t *jb = &x->jobs[j];
    gk_status st = fmt_gguf_writer_write_data(x->w, x->out, buf, jb->bytes);
    if (st != GK_OK) {
        const char *m = fmt_output_errmsg(x->out);
        x->write_failed = 1;
        return fail(x->c, st, "%s", m && *m ? m : fmt_gguf_writer_errmsg(x->w));
    }
    x->done += jb->bytes;
    if (jb->r0 == 0) { /* a tensor's first chunk */
        const plan_t *p = &x->c->plan[jb->plan];
        fmt_progress_item(x->prog, jb->plan + 1, x->c->n_plan, p->name, strlen(p->name));
    }
    release_source(&x->c->plan[jb->plan], jb->r0, jb->r1, 1);
    x->c->plan[jb->plan].nonfinite += jb->nonfinite;
    fmt_progress_update(x->prog, x->done);
    return GK_OK;
}

static gk_status write_data(conv *c, fmt_gguf_writer *w, fmt_output *out, size_t p0, size_t p1) {
    write_ctx x = {.c = c, .w = w, .out = out};
    size_t n_jobs = 0, cap = 0, max_chunk = 0;
    int64_t max_row = 1;
    uint64_t total = 0;
    for (size_t i = p0; i < p1; i++) {
        plan_t *p = &c->plan[i];
        if (p->row_len > max_row)
            max_row = p->row_len;
        int64_t per =
            p->n_dims == 1 ? 1 : (int64_t)(CHUNK_BYTES / (p->out_row_bytes ? p->out_row_bytes : 1));
        if (per < 1)
            per = 1;
        for (int64_t r = 0; r < p->n_rows; r += per) {
            if (n_jobs == cap) {
                cap = cap ? 2 * cap : 256;
                job_t *nj = realloc(x.jobs, cap * sizeof *nj);
                if (!nj) {
                    free(x.jobs);
                    return fail(c, GK_E_NOMEM, "out of memory");
                }
                x.jobs = nj;
            }
            int64_t r1 = r + per < p->n_rows ? r + per : p->n_rows;
            size_t bytes = (size_t)(r1 - r) * p->out_row_bytes;
            x.jobs[n_jobs++] = (job_t){i, r, r1, bytes, 0};
            if (bytes > max_chunk)
                max_chunk = bytes;
            total += bytes;
        }
    }
    gk_status st = GK_E_NOMEM;
    fmt_pool *pool = (uint64_t)max_row <= SIZE_MAX / sizeof(float)
                         ? fmt_pool_new(c->o->jobs, (size_t)max_row * sizeof(float), &st)
                         : NULL;
    if (pool) {
        x.prog = fmt_progress_start("converting", total, c->o->progress);
        st = fmt_pool_ordered(pool, n_jobs, max_chunk, fill_chunk, write_chunk, &x);
        fmt_progress_end(x.prog);
    }
    if (st != GK_OK && !x.write_failed)
        fail(c, st, "out of memory");
    fmt_pool_free(pool);
    free(x.jobs);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Straight to a requant preset                                               */
/* ------------------------------------------------------------------------ */

/* rq_opts.read_tensor: the F16-plan bytes of tensor i, converted whole
 * (requant's engine works per tensor; its own pool does the heavy part). */
static gk_status preset_read(void *ctx, uint64_t i, void *buf, uint64_t size, char *err,
                             size_t cap) {
    conv *c = ctx;
    plan_t *p = i < c->n_plan ? &c->plan[i] : NULL;
    if (!p || size != (uint64_t)p->out_row_bytes * (uint64_t)p->n_rows) {
        snprintf(err, cap, "tensor %llu: size mismatch", (unsigned long long)i);
        return GK_E_FORMAT;
    }
    float *scratch = malloc((size_t)(p->row_len > 0 ? p->row_len : 1) * sizeof *scratch);
    if (!scratch) {
        snprintf(err, cap, "out of memory");
        return GK_E_NOMEM;
    }
    p->nonfinite += convert_rows(p, 0, p->n_rows, buf, scratch);
    release_source(p, 0, p->n_rows, 0);
    free(scratch);
    return GK_OK;
}

static void print_preset_plan(const rq_job *j, const char *path, FILE *f) {
    for (size_t i = 0; i < rq_n_tensors(j); i++) {
        const rq_tensor *t = rq_tensor_at(j, i);
        char shape[96] = "";
        for (uint32_t k = 0; k < t->n_dims; k++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", k ? "x" : "",
                     (long long)t->ne[k]);
        fprintf(f, "%s\t%s\t%s\t%llu\n", t->name, kern_type_label(t->new_type), shape,
                (unsigned long long)t->bytes_new);
    }
    fprintf(f, "%s: %zu tensors, %llu bytes\n", path, rq_n_tensors(j),
            (unsigned long long)rq_file_size(j));
}

/* Plan the preset from the finished F16 header w and, unless dry_run,
 * write it to out. */
static gk_status write_preset(conv *c, fmt_gguf_writer *w, const char *path, fmt_output *out,
                              FILE *plan_out) {
    const cv_options *o = c->o;
    gk_status st;
    fmt_gguf *g = fmt_gguf_writer_header_reader(w, &st);
    if (!g)
        return fail(c, st, "%s", fmt_gguf_open_errmsg());
    rq_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.preset = o->preset;
    ro.mix.output_type = -1;
    ro.mix.token_embd_type = -1;
    ro.imatrix = o->imatrix && imx_count(o->imatrix) ? o->imatrix : NULL;
    ro.imatrix_path = o->imatrix_path;
    ro.nthreads = o->jobs;
    ro.read_tensor = preset_read;
    ro.read_ctx = c;
    rq_job *j = rq_plan(g, &ro, &st, c->err, c->errcap);
    if (j && o->dry_run) {
        print_preset_plan(j, path, plan_out);
    } else if (j) {
        fmt_progress *prog = fmt_progress_start("converting", rq_bytes_in(j), o->progress);
        st = rq_run(j, out, prog, c->err, c->errcap);
        fmt_progress_end(prog);
    }
    rq_free(j);
    fmt_gguf_close(g);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Dry run                                                                    */
/* ------------------------------------------------------------------------ */

static void print_plan(conv *c, fmt_gguf_writer *w, const char *path, size_t p0, size_t p1,
                       FILE *f) {
    if (c->o->json) {
        json_t *root = json_object();
        json_t *arr = json_array();
        json_object_set_new(root, "output", json_string(path));
        json_object_set_new(root, "architecture", json_string(c->arch->name));
        json_object_set_new(root, "file_type", json_integer(file_type(c)));
        json_object_set_new(root, "n_kv", json_integer(0));
        json_object_set_new(root, "file_size",
                            json_integer((json_int_t)fmt_gguf_writer_file_size(w)));
        for (size_t i = p0; i < p1; i++) {
            const plan_t *p = &c->plan[i];
            json_t *t = json_object(), *sh = json_array();
            for (uint32_t k = 0; k < p->n_dims; k++)
                json_array_append_new(sh, json_integer(p->ne[k]));
            json_object_set_new(t, "name", json_string(p->name));
            json_object_set_new(t, "source", json_string(p->hf));
            json_object_set_new(t, "type", json_string(kern_type_label(p->type)));
            json_object_set_new(t, "shape", sh);
            json_object_set_new(t, "bytes",
                                json_integer((json_int_t)(p->out_row_bytes * (size_t)p->n_rows)));
            const fmt_kq_stats *k = p->src ? fmt_kq_stats_of(p->src) : NULL;
            if (k)
                json_object_set_new(t, "keep_quant",
                                    json_pack("{s:I, s:I, s:s}", "exact", (json_int_t)k->exact,
                                              "rounded", (json_int_t)k->rounded, "why", k->why));
            json_array_append_new(arr, t);
        }
        json_object_del(root, "n_kv");
        json_object_set_new(root, "tensors", arr);
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            fprintf(f, "%s\n", s);
        free(s);
        json_decref(root);
        return;
    }
    for (size_t i = p0; i < p1; i++) {
        const plan_t *p = &c->plan[i];
        char shape[96] = "";
        for (uint32_t k = 0; k < p->n_dims; k++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", k ? "x" : "",
                     (long long)p->ne[k]);
        const fmt_kq_stats *k = p->src ? fmt_kq_stats_of(p->src) : NULL;
        fprintf(f, "%s\t%s\t%s\t%zu\t%s", p->name, kern_type_label(p->type), shape,
                p->out_row_bytes * (size_t)p->n_rows, p->hf);
        if (k)
            fprintf(f, "\t%llu exact, %llu re-rounded blocks", (unsigned long long)k->exact,
                    (unsigned long long)k->rounded);
        fprintf(f, "\n");
    }
    fprintf(f, "%s: %zu tensors, %llu bytes\n", path, p1 - p0,
            (unsigned long long)fmt_gguf_writer_file_size(w));
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                                */
/* ------------------------------------------------------------------------ */

/* naming_convention() of gguf-py utility.py, spaces and '/' to '-'. */
void cv_default_name(const fmt_hfmeta *m, const char *type, int vocab_only, char *out, size_t cap) {
    const char *base = m->basename ? m->basename : m->name ? m->name : "ggml-model";
    while (*base == ' ')
        base++;
    size_t o = 0;
    for (const char *s = base; *s && o + 1 < cap; s++)
        out[o++] = (*s == ' ' || *s == '/') ? '-' : *s;
    while (o > 0 && out[o - 1] == '-' && base[strlen(base) - 1] == ' ')
        o--;
    out[o] = '\0';
    const char *parts[3] = {vocab_only ? NULL : m->size_label, m->finetune, m->version};
    for (int i = 0; i < 3; i++)
        if (parts[i]) {
            size_t L = strlen(out);
            snprintf(out + L, cap - L, "-%s", parts[i]);
            for (char *q = out + L; *q; q++)
                if (*q == ' ')
                    *q = '-';
        }
    size_t L = strlen(out);
    snprintf(out + L, cap - L, "-%s", vocab_only ? "vocab" : type);
}

/* What a conversion holds besides the plan: the output files (one per
 * split) with their writers, and the authorship metadata. */
typedef struct {
    size_t n_split;
    size_t *split_start;       /* plan index where file k starts; [n_split] = n_plan */
    fmt_gguf_writer **writers; /* per file */
    fmt_output **outs;         /* per file, once opened */
    char **paths;              /* per file */
    const char **in_paths;     /* every input file, NULL-terminated */
    char **side_paths;         /* the checkpoint's other files, n_side of them */
    size_t n_side;
    fmt_hfmeta meta;
    uint64_t params;
    /* gguf_writer.get_total_parameter_count: "_exps." tensors of 3+ dims
     * count one expert's share; the label is then N x (shared + expert) */
    uint64_t shared_params, expert_params, expert_sum, n_expert_tensors;
} files_t;

static void files_free(files_t *fs) {
    for (size_t k = 0; k < fs->n_split; k++) {
        if (fs->outs)
            fmt_output_close(fs->outs[k]);
        if (fs->writers)
            fmt_gguf_writer_free(fs->writers[k]);
        if (fs->paths)
            free(fs->paths[k]);
    }
    free(fs->outs);
    free(fs->writers);
    free(fs->paths);
    free(fs->in_paths);
    for (size_t i = 0; i < fs->n_side; i++)
        free(fs->side_paths[i]);
    free(fs->side_paths);
    free(fs->split_start);
    fmt_hfmeta_free(&fs->meta);
}

/* The length of a Hugging Face class name's model stem: the part before
 * its head ("Phi3SmallForCausalLM" -> "Phi3Small"), or the name without a
 * trailing "Model" ("Qwen3Model" -> "Qwen3"). */
static size_t class_stem_len(const char *cls) {
    const char *head = cls[0] ? strstr(cls + 1, "For") : NULL;
    if (head)
        return (size_t)(head - cls);
    size_t n = strlen(cls);
    return n > 5 && strcmp(cls + n - 5, "Model") == 0 ? n - 5 : n;
}

/* The supported family closest to an unsupported class, or NULL. First the
 * family with a class whose stem is config.json's model_type, ignoring case
 * and a trailing "_text" (a multimodal model's text config): "mistral" ->
 * llama, "gemma3_text" -> gemma3. Else the family with the longest class
 * stem that begins the class's own stem ("Gemma3nForCausalLM" -> gemma3,
 * "Phi3SmallForCausalLM" -> phi3), unless the rest starts with "Moe": a
 * mixture of experts ("Qwen2MoeForCausalLM") is not close to the dense
 * family, whose converter lacks the expert tensors. */
static const cv_arch *closest_arch(const json_t *cfg, const char *cls) {
    const char *mt = json_string_value(json_object_get(cfg, "model_type"));
    size_t mt_len = mt ? strlen(mt) : 0;
    if (mt_len > 5 && strcmp(mt + mt_len - 5, "_text") == 0)
        mt_len -= 5;
    size_t cls_len = class_stem_len(cls), best_len = 0;
    const cv_arch *best = NULL;
    for (size_t i = 0; i < cv_arch_count(); i++)
        for (const char *const *k = archs[i]->hf_classes; *k; k++) {
            size_t n = class_stem_len(*k);
            if (mt_len > 0 && n == mt_len && strncasecmp(*k, mt, n) == 0)
                return archs[i];
            if (n > best_len && n <= cls_len && strncasecmp(*k, cls, n) == 0 &&
                strncasecmp(cls + n, "Moe", 3) != 0) {
                best = archs[i];
                best_len = n;
            }
        }
    return best;
}

/* The architecture named by config.json, or an error listing the ones we
 * know, and naming the closest one when there is one. */
static gk_status find_arch(conv *c) {
    const json_t *archs_j = json_object_get(c->cfg, "architectures");
    const char *cls = json_string_value(json_array_get(archs_j, 0));
    c->arch = cls ? cv_arch_find(cls) : NULL;
    if (c->arch)
        return GK_OK;
    char list[1024] = "";
    for (size_t i = 0; i < cv_arch_count(); i++)
        for (const char *const *k = archs[i]->hf_classes; *k; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "",
                     *k);
    if (!cls)
        return fail(c, GK_E_UNSUPPORTED, "%s/config.json: missing 'architectures' (supported: %s)",
                    c->o->model_dir, list);
    const cv_arch *near = closest_arch(c->cfg, cls);
    return fail(c, GK_E_UNSUPPORTED,
                "%s/config.json: unsupported architecture '%s' (%s%s%ssupported: %s)",
                c->o->model_dir, cls, near ? "closest supported: " : "", near ? near->name : "",
                near ? "; " : "", list);
}

/* The output type of every tensor, then the split into files
 * (gguf_writer add_tensor_info: a new file starts when the current one is
 * non-empty and the tensor count or the unpadded byte sum would exceed
 * the limit). */
static gk_status split_plan(conv *c, files_t *fs) {
    const cv_options *o = c->o;
    uint64_t cur_bytes = 0, cur_n = 0;
    fs->n_split = 1;
    if (!(fs->split_start = calloc(c->n_plan + 2, sizeof *fs->split_start)))
        return fail(c, GK_E_NOMEM, "out of memory");
    for (size_t i = 0; i < c->n_plan; i++) {
        plan_t *p = &c->plan[i];
        p->type = p->gen ? KERN_TYPE_F32 : out_type(c, p);
        p->out_row_bytes = kern_row_bytes(p->type, p->row_len);
        fs->params += p->n_elements;
        if (strstr(p->name, "_exps.") && p->n_dims >= 3) {
            int64_t n = p->ne[strstr(p->name, ".bias") ? 1 : 2];
            fs->expert_params += p->n_elements / (uint64_t)n;
            fs->expert_sum += (uint64_t)n;
            fs->n_expert_tensors++;
        } else {
            fs->shared_params += p->n_elements;
        }
        uint64_t nb = (uint64_t)p->out_row_bytes * (uint64_t)p->n_rows;
        if (cur_n > 0 && ((o->split_max_tensors && cur_n >= o->split_max_tensors) ||
                          (o->split_max_size && cur_bytes + nb > o->split_max_size))) {
            fs->split_start[fs->n_split++] = i;
            cur_n = 0;
            cur_bytes = 0;
        }
        cur_n++;
        cur_bytes += nb;
    }
    fs->split_start[fs->n_split] = c->n_plan;
    if (fs->n_split > 1 && o->out_path && fmt_is_stdio(o->out_path))
        return fail(c, GK_E_USAGE, "cannot split output written to stdout");
    return GK_OK;
}

/* One GGUF writer per file, holding that file's tensors. */
static gk_status make_writers(conv *c, files_t *fs) {
    gk_status st;
    fs->writers = calloc(fs->n_split, sizeof *fs->writers);
    fs->outs = calloc(fs->n_split, sizeof *fs->outs);
    if (!fs->writers || !fs->outs)
        return fail(c, GK_E_NOMEM, "out of memory");
    for (size_t k = 0; k < fs->n_split; k++) {
        fmt_gguf_writer *w = fmt_gguf_writer_create(3, FMT_GGUF_DEFAULT_ALIGNMENT, &st);
        if (!(fs->writers[k] = w))
            return fail(c, st, "out of memory");
        for (size_t i = fs->split_start[k]; i < fs->split_start[k + 1]; i++) {
            plan_t *p = &c->plan[i];
            st = fmt_gguf_writer_add_tensor(w, p->name, p->n_dims, p->ne, p->type);
            if (st != GK_OK)
                return fail(c, st, "tensor '%s': %s", p->name, fmt_gguf_writer_errmsg(w));
        }
    }
    return GK_OK;
}

/* A writer call's status, with the writer's message unless one is set. */
static gk_status kv_status(conv *c, fmt_gguf_writer *w, gk_status st) {
    if (st != GK_OK && !c->err[0])
        fail(c, st, "%s", fmt_gguf_writer_errmsg(w));
    return st;
}

/* The architecture's keys that precede general.type (cv_arch.head_keys). */
static gk_status write_head_keys(conv *c, fmt_gguf_writer *w) {
    if (!c->arch->head_keys || c->o->vocab_only)
        return GK_OK;
    return kv_status(c, w, c->arch->head_keys(w, c->arch->name, c->cfg, c->err, c->errcap));
}

/* The tokenizer keys, by the architecture's vocabulary kind. */
static gk_status write_vocab(conv *c, fmt_gguf_writer *w) {
    long long vocab_size = c->dims[CV_DIM_VOCAB] > 0 ? c->dims[CV_DIM_VOCAB] : 0;
    if (c->arch->vocab == CV_VOCAB_PHI3)
        return fmt_vocab_write_phi3(c->dir, w, vocab_size, c->o->pre, c->err, c->errcap);
    if (c->arch->vocab == CV_VOCAB_BPE)
        return fmt_vocab_write_bpe(c->dir, w, vocab_size, c->o->pre, c->arch->vocab_specials,
                                   c->err, c->errcap);
    return fmt_vocab_write(c->dir, w, vocab_size, c->arch->llama_vocab, c->o->pre,
                           c->o->merge_scores, c->err, c->errcap);
}

/* What a family's set_vocab writes after the tokenizer (gemma: the
 * add_space_prefix flag, on the tokenizer.model path only). */
static gk_status write_vocab_tail(conv *c, fmt_gguf_writer *w) {
    cv_vocab_kind k = c->arch->vocab;
    if ((k == CV_VOCAB_SPM_NO_SPACE_PREFIX || k == CV_VOCAB_SPM_NO_SPACE_PREFIX_THEN_BPE) &&
        fmt_hfdir_has(c->dir, "tokenizer.model"))
        return fmt_gguf_writer_add_bool(w, "tokenizer.ggml.add_space_prefix", 0);
    return GK_OK;
}

/* The tokenizer files the family's set_vocab needs (gemma2: tokenizer.model,
 * with no tokenizer.json fallback). */
static gk_status check_vocab_files(conv *c) {
    if (c->arch->vocab == CV_VOCAB_SPM_NO_SPACE_PREFIX && !fmt_hfdir_has(c->dir, "tokenizer.model"))
        return fail(c, GK_E_FORMAT, "%s/tokenizer.model: missing (%s needs SentencePiece)",
                    fmt_hfdir_path(c->dir), c->arch->name);
    return GK_OK;
}

/* The metadata, in the converter's order, into file 0; split.* keys into
 * every file of a split output. */
static gk_status write_keys(conv *c, files_t *fs, long long n_layer) {
    const cv_options *o = c->o;
    fmt_gguf_writer *w = fs->writers[0];
    gk_status st = fmt_hfmeta_load(&fs->meta, c->dir, o->metadata_path, o->model_name,
                                   (int64_t)fs->params, c->err, c->errcap);
    if (st != GK_OK)
        return st;
    if (!fs->meta.size_label && fs->params > 0) {
        char lab[64], sz[32];
        if (fs->n_expert_tensors) {
            fmt_size_label(fs->shared_params + fs->expert_params, sz, sizeof sz);
            snprintf(lab, sizeof lab, "%llux%s",
                     (unsigned long long)(fs->expert_sum / fs->n_expert_tensors), sz);
        } else {
            fmt_size_label(fs->params, lab, sizeof lab);
        }
        if (!(fs->meta.size_label = strdup(lab)))
            return fail(c, GK_E_NOMEM, "out of memory");
    }
    if ((st = kv_status(c, w,
                        fmt_gguf_writer_add_str(w, "general.architecture", c->arch->name,
                                                strlen(c->arch->name)))) != GK_OK ||
        (st = write_head_keys(c, w)) != GK_OK ||
        (st = kv_status(c, w, fmt_gguf_writer_add_str(w, "general.type", "model", 5))) != GK_OK ||
        (st = kv_status(c, w, fmt_hfmeta_write(&fs->meta, w))) != GK_OK ||
        (st = kv_status(c, w, write_hparams(c, w, n_layer))) != GK_OK ||
        (st = kv_status(c, w, fmt_gguf_writer_add_u32(w, "general.quantization_version", 2))) !=
            GK_OK ||
        (st = kv_status(c, w, write_vocab(c, w))) != GK_OK ||
        (st = kv_status(c, w, write_vocab_tail(c, w))) != GK_OK)
        return st;
    for (size_t k = 0; fs->n_split > 1 && k < fs->n_split; k++) {
        w = fs->writers[k];
        st = fmt_split_add_keys(w, (unsigned)k, (unsigned)fs->n_split, (int64_t)c->n_plan);
        if ((st = kv_status(c, w, st)) != GK_OK)
            return st;
    }
    return GK_OK;
}

/* The file names: OUT, or the converter's default name inside MODEL_DIR;
 * split files are named as gguf-split names them (SHARD_NAME_FORMAT with
 * Path.stem: the last suffix is dropped). */
static gk_status output_paths(conv *c, files_t *fs) {
    static const char *const type_names[] = {"F32", "F16", "BF16", "Q8_0"};
    const cv_options *o = c->o;
    char path[4096];
    if (o->out_path) {
        snprintf(path, sizeof path, "%s", o->out_path);
    } else {
        char nm[1024];
        cv_default_name(&fs->meta, o->preset ? o->preset->name : type_names[c->ftype],
                        o->vocab_only, nm, sizeof nm);
        snprintf(path, sizeof path, "%s/%s.gguf", fmt_hfdir_path(c->dir), nm);
    }
    if (!(fs->paths = calloc(fs->n_split, sizeof *fs->paths)))
        return fail(c, GK_E_NOMEM, "out of memory");
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path, *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - path) : strlen(path);
    for (size_t k = 0; k < fs->n_split; k++) {
        char buf[4200];
        if (fs->n_split == 1)
            snprintf(buf, sizeof buf, "%s", path);
        else if (fmt_split_name(buf, sizeof buf, path, stem, k, fs->n_split) != GK_OK)
            return fail(c, GK_E_USAGE, "%s: output name too long", path);
        if (!(fs->paths[k] = strdup(buf)))
            return fail(c, GK_E_NOMEM, "out of memory");
    }
    return GK_OK;
}

/* The checkpoint's files read besides the weights (formats/hfdir's kinds,
 * formats/vocab's and formats/hfmeta's), as paths in fs->side_paths. */
static gk_status side_inputs(conv *c, files_t *fs) {
    static const char *const extra[] = {"tokenizer.model", "chat_template.jinja",
                                        "chat_template.json", "README.md"};
    size_t n = FMT_HF_FILE_COUNT + sizeof extra / sizeof *extra;
    if (!(fs->side_paths = calloc(n, sizeof *fs->side_paths)))
        return fail(c, GK_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = i < FMT_HF_FILE_COUNT ? fmt_hfdir_file_name((fmt_hf_file)i)
                                                 : extra[i - FMT_HF_FILE_COUNT];
        char path[4096];
        if (!fmt_hfdir_join(c->dir, name, path, sizeof path))
            continue; /* a name too long to exist */
        if (!(fs->side_paths[fs->n_side] = strdup(path)))
            return fail(c, GK_E_NOMEM, "out of memory");
        fs->n_side++;
    }
    return GK_OK;
}

/* Open the outputs. None may be an input: a weight file, config.json, a
 * tokenizer file, the index or the imatrix, whatever path, symlink or hard
 * link names it (fmt_output compares device and inode), even with -f. */
static gk_status open_outputs(conv *c, files_t *fs) {
    const cv_options *o = c->o;
    gk_status st;
    size_t n_in = fmt_src_n_files(c->raw), k_in = 0;
    if ((st = side_inputs(c, fs)) != GK_OK)
        return st;
    if (!(fs->in_paths = calloc(n_in + fs->n_side + 2, sizeof *fs->in_paths)))
        return fail(c, GK_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n_in; i++)
        fs->in_paths[k_in++] = fmt_src_file_at(c->raw, i);
    for (size_t i = 0; i < fs->n_side; i++)
        fs->in_paths[k_in++] = fs->side_paths[i];
    if (o->imatrix_path)
        fs->in_paths[k_in++] = o->imatrix_path;
    fmt_output_opts oo = {.force = o->force,
                          .zstd_level = o->zstd_level,
                          .zstd_threads = o->zstd_level ? o->jobs : 0,
                          .inputs = (const char *const *)fs->in_paths};
    char oerr[512];
    for (size_t k = 0; k < fs->n_split; k++)
        if (!(fs->outs[k] = fmt_output_open(fs->paths[k], &oo, &st, oerr, sizeof oerr)))
            return fail(c, st, "%s: %s", fs->paths[k], oerr);
    return GK_OK;
}

/* After a failed write: when an output failed (a full disk, a closed
 * pipe), the message names that file, as every other message names its. */
static gk_status output_fault(conv *c, const files_t *fs, gk_status st) {
    for (size_t k = 0; k < fs->n_split; k++) {
        const char *m = fs->outs[k] ? fmt_output_errmsg(fs->outs[k]) : "";
        if (m[0])
            return fail(c, st, "%s: %s", fs->paths[k], m);
    }
    return st;
}

/* Header and tensor data of every file. */
static gk_status write_files(conv *c, files_t *fs) {
    gk_status st;
    for (size_t k = 0; k < fs->n_split; k++) {
        fmt_gguf_writer *w = fs->writers[k];
        if ((st = fmt_gguf_writer_write_header(w, fs->outs[k])) != GK_OK) {
            const char *m = fmt_output_errmsg(fs->outs[k]);
            return fail(c, st, "%s", m && *m ? m : fmt_gguf_writer_errmsg(w));
        }
        if (c->o->header_only) /* a stream for planning: gguf-inspect --mem on MODEL_DIR */
            continue;
        st = write_data(c, w, fs->outs[k], fs->split_start[k], fs->split_start[k + 1]);
        if (st != GK_OK)
            return st;
        if ((st = fmt_gguf_writer_finish(w)) != GK_OK)
            return fail(c, st, "%s", fmt_gguf_writer_errmsg(w));
    }
    return GK_OK;
}

/* --keep-quant: blocks copied and re-rounded, per weight (-v) and in all. */
static void log_keep_quant(const conv *c) {
    unsigned long long exact = 0, rounded = 0;
    size_t n_rounded = 0;
    if (!c->kq || c->o->vocab_only || !fmt_kq_count(c->kq))
        return;
    for (size_t i = 0; i < fmt_kq_count(c->kq); i++) {
        const fmt_kq_stats *k = fmt_kq_at(c->kq, i);
        exact += k->exact;
        rounded += k->rounded;
        n_rounded += k->rounded > 0;
        fmt_log(3, "keep-quant: tensor '%s' as %s: %llu exact, %llu re-rounded blocks%s%s", k->name,
                k->type < 0 ? "dequantized" : kern_type_label(k->type),
                (unsigned long long)k->exact, (unsigned long long)k->rounded, *k->why ? ": " : "",
                k->why);
    }
    fmt_log(2, "keep-quant: %zu weights, %llu blocks exact, %llu re-rounded in %zu of them%s",
            fmt_kq_count(c->kq), exact, rounded, n_rounded,
            n_rounded ? " (-v or --dry-run lists them)" : "");
}

/* Non-finite weights: a warning, or with --strict an error. */
static gk_status check_nonfinite(conv *c) {
    for (size_t i = 0; i < c->n_plan; i++) {
        const plan_t *p = &c->plan[i];
        if (!p->nonfinite)
            continue;
        if (c->o->strict)
            return fail(c, GK_E_FORMAT, "%s: tensor '%s' has %llu non-finite values (--strict)",
                        p->file, p->hf, (unsigned long long)p->nonfinite);
        fmt_log(1, "warning: %s: tensor '%s' has %llu non-finite values", p->file, p->hf,
                (unsigned long long)p->nonfinite);
    }
    return GK_OK;
}

/* A multimodal config's language model: its text_config merged over the
 * root ({**hparams, **text_config}), architectures included. */
static gk_status merge_text_config(conv *c) {
    const json_t *text = json_object_get(c->cfg, "text_config");
    if (!json_is_object(text))
        return GK_OK;
    if (!(c->text_cfg = json_copy((json_t *)c->cfg)) ||
        json_object_update(c->text_cfg, (json_t *)text) != 0)
        return fail(c, GK_E_NOMEM, "out of memory");
    c->cfg = c->text_cfg;
    return GK_OK;
}

/* Open the checkpoint, resolve the architecture and the outtype, and plan
 * the tensors. */
static gk_status plan_checkpoint(conv *c, long long *n_layer) {
    const cv_options *o = c->o;
    gk_status st;
    if (!(c->dir = fmt_hfdir_open(o->model_dir, &st, c->err, c->errcap)))
        return st;
    c->cfg = fmt_hfdir_json(c->dir, FMT_HF_CONFIG, NULL, NULL, 0);
    if ((st = merge_text_config(c)) != GK_OK || (st = find_arch(c)) != GK_OK ||
        (st = resolve_dims_filled(c, n_layer)) != GK_OK || (st = check_vocab_files(c)) != GK_OK ||
        (st = open_source(c)) != GK_OK || (st = apply_transform(c, *n_layer)) != GK_OK)
        return st;
    c->ftype = o->preset ? CV_OUT_F16 : o->outtype;
    if (o->preset && (o->vocab_only || o->split_max_tensors || o->split_max_size))
        return fail(c, GK_E_USAGE, "--outtype %s cannot be combined with --vocab-only or --split-*",
                    o->preset->name);
    if ((st = plan_tensors(c, *n_layer)) != GK_OK)
        return st;
    if (!o->preset && o->outtype == CV_OUT_AUTO)
        c->ftype = guess_outtype(c);
    if (o->vocab_only) {
        for (size_t i = 0; i < c->n_plan; i++)
            free(c->plan[i].gen);
        c->n_plan = 0;
    }
    return GK_OK;
}

/* Write (or, with --dry-run, print) what the plan says. */
static gk_status emit(conv *c, files_t *fs, FILE *plan_out) {
    const cv_options *o = c->o;
    gk_status st;
    fmt_gguf_writer *w = fs->writers[0];
    if (o->dry_run && o->preset)
        return write_preset(c, w, fs->paths[0], NULL, plan_out);
    if (o->dry_run) {
        for (size_t k = 0; k < fs->n_split; k++)
            print_plan(c, fs->writers[k], fs->paths[k], fs->split_start[k], fs->split_start[k + 1],
                       plan_out);
        return GK_OK;
    }
    if ((st = open_outputs(c, fs)) != GK_OK)
        return st;
    if (o->preset)
        st = write_preset(c, w, fs->paths[0], fs->outs[0], plan_out);
    else
        st = write_files(c, fs);
    if (st != GK_OK)
        return output_fault(c, fs, st);
    if ((st = check_nonfinite(c)) != GK_OK)
        return st;
    log_keep_quant(c);
    /* a split set is all or none: no shard stays when one cannot be
     * renamed, nor when a signal arrives before the last is */
    if ((st = fmt_output_commit_all(fs->outs, fs->n_split)) != GK_OK)
        return output_fault(c, fs, st);
    return GK_OK;
}

static gk_status convert_dir(const cv_options *o, FILE *plan_out, char *out_written, size_t out_cap,
                             char *err, size_t errcap) {
    conv c = {.o = o, .err = err, .errcap = errcap};
    files_t fs = {0};
    long long n_layer = 0;
    err[0] = '\0';
    gk_status st = plan_checkpoint(&c, &n_layer);
    if (st == GK_OK && (st = split_plan(&c, &fs)) == GK_OK &&
        (st = make_writers(&c, &fs)) == GK_OK && (st = write_keys(&c, &fs, n_layer)) == GK_OK &&
        (st = output_paths(&c, &fs)) == GK_OK && (st = emit(&c, &fs, plan_out)) == GK_OK &&
        !o->dry_run && out_written && out_cap)
        snprintf(out_written, out_cap, "%s", fs.paths[0]);
    files_free(&fs);
    for (size_t i = 0; i < c.n_plan; i++)
        free(c.plan[i].gen);
    free(c.plan);
    fmt_kq_close(c.kq);
    fmt_xset_free(c.xs);
    cv_experts_free(c.experts);
    fmt_dq_close(c.dq);
    fmt_src_close(c.raw);
    fmt_hfdir_close(c.dir);
    json_decref(c.text_cfg);
    json_decref(c.filled_cfg);
    json_decref(c.adjusted_cfg);
    return st;
}

gk_status cv_base_from_dir(const char *dir, cv_base *b, char *err, size_t errcap) {
    cv_options o = {.model_dir = dir};
    conv c = {.o = &o, .err = err, .errcap = errcap};
    gk_status st;
    err[0] = '\0';
    memset(b, 0, sizeof *b);
    if (!(c.dir = fmt_hfdir_open(dir, &st, err, errcap)))
        return st;
    c.cfg = fmt_hfdir_json(c.dir, FMT_HF_CONFIG, NULL, NULL, 0);
    if ((st = merge_text_config(&c)) == GK_OK && (st = find_arch(&c)) == GK_OK &&
        (st = resolve_dims_filled(&c, &b->n_layer)) == GK_OK) {
        b->arch = c.arch;
        memcpy(b->dims, c.dims, sizeof b->dims);
        b->n_head = c.n_head;
        b->n_head_kv = c.n_head_kv;
        b->n_expert = c.n_expert;
        b->expert_key = c.expert_key;
    }
    cv_experts_free(c.experts);
    fmt_hfdir_close(c.dir);
    json_decref(c.text_cfg);
    json_decref(c.filled_cfg);
    json_decref(c.adjusted_cfg);
    return st;
}

const cv_arch *cv_arch_by_name(const char *name) {
    for (size_t i = 0; i < cv_arch_count(); i++)
        if (strcmp(archs[i]->name, name) == 0)
            return archs[i];
    return NULL;
}

/* The messages above read "FILE: what is wrong" when a file of MODEL_DIR
 * or the output is at fault; the record keeps that file apart. */
gk_status cv_convert(const cv_options *o, FILE *plan_out, char *out_written, size_t out_cap,
                     gk_error *e) {
    char err[sizeof e->msg] = "";
    gk_status st = convert_dir(o, plan_out, out_written, out_cap, err, sizeof err);
    if (st == GK_OK) {
        gk_error_clear(e);
        return st;
    }
    const char *roots[] = {o->model_dir, o->out_path}, *sep = NULL;
    for (size_t i = 0; i < 2 && !sep; i++)
        if (roots[i] && strncmp(err, roots[i], strlen(roots[i])) == 0)
            sep = strstr(err + strlen(roots[i]), ": ");
    if (!sep)
        return gk_error_set(e, st, NULL, "%s", err);
    char file[sizeof e->file];
    snprintf(file, sizeof file, "%.*s", (int)(sep - err), err);
    return gk_error_set(e, st, file, "%s", sep + 2);
}
