/*
 * dequant.h -- pre-quantized Hugging Face checkpoints as a tensor-source
 * transform (formats/source.h): FP8, GPTQ, compressed-tensors and AWQ
 * weights become f32 records computed the way llama.cpp's
 * convert_hf_to_gguf.py (ec562eb, ModelBase.dequant_model) computes them
 * (AWQ, which upstream lacks, the same way), and their scale, zero, shape
 * and index tensors leave the set.
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
 *     for "gptq_v2"; g_idx may be absent (g = i / group_size; upstream
 *     fails). The weight is a new record X.weight which, as upstream, comes
 *     after every stored tensor (fmt_dq_appended).
 *   compressed-tensors pack-quantized (dequant_packed): X.weight_packed
 *   [out, ceil(in/pf)] (low bits first), X.weight_shape [out, in],
 *   X.weight_scale [out, groups], X.weight_zero_point [ceil(out/pf),
 *   groups] or the zero 2^(bits-1):
 *     w[o][i] = float(q - z) * scale[o][g], g = i / group_size,
 *   a new record X.weight appended as GPTQ weights are.
 *   AWQ (quant_method "awq", version gemm, 4 bits; not in upstream: AutoAWQ's
 *   WQLinear_GEMM layout): X.qweight [in, out/8] and X.qzeros [groups,
 *   out/8] packed along the outputs, column c of 8 in nibble
 *   AWQ_REVERSE_ORDER[c] = {0,4,1,5,2,6,3,7}[c]; X.scales [groups, out]:
 *     w[o][i] = float(scales[g][o]) * float(q[i][o] - z[g][o]), g = i / group,
 *   in f32 as GPTQ (AutoAWQ multiplies in f16), appended as GPTQ weights are.
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
 * (qcfg: config.json's value, NULL when absent) says; cfg_name names the
 * file holding qcfg and key its key there ("quantization_config"; NULL
 * when qcfg is the whole file, as AutoGPTQ's quantize_config.json) in
 * messages. A set with nothing quantized and no config is passed
 * through. A config that claims a method over float tensors converts with
 * a warning (as upstream, which dequantizes nothing then). Failures,
 * with "FILE: tensor 'X': what is wrong" or "CONFIG: key: what is wrong" in
 * err: GK_E_FORMAT for bad input (a missing scale/zero/qweight tensor, a
 * wrong shape or dtype, scales whose group count contradicts group_size,
 * bits not in {2,3,4,8}, a g_idx out of range, a NaN/Inf scale, tensors of
 * another method than the config's, quantized tensors without a config),
 * GK_E_UNSUPPORTED for what is not handled (MXFP4, 3-bit GPTQ, AWQ GEMV,
 * other methods ...). */
fmt_dq *fmt_dq_open(fmt_src *inner, const json_t *qcfg, const char *cfg_name, const char *key,
                    gk_status *st, char *err, size_t errcap);

/* The set to read: the transformed records, or inner when nothing changed. */
fmt_src *fmt_dq_source(const fmt_dq *d);

/* A record built as a new tensor (a GPTQ, AWQ or pack-quantized weight),
 * which the converter emits after the stored ones. */
int fmt_dq_appended(const fmt_src_tensor *t);

/* The integer codes behind a packed record (fmt_dq_appended: a GPTQ, AWQ
 * or pack-quantized weight [out, in]), for a transform that copies them
 * instead of their f32 values (formats/keepquant.h). Row o's value i is
 * scale * float(code - zero) with the scale and zero of group g_idx[i]. */
typedef struct {
    int bits;             /* 2, 4 or 8 (pack-quantized: 1 to 8) */
    int64_t in, out;      /* the weight's [out, in] */
    int64_t groups;       /* scale and zero groups per row */
    const int32_t *g_idx; /* [in]: each input's group, valid until fmt_dq_close */
} fmt_dq_packed;

/* 1 and *info when t is a packed record of a fmt_dq (or a copy of one),
 * else 0. */
int fmt_dq_packed_info(const fmt_src_tensor *t, fmt_dq_packed *info);

/* Row o (< info.out) of packed record t: the scale s[g] (the f32 the
 * dequantization multiplies by) and the zero z[g] (the integer it
 * subtracts: GPTQ v1's stored zero + 1, 2^(bits-1) when pack-quantized has
 * none) of each of its groups. */
void fmt_dq_packed_groups(const fmt_src_tensor *t, int64_t o, float *s, int32_t *z);

/* Row o's codes q[in] (0 .. 2^bits - 1) of packed record t. */
void fmt_dq_packed_codes(const fmt_src_tensor *t, int64_t o, uint8_t *q);

/* One line describing quantization_config qcfg (config.json's value; NULL
 * or without a quant_method: "") into buf[cap], as fmt_dq_open reads it:
 * "gptq, 4 bits, groups of 128, symmetric, act-order (desc_act),
 * checkpoint_format gptq", "fp8, block scales 128x128", or the method and
 * why hf2gguf cannot read it. For displays (gguf-inspect). */
void fmt_dq_describe(const json_t *qcfg, char *buf, size_t cap);

/* Drop the mapped pages record t of this transform read for its rows
 * [r0, r1), once they are written (fmt_release_pages), so that resident
 * memory stays bounded as for stored tensors: an FP8 weight's rows; all of
 * a packed weight's parts (a GPTQ/AWQ row reads all of them) when r1 is its
 * last row; nothing for records of other transforms. Pages read again are faulted back in. */
void fmt_dq_release(const fmt_src_tensor *t, int64_t r0, int64_t r1);

/* Free the transform (not inner); accepts NULL. */
void fmt_dq_close(fmt_dq *d);

#endif
