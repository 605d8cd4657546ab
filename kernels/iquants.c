/*
 * iquants.c -- reference dequantize/quantize for the i-quant family:
 * IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_NL, IQ4_XS.
 *
 * Dequantization is bit-identical to ggml's dequantize_row_iq*; quantization
 * is byte-identical to ggml's quantize_iq*() as llama-quantize calls them
 * through ggml_quantize_chunk() (llama.cpp c392e50, ggml/src/ggml-quants.c),
 * with and without an importance matrix. Every float expression keeps ggml's
 * association order and binary32 arithmetic (the build has
 * -ffp-contract=off); ggml's quirks are reproduced and marked as such.
 *
 * Blocks are handled as byte arrays (little-endian fields); the grids live
 * in iq_grids.c.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

#define QK_K 256

/* ------------------------------------------------------------------------ */
/* Grid expansion and sign helpers                                           */
/* ------------------------------------------------------------------------ */

/* Dequantized value of a coordinate level, per family (see iq_grids.c). */
static const uint8_t iq2_level_value[4] = {8, 25, 43, 0};
static const uint8_t iq3xxs_level_value[8] = {4, 12, 20, 28, 36, 44, 52, 62};

/* ggml ksigns_iq2xs: 7 stored sign bits plus an 8th that makes the number
 * of negative signs even. */
static inline uint8_t ksigns(unsigned code) {
    unsigned p = code ^ (code >> 4);
    p ^= p >> 2;
    p ^= p >> 1;
    return (uint8_t)(code | ((p & 1u) << 7));
}

static inline float sign_of(unsigned signs, int j) {
    return (signs >> j) & 1u ? -1.f : 1.f;
}

/* ------------------------------------------------------------------------ */
/* Dequantization                                                            */
/* ------------------------------------------------------------------------ */

/*
 * IQ2_XXS, 66 bytes per 256 values: 8 blocks of 32 values, each 4 groups of 8.
 *
 *   0       2        10       18                                     58       66
 *   +-------+--------+--------+--------------------------------------+--------+
 *   | d f16 | blk 0  | blk 1  |  ...                                 | blk 7  |
 *   +-------+--------+--------+--------------------------------------+--------+
 *
 *   block ib (8 bytes at 2 + 8ib):
 *     0    1    2    3    4                                       8
 *     +----+----+----+----+---------------------------------------+
 *     | a0 | a1 | a2 | a3 | u32 aux                               |
 *     +----+----+----+----+---------------------------------------+
 *     a_l: 8-bit index into the 256-point grid for group l (values 32ib + 8l ..
 *          32ib + 8l + 7); a grid point is 8 coordinates of 2 bits (bits 2j..2j+1
 *          = level of value j, level -> 8, 25, 43).
 *     aux: bits 7l..7l+6 = 7-bit sign code of group l (l = 0..3), bits 28..31 =
 *          4-bit scale s. The code expands by ksigns(): bit j = sign of value j,
 *          bit 7 added so that the number of minus signs is even.
 *
 *   y[32ib + 8l + j] = d * (0.5 + s) * 0.25 * {8, 25, 43}[level j] * (bit j ? -1 : 1)
 */
void kern_dequant_iq2_xxs_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += 66) {
        const float d = kern_get_f16(b);
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t *q = b + 2 + 8 * ib;
            const uint32_t aux = kern_get_u32(q + 4);
            const float db = d * (0.5f + (aux >> 28)) * 0.25f;
            for (int l = 0; l < 4; l++) {
                const uint16_t g = kern_iq2xxs_kgrid[q[l]];
                const uint8_t s = ksigns((aux >> (7 * l)) & 127);
                for (int j = 0; j < 8; j++)
                    *dst++ = db * iq2_level_value[(g >> (2 * j)) & 3] * sign_of(s, j);
            }
        }
    }
}

/*
 * IQ2_XS, 74 bytes per 256 values: 8 blocks of 32 values, each 4 groups of 8.
 *
 *   0       2                                        66            74
 *   +-------+----------------------------------------+-------------+
 *   | d f16 | u16 qs[32]: one word per group of 8    | scales[8]   |
 *   +-------+----------------------------------------+-------------+
 *
 *   qs[4ib + l] (group l of block ib, values 32ib + 8l .. + 7):
 *      15         9 8                0
 *     +------------+------------------+
 *     | sign (7)   | grid index (9)   |
 *     +------------+------------------+
 *     grid index: one of 512 points of 8 coordinates, 2 bits each (level -> 8,
 *     25, 43); sign: 7-bit code expanded by ksigns() as in IQ2_XXS.
 *   scales[ib]: low nibble = 4-bit scale s of groups 0-1 (the first 16 values),
 *     high nibble = s of groups 2-3.
 *
 *   y[32ib + 8l + j] = d * (0.5 + s) * 0.25 * {8, 25, 43}[level j] * (bit j ? -1 : 1)
 */
void kern_dequant_iq2_xs_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += 74) {
        const float d = kern_get_f16(b);
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t sc = b[66 + ib];
            const float db[2] = {d * (0.5f + (sc & 0xf)) * 0.25f, d * (0.5f + (sc >> 4)) * 0.25f};
            for (int l = 0; l < 4; l++) {
                const uint16_t w = kern_get_u16(b + 2 + 2 * (4 * ib + l));
                const uint16_t g = kern_iq2xs_kgrid[w & 511];
                const uint8_t s = ksigns(w >> 9);
                for (int j = 0; j < 8; j++)
                    *dst++ = db[l / 2] * iq2_level_value[(g >> (2 * j)) & 3] * sign_of(s, j);
            }
        }
    }
}

/*
 * IQ2_S, 82 bytes per 256 values: 8 blocks of 32 values, each 4 groups of 8.
 *
 *   0       2            34            66        74            82
 *   +-------+------------+-------------+---------+-------------+
 *   | d f16 | qs[32]     | signs[32]   | qh[8]   | scales[8]   |
 *   +-------+------------+-------------+---------+-------------+
 *
 *   Group l of block ib (values 32ib + 8l .. + 7) has:
 *     grid index (10 bits) = qs[4ib + l] | ((qh[ib] >> 2l) & 3) << 8
 *       one of 1024 points of 8 coordinates, 2 bits each (level -> 8, 25, 43)
 *     signs[4ib + l]: bit j = sign of value j (all 8 stored, no parity)
 *   qh[ib]:     bits 2l..2l+1 = index bits 8..9 of group l
 *   scales[ib]: as IQ2_XS (low nibble: groups 0-1, high nibble: groups 2-3)
 *
 *   y[32ib + 8l + j] = d * (0.5 + s) * 0.25 * {8, 25, 43}[level j] * (bit j ? -1 : 1)
 */
void kern_dequant_iq2_s_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += 82) {
        const float d = kern_get_f16(b);
        const uint8_t *qs = b + 2, *signs = b + 34, *qh = b + 66, *scales = b + 74;
        for (int ib = 0; ib < 8; ib++) {
            const float db[2] = {d * (0.5f + (scales[ib] & 0xf)) * 0.25f,
                                 d * (0.5f + (scales[ib] >> 4)) * 0.25f};
            for (int l = 0; l < 4; l++) {
                const int idx = qs[4 * ib + l] | ((qh[ib] << (8 - 2 * l)) & 0x300);
                const uint16_t g = kern_iq2s_kgrid[idx];
                for (int j = 0; j < 8; j++)
                    *dst++ = db[l / 2] * iq2_level_value[(g >> (2 * j)) & 3] *
                             sign_of(signs[4 * ib + l], j);
            }
        }
    }
}

/*
 * IQ3_XXS, 98 bytes per 256 values: 8 blocks of 32 values, each 8 groups of 4
 * (grid indices) and 4 groups of 8 (signs).
 *
 *   0       2                             66                          98
 *   +-------+-----------------------------+---------------------------+
 *   | d f16 | qs[64]: grid indices        | u32 aux[8]: one per block |
 *   +-------+-----------------------------+---------------------------+
 *
 *   qs[8ib + 2l + h]: 8-bit index into the 256-point grid for values
 *     32ib + 8l + 4h .. + 3; a grid point is 4 coordinates of 3 bits (bits
 *     3j..3j+2 = level, level -> 4, 12, 20, 28, 36, 44, 52, 62).
 *   aux[ib] (at 66 + 4ib):
 *      31     28 27      21 20      14 13       7 6        0
 *     +---------+----------+----------+----------+----------+
 *     | s (4)   | sign l=3 | sign l=2 | sign l=1 | sign l=0 |
 *     +---------+----------+----------+----------+----------+
 *     sign code l covers values 32ib + 8l .. + 7, expanded by ksigns() as in
 *     IQ2_XXS (bit k = sign of value 8l + k of the block).
 *
 *   y[32ib + 8l + k] = d * (0.5 + s) * 0.5 * {4, 12, ..., 62}[level] * (bit k ? -1 : 1)
 */
