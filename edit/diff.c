/*
 * diff.c -- the dry run's metadata diff.
 */
#include "edit/diff.h"

#include <jansson.h>
#include <string.h>

#include "formats/json.h"

#define SHOWN 60 /* bytes of a string value the text diff shows */

static const fmt_gguf_kv *find(const fmt_gguf *g, fmt_str key) {
    for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        if (kv->key.len == key.len && !memcmp(kv->key.ptr, key.ptr, (size_t)key.len))
            return kv;
    }
    return NULL;
}

static int same_value(const fmt_gguf_value *a, const fmt_gguf_value *b) {
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case FMT_GGUF_STRING:
        return a->v.s.len == b->v.s.len && !memcmp(a->v.s.ptr, b->v.s.ptr, (size_t)a->v.s.len);
    case FMT_GGUF_ARRAY:
        return a->v.arr.elem_type == b->v.arr.elem_type && a->v.arr.n == b->v.arr.n &&
               a->v.arr.raw_len == b->v.arr.raw_len &&
               !memcmp(a->v.arr.raw, b->v.arr.raw, (size_t)a->v.arr.raw_len);
    case FMT_GGUF_F32:
    case FMT_GGUF_F64: return !memcmp(&a->v.f, &b->v.f, sizeof a->v.f);
    default: return a->v.u == b->v.u;
    }
}

static int is_signed(fmt_gguf_type t) {
    return t == FMT_GGUF_I8 || t == FMT_GGUF_I16 || t == FMT_GGUF_I32 || t == FMT_GGUF_I64;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                       */
/* ------------------------------------------------------------------------ */

/* Bytes from a file: printable ASCII as is, the rest as \xNN. */
static void put_escaped(FILE *f, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
}

static void put_text(FILE *f, const fmt_gguf_value *v) {
    fprintf(f, "%s", fmt_gguf_type_name(v->type));
    switch (v->type) {
    case FMT_GGUF_ARRAY:
        fprintf(f, " of %s = [%llu items]", fmt_gguf_type_name(v->v.arr.elem_type),
                (unsigned long long)v->v.arr.n);
        break;
    case FMT_GGUF_STRING:
        fputs(" = \"", f);
        put_escaped(f, v->v.s.ptr, v->v.s.len > SHOWN ? SHOWN : (size_t)v->v.s.len);
        fputc('"', f);
        if (v->v.s.len > SHOWN)
            fprintf(f, "... (%llu bytes)", (unsigned long long)v->v.s.len);
        break;
    case FMT_GGUF_F32:
    case FMT_GGUF_F64: fprintf(f, " = %.9g", v->v.f); break;
    case FMT_GGUF_BOOL: fprintf(f, " = %s", v->v.u ? "true" : "false"); break;
    default:
        if (is_signed(v->type))
            fprintf(f, " = %lld", (long long)v->v.i);
        else
            fprintf(f, " = %llu", (unsigned long long)v->v.u);
    }
}

static void put_key(FILE *f, char mark, fmt_str key) {
    fprintf(f, "%c ", mark);
    put_escaped(f, key.ptr, (size_t)key.len);
    fputc(' ', f);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                       */
/* ------------------------------------------------------------------------ */

static json_t *json_value(const fmt_gguf_value *v) {
    json_t *o = json_object(), *val;
    json_object_set_new(o, "type", json_string(fmt_gguf_type_name(v->type)));
    switch (v->type) {
    case FMT_GGUF_ARRAY:
        json_object_set_new(o, "elem_type", json_string(fmt_gguf_type_name(v->v.arr.elem_type)));
        json_object_set_new(o, "n", json_integer((json_int_t)v->v.arr.n));
        return o;
    case FMT_GGUF_STRING: val = fmt_json_bytes(v->v.s.ptr, v->v.s.len); break;
    case FMT_GGUF_F32:
    case FMT_GGUF_F64: val = json_real(v->v.f); break;
    case FMT_GGUF_BOOL: val = json_boolean(v->v.u); break;
    default:
        /* u64 above INT64_MAX does not fit a JSON integer: a string then */
        if (!is_signed(v->type) && v->v.u > INT64_MAX) {
            char b[24];
            snprintf(b, sizeof b, "%llu", (unsigned long long)v->v.u);
            val = json_string(b);
        } else {
            val = json_integer(is_signed(v->type) ? (json_int_t)v->v.i : (json_int_t)v->v.u);
        }
    }
    json_object_set_new(o, "value", val);
    return o;
}

static json_t *json_entry(fmt_str key, const fmt_gguf_value *old, const fmt_gguf_value *new_) {
    json_t *o = json_object();
    json_object_set_new(o, "key", fmt_json_bytes(key.ptr, key.len));
    if (old)
        json_object_set_new(o, new_ ? "old" : "value", json_value(old));
    if (new_)
        json_object_set_new(o, old ? "new" : "value", json_value(new_));
    return o;
}

/* ------------------------------------------------------------------------ */
/* Both                                                                       */
/* ------------------------------------------------------------------------ */

gk_status ed_diff_print(FILE *f, const fmt_gguf *old, const fmt_gguf *new_, int json) {
    json_t *root = json ? json_pack("{s:[],s:[],s:[]}", "removed", "added", "changed") : NULL;
    size_t counts[3] = {0};
    if (json && !root)
        return GK_E_NOMEM;
    for (uint64_t i = 0; i < fmt_gguf_n_kv(old); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(old, i);
        if (find(new_, kv->key))
            continue;
        counts[0]++;
        if (json)
            json_array_append_new(json_object_get(root, "removed"),
                                  json_entry(kv->key, &kv->value, NULL));
        else
            put_key(f, '-', kv->key), fprintf(f, "%s\n", fmt_gguf_type_name(kv->value.type));
    }
    for (uint64_t i = 0; i < fmt_gguf_n_kv(new_); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(new_, i), *o = find(old, kv->key);
        if (o && same_value(&o->value, &kv->value))
            continue;
        counts[o ? 2 : 1]++;
        if (json) {
            json_array_append_new(json_object_get(root, o ? "changed" : "added"),
                                  json_entry(kv->key, o ? &o->value : NULL, &kv->value));
            continue;
        }
        put_key(f, o ? '~' : '+', kv->key);
        if (o)
            put_text(f, &o->value), fputs(" -> ", f);
        put_text(f, &kv->value);
        fputc('\n', f);
    }
    if (json) {
        int rc = json_dumpf(root, f, JSON_INDENT(2));
        json_decref(root);
        fputc('\n', f);
        if (rc)
            return GK_E_IO;
    } else {
        fprintf(f, "%zu removed, %zu added, %zu changed\n", counts[0], counts[1], counts[2]);
    }
    return fflush(f) || ferror(f) ? GK_E_IO : GK_OK;
}
