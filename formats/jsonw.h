/*
 * jsonw.h -- a streaming JSON writer for the --json views.
 *
 * Builds no tree: values go out as they are produced, so a 100k-token
 * vocabulary costs no allocation per token. The bytes are exactly those of
 * jansson's json_dumps(root, JSON_INDENT(1) | JSON_ENSURE_ASCII) for the
 * same document (indent 1, "," at line ends, ": " after keys, "[]" and
 * "{}" when empty, \uXXXX escapes and surrogate pairs, reals as "%.17g"
 * with jansson's fix-ups), so schemas and goldens made with jansson stay.
 * Strings from a file are repaired as formats/json does (invalid UTF-8 ->
 * U+FFFD per maximal ill-formed subpart).
 */
#ifndef FORMATS_JSONW_H
#define FORMATS_JSONW_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* jansson's parser refuses deeper documents, so no tree it built is deeper. */
#define FMT_JSONW_MAX_DEPTH 2100

typedef struct {
    FILE *f;
    int err;       /* a write failed or the document nested too deep */
    int after_key; /* the next value follows its key on the same line */
    unsigned depth;
    size_t len;                               /* bytes pending in buf */
    unsigned char empty[FMT_JSONW_MAX_DEPTH]; /* per open container: nothing in it yet */
    char close[FMT_JSONW_MAX_DEPTH];          /* per open container: '}' or ']' */
    char buf[1 << 16];
} fmt_jsonw;

/* A writer to f (nothing written yet). */
void fmt_jsonw_init(fmt_jsonw *w, FILE *f);

void fmt_jsonw_object(fmt_jsonw *w); /* '{': keys and values follow */
void fmt_jsonw_array(fmt_jsonw *w);  /* '[': values follow */
void fmt_jsonw_end(fmt_jsonw *w);    /* closes the innermost '{' or '[' */

/* The key of the next value in an object (a C string: ASCII or UTF-8). */
void fmt_jsonw_key(fmt_jsonw *w, const char *key);

/* p[0..n) from a file as a string, invalid UTF-8 repaired. */
void fmt_jsonw_bytes(fmt_jsonw *w, const char *p, uint64_t n);
void fmt_jsonw_str(fmt_jsonw *w, const char *s); /* a C string, valid UTF-8 */
void fmt_jsonw_int(fmt_jsonw *w, int64_t v);
void fmt_jsonw_real(fmt_jsonw *w, double v); /* finite */
void fmt_jsonw_bool(fmt_jsonw *w, int v);
void fmt_jsonw_null(fmt_jsonw *w);

/* A jansson value (a parsed config.json, a small computed section). */
void fmt_jsonw_json(fmt_jsonw *w, const json_t *v);

/* Ends the document with '\n' and flushes: 0, or -1 when a write failed
 * (errno set) or the document was malformed. */
int fmt_jsonw_finish(fmt_jsonw *w);

#endif
