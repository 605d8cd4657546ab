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

/* The scale searches try several scales whose sums do not depend on each
 * other; they run several at a time in GCC/Clang vector lanes (SSE2 and
 * NEON: four; AVX2: eight; AVX-512: sixteen), each lane doing ggml's scalar
 * arithmetic in ggml's order, so every width gives the same bytes. */
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

/* Largest group that the many-groups searches (one group per lane) take. */
#define QX_MANY_MAX_N 32
#define QKX_MANY_MAX_N 32

/* Lanes of a where mask is set, of b elsewhere. */
#define SELECT(VF, VI, mask, a, b) ((VF)(((VI)(a) & (mask)) | ((VI)(b) & ~(mask))))

/* kern_nearest_int(v) in every lane (the 1.5 * 2^23 trick). */
#define NEAREST_INT(VI, v) (((VI)((v) + 12582912.0f) & 0x007FFFFF) - 0x00400000)

/* Weight of element i in make_qx_quants when no importance weights are
 * given: rmse_type selects x^2, 1, |x| or sqrt|x|. */
static inline float qx_weight(int rmse_type, const float *x, int i) {
    switch (rmse_type) {
    case 1: return x[i] * x[i];
    case 2: return 1.0f;
    case 3: return fabsf(x[i]);
    default: return sqrtf(fabsf(x[i]));
    }
}

/* LANES inverse scales of make_qx_quants' search, one per lane, in vectors
 * VF/VI compiled for the ISA that ATTR names: ggml's sums sumlx += (w * x)
 * * l and suml2 += (w * l) * l. */
#define QX_SUMS(NAME, VF, VI, LANES, ATTR)                                                         \
    ATTR static void NAME(int n, int nmax, const float *x, const float *qw, const float *iscales,  \
                          float *sums_lx, float *sums_l2) {                                        \
        VI vlo, vhi;                                                                               \
        for (int k = 0; k < LANES; k++)                                                            \
            vlo[k] = -nmax, vhi[k] = nmax - 1;                                                     \
        VF iscale, sumlx = {0}, suml2 = {0};                                                       \
        memcpy(&iscale, iscales, sizeof iscale);                                                   \
        for (int i = 0; i < n; i++) {                                                              \
            VI l = NEAREST_INT(VI, iscale * x[i]);                                                 \
            VI under = l<vlo, over = l> vhi;                                                       \
            l = (l & ~under) | (vlo & under);                                                      \
            l = (l & ~over) | (vhi & over);                                                        \
            VF lf = __builtin_convertvector(l, VF);                                                \
            float w = qw[i];                                                                       \
            sumlx += w * x[i] * lf;                                                                \
            suml2 += w * lf * lf;                                                                  \
        }                                                                                          \
        memcpy(sums_lx, &sumlx, sizeof sumlx);                                                     \
        memcpy(sums_l2, &suml2, sizeof suml2);                                                     \
    }

typedef void (*qx_sums_fn)(int n, int nmax, const float *x, const float *qw, const float *iscales,
                           float *sums_lx, float *sums_l2);

QX_SUMS(qx_sums4, v4f, v4i, 4, )
#ifdef SEARCH_WIDER
QX_SUMS(qx_sums8, v8f, v8i, 8, __attribute__((target("avx2"))))
QX_SUMS(qx_sums16, v16f, v16i, 16, __attribute__((target("avx512f,avx512bw,avx512vl"))))
#endif
static const qx_sums_fn qx_sums_by_width[] = {qx_sums4,
#ifdef SEARCH_WIDER
                                              qx_sums8, qx_sums16
#endif
};

