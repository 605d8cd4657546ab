/*
 * fuzz_prequant.c -- libFuzzer harness for pre-quantized checkpoints as
 * hf2gguf reads them (formats/dequant): the input is config.json's
 * quantization_config (JSON) and a safetensors file, separated by
 * "\n@@\n". The file is opened as a tensor source and wrapped by
 * fmt_dq_open; when that accepts it, every row of every record is read
 * (its reads must not fail: fmt_dq_open checked what they need), each
 * record's pages are released as the converter does, and the config is
 * described as gguf-inspect does. The accepted set is also wrapped by
 * fmt_kq_open (hf2gguf --keep-quant) and every block record's blocks are
 * read.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dequant.h"
#include "formats/io.h"
#include "formats/keepquant.h"
#include "kernels/kernels.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every row of t, one at a time; computed records must read. */
static void read_all(const fmt_src_tensor *t) {
    int64_t len = fmt_src_row_len(t), rows = len ? (int64_t)(t->n_elements / (uint64_t)len) : 0;
    float *row = malloc((size_t)(len > 0 ? len : 1) * sizeof *row);
    if (!row)
        abort();
    for (int64_t r = 0; r < rows; r++)
        if (fmt_src_read_rows(t, r, 1, row) != GK_OK && !t->data)
            abort(); /* a dequantized record that fails to read: a finding */
    if (!t->data)
        fmt_dq_release(t, 0, rows);
    free(row);
}

/* Every row of a block record (--keep-quant) as blocks; they must read. */
static void read_raw(const fmt_src_tensor *t) {
    int64_t len = fmt_src_row_len(t), rows = len ? (int64_t)(t->n_elements / (uint64_t)len) : 0;
    size_t rb = kern_row_bytes(t->type, len);
    uint8_t *row = malloc(rb ? rb : 1);
    if (!row)
        abort();
    for (int64_t r = 0; r < rows; r++)
        if (t->read_raw(t, r, 1, row) != GK_OK)
            abort();
    free(row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[300];
    if (!path[0]) {
        fmt_set_display_level(0);
        fz_path(path, sizeof path, "model.safetensors");
    }
    const uint8_t *cfg, *st_bytes;
    size_t ncfg, nst;
    fz_split(data, size, &cfg, &ncfg, &st_bytes, &nst);
    json_t *q = json_loadb((const char *)cfg, ncfg, 0, NULL);
    char desc[512];
    fmt_dq_describe(q, desc, sizeof desc);
    fz_write(path, st_bytes, nst);
    gk_status st;
    fmt_src *src = fmt_src_open(path, &st);
    if (src) {
        char err[512];
        fmt_dq *d = fmt_dq_open(src, q, "config.json", "quantization_config", &st, err, sizeof err);
        if (d) {
            fmt_src *view = fmt_dq_source(d);
            for (uint64_t i = 0; i < fmt_src_n_tensors(view); i++)
                read_all(fmt_src_tensor_at(view, i));
            fmt_kq *k = fmt_kq_open(view, &st, err, sizeof err);
            for (uint64_t i = 0; k && i < fmt_src_n_tensors(fmt_kq_source(k)); i++)
                if (fmt_src_tensor_at(fmt_kq_source(k), i)->read_raw)
                    read_raw(fmt_src_tensor_at(fmt_kq_source(k), i));
            fmt_kq_close(k);
        } else if (st == GK_OK || !err[0]) {
            abort(); /* a refusal must say why */
        }
        fmt_dq_close(d);
        fmt_src_close(src);
    }
    json_decref(q);
    return 0;
}
