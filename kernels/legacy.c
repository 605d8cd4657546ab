/*
 * legacy.c -- the original 32-element block formats Q4_0, Q4_1, Q5_0, Q5_1
 * and Q8_0: reference dequantizers and quantizers, byte-identical to ggml's
 * (llama.cpp c392e50 ggml-quants.c, as llama-quantize calls them through
 * ggml_quantize_chunk -> quantize_q4_0 etc.).
 *
 * Without an importance matrix every format uses plain per-block rounding
 * (quantize_row_*_ref). With one, Q4_0/Q5_0 fit a symmetric scale by
 * weighted least squares (make_qx_quants) and Q4_1/Q5_1 an asymmetric one
 * (make_qkx3_quants); the weights are qw[j] * sqrt(sigma2 + x[j]^2) with
 * sigma2 = mean of x^2 over the WHOLE row (the k-quants use 256 elements).
 * Q8_0 ignores the matrix.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

#define QK 32 /* elements per block, all five formats */

/* ------------------------------------------------------------------------ */
/* Block layouts                                                              */
/* ------------------------------------------------------------------------ */

/*
 * Q4_0, 18 bytes, y = (q - 8) * d:
 *
 *   byte 0      2                                   18
 *        +------+-----------------------------------+
 *        | d f16| qs[16]: lo nibble = x[j]           |
 *        |      |        hi nibble = x[j + 16]       |
 *        +------+-----------------------------------+
 *
 * Q4_1, 20 bytes, y = q * d + m:   | d f16 | m f16 | qs[16] as Q4_0 |
 *
 * Q5_0, 22 bytes, y = (q - 16) * d:
 *
 *   | d f16 | qh u32: bit j = bit 4 of x[j] | qs[16] low 4 bits as Q4_0 |
 *
 * Q5_1, 24 bytes, y = q * d + m:   | d f16 | m f16 | qh u32 | qs[16] |
 *
 * Q8_0, 34 bytes, y = q * d:       | d f16 | int8 qs[32] |
 */
enum {
    Q4_0_BYTES = 18,
    Q4_1_BYTES = 20,
    Q5_0_BYTES = 22,
    Q5_1_BYTES = 24,
    Q8_0_BYTES = 34,
};

/* ------------------------------------------------------------------------ */
/* Dequantization                                                             */
/* ------------------------------------------------------------------------ */

void kern_dequant_q4_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += Q4_0_BYTES, dst += QK) {
        float d = kern_get_f16(b);
        const uint8_t *qs = b + 2;
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = (float)((qs[j] & 0x0F) - 8) * d;
            dst[j + QK / 2] = (float)((qs[j] >> 4) - 8) * d;
        }
    }
}

void kern_dequant_q4_1_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += Q4_1_BYTES, dst += QK) {
        float d = kern_get_f16(b), m = kern_get_f16(b + 2);
        const uint8_t *qs = b + 4;
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = (float)(qs[j] & 0x0F) * d + m;
            dst[j + QK / 2] = (float)(qs[j] >> 4) * d + m;
        }
    }
}

/* The fifth bit of element j of a Q5 block. */
static inline int q5_high(uint32_t qh, int j) {
    return (int)((qh >> j) & 1u) << 4;
}

void kern_dequant_q5_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += Q5_0_BYTES, dst += QK) {
        float d = kern_get_f16(b);
        uint32_t qh = kern_get_u32(b + 2);
        const uint8_t *qs = b + 6;
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = (float)(((qs[j] & 0x0F) | q5_high(qh, j)) - 16) * d;
            dst[j + QK / 2] = (float)(((qs[j] >> 4) | q5_high(qh, j + QK / 2)) - 16) * d;
        }
    }
}

void kern_dequant_q5_1_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += Q5_1_BYTES, dst += QK) {
        float d = kern_get_f16(b), m = kern_get_f16(b + 2);
        uint32_t qh = kern_get_u32(b + 4);
        const uint8_t *qs = b + 8;
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = (float)((qs[j] & 0x0F) | q5_high(qh, j)) * d + m;
            dst[j + QK / 2] = (float)((qs[j] >> 4) | q5_high(qh, j + QK / 2)) * d + m;
        }
    }
}

