/*
 * avx512.c -- AVX-512 (F/BW/VL) dequantizers and fp16/bf16 row conversion.
 *
 * Same contract and structure as avx2.c, sixteen lanes at a time: every
 * output comes from the same float operations in the same order as the
 * reference (a vector multiply then a vector add or subtract, never FMA;
 * -ffp-contract=off keeps the compiler from fusing them), with per-block
 * scale products such as d * sc computed in scalar float code exactly as the
 * reference does. Types missing here keep the AVX2 kernels (dispatch.c
 * layers the ISA rows).
 *
 * Sources may be unaligned views into a mapping: every load is unaligned.
 * Block layouts: ../shared/docs/quant-notes.md section 1.2.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels_internal.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

/* Bodies are instantiated once per store kind by DEQUANT_ENTRY. */
#define ALWAYS_INLINE __attribute__((always_inline))

enum { STORE_PLAIN, STORE_STREAM16, STORE_STREAM64 };

/* As in avx2.c: outputs this large bypass the cache with streaming stores,
 * as wide as dst's alignment allows (stores land on dst + 16k floats). */
#define STREAM_MIN_BYTES ((int64_t)16 << 20)

static inline int store_kind(const float *dst, int64_t n) {
    if (n < STREAM_MIN_BYTES / (int64_t)sizeof(float) || ((uintptr_t)dst & 15) != 0)
        return STORE_PLAIN;
    return ((uintptr_t)dst & 63) == 0 ? STORE_STREAM64 : STORE_STREAM16;
}

/* Store 16 floats at p with the given store kind. */
static inline ALWAYS_INLINE void put16(float *p, __m512 v, int kind) {
    if (kind == STORE_STREAM64) {
        _mm512_stream_ps(p, v);
    } else if (kind == STORE_STREAM16) {
        _mm_stream_ps(p, _mm512_extractf32x4_ps(v, 0));
        _mm_stream_ps(p + 4, _mm512_extractf32x4_ps(v, 1));
        _mm_stream_ps(p + 8, _mm512_extractf32x4_ps(v, 2));
        _mm_stream_ps(p + 12, _mm512_extractf32x4_ps(v, 3));
    } else {
        _mm512_storeu_ps(p, v);
    }
}

#define DEQUANT_ENTRY(name)                                                                        \
    static void dequant_##name##_avx512(const void *src, float *dst, int64_t n) {                  \
        switch (store_kind(dst, n)) {                                                              \
        case STORE_STREAM64:                                                                       \
            name##_body(src, dst, n, STORE_STREAM64);                                              \
            _mm_sfence();                                                                          \
            break;                                                                                 \
        case STORE_STREAM16:                                                                       \
            name##_body(src, dst, n, STORE_STREAM16);                                              \
            _mm_sfence();                                                                          \
            break;                                                                                 \
        default: name##_body(src, dst, n, STORE_PLAIN); break;                                     \
        }                                                                                          \
    }

static inline float load_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h); /* exact; NaNs quiet, as arithmetic would make them */
}

static inline __m128i load16(const uint8_t *p) {
    return _mm_loadu_si128((const __m128i *)p);
}

/* 16 signed / unsigned bytes -> 16 floats (exact). */
static inline __m512 i8_to_ps(__m128i v) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v));
}

static inline __m512 u8_to_ps(__m128i v) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v));
}

static inline __m128i nib_lo(__m128i v) {
    return _mm_and_si128(v, _mm_set1_epi8(0x0F));
}

static inline __m128i nib_hi(__m128i v) {
    return _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F));
}

/* Byte j = 0x10 where bit j of bits is set, else 0 (j < 16). */
static inline __m128i bits_to_0x10(uint32_t bits) {
    return _mm_maskz_mov_epi8((__mmask16)(bits & 0xFFFF), _mm_set1_epi8(0x10));
}

/* Byte j = value where (v[j] & bit) == 0, else 0. */
static inline __m128i where_clear(__m128i v, __m128i bit, __m128i value) {
    return _mm_maskz_mov_epi8(_mm_testn_epi8_mask(v, bit), value);
}

