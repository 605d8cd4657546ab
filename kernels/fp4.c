/*
 * fp4.c -- MXFP4 (OCP microscaling FP4): 32 E2M1 values sharing one E8M0
 * power-of-two scale. Reference dequantizer and quantizer byte-identical to
 * ggml d99724f (src/ggml-quants.c quantize_row_mxfp4_ref); the format did
 * not exist in the Feb-2025 snapshot. The imatrix is ignored, as in ggml.
 */
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

#define QK_MX 32

/*
 * MXFP4, 17 bytes:
 *
 *   byte 0    1                                   17
 *        +----+-----------------------------------+
 *        | e  | qs[16]: lo nibble = x[j]           |
 *        |E8M0|        hi nibble = x[j + 16]       |
 *        +----+-----------------------------------+
 *
 *   y = kv[q] * 2^(e - 128), where kv is E2M1 doubled (so the scale is
 *   halved): {0, 1, 2, 3, 4, 6, 8, 12, -0, -1, -2, -3, -4, -6, -8, -12}.
 *   e = 0 and 1 give the subnormal scales 2^-128 and 2^-127.
 */
enum { MXFP4_BYTES = 17 };

static const int8_t kv_e2m1x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/* 2^(e - 128) as a float, exact for every e (e < 2 is subnormal). */
static float e8m0_half(uint8_t e) {
    uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void kern_dequant_mxfp4_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_MX; i++, b += MXFP4_BYTES, dst += QK_MX) {
        float d = e8m0_half(b[0]);
        for (int j = 0; j < QK_MX / 2; j++) {
            dst[j] = (float)kv_e2m1x2[b[1 + j] & 0x0F] * d;
            dst[j + QK_MX / 2] = (float)kv_e2m1x2[b[1 + j] >> 4] * d;
        }
    }
}

/* First code minimising |kv*d - x|: +0 (index 0) wins over -0 (index 8). */
static int nearest_code(float x, float d) {
    int best = 0;
    float best_err = fabsf((float)kv_e2m1x2[0] * d - x);
    for (int i = 1; i < 16; i++) {
        float err = fabsf((float)kv_e2m1x2[i] * d - x);
        if (err < best_err) {
            best = i;
            best_err = err;
        }
    }
    return best;
}

/* The shared exponent puts max|x| in [4, 8) * 2^(e-128), i.e. the top
 * binade of the doubled E2M1 grid. It comes from libm's log2f, as in ggml
 * (frexp would differ where log2f rounds up just below a power of two);
 * the float result is narrowed like ggml's (uint8_t) cast on x86-64. */
static void mxfp4_block(const float *x, uint8_t *b) {
    float amax = 0.0f;
    for (int j = 0; j < QK_MX; j++)
        if (amax < fabsf(x[j]))
            amax = fabsf(x[j]);
    uint8_t e = 0;
    if (amax > 0.0f)
        e = (uint8_t)kern_cvtt_i32(floorf(log2f(amax)) - 2 + 127);
    float d = e8m0_half(e);
    b[0] = e;
    for (int j = 0; j < QK_MX / 2; j++)
        b[1 + j] = (uint8_t)(nearest_code(x[j], d) | (nearest_code(x[j + QK_MX / 2], d) << 4));
}

void kern_mxfp4_block_from_codes(uint8_t e8m0, const uint8_t codes[32], void *dst) {
    uint8_t *b = dst;
    b[0] = e8m0;
    for (int j = 0; j < QK_MX / 2; j++)
        b[1 + j] = (uint8_t)((codes[j] & 0x0F) | (codes[j + QK_MX / 2] << 4));
}

size_t kern_quantize_mxfp4_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix) {
    (void)imatrix;
    int64_t nb = nrows * (n_per_row / QK_MX);
    uint8_t *out = dst;
    for (int64_t i = 0; i < nb; i++)
        mxfp4_block(src + i * QK_MX, out + i * MXFP4_BYTES);
    return (size_t)nb * MXFP4_BYTES;
}