void kern_dequant_q8_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += Q8_0_BYTES, dst += QK) {
        float d = kern_get_f16(b);
        for (int j = 0; j < QK; j++)
            dst[j] = (float)(int8_t)b[2 + j] * d;
    }
}

/* ------------------------------------------------------------------------ */
/* Packing shared by the quantizers                                           */
/* ------------------------------------------------------------------------ */

/* 32 levels (0..15) into the Q4 nibble layout. */
static void pack_q4(uint8_t *qs, const uint8_t *l) {
    for (int j = 0; j < QK / 2; j++)
        qs[j] = (uint8_t)(l[j] | (l[j + QK / 2] << 4));
}

/* 32 levels (0..31) into the Q5 nibbles plus the qh word. */
static void pack_q5(uint8_t *qh, uint8_t *qs, const uint8_t *l) {
    uint32_t h = 0;
    for (int j = 0; j < QK / 2; j++) {
        qs[j] = (uint8_t)((l[j] & 0x0F) | ((l[j + QK / 2] & 0x0F) << 4));
        h |= (uint32_t)(l[j] >> 4 & 1) << j;
        h |= (uint32_t)(l[j + QK / 2] >> 4 & 1) << (j + QK / 2);
    }
    kern_put_u32(qh, h);
}

/* Signed value of largest magnitude in a block (first wins on ties). */
static float block_absmax_signed(const float *x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static void block_min_max(const float *x, float *min, float *max) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < QK; j++) {
        if (x[j] < lo)
            lo = x[j];
        if (x[j] > hi)
            hi = x[j];
    }
    *min = lo;
    *max = hi;
}

/* Truncating float -> level conversion as ggml's (int8_t)/(uint8_t) casts
 * compile on x86-64 (cvttss2si, then the low byte). */
static inline int trunc_level(float v) {
    return (int8_t)(uint8_t)kern_cvtt_i32(v);
}

/* ------------------------------------------------------------------------ */
/* Plain quantizers (no importance matrix), one block at a time               */
/* ------------------------------------------------------------------------ */

/* d = max / -8 keeps the sign of the extreme value, so it lands on level 0;
 * all-zero blocks store d = -0.0 (0x8000). id comes from the unrounded d. */
static void q4_0_block(const float *x, uint8_t *b) {
    float d = block_absmax_signed(x) / -8;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    kern_put_f16(b, d);
    uint8_t l[QK];
    for (int j = 0; j < QK; j++) {
        int q = trunc_level(x[j] * id + 8.5f);
        l[j] = (uint8_t)(q < 15 ? q : 15);
    }
    pack_q4(b + 2, l);
}

static void q4_1_block(const float *x, uint8_t *b) {
    float min, max;
    block_min_max(x, &min, &max);
    float d = (max - min) / 15;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    kern_put_f16(b, d);
    kern_put_f16(b + 2, min);
    uint8_t l[QK];
    for (int j = 0; j < QK; j++) {
        int q = trunc_level((x[j] - min) * id + 0.5f);
        l[j] = (uint8_t)(q < 15 ? q : 15);
    }
    pack_q4(b + 4, l);
}

static void q5_0_block(const float *x, uint8_t *b) {
    float d = block_absmax_signed(x) / -16;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    kern_put_f16(b, d);
    uint8_t l[QK];
    for (int j = 0; j < QK; j++) {
        int q = trunc_level(x[j] * id + 16.5f);
        l[j] = (uint8_t)(q < 31 ? q : 31);
    }
    pack_q5(b + 2, b + 6, l);
}

/* Q5_1 has no upper clamp in ggml; (max-min)*id rounds to at most 31.5. */
static void q5_1_block(const float *x, uint8_t *b) {
    float min, max;
    block_min_max(x, &min, &max);
    float d = (max - min) / 31;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    kern_put_f16(b, d);
    kern_put_f16(b + 2, min);
    uint8_t l[QK];
    for (int j = 0; j < QK; j++)
        l[j] = (uint8_t)trunc_level((x[j] - min) * id + 0.5f);
    pack_q5(b + 4, b + 8, l);
}

/* max |x[j]| as ggml's serial loop computes it. Without NaN the maximum
 * does not depend on the order, so eight running maxima (which the compiler
 * vectorises) give the same bits; a NaN makes the serial result depend on
 * its position, so such a block takes the serial loop. */
