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

/* A special token a family sets by an added token's text once SpecialVocab
 * has read the tokenizer files (Glm4Model.set_vocab's _set_special_token
 * calls: a type already set keeps its id). Lists end with a NULL type. */
typedef struct {
    const char *type;    /* "bos", "eos", "unk", "sep", "pad", "mask", "eot", "eom" */
    const char *content; /* the added token's text in tokenizer.json */
} fmt_vocab_special;

/* TextModel.set_vocab (_set_vocab_gpt2): tokenizer.json BPE whatever other
 * files exist, then SpecialVocab with merges, extra applied (NULL for none).
 * A missing tokenizer.json, or an extra content that is not an added token,
 * is GK_E_FORMAT naming it. Other arguments as fmt_vocab_write. */
gk_status fmt_vocab_write_bpe(fmt_hfdir *d, fmt_gguf_writer *w, int64_t vocab_size, const char *pre,
                              const fmt_vocab_special *extra, char *err, size_t errcap);

/* The same for Phi3MiniModel.set_vocab: tokenizer_config tokenizer_class
 * GPT2Tokenizer takes the BPE path; otherwise tokenizer.model with its own
 * rules for added tokens (CONTROL when "special", no text rewriting) and
 * tokenizer.json added_tokens applied last. */
gk_status fmt_vocab_write_phi3(fmt_hfdir *d, fmt_gguf_writer *w, int64_t vocab_size,
                               const char *pre, char *err, size_t errcap);

#endif