/* ------------------------------------------------------------------------ */
/* Legacy 32-element blocks                                                   */
/* ------------------------------------------------------------------------ */

/* Q4_0: y = (q - 8) * d. */
static inline ALWAYS_INLINE void q4_0_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i eight = _mm_set1_epi8(8);
    for (int64_t i = 0; i < n / 32; i++, b += 18, dst += 32) {
        __m512 d = _mm512_set1_ps(load_half(b));
        __m128i qs = load16(b + 2);
        put16(dst, _mm512_mul_ps(i8_to_ps(_mm_sub_epi8(nib_lo(qs), eight)), d), kind);
        put16(dst + 16, _mm512_mul_ps(i8_to_ps(_mm_sub_epi8(nib_hi(qs), eight)), d), kind);
    }
}
DEQUANT_ENTRY(q4_0)

/* Q4_1: y = q * d + m. */
static inline ALWAYS_INLINE void q4_1_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 20, dst += 32) {
        __m512 d = _mm512_set1_ps(load_half(b)), m = _mm512_set1_ps(load_half(b + 2));
        __m128i qs = load16(b + 4);
        put16(dst, _mm512_add_ps(_mm512_mul_ps(u8_to_ps(nib_lo(qs)), d), m), kind);
        put16(dst + 16, _mm512_add_ps(_mm512_mul_ps(u8_to_ps(nib_hi(qs)), d), m), kind);
    }
}
DEQUANT_ENTRY(q4_1)

/* Q5_0: y = (q - 16) * d, fifth bit of element j = bit j of qh. */
static inline ALWAYS_INLINE void q5_0_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i sixteen = _mm_set1_epi8(16);
    for (int64_t i = 0; i < n / 32; i++, b += 22, dst += 32) {
        __m512 d = _mm512_set1_ps(load_half(b));
        uint32_t qh = kern_get_u32(b + 2);
        __m128i qs = load16(b + 6);
        __m128i lo = _mm_sub_epi8(_mm_or_si128(nib_lo(qs), bits_to_0x10(qh)), sixteen);
        __m128i hi = _mm_sub_epi8(_mm_or_si128(nib_hi(qs), bits_to_0x10(qh >> 16)), sixteen);
        put16(dst, _mm512_mul_ps(i8_to_ps(lo), d), kind);
        put16(dst + 16, _mm512_mul_ps(i8_to_ps(hi), d), kind);
    }
}
DEQUANT_ENTRY(q5_0)

/* Q5_1: y = q * d + m. */
static inline ALWAYS_INLINE void q5_1_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 24, dst += 32) {
        __m512 d = _mm512_set1_ps(load_half(b)), m = _mm512_set1_ps(load_half(b + 2));
        uint32_t qh = kern_get_u32(b + 4);
        __m128i qs = load16(b + 8);
        __m128i lo = _mm_or_si128(nib_lo(qs), bits_to_0x10(qh));
        __m128i hi = _mm_or_si128(nib_hi(qs), bits_to_0x10(qh >> 16));
        put16(dst, _mm512_add_ps(_mm512_mul_ps(u8_to_ps(lo), d), m), kind);
        put16(dst + 16, _mm512_add_ps(_mm512_mul_ps(u8_to_ps(hi), d), m), kind);
    }
}
DEQUANT_ENTRY(q5_1)

/* Q8_0: y = q * d. */
static inline ALWAYS_INLINE void q8_0_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 34, dst += 32) {
        __m512 d = _mm512_set1_ps(load_half(b));
        put16(dst, _mm512_mul_ps(i8_to_ps(load16(b + 2)), d), kind);
        put16(dst + 16, _mm512_mul_ps(i8_to_ps(load16(b + 18)), d), kind);
    }
}
DEQUANT_ENTRY(q8_0)

static const int8_t iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                        1,    13,   25,  38,  53,  69,  89,  113};

