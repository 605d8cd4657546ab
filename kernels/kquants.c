/*
 * kquants.c -- the k-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element
 * super-blocks with quantized sub-block scales) and the Q8_K dequantizer.
 * Reference dequantizers and quantizers byte-identical to ggml
 * (llama.cpp c392e50 ggml-quants.c, via ggml_quantize_chunk).
 *
 * Every quantizer works in three steps:
 *   1. fit a scale (and for Q2/Q4/Q5 a minimum) per sub-block with one of
 *      the searches in search.c;
 *   2. quantize those sub-block scales against one fp16 super-scale d
 *      (and dmin): by plain rounding without an importance matrix, by
 *      make_qx_quants/make_qp_quants with one;
 *   3. re-quantize every element against the *rounded* d * sc (a real
 *      division, not a multiplication by an inverse), keeping the step-1
 *      levels of sub-blocks whose effective scale is zero.
 *
 * With an importance matrix the element weights are
 * qw[j] * sqrt(sigma2 + x[j]^2) with sigma2 = k * mean(x^2) over the 256
 * values (k = 1 for Q2_K, 2 for Q3_K/Q4_K/Q5_K), except Q6_K, which uses
 * qw unchanged.
 */
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

#define QK_K 256

/* ------------------------------------------------------------------------ */
/* Block layouts                                                              */
/* ------------------------------------------------------------------------ */

/*
 * Q2_K, 84 bytes, 16 sub-blocks of 16, y = d*(sc&15)*q - dmin*(sc>>4):
 *
 *   0            16                     80      82      84
 *   +------------+----------------------+-------+-------+
 *   | scales[16] | qs[64] (2-bit q)     | d f16 | dmin  |
 *   +------------+----------------------+-------+-------+
 *   scales[j]: lo nibble = scale of sub-block j, hi nibble = its min.
 *
 *   2-bit packing shared with Q3_K: for half h (128 elements) and l < 32,
 *   qs[32h + l] bits 2s..2s+1 hold element 128h + 32s + l (s = 0..3).
 *
 * Q3_K, 110 bytes, 16 sub-blocks of 16, y = d*(sc-32)*(q2 - (hbit ? 0 : 4)):
 *
 *   0           32              96           108     110
 *   +-----------+---------------+------------+-------+
 *   | hmask[32] | qs[64] 2-bit  | scales[12] | d f16 |
 *   +-----------+---------------+------------+-------+
 *   hmask[i % 32] bit i/32 = high bit of element i.
 *   Sixteen 6-bit scales sc (stored +32):
 *     low 4 bits:  j < 8 -> scales[j] & 15,  j >= 8 -> scales[j-8] >> 4
 *     high 2 bits: (scales[8 + j%4] >> 2*(j/4)) & 3
 *
 * Q4_K, 144 bytes, 8 sub-blocks of 32, y = d*sc*q - dmin*m:
 *
 *   0       2       4            16                          144
 *   +-------+-------+------------+---------------------------+
 *   | d f16 | dmin  | scales[12] | qs[128] 4-bit              |
 *   +-------+-------+------------+---------------------------+
 *   qs[32p + l]: lo nibble = element 64p + l, hi = element 64p + 32 + l.
 *   Eight 6-bit (sc, m) pairs in 12 bytes ("k4" packing):
 *     j < 4:  sc = s[j] & 63,                      m = s[j+4] & 63
 *     j >= 4: sc = (s[j+4] & 15) | (s[j-4]>>6)<<4,  m = (s[j+4] >> 4) | (s[j]>>6)<<4
 *
 * Q5_K, 176 bytes: | d | dmin | scales[12] | qh[32] | qs[128] |
 *   as Q4_K, plus the fifth bit: qh[l] bit 2p for element 64p + l and
 *   bit 2p+1 for element 64p + 32 + l.
 *
 * Q6_K, 210 bytes, 16 sub-blocks of 16, y = d*sc*(q - 32):
 *
 *   0               128           192               208     210
 *   +---------------+-------------+-----------------+-------+
 *   | ql[128] lo 4  | qh[64] hi 2 | int8 scales[16] | d f16 |
 *   +---------------+-------------+-----------------+-------+
 *   For half h and l < 32, element 128h + 32s + l has
 *     low 4 bits:  s=0 ql[64h+l] lo, s=1 ql[64h+32+l] lo,
 *                  s=2 ql[64h+l] hi, s=3 ql[64h+32+l] hi
 *     high 2 bits: (qh[32h + l] >> 2s) & 3
 *
 * Q8_K, 292 bytes: | d f32 | int8 qs[256] | int16 bsums[16] |, y = d*q
 *   (an intermediate for dot products; only dequantized here).
 */
