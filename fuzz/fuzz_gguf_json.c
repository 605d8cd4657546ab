/*
 * fuzz_gguf_json.c -- libFuzzer harness for formats/gguf_json: byte 0
 * picks the value type, byte 1 the form (scalar, comma list, JSON list),
 * the rest is the text. A value that parses is added to a GGUF writer and
 * read back through a header reader, which must see the same type and
 * element count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/gguf_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    fmt_gguf_type t = (fmt_gguf_type)(data[0] % FMT_GGUF_TYPE_COUNT);
    if (t == FMT_GGUF_ARRAY)
        t = FMT_GGUF_STRING;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    char err[256];
    fmt_gguf_owned v;
    gk_status st = data[1] % 3 == 0
                       ? fmt_gguf_parse_scalar(t, text, len, &v, err, sizeof err)
                       : fmt_gguf_parse_array(t, text, len, data[1] % 3 == 2, &v, err, sizeof err);
    if (st != GK_OK)
        return 0;
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    if (!w || fmt_gguf_writer_add_kv(w, "k", 1, &v.v) != GK_OK)
        abort(); /* every parsed value must be writable */
    fmt_gguf *g = fmt_gguf_writer_header_reader(w, &st);
    const fmt_gguf_kv *kv = g ? fmt_gguf_kv_at(g, 0) : NULL;
    if (!kv || kv->value.type != v.v.type ||
        (v.v.type == FMT_GGUF_ARRAY && kv->value.v.arr.n != v.v.v.arr.n))
        abort();
    fmt_gguf_close(g);
    fmt_gguf_writer_free(w);
    fmt_gguf_owned_free(&v);
    return 0;
}
