/* view_test.c -- strided views (transpose, split, step, slice) read back
 * against the indices they stand for, and sets built of kept and computed
 * records. */
#include "formats/view.h"

#include "kernels/kernels.h"
#include "tests/unit.h"

/* A stored F32 record [2, 3, 4] holding 0..23 in row-major order. */
static float vals[24];
static fmt_src_tensor base(void) {
    for (int i = 0; i < 24; i++)
        vals[i] = (float)i;
    fmt_src_tensor t = {.name = "w",
                        .type = KERN_TYPE_F32,
                        .dtype = "F32",
                        .n_dims = 3,
                        .shape = {2, 3, 4},
                        .n_elements = 24,
                        .size = sizeof vals,
                        .data = (const uint8_t *)vals,
                        .file = "f",
                        .read = fmt_src_read_stored};
    return t;
}

/* The rows of the view's record in a set, as read through the set. */
static const fmt_src_tensor *add_and_find(fmt_xset *x, const fmt_view *v, const char *name) {
    ck_assert_int_eq(fmt_xset_add_view(x, name, v), GK_OK);
    gk_status st;
    fmt_src *s = fmt_xset_source(x, &st);
    ck_assert_ptr_nonnull(s);
    return fmt_src_find(s, name);
}

START_TEST(test_transpose) {
    fmt_src_tensor b = base();
    fmt_view v;
    ck_assert_int_eq(fmt_view_of(&v, &b), GK_OK);
    ck_assert_int_eq(fmt_view_transpose(&v, 1, 2), GK_OK);
    fmt_xset *x = fmt_xset_new();
    const fmt_src_tensor *t = add_and_find(x, &v, "w.T");
    ck_assert_int_eq(t->n_dims, 3);
    ck_assert_int_eq(t->shape[1], 4);
    ck_assert_int_eq(t->shape[2], 3);
    float out[24];
    ck_assert_int_eq(fmt_src_read_rows(t, 0, 8, out), GK_OK);
    for (int e = 0; e < 2; e++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++) /* out[e][i][j] = in[e][j][i] */
                ck_assert_float_eq(out[(e * 4 + i) * 3 + j], (float)(e * 12 + j * 4 + i));
    fmt_xset_free(x);
}
END_TEST

/* gpt-oss's de-interleave: rows 1, 3 of dim 1 ... here of the 4 columns. */
START_TEST(test_step_and_split) {
    fmt_src_tensor b = base();
    fmt_view v;
    ck_assert_int_eq(fmt_view_of(&v, &b), GK_OK);
    ck_assert_int_eq(fmt_view_slice(&v, 2, 1, 2, 2), GK_OK);
    fmt_xset *x = fmt_xset_new();
    const fmt_src_tensor *t = add_and_find(x, &v, "w[odd]");
    float out[12];
    ck_assert_int_eq(fmt_src_read_rows(t, 0, 6, out), GK_OK);
    for (int r = 0; r < 6; r++) {
        ck_assert_float_eq(out[2 * r], (float)(r * 4 + 1));
        ck_assert_float_eq(out[2 * r + 1], (float)(r * 4 + 3));
    }
    fmt_xset_free(x);
    /* DeepSeek's kv_b: [2*3 rows, 4] as [2 heads, 3, 4], rows 1..2 of each head */
    fmt_src_tensor b2 = base();
    b2.n_dims = 2;
    b2.shape[0] = 6;
    b2.shape[1] = 4;
    ck_assert_int_eq(fmt_view_of(&v, &b2), GK_OK);
    ck_assert_int_eq(fmt_view_split(&v, 0, 2), GK_OK);
    ck_assert_int_eq(v.n_dims, 3);
    ck_assert_int_eq(fmt_view_slice(&v, 1, 1, 2, 1), GK_OK);
    x = fmt_xset_new();
    t = add_and_find(x, &v, "kv_b[v]");
    ck_assert_int_eq(t->n_elements, 16);
    float o2[16];
    ck_assert_int_eq(fmt_src_read_rows(t, 0, 4, o2), GK_OK);
    for (int h = 0; h < 2; h++)
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 4; c++)
                ck_assert_float_eq(o2[(h * 2 + r) * 4 + c], (float)((h * 3 + 1 + r) * 4 + c));
    fmt_xset_free(x);
}
END_TEST