enum {
    Q2_K_BYTES = 84,
    Q3_K_BYTES = 110,
    Q4_K_BYTES = 144,
    Q5_K_BYTES = 176,
    Q6_K_BYTES = 210,
    Q8_K_BYTES = 292,
};

/* ------------------------------------------------------------------------ */
/* Scale packing                                                              */
/* ------------------------------------------------------------------------ */

/* Sub-block j's 6-bit scale (stored value, 0..63) of a Q3_K block. */
static inline int q3k_scale(const uint8_t *s, int j) {
    int lo = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
    int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return lo | hi << 4;
}

/* Store sixteen 6-bit values (0..63) into the 12 Q3_K scale bytes. */
static void q3k_pack_scales(uint8_t *s, const int *l) {
    memset(s, 0, 12);
    for (int j = 0; j < 16; j++) {
        if (j < 8)
            s[j] = (uint8_t)(l[j] & 15);
        else
            s[j - 8] |= (uint8_t)((l[j] & 15) << 4);
        s[8 + j % 4] |= (uint8_t)((l[j] >> 4) << (2 * (j / 4)));
    }
}

/* Store eight (scale, min) pairs of 6 bits into the 12 k4 bytes. */
static void k4_pack(uint8_t *s, const uint8_t *ls, const uint8_t *lm) {
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (uint8_t)((ls[j] & 15) | ((lm[j] & 15) << 4));
            s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            s[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

/* 256 two-bit levels into the Q2_K/Q3_K qs layout. */
static void pack_2bit(uint8_t *qs, const uint8_t *L) {
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *p = L + 128 * h + l;
            qs[32 * h + l] = (uint8_t)(p[0] | (p[32] << 2) | (p[64] << 4) | (p[96] << 6));
        }
}

static inline int clamp_i(int v, int lo, int hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ------------------------------------------------------------------------ */
/* Dequantization                                                             */
/* ------------------------------------------------------------------------ */

void kern_dequant_q2_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += Q2_K_BYTES) {
        float d = kern_get_f16(b + 80), dmin = kern_get_f16(b + 82);
        for (int e = 0; e < QK_K; e++) {
            int h = e / 128, s = (e % 128) / 32, l = e % 32;
            int q = (b[16 + 32 * h + l] >> (2 * s)) & 3;
            uint8_t sc = b[e / 16];
            float dl = d * (float)(sc & 15), ml = dmin * (float)(sc >> 4);
            *dst++ = dl * (float)q - ml;
        }
    }
}

void kern_dequant_q3_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += Q3_K_BYTES) {
        float d = kern_get_f16(b + 108);
        for (int e = 0; e < QK_K; e++) {
            int h = e / 128, s = (e % 128) / 32, l = e % 32;
            int q = (b[32 + 32 * h + l] >> (2 * s)) & 3;
            int hbit = (b[e % 32] >> (e / 32)) & 1;
            float dl = d * (float)(q3k_scale(b + 96, e / 16) - 32);
            *dst++ = dl * (float)(q - (hbit ? 0 : 4));
        }
    }
}

void kern_dequant_q4_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += Q4_K_BYTES) {
        float d = kern_get_f16(b), dmin = kern_get_f16(b + 2);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            kern_scale_min_k4(b + 4, j, &sc, &m);
            float dl = d * (float)sc, ml = dmin * (float)m;
            const uint8_t *q = b + 16 + 32 * (j / 2);
            int shift = 4 * (j % 2);
            for (int l = 0; l < 32; l++)
                *dst++ = dl * (float)((q[l] >> shift) & 15) - ml;
        }
    }
}

