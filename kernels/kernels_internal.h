/*
 * kernels_internal.h -- declarations shared between the files of kernels/
 * (reference kernels named in the type table, SIMD variants named by
 * dispatch.c). Never included from outside kernels/.
 */
#ifndef KERNELS_INTERNAL_H
#define KERNELS_INTERNAL_H

#include <math.h>
#include <string.h>

#include "kernels.h"

/* Per-ISA overrides of the fast table: NULL entries keep the reference. */
typedef struct {
    kern_to_float_fn to_float[KERN_TYPE_COUNT];
    void (*fp16_to_fp32_row)(const uint16_t *src, float *dst, int64_t n);
    void (*fp32_to_fp16_row)(const float *src, uint16_t *dst, int64_t n);
    void (*bf16_to_fp32_row)(const uint16_t *src, float *dst, int64_t n);
    void (*fp32_to_bf16_row)(const float *src, uint16_t *dst, int64_t n);
} kern_isa_table;

/* Per-ISA tables, defined by the ISA files (kernels/x86/, kernels/arm/) and
 * named only by dispatch.c, which builds only the ones of its architecture. */
extern const kern_isa_table kern_isa_table_avx2;
extern const kern_isa_table kern_isa_table_avx512;
extern const kern_isa_table kern_isa_table_neon;

/* float.c */
void kern_dequant_f32_ref(const void *src, float *dst, int64_t n);
void kern_dequant_f16_ref(const void *src, float *dst, int64_t n);
void kern_dequant_bf16_ref(const void *src, float *dst, int64_t n);
void kern_dequant_i8_ref(const void *src, float *dst, int64_t n);
void kern_dequant_i16_ref(const void *src, float *dst, int64_t n);
void kern_dequant_i32_ref(const void *src, float *dst, int64_t n);
void kern_dequant_f64_ref(const void *src, float *dst, int64_t n);
size_t kern_quantize_f32_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                             const float *imatrix);
size_t kern_quantize_f16_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                             const float *imatrix);
size_t kern_quantize_bf16_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
void kern_fp16_to_fp32_row_ref(const uint16_t *src, float *dst, int64_t n);
void kern_fp32_to_fp16_row_ref(const float *src, uint16_t *dst, int64_t n);
void kern_bf16_to_fp32_row_ref(const uint16_t *src, float *dst, int64_t n);
void kern_fp32_to_bf16_row_ref(const float *src, uint16_t *dst, int64_t n);

/* ------------------------------------------------------------------------ */
/* legacy.c, kquants.c, ternary.c, fp4.c: reference kernels (table entries)   */
/* ------------------------------------------------------------------------ */

void kern_dequant_q4_0_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q4_1_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q5_0_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q5_1_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q8_0_ref(const void *src, float *dst, int64_t n);
size_t kern_quantize_q4_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
size_t kern_quantize_q4_1_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
size_t kern_quantize_q5_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
size_t kern_quantize_q5_1_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
size_t kern_quantize_q8_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);

void kern_dequant_q2_k_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q3_k_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q4_k_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q5_k_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q6_k_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q8_k_ref(const void *src, float *dst, int64_t n);
size_t kern_quantize_q2_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
size_t kern_quantize_q3_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
size_t kern_quantize_q4_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
size_t kern_quantize_q5_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);
size_t kern_quantize_q6_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);

void kern_dequant_tq1_0_ref(const void *src, float *dst, int64_t n);
void kern_dequant_tq2_0_ref(const void *src, float *dst, int64_t n);
void kern_dequant_q2_0_ref(const void *src, float *dst, int64_t n);
size_t kern_quantize_tq1_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix);
size_t kern_quantize_tq2_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix);

void kern_dequant_q1_0_ref(const void *src, float *dst, int64_t n);
size_t kern_quantize_q1_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                              const float *imatrix);

void kern_dequant_mxfp4_ref(const void *src, float *dst, int64_t n);
size_t kern_quantize_mxfp4_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix);

/* ------------------------------------------------------------------------ */
/* search.c: scale/level searches shared by k-quants and i-quants            */
/* ------------------------------------------------------------------------ */

/* Groups whose largest magnitude is below this count as all zero. */
#define KERN_GROUP_MAX_EPS 1e-15f

/* Largest group (n) the searches below accept. */
#define KERN_SEARCH_MAX_N 256

/* ggml's nearest_int: round half to even by adding 1.5*2^23 and reading
 * the mantissa. Exact for |f| < 2^22; outside that it wraps exactly as
 * ggml's does (inf -> -4194304), which is the behaviour to reproduce. */
