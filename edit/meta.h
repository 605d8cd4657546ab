/*
 * meta.h -- the edited metadata of a model: gguf_new_metadata.py's rules
 * over the input's KVs (or, for a split set, over gguf-split --merge's KVs).
 */
#ifndef EDIT_META_H
#define EDIT_META_H

#include "edit/edit.h"
#include "formats/gguf.h"

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
