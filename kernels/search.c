/*
 * search.c -- the scale/level search routines shared by the k-quant and
 * i-quant quantizers (ggml-quants.c "Helper functions", llama.cpp c392e50).
 *
 * Each routine picks integer levels L[] and a float scale (and for the
 * asymmetric ones a minimum) for a small group of values. They are part of
 * the file format's *de facto* definition: llama-quantize's bytes depend on
 * every comparison and every rounding here, so the arithmetic is kept in
 * binary32, in ggml's evaluation order ((a*b)*c, sums strictly left to
 * right), with no contraction (-ffp-contract=off). Where ggml mixes int and
 * float operands the int is converted first, as C does.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels_internal.h"

/* ------------------------------------------------------------------------ */
/* Symmetric levels: make_qx_quants / make_q3_quants                          */
/* ------------------------------------------------------------------------ */

/* Index of the signed value with the largest magnitude (first one wins on
 * ties); *amax receives |x| there. Both symmetric searches start from it. */
static float signed_absmax(int n, const float *x, float *amax) {
    float best = 0.0f, mag = 0.0f;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > mag) {
            mag = ax;
            best = x[i];
        }
    }
    *amax = mag;
    return best;
}

static inline int clamp_int(int v, int lo, int hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The scale searches of make_qx_quants and make_qkx2/3_quants are run for
 * many groups at once, one group per GCC/Clang vector lane (SSE2 and NEON:
 * four; AVX2: eight; AVX-512: sixteen), each lane doing ggml's scalar
 * arithmetic in ggml's order, so every width gives the same bytes. A lane
 * per group rather than per candidate scale: a winning candidate changes
 * the next one's start (qkx's min), and no lane's work is thrown away. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SEARCH_WIDER 1 /* the 8- and 16-lane copies exist */
#endif
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
#ifdef SEARCH_WIDER
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
#endif

/* Which width the selected ISA runs: 0 (4 lanes), 1 (8) or 2 (16), the
 * index into the per-width function tables below; lanes = 4 << width. */
static int search_width(void) {
#ifdef SEARCH_WIDER
    kern_isa isa = kern_isa_current();
    return isa == KERN_ISA_AVX512 ? 2 : isa == KERN_ISA_AVX2 ? 1 : 0;
#else
    return 0;
#endif
}

/* The width for count groups: the widest whose lanes they fill. */
static int width_for(int count) {
    int width = search_width();
    while (width > 0 && count < 4 << width)
        width--;
    return width;
}

/* Largest group that the many-groups searches (one group per lane) take. */
#define QX_MANY_MAX_N 32
#define QKX_MANY_MAX_N 32

/* Lanes of a where mask is set, of b elsewhere. */
#define SELECT(VF, VI, mask, a, b) ((VF)(((VI)(a) & (mask)) | ((VI)(b) & ~(mask))))

/* kern_nearest_int(v) in every lane (the 1.5 * 2^23 trick). */
#define NEAREST_INT(VI, v) (((VI)((v) + 12582912.0f) & 0x007FFFFF) - 0x00400000)

/* make_qx_quants (rmse_type 1) for many groups: every lane runs ggml's
 * first fit and its 18 nearby scales in order for its own group, keeping
 * a scale whose least-squares fit is strictly better. */
