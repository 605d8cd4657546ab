/*
 * lora.c -- hf2gguf --lora: a PEFT LoRA adapter to a GGUF LoRA adapter, as
 * convert_lora_to_gguf.py (ec562eb) writes it. Facts from that script and
 * convert_hf_to_gguf.py's prepare_tensors / LlamaModel.modify_tensors:
 *  - load_file's tensors (ordered by data offset) are grouped by base name
 *    in first-seen order; each group yields NAME.lora_a then NAME.lora_b;
 *  - a LoraTorchTensor reshaped/permuted as LlamaModel.permute does moves
 *    lora_b's rows only (lora_a is [r, in], the permuted axis is out);
 *  - every tensor is 2-D: F32/F16/BF16 as --outtype, Q8_0 unless the row
 *    length is not a multiple of 32 (gguf-py QuantError: F16);
 *  - keys: general.architecture, general.type adapter, adapter.type lora,
 *    the general.* metadata of the adapter directory (gguf-py Metadata with
 *    the negated parameter count), adapter.lora.alpha (f32),
 *    adapter.alora.invocation_tokens when given, general.quantization_version.
 */
#include "converters/hf2gguf/lora.h"
#include "converters/hf2gguf/experts.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "formats/gguf.h"
#include "formats/hfdir.h"
#include "formats/hfmeta.h"
#include "formats/io.h"
#include "formats/source.h"
#include "kernels/kernels.h"

typedef struct {
    char base[256];          /* base weight name (model.layers.0.self_attn.q_proj.weight) */
    const fmt_src_tensor *a; /* lora_A [r, in] */
    const fmt_src_tensor *b; /* lora_B [out, r] */
    char name[64];           /* GGUF base name (blk.0.attn_q.weight) */
    int64_t perm_heads;      /* lora_b's rows permuted (llama Q/K), else 0 */
    int type_a, type_b;      /* output ggml types */
    int transpose_a;         /* token_embd: lora_a written as A^T [vocab, r] */
    int norm;                /* a norm weight (mergekit): a alone, written as is */
    int add1;                /* gemma's norms: + 1, as the family's modify_tensors */
} pair_t;

typedef struct {
    const cv_lora_options *o;
    char *err;
    size_t errcap;
    char cfg_path[4200], st_path[4200];
    json_t *cfg; /* adapter_config.json */
    double alpha;
    fmt_src *src;
    cv_base base;
    fmt_input *gin; /* --base-gguf */
    fmt_gguf *g;
    pair_t *pairs; /* per base weight, in first-seen order */
    size_t n_pairs;
    pair_t *norms; /* norm weights, first-seen order (written first) */
    size_t n_norms;
    pair_t *items; /* what is written: norms, pairs, experts stacked per block */
    size_t n_items;
    cv_experts *ea, *eb; /* the experts' lora_A and lora_B records, gathered */
    int ftype;           /* resolved outtype */
    int pickle;          /* adapter_model.bin */
} lora;

static gk_status fail(lora *l, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gk_status fail(lora *l, gk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err, l->errcap, fmt, ap);
    va_end(ap);
    return st;
}