void kern_dequant_iq3_xxs_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += 98) {
        const float d = kern_get_f16(b);
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t *qs = b + 2 + 8 * ib;
            const uint32_t aux = kern_get_u32(b + 66 + 4 * ib);
            const float db = d * (0.5f + (aux >> 28)) * 0.5f;
            for (int l = 0; l < 4; l++) {
                const uint8_t s = ksigns((aux >> (7 * l)) & 127);
                for (int h = 0; h < 2; h++) {
                    const uint16_t g = kern_iq3xxs_kgrid[qs[2 * l + h]];
                    for (int j = 0; j < 4; j++)
                        dst[4 * h + j] =
                            db * iq3xxs_level_value[(g >> (3 * j)) & 7] * sign_of(s, 4 * h + j);
                }
                dst += 8;
            }
        }
    }
}

/*
 * IQ3_S, 110 bytes per 256 values: 8 blocks of 32 values, each 8 groups of 4.
 *
 *   0       2                66        74                106          110
 *   +-------+----------------+---------+-----------------+------------+
 *   | d f16 | qs[64]         | qh[8]   | signs[32]       | scales[4]  |
 *   +-------+----------------+---------+-----------------+------------+
 *
 *   Group g (0..7) of block ib (values 32ib + 4g .. + 3) has:
 *     grid index (9 bits) = qs[8ib + g] | ((qh[ib] >> g) & 1) << 8
 *       one of 512 points of 4 coordinates, 3 bits each (level l -> 2l + 1)
 *     signs[4ib + g/2]: one byte per 8 values, bit 4(g%2) + j = sign of
 *       value j of group g (all stored, no parity)
 *   qh[ib]:        bit g = index bit 8 of group g
 *   scales[ib/2]:  nibble ib%2 (low nibble for even ib) = 4-bit scale s
 *
 *   y[32ib + 4g + j] = d * (1 + 2s) * (2 * level j + 1) * (sign bit ? -1 : 1)
 */
void kern_dequant_iq3_s_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += 110) {
        const float d = kern_get_f16(b);
        const uint8_t *qs = b + 2, *qh = b + 66, *signs = b + 74, *scales = b + 106;
        for (int ib = 0; ib < 8; ib++) {
            const float db = d * (1 + 2 * ((scales[ib / 2] >> (4 * (ib % 2))) & 0xf));
            for (int g8 = 0; g8 < 8; g8++) {
                const int idx = qs[8 * ib + g8] | (((qh[ib] >> g8) & 1) << 8);
                const uint16_t g = kern_iq3s_kgrid[idx];
                const uint8_t s = signs[4 * ib + g8 / 2];
                for (int j = 0; j < 4; j++)
                    *dst++ = db * (2 * ((g >> (3 * j)) & 7) + 1) * sign_of(s, 4 * (g8 % 2) + j);
            }
        }
    }
}

/*
 * IQ1_S, 50 bytes per 256 values: 8 blocks of 32 values, each 4 groups of 8.
 *
 *   0       2                  34                      50
 *   +-------+------------------+-----------------------+
 *   | d f16 | qs[32]           | u16 qh[8]: per block  |
 *   +-------+------------------+-----------------------+
 *
 *   qs[4ib + l]: low 8 bits of the 11-bit grid index of group l of block ib
 *     (values 32ib + 8l .. + 7); a grid point (2048 of them) is 8 coordinates
 *     of 2 bits (level -> level - 1, i.e. -1, 0, +1).
 *   qh[ib] (at 34 + 2ib):
 *      15   14     12 11      9 8       6 5       3 2       0
 *     +----+---------+---------+---------+---------+---------+
 *     | ds | s (3)   | hi l=3  | hi l=2  | hi l=1  | hi l=0  |
 *     +----+---------+---------+---------+---------+---------+
 *     hi l: index bits 8..10 of group l; s: 3-bit block scale;
 *     ds: sign of the block's delta (0: +1/8, 1: -1/8).
 *
 *   y[32ib + 8l + j] = d * (2s + 1) * (grid value j + delta)
 */
#define IQ1_DELTA 0.125f

static inline int iq1_value(uint16_t g, int j) {
    return ((g >> (2 * j)) & 3) - 1;
}

void kern_dequant_iq1_s_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += 50) {
        const float d = kern_get_f16(b);
        for (int ib = 0; ib < 8; ib++) {
            const uint16_t qh = kern_get_u16(b + 34 + 2 * ib);
            const float dl = d * (2 * ((qh >> 12) & 7) + 1);
            const float delta = qh & 0x8000 ? -IQ1_DELTA : IQ1_DELTA;
            for (int l = 0; l < 4; l++) {
                const uint16_t g =
                    kern_iq1s_kgrid[b[2 + 4 * ib + l] | (((qh >> (3 * l)) & 7) << 8)];
                for (int j = 0; j < 8; j++)
                    *dst++ = dl * (iq1_value(g, j) + delta);
            }
        }
    }
}

/*
 * IQ1_M, 56 bytes per 256 values: 8 blocks of 32 values, each 4 groups of 8;
 * no d field of its own (its 16 bits are spread over sc[]).
 *
 *   0                  32            48                  56
 *   +------------------+-------------+-------------------+
 *   | qs[32]           | qh[16]      | u16 sc[4]         |
 *   +------------------+-------------+-------------------+
 *
 *   qs[4ib + l]: low 8 bits of the 11-bit grid index of group l of block ib
 *     (values 32ib + 8l .. + 7), same grid as IQ1_S (levels -> -1, 0, +1).
 *   qh[2ib + l/2]: low nibble for even l, high nibble for odd l:
 *     bit 3 = delta sign of group l (0: +1/8, 1: -1/8), bits 0..2 = index bits 8..10
 *   sc[k] (at 48 + 2k), covering blocks 2k and 2k+1:
 *      15       12 11        9 8         6 5         3 2         0
 *     +-----------+-----------+-----------+-----------+-----------+
 *     | d nib k   | s 2k+1 hi | s 2k+1 lo | s 2k hi   | s 2k lo   |
 *     +-----------+-----------+-----------+-----------+-----------+
 *     3-bit scales, one per 16 values (lo half = groups 0-1, hi half = 2-3);
 *     d (f16) = the four top nibbles, sc[0] lowest: bits 4k..4k+3 of d.
 *
 *   y[32ib + 8l + j] = d * (2s + 1) * (grid value j + delta of group l)
 */
void kern_dequant_iq1_m_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += 56) {
        uint16_t sc[4];
        for (int k = 0; k < 4; k++)
            sc[k] = kern_get_u16(b + 48 + 2 * k);
        const uint16_t h = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
                                      ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
        const float d = kern_fp16_to_fp32(h);
        for (int ib = 0; ib < 8; ib++) {
            const float dl[2] = {d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 7) + 1),
                                 d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 7) + 1)};
            for (int l = 0; l < 4; l++) {
                const uint8_t qh = b[32 + 2 * ib + l / 2];
                const int hi = l % 2 ? qh >> 4 : qh & 0xf;
                const uint16_t g = kern_iq1s_kgrid[b[4 * ib + l] | ((hi & 7) << 8)];
                const float delta = hi & 8 ? -IQ1_DELTA : IQ1_DELTA;
                for (int j = 0; j < 8; j++)
                    *dst++ = dl[l / 2] * (iq1_value(g, j) + delta);
            }
        }
    }
}

/*
 * IQ4_NL, 18 bytes per 32 values, y = d * kvalues[q] (16-entry non-linear
 * codebook kern_iq4nl_values):
 *
 *   0       2                                  18
 *   +-------+----------------------------------+
 *   | d f16 | qs[16]: lo nibble = q of value j |
 *   |       |         hi nibble = q of j + 16  |
 *   +-------+----------------------------------+
 */
void kern_dequant_iq4_nl_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 18, dst += 32) {
        const float d = kern_get_f16(b);
        for (int j = 0; j < 16; j++) {
            dst[j] = d * kern_iq4nl_values[b[2 + j] & 0xf];
            dst[j + 16] = d * kern_iq4nl_values[b[2 + j] >> 4];
        }
    }
}

/*
 * IQ4_XS, 136 bytes per 256 values: 8 blocks of 32, each an IQ4_NL block
 * without its d, under a 6-bit block scale ls.
 *
 *   0       2              4               8                           136
 *   +-------+--------------+---------------+---------------------------+
 *   | d f16 | u16 scales_h | scales_l[4]   | qs[128]: 16 per block     |
 *   +-------+--------------+---------------+---------------------------+
 *
 *   ls of block ib (6 bits) = low 4 bits: nibble ib%2 of scales_l[ib/2]
 *                                         (low nibble for even ib)
 *                             high 2 bits: scales_h bits 2ib..2ib+1
 *   qs[16ib + j]: lo nibble = q of value 32ib + j, hi nibble = q of 32ib + j + 16
 *
 *   y[32ib + j] = d * (ls - 32) * kvalues[q]
 */