static inline int kern_nearest_int(float f) {
    float v = f + 12582912.0f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007FFFFF) - 0x00400000;
}

/* make_qx_quants with rmse_type 1 for count groups of n <= 32 values stored
 * one after the other in x, with weights qw likewise (NULL: x^2); group g's
 * levels go to L + g*n and its scale to scales[g]. The same bytes as one
 * call per group, several groups at a time. */
void kern_make_qx_quants_many(int count, int n, int nmax, const float *x, const float *qw,
                              int8_t *L, float *scales);

/* make_q3_quants: as make_qx_quants with x^2 weights and, when do_rmse,
 * up to 5 coordinate-descent sweeps. L gets levels offset by nmax. */
float kern_make_q3_quants(int n, int nmax, const float *x, int8_t *L, int do_rmse);

/* make_qkx2_quants (degenerate_le 0) or make_qkx3_quants (1) for count
 * groups of n <= 32 values stored one after the other in x, with their
 * weights (not NULL) likewise; group g's levels go to L + g*n, its scale
 * and -min to scales[g] and the_mins[g]. The same bytes as one call per
 * group, several groups at a time. */
typedef struct {
    int n, nmax;
    float rmin, rdelta;
    int nstep, use_mad, degenerate_le;
} kern_qkx_search;
void kern_make_qkx_quants_many(const kern_qkx_search *s, int count, const float *x,
                               const float *weights, uint8_t *L, float *scales, float *the_mins);

/* make_qp_quants: non-negative x (scales of a super-block) to levels in
 * [0, nmax] with weights qw (not NULL). Returns the scale, 0 if all x are 0. */
float kern_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw);

/* ggml's best_index_int8 for a codebook of 16 strictly increasing values,
 * given as floats (val[k] converted once by the caller): the index of the
 * entry nearest to x, exact midpoints choosing the upper entry. ggml bisects
 * for the last entry <= x; that is a count, taken here without branches
 * (the bisection's branches were mispredicted half the time). A NaN ends
 * where the bisection ends, every comparison being false: at 15. */
static inline int kern_best_index16(const float *val, float x) {
    if (x <= val[0])
        return 0;
    if (!(x < val[15]))
        return 15;
    int hi = 0;
    for (int k = 0; k < 16; k++)
        hi += val[k] <= x;
    return x - val[hi - 1] < val[hi] - x ? hi - 1 : hi;
}

/* float -> int32 truncation as x86-64 cvttss2si does it, which is what
 * ggml's (int8_t)/(uint8_t)/(int) casts compile to: out-of-range values,
 * inf and NaN give INT32_MIN (so a later narrowing cast gives 0). Casting
 * such values in C is undefined, so the range is tested first. Reached
 * only with absurd scales (e.g. 1/d = inf for subnormal blocks). */
static inline int32_t kern_cvtt_i32(float v) {
    if (v > -2147483904.0f && v < 2147483648.0f)
        return (int32_t)v;
    return INT32_MIN;
}

/* roundf for |x| < 2^23, where t = trunc(x) and x - t are exact; without
 * branches (halves are data, and a loop of these vectorises). */
static inline float kern_roundf_small(float x) {
    float t = (float)(int32_t)x;
    float up = (float)(fabsf(x - t) >= 0.5f);
    return copysignf(fabsf(t) + up, x);
}

/* C's roundf (halves away from zero, sign of zero kept), inline: the libm
 * call cost a fifth of Q8_0 quantization. At and above 2^23 every float is
 * an integer, and inf and NaN come back unchanged, as from roundf. */
static inline float kern_roundf(float x) {
    return fabsf(x) < 0x1p23f ? kern_roundf_small(x) : x;
}

/* ------------------------------------------------------------------------ */
/* Little-endian field access inside blocks (blocks are byte arrays)         */
/* ------------------------------------------------------------------------ */

static inline uint16_t kern_get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline void kern_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline uint32_t kern_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void kern_put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* fp16 field <-> float, rounding as GGML_FP32_TO_FP16 (signed zero kept). */
static inline float kern_get_f16(const uint8_t *p) {
    return kern_fp16_to_fp32(kern_get_u16(p));
}

static inline void kern_put_f16(uint8_t *p, float f) {
    kern_put_u16(p, kern_fp32_to_fp16(f));
}

/* Sub-block j's 6-bit (scale, min) of a Q4_K/Q5_K block, whose 12 scale
 * bytes start at s (ggml's get_scale_min_k4); j is 0..7. */
