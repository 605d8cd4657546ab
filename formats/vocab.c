/*
 * vocab.c -- tokenizer metadata as convert_hf_to_gguf.py (c392e50) writes
 * it: the SentencePiece path (tokenizer.model), the LlamaHf path
 * (tokenizer.json BPE with byte fallback, llama only), the GPT-2 BPE path
 * (tokenizer.json), then gguf-py's SpecialVocab (merges, special token ids,
 * add_bos/add_eos, chat template).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vocab.h"

#include "spm.h"

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

/* ------------------------------------------------------------------------ */
/* A token list under construction                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
    char **text; /* owned copies */
    size_t *len;
    float *score;
    int32_t *type;
    size_t n;
} toklist;

static void toklist_free(toklist *t) {
    if (t->text)
        for (size_t i = 0; i < t->n; i++)
            free(t->text[i]);
    free(t->text);
    free(t->len);
    free(t->score);
    free(t->type);
    memset(t, 0, sizeof *t);
}

static gk_status toklist_init(toklist *t, size_t n) {
    memset(t, 0, sizeof *t);
    t->text = calloc(n ? n : 1, sizeof *t->text);
    t->len = calloc(n ? n : 1, sizeof *t->len);
    t->score = calloc(n ? n : 1, sizeof *t->score);
    t->type = calloc(n ? n : 1, sizeof *t->type);
    t->n = n;
    if (!t->text || !t->len || !t->score || !t->type) {
        toklist_free(t);
        return GK_E_NOMEM;
    }
    return GK_OK;
}

static gk_status tok_set(toklist *t, size_t i, const void *s, size_t len, float score, int type) {
    char *c = malloc(len + 1);
    if (!c)
        return GK_E_NOMEM;
    memcpy(c, s, len);
    c[len] = '\0';
    free(t->text[i]);
    t->text[i] = c;
    t->len[i] = len;
    t->score[i] = score;
    t->type[i] = type;
    return GK_OK;
}

static gk_status tok_pad(toklist *t, size_t i, float score) {
    char buf[32];
    int L = snprintf(buf, sizeof buf, "[PAD%zu]", i);
    return tok_set(t, i, buf, (size_t)L, score, TT_UNUSED);
}

/* Replace U+2581 (e2 96 81) by a space, in place. */
static void unspace(toklist *t, size_t i) {
    char *s = t->text[i], *o = s;
    size_t n = t->len[i];
    for (size_t k = 0; k < n;) {
        if (k + 2 < n && (unsigned char)s[k] == 0xe2 && (unsigned char)s[k + 1] == 0x96 &&
            (unsigned char)s[k + 2] == 0x81) {
            *o++ = ' ';
            k += 3;
        } else {
            *o++ = s[k++];
        }
    }
    *o = '\0';
    t->len[i] = (size_t)(o - s);
}

