/*
 * avx512.c -- AVX-512 (F/BW/VL) dequantizers. Types left out keep the AVX2
 * kernels (dispatch.c layers the ISA rows).
 */
#include <immintrin.h>

#include "kernels/kernels_internal.h"

const kern_isa_table kern_isa_table_avx512 = {.to_float = {NULL}};
