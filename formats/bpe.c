/*
 * bpe.c -- Hugging Face tokenizers' BPE pipeline (normalize, split on added
 * tokens, pre-tokenize, merge, post-process), as far as llama.cpp's
 * pre-tokenizer check hash needs it. See bpe.h for the supported subset.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "bpe.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <pcre2.h>

struct bpe_pretok_row {
    const char *hash;
    const char *name;
};

#include "bpe_pretok.inc"

/* ------------------------------------------------------------------------ */
/* Hash maps: token text -> id, merge pair -> (rank, merged id)               */
/* ------------------------------------------------------------------------ */

typedef struct {
    char *key; /* NUL-terminated copy; NULL = empty slot */
    size_t len;
    int32_t id;
} str_slot;

typedef struct {
    uint64_t key; /* (left id << 32) | right id; UINT64_MAX = empty */
    uint32_t rank;
    int32_t id;
} pair_slot;

typedef struct {
    char *text;
    size_t len;
    int32_t id;
} added_tok;

enum { STEP_SPLIT, STEP_BYTELEVEL };
enum { BEH_ISOLATED, BEH_REMOVED, BEH_PREV, BEH_NEXT };

typedef struct {
    int kind, behavior, prefix_space;
    pcre2_code *re;
} pre_step;

enum { NORM_REPLACE, NORM_PREPEND };

typedef struct {
    int kind;
    char *from, *to;
} norm_step;

/* a growable list of owned byte strings (the pieces between stages) */
typedef struct {
    char **s;
    size_t *len;
    size_t n, cap;
} pieces;

struct fmt_bpe {
    str_slot *vocab;
    size_t vocab_cap;
    pair_slot *merges;
    size_t merges_cap;
    added_tok *added;
    size_t n_added;
    norm_step *norm;
    size_t n_norm;
    pre_step *pre;
    size_t n_pre;
    int byte_level, ignore_merges, byte_fallback;
    int32_t unk_id;
    int32_t prefix[4], suffix[4];
    size_t n_prefix, n_suffix;
    pcre2_match_context *mctx;
    int32_t *out; /* encode result */
    size_t n_out, cap_out;
};

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211u;
    return h;
}

static size_t pow2_above(size_t n) {
    size_t c = 16;
    while (c < 2 * n)
        c *= 2;
    return c;
}

static str_slot *str_find(const fmt_bpe *b, const char *s, size_t n) {
    size_t m = b->vocab_cap - 1;
    for (size_t i = fnv1a(s, n) & m;; i = (i + 1) & m) {
        str_slot *e = &b->vocab[i];
        if (!e->key || (e->len == n && !memcmp(e->key, s, n)))
            return e;
    }
}

static int32_t vocab_id(const fmt_bpe *b, const char *s, size_t n) {
    const str_slot *e = str_find(b, s, n);
    return e->key ? e->id : -1;
}

static gk_status vocab_put(fmt_bpe *b, const char *s, size_t n, int32_t id) {
    str_slot *e = str_find(b, s, n);
    if (e->key) {
        e->id = id;
        return GK_OK;
    }
    if (!(e->key = malloc(n + 1)))
        return GK_E_NOMEM;
    memcpy(e->key, s, n);
    e->key[n] = 0;
    e->len = n;
    e->id = id;
    return GK_OK;
}

static pair_slot *pair_find(const fmt_bpe *b, int32_t l, int32_t r) {
    uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
    size_t m = b->merges_cap - 1;
    for (size_t i = (key * 0x9E3779B97F4A7C15u >> 20) & m;; i = (i + 1) & m)
        if (b->merges[i].key == UINT64_MAX || b->merges[i].key == key)
            return &b->merges[i];
}

/* ------------------------------------------------------------------------ */
/* Pieces                                                                     */
/* ------------------------------------------------------------------------ */

static void pieces_free(pieces *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->s[i]);
    free(p->s);
    free(p->len);
    memset(p, 0, sizeof *p);
}

/* append a+b (either may be empty) as one piece; empty results are dropped */
static gk_status pieces_add2(pieces *p, const char *a, size_t na, const char *c, size_t nc) {
    if (na + nc == 0)
        return GK_OK;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        char **s = realloc(p->s, cap * sizeof *s);
        if (s)
            p->s = s;
        size_t *l = s ? realloc(p->len, cap * sizeof *l) : NULL;
        if (!l)
            return GK_E_NOMEM;
        p->len = l;
        p->cap = cap;
    }
    char *x = malloc(na + nc + 1);
    if (!x)
        return GK_E_NOMEM;
    memcpy(x, a, na);
    memcpy(x + na, c, nc);
    x[na + nc] = 0;
    p->s[p->n] = x;
    p->len[p->n++] = na + nc;
    return GK_OK;
}