void kern_dequant_iq4_xs_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, b += 136) {
        const float d = kern_get_f16(b);
        const uint16_t sh = kern_get_u16(b + 2);
        for (int ib = 0; ib < 8; ib++, dst += 32) {
            const int ls =
                ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xf) | (((sh >> (2 * ib)) & 3) << 4);
            const float dl = d * (ls - 32);
            const uint8_t *qs = b + 8 + 16 * ib;
            for (int j = 0; j < 16; j++) {
                dst[j] = dl * kern_iq4nl_values[qs[j] & 0xf];
                dst[j + 16] = dl * kern_iq4nl_values[qs[j] >> 4];
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* IQ4_NL / IQ4_XS quantization (ggml quantize_row_iq4_nl_impl, ntry = 7)    */
/* ------------------------------------------------------------------------ */

/*
 * One super-block of sbs values (32 for IQ4_NL, 256 for IQ4_XS) in 32-value
 * blocks. llama-quantize reaches this through quantize_iq4_nl/_xs with
 * ntry = 7 (not the _ref row function, which uses ntry = -1).
 * out: the block; IQ4_NL = d | qs[16], IQ4_XS = d | scales_h | scales_l[4] | qs.
 */
static void iq4_superblock(int sbs, const float *x, uint8_t *out, const float *qw) {
    enum { NTRY = 7 };
    const int8_t *values = kern_iq4nl_values;
    float valf[16];
    for (int k = 0; k < 16; k++)
        valf[k] = values[k];
    const int nb = sbs / 32;
    uint8_t L[QK_K];
    float scales[QK_K / 32];
    float weight[32];

    float sigma2 = 0;
    for (int j = 0; j < sbs; j++)
        sigma2 += x[j] * x[j];
    sigma2 *= 2.f / sbs;

    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < nb; ib++) {
        const float *xb = x + 32 * ib;
        uint8_t *Lb = L + 32 * ib;
        if (qw) {
            for (int j = 0; j < 32; j++)
                weight[j] = qw[32 * ib + j] * sqrtf(sigma2 + xb[j] * xb[j]);
        } else {
            for (int j = 0; j < 32; j++)
                weight[j] = xb[j] * xb[j];
        }
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float ax = fabsf(xb[j]);
            if (ax > amax) {
                amax = ax;
                max = xb[j];
            }
        }
        if (amax < KERN_GROUP_MAX_EPS) {
            scales[ib] = 0;
            continue;
        }
        float d = -max / values[0];
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < 32; j++) {
            int l = kern_best_index16(valf, id * xb[j]);
            Lb[j] = (uint8_t)l;
            float q = values[l];
            float w = weight[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        d = sumqx / sumq2;
        float best = d * sumqx;
        for (int itry = -NTRY; itry <= NTRY; itry++) {
            id = (itry + values[0]) / max;
            sumqx = sumq2 = 0;
            for (int j = 0; j < 32; j++) {
                float q = values[kern_best_index16(valf, id * xb[j])];
                float w = weight[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scales[ib] = d;
        float abs_d = fabsf(d);
        if (abs_d > amax_scale) {
            amax_scale = abs_d;
            max_scale = d;
        }
    }

    uint8_t *q4;
    if (nb > 1) {
        uint8_t *scales_l = out + 4;
        uint16_t scales_h = 0;
        memset(scales_l, 0, 4);
        /* The fp32 d (not its f16 rounding) sets the 6-bit scales; an all-zero
         * super-block gives d = -0.0, stored as 0x8000 as in ggml. */
        float d = -max_scale / 32;
        kern_put_f16(out, d);
        float id = d ? 1 / d : 0.f;
        for (int ib = 0; ib < nb; ib++) {
            int l = kern_nearest_int(id * scales[ib]);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            float dl = d * l;
            float idl = dl ? 1 / dl : 0.f;
            for (int j = 0; j < 32; j++)
                L[32 * ib + j] = (uint8_t)kern_best_index16(valf, idl * x[32 * ib + j]);
            l += 32;
            scales_l[ib / 2] |= (uint8_t)((l & 0xf) << (4 * (ib % 2)));
            scales_h |= (uint16_t)((l >> 4) << (2 * ib));
        }
        kern_put_u16(out + 2, scales_h);
        q4 = out + 8;
    } else {
        kern_put_f16(out, scales[0]);
        float id = scales[0] ? 1 / scales[0] : 0;
        for (int j = 0; j < 32; j++)
            L[j] = (uint8_t)kern_best_index16(valf, id * x[j]);
        q4 = out + 2;
    }
    for (int i = 0; i < nb; i++)
        for (int j = 0; j < 16; j++)
            q4[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

size_t kern_quantize_iq4_nl_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                const float *imatrix) {
    uint8_t *out = dst;
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t ib = 0; ib < n_per_row / 32; ib++, out += 18)
            iq4_superblock(32, src + r * n_per_row + 32 * ib, out,
                           imatrix ? imatrix + 32 * ib : NULL);
    }
    return (size_t)nrows * (size_t)(n_per_row / 32) * 18;
}

size_t kern_quantize_iq4_xs_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                const float *imatrix) {
    uint8_t *out = dst;
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t ib = 0; ib < n_per_row / QK_K; ib++, out += 136)
            iq4_superblock(QK_K, src + r * n_per_row + QK_K * ib, out,
                           imatrix ? imatrix + QK_K * ib : NULL);
    }
    return (size_t)nrows * (size_t)(n_per_row / QK_K) * 136;
}

/* ------------------------------------------------------------------------ */
/* Grid search helpers shared by the IQ2/IQ3 quantizers                      */
/* ------------------------------------------------------------------------ */

/* Writes the levels of grid point idx to L[0..dim). */
static void grid_levels(const kern_iq_lattice *lat, int idx, int8_t *L) {
    for (int i = 0; i < lat->dim; i++)
        L[i] = (int8_t)kern_iq_level(lat, idx, i);
}

/*
 * ggml iq2/iq3_find_best_neighbour: among the neighbour list of an off-grid
 * key, the grid point minimising sum weight*(scale*q - xval)^2 (q = 2l+1;
 * first one on ties). Writes its levels to L and returns its index.
 */
static int best_neighbour(const kern_iq_lattice *lat, int key, const float *xval,
                          const float *weight, float scale, int8_t *L) {
    const uint16_t *nb = lat->neighbours + (-lat->map[key] - 1);
    float best_d2 = FLT_MAX;
    int best = nb[1];
    for (int j = 1; j <= nb[0]; j++) {
        float d2 = 0;
        for (int i = 0; i < lat->dim; i++) {
            float q = 2 * kern_iq_level(lat, nb[j], i) + 1;
            float diff = scale * q - xval[i];
            d2 += weight[i] * diff * diff;
        }
        if (d2 < best_d2) {
            best_d2 = d2;
            best = nb[j];
        }
    }
    grid_levels(lat, best, L);
    return best;
}

/* Grid index of the levels L: the point itself, or its best neighbour (then
 * L is rewritten to that neighbour's levels). */
static int on_grid_or_neighbour(const kern_iq_lattice *lat, int8_t *L, const float *xval,
                                const float *weight, float scale, int *on_grid) {
    int key = kern_iq_key(lat->dim, L);
    int idx = lat->map[key];
    if (on_grid)
        *on_grid = idx >= 0;
    if (idx >= 0)
        return idx;
    return best_neighbour(lat, key, xval, weight, scale, L);
}

static inline int clamp_level(int l, int kmax) {
    return l < 0 ? 0 : l > kmax - 1 ? kmax - 1 : l;
}

/* Sum of squares of a 256-value super-block, in index order (sigma2 of the
 * weighting in ggml's i-quant quantizers is derived from it). */
static float block_sum_squares(const float *xbl) {
    float sumx2 = 0;
    for (int i = 0; i < QK_K; i++)
        sumx2 += xbl[i] * xbl[i];
    return sumx2;
}

/* ------------------------------------------------------------------------ */
/* IQ3_S quantization (ggml quantize_row_iq3_s_impl, 32-value blocks)       */
/* ------------------------------------------------------------------------ */

enum { IQ3S_KMAXQ = 8, IQ3S_BS = 32 }; /* levels per coordinate, values per block scale */

/* ggml's weighting of one 32-value block: imatrix * sqrt(sigma2 + x^2), or
 * x^2 without imatrix (qw NULL); waux gets the square roots. */
static void iq3s_weights(const float *xb, const float *qw, float sigma2, float *weight,
                         float *waux) {
    if (qw) {
        for (int i = 0; i < IQ3S_BS; i++)
            weight[i] = qw[i] * sqrtf(sigma2 + xb[i] * xb[i]);
    } else {
        for (int i = 0; i < IQ3S_BS; i++)
            weight[i] = xb[i] * xb[i];
    }
    for (int i = 0; i < IQ3S_BS; i++)
        waux[i] = sqrtf(weight[i]);
}

