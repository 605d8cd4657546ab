/*
 * keepquant.h -- pre-quantized weights kept as ggml blocks (hf2gguf
 * --keep-quant): a tensor-source transform over formats/dequant's set whose
 * packed records (GPTQ, AWQ, compressed-tensors pack-quantized weights)
 * become records of a ggml block type that yield their blocks
 * (fmt_src_tensor.read_raw) without a second rounding:
 *
 *   codes of at most 4 bits, every zero z with 2^bits - 8 <= z <= 8
 *   (symmetric 4-bit: z = 8)                  -> Q4_0: x = q - z + 8, d = s
 *   other codes of at most 4 bits (asymmetric) -> Q4_1: x = q, d = s, m = -s*z
 *   codes of 5 to 8 bits                       -> Q8_0: x = q - z, d = s
 *
 * where s and z are the scale and zero of the group of the block's 32
 * inputs. A 32-block is copied exactly when all its inputs share one group
 * (no act-order permutation inside it, groups of a multiple of 32), s is
 * exact in fp16 and, for Q4_1, s is not negative and -s*z is exact in fp16;
 * for Q4_0/Q8_0 also z is in the range above (Q8_0: 2^bits - 128 <= z <=
 * 128). Then the block dequantizes (ggml's dequantize_row_*) to exactly the
 * f32 values of formats/dequant, which are convert_hf_to_gguf.py's. Any
 * other block is quantized from those f32 values by the type's reference
 * quantizer (kernels' quantize_ref, as llama-quantize). A weight whose
 * inputs are not whole 32-blocks is not kept (it stays the f32 record).
 *
 * Which blocks are exact depends only on g_idx, the scales and the zeros,
 * so the counts are known when the transform is built, before any weight is
 * read.
 */
#ifndef FORMATS_KEEPQUANT_H
#define FORMATS_KEEPQUANT_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "source.h"

typedef struct fmt_kq fmt_kq;

/* One packed weight of the set and what becomes of it. */
typedef struct {
    const char *name; /* the weight's name in the set, valid until close */
    int type;         /* KERN_TYPE_Q4_0/Q4_1/Q8_0, or -1 when not kept */
    uint64_t exact;   /* 32-blocks copied without rounding */
    uint64_t rounded; /* 32-blocks quantized again from f32 (all of them when not kept) */
    const char *why;  /* the first reason a block was not exact; "" when none */
} fmt_kq_stats;

/* Wrap dq_view (formats/dequant's set, borrowed: close it after
 * fmt_kq_close). Every other record passes through unchanged. Reads the
 * scales, zeros and g_idx of each packed weight (not its codes). Returns
 * NULL with *st (GK_E_NOMEM) and err[errcap] on failure. */
fmt_kq *fmt_kq_open(fmt_src *dq_view, gk_status *st, char *err, size_t errcap);

/* The set to read: the records with the packed weights as block records. */
fmt_src *fmt_kq_source(const fmt_kq *k);

/* The packed weights in set order (n of them), NULL when i is out of range. */
size_t fmt_kq_count(const fmt_kq *k);
const fmt_kq_stats *fmt_kq_at(const fmt_kq *k, size_t i);

/* The stats of record t when it is one of this transform's block records
 * (or a copy of one), else NULL. */
const fmt_kq_stats *fmt_kq_stats_of(const fmt_src_tensor *t);

/* The block of type (Q4_0, Q4_1 or Q8_0) holding 32 codes q that share
 * scale s and zero z, into blk (kern_row_bytes(type, 32) bytes), when it
 * dequantizes to s * float(q[i] - z) exactly: returns 1. Returns 0 and
 * leaves blk undefined when it would not (s not exact in fp16, z out of
 * the type's range, ...). The known-answer tests call it directly. */
int fmt_kq_block(int type, int bits, const uint8_t *q, float s, int32_t z, uint8_t *blk);

/* Free the transform (not dq_view); accepts NULL. */
void fmt_kq_close(fmt_kq *k);

#endif
