/*
 * verify.h -- the verify module: error metrics between original and
 * round-tripped tensors, and (later) checksums and manifests.
 *
 * Nothing here prints or exits; functions that can fail return gk_status.
 */
#ifndef VERIFY_H
#define VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "ggufkit.h"

/* ------------------------------------------------------------------------ */
/* Error metrics                                                              */
/* ------------------------------------------------------------------------ */

/*
 * Running sums for the error between an original f32 row set x and its round
 * trip y (e.g. quantize then dequantize), kept in double precision so that
 * all metrics come out of a single pass. A plain record: zero it with
 * vfy_metrics_init(), feed it with vfy_metrics_add(), combine per-thread
 * accumulators with vfy_metrics_merge() and read the metrics with
 * vfy_metrics_finish(). Feeding the same elements in the same order gives
 * bit-identical sums however they are split into calls.
 */
typedef struct {
    uint64_t n;      /* elements seen */
    double sum_err2; /* sum (x - y)^2 */
    double sum_x2;   /* sum x^2 */
    double sum_y2;   /* sum y^2 */
    double sum_xy;   /* sum x * y */
    double max_abs;  /* max |x - y|; NaN once any error was NaN */
} vfy_metrics_acc;

/* The metrics of an accumulator. Any NaN in the inputs makes every field
 * but n NaN (a NaN round trip is never "close"); infinities propagate as
 * IEEE arithmetic says. */
typedef struct {
    uint64_t n;         /* elements compared */
    double rmse;        /* sqrt(sum err^2 / n); 0 when n == 0 */
    double max_abs_err; /* max |x - y| */
    double rel_rms;     /* rms(err) / rms(x); 0 if err == 0, +inf if x == 0 != err */
    double cosine;      /* x.y / (|x| |y|); 1 if both are zero, 0 if only one is */
    double snr_db;      /* 10 log10(sum x^2 / sum err^2); +inf when err == 0 */
} vfy_metrics;

/* Reset acc to the empty state (no elements). acc must not be NULL. */
void vfy_metrics_init(vfy_metrics_acc *acc);

/* Add n element pairs (orig[i], roundtrip[i]) to acc, in index order.
 * Both arrays hold n floats (borrowed for the call); n may be 0. */
void vfy_metrics_add(vfy_metrics_acc *acc, const float *orig, const float *roundtrip, size_t n);

/* Fold src into dst (dst += src). Merging the same accumulators in the same
 * order always gives the same bits; order matters only in the last ulp. */
void vfy_metrics_merge(vfy_metrics_acc *dst, const vfy_metrics_acc *src);

/* Compute the metrics of acc into *out. Neither pointer may be NULL. */
void vfy_metrics_finish(const vfy_metrics_acc *acc, vfy_metrics *out);

/*
 * Metrics of nrows rows of n_per_row floats (orig and roundtrip are
 * row-major arrays of nrows * n_per_row floats, borrowed for the call),
 * computed by nthreads POSIX threads (values < 1 mean 1). Rows are cut into
 * chunks whose size depends only on n_per_row, and the per-chunk sums are
 * merged in chunk order, so the result is bit-identical for every thread
 * count. If acc_out is not NULL the merged accumulator is stored there too
 * (for merging across tensors). A thread that cannot be started leaves
 * its share to the others (the result does not change). Returns GK_OK,
 * GK_E_USAGE for negative sizes or an element count that overflows, or
 * GK_E_NOMEM if the per-chunk sums cannot be allocated.
 */
gk_status vfy_metrics_rows(const float *orig, const float *roundtrip, int64_t nrows,
                           int64_t n_per_row, int nthreads, vfy_metrics *out,
                           vfy_metrics_acc *acc_out);

#endif
