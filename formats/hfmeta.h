/*
 * hfmeta.h -- a Hugging Face checkpoint's authorship metadata as gguf-py's
 * Metadata class derives it (model card front matter, config, directory
 * name heuristics, overrides), and its general.* GGUF keys.
 */
#ifndef FORMATS_HFMETA_H
#define FORMATS_HFMETA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gguf.h"
#include "hfdir.h"

/* general.* authorship fields (gguf-py Metadata); NULL = unset. Strings are
 * malloc'd and owned by the struct (fmt_hfmeta_free). */
typedef struct {
    char *name, *author, *version, *organization, *finetune, *basename, *description;
    char *quantized_by, *size_label, *license, *license_name, *license_link;
    char *url, *doi, *uuid, *repo_url, *source_url, *source_doi, *source_uuid, *source_repo_url;
    json_t *base_models; /* array of objects, or NULL */
    json_t *datasets;    /* array of objects, or NULL */
    json_t *tags;        /* array of strings, or NULL */
    json_t *languages;   /* array of strings, or NULL */
    json_t *sampling;    /* general.sampling.* key -> checked value, or NULL */
} fmt_hfmeta;

/* Fill m as gguf-py Metadata.load does: generation_config.json's sampling
 * parameters, README.md front matter, heuristics from config _name_or_path
 * and the directory name, then the --metadata override file, then
 * --model-name. total_params decides whether
 * a size-like name part is a size label; a LoRA adapter passes minus its
 * size (gguf-py's negated count), which also makes "lora" a type word. GK_E_FORMAT when the
 * override file or a sampling value is of a type the converter cannot pack (message in err). */
gk_status fmt_hfmeta_load(fmt_hfmeta *m, fmt_hfdir *d, const char *override_path,
                          const char *model_name, int64_t total_params, char *err, size_t errcap);

/* Write the general.sampling.* then the authorship KVs in gguf-py's order. */
gk_status fmt_hfmeta_write(const fmt_hfmeta *m, fmt_gguf_writer *w);

void fmt_hfmeta_free(fmt_hfmeta *m);

/* Metadata.id_to_title: '-' -> ' ', lower-case words title-cased unless
 * they look like versions/numbers. Returns a malloc'd string. */
char *fmt_hfmeta_id_to_title(const char *s);

#endif
