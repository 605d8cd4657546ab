/*
 * imatrix_test.c -- the legacy .dat reader on good and hostile inputs, the
 * include/exclude filters and the non-finite check.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "io.h"
#include "../kernels/kernels.h"
#include "imatrix.h"
#include "tests/unit.h"

typedef struct {
    uint8_t b[4096];
    size_t n;
} buf;

static void put_i32(buf *w, int32_t v) {
    memcpy(w->b + w->n, &v, 4);
    w->n += 4;
}

static void put_bytes(buf *w, const void *p, size_t n) {
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void put_entry(buf *w, const char *name, int32_t ncall, const float *v, int32_t nval) {
    put_i32(w, (int32_t)strlen(name));
    put_bytes(w, name, strlen(name));
    put_i32(w, ncall);
    put_i32(w, nval);
    put_bytes(w, v, (size_t)nval * 4);
}

static buf good(void) {
    buf w = {{0}, 0};
    const float a[4] = {2, 4, 6, 8}, b[2] = {1, 3};
    put_i32(&w, 3);
    put_entry(&w, "blk.1.ffn_up.weight", 2, a, 4);
    put_entry(&w, "blk.0.attn_q.weight", 0, b, 2);
    put_entry(&w, "output.weight", 1, b, 2);
    put_i32(&w, 17);
    put_i32(&w, 9);
    put_bytes(&w, "wiki.test", 9);
    return w;
}

static char err[256];

START_TEST(legacy_good) {
    buf w = good();
    gk_status st;
    imx *m = imx_load_legacy_mem(w.b, w.n, &st, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_int_eq(st, GK_OK);
    ck_assert_uint_eq(imx_count(m), 3);
    size_t n = 0;
    const float *v = imx_find(m, "blk.1.ffn_up.weight", &n);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(n, 4);
    ck_assert(v[0] == 1.0f && v[3] == 4.0f); /* divided by ncall */
    v = imx_find(m, "blk.0.attn_q.weight", &n);
    ck_assert(v[1] == 3.0f); /* ncall 0: kept as is */
    ck_assert_ptr_null(imx_find(m, "nope", &n));
    ck_assert_str_eq(imx_dataset(m), "wiki.test");
    ck_assert_int_eq(imx_chunks(m), 17);
    ck_assert_str_eq(imx_name_at(m, 0), "blk.0.attn_q.weight");
    ck_assert_int_eq(imx_check_finite(m, err, sizeof err), GK_OK);

    const char *inc[] = {"blk."};
    const char *exc[] = {"attn"};
    imx_filter(m, inc, 1, NULL, 0);
    ck_assert_uint_eq(imx_count(m), 2);
    imx_filter(m, NULL, 0, exc, 1);
    ck_assert_uint_eq(imx_count(m), 1);
    ck_assert_ptr_nonnull(imx_find(m, "blk.1.ffn_up.weight", &n));
    imx_free(m);

    /* without the trailer */
    buf w2 = {{0}, 0};
    const float a[1] = {5};
    put_i32(&w2, 1);
    put_entry(&w2, "x.weight", 1, a, 1);
    m = imx_load_legacy_mem(w2.b, w2.n, &st, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(imx_dataset(m));
    ck_assert_int_eq(imx_chunks(m), 0);
    imx_free(m);
}
END_TEST

static void expect_bad(const buf *w, const char *what) {
    gk_status st = GK_OK;
    err[0] = 0;
    imx *m = imx_load_legacy_mem(w->b, w->n, &st, err, sizeof err);
    ck_assert_msg(m == NULL, "%s: accepted", what);
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_msg(strstr(err, "at byte") != NULL, "%s: message '%s'", what, err);
}

START_TEST(legacy_hostile) {
    buf w = {{0}, 0};
    expect_bad(&w, "empty");
    put_i32(&w, 0);
    expect_bad(&w, "zero entries");
    w.n = 0;
    put_i32(&w, 0x7fffffff);
    put_i32(&w, 1);
    expect_bad(&w, "huge count");
    w.n = 0;
    put_i32(&w, 1);
    put_i32(&w, 0x7ffffff0);
    put_bytes(&w, "abcdefghijklmnopq", 17);
    expect_bad(&w, "huge name");
    w.n = 0;
    put_i32(&w, 1);
    put_i32(&w, -5);
    put_bytes(&w, "abcdefghijklmnopq", 17);
    expect_bad(&w, "negative name length");
    w.n = 0;
    put_i32(&w, 1);
    put_i32(&w, 1);
    put_bytes(&w, "a", 1);
    put_i32(&w, 1);
    put_i32(&w, 0x40000000);
    put_bytes(&w, "abcdefgh", 8);
    expect_bad(&w, "huge nval");
    w.n = 0;
    put_i32(&w, 1);
    put_i32(&w, 1);
    put_bytes(&w, "a", 1);
    put_i32(&w, 1);
    put_i32(&w, -1);
    put_bytes(&w, "abcdefgh", 8);
    expect_bad(&w, "negative nval");

    /* every truncation of a good file is refused, except the one that
     * drops the whole (optional) dataset trailer */
    buf g = good();
    for (size_t cut = 0; cut < g.n; cut++) {
        if (cut == g.n - 8 - 9)
            continue;
        buf t = g;
        t.n = cut;
        gk_status st;
        imx *m = imx_load_legacy_mem(t.b, t.n, &st, err, sizeof err);
        ck_assert_msg(m == NULL, "truncated at %zu accepted", cut);
    }
    /* trailing junk after the dataset name */
    g.b[g.n++] = 'x';
    expect_bad(&g, "junk");
}
END_TEST

