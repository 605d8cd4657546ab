/*
 * report_html_test.c -- the HTML report: one chart point per layer and
 * kind (whatever the table order), bars per layer, escaped names, no
 * network references, non-finite metrics rendered; model diff of two
 * written files (metadata changes, exact tensors, missing and extra).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "verify/verify.h"
#include "tests/unit.h"

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static vfy_tensor_diff row(const char *name, double rel, int type) {
    vfy_tensor_diff t;
    memset(&t, 0, sizeof t);
    t.name = (char *)name;
    t.status = VFY_TENSOR_COMPARED;
    t.ref_type = KERN_TYPE_F16;
    t.type = type;
    t.n_dims = 2;
    t.n_elements = 1024;
    t.bytes = kern_row_bytes(type, 1024);
    t.m.n = 1024;
    t.m.rel_rms = rel;
    t.m.cosine = 1;
    t.m.snr_db = INFINITY;
    return t;
}

START_TEST(test_points_per_layer) {
    /* layers out of order, a 1-D norm (not charted), a non-layer tensor, a
     * zero and a NaN error, a name that needs escaping */
    vfy_tensor_diff t[] = {
        row("blk.2.attn_q.weight", 0.05, KERN_TYPE_Q4_K),
        row("blk.0.attn_q.weight", 0.04, KERN_TYPE_Q4_K),
        row("blk.1.attn_q.weight", 0.0, KERN_TYPE_Q4_K),
        row("blk.0.ffn_down.weight", 0.02, KERN_TYPE_Q6_K),
        row("blk.1.ffn_down.weight", NAN, KERN_TYPE_Q6_K),
        row("blk.2.ffn_down.weight", 0.03, KERN_TYPE_Q6_K),
        row("blk.0.attn_norm.weight", 0.0, KERN_TYPE_F32),
        row("token_embd.weight", 0.07, KERN_TYPE_Q4_K),
        row("blk.1.<x>&\".weight", 0.01, KERN_TYPE_Q8_0),
    };
    t[6].n_dims = 1;
    vfy_report r = {"t<itle>", "a.gguf", "b&c.gguf", t, sizeof t / sizeof *t};
    char *html = NULL;
    size_t len = 0;
    ck_assert_int_eq(vfy_report_html(&r, &html, &len), GK_OK);
    ck_assert_uint_eq(strlen(html), len);
    ck_assert_int_eq(count(html, "<circle class=\"pt\" data-kind=\"attn_q\""), 3);
    ck_assert_int_eq(count(html, "<circle class=\"pt\" data-kind=\"ffn_down\""), 3);
    ck_assert_int_eq(count(html, "data-kind=\"attn_norm\""), 0);
    ck_assert_int_eq(count(html, "<circle "), 7);
    for (int l = 0; l < 3; l++) {
        char want[96];
        snprintf(want, sizeof want, "data-kind=\"attn_q\" data-layer=\"%d\"", l);
        ck_assert_int_eq(count(html, want), 1);
    }
    ck_assert_int_eq(count(html, "<rect class=\"bar\" data-layer="), 3);
    ck_assert_int_eq(count(html, "<tr><td>"), 9);
    ck_assert_ptr_null(strstr(html, "<x>"));
    ck_assert_ptr_nonnull(strstr(html, "blk.1.&lt;x&gt;&amp;&quot;.weight"));
    ck_assert_ptr_nonnull(strstr(html, "<title>t&lt;itle&gt;</title>"));
    ck_assert_ptr_nonnull(strstr(html, "data-v=\"NaN\""));
    ck_assert_ptr_nonnull(strstr(html, "data-v=\"Infinity\""));
    ck_assert_ptr_null(strstr(html, "http"));
    ck_assert_ptr_null(strstr(html, "nan,"));
    free(html);

    /* no layers: table only */
    vfy_report r2 = {"x", "a", "b", t + 7, 1};
    ck_assert_int_eq(vfy_report_html(&r2, &html, &len), GK_OK);
    ck_assert_int_eq(count(html, "<svg"), 0);
    ck_assert_int_eq(count(html, "<tr><td>"), 1);
    free(html);
}
END_TEST