static gk_status pieces_add(pieces *p, const char *a, size_t na) {
    return pieces_add2(p, a, na, "", 0);
}

/* ------------------------------------------------------------------------ */
/* Loading tokenizer.json                                                     */
/* ------------------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

/* The GPT-2 regex ByteLevel applies when use_regex is true. */
static const char gpt2_regex[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static gk_status compile(pre_step *s, const char *pat, size_t n, int literal, char *err,
                         size_t errcap) {
    int code;
    PCRE2_SIZE off;
    uint32_t opt = literal ? PCRE2_LITERAL : PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
    s->re = pcre2_compile((PCRE2_SPTR)pat, n, opt, &code, &off, NULL);
    if (!s->re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(code, msg, sizeof msg);
        gk_msgf(err, errcap, "pre_tokenizer Split: bad regex at offset %zu: %s", (size_t)off,
                (const char *)msg);
        return GK_E_FORMAT;
    }
    return GK_OK;
}

static gk_status add_pre(fmt_bpe *b, const json_t *p, char *err, size_t errcap) {
    const char *type = jstr(p, "type");
    if (type && !strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(p, "pretokenizers");
        size_t i;
        json_t *e;
        gk_status st = GK_OK;
        json_array_foreach(list, i, e) if (st == GK_OK) st = add_pre(b, e, err, errcap);
        return st;
    }
    if (b->n_pre && b->pre[b->n_pre - 1].kind == STEP_BYTELEVEL) {
        gk_msgf(err, errcap, "pre_tokenizer: %s after ByteLevel is not supported",
                type ? type : "?");
        return GK_E_UNSUPPORTED;
    }
    pre_step *s = realloc(b->pre, (b->n_pre + 1) * sizeof *s);
    if (!s)
        return GK_E_NOMEM;
    b->pre = s;
    s = &b->pre[b->n_pre];
    memset(s, 0, sizeof *s);
    if (type && !strcmp(type, "ByteLevel")) {
        s->kind = STEP_BYTELEVEL;
        s->prefix_space = json_is_true(json_object_get(p, "add_prefix_space"));
        const json_t *ur = json_object_get(p, "use_regex");
        gk_status st = GK_OK;
        if (!ur || json_is_true(ur))
            st = compile(s, gpt2_regex, sizeof gpt2_regex - 1, 0, err, errcap);
        b->n_pre += st == GK_OK;
        b->byte_level = 1;
        return st;
    }
    if (!type || strcmp(type, "Split") != 0) {
        gk_msgf(err, errcap, "pre_tokenizer %s is not supported", type ? type : "(no type)");
        return GK_E_UNSUPPORTED;
    }
    static const char *const beh[] = {"Isolated", "Removed", "MergedWithPrevious",
                                      "MergedWithNext"};
    const char *bname = jstr(p, "behavior");
    s->behavior = -1;
    for (int k = 0; bname && k < 4; k++)
        if (!strcmp(bname, beh[k]))
            s->behavior = k;
    if (s->behavior < 0 || json_is_true(json_object_get(p, "invert"))) {
        gk_msgf(err, errcap, "pre_tokenizer Split: behavior %s%s is not supported",
                bname ? bname : "(none)",
                json_is_true(json_object_get(p, "invert")) ? " inverted" : "");
        return GK_E_UNSUPPORTED;
    }
    const json_t *pat = json_object_get(p, "pattern");
    const json_t *re = json_object_get(pat, "Regex"), *lit = json_object_get(pat, "String");
    const json_t *v = json_is_string(re) ? re : lit;
    if (!json_is_string(v)) {
        gk_msgf(err, errcap, "pre_tokenizer Split: pattern is neither Regex nor String");
        return GK_E_FORMAT;
    }
    gk_status st = compile(s, json_string_value(v), json_string_length(v), v == lit, err, errcap);
    b->n_pre += st == GK_OK;
    return st;
}

static gk_status add_norm(fmt_bpe *b, const json_t *p, char *err, size_t errcap) {
    const char *type = jstr(p, "type");
    if (json_is_null(p) || !p || (type && !strcmp(type, "NFC")))
        return GK_OK;
    if (type && !strcmp(type, "Sequence")) {
        size_t i;
        json_t *e;
        gk_status st = GK_OK;
        json_array_foreach(json_object_get(p, "normalizers"), i, e) if (st == GK_OK) st =
            add_norm(b, e, err, errcap);
        return st;
    }
    int kind = type && !strcmp(type, "Replace")   ? NORM_REPLACE
               : type && !strcmp(type, "Prepend") ? NORM_PREPEND
                                                  : -1;
    const char *from = kind == NORM_REPLACE ? jstr(json_object_get(p, "pattern"), "String") : "";
    const char *to = jstr(p, kind == NORM_REPLACE ? "content" : "prepend");
    if (kind < 0 || !from || !to || (kind == NORM_REPLACE && !*from)) {
        gk_msgf(err, errcap, "normalizer %s is not supported", type ? type : "(no type)");
        return GK_E_UNSUPPORTED;
    }
    norm_step *s = realloc(b->norm, (b->n_norm + 1) * sizeof *s);
    if (!s)
        return GK_E_NOMEM;
    b->norm = s;
    s = &b->norm[b->n_norm];
    s->kind = kind;
    s->from = strdup(from);
    s->to = strdup(to);
    b->n_norm++;
    return s->from && s->to ? GK_OK : GK_E_NOMEM;
}

static gk_status load_vocab(fmt_bpe *b, const json_t *model, const json_t *added, char *err,
                            size_t errcap) {
    const json_t *vocab = json_object_get(model, "vocab");
    if (!json_is_object(vocab)) {
        gk_msgf(err, errcap, "model.vocab is not an object");
        return GK_E_FORMAT;
    }
    b->vocab_cap = pow2_above(json_object_size(vocab) + json_array_size(added));
    if (!(b->vocab = calloc(b->vocab_cap, sizeof *b->vocab)))
        return GK_E_NOMEM;
    const char *key;
    json_t *val;
    gk_status st = GK_OK;
    json_object_foreach((json_t *)vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (!json_is_integer(val) || id < 0 || id > INT32_MAX) {
            gk_msgf(err, errcap, "model.vocab: bad id of a token");
            return GK_E_FORMAT;
        }
        if (st == GK_OK)
            st = vocab_put(b, key, strlen(key), (int32_t)id);
    }
    size_t i;
    json_t *e;
    if (st == GK_OK && !(b->added = calloc(json_array_size(added) + 1, sizeof *b->added)))
        return GK_E_NOMEM;
    json_array_foreach(added, i, e) {
        const json_t *c = json_object_get(e, "content");
        json_int_t id = json_integer_value(json_object_get(e, "id"));
        if (!json_is_string(c) || !json_string_length(c) || id < 0 || id > INT32_MAX) {
            gk_msgf(err, errcap, "added_tokens[%zu]: bad content or id", i);
            return GK_E_FORMAT;
        }
        added_tok *a = &b->added[b->n_added++];
        a->len = json_string_length(c);
        a->id = (int32_t)id;
        if (st == GK_OK && !(a->text = malloc(a->len)))
            st = GK_E_NOMEM;
        if (st == GK_OK)
            memcpy(a->text, json_string_value(c), a->len);
        if (st == GK_OK && vocab_id(b, a->text, a->len) < 0)
            st = vocab_put(b, a->text, a->len, a->id);
    }
    return st;
}

/* one merge "a b" or ["a", "b"]: both sides and their concatenation must be
 * tokens (tokenizers refuses the file otherwise) */
static gk_status load_merge(fmt_bpe *b, const json_t *m, uint32_t rank, char *err, size_t errcap) {
    const char *l, *r;
    size_t nl, nr;
    if (json_is_string(m)) {
        l = json_string_value(m);
        const char *sp = memchr(l, ' ', json_string_length(m));
        if (!sp || memchr(sp + 1, ' ', json_string_length(m) - (size_t)(sp + 1 - l))) {
            gk_msgf(err, errcap, "model.merges[%" PRIu32 "]: not two tokens separated by a space",
                    rank);
            return GK_E_FORMAT;
        }
        nl = (size_t)(sp - l);
        r = sp + 1;
        nr = json_string_length(m) - nl - 1;
    } else if (json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
               json_is_string(json_array_get(m, 1))) {
        l = json_string_value(json_array_get(m, 0));
        nl = json_string_length(json_array_get(m, 0));
        r = json_string_value(json_array_get(m, 1));
        nr = json_string_length(json_array_get(m, 1));
    } else {
        gk_msgf(err, errcap, "model.merges[%" PRIu32 "]: not a string or a pair of strings", rank);
        return GK_E_FORMAT;
    }
    char *cat = malloc(nl + nr + 1);
    if (!cat)
        return GK_E_NOMEM;
    memcpy(cat, l, nl);
    memcpy(cat + nl, r, nr);
    int32_t il = vocab_id(b, l, nl), ir = vocab_id(b, r, nr), im = vocab_id(b, cat, nl + nr);
    free(cat);
    if (il < 0 || ir < 0 || im < 0) {
        gk_msgf(err, errcap, "model.merges[%" PRIu32 "]: a token of the merge is not in the vocab",
                rank);
        return GK_E_FORMAT;
    }
    pair_slot *s = pair_find(b, il, ir);
    if (s->key == UINT64_MAX) { /* the first occurrence keeps its rank */
        s->key = (uint64_t)(uint32_t)il << 32 | (uint32_t)ir;
        s->rank = rank;
        s->id = im;
    }
    return GK_OK;
}

static gk_status load_model(fmt_bpe *b, const json_t *model, char *err, size_t errcap) {
    const char *type = jstr(model, "type");
    if (!type || strcmp(type, "BPE") != 0) {
        gk_msgf(err, errcap, "model %s is not supported (BPE only)", type ? type : "(no type)");
        return GK_E_UNSUPPORTED;
    }
    const char *csp = jstr(model, "continuing_subword_prefix");
    const char *ews = jstr(model, "end_of_word_suffix");
    if ((csp && *csp) || (ews && *ews)) {
        gk_msgf(err, errcap,
                "model: continuing_subword_prefix/end_of_word_suffix is not supported");
        return GK_E_UNSUPPORTED;
    }
    b->ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));
    b->byte_fallback = json_is_true(json_object_get(model, "byte_fallback"));
    const char *unk = jstr(model, "unk_token");
    b->unk_id = unk ? vocab_id(b, unk, strlen(unk)) : -1;
    const json_t *merges = json_object_get(model, "merges");
    if (merges && !json_is_array(merges)) {
        gk_msgf(err, errcap, "model.merges is not a list");
        return GK_E_FORMAT;
    }
    size_t n = json_array_size(merges);
    if (n > UINT32_MAX / 2) {
        gk_msgf(err, errcap, "model.merges: %zu merges is too many", n);
        return GK_E_FORMAT;
    }
    b->merges_cap = pow2_above(n);
    if (!(b->merges = malloc(b->merges_cap * sizeof *b->merges)))
        return GK_E_NOMEM;
    for (size_t i = 0; i < b->merges_cap; i++)
        b->merges[i].key = UINT64_MAX;
    gk_status st = GK_OK;
    for (size_t i = 0; st == GK_OK && i < n; i++)
        st = load_merge(b, json_array_get(merges, i), (uint32_t)i, err, errcap);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Post-processor: the special tokens around a single sequence                */
