/*
 * meta.c -- the new KV list, in gguf_new_metadata.py's order (ec562eb):
 *
 *   general.architecture   (GGUFWriter writes it first)
 *   the input's KVs, in order, minus removed keys and, when a chat template
 *       is given, every tokenizer.chat_template* key; an assigned key keeps
 *       its place and takes the new type and value
 *   tokenizer.chat_template.NAME..., tokenizer.chat_templates, then
 *       tokenizer.chat_template (add_chat_template)
 *   new keys, in the order first given (a Python dict)
 */
#include "edit/meta.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf_json.h"
#include "formats/io.h"
#include "formats/split.h"

#define ARCH_KEY "general.architecture"
#define TPL_KEY "tokenizer.chat_template"
#define TPL_LIST_KEY "tokenizer.chat_templates"
#define TOKENS_KEY "tokenizer.ggml.tokens"
#define MAX_TEMPLATE (64u << 20) /* a template file larger than this is refused */

/* One KV of the list the edits apply to. */
typedef struct {
    fmt_str key;
    const fmt_gguf_value *v;
} base_kv;

int ed_meta_changes(const ed_request *r) {
    return r->n_set || r->n_remove || r->chat_template || r->n_tpl;
}

static int key_is(fmt_str k, const char *s) {
    return k.len == strlen(s) && memcmp(k.ptr, s, k.len) == 0;
}

/* The input's KVs, with split.count moved last as 0 for a merged set. */
static base_kv *base_list(const fmt_gguf *g, int merged, fmt_gguf_value *zero, size_t *n) {
    uint64_t nkv = fmt_gguf_n_kv(g);
    base_kv *b = calloc(nkv + 1, sizeof *b);
    const fmt_gguf_kv *count = NULL;
    if (!b)
        return NULL;
    *n = 0;
    for (uint64_t i = 0; i < nkv; i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        if (merged && key_is(kv->key, "split.count"))
            count = kv;
        else
            b[(*n)++] = (base_kv){kv->key, &kv->value};
    }
    if (count) {
        zero->type = FMT_GGUF_U16, zero->v.u = 0;
        b[(*n)++] = (base_kv){count->key, zero};
    }
    return b;
}

/* ------------------------------------------------------------------------ */
/* Assignments                                                                */
/* ------------------------------------------------------------------------ */

/* --special-token names and their keys: the short names, then
 * gguf_new_metadata.py's own (the key's last part without _token_id). */
static const struct {
    const char *name, *key;
} tokens[] = {
    {"bos", "tokenizer.ggml.bos_token_id"},
    {"eos", "tokenizer.ggml.eos_token_id"},
    {"eot", "tokenizer.ggml.eot_token_id"},
    {"eom", "tokenizer.ggml.eom_token_id"},
    {"pad", "tokenizer.ggml.padding_token_id"},
    {"sep", "tokenizer.ggml.seperator_token_id"}, /* sic: gguf-py's key */
    {"unk", "tokenizer.ggml.unknown_token_id"},
    {"mask", "tokenizer.ggml.mask_token_id"},
    {"fim_pre", "tokenizer.ggml.fim_pre_token_id"},
    {"fim_suf", "tokenizer.ggml.fim_suf_token_id"},
    {"fim_mid", "tokenizer.ggml.fim_mid_token_id"},
    {"fim_pad", "tokenizer.ggml.fim_pad_token_id"},
    {"fim_rep", "tokenizer.ggml.fim_rep_token_id"},
    {"fim_sep", "tokenizer.ggml.fim_sep_token_id"},
    {"prefix", "tokenizer.ggml.prefix_token_id"},
    {"suffix", "tokenizer.ggml.suffix_token_id"},
    {"middle", "tokenizer.ggml.middle_token_id"},
    {"padding", "tokenizer.ggml.padding_token_id"},
    {"unknown", "tokenizer.ggml.unknown_token_id"},
    {"seperator", "tokenizer.ggml.seperator_token_id"},
};