static inline void kern_scale_min_k4(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* ------------------------------------------------------------------------ */
/* i-quants: iq_grids.c (format lattices) and iquants.c (kernels)            */
/* ------------------------------------------------------------------------ */

/* The IQ4_NL / IQ4_XS codebook (ggml kvalues_iq4nl), ascending. */
extern const int8_t kern_iq4nl_values[16];

/* Grid points of the IQ1/IQ2/IQ3 codebooks as ggml's quantizer spells them
 * (kgrid_*): coordinate i is the level in bits [b*i, b*i+b), b = 2 for the
 * 8-coordinate grids and 3 for the 4-coordinate ones. See iq_grids.c for how
 * a level maps to the dequantized value of each family. */
extern const uint16_t kern_iq2xxs_kgrid[256];
extern const uint16_t kern_iq2xs_kgrid[512];
extern const uint16_t kern_iq2s_kgrid[1024];
extern const uint16_t kern_iq1s_kgrid[2048];
extern const uint16_t kern_iq3xxs_kgrid[256];
extern const uint16_t kern_iq3s_kgrid[512];

/* Quantizer lattices (ggml iq2xs_init_impl / iq3xs_init_impl data). */
enum {
    KERN_IQ_LAT_IQ2XXS,
    KERN_IQ_LAT_IQ2XS,
    KERN_IQ_LAT_IQ2S,
    KERN_IQ_LAT_IQ1S, /* shared by IQ1_S and IQ1_M */
    KERN_IQ_LAT_IQ3XXS,
    KERN_IQ_LAT_IQ3S,
    KERN_IQ_LAT_COUNT
};

/* One lattice: the grid, plus for each key (kern_iq_key of a level vector)
 * map[key] = grid index if the vector is a grid point, else -(o+1) where
 * neighbours[o] = n and neighbours[o+1..o+n] are the nearest grid indices in
 * ggml's order. Static storage, valid for the life of the program. */
typedef struct {
    const uint16_t *kgrid;
    int ngrid;
    int dim; /* coordinates per point: 8 or 4 */
    const int32_t *map;
    const uint16_t *neighbours;
    const int8_t *levels; /* levels[idx*dim + i]: the kgrid words unpacked */
} kern_iq_lattice;

/* The lattice `which` (KERN_IQ_LAT_*), built on first use (thread-safe,
 * call_once). NULL only for a bad id or an internal capacity bug. */
const kern_iq_lattice *kern_iq_lattice_get(int which);

/* Key of a level vector: base 3 over 8 coordinates (levels 0..2) or
 * 3 bits per coordinate over 4 coordinates (levels 0..7). */
static inline int kern_iq_key(int dim, const int8_t *l) {
    int k = 0;
    if (dim == 8) {
        for (int i = 7; i >= 0; i--)
            k = 3 * k + l[i];
    } else {
        for (int i = 0; i < 4; i++)
            k |= l[i] << (3 * i);
    }
    return k;
}

/* Level of coordinate i of grid point idx. */
static inline int kern_iq_level(const kern_iq_lattice *lat, int idx, int i) {
    return lat->levels[idx * lat->dim + i];
}

/* Reference dequantizers (n a whole number of blocks). */
void kern_dequant_iq2_xxs_ref(const void *src, float *dst, int64_t n);
void kern_dequant_iq2_xs_ref(const void *src, float *dst, int64_t n);
void kern_dequant_iq2_s_ref(const void *src, float *dst, int64_t n);
void kern_dequant_iq3_xxs_ref(const void *src, float *dst, int64_t n);
void kern_dequant_iq3_s_ref(const void *src, float *dst, int64_t n);
void kern_dequant_iq1_s_ref(const void *src, float *dst, int64_t n);
void kern_dequant_iq1_m_ref(const void *src, float *dst, int64_t n);
void kern_dequant_iq4_nl_ref(const void *src, float *dst, int64_t n);
void kern_dequant_iq4_xs_ref(const void *src, float *dst, int64_t n);

/* Reference quantizers, as ggml's quantize_iq*() called by
 * ggml_quantize_chunk(). IQ2_XXS, IQ2_XS and IQ1_S need an imatrix (as in
 * ggml, which asserts): with imatrix == NULL they write nothing and return 0.
 * The other types accept NULL and use ggml's default weights. */
size_t kern_quantize_iq2_xxs_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix);
size_t kern_quantize_iq2_xs_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                const float *imatrix);
size_t kern_quantize_iq2_s_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix);
size_t kern_quantize_iq3_xxs_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix);
size_t kern_quantize_iq3_s_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix);
size_t kern_quantize_iq1_s_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix);
size_t kern_quantize_iq1_m_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                               const float *imatrix);
size_t kern_quantize_iq4_nl_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                const float *imatrix);
size_t kern_quantize_iq4_xs_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                                const float *imatrix);

#endif
