/*
 * pool_test.c -- the thread pool: every job runs exactly once, ordered
 * chunks arrive in order within the ring bound for 1..8 threads, and a
 * failure stops a run with the status of the first failing job or chunk.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "formats/pool.h"
#include "tests/unit.h"

#define MAX_JOBS 1001
#define CHUNK 64

static const uint64_t sizes[] = {0, 1, 2, 7, 9, 100, MAX_JOBS};

/* A few microseconds of work that varies by job, so threads interleave. */
static void jitter(uint64_t i) {
    if (i * 2654435761u % 7 == 0) {
        struct timespec ts = {0, (long)(i % 5) * 20000};
        nanosleep(&ts, NULL);
    }
}

/* ------------------------------------------------------------------------ */
/* Parallel-for                                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
    atomic_int runs[MAX_JOBS];
    uint64_t fail_a, fail_b; /* jobs that fail (UINT64_MAX: none) */
    atomic_int scratch_clash;
} for_ctx;

static void for_init(for_ctx *c) {
    for (int i = 0; i < MAX_JOBS; i++)
        atomic_init(&c->runs[i], 0);
    c->fail_a = c->fail_b = UINT64_MAX;
    atomic_init(&c->scratch_clash, 0);
}

static gk_status count_job(void *ctx, uint64_t i, void *scratch) {
    for_ctx *c = ctx;
    atomic_fetch_add(&c->runs[i], 1);
    if (scratch) {
        memcpy(scratch, &i, sizeof i);
        jitter(i);
        uint64_t back;
        memcpy(&back, scratch, sizeof back);
        if (back != i)
            atomic_store(&c->scratch_clash, 1);
    } else {
        jitter(i);
    }
    if (i == c->fail_a)
        return GK_E_FORMAT;
    if (i == c->fail_b)
        return GK_E_IO;
    return GK_OK;
}

START_TEST(for_runs_every_job_once) {
    static for_ctx c;
    for (int t = 1; t <= 8; t++) {
        gk_status st;
        fmt_pool *p = fmt_pool_new(t, sizeof(uint64_t), &st);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_le(fmt_pool_threads(p), t);
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            for_init(&c);
            ck_assert_int_eq(fmt_pool_for(p, sizes[s], count_job, &c), GK_OK);
            for (uint64_t i = 0; i < MAX_JOBS; i++)
                ck_assert_int_eq(atomic_load(&c.runs[i]), i < sizes[s] ? 1 : 0);
            ck_assert_int_eq(atomic_load(&c.scratch_clash), 0);
        }
        fmt_pool_free(p);
    }
}
END_TEST

START_TEST(for_failure_stops_with_first_status) {
    static for_ctx c;
    for (int t = 1; t <= 8; t++) {
        gk_status st;
        fmt_pool *p = fmt_pool_new(t, 0, &st);
        ck_assert_ptr_nonnull(p);
        for_init(&c);
        c.fail_a = 600;
        c.fail_b = 400;
        ck_assert_int_eq(fmt_pool_for(p, MAX_JOBS, count_job, &c), GK_E_IO);
        for (uint64_t i = 0; i < MAX_JOBS; i++)
            ck_assert_int_le(atomic_load(&c.runs[i]), 1);
        for (uint64_t i = 0; i <= 400; i++)
            ck_assert_int_eq(atomic_load(&c.runs[i]), 1);
        /* the pool is reusable after a failure */
        for_init(&c);
        ck_assert_int_eq(fmt_pool_for(p, 50, count_job, &c), GK_OK);
        fmt_pool_free(p);
    }
}
END_TEST

START_TEST(run_one_shot) {
    static for_ctx c;
    for (int t = 0; t <= 8; t++) {
        for_init(&c);
        ck_assert_int_eq(fmt_pool_run(t, 0, count_job, &c), GK_OK);
        ck_assert_int_eq(fmt_pool_run(t, 77, count_job, &c), GK_OK);
        for (uint64_t i = 0; i < MAX_JOBS; i++)
            ck_assert_int_eq(atomic_load(&c.runs[i]), i < 77 ? 1 : 0);
        for_init(&c);
        c.fail_a = 3;
        ck_assert_int_eq(fmt_pool_run(t, 77, count_job, &c), GK_E_FORMAT);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Ordered output                                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
    atomic_int fills[MAX_JOBS];
    uint64_t drained; /* drains so far (the caller's thread only) */
    int out_of_order, bad_bytes;
    atomic_int no_scratch;
    const void *bufs[64]; /* distinct buffers seen */
    size_t n_bufs;
    uint64_t fail_fill_a, fail_fill_b, fail_drain;
} ord_ctx;

static void ord_init(ord_ctx *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < MAX_JOBS; i++)
        atomic_init(&c->fills[i], 0);
    atomic_init(&c->no_scratch, 0);
    c->fail_fill_a = c->fail_fill_b = c->fail_drain = UINT64_MAX;
}