#define QX_LANES(NAME, VF, VI, LANES, ATTR)                                                        \
    ATTR static void NAME(int count, int n, int nmax, const float *x, const float *qw, int8_t *L,  \
                          float *scales) {                                                         \
        VF vx[QX_MANY_MAX_N] = {0}, vw[QX_MANY_MAX_N] = {0}, zero = {0};                           \
        VI best_l[QX_MANY_MAX_N], aux_l[QX_MANY_MAX_N], vlo = {0}, vhi;                            \
        vlo -= nmax;                                                                               \
        vhi = vlo + (2 * nmax - 1);                                                                \
        for (int i = 0; i < n; i++)                                                                \
            for (int k = 0; k < LANES; k++) {                                                      \
                int g = k < count ? k : 0; /* spare lanes repeat group 0 */                        \
                vx[i][k] = x[g * n + i];                                                           \
                vw[i][k] = qw ? qw[g * n + i] : x[g * n + i] * x[g * n + i];                       \
            }                                                                                      \
        /* The signed value of largest magnitude, the first on ties. */                            \
        VF amax = zero, max = zero;                                                                \
        for (int i = 0; i < n; i++) {                                                              \
            VF ax = (VF)((VI)vx[i] & 0x7FFFFFFF);                                                  \
            VI gt = ax > amax;                                                                     \
            amax = SELECT(VF, VI, gt, ax, amax);                                                   \
            max = SELECT(VF, VI, gt, vx[i], max);                                                  \
        }                                                                                          \
        VI tiny = amax < KERN_GROUP_MAX_EPS;                                                       \
        VF scale = zero, best = zero;                                                              \
        /* t = 0 is ggml's first fit (is = 0, taken as it is), then is =                           \
         * -9..-1 and 1..9. */                                                                     \
        for (int t = 0; t < 19; t++) {                                                             \
            int is = t == 0 ? 0 : t <= 9 ? t - 10 : t - 9;                                         \
            VF isc = -((float)nmax + 0.1f * (float)is) / max, slx = zero, sl2 = zero;              \
            for (int i = 0; i < n; i++) {                                                          \
                VI l = NEAREST_INT(VI, isc * vx[i]);                                               \
                VI under = l<vlo, over = l> vhi;                                                   \
                l = (l & ~under & ~over) | (vlo & under) | (vhi & over);                           \
                aux_l[i] = l;                                                                      \
                VF lf = __builtin_convertvector(l, VF);                                            \
                slx += vw[i] * vx[i] * lf;                                                         \
                sl2 += vw[i] * lf * lf;                                                            \
            }                                                                                      \
            VI win = (sl2 > 0) & (slx * slx > best * sl2);                                         \
            VF fit = slx / sl2;                                                                    \
            if (t == 0) {                                                                          \
                win = vlo == vlo; /* every lane */                                                 \
                fit = SELECT(VF, VI, sl2 != 0, fit, zero);                                         \
            }                                                                                      \
            for (int i = 0; i < n; i++)                                                            \
                best_l[i] = (aux_l[i] & win) | (best_l[i] & ~win);                                 \
            scale = SELECT(VF, VI, win, fit, scale);                                               \
            best = SELECT(VF, VI, win, scale * slx, best);                                         \
        }                                                                                          \
        for (int k = 0; k < count; k++) {                                                          \
            for (int i = 0; i < n; i++)                                                            \
                L[k * n + i] = tiny[k] ? 0 : (int8_t)(best_l[i][k] + nmax);                        \
            scales[k] = tiny[k] ? 0.0f : scale[k];                                                 \
        }                                                                                          \
    }

typedef void (*qx_lanes_fn)(int count, int n, int nmax, const float *x, const float *qw, int8_t *L,
                            float *scales);

QX_LANES(qx_lanes4, v4f, v4i, 4, )
#ifdef SEARCH_WIDER
QX_LANES(qx_lanes8, v8f, v8i, 8, __attribute__((target("avx2"))))
QX_LANES(qx_lanes16, v16f, v16i, 16, __attribute__((target("avx512f,avx512bw,avx512vl"))))
#endif
static const qx_lanes_fn qx_lanes_by_width[] = {qx_lanes4,
#ifdef SEARCH_WIDER
                                                qx_lanes8, qx_lanes16
#endif
};

void kern_make_qx_quants_many(int count, int n, int nmax, const float *x, const float *qw,
                              int8_t *L, float *scales) {
    int width = width_for(count), lanes = 4 << width;
    for (int g = 0; g < count; g += lanes) {
        int c = count - g < lanes ? count - g : lanes;
        qx_lanes_by_width[width](c, n, nmax, x + g * n, qw ? qw + g * n : NULL, L + g * n,
                                 scales + g);
    }
}

