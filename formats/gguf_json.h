/*
 * gguf_json.h -- GGUF metadata values from text: "TYPE" names, scalars
 * ("u32", "300"), comma lists ("1,2,3") and JSON lists ("[1, 2, 3]",
 * '["a", "b"]'), each checked against its type's range, encoded the way
 * formats/gguf's writer takes them (fmt_gguf_writer_add_kv).
 *
 * Used by gguf-edit's --set / --set-array; text comes from the command
 * line or a user's file, so every failure is GK_E_USAGE with a message.
 */
#ifndef FORMATS_GGUF_JSON_H
#define FORMATS_GGUF_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "gguf.h"

/* A value that owns its bytes: v's string or array payload points into buf
 * (NULL for scalars). Free with fmt_gguf_owned_free. */
typedef struct {
    fmt_gguf_value v;
    uint8_t *buf;
} fmt_gguf_owned;

/* The value type named name[0..len) ("u8" ... "f64", "bool", "str": the
 * names fmt_gguf_type_name prints, arrays excluded). 1 and *out set, or 0. */
int fmt_gguf_type_parse(const char *name, size_t len, fmt_gguf_type *out);

/* One scalar of type t from text[0..len): integers in decimal (range
 * checked for t), f32/f64 finite numbers, bool "true"/"false"/"1"/"0",
 * str any valid UTF-8 (copied). GK_E_USAGE + err[cap] otherwise. */
gk_status fmt_gguf_parse_scalar(fmt_gguf_type t, const char *text, size_t len, fmt_gguf_owned *out,
                                char *err, size_t cap);

/* An array of elem (a scalar type) from text[0..len): a comma-separated
 * list (empty text is an empty array; str elements cannot hold a comma:
 * use JSON), or with json set a JSON list whose items are numbers, bools
 * or strings as elem needs. GK_E_USAGE + err[cap] on any bad element (the
 * message names its index). */
gk_status fmt_gguf_parse_array(fmt_gguf_type elem, const char *text, size_t len, int json,
                               fmt_gguf_owned *out, char *err, size_t cap);

void fmt_gguf_owned_free(fmt_gguf_owned *o); /* accepts a zeroed record */

#endif
