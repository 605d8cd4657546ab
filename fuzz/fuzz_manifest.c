/*
 * fuzz_manifest.c -- libFuzzer harness for gguf-verify check's manifest
 * parser: any text through vfy_check_manifest, with every file name
 * overridden by a small valid GGUF in a scratch directory (so the check
 * runs its hashing paths without touching the fuzzer's file system).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/io.h"
#include "fuzz/fuzz_util.h"
#include "verify/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

/* GGUF v3, one F32 tensor "a" of 4 elements, no KVs, alignment 32. */
static void write_model(const char *path) {
    uint8_t b[80];
    size_t o = 0;
    memset(b, 0, sizeof b);
    memcpy(b, "GGUF", 4);
    b[4] = 3; /* version */
    b[8] = 1; /* n_tensors */
    o = 24;   /* n_kv = 0 */
    b[o] = 1; /* name length */
    b[o + 8] = 'a';
    b[o + 9] = 1;  /* n_dims */
    b[o + 13] = 4; /* ne[0] */
    /* type 0 (F32) at o+21, offset 0 at o+25 */
    for (size_t i = 64; i < 80; i++)
        b[i] = (uint8_t)i;
    fz_write(path, b, sizeof b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char model[512];
    if (!model[0]) {
        fmt_set_display_level(0);
        write_model(fz_path(model, sizeof model, "model.gguf"));
    }
    vfy_check_opts o;
    memset(&o, 0, sizeof o);
    o.file_override = model;
    o.nthreads = 1;
    vfy_check_result res;
    memset(&res, 0, sizeof res);
    if (vfy_check_manifest((const char *)data, size, &o, &res) == GK_OK) {
        for (size_t i = 0; i < res.n_items; i++)
            sink += strlen(res.items[i].name) + res.items[i].line + res.items[i].status;
        sink += res.n_malformed + res.n_errors;
    }
    vfy_check_result_free(&res);
    return 0;
}