void kern_dequant_q5_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += Q5_K_BYTES) {
        float d = kern_get_f16(b), dmin = kern_get_f16(b + 2);
        const uint8_t *qh = b + 16;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            kern_scale_min_k4(b + 4, j, &sc, &m);
            float dl = d * (float)sc, ml = dmin * (float)m;
            const uint8_t *q = b + 48 + 32 * (j / 2);
            int shift = 4 * (j % 2);
            for (int l = 0; l < 32; l++) {
                int v = ((q[l] >> shift) & 15) + (((qh[l] >> j) & 1) ? 16 : 0);
                *dst++ = dl * (float)v - ml;
            }
        }
    }
}

void kern_dequant_q6_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += Q6_K_BYTES) {
        float d = kern_get_f16(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int e = 0; e < QK_K; e++) {
            int h = e / 128, s = (e % 128) / 32, l = e % 32;
            uint8_t lo_byte = b[64 * h + 32 * (s & 1) + l];
            int lo = s < 2 ? lo_byte & 15 : lo_byte >> 4;
            int hi = (b[128 + 32 * h + l] >> (2 * s)) & 3;
            int q = (lo | hi << 4) - 32;
            *dst++ = d * (float)sc[e / 16] * (float)q;
        }
    }
}

void kern_dequant_q8_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += Q8_K_BYTES) {
        uint32_t bits = kern_get_u32(b);
        float d;
        memcpy(&d, &bits, sizeof d);
        for (int j = 0; j < QK_K; j++)
            *dst++ = d * (float)(int8_t)b[4 + j];
    }
}

/* ------------------------------------------------------------------------ */
/* Shared quantizer steps                                                     */
/* ------------------------------------------------------------------------ */

/* Sum of squares of the super-block, the base of every imatrix sigma2. */
static float sum_sq(const float *x, int n) {
    float s = 0.0f;
    for (int j = 0; j < n; j++)
        s += x[j] * x[j];
    return s;
}

/* Importance weights of n elements: qw * sqrt(sigma2 + x^2); *sum gets Σw. */
static void imatrix_weights(const float *x, const float *qw, float sigma2, int n, float *w,
                            float *sum) {
    float s = 0.0f;
    for (int l = 0; l < n; l++)
        w[l] = qw[l] * sqrtf(sigma2 + x[l] * x[l]);
    for (int l = 0; l < n; l++)
        s += w[l];
    *sum = s;
}

/* Largest of the n scales and of the n mins, at least 0: step 2's range
 * without an imatrix. */
static void largest_pair(const float *scales, const float *mins, int n, float *max_scale,
                         float *max_min) {
    *max_scale = 0.0f, *max_min = 0.0f;
    for (int j = 0; j < n; j++) {
        if (scales[j] > *max_scale)
            *max_scale = scales[j];
        if (mins[j] > *max_min)
            *max_min = mins[j];
    }
}

/* Step 3 for the asymmetric formats: levels in [0, nmax] against the rounded
 * d*sc and dmin*m, sub-block of n. A zero d*sc keeps the fitted levels. */
static void requant_asym(const float *x, int n, int nmax, float d, float dm, uint8_t *L) {
    if (d == 0.0f)
        return;
    for (int l = 0; l < n; l++)
        L[l] = (uint8_t)clamp_i(kern_nearest_int((x[l] + dm) / d), 0, nmax);
}

/* Step 3 for the symmetric formats: levels in [-half, half) stored + half. */
static void requant_sym(const float *x, int n, int half, float d, uint8_t *L) {
    if (d == 0.0f)
        return;
    for (int l = 0; l < n; l++)
        L[l] = (uint8_t)(clamp_i(kern_nearest_int(x[l] / d), -half, half - 1) + half);
}

/* ------------------------------------------------------------------------ */
/* Q2_K                                                                       */
/* ------------------------------------------------------------------------ */

/* Step 1's weights: |x| without an imatrix; with one, sigma2 = mean(x^2). */
static void q2k_weights(const float *x, const float *qw, float *w, float *sw) {
    if (!qw) {
        for (int l = 0; l < QK_K; l++)
            w[l] = fabsf(x[l]);
        return;
    }
    float sigma2 = sum_sq(x, QK_K) / QK_K;
    for (int j = 0; j < 16; j++)
        imatrix_weights(x + 16 * j, qw + 16 * j, sigma2, 16, w + 16 * j, &sw[j]);
}

