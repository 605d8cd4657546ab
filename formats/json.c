/* json.c -- bytes from a file as JSON strings (see json.h). */
#include "formats/json.h"

#include "formats/escape.h"

#include <stdlib.h>
#include <string.h>

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
        unsigned skip = 1, len = fmt_utf8_sequence(u + i, n - i, &skip);
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