/* |x| into xval and the sign bits (1 = negative, 8 values a byte) into
 * signs; returns max |x|. */
static float iq3s_abs_signs(const float *xb, float *xval, uint8_t *signs) {
    for (int k = 0; k < IQ3S_BS / 8; k++) {
        uint8_t s = 0;
        for (int i = 0; i < 8; i++) {
            if (xb[8 * k + i] >= 0) {
                xval[8 * k + i] = xb[8 * k + i];
            } else {
                xval[8 * k + i] = -xb[8 * k + i];
                s |= (uint8_t)(1 << i);
            }
        }
        signs[k] = s;
    }
    float max = xval[0];
    for (int i = 1; i < IQ3S_BS; i++)
        max = max > xval[i] ? max : xval[i];
    return max;
}

/* Levels of the block at inverse scale id, each group of 4 then moved onto
 * the grid (or to its best neighbour at scale); on_grid[k] (may be NULL)
 * tells whether group k was on the grid already. */
static void iq3s_project(const kern_iq_lattice *lat, float id, float scale, const float *xval,
                         const float *waux, int8_t *L, int *on_grid) {
    for (int k = 0; k < IQ3S_BS / 4; k++) {
        for (int i = 0; i < 4; i++) {
            int l = kern_nearest_int(0.5f * (id * xval[4 * k + i] - 1));
            L[4 * k + i] = (int8_t)clamp_level(l, IQ3S_KMAXQ);
        }
        on_grid_or_neighbour(lat, L + 4 * k, xval + 4 * k, waux + 4 * k, scale,
                             on_grid ? &on_grid[k] : NULL);
    }
}

/* sum w*x*q and sum w*q^2 over the block (q = 2L+1), in index order. */
static void iq3s_sums(const float *weight, const float *xval, const int8_t *L, float *sumqx,
                      float *sumq2) {
    float sx = 0, s2 = 0;
    for (int i = 0; i < IQ3S_BS; i++) {
        float w = weight[i];
        float q = 2 * L[i] + 1;
        sx += w * xval[i] * q;
        s2 += w * q * q;
    }
    *sumqx = sx;
    *sumq2 = s2;
}

/* ggml's scale search for one block (max |x| = max > 0): a sweep of 19
 * inverse scales keeps the best levels in L, then, when a group is off the
 * grid, all groups are re-projected at that scale (ggml re-projects every
 * group, not only the off-grid ones). Returns the scale, possibly < 0. */
static float iq3s_block_scale(const kern_iq_lattice *lat, const float *xval, const float *weight,
                              const float *waux, float max, int8_t *L) {
    int8_t Laux[IQ3S_BS];
    int is_on_grid[IQ3S_BS / 4] = {0}, is_on_grid_aux[IQ3S_BS / 4];
    float best = 0;
    float scale = max / (2 * IQ3S_KMAXQ - 1);
    for (int is = -9; is <= 9; is++) {
        float id = (2 * IQ3S_KMAXQ - 1 + is * 0.2f) / max;
        float this_scale = 1 / id;
        iq3s_project(lat, id, this_scale, xval, waux, Laux, is_on_grid_aux);
        float sumqx, sumq2;
        iq3s_sums(weight, xval, Laux, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            scale = sumqx / sumq2;
            best = scale * sumqx;
            memcpy(L, Laux, IQ3S_BS);
            memcpy(is_on_grid, is_on_grid_aux, sizeof is_on_grid);
        }
    }
    int n_not_ongrid = 0;
    for (int k = 0; k < IQ3S_BS / 4; k++)
        n_not_ongrid += !is_on_grid[k];
    if (n_not_ongrid > 0 && scale > 0) {
        float id = 1 / scale;
        iq3s_project(lat, id, scale, xval, waux, L, NULL);
        float sumqx, sumq2;
        iq3s_sums(weight, xval, L, &sumqx, &sumq2);
        if (sumq2 > 0)
            scale = sumqx / sumq2;
    }
    return scale;
}

/* The super-block scale d = max_scale / 31 (stored times 1.033, as ggml
 * does) and the 4-bit block scales relative to it. */
static void iq3s_put_scales(uint8_t *y, const float *scales, float max_scale) {
    if (!max_scale) {
        kern_put_f16(y, 0.f);
        return;
    }
    float d = max_scale / 31;
    kern_put_f16(y, d * 1.033f);
    float id = 1 / d;
    for (int ib = 0; ib < QK_K / IQ3S_BS; ib += 2) {
        int l1 = clamp_level(kern_nearest_int(0.5f * (id * scales[ib + 0] - 1)), 16);
        int l2 = clamp_level(kern_nearest_int(0.5f * (id * scales[ib + 1] - 1)), 16);
        y[106 + ib / 2] = (uint8_t)(l1 | (l2 << 4));
    }
}

/*
 * One IQ3_S super-block. L (32 levels) is state that ggml keeps in
 * quantize_iq3_s()'s frame across rows; it is read before being written only
 * in degenerate (denormal) blocks, so it carries over as there (zeroed once
 * per call here, where ggml starts from stack garbage).
 */
static void iq3s_superblock(const kern_iq_lattice *lat, const float *xbl, uint8_t *y,
                            const float *qw, int8_t *L) {
    float scales[QK_K / IQ3S_BS], weight[IQ3S_BS], xval[IQ3S_BS], waux[IQ3S_BS];
    uint8_t block_signs[IQ3S_BS / 8];

    memset(y, 0, 110);
    uint8_t *qs = y + 2, *qh = y + 66, *signs = y + 74;
    float max_scale = 0;

    float sumx2 = block_sum_squares(xbl);
    float sigma2 = 2 * sumx2 / QK_K;

    for (int ib = 0; ib < QK_K / IQ3S_BS; ib++) {
        const float *xb = xbl + IQ3S_BS * ib;
        iq3s_weights(xb, qw ? qw + IQ3S_BS * ib : NULL, sigma2, weight, waux);
        float max = iq3s_abs_signs(xb, xval, block_signs);
        if (!max) {
            /* ggml quirk, kept: an all-zero block skips the advance of its
             * qs/signs pointers, so the following blocks of this super-block
             * are stored 8/4 bytes earlier (qh bits stay at their own index). */
            scales[ib] = 0;
            continue;
        }
        float scale = iq3s_block_scale(lat, xval, weight, waux, max, L);
        if (scale < 0) {
            scale = -scale;
            for (int k = 0; k < IQ3S_BS / 8; k++)
                block_signs[k] = (uint8_t)~block_signs[k];
        }
        for (int k = 0; k < IQ3S_BS / 4; k++) {
            /* ggml aborts if L is off the grid here; that needs a degenerate
             * (denormal) block, where the nearest grid point is used instead. */
            int idx = on_grid_or_neighbour(lat, L + 4 * k, xval + 4 * k, waux + 4 * k, scale, NULL);
            int bit = ib * (IQ3S_BS / 4) + k;
            qs[k] = (uint8_t)(idx & 255);
            qh[bit / 8] |= (uint8_t)((idx >> 8) << (bit % 8));
        }
        qs += IQ3S_BS / 4;
        memcpy(signs, block_signs, IQ3S_BS / 8);
        signs += IQ3S_BS / 8;
        scales[ib] = scale;
        max_scale = max_scale > scale ? max_scale : scale;
    }
    iq3s_put_scales(y, scales, max_scale);
}

size_t kern_quantize_iq3_s_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix) {
    const kern_iq_lattice *lat = kern_iq_lattice_get(KERN_IQ_LAT_IQ3S);
    int8_t L[32] = {0};
    uint8_t *out = dst;
    if (!lat)
        return 0;
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t ib = 0; ib < n_per_row / QK_K; ib++, out += 110)
            iq3s_superblock(lat, src + r * n_per_row + QK_K * ib, out,
                            imatrix ? imatrix + QK_K * ib : NULL, L);
    }
    return (size_t)nrows * (size_t)(n_per_row / QK_K) * 110;
}

/* ------------------------------------------------------------------------ */
/* IQ2_XS, IQ2_S, IQ3_XXS: shared scale sweep over a lattice                 */
/* ------------------------------------------------------------------------ */

/* Parameters of ggml's quantize_row_iq2_xs_impl / iq2_s_impl / iq3_xxs_impl,
 * which run the same search with different constants. */
typedef struct {
    int bs;        /* values per scale: 16 (IQ2) or 32 (IQ3_XXS) */
    int kmaxq;     /* levels per coordinate: 3 or 8 */
    int nis;       /* scale sweep is = -nis..nis */
    float step;    /* sweep step of the inverse scale */
    int parity;    /* 7 stored sign bits per 8 values, even parity enforced */
    int grid_init; /* is_on_grid before the sweep: 1, or -1 = left as it was */
} sweep_params;

/*
 * Signs and magnitudes of 8 values. With parity, an odd number of negatives
 * is made even by negating (in xval) the value with the smallest
 * weight*x*x (first on ties); the 8th sign bit is then implied.
 */