/* ------------------------------------------------------------------------ */

static gk_status add_special(fmt_bpe *b, int32_t id, int after, char *err, size_t errcap) {
    int32_t *v = after ? b->suffix : b->prefix;
    size_t *n = after ? &b->n_suffix : &b->n_prefix;
    if (*n == sizeof b->prefix / sizeof b->prefix[0]) {
        gk_msgf(err, errcap, "post_processor: too many special tokens");
        return GK_E_UNSUPPORTED;
    }
    v[(*n)++] = id;
    return GK_OK;
}

static gk_status special_by_name(fmt_bpe *b, const json_t *name, int after, char *err,
                                 size_t errcap) {
    if (json_is_object(name)) /* tokenizer_config's AddedToken form */
        name = json_object_get(name, "content");
    int32_t id =
        json_is_string(name) ? vocab_id(b, json_string_value(name), json_string_length(name)) : -1;
    if (id < 0) {
        gk_msgf(err, errcap, "post_processor: special token is not in the vocab");
        return GK_E_FORMAT;
    }
    return add_special(b, id, after, err, errcap);
}

static gk_status load_template(fmt_bpe *b, const json_t *p, char *err, size_t errcap) {
    const json_t *single = json_object_get(p, "single");
    const json_t *sp = json_object_get(p, "special_tokens");
    int after = 0;
    size_t i, k;
    json_t *e, *id;
    gk_status st = GK_OK;
    json_array_foreach(single, i, e) {
        if (json_object_get(e, "Sequence")) {
            after = 1;
            continue;
        }
        const char *name = jstr(json_object_get(e, "SpecialToken"), "id");
        const json_t *ids = json_object_get(json_object_get(sp, name ? name : ""), "ids");
        if (!json_is_array(ids)) {
            gk_msgf(err, errcap, "post_processor TemplateProcessing: unknown special token");
            return GK_E_FORMAT;
        }
        json_array_foreach(ids, k, id) {
            json_int_t v = json_integer_value(id);
            if (!json_is_integer(id) || v < 0 || v > INT32_MAX) {
                gk_msgf(err, errcap, "post_processor TemplateProcessing: bad special token id");
                return GK_E_FORMAT;
            }
            if (st == GK_OK)
                st = add_special(b, (int32_t)v, after, err, errcap);
        }
    }
    return st;
}

