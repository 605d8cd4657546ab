/*
 * copy.h -- the tensors of an input set, in file order, and the one copy
 * of their bytes into a GGUF writer's output: mapped data is written
 * straight from the mapping (pages released behind it, so memory stays
 * bounded on any file size); a stream (stdin, .zst) is read one tensor at
 * a time.
 */
#ifndef EDIT_COPY_H
#define EDIT_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "formats/split.h"
#include "ggufkit.h"

/* One tensor of a set: the shard (split.no order), its index there, and
 * its new name (NUL-terminated, borrowed) or NULL to keep the file's. */
typedef struct {
    size_t shard;
    uint64_t index;
    const char *name;
} ed_tensor;

/* Every tensor of set in file order (shard by shard, each in offset
 * order). Caller frees *out. GK_E_NOMEM on failure. */
gk_status ed_tensor_list(fmt_split *set, ed_tensor **out, size_t *n);

/* The set's paths, NULL-terminated, for fmt_output_opts.inputs (outputs
 * must not be any of them). Caller frees the array (not the strings, the
 * set's). NULL when out of memory. */
const char **ed_input_paths(fmt_split *set);

/* Append the infos of t[0..n) (name, shape, type) to w, in that order,
 * so offsets follow as the input's did. */
gk_status ed_add_tensor_infos(fmt_gguf_writer *w, fmt_split *set, const ed_tensor *t, size_t n,
                              gk_error *e);

/* Write w's header, then the bytes of t[0..n) (the tensors w holds, in
 * the same order) to out, padded by the writer; name is out's display
 * name for messages. prog (may be NULL) counts the bytes. */
gk_status ed_write_gguf(fmt_gguf_writer *w, fmt_split *set, const ed_tensor *t, size_t n,
                        fmt_output *out, const char *name, fmt_progress *prog, uint64_t *done,
                        gk_error *e);

#endif
