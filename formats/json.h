/*
 * json.h -- a file's bytes as a JSON string, for every --json view.
 *
 * Names and values read from a file are not always UTF-8, which jansson
 * refuses; one rule turns them into strings so that all programs agree.
 */
#ifndef FORMATS_JSON_H
#define FORMATS_JSON_H

#include <jansson.h>
#include <stdint.h>

/* A new JSON string holding p[0..n) (borrowed). Invalid UTF-8 is repaired
 * by replacing each maximal ill-formed subpart with U+FFFD exactly as the
 * WHATWG decoder (JavaScript's TextDecoder) does, so strings compare equal
 * with JS-based readers; control characters are escaped by jansson when
 * dumped. NULL only when out of memory. */
json_t *fmt_json_bytes(const char *p, uint64_t n);

#endif
