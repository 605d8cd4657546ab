/*
 * avx2.c -- AVX2 + F16C dequantizers and fp16/bf16 row conversion.
 *
 * Built with -mavx2 -mf16c -mfma (Makefile) and, like every kernel file,
 * -ffp-contract=off: each output is produced by the same float operations,
 * in the same order and association, as the reference in kernels/legacy.c,
 * kernels/kquants.c, kernels/iquants.c and kernels/float.c, only eight lanes
 * at a time. Integers become floats exactly (they are small), and a vector
 * multiply followed by a vector add rounds twice, as the scalar code does;
 * no FMA intrinsic is used anywhere. Per-block scale products such as
 * d * sc are computed with scalar float code, exactly as the reference does.
 * One thing no C code pins down: when both operands of an addition are NaN
 * (a Q4_1 block with NaN d and m), which payload survives depends on how the
 * compiler ordered the operands, for the reference too (gcc and clang
 * differ), so the tests use finite scales.
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

static inline float load_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    /* F16C widening is exact; NaNs come out quiet, which changes nothing
     * downstream because x86 arithmetic quiets a NaN operand anyway. */
    return _cvtsh_ss(h);
}

/* The kernel bodies below are instantiated three times by DEQUANT_ENTRY,
 * one per store kind, so the choice is resolved at compile time. */
#define ALWAYS_INLINE __attribute__((always_inline))

enum { STORE_PLAIN, STORE_STREAM16, STORE_STREAM32 };

/* Outputs of at least this many bytes go out with non-temporal stores: they
 * cannot stay in cache for the caller anyway, and streaming them avoids
 * reading every destination line before writing it (about half the memory
 * traffic of a dequantization). Smaller outputs, e.g. the row-sized scratch
 * buffers of the programs, keep ordinary stores so they stay in cache.
 * Every store lands on dst + a multiple of 8 floats, so dst's alignment
 * decides which streaming store is legal for the whole row. */
#define STREAM_MIN_BYTES ((int64_t)16 << 20)

static inline int store_kind(const float *dst, int64_t n) {
    if (n < STREAM_MIN_BYTES / (int64_t)sizeof(float) || ((uintptr_t)dst & 15) != 0)
        return STORE_PLAIN;
    return ((uintptr_t)dst & 31) == 0 ? STORE_STREAM32 : STORE_STREAM16;
}

/* Store 8 floats at p with the given store kind. */
static inline ALWAYS_INLINE void put8(float *p, __m256 v, int kind) {
    if (kind == STORE_STREAM32) {
        _mm256_stream_ps(p, v);
    } else if (kind == STORE_STREAM16) {
        _mm_stream_ps(p, _mm256_castps256_ps128(v));
        _mm_stream_ps(p + 4, _mm256_extractf128_ps(v, 1));
    } else {
        _mm256_storeu_ps(p, v);
    }
}

/* Table entry dequant_<name>_avx2 around <name>_body. Non-temporal stores
 * are weakly ordered: the fence makes them visible before returning. */
#define DEQUANT_ENTRY(name)                                                                        \
    static void dequant_##name##_avx2(const void *src, float *dst, int64_t n) {                    \
        switch (store_kind(dst, n)) {                                                              \
        case STORE_STREAM32:                                                                       \
            name##_body(src, dst, n, STORE_STREAM32);                                              \
            _mm_sfence();                                                                          \
            break;                                                                                 \
        case STORE_STREAM16:                                                                       \
            name##_body(src, dst, n, STORE_STREAM16);                                              \
            _mm_sfence();                                                                          \
            break;                                                                                 \
        default: name##_body(src, dst, n, STORE_PLAIN); break;                                     \
        }                                                                                          \
    }

/* 8 signed bytes -> 8 floats (exact). */
static inline __m256 i8x8_to_ps(__m128i v) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
}

/* 8 unsigned bytes -> 8 floats (exact). */
static inline __m256 u8x8_to_ps(__m128i v) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
}

