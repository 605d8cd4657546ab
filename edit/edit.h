/*
 * edit.h -- gguf-edit's engine: change a GGUF model's metadata, split or
 * merge it, in place or into a new file, without touching a byte of tensor
 * data.
 *
 * Metadata edits follow gguf-py's gguf_new_metadata.py (ec562eb) byte for
 * byte: general.architecture first, changed keys keep their place, a new
 * chat template replaces every tokenizer.chat_template* key and comes after
 * the copied keys, new keys follow in the order given. Split and merge
 * follow llama.cpp's gguf-split (ec562eb) byte for byte. Tensor data keeps
 * its bytes and its order, so manifests made before an edit still check.
 */
#ifndef EDIT_EDIT_H
#define EDIT_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf_json.h"
#include "ggufkit.h"

#define ED_MAX_LIST 256 /* most entries of each repeatable option */

/* One metadata assignment in command-line order. A --special-token entry
 * has token >= 0 (its row in meta.c's name table) and text (an id when all
 * decimal digits, else a token's text to look up); every other entry has
 * token -1 and a parsed value. */
typedef struct {
    char *key; /* NUL-terminated, owned by the request */
    int token;
    const char *text;
    fmt_gguf_owned value; /* owned by the request */
} ed_assign;

typedef struct {
    const char *input;  /* path or "-" (any shard of a set) */
    const char *output; /* path or "-"; the shard prefix with a split; NULL with --in-place */
    int in_place, dry_run, json, force, merge, progress;
    int zstd_level; /* --zstd: compress the one OUTPUT (0 = plain) */

    ed_assign set[ED_MAX_LIST]; /* --set, --set-array, --special-token, --add-bos/eos */
    size_t n_set;
    const char *remove[ED_MAX_LIST]; /* --remove globs */
    size_t n_remove;
    const char *chat_template;         /* --chat-template FILE, or NULL */
    const char *tpl_name[ED_MAX_LIST]; /* --chat-template-name NAME=FILE: names */
    const char *tpl_file[ED_MAX_LIST]; /* ... and their files */
    size_t n_tpl;

    const char *rename_old[ED_MAX_LIST], *rename_new[ED_MAX_LIST]; /* --rename-tensor */
    size_t n_rename;
    const char *drop[ED_MAX_LIST]; /* --drop-tensor REGEX (POSIX extended, unanchored) */
    size_t n_drop;

    uint64_t split_max_size;    /* bytes of padded tensor data per shard, 0 = none */
    uint64_t split_max_tensors; /* tensors per shard, 0 = none */
    int no_tensor_first_split;
} ed_request;

/* Release the parsed values of r (not r itself). */
void ed_request_free(ed_request *r);

/* Do it: open the input (any shard of a set, "-", .zst), build the new
 * header, then write the output (one file, stdout, in place, or shards) or
 * print the diff (dry_run). Messages at display level 2 on stderr; the
 * diff on stdout. Failures fill e (file at fault + message); GK_E_USAGE
 * for a refused edit. */
gk_status ed_run(const ed_request *r, gk_error *e);

#endif
