/*
 * tokenizer.c -- tokenizer.json and tokenizer_config.json rebuilt from
 * a GGUF's tokenizer.ggml.* metadata, in the Hugging Face tokenizers format,
 * so that ONNX Runtime users need no HF folder.
 *
 * 'llama' (SentencePiece BPE with byte fallback) becomes what HF's
 * LlamaTokenizerFast (convert_slow_tokenizer.LlamaConverter, legacy mode)
 * writes: a BPE model with byte_fallback and fuse_unk, merges derived from
 * the vocabulary as SentencePieceExtractor does (every split of a piece into
 * two pieces of the vocabulary, ordered by the piece's score, highest
 * first; within a piece by the ids of the halves), the normalizer
 * Prepend("▁") + Replace(" " -> "▁") (Prepend only with add_space_prefix).
 * llama.cpp's SPM tokenizer merges the adjacent pair whose result scores
 * highest, which is the same order.
 *
 * 'gpt2' (byte-level BPE) becomes a BPE model with the GGUF's merges and a
 * Split(regex) + ByteLevel pre-tokenizer whose regex is the one llama.cpp
 * uses for tokenizer.ggml.pre (llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_*).
 *
 * Control, unknown and user-defined tokens (token_type 3, 2, 4) become
 * added_tokens (special unless user-defined), as llama.cpp parses them out
 * of text before BPE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converters/gguf2onnx/tokenizer.h"

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

typedef struct {
    fmt_str *tok;
    float *score;
    int32_t *type;
    uint64_t n;
} vocab;

/* ------------------------------------------------------------------------ */
/* Reading the GGUF arrays                                                    */
/* ------------------------------------------------------------------------ */

static const fmt_gguf_value *arr(fmt_gguf *g, const char *key, fmt_gguf_type elem) {
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, key);
    if (!kv || kv->value.type != FMT_GGUF_ARRAY || kv->value.v.arr.elem_type != elem)
        return NULL;
    return &kv->value;
}

static gk_status read_vocab(fmt_gguf *g, vocab *v, char *err, size_t errcap) {
    memset(v, 0, sizeof *v);
    const fmt_gguf_value *toks = arr(g, "tokenizer.ggml.tokens", FMT_GGUF_STRING);
    if (!toks || toks->v.arr.n == 0) {
        snprintf(err, errcap, "missing tokenizer.ggml.tokens (use --no-tokenizer to skip)");
        return GK_E_FORMAT;
    }
    v->n = toks->v.arr.n;
    v->tok = calloc(v->n, sizeof *v->tok);
    v->score = calloc(v->n, sizeof *v->score);
    v->type = calloc(v->n, sizeof *v->type);
    if (!v->tok || !v->score || !v->type) {
        snprintf(err, errcap, "out of memory");
        return GK_E_NOMEM;
    }
    fmt_gguf_iter it;
    fmt_gguf_value e;
    uint64_t i = 0;
    fmt_gguf_iter_init(&it, toks);
    while (fmt_gguf_iter_next(&it, &e) && i < v->n)
        v->tok[i++] = e.v.s;
    const fmt_gguf_value *sc = arr(g, "tokenizer.ggml.scores", FMT_GGUF_F32);
    if (sc && sc->v.arr.n == v->n) {
        fmt_gguf_iter_init(&it, sc);
        for (i = 0; fmt_gguf_iter_next(&it, &e) && i < v->n; i++)
            v->score[i] = (float)e.v.f;
    }
    const fmt_gguf_value *ty = arr(g, "tokenizer.ggml.token_type", FMT_GGUF_I32);
    for (i = 0; i < v->n; i++)
        v->type[i] = TT_NORMAL;
    if (ty && ty->v.arr.n == v->n) {
        fmt_gguf_iter_init(&it, ty);
        for (i = 0; fmt_gguf_iter_next(&it, &e) && i < v->n; i++)
            v->type[i] = (int32_t)e.v.i;
    }
    /* llama.cpp (llama-vocab.cpp) makes these end-of-generation texts control
     * tokens whatever their stored type ("control-looking token ... will be
     * overridden"), so they are parsed out of text as special tokens. */
    static const char *const eog[] = {"<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",
                                      "<|endoftext|>",   "<|eom_id|>", "<EOT>",   "_<EOT>",
                                      "<|end_of_text|>", "</s>"};
    for (i = 0; i < v->n; i++)
        for (size_t k = 0; k < sizeof eog / sizeof eog[0]; k++)
            if (v->tok[i].len == strlen(eog[k]) &&
                memcmp(v->tok[i].ptr, eog[k], v->tok[i].len) == 0)
                v->type[i] = TT_CONTROL;
    return GK_OK;
}