static gk_status load_post(fmt_bpe *b, const json_t *p, char *err, size_t errcap) {
    const char *type = jstr(p, "type");
    if (!p || json_is_null(p) || (type && !strcmp(type, "ByteLevel")))
        return GK_OK;
    if (type && !strcmp(type, "Sequence")) {
        size_t i;
        json_t *e;
        gk_status st = GK_OK;
        json_array_foreach(json_object_get(p, "processors"), i, e) if (st == GK_OK) st =
            load_post(b, e, err, errcap);
        return st;
    }
    if (type && !strcmp(type, "TemplateProcessing"))
        return load_template(b, p, err, errcap);
    if (type && (!strcmp(type, "RobertaProcessing") || !strcmp(type, "BertProcessing"))) {
        gk_status st =
            special_by_name(b, json_array_get(json_object_get(p, "cls"), 0), 0, err, errcap);
        return st == GK_OK ? special_by_name(b, json_array_get(json_object_get(p, "sep"), 0), 1,
                                             err, errcap)
                           : st;
    }
    gk_msgf(err, errcap, "post_processor %s is not supported", type ? type : "(no type)");
    return GK_E_UNSUPPORTED;
}

/* transformers' LlamaTokenizerFast/GemmaTokenizerFast (and CodeLlama) replace
 * tokenizer.json's post-processor by BOS (add_bos_token, default true) + A +
 * EOS (add_eos_token, default false); other classes keep the file's. */