START_TEST(test_refused) {
    fmt_src_tensor b = base();
    fmt_view v;
    ck_assert_int_eq(fmt_view_of(&v, &b), GK_OK);
    ck_assert_int_eq(fmt_view_split(&v, 1, 2), GK_E_FORMAT);       /* 3 rows in 2 */
    ck_assert_int_eq(fmt_view_slice(&v, 2, 1, 3, 2), GK_E_FORMAT); /* 1, 3, 5 of 4 */
    ck_assert_int_eq(fmt_view_slice(&v, 3, 0, 1, 1), GK_E_FORMAT); /* no dim 3 */
    ck_assert_int_eq(fmt_view_transpose(&v, 0, 5), GK_E_FORMAT);
    b.type = KERN_TYPE_Q8_0; /* mapped blocks are no elements */
    ck_assert_int_eq(fmt_view_of(&v, &b), GK_E_UNSUPPORTED);
}
END_TEST

/* A computed base (a dequantized weight, data NULL): rows computed as
 * 100 * row + column, read whole once; the view's last release frees it
 * and a later read computes it again. */
static int computed_reads;
static gk_status computed_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    (void)t;
    computed_reads++;
    for (int64_t r = r0; r < r0 + n; r++)
        for (int c = 0; c < 4; c++)
            *dst++ = (float)(100 * r + c);
    return GK_OK;
}

START_TEST(test_computed_base) {
    fmt_src_tensor b = {.name = "q",
                        .type = KERN_TYPE_F32,
                        .dtype = "F8_E4M3",
                        .n_dims = 2,
                        .shape = {6, 4},
                        .n_elements = 24,
                        .file = "f",
                        .read = computed_read};
    fmt_view v;
    ck_assert_int_eq(fmt_view_of(&v, &b), GK_OK);
    ck_assert_int_eq(fmt_view_split(&v, 0, 2), GK_OK);       /* [2, 3, 4] */
    ck_assert_int_eq(fmt_view_slice(&v, 1, 0, 2, 1), GK_OK); /* [2, 2, 4] */
    ck_assert_int_eq(fmt_view_transpose(&v, 1, 2), GK_OK);   /* [2, 4, 2] */
    fmt_xset *x = fmt_xset_new();
    const fmt_src_tensor *t = add_and_find(x, &v, "q[k]");
    float out[16];
    computed_reads = 0;
    for (int64_t r = 0; r < 8; r++) /* one row at a time, as the engine reads */
        ck_assert_int_eq(fmt_src_read_rows(t, r, 1, out + 2 * r), GK_OK);
    ck_assert_int_eq(computed_reads, 1);
    for (int h = 0; h < 2; h++)
        for (int c = 0; c < 4; c++)
            for (int k = 0; k < 2; k++) /* out[h][c][k] = base[h * 3 + k][c] */
                ck_assert_float_eq(out[(h * 4 + c) * 2 + k], (float)(100 * (h * 3 + k) + c));
    t->release(t, 0, 4);
    ck_assert_int_eq(fmt_src_read_rows(t, 7, 1, out), GK_OK);
    ck_assert_int_eq(computed_reads, 1); /* not the last row: kept */
    t->release(t, 4, 8);
    ck_assert_int_eq(fmt_src_read_rows(t, 7, 1, out), GK_OK);
    ck_assert_int_eq(computed_reads, 2);
    ck_assert_float_eq(out[1], (float)(100 * 4 + 3));
    fmt_xset_free(x); /* frees the second whole read (ASan: no leak) */
}
END_TEST

/* Kept records pass through with their bytes; the order is the order added. */
START_TEST(test_set_keeps) {
    fmt_src_tensor b = base();
    fmt_view v;
    ck_assert_int_eq(fmt_view_of(&v, &b), GK_OK);
    fmt_xset *x = fmt_xset_new();
    ck_assert_int_eq(fmt_xset_add_view(x, "z", &v), GK_OK);
    ck_assert_int_eq(fmt_xset_keep(x, &b), GK_OK);
    gk_status st;
    fmt_src *s = fmt_xset_source(x, &st);
    ck_assert_uint_eq(fmt_src_n_tensors(s), 2);
    ck_assert_str_eq(fmt_src_tensor_at(s, 0)->name, "z");
    ck_assert_ptr_null(fmt_src_tensor_at(s, 0)->data);
    ck_assert_ptr_eq(fmt_src_find(s, "w")->data, b.data);
    ck_assert_int_eq(fmt_xset_keep(x, &b), GK_E_USAGE); /* built: closed */
    fmt_xset_free(x);
    fmt_xset_free(NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("view");
    TCase *tc = tcase_create("view");
    UNIT_ADD_TESTS(tc, test_transpose, test_step_and_split, test_refused, test_computed_base,
                   test_set_keeps);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
