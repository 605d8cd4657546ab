/*
 * neon.c -- AArch64 NEON dequantizers and fp16/bf16 row conversion.
 *
 * Same contract as kernels/x86/avx2.c, four lanes per float vector: each
 * output is produced by the same float operations, in the same order, as
 * the reference (vmulq_f32 then vaddq_f32/vsubq_f32, never a fused FMLA;
 * -ffp-contract=off stops the compiler from fusing them), and per-block
 * scale products such as d * sc are computed in scalar float code exactly
 * as the reference does.
 *
 * Scales are widened with the reference's own kern_get_f16 rather than
 * FCVT: FCVT quiets a signalling NaN, and AArch64 (unlike x86) gives a
 * signalling NaN operand priority over a quiet one, so an early quieting
 * could change which NaN payload reaches the output.
 *
 * Sources may be unaligned views into a mapping: vld1 has no alignment
 * requirement. Block layouts: ../shared/docs/quant-notes.md section 1.2.
 */
#include <arm_neon.h>
#include <string.h>

#include "kernels/kernels_internal.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

/* 16 signed bytes -> 16 floats (exact), in four vectors. */
static inline void i8_to_ps(int8x16_t q, float32x4_t out[4]) {
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
    out[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
    out[1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo)));
    out[2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
    out[3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi)));
}

/* 16 unsigned bytes -> 16 floats (exact). */
static inline void u8_to_ps(uint8x16_t q, float32x4_t out[4]) {
    uint16x8_t lo = vmovl_u8(vget_low_u8(q)), hi = vmovl_u8(vget_high_u8(q));
    out[0] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo)));
    out[1] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo)));
    out[2] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi)));
    out[3] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi)));
}

/* y[0..15] = q * d (signed q). */
static inline void store16_mul(float *y, int8x16_t q, float32x4_t d) {
    float32x4_t v[4];
    i8_to_ps(q, v);
    for (int k = 0; k < 4; k++)
        vst1q_f32(y + 4 * k, vmulq_f32(v[k], d));
}

/* y[0..15] = d * q (signed q), operands in the reference's order. */
static inline void store16_dmul(float *y, int8x16_t q, float32x4_t d) {
    float32x4_t v[4];
    i8_to_ps(q, v);
    for (int k = 0; k < 4; k++)
        vst1q_f32(y + 4 * k, vmulq_f32(d, v[k]));
}

/* y[0..15] = q * d + m (unsigned q, two roundings). */
static inline void store16_mul_add(float *y, uint8x16_t q, float32x4_t d, float32x4_t m) {
    float32x4_t v[4];
    u8_to_ps(q, v);
    for (int k = 0; k < 4; k++)
        vst1q_f32(y + 4 * k, vaddq_f32(vmulq_f32(v[k], d), m));
}

/* y[0..15] = d * q - m (unsigned q, two roundings). */
static inline void store16_dmul_sub(float *y, uint8x16_t q, float32x4_t d, float32x4_t m) {
    float32x4_t v[4];
    u8_to_ps(q, v);
    for (int k = 0; k < 4; k++)
        vst1q_f32(y + 4 * k, vsubq_f32(vmulq_f32(d, v[k]), m));
}

static inline uint8x16_t nib_lo(uint8x16_t v) {
    return vandq_u8(v, vdupq_n_u8(0x0F));
}

static inline uint8x16_t nib_hi(uint8x16_t v) {
    return vshrq_n_u8(v, 4);
}

/* Byte j = 0x10 where bit j of bits is set, else 0 (j < 16). */
static inline uint8x16_t bits_to_0x10(uint32_t bits) {
    static const uint8_t mask_bytes[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                           1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t b = vcombine_u8(vdup_n_u8((uint8_t)bits), vdup_n_u8((uint8_t)(bits >> 8)));
    return vandq_u8(vtstq_u8(b, vld1q_u8(mask_bytes)), vdupq_n_u8(0x10));
}

/* ------------------------------------------------------------------------ */
/* Legacy 32-element blocks                                                   */
/* ------------------------------------------------------------------------ */

/* Q4_0: y = (q - 8) * d. */
static void dequant_q4_0_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t eight = vdupq_n_u8(8);
    for (int64_t i = 0; i < n / 32; i++, b += 18, dst += 32) {
        float32x4_t d = vdupq_n_f32(kern_get_f16(b));
        uint8x16_t qs = vld1q_u8(b + 2);
        store16_mul(dst, vreinterpretq_s8_u8(vsubq_u8(nib_lo(qs), eight)), d);
        store16_mul(dst + 16, vreinterpretq_s8_u8(vsubq_u8(nib_hi(qs), eight)), d);
    }
}

