/*
 * diff_test.c -- vfy_diff_gguf with VFY_DIFF_PER_EXPERT: each expert
 * slice of a 3-D "_exps." tensor gets the metrics of its own elements (the
 * bits of one accumulator fed the slice alone), also where a slice starts
 * or ends inside a dequantized chunk; other tensors get none; the tensor's
 * own metrics and the other output do not change with the flag or the
 * thread count.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/io.h"
#include "kernels/kernels.h"
#include "verify/verify.h"
#include "tests/unit.h"

/* Expert tensor {NE0, NE1, NX}: 300-row slices, so the 1024-row chunks of
 * diff.c (2^18 elements of 256) end inside experts 3 (row 1024). */
enum { NE0 = 256, NE1 = 300, NX = 5 };
#define N_EXPS ((size_t)NE0 * NE1 * NX)

typedef struct {
    const char *name;
    uint32_t n_dims;
    int64_t ne[3];
} spec;

static const spec tensors[] = {
    {"blk.0.ffn_gate_inp.weight", 2, {NE0, NX, 1}},
    {"blk.0.ffn_up_exps.weight", 3, {NE0, NE1, NX}},
    {"blk.0.attn_k_b.weight", 3, {64, 4, 2}}, /* 3-D, not experts */
};
enum { N_TENSORS = sizeof tensors / sizeof *tensors };

static size_t n_of(const spec *s) {
    return (size_t)(s->ne[0] * s->ne[1] * s->ne[2]);
}

/* Deterministic values in (-1, 1). */
static void fill(float *x, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / (float)(1u << 23) - 1.0f;
    }
}

static void write_model(const char *path, float *const data[N_TENSORS]) {
    gk_status st;
    char msg[256];
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    ck_assert_ptr_nonnull(w);
    for (int i = 0; i < N_TENSORS; i++)
        ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, tensors[i].name, tensors[i].n_dims,
                                                    tensors[i].ne, KERN_TYPE_F32),
                         GK_OK);
    fmt_output_opts oo = {.force = 1};
    fmt_output *out = fmt_output_open(path, &oo, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    for (int i = 0; i < N_TENSORS; i++)
        ck_assert_int_eq(
            fmt_gguf_writer_write_data(w, out, data[i], n_of(&tensors[i]) * sizeof(float)), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    fmt_gguf_writer_free(w);
}

typedef struct {
    fmt_input *in[2];
    fmt_gguf *g[2];
} pair;

static void open_pair(pair *p, const char *pa, const char *pb) {
    gk_status st;
    char err[256];
    const char *paths[2] = {pa, pb};
    for (int i = 0; i < 2; i++) {
        p->in[i] = fmt_input_open(paths[i], NULL, &st, err, sizeof err);
        ck_assert_ptr_nonnull(p->in[i]);
        p->g[i] = fmt_gguf_open(p->in[i], &st);
        ck_assert_ptr_nonnull(p->g[i]);
    }
}

static void close_pair(pair *p) {
    for (int i = 0; i < 2; i++) {
        fmt_gguf_close(p->g[i]);
        fmt_input_close(p->in[i]);
    }
}

static void run(pair *p, int nthreads, unsigned flags, vfy_diff *d) {
    char err[256];
    ck_assert_int_eq(
        vfy_diff_gguf(p->g[0], p->in[0], p->g[1], p->in[1], nthreads, 0, flags, d, err, sizeof err),
        GK_OK);
    ck_assert_uint_eq(d->n_compared, N_TENSORS);
}

/* The whole rendering of d, text or JSON, in a malloc'ed string. */
static char *render(const vfy_diff *d, int json) {
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(
        json ? vfy_diff_write_json(f, d, "a", "b") : vfy_diff_write_text(f, d, "a", "b"), GK_OK);
    ck_assert_int_eq(fclose(f), 0);
    return s;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *q = hay; (q = strstr(q, needle)) != NULL; q += strlen(needle))
        n++;
    return n;
}

static void same_metrics(const vfy_metrics *x, const vfy_metrics *y) {
    ck_assert_uint_eq(x->n, y->n);
    ck_assert(memcmp(x, y, sizeof *x) == 0);
}