/* Low and high nibbles of 16 bytes, each as 16 bytes in 0..15. */
static inline __m128i nib_lo(__m128i v) {
    return _mm_and_si128(v, _mm_set1_epi8(0x0F));
}

static inline __m128i nib_hi(__m128i v) {
    return _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F));
}

/* y[0..15] = q * d for 16 signed bytes. */
static inline ALWAYS_INLINE void store16_mul(float *y, __m128i q, __m256 d, int kind) {
    put8(y, _mm256_mul_ps(i8x8_to_ps(q), d), kind);
    put8(y + 8, _mm256_mul_ps(i8x8_to_ps(_mm_srli_si128(q, 8)), d), kind);
}

/* y[0..15] = q * d + m for 16 unsigned bytes (two roundings). */
static inline ALWAYS_INLINE void store16_mul_add(float *y, __m128i q, __m256 d, __m256 m,
                                                 int kind) {
    put8(y, _mm256_add_ps(_mm256_mul_ps(u8x8_to_ps(q), d), m), kind);
    put8(y + 8, _mm256_add_ps(_mm256_mul_ps(u8x8_to_ps(_mm_srli_si128(q, 8)), d), m), kind);
}

/* y[0..15] = d * q - m for 16 signed bytes (two roundings). */
static inline ALWAYS_INLINE void store16_mul_sub(float *y, __m128i q, __m256 d, __m256 m,
                                                 int kind) {
    put8(y, _mm256_sub_ps(_mm256_mul_ps(d, i8x8_to_ps(q)), m), kind);
    put8(y + 8, _mm256_sub_ps(_mm256_mul_ps(d, i8x8_to_ps(_mm_srli_si128(q, 8))), m), kind);
}

/* Bits 0..15 of bits, each spread to one byte as 0x10 (set) or 0 (clear). */
static inline __m128i bits_to_0x10(uint32_t bits) {
    const __m128i spread = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m128i mask = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    __m128i b = _mm_shuffle_epi8(_mm_cvtsi32_si128((int)bits), spread);
    __m128i set = _mm_cmpeq_epi8(_mm_and_si128(b, mask), mask);
    return _mm_and_si128(set, _mm_set1_epi8(0x10));
}

/* ------------------------------------------------------------------------ */
/* Legacy 32-element blocks                                                   */
/* ------------------------------------------------------------------------ */

/* Q4_0 (18 bytes: d, qs[16]): y = (q - 8) * d. */
static inline ALWAYS_INLINE void q4_0_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i eight = _mm_set1_epi8(8);
    for (int64_t i = 0; i < n / 32; i++, b += 18, dst += 32) {
        __m256 d = _mm256_set1_ps(load_half(b));
        __m128i qs = _mm_loadu_si128((const __m128i *)(b + 2));
        store16_mul(dst, _mm_sub_epi8(nib_lo(qs), eight), d, kind);
        store16_mul(dst + 16, _mm_sub_epi8(nib_hi(qs), eight), d, kind);
    }
}
DEQUANT_ENTRY(q4_0)

/* Q4_1 (20 bytes: d, m, qs[16]): y = q * d + m. */
static inline ALWAYS_INLINE void q4_1_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 20, dst += 32) {
        __m256 d = _mm256_set1_ps(load_half(b));
        __m256 m = _mm256_set1_ps(load_half(b + 2));
        __m128i qs = _mm_loadu_si128((const __m128i *)(b + 4));
        store16_mul_add(dst, nib_lo(qs), d, m, kind);
        store16_mul_add(dst + 16, nib_hi(qs), d, m, kind);
    }
}
DEQUANT_ENTRY(q4_1)

/* Q5_0 (22 bytes: d, qh u32, qs[16]): y = (q - 16) * d, bit j of qh is
 * the fifth bit of element j. */
