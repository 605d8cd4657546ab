/*
 * split.h -- GGUF split sets as llama.cpp's gguf-split writes them: files
 * NAME-0000K-of-0000N.gguf (llama_split_path), each holding split.no
 * (K - 1), split.count (N) and split.tensors.count (the tensors of the
 * whole set); the first file also holds all other metadata.
 *
 * Opening reads any one shard and finds its siblings by name; a file that is
 * not a shard is a set of one, so programs open every GGUF input this way.
 */
#ifndef FORMATS_SPLIT_H
#define FORMATS_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "gguf.h"
#include "io.h"

#define FMT_SPLIT_MAX_SHARDS 9999 /* largest split.count a set may have */

/* ------------------------------------------------------------------------ */
/* Reading a set                                                              */
/* ------------------------------------------------------------------------ */

typedef struct fmt_split fmt_split;

/* Open path ("-" for stdin) as fmt_input + fmt_gguf. When the file says
 * split.count > 1, or its name is a shard's name with N > 1, open all N
 * shards NAME-0000K-of-0000N.gguf beside it and check, as llama's loader
 * does and more: the name matches split.count; every shard has split.no =
 * its position, the same split.count and split.tensors.count, the same GGUF
 * version and alignment; the shards hold split.tensors.count tensors in all,
 * and no tensor name twice. On failure returns NULL, sets *st and writes
 * "FILE: what is wrong" into err[errcap], FILE being the shard at fault. */
fmt_split *fmt_split_open(const char *path, gk_status *st, char *err, size_t errcap);

/* Number of files in the set (1 for a plain GGUF file). */
size_t fmt_split_count(const fmt_split *s);

/* The files in split.no order, fmt_split_count() of each: their paths
 * (the given path for a set of one), inputs and readers. Owned by the set,
 * valid until fmt_split_close(). */
const char *const *fmt_split_paths(const fmt_split *s);
fmt_input *const *fmt_split_inputs(const fmt_split *s);
fmt_gguf *const *fmt_split_ggufs(const fmt_split *s);

void fmt_split_close(fmt_split *s); /* accepts NULL */

/* ------------------------------------------------------------------------ */
/* Shard names and keys                                                       */
/* ------------------------------------------------------------------------ */

/* Write "PREFIX-0000K-of-0000N.gguf" (K = no + 1, at least five digits
 * each, as llama_split_path) into buf[cap], PREFIX being the first
 * prefix_len bytes of prefix. GK_E_USAGE when no >= count or the name does
 * not fit (buf then holds "" if cap > 0). */
gk_status fmt_split_name(char *buf, size_t cap, const char *prefix, size_t prefix_len, size_t no,
                         size_t count);

/* 1 when path ends in "-KKKKK-of-NNNNN.gguf" (five digits each) with
 * 1 <= K <= N; then *prefix_len is the length before that tail, *no = K - 1
 * and *count = N. Otherwise 0 and the outputs are untouched. */
int fmt_split_parse_name(const char *path, size_t *prefix_len, size_t *no, size_t *count);

/* 1 when key[0..len) is split.no, split.count or split.tensors.count (the
 * keys that describe one file of a set, not the model). */
int fmt_split_is_key(const char *key, size_t len);

/* Append split.no = no, split.count = count (u16) and split.tensors.count =
 * n_tensors (i32), the types and order gguf-split uses. GK_E_USAGE when a
 * value does not fit its type; otherwise the writer's status. */
gk_status fmt_split_add_keys(fmt_gguf_writer *w, size_t no, size_t count, uint64_t n_tensors);

#endif
