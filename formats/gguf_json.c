/*
 * gguf_json.c -- GGUF metadata values parsed from text and JSON lists.
 */
#include "gguf_json.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Names and UTF-8                                                            */
/* ------------------------------------------------------------------------ */

int fmt_gguf_type_parse(const char *name, size_t len, fmt_gguf_type *out) {
    for (int t = 0; t < FMT_GGUF_TYPE_COUNT; t++) {
        const char *n = fmt_gguf_type_name((fmt_gguf_type)t);
        if (t != FMT_GGUF_ARRAY && strlen(n) == len && memcmp(n, name, len) == 0) {
            *out = (fmt_gguf_type)t;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Scalars                                                                    */
/* ------------------------------------------------------------------------ */

static int is_signed(fmt_gguf_type t) {
    return t == FMT_GGUF_I8 || t == FMT_GGUF_I16 || t == FMT_GGUF_I32 || t == FMT_GGUF_I64;
}

/* Range check of a parsed integer for t. */
static int int_fits(fmt_gguf_type t, int neg, uint64_t mag) {
    unsigned bits = (unsigned)fmt_gguf_type_size(t) * 8;
    if (!is_signed(t))
        return !neg && (bits == 64 || mag < (1ull << bits));
    uint64_t lim = 1ull << (bits - 1); /* |min|; max is lim - 1 */
    return neg ? mag <= lim : mag < lim;
}

/* Decimal integer text (optional '-') into v for type t. */
static int parse_int(fmt_gguf_type t, const char *s, size_t len, fmt_gguf_value *v) {
    size_t i = 0;
    int neg = len > 0 && s[0] == '-';
    uint64_t mag = 0;
    i = (size_t)neg;
    if (i == len)
        return 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || mag > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return 0;
        mag = mag * 10 + (uint64_t)(s[i] - '0');
    }
    if (!int_fits(t, neg, mag))
        return 0;
    if (is_signed(t))
        v->v.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    else
        v->v.u = mag;
    return 1;
}

static int parse_float(fmt_gguf_type t, const char *s, size_t len, fmt_gguf_value *v) {
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (*end || errno || !isfinite(d) || (t == FMT_GGUF_F32 && !isfinite((float)d)))
        return 0;
    v->v.f = d;
    return 1;
}

static int parse_bool(const char *s, size_t len, fmt_gguf_value *v) {
    if ((len == 4 && !memcmp(s, "true", 4)) || (len == 1 && s[0] == '1'))
        v->v.u = 1;
    else if ((len == 5 && !memcmp(s, "false", 5)) || (len == 1 && s[0] == '0'))
        v->v.u = 0;
    else
        return 0;
    return 1;
}

gk_status fmt_gguf_parse_scalar(fmt_gguf_type t, const char *text, size_t len, fmt_gguf_owned *out,
                                char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    out->v.type = t;
    int ok;
    if (t == FMT_GGUF_STRING) {
        if (!fmt_utf8_valid(text, len)) {
            gk_msgf(err, cap, "str value is not valid UTF-8");
            return GK_E_USAGE;
        }
        if (!(out->buf = malloc(len ? len : 1))) {
            gk_msgf(err, cap, "out of memory");
            return GK_E_NOMEM;
        }
        memcpy(out->buf, text, len);
        out->v.v.s = (fmt_str){(const char *)out->buf, len};
        return GK_OK;
    }
    if (t == FMT_GGUF_BOOL)
        ok = parse_bool(text, len, &out->v);
    else if (t == FMT_GGUF_F32 || t == FMT_GGUF_F64)
        ok = parse_float(t, text, len, &out->v);
    else
        ok = (unsigned)t < FMT_GGUF_TYPE_COUNT && t != FMT_GGUF_ARRAY &&
             parse_int(t, text, len, &out->v);
    if (!ok) {
        /* the text is the user's own argument; %.*s keeps it short */
        gk_msgf(err, cap, "'%.*s' is not a valid %s value", len > 40 ? 40 : (int)len, text,
                fmt_gguf_type_name(t));
        return GK_E_USAGE;
    }
    return GK_OK;
}

void fmt_gguf_owned_free(fmt_gguf_owned *o) {
    free(o->buf);
    memset(o, 0, sizeof *o);
}

/* ------------------------------------------------------------------------ */
/* Arrays                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf_t;

static int put(buf_t *b, const void *src, size_t n) {
    if (b->cap - b->n < n) {
        size_t c = b->cap ? b->cap : 64;
        while (c - b->n < n) {
            if (c > SIZE_MAX / 2)
                return -1;
            c *= 2;
        }
        uint8_t *q = realloc(b->p, c);
        if (!q)
            return -1;
        b->p = q, b->cap = c;
    }
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
    return 0;
}

/* Append element v of type t, little-endian (strings: u64 length + bytes). */
static int put_elem(buf_t *b, fmt_gguf_type t, const fmt_gguf_value *v) {
    uint8_t x[8];
    uint64_t u = 0;
    size_t sz = fmt_gguf_type_size(t);
    if (t == FMT_GGUF_STRING) {
        for (int k = 0; k < 8; k++)
            x[k] = (uint8_t)(v->v.s.len >> (8 * k));
        return put(b, x, 8) || put(b, v->v.s.ptr, (size_t)v->v.s.len);
    }
    if (t == FMT_GGUF_F32) {
        float f = (float)v->v.f;
        uint32_t w;
        memcpy(&w, &f, 4);
        u = w;
    } else if (t == FMT_GGUF_F64) {
        memcpy(&u, &v->v.f, 8);
    } else {
        u = is_signed(t) ? (uint64_t)v->v.i : v->v.u;
    }
    for (size_t k = 0; k < sz; k++)
        x[k] = (uint8_t)(u >> (8 * k));
    return put(b, x, sz);
}

/* Text of JSON item it for elem into *tmp (a scalar's text form), or the
 * string itself; 0 when the JSON kind does not fit elem. */
static int json_item_text(fmt_gguf_type elem, json_t *it, char *tmp, size_t cap, const char **s,
                          size_t *len) {
    if (elem == FMT_GGUF_STRING) {
        if (!json_is_string(it))
            return 0;
        *s = json_string_value(it), *len = json_string_length(it);
        return 1;
    }
    if (elem == FMT_GGUF_BOOL && json_is_boolean(it))
        snprintf(tmp, cap, "%s", json_is_true(it) ? "true" : "false");
    else if (json_is_integer(it) && elem != FMT_GGUF_BOOL)
        snprintf(tmp, cap, "%lld", (long long)json_integer_value(it));
    else if (json_is_real(it) && (elem == FMT_GGUF_F32 || elem == FMT_GGUF_F64))
        snprintf(tmp, cap, "%.17g", json_real_value(it));
    else
        return 0;
    *s = tmp, *len = strlen(tmp);
    return 1;
}

static gk_status add_item(buf_t *b, fmt_gguf_type elem, const char *s, size_t len, uint64_t i,
                          char *err, size_t cap) {
    fmt_gguf_owned one;
    char why[160];
    gk_status st = fmt_gguf_parse_scalar(elem, s, len, &one, why, sizeof why);
    if (st == GK_OK && put_elem(b, elem, &one.v))
        st = GK_E_NOMEM, snprintf(why, sizeof why, "out of memory");
    fmt_gguf_owned_free(&one);
    if (st != GK_OK)
        gk_msgf(err, cap, "element %llu: %s", (unsigned long long)i, why);
    return st;
}

static gk_status parse_json(buf_t *b, fmt_gguf_type elem, const char *text, size_t len, uint64_t *n,
                            char *err, size_t cap) {
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    gk_status st = GK_OK;
    if (!root || !json_is_array(root)) {
        gk_msgf(err, cap, root ? "not a JSON list" : "invalid JSON: %s (at byte %d)", je.text,
                je.position);
        json_decref(root);
        return GK_E_USAGE;
    }
    for (size_t i = 0; i < json_array_size(root) && st == GK_OK; i++) {
        char tmp[64];
        const char *s;
        size_t sl;
        if (!json_item_text(elem, json_array_get(root, i), tmp, sizeof tmp, &s, &sl)) {
            gk_msgf(err, cap, "element %zu: not a %s value", i, fmt_gguf_type_name(elem));
            st = GK_E_USAGE;
        } else {
            st = add_item(b, elem, s, sl, i, err, cap);
        }
    }
    *n = json_array_size(root);
    json_decref(root);
    return st;
}

static gk_status parse_commas(buf_t *b, fmt_gguf_type elem, const char *text, size_t len,
                              uint64_t *n, char *err, size_t cap) {
    size_t i = 0;
    *n = 0;
    if (len == 0)
        return GK_OK;
    for (;;) {
        const char *c = memchr(text + i, ',', len - i);
        size_t e = c ? (size_t)(c - text) : len;
        gk_status st = add_item(b, elem, text + i, e - i, *n, err, cap);
        if (st != GK_OK)
            return st;
        (*n)++;
        if (!c)
            return GK_OK;
        i = e + 1;
    }
}

gk_status fmt_gguf_parse_array(fmt_gguf_type elem, const char *text, size_t len, int json,
                               fmt_gguf_owned *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    if ((unsigned)elem >= FMT_GGUF_TYPE_COUNT || elem == FMT_GGUF_ARRAY) {
        gk_msgf(err, cap, "arrays of arrays are not supported");
        return GK_E_USAGE;
    }
    buf_t b = {0};
    uint64_t n = 0;
    gk_status st = json ? parse_json(&b, elem, text, len, &n, err, cap)
                        : parse_commas(&b, elem, text, len, &n, err, cap);
    if (st != GK_OK) {
        free(b.p);
        return st;
    }
    out->buf = b.p;
    out->v.type = FMT_GGUF_ARRAY;
    out->v.v.arr.elem_type = elem;
    out->v.v.arr.n = n;
    out->v.v.arr.raw = b.p;
    out->v.v.arr.raw_len = b.n;
    return GK_OK;
}
