/*
 * onnx_tokenizer.c -- tokenizer.json / tokenizer_config.json from the GGUF
 * tokenizer metadata (work in progress: no files yet).
 */
#include "onnx_graph.h"

gk_status ox_tokenizer_files(fmt_gguf *g, const ox_hparams *hp, json_t **tok, json_t **cfg,
                             char *err, size_t errcap) {
    (void)g;
    (void)hp;
    (void)err;
    (void)errcap;
    *tok = *cfg = NULL;
    return GK_OK;
}
