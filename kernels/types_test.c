/* types_test.c -- the type table and fp16/bf16 conversion. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "tests/unit.h"

START_TEST(test_table_sizes) {
    /* bytes per block and block size, from ggml-common.h */
    ck_assert_uint_eq(kern_row_bytes(KERN_TYPE_Q4_0, 64), 36);
    ck_assert_uint_eq(kern_row_bytes(KERN_TYPE_Q4_K, 512), 288);
    ck_assert_uint_eq(kern_row_bytes(KERN_TYPE_Q4_K, 100), 0);
    ck_assert_uint_eq(kern_row_bytes(KERN_TYPE_F16, 3), 6);
    ck_assert_uint_eq(kern_row_bytes(KERN_TYPE_MXFP4, 32), 17);
    ck_assert_ptr_null(kern_type_info(4));
    ck_assert_ptr_null(kern_type_info(KERN_TYPE_COUNT));
    ck_assert_ptr_null(kern_type_info(-1));
    ck_assert_double_eq_tol(kern_type_bpw(KERN_TYPE_Q6_K), 6.5625, 1e-12);
    ck_assert_int_eq(kern_type_from_name("Q4_k"), KERN_TYPE_Q4_K);
    ck_assert_int_eq(kern_type_from_name("nope"), -1);
    ck_assert_str_eq(kern_type_label(KERN_TYPE_IQ2_XXS), "IQ2_XXS");
}
END_TEST

/* fp16 -> fp32 -> fp16 is the identity on every non-NaN half. */
START_TEST(test_fp16_roundtrip_all) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = kern_fp16_to_fp32((uint16_t)h);
        if (isnan(f)) {
            ck_assert_uint_eq(kern_fp32_to_fp16(f) & 0x7E00u, 0x7E00u);
            continue;
        }
        ck_assert_uint_eq(kern_fp32_to_fp16(f), h);
    }
}
END_TEST

START_TEST(test_fp16_rounding) {
    ck_assert_uint_eq(kern_fp32_to_fp16(-0.0f), 0x8000);
    ck_assert_uint_eq(kern_fp32_to_fp16(65520.0f), 0x7C00); /* rounds to inf */
    ck_assert_uint_eq(kern_fp32_to_fp16(65519.0f), 0x7BFF);
    ck_assert_uint_eq(kern_fp32_to_fp16(1.0f + 0x1.0p-11f), 0x3C00); /* tie to even */
    ck_assert_uint_eq(kern_fp32_to_fp16(1.0f + 0x1.8p-10f), 0x3C02); /* 1.5 ulp: tie to even */
    ck_assert_uint_eq(kern_fp32_to_fp16(0x1.0p-25f), 0x0000);        /* tie to even: 0 */
    ck_assert_uint_eq(kern_fp32_to_fp16(0x1.8p-25f), 0x0001);
    ck_assert_uint_eq(kern_fp32_to_fp16(NAN), 0x7E00);
}
END_TEST

START_TEST(test_bf16) {
    ck_assert_uint_eq(kern_fp32_to_bf16(1.0f), 0x3F80);
    ck_assert_uint_eq(kern_fp32_to_bf16(kern_bf16_to_fp32(0x1234)), 0x1234);
    /* 0x3F808000 is a tie: to even (0x3F80); 0x3F818000 goes up to 0x3F82 */
    float f;
    uint32_t u = 0x3F808000u;
    memcpy(&f, &u, 4);
    ck_assert_uint_eq(kern_fp32_to_bf16(f), 0x3F80);
    u = 0x3F818000u;
    memcpy(&f, &u, 4);
    ck_assert_uint_eq(kern_fp32_to_bf16(f), 0x3F82);
    u = 0x7F800001u; /* signalling NaN becomes quiet */
    memcpy(&f, &u, 4);
    ck_assert_uint_eq(kern_fp32_to_bf16(f), 0x7FC0);
}
END_TEST

/* Newer upstream types: sizes, and hand-built blocks decoded exactly. */
START_TEST(test_newer_types) {
    ck_assert_uint_eq(kern_row_bytes(KERN_TYPE_NVFP4, 128), 72);
    ck_assert_uint_eq(kern_row_bytes(KERN_TYPE_Q1_0, 256), 36);
    ck_assert_uint_eq(kern_row_bytes(KERN_TYPE_Q2_0, 64), 18);
    ck_assert_str_eq(kern_type_label(KERN_TYPE_Q2_0), "Q2_0");
    uint8_t blk[18] = {0x00, 0x40}; /* d = 2.0 */
    float out[128];
    blk[2] = 0x05; /* values 0 and 2 set */
    kern_type_info(KERN_TYPE_Q1_0)->to_float_ref(blk, out, 128);
    ck_assert_float_eq(out[0], 2.0f);
    ck_assert_float_eq(out[1], -2.0f);
    ck_assert_float_eq(out[2], 2.0f);
    ck_assert_float_eq(out[127], -2.0f);
    blk[2] = 0xE4; /* codes 0,1,2,3 -> -1,0,1,2 times d */
    kern_type_info(KERN_TYPE_Q2_0)->to_float_ref(blk, out, 64);
    ck_assert_float_eq(out[0], -2.0f);
    ck_assert_float_eq(out[1], 0.0f);
    ck_assert_float_eq(out[2], 2.0f);
    ck_assert_float_eq(out[3], 4.0f);
    ck_assert_float_eq(out[4], -2.0f);
}
END_TEST

static Suite *types_suite(void) {
    Suite *s = suite_create("types");
    TCase *tc = tcase_create("core");
    UNIT_ADD_TESTS(tc, test_table_sizes, test_fp16_roundtrip_all, test_fp16_rounding, test_bf16,
                   test_newer_types);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(types_suite());
}
