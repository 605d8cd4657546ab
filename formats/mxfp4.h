/*
 * mxfp4.h -- MXFP4 weights of a Hugging Face checkpoint (gpt-oss's
 * quantization_config quant_method "mxfp4") as ggml MXFP4 records, the
 * bytes llama.cpp's converter (ec562eb, GptOssModel.repack_mxfp4) writes.
 *
 * The checkpoint stores a weight W [..., N, K] as two U8 tensors:
 *   NAME_blocks [..., N, K/32, 16]: 32 E2M1 codes per block, two a byte,
 *                                   element 2j in the low nibble of byte j;
 *   NAME_scales [..., N, K/32]:     one E8M0 exponent per block (bias 127).
 * The ggml block (kernels/fp4.c, kern_mxfp4_block_from_codes) keeps the
 * exponent byte and the codes, reordered: a permutation of nibbles, no
 * value changes.
 */
#ifndef FORMATS_MXFP4_H
#define FORMATS_MXFP4_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "source.h"
#include "view.h"

/* One ggml MXFP4 block (kern_row_bytes(KERN_TYPE_MXFP4, 32) bytes, laid
 * out by kernels/) from a block's exponent and its 16 bytes of HF codes. */
void fmt_mxfp4_repack_block(uint8_t e8m0, const uint8_t hf[16], void *dst);

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
