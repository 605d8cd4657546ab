/*
 * verify_internal.h -- helpers shared by the files of verify/ only (never
 * included from outside the directory).
 */
#ifndef VERIFY_INTERNAL_H
#define VERIFY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "formats/io.h"
#include "ggufkit.h"

/* Bytes of tensor data behind a mapped input or a seekable one: copy
 * n bytes at absolute offset off into buf, or return a pointer into the
 * mapping without copying (then buf is not touched). NULL on failure with
 * *st set and the input's error message valid. */
const uint8_t *vfy_input_bytes(fmt_input *in, uint64_t off, size_t n, uint8_t *buf, gk_status *st);

/* XXH64 with seed 0, incremental (xxh64.c). vfy_xxh64_update_pair feeds
 * the same bytes to two states in one pass (a manifest's per-tensor and
 * whole-model streams); the states may be at any offset. Digests equal
 * libxxhash's XXH64 of everything fed. */
typedef struct {
    uint64_t v[4];  /* lane accumulators; v[2] starts as the seed */
    uint64_t total; /* bytes fed */
    uint8_t buf[32];
    unsigned nbuf; /* bytes of an incomplete stripe in buf */
} vfy_xxh64;

void vfy_xxh64_reset(vfy_xxh64 *s);
void vfy_xxh64_update(vfy_xxh64 *s, const uint8_t *p, size_t n);
void vfy_xxh64_update_pair(vfy_xxh64 *a, vfy_xxh64 *b, const uint8_t *p, size_t n);
uint64_t vfy_xxh64_digest(const vfy_xxh64 *s);

#endif
