/*
 * kernels.h -- the ggml type table, fp16/bf16 conversion, and the
 * quantize/dequantize kernels (reference + SIMD chosen at run time).
 *
 * kernels/ knows no file format and never allocates or does I/O: callers
 * pass destination buffers sized with kern_row_bytes().
 */
#ifndef KERNELS_H
#define KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ggml type ids, exactly as ggml numbers them (ggml.h enum ggml_type).
 * Gaps are retired ids; kern_type_info() returns NULL for them. */
typedef enum {
    KERN_TYPE_F32 = 0,
    KERN_TYPE_F16 = 1,
    KERN_TYPE_Q4_0 = 2,
    KERN_TYPE_Q4_1 = 3,
    KERN_TYPE_Q5_0 = 6,
    KERN_TYPE_Q5_1 = 7,
    KERN_TYPE_Q8_0 = 8,
    KERN_TYPE_Q8_1 = 9,
    KERN_TYPE_Q2_K = 10,
    KERN_TYPE_Q3_K = 11,
    KERN_TYPE_Q4_K = 12,
    KERN_TYPE_Q5_K = 13,
    KERN_TYPE_Q6_K = 14,
    KERN_TYPE_Q8_K = 15,
    KERN_TYPE_IQ2_XXS = 16,
    KERN_TYPE_IQ2_XS = 17,
    KERN_TYPE_IQ3_XXS = 18,
    KERN_TYPE_IQ1_S = 19,
    KERN_TYPE_IQ4_NL = 20,
    KERN_TYPE_IQ3_S = 21,
    KERN_TYPE_IQ2_S = 22,
    KERN_TYPE_IQ4_XS = 23,
    KERN_TYPE_I8 = 24,
    KERN_TYPE_I16 = 25,
    KERN_TYPE_I32 = 26,
    KERN_TYPE_I64 = 27,
    KERN_TYPE_F64 = 28,
    KERN_TYPE_IQ1_M = 29,
    KERN_TYPE_BF16 = 30,
    KERN_TYPE_TQ1_0 = 34,
    KERN_TYPE_TQ2_0 = 35,
    KERN_TYPE_MXFP4 = 39,
    KERN_TYPE_NVFP4 = 40, /* 64 values: 4 UE4M3 sub-block scales + E2M1 nibbles */
    KERN_TYPE_Q1_0 = 41,  /* 128 values: fp16 d + 1 sign bit each */
    KERN_TYPE_Q2_0 = 42,  /* 64 values: fp16 d + 2-bit codes, y = (q - 1) * d */
    KERN_TYPE_COUNT = 43,
} kern_type;

/* Dequantize n elements (a whole number of blocks) from src into dst. */
typedef void (*kern_to_float_fn)(const void *src, float *dst, int64_t n);

/* Quantize nrows rows of n_per_row elements (a whole number of blocks) from
 * src into dst, as ggml_quantize_chunk() does: with imatrix == NULL the plain
 * path, otherwise imatrix holds n_per_row importance weights.
 * Returns the bytes written (nrows * kern_row_bytes(type, n_per_row)). */
typedef size_t (*kern_quantize_fn)(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                   const float *imatrix);

/* One row of the type table. */
typedef struct {
    const char *name;              /* ggml name, e.g. "q4_K"; upper-case via kern_type_label */
    int64_t blck_size;             /* elements per block */
    size_t type_size;              /* bytes per block */
    int is_quantized;              /* 1 for block-quantized types */
    int needs_imatrix;             /* llama-quantize refuses to produce it without one */
    kern_to_float_fn to_float_ref; /* NULL when the type has no dequantizer */
    kern_quantize_fn quantize_ref; /* NULL when the type cannot be produced */
} kern_type_traits;

/* Row of the table for type id, or NULL for retired/out-of-range ids. */
const kern_type_traits *kern_type_info(int type);

/* Upper-case display name ("Q4_K", "F16", "IQ2_XXS"); "?" for unknown ids. */
const char *kern_type_label(int type);

/* Type id for a name, case-insensitive ("q4_k", "Q4_K", "bf16"); -1 if none. */
int kern_type_from_name(const char *name);

/* Bytes of a row of n elements of type; 0 when the type is unknown or n is
 * not a whole number of blocks. Overflow-safe for n < 2^62. */
size_t kern_row_bytes(int type, int64_t n);

/* Bits per weight of a type (type_size * 8 / blck_size); 0 for unknown. */
double kern_type_bpw(int type);

/* Index of the first NaN or infinity among x[0..n), or -1 if all are finite.
 * ggml refuses such input (llama-quantize validates tensors on load), so
 * callers check rows before quantizing and name the tensor and row. */
int64_t kern_find_nonfinite(const float *x, int64_t n);

/* ------------------------------------------------------------------------ */
/* fp16 / bf16                                                                */
/* ------------------------------------------------------------------------ */

/* IEEE binary16 <-> binary32, round to nearest even, as ggml's
 * GGML_FP32_TO_FP16 (signed zero kept, overflow to inf, NaN -> 0x7E00|sign). */
uint16_t kern_fp32_to_fp16(float f);
float kern_fp16_to_fp32(uint16_t h);

/* bfloat16 as ggml_fp32_to_bf16: round to nearest even, NaN -> quiet NaN. */
uint16_t kern_fp32_to_bf16(float f);
float kern_bf16_to_fp32(uint16_t h);

/* Bulk conversions (dispatched to SIMD when available; bit-identical). */
void kern_fp16_to_fp32_row(const uint16_t *src, float *dst, int64_t n);
void kern_fp32_to_fp16_row(const float *src, uint16_t *dst, int64_t n);
void kern_bf16_to_fp32_row(const uint16_t *src, float *dst, int64_t n);
void kern_fp32_to_bf16_row(const float *src, uint16_t *dst, int64_t n);

