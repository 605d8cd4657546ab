/*
 * fuzz_spm.c -- libFuzzer harness for the SentencePiece ModelProto reader
 * (tokenizer.model): any bytes through fmt_spm_parse; every piece of an
 * accepted model is read back and re-serialized.
 */
#include <stdint.h>
#include <stdlib.h>

#include "formats/spm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gk_status st;
    char err[256];
    fmt_spm *m = fmt_spm_parse(data, size, &st, err, sizeof err);
    if (!m)
        return 0;
    size_t n = fmt_spm_n_pieces(m);
    fmt_spm_piece *pieces = malloc((n ? n : 1) * sizeof *pieces);
    if (pieces) {
        for (size_t i = 0; i < n; i++) {
            fmt_spm_piece_at(m, i, &pieces[i]);
            if (pieces[i].len)
                sink += (uint8_t)pieces[i].text[0] + (uint8_t)pieces[i].text[pieces[i].len - 1];
        }
        size_t len;
        uint8_t *again = fmt_spm_serialize(pieces, n, &len);
        free(again);
        free(pieces);
    }
    fmt_spm_close(m);
    return 0;
}