static float q8_0_amax(const float *x) {
    float m[8] = {0};
    int nan = 0;
    for (int j = 0; j < QK; j += 8)
        for (int k = 0; k < 8; k++) {
            float a = fabsf(x[j + k]);
            m[k] = m[k] > a ? m[k] : a;
            nan |= a != a;
        }
    float amax = 0.0f;
    if (nan) {
        for (int j = 0; j < QK; j++)
            amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
        return amax;
    }
    for (int k = 0; k < 8; k++)
        amax = amax > m[k] ? amax : m[k];
    return amax;
}

/* roundf: halves away from zero (not nearest_int's ties-to-even). */
static void q8_0_block(const float *x, uint8_t *b) {
    float amax = q8_0_amax(x);
    float d = amax / 127;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    kern_put_f16(b, d);
    /* Finite blocks (every product below 2^23) round without branches, in
     * a loop the compiler vectorises; inf and NaN take kern_roundf. */
    float v[QK];
    int in_range = 1;
    for (int j = 0; j < QK; j++) {
        v[j] = x[j] * id;
        in_range &= fabsf(v[j]) < 0x1p23f;
    }
    if (!in_range) {
        for (int j = 0; j < QK; j++)
            b[2 + j] = (uint8_t)kern_cvtt_i32(kern_roundf(v[j]));
        return;
    }
    for (int j = 0; j < QK; j++)
        b[2 + j] = (uint8_t)(int32_t)kern_roundf_small(v[j]);
}

/* ------------------------------------------------------------------------ */
/* Importance-matrix quantizers, many blocks at a time                        */
/* ------------------------------------------------------------------------ */

/* Mean square of a row: the sigma2 of the legacy imatrix weights. */
static float row_sigma2(const float *x, int64_t n) {
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++)
        sum += x[j] * x[j];
    return sum / (float)n;
}

static void imatrix_weights(const float *x, const float *qw, float sigma2, float *w) {
    for (int j = 0; j < QK; j++)
        w[j] = qw[j] * sqrtf(sigma2 + x[j] * x[j]);
}

/* Blocks fitted together by the searches, one block per vector lane. */
#define W_BATCH 32

/* Symmetric (Q4_0 nmax 8, Q5_0 nmax 16): levels in [0, 2*nmax). count
 * blocks from x with their weights w; block k's scale to d[k]. */
static void symmetric_fit(const float *x, const float *w, int count, int nmax, uint8_t *l,
                          float *d) {
    kern_make_qx_quants_many(count, QK, nmax, x, w, (int8_t *)l, d);
}

/* Asymmetric (Q4_1 nmax 15, Q5_1 nmax 31); m[k] receives the min. */
static void asymmetric_fit(const float *x, const float *w, int count, int nmax, uint8_t *l,
                           float *d, float *m) {
    kern_qkx_search search = {QK, nmax, -0.9f, 0.05f, 36, 0, 1};
    kern_make_qkx_quants_many(&search, count, x, w, l, d, m);
    for (int k = 0; k < count; k++)
        m[k] = -m[k];
}

/* A legacy type's imatrix layout: block bytes, nmax, asymmetric (a min
 * after d) and 4 or 5 bits. */
typedef struct {
    size_t bytes;
    int nmax, asym, bits;
} weighted_type;

static const weighted_type q4_0_w = {Q4_0_BYTES, 8, 0, 4};
static const weighted_type q4_1_w = {Q4_1_BYTES, 15, 1, 4};
static const weighted_type q5_0_w = {Q5_0_BYTES, 16, 0, 5};
static const weighted_type q5_1_w = {Q5_1_BYTES, 31, 1, 5};

/* count blocks from x with their weights w into b. */
static void blocks_w(const weighted_type *t, const float *x, uint8_t *b, const float *w,
                     int count) {
    uint8_t l[W_BATCH * QK];
    float d[W_BATCH], m[W_BATCH];
    if (t->asym)
        asymmetric_fit(x, w, count, t->nmax, l, d, m);
    else
        symmetric_fit(x, w, count, t->nmax, l, d);
    int head = t->asym ? 4 : 2;
    for (int k = 0; k < count; k++, b += t->bytes) {
        kern_put_f16(b, d[k]);
        if (t->asym)
            kern_put_f16(b + 2, m[k]);
        if (t->bits == 4)
            pack_q4(b + head, l + k * QK);
        else
            pack_q5(b + head, b + head + 4, l + k * QK);
    }
}

