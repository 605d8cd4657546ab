/*
 * ftype.h -- llama.cpp's model file types: the value of the GGUF key
 * general.file_type (enum llama_ftype), with the preset names llama-quantize
 * accepts. Shared by gguf-inspect (to decode the key) and requant (to set it).
 */
#ifndef FORMATS_FTYPE_H
#define FORMATS_FTYPE_H

#define FMT_FTYPE_GUESSED 1024

/* "MOSTLY_Q4_K_M" style name as gguf_dump.py prints it, or NULL if unknown. */
const char *fmt_ftype_name(int ftype);

/* Preset name ("Q4_K_M", "F16", "ALL_F32" -> "F32"), or NULL if unknown. */
const char *fmt_ftype_preset(int ftype);

/* ftype for a preset name (case-insensitive, "Q4_K_M"); -1 if unknown. */
int fmt_ftype_from_preset(const char *name);

#endif