static inline ALWAYS_INLINE void q5_0_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i sixteen = _mm_set1_epi8(16);
    for (int64_t i = 0; i < n / 32; i++, b += 22, dst += 32) {
        __m256 d = _mm256_set1_ps(load_half(b));
        uint32_t qh = kern_get_u32(b + 2);
        __m128i qs = _mm_loadu_si128((const __m128i *)(b + 6));
        __m128i lo = _mm_or_si128(nib_lo(qs), bits_to_0x10(qh));
        __m128i hi = _mm_or_si128(nib_hi(qs), bits_to_0x10(qh >> 16));
        store16_mul(dst, _mm_sub_epi8(lo, sixteen), d, kind);
        store16_mul(dst + 16, _mm_sub_epi8(hi, sixteen), d, kind);
    }
}
DEQUANT_ENTRY(q5_0)

/* Q5_1 (24 bytes: d, m, qh u32, qs[16]): y = q * d + m. */
static inline ALWAYS_INLINE void q5_1_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 24, dst += 32) {
        __m256 d = _mm256_set1_ps(load_half(b));
        __m256 m = _mm256_set1_ps(load_half(b + 2));
        uint32_t qh = kern_get_u32(b + 4);
        __m128i qs = _mm_loadu_si128((const __m128i *)(b + 8));
        store16_mul_add(dst, _mm_or_si128(nib_lo(qs), bits_to_0x10(qh)), d, m, kind);
        store16_mul_add(dst + 16, _mm_or_si128(nib_hi(qs), bits_to_0x10(qh >> 16)), d, m, kind);
    }
}
DEQUANT_ENTRY(q5_1)

/* Q8_0 (34 bytes: d, int8 qs[32]): y = q * d. */
static inline ALWAYS_INLINE void q8_0_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 34, dst += 32) {
        __m256 d = _mm256_set1_ps(load_half(b));
        store16_mul(dst, _mm_loadu_si128((const __m128i *)(b + 2)), d, kind);
        store16_mul(dst + 16, _mm_loadu_si128((const __m128i *)(b + 18)), d, kind);
    }
}
DEQUANT_ENTRY(q8_0)

/* IQ4_NL (18 bytes: d, qs[16]): y = d * kvalues[q]. */
static const int8_t iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                        1,    13,   25,  38,  53,  69,  89,  113};

static inline ALWAYS_INLINE void store16_lut_mul(float *y, __m128i idx, __m128i lut, __m256 d,
                                                 int kind) {
    __m128i v = _mm_shuffle_epi8(lut, idx);
    put8(y, _mm256_mul_ps(d, i8x8_to_ps(v)), kind);
    put8(y + 8, _mm256_mul_ps(d, i8x8_to_ps(_mm_srli_si128(v, 8))), kind);
}

static inline ALWAYS_INLINE void iq4_nl_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i lut = _mm_loadu_si128((const __m128i *)iq4nl_values);
    for (int64_t i = 0; i < n / 32; i++, b += 18, dst += 32) {
        __m256 d = _mm256_set1_ps(load_half(b));
        __m128i qs = _mm_loadu_si128((const __m128i *)(b + 2));
        store16_lut_mul(dst, nib_lo(qs), lut, d, kind);
        store16_lut_mul(dst + 16, nib_hi(qs), lut, d, kind);
    }
}
DEQUANT_ENTRY(iq4_nl)

/* ------------------------------------------------------------------------ */
/* K-quants (256-element super-blocks)                                        */
/* ------------------------------------------------------------------------ */

/* Q2_K (84 bytes: scales[16], qs[64], d, dmin). Element 128h + 32j + l
 * (l < 32) is (qs[32h + l] >> 2j) & 3; scale byte s = scales[i / 16];
 * y = (d * (s & 15)) * q - dmin * (s >> 4). */
