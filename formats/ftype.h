/*
 * ftype.h -- llama.cpp's model file types: the value of the GGUF key
 * general.file_type (enum llama_ftype), with the preset names llama-quantize
 * accepts, and the size label gguf-py derives from the parameter count.
 * Shared by gguf-inspect, requant and hf2gguf.
 */
#ifndef FORMATS_FTYPE_H
#define FORMATS_FTYPE_H

#include <stddef.h>
#include <stdint.h>

#define FMT_FTYPE_GUESSED 1024

/* "MOSTLY_Q4_K_M" style name as gguf_dump.py prints it, or NULL if unknown. */
const char *fmt_ftype_name(int ftype);

/* Preset name ("Q4_K_M", "F16", "ALL_F32" -> "F32"), or NULL if unknown. */
const char *fmt_ftype_preset(int ftype);

/* ftype for a preset name (case-insensitive, "Q4_K_M"); -1 if unknown. */
int fmt_ftype_from_preset(const char *name);

/* Parameter count in gguf-py's rounded notation (general.size_label):
 * "4.3M", "1.1B", "70B", "0.5K"... (model_weight_count_rounded_notation
 * with min_digits 2). Writes at most cap bytes including the NUL. */
void fmt_size_label(uint64_t params, char *buf, size_t cap);

#endif
