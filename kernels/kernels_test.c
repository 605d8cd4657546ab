/*
 * kernels_test.c -- reference quantize/dequantize of the legacy, k-quant,
 * ternary, binary and fp4 families (legacy.c, kquants.c, ternary.c, binary.c,
 * fp4.c) and the shared searches (search.c):
 *   - round-trip error on ggml's synthetic vector within ggml's thresholds
 *     (test-quantize-fns), with and without an importance matrix;
 *   - known-answer XXH64 of quantized data, produced by ggml's own
 *     quantize_* (llama.cpp c392e50; MXFP4 from ggml d99724f; Q1_0 from
 *     llama.cpp ec562eb), with and
 *     without an importance matrix;
 *   - hand-derived dequantization blocks;
 *   - edge cases: zeros (and the -0.0 scale), constants, outliers,
 *     subnormals, huge values;
 *   - chunking: one call over many rows equals one call per row.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "kernels/kernels.h"
#include "kernels/kernels_internal.h"
#include "tests/unit.h"

/* The types this file covers, with ggml's round-trip thresholds. */
typedef struct {
    int type;
    double max_err;
} owned_type;

static const owned_type owned[] = {
    {KERN_TYPE_Q4_0, 0.002},  {KERN_TYPE_Q4_1, 0.002}, {KERN_TYPE_Q5_0, 0.002},
    {KERN_TYPE_Q5_1, 0.002},  {KERN_TYPE_Q8_0, 0.002}, {KERN_TYPE_Q2_K, 0.0075},
    {KERN_TYPE_Q3_K, 0.004},  {KERN_TYPE_Q4_K, 0.002}, {KERN_TYPE_Q5_K, 0.002},
    {KERN_TYPE_Q6_K, 0.002},  {KERN_TYPE_TQ1_0, 0.01}, {KERN_TYPE_TQ2_0, 0.01},
    {KERN_TYPE_MXFP4, 0.003}, {KERN_TYPE_Q1_0, 0.025},
};
#define N_OWNED ((int)(sizeof owned / sizeof owned[0]))

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

static const kern_type_traits *traits(int type) {
    const kern_type_traits *tt = kern_type_info(type);
    ck_assert_ptr_nonnull(tt);
    ck_assert(tt->to_float_ref != NULL);
    ck_assert(type == KERN_TYPE_Q8_K || tt->quantize_ref != NULL);
    return tt;
}

/* Quantize nrows x n and dequantize back into y; returns the byte count. */
static size_t round_trip(int type, const float *x, float *y, int64_t nrows, int64_t n,
                         const float *imatrix, uint8_t *q) {
    const kern_type_traits *tt = traits(type);
    size_t bytes = tt->quantize_ref(x, q, nrows, n, imatrix);
    ck_assert_uint_eq(bytes, kern_row_bytes(type, n) * (size_t)nrows);
    tt->to_float_ref(q, y, nrows * n);
    return bytes;
}

/* test-quantize-fns' "rmse": sqrt(sum of squared differences) / n. */
static double ggml_rmse(const float *a, const float *b, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        sum += d * d;
    }
    return sqrt(sum) / (double)n;
}

/* Deterministic data without libm, shared with the known-answer generator:
 * uniform values scaled per 32-block, every 11th block zero, outliers. */
static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static void gen_rows(float *x, int64_t n, uint32_t seed) {
    uint32_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        uint32_t r = lcg(&s);
        float v = (float)((int32_t)(r >> 8) - (1 << 23)) * 0x1p-23f;
        v *= 0x1p-4f * (float)(1 + (i / 32) % 5);
        if ((i / 32) % 11 == 3)
            v = 0.0f;
        if (i % 61 == 7)
            v *= 8.0f;
        x[i] = v;
    }
}

static void gen_weights(float *w, int64_t n, uint32_t seed) {
    uint32_t s = seed;
    for (int64_t i = 0; i < n; i++)
        w[i] = (float)(1 + (lcg(&s) >> 29)) * 0.25f;
}

/* ------------------------------------------------------------------------ */
/* Round-trip error on ggml's synthetic vector                                */
/* ------------------------------------------------------------------------ */

#define SYN_N 4096

