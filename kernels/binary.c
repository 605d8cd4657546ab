/*
 * binary.c -- Q1_0, ggml's 1-bit format: 128 signs times one fp16 scale
 * (1.125 bits per weight). Reference dequantizer and quantizer
 * byte-identical to ggml (llama.cpp ec562eb ggml-quants.c
 * quantize_row_q1_0_ref / dequantize_row_q1_0).
 *
 * Quantizing: d = (sum of |x| over the block, added in element order in
 * float) / 128, so the stored magnitude is the block's mean absolute value;
 * the bit of element j is 1 when x[j] >= 0 (so -0.0 counts as positive).
 * ggml ignores the importance matrix: with one it quantizes row by row with
 * the same reference function, which gives the same bytes.
 */
#include <math.h>

#include "kernels_internal.h"

#define QK1 128

/*
 * Q1_0, 18 bytes, y = bit ? +d : -d:
 *
 *   byte 0      2                               18
 *        +------+-------------------------------+
 *        | d f16| qs[16]: bit (j % 8) of qs[j/8] |
 *        |      |         is the sign of x[j]    |
 *        +------+-------------------------------+
 */
enum { Q1_0_BYTES = 18 };

void kern_dequant_q1_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK1; i++, b += Q1_0_BYTES) {
        const float d = kern_get_f16(b);
        const float pm[2] = {-d, d}; /* indexed by the bit: no branch */
        for (int k = 0; k < QK1 / 8; k++, dst += 8)
            for (int m = 0; m < 8; m++)
                dst[m] = pm[(b[2 + k] >> m) & 1];
    }
}

static void q1_0_block(const float *x, uint8_t *b) {
    /* one sequential float sum, as ggml: a reordered (SIMD) sum could round
     * differently and change d */
    float sum_abs = 0.0f;
    for (int j = 0; j < QK1; j++)
        sum_abs += fabsf(x[j]);
    kern_put_f16(b, sum_abs / QK1);
    for (int k = 0; k < QK1 / 8; k++) {
        unsigned bits = 0;
        for (int m = 0; m < 8; m++)
            bits |= (unsigned)(x[8 * k + m] >= 0.0f) << m;
        b[2 + k] = (uint8_t)bits;
    }
}

size_t kern_quantize_q1_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix) {
    (void)imatrix; /* same bytes with or without it, see above */
    int64_t nb = nrows * (n_per_row / QK1);
    uint8_t *out = dst;
    for (int64_t i = 0; i < nb; i++)
        q1_0_block(src + i * QK1, out + i * Q1_0_BYTES);
    return (size_t)nb * Q1_0_BYTES;
}