/* str.replace(from, to) over every occurrence, into out. */
static void replace_all(const char *s, const char *from, const char *to, char *out, size_t cap) {
    size_t fl = strlen(from), tl = strlen(to), o = 0;
    while (*s && o + 1 < cap) {
        if (!strncmp(s, from, fl) && o + tl < cap) {
            memcpy(out + o, to, tl);
            o += tl;
            s += fl;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
}

int cv_lora_base_name(const char *peft_name, char *out, size_t cap) {
    char a[512], b[512];
    int kind = strstr(peft_name, ".lora_A.weight") || strstr(peft_name, ".lora_embedding_A")   ? 1
               : strstr(peft_name, ".lora_B.weight") || strstr(peft_name, ".lora_embedding_B") ? 2
                                                                                               : 0;
    replace_all(peft_name, "base_model.model.", "", a, sizeof a);
    replace_all(a, ".lora_A.weight", ".weight", b, sizeof b);
    replace_all(b, ".lora_B.weight", ".weight", a, sizeof a);
    replace_all(a, ".lora_embedding_A", ".weight", b, sizeof b);
    replace_all(b, ".lora_embedding_B", ".weight", out, cap);
    return kind;
}

/* ------------------------------------------------------------------------ */
/* adapter_config.json                                                        */
/* ------------------------------------------------------------------------ */

static int truthy(const json_t *v) {
    return v && !json_is_null(v) && !json_is_false(v) &&
           !(json_is_array(v) && json_array_size(v) == 0) &&
           !(json_is_object(v) && json_object_size(v) == 0) &&
           !(json_is_string(v) && json_string_length(v) == 0);
}

static gk_status read_config(lora *l) {
    const char *p = l->cfg_path;
    json_error_t je;
    snprintf(l->cfg_path, sizeof l->cfg_path, "%s/adapter_config.json", l->o->adapter_dir);
    if (!(l->cfg = json_load_file(p, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je))) {
        FILE *f = fopen(p, "rb");
        if (!f)
            return fail(l, GK_E_IO,
                        "%s: missing (a PEFT adapter directory has adapter_config.json)", p);
        fclose(f);
        return fail(l, GK_E_FORMAT, "%s: not valid JSON (%s, at byte %d)", p, je.text, je.position);
    }
    if (!json_is_object(l->cfg))
        return fail(l, GK_E_FORMAT, "%s: not a JSON object", p);
    const char *pt = json_string_value(json_object_get(l->cfg, "peft_type"));
    if (pt && strcmp(pt, "LORA") != 0)
        return fail(l, GK_E_UNSUPPORTED, "%s: peft_type '%s' is not LORA", p, pt);
    if (truthy(json_object_get(l->cfg, "use_dora")))
        return fail(l, GK_E_UNSUPPORTED,
                    "%s: DoRA adapters (use_dora) are not supported: llama.cpp has no magnitude "
                    "vector (convert_lora_to_gguf.py fails on lora_magnitude_vector)",
                    p);
    if (truthy(json_object_get(l->cfg, "use_rslora")))
        return fail(l, GK_E_UNSUPPORTED,
                    "%s: rank-stabilized LoRA (use_rslora) is not supported: llama.cpp scales by "
                    "alpha/r, not alpha/sqrt(r) (convert_lora_to_gguf.py ignores the flag and "
                    "writes a wrong scale)",
                    p);
    if (truthy(json_object_get(l->cfg, "modules_to_save")))
        return fail(l, GK_E_UNSUPPORTED,
                    "%s: modules_to_save (whole trained modules, e.g. new-token embeddings) is "
                    "not supported by GGUF LoRA adapters; merge the adapter instead",
                    p);
    if (truthy(json_object_get(l->cfg, "alpha_pattern")))
        return fail(l, GK_E_UNSUPPORTED,
                    "%s: alpha_pattern (per-module alpha) is not supported: a GGUF adapter has one "
                    "adapter.lora.alpha",
                    p);
    const json_t *r = json_object_get(l->cfg, "r");
    if (r && !json_is_null(r) && (!json_is_integer(r) || json_integer_value(r) <= 0))
        return fail(l, GK_E_FORMAT, "%s: 'r' must be a positive integer (the rank)", p);
    const json_t *a = json_object_get(l->cfg, "lora_alpha");
    if (!a)
        return fail(l, GK_E_FORMAT, "%s: missing 'lora_alpha'", p);
    if (!json_is_number(a))
        return fail(l, GK_E_FORMAT, "%s: 'lora_alpha' is not a number", p);
    l->alpha = json_number_value(a);
    if (!isfinite(l->alpha) || !isfinite((float)l->alpha))
        return fail(l, GK_E_FORMAT, "%s: 'lora_alpha' is not a finite float32", p);
    const json_t *inv = json_object_get(l->cfg, "invocation_string");
    const json_t *tok = json_object_get(l->cfg, "alora_invocation_tokens");
    if (truthy(inv) && !truthy(tok))
        return fail(l, GK_E_UNSUPPORTED,
                    "%s: an aLoRA invocation_string needs the base tokenizer; give "
                    "alora_invocation_tokens instead",
                    p);
    if (truthy(tok)) {
        size_t i;
        const json_t *v;
        if (!json_is_array(tok))
            return fail(l, GK_E_FORMAT, "%s: 'alora_invocation_tokens' is not an array", p);
        json_array_foreach(tok, i, v) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > (json_int_t)UINT32_MAX)
                return fail(l, GK_E_FORMAT,
                            "%s: alora_invocation_tokens[%zu] is not a token id (uint32)", p, i);
        }
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* The base                                                                   */
/* ------------------------------------------------------------------------ */

static gk_status gguf_count(lora *l, const char *arch, const char *suffix, long long *v, int need) {
    char key[128];
    uint64_t u;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (fmt_gguf_get_u64(l->g, key, &u) && u > 0 && u < 1000000) {
        *v = (long long)u;
        return GK_OK;
    }
    if (!need)
        return GK_OK;
    return fail(l, GK_E_FORMAT, "%s: needs %s (a positive integer)", l->o->base_gguf, key);
}

static gk_status open_base(lora *l) {
    const cv_lora_options *o = l->o;
    gk_status st;
    if (o->base_dir)
        return cv_base_from_dir(o->base_dir, &l->base, l->err, l->errcap);
    char ierr[512];
    if (!(l->gin = fmt_input_open(o->base_gguf, NULL, &st, ierr, sizeof ierr)))
        return fail(l, st, "%s: %s", o->base_gguf, ierr);
    if ((st = fmt_input_make_seekable(l->gin)) != GK_OK)
        return fail(l, st, "%s: %s", o->base_gguf, fmt_input_errmsg(l->gin));
    if (!(l->g = fmt_gguf_open(l->gin, &st)))
        return fail(l, st, "%s", fmt_gguf_open_errmsg());
    fmt_str a;
    char arch[64];
    if (!fmt_gguf_get_str(l->g, "general.architecture", &a) || a.len == 0 || a.len >= sizeof arch)
        return fail(l, GK_E_FORMAT, "%s: no general.architecture", o->base_gguf);
    memcpy(arch, a.ptr, a.len);
    arch[a.len] = '\0';
    char key[96];
    uint64_t n_exp = 0;
    snprintf(key, sizeof key, "%s.expert_count", arch);
    if (!fmt_gguf_get_u64(l->g, key, &n_exp) || n_exp > CV_MAX_EXPERTS)
        n_exp = 0;
    /* the family with that name, with expert rules when the base has experts */
    for (size_t i = 0; i < cv_arch_count() && !l->base.arch; i++)
        if (!strcmp(cv_arch_at(i)->name, arch) && cv_arch_has_experts(cv_arch_at(i)) == (n_exp > 0))
            l->base.arch = cv_arch_at(i);
    if (!l->base.arch && !(l->base.arch = cv_arch_by_name(arch)))
        return fail(l, GK_E_UNSUPPORTED, "%s: unsupported architecture '%s'", o->base_gguf, arch);
    if (cv_arch_has_experts(l->base.arch)) {
        l->base.n_expert = (long long)n_exp;
        l->base.expert_key = "expert_count";
    }
    for (int k = 0; k < CV_DIM_COUNT; k++)
        l->base.dims[k] = -1;
    if ((st = gguf_count(l, arch, "block_count", &l->base.n_layer, 1)) != GK_OK ||
        (st = gguf_count(l, arch, "attention.head_count", &l->base.n_head, 1)) != GK_OK)
        return st;
    l->base.n_head_kv = l->base.n_head;
    return gguf_count(l, arch, "attention.head_count_kv", &l->base.n_head_kv, 0);
}

/* The base's [out, in] of GGUF weight name under rule: the GGUF tensor's,
 * or what config.json implies (-1 when it does not say). */
static gk_status base_shape(lora *l, const char *name, const cv_tensor_rule *rule, int64_t *out,
                            int64_t *in) {
    if (l->g) {
        uint32_t nd = cv_rule_is_expert(rule) ? 3 : 2;
        const fmt_gguf_tensor *t = fmt_gguf_find_tensor(l->g, name);
        if (!t || t->n_dims != nd)
            return fail(l, GK_E_FORMAT, "%s: the base has no %u-D tensor '%s'", l->o->base_gguf, nd,
                        name);
        *out = t->ne[1];
        *in = t->ne[0];
        return GK_OK;
    }
    *out = l->base.dims[rule->shape[0]];
    *in = l->base.dims[rule->shape[1]];
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Pairing and mapping                                                        */
/* ------------------------------------------------------------------------ */

/* load_file's order: by data offset (safetensors offset_keys), then name.
 * (A safetensors file's records share one mapping.) */
static int cmp_offset(const void *x, const void *y) {
    const fmt_src_tensor *a = *(const fmt_src_tensor *const *)x;
    const fmt_src_tensor *b = *(const fmt_src_tensor *const *)y;
    if (a->data != b->data)
        return a->data < b->data ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* A tensor that is neither lora_A nor lora_B: skipped (".base_layer.weight",
 * as upstream), else refused with what it is. */
static gk_status other_tensor(lora *l, const char *name) {
    const char *p = l->st_path;
    if (strstr(name, ".base_layer.weight"))
        return GK_OK;
    if (strstr(name, "lora_magnitude_vector"))
        return fail(l, GK_E_UNSUPPORTED, "%s: '%s': DoRA adapters are not supported", p, name);
    if (strstr(name, ".embed_tokens.weight") || strstr(name, ".lm_head.weight"))
        return fail(l, GK_E_UNSUPPORTED,
                    "%s: '%s': embeddings are present in the adapter (new tokens added during "
                    "fine-tuning, modules_to_save): a GGUF LoRA adapter cannot hold them",
                    p, name);
    return fail(l, GK_E_FORMAT, "%s: unexpected tensor '%s': not a lora_A or lora_B tensor", p,
                name);
}

static gk_status collect(lora *l) {
    uint64_t n = fmt_src_n_tensors(l->src);
    const fmt_src_tensor **order = calloc(n ? n : 1, sizeof *order);
    if (!order || !(l->pairs = calloc(n ? n : 1, sizeof *l->pairs)) ||
        !(l->norms = calloc(n ? n : 1, sizeof *l->norms))) {
        free(order);
        return fail(l, GK_E_NOMEM, "out of memory");
    }
    for (uint64_t i = 0; i < n; i++)
        order[i] = fmt_src_tensor_at(l->src, i);
    if (!l->pickle) /* torch.load keeps the state dict's order */
        qsort(order, n, sizeof *order, cmp_offset);
    gk_status st = GK_OK;
    for (uint64_t i = 0; i < n && st == GK_OK; i++) {
        const fmt_src_tensor *t = order[i];
        char base[256];
        int kind = cv_lora_base_name(t->name, base, sizeof base);
        if (!kind && !strstr(t->name, ".base_layer.weight") &&
            (strstr(t->name, "_layernorm") || strstr(t->name, ".norm"))) {
            /* mergekit-extract-lora's norms: yielded as they are met */
            pair_t *p = &l->norms[l->n_norms++];
            snprintf(p->base, sizeof p->base, "%s", base);
            p->a = t;
            p->norm = 1;
            continue;
        }
        if (!kind) {
            st = other_tensor(l, t->name);
            continue;
        }
        size_t k;
        for (k = 0; k < l->n_pairs && strcmp(l->pairs[k].base, base) != 0; k++)
            ;
        if (k == l->n_pairs) {
            snprintf(l->pairs[k].base, sizeof l->pairs[k].base, "%s", base);
            l->n_pairs++;
        }
        const fmt_src_tensor **slot = kind == 1 ? &l->pairs[k].a : &l->pairs[k].b;
        if (*slot)
            st = fail(l, GK_E_FORMAT, "%s: two lora_%c tensors for '%s'", l->st_path,
                      kind == 1 ? 'A' : 'B', base);
        *slot = t;
    }
    free(order);
    if (st == GK_OK && l->n_pairs == 0 && l->n_norms == 0)
        st = fail(l, GK_E_FORMAT, "%s: no lora_A/lora_B tensors", l->st_path);
    return st;
}

static int out_type(const lora *l, int64_t row_len) {
    static const int kern[] = {KERN_TYPE_F32, KERN_TYPE_F16, KERN_TYPE_BF16, KERN_TYPE_Q8_0};
    int t = kern[l->ftype];
    return t == KERN_TYPE_Q8_0 && row_len % 32 != 0 ? KERN_TYPE_F16 : t;
}

/* One expert's pair (experts.h): gathered; when it completes its block,
 * each expert rule's stacked lora_A [n_expert, r, in] and lora_B
 * [n_expert, out, r] are written there, in rule order, as torch.stack over
 * LoraTorchTensors does in the family's modify_tensors. */
static gk_status add_expert(lora *l, const pair_t *p, size_t rule, long long bid, long long xid) {
    const cv_base *b = &l->base;
    int done_a = 0, done_b = 0;
    gk_status st;
    if ((!l->ea && !(l->ea = cv_experts_new(b->arch, b->n_layer, b->n_expert, b->expert_key))) ||
        (!l->eb && !(l->eb = cv_experts_new(b->arch, b->n_layer, b->n_expert, b->expert_key))))
        return fail(l, GK_E_NOMEM, "out of memory");
    if ((st = cv_experts_add(l->ea, rule, bid, xid, p->a, &done_a, l->err, l->errcap)) != GK_OK ||
        (st = cv_experts_add(l->eb, rule, bid, xid, p->b, &done_b, l->err, l->errcap)) != GK_OK ||
        !done_b)
        return st;
    for (size_t k = 0; k < b->arch->n_tensors; k++) {
        const fmt_src_tensor *sa = cv_experts_stacked(l->ea, k, bid);
        const fmt_src_tensor *sb = cv_experts_stacked(l->eb, k, bid);
        if (!sa || !sb)
            continue;
        pair_t *it = &l->items[l->n_items++];
        *it = *p;
        it->a = sa;
        it->b = sb;
        it->perm_heads = 0;
        it->type_a = out_type(l, sa->shape[sa->n_dims - 1]);
        it->type_b = out_type(l, sb->shape[sb->n_dims - 1]);
        cv_pattern_fill(b->arch->tensors[k].gguf, bid, -1, it->name, sizeof it->name);
    }
    return GK_OK;
}

/* Experts gathered in a block that never completed: upstream stops on
 * them ("Unprocessed experts"); the first missing one is named. */
static gk_status check_experts(lora *l) {
    const cv_arch *a = l->base.arch;
    for (long long bid = 0; l->eb && bid < l->base.n_layer; bid++) {
        if (!cv_experts_in_block(l->eb, bid))
            continue;
        for (size_t k = 0; k < a->n_tensors; k++) {
            if (!cv_rule_is_expert(&a->tensors[k]) || cv_experts_stacked(l->eb, k, bid))
                continue;
            gk_status st = cv_experts_missing(l->eb, k, bid, l->st_path, l->err, l->errcap);
            if (st != GK_OK)
                return st;
        }
    }
    return GK_OK;
}

/* A norm weight: the family's 1-D rule, its shape, F32 (gemma's + 1). */
static gk_status map_norm(lora *l, pair_t *p) {
    const char *sp = l->st_path;
    const cv_arch *arch = l->base.arch;
    const fmt_src_tensor *t = p->a;
    size_t r;
    long long bid = -1, xid = -1;
    for (r = 0; r < arch->n_tensors; r++)
        if (cv_pattern_match(arch->tensors[r].hf, p->base, &bid, &xid))
            break;
    if (r == arch->n_tensors || !arch->tensors[r].gguf)
        return fail(l, GK_E_FORMAT, "%s: can not map '%s' to a %s tensor", sp, t->name, arch->name);
    const cv_tensor_rule *rule = &arch->tensors[r];
    if (rule->shape[1] != CV_DIM_NONE || xid >= 0 || t->n_dims != 1)
        return fail(l, GK_E_FORMAT, "%s: '%s' is not a norm weight (1-D)", sp, t->name);
    if (t->type != KERN_TYPE_F32 && t->type != KERN_TYPE_F16 && t->type != KERN_TYPE_BF16 &&
        t->type != KERN_TYPE_F64)
        return fail(l, GK_E_UNSUPPORTED, "%s: tensor '%s' has dtype %s (need F32/F16/BF16)", sp,
                    t->name, t->dtype);
    if (bid >= l->base.n_layer)
        return fail(l, GK_E_FORMAT, "%s: '%s' belongs to block %lld but the base has %lld layers",
                    sp, t->name, bid, l->base.n_layer);
    cv_pattern_fill(rule->gguf, bid, -1, p->name, sizeof p->name);
    long long want = l->base.dims[rule->shape[0]];
    if (l->g) {
        const fmt_gguf_tensor *g = fmt_gguf_find_tensor(l->g, p->name);
        want = g && g->n_dims == 1 ? g->ne[0] : -2;
    }
    if (want == -2 || (want >= 0 && t->shape[0] != want))
        return fail(l, GK_E_FORMAT, "%s: '%s' has %lld values but the base's %s has %lld", sp,
                    t->name, (long long)t->shape[0], p->name, want);
    p->add1 = rule->xform == CV_XF_NORM_ADD1;
    p->type_a = KERN_TYPE_F32;
    l->items[l->n_items++] = *p;
    return GK_OK;
}

/* A pair's GGUF name, checks against the base, permutation and types. */
static gk_status map_pair(lora *l, pair_t *p) {
    const char *sp = l->st_path;
    const cv_arch *arch = l->base.arch;
    const fmt_src_tensor *a = p->a, *b = p->b;
    if (!a || !b)
        return fail(l, GK_E_FORMAT, "%s: '%s' has lora_%c but no lora_%c", sp, p->base,
                    a ? 'A' : 'B', a ? 'B' : 'A');
    if (a->n_dims != 2 || b->n_dims != 2)
        return fail(l, GK_E_FORMAT, "%s: '%s': lora_A and lora_B must be 2-D", sp, p->base);
    const fmt_src_tensor *ts[2] = {a, b};
    for (int i = 0; i < 2; i++)
        if (ts[i]->type != KERN_TYPE_F32 && ts[i]->type != KERN_TYPE_F16 &&
            ts[i]->type != KERN_TYPE_BF16 && ts[i]->type != KERN_TYPE_F64)
            return fail(l, GK_E_UNSUPPORTED, "%s: tensor '%s' has dtype %s (need F32/F16/BF16)", sp,
                        ts[i]->name, ts[i]->dtype);
    int64_t rank = a->shape[0];
    if (rank <= 0 || b->shape[1] != rank)
        return fail(l, GK_E_FORMAT, "%s: '%s': rank %lld of lora_A and %lld of lora_B%s", sp,
                    p->base, (long long)rank, (long long)b->shape[1],
                    rank <= 0 ? " (a rank of 0)" : " differ");
    size_t r;
    long long bid = -1, xid = -1;
    for (r = 0; r < arch->n_tensors; r++)
        if (cv_pattern_match(arch->tensors[r].hf, p->base, &bid, &xid))
            break;
    if (r == arch->n_tensors)
        return fail(l, GK_E_FORMAT, "%s: can not map '%s' to a %s tensor (unknown target module)",
                    sp, p->base, arch->name);
    const cv_tensor_rule *rule = &arch->tensors[r];
    if (!rule->gguf)
        return fail(l, GK_E_FORMAT,
                    "%s: '%s' is present in the adapter, but the base model "
                    "drops it (tied embeddings)",
                    sp, p->base);
    if (rule->shape[1] == CV_DIM_NONE || rule->shape[2] != CV_DIM_NONE ||
        rule->xform == CV_XF_NORM_ADD1)
        return fail(l, GK_E_UNSUPPORTED, "%s: '%s' is not a linear layer an adapter can target", sp,
                    p->base);
    if (bid >= l->base.n_layer)
        return fail(l, GK_E_FORMAT, "%s: '%s' belongs to block %lld but the base has %lld layers",
                    sp, p->base, bid, l->base.n_layer);
    cv_pattern_fill(rule->gguf, bid, -1, p->name, sizeof p->name);
    int64_t out = -1, in = -1;
    gk_status st = base_shape(l, p->name, rule, &out, &in);
    if (st != GK_OK)
        return st;
    /* token embeddings (PEFT lora_embedding_A [r, vocab], B [hidden, r]):
     * the script writes lora_a transposed (llm_build_inp_embd gets its rows);
     * gemma3's cut to the vocabulary slices lora_b's rows, a no-op */
    p->transpose_a = !strcmp(p->name, "token_embd.weight");
    if (p->transpose_a &&
        ((out >= 0 && (rule->xform == CV_XF_TRIM_VOCAB ? a->shape[1] < out : a->shape[1] != out)) ||
         (in >= 0 && b->shape[0] != in)))
        return fail(l, GK_E_FORMAT,
                    "%s: '%s': lora_embedding_A x lora_embedding_B is %lldx%lld but the base "
                    "embedding %s is %lldx%lld",
                    sp, p->base, (long long)a->shape[1], (long long)b->shape[0], p->name,
                    (long long)out, (long long)in);
    if (!p->transpose_a && rule->xform == CV_XF_TRIM_VOCAB)
        return fail(l, GK_E_UNSUPPORTED, "%s: '%s' is not a weight an adapter can target", sp,
                    p->base);
    if (!p->transpose_a && ((out >= 0 && b->shape[0] != out) || (in >= 0 && a->shape[1] != in)))
        return fail(l, GK_E_FORMAT,
                    "%s: '%s': lora_B x lora_A is %lldx%lld but the base weight %s is %lldx%lld",
                    sp, p->base, (long long)b->shape[0], (long long)a->shape[1], p->name,
                    (long long)out, (long long)in);
    if (rule->xform == CV_XF_PERMUTE_Q || rule->xform == CV_XF_PERMUTE_K) {
        long long h = rule->xform == CV_XF_PERMUTE_Q ? l->base.n_head : l->base.n_head_kv;
        if (h <= 0 || b->shape[0] % (2 * h) != 0)
            return fail(l, GK_E_FORMAT, "%s: '%s': %lld rows do not split into %lld heads", sp,
                        p->base, (long long)b->shape[0], h);
        p->perm_heads = h;
    }
    p->type_a = out_type(l, p->transpose_a ? rank : a->shape[1]);
    p->type_b = out_type(l, rank);
    if (xid < 0) {
        l->items[l->n_items++] = *p;
        return GK_OK;
    }
    return add_expert(l, p, r, bid, xid);
}

/* --outtype auto: bf16 or f16 as the first pair's dtype, else f16. */
static int guess_outtype(const lora *l) {
    if (!l->n_pairs)
        return CV_OUT_F16;
    const fmt_src_tensor *a = l->pairs[0].a, *b = l->pairs[0].b;
    if (a->type == b->type && a->type == KERN_TYPE_BF16)
        return CV_OUT_BF16;
    return CV_OUT_F16;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                    */
/* ------------------------------------------------------------------------ */

static gk_status add_tensors(lora *l, fmt_gguf_writer *w) {
    for (size_t i = 0; i < l->n_items; i++) {
        const pair_t *p = &l->items[i];
        if (p->norm) {
            gk_status st = fmt_gguf_writer_add_tensor(w, p->name, 1, &p->a->shape[0], p->type_a);
            if (st != GK_OK)
                return fail(l, st, "tensor '%s': %s", p->name, fmt_gguf_writer_errmsg(w));
            continue;
        }
        const fmt_src_tensor *ts[2] = {p->a, p->b};
        const int types[2] = {p->type_a, p->type_b};
        for (int h = 0; h < 2; h++) {
            char nm[80];
            int64_t ne[FMT_GGUF_MAX_DIMS];
            uint32_t nd = ts[h]->n_dims;
            for (uint32_t k = 0; k < nd; k++)
                ne[k] = ts[h]->shape[h == 0 && p->transpose_a ? k : nd - 1 - k];
            snprintf(nm, sizeof nm, "%s.lora_%c", p->name, h ? 'b' : 'a');
            gk_status st = fmt_gguf_writer_add_tensor(w, nm, nd, ne, types[h]);
            if (st != GK_OK)
                return fail(l, st, "tensor '%s': %s", nm, fmt_gguf_writer_errmsg(w));
        }
    }
    return GK_OK;
}

static gk_status add_keys(lora *l, fmt_gguf_writer *w, fmt_hfmeta *meta, fmt_hfdir *dir) {
    const char *arch = l->base.arch->name;
    int64_t params = 0;
    gk_status st;
    for (size_t i = 0; i < l->n_items; i++) { /* gguf-py: lora_b's shape with lora_a's row */
        const fmt_src_tensor *a = l->items[i].a, *b = l->items[i].b;
        if (l->items[i].norm) { /* counted whole, as any tensor */
            params += a->shape[0];
            continue;
        }
        int64_t n = l->items[i].transpose_a ? a->shape[0] : a->shape[a->n_dims - 1];
        for (uint32_t k = 0; k + 1 < b->n_dims; k++)
            n *= b->shape[k];
        params += n;
    }
    if ((st = fmt_hfmeta_load(meta, dir, l->o->metadata_path, l->o->model_name, -params, l->err,
                              l->errcap)) != GK_OK)
        return st;
    if ((st = fmt_gguf_writer_add_str(w, "general.architecture", arch, strlen(arch))) != GK_OK ||
        (st = fmt_gguf_writer_add_str(w, "general.type", "adapter", 7)) != GK_OK ||
        (st = fmt_gguf_writer_add_str(w, "adapter.type", "lora", 4)) != GK_OK ||
        (st = fmt_hfmeta_write(meta, w)) != GK_OK ||
        (st = fmt_gguf_writer_add_f32(w, "adapter.lora.alpha", (float)l->alpha)) != GK_OK)
        return fail(l, st, "%s", fmt_gguf_writer_errmsg(w));
    const json_t *tok = json_object_get(l->cfg, "alora_invocation_tokens");
    if (truthy(tok)) {
        size_t n = json_array_size(tok);
        uint32_t *ids = malloc(n * sizeof *ids);
        if (!ids)
            return fail(l, GK_E_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            ids[i] = (uint32_t)json_integer_value(json_array_get(tok, i));
        st = fmt_gguf_writer_add_array(w, "adapter.alora.invocation_tokens", FMT_GGUF_U32, n, ids);
        free(ids);
        if (st != GK_OK)
            return fail(l, st, "%s", fmt_gguf_writer_errmsg(w));
    }
    if ((st = fmt_gguf_writer_add_u32(w, "general.quantization_version", 2)) != GK_OK)
        return fail(l, st, "%s", fmt_gguf_writer_errmsg(w));
    return GK_OK;
}

/* One tensor's rows (permuted when heads > 0) as type, into the output. */
static gk_status write_tensor(lora *l, fmt_gguf_writer *w, fmt_output *out, const fmt_src_tensor *t,
                              int type, int64_t heads) {
    int64_t len = t->shape[t->n_dims - 1], rows = (int64_t)(t->n_elements / (uint64_t)len);
    size_t rb = kern_row_bytes(type, len);
    float *row = malloc((size_t)len * sizeof *row);
    uint8_t *buf = malloc(rb ? rb : 1);
    gk_status st = row && buf ? GK_OK : fail(l, GK_E_NOMEM, "out of memory");
    for (int64_t r = 0; r < rows && st == GK_OK; r++) {
        int64_t sr = heads ? cv_perm_src(r, rows, heads) : r;
        if ((st = fmt_src_read_rows(t, sr, 1, row)) != GK_OK) {
            st = fail(l, st, "%s: tensor '%s': cannot read row %lld", l->st_path, t->name,
                      (long long)sr);
            break;
        }
        cv_store_row(type, row, len, buf);
        if ((st = fmt_gguf_writer_write_data(w, out, buf, rb)) != GK_OK)
            st = fail(l, st, "%s",
                      fmt_output_errmsg(out)[0] ? fmt_output_errmsg(out)
                                                : fmt_gguf_writer_errmsg(w));
    }
    free(row);
    free(buf);
    return st;
}

/* A norm weight as F32; gemma's plus 1 as hf2gguf's convert does it (in
 * half precision for an F16 source, else in f32). */
static gk_status write_norm(lora *l, fmt_gguf_writer *w, fmt_output *out, const pair_t *p) {
    const fmt_src_tensor *t = p->a;
    int64_t n = t->shape[0];
    float *row = malloc((size_t)(n ? n : 1) * sizeof *row);
    gk_status st = row ? GK_OK : fail(l, GK_E_NOMEM, "out of memory");
    if (st == GK_OK && (st = fmt_src_read_rows(t, 0, 1, row)) != GK_OK)
        st = fail(l, st, "%s: tensor '%s': cannot read it", l->st_path, t->name);
    for (int64_t i = 0; p->add1 && st == GK_OK && i < n; i++) {
        float v = row[i] + 1.0f;
        row[i] = t->type == KERN_TYPE_F16 ? kern_fp16_to_fp32(kern_fp32_to_fp16(v)) : v;
    }
    if (st == GK_OK && (st = fmt_gguf_writer_write_data(w, out, row, (size_t)n * 4)) != GK_OK)
        st = fail(l, st, "%s",
                  fmt_output_errmsg(out)[0] ? fmt_output_errmsg(out) : fmt_gguf_writer_errmsg(w));
    free(row);
    return st;
}

/* A [r, n] written as A^T [n, r]: A is read whole (r x vocab floats). */
static gk_status write_transposed(lora *l, fmt_gguf_writer *w, fmt_output *out,
                                  const fmt_src_tensor *t, int type) {
    int64_t r = t->shape[0], n = t->shape[1];
    size_t rb = kern_row_bytes(type, r);
    float *all = malloc((size_t)(r * n) * sizeof *all), *row = malloc((size_t)r * sizeof *row);
    uint8_t *buf = malloc(rb ? rb : 1);
    gk_status st = all && row && buf ? GK_OK : fail(l, GK_E_NOMEM, "out of memory");
    if (st == GK_OK && (st = fmt_src_read_rows(t, 0, r, all)) != GK_OK)
        st = fail(l, st, "%s: tensor '%s': cannot read it", l->st_path, t->name);
    for (int64_t v = 0; v < n && st == GK_OK; v++) {
        for (int64_t k = 0; k < r; k++)
            row[k] = all[k * n + v];
        cv_store_row(type, row, r, buf);
        if ((st = fmt_gguf_writer_write_data(w, out, buf, rb)) != GK_OK)
            st = fail(l, st, "%s",
                      fmt_output_errmsg(out)[0] ? fmt_output_errmsg(out)
                                                : fmt_gguf_writer_errmsg(w));
    }
    free(all);
    free(row);
    free(buf);
    return st;
}

static gk_status write_out(lora *l, fmt_gguf_writer *w, const fmt_hfmeta *meta, char *path,
                           size_t cap) {
    static const char *const type_names[] = {"F32", "F16", "BF16", "Q8_0"};
    const cv_lora_options *o = l->o;
    gk_status st;
    if (o->out_path) {
        snprintf(path, cap, "%s", o->out_path);
    } else {
        char nm[1024];
        cv_default_name(meta, type_names[l->ftype], 0, nm, sizeof nm);
        snprintf(path, cap, "%s/%s-LoRA.gguf", o->adapter_dir, nm);
    }
    char base_cfg[4200];
    snprintf(base_cfg, sizeof base_cfg, "%s/config.json", o->base_dir ? o->base_dir : ".");
    const char *inputs[4] = {l->cfg_path, l->st_path, o->base_gguf ? o->base_gguf : base_cfg, NULL};
    fmt_output_opts oo = {.force = o->force, .inputs = inputs};
    char oerr[512];
    fmt_output *out = fmt_output_open(path, &oo, &st, oerr, sizeof oerr);
    if (!out)
        return fail(l, st, "%s: %s", path, oerr);
    if ((st = fmt_gguf_writer_write_header(w, out)) != GK_OK)
        st = fail(l, st, "%s: %s", path, fmt_output_errmsg(out));
    for (size_t i = 0; i < l->n_items && st == GK_OK; i++) {
        const pair_t *p = &l->items[i];
        if (p->norm) {
            st = write_norm(l, w, out, p);
            continue;
        }
        if (p->transpose_a) {
            if ((st = write_transposed(l, w, out, p->a, p->type_a)) == GK_OK)
                st = write_tensor(l, w, out, p->b, p->type_b, 0);
            continue;
        }
        if ((st = write_tensor(l, w, out, p->a, p->type_a, 0)) == GK_OK)
            st = write_tensor(l, w, out, p->b, p->type_b, p->perm_heads);
    }
    if (st == GK_OK && (st = fmt_gguf_writer_finish(w)) != GK_OK)
        st = fail(l, st, "%s", fmt_gguf_writer_errmsg(w));
    if (st == GK_OK && (st = fmt_output_commit(out)) != GK_OK)
        st = fail(l, st, "%s: %s", path, fmt_output_errmsg(out));
    fmt_output_close(out);
    return st;
}

static gk_status run(lora *l, char *out_written, size_t out_cap) {
    const cv_lora_options *o = l->o;
    gk_status st;
    char path[4400];
    if (!o->base_dir == !o->base_gguf)
        return fail(l, GK_E_USAGE,
                    "--lora needs the base model: --base DIR (its config.json) or --base-gguf "
                    "FILE");
    if ((st = read_config(l)) != GK_OK)
        return st;
    /* the script: adapter_model.safetensors, else adapter_model.bin (torch.load) */
    snprintf(l->st_path, sizeof l->st_path, "%s/adapter_model.safetensors", o->adapter_dir);
    FILE *f = fopen(l->st_path, "rb");
    if (!f) {
        snprintf(l->st_path, sizeof l->st_path, "%s/adapter_model.bin", o->adapter_dir);
        if (!(f = fopen(l->st_path, "rb")))
            return fail(l, GK_E_IO,
                        "%s/adapter_model.safetensors: missing (nor is there an "
                        "adapter_model.bin)",
                        o->adapter_dir);
        l->pickle = 1;
    }
    fclose(f);
    if (!(l->src = fmt_src_open(l->st_path, &st)))
        return fail(l, st, "%s", fmt_src_open_errmsg());
    if ((st = open_base(l)) != GK_OK || (st = collect(l)) != GK_OK)
        return st;
    l->ftype = o->outtype == CV_OUT_AUTO ? CV_OUT_F16 : (int)o->outtype;
    for (size_t i = 0; i < l->n_pairs; i++)
        if (!l->pairs[i].a || !l->pairs[i].b)
            return map_pair(l, &l->pairs[i]);
    if (o->outtype == CV_OUT_AUTO)
        l->ftype = guess_outtype(l);
    if (!(l->items = calloc(l->n_pairs + l->n_norms, sizeof *l->items)))
        return fail(l, GK_E_NOMEM, "out of memory");
    for (size_t i = 0; i < l->n_norms; i++)
        if ((st = map_norm(l, &l->norms[i])) != GK_OK)
            return st;
    for (size_t i = 0; i < l->n_pairs; i++)
        if ((st = map_pair(l, &l->pairs[i])) != GK_OK)
            return st;
    if ((st = check_experts(l)) != GK_OK)
        return st;
    fmt_hfdir *dir = fmt_hfdir_open_beside(o->adapter_dir, &st, l->err, l->errcap);
    if (!dir)
        return st;
    fmt_hfmeta meta;
    memset(&meta, 0, sizeof meta);
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, FMT_GGUF_DEFAULT_ALIGNMENT, &st);
    if (!w)
        st = fail(l, st, "out of memory");
    else if ((st = add_tensors(l, w)) == GK_OK && (st = add_keys(l, w, &meta, dir)) == GK_OK &&
             (st = write_out(l, w, &meta, path, sizeof path)) == GK_OK && out_written && out_cap)
        snprintf(out_written, out_cap, "%s", path);
    fmt_gguf_writer_free(w);
    fmt_hfmeta_free(&meta);
    fmt_hfdir_close(dir);
    return st;
}

gk_status cv_lora_convert(const cv_lora_options *o, char *out_written, size_t out_cap,
                          gk_error *e) {
    char err[sizeof e->msg] = "";
    lora l = {.o = o, .err = err, .errcap = sizeof err};
    gk_status st = run(&l, out_written, out_cap);
    json_decref(l.cfg);
    free(l.pairs);
    free(l.norms);
    free(l.items);
    cv_experts_free(l.ea);
    cv_experts_free(l.eb);
    fmt_src_close(l.src);
    fmt_gguf_close(l.g);
    fmt_input_close(l.gin);
    if (st == GK_OK) {
        gk_error_clear(e);
        return st;
    }
    /* "FILE: what is wrong" when a file is at fault */
    const char *roots[] = {o->adapter_dir, o->base_dir, o->base_gguf, o->out_path}, *sep = NULL;
    for (size_t i = 0; i < 4 && !sep; i++)
        if (roots[i] && strncmp(err, roots[i], strlen(roots[i])) == 0)
            sep = strstr(err + strlen(roots[i]), ": ");
    if (!sep)
        return gk_error_set(e, st, NULL, "%s", err);
    char file[sizeof e->file];
    snprintf(file, sizeof file, "%.*s", (int)(sep - err), err);
    return gk_error_set(e, st, file, "%s", sep + 2);
}
