/*
 * fuzz_hfdir.c -- libFuzzer harness for a Hugging Face checkpoint's
 * configuration and tokenizer files as hf2gguf consumes them. The input is
 * up to five files separated by "\n@@\n": config.json, tokenizer.json,
 * tokenizer_config.json, tokenizer.model, README.md (a part that is absent
 * means the file is absent; the input's parity picks --merge-scores). They are written into a
 * scratch directory, opened with fmt_hfdir_open, and run through the naming heuristics
 * (fmt_hfmeta_load) and the tokenizer conversion (fmt_vocab_write into an in-memory GGUF writer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/hfmeta.h"
#include "formats/vocab.h"
#include "formats/hfdir.h"
#include "formats/io.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {"config.json", "tokenizer.json", "tokenizer_config.json",
                                    "tokenizer.model", "README.md"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[300];
    if (!dir[0]) {
        fmt_set_display_level(0);
        /* the directory name feeds the naming heuristics: make it model-like */
        fz_path(dir, sizeof dir, "Org-Model-7B-Instruct-v0.1");
        if (mkdir(dir, 0700) != 0)
            abort();
    }
    const uint8_t *part = data, *rest;
    size_t n = size, nrest;
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (!part) {
            unlink(path);
            continue;
        }
        fz_split(part, n, &part, &n, &rest, &nrest);
        fz_write(path, part, n);
        if (part + n == rest) { /* no separator: the remaining files are absent */
            part = NULL;
        } else {
            part = rest;
            n = nrest;
        }
    }

    gk_status st;
    char err[512];
    fmt_hfdir *d = fmt_hfdir_open(dir, &st, err, sizeof err);
    if (!d)
        return 0;
    long long vocab = 0;
    double num;
    static const char *const k_vocab[] = {"vocab_size", NULL};
    static const char *const k_other[] = {"hidden_size", "n_embd", "rope_theta", NULL};
    const json_t *cfg = fmt_hfdir_json(d, FMT_HF_CONFIG, &st, err, sizeof err);
    if (cfg) {
        fmt_hf_get_int(cfg, k_vocab, &vocab);
        fmt_hf_get_num(cfg, k_other, &num);
        (void)fmt_hf_get_str(cfg, "model_type");
    }
    for (int f = 0; f < FMT_HF_FILE_COUNT; f++)
        (void)fmt_hfdir_json(d, (fmt_hf_file)f, &st, err, sizeof err);
    /* hf2gguf checks vocab_size against the embedding tensor, so it is
     * bounded by the checkpoint's size; mimic that bound here */
    if (vocab < 0 || vocab > 65536)
        vocab = 0;

    fmt_hfmeta meta;
    memset(&meta, 0, sizeof meta);
    if (fmt_hfmeta_load(&meta, d, NULL, NULL, 7000000000ull, err, sizeof err) == GK_OK) {
        fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
        if (w) {
            fmt_hfmeta_write(&meta, w);
            fmt_vocab_write(d, w, vocab, 1, NULL, (int)(size & 1), err, sizeof err);
            fmt_gguf_writer_free(w);
        }
    }
    fmt_hfmeta_free(&meta);
    fmt_hfdir_close(d);
    return 0;
}