/* ------------------------------------------------------------------------ */
/* Row drivers (the kern_quantize_fn entries)                                 */
/* ------------------------------------------------------------------------ */

typedef void (*plain_block_fn)(const float *x, uint8_t *b);

/* Blocks never straddle rows, so without weights the rows are one run of
 * blocks; with weights each row gets its own sigma2 and the same qw, and
 * up to W_BATCH blocks of a row are fitted together. */
static size_t quantize_rows(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                            const float *imatrix, size_t block_bytes, plain_block_fn plain,
                            const weighted_type *weighted) {
    uint8_t *out = dst;
    int64_t nb = n_per_row / QK;
    float w[W_BATCH * QK];
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!(imatrix && weighted)) {
            for (int64_t i = 0; i < nb; i++, out += block_bytes)
                plain(x + i * QK, out);
            continue;
        }
        float sigma2 = row_sigma2(x, n_per_row);
        for (int64_t i = 0; i < nb;) {
            int c = (int)(nb - i < W_BATCH ? nb - i : W_BATCH);
            for (int k = 0; k < c; k++)
                imatrix_weights(x + (i + k) * QK, imatrix + (i + k) * QK, sigma2, w + k * QK);
            blocks_w(weighted, x + i * QK, out, w, c);
            out += (size_t)c * block_bytes;
            i += c;
        }
    }
    return (size_t)(nrows * nb) * block_bytes;
}

size_t kern_quantize_q4_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows(src, dst, nrows, n_per_row, imatrix, Q4_0_BYTES, q4_0_block, &q4_0_w);
}

size_t kern_quantize_q4_1_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows(src, dst, nrows, n_per_row, imatrix, Q4_1_BYTES, q4_1_block, &q4_1_w);
}

size_t kern_quantize_q5_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows(src, dst, nrows, n_per_row, imatrix, Q5_0_BYTES, q5_0_block, &q5_0_w);
}

size_t kern_quantize_q5_1_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows(src, dst, nrows, n_per_row, imatrix, Q5_1_BYTES, q5_1_block, &q5_1_w);
}

size_t kern_quantize_q8_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    return quantize_rows(src, dst, nrows, n_per_row, imatrix, Q8_0_BYTES, q8_0_block, NULL);
}

/* ------------------------------------------------------------------------ */
/* MatMulNBits form                                                           */
/* ------------------------------------------------------------------------ */

int kern_nbits_bits(int type) {
    switch (type) {
    case KERN_TYPE_Q4_0:
    case KERN_TYPE_Q4_1: return 4;
    case KERN_TYPE_Q8_0: return 8;
    default: return 0;
    }
}

/* Q4 codes in element order, two a byte: byte i = q[2i] | q[2i+1] << 4. */
static void q4_codes(const uint8_t *qs, uint8_t *out) {
    uint8_t q[QK];
    for (int j = 0; j < QK / 2; j++) {
        q[j] = qs[j] & 0x0F;
        q[j + QK / 2] = qs[j] >> 4;
    }
    for (int i = 0; i < QK / 2; i++)
        out[i] = (uint8_t)(q[2 * i] | q[2 * i + 1] << 4);
}

int kern_nbits_split(int type, const void *src, int64_t n, uint8_t *codes, float *scales,
                     float *mins) {
    int bits = kern_nbits_bits(type);
    if (!bits || n < 0 || n % QK != 0)
        return -1;
    const size_t bsz = kern_type_info(type)->type_size;
    const size_t blob = (size_t)QK * (size_t)bits / 8;
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK; i++, b += bsz) {
        if (scales)
            scales[i] = kern_get_f16(b);
        if (mins && type == KERN_TYPE_Q4_1)
            mins[i] = kern_get_f16(b + 2);
        if (!codes)
            continue;
        uint8_t *o = codes + (size_t)i * blob;
        if (type == KERN_TYPE_Q8_0) {
            for (int j = 0; j < QK; j++)
                o[j] = b[2 + j] ^ 0x80;
        } else {
            q4_codes(b + (type == KERN_TYPE_Q4_1 ? 4 : 2), o);
        }
    }
    return 0;
}