static gk_status parse_special_token(const char *arg, ed_assign *a, char *err, size_t cap) {
    const char *eq = strchr(arg, '=');
    for (size_t t = 0; eq && t < sizeof tokens / sizeof tokens[0]; t++) {
        if (strlen(tokens[t].name) == (size_t)(eq - arg) &&
            !memcmp(arg, tokens[t].name, (size_t)(eq - arg))) {
            if (!(a->key = strdup(tokens[t].key)))
                return GK_E_NOMEM;
            a->token = (int)t;
            a->text = eq + 1;
            return GK_OK;
        }
    }
    gk_msgf(err, cap,
            "--special-token: want NAME=ID|TEXT, NAME one of bos eos eot eom pad sep unk mask "
            "fim_pre fim_suf fim_mid fim_pad fim_rep fim_sep prefix suffix middle");
    return GK_E_USAGE;
}

#define MAX_ARRAY_FILE (256u << 20) /* a --set-array @FILE larger than this is refused */

/* A JSON list from @FILE for --set-array. */
static gk_status array_from_file(fmt_gguf_type t, const char *path, fmt_gguf_owned *v, char *err,
                                 size_t cap) {
    fmt_map m = {0};
    char why[256];
    gk_status st = fmt_map_file(path, FMT_MAP_SEQUENTIAL, &m, why, sizeof why);
    if (st != GK_OK)
        gk_msgf(err, cap, "%s: %s", path, why);
    else if (m.size > MAX_ARRAY_FILE)
        gk_msgf(err, cap, "%s: larger than %u bytes", path, MAX_ARRAY_FILE), st = GK_E_USAGE;
    else if ((st = fmt_gguf_parse_array(t, (const char *)m.data, m.size, 1, v, why, sizeof why)) !=
             GK_OK)
        gk_msgf(err, cap, "%s: %s", path, why);
    fmt_unmap(&m);
    return st;
}

/* KEY=TYPE:VALUE (--set) or KEY=TYPE:V1,V2,...|@FILE (--set-array); the
 * key as GGUF needs it: 1..65535 bytes of valid UTF-8. */
static gk_status parse_set(const char *arg, int array, ed_assign *a, char *err, size_t cap) {
    const char *opt = array ? "--set-array" : "--set";
    const char *eq = strchr(arg, '='), *colon = eq ? strchr(eq + 1, ':') : NULL;
    fmt_gguf_type t;
    if (!colon || !fmt_gguf_type_parse(eq + 1, (size_t)(colon - eq - 1), &t))
        return gk_msgf(err, cap,
                       "%s: want KEY=TYPE:%s, TYPE one of u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 "
                       "bool str",
                       opt, array ? "V1,V2,... or KEY=TYPE:@FILE" : "VALUE"),
               GK_E_USAGE;
    size_t klen = (size_t)(eq - arg);
    if (klen == 0 || klen > 65535)
        return gk_msgf(err, cap, "key must have 1 to 65535 bytes"), GK_E_USAGE;
    if (!fmt_utf8_valid(arg, klen))
        return gk_msgf(err, cap, "key is not valid UTF-8"), GK_E_USAGE;
    const char *v = colon + 1;
    char why[512];
    gk_status st = !array ? fmt_gguf_parse_scalar(t, v, strlen(v), &a->value, why, sizeof why)
                   : v[0] == '@'
                       ? array_from_file(t, v + 1, &a->value, why, sizeof why)
                       : fmt_gguf_parse_array(t, v, strlen(v), 0, &a->value, why, sizeof why);
    if (st == GK_OK && !(a->key = strndup(arg, klen)))
        st = GK_E_NOMEM, snprintf(why, sizeof why, "out of memory");
    if (st != GK_OK)
        gk_msgf(err, cap, "%s %.*s: %s", opt, (int)klen, arg, why);
    return st;
}

/* --[no-]add-bos / --[no-]add-eos: a bool key. */
static gk_status parse_add(const char *key, int on, ed_assign *a, char *err, size_t cap) {
    if (fmt_gguf_parse_scalar(FMT_GGUF_BOOL, on ? "true" : "false", on ? 4 : 5, &a->value, err,
                              cap) != GK_OK ||
        !(a->key = strdup(key)))
        return gk_msgf(err, cap, "out of memory"), GK_E_NOMEM;
    return GK_OK;
}

