/*
 * vocab.h -- a Hugging Face checkpoint's tokenizer (tokenizer.model,
 * tokenizer.json, tokenizer_config.json) written as GGUF tokenizer.ggml.*
 * keys, the way llama.cpp's converter writes them.
 */
#ifndef FORMATS_VOCAB_H
#define FORMATS_VOCAB_H

#include <stdint.h>

#include "gguf.h"
#include "hfdir.h"
#include "../ggufkit.h"

/* Write the tokenizer KVs (tokenizer.ggml.* and chat template) the way the
 * converter's set_vocab does for the SPM-then-BPE path (llama extras when
 * is_llama). vocab_size is config vocab_size (0 when absent). pre forces
 * tokenizer.ggml.pre for BPE vocabularies. merge_scores (opt-in, not what
 * the converter does) scores LlamaHf tokens by -merge rank instead of -1000. */
gk_status fmt_vocab_write(fmt_hfdir *d, fmt_gguf_writer *w, int64_t vocab_size, int is_llama,
                         const char *pre, int merge_scores, char *err, size_t errcap);

/* The same for Phi3MiniModel.set_vocab: tokenizer_config tokenizer_class
 * GPT2Tokenizer takes the BPE path; otherwise tokenizer.model with its own
 * rules for added tokens (CONTROL when "special", no text rewriting) and
 * tokenizer.json added_tokens applied last. */
gk_status fmt_vocab_write_phi3(fmt_hfdir *d, fmt_gguf_writer *w, int64_t vocab_size,
                               const char *pre, char *err, size_t errcap);

#endif