START_TEST(test_synthetic_round_trip) {
    const owned_type *o = &owned[_i];
    static float x[SYN_N], y[SYN_N], w[SYN_N];
    static uint8_t q[SYN_N * 4];
    for (int i = 0; i < SYN_N; i++)
        x[i] = (float)(0.1 + 2 * cos((double)i));
    for (int i = 0; i < SYN_N; i++)
        w[i] = 0.5f + (float)(i % 7) * 0.25f;

    round_trip(o->type, x, y, 1, SYN_N, NULL, q);
    double e0 = ggml_rmse(x, y, SYN_N);
    round_trip(o->type, x, y, 1, SYN_N, w, q);
    double e1 = ggml_rmse(x, y, SYN_N);
    printf("round-trip %-6s error %.6f (imatrix %.6f), limit %.4f\n", kern_type_label(o->type), e0,
           e1, o->max_err);
    ck_assert_msg(e0 < o->max_err, "%s: error %f >= %f", kern_type_label(o->type), e0, o->max_err);
    ck_assert_msg(e1 < o->max_err, "%s: imatrix error %f >= %f", kern_type_label(o->type), e1,
                  o->max_err);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Known answers from ggml itself                                             */
/* ------------------------------------------------------------------------ */

/* XXH64 (seed 0) of quantize_<type>(gen_rows(seed 12345), 3 rows x 1024)
 * as built from ggml's source (c392e50 ggml-quants.c, -O3, no -march;
 * MXFP4 from ggml d99724f; Q1_0 from ec562eb's libggml-base through
 * ggml_quantize_chunk), without and with gen_weights(seed 777). Q8_0, TQ*,
 * MXFP4 and Q1_0 ignore the matrix, so both hashes agree. */
typedef struct {
    int type;
    uint64_t plain, weighted;
} known_answer;

static const known_answer known[] = {
    {KERN_TYPE_Q4_0, 0x4471ecb1e6b89d52ull, 0x103728ea7ecc1378ull},
    {KERN_TYPE_Q4_1, 0x366a01dd1eacc4a3ull, 0x05b7256bad62a626ull},
    {KERN_TYPE_Q5_0, 0xb36f6ce56154e5c2ull, 0xc562b269154f0c61ull},
    {KERN_TYPE_Q5_1, 0x0f4bfc84cc0fb9d1ull, 0xd3390332a536202full},
    {KERN_TYPE_Q8_0, 0x7217b4966b13a583ull, 0x7217b4966b13a583ull},
    {KERN_TYPE_Q2_K, 0x3fcbe43bc5c32463ull, 0xc6b8a3a13d86027full},
    {KERN_TYPE_Q3_K, 0xd593b3c67a2850deull, 0x458fe213b8dc8af6ull},
    {KERN_TYPE_Q4_K, 0xf41246c29f4a2a30ull, 0x96a12ee85acdb382ull},
    {KERN_TYPE_Q5_K, 0x8f0656eaaa61c6aeull, 0xa6a320339b28e4d1ull},
    {KERN_TYPE_Q6_K, 0xa844df514f0cd584ull, 0x1b63f72678c1f85dull},
    {KERN_TYPE_TQ1_0, 0xeb0618e1a7a1dbe3ull, 0xeb0618e1a7a1dbe3ull},
    {KERN_TYPE_TQ2_0, 0x4b87e6a21231a73full, 0x4b87e6a21231a73full},
    {KERN_TYPE_MXFP4, 0xa89c270a73cd475dull, 0xa89c270a73cd475dull},
    {KERN_TYPE_Q1_0, 0x55d89c5679fb7519ull, 0x55d89c5679fb7519ull},
};

/* The same generators on 3 rows x 8960 (35 super-blocks, 280 legacy
 * blocks a row), from ec562eb's libggml-base through ggml_quantize_chunk:
 * the searches fit many sub-blocks at once, one per vector lane, and this
 * row leaves lanes over at every width (with an imatrix, the last batch of
 * a row holds 3 super-blocks or 24 legacy blocks). Checked on every ISA
 * the machine has, each with its own lane count. */
static const known_answer known_ragged[] = {
    {KERN_TYPE_Q4_0, 0x89c08e1ea3625d2eull, 0x9329cd8100c714e7ull},
    {KERN_TYPE_Q4_1, 0xaf369cacfac3eb08ull, 0x10ec55e586b9788cull},
    {KERN_TYPE_Q5_0, 0x57fa66eb46e0ea22ull, 0x8112563d20c03e55ull},
    {KERN_TYPE_Q5_1, 0x0332f4c250f00f01ull, 0x4792c6b8830ba0e3ull},
    {KERN_TYPE_Q2_K, 0xdcfb4ca813de4bceull, 0x579624133678f85dull},
    {KERN_TYPE_Q3_K, 0xcdb682897e76e82cull, 0xcf2cead62a070bf9ull},
    {KERN_TYPE_Q4_K, 0x13b845dadfee442full, 0xf979b1510b05d50full},
    {KERN_TYPE_Q5_K, 0x0e2d9e27339064adull, 0x96c3bd57df3c3f16ull},
    {KERN_TYPE_Q6_K, 0xda2a3aba591a5b6full, 0x845e589e4bb52605ull},
};

/* Quantize gen_rows(12345) as rows x row, without and with
 * gen_weights(777), and compare with k's hashes. */
static void expect_known(const known_answer *k, int64_t rows, int64_t row) {
    static float x[256 * 35 * 3], w[256 * 35];
    static uint8_t q[sizeof x];
    ck_assert_int_le(rows * row, (int64_t)(sizeof x / sizeof x[0]));
    gen_rows(x, rows * row, 12345u);
    gen_weights(w, row, 777u);
    const kern_type_traits *tt = traits(k->type);
    size_t n = tt->quantize_ref(x, q, rows, row, NULL);
    ck_assert_msg(XXH64(q, n, 0) == k->plain, "%s (%s) without imatrix: %016llx",
                  kern_type_label(k->type), kern_isa_name(), (unsigned long long)XXH64(q, n, 0));
    n = tt->quantize_ref(x, q, rows, row, w);
    ck_assert_msg(XXH64(q, n, 0) == k->weighted, "%s (%s) with imatrix: %016llx",
                  kern_type_label(k->type), kern_isa_name(), (unsigned long long)XXH64(q, n, 0));
}

START_TEST(test_known_answers) {
    expect_known(&known[_i], 3, 1024);
}
END_TEST

START_TEST(test_known_answers_ragged) {
    kern_isa before = kern_isa_current();
    for (int isa = 0; isa < KERN_ISA_COUNT; isa++)
        if (kern_set_isa((kern_isa)isa))
            expect_known(&known_ragged[_i], 3, 256 * 35);
    kern_set_isa(before);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hand-built blocks                                                          */
/* ------------------------------------------------------------------------ */

START_TEST(test_dequant_q4_0_block) {
    uint8_t b[18] = {0x00, 0x3C}; /* d = 1.0 */
    for (int j = 0; j < 16; j++)
        b[2 + j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    traits(KERN_TYPE_Q4_0)->to_float_ref(b, y, 32);
    for (int j = 0; j < 16; j++) {
        ck_assert_float_eq(y[j], (float)(j - 8));
        ck_assert_float_eq(y[j + 16], (float)(7 - j));
    }
    b[1] = 0xB8; /* d = -0.5 */
    traits(KERN_TYPE_Q4_0)->to_float_ref(b, y, 32);
    ck_assert_float_eq(y[0], 4.0f);
    ck_assert_float_eq(y[16], -3.5f);
}
END_TEST

START_TEST(test_dequant_q5_1_block) {
    /* d = 0.25 (0x3400), m = -2 (0xC000), element j has q = j. */
    uint8_t b[24] = {0x00, 0x34, 0x00, 0xC0};
    uint32_t qh = 0;
    for (int j = 0; j < 32; j++)
        if (j & 16)
            qh |= 1u << j;
    for (int i = 0; i < 4; i++)
        b[4 + i] = (uint8_t)(qh >> (8 * i));
    for (int j = 0; j < 16; j++)
        b[8 + j] = (uint8_t)((j & 15) | (((j + 16) & 15) << 4));
    float y[32];
    traits(KERN_TYPE_Q5_1)->to_float_ref(b, y, 32);
    for (int j = 0; j < 32; j++)
        ck_assert_float_eq(y[j], 0.25f * (float)j - 2.0f);
}
END_TEST

START_TEST(test_dequant_q6_k_block) {
    uint8_t b[210] = {0};
    b[0] = 0x21;   /* ql[0]: element 0 low = 1, element 64 low = 2 */
    b[128] = 0xE4; /* qh[0] = 11 10 01 00: high bits 0, 1, 2, 3 */
    for (int j = 0; j < 16; j++)
        b[192 + j] = (uint8_t)(int8_t)(j - 4); /* scales -4..11 */
    b[208] = 0x00;
    b[209] = 0x38; /* d = 0.5 */
    float y[256];
    traits(KERN_TYPE_Q6_K)->to_float_ref(b, y, 256);
    ck_assert_float_eq(y[0], 0.5f * -4.0f * (float)(1 - 32));         /* scale 0 */
    ck_assert_float_eq(y[32], 0.5f * -2.0f * (float)((1 << 4) - 32)); /* scale 2 */
    ck_assert_float_eq(y[64], 0.5f * 0.0f * (float)(2 + (2 << 4) - 32));
    ck_assert_float_eq(y[96], 0.5f * 2.0f * (float)((3 << 4) - 32)); /* scale 6 */
    ck_assert_float_eq(y[1], 0.5f * -4.0f * -32.0f);
    ck_assert_float_eq(y[255], 0.5f * 11.0f * -32.0f);
}
END_TEST

START_TEST(test_dequant_q8_k_block) {
    uint8_t b[292] = {0};
    float d = -0.5f;
    memcpy(b, &d, 4); /* little-endian host assumed by ggml for Q8_K too */
    for (int j = 0; j < 256; j++)
        b[4 + j] = (uint8_t)(int8_t)(j - 128);
    float y[256];
    traits(KERN_TYPE_Q8_K)->to_float_ref(b, y, 256);
    for (int j = 0; j < 256; j++)
        ck_assert_float_eq(y[j], -0.5f * (float)(j - 128));
}
END_TEST

START_TEST(test_dequant_tq_mxfp4_blocks) {
    /* TQ2_0: element 32s + m of half 0 is bits 2s of qs[m]. */
    uint8_t t2[66] = {0};
    t2[0] = 0x1B; /* 00 01 10 11 -> q = 3, 2, 1, 0 for s = 0..3 */
    t2[64] = 0x00;
    t2[65] = 0x40; /* d = 2 */
    float y[256];
    traits(KERN_TYPE_TQ2_0)->to_float_ref(t2, y, 256);
    ck_assert_float_eq(y[0], 4.0f);
    ck_assert_float_eq(y[32], 2.0f);
    ck_assert_float_eq(y[64], 0.0f);
    ck_assert_float_eq(y[96], -2.0f);
    ck_assert_float_eq(y[1], -2.0f);

    /* TQ1_0: byte 0 holds trits (2, 0, 1, 1, 2) = 2*81 + 9 + 3 + 2 = 176,
     * stored as ceil(176 * 256 / 243) = 186; elements 0, 32, 64, 96, 128. */
    uint8_t t1[54] = {0};
    t1[0] = 186;
    t1[53] = 0x3C; /* d = 1 */
    traits(KERN_TYPE_TQ1_0)->to_float_ref(t1, y, 256);
    ck_assert_float_eq(y[0], 1.0f);
    ck_assert_float_eq(y[32], -1.0f);
    ck_assert_float_eq(y[64], 0.0f);
    ck_assert_float_eq(y[96], 0.0f);
    ck_assert_float_eq(y[128], 1.0f);
    ck_assert_float_eq(y[1], -1.0f); /* byte 0 -> all trits 0 -> -1 */

    /* MXFP4: e = 128 -> scale 2^0 (values are doubled E2M1). */
    uint8_t m[17] = {128};
    m[1] = 0x97; /* element 0 code 7 (12), element 16 code 9 (-1) */
    float z[32];
    traits(KERN_TYPE_MXFP4)->to_float_ref(m, z, 32);
    ck_assert_float_eq(z[0], 12.0f);
    ck_assert_float_eq(z[16], -1.0f);
    ck_assert_float_eq(z[1], 0.0f);
    m[0] = 0; /* subnormal scale 2^-128 */
    traits(KERN_TYPE_MXFP4)->to_float_ref(m, z, 32);
    ck_assert_float_eq(z[0], 12.0f * 0x1p-128f);
}
END_TEST

/* kern_mxfp4_block_from_codes: element j's code at the low nibble of byte
 * 1 + j, element j + 16's at its high nibble; the exponent byte first. */
START_TEST(test_mxfp4_block_from_codes) {
    uint8_t codes[32], b[17];
    for (int j = 0; j < 32; j++)
        codes[j] = (uint8_t)((5 * j + 3) & 15);
    kern_mxfp4_block_from_codes(126, codes, b);
    ck_assert_uint_eq(b[0], 126);
    for (int j = 0; j < 16; j++)
        ck_assert_uint_eq(b[1 + j], (uint8_t)(codes[j] | (codes[j + 16] << 4)));
    static const float e2m1[16] = {0,  0.5f,  1,  1.5f,  2,  3,  4,  6,
                                   -0, -0.5f, -1, -1.5f, -2, -3, -4, -6};
    float z[32];
    traits(KERN_TYPE_MXFP4)->to_float_ref(b, z, 32);
    for (int j = 0; j < 32; j++) /* E2M1 times 2^(e - 127), as the OCP format reads */
        ck_assert_float_eq(z[j], e2m1[codes[j]] * 0.5f);
}
END_TEST

/* Q8_0 of 0..31 - 16: amax 16, d = 16/127 (fp16 0x3008), and roundf
 * rounds (j-16) * 127/16 away from zero. */
START_TEST(test_quantize_q8_0_block) {
    float x[32];
    uint8_t b[34];
    for (int j = 0; j < 32; j++)
        x[j] = (float)(j - 16);
    traits(KERN_TYPE_Q8_0)->quantize_ref(x, b, 1, 32, NULL);
    ck_assert_uint_eq(b[0] | b[1] << 8, kern_fp32_to_fp16(16.0f / 127));
    float id = 1.0f / (16.0f / 127);
    for (int j = 0; j < 32; j++)
        ck_assert_int_eq((int8_t)b[2 + j], (int)roundf(x[j] * id));
    ck_assert_int_eq((int8_t)b[2], -127);
}
END_TEST

/* Q1_0 of x[j] = j - 63.5 with x[5] = -0.0: d = (4096 - 58.5) / 128 =
 * 31.54296875, stored as fp16 31.546875 (0x4FE3); bit j is x[j] >= 0, so
 * -0.0 sets its bit. ec562eb's ggml_quantize_chunk gives these 18 bytes. */
START_TEST(test_q1_0_block) {
    static const uint8_t want[18] = {0xE3, 0x4F, 0x20, 0,    0,    0,    0,    0,    0,
                                     0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    float x[128], y[128];
    uint8_t b[18];
    for (int j = 0; j < 128; j++)
        x[j] = (float)j - 63.5f;
    x[5] = -0.0f;
    ck_assert_uint_eq(traits(KERN_TYPE_Q1_0)->quantize_ref(x, b, 1, 128, NULL), 18);
    ck_assert_mem_eq(b, want, 18);
    traits(KERN_TYPE_Q1_0)->to_float_ref(b, y, 128);
    ck_assert_float_eq(y[0], -31.546875f);
    ck_assert_float_eq(y[5], 31.546875f);
    ck_assert_float_eq(y[64], 31.546875f);
    /* every bit position of random blocks, negative and zero scales too */
    uint32_t st = 7;
    for (int trial = 0; trial < 64; trial++) {
        for (int k = 0; k < 18; k++)
            b[k] = (uint8_t)(lcg(&st) >> 24);
        if (trial == 1)
            b[0] = b[1] = 0; /* a zero scale */
        b[1] &= 0xFB;        /* exponent below 31: a finite scale */
        traits(KERN_TYPE_Q1_0)->to_float_ref(b, y, 128);
        float d = kern_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
        for (int j = 0; j < 128; j++)
            ck_assert_float_eq(y[j], (b[2 + j / 8] >> (j % 8)) & 1 ? d : -d);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Edge cases                                                                 */
/* ------------------------------------------------------------------------ */

#define EDGE_N 512

static void all_finite(const float *y, int n, const char *what, int type) {
    for (int i = 0; i < n; i++)
        ck_assert_msg(isfinite(y[i]), "%s %s: element %d is %f", kern_type_label(type), what, i,
                      (double)y[i]);
}

START_TEST(test_zeros) {
    int t = owned[_i].type;
    static float x[EDGE_N], y[EDGE_N], w[EDGE_N];
    static uint8_t q[EDGE_N * 4];
    for (int i = 0; i < EDGE_N; i++)
        w[i] = 1.0f;
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < EDGE_N; i++)
            x[i] = pass == 1 ? -0.0f : 0.0f;
        round_trip(t, x, y, 1, EDGE_N, pass == 2 ? w : NULL, q);
        for (int i = 0; i < EDGE_N; i++)
            ck_assert_msg(y[i] == 0.0f, "%s zeros: y[%d] = %g", kern_type_label(t), i,
                          (double)y[i]);
    }
    /* ggml's d = max / -8 (or -16) of an all-zero block is -0.0: 0x8000. */
    if (t == KERN_TYPE_Q4_0 || t == KERN_TYPE_Q5_0) {
        for (int i = 0; i < EDGE_N; i++)
            x[i] = 0.0f;
        round_trip(t, x, y, 1, EDGE_N, NULL, q);
        size_t bs = kern_type_info(t)->type_size;
        for (size_t b = 0; b < EDGE_N / 32; b++) {
            ck_assert_uint_eq(q[b * bs], 0x00);
            ck_assert_uint_eq(q[b * bs + 1], 0x80);
        }
        /* Level 8 (Q4_0 nibbles 0x88) / 16 (Q5_0: qh all ones, nibbles 0). */
        if (t == KERN_TYPE_Q4_0) {
            ck_assert_uint_eq(q[2], 0x88);
        } else {
            ck_assert_uint_eq(q[2], 0xFF);
            ck_assert_uint_eq(q[6], 0x00);
        }
    }
}
END_TEST

/* Constant rows, a single outlier in noise, and values near fp16's top.
 * Constants come back within 3% (fp16 scales lose precision for 1e-3 in
 * Q6_K); MXFP4 within 25%: its shared exponent maps max|x| into [8, 16) on a
 * grid whose top value is 12, so the top of that range is clipped. */
START_TEST(test_constant_and_outlier) {
    int t = owned[_i].type;
    static float x[EDGE_N], y[EDGE_N], w[EDGE_N];
    static uint8_t q[EDGE_N * 4];
    for (int i = 0; i < EDGE_N; i++)
        w[i] = 1.0f + (float)(i % 3);
    const float consts[] = {0.75f, -3.0f, 1e-3f, 6.0e4f};
    for (int c = 0; c < 4; c++) {
        for (int wi = 0; wi < 2; wi++) {
            for (int i = 0; i < EDGE_N; i++)
                x[i] = consts[c];
            round_trip(t, x, y, 1, EDGE_N, wi ? w : NULL, q);
            all_finite(y, EDGE_N, "constant", t);
            for (int i = 0; i < EDGE_N; i++)
                ck_assert_msg(fabsf(y[i] - x[i]) <=
                                  (t == KERN_TYPE_MXFP4 ? 0.25f : 0.03f) * fabsf(x[i]),
                              "%s constant %g: y[%d] = %g", kern_type_label(t), (double)x[i], i,
                              (double)y[i]);
        }
    }
    uint32_t s = 99;
    for (int i = 0; i < EDGE_N; i++)
        x[i] = (float)((int32_t)(lcg(&s) >> 16) - 32768) * 0x1p-15f * 0.01f;
    x[77] = 100.0f;
    /* Q1_0 keeps only signs and the block's mean |x| (about 100/128 here) */
    const float want77 = t == KERN_TYPE_Q1_0 ? 0.8f : 100.0f;
    const float tol77 = t == KERN_TYPE_Q1_0 ? 0.1f : 12.5f;
    for (int wi = 0; wi < 2; wi++) {
        round_trip(t, x, y, 1, EDGE_N, wi ? w : NULL, q);
        all_finite(y, EDGE_N, "outlier", t);
        ck_assert_msg(fabsf(y[77] - want77) <= tol77, "%s outlier: %g", kern_type_label(t),
                      (double)y[77]);
    }
}
END_TEST

/* Subnormal and huge inputs: ggml's arithmetic overflows or divides by a
 * denormal here (1/d = inf); the kernels must stay defined (UBSan runs
 * these) and subnormal blocks must decode to tiny finite values. With an
 * imatrix, ggml's make_qp_quants divides 0/0 on subnormal sub-block scales
 * and Q2_K/Q4_K/Q5_K get a NaN super-scale (llama-quantize's row
 * validation then rejects the tensor); those bytes are reproduced, so
 * finiteness is not checked there. */
START_TEST(test_subnormal_and_huge) {
    int t = owned[_i].type;
    static float x[EDGE_N], y[EDGE_N], w[EDGE_N];
    static uint8_t q[EDGE_N * 4];
    uint32_t s = 5;
    for (int i = 0; i < EDGE_N; i++)
        w[i] = 1.0f;
    for (int wi = 0; wi < 2; wi++) {
        for (int i = 0; i < EDGE_N; i++)
            x[i] = (float)((int32_t)(lcg(&s) >> 16) - 32768) * 0x1p-140f;
        round_trip(t, x, y, 1, EDGE_N, wi ? w : NULL, q);
        int qp = t == KERN_TYPE_Q2_K || t == KERN_TYPE_Q4_K || t == KERN_TYPE_Q5_K;
        if (!(wi && qp)) {
            all_finite(y, EDGE_N, "subnormal", t);
            for (int i = 0; i < EDGE_N; i++)
                ck_assert(fabsf(y[i]) <= 0x1p-100f);
        }
        for (int i = 0; i < EDGE_N; i++)
            x[i] = (float)((int32_t)(lcg(&s) >> 16) - 32768) * 0x1p+112f;
        round_trip(t, x, y, 1, EDGE_N, wi ? w : NULL, q); /* only must not trap */
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Chunking and input validation                                              */
/* ------------------------------------------------------------------------ */

#define CH_ROW 512
#define CH_ROWS 6

/* A thread pool quantizes row ranges separately; bytes must not change. */
START_TEST(test_chunking) {
    int t = owned[_i].type;
    static float x[CH_ROW * CH_ROWS], w[CH_ROW];
    static uint8_t a[CH_ROW * CH_ROWS * 4], b[CH_ROW * CH_ROWS * 4];
    gen_rows(x, CH_ROW * CH_ROWS, 4242u);
    gen_weights(w, CH_ROW, 31u);
    const kern_type_traits *tt = traits(t);
    size_t row = kern_row_bytes(t, CH_ROW);
    for (int wi = 0; wi < 2; wi++) {
        const float *im = wi ? w : NULL;
        size_t all = tt->quantize_ref(x, a, CH_ROWS, CH_ROW, im);
        size_t off = 0;
        for (int r = 0; r < CH_ROWS;) {
            int take = 1 + r % 3 < CH_ROWS - r ? 1 + r % 3 : CH_ROWS - r; /* 1, 2, 3 rows */
            off += tt->quantize_ref(x + (size_t)r * CH_ROW, b + off, take, CH_ROW, im);
            r += take;
        }
        ck_assert_uint_eq(off, all);
        ck_assert_uint_eq(all, row * CH_ROWS);
        ck_assert_msg(memcmp(a, b, all) == 0, "%s: chunked output differs", kern_type_label(t));
    }
}
END_TEST

START_TEST(test_find_nonfinite) {
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)i - 0x1p-149f * (float)(i % 2); /* includes a subnormal */
    ck_assert_int_eq(kern_find_nonfinite(x, 64), -1);
    ck_assert_int_eq(kern_find_nonfinite(x, 0), -1);
    x[40] = INFINITY;
    x[50] = NAN;
    ck_assert_int_eq(kern_find_nonfinite(x, 64), 40);
    ck_assert_int_eq(kern_find_nonfinite(x + 41, 23), 9);
    x[3] = -INFINITY;
    ck_assert_int_eq(kern_find_nonfinite(x, 64), 3);
    x[3] = 3.4028235e38f;
    ck_assert_int_eq(kern_find_nonfinite(x, 40), -1);
    /* every position, inside a group of 16 and in the tail; every kind */
    static const uint32_t bad[] = {0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00001u, 0x7F800001u};
    float y[100];
    for (int p = 0; p < 100; p++)
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            for (int i = 0; i < 100; i++)
                y[i] = i % 2 ? -3.4028235e38f : 3.4028235e38f;
            memcpy(&y[p], &bad[k], sizeof y[p]);
            ck_assert_int_eq(kern_find_nonfinite(y, 100), p);
            ck_assert_int_eq(kern_find_nonfinite(y, p), -1);
        }
}
END_TEST

/* ggml's quantize_row_q8_0_ref, serial and with libm's roundf, for one
 * block: the oracle for the vectorised Q8_0 paths. */
static void q8_0_block_serial(const float *x, uint8_t *b) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++)
        amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
    float d = amax / 127, id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t h = kern_fp32_to_fp16(d);
    b[0] = (uint8_t)h, b[1] = (uint8_t)(h >> 8);
    for (int j = 0; j < 32; j++) {
        float r = roundf(x[j] * id);
        b[2 + j] = (uint8_t)(r > -2147483904.0f && r < 2147483648.0f ? (int32_t)r : INT32_MIN);
    }
}

/* Random blocks, exact halves, and NaN or inf at every position (where the
 * serial maximum depends on the order) match the serial oracle. */
START_TEST(test_quantize_q8_0_matches_serial) {
    float x[32];
    uint8_t got[34], want[34];
    srand(8);
    for (int trial = 0; trial < 2000; trial++) {
        for (int j = 0; j < 32; j++)
            x[j] = ((float)rand() / (float)RAND_MAX - 0.5f) * (float)(1 + trial % 7);
        if (trial % 5 == 0)
            x[trial % 32] = 127.0f, x[(trial + 1) % 32] = 0.5f; /* scale 1: exact halves */
        if (trial >= 1000) {
            static const float odd[] = {NAN, -NAN, INFINITY, -INFINITY};
            x[trial % 32] = odd[(trial / 32) % 4];
        }
        traits(KERN_TYPE_Q8_0)->quantize_ref(x, got, 1, 32, NULL);
        q8_0_block_serial(x, want);
        ck_assert_msg(memcmp(got, want, sizeof got) == 0, "trial %d", trial);
    }
}
END_TEST

/* ggml's best_index_int8 (bisection), the oracle for kern_best_index16. */
static int best_index_bisect(int n, const int8_t *val, float x) {
    if (x <= val[0])
        return 0;
    if (x >= val[n - 1])
        return n - 1;
    int lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (x < val[mid])
            hi = mid;
        else
            lo = mid;
    }
    return x - (float)val[hi - 1] < (float)val[hi] - x ? hi - 1 : hi;
}

/* Every entry, every exact midpoint and its neighbours, the ends, NaN and a
 * sweep in steps of 1/64 agree with the bisection. */
START_TEST(test_best_index16_matches_bisection) {
    const int8_t *v = kern_iq4nl_values;
    float vf[16];
    for (int k = 0; k < 16; k++)
        vf[k] = v[k];
    for (float x = -200.0f; x <= 200.0f; x += 1.0f / 64)
        ck_assert_int_eq(kern_best_index16(vf, x), best_index_bisect(16, v, x));
    for (int k = 0; k < 15; k++) {
        float mid = ((float)v[k] + (float)v[k + 1]) / 2;
        const float xs[] = {mid, nextafterf(mid, -1e9f), nextafterf(mid, 1e9f), (float)v[k]};
        for (size_t i = 0; i < 4; i++)
            ck_assert_int_eq(kern_best_index16(vf, xs[i]), best_index_bisect(16, v, xs[i]));
    }
    const float ends[] = {NAN, INFINITY, -INFINITY, 127.0f, -127.0f, 113.0f};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        ck_assert_int_eq(kern_best_index16(vf, ends[i]), best_index_bisect(16, v, ends[i]));
}
END_TEST

/* kern_roundf is libm's roundf bit for bit (checked once on all 2^32
 * floats; here every 65521st pattern plus the cases that decide it). */
START_TEST(test_roundf_matches_libm) {
    static const float cases[] = {0.0f,       -0.0f,       0.5f,        -0.5f,
                                  1.5f,       -2.5f,       0.49999997f, -0.49999997f,
                                  8388607.5f, -8388607.5f, 8388608.0f,  0x1p-149f,
                                  -0x1p-149f, 16777217.0f, INFINITY,    -INFINITY};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float a = kern_roundf(cases[i]), r = roundf(cases[i]);
        ck_assert_mem_eq(&a, &r, sizeof a);
    }
    ck_assert(isnan(kern_roundf(NAN)));
    for (uint64_t b = 0; b <= 0xFFFFFFFFu; b += 65521) {
        uint32_t u = (uint32_t)b;
        float f, a, r;
        memcpy(&f, &u, sizeof f);
        if (isnan(f))
            continue;
        a = kern_roundf(f);
        r = roundf(f);
        ck_assert_msg(memcmp(&a, &r, sizeof a) == 0, "pattern %08x", (unsigned)u);
    }
}
END_TEST