gk_status ed_parse_assign(ed_assign_kind kind, const char *arg, ed_assign *a, char *err,
                          size_t cap) {
    static const char *const flag_keys[] = {"tokenizer.ggml.add_bos_token",
                                            "tokenizer.ggml.add_eos_token"};
    gk_status st;
    memset(a, 0, sizeof *a);
    a->token = -1;
    switch (kind) {
    case ED_SET:
    case ED_SET_ARRAY: st = parse_set(arg, kind == ED_SET_ARRAY, a, err, cap); break;
    case ED_SPECIAL: st = parse_special_token(arg, a, err, cap); break;
    default:
        st = parse_add(flag_keys[kind == ED_ADD_EOS || kind == ED_NO_ADD_EOS],
                       kind == ED_ADD_BOS || kind == ED_ADD_EOS, a, err, cap);
    }
    if (st != GK_OK) {
        fmt_gguf_owned_free(&a->value);
        free(a->key);
        memset(a, 0, sizeof *a);
    }
    return st;
}

/* The token id of a special-token assignment: decimal digits are an id
 * below the vocabulary size, anything else a token text that must exist
 * (the first match, as gguf_new_metadata.py's find_token). */
static gk_status token_id(const fmt_gguf *g, const ed_assign *a, uint32_t *id, gk_error *e) {
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, TOKENS_KEY);
    uint64_t n = kv && kv->value.type == FMT_GGUF_ARRAY ? kv->value.v.arr.n : 0;
    const char *s = a->text;
    size_t len = strlen(s);
    if (len && strspn(s, "0123456789") == len) {
        uint64_t v;
        if (fmt_parse_u64(s, &v) != GK_OK || v >= n || v > UINT32_MAX)
            return gk_error_set(
                e, GK_E_USAGE, NULL,
                "--special-token %s: id %.20s is out of range (the vocabulary has %llu tokens)",
                tokens[a->token].name, s, (unsigned long long)n);
        *id = (uint32_t)v;
        return GK_OK;
    }
    if (kv && kv->value.type == FMT_GGUF_ARRAY && kv->value.v.arr.elem_type == FMT_GGUF_STRING) {
        fmt_gguf_iter it;
        fmt_gguf_value v;
        fmt_gguf_iter_init(&it, &kv->value);
        for (uint32_t i = 0; fmt_gguf_iter_next(&it, &v); i++) {
            if (v.v.s.len == len && memcmp(v.v.s.ptr, s, len) == 0) {
                *id = i;
                return GK_OK;
            }
        }
    }
    return gk_error_set(e, GK_E_USAGE, NULL, "--special-token %s: token not found in %s",
                        tokens[a->token].name, TOKENS_KEY);
}

/* The value an assignment writes; special tokens become u32 ids in *tmp. */
static gk_status assigned_value(const fmt_gguf *g, const ed_assign *a, fmt_gguf_value *tmp,
                                const fmt_gguf_value **out, gk_error *e) {
    if (a->token < 0) {
        *out = &a->value.v;
        return GK_OK;
    }
    uint32_t id = 0;
    gk_status st = token_id(g, a, &id, e);
    tmp->type = FMT_GGUF_U32, tmp->v.u = id;
    *out = tmp;
    return st;
}

/* A --set that changes an existing key's type needs -f. */
static gk_status check_type(const ed_request *r, const base_kv *b, size_t nb, const ed_assign *a,
                            gk_error *e) {
    for (size_t i = 0; i < nb && a->token < 0 && !r->force; i++) {
        if (!key_is(b[i].key, a->key))
            continue;
        const fmt_gguf_value *o = b[i].v, *n = &a->value.v;
        int same = o->type == n->type &&
                   (o->type != FMT_GGUF_ARRAY || o->v.arr.elem_type == n->v.arr.elem_type);
        if (!same)
            return gk_error_set(
                e, GK_E_USAGE, NULL,
                "%s has type %s%s%s in the file, not %s%s%s (-f changes the type)", a->key,
                fmt_gguf_type_name(o->type), o->type == FMT_GGUF_ARRAY ? " of " : "",
                o->type == FMT_GGUF_ARRAY ? fmt_gguf_type_name(o->v.arr.elem_type) : "",
                fmt_gguf_type_name(n->type), n->type == FMT_GGUF_ARRAY ? " of " : "",
                n->type == FMT_GGUF_ARRAY ? fmt_gguf_type_name(n->v.arr.elem_type) : "");
    }
    return GK_OK;
}

