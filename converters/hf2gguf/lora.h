/*
 * lora.h -- a Hugging Face PEFT LoRA adapter (adapter_config.json +
 * adapter_model.safetensors) to a GGUF LoRA adapter, written the way
 * llama.cpp's convert_lora_to_gguf.py (ec562eb) writes it: general.type
 * "adapter", adapter.type "lora", adapter.lora.alpha; each target weight
 * W of the base becomes NAME.lora_a [in, r] and NAME.lora_b [r, out] (ggml
 * order) under the base family's tensor name, in the order the script
 * meets them, with its types (q8_0 rows not a multiple of 32 fall back to
 * F16) and the llama Q/K permutation applied to lora_b's rows.
 *
 * The adapter is a tensor source: its records are paired by target and
 * mapped through the family's table (converters/hf2gguf/arch.h); the base
 * gives the family and the dimensions, from a checkpoint directory's
 * config.json or from a GGUF file's keys and tensor shapes.
 */
#ifndef CONVERTERS_LORA_H
#define CONVERTERS_LORA_H

#include <stddef.h>

#include "ggufkit.h"
#include "converters/hf2gguf/convert.h"

typedef struct {
    const char *adapter_dir;   /* required */
    const char *base_dir;      /* the base checkpoint directory, or NULL */
    const char *base_gguf;     /* or the base as a GGUF file (one of the two) */
    const char *out_path;      /* NULL: default name inside adapter_dir; "-": stdout */
    cv_outtype outtype;        /* CV_OUT_AUTO as the script's "auto" */
    int force;                 /* overwrite an existing output */
    const char *model_name;    /* --model-name or NULL */
    const char *metadata_path; /* --metadata JSON or NULL */
} cv_lora_options;

/* Convert. On failure returns the status (GK_E_FORMAT / GK_E_UNSUPPORTED
 * for an adapter we refuse) and fills e; nothing is left at the output
 * path. The written path (when not stdout) goes to out_written[out_cap]
 * when that is non-NULL. */
gk_status cv_lora_convert(const cv_lora_options *o, char *out_written, size_t out_cap, gk_error *e);

/* The GGUF name convert_lora_to_gguf.py gives a PEFT tensor's base weight
 * (get_base_tensor_name: "base_model.model." removed, ".lora_A.weight" /
 * ".lora_B.weight", ".lora_embedding_A", ".lora_embedding_B" -> ".weight"),
 * and whether it is an A (1), a B (2) or neither (0). */
int cv_lora_base_name(const char *peft_name, char *out, size_t cap);

#endif