/* kern_row_to_f32 gives kern_dequant_fn's output for every type that has
 * one, refuses the rest and partial blocks, and reads F64. */
START_TEST(test_row_to_f32_every_type) {
    enum { N = 512 };
    static uint8_t raw[N * 8];
    static float want[N], got[N];
    uint32_t seed = 7;
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(lcg(&seed) >> 24);
    for (int t = 0; t < KERN_TYPE_COUNT; t++) {
        const kern_type_traits *tt = kern_type_info(t);
        kern_to_float_fn fn = kern_dequant_fn(t);
        if (t == KERN_TYPE_F64)
            continue;
        ck_assert_int_eq(kern_row_to_f32_supported(t), fn != NULL);
        if (!fn) {
            ck_assert_int_eq(kern_row_to_f32(t, raw, got, N), -1);
            continue;
        }
        int64_t n = N - N % tt->blck_size;
        fn(raw, want, n);
        memset(got, 0, sizeof got);
        ck_assert_int_eq(kern_row_to_f32(t, raw, got, n), 0);
        ck_assert_msg(memcmp(want, got, (size_t)n * sizeof(float)) == 0, "type %s",
                      kern_type_label(t));
        if (tt->blck_size > 1)
            ck_assert_int_eq(kern_row_to_f32(t, raw, got, tt->blck_size - 1), -1);
    }
    double d[3] = {1.5, -2.25e10, 0.0};
    ck_assert_int_eq(kern_row_to_f32(KERN_TYPE_F64, d, got, 3), 0);
    ck_assert(got[0] == 1.5f && got[1] == (float)-2.25e10 && got[2] == 0.0f);
    ck_assert_int_eq(kern_row_to_f32(KERN_TYPE_COUNT, raw, got, 1), -1);
    ck_assert_int_eq(kern_row_to_f32(-1, raw, got, 1), -1);
}
END_TEST

