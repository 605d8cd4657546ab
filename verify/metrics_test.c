/*
 * metrics_test.c -- error metrics: known answers, edge cases (identical,
 * zero, NaN, empty), split feeding, and bit-identical threaded results for
 * every thread count.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "verify/verify.h"
#include "tests/unit.h"

static vfy_metrics metrics_of(const float *x, const float *y, size_t n) {
    vfy_metrics_acc acc;
    vfy_metrics m;
    vfy_metrics_init(&acc);
    vfy_metrics_add(&acc, x, y, n);
    vfy_metrics_finish(&acc, &m);
    return m;
}

START_TEST(test_known_values) {
    const float x[4] = {1, 2, 3, 4}, y[4] = {1, 2, 3, 5};
    vfy_metrics m = metrics_of(x, y, 4);
    ck_assert_uint_eq(m.n, 4);
    ck_assert_double_eq_tol(m.rmse, 0.5, 1e-15);
    ck_assert_double_eq(m.max_abs_err, 1.0);
    ck_assert_double_eq_tol(m.rel_rms, sqrt(1.0 / 30.0), 1e-15);
    ck_assert_double_eq_tol(m.cosine, 34.0 / sqrt(30.0 * 39.0), 1e-15);
    ck_assert_double_eq_tol(m.snr_db, 10.0 * log10(30.0), 1e-12);
}
END_TEST

START_TEST(test_identical_and_zero) {
    const float x[3] = {-1.5f, 0.25f, 8}, z[3] = {0, 0, 0};
    vfy_metrics m = metrics_of(x, x, 3);
    ck_assert_double_eq(m.rmse, 0.0);
    ck_assert_double_eq(m.max_abs_err, 0.0);
    ck_assert_double_eq(m.rel_rms, 0.0);
    ck_assert(isinf(m.snr_db) && m.snr_db > 0);
    ck_assert_double_eq_tol(m.cosine, 1.0, 1e-15);

    m = metrics_of(z, z, 3); /* all zero: perfect */
    ck_assert(isinf(m.snr_db) && m.snr_db > 0);
    ck_assert_double_eq(m.cosine, 1.0);

    m = metrics_of(x, z, 3); /* round trip lost everything */
    ck_assert_double_eq(m.cosine, 0.0);
    ck_assert_double_eq_tol(m.rel_rms, 1.0, 1e-15);
    ck_assert_double_eq_tol(m.snr_db, 0.0, 1e-12);

    m = metrics_of(z, x, 3); /* noise on a zero tensor */
    ck_assert(isinf(m.rel_rms));
    ck_assert(isinf(m.snr_db) && m.snr_db < 0);

    m = metrics_of(x, x, 0); /* empty */
    ck_assert_uint_eq(m.n, 0);
    ck_assert_double_eq(m.rmse, 0.0);
}
END_TEST

START_TEST(test_nan_poisons) {
    const float x[3] = {1, 2, 3};
    float y[3] = {1, NAN, 3};
    vfy_metrics m = metrics_of(x, y, 3);
    ck_assert(isnan(m.rmse) && isnan(m.max_abs_err) && isnan(m.cosine) && isnan(m.snr_db));
    /* NaN first, then larger finite errors: max stays NaN */
    const float y2[3] = {NAN, 200, 300};
    m = metrics_of(x, y2, 3);
    ck_assert(isnan(m.max_abs_err));
    /* a NaN inside the lane-parallel body, and one only in orig */
    float a[100], b[100];
    for (int i = 0; i < 100; i++)
        a[i] = b[i] = (float)i;
    b[50] = NAN;
    m = metrics_of(a, b, 100);
    ck_assert(isnan(m.rmse) && isnan(m.max_abs_err) && isnan(m.rel_rms));
    b[50] = 50;
    a[97] = NAN;
    m = metrics_of(a, b, 100);
    ck_assert(isnan(m.snr_db) && isnan(m.max_abs_err));
}
END_TEST

static float *random_rows(size_t n, unsigned seed, float noise) {
    float *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    srand(seed);
    for (size_t i = 0; i < n; i++)
        v[i] = noise * ((float)rand() / (float)RAND_MAX - 0.5f);
    return v;
}

START_TEST(test_split_feeding_is_exact) {
    const size_t n = 10007;
    float *x = random_rows(n, 1, 4.0f), *y = random_rows(n, 2, 4.0f);
    vfy_metrics_acc one, parts;
    vfy_metrics_init(&one);
    vfy_metrics_add(&one, x, y, n);
    vfy_metrics_init(&parts);
    for (size_t i = 0; i < n; i += 333)
        vfy_metrics_add(&parts, x + i, y + i, n - i < 333 ? n - i : 333);
    ck_assert_mem_eq(&one, &parts, sizeof one);

    /* merge of halves agrees to rounding */
    vfy_metrics_acc a, b;
    vfy_metrics_init(&a);
    vfy_metrics_init(&b);
    vfy_metrics_add(&a, x, y, 5000);
    vfy_metrics_add(&b, x + 5000, y + 5000, n - 5000);
    vfy_metrics_merge(&a, &b);
    ck_assert_uint_eq(a.n, n);
    vfy_metrics m_one, m_merged;
    vfy_metrics_finish(&one, &m_one);
    vfy_metrics_finish(&a, &m_merged);
    ck_assert_double_eq_tol(m_merged.rmse, m_one.rmse, 1e-9 * m_one.rmse);
    ck_assert_double_eq(m_merged.max_abs_err, m_one.max_abs_err);
    free(x);
    free(y);
}
END_TEST