/* OCP 8-bit floats (safetensors F8_E4M3, F8_E5M2) -> binary32, exactly:
 * every fp8 value is a float. e4m3 ("fn": bias 7, no infinities, 0x7F and
 * 0xFF are NaN, max 448); e5m2 (bias 15, IEEE-like: infinities and NaNs at
 * exponent 31). Subnormals included. */
float kern_fp8_e4m3_to_fp32(uint8_t v);
float kern_fp8_e5m2_to_fp32(uint8_t v);
void kern_fp8_e4m3_to_fp32_row(const uint8_t *src, float *dst, int64_t n);
void kern_fp8_e5m2_to_fp32_row(const uint8_t *src, float *dst, int64_t n);

/* ------------------------------------------------------------------------ */
/* Run-time dispatch                                                          */
/* ------------------------------------------------------------------------ */

typedef enum {
    KERN_ISA_REF = 0, /* portable C */
    KERN_ISA_AVX2,    /* x86-64 AVX2 + F16C */
    KERN_ISA_AVX512,  /* x86-64 AVX-512 F/BW/VL */
    KERN_ISA_NEON,    /* AArch64 NEON */
    KERN_ISA_COUNT
} kern_isa;

/* Probe the CPU once and select the best kernels (honours GGUFKIT_SIMD=
 * off|avx2|avx512). Idempotent and thread-safe; every main() calls it first. */
void kern_init(void);

/* The ISA in use ("ref", "avx2", ...). */
const char *kern_isa_name(void);
kern_isa kern_isa_current(void);

/* Force an ISA (for tests and benches). Returns 0 if the CPU lacks it. */
int kern_set_isa(kern_isa isa);

/* 1 if this machine and build can run the ISA. */
int kern_isa_available(kern_isa isa);

/* 1 when the CPU has AMX-INT8 tiles and the OS saves their state: where
 * llama.cpp's CPU backend adds its AMX weight buffer. No kernel of ours
 * uses AMX. */
int kern_cpu_has_amx(void);

/* Fastest dequantizer for type on the selected ISA (falls back to the
 * reference), or NULL when the type has none. */
kern_to_float_fn kern_dequant_fn(int type);

/* The one way to read a row of any type as f32: n elements (a whole number
 * of blocks) of type from src (any alignment) into dst, with the fastest
 * dequantizer of the selected ISA. Covers F32, F16, BF16, every quantized
 * type with a dequantizer, the integer types of the table and F64 (which
 * checkpoints carry but ggml cannot dequantize, so kern_dequant_fn leaves it
 * out and GGUF tools keep refusing it). Returns 0, or -1 (dst untouched)
 * when the type cannot be read or n is not a whole number of blocks. */
int kern_row_to_f32(int type, const void *src, float *dst, int64_t n);

/* One MXFP4 block (kern_row_bytes(KERN_TYPE_MXFP4, 32) bytes) from its E8M0
 * exponent and its 32 E2M1 codes (0..15) in element order: the exact bytes,
 * no rounding, for MXFP4 weights kept as a checkpoint stores them. */
void kern_mxfp4_block_from_codes(uint8_t e8m0, const uint8_t codes[32], void *dst);

/* 1 if kern_row_to_f32 can read type. */
int kern_row_to_f32_supported(int type);

/* NaN/Inf count among n elements of a float type (F32, F16, BF16, F64),
 * from the raw bits (all-ones exponent) without converting them; 0 for any
 * other type, whose values cannot be non-finite before dequantization. */
uint64_t kern_count_nonfinite(int type, const void *src, int64_t n);

/* First block of blocks[0..nb) (each of the type's block size) whose fp16
 * scale is not a finite number, or whose MXFP4 E8M0 scale byte is 0xFF
 * (NaN) -- what ggml_validate_row_data checks before it trusts a row -- or
 * -1; *which then names the scale ("d", "m", "dmin", or "e" for MXFP4).
 * -1 for types without a separate scale (floats, integers, NVFP4). */
int64_t kern_find_bad_scale(int type, const void *blocks, int64_t nb, const char **which);

/* ------------------------------------------------------------------------ */
/* MatMulNBits form of the 32-element block types                             */
/* ------------------------------------------------------------------------ */

/* Bits per code of type as com.microsoft.MatMulNBits (block_size 32) takes
 * it: 4 for Q4_0 and Q4_1, 8 for Q8_0, 0 for every other type. */
int kern_nbits_bits(int type);

/* Split a row of n elements (whole 32-element blocks) of Q4_0, Q4_1 or Q8_0
 * into MatMulNBits' arrays, so that no caller knows the block layouts:
 *   codes   n/32 blobs of 32 * bits / 8 bytes: the unsigned codes in element
 *           order, for 4 bits two a byte, low nibble first. Q4_0 and Q4_1
 *           give their q (0..15), Q8_0 q + 128; x = (code - zp) * scale with
 *           MatMulNBits' default zero points (8, 128) for Q4_0 and Q8_0, and
 *           x = code * scale + min for Q4_1 (zero point 0).
 *   scales  n/32 floats: the blocks' d.
 *   mins    n/32 floats: Q4_1's m (left untouched for the other types).
 * Any output may be NULL. Returns 0, or -1 when type is not one of the
 * three or n is not a whole number of blocks. */
int kern_nbits_split(int type, const void *src, int64_t n, uint8_t *codes, float *scales,
                     float *mins);

#endif