static uint8_t split_signs(const float *xb, const float *weight, float *xval, int parity) {
    uint8_t s = 0;
    int nflip = 0;
    for (int i = 0; i < 8; i++) {
        if (xb[i] >= 0) {
            xval[i] = xb[i];
        } else {
            xval[i] = -xb[i];
            nflip++;
            s |= (uint8_t)(1 << i);
        }
    }
    if (!parity)
        return s;
    if (nflip % 2) {
        int imin = 0;
        float min = weight[0] * xb[0] * xb[0];
        for (int i = 1; i < 8; i++) {
            float ax = weight[i] * xb[i] * xb[i];
            if (ax < min) {
                min = ax;
                imin = i;
            }
        }
        xval[imin] = -xval[imin];
        s ^= (uint8_t)(1 << imin);
    }
    return s & 127;
}

/* sum w*xval*q and sum w*q*q over n values with q = 2L+1. */
static void fit_sums(int n, const float *weight, const float *xval, const int8_t *L, float *sumqx,
                     float *sumq2) {
    float sx = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        float w = weight[i];
        float q = 2 * L[i] + 1;
        sx += w * xval[i] * q;
        s2 += w * q * q;
    }
    *sumqx = sx;
    *sumq2 = s2;
}

/*
 * One scale block (max > eps): sweep the inverse scale, snapping each group
 * to the lattice, keep the best fit; then re-project the groups that were off
 * the grid with the fitted scale and refit. L and is_on_grid persist between
 * blocks as in ggml (they are only read stale in degenerate blocks).
 * Returns the scale (>= 0); signs may be inverted for a negative fit.
 */
static float sweep_block(const kern_iq_lattice *lat, const sweep_params *p, const float *weight,
                         const float *xval, const float *waux, float max, int8_t *L,
                         int *is_on_grid, uint8_t *signs) {
    const int dim = lat->dim, ng = p->bs / dim;
    int8_t Laux[32];
    int on_aux[8];
    float best = 0;
    float scale = max / (2 * p->kmaxq - 1);
    if (p->grid_init >= 0)
        for (int k = 0; k < ng; k++)
            is_on_grid[k] = p->grid_init;
    for (int is = -p->nis; is <= p->nis; is++) {
        float id = (2 * p->kmaxq - 1 + is * p->step) / max;
        float this_scale = 1 / id;
        for (int k = 0; k < ng; k++) {
            for (int i = 0; i < dim; i++) {
                int l = kern_nearest_int(0.5f * (id * xval[dim * k + i] - 1));
                Laux[dim * k + i] = (int8_t)clamp_level(l, p->kmaxq);
            }
            on_grid_or_neighbour(lat, Laux + dim * k, xval + dim * k, waux + dim * k, this_scale,
                                 &on_aux[k]);
        }
        float sumqx, sumq2;
        fit_sums(p->bs, weight, xval, Laux, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            scale = sumqx / sumq2;
            best = scale * sumqx;
            memcpy(L, Laux, (size_t)p->bs);
            memcpy(is_on_grid, on_aux, sizeof(int) * (size_t)ng);
        }
    }
    int n_not_ongrid = 0;
    for (int k = 0; k < ng; k++)
        n_not_ongrid += !is_on_grid[k];
    if (n_not_ongrid > 0 && scale > 0) {
        float id = 1 / scale;
        for (int k = 0; k < ng; k++) {
            if (is_on_grid[k])
                continue;
            for (int i = 0; i < dim; i++) {
                int l = kern_nearest_int(0.5f * (id * xval[dim * k + i] - 1));
                L[dim * k + i] = (int8_t)clamp_level(l, p->kmaxq);
            }
            on_grid_or_neighbour(lat, L + dim * k, xval + dim * k, waux + dim * k, scale, NULL);
        }
        float sumqx, sumq2;
        fit_sums(p->bs, weight, xval, L, &sumqx, &sumq2);
        if (sumq2 > 0)
            scale = sumqx / sumq2;
    }
    if (scale < 0) {
        scale = -scale;
        for (int k = 0; k < p->bs / 8; k++)
            signs[k] = (uint8_t)(p->parity ? ~signs[k] & 127 : ~signs[k]);
    }
    return scale;
}

/* Grid index of each group of the final L (ggml aborts if one is off the
 * grid, which needs a degenerate block; the nearest point is used then). */
static int final_index(const kern_iq_lattice *lat, int8_t *L, const float *xval, const float *waux,
                       float scale) {
    return on_grid_or_neighbour(lat, L, xval, waux, scale, NULL);
}

/* 4-bit scale code of ggml's IQ2/IQ3_XXS: nearest_int(0.5*(id*s - 1)). */
static int scale_code(float id, float s) {
    return clamp_level(kern_nearest_int(0.5f * (id * s - 1)), 16);
}

/*
 * IQ2_XS (ggml quantize_row_iq2_xs_impl): 16-value scale blocks, parity
 * signs, u16 = 9-bit index | 7-bit signs << 9, d = max_scale/31.
 */
static void iq2xs_row(const kern_iq_lattice *lat, const float *x, uint8_t *y, int64_t n,
                      const float *qw) {
    static const sweep_params P = {16, 3, 9, 0.1f, 1, 1};
    int8_t L[16] = {0};
    int is_on_grid[2] = {1, 1};
    for (int64_t ibl = 0; ibl < n / QK_K; ibl++, y += 74) {
        const float *xbl = x + QK_K * ibl;
        const float *qwb = qw + QK_K * ibl;
        uint16_t q2[32] = {0};
        float scales[16], weight[16], xval[16], waux[16];
        uint8_t signs[2];
        float max_scale = 0;
        float sumx2 = block_sum_squares(xbl);
        float sigma2 = sumx2 / QK_K;
        memset(y, 0, 74);
        for (int ib = 0; ib < 16; ib++) {
            const float *xb = xbl + 16 * ib;
            for (int i = 0; i < 16; i++)
                weight[i] = qwb[16 * ib + i] * sqrtf(sigma2 + xb[i] * xb[i]);
            for (int i = 0; i < 16; i++)
                waux[i] = sqrtf(weight[i]);
            for (int k = 0; k < 2; k++)
                signs[k] = split_signs(xb + 8 * k, weight + 8 * k, xval + 8 * k, 1);
            float max = xval[0];
            for (int i = 1; i < 16; i++)
                max = max > xval[i] ? max : xval[i];
            if (max < KERN_GROUP_MAX_EPS) {
                scales[ib] = 0;
                memset(L, 0, 16);
                continue;
            }
            float scale = sweep_block(lat, &P, weight, xval, waux, max, L, is_on_grid, signs);
            for (int k = 0; k < 2; k++) {
                int idx = final_index(lat, L + 8 * k, xval + 8 * k, waux + 8 * k, scale);
                q2[2 * ib + k] = (uint16_t)(idx | (signs[k] << 9));
            }
            scales[ib] = scale;
            max_scale = max_scale > scale ? max_scale : scale;
        }
        if (!max_scale)
            continue;
        float d = max_scale / 31;
        kern_put_f16(y, d);
        float id = 1 / d;
        for (int ib = 0; ib < 16; ib++)
            y[66 + ib / 2] |= (uint8_t)(scale_code(id, scales[ib]) << (4 * (ib % 2)));
        for (int i = 0; i < 32; i++)
            kern_put_u16(y + 2 + 2 * i, q2[i]);
    }
}

/*
 * IQ2_S (ggml quantize_row_iq2_s_impl): as IQ2_XS with explicit 8-bit signs,
 * a 1024-point grid, eps 1e-8, weights 0.25*sigma2 + x^2 without imatrix, and
 * the stored d scaled by 0.9875.
 */
