/*
 * ftype.h -- llama.cpp's model file types: the name of each value of the
 * GGUF key general.file_type (enum llama_ftype), and the size label gguf-py
 * derives from the parameter count. The presets that produce each file type
 * (llama-quantize's TYPE names) are the table of formats/mixture.h.
 */
#ifndef FORMATS_FTYPE_H
#define FORMATS_FTYPE_H

#include <stddef.h>
#include <stdint.h>

#define FMT_FTYPE_GUESSED 1024

/* "MOSTLY_Q4_K_M" style name as gguf_dump.py prints it, or NULL if unknown. */
const char *fmt_ftype_name(int ftype);

/* Parameter count in gguf-py's rounded notation (general.size_label):
 * "4.3M", "1.1B", "70B", "0.5K"... (model_weight_count_rounded_notation
 * with min_digits 2). Writes at most cap bytes including the NUL. */
void fmt_size_label(uint64_t params, char *buf, size_t cap);

#endif
