/*
 * tensors.h -- --rename-tensor and --drop-tensor over the list of tensors
 * to write. Neither touches a tensor's bytes; a dropped tensor is simply
 * not copied, and later tensors move up (as in a new file).
 */
#ifndef EDIT_TENSORS_H
#define EDIT_TENSORS_H

#include "edit/copy.h"
#include "edit/edit.h"

/* Apply r's drops (POSIX extended regexes, matched anywhere in the name)
 * and renames to t[0..*n) in place (*n shrinks by the dropped ones; a
 * renamed entry's name points into r). Refused with GK_E_USAGE: a regex
 * that does not compile or matches nothing, an OLD that is not a tensor
 * (after the drops), a NEW that is not 1..63 bytes of UTF-8 or is already
 * taken, no tensor left; and, unless r->force, a model that would be
 * inconsistent: a blk.N tensor with N at or past ARCH.block_count (read
 * from meta, the edited metadata), or a layer below it losing a tensor
 * (blk.N.SUFFIX) that other layers which had it keep. */
gk_status ed_tensor_edits(const ed_request *r, fmt_split *set, const fmt_gguf *meta, ed_tensor *t,
                          size_t *n, gk_error *e);

#endif
