/* escape.c -- a file's bytes as terminal-safe text (see escape.h). */
#include "formats/escape.h"

#include <string.h>

unsigned fmt_utf8_sequence(const unsigned char *p, uint64_t n, unsigned *skip) {
    unsigned need = 0, lo = 0x80, hi = 0xBF;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        need = 1;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        need = 2;
        lo = p[0] == 0xE0 ? 0xA0 : 0x80;
        hi = p[0] == 0xED ? 0x9F : 0xBF;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        need = 3;
        lo = p[0] == 0xF0 ? 0x90 : 0x80;
        hi = p[0] == 0xF4 ? 0x8F : 0xBF;
    }
    unsigned got = 0;
    while (got < need && 1 + got < n && p[1 + got] >= lo && p[1 + got] <= hi) {
        lo = 0x80, hi = 0xBF;
        got++;
    }
    *skip = 1 + got;
    return need && got == need ? need + 1 : 0;
}

int fmt_utf8_valid(const void *s, uint64_t n) {
    const unsigned char *u = s;
    for (uint64_t i = 0; i < n;) {
        unsigned skip = 1, len = fmt_utf8_sequence(u + i, n - i, &skip);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

/* 1 for the characters a terminal acts on: C0, DEL and C1 (U+0080..U+009F,
 * encoded as C2 80..C2 9F). */
static int is_control(const unsigned char *p, unsigned len) {
    return (len == 1 && (p[0] < 0x20 || p[0] == 0x7f)) || (len == 2 && p[0] == 0xC2 && p[1] < 0xA0);
}

char *fmt_escape_term(char *dst, size_t cap, const char *src, size_t len) {
    if (cap == 0)
        return dst;
    const unsigned char *s = (const unsigned char *)src;
    size_t r = 0, w = 0, fits_dots = 0; /* fits_dots: last w that leaves room for "..." */
    while (r < len) {
        unsigned skip = 1, n = fmt_utf8_sequence(s + r, len - r, &skip);
        int keep = n && !is_control(s + r, n);
        unsigned out = keep ? n : 1;
        if (w + out > cap - 1) { /* cut: back to a boundary that leaves room for "..." */
            w = fits_dots;
            if (cap >= 4)
                memcpy(dst + w, "...", 3), w += 3;
            break;
        }
        if (keep)
            memmove(dst + w, s + r, n); /* w <= r: safe in place */
        else
            dst[w] = '?';
        w += out;
        r += n ? n : skip;
        if (w + 3 <= cap - 1)
            fits_dots = w;
    }
    dst[w] = '\0';
    return dst;
}