float kern_make_q3_quants(int n, int nmax, const float *x, int8_t *L, int do_rmse) {
    float amax;
    float max = signed_absmax(n, x, &amax);
    if (amax < KERN_GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max;
    if (!do_rmse) {
        for (int i = 0; i < n; i++)
            L[i] = (int8_t)(nmax + clamp_int(kern_nearest_int(iscale * x[i]), -nmax, nmax - 1));
        return 1 / iscale;
    }

    /* Weighted (w = x^2) least squares, then coordinate descent: move one
     * level at a time to its best value given the others. L holds signed
     * levels until the end. */
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = clamp_int(kern_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int sweep = 0; sweep < 5; sweep++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (!(slx > 0))
                continue;
            float sl2 = suml2 - w * (float)L[i] * (float)L[i];
            int nl = clamp_int(kern_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (nl == L[i])
                continue;
            slx += w * x[i] * (float)nl;
            sl2 += w * (float)nl * (float)nl;
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = (int8_t)nl;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed)
            break;
    }
    for (int i = 0; i < n; i++)
        L[i] = (int8_t)(L[i] + nmax);
    /* c392e50 divides unguarded (0/0 only if every weight vanished). */
    return sumlx / suml2;
}

/* ------------------------------------------------------------------------ */
/* Asymmetric levels with a minimum: make_qkx2_quants / make_qkx3_quants      */
/* ------------------------------------------------------------------------ */

/* make_qkx2/3_quants for many groups: every lane runs ggml's whole step
 * loop for its own group, with its own min, which a winning step moves.
 * The groups are transposed into the lanes on entry and back on exit. */

#define QKX_LANES(NAME, VF, VI, LANES, ATTR)                                                       \
    ATTR static void NAME(const kern_qkx_search *s, int count, const float *x, const float *wts,   \
                          uint8_t *L, float *scales, float *the_mins) {                            \
        int n = s->n;                                                                              \
        VF vx[QKX_MANY_MAX_N] = {0}, vw[QKX_MANY_MAX_N] = {0}, zero = {0};                         \
        VI best_l[QKX_MANY_MAX_N], aux_l[QKX_MANY_MAX_N], vlo = {0}, vhi = vlo + s->nmax;          \
        for (int i = 0; i < n; i++)                                                                \
            for (int k = 0; k < LANES; k++) {                                                      \
                int g = k < count ? k : 0; /* spare lanes repeat group 0 */                        \
                vx[i][k] = x[g * n + i];                                                           \
                vw[i][k] = wts[g * n + i];                                                         \
            }                                                                                      \
        VF mn = vx[0], mx = vx[0], sum_w = vw[0], sum_x = vw[0] * vx[0];                           \
        for (int i = 1; i < n; i++) {                                                              \
            mn = SELECT(VF, VI, vx[i] < mn, vx[i], mn);                                            \
            mx = SELECT(VF, VI, vx[i] > mx, vx[i], mx);                                            \
            sum_w += vw[i];                                                                        \
            sum_x += vw[i] * vx[i];                                                                \
        }                                                                                          \
        mn = SELECT(VF, VI, mn > 0, zero, mn);                                                     \
        VI degenerate = s->degenerate_le ? mx <= mn : mx == mn;                                    \
        VF iscale = (float)s->nmax / (mx - mn), scale = 1 / iscale, best_err = zero;               \
        for (int i = 0; i < n; i++) {                                                              \
            VI l = NEAREST_INT(VI, iscale * (vx[i] - mn));                                         \
            VI over = l > vhi;                                                                     \
            l = (l & ~(l < vlo) & ~over) | (vhi & over);                                           \
            best_l[i] = l;                                                                         \
            VF e = scale * __builtin_convertvector(l, VF) + mn - vx[i];                            \
            e = s->use_mad ? (VF)((VI)e & 0x7FFFFFFF) : e * e;                                     \
            best_err += vw[i] * e;                                                                 \
        }                                                                                          \
        for (int is = 0; s->nstep >= 1 && is <= s->nstep; is++) {                                  \
            VF isc = (s->rmin + s->rdelta * (float)is + (float)s->nmax) / (mx - mn);               \
            VF sl = zero, sl2 = zero, sxl = zero;                                                  \
            for (int i = 0; i < n; i++) {                                                          \
                VI l = NEAREST_INT(VI, isc * (vx[i] - mn));                                        \
                VI over = l > vhi;                                                                 \
                l = (l & ~(l < vlo) & ~over) | (vhi & over);                                       \
                aux_l[i] = l;                                                                      \
                VF lf = __builtin_convertvector(l, VF);                                            \
                sl += vw[i] * lf;                                                                  \
                sl2 += vw[i] * lf * lf;                                                            \
                sxl += vw[i] * lf * vx[i];                                                         \
            }                                                                                      \
            /* Weighted least squares for (scale, min) given these levels;                         \
             * ggml skips the step unless D > 0. */                                                \
            VF D = sum_w * sl2 - sl * sl;                                                          \
            VF ts = (sum_w * sxl - sum_x * sl) / D, tm = (sl2 * sum_x - sl * sxl) / D;             \
            VI pos = tm > 0;                                                                       \
            ts = SELECT(VF, VI, pos, sxl / sl2, ts);                                               \
            tm = SELECT(VF, VI, pos, zero, tm);                                                    \
            VF err = zero;                                                                         \
            for (int i = 0; i < n; i++) {                                                          \
                VF e = ts * __builtin_convertvector(aux_l[i], VF) + tm - vx[i];                    \
                e = s->use_mad ? (VF)((VI)e & 0x7FFFFFFF) : e * e;                                 \
                err += vw[i] * e;                                                                  \
            }                                                                                      \
            VI win = (D > 0) & (err < best_err) & ~degenerate;                                     \
            for (int i = 0; i < n; i++)                                                            \
                best_l[i] = (aux_l[i] & win) | (best_l[i] & ~win);                                 \
            best_err = SELECT(VF, VI, win, err, best_err);                                         \
            scale = SELECT(VF, VI, win, ts, scale);                                                \
            mn = SELECT(VF, VI, win, tm, mn);                                                      \
        }                                                                                          \
        for (int k = 0; k < count; k++) {                                                          \
            for (int i = 0; i < n; i++)                                                            \
                L[k * n + i] = degenerate[k] ? 0 : (uint8_t)best_l[i][k];                          \
            scales[k] = degenerate[k] ? 0.0f : scale[k];                                           \
            the_mins[k] = -mn[k];                                                                  \
        }                                                                                          \
    }

typedef void (*qkx_lanes_fn)(const kern_qkx_search *s, int count, const float *x, const float *wts,
                             uint8_t *L, float *scales, float *the_mins);

QKX_LANES(qkx_lanes4, v4f, v4i, 4, )
#ifdef SEARCH_WIDER
QKX_LANES(qkx_lanes8, v8f, v8i, 8, __attribute__((target("avx2"))))
QKX_LANES(qkx_lanes16, v16f, v16i, 16, __attribute__((target("avx512f,avx512bw,avx512vl"))))
#endif
static const qkx_lanes_fn qkx_lanes_by_width[] = {qkx_lanes4,
#ifdef SEARCH_WIDER
                                                  qkx_lanes8, qkx_lanes16
#endif
};

void kern_make_qkx_quants_many(const kern_qkx_search *s, int count, const float *x,
                               const float *weights, uint8_t *L, float *scales, float *the_mins) {
    int width = width_for(count), lanes = 4 << width;
    for (int g = 0; g < count; g += lanes) {
        int c = count - g < lanes ? count - g : lanes;
        qkx_lanes_by_width[width](s, c, x + g * s->n, weights + g * s->n, L + g * s->n, scales + g,
                                  the_mins + g);
    }
}

/* ------------------------------------------------------------------------ */
/* Non-negative levels: make_qp_quants                                        */
/* ------------------------------------------------------------------------ */

float kern_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw) {
    float max = 0.0f;
    for (int i = 0; i < n; i++)
        max = max > x[i] ? max : x[i];
    if (max == 0.0f) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    /* Pick the best of nine inverse scales by weighted squared error; the
     * first candidate's levels are not clamped (they cannot exceed nmax). */
    float iscale = (float)nmax / max;
    for (int i = 0; i < n; i++)
        L[i] = (uint8_t)kern_nearest_int(iscale * x[i]);
    float scale = 1 / iscale;
    float best_mse = 0.0f;
    for (int i = 0; i < n; i++) {
        float e = x[i] - scale * (float)L[i];
        best_mse += qw[i] * e * e;
    }
    for (int is = -4; is <= 4; is++) {
        if (is == 0)
            continue;
        float iscale_is = (0.1f * (float)is + (float)nmax) / max;
        float scale_is = 1 / iscale_is;
        float mse = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = kern_nearest_int(iscale_is * x[i]);
            l = l < nmax ? l : nmax;
            float e = x[i] - scale_is * (float)l;
            mse += qw[i] * e * e;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }

    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = kern_nearest_int(iscale * x[i]);
        l = l < nmax ? l : nmax;
        L[i] = (uint8_t)l;
        sumlx += qw[i] * x[i] * (float)l;
        suml2 += qw[i] * (float)l * (float)l;
    }
    /* Coordinate descent as in make_q3_quants, upper clamp only. */
    for (int sweep = 0; sweep < 5; sweep++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float w = qw[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            float sl2 = suml2 - w * (float)L[i] * (float)L[i];
            if (!(slx > 0 && sl2 > 0))
                continue;
            int nl = kern_nearest_int(x[i] * sl2 / slx);
            nl = nl < nmax ? nl : nmax;
            if (nl == L[i])
                continue;
            slx += w * x[i] * (float)nl;
            sl2 += w * (float)nl * (float)nl;
            if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = (uint8_t)nl;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed)
            break;
    }
    return sumlx / suml2;
}

/* ------------------------------------------------------------------------ */
/* Input validation                                                           */
/* ------------------------------------------------------------------------ */

/* Groups of 16 are tested without branches so that the compiler
 * vectorises them (exponent all ones, plus one ulp of exponent, carries
 * into the sign bit); only a group with a hit is searched element by
 * element. */
int64_t kern_find_nonfinite(const float *x, int64_t n) {
    enum { G = 16 };
    int64_t i = 0;
    for (; i + G <= n; i += G) {
        uint32_t u[G], any = 0;
        memcpy(u, x + i, sizeof u);
        for (int k = 0; k < G; k++)
            any |= (u[k] & 0x7F800000u) + 0x00800000u;
        if (any & 0x80000000u)
            break;
    }
    for (; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        if ((u & 0x7F800000u) == 0x7F800000u) /* exponent all ones: inf or NaN */
            return i;
    }
    return -1;
}
