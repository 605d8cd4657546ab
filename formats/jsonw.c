/* jsonw.c -- streaming JSON writer, jansson's bytes (see jsonw.h). */
#include "formats/jsonw.h"

#include "formats/escape.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void fmt_jsonw_init(fmt_jsonw *w, FILE *f) {
    w->f = f;
    w->err = 0;
    w->after_key = 0;
    w->depth = 0;
    w->len = 0;
}

/* After a failed write the rest is dropped: the document is lost anyway. */
static void flush(fmt_jsonw *w) {
    if (w->len && !w->err && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->err = 1;
    w->len = 0;
}

static void put(fmt_jsonw *w, const char *p, size_t n) {
    if (w->len + n > sizeof w->buf)
        flush(w);
    if (n > sizeof w->buf) {
        if (!w->err && fwrite(p, 1, n, w->f) != n)
            w->err = 1;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void putc1(fmt_jsonw *w, char c) {
    if (w->len == sizeof w->buf)
        flush(w);
    w->buf[w->len++] = c;
}

/* jansson's JSON_INDENT: a newline and one space per level. */
static void newline(fmt_jsonw *w, unsigned depth) {
    putc1(w, '\n');
    for (unsigned i = 0; i < depth; i++)
        putc1(w, ' ');
}

/* What precedes a value or key: nothing after a key or at the top, else
 * the separator from the previous element and the indentation. */
static void before(fmt_jsonw *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth == 0)
        return;
    if (!w->empty[w->depth - 1])
        putc1(w, ',');
    w->empty[w->depth - 1] = 0;
    newline(w, w->depth);
}

static void open_container(fmt_jsonw *w, char c) {
    before(w);
    putc1(w, c);
    if (w->depth == FMT_JSONW_MAX_DEPTH) {
        w->err = 1;
        return;
    }
    w->close[w->depth] = c == '{' ? '}' : ']';
    w->empty[w->depth++] = 1;
}

void fmt_jsonw_object(fmt_jsonw *w) {
    open_container(w, '{');
}
void fmt_jsonw_array(fmt_jsonw *w) {
    open_container(w, '[');
}

/* jansson prints an empty container as "[]" / "{}" on one line. */
void fmt_jsonw_end(fmt_jsonw *w) {
    if (w->depth == 0) {
        w->err = 1;
        return;
    }
    w->depth--;
    if (!w->empty[w->depth])
        newline(w, w->depth);
    putc1(w, w->close[w->depth]);
}

/* "\\uXXXX" with jansson's upper-case hex; snprintf here was the hot spot. */
static void escape_u(fmt_jsonw *w, unsigned v) {
    static const char hex[] = "0123456789ABCDEF";
    char b[6] = {'\\',       'u', hex[(v >> 12) & 15], hex[(v >> 8) & 15], hex[(v >> 4) & 15],
                 hex[v & 15]};
    put(w, b, sizeof b);
}

/* Writes code point cp as jansson's ENSURE_ASCII escapes it: a surrogate
 * pair above the BMP. */
static void escape_cp(fmt_jsonw *w, uint32_t cp) {
    if (cp < 0x10000) {
        escape_u(w, cp);
        return;
    }
    cp -= 0x10000;
    escape_u(w, 0xD800 | (cp >> 10));
    escape_u(w, 0xDC00 | (cp & 0x3FF));
}

static uint32_t decode(const unsigned char *p, unsigned len) {
    static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t cp = p[0] & lead_mask[len];
    for (unsigned i = 1; i < len; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    return cp;
}

static void ascii(fmt_jsonw *w, unsigned char c) {
    static const char short_esc[] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
    if (c == '"' || c == '\\') {
        putc1(w, '\\');
        putc1(w, (char)c);
    } else if (c < sizeof short_esc && short_esc[c]) {
        putc1(w, '\\');
        putc1(w, short_esc[c]);
    } else if (c < 0x20) {
        escape_cp(w, c);
    } else {
        putc1(w, (char)c);
    }
}

static void put_string(fmt_jsonw *w, const char *p, uint64_t n) {
    const unsigned char *u = (const unsigned char *)p;
    putc1(w, '"');
    for (uint64_t i = 0; i < n;) {
        uint64_t run = i; /* printable ASCII needing no escape: copied as one run */
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\')
            run++;
        if (run > i) {
            put(w, p + i, (size_t)(run - i));
            i = run;
            continue;
        }
        if (u[i] < 0x80) {
            ascii(w, u[i++]);
            continue;
        }
        unsigned skip = 1, len = fmt_utf8_sequence(u + i, n - i, &skip);
        escape_cp(w, len ? decode(u + i, len) : 0xFFFD);
        i += skip;
    }
    putc1(w, '"');
}

void fmt_jsonw_key(fmt_jsonw *w, const char *key) {
    before(w);
    put_string(w, key, strlen(key));
    put(w, ": ", 2);
    w->after_key = 1;
}

void fmt_jsonw_bytes(fmt_jsonw *w, const char *p, uint64_t n) {
    before(w);
    put_string(w, p, n);
}

void fmt_jsonw_str(fmt_jsonw *w, const char *s) {
    fmt_jsonw_bytes(w, s, strlen(s));
}

/* Decimal digits of v into the end of b[0..24): returns where they start. */
static char *digits(char *end, int64_t v) {
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--end = '-';
    return end;
}

void fmt_jsonw_int(fmt_jsonw *w, int64_t v) {
    char b[24], *s = digits(b + sizeof b, v);
    before(w);
    put(w, s, (size_t)(b + sizeof b - s));
}

/* jansson's jsonp_dtostr: "%.17g", ".0" when neither '.' nor 'e' shows it
 * is a real, and the exponent without '+' and leading zeros. */
void fmt_jsonw_real(fmt_jsonw *w, double v) {
    char b[40];
    if (fabs(v) < 1e16 && v == (double)(int64_t)v) { /* "%.17g" shows these as integers */
        char *s = digits(b + sizeof b - 2, (int64_t)v);
        if (signbit(v) && v == 0)
            *--s = '-';
        memcpy(b + sizeof b - 2, ".0", 2);
        before(w);
        put(w, s, (size_t)(b + sizeof b - s));
        return;
    }
    int n = snprintf(b, sizeof b, "%.17g", v);
    if (!strchr(b, '.') && !strchr(b, 'e')) {
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(b, 'e');
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        memmove(start, end, (size_t)(b + n - end) + 1);
        n -= (int)(end - start);
    }
    before(w);
    put(w, b, (size_t)n);
}

void fmt_jsonw_bool(fmt_jsonw *w, int v) {
    before(w);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void fmt_jsonw_null(fmt_jsonw *w) {
    before(w);
    put(w, "null", 4);
}

void fmt_jsonw_json(fmt_jsonw *w, const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        fmt_jsonw_object(w);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            fmt_jsonw_key(w, k);
            fmt_jsonw_json(w, x);
        }
        fmt_jsonw_end(w);
        break;
    }
    case JSON_ARRAY: {
        fmt_jsonw_array(w);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) fmt_jsonw_json(w, x);
        fmt_jsonw_end(w);
        break;
    }
    case JSON_STRING: fmt_jsonw_bytes(w, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: fmt_jsonw_int(w, json_integer_value(v)); break;
    case JSON_REAL: fmt_jsonw_real(w, json_real_value(v)); break;
    case JSON_TRUE: fmt_jsonw_bool(w, 1); break;
    case JSON_FALSE: fmt_jsonw_bool(w, 0); break;
    default: fmt_jsonw_null(w); break;
    }
}

int fmt_jsonw_finish(fmt_jsonw *w) {
    if (w->depth)
        w->err = 1;
    putc1(w, '\n');
    flush(w);
    return w->err ? -1 : 0;
}
