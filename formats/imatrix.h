/*
 * imatrix.h -- importance matrices for requant --imatrix: llama.cpp's legacy
 * .dat format and its GGUF imatrix format, read into one table of per-column
 * weights per tensor name (the values llama-quantize hands to the
 * quantizers).
 *
 * Every count and length in the file is checked against the bytes that
 * remain before it is used; a malformed file is GK_E_FORMAT with a message
 * "what is wrong (at byte N)".
 */
#ifndef CONVERTERS_IMATRIX_H
#define CONVERTERS_IMATRIX_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"

typedef struct imx imx;

/* Load path (GGUF detected by its magic, otherwise the legacy format).
 * Legacy values are divided by the entry's call count (float division), as
 * llama-quantize's load_imatrix does; GGUF values are in_sum2 / count per
 * matrix (one matrix per expert for 3-D expert weights: {ne0, n_expert}
 * sums with {1, n_expert} counts), and a matrix whose count is not positive
 * (an expert never routed during calibration) gets 1.0 everywhere. A
 * .counts without its .in_sum2, or the reverse, is an error. On failure returns
 * NULL, sets *st and writes a message into err[errcap]. */
imx *imx_load(const char *path, gk_status *st, char *err, size_t errcap);

/* Build a table from memory (legacy format bytes), for tests and fuzzing. */
imx *imx_load_legacy_mem(const uint8_t *data, size_t size, gk_status *st, char *err, size_t errcap);

/* Keep only entries whose name contains one of include[] (when ni > 0),
 * then drop entries whose name contains one of exclude[], as
 * llama-quantize's --include-weights/--exclude-weights do. */
void imx_filter(imx *m, const char *const *include, size_t ni, const char *const *exclude,
                size_t ne);

/* Number of entries (after filtering). */
size_t imx_count(const imx *m);

/* Values for a tensor name, or NULL when absent; *n gets the value count.
 * Valid until imx_free(). */
const float *imx_find(const imx *m, const char *name, size_t *n);

/* Name of entry i (sorted by name), for messages. */
const char *imx_name_at(const imx *m, size_t i);

/* Dataset name (legacy trailer, or the first of imatrix.datasets), NULL
 * when the file names none. Chunk count (legacy last_call or
 * imatrix.chunk_count), 0 when unknown. */
const char *imx_dataset(const imx *m);
int64_t imx_chunks(const imx *m);

/* GK_E_FORMAT with "imatrix entry 'x' holds a non-finite value" when any
 * remaining entry is NaN or infinite (llama-quantize refuses those). */
gk_status imx_check_finite(const imx *m, char *err, size_t errcap);

void imx_free(imx *m); /* accepts NULL */

#endif