/* does_token_look_special */
static int looks_special(const char *s) {
    size_t n = strlen(s);
    if (!strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strcmp(s, "<2mass>") ||
        !strcmp(s, "[@BOS@]"))
        return 1;
    if (n >= 2 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>"))
        return 1;
    /* full-width vertical bar U+FF5C = ef bd 9c */
    if (n >= 4 && !strncmp(s, "<\xef\xbd\x9c", 4) && n >= 4 && !strcmp(s + n - 4, "\xef\xbd\x9c>"))
        return 1;
    if (!strncmp(s, "<unused", 7) && s[n - 1] == '>')
        return 1;
    return 0;
}

static gk_status toklist_write(const toklist *t, fmt_gguf_writer *w, const char *model,
                               const char *pre, int scores) {
    gk_status st = fmt_gguf_writer_add_str(w, "tokenizer.ggml.model", model, strlen(model));
    if (st == GK_OK && pre && *pre)
        st = fmt_gguf_writer_add_str(w, "tokenizer.ggml.pre", pre, strlen(pre));
    if (st == GK_OK && t->n)
        st = fmt_gguf_writer_add_str_array(w, "tokenizer.ggml.tokens", (const char *const *)t->text,
                                           t->len, t->n);
    if (st == GK_OK && scores && t->n) {
        uint8_t *raw = malloc(t->n * 4);
        if (!raw)
            return GK_E_NOMEM;
        for (size_t i = 0; i < t->n; i++) {
            uint32_t u;
            memcpy(&u, &t->score[i], 4);
            for (int b = 0; b < 4; b++)
                raw[4 * i + (size_t)b] = (uint8_t)(u >> (8 * b));
        }
        st = fmt_gguf_writer_add_array(w, "tokenizer.ggml.scores", FMT_GGUF_F32, t->n, raw);
        free(raw);
    }
    if (st == GK_OK && t->n) {
        uint8_t *raw = malloc(t->n * 4);
        if (!raw)
            return GK_E_NOMEM;
        for (size_t i = 0; i < t->n; i++) {
            uint32_t u = (uint32_t)t->type[i];
            for (int b = 0; b < 4; b++)
                raw[4 * i + (size_t)b] = (uint8_t)(u >> (8 * b));
        }
        st = fmt_gguf_writer_add_array(w, "tokenizer.ggml.token_type", FMT_GGUF_I32, t->n, raw);
        free(raw);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* SentencePiece path                                                         */
/* ------------------------------------------------------------------------ */

/* The SentencePiece pieces over vocab_size "[PAD{i}]" slots (score -10000,
 * UNUSED); more pieces than vocab_size is an error. */
static gk_status spm_pieces(fmt_hfdir *d, toklist *t, int64_t vocab_size, char *err,
                            size_t errcap) {
    char path[4096];
    fmt_hfdir_join(d, "tokenizer.model", path, sizeof path);
    gk_status st;
    fmt_spm *m = fmt_spm_open(path, &st, err, errcap);
    if (!m)
        return st;
    size_t np = fmt_spm_n_pieces(m);
    size_t n = vocab_size > 0 ? (size_t)vocab_size : np;
    if (np > n) {
        snprintf(err, errcap,
                 "%s: vocab size mismatch: tokenizer has %zu pieces, config.json vocab_size "
                 "is %zu",
                 path, np, n);
        fmt_spm_close(m);
        return GK_E_FORMAT;
    }
    if ((st = toklist_init(t, n)) != GK_OK) {
        fmt_spm_close(m);
        return st;
    }
    for (size_t i = 0; st == GK_OK && i < n; i++)
        st = tok_pad(t, i, -10000.0f);
    for (size_t i = 0; st == GK_OK && i < np; i++) {
        fmt_spm_piece p;
        fmt_spm_piece_at(m, i, &p);
        int type = TT_NORMAL;
        if (p.type == FMT_SPM_UNKNOWN)
            type = TT_UNKNOWN;
        else if (p.type == FMT_SPM_CONTROL)
            type = TT_CONTROL;
        else if (p.type == FMT_SPM_UNUSED)
            type = TT_UNUSED;
        else if (p.type == FMT_SPM_BYTE)
            type = TT_BYTE;
        st = tok_set(t, i, p.text, p.len, p.score, type);
    }
    fmt_spm_close(m);
    return st;
}

/* added_tokens.json: USER_DEFINED, score -1000; ids past the list skipped. */
static gk_status spm_added_tokens_file(fmt_hfdir *d, toklist *t, char *err, size_t errcap) {
    const json_t *added = fmt_hfdir_json(d, FMT_HF_ADDED_TOKENS, NULL, NULL, 0);
    const char *key;
    json_t *val;
    gk_status st;
    json_object_foreach((json_t *)added, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0) {
            snprintf(err, errcap, "%s/added_tokens.json: id of '%s' is not a non-negative integer",
                     fmt_hfdir_path(d), key);
            return GK_E_FORMAT;
        }
        json_int_t id = json_integer_value(val);
        if ((size_t)id >= t->n)
            continue;
        if ((st = tok_set(t, (size_t)id, key, strlen(key), -1000.0f, TT_USER)) != GK_OK)
            return st;
    }
    return GK_OK;
}

static gk_status vocab_spm(fmt_hfdir *d, toklist *t, int64_t vocab_size, char *err, size_t errcap) {
    gk_status st;
    if ((st = spm_pieces(d, t, vocab_size, err, errcap)) != GK_OK ||
        (st = spm_added_tokens_file(d, t, err, errcap)) != GK_OK)
        return st;
    size_t n = t->n;
    const char *key;
    json_t *val;
    const json_t *tc = fmt_hfdir_json(d, FMT_HF_TOKENIZER_CONFIG, NULL, NULL, 0);
    const json_t *atd = json_object_get(tc, "added_tokens_decoder");
    json_object_foreach((json_t *)atd, key, val) {
        char *end;
        long long id = strtoll(key, &end, 10);
        const char *content = fmt_hf_get_str(val, "content");
        if (*end || id < 0 || !content) {
            snprintf(err, errcap, "%s/tokenizer_config.json: bad added_tokens_decoder entry '%s'",
                     fmt_hfdir_path(d), key);
            return GK_E_FORMAT;
        }
        if ((size_t)id >= n) {
            snprintf(err, errcap,
                     "%s/tokenizer_config.json: vocab size mismatch: added token id %lld is not "
                     "below vocab_size %zu",
                     fmt_hfdir_path(d), id, n);
            return GK_E_FORMAT;
        }
        int special = json_is_true(json_object_get(val, "special"));
        if ((st = tok_set(t, (size_t)id, content, strlen(content), -1000.0f,
                          special || looks_special(content) ? TT_CONTROL : TT_USER)) != GK_OK)
            return st;
        if (t->type[id] == TT_USER)
            unspace(t, (size_t)id);
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* tokenizer.json helpers                                                     */
/* ------------------------------------------------------------------------ */

/* Content -> id of tokenizer.json added_tokens, first match. */
static int added_token_id(const json_t *tj, const char *content, long long *id) {
    const json_t *arr = json_object_get(tj, "added_tokens");
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)arr, i, e) {
        const char *c = fmt_hf_get_str(e, "content");
        json_t *jid = json_object_get(e, "id");
        if (c && strcmp(c, content) == 0) {
            if (!json_is_integer(jid))
                return 0;
            *id = json_integer_value(jid);
            return 1;
        }
    }
    return 0;
}

/* LlamaHfVocab: BPE with byte_fallback and a Sequence decoder. */
static int is_llama_hf(const json_t *tj) {
    const json_t *model = json_object_get(tj, "model");
    const char *type = fmt_hf_get_str(model, "type");
    const json_t *dec = json_object_get(tj, "decoder");
    return type && !strcmp(type, "BPE") && json_is_true(json_object_get(model, "byte_fallback")) &&
           fmt_hf_get_str(dec, "type") && !strcmp(fmt_hf_get_str(dec, "type"), "Sequence");
}

static int is_byte_token(const char *s, size_t n) {
    return n == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && isxdigit((unsigned char)s[3]) &&
           isxdigit((unsigned char)s[4]) && s[5] == '>';
}

static gk_status vocab_llama_hf(fmt_hfdir *d, const json_t *tj, toklist *t, int merge_scores,
                                char *err, size_t errcap) {
    const json_t *vocab = json_object_get(json_object_get(tj, "model"), "vocab");
    size_t base = json_object_size(vocab);
    const json_t *tc = fmt_hfdir_json(d, FMT_HF_TOKENIZER_CONFIG, NULL, NULL, 0);
    const json_t *added = json_object_get(tj, "added_tokens");
    /* added tokens at or above the base size, sorted by id */
    size_t n_added = 0;
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)added, i, e) {
        json_t *jid = json_object_get(e, "id");
        if (json_is_integer(jid) && json_integer_value(jid) >= (json_int_t)base)
            n_added++;
    }
    gk_status st = toklist_init(t, base + n_added);
    if (st != GK_OK)
        return st;
    /* special ids: tokenizer_config special token strings found in the vocab */
    static const char *const sp_keys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};
    long long special[16];
    int n_special = 0;
    for (size_t k = 0; k < sizeof sp_keys / sizeof sp_keys[0]; k++) {
        const json_t *v = json_object_get(tc, sp_keys[k]);
        const char *s = json_is_string(v) ? json_string_value(v) : fmt_hf_get_str(v, "content");
        const json_t *jid = s ? json_object_get(vocab, s) : NULL;
        long long aid;
        if (json_is_integer(jid))
            special[n_special++] = json_integer_value(jid);
        else if (s && added_token_id(tj, s, &aid))
            special[n_special++] = aid;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (!json_is_integer(val) || id < 0 || (size_t)id >= base) {
            snprintf(err, errcap, "%s/tokenizer.json: token '%s' has an id outside the vocab",
                     fmt_hfdir_path(d), key);
            return GK_E_FORMAT;
        }
        size_t L = strlen(key);
        int type = TT_NORMAL;
        if (is_byte_token(key, L))
            type = TT_BYTE;
        else
            for (int k = 0; k < n_special; k++)
                if (special[k] == id)
                    type = TT_CONTROL;
        if ((st = tok_set(t, (size_t)id, key, L, -1000.0f, type)) != GK_OK)
            return st;
    }
    size_t next = base;
    for (json_int_t want = (json_int_t)base; next < base + n_added; want++) {
        json_array_foreach((json_t *)added, i, e) {
            json_t *jid = json_object_get(e, "id");
            const char *c = fmt_hf_get_str(e, "content");
            if (!json_is_integer(jid) || json_integer_value(jid) != want || !c)
                continue;
            int type = TT_USER;
            for (int k = 0; k < n_special; k++)
                if (special[k] == want)
                    type = TT_CONTROL;
            if ((st = tok_set(t, next++, c, strlen(c), -1000.0f, type)) != GK_OK)
                return st;
        }
        if (want > (json_int_t)(base + n_added) * 4 + 1024)
            break;
    }
    for (size_t k = 0; k < t->n; k++)
        if (!t->text[k]) {
            snprintf(err, errcap, "%s/tokenizer.json: token id %zu is missing", fmt_hfdir_path(d),
                     k);
            return GK_E_FORMAT;
        }
    /* Opt-in (--merge-scores): the converter scores every token -1000, which
     * leaves llama.cpp's SPM tokenizer no merge order; scoring each merge
     * product by -rank makes it replay the BPE merges. */
    if (merge_scores) {
        const json_t *merges = json_object_get(json_object_get(tj, "model"), "merges");
        unsigned char *set = calloc(t->n, 1);
        for (size_t r = 0; set && r < json_array_size(merges); r++) {
            const json_t *m = json_array_get(merges, r);
            char buf[1024];
            if (json_is_string(m)) {
                const char *ms = json_string_value(m);
                const char *sp = strchr(ms, ' ');
                if (!sp)
                    continue;
                snprintf(buf, sizeof buf, "%.*s%s", (int)(sp - ms), ms, sp + 1);
            } else {
                snprintf(buf, sizeof buf, "%s%s", json_string_value(json_array_get(m, 0)),
                         json_string_value(json_array_get(m, 1)));
            }
            const json_t *jid = json_object_get(vocab, buf);
            if (!json_is_integer(jid))
                continue;
            size_t id = (size_t)json_integer_value(jid);
            if (id < t->n && !set[id]) {
                set[id] = 1;
                t->score[id] = -(float)r;
            }
        }
        free(set);
    }
    return GK_OK;
}