static void free_vocab(vocab *v) {
    free(v->tok);
    free(v->score);
    free(v->type);
}

static json_t *jstr(fmt_str s) {
    return json_stringn(s.ptr, (size_t)s.len);
}

/* ------------------------------------------------------------------------ */
/* Token -> id hash (SentencePiece merges)                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    int64_t *slot; /* token id + 1, 0 = empty */
    uint64_t cap;
    const vocab *v;
} tokmap;

static uint64_t hash(const char *p, uint64_t n) {
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

static int map_init(tokmap *m, const vocab *v) {
    m->v = v;
    m->cap = 1;
    while (m->cap < v->n * 2)
        m->cap <<= 1;
    m->slot = calloc(m->cap, sizeof *m->slot);
    if (!m->slot)
        return 0;
    for (uint64_t i = 0; i < v->n; i++) {
        uint64_t h = hash(v->tok[i].ptr, v->tok[i].len) & (m->cap - 1);
        while (m->slot[h])
            h = (h + 1) & (m->cap - 1);
        m->slot[h] = (int64_t)i + 1;
    }
    return 1;
}

static int64_t map_get(const tokmap *m, const char *p, uint64_t n) {
    uint64_t h = hash(p, n) & (m->cap - 1);
    for (; m->slot[h]; h = (h + 1) & (m->cap - 1)) {
        const fmt_str *t = &m->v->tok[m->slot[h] - 1];
        if (t->len == n && memcmp(t->ptr, p, n) == 0)
            return m->slot[h] - 1;
    }
    return -1;
}

typedef struct {
    int64_t piece, left, right;
    float score;
} merge;

static int cmp_merge(const void *a, const void *b) {
    const merge *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1; /* highest score first */
    if (x->piece != y->piece)
        return x->piece < y->piece ? -1 : 1; /* stable: vocabulary order */
    if (x->left != y->left)
        return x->left < y->left ? -1 : 1;
    return x->right < y->right ? -1 : x->right > y->right;
}

static json_t *spm_merges(const vocab *v, char *err, size_t errcap) {
    tokmap m;
    if (!map_init(&m, v)) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    size_t n = 0, cap = 1024;
    merge *ms = malloc(cap * sizeof *ms);
    json_t *out = json_array();
    for (uint64_t i = 0; ms && i < v->n; i++) {
        if (v->type[i] != TT_NORMAL && v->type[i] != TT_USER)
            continue;
        const fmt_str *t = &v->tok[i];
        for (uint64_t k = 1; k < t->len; k++) {
            if (((uint8_t)t->ptr[k] & 0xC0) == 0x80) /* split at character boundaries */
                continue;
            int64_t l = map_get(&m, t->ptr, k), r = map_get(&m, t->ptr + k, t->len - k);
            if (l < 0 || r < 0)
                continue;
            if (n == cap) {
                merge *nm = realloc(ms, (cap *= 2) * sizeof *ms);
                if (!nm) {
                    free(ms);
                    ms = NULL;
                    break;
                }
                ms = nm;
            }
            ms[n++] = (merge){(int64_t)i, l, r, v->score[i]};
        }
    }
    free(m.slot);
    if (!ms || !out) {
        free(ms);
        json_decref(out);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    qsort(ms, n, sizeof *ms, cmp_merge);
    for (size_t i = 0; i < n; i++) {
        const fmt_str *l = &v->tok[ms[i].left], *r = &v->tok[ms[i].right];
        char *s = malloc(l->len + r->len + 2);
        if (!s)
            break;
        memcpy(s, l->ptr, l->len);
        s[l->len] = ' ';
        memcpy(s + l->len + 1, r->ptr, r->len);
        json_array_append_new(out, json_stringn(s, l->len + r->len + 1));
        free(s);
    }
    free(ms);
    return out;
}

/* ------------------------------------------------------------------------ */
/* Byte-level BPE pre-tokenizer regexes (llama.cpp llama-vocab.cpp)           */
/* ------------------------------------------------------------------------ */

/* o200k's regex as its tokenizer.json spells it (llama.cpp rewrites it for
 * its engine as LLAMA_VOCAB_PRE_TYPE_GPT4O: gpt-4o, llama4, kanana2) */
static const char gpt4o_regex[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const struct {
    const char *pre, *regex;
} pre_regex[] = {
    {"qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
              "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {"llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                  "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {"smaug-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                  "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {"gpt-4o", gpt4o_regex},
    {"llama4", gpt4o_regex},
    {"kanana2", gpt4o_regex},
};

static json_t *byte_level(int use_regex) {
    return json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                     "trim_offsets", 0, "use_regex", use_regex);
}

/* ------------------------------------------------------------------------ */
/* Assembly                                                                   */
/* ------------------------------------------------------------------------ */

static json_t *token_or_null(const vocab *v, int64_t id) {
    return id >= 0 && (uint64_t)id < v->n ? jstr(v->tok[id]) : json_null();
}

/* What the GGUF says about the special tokens and the sequence template. */
typedef struct {
    int64_t unk;
    int add_bos, add_eos, add_space;
} tok_flags;

/* The pieces of tokenizer.json that differ between SPM and byte-level BPE;
 * owned references, NULL once handed on. */
typedef struct {
    json_t *model, *normalizer, *pre, *decoder;
} tok_parts;

/* Sets *spm: 1 for 'llama' (SentencePiece), 0 for 'gpt2'; refuses others. */
static gk_status tokenizer_model(fmt_gguf *g, int *spm, char *err, size_t errcap) {
    fmt_str model;
    if (!fmt_gguf_get_str(g, "tokenizer.ggml.model", &model)) {
        snprintf(err, errcap, "missing tokenizer.ggml.model (use --no-tokenizer to skip)");
        return GK_E_FORMAT;
    }
    *spm = model.len == 5 && memcmp(model.ptr, "llama", 5) == 0;
    int bpe = model.len == 4 && memcmp(model.ptr, "gpt2", 4) == 0;
    if (!*spm && !bpe) {
        snprintf(err, errcap,
                 "unsupported tokenizer model '%.*s' (supported: llama, gpt2; use "
                 "--no-tokenizer to skip the tokenizer files)",
                 (int)(model.len > 32 ? 32 : model.len), model.ptr);
        return GK_E_UNSUPPORTED;
    }
    return GK_OK;
}

static void read_flags(fmt_gguf *g, const vocab *v, int spm, tok_flags *f) {
    uint64_t u;
    f->unk = fmt_gguf_get_u64(g, "tokenizer.ggml.unknown_token_id", &u) ? (int64_t)u : -1;
    if (spm && f->unk < 0)
        for (uint64_t i = 0; i < v->n && f->unk < 0; i++)
            if (v->type[i] == TT_UNKNOWN)
                f->unk = (int64_t)i;
    f->add_bos = spm;
    f->add_eos = 0;
    f->add_space = spm;
    int b;
    if (fmt_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b))
        f->add_bos = b;
    if (fmt_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b))
        f->add_eos = b;
    if (fmt_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &b))
        f->add_space = b;
}