/* Index of the effective assignment of key (the last one given), or -1. */
static int64_t find_assign(const ed_request *r, const char *key, size_t len) {
    for (size_t i = r->n_set; i-- > 0;)
        if (strlen(r->set[i].key) == len && memcmp(r->set[i].key, key, len) == 0)
            return (int64_t)i;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Removal and templates                                                      */
/* ------------------------------------------------------------------------ */

/* 1 when key matches a --remove glob; counts matches per pattern. */
static int removed(const ed_request *r, fmt_str key, size_t *hits) {
    char k[512];
    if (key.len >= sizeof k)
        return 0;
    memcpy(k, key.ptr, key.len);
    k[key.len] = 0;
    int any = 0;
    for (size_t i = 0; i < r->n_remove; i++)
        if (fnmatch(r->remove[i], k, 0) == 0)
            hits[i]++, any = 1;
    return any;
}

static void warn_removals(const ed_request *r, const size_t *hits) {
    for (size_t i = 0; i < r->n_remove; i++) {
        if (!hits[i])
            fmt_log(2, "warning: --remove '%s' matches no key", r->remove[i]);
        else if (strpbrk(r->remove[i], "*?["))
            fmt_log(2, "warning: --remove '%s' removes %zu keys; a model may not load without them",
                    r->remove[i], hits[i]);
    }
}

/* Read a template file (UTF-8, as gguf-py reads it) into *buf. */
static gk_status read_template(const char *path, char **buf, size_t *len, gk_error *e) {
    fmt_map m = {0};
    char why[256];
    if (fmt_map_file(path, FMT_MAP_SEQUENTIAL, &m, why, sizeof why) != GK_OK)
        return gk_error_set(e, GK_E_IO, path, "%s", why);
    gk_status st = GK_OK;
    if (m.size > MAX_TEMPLATE)
        st = gk_error_set(e, GK_E_USAGE, path, "template larger than %u bytes", MAX_TEMPLATE);
    else if (!fmt_utf8_valid(m.data, m.size))
        st = gk_error_set(e, GK_E_USAGE, path, "template is not valid UTF-8");
    else if (!(*buf = malloc(m.size + 1)))
        st = gk_error_set(e, GK_E_NOMEM, path, "out of memory");
    if (st == GK_OK) {
        memcpy(*buf, m.data, m.size);
        *len = m.size;
    }
    fmt_unmap(&m);
    return st;
}

static gk_status add_str_key(fmt_gguf_writer *w, const char *key, const char *s, size_t len,
                             gk_error *e) {
    gk_status st = fmt_gguf_writer_add_str(w, key, s, len);
    return st ? gk_error_set(e, st, NULL, "%s", fmt_gguf_writer_errmsg(w)) : GK_OK;
}

/* gguf-py's filter of a template name: each character (a UTF-8 sequence)
 * outside [A-Za-z0-9] becomes one '_'. In place. */
static void clean_name(char *p) {
    char *q = p;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c & 0xc0) == 0x80)
            continue; /* a continuation byte: its character has its '_' */
        *q++ = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? (char)c
                                                                                          : '_';
    }
    *q = 0;
}

/* add_chat_template with a list: tokenizer.chat_template.NAME for each
 * named template (NAME with every byte outside [A-Za-z0-9] made '_'), the
 * list of names, then the default. */
