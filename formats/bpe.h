/*
 * bpe.h -- a Hugging Face tokenizers BPE encoder (tokenizer.json), enough to
 * compute llama.cpp's pre-tokenizer check hash: convert_hf_to_gguf.py's
 * get_vocab_base_pre() encodes a fixed check text with AutoTokenizer and
 * looks sha256(str(ids)) up in a table of known pre-tokenizers.
 *
 * Supported: normalizers Sequence, Replace (string), Prepend, NFC (taken as
 * the identity: the check text is NFC already); pre-tokenizers Sequence,
 * Split (regex or string; Isolated, Removed, MergedWithPrevious,
 * MergedWithNext) and ByteLevel (last); model BPE with merges as "a b"
 * strings or pairs, ignore_merges, byte_fallback, unk_token; added tokens
 * (matched longest first on the raw text); post-processors TemplateProcessing,
 * ByteLevel, Sequence, Roberta/BertProcessing, and transformers' own BOS/EOS
 * rule for Llama/Gemma/CodeLlama tokenizer classes. Anything else is
 * GK_E_UNSUPPORTED with the component named. Regexes run on PCRE2 (UTF, UCP)
 * with match limits, so a hostile pattern fails instead of hanging.
 */
#ifndef FORMATS_BPE_H
#define FORMATS_BPE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../ggufkit.h"

typedef struct fmt_bpe fmt_bpe;

/* Build an encoder from a parsed tokenizer.json (tj) and tokenizer_config.json
 * (tc, may be NULL: it decides transformers' BOS/EOS rule). Both are only
 * read during the call. On failure returns NULL, sets *st (GK_E_FORMAT for
 * malformed data, GK_E_UNSUPPORTED for a component this encoder lacks,
 * GK_E_NOMEM) and writes a message without file name into err[errcap]. */
fmt_bpe *fmt_bpe_open(const json_t *tj, const json_t *tc, gk_status *st, char *err, size_t errcap);

/* Free the encoder (NULL accepted). */
void fmt_bpe_close(fmt_bpe *b);

/* Encode len bytes of UTF-8 text as AutoTokenizer.encode does (special tokens
 * of the post-processor added when add_special). *ids points to *n ids owned by
 * b, valid until the next encode or close. */
gk_status fmt_bpe_encode(fmt_bpe *b, const char *text, size_t len, int add_special,
                         const int32_t **ids, size_t *n, char *err, size_t errcap);

/* The converter's check hash: sha256 of Python's str() of the ids of its
 * check text, as 64 lowercase hex digits plus NUL in hex[65]. */
gk_status fmt_bpe_chkhsh(fmt_bpe *b, char hex[65], char *err, size_t errcap);

/* The tokenizer.ggml.pre name the converter (llama.cpp ec562eb) gives to a
 * check hash, or NULL when the hash is unknown. Static storage. */
const char *fmt_bpe_pre_name(const char *hex);

#endif