float kern_make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type,
                          const float *qw) {
    float amax;
    float max = signed_absmax(n, x, &amax);
    if (amax < KERN_GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max;
    if (rmse_type == 0) {
        for (int i = 0; i < n; i++)
            L[i] = (int8_t)(nmax + clamp_int(kern_nearest_int(iscale * x[i]), -nmax, nmax - 1));
        return 1 / iscale;
    }
    int early = rmse_type < 0;
    if (early)
        rmse_type = -rmse_type;
    /* The default weights, computed once (the same floats ggml recomputes
     * in every pass). */
    float wbuf[KERN_SEARCH_MAX_N];
    if (!qw) {
        for (int i = 0; i < n; i++)
            wbuf[i] = qx_weight(rmse_type, x, i);
        qw = wbuf;
    }

    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = clamp_int(kern_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = qw[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    if (early)
        return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;

    /* Try 18 nearby inverse scales; keep one whose least-squares fit is
     * strictly better (sumlx^2/suml2 larger). The sums of all 18 do not
     * depend on the choice, so they are computed first, several at a
     * time (the last padded with copies); the choice then runs in ggml's
     * order. */
    float iscales[32], sums_lx[32], sums_l2[32];
    for (int k = 0, is = -9; is <= 9; is++)
        if (is != 0)
            iscales[k++] = -((float)nmax + 0.1f * (float)is) / max;
    for (int k = 18; k < 32; k++)
        iscales[k] = iscales[17];
    int width = search_width(), lanes = 4 << width;
    qx_sums_fn sums = qx_sums_by_width[width];
    for (int k = 0; k < 18; k += lanes)
        sums(n, nmax, x, qw, iscales + k, sums_lx + k, sums_l2 + k);
    float best = scale * sumlx;
    for (int k = 0; k < 18; k++) {
        iscale = iscales[k];
        sumlx = sums_lx[k];
        suml2 = sums_l2[k];
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + clamp_int(kern_nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* make_qx_quants (rmse_type 1) for many groups, one group per vector
 * lane, as the qkx search below: every lane runs ggml's 18 scales in
 * order for its own group. */
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
        VF iscale = (float)-nmax / max, sumlx = zero, suml2 = zero;                                \
        for (int i = 0; i < n; i++) {                                                              \
            VI l = NEAREST_INT(VI, iscale * vx[i]);                                                \
            VI under = l<vlo, over = l> vhi;                                                       \
            l = (l & ~under & ~over) | (vlo & under) | (vhi & over);                               \
            best_l[i] = l;                                                                         \
            VF lf = __builtin_convertvector(l, VF);                                                \
            sumlx += vw[i] * vx[i] * lf;                                                           \
            suml2 += vw[i] * lf * lf;                                                              \
        }                                                                                          \
        VF scale = SELECT(VF, VI, suml2 != 0, sumlx / suml2, zero), best = scale * sumlx;          \
        for (int is = -9; is <= 9; is++) {                                                         \
            if (is == 0)                                                                           \
                continue;                                                                          \
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
            for (int i = 0; i < n; i++)                                                            \
                best_l[i] = (aux_l[i] & win) | (best_l[i] & ~win);                                 \
            scale = SELECT(VF, VI, win, slx / sl2, scale);                                         \
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
    int width = search_width();
    while (width > 0 && count < 4 << width)
        width--; /* the widest lanes that the groups fill */
    int lanes = 4 << width;
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

/* Steps of the qkx search evaluated together, lane k being step is0 + k:
 * Q4_K/Q5_K's 21 steps take two groups of 16 (AVX-512) or three of 8
 * (AVX2) instead of six of 4, unless a step wins early; the wider groups
 * save the work of a group outside the lanes (requant Q4_K_M of 627 MB on
 * 2 threads, side by side: 6.4 s with 4 lanes, 5.5 s with 16). */
#define QKX_MAX_LANES 16
typedef struct {
    int32_t L[KERN_SEARCH_MAX_N][QKX_MAX_LANES]; /* levels, element-major */
    float s[QKX_MAX_LANES], m[QKX_MAX_LANES], err[QKX_MAX_LANES];
    int valid[QKX_MAX_LANES]; /* D > 0: ggml skips the step otherwise */
} qkx_group;

typedef void (*qkx_group_eval_fn)(qkx_group *g, int n, int nmax, const float *x, const float *w,
                                  float sum_w, float sum_x, float rmin, float rdelta, int is0,
                                  float max, float min, int use_mad);

/* One group evaluation of LANES lanes in vectors VF/VI, compiled for the
 * ISA that ATTR names (a macro: the same body at each width; the vectors
 * never cross a function boundary, whose ABI would depend on the ISA). */
#define QKX_GROUP_EVAL(NAME, VF, VI, LANES, ATTR)                                                  \
    ATTR static void NAME(qkx_group *g, int n, int nmax, const float *x, const float *w,           \
                          float sum_w, float sum_x, float rmin, float rdelta, int is0, float max,  \
                          float min, int use_mad) {                                                \
        float isc[LANES];                                                                          \
        VI vlo = {0}, vhi;                                                                         \
        for (int k = 0; k < LANES; k++) {                                                          \
            isc[k] = (rmin + rdelta * (float)(is0 + k) + (float)nmax) / (max - min);               \
            vhi[k] = nmax;                                                                         \
        }                                                                                          \
        VF iscale, sum_l = {0}, sum_l2 = {0}, sum_xl = {0};                                        \
        memcpy(&iscale, isc, sizeof iscale);                                                       \
        for (int i = 0; i < n; i++) {                                                              \
            /* clamp_int(kern_nearest_int(iscale * (x[i] - min)), 0, nmax) */                      \
            VI l = NEAREST_INT(VI, iscale * (x[i] - min));                                         \
            VI under = l<vlo, over = l> vhi;                                                       \
            l = (l & ~under) | (vlo & under);                                                      \
            l = (l & ~over) | (vhi & over);                                                        \
            memcpy(g->L[i], &l, sizeof l);                                                         \
            VF lf = __builtin_convertvector(l, VF);                                                \
            sum_l += w[i] * lf;                                                                    \
            sum_l2 += w[i] * lf * lf;                                                              \
            sum_xl += w[i] * lf * x[i];                                                            \
        }                                                                                          \
        float sl[LANES], sl2[LANES], sxl[LANES];                                                   \
        memcpy(sl, &sum_l, sizeof sl);                                                             \
        memcpy(sl2, &sum_l2, sizeof sl2);                                                          \
        memcpy(sxl, &sum_xl, sizeof sxl);                                                          \
        for (int k = 0; k < LANES; k++) {                                                          \
            /* Weighted least squares for (scale, min) given these levels. */                      \
            float D = sum_w * sl2[k] - sl[k] * sl[k];                                              \
            g->valid[k] = D > 0;                                                                   \
            float s = g->valid[k] ? (sum_w * sxl[k] - sum_x * sl[k]) / D : 0.0f;                   \
            float m = g->valid[k] ? (sl2[k] * sum_x - sl[k] * sxl[k]) / D : 0.0f;                  \
            if (m > 0) {                                                                           \
                m = 0;                                                                             \
                s = sxl[k] / sl2[k];                                                               \
            }                                                                                      \
            g->s[k] = s, g->m[k] = m;                                                              \
        }                                                                                          \
        VF sv, mv, err = {0};                                                                      \
        memcpy(&sv, g->s, sizeof sv);                                                              \
        memcpy(&mv, g->m, sizeof mv);                                                              \
        for (int i = 0; i < n; i++) {                                                              \
            VI l;                                                                                  \
            memcpy(&l, g->L[i], sizeof l);                                                         \
            VF e = sv * __builtin_convertvector(l, VF) + mv - x[i];                                \
            if (use_mad)                                                                           \
                e = (VF)((VI)e & 0x7FFFFFFF);                                                      \
            else                                                                                   \
                e = e * e;                                                                         \
            err += w[i] * e;                                                                       \
        }                                                                                          \
        memcpy(g->err, &err, sizeof err);                                                          \
    }

QKX_GROUP_EVAL(qkx_group_eval4, v4f, v4i, 4, )
#ifdef SEARCH_WIDER
QKX_GROUP_EVAL(qkx_group_eval8, v8f, v8i, 8, __attribute__((target("avx2"))))
QKX_GROUP_EVAL(qkx_group_eval16, v16f, v16i, 16,
               __attribute__((target("avx512f,avx512bw,avx512vl"))))
#endif
static const qkx_group_eval_fn qkx_group_eval_by_width[] = {qkx_group_eval4,
#ifdef SEARCH_WIDER
                                                            qkx_group_eval8, qkx_group_eval16
#endif
};

/* Both searches are the same algorithm; they differ only in how the
 * weights default (qkx2 requires them, qkx3 uses x^2 for NULL, filled in by
 * its wrapper) and in the degenerate-range test (max == min versus
 * max <= min). weights is never NULL here. */
static float qkx_search(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                        float *the_min, float rmin, float rdelta, int nstep, int use_mad,
                        int degenerate_le) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0)
        min = 0;
    if (degenerate_le ? max <= min : max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1 / iscale;
    float best_err = 0.0f;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clamp_int(kern_nearest_int(iscale * (x[i] - min)), 0, nmax);
        float e = scale * (float)L[i] + min - x[i];
        e = use_mad ? fabsf(e) : e * e;
        best_err += weights[i] * e;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    /* ggml's step loop, several steps at a time (one per vector lane). Step
     * is + 1 starts from the min that step is leaves, which changes when
     * step is wins; the group is computed with the current min and, after
     * a win, the search resumes at the step after the winner with the new
     * min. Every lane computes exactly the sequential loop's values. */
    int width = search_width(), lanes = 4 << width;
    qkx_group_eval_fn eval = qkx_group_eval_by_width[width];
    for (int is = 0; is <= nstep;) {
        qkx_group g;
        eval(&g, n, nmax, x, weights, sum_w, sum_x, rmin, rdelta, is, max, min, use_mad);
        int k = 0, won = 0;
        for (; k < lanes && is + k <= nstep; k++) {
            if (g.valid[k] && g.err[k] < best_err) {
                for (int i = 0; i < n; i++)
                    L[i] = g.L[i][k];
                best_err = g.err[k];
                scale = g.s[k];
                min = g.m[k];
                won = 1;
                k++;
                break;
            }
        }
        is += won ? k : lanes;
    }
    *the_min = -min;
    return scale;
}

float kern_make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                            float *the_min, float rmin, float rdelta, int nstep, int use_mad) {
    return qkx_search(n, nmax, x, weights, L, the_min, rmin, rdelta, nstep, use_mad, 0);
}

float kern_make_qkx3_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                            float *the_min, float rmin, float rdelta, int nstep, int use_mad) {
    float wbuf[KERN_SEARCH_MAX_N];
    if (!weights) {
        for (int i = 0; i < n; i++)
            wbuf[i] = x[i] * x[i];
        weights = wbuf;
    }
    return qkx_search(n, nmax, x, weights, L, the_min, rmin, rdelta, nstep, use_mad, 1);
}

/* The same search for many groups at once, one group per vector lane:
 * every lane runs ggml's whole sequential step loop for its own group
 * (its own min, which a winning step moves), so no lane's work is thrown
 * away as when the lanes are steps. The groups are transposed into the
 * lanes on entry and back on exit. */

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
    int width = search_width();
    while (width > 0 && count < 4 << width)
        width--; /* the widest lanes that the groups fill */
    int lanes = 4 << width;
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