/* Q4_1: y = q * d + m. */
static void dequant_q4_1_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 20, dst += 32) {
        float32x4_t d = vdupq_n_f32(kern_get_f16(b)), m = vdupq_n_f32(kern_get_f16(b + 2));
        uint8x16_t qs = vld1q_u8(b + 4);
        store16_mul_add(dst, nib_lo(qs), d, m);
        store16_mul_add(dst + 16, nib_hi(qs), d, m);
    }
}

/* Q5_0: y = (q - 16) * d, fifth bit of element j = bit j of qh. */
static void dequant_q5_0_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t sixteen = vdupq_n_u8(16);
    for (int64_t i = 0; i < n / 32; i++, b += 22, dst += 32) {
        float32x4_t d = vdupq_n_f32(kern_get_f16(b));
        uint32_t qh = kern_get_u32(b + 2);
        uint8x16_t qs = vld1q_u8(b + 6);
        uint8x16_t lo = vsubq_u8(vorrq_u8(nib_lo(qs), bits_to_0x10(qh)), sixteen);
        uint8x16_t hi = vsubq_u8(vorrq_u8(nib_hi(qs), bits_to_0x10(qh >> 16)), sixteen);
        store16_mul(dst, vreinterpretq_s8_u8(lo), d);
        store16_mul(dst + 16, vreinterpretq_s8_u8(hi), d);
    }
}

/* Q5_1: y = q * d + m. */
static void dequant_q5_1_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 24, dst += 32) {
        float32x4_t d = vdupq_n_f32(kern_get_f16(b)), m = vdupq_n_f32(kern_get_f16(b + 2));
        uint32_t qh = kern_get_u32(b + 4);
        uint8x16_t qs = vld1q_u8(b + 8);
        store16_mul_add(dst, vorrq_u8(nib_lo(qs), bits_to_0x10(qh)), d, m);
        store16_mul_add(dst + 16, vorrq_u8(nib_hi(qs), bits_to_0x10(qh >> 16)), d, m);
    }
}

/* Q8_0: y = q * d. */
static void dequant_q8_0_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 34, dst += 32) {
        float32x4_t d = vdupq_n_f32(kern_get_f16(b));
        store16_mul(dst, vld1q_s8((const int8_t *)(b + 2)), d);
        store16_mul(dst + 16, vld1q_s8((const int8_t *)(b + 18)), d);
    }
}

static const int8_t iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                        1,    13,   25,  38,  53,  69,  89,  113};

/* IQ4_NL: y = d * kvalues[q]. */
static void dequant_iq4_nl_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const int8x16_t lut = vld1q_s8(iq4nl_values);
    for (int64_t i = 0; i < n / 32; i++, b += 18, dst += 32) {
        float32x4_t d = vdupq_n_f32(kern_get_f16(b));
        uint8x16_t qs = vld1q_u8(b + 2);
        store16_dmul(dst, vqtbl1q_s8(lut, nib_lo(qs)), d);
        store16_dmul(dst + 16, vqtbl1q_s8(lut, nib_hi(qs)), d);
    }
}

/* ------------------------------------------------------------------------ */
/* K-quants                                                                   */
/* ------------------------------------------------------------------------ */

/* Q2_K: y = (d * (s & 15)) * q - dmin * (s >> 4), s = scales[i / 16]. */
static void dequant_q2_k_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t three = vdupq_n_u8(3);
    for (int64_t i = 0; i < n / 256; i++, b += 84) {
        const float d = kern_get_f16(b + 80), dmin = kern_get_f16(b + 82);
        const uint8_t *sc = b;
        for (int h = 0; h < 2; h++) {
            uint8x16_t q0 = vld1q_u8(b + 16 + 32 * h), q1 = vld1q_u8(b + 32 + 32 * h);
            for (int j = 0; j < 4; j++, sc += 2, dst += 32) {
                int8x16_t shift = vdupq_n_s8((int8_t)(-2 * j));
                uint8x16_t v0 = vandq_u8(vshlq_u8(q0, shift), three);
                uint8x16_t v1 = vandq_u8(vshlq_u8(q1, shift), three);
                store16_dmul_sub(dst, v0, vdupq_n_f32(d * (float)(sc[0] & 0xF)),
                                 vdupq_n_f32(dmin * (float)(sc[0] >> 4)));
                store16_dmul_sub(dst + 16, v1, vdupq_n_f32(d * (float)(sc[1] & 0xF)),
                                 vdupq_n_f32(dmin * (float)(sc[1] >> 4)));
            }
        }
    }
}