static void iq2s_row(const kern_iq_lattice *lat, const float *x, uint8_t *y, int64_t n,
                     const float *qw) {
    static const sweep_params P = {16, 3, 9, 0.1f, 0, 1};
    int8_t L[16] = {0};
    int is_on_grid[2] = {1, 1};
    for (int64_t ibl = 0; ibl < n / QK_K; ibl++, y += 82) {
        const float *xbl = x + QK_K * ibl;
        float scales[16], weight[16], xval[16], waux[16];
        uint8_t signs[2];
        float max_scale = 0;
        float sumx2 = block_sum_squares(xbl);
        float sigma2 = 2 * sumx2 / QK_K;
        memset(y, 0, 82);
        for (int ib = 0; ib < 16; ib++) {
            const float *xb = xbl + 16 * ib;
            if (qw) {
                for (int i = 0; i < 16; i++)
                    weight[i] = qw[QK_K * ibl + 16 * ib + i] * sqrtf(sigma2 + xb[i] * xb[i]);
            } else {
                for (int i = 0; i < 16; i++)
                    weight[i] = 0.25f * sigma2 + xb[i] * xb[i];
            }
            for (int i = 0; i < 16; i++)
                waux[i] = sqrtf(weight[i]);
            for (int k = 0; k < 2; k++)
                signs[k] = split_signs(xb + 8 * k, weight + 8 * k, xval + 8 * k, 0);
            float max = xval[0];
            for (int i = 1; i < 16; i++)
                max = max > xval[i] ? max : xval[i];
            if (max < 1e-8f) {
                scales[ib] = 0;
                continue;
            }
            float scale = sweep_block(lat, &P, weight, xval, waux, max, L, is_on_grid, signs);
            for (int k = 0; k < 2; k++) {
                int idx = final_index(lat, L + 8 * k, xval + 8 * k, waux + 8 * k, scale);
                int i8 = 2 * ib + k;
                y[2 + i8] = (uint8_t)(idx & 255);
                y[66 + i8 / 4] |= (uint8_t)((idx >> 8) << (2 * (i8 % 4)));
                y[2 + 32 + i8] = signs[k];
            }
            scales[ib] = scale;
            max_scale = max_scale > scale ? max_scale : scale;
        }
        if (!max_scale)
            continue;
        float d = max_scale / 31;
        kern_put_f16(y, d * 0.9875f);
        float id = 1 / d;
        for (int ib = 0; ib < 16; ib++)
            y[74 + ib / 2] |= (uint8_t)(scale_code(id, scales[ib]) << (4 * (ib % 2)));
    }
}

/*
 * IQ3_XXS (ggml quantize_row_iq3_xxs_impl, grid 256): 32-value blocks,
 * groups of 4 on the grid, parity signs per 8, eps 1e-8, sweep -15..15 step
 * 0.2, d scaled by 1.0125. ggml leaves is_on_grid uninitialised before the
 * sweep (read only when no scale fits); it starts false here.
 */
static void iq3xxs_row(const kern_iq_lattice *lat, const float *x, uint8_t *y, int64_t n,
                       const float *qw) {
    static const sweep_params P = {32, 8, 15, 0.2f, 1, -1};
    int8_t L[32] = {0};
    int is_on_grid[8] = {0};
    for (int64_t ibl = 0; ibl < n / QK_K; ibl++, y += 98) {
        const float *xbl = x + QK_K * ibl;
        float scales[8], weight[32], xval[32], waux[32];
        uint8_t signs[4];
        uint32_t sas[8] = {0};
        float max_scale = 0;
        float sumx2 = block_sum_squares(xbl);
        float sigma2 = 2 * sumx2 / QK_K;
        memset(y, 0, 98);
        for (int ib = 0; ib < 8; ib++) {
            const float *xb = xbl + 32 * ib;
            if (qw) {
                for (int i = 0; i < 32; i++)
                    weight[i] = qw[QK_K * ibl + 32 * ib + i] * sqrtf(sigma2 + xb[i] * xb[i]);
            } else {
                for (int i = 0; i < 32; i++)
                    weight[i] = xb[i] * xb[i];
            }
            for (int i = 0; i < 32; i++)
                waux[i] = sqrtf(weight[i]);
            for (int k = 0; k < 4; k++)
                signs[k] = split_signs(xb + 8 * k, weight + 8 * k, xval + 8 * k, 1);
            float max = xval[0];
            for (int i = 1; i < 32; i++)
                max = max > xval[i] ? max : xval[i];
            if (max < 1e-8f) {
                scales[ib] = 0;
                memset(L, 0, 32);
                continue;
            }
            float scale = sweep_block(lat, &P, weight, xval, waux, max, L, is_on_grid, signs);
            for (int k = 0; k < 8; k++)
                y[2 + 8 * ib + k] =
                    (uint8_t)final_index(lat, L + 4 * k, xval + 4 * k, waux + 4 * k, scale);
            sas[ib] = (uint32_t)signs[0] | ((uint32_t)signs[1] << 7) | ((uint32_t)signs[2] << 14) |
                      ((uint32_t)signs[3] << 21);
            scales[ib] = scale;
            max_scale = max_scale > scale ? max_scale : scale;
        }
        if (!max_scale) {
            memset(y, 0, 98);
            continue;
        }
        float d = max_scale / 31;
        kern_put_f16(y, d * 1.0125f);
        float id = 1 / d;
        for (int ib = 0; ib < 8; ib++)
            kern_put_u32(y + 66 + 4 * ib, sas[ib] | ((uint32_t)scale_code(id, scales[ib]) << 28));
    }
}

/* ------------------------------------------------------------------------ */
/* IQ2_XXS (ggml quantize_row_iq2_xxs_impl)                                  */
/* ------------------------------------------------------------------------ */

/*
 * 32-value blocks, parity signs; the start scale comes from make_qp_quants,
 * the sweep is -6..6 around 3*scale, and afterwards every group is
 * re-projected with the fitted scale. d = max_scale/31 (no fudge factor).
 */
static void iq2xxs_row(const kern_iq_lattice *lat, const float *x, uint8_t *y, int64_t n,
                       const float *qw) {
    enum { KMAXQ = 3 };
    int8_t L[32] = {0};
    for (int64_t ibl = 0; ibl < n / QK_K; ibl++, y += 66) {
        const float *xbl = x + QK_K * ibl;
        float scales[8], weight[32], xval[32], waux[32];
        int8_t Laux[32];
        uint8_t signs[4];
        uint32_t q2[16] = {0};
        float max_scale = 0;
        float sumx2 = block_sum_squares(xbl);
        float sigma2 = sumx2 / QK_K;
        memset(y, 0, 66);
        for (int ib = 0; ib < 8; ib++) {
            const float *xb = xbl + 32 * ib;
            for (int i = 0; i < 32; i++)
                weight[i] = qw[QK_K * ibl + 32 * ib + i] * sqrtf(sigma2 + xb[i] * xb[i]);
            for (int i = 0; i < 32; i++)
                waux[i] = sqrtf(weight[i]);
            for (int k = 0; k < 4; k++)
                signs[k] = split_signs(xb + 8 * k, weight + 8 * k, xval + 8 * k, 1);
            float max = xval[0];
            for (int i = 1; i < 32; i++)
                max = max > xval[i] ? max : xval[i];
            if (max < KERN_GROUP_MAX_EPS) {
                scales[ib] = 0;
                memset(L, 0, 32);
                continue;
            }
            float scale = kern_make_qp_quants(32, KMAXQ + 1, xval, (uint8_t *)L, weight);
            float eff_max = scale * KMAXQ;
            float best = 0;
            for (int is = -6; is <= 6; is++) {
                float id = (2 * KMAXQ - 1 + is * 0.1f) / eff_max;
                float this_scale = 1 / id;
                for (int k = 0; k < 4; k++) {
                    for (int i = 0; i < 8; i++) {
                        int l = kern_nearest_int(0.5f * (id * xval[8 * k + i] - 1));
                        Laux[8 * k + i] = (int8_t)clamp_level(l, KMAXQ);
                    }
                    on_grid_or_neighbour(lat, Laux + 8 * k, xval + 8 * k, waux + 8 * k, this_scale,
                                         NULL);
                }
                float sumqx, sumq2;
                fit_sums(32, weight, xval, Laux, &sumqx, &sumq2);
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    scale = sumqx / sumq2;
                    best = scale * sumqx;
                    memcpy(L, Laux, 32);
                }
            }
            if (scale > 0) {
                float id = 1 / scale;
                for (int k = 0; k < 4; k++) {
                    for (int i = 0; i < 8; i++) {
                        int l = kern_nearest_int(0.5f * (id * xval[8 * k + i] - 1));
                        L[8 * k + i] = (int8_t)clamp_level(l, KMAXQ);
                    }
                    on_grid_or_neighbour(lat, L + 8 * k, xval + 8 * k, waux + 8 * k, scale, NULL);
                }
                float sumqx, sumq2;
                fit_sums(32, weight, xval, L, &sumqx, &sumq2);
                if (sumq2 > 0)
                    scale = sumqx / sumq2;
            }
            if (scale < 0) {
                scale = -scale;
                for (int k = 0; k < 4; k++)
                    signs[k] = (uint8_t)(~signs[k] & 127);
            }
            for (int k = 0; k < 4; k++) {
                /* make_qp_quants levels reach 3 (off this lattice's keys);
                 * clamp them before the lookup (ggml would abort there). */
                for (int i = 0; i < 8; i++)
                    L[8 * k + i] = (int8_t)clamp_level(L[8 * k + i], KMAXQ);
                int idx = final_index(lat, L + 8 * k, xval + 8 * k, waux + 8 * k, scale);
                q2[2 * ib] |= (uint32_t)idx << (8 * k);
                q2[2 * ib + 1] |= (uint32_t)signs[k] << (7 * k);
            }
            scales[ib] = scale;
            max_scale = max_scale > scale ? max_scale : scale;
        }
        if (!max_scale)
            continue;
        float d = max_scale / 31;
        kern_put_f16(y, d);
        float id = 1 / d;
        for (int ib = 0; ib < 8; ib++) {
            kern_put_u32(y + 2 + 8 * ib, q2[2 * ib]);
            kern_put_u32(y + 6 + 8 * ib,
                         q2[2 * ib + 1] | ((uint32_t)scale_code(id, scales[ib]) << 28));
        }
    }
}