static gk_status add_templates(const ed_request *r, fmt_gguf_writer *w, gk_error *e) {
    const char *names[ED_MAX_LIST];
    char keys[ED_MAX_LIST][160];
    gk_status st = GK_OK;
    for (size_t i = 0; i < r->n_tpl && st == GK_OK; i++) {
        char *buf = NULL;
        size_t len = 0;
        int k = snprintf(keys[i], sizeof keys[i], TPL_KEY ".%s", r->tpl_name[i]);
        clean_name(keys[i] + strlen(TPL_KEY) + 1);
        names[i] = keys[i] + strlen(TPL_KEY) + 1;
        if (k < 0 || (size_t)k >= sizeof keys[i])
            return gk_error_set(e, GK_E_USAGE, NULL, "--chat-template-name: name too long");
        if ((st = read_template(r->tpl_file[i], &buf, &len, e)) == GK_OK)
            st = add_str_key(w, keys[i], buf, len, e);
        free(buf);
    }
    if (st == GK_OK && r->n_tpl &&
        (st = fmt_gguf_writer_add_str_array(w, TPL_LIST_KEY, names, NULL, r->n_tpl)) != GK_OK)
        return gk_error_set(e, st, NULL, "%s", fmt_gguf_writer_errmsg(w));
    if (st == GK_OK && r->chat_template) {
        char *buf = NULL;
        size_t len = 0;
        if ((st = read_template(r->chat_template, &buf, &len, e)) == GK_OK)
            st = add_str_key(w, TPL_KEY, buf, len, e);
        free(buf);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* The list                                                                   */
/* ------------------------------------------------------------------------ */

static gk_status add_value(fmt_gguf_writer *w, fmt_str key, const fmt_gguf_value *v, gk_error *e) {
    gk_status st = fmt_gguf_writer_add_kv(w, key.ptr, (size_t)key.len, v);
    return st ? gk_error_set(e, st, NULL, "%s", fmt_gguf_writer_errmsg(w)) : GK_OK;
}

/* The input's KVs with removals and assignments applied; marks in used[]
 * the assignments that replaced an existing key. */
static gk_status copy_base(const ed_request *r, const fmt_gguf *g, const base_kv *b, size_t nb,
                           fmt_gguf_writer *w, char *used, gk_error *e) {
    int py = ed_meta_changes(r), tpl = r->chat_template || r->n_tpl;
    size_t hits[ED_MAX_LIST] = {0};
    gk_status st = GK_OK;
    for (size_t i = 0; i < nb && st == GK_OK; i++) {
        fmt_str k = b[i].key;
        if ((py && key_is(k, ARCH_KEY)) ||
            (tpl && k.len >= strlen(TPL_KEY) && !memcmp(k.ptr, TPL_KEY, strlen(TPL_KEY))) ||
            removed(r, k, hits))
            continue;
        int64_t a = find_assign(r, k.ptr, (size_t)k.len);
        const fmt_gguf_value *v = b[i].v;
        fmt_gguf_value tmp;
        if (a >= 0) {
            for (size_t j = 0; j < r->n_set; j++)
                used[j] |= !strcmp(r->set[j].key, r->set[a].key);
            st = assigned_value(g, &r->set[a], &tmp, &v, e);
        }
        if (st == GK_OK)
            st = add_value(w, k, v, e);
    }
    warn_removals(r, hits);
    return st;
}

/* New keys in the order first given, each with its last value. */
static gk_status add_new(const ed_request *r, const fmt_gguf *g, fmt_gguf_writer *w, char *used,
                         gk_error *e) {
    gk_status st = GK_OK;
    for (size_t j = 0; j < r->n_set && st == GK_OK; j++) {
        if (used[j])
            continue;
        int64_t a = find_assign(r, r->set[j].key, strlen(r->set[j].key));
        for (size_t k = j; k < r->n_set; k++)
            used[k] |= !strcmp(r->set[k].key, r->set[j].key);
        const fmt_gguf_value *v;
        fmt_gguf_value tmp;
        fmt_str key = {r->set[a].key, strlen(r->set[a].key)};
        if ((st = assigned_value(g, &r->set[a], &tmp, &v, e)) == GK_OK)
            st = add_value(w, key, v, e);
    }
    return st;
}

fmt_gguf_writer *ed_meta_build(const ed_request *r, const fmt_gguf *first, int merged,
                               gk_error *e) {
    fmt_gguf_value zero;
    size_t nb = 0;
    gk_status st = GK_OK;
    char used[ED_MAX_LIST] = {0};
    base_kv *b = base_list(first, merged, &zero, &nb);
    fmt_gguf_writer *w = b ? fmt_gguf_writer_create(3, fmt_gguf_alignment(first), &st) : NULL;
    if (!w) {
        free(b);
        gk_error_set(e, GK_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < r->n_set && st == GK_OK; i++)
        st = check_type(r, b, nb, &r->set[i], e);
    const fmt_gguf_kv *arch = fmt_gguf_find_kv(first, ARCH_KEY);
    if (st == GK_OK && ed_meta_changes(r) && arch) {
        int64_t a = find_assign(r, ARCH_KEY, strlen(ARCH_KEY));
        st = add_value(w, arch->key, a >= 0 ? &r->set[a].value.v : &arch->value, e);
        for (size_t j = 0; a >= 0 && j < r->n_set; j++)
            used[j] |= !strcmp(r->set[j].key, ARCH_KEY);
    }
    if (st == GK_OK)
        st = copy_base(r, first, b, nb, w, used, e);
    if (st == GK_OK)
        st = add_templates(r, w, e);
    if (st == GK_OK)
        st = add_new(r, first, w, used, e);
    free(b);
    if (st != GK_OK) {
        fmt_gguf_writer_free(w);
        return NULL;
    }
    return w;
}