static int class_adds_bos(const json_t *tc) {
    static const char *const cls[] = {"LlamaTokenizer", "GemmaTokenizer", "CodeLlamaTokenizer"};
    const char *c = jstr(tc, "tokenizer_class");
    for (size_t i = 0; c && i < sizeof cls / sizeof cls[0]; i++) {
        size_t n = strlen(cls[i]);
        if (!strncmp(c, cls[i], n) && (!c[n] || !strcmp(c + n, "Fast")))
            return 1;
    }
    return 0;
}

static gk_status load_class_post(fmt_bpe *b, const json_t *tc, char *err, size_t errcap) {
    const json_t *bos = json_object_get(tc, "add_bos_token");
    const json_t *eos = json_object_get(tc, "add_eos_token");
    gk_status st = GK_OK;
    if (!json_is_false(bos) && !json_is_null(json_object_get(tc, "bos_token")) &&
        json_object_get(tc, "bos_token"))
        st = special_by_name(b, json_object_get(tc, "bos_token"), 0, err, errcap);
    if (st == GK_OK && json_is_true(eos))
        st = special_by_name(b, json_object_get(tc, "eos_token"), 1, err, errcap);
    return st;
}

fmt_bpe *fmt_bpe_open(const json_t *tj, const json_t *tc, gk_status *st, char *err, size_t errcap) {
    fmt_bpe *b = calloc(1, sizeof *b);
    *st = b ? GK_OK : GK_E_NOMEM;
    if (b && !(b->mctx = pcre2_match_context_create(NULL)))
        *st = GK_E_NOMEM;
    if (*st == GK_OK) {
        /* a hostile pattern fails with a limit error instead of running for ever */
        pcre2_set_match_limit(b->mctx, 1000000);
        pcre2_set_depth_limit(b->mctx, 10000);
        pcre2_set_heap_limit(b->mctx, 64 * 1024);
        *st = load_vocab(b, json_object_get(tj, "model"), json_object_get(tj, "added_tokens"), err,
                         errcap);
    }
    if (*st == GK_OK)
        *st = load_model(b, json_object_get(tj, "model"), err, errcap);
    if (*st == GK_OK)
        *st = add_norm(b, json_object_get(tj, "normalizer"), err, errcap);
    if (*st == GK_OK && json_object_get(tj, "pre_tokenizer") &&
        !json_is_null(json_object_get(tj, "pre_tokenizer")))
        *st = add_pre(b, json_object_get(tj, "pre_tokenizer"), err, errcap);
    if (*st == GK_OK)
        *st = class_adds_bos(tc) ? load_class_post(b, tc, err, errcap)
                                 : load_post(b, json_object_get(tj, "post_processor"), err, errcap);
    if (*st != GK_OK) {
        if (*st == GK_E_NOMEM)
            gk_msgf(err, errcap, "out of memory");
        fmt_bpe_close(b);
        return NULL;
    }
    return b;
}

