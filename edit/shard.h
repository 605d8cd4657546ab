/*
 * shard.h -- write a model as a split set the way llama.cpp's gguf-split
 * --split (ec562eb) does: PREFIX-0000K-of-0000N.gguf, all metadata in the
 * first file, split.no / split.count / split.tensors.count last in each,
 * tensors in file order, a new file when the next tensor would pass
 * --split-max-size (its padded bytes) or every --split-max-tensors
 * tensors, and with --no-tensor-first-split a first file of metadata only.
 */
#ifndef EDIT_SHARD_H
#define EDIT_SHARD_H

#include "edit/copy.h"
#include "edit/edit.h"

/* Write the set: meta holds the model's KVs (split.* keys are dropped and
 * written anew), t[0..n) the tensors in order. Each file is atomic; when
 * one fails, the files already written are removed. Refused (GK_E_USAGE,
 * nothing written): more than FMT_SPLIT_MAX_SHARDS files, a first file
 * without tensors (gguf-split's "one of splits have 0 tensors"), an output
 * name too long. */
gk_status ed_split_write(const ed_request *r, const fmt_gguf *meta, fmt_split *set,
                         const ed_tensor *t, size_t n, gk_error *e);

/* --split-max-size as gguf-split reads it: N followed by M (10^6) or G
 * (10^9); a bare N is bytes. 0 when s is not such a size (or is 0). */
int ed_parse_split_size(const char *s, uint64_t *out);

#endif
