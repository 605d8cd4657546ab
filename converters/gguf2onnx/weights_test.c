/*
 * weights_test.c -- gguf2onnx's --weights names.
 */
#include <check.h>

#include "converters/gguf2onnx/weights.h"
#include "tests/unit.h"

START_TEST(test_mode_names) {
    ck_assert_int_eq(ox_weights_mode_parse("auto"), OX_W_AUTO);
    ck_assert_int_eq(ox_weights_mode_parse("f32"), OX_W_F32);
    ck_assert_int_eq(ox_weights_mode_parse("f16"), OX_W_F16);
    ck_assert_int_eq(ox_weights_mode_parse("int4"), OX_W_INT4);
    ck_assert_int_eq(ox_weights_mode_parse("int8"), OX_W_INT8);
    ck_assert_int_eq(ox_weights_mode_parse("q4"), -1);
    ck_assert_int_eq(ox_weights_mode_parse(""), -1);
}
END_TEST

int main(void) {
    Suite *s = suite_create("gguf2onnx_weights");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_mode_names);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
