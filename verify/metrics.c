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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/pool.h"
#include "kernels/kernels.h"
#include "verify/verify.h"

/* ------------------------------------------------------------------------ */
/* Accumulator                                                                */
/* ------------------------------------------------------------------------ */

void vfy_metrics_init(vfy_metrics_acc *acc) {
    memset(acc, 0, sizeof *acc);
}

#define L VFY_METRICS_LANES

/* fmax without fmax's NaN rule: a NaN error never becomes the maximum, but
 * it has already made sum_err2 NaN, and vfy_metrics_finish() checks that. */
static inline double max_of(double m, double e) {
    return e > m ? e : m;
}

static inline void add_one(vfy_metrics_acc *acc, unsigned k, float xf, float yf) {
    double x = xf, y = yf, e = x - y;
    acc->sum_err2[k] += e * e;
    acc->sum_x2[k] += x * x;
    acc->sum_y2[k] += y * y;
    acc->sum_xy[k] += x * y;
    acc->max_abs[k] = max_of(acc->max_abs[k], fabs(e));
}

/* Whole groups of L elements starting at lane 0, portable C: the lanes are
 * local arrays that the compiler keeps in registers. */
static void add_groups_ref(vfy_metrics_acc *acc, const float *orig, const float *rt,
                           size_t ngroups) {
    double se[L], sx[L], sy[L], sxy[L], mx[L];
    memcpy(se, acc->sum_err2, sizeof se);
    memcpy(sx, acc->sum_x2, sizeof sx);
    memcpy(sy, acc->sum_y2, sizeof sy);
    memcpy(sxy, acc->sum_xy, sizeof sxy);
    memcpy(mx, acc->max_abs, sizeof mx);
    for (size_t g = 0; g < ngroups; g++, orig += L, rt += L) {
        for (unsigned k = 0; k < L; k++) {
            double x = orig[k], y = rt[k], e = x - y;
            se[k] += e * e;
            sx[k] += x * x;
            sy[k] += y * y;
            sxy[k] += x * y;
            mx[k] = max_of(mx[k], fabs(e));
        }
    }
    memcpy(acc->sum_err2, se, sizeof se);
    memcpy(acc->sum_x2, sx, sizeof sx);
    memcpy(acc->sum_y2, sy, sizeof sy);
    memcpy(acc->sum_xy, sxy, sizeof sxy);
    memcpy(acc->max_abs, mx, sizeof mx);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* The same lanes with AVX2, four per register: the same operations on the
 * same values in the same order (no FMA), so the sums are bit-identical to
 * add_groups_ref(). vmaxpd(e, m) is "e > m ? e : m", as max_of(). */
__attribute__((target("avx2"))) static void add_groups_avx2(vfy_metrics_acc *acc, const float *orig,
                                                            const float *rt, size_t ngroups) {
    __m256d se0 = _mm256_loadu_pd(acc->sum_err2), se1 = _mm256_loadu_pd(acc->sum_err2 + 4);
    __m256d sx0 = _mm256_loadu_pd(acc->sum_x2), sx1 = _mm256_loadu_pd(acc->sum_x2 + 4);
    __m256d sy0 = _mm256_loadu_pd(acc->sum_y2), sy1 = _mm256_loadu_pd(acc->sum_y2 + 4);
    __m256d sxy0 = _mm256_loadu_pd(acc->sum_xy), sxy1 = _mm256_loadu_pd(acc->sum_xy + 4);
    __m256d mx0 = _mm256_loadu_pd(acc->max_abs), mx1 = _mm256_loadu_pd(acc->max_abs + 4);
    const __m256d sign = _mm256_set1_pd(-0.0);
    for (size_t g = 0; g < ngroups; g++, orig += L, rt += L) {
        __m256d x0 = _mm256_cvtps_pd(_mm_loadu_ps(orig)),
                x1 = _mm256_cvtps_pd(_mm_loadu_ps(orig + 4));
        __m256d y0 = _mm256_cvtps_pd(_mm_loadu_ps(rt)), y1 = _mm256_cvtps_pd(_mm_loadu_ps(rt + 4));
        __m256d e0 = _mm256_sub_pd(x0, y0), e1 = _mm256_sub_pd(x1, y1);
        se0 = _mm256_add_pd(se0, _mm256_mul_pd(e0, e0));
        se1 = _mm256_add_pd(se1, _mm256_mul_pd(e1, e1));
        sx0 = _mm256_add_pd(sx0, _mm256_mul_pd(x0, x0));
        sx1 = _mm256_add_pd(sx1, _mm256_mul_pd(x1, x1));
        sy0 = _mm256_add_pd(sy0, _mm256_mul_pd(y0, y0));
        sy1 = _mm256_add_pd(sy1, _mm256_mul_pd(y1, y1));
        sxy0 = _mm256_add_pd(sxy0, _mm256_mul_pd(x0, y0));
        sxy1 = _mm256_add_pd(sxy1, _mm256_mul_pd(x1, y1));
        mx0 = _mm256_max_pd(_mm256_andnot_pd(sign, e0), mx0);
        mx1 = _mm256_max_pd(_mm256_andnot_pd(sign, e1), mx1);
    }
    _mm256_storeu_pd(acc->sum_err2, se0), _mm256_storeu_pd(acc->sum_err2 + 4, se1);
    _mm256_storeu_pd(acc->sum_x2, sx0), _mm256_storeu_pd(acc->sum_x2 + 4, sx1);
    _mm256_storeu_pd(acc->sum_y2, sy0), _mm256_storeu_pd(acc->sum_y2 + 4, sy1);
    _mm256_storeu_pd(acc->sum_xy, sxy0), _mm256_storeu_pd(acc->sum_xy + 4, sxy1);
    _mm256_storeu_pd(acc->max_abs, mx0), _mm256_storeu_pd(acc->max_abs + 4, mx1);
}
#define HAVE_ADD_GROUPS_AVX2 1
#endif

/* The kernels' ISA choice (GGUFKIT_SIMD included) decides here too. */
static void add_groups(vfy_metrics_acc *acc, const float *orig, const float *rt, size_t ngroups) {
#ifdef HAVE_ADD_GROUPS_AVX2
    kern_isa isa = kern_isa_current();
    if (isa == KERN_ISA_AVX2 || isa == KERN_ISA_AVX512) {
        add_groups_avx2(acc, orig, rt, ngroups);
        return;
    }
#endif
    add_groups_ref(acc, orig, rt, ngroups);
}

void vfy_metrics_add(vfy_metrics_acc *acc, const float *orig, const float *roundtrip, size_t n) {
    unsigned lane = (unsigned)(acc->n % L);
    size_t i = 0;
    for (; i < n && lane != 0; i++, lane = (lane + 1) % L)
        add_one(acc, lane, orig[i], roundtrip[i]);
    size_t ngroups = (n - i) / L;
    add_groups(acc, orig + i, roundtrip + i, ngroups);
    for (i += ngroups * L; i < n; i++, lane++)
        add_one(acc, lane, orig[i], roundtrip[i]);
    acc->n += n;
}

void vfy_metrics_merge(vfy_metrics_acc *dst, const vfy_metrics_acc *src) {
    dst->n += src->n;
    for (unsigned k = 0; k < L; k++) {
        dst->sum_err2[k] += src->sum_err2[k];
        dst->sum_x2[k] += src->sum_x2[k];
        dst->sum_y2[k] += src->sum_y2[k];
        dst->sum_xy[k] += src->sum_xy[k];
        dst->max_abs[k] = max_of(dst->max_abs[k], src->max_abs[k]);
    }
}

/* Lanes folded in lane order, so the result depends on the lanes alone. */
static double lanes_sum(const double v[L]) {
    double s = 0.0;
    for (unsigned k = 0; k < L; k++)
        s += v[k];
    return s;
}

static double lanes_max(const double v[L]) {
    double m = v[0];
    for (unsigned k = 1; k < L; k++)
        m = max_of(m, v[k]);
    return m;
}

void vfy_metrics_finish(const vfy_metrics_acc *acc, vfy_metrics *out) {
    out->n = acc->n;
    double se = lanes_sum(acc->sum_err2), sx = lanes_sum(acc->sum_x2);
    double sy = lanes_sum(acc->sum_y2), sxy = lanes_sum(acc->sum_xy);
    if (isnan(se) || isnan(sx) || isnan(sy) || isnan(sxy)) {
        out->rmse = out->max_abs_err = out->rel_rms = out->cosine = out->snr_db = NAN;
        return;
    }
    out->rmse = acc->n ? sqrt(se / (double)acc->n) : 0.0;
    out->max_abs_err = lanes_max(acc->max_abs);
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
        out->cosine = sxy / (sqrt(sx) * sqrt(sy));
}

/* ------------------------------------------------------------------------ */
/* Threaded rows                                                              */
/* ------------------------------------------------------------------------ */

/* Elements per chunk (rounded to whole rows): large enough to amortise the
 * atomic, small enough to balance two to a few dozen threads. */
#define CHUNK_ELEMS ((int64_t)1 << 16)

typedef struct {
    const float *orig, *rt;
    int64_t nrows, n_per_row, rows_per_chunk;
    vfy_metrics_acc *slots; /* one per chunk */
} rows_job;

static gk_status chunk_job(void *arg, uint64_t c, void *scratch) {
    (void)scratch;
    rows_job *job = arg;
    int64_t r0 = (int64_t)c * job->rows_per_chunk;
    int64_t r1 = r0 + job->rows_per_chunk < job->nrows ? r0 + job->rows_per_chunk : job->nrows;
    size_t off = (size_t)(r0 * job->n_per_row), cnt = (size_t)((r1 - r0) * job->n_per_row);
    vfy_metrics_init(&job->slots[c]);
    vfy_metrics_add(&job->slots[c], job->orig + off, job->rt + off, cnt);
    return GK_OK;
}

gk_status vfy_metrics_rows(const float *orig, const float *roundtrip, int64_t nrows,
                           int64_t n_per_row, int nthreads, vfy_metrics *out,
                           vfy_metrics_acc *acc_out) {
    if (nrows < 0 || n_per_row < 0 || (n_per_row > 0 && nrows > INT64_MAX / n_per_row) ||
        nrows * n_per_row > (int64_t)(SIZE_MAX / sizeof(float)))
        return GK_E_USAGE;
    rows_job job = {.orig = orig, .rt = roundtrip, .nrows = nrows, .n_per_row = n_per_row};
    job.rows_per_chunk = n_per_row >= CHUNK_ELEMS || n_per_row == 0 ? 1 : CHUNK_ELEMS / n_per_row;
    int64_t nchunks = (nrows + job.rows_per_chunk - 1) / job.rows_per_chunk;
    vfy_metrics_acc total;
    vfy_metrics_init(&total);
    if (nchunks > 0) {
        job.slots = malloc((size_t)nchunks * sizeof *job.slots);
        if (!job.slots)
            return GK_E_NOMEM;
        fmt_pool_run(nthreads, (uint64_t)nchunks, chunk_job, &job);
        for (int64_t c = 0; c < nchunks; c++)
            vfy_metrics_merge(&total, &job.slots[c]);
        free(job.slots);
    }
    vfy_metrics_finish(&total, out);
    if (acc_out)
        *acc_out = total;
    return GK_OK;
}