/* The sixteen 6-bit Q3_K scales, minus 32. */
static inline void q3_k_scales(const uint8_t *s, int sc[16]) {
    for (int j = 0; j < 16; j++) {
        int low = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
        int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (low | (high << 4)) - 32;
    }
}

/* Q3_K: y = (d * (sc - 32)) * (q2 - (hbit ? 0 : 4)). */
static void dequant_q3_k_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t three = vdupq_n_u8(3), four = vdupq_n_u8(4);
    for (int64_t i = 0; i < n / 256; i++, b += 110) {
        const float d = kern_get_f16(b + 108);
        int sc[16];
        q3_k_scales(b + 96, sc);
        uint8x16_t hm0 = vld1q_u8(b), hm1 = vld1q_u8(b + 16);
        int is = 0;
        for (int h = 0; h < 2; h++) {
            uint8x16_t q0 = vld1q_u8(b + 32 + 32 * h), q1 = vld1q_u8(b + 48 + 32 * h);
            for (int j = 0; j < 4; j++, dst += 32, is += 2) {
                int8x16_t shift = vdupq_n_s8((int8_t)(-2 * j));
                uint8x16_t bit = vdupq_n_u8((uint8_t)(1 << (4 * h + j)));
                /* 4 where the high bit is clear */
                uint8x16_t sub0 = vbicq_u8(four, vtstq_u8(hm0, bit));
                uint8x16_t sub1 = vbicq_u8(four, vtstq_u8(hm1, bit));
                uint8x16_t v0 = vsubq_u8(vandq_u8(vshlq_u8(q0, shift), three), sub0);
                uint8x16_t v1 = vsubq_u8(vandq_u8(vshlq_u8(q1, shift), three), sub1);
                store16_dmul(dst, vreinterpretq_s8_u8(v0), vdupq_n_f32(d * (float)sc[is]));
                store16_dmul(dst + 16, vreinterpretq_s8_u8(v1), vdupq_n_f32(d * (float)sc[is + 1]));
            }
        }
    }
}

/* Q4_K: y = (d * sc) * q - (dmin * m). */
static void dequant_q4_k_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 256; i++, b += 144) {
        const float d = kern_get_f16(b), dmin = kern_get_f16(b + 2);
        const uint8_t *s = b + 4, *q = b + 16;
        for (int p = 0; p < 4; p++, q += 32, dst += 64) {
            int sc, m;
            uint8x16_t qa = vld1q_u8(q), qb = vld1q_u8(q + 16);
            kern_scale_min_k4(s, 2 * p, &sc, &m);
            float32x4_t d1 = vdupq_n_f32(d * (float)sc), m1 = vdupq_n_f32(dmin * (float)m);
            store16_dmul_sub(dst, nib_lo(qa), d1, m1);
            store16_dmul_sub(dst + 16, nib_lo(qb), d1, m1);
            kern_scale_min_k4(s, 2 * p + 1, &sc, &m);
            float32x4_t d2 = vdupq_n_f32(d * (float)sc), m2 = vdupq_n_f32(dmin * (float)m);
            store16_dmul_sub(dst + 32, nib_hi(qa), d2, m2);
            store16_dmul_sub(dst + 48, nib_hi(qb), d2, m2);
        }
    }
}

/* Q5_K: as Q4_K plus 16 where bit 2p (low nibbles) or 2p+1 (high) of qh[l]
 * is set. */
static void dequant_q5_k_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t sixteen = vdupq_n_u8(16);
    for (int64_t i = 0; i < n / 256; i++, b += 176) {
        const float d = kern_get_f16(b), dmin = kern_get_f16(b + 2);
        const uint8_t *s = b + 4, *q = b + 48;
        uint8x16_t qh0 = vld1q_u8(b + 16), qh1 = vld1q_u8(b + 32);
        for (int p = 0; p < 4; p++, q += 32, dst += 64) {
            int sc, m;
            uint8x16_t qa = vld1q_u8(q), qb = vld1q_u8(q + 16);
            uint8x16_t u1 = vdupq_n_u8((uint8_t)(1 << (2 * p)));
            uint8x16_t u2 = vdupq_n_u8((uint8_t)(1 << (2 * p + 1)));
            uint8x16_t h1a = vandq_u8(vtstq_u8(qh0, u1), sixteen);
            uint8x16_t h1b = vandq_u8(vtstq_u8(qh1, u1), sixteen);
            uint8x16_t h2a = vandq_u8(vtstq_u8(qh0, u2), sixteen);
            uint8x16_t h2b = vandq_u8(vtstq_u8(qh1, u2), sixteen);
            kern_scale_min_k4(s, 2 * p, &sc, &m);
            float32x4_t d1 = vdupq_n_f32(d * (float)sc), m1 = vdupq_n_f32(dmin * (float)m);
            store16_dmul_sub(dst, vorrq_u8(nib_lo(qa), h1a), d1, m1);
            store16_dmul_sub(dst + 16, vorrq_u8(nib_lo(qb), h1b), d1, m1);
            kern_scale_min_k4(s, 2 * p + 1, &sc, &m);
            float32x4_t d2 = vdupq_n_f32(d * (float)sc), m2 = vdupq_n_f32(dmin * (float)m);
            store16_dmul_sub(dst + 32, vorrq_u8(nib_hi(qa), h2a), d2, m2);
            store16_dmul_sub(dst + 48, vorrq_u8(nib_hi(qb), h2b), d2, m2);
        }
    }
}

