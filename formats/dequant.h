/*
 * dequant.h -- pre-quantized Hugging Face checkpoints as a tensor-source
 * transform (formats/source.h): FP8 and GPTQ weights become f32 records
 * computed the way llama.cpp's convert_hf_to_gguf.py (ec562eb,
 * ModelBase.dequant_model) computes them, and their scale, zero and index
 * tensors leave the set.
 *
 *   FP8 (quant_method "fp8": X.weight + X.weight_scale_inv; compressed-
 *   tensors "float-quantized"/"int-quantized": X.weight + X.weight_scale):
 *     w = float(q) * s, one f32 product, s expanded over weight_block_size
 *     (block_structure) blocks, else broadcast per tensor or per channel.
 *   GPTQ (quant_method "gptq": X.qweight [in/pf, out], X.qzeros
 *   [groups, out/pf], X.scales [groups, out], X.g_idx [in]; pf = 32/bits
 *   codes per int32, low bits first):
 *     w[o][i] = float(scales[g][o]) * float(q[i][o] - z[g][o]), g = g_idx[i],
 *     z = stored zero + 1 for checkpoint_format "gptq" (v1), the stored zero
 *     for "gptq_v2". The weight is a new record X.weight which, as upstream,
 *     comes after every stored tensor (fmt_dq_appended).
 *
 * Everything a read needs is validated when the transform is built (shapes,
 * dtypes, finite scales, g_idx a map into the groups), so reads of its
 * records cannot fail.
 */
#ifndef FORMATS_DEQUANT_H
#define FORMATS_DEQUANT_H

#include <jansson.h>
#include <stddef.h>

#include "../ggufkit.h"
#include "source.h"

typedef struct fmt_dq fmt_dq;

/* Wrap inner (borrowed: close it after fmt_dq_close) as quantization_config
 * (qcfg: config.json's value, NULL when absent) says; cfg_name names
 * config.json in messages. A set with nothing quantized and no config is
 * passed through. A config that claims FP8/GPTQ over float tensors converts
 * with a warning (as upstream, which dequantizes nothing then). Failures,
 * with "FILE: tensor 'X': what is wrong" or "CONFIG: key: what is wrong" in
 * err: GK_E_FORMAT for bad input (a missing scale/zero/index tensor, a wrong
 * shape or dtype, bits not in {2,4,8}, a g_idx out of range, a NaN/Inf
 * scale, tensors of another method than the config's, quantized tensors
 * without a config), GK_E_UNSUPPORTED for methods not handled (AWQ, MXFP4,
 * 3-bit GPTQ, ...). */
fmt_dq *fmt_dq_open(fmt_src *inner, const json_t *qcfg, const char *cfg_name, gk_status *st,
                    char *err, size_t errcap);

/* The set to read: the transformed records, or inner when nothing changed. */
fmt_src *fmt_dq_source(const fmt_dq *d);

/* A record built as a new tensor (a GPTQ weight), which the converter emits
 * after the stored ones. */
int fmt_dq_appended(const fmt_src_tensor *t);

/* Free the transform (not inner); accepts NULL. */
void fmt_dq_close(fmt_dq *d);

#endif