/* Known pre-tokenizers, identified by their Split regexes (see
 * hf2gguf-notes.md 3.6: llama.cpp hashes token ids of a test text; without a
 * tokenizer implementation we compare the regexes those models use). */
static const struct {
    const char *name;
    const char *regex;
} pre_table[] = {
    {"llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                  "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {"qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
              "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
};

static const char *identify_pre(const json_t *tj) {
    const json_t *pt = json_object_get(tj, "pre_tokenizer");
    const json_t *list = json_object_get(pt, "pretokenizers");
    const char *regex = NULL;
    size_t i;
    json_t *e;
    if (!list) {
        list = json_array();
        json_array_append((json_t *)list, (json_t *)pt);
    } else {
        json_incref((json_t *)list);
    }
    json_array_foreach((json_t *)list, i, e) {
        const char *type = fmt_hf_get_str(e, "type");
        if (type && !strcmp(type, "Split")) {
            regex = fmt_hf_get_str(json_object_get(e, "pattern"), "Regex");
            break;
        }
    }
    const char *name = NULL;
    for (size_t k = 0; regex && k < sizeof pre_table / sizeof pre_table[0]; k++)
        if (!strcmp(regex, pre_table[k].regex))
            name = pre_table[k].name;
    json_decref((json_t *)list);
    return name;
}

static gk_status vocab_gpt2(fmt_hfdir *d, const json_t *tj, toklist *t, int64_t vocab_size,
                            char *err, size_t errcap) {
    const json_t *vocab = json_object_get(json_object_get(tj, "model"), "vocab");
    const json_t *added = json_object_get(tj, "added_tokens");
    if (!json_is_object(vocab)) {
        snprintf(err, errcap, "%s/tokenizer.json: no model.vocab object", fmt_hfdir_path(d));
        return GK_E_FORMAT;
    }
    /* the HF vocab = model vocab + added tokens */
    json_int_t max_id = -1;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)vocab, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0) {
            snprintf(err, errcap, "%s/tokenizer.json: bad id of token '%s'", fmt_hfdir_path(d),
                     key);
            return GK_E_FORMAT;
        }
        if (json_integer_value(val) > max_id)
            max_id = json_integer_value(val);
    }
    size_t i;
    json_t *e;
    size_t n_hf = json_object_size(vocab);
    json_array_foreach((json_t *)added, i, e) {
        json_t *jid = json_object_get(e, "id");
        if (!json_is_integer(jid) || json_integer_value(jid) < 0 || !fmt_hf_get_str(e, "content")) {
            snprintf(err, errcap, "%s/tokenizer.json: bad added_tokens entry %zu",
                     fmt_hfdir_path(d), i);
            return GK_E_FORMAT;
        }
        if (json_integer_value(jid) > max_id)
            max_id = json_integer_value(jid);
        if (!json_object_get(vocab, fmt_hf_get_str(e, "content")))
            n_hf++;
    }
    size_t n = vocab_size > 0 ? (size_t)vocab_size : n_hf;
    if (max_id >= (json_int_t)n) {
        snprintf(err, errcap,
                 "%s/tokenizer.json: vocab size mismatch: token id %lld is not below vocab_size "
                 "%zu",
                 fmt_hfdir_path(d), (long long)max_id, n);
        return GK_E_FORMAT;
    }
    gk_status st = toklist_init(t, n);
    for (size_t k = 0; st == GK_OK && k < n; k++)
        st = tok_pad(t, k, 0.0f);
    json_object_foreach((json_t *)vocab, key, val) {
        if (st == GK_OK)
            st = tok_set(t, (size_t)json_integer_value(val), key, strlen(key), 0.0f, TT_NORMAL);
    }
    json_array_foreach((json_t *)added, i, e) {
        if (st != GK_OK)
            break;
        size_t id = (size_t)json_integer_value(json_object_get(e, "id"));
        const char *c = fmt_hf_get_str(e, "content");
        int special = json_is_true(json_object_get(e, "special"));
        st = tok_set(t, id, c, strlen(c), 0.0f, special || looks_special(c) ? TT_CONTROL : TT_USER);
        if (st == GK_OK && t->type[id] == TT_USER)
            unspace(t, id);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* SpecialVocab                                                               */
/* ------------------------------------------------------------------------ */

static gk_status write_merges(const json_t *tj, fmt_gguf_writer *w, char *err, size_t errcap) {
    const json_t *merges = json_object_get(json_object_get(tj, "model"), "merges");
    size_t n = json_array_size(merges);
    if (n == 0)
        return GK_OK;
    char **v = calloc(n, sizeof *v);
    if (!v)
        return GK_E_NOMEM;
    gk_status st = GK_OK;
    for (size_t i = 0; st == GK_OK && i < n; i++) {
        const json_t *m = json_array_get(merges, i);
        if (json_is_string(m)) {
            v[i] = strdup(json_string_value(m));
        } else if (json_is_array(m) && json_array_size(m) == 2 &&
                   json_is_string(json_array_get(m, 0)) && json_is_string(json_array_get(m, 1))) {
            /* [a, b] pairs: spaces inside a part become U+0120 (c4 a0) */
            const char *a = json_string_value(json_array_get(m, 0));
            const char *b = json_string_value(json_array_get(m, 1));
            char *o = malloc(2 * (strlen(a) + strlen(b)) + 2), *p = o;
            if (o) {
                for (const char *s = a; *s; s++)
                    if (*s == ' ') {
                        *p++ = (char)0xc4;
                        *p++ = (char)0xa0;
                    } else {
                        *p++ = *s;
                    }
                *p++ = ' ';
                for (const char *s = b; *s; s++)
                    if (*s == ' ') {
                        *p++ = (char)0xc4;
                        *p++ = (char)0xa0;
                    } else {
                        *p++ = *s;
                    }
                *p = '\0';
            }
            v[i] = o;
        } else {
            snprintf(err, errcap, "tokenizer.json: unknown merges format (entry %zu)", i);
            st = GK_E_FORMAT;
            break;
        }
        if (!v[i])
            st = GK_E_NOMEM;
    }
    if (st == GK_OK)
        st = fmt_gguf_writer_add_str_array(w, "tokenizer.ggml.merges", (const char *const *)v, NULL,
                                           n);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return st;
}

static gk_status special_vocab(fmt_hfdir *d, const json_t *tj, fmt_gguf_writer *w, int64_t n_vocab,
                               int load_merges, char *err, size_t errcap) {
    static const char *const types[] = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
    static const char *const keys[] = {
        "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
        "tokenizer.ggml.padding_token_id", NULL, /* cls: no writer in gguf-py */
        "tokenizer.ggml.mask_token_id"};
    enum { NT = 7 };
    long long ids[NT];
    int order[NT], n_order = 0, have[NT] = {0};
    int add_flag[NT], has_add[NT] = {0};
    gk_status st = GK_OK;

    if (load_merges && tj && (st = write_merges(tj, w, err, errcap)) != GK_OK)
        return st;

    const json_t *tc = fmt_hfdir_json(d, FMT_HF_TOKENIZER_CONFIG, NULL, NULL, 0);
    const json_t *cfg = fmt_hfdir_json(d, FMT_HF_CONFIG, NULL, NULL, 0);
    const json_t *chat = tc ? json_object_get(tc, "chat_template") : NULL;
    for (int k = 0; tc && k < NT; k++) {
        char name[32];
        snprintf(name, sizeof name, "add_%s_token", types[k]);
        const json_t *a = json_object_get(tc, name);
        if (json_is_boolean(a)) {
            has_add[k] = 1;
            add_flag[k] = json_is_true(a);
        }
        snprintf(name, sizeof name, "%s_token", types[k]);
        const json_t *ent = json_object_get(tc, name);
        const char *content =
            json_is_string(ent) ? json_string_value(ent) : fmt_hf_get_str(ent, "content");
        long long id;
        if (!content || !tj || !added_token_id(tj, content, &id))
            continue;
        if (id >= 0 && (n_vocab <= 0 || id < n_vocab) && !have[k]) {
            have[k] = 1;
            ids[k] = id;
            order[n_order++] = k;
        }
    }
    for (int k = 0; k < NT; k++) {
        char name[32];
        snprintf(name, sizeof name, "%s_token_id", types[k]);
        const json_t *v = json_object_get(cfg, name);
        if (!json_is_integer(v))
            continue;
        long long id = json_integer_value(v);
        if (id < 0) {
            snprintf(err, errcap, "config.json: invalid value for special token type %s: %lld",
                     types[k], id);
            return GK_E_FORMAT;
        }
        if ((n_vocab <= 0 || id < n_vocab) && !have[k]) {
            have[k] = 1;
            ids[k] = id;
            order[n_order++] = k;
        }
    }
    for (int i = 0; st == GK_OK && i < n_order; i++) {
        int k = order[i];
        if (keys[k])
            st = fmt_gguf_writer_add_u32(w, keys[k], (uint32_t)ids[k]);
    }
    if (st == GK_OK && has_add[0])
        st = fmt_gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", add_flag[0]);
    if (st == GK_OK && has_add[1])
        st = fmt_gguf_writer_add_bool(w, "tokenizer.ggml.add_eos_token", add_flag[1]);
    if (st != GK_OK)
        return st;
    if (json_is_string(chat)) {
        const char *s = json_string_value(chat);
        if (*s)
            st = fmt_gguf_writer_add_str(w, "tokenizer.chat_template", s, strlen(s));
    } else if (json_is_array(chat)) {
        /* named templates; tokenizer.chat_templates lists them in file order
         * (gguf-py builds it from a set, whose order is not reproducible) */
        const char *def = NULL;
        const char **names = calloc(json_array_size(chat) + 1, sizeof *names);
        char **owned = calloc(json_array_size(chat) + 1, sizeof *owned);
        size_t nn = 0, i;
        json_t *e;
        if (!names || !owned)
            st = GK_E_NOMEM;
        json_array_foreach((json_t *)chat, i, e) {
            const char *nm = fmt_hf_get_str(e, "name");
            const char *tpl = fmt_hf_get_str(e, "template");
            if (st != GK_OK || !nm || !*nm || !tpl)
                continue;
            char *clean = strdup(nm);
            if (!clean) {
                st = GK_E_NOMEM;
                break;
            }
            for (char *p = clean; *p; p++)
                if (!isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)
                    *p = '_';
            if (!strcmp(clean, "default")) {
                def = tpl;
                free(clean);
                continue;
            }
            char key[256];
            snprintf(key, sizeof key, "tokenizer.chat_template.%s", clean);
            if (*tpl)
                st = fmt_gguf_writer_add_str(w, key, tpl, strlen(tpl));
            owned[nn] = clean;
            names[nn++] = clean;
        }
        if (st == GK_OK && nn)
            st = fmt_gguf_writer_add_str_array(w, "tokenizer.chat_templates", names, NULL, nn);
        if (st == GK_OK && def && *def)
            st = fmt_gguf_writer_add_str(w, "tokenizer.chat_template", def, strlen(def));
        for (size_t k = 0; owned && k < nn; k++)
            free(owned[k]);
        free(owned);
        free(names);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                                */
/* ------------------------------------------------------------------------ */

/* _set_vocab_gpt2: tokenizer.json BPE, its pre-tokenizer, SpecialVocab
 * with merges. */
static gk_status write_bpe(fmt_hfdir *d, const json_t *tj, fmt_gguf_writer *w, toklist *t,
                           int64_t vocab_size, const char *pre, char *err, size_t errcap) {
    const char *type = fmt_hf_get_str(json_object_get(tj, "model"), "type");
    if (!type || strcmp(type, "BPE") != 0) {
        snprintf(err, errcap,
                 "%s/tokenizer.json: tokenizer model '%s' is not supported (BPE "
                 "only)",
                 fmt_hfdir_path(d), type ? type : "?");
        return GK_E_UNSUPPORTED;
    }
    const char *name = pre ? pre : identify_pre(tj);
    if (!name) {
        snprintf(err, errcap,
                 "%s/tokenizer.json: unknown BPE pre-tokenizer (known: llama-bpe, qwen2); "
                 "use --pre NAME to force one",
                 fmt_hfdir_path(d));
        return GK_E_UNSUPPORTED;
    }
    gk_status st = vocab_gpt2(d, tj, t, vocab_size, err, errcap);
    if (st == GK_OK)
        st = toklist_write(t, w, "gpt2", name, 0);
    if (st == GK_OK)
        st = special_vocab(d, tj, w, 0, 1, err, errcap);
    return st;
}

gk_status fmt_vocab_write(fmt_hfdir *d, fmt_gguf_writer *w, int64_t vocab_size, int is_llama,
                         const char *pre, int merge_scores, char *err, size_t errcap) {
    toklist t = {0};
    gk_status st;
    json_t *tj = fmt_hfdir_json(d, FMT_HF_TOKENIZER, &st, err, errcap);
    if (st != GK_OK)
        return st;

    if (fmt_hfdir_has(d, "tokenizer.model")) {
        st = vocab_spm(d, &t, vocab_size, err, errcap);
        if (st == GK_OK)
            st = toklist_write(&t, w, "llama", "default", 1);
        if (st == GK_OK)
            st = special_vocab(d, tj, w, (int64_t)t.n, 0, err, errcap);
    } else if (!tj) {
        snprintf(err, errcap, "%s: no tokenizer.model or tokenizer.json", fmt_hfdir_path(d));
        return GK_E_FORMAT;
    } else if (is_llama && is_llama_hf(tj)) {
        st = vocab_llama_hf(d, tj, &t, merge_scores, err, errcap);
        if (st == GK_OK)
            st = toklist_write(&t, w, "llama", "default", 1);
        if (st == GK_OK)
            st = special_vocab(d, tj, w, (int64_t)t.n, 0, err, errcap);
    } else {
        st = write_bpe(d, tj, w, &t, vocab_size, pre, err, errcap);
    }
    toklist_free(&t);
    if (st != GK_OK || !is_llama)
        return st;

    const json_t *tc = fmt_hfdir_json(d, FMT_HF_TOKENIZER_CONFIG, NULL, NULL, 0);
    const json_t *asp = json_object_get(tc, "add_prefix_space");
    if (json_is_boolean(asp))
        st = fmt_gguf_writer_add_bool(w, "tokenizer.ggml.add_space_prefix", json_is_true(asp));
    return st;
}

/* ------------------------------------------------------------------------ */
/* Phi-3 (Phi3MiniModel.set_vocab)                                            */
/* ------------------------------------------------------------------------ */

/* Python truthiness of a JSON value (absent = false). */
static int py_truthy(const json_t *v) {
    if (!v)
        return 0;
    switch (json_typeof(v)) {
    case JSON_TRUE: return 1;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0;
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_OBJECT: return json_object_size(v) > 0;
    default: return 0;
    }
}

/* One added token as Phi3MiniModel.set_vocab places it: the text as is,
 * score -1000, CONTROL when "special" is truthy, else USER_DEFINED. The id
 * must index the list (the converter raises IndexError otherwise). */
static gk_status phi3_added_token(fmt_hfdir *d, toklist *t, const char *file, long long id,
                                  const json_t *entry, char *err, size_t errcap) {
    const char *content = fmt_hf_get_str(entry, "content");
    if (!content || id < 0) {
        snprintf(err, errcap, "%s/%s: bad added token entry (id %lld)", fmt_hfdir_path(d), file,
                 id);
        return GK_E_FORMAT;
    }
    if ((size_t)id >= t->n) {
        snprintf(err, errcap,
                 "%s/%s: vocab size mismatch: added token id %lld is not below vocab_size %zu",
                 fmt_hfdir_path(d), file, id, t->n);
        return GK_E_FORMAT;
    }
    int type = py_truthy(json_object_get(entry, "special")) ? TT_CONTROL : TT_USER;
    return tok_set(t, (size_t)id, content, strlen(content), -1000.0f, type);
}

/* Pieces, added_tokens.json, then tokenizer_config added_tokens_decoder and
 * tokenizer.json added_tokens (the later wins). */
static gk_status vocab_phi3_spm(fmt_hfdir *d, const json_t *tc, const json_t *tj, toklist *t,
                                int64_t vocab_size, char *err, size_t errcap) {
    gk_status st;
    if ((st = spm_pieces(d, t, vocab_size, err, errcap)) != GK_OK ||
        (st = spm_added_tokens_file(d, t, err, errcap)) != GK_OK)
        return st;
    const char *key;
    json_t *val;
    json_object_foreach(json_object_get(tc, "added_tokens_decoder"), key, val) {
        char *end;
        long long id = strtoll(key, &end, 10);
        if (*end || end == key)
            id = -1;
        if ((st = phi3_added_token(d, t, "tokenizer_config.json", id, val, err, errcap)) != GK_OK)
            return st;
    }
    size_t i;
    json_array_foreach(json_object_get(tj, "added_tokens"), i, val) {
        const json_t *jid = json_object_get(val, "id");
        long long id = json_is_integer(jid) ? json_integer_value(jid) : -1;
        if ((st = phi3_added_token(d, t, "tokenizer.json", id, val, err, errcap)) != GK_OK)
            return st;
    }
    return GK_OK;
}

gk_status fmt_vocab_write_phi3(fmt_hfdir *d, fmt_gguf_writer *w, int64_t vocab_size,
                               const char *pre, char *err, size_t errcap) {
    toklist t = {0};
    gk_status st;
    json_t *tj = fmt_hfdir_json(d, FMT_HF_TOKENIZER, &st, err, errcap);
    if (st != GK_OK)
        return st;
    const json_t *tc = fmt_hfdir_json(d, FMT_HF_TOKENIZER_CONFIG, NULL, NULL, 0);
    if (tc && !json_object_get(tc, "tokenizer_class")) {
        snprintf(err, errcap, "%s/tokenizer_config.json: missing 'tokenizer_class'",
                 fmt_hfdir_path(d));
        return GK_E_FORMAT;
    }
    const char *cls = fmt_hf_get_str(tc, "tokenizer_class");
    if (cls && !strcmp(cls, "GPT2Tokenizer")) {
        if (!tj) {
            snprintf(err, errcap, "%s: GPT2Tokenizer without tokenizer.json", fmt_hfdir_path(d));
            return GK_E_FORMAT;
        }
        st = write_bpe(d, tj, w, &t, vocab_size, pre, err, errcap);
    } else if (!fmt_hfdir_has(d, "tokenizer.model")) {
        snprintf(err, errcap, "%s: missing tokenizer.model", fmt_hfdir_path(d));
        return GK_E_FORMAT;
    } else {
        st = vocab_phi3_spm(d, tc, tj, &t, vocab_size, err, errcap);
        if (st == GK_OK)
            st = toklist_write(&t, w, "llama", "default", 1);
        if (st == GK_OK)
            st = special_vocab(d, tj, w, (int64_t)t.n, 0, err, errcap);
    }
    toklist_free(&t);
    return st;
}