START_TEST(duplicates) {
    buf w = {{0}, 0};
    const float a[1] = {1}, b[1] = {2}, c[1] = {3};
    put_i32(&w, 3);
    put_entry(&w, "x.weight", 1, a, 1);
    put_entry(&w, "y.weight", 1, b, 1);
    put_entry(&w, "x.weight", 1, c, 1);
    gk_status st;
    imx *m = imx_load_legacy_mem(w.b, w.n, &st, err, sizeof err);
    ck_assert_ptr_null(m); /* a name twice is a corrupt or crafted file */
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_str_eq(err, "entry 'x.weight' appears twice");
}
END_TEST

START_TEST(nonfinite) {
    buf w = {{0}, 0};
    const float a[2] = {1.0f, NAN};
    put_i32(&w, 1);
    put_entry(&w, "x.weight", 1, a, 2);
    gk_status st;
    imx *m = imx_load_legacy_mem(w.b, w.n, &st, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(imx_check_finite(m, err, sizeof err), GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "x.weight"));
    imx_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* GGUF imatrix                                                               */
/* ------------------------------------------------------------------------ */

/* Write a GGUF imatrix with one weight "w.weight" of ne0 = 4 and two
 * matrices (experts); counts {2, 0}. bad 1: counts has the wrong element
 * count; 2: counts {-2, NaN}; 3: an extra "x.weight.counts" without its
 * in_sum2. */
static void write_gguf(const char *path, int bad, int with_meta) {
    gk_status st;
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(fmt_gguf_writer_add_str(w, "general.type", "imatrix", 7), GK_OK);
    if (with_meta) {
        const char *ds[] = {"calib.txt"};
        ck_assert_int_eq(fmt_gguf_writer_add_str_array(w, "imatrix.datasets", ds, NULL, 1), GK_OK);
        ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "imatrix.chunk_count", 7), GK_OK);
        ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "imatrix.chunk_size", 512), GK_OK);
    }
    const int64_t ne_c[2] = {1, bad == 1 ? 3 : 2}, ne_s[2] = {4, 2};
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "w.weight.counts", 2, ne_c, KERN_TYPE_F32),
                     GK_OK);
    if (bad == 3)
        ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "x.weight.counts", 2, ne_c, KERN_TYPE_F32),
                         GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "w.weight.in_sum2", 2, ne_s, KERN_TYPE_F32),
                     GK_OK);
    unlink(path);
    fmt_output *out = fmt_output_open(path, NULL, &st, NULL, 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    const float counts[3] = {bad == 2 ? -2.0f : 2.0f, bad == 2 ? NAN : 0.0f, 0},
                sums[8] = {2, 4, 6, 8, 5, 5, 5, 5};
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, counts, (size_t)ne_c[1] * 4), GK_OK);
    if (bad == 3)
        ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, counts, (size_t)ne_c[1] * 4), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, sums, sizeof sums), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    fmt_gguf_writer_free(w);
}

START_TEST(gguf_imatrix) {
    char path[] = "/tmp/imatrix_test.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_gguf(path, 0, 1);
    gk_status st;
    imx *m = imx_load(path, &st, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    size_t n = 0;
    const float *v = imx_find(m, "w.weight", &n);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(n, 8);
    ck_assert(v[0] == 1.0f && v[3] == 4.0f); /* in_sum2 / count */
    ck_assert(v[4] == 1.0f && v[7] == 1.0f); /* count 0: ones */
    ck_assert_str_eq(imx_dataset(m), "calib.txt");
    ck_assert_int_eq(imx_chunks(m), 7);
    imx_free(m);

    write_gguf(path, 1, 1);
    m = imx_load(path, &st, err, sizeof err);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(st, GK_E_FORMAT);

    write_gguf(path, 0, 0);
    m = imx_load(path, &st, err, sizeof err);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err, "imatrix.datasets"));

    /* counts that are not positive (negative, NaN) give ones, as
     * llama-quantize's "count > 0.0f" does */
    write_gguf(path, 2, 1);
    m = imx_load(path, &st, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    v = imx_find(m, "w.weight", &n);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < 8; i++)
        ck_assert(v[i] == 1.0f);
    imx_free(m);

    /* counts without in_sum2: llama-quantize's "mismatched sums and counts" */
    write_gguf(path, 3, 1);
    m = imx_load(path, &st, err, sizeof err);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "x.weight.in_sum2"));
    unlink(path);
}
END_TEST

int main(void) {
    Suite *s = suite_create("imatrix");
    TCase *tc = tcase_create("core");
    UNIT_ADD_TESTS(tc, legacy_good, legacy_hostile, duplicates, nonfinite, gguf_imatrix);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