/* Q6_K: y = (d * scales[i / 16]) * (q - 32). */
static void dequant_q6_k_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t three = vdupq_n_u8(3), m32 = vdupq_n_u8(32);
    for (int64_t i = 0; i < n / 256; i++, b += 210) {
        const float d = kern_get_f16(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; h++, dst += 128, sc += 8) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            for (int half = 0; half < 2; half++) {
                uint8x16_t la = vld1q_u8(ql + 16 * half), lb = vld1q_u8(ql + 32 + 16 * half);
                uint8x16_t hb = vld1q_u8(qh + 16 * half);
                uint8x16_t h0 = vshlq_n_u8(vandq_u8(hb, three), 4);
                uint8x16_t h1 = vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), three), 4);
                uint8x16_t h2 = vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), three), 4);
                uint8x16_t h3 = vshlq_n_u8(vshrq_n_u8(hb, 6), 4);
                int8x16_t q1 = vreinterpretq_s8_u8(vsubq_u8(vorrq_u8(nib_lo(la), h0), m32));
                int8x16_t q2 = vreinterpretq_s8_u8(vsubq_u8(vorrq_u8(nib_lo(lb), h1), m32));
                int8x16_t q3 = vreinterpretq_s8_u8(vsubq_u8(vorrq_u8(nib_hi(la), h2), m32));
                int8x16_t q4 = vreinterpretq_s8_u8(vsubq_u8(vorrq_u8(nib_hi(lb), h3), m32));
                float *y = dst + 16 * half;
                store16_mul(y, q1, vdupq_n_f32(d * (float)sc[half]));
                store16_mul(y + 32, q2, vdupq_n_f32(d * (float)sc[half + 2]));
                store16_mul(y + 64, q3, vdupq_n_f32(d * (float)sc[half + 4]));
                store16_mul(y + 96, q4, vdupq_n_f32(d * (float)sc[half + 6]));
            }
        }
    }
}

/* IQ4_XS: y = (d * (ls - 32)) * kvalues[q]. */
static void dequant_iq4_xs_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const int8x16_t lut = vld1q_s8(iq4nl_values);
    for (int64_t i = 0; i < n / 256; i++, b += 136) {
        const float d = kern_get_f16(b);
        const uint16_t sh = kern_get_u16(b + 2);
        for (int ib = 0; ib < 8; ib++, dst += 32) {
            int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4);
            float32x4_t dl = vdupq_n_f32(d * (float)(ls - 32));
            uint8x16_t qs = vld1q_u8(b + 8 + 16 * ib);
            store16_dmul(dst, vqtbl1q_s8(lut, nib_lo(qs)), dl);
            store16_dmul(dst + 16, vqtbl1q_s8(lut, nib_hi(qs)), dl);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* fp16 / bf16                                                                */
/* ------------------------------------------------------------------------ */

/* 4 halves -> 4 floats. FCVT is exact but quiets signalling NaNs; NaN lanes
 * are rebuilt as sign | 0x7F800000 | man << 13, as the reference does. */
static inline float32x4_t halves_to_ps(uint16x4_t h) {
    float32x4_t f = vcvt_f32_f16(vreinterpret_f16_u16(h));
    uint32x4_t w = vmovl_u16(h);
    uint32x4_t man = vandq_u32(w, vdupq_n_u32(0x03FF));
    uint32x4_t inf_exp = vceqq_u32(vandq_u32(w, vdupq_n_u32(0x7C00)), vdupq_n_u32(0x7C00));
    uint32x4_t is_nan = vandq_u32(inf_exp, vtstq_u32(man, man));
    uint32x4_t nan = vorrq_u32(
        vorrq_u32(vshlq_n_u32(vandq_u32(w, vdupq_n_u32(0x8000)), 16), vdupq_n_u32(0x7F800000)),
        vshlq_n_u32(man, 13));
    return vbslq_f32(is_nan, vreinterpretq_f32_u32(nan), f);
}

/* 4 floats -> 4 halves, round to nearest even (FPCR default), every NaN
 * -> 0x7E00 with its sign as the reference does. */
static inline uint16x4_t ps_to_halves(float32x4_t f) {
    uint16x4_t h = vreinterpret_u16_f16(vcvt_f16_f32(f));
    uint16x4_t is_nan = vmovn_u32(vmvnq_u32(vceqq_f32(f, f)));
    uint16x4_t qnan = vorr_u16(vand_u16(h, vdup_n_u16(0x8000)), vdup_n_u16(0x7E00));
    return vbsl_u16(is_nan, qnan, h);
}

/* 4 floats (as bits) -> 4 bf16: round to nearest even, NaN -> quiet. */
static inline uint16x4_t ps_to_bf16(uint32x4_t u) {
    uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
    uint32x4_t rounded = vshrq_n_u32(vaddq_u32(u, vaddq_u32(vdupq_n_u32(0x7FFF), lsb)), 16);
    uint32x4_t quiet = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(64));
    uint32x4_t is_nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
    return vmovn_u32(vbslq_u32(is_nan, quiet, rounded));
}

