/*
 * kernels_internal.h -- declarations shared between the files of kernels/
 * (reference kernels named in the type table, SIMD variants named by
 * dispatch.c). Never included from outside kernels/.
 */
#ifndef KERNELS_INTERNAL_H
#define KERNELS_INTERNAL_H

#include "kernels.h"

/* Per-ISA overrides of the fast table: NULL entries keep the reference. */
typedef struct {
    kern_to_float_fn to_float[KERN_TYPE_COUNT];
    void (*fp16_to_fp32_row)(const uint16_t *src, float *dst, int64_t n);
    void (*fp32_to_fp16_row)(const float *src, uint16_t *dst, int64_t n);
    void (*bf16_to_fp32_row)(const uint16_t *src, float *dst, int64_t n);
    void (*fp32_to_bf16_row)(const float *src, uint16_t *dst, int64_t n);
} kern_isa_table;

/* float.c */
void kern_dequant_f32_ref(const void *src, float *dst, int64_t n);
void kern_dequant_f16_ref(const void *src, float *dst, int64_t n);
void kern_dequant_bf16_ref(const void *src, float *dst, int64_t n);
void kern_dequant_i8_ref(const void *src, float *dst, int64_t n);
void kern_dequant_i16_ref(const void *src, float *dst, int64_t n);
void kern_dequant_i32_ref(const void *src, float *dst, int64_t n);
size_t kern_quantize_f32_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                             const float *imatrix);
size_t kern_quantize_f16_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                             const float *imatrix);
size_t kern_quantize_bf16_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
void kern_fp16_to_fp32_row_ref(const uint16_t *src, float *dst, int64_t n);
void kern_fp32_to_fp16_row_ref(const float *src, uint16_t *dst, int64_t n);
void kern_bf16_to_fp32_row_ref(const uint16_t *src, float *dst, int64_t n);
void kern_fp32_to_bf16_row_ref(const float *src, uint16_t *dst, int64_t n);

#endif