/* ------------------------------------------------------------------------ */
/* IQ1_S quantization (ggml quantize_row_iq1_s_impl)                         */
/* ------------------------------------------------------------------------ */

/* Level values of the two IQ1 shifts: grid value -1/0/+1 plus +-delta. */
static const float iq1_xp[3] = {-1 + IQ1_DELTA, IQ1_DELTA, 1 + IQ1_DELTA};
static const float iq1_xm[3] = {-1 - IQ1_DELTA, -IQ1_DELTA, 1 - IQ1_DELTA};

/*
 * Order of n values by x ascending, equal values in index order: ggml uses
 * qsort with a comparator on x only, and glibc's qsort (the reference
 * platform) merge-sorts small arrays, which keeps equal keys in place.
 */
static void stable_order(int n, const float *x, int *order) {
    for (int j = 0; j < n; j++) {
        int i = j;
        while (i > 0 && x[order[i - 1]] > x[j]) {
            order[i] = order[i - 1];
            i--;
        }
        order[i] = j;
    }
}

/* ggml iq1_find_best_neighbour2: the neighbour minimising
 * sum w*(scale*xx[level] - x)^2 over signed x (first on ties). */
static int iq1_best_neighbour(const kern_iq_lattice *lat, int key, const float *xb,
                              const float *weight, float scale, const float *xx, int8_t *L) {
    const uint16_t *nb = lat->neighbours + (-lat->map[key] - 1);
    float best_d2 = FLT_MAX;
    int best = nb[1];
    for (int j = 1; j <= nb[0]; j++) {
        float d2 = 0;
        for (int i = 0; i < 8; i++) {
            float q = xx[kern_iq_level(lat, nb[j], i)];
            float w = weight[i];
            float diff = scale * q - xb[i];
            d2 += w * diff * diff;
        }
        if (d2 < best_d2) {
            best_d2 = d2;
            best = nb[j];
        }
    }
    grid_levels(lat, best, L);
    return best;
}

/*
 * Exhaustive split search of ggml's IQ1 quantizers: values sorted, prefix
 * sums of w*x and w; every split (i1 <= i2) assigns levels 0/1/2 and both
 * shifts are scored. Returns the shift (+1 / -1), or 0 when no split fits.
 * L gets levels 0..2, *scale the fitted scale (may be negative).
 */
static int iq1_split_search(int n, const float *xb, const float *weight, int8_t *L, float *scale) {
    int order[32];
    float sumx[33], sumw[33];
    stable_order(n, xb, order);
    sumx[0] = sumw[0] = 0;
    for (int j = 0; j < n; j++) {
        int i = order[j];
        sumx[j + 1] = sumx[j] + weight[i] * xb[i];
        sumw[j + 1] = sumw[j] + weight[i];
    }
    /* ggml c392e50 starts at -FLT_MIN; its later fix uses -FLT_MAX. */
    float best_score = -FLT_MAX;
    int besti1 = -1, besti2 = -1, best_shift = 0;
    for (int i1 = 0; i1 <= n; i1++) {
        for (int i2 = i1; i2 <= n; i2++) {
            for (int pass = 0; pass < 2; pass++) {
                const float *v = pass == 0 ? iq1_xp : iq1_xm;
                float sumqx = (sumx[i1] - sumx[0]) * v[0] + (sumx[i2] - sumx[i1]) * v[1] +
                              (sumx[n] - sumx[i2]) * v[2];
                float sumq2 = (sumw[i1] - sumw[0]) * v[0] * v[0] +
                              (sumw[i2] - sumw[i1]) * v[1] * v[1] +
                              (sumw[n] - sumw[i2]) * v[2] * v[2];
                if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
                    *scale = sumqx / sumq2;
                    best_score = *scale * sumqx;
                    besti1 = i1;
                    besti2 = i2;
                    best_shift = pass == 0 ? 1 : -1;
                }
            }
        }
    }
    if (besti1 < 0)
        return 0;
    for (int j = 0; j < n; j++)
        L[order[j]] = (int8_t)(j < besti1 ? 0 : j < besti2 ? 1 : 2);
    return best_shift;
}

/*
 * IQ1_S: 32-value blocks, one shift per block. Zero (|x| < 1e-12) blocks:
 * ggml c392e50 leaves shifts[ib] unset and then reads it (uninitialised
 * stack, so its bit 15 is unpredictable); this follows ggml's later fix
 * (ggml-org/ggml, quantize_row_iq1_s_impl: shifts[ib] = 1 there, i.e. bit 15
 * clear), which is also what c392e50 produces whenever its output is defined.
 */
static void iq1s_row(const kern_iq_lattice *lat, const float *x, uint8_t *y, int64_t n,
                     const float *qw) {
    int8_t L[32];
    for (int64_t ibl = 0; ibl < n / QK_K; ibl++, y += 50) {
        const float *xbl = x + QK_K * ibl;
        float scales[8], weight[32];
        int shifts[8];
        uint16_t qh[8] = {0};
        float max_scale = 0;
        float sumx2 = block_sum_squares(xbl);
        float sigma2 = 2 * sumx2 / QK_K;
        memset(y, 0, 50);
        for (int ib = 0; ib < 8; ib++) {
            const float *xb = xbl + 32 * ib;
            for (int i = 0; i < 32; i++)
                weight[i] = qw[QK_K * ibl + 32 * ib + i] * sqrtf(sigma2 + xb[i] * xb[i]);
            float max = fabsf(xb[0]);
            for (int i = 1; i < 32; i++)
                max = max > fabsf(xb[i]) ? max : fabsf(xb[i]);
            float scale = max;
            int shift = max < 1e-12f ? 0 : iq1_split_search(32, xb, weight, L, &scale);
            if (shift == 0) {
                scales[ib] = 0;
                shifts[ib] = 1;
                continue;
            }
            if (scale < 0) {
                for (int j = 0; j < 32; j++)
                    L[j] = (int8_t)(2 - L[j]);
                scale = -scale;
                shift = -shift;
            }
            const float *xx = shift == 1 ? iq1_xp : iq1_xm;
            int index[4], all_on_grid = 1;
            for (int k = 0; k < 4; k++) {
                int key = kern_iq_key(8, L + 8 * k);
                index[k] = lat->map[key];
                if (index[k] < 0) {
                    all_on_grid = 0;
                    index[k] = iq1_best_neighbour(lat, key, xb + 8 * k, weight + 8 * k, scale, xx,
                                                  L + 8 * k);
                }
            }
            if (!all_on_grid) {
                float sumqx = 0, sumq2 = 0;
                for (int k = 0; k < 4; k++)
                    for (int j = 0; j < 8; j++) {
                        float w = weight[8 * k + j];
                        float q = xx[kern_iq_level(lat, index[k], j)];
                        sumqx += w * q * xb[8 * k + j];
                        sumq2 += w * q * q;
                    }
                if (sumqx > 0 && sumq2 > 0)
                    scale = sumqx / sumq2;
            }
            for (int k = 0; k < 4; k++) {
                y[2 + 4 * ib + k] = (uint8_t)(index[k] & 255);
                qh[ib] |= (uint16_t)((index[k] >> 8) << (3 * k));
            }
            scales[ib] = scale;
            shifts[ib] = shift;
            max_scale = max_scale > scale ? max_scale : scale;
        }
        if (max_scale) {
            float d = max_scale / 15;
            kern_put_f16(y, d * 1.125f);
            float id = 1 / d;
            for (int ib = 0; ib < 8; ib++) {
                int l = clamp_level(kern_nearest_int(0.5f * (id * scales[ib] - 1)), 8);
                if (shifts[ib] == -1)
                    l |= 8;
                qh[ib] |= (uint16_t)(l << 12);
            }
        }
        for (int ib = 0; ib < 8; ib++)
            kern_put_u16(y + 34 + 2 * ib, qh[ib]);
    }
}

/* ------------------------------------------------------------------------ */
/* IQ1_M quantization (ggml quantize_row_iq1_m_impl)                         */
/* ------------------------------------------------------------------------ */

/* Shift combination k of IQ1_M (0: ++, 1: +-, 2: -+, 3: --) for group g. */
static const float *iq1m_levels(int k, int g) {
    int plus = g == 0 ? k < 2 : k % 2 == 0;
    return plus ? iq1_xp : iq1_xm;
}

/*
 * 16-value blocks of two 8-value groups, each group with its own shift: all
 * splits (i1 <= i2) of the sorted values times the 4 shift combinations,
 * each sum accumulated in sorted order as ggml does. Returns the best
 * combination, or -1 when none fits.
 */