static void dequant_f16_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, halves_to_ps(vreinterpret_u16_u8(vld1_u8(p + 2 * i))));
    for (; i < n; i++)
        dst[i] = kern_fp16_to_fp32(kern_get_u16(p + 2 * i));
}

static void dequant_bf16_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32x4_t w = vmovl_u16(vreinterpret_u16_u8(vld1_u8(p + 2 * i)));
        vst1q_f32(dst + i, vreinterpretq_f32_u32(vshlq_n_u32(w, 16)));
    }
    for (; i < n; i++)
        dst[i] = kern_bf16_to_fp32(kern_get_u16(p + 2 * i));
}

static void fp16_to_fp32_row_neon(const uint16_t *src, float *dst, int64_t n) {
    dequant_f16_neon(src, dst, n);
}

static void bf16_to_fp32_row_neon(const uint16_t *src, float *dst, int64_t n) {
    dequant_bf16_neon(src, dst, n);
}

static void fp32_to_fp16_row_neon(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1_u16(dst + i, ps_to_halves(vld1q_f32(src + i)));
    for (; i < n; i++)
        dst[i] = kern_fp32_to_fp16(src[i]);
}

static void fp32_to_bf16_row_neon(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1_u16(dst + i, ps_to_bf16(vreinterpretq_u32_f32(vld1q_f32(src + i))));
    for (; i < n; i++)
        dst[i] = kern_fp32_to_bf16(src[i]);
}

/* ------------------------------------------------------------------------ */
/* Table                                                                      */
/* ------------------------------------------------------------------------ */

const kern_isa_table kern_isa_table_neon = {
    .to_float =
        {
            [KERN_TYPE_F16] = dequant_f16_neon,
            [KERN_TYPE_BF16] = dequant_bf16_neon,
            [KERN_TYPE_Q4_0] = dequant_q4_0_neon,
            [KERN_TYPE_Q4_1] = dequant_q4_1_neon,
            [KERN_TYPE_Q5_0] = dequant_q5_0_neon,
            [KERN_TYPE_Q5_1] = dequant_q5_1_neon,
            [KERN_TYPE_Q8_0] = dequant_q8_0_neon,
            [KERN_TYPE_Q2_K] = dequant_q2_k_neon,
            [KERN_TYPE_Q3_K] = dequant_q3_k_neon,
            [KERN_TYPE_Q4_K] = dequant_q4_k_neon,
            [KERN_TYPE_Q5_K] = dequant_q5_k_neon,
            [KERN_TYPE_Q6_K] = dequant_q6_k_neon,
            [KERN_TYPE_IQ4_NL] = dequant_iq4_nl_neon,
            [KERN_TYPE_IQ4_XS] = dequant_iq4_xs_neon,
        },
    .fp16_to_fp32_row = fp16_to_fp32_row_neon,
    .fp32_to_fp16_row = fp32_to_fp16_row_neon,
    .bf16_to_fp32_row = bf16_to_fp32_row_neon,
    .fp32_to_bf16_row = fp32_to_bf16_row_neon,
};
