/*
 * simd_test.c -- every SIMD dequantizer and fp16/bf16 row conversion on
 * every ISA this machine can run, compared bit for bit (memcmp) with the
 * reference: random blocks, zeros, constant blocks, single outliers,
 * extreme and subnormal scales, every row length of 1..8 blocks and
 * unaligned sources; all 2^16 halves and 10^6 random floats for the rows;
 * the quantizers whose scale searches run wider on wider ISAs (search.c)
 * giving the reference's bytes; and GGUFKIT_SIMD=off selecting the
 * reference.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels_internal.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Byte offsets of the fp16 scale fields of one block of each type that has
 * a SIMD variant (quant-notes 1.2); F16/BF16 blocks are a single half. */
typedef struct {
    int type;
    int nscales;
    int scale_off[2];
} type_case;

static const type_case cases[] = {
    {KERN_TYPE_Q4_0, 1, {0, 0}},   {KERN_TYPE_Q4_1, 2, {0, 2}},   {KERN_TYPE_Q5_0, 1, {0, 0}},
    {KERN_TYPE_Q5_1, 2, {0, 2}},   {KERN_TYPE_Q8_0, 1, {0, 0}},   {KERN_TYPE_Q2_K, 2, {80, 82}},
    {KERN_TYPE_Q3_K, 1, {108, 0}}, {KERN_TYPE_Q4_K, 2, {0, 2}},   {KERN_TYPE_Q5_K, 2, {0, 2}},
    {KERN_TYPE_Q6_K, 1, {208, 0}}, {KERN_TYPE_IQ4_NL, 1, {0, 0}}, {KERN_TYPE_IQ4_XS, 1, {0, 0}},
    {KERN_TYPE_F16, 0, {0, 0}},    {KERN_TYPE_BF16, 0, {0, 0}},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

enum { MODE_RANDOM, MODE_ZERO, MODE_CONST, MODE_OUTLIER, MODE_COUNT };

/* fp16 scale patterns: random finite ones (0) and fixed edge values. */
static const uint16_t edge_scales[] = {
    0x7BFF, /* max finite */
    0xFBFF, /* -max */
    0x0400, /* min normal */
    0x0001, /* min subnormal */
    0x03FF, /* max subnormal */
    0x8001, /* -min subnormal */
    0x8000, /* -0 */
    0x0000, /* +0 */
    0x3C00, /* 1 */
};
#define NEDGE ((int)(sizeof edge_scales / sizeof edge_scales[0]))

static uint16_t random_finite_half(void) {
    uint16_t h;
    do
        h = (uint16_t)rnd();
    while ((h & 0x7C00) == 0x7C00);
    return h;
}

/* Fill nb blocks of the type per mode; scale = 0 means random finite. */
static void fill_blocks(const type_case *tc, uint8_t *buf, size_t block_bytes, int nb, int mode,
                        int scale_idx) {
    size_t total = block_bytes * (size_t)nb;
    uint8_t cbyte = (uint8_t)rnd();
    for (size_t i = 0; i < total; i++) {
        switch (mode) {
        case MODE_RANDOM: buf[i] = (uint8_t)rnd(); break;
        case MODE_ZERO: buf[i] = 0; break;
        case MODE_CONST: buf[i] = cbyte; break;
        default: buf[i] = 0; break;
        }
    }
    if (mode == MODE_OUTLIER)
        buf[rnd() % total] = (uint8_t)(rnd() | 0x80);
    for (int b = 0; b < nb; b++) {
        for (int s = 0; s < tc->nscales; s++) {
            uint16_t h = scale_idx < 0 ? random_finite_half() : edge_scales[scale_idx];
            if (mode == MODE_ZERO && scale_idx < 0)
                h = 0;
            memcpy(buf + (size_t)b * block_bytes + (size_t)tc->scale_off[s], &h, 2);
        }
    }
}

/* Compare two float arrays bit for bit; on mismatch fail with details. */
static void expect_same_bits(const float *want, const float *got, int64_t n, const char *what,
                             const char *isa, int nb, int mode, int scale_idx) {
    if (memcmp(want, got, (size_t)n * sizeof(float)) == 0)
        return;
    for (int64_t i = 0; i < n; i++) {
        uint32_t a, b;
        memcpy(&a, &want[i], 4);
        memcpy(&b, &got[i], 4);
        if (a != b)
            ck_abort_msg("%s on %s: %d blocks, mode %d, scale %d: element %lld is %08x (%g), "
                         "reference %08x (%g)",
                         what, isa, nb, mode, scale_idx, (long long)i, b, (double)got[i], a,
                         (double)want[i]);
    }
}

/* ISAs this machine can run, other than the reference. */
static int available_isas(kern_isa *out) {
    int k = 0;
    for (int i = 1; i < KERN_ISA_COUNT; i++)
        if (kern_isa_available((kern_isa)i))
            out[k++] = (kern_isa)i;
    return k;
}

/* ------------------------------------------------------------------------ */
/* Dequantizers                                                               */
/* ------------------------------------------------------------------------ */

/* A row of more than 16 MiB of output, where the SIMD kernels switch to
 * non-temporal stores, on destinations aligned to 64 bytes (widest
 * streaming store), to 16 bytes only (narrow streaming stores) and to 4
 * bytes (ordinary stores). */
static void check_large(const type_case *tc, const kern_type_traits *tt, kern_to_float_fn fast,
                        const char *isa) {
    int64_t n = ((int64_t)16 << 20) / 4 + 3 * 256 + (tt->blck_size == 1 ? 5 : 0);
    size_t qbytes = (size_t)(n / tt->blck_size) * tt->type_size;
    uint8_t *src = malloc(qbytes);
    float *want = malloc(sizeof(float) * (size_t)(n + 1));
    size_t got_bytes = (sizeof(float) * (size_t)(n + 8) + 63) / 64 * 64;
    float *got = aligned_alloc(64, got_bytes);
    ck_assert(src && want && got);
    /* finite scales: with two NaN operands the payload that survives an
     * addition is up to the compiler (gcc and clang differ even for the
     * reference), so NaN scales are not a meaningful comparison */
    fill_blocks(tc, src, tt->type_size, (int)(n / tt->blck_size), MODE_RANDOM, -1);
    tt->to_float_ref(src, want, n);
    static const int shifts[] = {0, 4, 1}; /* in floats */
    for (int k = 0; k < 3; k++) {
        int shift = shifts[k];
        memset(got, 0, got_bytes);
        fast(src, got + shift, n);
        expect_same_bits(want, got + shift, n, tt->name, isa, -1, -1, -1);
    }
    free(src);
    free(want);
    free(got);
}

/* One type on the selected ISA against its reference. Returns 1 if the
 * type has both a reference and a SIMD variant (so something was tested). */
static int check_type(const type_case *tc, const char *isa) {
    const kern_type_traits *tt = kern_type_info(tc->type);
    ck_assert_ptr_nonnull(tt);
    kern_to_float_fn fast = kern_dequant_fn(tc->type);
    if (!tt->to_float_ref || !fast || fast == tt->to_float_ref)
        return 0;
    /* F16/BF16 have 1-element blocks: test as rows of 8 "blocks" of 37 so
     * the vector body and the scalar tail both run. */
    int64_t blck = tt->blck_size == 1 ? 37 : tt->blck_size;
    size_t block_bytes = tt->blck_size == 1 ? 37 * tt->type_size : tt->type_size;
    const int max_nb = 8;
    uint8_t *raw = malloc(block_bytes * max_nb + 1);
    float *want = malloc(sizeof(float) * (size_t)(blck * max_nb));
    float *got = malloc(sizeof(float) * (size_t)(blck * max_nb));
    ck_assert(raw && want && got);
    for (int nb = 1; nb <= max_nb; nb++) {
        int64_t n = blck * nb;
        for (int mode = 0; mode < MODE_COUNT; mode++) {
            for (int sc = -1; sc < NEDGE; sc++) {
                int reps = (mode == MODE_RANDOM && sc < 0) ? 20 : 1;
                for (int r = 0; r < reps; r++) {
                    /* alternate aligned and unaligned sources */
                    uint8_t *src = raw + (r & 1);
                    fill_blocks(tc, src, block_bytes, nb, mode, sc);
                    memset(want, 0xA5, sizeof(float) * (size_t)n);
                    memset(got, 0x5A, sizeof(float) * (size_t)n);
                    tt->to_float_ref(src, want, n);
                    fast(src, got, n);
                    expect_same_bits(want, got, n, tt->name, isa, nb, mode, sc);
                }
            }
        }
    }
    free(raw);
    free(want);
    free(got);
    check_large(tc, tt, fast, isa);
    return 1;
}

START_TEST(test_dequant_all_isas) {
    kern_isa isas[KERN_ISA_COUNT];
    int nisa = available_isas(isas);
    int tested = 0;
    for (int k = 0; k < nisa; k++) {
        ck_assert(kern_set_isa(isas[k]));
        for (int c = 0; c < NCASES; c++) {
            int done = check_type(&cases[c], kern_isa_name());
            tested += done;
            if (!done && kern_type_info(cases[c].type)->to_float_ref == NULL)
                fprintf(stderr, "note: %s has no reference dequantizer yet, not compared\n",
                        kern_type_info(cases[c].type)->name);
        }
    }
    kern_set_isa(KERN_ISA_REF);
    if (nisa == 0)
        fprintf(stderr, "note: no SIMD ISA available on this machine\n");
    else
        ck_assert_int_gt(tested, 0);
}
END_TEST

/* The SIMD tables of this architecture must cover every type the issue
 * lists, whether or not this CPU can run them. */
static const kern_isa_table *const arch_tables[] = {
#if defined(__x86_64__)
    &kern_isa_table_avx2,
    &kern_isa_table_avx512,
#elif defined(__aarch64__)
    &kern_isa_table_neon,
#endif
    NULL,
};

START_TEST(test_tables_complete) {
    for (int k = 0; arch_tables[k]; k++) {
        const kern_isa_table *row = arch_tables[k];
        for (int c = 0; c < NCASES; c++)
            ck_assert_msg(row->to_float[cases[c].type] != NULL, "table %d lacks %s", k,
                          kern_type_info(cases[c].type)->name);
        ck_assert(row->fp16_to_fp32_row != NULL);
        ck_assert(row->fp32_to_fp16_row != NULL);
        ck_assert(row->bf16_to_fp32_row != NULL);
        ck_assert(row->fp32_to_bf16_row != NULL);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* fp16 / bf16 rows                                                           */
/* ------------------------------------------------------------------------ */

#define NRANDOM 1000000

/* Random floats: half arbitrary bit patterns (NaN, inf, subnormals, huge),
 * half with exponents in and around the fp16 range, where rounding and the
 * subnormal boundary are exercised. */
static void random_floats(float *f, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)rnd();
        if (i & 1) {
            uint32_t exp = 90u + (uint32_t)(rnd() % 60u); /* 2^-37 .. 2^22 */
            u = (u & 0x807FFFFFu) | (exp << 23);
        }
        f[i] = f32_from_bits(u);
    }
}

static void check_rows_one_isa(const char *isa) {
    uint16_t *h = malloc(sizeof(uint16_t) * 65536);
    uint16_t *hw = malloc(sizeof(uint16_t) * NRANDOM), *hg = malloc(sizeof(uint16_t) * NRANDOM);
    float *fw = malloc(sizeof(float) * NRANDOM), *fg = malloc(sizeof(float) * NRANDOM);
    float *src = malloc(sizeof(float) * NRANDOM);
    ck_assert(h && hw && hg && fw && fg && src);

    for (int i = 0; i < 65536; i++)
        h[i] = (uint16_t)i;
    /* all halves, and short lengths for the scalar tails */
    for (int64_t len = 65536; len > 0; len = len > 40 ? 40 : len - 1) {
        kern_fp16_to_fp32_row(h + 65536 - len, fg, len);
        for (int64_t i = 0; i < len; i++)
            fw[i] = kern_fp16_to_fp32(h[65536 - len + i]);
        expect_same_bits(fw, fg, len, "fp16->fp32 row", isa, (int)len, 0, 0);
        kern_bf16_to_fp32_row(h + 65536 - len, fg, len);
        for (int64_t i = 0; i < len; i++)
            fw[i] = kern_bf16_to_fp32(h[65536 - len + i]);
        expect_same_bits(fw, fg, len, "bf16->fp32 row", isa, (int)len, 0, 0);
    }

    random_floats(src, NRANDOM);
    for (int64_t len = NRANDOM; len > 0; len = len > 40 ? 40 : len - 1) {
        kern_fp32_to_fp16_row(src, hg, len);
        for (int64_t i = 0; i < len; i++)
            hw[i] = kern_fp32_to_fp16(src[i]);
        for (int64_t i = 0; memcmp(hw, hg, sizeof(uint16_t) * (size_t)len) != 0 && i < len; i++)
            ck_assert_msg(hw[i] == hg[i], "fp32->fp16 on %s: %08x -> %04x, reference %04x", isa,
                          f32_bits(src[i]), hg[i], hw[i]);
        kern_fp32_to_bf16_row(src, hg, len);
        for (int64_t i = 0; i < len; i++)
            hw[i] = kern_fp32_to_bf16(src[i]);
        ck_assert_msg(memcmp(hw, hg, sizeof(uint16_t) * (size_t)len) == 0,
                      "fp32->bf16 row on %s differs (length %lld)", isa, (long long)len);
    }
    free(h);
    free(hw);
    free(hg);
    free(fw);
    free(fg);
    free(src);
}

START_TEST(test_rows_all_isas) {
    kern_isa isas[KERN_ISA_COUNT];
    int nisa = available_isas(isas);
    for (int k = 0; k < nisa; k++) {
        ck_assert(kern_set_isa(isas[k]));
        check_rows_one_isa(kern_isa_name());
    }
    /* the reference path through the same entry points */
    ck_assert(kern_set_isa(KERN_ISA_REF));
    check_rows_one_isa("ref");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Selection                                                                  */
/* ------------------------------------------------------------------------ */

/* Output of this test binary run as "--print-isa" with GGUFKIT_SIMD=value. */
static void isa_with_env(const char *value, char *out, size_t cap) {
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_int_gt(len, 0);
    self[len] = '\0';
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "GGUFKIT_SIMD=%s '%s' --print-isa", value, self);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    out[0] = '\0';
    ck_assert_ptr_nonnull(fgets(out, (int)cap, p));
    ck_assert_int_eq(pclose(p), 0);
    out[strcspn(out, "\n")] = '\0';
}

START_TEST(test_env_off) {
    char name[64];
    isa_with_env("off", name, sizeof name);
    ck_assert_str_eq(name, "ref");
    isa_with_env("ref", name, sizeof name);
    ck_assert_str_eq(name, "ref");
    if (kern_isa_available(KERN_ISA_AVX2)) {
        isa_with_env("avx2", name, sizeof name);
        ck_assert_str_eq(name, "avx2");
    }
}
END_TEST

START_TEST(test_set_isa_ref) {
    ck_assert(kern_set_isa(KERN_ISA_REF));
    ck_assert_str_eq(kern_isa_name(), "ref");
    for (int c = 0; c < NCASES; c++)
        ck_assert(kern_dequant_fn(cases[c].type) == kern_type_info(cases[c].type)->to_float_ref);
    ck_assert(!kern_set_isa(KERN_ISA_COUNT));
    ck_assert(kern_set_isa(KERN_ISA_REF));
}
END_TEST

/* search.c evaluates its scale steps 4, 8 or 16 at a time by ISA; every
 * type whose quantizer uses those searches must write the same bytes on
 * each, with and without importance weights. */
START_TEST(test_quantize_all_isas) {
    static const int types[] = {KERN_TYPE_Q2_K, KERN_TYPE_Q3_K, KERN_TYPE_Q4_K, KERN_TYPE_Q5_K,
                                KERN_TYPE_Q6_K, KERN_TYPE_Q4_0, KERN_TYPE_Q5_0, KERN_TYPE_IQ4_XS};
    enum { ROWS = 64, N = 1024 };
    float *x = malloc(sizeof(float) * ROWS * N), im[N];
    uint8_t *want = malloc(ROWS * N * 4), *got = malloc(ROWS * N * 4);
    ck_assert(x && want && got);
    uint32_t r = 12345;
    for (int i = 0; i < ROWS * N; i++) { /* uneven magnitudes: searches win at various steps */
        r = r * 1664525u + 1013904223u;
        x[i] =
            ((float)(r >> 8) / 16777216.0f - 0.5f) * (float)(1 + (i / 32) % 7) * (i % 97 ? 1 : 40);
    }
    for (int i = 0; i < N; i++)
        im[i] = 0.1f + (float)(i % 13);
    kern_isa isas[KERN_ISA_COUNT];
    int nisa = available_isas(isas);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const kern_type_traits *tt = kern_type_info(types[t]);
        for (int w = 0; w < 2; w++) {
            ck_assert(kern_set_isa(KERN_ISA_REF));
            size_t bytes = tt->quantize_ref(x, want, ROWS, N, w ? im : NULL);
            for (int k = 0; k < nisa; k++) {
                ck_assert(kern_set_isa(isas[k]));
                ck_assert_uint_eq(tt->quantize_ref(x, got, ROWS, N, w ? im : NULL), bytes);
                ck_assert_msg(memcmp(want, got, bytes) == 0, "%s%s on %s differs from ref",
                              tt->name, w ? " (imatrix)" : "", kern_isa_name());
            }
        }
    }
    kern_set_isa(KERN_ISA_REF);
    free(x), free(want), free(got);
}
END_TEST

static Suite *simd_suite(void) {
    Suite *s = suite_create("simd");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    UNIT_ADD_TESTS(tc, test_dequant_all_isas, test_tables_complete, test_rows_all_isas,
                   test_env_off, test_set_isa_ref, test_quantize_all_isas);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--print-isa") == 0) {
        printf("%s\n", kern_isa_name());
        return 0;
    }
    return unit_run(simd_suite());
}