/* Every SIMD path gives the reference's sums bit for bit, whatever the
 * split into calls and whatever the values (zeros, subnormals, outliers,
 * infinities, NaN). */
START_TEST(test_isa_bit_identical) {
    const size_t n = 4099;
    float *x = random_rows(n, 5, 3.0f), *y = random_rows(n, 6, 3.0f);
    x[7] = 0.0f, y[7] = -0.0f;
    x[100] = 1e-41f, y[100] = -3e-42f;
    x[2000] = 3e38f, y[2000] = -3e38f;
    y[3000] = INFINITY;
    x[4001] = NAN;
    for (int poison = 0; poison < 2; poison++) {
        size_t len = poison ? n : 2990; /* without and with the inf/NaN */
        vfy_metrics_acc ref;
        ck_assert(kern_set_isa(KERN_ISA_REF));
        vfy_metrics_init(&ref);
        vfy_metrics_add(&ref, x, y, 3);
        vfy_metrics_add(&ref, x + 3, y + 3, len - 3);
        for (int isa = KERN_ISA_REF + 1; isa < KERN_ISA_COUNT; isa++) {
            if (!kern_set_isa((kern_isa)isa))
                continue;
            vfy_metrics_acc got;
            vfy_metrics_init(&got);
            vfy_metrics_add(&got, x, y, 3);
            vfy_metrics_add(&got, x + 3, y + 3, len - 3);
            ck_assert_mem_eq(&ref, &got, sizeof ref);
        }
    }
    free(x);
    free(y);
}
END_TEST

START_TEST(test_threads_bit_identical) {
    const int64_t shapes[][2] = {{1000, 300}, {3, 200000}, {70000, 1}, {1, 1}, {0, 10}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t rows = shapes[s][0], cols = shapes[s][1];
        size_t n = (size_t)(rows * cols);
        float *x = random_rows(n ? n : 1, 3, 2.0f), *y = random_rows(n ? n : 1, 4, 0.01f);
        for (size_t i = 0; i < n; i++)
            y[i] += x[i];
        vfy_metrics ref, got;
        vfy_metrics_acc ref_acc, got_acc;
        ck_assert_int_eq(vfy_metrics_rows(x, y, rows, cols, 1, &ref, &ref_acc), GK_OK);
        ck_assert_uint_eq(ref.n, n);
        for (int t = 2; t <= 9; t++) {
            ck_assert_int_eq(vfy_metrics_rows(x, y, rows, cols, t, &got, &got_acc), GK_OK);
            ck_assert_mem_eq(&ref, &got, sizeof ref);
            ck_assert_mem_eq(&ref_acc, &got_acc, sizeof ref_acc);
        }
        if (n > 0) { /* agrees with one sequential pass to rounding */
            vfy_metrics seq = metrics_of(x, y, n);
            ck_assert_double_eq_tol(seq.rmse, ref.rmse, 1e-12 * ref.rmse);
            ck_assert_double_eq(seq.max_abs_err, ref.max_abs_err);
            ck_assert_double_eq_tol(seq.snr_db, ref.snr_db, 1e-9);
        }
        free(x);
        free(y);
    }
}
END_TEST

START_TEST(test_rows_bad_args) {
    vfy_metrics m;
    float x = 0;
    ck_assert_int_eq(vfy_metrics_rows(&x, &x, -1, 1, 1, &m, NULL), GK_E_USAGE);
    ck_assert_int_eq(vfy_metrics_rows(&x, &x, 1, -1, 1, &m, NULL), GK_E_USAGE);
    ck_assert_int_eq(vfy_metrics_rows(&x, &x, INT64_MAX, 4, 1, &m, NULL), GK_E_USAGE);
    ck_assert_int_eq(vfy_metrics_rows(&x, &x, 1, 1, 0, &m, NULL), GK_OK); /* 0 threads: 1 */
    ck_assert_uint_eq(m.n, 1);
}
END_TEST

static Suite *metrics_suite(void) {
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    UNIT_ADD_TESTS(tc, test_known_values, test_identical_and_zero, test_nan_poisons,
                   test_split_feeding_is_exact, test_isa_bit_identical, test_threads_bit_identical,
                   test_rows_bad_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(metrics_suite());
}