/* Step 2 and 3 from the fitted scales and mins. */
static void q2k_finish(const float *x, uint8_t *b, const float *scales, const float *mins,
                       const float *sw, int weighted, uint8_t *L) {
    if (weighted) {
        uint8_t ls[16], lm[16];
        kern_put_f16(b + 80, kern_make_qp_quants(16, 15, scales, ls, sw));
        kern_put_f16(b + 82, kern_make_qp_quants(16, 15, mins, lm, sw));
        for (int j = 0; j < 16; j++)
            b[j] = (uint8_t)(ls[j] | (lm[j] << 4));
    } else {
        float max_scale, max_min;
        largest_pair(scales, mins, 16, &max_scale, &max_min);
        /* ggml stores nearest_int() into bytes: truncation, then OR. */
        if (max_scale > 0) {
            float iscale = 15.0f / max_scale;
            for (int j = 0; j < 16; j++)
                b[j] = (uint8_t)kern_nearest_int(iscale * scales[j]);
            kern_put_f16(b + 80, max_scale / 15.0f);
        } else {
            memset(b, 0, 16);
            kern_put_f16(b + 80, 0.0f);
        }
        if (max_min > 0) {
            float iscale = 15.0f / max_min;
            for (int j = 0; j < 16; j++)
                b[j] |= (uint8_t)((unsigned)kern_nearest_int(iscale * mins[j]) << 4);
            kern_put_f16(b + 82, max_min / 15.0f);
        } else {
            kern_put_f16(b + 82, 0.0f);
        }
    }
    float d = kern_get_f16(b + 80), dmin = kern_get_f16(b + 82);
    for (int j = 0; j < 16; j++) {
        float dl = d * (float)(b[j] & 15);
        float ml = dmin * (float)(b[j] >> 4);
        requant_asym(x + 16 * j, 16, 3, dl, ml, L + 16 * j);
    }
    pack_2bit(b + 16, L);
}

/* ------------------------------------------------------------------------ */
/* Q3_K                                                                       */
/* ------------------------------------------------------------------------ */

/* Given the packed scales and d: re-quantize, split the high bit into
 * hmask and pack the low two bits. L holds levels 0..7. */
static void q3k_finish(const float *x, uint8_t *b, uint8_t *L) {
    float d = kern_get_f16(b + 108);
    for (int j = 0; j < 16; j++) {
        int8_t sc = (int8_t)(q3k_scale(b + 96, j) - 32);
        requant_sym(x + 16 * j, 16, 4, d * (float)sc, L + 16 * j);
    }
    uint8_t *hmask = b;
    memset(hmask, 0, 32);
    for (int e = 0; e < QK_K; e++) {
        if (L[e] > 3) {
            hmask[e % 32] |= (uint8_t)(1u << (e / 32));
            L[e] -= 4;
        }
    }
    pack_2bit(b + 32, L);
}

static void q3k_block(const float *x, uint8_t *b) {
    int8_t L8[QK_K];
    uint8_t L[QK_K];
    float scales[16], max_scale = 0.0f, amax = 0.0f;
    for (int j = 0; j < 16; j++) {
        scales[j] = kern_make_q3_quants(16, 4, x + 16 * j, L8 + 16 * j, 1);
        if (fabsf(scales[j]) > amax) {
            amax = fabsf(scales[j]);
            max_scale = scales[j];
        }
    }
    int ls[16] = {0};
    if (max_scale != 0.0f) {
        float iscale = -32.0f / max_scale;
        for (int j = 0; j < 16; j++) {
            int8_t l = (int8_t)kern_nearest_int(iscale * scales[j]); /* narrowed first */
            ls[j] = clamp_i(l, -32, 31) + 32;
        }
        q3k_pack_scales(b + 96, ls);
        kern_put_f16(b + 108, 1 / iscale);
    } else {
        memset(b + 96, 0, 12);
        kern_put_f16(b + 108, 0.0f);
    }
    for (int e = 0; e < QK_K; e++)
        L[e] = (uint8_t)L8[e];
    q3k_finish(x, b, L);
}

