/*
 * float.c -- fp16/bf16 conversion and the plain float/integer "kernels"
 * (F32, F16, BF16, I8, I16, I32 rows), reference versions.
 *
 * fp32 -> fp16 rounds to nearest even with correct subnormals, overflow to
 * infinity and NaN to a quiet NaN keeping the sign, which is what ggml's
 * software GGML_FP32_TO_FP16 (and F16C's _cvtss_sh) produce. It works by
 * letting the FPU do the rounding: scaling |f| up by 2^112 and back down by
 * 2^-110 pushes the bits that fp16 cannot hold out of a float mantissa whose
 * exponent was chosen (the "bias") to sit 13 bits above fp16's precision.
 */
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t kern_fp32_to_fp16(float f) {
    const float to_inf = 0x1.0p+112f;  /* overflows values too large for fp16 */
    const float to_zero = 0x1.0p-110f; /* brings the rest back down */
    float base = (fabsf(f) * to_inf) * to_zero;

    uint32_t w = f32_bits(f);
    uint32_t shl1_w = w + w; /* drops the sign */
    uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u)
        bias = 0x71000000u; /* fp16 subnormal range shares one rounding point */

    base = f32_from_bits((bias >> 1) + 0x07800000u) + base;
    uint32_t bits = f32_bits(base);
    uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    uint32_t mantissa_bits = bits & 0x00000FFFu;
    uint32_t nonsign = exp_bits + mantissa_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

float kern_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    if (exp == 0x1F) /* inf / NaN: keep payload */
        return f32_from_bits(sign | 0x7F800000u | (man << 13));
    if (exp != 0)
        return f32_from_bits(sign | ((exp + 112u) << 23) | (man << 13));
    /* zero or subnormal: man * 2^-24, exact in float */
    float v = (float)man * 0x1.0p-24f;
    return f32_from_bits(sign | f32_bits(v));
}

uint16_t kern_fp32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: force quiet */
        return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

float kern_bf16_to_fp32(uint16_t h) {
    return f32_from_bits((uint32_t)h << 16);
}

/* An 8-bit float with ebits exponent bits (bias 2^(ebits-1) - 1) and
 * 7 - ebits mantissa bits, as sign * mant * 2^(exp - bias - mbits) with the
 * implicit one for normal numbers; ldexpf is exact here. */
static float fp8_to_fp32(uint8_t v, int ebits) {
    int mbits = 7 - ebits, bias = (1 << (ebits - 1)) - 1;
    int e = (v >> mbits) & ((1 << ebits) - 1), m = v & ((1 << mbits) - 1);
    float mag = e == 0 ? ldexpf((float)m, 1 - bias - mbits)
                       : ldexpf((float)(m | (1 << mbits)), e - bias - mbits);
    return v & 0x80 ? -mag : mag;
}

float kern_fp8_e4m3_to_fp32(uint8_t v) {
    if ((v & 0x7f) == 0x7f) /* the only NaN; e4m3fn has no infinity */
        return v & 0x80 ? -NAN : NAN;
    return fp8_to_fp32(v, 4);
}

float kern_fp8_e5m2_to_fp32(uint8_t v) {
    if ((v & 0x7c) == 0x7c) /* exponent 31: infinity, or NaN with a mantissa */
        return (v & 3) ? (v & 0x80 ? -NAN : NAN) : (v & 0x80 ? -INFINITY : INFINITY);
    return fp8_to_fp32(v, 5);
}

/* ------------------------------------------------------------------------ */
/* Bulk rows (reference)                                                      */
/* ------------------------------------------------------------------------ */

void kern_fp16_to_fp32_row_ref(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = kern_fp16_to_fp32(src[i]);
}

void kern_fp32_to_fp16_row_ref(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = kern_fp32_to_fp16(src[i]);
}

void kern_bf16_to_fp32_row_ref(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = kern_bf16_to_fp32(src[i]);
}

void kern_fp32_to_bf16_row_ref(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = kern_fp32_to_bf16(src[i]);
}

/* ------------------------------------------------------------------------ */
/* Type-table entries. Sources may be unaligned views into a mapping, so    */
/* elements are loaded with memcpy (little-endian hosts only, see Makefile). */
/* ------------------------------------------------------------------------ */

void kern_dequant_f32_ref(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void kern_dequant_f16_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = kern_fp16_to_fp32(h);
    }
}

/* Not in the type table (ggml has no F64 dequantizer): kern_row_to_f32 only. */
void kern_dequant_f64_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        double v;
        memcpy(&v, p + 8 * i, 8);
        dst[i] = (float)v;
    }
}

void kern_dequant_bf16_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = kern_bf16_to_fp32(h);
    }
}

void kern_dequant_i8_ref(const void *src, float *dst, int64_t n) {
    const int8_t *p = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = (float)p[i];
}

void kern_dequant_i16_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        int16_t v;
        memcpy(&v, p + 2 * i, 2);
        dst[i] = (float)v;
    }
}

void kern_dequant_i32_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        int32_t v;
        memcpy(&v, p + 4 * i, 4);
        dst[i] = (float)v;
    }
}

size_t kern_quantize_f32_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                             const float *imatrix) {
    (void)imatrix;
    size_t bytes = (size_t)(nrows * n_per_row) * sizeof(float);
    memcpy(dst, src, bytes);
    return bytes;
}

size_t kern_quantize_f16_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                             const float *imatrix) {
    (void)imatrix;
    uint8_t *p = dst;
    int64_t n = nrows * n_per_row;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = kern_fp32_to_fp16(src[i]);
        memcpy(p + 2 * i, &h, 2);
    }
    return (size_t)n * 2;
}

size_t kern_quantize_bf16_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    (void)imatrix;
    uint8_t *p = dst;
    int64_t n = nrows * n_per_row;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = kern_fp32_to_bf16(src[i]);
        memcpy(p + 2 * i, &h, 2);
    }
    return (size_t)n * 2;
}

/* ------------------------------------------------------------------------ */
/* Non-finite counts on raw bits                                              */
/* ------------------------------------------------------------------------ */

/* One loop per width, in fixed-size groups, so that the compiler vectorizes
 * them (conversion checkpoints are scanned whole). */
static uint64_t count_exp16(const uint8_t *src, int64_t n, uint16_t m) {
    uint64_t bad = 0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint16_t h[64];
        unsigned c = 0;
        memcpy(h, src + 2 * i, sizeof h);
        for (int k = 0; k < 64; k++)
            c += (h[k] & m) == m;
        bad += c;
    }
    for (; i < n; i++) {
        uint16_t h;
        memcpy(&h, src + 2 * i, 2);
        bad += (h & m) == m;
    }
    return bad;
}

uint64_t kern_count_nonfinite(int type, const void *src, int64_t n) {
    const uint8_t *p = src;
    uint64_t bad = 0;
    switch (type) {
    case KERN_TYPE_F32:
        for (int64_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, p + 4 * i, 4);
            bad += (u & 0x7f800000u) == 0x7f800000u;
        }
        return bad;
    case KERN_TYPE_F64:
        for (int64_t i = 0; i < n; i++) {
            uint64_t u;
            memcpy(&u, p + 8 * i, 8);
            bad += (u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
        }
        return bad;
    case KERN_TYPE_F16: return count_exp16(p, n, 0x7c00);
    case KERN_TYPE_BF16: return count_exp16(p, n, 0x7f80);
    default: return 0;
    }
}