static inline ALWAYS_INLINE void q2_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i three = _mm_set1_epi8(3);
    for (int64_t i = 0; i < n / 256; i++, b += 84) {
        const float d = load_half(b + 80), dmin = load_half(b + 82);
        const uint8_t *sc = b;
        for (int h = 0; h < 2; h++) {
            __m128i q0 = _mm_loadu_si128((const __m128i *)(b + 16 + 32 * h));
            __m128i q1 = _mm_loadu_si128((const __m128i *)(b + 16 + 32 * h + 16));
            for (int j = 0; j < 4; j++, sc += 2, dst += 32) {
                __m128i shift = _mm_cvtsi32_si128(2 * j);
                __m128i v0 = _mm_and_si128(_mm_srl_epi16(q0, shift), three);
                __m128i v1 = _mm_and_si128(_mm_srl_epi16(q1, shift), three);
                store16_mul_sub(dst, v0, _mm256_set1_ps(d * (float)(sc[0] & 0xF)),
                                _mm256_set1_ps(dmin * (float)(sc[0] >> 4)), kind);
                store16_mul_sub(dst + 16, v1, _mm256_set1_ps(d * (float)(sc[1] & 0xF)),
                                _mm256_set1_ps(dmin * (float)(sc[1] >> 4)), kind);
            }
        }
    }
}
DEQUANT_ENTRY(q2_k)

/* The sixteen 6-bit Q3_K scales, minus 32 (quant-notes 1.2). */
static inline void q3_k_scales(const uint8_t *s, int sc[16]) {
    for (int j = 0; j < 16; j++) {
        int low = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
        int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (low | (high << 4)) - 32;
    }
}

/* Q3_K (110 bytes: hmask[32], qs[64], scales[12], d). Low bits as Q2_K;
 * element i loses 4 when bit i/32 of hmask[i % 32] is clear;
 * y = (d * (sc - 32)) * q. */
static inline ALWAYS_INLINE void q3_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i three = _mm_set1_epi8(3), four = _mm_set1_epi8(4);
    const __m128i zero = _mm_setzero_si128();
    for (int64_t i = 0; i < n / 256; i++, b += 110) {
        const float d = load_half(b + 108);
        int sc[16];
        q3_k_scales(b + 96, sc);
        __m128i hm0 = _mm_loadu_si128((const __m128i *)b);
        __m128i hm1 = _mm_loadu_si128((const __m128i *)(b + 16));
        int is = 0;
        for (int h = 0; h < 2; h++) {
            __m128i q0 = _mm_loadu_si128((const __m128i *)(b + 32 + 32 * h));
            __m128i q1 = _mm_loadu_si128((const __m128i *)(b + 32 + 32 * h + 16));
            for (int j = 0; j < 4; j++, dst += 32, is += 2) {
                __m128i shift = _mm_cvtsi32_si128(2 * j);
                __m128i bit = _mm_set1_epi8((char)(1 << (4 * h + j)));
                /* 4 where the high bit is clear, else 0 */
                __m128i sub0 = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(hm0, bit), zero), four);
                __m128i sub1 = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(hm1, bit), zero), four);
                __m128i v0 = _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(q0, shift), three), sub0);
                __m128i v1 = _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(q1, shift), three), sub1);
                __m256 d0 = _mm256_set1_ps(d * (float)sc[is]);
                __m256 d1 = _mm256_set1_ps(d * (float)sc[is + 1]);
                put8(dst, _mm256_mul_ps(d0, i8x8_to_ps(v0)), kind);
                put8(dst + 8, _mm256_mul_ps(d0, i8x8_to_ps(_mm_srli_si128(v0, 8))), kind);
                put8(dst + 16, _mm256_mul_ps(d1, i8x8_to_ps(v1)), kind);
                put8(dst + 24, _mm256_mul_ps(d1, i8x8_to_ps(_mm_srli_si128(v1, 8))), kind);
            }
        }
    }
}
DEQUANT_ENTRY(q3_k)

/* y[0..31] = d1 * q - m1 for 32 unsigned bytes in two halves. */
static inline ALWAYS_INLINE void store32_mul_sub_u8(float *y, __m128i qa, __m128i qb, float d1,
                                                    float m1, int kind) {
    __m256 dv = _mm256_set1_ps(d1), mv = _mm256_set1_ps(m1);
    put8(y, _mm256_sub_ps(_mm256_mul_ps(dv, u8x8_to_ps(qa)), mv), kind);
    put8(y + 8, _mm256_sub_ps(_mm256_mul_ps(dv, u8x8_to_ps(_mm_srli_si128(qa, 8))), mv), kind);
    put8(y + 16, _mm256_sub_ps(_mm256_mul_ps(dv, u8x8_to_ps(qb)), mv), kind);
    put8(y + 24, _mm256_sub_ps(_mm256_mul_ps(dv, u8x8_to_ps(_mm_srli_si128(qb, 8))), mv), kind);
}