START_TEST(test_count_nonfinite_raw) {
    float f[100];
    uint16_t h[100], b[100];
    double d[100];
    for (int i = 0; i < 100; i++) {
        f[i] = (float)i;
        d[i] = i;
        h[i] = kern_fp32_to_fp16((float)i);
        b[i] = kern_fp32_to_bf16((float)i);
    }
    f[3] = INFINITY, f[99] = NAN, d[70] = -INFINITY;
    h[0] = 0x7c00, h[65] = 0xfe00, h[66] = 0x7c01, b[80] = 0x7fc0;
    ck_assert_uint_eq(kern_count_nonfinite(KERN_TYPE_F32, f, 100), 2);
    ck_assert_uint_eq(kern_count_nonfinite(KERN_TYPE_F64, d, 100), 1);
    ck_assert_uint_eq(kern_count_nonfinite(KERN_TYPE_F16, h, 100), 3);
    ck_assert_uint_eq(kern_count_nonfinite(KERN_TYPE_BF16, b, 100), 1);
    ck_assert_uint_eq(kern_count_nonfinite(KERN_TYPE_Q8_0, h, 64), 0);
}
END_TEST

/* MatMulNBits split of known Q4_0, Q4_1 and Q8_0 blocks; the codes, scales
 * and mins give back the dequantized values. */