static void q3k_block_w(const float *x, uint8_t *b, const float *qw) {
    int8_t L8[QK_K], ls8[16];
    uint8_t L[QK_K];
    float w[QK_K], sw[16], scales[16], d_block;
    float sigma2 = 2 * sum_sq(x, QK_K) / QK_K;
    for (int j = 0; j < 16; j++)
        imatrix_weights(x + 16 * j, qw + 16 * j, sigma2, 16, w + 16 * j, &sw[j]);
    kern_make_qx_quants_many(16, 16, 4, x, w, L8, scales);
    kern_make_qx_quants_many(1, 16, 32, scales, sw, ls8, &d_block);
    int ls[16];
    for (int j = 0; j < 16; j++)
        ls[j] = ls8[j];
    q3k_pack_scales(b + 96, ls);
    kern_put_f16(b + 108, d_block);
    for (int e = 0; e < QK_K; e++)
        L[e] = (uint8_t)L8[e];
    q3k_finish(x, b, L);
}

/* ------------------------------------------------------------------------ */
/* Q4_K and Q5_K                                                              */
/* ------------------------------------------------------------------------ */

/* The two formats differ in nmax (15/31), the no-imatrix search range and
 * how the levels are packed. scales points at the 12 k4 bytes; *d and
 * *dmin receive the rounded super-scales. */
typedef struct {
    int nmax;
    int clamp_qp; /* imatrix path: Q5_K clamps make_qp_quants levels to 63 */
} k45_params;

static const k45_params q4k_params = {15, 0};
static const k45_params q5k_params = {31, 1};

/* Step 1's weights: per sub-block mean |x| + |x| without an imatrix; with
 * one, sigma2 = 2 mean(x^2). */
static void k45_weights(const float *x, const float *qw, float *w, float *sw) {
    if (!qw) {
        for (int j = 0; j < 8; j++) {
            const float *xs = x + 32 * j;
            float av = sqrtf(sum_sq(xs, 32) / 32);
            for (int l = 0; l < 32; l++)
                w[32 * j + l] = av + fabsf(xs[l]);
        }
        return;
    }
    float sigma2 = 2 * sum_sq(x, QK_K) / QK_K;
    for (int j = 0; j < 8; j++)
        imatrix_weights(x + 32 * j, qw + 32 * j, sigma2, 32, w + 32 * j, &sw[j]);
}

/* Step 2: the eight (scale, min) pairs to 6-bit levels at b + 4 and the
 * super-scales d, dmin at b (fp16); by plain rounding against the largest,
 * or with an imatrix by make_qp_quants. */
static void k45_scales(uint8_t *b, const k45_params *p, const float *sc, const float *mins,
                       const float *sw, int weighted) {
    uint8_t ls[8], lm[8];
    float d, dmin;
    if (weighted) {
        d = kern_make_qp_quants(8, 63, sc, ls, sw);
        dmin = kern_make_qp_quants(8, 63, mins, lm, sw);
        /* Levels are <= 63 unless a scale came out negative (possible
         * only with negative weights), where the byte wraps; only Q5_K
         * clamps that. */
        for (int j = 0; j < 8 && p->clamp_qp; j++) {
            ls[j] = ls[j] < 63 ? ls[j] : 63;
            lm[j] = lm[j] < 63 ? lm[j] : 63;
        }
    } else {
        float max_scale, max_min;
        largest_pair(sc, mins, 8, &max_scale, &max_min);
        float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
        float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
        for (int j = 0; j < 8; j++) {
            /* Narrowed to a byte before the clamp, as in ggml. */
            uint8_t a = (uint8_t)kern_nearest_int(inv_scale * sc[j]);
            uint8_t m = (uint8_t)kern_nearest_int(inv_min * mins[j]);
            ls[j] = a < 63 ? a : 63;
            lm[j] = m < 63 ? m : 63;
        }
        d = max_scale / 63.0f;
        dmin = max_min / 63.0f;
    }
    k4_pack(b + 4, ls, lm);
    kern_put_f16(b, d);
    kern_put_f16(b + 2, dmin);
}

/* Step 3: re-quantize with the rounded d*sc and dmin*m. */
static void k45_requant(const float *x, const uint8_t *b, const k45_params *p, uint8_t *L) {
    float dr = kern_get_f16(b), mr = kern_get_f16(b + 2);
    for (int j = 0; j < 8; j++) {
        int sc, m;
        kern_scale_min_k4(b + 4, j, &sc, &m);
        requant_asym(x + 32 * j, 32, p->nmax, dr * (float)sc, mr * (float)m, L + 32 * j);
    }
}

