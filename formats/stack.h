/*
 * stack.h -- a source transform (formats/source.h) that stacks n records of
 * one shape and dtype, the per-expert matrices of a mixture-of-experts
 * layer, into one record with a new leading dimension: parts of PyTorch
 * shape {a, b} give {n, a, b} (ggml ne {b, a, n}, as torch.stack(dim=0)).
 *
 * Nothing is materialised. Row r of the stack is row r % rows of part
 * r / rows (rows = the rows of one part), read from that part on demand:
 * an engine that converts the stack in chunks of rows, in parallel, writes
 * each part's slice straight into place, and memory stays bounded by the
 * chunks in flight, whatever the number of parts. Engines see an ordinary
 * computed record (data NULL); those that copy stored bytes ask
 * fmt_stack_row_data() for a row's mapped bytes and drop them once written
 * with fmt_stack_release().
 */
#ifndef FORMATS_STACK_H
#define FORMATS_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "source.h"

typedef struct fmt_stack fmt_stack;

/* An empty set of stacks; NULL when out of memory. */
fmt_stack *fmt_stack_new(void);

/* A record named name stacking parts[0..n) (n >= 1) in that order. The
 * parts must share their dtype and shape and have at least one dimension,
 * with n_dims + 1 <= FMT_SRC_MAX_DIMS. The name and the list are copied;
 * the part records must outlive the stack. Returns the record, valid until
 * fmt_stack_free(), or NULL with *st set and a message in err[errcap]:
 * GK_E_FORMAT "FILE: tensor 'B' has shape 3x4 but tensor 'A' has 2x4
 * (experts of one tensor must share their shape)" (or dtype),
 * GK_E_NOMEM. */
const fmt_src_tensor *fmt_stack_add(fmt_stack *s, const char *name,
                                    const fmt_src_tensor *const *parts, size_t n, gk_status *st,
                                    char *err, size_t errcap);

/* 1 when t is a record made by fmt_stack_add. */
int fmt_stack_is(const fmt_src_tensor *t);

/* Parts of a stacked record (fmt_stack_is): their count, and part i. */
size_t fmt_stack_n_parts(const fmt_src_tensor *t);
const fmt_src_tensor *fmt_stack_part(const fmt_src_tensor *t, size_t i);

/* The stored bytes of row r of a stacked record (its part's mapped row),
 * or NULL when that part is computed, or t is not a stack. The caller has
 * checked the range. */
const uint8_t *fmt_stack_row_data(const fmt_src_tensor *t, int64_t r);

/* Drop the pages of rows [r0, r1) of a stacked record's mapped parts from
 * memory once written (fmt_release_pages), widened to 2 MiB granules but
 * never past the span of the parts mapped from the same file: a fault maps
 * a whole page-cache folio, so reading one expert maps its neighbours too
 * (a page still in use is simply faulted back in). Computed parts are left
 * alone. Parts of one file (the same file string) must come from one
 * mapping, as a fmt_src set's do. */
void fmt_stack_release(const fmt_src_tensor *t, int64_t r0, int64_t r1);

/* Free every record; accepts NULL. */
void fmt_stack_free(fmt_stack *s);

#endif
