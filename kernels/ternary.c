/*
 * ternary.c -- TQ1_0 and TQ2_0, the BitNet b1.58 / TriLM formats: 256
 * values in {-1, 0, +1} times one fp16 scale. Reference dequantizers and
 * quantizers byte-identical to ggml (llama.cpp c392e50 ggml-quants.c).
 *
 * Quantizing: d = max|x| over the block, trit = lroundf(x / d) + 1 in
 * {0, 1, 2} (lroundf rounds halves away from zero). The imatrix is ignored,
 * as in ggml. Also the dequantizer of the newer 2-bit Q2_0 (Q1_0 is in
 * binary.c).
 */
#include <math.h>

#include "kernels_internal.h"

#define QK_T 256

/* ------------------------------------------------------------------------ */
/* Block layouts                                                              */
/* ------------------------------------------------------------------------ */

/*
 * TQ1_0, 54 bytes, five trits per byte ("base-3 fixed point"):
 *
 *   byte 0            32           48      52     54
 *        +-------------+------------+-------+------+
 *        | qs[0..31]   | qs[32..47] | qh[4] | d f16|
 *        +-------------+------------+-------+------+
 *
 *   qs[m], m < 32:     elements m + 32n,       n = 0..4 (160 values)
 *   qs[32 + m], m<16:  elements 160 + m + 16n, n = 0..4 (80 values)
 *   qh[j], j < 4:      elements 240 + j + 4n,  n = 0..3 (16 values)
 *
 *   A byte stores the trits t0..t4 (t0 first) as
 *   ceil((t0*81 + t1*27 + t2*9 + t3*3 + t4) * 256 / 243): trit n is then
 *   the top base-3 digit of byte*3^n taken mod 256, i.e.
 *   ((uint8)(byte * 3^n) * 3) >> 8. qh bytes hold 4 trits and a zero fifth.
 *
 * TQ2_0, 66 bytes, four 2-bit values per byte:
 *
 *   byte 0                               64     66
 *        +--------------------------------+------+
 *        | qs[64]                          | d f16|
 *        +--------------------------------+------+
 *
 *   element 128c + 32n + m = (qs[32c + m] >> 2n) & 3, c = 0..1, n = 0..3;
 *   y = (q - 1) * d.
 */
enum { TQ1_0_BYTES = 54, TQ2_0_BYTES = 66 };

/* ------------------------------------------------------------------------ */
/* Dequantization                                                             */
/* ------------------------------------------------------------------------ */

static const uint8_t pow3[5] = {1, 3, 9, 27, 81};

/* Trit n (0 = most significant) of a packed base-3 byte. */
static inline int tq1_trit(uint8_t byte, int n) {
    uint8_t q = (uint8_t)(byte * pow3[n]);
    return (q * 3) >> 8;
}

void kern_dequant_tq1_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_T; i++, b += TQ1_0_BYTES) {
        float d = kern_get_f16(b + 52);
        /* Output order follows the byte groups: 32-byte run, 16-byte run,
         * then qh, each trit-major. */
        for (int t = 0; t < 5; t++)
            for (int m = 0; m < 32; m++)
                *dst++ = (float)(tq1_trit(b[m], t) - 1) * d;
        for (int t = 0; t < 5; t++)
            for (int m = 0; m < 16; m++)
                *dst++ = (float)(tq1_trit(b[32 + m], t) - 1) * d;
        for (int t = 0; t < 4; t++)
            for (int j = 0; j < 4; j++)
                *dst++ = (float)(tq1_trit(b[48 + j], t) - 1) * d;
    }
}

void kern_dequant_tq2_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_T; i++, b += TQ2_0_BYTES) {
        float d = kern_get_f16(b + 64);
        for (int c = 0; c < 2; c++)
            for (int s = 0; s < 4; s++)
                for (int m = 0; m < 32; m++)
                    *dst++ = (float)(((b[32 * c + m] >> (2 * s)) & 3) - 1) * d;
    }
}

/*
 * Q2_0 (upstream ggml after ec562eb, ggml-org/llama.cpp#24448): dequantize
 * only, so models using it can be read, validated and compared.
 *
 *   block_q2_0 (18 bytes, 64 values):  d (fp16) | qs[16]
 *       q = (qs[j / 4] >> 2 * (j % 4)) & 3, value = (q - 1) * d
 */
void kern_dequant_q2_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 64; i++, b += 18) {
        float d = kern_get_f16(b);
        for (int j = 0; j < 64; j++)
            *dst++ = (float)(((b[2 + j / 4] >> (2 * (j % 4))) & 3) - 1) * d;
    }
}

/* ------------------------------------------------------------------------ */
/* Quantization                                                               */
/* ------------------------------------------------------------------------ */

/* Block scale d = max|x| (stored as fp16) and the inverse used to round. */
static float ternary_scale(const float *x, float *id) {
    float amax = 0.0f;
    for (int j = 0; j < QK_T; j++)
        amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
    *id = amax != 0.0f ? 1.0f / amax : 0.0f;
    return amax;
}

static inline int trit_of(float v, float id) {
    return (int)lroundf(v * id) + 1;
}

/* Pack `count` trits (x[0], x[stride], ...) first-most-significant, padded
 * with zero trits to five, into one byte. */
static uint8_t pack_trits(const float *x, int stride, int count, float id) {
    unsigned q = 0;
    for (int t = 0; t < count; t++)
        q = q * 3 + (unsigned)trit_of(x[t * stride], id);
    for (int t = count; t < 5; t++)
        q *= 3;
    return (uint8_t)((q * 256 + 242) / 243); /* ceiling of q * 256 / 3^5 */
}

static void tq1_0_block(const float *x, uint8_t *b) {
    float id;
    kern_put_f16(b + 52, ternary_scale(x, &id));
    for (int m = 0; m < 32; m++)
        b[m] = pack_trits(x + m, 32, 5, id);
    for (int m = 0; m < 16; m++)
        b[32 + m] = pack_trits(x + 160 + m, 16, 5, id);
    for (int j = 0; j < 4; j++)
        b[48 + j] = pack_trits(x + 240 + j, 4, 4, id);
}

static void tq2_0_block(const float *x, uint8_t *b) {
    float id;
    kern_put_f16(b + 64, ternary_scale(x, &id));
    for (int c = 0; c < 2; c++)
        for (int m = 0; m < 32; m++) {
            unsigned q = 0;
            for (int s = 0; s < 4; s++)
                q |= (unsigned)(trit_of(x[128 * c + 32 * s + m], id) & 3) << (2 * s);
            b[32 * c + m] = (uint8_t)q;
        }
}

size_t kern_quantize_tq1_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix) {
    (void)imatrix; /* ggml ignores it for ternary types */
    int64_t nb = nrows * (n_per_row / QK_T);
    uint8_t *out = dst;
    for (int64_t i = 0; i < nb; i++)
        tq1_0_block(src + i * QK_T, out + i * TQ1_0_BYTES);
    return (size_t)nb * TQ1_0_BYTES;
}

size_t kern_quantize_tq2_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix) {
    (void)imatrix;
    int64_t nb = nrows * (n_per_row / QK_T);
    uint8_t *out = dst;
    for (int64_t i = 0; i < nb; i++)
        tq2_0_block(src + i * QK_T, out + i * TQ2_0_BYTES);
    return (size_t)nb * TQ2_0_BYTES;
}
