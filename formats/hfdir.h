/*
 * hfdir.h -- a Hugging Face checkpoint directory: its JSON files (config,
 * tokenizer and generation configs, tokenizer.json) parsed with jansson, and
 * the listing of its weight files.
 *
 * JSON objects keep the order of the file (jansson >= 2.8 preserves
 * insertion order), which the converter relies on for added_tokens_decoder
 * and added_tokens.json.
 */
#ifndef FORMATS_HFDIR_H
#define FORMATS_HFDIR_H

#include <stddef.h>

#include <jansson.h>

#include "../ggufkit.h"

typedef struct fmt_hfdir fmt_hfdir;

/* The JSON files a checkpoint may hold. */
typedef enum {
    FMT_HF_CONFIG,            /* config.json (required) */
    FMT_HF_TOKENIZER_CONFIG,  /* tokenizer_config.json */
    FMT_HF_SPECIAL_TOKENS,    /* special_tokens_map.json */
    FMT_HF_ADDED_TOKENS,      /* added_tokens.json */
    FMT_HF_GENERATION_CONFIG, /* generation_config.json */
    FMT_HF_TOKENIZER,         /* tokenizer.json (parsed on first request: it can be large) */
    FMT_HF_INDEX,             /* model.safetensors.index.json */
    FMT_HF_QUANTIZE_CONFIG,   /* quantize_config.json (AutoGPTQ's, beside older checkpoints) */
    FMT_HF_FILE_COUNT
} fmt_hf_file;

/* Open the directory dir and parse config.json (which must be a JSON object)
 * and the small optional files. A missing optional file is not an error; a
 * present but malformed one is GK_E_FORMAT with "FILE: what (line L column C)".
 * config.json's values must be possible, at any depth (text_config,
 * rope_scaling, ...): sizes, counts and token ids (hidden_size,
 * num_hidden_layers, vocab_size, bos_token_id, ...) are whole numbers, sizes
 * and counts not negative; rope bases (rope_theta, ...) and rope scaling
 * factors are positive, norm epsilons not negative; otherwise GK_E_FORMAT
 * "DIR/config.json: 'KEY' = V is not ...". (JSON cannot hold NaN or
 * infinities, and jansson refuses numbers that overflow a double.)
 * On failure returns NULL, sets *st and copies a message into errmsg[errcap]. */
fmt_hfdir *fmt_hfdir_open(const char *dir, gk_status *st, char *errmsg, size_t errcap);

/* The same for a directory that goes with a checkpoint without being one
 * (a PEFT adapter): config.json is optional (fmt_hfdir_json then gives
 * NULL for it), the other files are read as above. */
fmt_hfdir *fmt_hfdir_open_beside(const char *dir, gk_status *st, char *errmsg, size_t errcap);

/* The directory path as given (no trailing slash). Valid until close. */
const char *fmt_hfdir_path(const fmt_hfdir *d);

/* Base name of a file kind ("config.json"). */
const char *fmt_hfdir_file_name(fmt_hf_file f);

/* Parsed JSON of a file, or NULL when the file is absent. Borrowed: valid
 * until close. For FMT_HF_TOKENIZER the file is parsed on the first call;
 * a parse failure returns NULL and sets *st (GK_OK when simply absent) and
 * errmsg. st and errmsg may be NULL for the other kinds. */
json_t *fmt_hfdir_json(fmt_hfdir *d, fmt_hf_file f, gk_status *st, char *errmsg, size_t errcap);

/* 1 when dir/name is a regular file. */
int fmt_hfdir_has(const fmt_hfdir *d, const char *name);

/* Join dir and name into buf[cap]; returns buf, or NULL when it does not fit. */
char *fmt_hfdir_join(const fmt_hfdir *d, const char *name, char *buf, size_t cap);

/* 1 when dir/name, after following symlinks, is a file directly in the
 * directory (or, for a Hugging Face hub cache snapshot .../snapshots/REV,
 * in its ../../blobs), the rule model.safetensors.index.json entries
 * follow; 0 when it resolves elsewhere or does not resolve. */
int fmt_hfdir_contains(const fmt_hfdir *d, const char *name);

/* Regular files whose names start with prefix and end with suffix, sorted
 * by byte value (as Python sorts str names). Returns a NULL-terminated
 * malloc'd array of malloc'd names (free with fmt_hfdir_free_list), setting
 * *n; NULL with *st on failure. */
char **fmt_hfdir_list(const fmt_hfdir *d, const char *prefix, const char *suffix, size_t *n,
                      gk_status *st);
void fmt_hfdir_free_list(char **list);

/* Typed config helpers: the first of the NULL-terminated keys present in obj
 * (a JSON object) whose value is a number (integer or real; bool is not a
 * number). Return 1 and fill *out when found, else 0. */
int fmt_hf_get_int(const json_t *obj, const char *const *keys, long long *out);
int fmt_hf_get_num(const json_t *obj, const char *const *keys, double *out);

/* String member, or NULL when absent or not a string. */
const char *fmt_hf_get_str(const json_t *obj, const char *key);

/* convert_hf_to_gguf.py TextModel's rope_parameters (new reference, an
 * object): config "rope_parameters" if the key exists, else "rope_scaling"
 * (a copy; {} when null); without full_attention/sliding_attention entries,
 * the global theta (global_rope_theta, ..., rope_theta, rotary_emb_base) is
 * mirrored into rope_theta, the local theta into sliding_attention, and
 * "type" into "rope_type". The scaling parameters proper ("rope_params")
 * are its full_attention entry when present, else the object itself. NULL
 * only when out of memory. */
json_t *fmt_hf_rope_parameters(const json_t *config);

void fmt_hfdir_close(fmt_hfdir *d); /* accepts NULL */

#endif