static void q4k_pack(uint8_t *b, const uint8_t *L) {
    for (int p = 0; p < 4; p++)
        for (int l = 0; l < 32; l++)
            b[16 + 32 * p + l] = (uint8_t)(L[64 * p + l] | (L[64 * p + 32 + l] << 4));
}

static void q5k_pack(uint8_t *b, const uint8_t *L) {
    uint8_t *qh = b + 16, *qs = b + 48;
    memset(qh, 0, 32);
    for (int p = 0; p < 4; p++)
        for (int l = 0; l < 32; l++) {
            int lo = L[64 * p + l], hi = L[64 * p + 32 + l];
            if (lo > 15) {
                lo -= 16;
                qh[l] |= (uint8_t)(1u << (2 * p));
            }
            if (hi > 15) {
                hi -= 16;
                qh[l] |= (uint8_t)(2u << (2 * p));
            }
            qs[32 * p + l] = (uint8_t)(lo | (hi << 4));
        }
}

static void q4k_finish(const float *x, uint8_t *b, const float *sc, const float *mins,
                       const float *sw, int weighted, uint8_t *L) {
    k45_scales(b, &q4k_params, sc, mins, sw, weighted);
    k45_requant(x, b, &q4k_params, L);
    q4k_pack(b, L);
}

static void q5k_finish(const float *x, uint8_t *b, const float *sc, const float *mins,
                       const float *sw, int weighted, uint8_t *L) {
    k45_scales(b, &q5k_params, sc, mins, sw, weighted);
    k45_requant(x, b, &q5k_params, L);
    q5k_pack(b, L);
}

/* ------------------------------------------------------------------------ */
/* Q6_K                                                                       */
/* ------------------------------------------------------------------------ */

/* qw == NULL: weights x^2 (no imatrix); otherwise qw itself, no sigma2. */
static void q6k_block_any(const float *x, uint8_t *b, const float *qw) {
    int8_t L8[QK_K];
    uint8_t L[QK_K];
    float scales[16], max_scale = 0.0f, max_abs = 0.0f;
    kern_make_qx_quants_many(16, 16, 32, x, qw, L8, scales);
    for (int j = 0; j < 16; j++) {
        if (fabsf(scales[j]) > max_abs) {
            max_abs = fabsf(scales[j]);
            max_scale = scales[j];
        }
    }
    if (max_abs < KERN_GROUP_MAX_EPS) {
        memset(b, 0, Q6_K_BYTES);
        return;
    }
    float iscale = -128.0f / max_scale;
    kern_put_f16(b + 208, 1 / iscale);
    int8_t *sc = (int8_t *)(b + 192);
    for (int j = 0; j < 16; j++) {
        int l = kern_nearest_int(iscale * scales[j]);
        sc[j] = (int8_t)(l < 127 ? l : 127);
    }
    float d = kern_get_f16(b + 208);
    for (int e = 0; e < QK_K; e++)
        L[e] = (uint8_t)L8[e];
    for (int j = 0; j < 16; j++)
        requant_sym(x + 16 * j, 16, 32, d * (float)sc[j], L + 16 * j);

    for (int h = 0; h < 2; h++) {
        uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
        const uint8_t *p = L + 128 * h;
        for (int l = 0; l < 32; l++) {
            ql[l] = (uint8_t)((p[l] & 15) | ((p[l + 64] & 15) << 4));
            ql[l + 32] = (uint8_t)((p[l + 32] & 15) | ((p[l + 96] & 15) << 4));
            qh[l] = (uint8_t)((p[l] >> 4) | ((p[l + 32] >> 4) << 2) | ((p[l + 64] >> 4) << 4) |
                              ((p[l + 96] >> 4) << 6));
        }
    }
}

static void q6k_block(const float *x, uint8_t *b) {
    q6k_block_any(x, b, NULL);
}

static void q6k_block_w(const float *x, uint8_t *b, const float *qw) {
    q6k_block_any(x, b, qw);
}

/* ------------------------------------------------------------------------ */
/* Row drivers (the kern_quantize_fn entries)                                 */
/* ------------------------------------------------------------------------ */

typedef void (*plain_block_fn)(const float *x, uint8_t *b);
typedef void (*weighted_block_fn)(const float *x, uint8_t *b, const float *qw);

/* Super-blocks never straddle rows; with an imatrix, block i of every row
 * uses qw + 256*i. */