static int iq1m_split_search(const float *xb, const float *weight, int8_t *L, float *scale) {
    int order[16];
    stable_order(16, xb, order);
    /* ggml c392e50 starts at -FLT_MIN; its later fix uses -FLT_MAX. */
    float best_score = -FLT_MAX;
    int besti1 = -1, besti2 = -1, best_k = -1;
    for (int i1 = 0; i1 <= 16; i1++) {
        for (int i2 = i1; i2 <= 16; i2++) {
            float sumqx[4] = {0}, sumq2[4] = {0};
            for (int j = 0; j < 16; j++) {
                int i = order[j];
                int lev = j < i1 ? 0 : j < i2 ? 1 : 2;
                for (int k = 0; k < 4; k++) {
                    const float *v = iq1m_levels(k, i >= 8);
                    sumqx[k] += weight[i] * v[lev] * xb[i];
                    sumq2[k] += weight[i] * v[lev] * v[lev];
                }
            }
            for (int k = 0; k < 4; k++) {
                if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > best_score * sumq2[k]) {
                    *scale = sumqx[k] / sumq2[k];
                    best_score = *scale * sumqx[k];
                    besti1 = i1;
                    besti2 = i2;
                    best_k = k;
                }
            }
        }
    }
    if (best_k < 0)
        return -1;
    for (int j = 0; j < 16; j++)
        L[order[j]] = (int8_t)(j < besti1 ? 0 : j < besti2 ? 1 : 2);
    return best_k;
}

static void iq1m_weights(const float *xb, const float *qw, float sigma2, float *weight) {
    if (qw) {
        for (int i = 0; i < 16; i++)
            weight[i] = qw[i] * sqrtf(sigma2 + xb[i] * xb[i]);
    } else {
        for (int i = 0; i < 16; i++)
            weight[i] = xb[i] * xb[i];
    }
}

/*
 * IQ1_M. Zero (|x| < 1e-7) blocks: ggml c392e50 leaves shifts[ib] unset and
 * then ORs masks[shifts[ib]] into qh (uninitialised stack, even an out of
 * bounds index) and uses it in the d refit; this follows ggml's later fix
 * (ggml-org/ggml quantize_row_iq1_m_impl: shifts[ib] = 0, no delta bits).
 */
static void iq1m_row(const kern_iq_lattice *lat, const float *x, uint8_t *y, int64_t n,
                     const float *qw) {
    static const uint8_t masks[4] = {0x00, 0x80, 0x08, 0x88};
    int8_t L[16];
    for (int64_t ibl = 0; ibl < n / QK_K; ibl++, y += 56) {
        const float *xbl = x + QK_K * ibl;
        const float *qwb = qw ? qw + QK_K * ibl : NULL;
        float scales[16], weight[16];
        int shifts[16];
        float max_scale = 0;
        float sumx2 = block_sum_squares(xbl);
        float sigma2 = 2 * sumx2 / QK_K;
        memset(y, 0, 56);
        for (int ib = 0; ib < 16; ib++) {
            const float *xb = xbl + 16 * ib;
            iq1m_weights(xb, qwb ? qwb + 16 * ib : NULL, sigma2, weight);
            float max = fabsf(xb[0]);
            for (int i = 1; i < 16; i++)
                max = max > fabsf(xb[i]) ? max : fabsf(xb[i]);
            float scale = max;
            int best_k = max < 1e-7f ? -1 : iq1m_split_search(xb, weight, L, &scale);
            if (best_k < 0) {
                scales[ib] = 0;
                shifts[ib] = 0;
                continue;
            }
            if (scale < 0) {
                for (int j = 0; j < 16; j++)
                    L[j] = (int8_t)(2 - L[j]);
                scale = -scale;
                best_k = 3 - best_k;
            }
            int index[2], all_on_grid = 1;
            for (int k = 0; k < 2; k++) {
                int key = kern_iq_key(8, L + 8 * k);
                index[k] = lat->map[key];
                if (index[k] < 0) {
                    all_on_grid = 0;
                    index[k] = iq1_best_neighbour(lat, key, xb + 8 * k, weight + 8 * k, scale,
                                                  iq1m_levels(best_k, k), L + 8 * k);
                }
            }
            if (!all_on_grid) {
                float sumqx = 0, sumq2 = 0;
                for (int k = 0; k < 2; k++) {
                    const float *xx = iq1m_levels(best_k, k);
                    for (int j = 0; j < 8; j++) {
                        float w = weight[8 * k + j];
                        float q = xx[kern_iq_level(lat, index[k], j)];
                        sumqx += w * q * xb[8 * k + j];
                        sumq2 += w * q * q;
                    }
                }
                if (sumqx > 0 && sumq2 > 0)
                    scale = sumqx / sumq2;
            }
            y[2 * ib + 0] = (uint8_t)(index[0] & 255);
            y[2 * ib + 1] = (uint8_t)(index[1] & 255);
            y[32 + ib] = (uint8_t)((index[0] >> 8) | ((index[1] >> 8) << 4));
            scales[ib] = scale;
            shifts[ib] = best_k;
            max_scale = max_scale > scale ? max_scale : scale;
        }
        if (!max_scale)
            continue;

        /* 3-bit block scales, then refit d over the whole super-block with
         * the stored levels (zero blocks included, as in ggml). */
        uint16_t sc[4] = {0};
        float d = max_scale / 15;
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int ib = 0; ib < 16; ib++) {
            int l = clamp_level(kern_nearest_int(0.5f * (id * scales[ib + 0] - 1)), 8);
            sc[ib / 4] |= (uint16_t)(l << (3 * (ib % 4)));
            y[32 + ib] |= masks[shifts[ib]];
            const float *xb = xbl + 16 * ib;
            iq1m_weights(xb, qwb ? qwb + 16 * ib : NULL, sigma2, weight);
            for (int k = 0; k < 2; k++) {
                const float *xx = iq1m_levels(shifts[ib], k);
                int idx = y[2 * ib + k] | ((y[32 + ib] << (8 - 4 * k)) & 0x700);
                for (int j = 0; j < 8; j++) {
                    float w = weight[8 * k + j];
                    float q = xx[kern_iq_level(lat, idx, j)] * (2 * l + 1);
                    sumqx += w * q * xb[8 * k + j];
                    sumq2 += w * q * q;
                }
            }
        }
        if (sumq2 > 0)
            d = sumqx / sumq2;
        uint16_t h = kern_fp32_to_fp16(d * 1.1125f);
        sc[0] |= (uint16_t)((h & 0x000f) << 12);
        sc[1] |= (uint16_t)((h & 0x00f0) << 8);
        sc[2] |= (uint16_t)((h & 0x0f00) << 4);
        sc[3] |= (uint16_t)(h & 0xf000);
        for (int k = 0; k < 4; k++)
            kern_put_u16(y + 48 + 2 * k, sc[k]);
    }
}

/* ------------------------------------------------------------------------ */
/* Row drivers                                                               */
/* ------------------------------------------------------------------------ */

typedef void (*iq_row_fn)(const kern_iq_lattice *lat, const float *x, uint8_t *y, int64_t n,
                          const float *qw);

static size_t quantize_rows(int lattice, iq_row_fn row, size_t block_bytes, const float *src,
                            void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    const kern_iq_lattice *lat = kern_iq_lattice_get(lattice);
    if (!lat)
        return 0;
    size_t row_bytes = (size_t)(n_per_row / QK_K) * block_bytes;
    for (int64_t r = 0; r < nrows; r++)
        row(lat, src + r * n_per_row, (uint8_t *)dst + (size_t)r * row_bytes, n_per_row, imatrix);
    return (size_t)nrows * row_bytes;
}

size_t kern_quantize_iq2_xxs_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix) {
    if (!imatrix)
        return 0;
    return quantize_rows(KERN_IQ_LAT_IQ2XXS, iq2xxs_row, 66, src, dst, nrows, n_per_row, imatrix);
}

size_t kern_quantize_iq2_xs_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                const float *imatrix) {
    if (!imatrix)
        return 0;
    return quantize_rows(KERN_IQ_LAT_IQ2XS, iq2xs_row, 74, src, dst, nrows, n_per_row, imatrix);
}

size_t kern_quantize_iq2_s_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix) {
    return quantize_rows(KERN_IQ_LAT_IQ2S, iq2s_row, 82, src, dst, nrows, n_per_row, imatrix);
}

size_t kern_quantize_iq3_xxs_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix) {
    return quantize_rows(KERN_IQ_LAT_IQ3XXS, iq3xxs_row, 98, src, dst, nrows, n_per_row, imatrix);
}

size_t kern_quantize_iq1_s_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix) {
    if (!imatrix)
        return 0;
    return quantize_rows(KERN_IQ_LAT_IQ1S, iq1s_row, 50, src, dst, nrows, n_per_row, imatrix);
}

size_t kern_quantize_iq1_m_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix) {
    return quantize_rows(KERN_IQ_LAT_IQ1S, iq1m_row, 56, src, dst, nrows, n_per_row, imatrix);
}