/* Q4_K (144 bytes: d, dmin, scales[12], qs[128]). Sub-block pair p: low
 * nibbles of qs[32p..] are elements 64p.., high nibbles 64p+32..;
 * y = (d * sc) * q - (dmin * m). */
static inline ALWAYS_INLINE void q4_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 256; i++, b += 144) {
        const float d = load_half(b), dmin = load_half(b + 2);
        const uint8_t *s = b + 4, *q = b + 16;
        for (int p = 0; p < 4; p++, q += 32, dst += 64) {
            int sc, m;
            __m128i qa = _mm_loadu_si128((const __m128i *)q);
            __m128i qb = _mm_loadu_si128((const __m128i *)(q + 16));
            kern_scale_min_k4(s, 2 * p, &sc, &m);
            store32_mul_sub_u8(dst, nib_lo(qa), nib_lo(qb), d * (float)sc, dmin * (float)m, kind);
            kern_scale_min_k4(s, 2 * p + 1, &sc, &m);
            store32_mul_sub_u8(dst + 32, nib_hi(qa), nib_hi(qb), d * (float)sc, dmin * (float)m,
                               kind);
        }
    }
}
DEQUANT_ENTRY(q4_k)

/* Q5_K (176 bytes: d, dmin, scales[12], qh[32], qs[128]). As Q4_K, plus
 * 16 when bit 2p (low nibbles) or 2p+1 (high nibbles) of qh[l] is set. */
static inline ALWAYS_INLINE void q5_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i zero = _mm_setzero_si128(), sixteen = _mm_set1_epi8(16);
    for (int64_t i = 0; i < n / 256; i++, b += 176) {
        const float d = load_half(b), dmin = load_half(b + 2);
        const uint8_t *s = b + 4, *q = b + 48;
        __m128i qh0 = _mm_loadu_si128((const __m128i *)(b + 16));
        __m128i qh1 = _mm_loadu_si128((const __m128i *)(b + 32));
        for (int p = 0; p < 4; p++, q += 32, dst += 64) {
            int sc, m;
            __m128i qa = _mm_loadu_si128((const __m128i *)q);
            __m128i qb = _mm_loadu_si128((const __m128i *)(q + 16));
            __m128i u1 = _mm_set1_epi8((char)(1 << (2 * p)));
            __m128i u2 = _mm_set1_epi8((char)(1 << (2 * p + 1)));
            /* 16 where the bit is set: andnot of the "clear" mask */
            __m128i h1a = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_and_si128(qh0, u1), zero), sixteen);
            __m128i h1b = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_and_si128(qh1, u1), zero), sixteen);
            __m128i h2a = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_and_si128(qh0, u2), zero), sixteen);
            __m128i h2b = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_and_si128(qh1, u2), zero), sixteen);
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

/* Q6_K (210 bytes: ql[128], qh[64], int8 scales[16], d). In half h, for
 * l < 32: element l takes low(ql[l]) and qh bits 0-1, l+32 low(ql[l+32])
 * and bits 2-3, l+64 high(ql[l]) and bits 4-5, l+96 high(ql[l+32]) and
 * bits 6-7; y = (d * scales[i / 16]) * (q - 32). */