/* kern_find_bad_scale names the block and the scale at fault: d, m (legacy
 * types) or dmin (k-quants), the IQ1_M scale spread over four words, and
 * MXFP4's E8M0 byte e: 0xFF (NaN) only, 0xFE (2^127) and 0 are scales. */
START_TEST(test_find_bad_scale) {
    uint8_t blk[4 * 256] = {0};
    const char *which = "";
    size_t q41 = kern_type_info(KERN_TYPE_Q4_1)->type_size;
    blk[q41 + 2] = 0x00, blk[q41 + 3] = 0x7c; /* block 1: m = +Inf */
    ck_assert_int_eq(kern_find_bad_scale(KERN_TYPE_Q4_1, blk, 2, &which), 1);
    ck_assert_str_eq(which, "m");
    memset(blk, 0, sizeof blk);
    blk[3] = 0x7e; /* block 0: dmin = NaN */
    ck_assert_int_eq(kern_find_bad_scale(KERN_TYPE_Q4_K, blk, 1, &which), 0);
    ck_assert_str_eq(which, "dmin");
    memset(blk, 0, sizeof blk);
    size_t iq1m = kern_type_info(KERN_TYPE_IQ1_M)->type_size;
    blk[iq1m + 55] = 0x70, blk[iq1m + 53] = 0xc0; /* block 1: d's fp16 bits 0x7c00 */
    ck_assert_int_eq(kern_find_bad_scale(KERN_TYPE_IQ1_M, blk, 2, &which), 1);
    ck_assert_str_eq(which, "d");
    ck_assert_int_eq(kern_find_bad_scale(KERN_TYPE_Q8_0, blk, 0, &which), -1);
    ck_assert_int_eq(kern_find_bad_scale(KERN_TYPE_F16, blk, 4, &which), -1);
    memset(blk, 0xFF, sizeof blk); /* every code 15 (-6), every e 0xFF... */
    size_t mx = kern_type_info(KERN_TYPE_MXFP4)->type_size;
    blk[0] = 0xFE, blk[mx] = 0x00, blk[3 * mx] = 0x80; /* ...but blocks 0, 1 and 3 */
    ck_assert_int_eq(kern_find_bad_scale(KERN_TYPE_MXFP4, blk, 2, &which), -1);
    ck_assert_int_eq(kern_find_bad_scale(KERN_TYPE_MXFP4, blk, 4, &which), 2);
    ck_assert_str_eq(which, "e");
    ck_assert_int_eq(kern_find_bad_scale(KERN_TYPE_NVFP4, blk, 4, &which), -1);
}
END_TEST