/* IQ4_NL: y = d * kvalues[q]. */
static inline ALWAYS_INLINE void iq4_nl_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i lut = _mm_loadu_si128((const __m128i *)iq4nl_values);
    for (int64_t i = 0; i < n / 32; i++, b += 18, dst += 32) {
        __m512 d = _mm512_set1_ps(load_half(b));
        __m128i qs = load16(b + 2);
        put16(dst, _mm512_mul_ps(d, i8_to_ps(_mm_shuffle_epi8(lut, nib_lo(qs)))), kind);
        put16(dst + 16, _mm512_mul_ps(d, i8_to_ps(_mm_shuffle_epi8(lut, nib_hi(qs)))), kind);
    }
}
DEQUANT_ENTRY(iq4_nl)

/* ------------------------------------------------------------------------ */
/* K-quants                                                                   */
/* ------------------------------------------------------------------------ */

/* Q2_K: y = (d * (s & 15)) * q - dmin * (s >> 4), s = scales[i / 16]. */
static inline ALWAYS_INLINE void q2_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i three = _mm_set1_epi8(3);
    for (int64_t i = 0; i < n / 256; i++, b += 84) {
        const float d = load_half(b + 80), dmin = load_half(b + 82);
        const uint8_t *sc = b;
        for (int h = 0; h < 2; h++) {
            __m128i q0 = load16(b + 16 + 32 * h), q1 = load16(b + 32 + 32 * h);
            for (int j = 0; j < 4; j++, sc += 2, dst += 32) {
                __m128i shift = _mm_cvtsi32_si128(2 * j);
                __m128i v0 = _mm_and_si128(_mm_srl_epi16(q0, shift), three);
                __m128i v1 = _mm_and_si128(_mm_srl_epi16(q1, shift), three);
                __m512 dl0 = _mm512_set1_ps(d * (float)(sc[0] & 0xF));
                __m512 ml0 = _mm512_set1_ps(dmin * (float)(sc[0] >> 4));
                __m512 dl1 = _mm512_set1_ps(d * (float)(sc[1] & 0xF));
                __m512 ml1 = _mm512_set1_ps(dmin * (float)(sc[1] >> 4));
                put16(dst, _mm512_sub_ps(_mm512_mul_ps(dl0, u8_to_ps(v0)), ml0), kind);
                put16(dst + 16, _mm512_sub_ps(_mm512_mul_ps(dl1, u8_to_ps(v1)), ml1), kind);
            }
        }
    }
}
DEQUANT_ENTRY(q2_k)

/* The sixteen 6-bit Q3_K scales, minus 32. */
static inline void q3_k_scales(const uint8_t *s, int sc[16]) {
    for (int j = 0; j < 16; j++) {
        int low = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
        int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (low | (high << 4)) - 32;
    }
}

/* Q3_K: y = (d * (sc - 32)) * (q2 - (hbit ? 0 : 4)). */
static inline ALWAYS_INLINE void q3_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i three = _mm_set1_epi8(3), four = _mm_set1_epi8(4);
    for (int64_t i = 0; i < n / 256; i++, b += 110) {
        const float d = load_half(b + 108);
        int sc[16];
        q3_k_scales(b + 96, sc);
        __m128i hm0 = load16(b), hm1 = load16(b + 16);
        int is = 0;
        for (int h = 0; h < 2; h++) {
            __m128i q0 = load16(b + 32 + 32 * h), q1 = load16(b + 48 + 32 * h);
            for (int j = 0; j < 4; j++, dst += 32, is += 2) {
                __m128i shift = _mm_cvtsi32_si128(2 * j);
                __m128i bit = _mm_set1_epi8((char)(1 << (4 * h + j)));
                __m128i v0 = _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(q0, shift), three),
                                          where_clear(hm0, bit, four));
                __m128i v1 = _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(q1, shift), three),
                                          where_clear(hm1, bit, four));
                put16(dst, _mm512_mul_ps(_mm512_set1_ps(d * (float)sc[is]), i8_to_ps(v0)), kind);
                put16(dst + 16, _mm512_mul_ps(_mm512_set1_ps(d * (float)sc[is + 1]), i8_to_ps(v1)),
                      kind);
            }
        }
    }
}
DEQUANT_ENTRY(q3_k)