static gk_status fill_chunk(void *ctx, uint64_t k, void *buf, void *scratch) {
    ord_ctx *c = ctx;
    atomic_fetch_add(&c->fills[k], 1);
    if (!scratch)
        atomic_store(&c->no_scratch, 1);
    memset(buf, (int)(k & 0xff), CHUNK);
    jitter(k);
    if (k == c->fail_fill_a)
        return GK_E_FORMAT;
    if (k == c->fail_fill_b)
        return GK_E_IO;
    return GK_OK;
}

static gk_status drain_chunk(void *ctx, uint64_t k, const void *buf) {
    ord_ctx *c = ctx;
    if (k != c->drained++)
        c->out_of_order = 1;
    const uint8_t *b = buf;
    for (int i = 0; i < CHUNK; i++)
        if (b[i] != (uint8_t)(k & 0xff))
            c->bad_bytes = 1;
    size_t j = 0;
    while (j < c->n_bufs && c->bufs[j] != buf)
        j++;
    if (j == c->n_bufs && c->n_bufs < 64)
        c->bufs[c->n_bufs++] = buf;
    return k == c->fail_drain ? GK_E_CHECK : GK_OK;
}

START_TEST(ordered_in_order_within_ring) {
    static ord_ctx c;
    for (int t = 1; t <= 8; t++) {
        gk_status st;
        fmt_pool *p = fmt_pool_new(t, 16, &st);
        ck_assert_ptr_nonnull(p);
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            ord_init(&c);
            ck_assert_int_eq(fmt_pool_ordered(p, sizes[s], CHUNK, fill_chunk, drain_chunk, &c),
                             GK_OK);
            ck_assert_uint_eq(c.drained, sizes[s]);
            ck_assert_int_eq(c.out_of_order, 0);
            ck_assert_int_eq(c.bad_bytes, 0);
            ck_assert_int_eq(atomic_load(&c.no_scratch), 0);
            ck_assert_uint_le(c.n_bufs, 2 * (size_t)fmt_pool_threads(p));
            for (uint64_t i = 0; i < MAX_JOBS; i++)
                ck_assert_int_eq(atomic_load(&c.fills[i]), i < sizes[s] ? 1 : 0);
            /* a parallel-for on the same pool in between */
            static for_ctx f;
            for_init(&f);
            ck_assert_int_eq(fmt_pool_for(p, 13, count_job, &f), GK_OK);
        }
        fmt_pool_free(p);
    }
}
END_TEST

START_TEST(ordered_fill_failure) {
    static ord_ctx c;
    for (int t = 1; t <= 8; t++) {
        gk_status st;
        fmt_pool *p = fmt_pool_new(t, 16, &st);
        ck_assert_ptr_nonnull(p);
        ord_init(&c);
        c.fail_fill_a = 50;
        c.fail_fill_b = 37;
        ck_assert_int_eq(fmt_pool_ordered(p, 100, CHUNK, fill_chunk, drain_chunk, &c), GK_E_IO);
        ck_assert_uint_eq(c.drained, 37);
        ck_assert_int_eq(c.out_of_order, 0);
        for (uint64_t i = 0; i < 100; i++)
            ck_assert_int_le(atomic_load(&c.fills[i]), 1);
        fmt_pool_free(p);
    }
}
END_TEST

START_TEST(ordered_drain_failure) {
    static ord_ctx c;
    for (int t = 1; t <= 8; t++) {
        gk_status st;
        fmt_pool *p = fmt_pool_new(t, 16, &st);
        ck_assert_ptr_nonnull(p);
        ord_init(&c);
        c.fail_drain = 20;
        c.fail_fill_a = 60;
        ck_assert_int_eq(fmt_pool_ordered(p, 100, CHUNK, fill_chunk, drain_chunk, &c), GK_E_CHECK);
        ck_assert_uint_eq(c.drained, 21);
        for (uint64_t i = 21 + 2 * (uint64_t)t; i < 100; i++)
            ck_assert_int_eq(atomic_load(&c.fills[i]), 0);
        fmt_pool_free(p);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 60);
    UNIT_ADD_TESTS(tc, for_runs_every_job_once, for_failure_stops_with_first_status, run_one_shot,
                   ordered_in_order_within_ring, ordered_fill_failure, ordered_drain_failure);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
