/*
 * fuzz_manifest.c -- libFuzzer harness for the manifest text format: any
 * text through fmt_manifest_parse, and every line it yields written back
 * with the line writers (to /dev/null). Checking the lines against files
 * is verify's, above this layer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        abort();
    gk_status st;
    fmt_manifest *m = fmt_manifest_parse((const char *)data, size, NULL, &st);
    if (!m)
        return 0;
    size_t n, nbad;
    const fmt_manifest_entry *e = fmt_manifest_entries(m, &n);
    const uint64_t *bad = fmt_manifest_malformed(m, &nbad);
    for (size_t i = 0; i < n; i++) {
        sink += strlen(e[i].hex) + strlen(e[i].file) + e[i].line + (uint64_t)e[i].kind;
        if (e[i].tensor)
            sink += strlen(e[i].tensor);
        if (e[i].whole_file)
            fmt_manifest_write_whole(devnull, e[i].hex, e[i].file);
        else
            fmt_manifest_write_entry(devnull, e[i].kind, e[i].hex, e[i].file, e[i].tensor);
    }
    for (size_t i = 0; i < nbad; i++)
        sink += bad[i];
    fmt_manifest_close(m);
    return 0;
}