/* The token -> id map, and the added tokens for tokenizer.json (added) and
 * tokenizer_config.json (decoder_added, keyed by id). */
static gk_status vocab_json(const vocab *v, json_t *vocab_obj, json_t *added, json_t *decoder_added,
                            char *err, size_t errcap) {
    for (uint64_t i = 0; i < v->n; i++) {
        json_t *s = jstr(v->tok[i]);
        if (!s) {
            snprintf(err, errcap, "token %llu is not valid UTF-8", (unsigned long long)i);
            return GK_E_FORMAT;
        }
        json_decref(s); /* only checked: keys must be valid UTF-8 too */
        json_object_setn_new(vocab_obj, v->tok[i].ptr, (size_t)v->tok[i].len,
                             json_integer((json_int_t)i));
        int t = v->type[i];
        if (t == TT_CONTROL || t == TT_UNKNOWN || t == TT_USER) {
            json_t *a = json_pack("{s:I, s:o, s:b, s:b, s:b, s:b, s:b}", "id", (json_int_t)i,
                                  "content", jstr(v->tok[i]), "single_word", 0, "lstrip", 0,
                                  "rstrip", 0, "normalized", 0, "special", t != TT_USER);
            json_array_append(added, a);
            char id[24];
            snprintf(id, sizeof id, "%llu", (unsigned long long)i);
            json_object_set_new(decoder_added, id, json_deep_copy(a));
            json_object_del(json_object_get(decoder_added, id), "id");
            json_decref(a);
        }
    }
    return GK_OK;
}

/* LlamaTokenizerFast's pieces: byte-fallback BPE over merges derived from
 * the vocabulary, "▁" for spaces. */