/* y[0..31] = d1 * q - m1 for 32 unsigned bytes in two halves. */
static inline ALWAYS_INLINE void store32_mul_sub_u8(float *y, __m128i qa, __m128i qb, float d1,
                                                    float m1, int kind) {
    __m512 dv = _mm512_set1_ps(d1), mv = _mm512_set1_ps(m1);
    put16(y, _mm512_sub_ps(_mm512_mul_ps(dv, u8_to_ps(qa)), mv), kind);
    put16(y + 16, _mm512_sub_ps(_mm512_mul_ps(dv, u8_to_ps(qb)), mv), kind);
}

/* Q4_K: y = (d * sc) * q - (dmin * m). */
static inline ALWAYS_INLINE void q4_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 256; i++, b += 144) {
        const float d = load_half(b), dmin = load_half(b + 2);
        const uint8_t *s = b + 4, *q = b + 16;
        for (int p = 0; p < 4; p++, q += 32, dst += 64) {
            int sc, m;
            __m128i qa = load16(q), qb = load16(q + 16);
            kern_scale_min_k4(s, 2 * p, &sc, &m);
            store32_mul_sub_u8(dst, nib_lo(qa), nib_lo(qb), d * (float)sc, dmin * (float)m, kind);
            kern_scale_min_k4(s, 2 * p + 1, &sc, &m);
            store32_mul_sub_u8(dst + 32, nib_hi(qa), nib_hi(qb), d * (float)sc, dmin * (float)m,
                               kind);
        }
    }
}
DEQUANT_ENTRY(q4_k)

/* Q5_K: as Q4_K plus 16 where bit 2p (low nibbles) or 2p+1 (high) of qh[l]
 * is set. */
static inline ALWAYS_INLINE void q5_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 256; i++, b += 176) {
        const float d = load_half(b), dmin = load_half(b + 2);
        const uint8_t *s = b + 4, *q = b + 48;
        __m128i qh0 = load16(b + 16), qh1 = load16(b + 32);
        for (int p = 0; p < 4; p++, q += 32, dst += 64) {
            int sc, m;
            __m128i qa = load16(q), qb = load16(q + 16);
            __m128i u1 = _mm_set1_epi8((char)(1 << (2 * p)));
            __m128i u2 = _mm_set1_epi8((char)(1 << (2 * p + 1)));
            __m128i h1a = _mm_maskz_mov_epi8(_mm_test_epi8_mask(qh0, u1), _mm_set1_epi8(16));
            __m128i h1b = _mm_maskz_mov_epi8(_mm_test_epi8_mask(qh1, u1), _mm_set1_epi8(16));
            __m128i h2a = _mm_maskz_mov_epi8(_mm_test_epi8_mask(qh0, u2), _mm_set1_epi8(16));
            __m128i h2b = _mm_maskz_mov_epi8(_mm_test_epi8_mask(qh1, u2), _mm_set1_epi8(16));
            kern_scale_min_k4(s, 2 * p, &sc, &m);
            store32_mul_sub_u8(dst, _mm_or_si128(nib_lo(qa), h1a), _mm_or_si128(nib_lo(qb), h1b),
                               d * (float)sc, dmin * (float)m, kind);
            kern_scale_min_k4(s, 2 * p + 1, &sc, &m);
            store32_mul_sub_u8(dst + 32, _mm_or_si128(nib_hi(qa), h2a),
                               _mm_or_si128(nib_hi(qb), h2b), d * (float)sc, dmin * (float)m, kind);
        }
    }
}
DEQUANT_ENTRY(q5_k)