static size_t quantize_rows(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                            const float *imatrix, size_t block_bytes, plain_block_fn plain,
                            weighted_block_fn weighted) {
    uint8_t *out = dst;
    int64_t nb = n_per_row / QK_K;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        for (int64_t i = 0; i < nb; i++, out += block_bytes) {
            if (imatrix)
                weighted(x + i * QK_K, out, imatrix + i * QK_K);
            else
                plain(x + i * QK_K, out);
        }
    }
    return (size_t)(nrows * nb) * block_bytes;
}

/* Q2_K, Q4_K and Q5_K: step 1's weights for each super-block, then one
 * search over the sub-blocks of several super-blocks (one per vector
 * lane), then steps 2 and 3 for each. */
typedef struct {
    size_t block_bytes;
    int groups;                      /* sub-blocks per super-block */
    kern_qkx_search plain, weighted; /* step 1 without / with an imatrix */
    void (*weights)(const float *x, const float *qw, float *w, float *sw);
    void (*finish)(const float *x, uint8_t *b, const float *sc, const float *mins, const float *sw,
                   int weighted, uint8_t *L);
} asym_kquant;

static const asym_kquant q2k = {
    Q2_K_BYTES,  16,        {16, 3, -0.5f, 0.1f, 15, 1, 0}, {16, 3, -0.9f, 0.05f, 36, 0, 1},
    q2k_weights, q2k_finish};
static const asym_kquant q4k = {
    Q4_K_BYTES,  8,         {32, 15, -1.0f, 0.1f, 20, 0, 0}, {32, 15, -0.9f, 0.05f, 36, 0, 1},
    k45_weights, q4k_finish};
static const asym_kquant q5k = {
    Q5_K_BYTES,  8,         {32, 31, -0.5f, 0.1f, 15, 0, 0}, {32, 31, -0.9f, 0.05f, 36, 0, 1},
    k45_weights, q5k_finish};

/* Super-blocks searched together: 32 (Q4_K, Q5_K) or 64 (Q2_K) groups,
 * enough for two interleaved vectors of the widest lanes. */
#define ASYM_BATCH 4

static size_t quantize_rows_asym(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix, const asym_kquant *t) {
    uint8_t *out = dst;
    int64_t nb = n_per_row / QK_K, total = nrows * nb;
    const kern_qkx_search *search = imatrix ? &t->weighted : &t->plain;
    float w[ASYM_BATCH * QK_K], sw[ASYM_BATCH * 16] = {0}, sc[ASYM_BATCH * 16],
                                                mins[ASYM_BATCH * 16];
    uint8_t L[ASYM_BATCH * QK_K];
    for (int64_t i = 0; i < total;) {
        /* With an imatrix, block i uses qw + 256*(i % nb): a batch stays
         * within its row. Rows are contiguous, so block i is at src + 256*i. */
        int64_t end = imatrix ? i - i % nb + nb : total;
        int c = (int)(end - i < ASYM_BATCH ? end - i : ASYM_BATCH);
        const float *x = src + i * QK_K;
        for (int k = 0; k < c; k++)
            t->weights(x + k * QK_K, imatrix ? imatrix + (i + k) % nb * QK_K : NULL, w + k * QK_K,
                       sw + k * t->groups);
        kern_make_qkx_quants_many(search, c * t->groups, x, w, L, sc, mins);
        for (int k = 0; k < c; k++, out += t->block_bytes) {
            int g = k * t->groups;
            t->finish(x + k * QK_K, out, sc + g, mins + g, sw + g, imatrix != NULL, L + k * QK_K);
        }
        i += c;
    }
    return (size_t)total * t->block_bytes;
}

size_t kern_quantize_q2_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows_asym(src, dst, nrows, n_per_row, imatrix, &q2k);
}

size_t kern_quantize_q3_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows(src, dst, nrows, n_per_row, imatrix, Q3_K_BYTES, q3k_block, q3k_block_w);
}

size_t kern_quantize_q4_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows_asym(src, dst, nrows, n_per_row, imatrix, &q4k);
}

size_t kern_quantize_q5_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows_asym(src, dst, nrows, n_per_row, imatrix, &q5k);
}

size_t kern_quantize_q6_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows(src, dst, nrows, n_per_row, imatrix, Q6_K_BYTES, q6k_block, q6k_block_w);
}
