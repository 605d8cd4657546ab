/*
 * pool.c -- the parallel-for and byte access the verify files share.
 */
#include "formats/pool.h"
#include "verify/verify_internal.h"

/* ------------------------------------------------------------------------ */
/* Jobs over threads                                                          */
/* ------------------------------------------------------------------------ */

typedef struct {
    vfy_job_fn fn;
    void *ctx;
} void_job;

static gk_status run_void_job(void *arg, uint64_t i, void *scratch) {
    (void)scratch;
    const void_job *v = arg;
    v->fn(v->ctx, i);
    return GK_OK;
}

void vfy_parallel(uint64_t n_jobs, int nthreads, vfy_job_fn fn, void *ctx) {
    void_job v = {fn, ctx};
    fmt_pool_run(nthreads, n_jobs, run_void_job, &v);
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
