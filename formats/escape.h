/*
 * escape.h -- the one rule for showing a file's bytes as text.
 *
 * Names and values read from a file (tensor names, metadata strings,
 * manifest names) reach error messages, progress lines and text views.
 * A raw control byte there could move the cursor, retitle the terminal or
 * hide a line, so every such path goes through fmt_escape_term; --json
 * views use formats/json instead, which shares the UTF-8 decoder below.
 */
#ifndef FORMATS_ESCAPE_H
#define FORMATS_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the well-formed UTF-8 sequence at p[0..n), n >= 1, or 0
 * when p starts a maximal ill-formed subpart (Unicode 3.9, the WHATWG
 * decoder's unit of replacement). Either way *skip receives the bytes to
 * step over: the sequence, or the ill-formed subpart (1..3). */
unsigned fmt_utf8_sequence(const unsigned char *p, uint64_t n, unsigned *skip);

/* 1 when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or
 * values past U+10FFFF), as GGUF keys and JSON strings need it. */
int fmt_utf8_valid(const void *s, uint64_t n);

/* Writes src[0..len) to dst as text safe for a terminal and returns dst
 * (always NUL-terminated when cap >= 1), so that it can be printed in
 * place. Well-formed UTF-8 is kept, except the C0 controls, DEL and
 * the C1 controls (U+0080..U+009F), each of which becomes one '?'; each
 * maximal ill-formed UTF-8 subpart also becomes one '?'. When the result
 * does not fit in cap - 1 bytes it is cut at a character boundary and ends
 * with "..." (cap >= 4). The output is never longer than the input, so
 * dst may equal src (escaping in place); otherwise they must not overlap.
 * src may be NULL when len == 0. */
char *fmt_escape_term(char *dst, size_t cap, const char *src, size_t len);

/* A dst size that shows names up to 200 bytes before cutting them. */
#define FMT_SHOWN_NAME 204

#endif
