/*
 * metrics.c -- error metrics between an original f32 row set and its round
 * trip: RMSE, max abs error, relative RMS error, cosine similarity and SNR,
 * from one pass of double-precision sums.
 *
 * Determinism across thread counts: vfy_metrics_rows() cuts the rows into
 * chunks of a size fixed by the row length alone, lets threads take chunks
 * in any order but stores each chunk's sums in its own slot, and merges the
 * slots in chunk order afterwards. Only the merge order could change the
 * bits, and it is fixed.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "verify/verify.h"

/* ------------------------------------------------------------------------ */
/* Accumulator                                                                */
/* ------------------------------------------------------------------------ */

void vfy_metrics_init(vfy_metrics_acc *acc) {
    memset(acc, 0, sizeof *acc);
}

/* max that sticks at NaN: once a NaN error was seen it stays. */
static inline double max_nan(double m, double e) {
    return (e > m || isnan(e)) && !isnan(m) ? e : m;
}

void vfy_metrics_add(vfy_metrics_acc *acc, const float *orig, const float *roundtrip, size_t n) {
    double se = acc->sum_err2, sx = acc->sum_x2, sy = acc->sum_y2, sxy = acc->sum_xy;
    double mx = acc->max_abs;
    for (size_t i = 0; i < n; i++) {
        double x = orig[i], y = roundtrip[i];
        double e = x - y;
        se += e * e;
        sx += x * x;
        sy += y * y;
        sxy += x * y;
        mx = max_nan(mx, fabs(e));
    }
    acc->sum_err2 = se;
    acc->sum_x2 = sx;
    acc->sum_y2 = sy;
    acc->sum_xy = sxy;
    acc->max_abs = mx;
    acc->n += n;
}

void vfy_metrics_merge(vfy_metrics_acc *dst, const vfy_metrics_acc *src) {
    dst->n += src->n;
    dst->sum_err2 += src->sum_err2;
    dst->sum_x2 += src->sum_x2;
    dst->sum_y2 += src->sum_y2;
    dst->sum_xy += src->sum_xy;
    dst->max_abs = max_nan(dst->max_abs, src->max_abs);
}

void vfy_metrics_finish(const vfy_metrics_acc *acc, vfy_metrics *out) {
    out->n = acc->n;
    double se = acc->sum_err2, sx = acc->sum_x2, sy = acc->sum_y2;
    if (isnan(se) || isnan(sx) || isnan(sy) || isnan(acc->sum_xy) || isnan(acc->max_abs)) {
        out->rmse = out->max_abs_err = out->rel_rms = out->cosine = out->snr_db = NAN;
        return;
    }
    out->rmse = acc->n ? sqrt(se / (double)acc->n) : 0.0;
    out->max_abs_err = acc->max_abs;
    if (se == 0.0) {
        out->rel_rms = 0.0;
        out->snr_db = INFINITY;
    } else if (sx == 0.0) {
        out->rel_rms = INFINITY;
        out->snr_db = -INFINITY;
    } else {
        out->rel_rms = sqrt(se / sx);
        out->snr_db = 10.0 * log10(sx / se);
    }
    if (sx == 0.0 && sy == 0.0)
        out->cosine = 1.0;
    else if (sx == 0.0 || sy == 0.0)
        out->cosine = 0.0;
    else
        out->cosine = acc->sum_xy / (sqrt(sx) * sqrt(sy));
}

/* ------------------------------------------------------------------------ */
/* Threaded rows                                                              */
/* ------------------------------------------------------------------------ */

/* Elements per chunk (rounded to whole rows): large enough to amortise the
 * atomic, small enough to balance two to a few dozen threads. */
#define CHUNK_ELEMS ((int64_t)1 << 16)

typedef struct {
    const float *orig, *rt;
    int64_t nrows, n_per_row, rows_per_chunk, nchunks;
    vfy_metrics_acc *slots; /* one per chunk */
    atomic_llong next;      /* next chunk to take */
} rows_job;

static void run_chunks(rows_job *job) {
    for (;;) {
        int64_t c = atomic_fetch_add(&job->next, 1);
        if (c >= job->nchunks)
            return;
        int64_t r0 = c * job->rows_per_chunk;
        int64_t r1 = r0 + job->rows_per_chunk < job->nrows ? r0 + job->rows_per_chunk : job->nrows;
        size_t off = (size_t)(r0 * job->n_per_row), cnt = (size_t)((r1 - r0) * job->n_per_row);
        vfy_metrics_init(&job->slots[c]);
        vfy_metrics_add(&job->slots[c], job->orig + off, job->rt + off, cnt);
    }
}

static void *chunk_worker(void *arg) {
    run_chunks(arg);
    return NULL;
}

gk_status vfy_metrics_rows(const float *orig, const float *roundtrip, int64_t nrows,
                           int64_t n_per_row, int nthreads, vfy_metrics *out,
                           vfy_metrics_acc *acc_out) {
    if (nrows < 0 || n_per_row < 0 || (n_per_row > 0 && nrows > INT64_MAX / n_per_row) ||
        nrows * n_per_row > (int64_t)(SIZE_MAX / sizeof(float)))
        return GK_E_USAGE;
    rows_job job = {.orig = orig, .rt = roundtrip, .nrows = nrows, .n_per_row = n_per_row};
    job.rows_per_chunk = n_per_row >= CHUNK_ELEMS || n_per_row == 0 ? 1 : CHUNK_ELEMS / n_per_row;
    job.nchunks = (nrows + job.rows_per_chunk - 1) / job.rows_per_chunk;
    vfy_metrics_acc total;
    vfy_metrics_init(&total);
    if (job.nchunks > 0) {
        job.slots = malloc((size_t)job.nchunks * sizeof *job.slots);
        if (!job.slots)
            return GK_E_NOMEM;
        atomic_init(&job.next, 0);
        int extra = nthreads < 1 ? 0 : nthreads - 1;
        if (extra > job.nchunks - 1)
            extra = (int)(job.nchunks - 1);
        pthread_t *tids = extra ? malloc((size_t)extra * sizeof *tids) : NULL;
        int started = 0;
        if (tids)
            while (started < extra && pthread_create(&tids[started], NULL, chunk_worker, &job) == 0)
                started++;
        run_chunks(&job); /* the caller works too, and finishes alone if need be */
        for (int t = 0; t < started; t++)
            pthread_join(tids[t], NULL);
        free(tids);
        for (int64_t c = 0; c < job.nchunks; c++)
            vfy_metrics_merge(&total, &job.slots[c]);
        free(job.slots);
    }
    vfy_metrics_finish(&total, out);
    if (acc_out)
        *acc_out = total;
    return GK_OK;
}
