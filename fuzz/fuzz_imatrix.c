/*
 * fuzz_imatrix.c -- libFuzzer harness for requant's importance-matrix
 * readers: every input goes through the legacy .dat reader from memory;
 * inputs starting with the GGUF magic are also written to a file and read
 * as a GGUF imatrix. Accepted tables are filtered, searched and checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/imatrix.h"
#include "formats/io.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void use(imx *m) {
    char err[256];
    for (size_t i = 0; i < imx_count(m); i++) {
        const char *name = imx_name_at(m, i);
        size_t n = 0;
        const float *v = imx_find(m, name, &n);
        if (!v)
            abort(); /* every listed entry can be found */
        if (n)
            sink += (uint64_t)(v[0] != v[n - 1]);
    }
    const char *ds = imx_dataset(m);
    sink += (ds ? strlen(ds) : 0) + (uint64_t)imx_chunks(m);
    imx_check_finite(m, err, sizeof err);
    static const char *const inc[] = {"blk"}, *const exc[] = {"ffn"};
    imx_filter(m, inc, 1, exc, 1);
    sink += imx_count(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[512];
    if (!path[0]) {
        fmt_set_display_level(0);
        fz_path(path, sizeof path, "imatrix.gguf");
    }
    gk_status st;
    char err[512];
    imx *m = imx_load_legacy_mem(data, size, &st, err, sizeof err);
    if (m) {
        use(m);
        imx_free(m);
    }
    if (size >= 4 && memcmp(data, "GGUF", 4) == 0) {
        fz_write(path, data, size);
        m = imx_load(path, &st, err, sizeof err);
        if (m) {
            use(m);
            imx_free(m);
        }
    }
    return 0;
}
