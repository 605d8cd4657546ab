/* stack_test.c -- stacked records: shape, rows read across parts, stored
 * row bytes, computed parts, and the refusals (shape, dtype, no parts). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/source.h"
#include "formats/stack.h"
#include "kernels/kernels.h"

/* A mapped F32 record of rows x cols holding base + i at element i. */
static fmt_src_tensor f32_part(const char *name, int64_t rows, int64_t cols, float base,
                               float *store) {
    for (int64_t i = 0; i < rows * cols; i++)
        store[i] = base + (float)i;
    fmt_src_tensor t = {.name = name,
                        .type = KERN_TYPE_F32,
                        .dtype = "F32",
                        .n_dims = 2,
                        .shape = {rows, cols},
                        .n_elements = (uint64_t)(rows * cols),
                        .size = (uint64_t)(rows * cols) * 4,
                        .data = (const uint8_t *)store,
                        .file = "model.safetensors",
                        .read = fmt_src_read_stored};
    return t;
}

START_TEST(test_stack_rows) {
    float s0[6], s1[6], s2[6];
    fmt_src_tensor p[3] = {f32_part("e.0.w", 2, 3, 0, s0), f32_part("e.1.w", 2, 3, 100, s1),
                           f32_part("e.2.w", 2, 3, 200, s2)};
    const fmt_src_tensor *parts[3] = {&p[0], &p[1], &p[2]};
    fmt_stack *s = fmt_stack_new();
    ck_assert_ptr_nonnull(s);
    gk_status st;
    char err[256];
    const fmt_src_tensor *t = fmt_stack_add(s, "e.*.w", parts, 3, &st, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(st, GK_OK);
    ck_assert(fmt_stack_is(t));
    ck_assert(!fmt_stack_is(&p[0]));
    ck_assert_str_eq(t->name, "e.*.w");
    ck_assert_uint_eq(t->n_dims, 3);
    ck_assert_int_eq(t->shape[0], 3);
    ck_assert_int_eq(t->shape[1], 2);
    ck_assert_int_eq(t->shape[2], 3);
    ck_assert_uint_eq(t->n_elements, 18);
    ck_assert_uint_eq(t->size, 72);
    ck_assert_ptr_null(t->data);
    ck_assert_int_eq(t->type, KERN_TYPE_F32);
    ck_assert_uint_eq(fmt_stack_n_parts(t), 3);
    ck_assert_ptr_eq(fmt_stack_part(t, 2), &p[2]);
    ck_assert_ptr_null(fmt_stack_part(t, 3));
    /* rows 1..4 cross three parts: part 0 row 1, part 1 rows 0-1, part 2 row 0 */
    float got[12];
    ck_assert_int_eq(fmt_src_read_rows(t, 1, 4, got), GK_OK);
    const float want[12] = {3, 4, 5, 100, 101, 102, 103, 104, 105, 200, 201, 202};
    ck_assert_mem_eq(got, want, sizeof want);
    ck_assert_int_eq(fmt_src_read_rows(t, 5, 2, got), GK_E_FORMAT); /* past the end */
    /* the stored bytes of a row are its part's */
    ck_assert_ptr_eq(fmt_stack_row_data(t, 0), (const uint8_t *)s0);
    ck_assert_ptr_eq(fmt_stack_row_data(t, 3), (const uint8_t *)(s1 + 3));
    ck_assert_ptr_eq(fmt_stack_row_data(t, 4), (const uint8_t *)s2);
    ck_assert_ptr_null(fmt_stack_row_data(&p[0], 0));
    fmt_stack_release(t, 0, 6); /* heap memory here: only must not crash */
    fmt_stack_free(s);
}
END_TEST

/* A computed part (data NULL): rows still read, no stored bytes. */
static gk_status twice_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const fmt_src_tensor *inner = t->ctx;
    gk_status st = fmt_src_read_rows(inner, r0, n, dst);
    for (int64_t i = 0; st == GK_OK && i < n * fmt_src_row_len(t); i++)
        dst[i] *= 2;
    return st;
}

START_TEST(test_stack_computed_part) {
    float s0[4], s1[4];
    fmt_src_tensor a = f32_part("a", 2, 2, 1, s0), inner = f32_part("i", 2, 2, 10, s1);
    fmt_src_tensor b = inner;
    b.name = "b";
    b.data = NULL;
    b.read = twice_read;
    b.ctx = &inner;
    const fmt_src_tensor *parts[2] = {&a, &b};
    fmt_stack *s = fmt_stack_new();
    gk_status st;
    char err[256];
    const fmt_src_tensor *t = fmt_stack_add(s, "ab", parts, 2, &st, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    float got[8];
    ck_assert_int_eq(fmt_src_read_rows(t, 0, 4, got), GK_OK);
    const float want[8] = {1, 2, 3, 4, 20, 22, 24, 26};
    ck_assert_mem_eq(got, want, sizeof want);
    ck_assert_ptr_nonnull(fmt_stack_row_data(t, 1));
    ck_assert_ptr_null(fmt_stack_row_data(t, 2));
    fmt_stack_release(t, 0, 4);
    fmt_stack_free(s);
}
END_TEST

START_TEST(test_stack_refusals) {
    float s0[6], s1[6];
    fmt_src_tensor a = f32_part("x.0.w", 2, 3, 0, s0), b = f32_part("x.1.w", 3, 2, 0, s1);
    const fmt_src_tensor *parts[2] = {&a, &b};
    fmt_stack *s = fmt_stack_new();
    gk_status st;
    char err[512];
    ck_assert_ptr_null(fmt_stack_add(s, "x", parts, 2, &st, err, sizeof err));
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_str_eq(err, "model.safetensors: tensor 'x.1.w' has shape 3x2 but tensor 'x.0.w' "
                          "has 2x3 (experts of one tensor must share their shape)");
    b = f32_part("x.1.w", 2, 3, 0, s1);
    b.type = KERN_TYPE_F16;
    b.dtype = "F16";
    ck_assert_ptr_null(fmt_stack_add(s, "x", parts, 2, &st, err, sizeof err));
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "has dtype F16 but tensor 'x.0.w' has F32"));
    ck_assert_ptr_null(fmt_stack_add(s, "x", parts, 0, &st, err, sizeof err));
    ck_assert_int_eq(st, GK_E_FORMAT);
    a.n_dims = 0;
    ck_assert_ptr_null(fmt_stack_add(s, "x", parts, 1, &st, err, sizeof err));
    ck_assert_int_eq(st, GK_E_FORMAT);
    fmt_stack_free(s);
    fmt_stack_free(NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("stack");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_stack_rows);
    tcase_add_test(tc, test_stack_computed_part);
    tcase_add_test(tc, test_stack_refusals);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