START_TEST(test_nbits_split_known_blocks) {
    uint8_t q4_0[18] = {0x00, 0x38}, q4_1[20] = {0x00, 0x38, 0x00, 0xBC}, q8_0[34] = {0x00, 0x40};
    for (int j = 0; j < 16; j++)
        q4_0[2 + j] = q4_1[4 + j] = (uint8_t)(j | (15 - j) << 4);
    for (int j = 0; j < 32; j++)
        q8_0[2 + j] = (uint8_t)(int8_t)(j - 16);
    uint8_t codes[32];
    float scale = 0, min = 7, x[32];
    ck_assert_int_eq(kern_nbits_bits(KERN_TYPE_Q4_0), 4);
    ck_assert_int_eq(kern_nbits_bits(KERN_TYPE_Q4_1), 4);
    ck_assert_int_eq(kern_nbits_bits(KERN_TYPE_Q8_0), 8);
    ck_assert_int_eq(kern_nbits_bits(KERN_TYPE_Q5_0), 0);

    ck_assert_int_eq(kern_nbits_split(KERN_TYPE_Q4_0, q4_0, 32, codes, &scale, &min), 0);
    ck_assert_float_eq(scale, 0.5f);
    ck_assert_float_eq(min, 7.0f); /* Q4_0 has no min: untouched */
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(codes[i], (unsigned)((2 * i) | (2 * i + 1) << 4));
    for (int i = 8; i < 16; i++)
        ck_assert_uint_eq(codes[i], (unsigned)((31 - 2 * i) | (30 - 2 * i) << 4));
    kern_dequant_fn(KERN_TYPE_Q4_0)(q4_0, x, 32);
    for (int j = 0; j < 32; j++)
        ck_assert_float_eq(x[j], ((codes[j / 2] >> (4 * (j % 2))) & 15) * scale - 8 * scale);

    ck_assert_int_eq(kern_nbits_split(KERN_TYPE_Q4_1, q4_1, 32, codes, &scale, &min), 0);
    ck_assert_float_eq(scale, 0.5f);
    ck_assert_float_eq(min, -1.0f);
    kern_dequant_fn(KERN_TYPE_Q4_1)(q4_1, x, 32);
    for (int j = 0; j < 32; j++)
        ck_assert_float_eq(x[j], ((codes[j / 2] >> (4 * (j % 2))) & 15) * scale + min);

    ck_assert_int_eq(kern_nbits_split(KERN_TYPE_Q8_0, q8_0, 32, codes, &scale, NULL), 0);
    ck_assert_float_eq(scale, 2.0f);
    for (int j = 0; j < 32; j++)
        ck_assert_uint_eq(codes[j], (unsigned)(j + 112));

    ck_assert_int_eq(kern_nbits_split(KERN_TYPE_Q8_0, q8_0, 31, codes, NULL, NULL), -1);
    ck_assert_int_eq(kern_nbits_split(KERN_TYPE_Q4_K, q8_0, 256, codes, NULL, NULL), -1);
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("legacy-kquants-ternary-fp4");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_synthetic_round_trip, 0, N_OWNED);
    tcase_add_loop_test(tc, test_known_answers, 0, (int)(sizeof known / sizeof known[0]));
    tcase_add_loop_test(tc, test_known_answers_ragged, 0,
                        (int)(sizeof known_ragged / sizeof known_ragged[0]));
    UNIT_ADD_TESTS(tc, test_dequant_q4_0_block, test_dequant_q5_1_block, test_dequant_q6_k_block,
                   test_dequant_q8_k_block, test_dequant_tq_mxfp4_blocks, test_quantize_q8_0_block,
                   test_q1_0_block, test_mxfp4_block_from_codes);
    tcase_add_loop_test(tc, test_zeros, 0, N_OWNED);
    tcase_add_loop_test(tc, test_constant_and_outlier, 0, N_OWNED);
    tcase_add_loop_test(tc, test_subnormal_and_huge, 0, N_OWNED);
    tcase_add_loop_test(tc, test_chunking, 0, N_OWNED);
    UNIT_ADD_TESTS(tc, test_find_nonfinite, test_roundf_matches_libm,
                   test_best_index16_matches_bisection, test_quantize_q8_0_matches_serial,
                   test_row_to_f32_every_type, test_count_nonfinite_raw,
                   test_nbits_split_known_blocks, test_find_bad_scale);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
