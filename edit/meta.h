/*
 * meta.h -- the edited metadata of a model: gguf_new_metadata.py's rules
 * over the input's KVs (or, for a split set, over gguf-split --merge's KVs).
 */
#ifndef EDIT_META_H
#define EDIT_META_H

#include "edit/edit.h"
#include "formats/gguf.h"

/* What an assignment option asks for. */
typedef enum {
    ED_SET,        /* --set KEY=TYPE:VALUE */
    ED_SET_ARRAY,  /* --set-array KEY=TYPE:V1,V2,... or KEY=TYPE:@FILE (a JSON list) */
    ED_SPECIAL,    /* --special-token NAME=ID|TEXT */
    ED_ADD_BOS,    /* --add-bos: tokenizer.ggml.add_bos_token true */
    ED_NO_ADD_BOS, /* --no-add-bos */
    ED_ADD_EOS,    /* --add-eos */
    ED_NO_ADD_EOS, /* --no-add-eos */
} ed_assign_kind;

/* Parse one assignment option's argument (NULL for the add flags) into a,
 * which it initialises. --special-token NAME: bos, eos, eot, eom, pad, sep,
 * unk, mask, fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep, prefix,
 * suffix, middle, and gguf_new_metadata.py's padding, unknown, seperator.
 * GK_E_USAGE (or GK_E_NOMEM) + err[cap] naming the option, a left clean. */
gk_status ed_parse_assign(ed_assign_kind kind, const char *arg, ed_assign *a, char *err,
                          size_t cap);

/* 1 when r asks for any metadata change (then general.architecture moves
 * to the front, as gguf-py's writer puts it). */
int ed_meta_changes(const ed_request *r);

/* A writer holding the new KV list and no tensors: the input's KVs (first
 * is the first shard's reader; merged marks a set of more than one file,
 * whose split.count moves to the end as 0, as gguf-split --merge does),
 * minus --remove and old chat templates, with assignments applied in place
 * and the new keys appended. NULL + e on a refused edit (special token not
 * found or out of range, a value's type differing from the key's without
 * force, an unreadable or non-UTF-8 template file). */
fmt_gguf_writer *ed_meta_build(const ed_request *r, const fmt_gguf *first, int merged, gk_error *e);

#endif