static inline ALWAYS_INLINE void q6_k_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i three = _mm_set1_epi8(3), m32 = _mm_set1_epi8(32);
    for (int64_t i = 0; i < n / 256; i++, b += 210) {
        const float d = load_half(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; h++, dst += 128, sc += 8) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            __m128i q[4][2];                       /* quarter k (elements 32k..32k+31), half */
            for (int half = 0; half < 2; half++) { /* l in [16 half, 16 half + 16) */
                __m128i la = _mm_loadu_si128((const __m128i *)(ql + 16 * half));
                __m128i lb = _mm_loadu_si128((const __m128i *)(ql + 32 + 16 * half));
                __m128i hb = _mm_loadu_si128((const __m128i *)(qh + 16 * half));
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
                    store16_mul(dst + 32 * k + 16 * half, q[k][half],
                                _mm256_set1_ps(d * (float)sc[half + 2 * k]), kind);
        }
    }
}
DEQUANT_ENTRY(q6_k)

/* IQ4_XS (136 bytes: d, scales_h u16, scales_l[4], qs[128]). 32-block ib
 * has ls = nibble(ib % 2) of scales_l[ib / 2] | ((scales_h >> 2ib) & 3) << 4;
 * y = (d * (ls - 32)) * kvalues[q]. */
static inline ALWAYS_INLINE void iq4_xs_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *b = src;
    const __m128i lut = _mm_loadu_si128((const __m128i *)iq4nl_values);
    for (int64_t i = 0; i < n / 256; i++, b += 136) {
        const float d = load_half(b);
        const uint16_t sh = kern_get_u16(b + 2);
        for (int ib = 0; ib < 8; ib++, dst += 32) {
            int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4);
            __m256 dl = _mm256_set1_ps(d * (float)(ls - 32));
            __m128i qs = _mm_loadu_si128((const __m128i *)(b + 8 + 16 * ib));
            store16_lut_mul(dst, nib_lo(qs), lut, dl, kind);
            store16_lut_mul(dst + 16, nib_hi(qs), lut, dl, kind);
        }
    }
}
DEQUANT_ENTRY(iq4_xs)

/* ------------------------------------------------------------------------ */
/* fp16 / bf16 rows                                                           */
/* ------------------------------------------------------------------------ */

/* 8 halves -> 8 floats. vcvtph2ps is exact except that it quiets signalling
 * NaNs, while the reference keeps every NaN payload bit: NaN lanes are
 * rebuilt with integer ops as sign | 0x7F800000 | man << 13. */
static inline __m256 halves_to_ps(__m128i h) {
    __m256 f = _mm256_cvtph_ps(h);
    __m256i w = _mm256_cvtepu16_epi32(h);
    __m256i exp = _mm256_and_si256(w, _mm256_set1_epi32(0x7C00));
    __m256i man = _mm256_and_si256(w, _mm256_set1_epi32(0x03FF));
    __m256i is_nan = _mm256_andnot_si256(_mm256_cmpeq_epi32(man, _mm256_setzero_si256()),
                                         _mm256_cmpeq_epi32(exp, _mm256_set1_epi32(0x7C00)));
    __m256i sign = _mm256_slli_epi32(_mm256_and_si256(w, _mm256_set1_epi32(0x8000)), 16);
    __m256i nan = _mm256_or_si256(_mm256_or_si256(sign, _mm256_set1_epi32(0x7F800000)),
                                  _mm256_slli_epi32(man, 13));
    return _mm256_blendv_ps(f, _mm256_castsi256_ps(nan), _mm256_castsi256_ps(is_nan));
}

/* 8 floats -> 8 halves, round to nearest even. vcvtps2ph keeps NaN payload
 * bits, while the reference turns every NaN into 0x7E00 with its sign. */
static inline __m128i ps_to_halves(__m256 f) {
    __m128i h = _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128 lo = _mm256_castps256_ps128(f), hi = _mm256_extractf128_ps(f, 1);
    __m128i nan_lo = _mm_castps_si128(_mm_cmpunord_ps(lo, lo));
    __m128i nan_hi = _mm_castps_si128(_mm_cmpunord_ps(hi, hi));
    __m128i nan = _mm_packs_epi32(nan_lo, nan_hi); /* 16-bit lane masks */
    __m128i qnan =
        _mm_or_si128(_mm_and_si128(h, _mm_set1_epi16((short)0x8000)), _mm_set1_epi16(0x7E00));
    return _mm_blendv_epi8(h, qnan, nan);
}