static gk_status spm_parts(const vocab *v, const tok_flags *f, json_t *vocab_obj, tok_parts *p,
                           char *err, size_t errcap) {
    gk_status st = GK_OK;
    json_t *merges = spm_merges(v, err, errcap);
    if (!merges)
        st = GK_E_NOMEM;
    p->model =
        json_pack("{s:s, s:n, s:o, s:n, s:n, s:b, s:b, s:b, s:O, s:O}", "type", "BPE", "dropout",
                  "unk_token", token_or_null(v, f->unk), "continuing_subword_prefix",
                  "end_of_word_suffix", "fuse_unk", 1, "byte_fallback", 1, "ignore_merges", 0,
                  "vocab", vocab_obj, "merges", merges ? merges : json_null());
    json_decref(merges);
    json_t *norms = json_array();
    if (f->add_space)
        json_array_append_new(
            norms, json_pack("{s:s, s:s}", "type", "Prepend", "prepend", "\xe2\x96\x81"));
    json_array_append_new(norms, json_pack("{s:s, s:{s:s}, s:s}", "type", "Replace", "pattern",
                                           "String", " ", "content", "\xe2\x96\x81"));
    json_decref(p->normalizer);
    p->normalizer = json_pack("{s:s, s:o}", "type", "Sequence", "normalizers", norms);
    json_t *decs =
        json_pack("[{s:s, s:{s:s}, s:s}, {s:s}, {s:s}]", "type", "Replace", "pattern", "String",
                  "\xe2\x96\x81", "content", " ", "type", "ByteFallback", "type", "Fuse");
    if (f->add_space)
        json_array_append_new(decs, json_pack("{s:s, s:s, s:i, s:i}", "type", "Strip", "content",
                                              " ", "start", 1, "stop", 0));
    p->decoder = json_pack("{s:s, s:o}", "type", "Sequence", "decoders", decs);
    return st;
}

/* Byte-level BPE pieces: the GGUF's merges and the pre-tokenizer regex that
 * llama.cpp uses for tokenizer.ggml.pre. */
static void bpe_parts(fmt_gguf *g, json_t *vocab_obj, tok_parts *p) {
    const fmt_gguf_value *mv = arr(g, "tokenizer.ggml.merges", FMT_GGUF_STRING);
    json_t *merges = json_array();
    if (mv) {
        fmt_gguf_iter it;
        fmt_gguf_value e;
        fmt_gguf_iter_init(&it, mv);
        while (fmt_gguf_iter_next(&it, &e))
            json_array_append_new(merges, jstr(e.v.s));
    }
    fmt_str pn = {"default", 7};
    fmt_gguf_get_str(g, "tokenizer.ggml.pre", &pn);
    const char *rx = NULL;
    for (size_t i = 0; i < sizeof pre_regex / sizeof pre_regex[0]; i++)
        if (strlen(pre_regex[i].pre) == pn.len && memcmp(pre_regex[i].pre, pn.ptr, pn.len) == 0)
            rx = pre_regex[i].regex;
    json_decref(p->pre);
    if (rx)
        p->pre = json_pack("{s:s, s:[{s:s, s:{s:s}, s:s, s:b}, o]}", "type", "Sequence",
                           "pretokenizers", "type", "Split", "pattern", "Regex", rx, "behavior",
                           "Isolated", "invert", 0, byte_level(0));
    else /* gpt2 / default: ByteLevel's own GPT-2 regex */
        p->pre = byte_level(1);
    if (pn.len == 5 && memcmp(pn.ptr, "qwen2", 5) == 0) {
        json_decref(p->normalizer);
        p->normalizer = json_pack("{s:s}", "type", "NFC");
    }
    p->model =
        json_pack("{s:s, s:n, s:n, s:s, s:s, s:b, s:b, s:b, s:O, s:o}", "type", "BPE", "dropout",
                  "unk_token", "continuing_subword_prefix", "", "end_of_word_suffix", "",
                  "fuse_unk", 0, "byte_fallback", 0, "ignore_merges",
                  rx && strcmp(rx, pre_regex[1].regex) == 0, "vocab", vocab_obj, "merges", merges);
    p->decoder = byte_level(1);
}

/* One special token of the template: {"SpecialToken": ...} in seq, its
 * entry in special. */
static void add_special(const vocab *v, int64_t id, json_t *seq, json_t *special) {
    json_array_append_new(
        seq, json_pack("{s:{s:o, s:i}}", "SpecialToken", "id", jstr(v->tok[id]), "type_id", 0));
    json_object_setn_new(special, v->tok[id].ptr, (size_t)v->tok[id].len,
                         json_pack("{s:o, s:[I], s:[o]}", "id", jstr(v->tok[id]), "ids",
                                   (json_int_t)id, "tokens", jstr(v->tok[id])));
}

