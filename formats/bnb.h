/*
 * bnb.h -- bitsandbytes checkpoints (quantization_config quant_method
 * "bitsandbytes", as transformers saves a model loaded with load_in_4bit or
 * load_in_8bit) as a tensor-source transform: each quantized X.weight
 * becomes an f32 record computed from its parts, which leave the set. There
 * is no upstream reference (convert_hf_to_gguf.py ec562eb refuses these
 * checkpoints); the layout is bitsandbytes' own (bitsandbytes-foundation/
 * bitsandbytes, bitsandbytes/functional.py QuantState.as_dict /
 * get_4bit_type, bitsandbytes/utils.py pack_dict_to_tensor,
 * bitsandbytes/backends/default/ops.py dequantize_4bit,
 * dequantize_blockwise, bitsandbytes/_ops.py int8_vectorwise_dequant):
 *
 *   4-bit (NF4, FP4): X.weight U8, ceil(n/2) bytes, the weight of
 *   n = out*in values flattened row-major, value 2k in the high nibble of
 *   byte k and value 2k+1 in the low one; X.weight.quant_map F32 [16] (the
 *   code book: NF4's normal quantiles, or FP4's e2m1 values over 12);
 *   X.weight.absmax, one scale per block of `blocksize` values;
 *   X.weight.quant_state.bitsandbytes__nf4 (or __fp4): U8 bytes of a JSON
 *   object {quant_type, blocksize, dtype, shape [out, in], and when nested
 *   nested_blocksize, nested_dtype, nested_offset}.
 *     w[k] = dtype(quant_map[code k] * absmax[k / blocksize])    (f32 product)
 *   Nested (double-quantized) absmax: absmax is U8 codes into
 *   X.weight.nested_quant_map F32 [256] with X.weight.nested_absmax F32, one
 *   per nested_blocksize of them:
 *     absmax[b] = nested_quant_map[absmax code b] * nested_absmax[b / nb]
 *                 + nested_offset                                 (f32)
 *   LLM.int8: X.weight I8 [out, in] and X.SCB F32 [out] (the row absmax),
 *   X.weight_format (row only) dropped:
 *     w[o][i] = float(q) * SCB[o] * 7.874015718698502e-3f         (f32)
 *
 * Everything is validated when the transform is built (sizes against the
 * shape, code books and scales finite, the JSON's keys), so reads cannot
 * fail.
 */
#ifndef FORMATS_BNB_H
#define FORMATS_BNB_H

#include <jansson.h>
#include <stddef.h>

#include "../ggufkit.h"
#include "source.h"

typedef struct fmt_bnb fmt_bnb;

/* Wrap inner (borrowed: close it after fmt_bnb_close) for quantization_config
 * qcfg, whose quant_method is "bitsandbytes"; cfg_name and key name it in
 * messages as for fmt_dq_open. Failures (GK_E_FORMAT: a missing part, a
 * size or shape that disagrees, a NaN/Inf scale or code, a bad quant_state
 * JSON; GK_E_UNSUPPORTED: another quant_type or weight_format) leave
 * "FILE: tensor 'X': what is wrong" in err. */
fmt_bnb *fmt_bnb_open(fmt_src *inner, const json_t *qcfg, const char *cfg_name, const char *key,
                      gk_status *st, char *err, size_t errcap);

/* The transformed set (valid until close). */
fmt_src *fmt_bnb_source(const fmt_bnb *b);

/* The number of quantized weights found (0: a float checkpoint). */
size_t fmt_bnb_count(const fmt_bnb *b);

/* Free the transform (not inner); accepts NULL. */
void fmt_bnb_close(fmt_bnb *b);

#endif