static void fp32_to_fp16_row_avx2(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), ps_to_halves(_mm256_loadu_ps(src + i)));
    for (; i < n; i++)
        dst[i] = kern_fp32_to_fp16(src[i]);
}

/* Round to nearest even on the integer bits, NaN -> (u >> 16) | 64, as the
 * reference kern_fp32_to_bf16. 8 floats -> 8 bf16 in the low 128 bits. */
static inline __m128i ps_to_bf16(__m256i u) {
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_srli_epi32(
        _mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), lsb)), 16);
    __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
    __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
    __m256i is_nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000));
    __m256i r = _mm256_blendv_epi8(rounded, quiet, is_nan);
    /* values fit in 16 bits: pack with unsigned saturation is exact */
    __m256i packed = _mm256_packus_epi32(r, r);
    packed = _mm256_permute4x64_epi64(packed, 0x08); /* lanes 0 and 2 */
    return _mm256_castsi256_si128(packed);
}

static void fp32_to_bf16_row_avx2(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm_storeu_si128((__m128i *)(dst + i), ps_to_bf16(u));
    }
    for (; i < n; i++)
        dst[i] = kern_fp32_to_bf16(src[i]);
}

/* F16 and BF16 tensors: rows of little-endian halves, possibly unaligned. */
static inline ALWAYS_INLINE void f16_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *p = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        put8(dst + i, halves_to_ps(_mm_loadu_si128((const __m128i *)(p + 2 * i))), kind);
    for (; i < n; i++)
        dst[i] = kern_fp16_to_fp32(kern_get_u16(p + 2 * i));
}
DEQUANT_ENTRY(f16)

static inline ALWAYS_INLINE void bf16_body(const void *src, float *dst, int64_t n, int kind) {
    const uint8_t *p = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 2 * i)));
        put8(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)), kind);
    }
    for (; i < n; i++)
        dst[i] = kern_bf16_to_fp32(kern_get_u16(p + 2 * i));
}
DEQUANT_ENTRY(bf16)

static void fp16_to_fp32_row_avx2(const uint16_t *src, float *dst, int64_t n) {
    dequant_f16_avx2(src, dst, n);
}

static void bf16_to_fp32_row_avx2(const uint16_t *src, float *dst, int64_t n) {
    dequant_bf16_avx2(src, dst, n);
}

/* ------------------------------------------------------------------------ */
/* Table                                                                      */
/* ------------------------------------------------------------------------ */

const kern_isa_table kern_isa_table_avx2 = {
    .to_float =
        {
            [KERN_TYPE_F16] = dequant_f16_avx2,
            [KERN_TYPE_BF16] = dequant_bf16_avx2,
            [KERN_TYPE_Q4_0] = dequant_q4_0_avx2,
            [KERN_TYPE_Q4_1] = dequant_q4_1_avx2,
            [KERN_TYPE_Q5_0] = dequant_q5_0_avx2,
            [KERN_TYPE_Q5_1] = dequant_q5_1_avx2,
            [KERN_TYPE_Q8_0] = dequant_q8_0_avx2,
            [KERN_TYPE_Q2_K] = dequant_q2_k_avx2,
            [KERN_TYPE_Q3_K] = dequant_q3_k_avx2,
            [KERN_TYPE_Q4_K] = dequant_q4_k_avx2,
            [KERN_TYPE_Q5_K] = dequant_q5_k_avx2,
            [KERN_TYPE_Q6_K] = dequant_q6_k_avx2,
            [KERN_TYPE_IQ4_NL] = dequant_iq4_nl_avx2,
            [KERN_TYPE_IQ4_XS] = dequant_iq4_xs_avx2,
        },
    .fp16_to_fp32_row = fp16_to_fp32_row_avx2,
    .fp32_to_fp16_row = fp32_to_fp16_row_avx2,
    .bf16_to_fp32_row = bf16_to_fp32_row_avx2,
    .fp32_to_bf16_row = fp32_to_bf16_row_avx2,
};