/* Q6_K: y = (d * scales[i / 16]) * (q - 32). */
static inline ALWAYS_INLINE void q6_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i three = _mm_set1_epi8(3), m32 = _mm_set1_epi8(32);
    for (int64_t i = 0; i < n / 256; i++, b += 210) {
        const float d = load_half(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; h++, dst += 128, sc += 8) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            __m128i q[4][2]; /* quarter k (elements 32k..32k+31), half */
            for (int half = 0; half < 2; half++) {
                __m128i la = load16(ql + 16 * half), lb = load16(ql + 32 + 16 * half);
                __m128i hb = load16(qh + 16 * half);
                __m128i h0 = _mm_slli_epi16(_mm_and_si128(hb, three), 4);
                __m128i h1 = _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(hb, 2), three), 4);
                __m128i h2 = _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(hb, 4), three), 4);
                __m128i h3 = _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(hb, 6), three), 4);
                q[0][half] = _mm_sub_epi8(_mm_or_si128(nib_lo(la), h0), m32);
                q[1][half] = _mm_sub_epi8(_mm_or_si128(nib_lo(lb), h1), m32);
                q[2][half] = _mm_sub_epi8(_mm_or_si128(nib_hi(la), h2), m32);
                q[3][half] = _mm_sub_epi8(_mm_or_si128(nib_hi(lb), h3), m32);
            }
            /* stores in address order, so streaming stores fill whole lines */
            for (int k = 0; k < 4; k++)
                for (int half = 0; half < 2; half++)
                    put16(dst + 32 * k + 16 * half,
                          _mm512_mul_ps(i8_to_ps(q[k][half]),
                                        _mm512_set1_ps(d * (float)sc[half + 2 * k])),
                          kind);
        }
    }
}
DEQUANT_ENTRY(q6_k)

/* IQ4_XS: y = (d * (ls - 32)) * kvalues[q]. */
static inline ALWAYS_INLINE void iq4_xs_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i lut = _mm_loadu_si128((const __m128i *)iq4nl_values);
    for (int64_t i = 0; i < n / 256; i++, b += 136) {
        const float d = load_half(b);
        const uint16_t sh = kern_get_u16(b + 2);
        for (int ib = 0; ib < 8; ib++, dst += 32) {
            int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4);
            __m512 dl = _mm512_set1_ps(d * (float)(ls - 32));
            __m128i qs = load16(b + 8 + 16 * ib);
            put16(dst, _mm512_mul_ps(dl, i8_to_ps(_mm_shuffle_epi8(lut, nib_lo(qs)))), kind);
            put16(dst + 16, _mm512_mul_ps(dl, i8_to_ps(_mm_shuffle_epi8(lut, nib_hi(qs)))), kind);
        }
    }
}
DEQUANT_ENTRY(iq4_xs)

/* ------------------------------------------------------------------------ */
/* fp16 / bf16                                                                */
/* ------------------------------------------------------------------------ */

/* 16 halves -> 16 floats; NaN lanes rebuilt to keep signalling payloads,
 * as in avx2.c. */
static inline __m512 halves_to_ps(__m256i h) {
    __m512 f = _mm512_cvtph_ps(h);
    __m512i w = _mm512_cvtepu16_epi32(h);
    __m512i man = _mm512_and_si512(w, _mm512_set1_epi32(0x03FF));
    __mmask16 is_nan = _mm512_cmpeq_epi32_mask(_mm512_and_si512(w, _mm512_set1_epi32(0x7C00)),
                                               _mm512_set1_epi32(0x7C00)) &
                       _mm512_test_epi32_mask(man, man);
    __m512i sign = _mm512_slli_epi32(_mm512_and_si512(w, _mm512_set1_epi32(0x8000)), 16);
    __m512i nan = _mm512_or_si512(_mm512_or_si512(sign, _mm512_set1_epi32(0x7F800000)),
                                  _mm512_slli_epi32(man, 13));
    return _mm512_mask_blend_ps(is_nan, f, _mm512_castsi512_ps(nan));
}

