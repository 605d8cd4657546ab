/* json.c -- bytes from a file as JSON strings (see json.h). */
#include "formats/json.h"

#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p[0..n), or 0 when p starts a
 * maximal ill-formed subpart; *skip then says how many bytes it spans. */
static unsigned utf8_sequence(const unsigned char *p, uint64_t n, unsigned *skip) {
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

json_t *fmt_json_bytes(const char *p, uint64_t n) {
    json_t *valid = json_stringn(p, n);
    if (valid)
        return valid;
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *u = (const unsigned char *)p;
    size_t o = 0;
    for (uint64_t i = 0; i < n;) {
        unsigned skip = 1, len = utf8_sequence(u + i, n - i, &skip);
        if (len) {
            memcpy(out + o, u + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += skip;
        }
    }
    json_t *s = json_stringn(out, o);
    free(out);
    return s;
}
