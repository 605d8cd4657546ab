/*
 * spm.h -- SentencePiece model reader (tokenizer.model): the piece list
 * (bytes, score, type) of a ModelProto, parsed with protobuf-c from our own
 * formats/sentencepiece.proto. Everything else in the model (trainer and
 * normalizer specs) is skipped.
 */
#ifndef FORMATS_SPM_H
#define FORMATS_SPM_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"

/* Piece types, numbered as sentencepiece_model.proto numbers them (and as
 * llama.cpp's token types: NORMAL=1 ... BYTE=6). */
typedef enum {
    FMT_SPM_NORMAL = 1,
    FMT_SPM_UNKNOWN = 2,
    FMT_SPM_CONTROL = 3,
    FMT_SPM_USER_DEFINED = 4,
    FMT_SPM_UNUSED = 5,
    FMT_SPM_BYTE = 6,
} fmt_spm_type;

/* One piece. text points into reader memory (not NUL-terminated, may hold
 * any bytes), valid until fmt_spm_close(). */
typedef struct {
    const uint8_t *text;
    size_t len;
    float score;
    int type; /* fmt_spm_type */
} fmt_spm_piece;

typedef struct fmt_spm fmt_spm;

/* Parse a serialized ModelProto from memory (copied where needed; data may be
 * freed afterwards). Fails with GK_E_FORMAT when the protobuf is malformed,
 * has no pieces, or a piece has an unknown type. On failure returns NULL, sets
 * *st and copies a message into errmsg[errcap] (when non-NULL). */
fmt_spm *fmt_spm_parse(const void *data, size_t len, gk_status *st, char *errmsg, size_t errcap);

/* Read and parse the file at path (at most 256 MiB). Errors as fmt_spm_parse,
 * plus GK_E_IO when the file cannot be read; messages name the file. */
fmt_spm *fmt_spm_open(const char *path, gk_status *st, char *errmsg, size_t errcap);

/* Number of pieces (the tokenizer's vocab size). */
size_t fmt_spm_n_pieces(const fmt_spm *m);

/* Piece i (i < fmt_spm_n_pieces); fills *out. */
void fmt_spm_piece_at(const fmt_spm *m, size_t i, fmt_spm_piece *out);

/* Serialize pieces into a ModelProto (for fixtures and tests). Returns a
 * malloc'd buffer the caller frees and its length in *len, or NULL when
 * out of memory. */
uint8_t *fmt_spm_serialize(const fmt_spm_piece *pieces, size_t n, size_t *len);

void fmt_spm_close(fmt_spm *m); /* accepts NULL */

#endif