START_TEST(test_per_expert) {
    char dir[256];
    unit_mkdtemp(dir, sizeof dir, "vfy_diff_test");
    float *a[N_TENSORS], *b[N_TENSORS];
    for (int i = 0; i < N_TENSORS; i++) {
        size_t n = n_of(&tensors[i]);
        a[i] = malloc(n * sizeof(float));
        b[i] = malloc(n * sizeof(float));
        ck_assert(a[i] && b[i]);
        fill(a[i], n, 17u + (uint32_t)i);
        memcpy(b[i], a[i], n * sizeof(float));
    }
    /* expert 1 scaled by 1.1; expert 3 changed in a row before and a row
     * after the chunk boundary at row 1024 (its rows are 900..1199) */
    float *x = b[1];
    for (size_t k = (size_t)1 * NE0 * NE1; k < (size_t)2 * NE0 * NE1; k++)
        x[k] *= 1.1f;
    x[(size_t)950 * NE0 + 7] += 0.5f;
    x[(size_t)1100 * NE0 + 200] -= 0.25f;
    const char *pa = unit_path(dir, "a.gguf"), *pb = unit_path(dir, "b.gguf");
    write_model(pa, a);
    write_model(pb, b);
    pair p;
    open_pair(&p, pa, pb);

    vfy_diff plain, per1, per3;
    run(&p, 3, 0, &plain);
    run(&p, 1, VFY_DIFF_PER_EXPERT, &per1);
    run(&p, 3, VFY_DIFF_PER_EXPERT, &per3);
    for (int i = 0; i < N_TENSORS; i++) {
        /* the tensor's metrics are the same bits with and without the flag */
        same_metrics(&plain.tensors[i].m, &per1.tensors[i].m);
        ck_assert_uint_eq(plain.tensors[i].n_experts, 0);
        ck_assert_ptr_null(plain.tensors[i].experts);
    }
    ck_assert_uint_eq(per1.tensors[0].n_experts, 0); /* 2-D router */
    ck_assert_ptr_null(per1.tensors[0].experts);
    ck_assert_uint_eq(per1.tensors[2].n_experts, 0); /* 3-D, no "_exps." */
    ck_assert_ptr_null(per1.tensors[2].experts);
    const vfy_tensor_diff *t = &per1.tensors[1];
    ck_assert_uint_eq(t->n_experts, NX);
    size_t slice = (size_t)NE0 * NE1;
    for (int e = 0; e < NX; e++) {
        /* what one accumulator fed this slice alone gives */
        vfy_metrics_acc acc;
        vfy_metrics want;
        vfy_metrics_init(&acc);
        vfy_metrics_add(&acc, a[1] + e * slice, b[1] + e * slice, slice);
        vfy_metrics_finish(&acc, &want);
        same_metrics(&t->experts[e], &want);
        same_metrics(&t->experts[e], &per3.tensors[1].experts[e]); /* any thread count */
        if (e == 1 || e == 3)
            ck_assert(t->experts[e].rmse > 0);
        else
            ck_assert(t->experts[e].rmse == 0 && isinf(t->experts[e].snr_db));
    }
    ck_assert_double_eq_tol(t->experts[1].rel_rms, 0.1, 1e-6);
    ck_assert_double_eq_tol(t->experts[3].max_abs_err, 0.5, 1e-6);
    /* max_rel takes the experts in: expert 1's error is above its tensor's */
    ck_assert(t->m.rel_rms < t->experts[1].rel_rms);
    ck_assert(plain.max_rel == t->m.rel_rms);
    ck_assert(per1.max_rel == t->experts[1].rel_rms);

    /* renderings: one line / object per expert, nothing more without it */
    char *tp = render(&plain, 0), *t1 = render(&per1, 0), *t3 = render(&per3, 0);
    char *jp = render(&plain, 1), *j1 = render(&per1, 1);
    ck_assert_int_eq(count(tp, "    expert "), 0);
    ck_assert_int_eq(count(t1, "\n    expert "), NX);
    ck_assert(strstr(t1, "\n    expert 4  ") != NULL);
    ck_assert_str_eq(t1, t3);
    ck_assert_int_eq(count(jp, "\"experts\""), 0);
    ck_assert_int_eq(count(j1, "\"experts\""), 1);
    ck_assert_int_eq(count(j1, "\"expert\": "), NX);
    free(tp), free(t1), free(t3), free(jp), free(j1);

    vfy_diff_free(&plain);
    vfy_diff_free(&per1);
    vfy_diff_free(&per3);
    close_pair(&p);
    for (int i = 0; i < N_TENSORS; i++)
        free(a[i]), free(b[i]);
    ck_assert_int_eq(unit_rmtree(dir), 0);
}
END_TEST

int main(void) {
    kern_init();
    Suite *s = suite_create("diff");
    TCase *tc = tcase_create("all");
    UNIT_ADD_TESTS(tc, test_per_expert);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
