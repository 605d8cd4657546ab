/*
 * tokenizer.h -- gguf2onnx's tokenizer export: tokenizer.json and
 * tokenizer_config.json rebuilt from a GGUF's tokenizer.ggml.* keys.
 */
#ifndef CONVERTERS_GGUF2ONNX_TOKENIZER_H
#define CONVERTERS_GGUF2ONNX_TOKENIZER_H

#include <jansson.h>

#include "converters/gguf2onnx/decoder.h"
#include "formats/gguf.h"
#include "ggufkit.h"

/* tokenizer.json and tokenizer_config.json rebuilt from tokenizer.ggml.*
 * (new references in *tok and *cfg). GK_E_UNSUPPORTED for tokenizer models
 * other than 'llama' (SentencePiece BPE) and 'gpt2' (byte-level BPE). */
gk_status ox_tokenizer_files(fmt_gguf *g, const ox_hparams *hp, json_t **tok, json_t **cfg,
                             char *err, size_t errcap);

#endif
