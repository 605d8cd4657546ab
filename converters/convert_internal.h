/*
 * convert_internal.h -- pieces of the hf2gguf engine shared between
 * convert.c, naming.c and vocab.c. Not included from outside converters/.
 */
#ifndef CONVERTERS_CONVERT_INTERNAL_H
#define CONVERTERS_CONVERT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../formats/gguf.h"
#include "../formats/hfdir.h"

/* general.* authorship fields (gguf-py Metadata); NULL = unset. Strings are
 * malloc'd and owned by the struct (cv_meta_free). */
typedef struct {
    char *name, *author, *version, *organization, *finetune, *basename, *description;
    char *quantized_by, *size_label, *license, *license_name, *license_link;
    char *url, *doi, *uuid, *repo_url, *source_url, *source_doi, *source_uuid, *source_repo_url;
    json_t *base_models; /* array of objects, or NULL */
    json_t *datasets;    /* array of objects, or NULL */
    json_t *tags;        /* array of strings, or NULL */
    json_t *languages;   /* array of strings, or NULL */
} cv_meta;

/* Fill m as gguf-py Metadata.load does: README.md front matter, heuristics
 * from config _name_or_path and the directory name, then the
 * --metadata override file, then --model-name. total_params decides whether
 * a size-like name part is a size label. GK_E_FORMAT when the override file
 * is malformed (message in err). */
gk_status cv_meta_load(cv_meta *m, fmt_hfdir *d, const char *override_path, const char *model_name,
                       uint64_t total_params, char *err, size_t errcap);

/* Write the authorship KVs in gguf-py's order. */
gk_status cv_meta_write(const cv_meta *m, fmt_gguf_writer *w);

void cv_meta_free(cv_meta *m);

/* Metadata.id_to_title: '-' -> ' ', lower-case words title-cased unless
 * they look like versions/numbers. Returns a malloc'd string. */
char *cv_id_to_title(const char *s);

/* Write the tokenizer KVs (tokenizer.ggml.* and chat template) the way the
 * converter's set_vocab does for the SPM-then-BPE path (llama extras when
 * is_llama). vocab_size is config vocab_size (0 when absent). pre forces
 * tokenizer.ggml.pre for BPE vocabularies. merge_scores (opt-in, not what
 * the converter does) scores LlamaHf tokens by -merge rank instead of -1000. */
gk_status cv_vocab_write(fmt_hfdir *d, fmt_gguf_writer *w, int64_t vocab_size, int is_llama,
                         const char *pre, int merge_scores, char *err, size_t errcap);

#endif