/* A model with key name=v and tensors from names[] (64 x 2 f32, value
 * scale * (i + 1)). */
static void write_model(const char *path, const char *v, const char *const *names, int n,
                        float scale) {
    gk_status st;
    char msg[256];
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(fmt_gguf_writer_add_str(w, "general.name", v, strlen(v)), GK_OK);
    if (scale != 1)
        ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "extra.key", 7), GK_OK);
    int64_t ne[2] = {64, 2};
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, names[i], 2, ne, KERN_TYPE_F32), GK_OK);
    fmt_output_opts oo = {.force = 1};
    fmt_output *out = fmt_output_open(path, &oo, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    for (int i = 0; i < n; i++) {
        float x[128];
        for (int k = 0; k < 128; k++)
            x[k] = (float)(k + 1) * (strcmp(names[i], "same.weight") ? scale : 1.0f);
        ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, x, sizeof x), GK_OK);
    }
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    fmt_gguf_writer_free(w);
}

START_TEST(test_diff_models) {
    char dir[] = "/tmp/vfy_diff_XXXXXX", pa[64], pb[64], err[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(pa, sizeof pa, "%s/a.gguf", dir);
    snprintf(pb, sizeof pb, "%s/b.gguf", dir);
    const char *na[] = {"same.weight", "scaled.weight", "gone.weight"};
    const char *nb[] = {"scaled.weight", "same.weight", "new.weight"};
    write_model(pa, "A", na, 3, 1.0f);
    write_model(pb, "B", nb, 3, 1.1f);
    gk_status st;
    fmt_input *ia = fmt_input_open(pa, NULL, &st, err, sizeof err);
    fmt_input *ib = fmt_input_open(pb, NULL, &st, err, sizeof err);
    fmt_gguf *a = fmt_gguf_open(ia, &st), *b = fmt_gguf_open(ib, &st);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    vfy_diff d;
    ck_assert_int_eq(vfy_diff_gguf(a, ia, b, ib, 3, 0, 0, &d, err, sizeof err), GK_OK);
    ck_assert_uint_eq(d.n_kv, 2);
    ck_assert_int_eq(d.kv[0].change, VFY_KV_CHANGED);
    ck_assert_str_eq(d.kv[0].a, "\"A\"");
    ck_assert_str_eq(d.kv[0].b, "\"B\"");
    ck_assert_int_eq(d.kv[1].change, VFY_KV_ADDED);
    ck_assert_ptr_null(d.kv[1].a);
    ck_assert_str_eq(d.kv[1].b, "7");
    ck_assert_uint_eq(d.n_tensors, 4);
    ck_assert_uint_eq(d.n_compared, 2);
    ck_assert_uint_eq(d.n_missing, 1);
    ck_assert_uint_eq(d.n_extra, 1);
    ck_assert_str_eq(d.tensors[0].name, "same.weight");
    ck_assert_double_eq(d.tensors[0].m.rmse, 0.0);
    ck_assert_str_eq(d.tensors[1].name, "scaled.weight");
    ck_assert_double_eq_tol(d.tensors[1].m.rel_rms, 0.1, 1e-6); /* y = 1.1 x */
    ck_assert_double_eq_tol(d.tensors[1].m.cosine, 1.0, 1e-9);
    ck_assert_int_eq(d.tensors[2].status, VFY_TENSOR_MISSING);
    ck_assert_int_eq(d.tensors[3].status, VFY_TENSOR_EXTRA);
    ck_assert_str_eq(d.tensors[3].name, "new.weight");
    ck_assert_double_eq_tol(d.max_rel, 0.1, 1e-6);
    vfy_diff_free(&d);
    fmt_gguf_close(a);
    fmt_gguf_close(b);
    fmt_input_close(ia);
    fmt_input_close(ib);
    unlink(pa);
    unlink(pb);
    rmdir(dir);
}
END_TEST

int main(void) {
    kern_init();
    Suite *s = suite_create("report_html");
    TCase *tc = tcase_create("all");
    UNIT_ADD_TESTS(tc, test_points_per_layer, test_diff_models);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