void fmt_bpe_close(fmt_bpe *b) {
    if (!b)
        return;
    for (size_t i = 0; b->vocab && i < b->vocab_cap; i++)
        free(b->vocab[i].key);
    for (size_t i = 0; i < b->n_added; i++)
        free(b->added[i].text);
    for (size_t i = 0; i < b->n_norm; i++) {
        free(b->norm[i].from);
        free(b->norm[i].to);
    }
    for (size_t i = 0; i < b->n_pre; i++)
        pcre2_code_free(b->pre[i].re);
    pcre2_match_context_free(b->mctx);
    free(b->vocab);
    free(b->merges);
    free(b->added);
    free(b->norm);
    free(b->pre);
    free(b->out);
    free(b);
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                   */
/* ------------------------------------------------------------------------ */

static gk_status emit(fmt_bpe *b, int32_t id) {
    if (b->n_out == b->cap_out) {
        size_t cap = b->cap_out ? 2 * b->cap_out : 256;
        int32_t *o = realloc(b->out, cap * sizeof *o);
        if (!o)
            return GK_E_NOMEM;
        b->out = o;
        b->cap_out = cap;
    }
    b->out[b->n_out++] = id;
    return GK_OK;
}

/* normalizer steps on one chunk; returns a malloc'd string */
static char *normalize(const fmt_bpe *b, const char *s, size_t n, size_t *outn) {
    char *cur = malloc(n + 1);
    if (!cur)
        return NULL;
    memcpy(cur, s, n);
    cur[n] = 0;
    for (size_t k = 0; k < b->n_norm; k++) {
        const norm_step *ns = &b->norm[k];
        size_t nf = strlen(ns->from), nt = strlen(ns->to), hits = 0;
        if (ns->kind == NORM_PREPEND) {
            hits = n > 0;
        } else {
            for (const char *p = cur; (p = strstr(p, ns->from)); p += nf)
                hits++;
        }
        char *nx = malloc(n + hits * nt + 1), *o = nx;
        if (!nx) {
            free(cur);
            return NULL;
        }
        if (ns->kind == NORM_PREPEND) {
            memcpy(o, ns->to, hits * nt);
            memcpy(o + hits * nt, cur, n + 1);
            n += hits * nt;
        } else {
            for (const char *p = cur, *q; p; p = q ? q + nf : NULL) {
                q = strstr(p, ns->from);
                size_t len = q ? (size_t)(q - p) : strlen(p);
                memcpy(o, p, len);
                o += len;
                if (q) {
                    memcpy(o, ns->to, nt);
                    o += nt;
                }
            }
            *o = 0;
            n = (size_t)(o - nx);
        }
        free(cur);
        cur = nx;
    }
    *outn = n;
    return cur;
}

/* one Split step on every piece */
static gk_status split_step(const fmt_bpe *b, const pre_step *s, pieces *in, pieces *out, char *err,
                            size_t errcap) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(s->re, NULL);
    if (!md)
        return GK_E_NOMEM;
    gk_status st = GK_OK;
    for (size_t i = 0; st == GK_OK && i < in->n; i++) {
        const char *t = in->s[i];
        size_t n = in->len[i], pos = 0, gap = 0; /* gap: start of unmatched text */
        const char *carry = "";                  /* MergedWithNext: match waiting for text */
        size_t ncarry = 0;
        while (st == GK_OK && pos <= n) {
            int rc = pcre2_match(s->re, (PCRE2_SPTR)t, n, pos, 0, md, b->mctx);
            if (rc == PCRE2_ERROR_NOMATCH)
                break;
            if (rc < 0) {
                PCRE2_UCHAR msg[120];
                pcre2_get_error_message(rc, msg, sizeof msg);
                gk_msgf(err, errcap, "pre_tokenizer Split: regex failed: %s", (const char *)msg);
                st = GK_E_FORMAT;
                break;
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t ms = ov[0], me = ov[1];
            if (me == ms) { /* empty match: no split, step one character on */
                pos = ms + 1;
                while (pos < n && ((uint8_t)t[pos] & 0xC0) == 0x80)
                    pos++;
                continue;
            }
            if (s->behavior == BEH_PREV) {
                st = pieces_add2(out, carry, ncarry, t + gap, me - gap);
                ncarry = 0;
            } else if (s->behavior == BEH_NEXT) {
                st = pieces_add2(out, carry, ncarry, t + gap, ms - gap);
                carry = t + ms;
                ncarry = me - ms;
            } else {
                st = pieces_add2(out, carry, ncarry, t + gap, ms - gap);
                if (st == GK_OK && s->behavior == BEH_ISOLATED)
                    st = pieces_add(out, t + ms, me - ms);
            }
            gap = pos = me;
        }
        if (st == GK_OK)
            st = pieces_add2(out, carry, ncarry, t + gap, n - gap);
    }
    pcre2_match_data_free(md);
    return st;
}

/* GPT-2's byte -> printable character table, as UTF-8 */
static size_t byte_char(uint8_t c, char out[2]) {
    unsigned cp = c;
    if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE)) {
        unsigned k = 0; /* index among the unprintable bytes */
        for (unsigned x = 0; x < c; x++)
            k += !((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE);
        cp = 256 + k;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

static size_t utf8_len(const char *s, size_t n) {
    uint8_t c = (uint8_t)s[0];
    size_t l = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return l <= n ? l : n;
}

/* the initial symbols of a word: characters, else byte tokens, else unk */
static gk_status word_symbols(fmt_bpe *b, const char *w, size_t n, int32_t **sym, size_t *ns) {
    int32_t *v = malloc((n + 1) * sizeof *v);
    size_t k = 0;
    if (!v)
        return GK_E_NOMEM;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(w + i, n - i);
        int32_t id = vocab_id(b, w + i, l);
        if (id >= 0) {
            v[k++] = id;
        } else {
            int all = b->byte_fallback;
            int32_t bytes[4];
            for (size_t j = 0; all && j < l; j++) {
                char name[8];
                snprintf(name, sizeof name, "<0x%02X>", (uint8_t)w[i + j]);
                all = (bytes[j] = vocab_id(b, name, 6)) >= 0;
            }
            for (size_t j = 0; all && j < l; j++)
                v[k++] = bytes[j];
            if (!all && b->unk_id >= 0)
                v[k++] = b->unk_id; /* else tokenizers drops the character */
        }
        i += l;
    }
    *sym = v;
    *ns = k;
    return GK_OK;
}

/* BPE on one word: merge the lowest-ranked adjacent pair, leftmost first */
static gk_status bpe_word(fmt_bpe *b, const char *w, size_t n) {
    int32_t whole = b->ignore_merges ? vocab_id(b, w, n) : -1;
    if (whole >= 0)
        return emit(b, whole);
    int32_t *sym = NULL;
    size_t ns = 0;
    gk_status st = word_symbols(b, w, n, &sym, &ns);
    while (st == GK_OK && ns > 1) {
        size_t best = SIZE_MAX;
        uint32_t rank = UINT32_MAX;
        int32_t id = -1;
        for (size_t i = 0; i + 1 < ns; i++) {
            const pair_slot *p = pair_find(b, sym[i], sym[i + 1]);
            if (p->key != UINT64_MAX && p->rank < rank) {
                rank = p->rank;
                best = i;
                id = p->id;
            }
        }
        if (best == SIZE_MAX)
            break;
        sym[best] = id;
        memmove(sym + best + 1, sym + best + 2, (ns - best - 2) * sizeof *sym);
        ns--;
    }
    for (size_t i = 0; st == GK_OK && i < ns; i++)
        st = emit(b, sym[i]);
    free(sym);
    return st;
}

/* one chunk between added tokens: normalize, pre-tokenize, BPE */
static gk_status encode_chunk(fmt_bpe *b, const char *s, size_t n, char *err, size_t errcap) {
    size_t nn;
    char *norm = normalize(b, s, n, &nn);
    pieces cur = {0};
    gk_status st = norm ? pieces_add(&cur, norm, nn) : GK_E_NOMEM;
    free(norm);
    for (size_t k = 0; st == GK_OK && k < b->n_pre; k++) {
        const pre_step *ps = &b->pre[k];
        pieces next = {0};
        if (ps->kind == STEP_BYTELEVEL && ps->prefix_space) {
            for (size_t i = 0; st == GK_OK && i < cur.n; i++)
                st = pieces_add2(&next, " ", cur.s[i][0] != ' ', cur.s[i], cur.len[i]);
            pieces_free(&cur);
            cur = next;
            memset(&next, 0, sizeof next);
        }
        if (st == GK_OK && ps->re)
            st = split_step(b, ps, &cur, &next, err, errcap);
        if (ps->re) {
            pieces_free(&cur);
            cur = next;
        }
    }
    for (size_t i = 0; st == GK_OK && i < cur.n; i++) {
        if (!b->byte_level) {
            st = bpe_word(b, cur.s[i], cur.len[i]);
            continue;
        }
        char *m = malloc(2 * cur.len[i] + 1);
        size_t o = 0;
        for (size_t j = 0; m && j < cur.len[i]; j++)
            o += byte_char((uint8_t)cur.s[i][j], m + o);
        st = m ? bpe_word(b, m, o) : GK_E_NOMEM;
        free(m);
    }
    pieces_free(&cur);
    return st;
}

/* the longest added token starting at s, or NULL */
static const added_tok *added_at(const fmt_bpe *b, const char *s, size_t n) {
    const added_tok *best = NULL;
    for (size_t i = 0; i < b->n_added; i++) {
        const added_tok *a = &b->added[i];
        if (a->len <= n && a->text[0] == s[0] && (!best || a->len > best->len) &&
            !memcmp(a->text, s, a->len))
            best = a;
    }
    return best;
}

gk_status fmt_bpe_encode(fmt_bpe *b, const char *text, size_t len, int add_special,
                         const int32_t **ids, size_t *n, char *err, size_t errcap) {
    gk_status st = GK_OK;
    b->n_out = 0;
    for (size_t i = 0; add_special && st == GK_OK && i < b->n_prefix; i++)
        st = emit(b, b->prefix[i]);
    size_t start = 0;
    for (size_t i = 0; st == GK_OK && i <= len;) {
        const added_tok *a = i < len ? added_at(b, text + i, len - i) : NULL;
        if (!a && i < len) {
            i++;
            continue;
        }
        if (i > start)
            st = encode_chunk(b, text + start, i - start, err, errcap);
        if (!a)
            break;
        if (st == GK_OK)
            st = emit(b, a->id);
        i += a->len;
        start = i;
    }
    for (size_t i = 0; add_special && st == GK_OK && i < b->n_suffix; i++)
        st = emit(b, b->suffix[i]);
    if (st == GK_E_NOMEM)
        gk_msgf(err, errcap, "out of memory");
    *ids = b->out;
    *n = st == GK_OK ? b->n_out : 0;
    return st;
}

gk_status fmt_bpe_chkhsh(fmt_bpe *b, char hex[65], char *err, size_t errcap) {
    const int32_t *ids;
    size_t n;
    gk_status st = fmt_bpe_encode(b, bpe_chktxt, sizeof bpe_chktxt - 1, 1, &ids, &n, err, errcap);
    if (st != GK_OK)
        return st;
    /* Python's str() of a list of ints: "[1, 2, 3]" (at most 13 bytes an id) */
    char *txt = malloc(13 * n + 3);
    if (!txt) {
        gk_msgf(err, errcap, "out of memory");
        return GK_E_NOMEM;
    }
    size_t k = 0;
    txt[k++] = '[';
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(txt + k, i ? ", %" PRId32 : "%" PRId32, ids[i]);
    txt[k++] = ']';
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)txt, k, md);
    free(txt);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return GK_OK;
}

const char *fmt_bpe_pre_name(const char *hex) {
    for (size_t i = 0; i < sizeof bpe_pretok_rows / sizeof bpe_pretok_rows[0]; i++)
        if (!strcmp(hex, bpe_pretok_rows[i].hash))
            return bpe_pretok_rows[i].name;
    return NULL;
}