/* BOS/EOS around a sequence when the GGUF says to add them. */
static json_t *post_processor(const vocab *v, const ox_hparams *hp, const tok_flags *f) {
    json_t *single = json_array(), *special = json_object();
    if (f->add_bos && hp->bos >= 0 && (uint64_t)hp->bos < v->n)
        add_special(v, hp->bos, single, special);
    json_array_append_new(single, json_pack("{s:{s:s, s:i}}", "Sequence", "id", "A", "type_id", 0));
    if (f->add_eos && hp->eos >= 0 && (uint64_t)hp->eos < v->n)
        add_special(v, hp->eos, single, special);
    json_t *pair = json_deep_copy(single);
    json_array_append_new(pair, json_pack("{s:{s:s, s:i}}", "Sequence", "id", "B", "type_id", 1));
    return json_pack("{s:s, s:o, s:o, s:o}", "type", "TemplateProcessing", "single", single, "pair",
                     pair, "special_tokens", special);
}

static json_t *config_json(fmt_gguf *g, const vocab *v, const ox_hparams *hp, const tok_flags *f,
                           int spm, json_t *decoder_added) {
    json_t *cfg =
        json_pack("{s:b, s:b, s:o, s:o, s:o, s:o, s:I, s:s, s:b, s:O}", "add_bos_token", f->add_bos,
                  "add_eos_token", f->add_eos, "bos_token", token_or_null(v, hp->bos), "eos_token",
                  token_or_null(v, hp->eos), "unk_token", token_or_null(v, f->unk), "pad_token",
                  token_or_null(v, hp->pad), "model_max_length", (json_int_t)hp->n_ctx,
                  "tokenizer_class", spm ? "LlamaTokenizerFast" : "PreTrainedTokenizerFast",
                  "clean_up_tokenization_spaces", 0, "added_tokens_decoder", decoder_added);
    fmt_str tmpl;
    if (spm)
        json_object_set_new(cfg, "legacy", json_true());
    if (fmt_gguf_get_str(g, "tokenizer.chat_template", &tmpl))
        json_object_set_new(cfg, "chat_template", jstr(tmpl));
    return cfg;
}

gk_status ox_tokenizer_files(fmt_gguf *g, const ox_hparams *hp, json_t **tok, json_t **cfg,
                             char *err, size_t errcap) {
    *tok = *cfg = NULL;
    int spm;
    gk_status st = tokenizer_model(g, &spm, err, errcap);
    if (st != GK_OK)
        return st;
    vocab v;
    st = read_vocab(g, &v, err, errcap);
    if (st != GK_OK) {
        free_vocab(&v);
        return st;
    }
    tok_flags f;
    read_flags(g, &v, spm, &f);
    json_t *vocab_obj = json_object(), *added = json_array(), *decoder_added = json_object();
    st = vocab_json(&v, vocab_obj, added, decoder_added, err, errcap);
    tok_parts p = {NULL, json_null(), json_null(), NULL};
    if (st == GK_OK && spm)
        st = spm_parts(&v, &f, vocab_obj, &p, err, errcap);
    else if (st == GK_OK)
        bpe_parts(g, vocab_obj, &p);
    if (st == GK_OK) {
        json_t *post = post_processor(&v, hp, &f);
        *tok = json_pack("{s:s, s:n, s:n, s:O, s:o, s:o, s:o, s:o, s:o}", "version", "1.0",
                         "truncation", "padding", "added_tokens", added, "normalizer", p.normalizer,
                         "pre_tokenizer", p.pre, "post_processor", post, "decoder", p.decoder,
                         "model", p.model);
        p.normalizer = p.pre = p.decoder = p.model = NULL;
        *cfg = config_json(g, &v, hp, &f, spm, decoder_added);
        if (!*tok || !*cfg) {
            snprintf(err, errcap, "out of memory building the tokenizer files");
            st = GK_E_NOMEM;
        }
    }
    json_decref(p.normalizer);
    json_decref(p.pre);
    json_decref(p.decoder);
    json_decref(p.model);
    json_decref(vocab_obj);
    json_decref(added);
    json_decref(decoder_added);
    free_vocab(&v);
    if (st != GK_OK) {
        json_decref(*tok);
        json_decref(*cfg);
        *tok = *cfg = NULL;
    }
    return st;
}