/* 16 floats -> 16 halves, round to nearest even, NaN -> 0x7E00 | sign. */
static inline __m256i ps_to_halves(__m512 f) {
    __m256i h = _mm512_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __mmask16 is_nan = _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q);
    __m256i qnan = _mm256_or_si256(_mm256_and_si256(h, _mm256_set1_epi16((short)0x8000)),
                                   _mm256_set1_epi16(0x7E00));
    return _mm256_mask_blend_epi16(is_nan, h, qnan);
}

/* 16 floats (as bits) -> 16 bf16: round to nearest even, NaN -> quiet. */
static inline __m256i ps_to_bf16(__m512i u) {
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i rounded = _mm512_srli_epi32(
        _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), lsb)), 16);
    __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(64));
    __mmask16 is_nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                               _mm512_set1_epi32(0x7F800000));
    return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(is_nan, rounded, quiet));
}

static inline ALWAYS_INLINE void f16_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *p = src;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        put16(dst + i, halves_to_ps(_mm256_loadu_si256((const __m256i *)(p + 2 * i))), kind);
    for (; i < n; i++)
        dst[i] = kern_fp16_to_fp32(kern_get_u16(p + 2 * i));
}
DEQUANT_ENTRY(f16)

static inline ALWAYS_INLINE void bf16_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *p = src;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p + 2 * i)));
        put16(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)), kind);
    }
    for (; i < n; i++)
        dst[i] = kern_bf16_to_fp32(kern_get_u16(p + 2 * i));
}
DEQUANT_ENTRY(bf16)

static void fp16_to_fp32_row_avx512(const uint16_t *src, float *dst, int64_t n) {
    dequant_f16_avx512(src, dst, n);
}

static void bf16_to_fp32_row_avx512(const uint16_t *src, float *dst, int64_t n) {
    dequant_bf16_avx512(src, dst, n);
}

static void fp32_to_fp16_row_avx512(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), ps_to_halves(_mm512_loadu_ps(src + i)));
    for (; i < n; i++)
        dst[i] = kern_fp32_to_fp16(src[i]);
}

static void fp32_to_bf16_row_avx512(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i),
                            ps_to_bf16(_mm512_loadu_si512((const void *)(src + i))));
    for (; i < n; i++)
        dst[i] = kern_fp32_to_bf16(src[i]);
}

/* ------------------------------------------------------------------------ */
/* Table                                                                      */
/* ------------------------------------------------------------------------ */

const kern_isa_table kern_isa_table_avx512 = {
    .to_float =
        {
            [KERN_TYPE_F16] = dequant_f16_avx512,
            [KERN_TYPE_BF16] = dequant_bf16_avx512,
            [KERN_TYPE_Q4_0] = dequant_q4_0_avx512,
            [KERN_TYPE_Q4_1] = dequant_q4_1_avx512,
            [KERN_TYPE_Q5_0] = dequant_q5_0_avx512,
            [KERN_TYPE_Q5_1] = dequant_q5_1_avx512,
            [KERN_TYPE_Q8_0] = dequant_q8_0_avx512,
            [KERN_TYPE_Q2_K] = dequant_q2_k_avx512,
            [KERN_TYPE_Q3_K] = dequant_q3_k_avx512,
            [KERN_TYPE_Q4_K] = dequant_q4_k_avx512,
            [KERN_TYPE_Q5_K] = dequant_q5_k_avx512,
            [KERN_TYPE_Q6_K] = dequant_q6_k_avx512,
            [KERN_TYPE_IQ4_NL] = dequant_iq4_nl_avx512,
            [KERN_TYPE_IQ4_XS] = dequant_iq4_xs_avx512,
        },
    .fp16_to_fp32_row = fp16_to_fp32_row_avx512,
    .fp32_to_fp16_row = fp32_to_fp16_row_avx512,
    .bf16_to_fp32_row = bf16_to_fp32_row_avx512,
    .fp32_to_bf16_row = fp32_to_bf16_row_avx512,
};
