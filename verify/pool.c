/*
 * pool.c -- the small thread pool and byte access the verify files share.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "verify/verify_internal.h"

/* ------------------------------------------------------------------------ */
/* Jobs over threads                                                          */
/* ------------------------------------------------------------------------ */

typedef struct {
    _Atomic uint64_t next;
    uint64_t n_jobs;
    vfy_job_fn fn;
    void *ctx;
} pool;

static void *worker(void *arg) {
    pool *p = arg;
    for (;;) {
        uint64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n_jobs)
            break;
        p->fn(p->ctx, i);
    }
    return NULL;
}

void vfy_parallel(uint64_t n_jobs, int nthreads, vfy_job_fn fn, void *ctx) {
    pool p = {.n_jobs = n_jobs, .fn = fn, .ctx = ctx};
    atomic_init(&p.next, 0);
    if (nthreads < 1)
        nthreads = 1;
    if ((uint64_t)nthreads > n_jobs)
        nthreads = n_jobs ? (int)n_jobs : 1;
    pthread_t *tid = nthreads > 1 ? calloc((size_t)nthreads - 1, sizeof *tid) : NULL;
    int started = 0;
    for (int t = 0; tid && t < nthreads - 1; t++) {
        if (pthread_create(&tid[t], NULL, worker, &p) != 0)
            break; /* the others take its share */
        started++;
    }
    worker(&p);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
}

/* ------------------------------------------------------------------------ */
/* Bytes at an offset                                                         */
/* ------------------------------------------------------------------------ */

const uint8_t *vfy_input_bytes(fmt_input *in, uint64_t off, size_t n, uint8_t *buf, gk_status *st) {
    const uint8_t *map = fmt_input_data(in);
    uint64_t size = fmt_input_size(in);
    if (map && off <= size && n <= size - off) {
        *st = GK_OK;
        return map + off;
    }
    *st = fmt_input_pread(in, buf, n, off);
    return *st == GK_OK ? buf : NULL;
}
