/*
 * mxfp4.h -- MXFP4 weights of a Hugging Face checkpoint (gpt-oss's
 * quantization_config quant_method "mxfp4") as ggml MXFP4 records, the
 * bytes llama.cpp's converter (ec562eb, GptOssModel.repack_mxfp4) writes.
 *
 * The checkpoint stores a weight W [..., N, K] as two U8 tensors:
 *   NAME_blocks [..., N, K/32, 16]: 32 E2M1 codes per block, two a byte,
 *                                   element 2j in the low nibble of byte j;
 *   NAME_scales [..., N, K/32]:     one E8M0 exponent per block (bias 127).
 * A ggml MXFP4 block (17 bytes) is the exponent then 16 bytes whose byte j
 * holds element j (low nibble) and element j + 16 (high nibble); E2M1
 * values are doubled and the exponent halved, so the exponent byte is kept.
 * The repack is a byte permutation: no value changes.
 */
#ifndef FORMATS_MXFP4_H
#define FORMATS_MXFP4_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "source.h"
#include "view.h"

/* Repack one 16-byte block of HF codes into the 16 code bytes of a ggml
 * MXFP4 block. */
void fmt_mxfp4_repack_codes(const uint8_t hf[16], uint8_t qs[16]);

/* Add to x a record NAME of type MXFP4 and shape [..., n_sel, K] from the
 * pair: rows start, start + step, ... (n_sel of them) of dimension N
 * (step 2 de-interleaves gpt-oss's gate_up_proj: start 0 gate, 1 up).
 * Its read_raw gives the ggml bytes, its read the values as f32.
 * GK_E_FORMAT with "FILE: tensor 'X': what is wrong" in err when the pair
 * is not U8, not mapped, or of shapes that do not fit together (a scales
 * tensor of the wrong shape) or with the rows asked. */
gk_status fmt_mxfp4_add(fmt_xset *x, const char *name, const fmt_src_tensor *blocks,
                        const fmt_src_tensor *scales, int64_t start, int64_t step, char *err,
                        size_t errcap);

#endif
