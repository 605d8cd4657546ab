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

#include "bpe.h"
#include "io.h"
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
 * UNUSED); pieces past vocab_size are dropped with a warning (ec562eb). */
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
    if (np > n) { /* ec562eb drops them (c392e50 raised IndexError) */
        fmt_log(1, "warning: %s: ignore tokens from %zu: id is out of range, max=%zu", path, n,
                n - 1);
        np = n;
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
        if ((size_t)id >= t->n) {
            fmt_log(1,
                    "warning: %s/added_tokens.json: ignore token %lld: id is out of range, "
                    "max=%zu",
                    fmt_hfdir_path(d), (long long)id, t->n - 1);
            continue;
        }
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
            fmt_log(1,
                    "warning: %s/tokenizer_config.json: ignore token %lld: id is out of range, "
                    "max=%zu",
                    fmt_hfdir_path(d), id, n - 1);
            continue;
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

/* get_vocab_base_pre: encode the converter's check text with the tokenizer
 * and look the sha256 of the ids up in llama.cpp's table (formats/bpe). An
 * unknown hash is an error, as NotImplementedError is upstream. */
static gk_status identify_pre(fmt_hfdir *d, const json_t *tj, const char **name, char *err,
                              size_t errcap) {
    const json_t *tc = fmt_hfdir_json(d, FMT_HF_TOKENIZER_CONFIG, NULL, NULL, 0);
    char msg[256], hex[65];
    gk_status st;
    fmt_bpe *b = fmt_bpe_open(tj, tc, &st, msg, sizeof msg);
    if (b)
        st = fmt_bpe_chkhsh(b, hex, msg, sizeof msg);
    fmt_bpe_close(b);
    if (st != GK_OK) {
        gk_msgf(err, errcap,
                "%s/tokenizer.json: cannot compute the BPE pre-tokenizer check hash: %s; use "
                "--pre NAME to force one",
                fmt_hfdir_path(d), msg);
        return st;
    }
    fmt_log(4, "%s/tokenizer.json: chkhsh %s", fmt_hfdir_path(d), hex); /* logger.debug upstream */
    if (!(*name = fmt_bpe_pre_name(hex))) {
        gk_msgf(err, errcap,
                "%s/tokenizer.json: BPE pre-tokenizer not recognised: chkhsh %s is not in "
                "llama.cpp ec562eb's table; use --pre NAME to force one",
                fmt_hfdir_path(d), hex);
        return GK_E_UNSUPPORTED;
    }
    return GK_OK;
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

/* ------------------------------------------------------------------------ */
/* Special tokens, add_* flags, chat template (gguf-py SpecialVocab, ec562eb) */
/* ------------------------------------------------------------------------ */

enum { SV_BOS, SV_EOS, SV_UNK, SV_SEP, SV_PAD, SV_CLS, SV_MASK, SV_EOT, SV_EOM, SV_N };
static const char *const sv_names[SV_N] = {"bos", "eos",  "unk", "sep", "pad",
                                           "cls", "mask", "eot", "eom"};
/* GGUFWriter.add_{typ}_token_id / add_add_{typ}_token; NULL = no handler */
static const char *const sv_id_keys[SV_N] = {
    "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
    "tokenizer.ggml.padding_token_id", NULL,
    "tokenizer.ggml.mask_token_id",    "tokenizer.ggml.eot_token_id",
    "tokenizer.ggml.eom_token_id"};
static const char *const sv_add_keys[SV_N] = {"tokenizer.ggml.add_bos_token",
                                              "tokenizer.ggml.add_eos_token",
                                              NULL,
                                              "tokenizer.ggml.add_sep_token",
                                              NULL,
                                              NULL,
                                              NULL,
                                              NULL,
                                              NULL};

/* special_token_ids and add_special_token in insertion order, and the
 * special_token_types tuple (eot/eom appended by the post-processor). */
typedef struct {
    int64_t n_vocab;       /* 0 = None */
    const char *dir, *src; /* the file ids are being read from, for messages */
    int types[SV_N], n_types;
    int id_type[SV_N], n_ids;
    long long id_val[SV_N];
    int add_type[SV_N], add_val[SV_N], n_adds;
} special_t;

/* The tokenizer_config special tokens as Python holds them (str, dict or
 * None), new references. */
typedef struct {
    json_t *bos, *cls, *eos, *sep;
} sv_raw;

static void set_ref(json_t **slot, json_t *v) {
    json_incref(v);
    json_decref(*slot);
    *slot = v;
}

/* dict.get: a JSON null is None (NULL). */
static json_t *py_get(const json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static int py_truthy(const json_t *v) {
    if (!v || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_number(v))
        return json_number_value(v) != 0;
    return 1;
}

static int py_eq(const json_t *a, const json_t *b) {
    return (!a && !b) || (a && b && json_equal((json_t *)a, (json_t *)b));
}

static gk_status sv_set_id(special_t *sv, int typ, const json_t *v, char *err, size_t errcap) {
    if (!json_is_integer(v) && !json_is_boolean(v)) /* isinstance(tid, int) */
        return GK_OK;
    long long id = json_is_integer(v) ? json_integer_value(v) : json_is_true(v);
    if (id < 0) {
        snprintf(err, errcap, "invalid value for special token type %s: %lld", sv_names[typ], id);
        return GK_E_FORMAT;
    }
    /* Upstream skips such an id with a warning; for BOS and EOS that leaves a
     * model that can never start or stop as trained, so it is refused. */
    if (sv->n_vocab > 0 && id >= sv->n_vocab && (typ == SV_BOS || typ == SV_EOS)) {
        snprintf(err, errcap, "%s/%s: %s token id %lld is outside the vocabulary (%lld tokens)",
                 sv->dir, sv->src, sv_names[typ], id, (long long)sv->n_vocab);
        return GK_E_FORMAT;
    }
    if (sv->n_vocab > 0 && id >= sv->n_vocab) {
        fmt_log(1,
                "warning: special token type %s, id %lld out of range, must be under %lld - "
                "skipping",
                sv_names[typ], id, (long long)sv->n_vocab);
        return GK_OK;
    }
    for (int i = 0; i < sv->n_ids; i++)
        if (sv->id_type[i] == typ)
            return GK_OK;
    sv->id_type[sv->n_ids] = typ;
    sv->id_val[sv->n_ids++] = id;
    return GK_OK;
}

static void sv_set_add(special_t *sv, int typ, int val) {
    for (int i = 0; i < sv->n_adds; i++)
        if (sv->add_type[i] == typ) {
            sv->add_val[i] = val;
            return;
        }
    sv->add_type[sv->n_adds] = typ;
    sv->add_val[sv->n_adds++] = val;
}

static int sv_has_type(const special_t *sv, int typ) {
    for (int i = 0; i < sv->n_types; i++)
        if (sv->types[i] == typ)
            return 1;
    return 0;
}

static json_t *special_token_of(const json_t *item) {
    return py_get(json_object_get(item, "SpecialToken"), "id");
}

/* single = [first, ..., last]: add_bos / add_eos, eot/eom fallback. */
static void sv_template_single(special_t *sv, const json_t *single, json_t *tc, sv_raw *r,
                               json_t **first, json_t **last) {
    if (json_array_size(single) <= 1)
        return;
    json_t *f = special_token_of(json_array_get(single, 0));
    if (py_truthy(f)) {
        *first = f;
        if (!py_truthy(tc))
            set_ref(&r->bos, f);
        sv_set_add(sv, SV_BOS, py_eq(f, r->bos) || py_eq(f, r->cls));
    }
    json_t *l = special_token_of(json_array_get(single, json_array_size(single) - 1));
    if (!py_truthy(l))
        return;
    *last = l;
    if (!py_truthy(tc)) {
        set_ref(&r->eos, l);
    } else if (!py_eq(l, r->eos)) {
        int fb = !sv_has_type(sv, SV_EOT) ? SV_EOT : !sv_has_type(sv, SV_EOM) ? SV_EOM : -1;
        if (fb >= 0) {
            sv->types[sv->n_types++] = fb;
            json_object_set(tc, fb == SV_EOT ? "eot_token" : "eom_token",
                            r->eos ? r->eos : json_null());
        }
        json_object_set(tc, "eos_token", l);
        set_ref(&r->eos, l);
    }
    sv_set_add(sv, SV_EOS, py_eq(l, r->eos));
}

/* pair = [first?] A [sep] [eos] B [last?]: add_sep. */
static void sv_template_pair(special_t *sv, const json_t *pair, json_t *tc, sv_raw *r,
                             const json_t *first, const json_t *last) {
    size_t n = json_array_size(pair), start = 0, stop = n;
    if (!n)
        return;
    if (first && py_eq(special_token_of(json_array_get(pair, 0)), first))
        start = 1;
    if (last && py_eq(special_token_of(json_array_get(pair, n - 1)), last))
        stop = n - 1;
    if (stop <= start)
        return;
    const char *a = fmt_hf_get_str(json_object_get(json_array_get(pair, start), "Sequence"), "id");
    const char *b =
        fmt_hf_get_str(json_object_get(json_array_get(pair, stop - 1), "Sequence"), "id");
    if (!a || !b || strcmp(a, "A") || strcmp(b, "B") || stop - start <= 2)
        return;
    int add_sep = 0;
    json_t *e = special_token_of(json_array_get(pair, start + 1));
    if (py_truthy(e) && (py_eq(e, r->sep) || py_eq(e, r->eos)) && !py_truthy(last))
        add_sep = 1;
    if (stop - start - 2 == 2) {
        json_t *e2 = special_token_of(json_array_get(pair, start + 2));
        if (py_truthy(e2) && (py_eq(e2, r->sep) || py_eq(e2, r->eos)))
            add_sep = 1;
    }
    sv_set_add(sv, SV_SEP, add_sep);
    if (add_sep && !py_truthy(r->sep) && py_truthy(tc))
        json_object_set(tc, "sep_token", r->eos ? r->eos : json_null());
}

/* The tokenizer.json post-processor block of _try_load_from_tokenizer_json. */
static void sv_post_processor(special_t *sv, const json_t *tj, json_t *tc) {
    sv_raw r = {0};
    set_ref(&r.bos, py_get(tc, "bos_token"));
    set_ref(&r.cls, py_get(tc, "cls_token"));
    set_ref(&r.eos, py_get(tc, "eos_token"));
    set_ref(&r.sep, py_get(tc, "sep_token"));
    if (!py_truthy(r.bos) && py_truthy(r.cls) && py_truthy(tc)) {
        json_object_set(tc, "bos_token", r.cls);
        set_ref(&r.bos, r.cls);
    }
    if (!py_truthy(r.eos) && py_truthy(r.sep) && py_truthy(tc)) {
        json_object_set(tc, "eos_token", r.sep);
        set_ref(&r.eos, r.sep);
    }
    const json_t *pp = json_object_get(tj, "post_processor");
    const json_t *procs = json_object_get(pp, "processors");
    size_t n = py_truthy(pp) ? (procs ? json_array_size(procs) : 1) : 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = procs ? json_array_get(procs, i) : pp;
        const char *type = fmt_hf_get_str(p, "type");
        if (type && !strcmp(type, "RobertaProcessing")) {
            sv_set_add(sv, SV_BOS, 1);
            sv_set_add(sv, SV_EOS, 1);
            sv_set_add(sv, SV_SEP, 1);
            if (!py_truthy(r.cls) && py_truthy(tc)) {
                json_t *c = json_object_get(p, "cls") ? json_array_get(json_object_get(p, "cls"), 0)
                                                      : r.bos;
                set_ref(&r.cls, c);
                json_object_set(tc, "cls_token", c ? c : json_null());
            }
            if (!py_truthy(r.sep) && py_truthy(tc)) {
                json_t *s = json_object_get(p, "sep") ? json_array_get(json_object_get(p, "sep"), 0)
                                                      : r.eos;
                set_ref(&r.sep, s);
                json_object_set(tc, "sep_token", s ? s : json_null());
            }
        } else if (type && !strcmp(type, "TemplateProcessing")) {
            json_t *first = NULL, *last = NULL;
            sv_template_single(sv, json_object_get(p, "single"), tc, &r, &first, &last);
            sv_template_pair(sv, json_object_get(p, "pair"), tc, &r, first, last);
        }
    }
    json_decref(r.bos);
    json_decref(r.cls);
    json_decref(r.eos);
    json_decref(r.sep);
}

/* The tokenizer_config pass: add_{typ}_token flags and {typ}_token ids
 * (resolved through tokenizer.json added_tokens only). */
static gk_status sv_config_tokens(special_t *sv, const json_t *tj, const json_t *tc, char *err,
                                  size_t errcap) {
    gk_status st = GK_OK;
    for (int i = 0; st == GK_OK && i < sv->n_types; i++) {
        int typ = sv->types[i];
        char name[32];
        snprintf(name, sizeof name, "add_%s_token", sv_names[typ]);
        const json_t *a = json_object_get(tc, name);
        if (json_is_boolean(a))
            sv_set_add(sv, typ, json_is_true(a));
        snprintf(name, sizeof name, "%s_token", sv_names[typ]);
        const json_t *ent = json_object_get(tc, name);
        const char *content =
            json_is_string(ent) ? json_string_value(ent) : fmt_hf_get_str(ent, "content");
        const json_t *arr = json_object_get(tj, "added_tokens");
        size_t k;
        json_t *e;
        json_array_foreach((json_t *)arr, k, e) {
            const char *c = fmt_hf_get_str(e, "content");
            if (content && c && !strcmp(c, content)) {
                st = sv_set_id(sv, typ, json_object_get(e, "id"), err, errcap);
                break;
            }
        }
    }
    return st;
}

/* _try_load_from_config_json: {typ}_token_id, else text_config's. */
static gk_status sv_config_ids(special_t *sv, const json_t *cfg, char *err, size_t errcap) {
    gk_status st = GK_OK;
    for (int i = 0; st == GK_OK && i < sv->n_types; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s_token_id", sv_names[sv->types[i]]);
        const json_t *v = py_get(cfg, name);
        if (!v && json_object_get(cfg, "text_config"))
            v = py_get(json_object_get(cfg, "text_config"), name);
        st = sv_set_id(sv, sv->types[i], v, err, errcap);
    }
    return st;
}

/* tokenizer_config chat_template, else chat_template.jinja, else
 * chat_template.json's chat_template (new reference, or NULL). A key
 * present with null is None: no fallback. */
static json_t *sv_chat_template(fmt_hfdir *d, const json_t *tc) {
    json_t *v = json_object_get(tc, "chat_template");
    if (v)
        return json_incref(v);
    char path[4096];
    if (fmt_hfdir_has(d, "chat_template.jinja") &&
        fmt_hfdir_join(d, "chat_template.jinja", path, sizeof path)) {
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = f ? open_memstream(&buf, &len) : NULL;
        char chunk[8192];
        size_t got;
        while (mem && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
            fwrite(chunk, 1, got, mem);
        if (mem)
            fclose(mem);
        if (f)
            fclose(f);
        /* Python reads it in text mode: universal newlines */
        size_t o = 0;
        for (size_t i = 0; buf && i < len; i++) {
            if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
                continue;
            buf[o++] = buf[i] == '\r' ? '\n' : buf[i];
        }
        json_t *s = buf ? json_stringn(buf, o) : NULL;
        free(buf);
        return s;
    }
    if (fmt_hfdir_has(d, "chat_template.json") &&
        fmt_hfdir_join(d, "chat_template.json", path, sizeof path)) {
        json_t *j = json_load_file(path, 0, NULL);
        json_t *ct = json_incref(json_object_get(j, "chat_template"));
        json_decref(j);
        return ct;
    }
    return NULL;
}

/* GGUFWriter.add_chat_template: a string, or named templates (the
 * "default" one as tokenizer.chat_template). tokenizer.chat_templates
 * lists them in file order (gguf-py builds it from a set, whose order is
 * not reproducible). */
static gk_status write_chat_template(fmt_gguf_writer *w, const json_t *chat) {
    gk_status st = GK_OK;
    if (json_is_string(chat)) {
        const char *s = json_string_value(chat);
        if (*s)
            st = fmt_gguf_writer_add_str(w, "tokenizer.chat_template", s, strlen(s));
    } else if (json_is_array(chat)) {
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

/* A family's _set_special_token calls after the constructor (extra, up to
 * the entry with a NULL type): by added-token text, a missing text being the
 * KeyError upstream raises; a type already set keeps its id. */
static gk_status sv_family_tokens(special_t *sv, const json_t *tj, const fmt_vocab_special *extra,
                                  const fmt_hfdir *d, char *err, size_t errcap) {
    gk_status st = GK_OK;
    for (; st == GK_OK && extra && extra->type; extra++) {
        int typ = 0;
        while (typ < SV_N && strcmp(sv_names[typ], extra->type) != 0)
            typ++;
        long long id;
        if (typ == SV_N || !added_token_id(tj, extra->content, &id)) {
            snprintf(err, errcap, "%s/tokenizer.json: no added token '%s' (the %s token)",
                     fmt_hfdir_path(d), extra->content, extra->type);
            return GK_E_FORMAT;
        }
        json_t *v = json_integer(id);
        st = v ? sv_set_id(sv, typ, v, err, errcap) : GK_E_NOMEM;
        json_decref(v);
    }
    return st;
}

/* SpecialVocab(dir, load_merges, n_vocab).add_to_gguf: merges, special
 * token ids, add_* flags, chat template; extra as sv_family_tokens. */
static gk_status special_vocab(fmt_hfdir *d, const json_t *tj, fmt_gguf_writer *w, int64_t n_vocab,
                               int load_merges, const fmt_vocab_special *extra, char *err,
                               size_t errcap) {
    special_t sv = {.n_vocab = n_vocab, .dir = fmt_hfdir_path(d), .n_types = 7};
    for (int i = 0; i < 7; i++)
        sv.types[i] = i;
    gk_status st = GK_OK;
    if (load_merges && tj && (st = write_merges(tj, w, err, errcap)) != GK_OK)
        return st;
    const json_t *tc0 = fmt_hfdir_json(d, FMT_HF_TOKENIZER_CONFIG, NULL, NULL, 0);
    const json_t *cfg = fmt_hfdir_json(d, FMT_HF_CONFIG, NULL, NULL, 0);
    json_t *tc = json_is_object(tc0) ? json_deep_copy(tc0) : NULL, *chat = NULL;
    if (tc0 && json_is_object(tc0) && !tc)
        return GK_E_NOMEM;
    if (py_truthy(tj))
        sv_post_processor(&sv, tj, tc);
    if (py_truthy(tc)) {
        chat = sv_chat_template(d, tc);
        sv.src = "tokenizer_config.json";
        st = sv_config_tokens(&sv, tj, tc, err, errcap);
    }
    sv.src = "config.json";
    if (st == GK_OK)
        st = sv_config_ids(&sv, cfg, err, errcap);
    sv.src = "tokenizer.json";
    if (st == GK_OK)
        st = sv_family_tokens(&sv, tj, extra, d, err, errcap);
    for (int i = 0; st == GK_OK && i < sv.n_ids; i++)
        if (sv_id_keys[sv.id_type[i]])
            st = fmt_gguf_writer_add_u32(w, sv_id_keys[sv.id_type[i]], (uint32_t)sv.id_val[i]);
    for (int i = 0; st == GK_OK && i < sv.n_adds; i++)
        if (sv_add_keys[sv.add_type[i]])
            st = fmt_gguf_writer_add_bool(w, sv_add_keys[sv.add_type[i]], sv.add_val[i]);
    if (st == GK_OK && chat)
        st = write_chat_template(w, chat);
    json_decref(chat);
    json_decref(tc);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                                */
/* ------------------------------------------------------------------------ */

/* _set_vocab_gpt2: tokenizer.json BPE, its pre-tokenizer, SpecialVocab
 * with merges. */
static gk_status write_bpe(fmt_hfdir *d, const json_t *tj, fmt_gguf_writer *w, toklist *t,
                           int64_t vocab_size, const char *pre, const fmt_vocab_special *extra,
                           char *err, size_t errcap) {
    const char *type = fmt_hf_get_str(json_object_get(tj, "model"), "type");
    if (!type || strcmp(type, "BPE") != 0) {
        snprintf(err, errcap,
                 "%s/tokenizer.json: tokenizer model '%s' is not supported (BPE "
                 "only)",
                 fmt_hfdir_path(d), type ? type : "?");
        return GK_E_UNSUPPORTED;
    }
    const char *name = pre;
    gk_status st = name ? GK_OK : identify_pre(d, tj, &name, err, errcap);
    if (st != GK_OK)
        return st;
    st = vocab_gpt2(d, tj, t, vocab_size, err, errcap);
    if (st == GK_OK)
        st = toklist_write(t, w, "gpt2", name, 0);
    if (st == GK_OK)
        st = special_vocab(d, tj, w, 0, 1, extra, err, errcap);
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
            st = special_vocab(d, tj, w, (int64_t)t.n, 0, NULL, err, errcap);
    } else if (!tj) {
        snprintf(err, errcap, "%s: no tokenizer.model or tokenizer.json", fmt_hfdir_path(d));
        return GK_E_FORMAT;
    } else if (is_llama && is_llama_hf(tj)) {
        st = vocab_llama_hf(d, tj, &t, merge_scores, err, errcap);
        if (st == GK_OK)
            st = toklist_write(&t, w, "llama", "default", 1);
        if (st == GK_OK)
            st = special_vocab(d, tj, w, (int64_t)t.n, 0, NULL, err, errcap);
    } else {
        st = write_bpe(d, tj, w, &t, vocab_size, pre, NULL, err, errcap);
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

gk_status fmt_vocab_write_bpe(fmt_hfdir *d, fmt_gguf_writer *w, int64_t vocab_size, const char *pre,
                              const fmt_vocab_special *extra, char *err, size_t errcap) {
    toklist t = {0};
    gk_status st;
    json_t *tj = fmt_hfdir_json(d, FMT_HF_TOKENIZER, &st, err, errcap);
    if (st != GK_OK)
        return st;
    if (!tj) {
        snprintf(err, errcap, "%s/tokenizer.json: missing (the family's vocabulary is BPE)",
                 fmt_hfdir_path(d));
        return GK_E_FORMAT;
    }
    st = write_bpe(d, tj, w, &t, vocab_size, pre, extra, err, errcap);
    toklist_free(&t);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Phi-3 (Phi3MiniModel.set_vocab)                                            */
/* ------------------------------------------------------------------------ */

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
        st = write_bpe(d, tj, w, &t, vocab_size, pre, NULL, err, errcap);
    } else if (!fmt_hfdir_has(d, "tokenizer.model")) {
        snprintf(err, errcap, "%s: missing tokenizer.model", fmt_hfdir_path(d));
        return GK_E_FORMAT;
    } else {
        st = vocab_phi3_spm(d, tc, tj, &t, vocab_size, err, errcap);
        if (st == GK_OK)
            st = toklist_write(&t, w, "llama", "default", 1);
        if (st == GK_OK)
            st = special_vocab(d, tj, w, (int64_t)t.n, 0, NULL, err, errcap);
    }
    toklist_free(&t);
    return st;
}
