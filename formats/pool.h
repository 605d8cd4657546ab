/*
 * pool.h -- the one thread pool of ggufkit: a parallel-for over jobs
 * 0..n-1, and an ordered-output mode in which chunks are filled in
 * parallel into a bounded ring of buffers and handed to one consumer
 * strictly in order 0, 1, 2..., so output bytes never depend on the
 * thread count.
 *
 * A pool has nthreads participants: the calling thread plus up to
 * nthreads - 1 workers started once by fmt_pool_new() and parked between
 * runs. Each participant owns a scratch buffer of scratch_bytes, passed to
 * every job it runs. A pool is driven by one thread at a time.
 */
#ifndef FORMATS_POOL_H
#define FORMATS_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "ggufkit.h"

typedef struct fmt_pool fmt_pool;

/* Job i of a parallel-for; scratch is the running participant's buffer
 * (NULL when the pool has none). Anything but GK_OK stops the run. */
typedef gk_status (*fmt_pool_job_fn)(void *ctx, uint64_t i, void *scratch);

/* Ordered mode: fill chunk k into buf (chunk_bytes, see fmt_pool_ordered),
 * on any participant, in any order. Anything but GK_OK stops the run. */
typedef gk_status (*fmt_pool_fill_fn)(void *ctx, uint64_t k, void *buf, void *scratch);

/* Ordered mode: consume chunk k, called on the calling thread for
 * k = 0, 1, 2... in order. buf is valid during the call only. Anything but
 * GK_OK stops the run. */
typedef gk_status (*fmt_pool_drain_fn)(void *ctx, uint64_t k, const void *buf);

/* A pool of nthreads participants (values < 1 mean 1), each with
 * scratch_bytes of scratch (0: none). A worker that cannot be started
 * leaves its share to the others: same results, less speed. NULL with
 * *st = GK_E_NOMEM when memory is short. Free with fmt_pool_free(). */
fmt_pool *fmt_pool_new(int nthreads, size_t scratch_bytes, gk_status *st);

/* Participants that really run: the caller plus the workers started. */
int fmt_pool_threads(const fmt_pool *p);

/* Run jobs 0..n_jobs-1, each exactly once unless the run stops, on every
 * participant; returns when all are done. Jobs are taken in index order
 * (put the longest first). After a job fails no new job starts; the
 * result is the status of the lowest-numbered failing job, else GK_OK. */
gk_status fmt_pool_for(fmt_pool *p, uint64_t n_jobs, fmt_pool_job_fn fn, void *ctx);

/* Parallel-for on a pool made for this call alone: at most min(nthreads,
 * n_jobs) participants, no scratch. Runs every job on the caller when no
 * pool can be had. Result as fmt_pool_for(). */
gk_status fmt_pool_run(int nthreads, uint64_t n_jobs, fmt_pool_job_fn fn, void *ctx);

/* Fill chunks 0..n_chunks-1 on every participant and drain them in order
 * on the caller. At most 2 * fmt_pool_threads(p) buffers of chunk_bytes
 * exist at a time; a chunk is filled only once its buffer is drained.
 * The run stops at the first failure in chunk order: the result is the
 * status of the first chunk (in order) whose fill or drain failed, every
 * earlier chunk having been drained; else GK_OK. GK_E_NOMEM when the
 * buffers cannot be had (nothing was filled). */
gk_status fmt_pool_ordered(fmt_pool *p, uint64_t n_chunks, size_t chunk_bytes,
                           fmt_pool_fill_fn fill, fmt_pool_drain_fn drain, void *ctx);

/* Stop the workers and free the pool. Accepts NULL. */
void fmt_pool_free(fmt_pool *p);

#endif
