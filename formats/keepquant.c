/*
 * keepquant.c -- GPTQ, AWQ and pack-quantized weights kept as Q4_0, Q4_1 or
 * Q8_0 blocks (see keepquant.h for which blocks are exact and why).
 *
 * Block layouts (ggml-common.h; d and m fp16, little-endian):
 *
 *   Q4_0 (18 bytes)  | d | qs[16]: x[j] | x[j+16] << 4 |   y = (x - 8) * d
 *   Q4_1 (20 bytes)  | d | m | qs[16], as Q4_0 |          y = x * d + m
 *   Q8_0 (34 bytes)  | d | qs[32]: int8 x |               y = x * d
 *
 * Exactness. The dequantized value is w = s * float(q - z), one f32
 * product of an exact integer and the scale. Q4_0/Q8_0 compute
 * float(x') * d with x' = q - z and d = s when s is exact in fp16: the same
 * product. Q4_1 computes x * d + m with x = q, d = s, m = -s*z: x * d and m
 * are exact (11-bit s times an integer below 2^5), and so is their sum
 * s * (q - z), which w also is; only the sign of a zero can differ, and it
 * does not when s >= +0 (both give +0).
 */
#include "keepquant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "dequant.h"

#define QK 32

/* One packed weight: its record in the set, and per 32-block of the
 * inputs the group all of its inputs share, -1 when they do not. */
typedef struct {
    fmt_kq_stats stats;
    fmt_dq_packed info;
    int32_t *block_group; /* [in / 32] */
} kq_job;

struct fmt_kq {
    fmt_src *view;
    kq_job *jobs;
    size_t n_jobs;
};

/* ------------------------------------------------------------------------ */
/* One block                                                                  */
/* ------------------------------------------------------------------------ */

static int fp16_exact(float v, uint16_t *h) {
    *h = kern_fp32_to_fp16(v);
    float back = kern_fp16_to_fp32(*h);
    return memcmp(&back, &v, sizeof v) == 0;
}

/* Whether codes of `bits` with scale s and zero z make an exact block of
 * type; the reason when not. */
static const char *group_inexact(int type, int bits, float s, int32_t z) {
    uint16_t h;
    int32_t top = (1 << bits) - 1;
    if (!fp16_exact(s, &h))
        return "a scale is not exact in fp16";
    if (type == KERN_TYPE_Q4_0 && (z > 8 || top - z > 7))
        return "a zero point is not 8 (Q4_0 holds q - 8)";
    if (type == KERN_TYPE_Q8_0 && (z > 128 || top - z > 127))
        return "a zero point makes q - zero leave int8";
    if (type == KERN_TYPE_Q4_1) {
        if (signbit(s))
            return "a negative scale with a zero point";
        if (z < 0 || z > 16 || !fp16_exact(-(s * (float)z), &h))
            return "-scale*zero is not exact in fp16";
    }
    return NULL;
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

int fmt_kq_block(int type, int bits, const uint8_t *q, float s, int32_t z, uint8_t *blk) {
    uint16_t d, m;
    if (bits < 1 || bits > (type == KERN_TYPE_Q8_0 ? 8 : 4) ||
        (type != KERN_TYPE_Q4_0 && type != KERN_TYPE_Q4_1 && type != KERN_TYPE_Q8_0) ||
        group_inexact(type, bits, s, z))
        return 0;
    fp16_exact(s, &d);
    put16(blk, d);
    if (type == KERN_TYPE_Q8_0) {
        for (int j = 0; j < QK; j++)
            blk[2 + j] = (uint8_t)(int8_t)(q[j] - z);
        return 1;
    }
    uint8_t *qs = blk + 2;
    int off = 8 - z; /* Q4_0: x = q - z + 8 */
    if (type == KERN_TYPE_Q4_1) {
        fp16_exact(-(s * (float)z), &m);
        put16(blk + 2, m);
        qs = blk + 4;
        off = 0;
    }
    for (int j = 0; j < QK / 2; j++)
        qs[j] = (uint8_t)((q[j] + off) | (q[j + QK / 2] + off) << 4);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                    */
/* ------------------------------------------------------------------------ */

/* fmt_src_raw_fn: rows of the weight as blocks; exact blocks from the
 * codes, the others quantized from the dequantized f32 row. */
static gk_status kq_read_raw(const fmt_src_tensor *t, int64_t r0, int64_t n, uint8_t *dst) {
    const kq_job *j = t->raw_ctx;
    const fmt_dq_packed *in = &j->info;
    const kern_type_traits *tt = kern_type_info(j->stats.type);
    size_t bb = tt->type_size, ng = (size_t)in->groups;
    float *row = malloc((size_t)in->in * sizeof *row + ng * sizeof(float));
    int32_t *z = malloc(ng * sizeof *z);
    uint8_t *q = malloc((size_t)in->in);
    gk_status st = row && z && q ? GK_OK : GK_E_NOMEM;
    float *s = row ? row + in->in : NULL;
    uint8_t *out = dst;
    for (int64_t o = r0; st == GK_OK && o < r0 + n; o++) {
        int have_row = 0; /* the f32 row is read for the first block to re-round */
        fmt_dq_packed_groups(t, o, s, z);
        fmt_dq_packed_codes(t, o, q);
        for (int64_t b = 0; st == GK_OK && b < in->in / QK; b++, out += bb) {
            int32_t g = j->block_group[b];
            if (g >= 0 && fmt_kq_block(j->stats.type, in->bits, q + b * QK, s[g], z[g], out))
                continue;
            if (!have_row && (st = t->read(t, o, 1, row)) != GK_OK)
                break;
            have_row = 1;
            tt->quantize_ref(row + b * QK, out, 1, QK, NULL);
        }
    }
    free(row);
    free(z);
    free(q);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The set                                                                    */
/* ------------------------------------------------------------------------ */

/* The type for j's codes: Q8_0 above 4 bits; Q4_0 when every zero fits
 * it, else Q4_1. Counts the exact blocks. Reads the scales and zeros of
 * every row (s, z: groups of scratch each). */
static void plan_job(kq_job *j, const fmt_src_tensor *t, float *s, int32_t *z) {
    const fmt_dq_packed *in = &j->info;
    int64_t nb = in->in / QK;
    int q40 = 1;
    for (int64_t o = 0; in->bits <= 4 && q40 && o < in->out; o++) {
        fmt_dq_packed_groups(t, o, s, z);
        for (int64_t g = 0; g < in->groups && q40; g++)
            q40 = z[g] <= 8 && (1 << in->bits) - 1 - z[g] <= 7;
    }
    j->stats.type = in->bits > 4 ? KERN_TYPE_Q8_0 : q40 ? KERN_TYPE_Q4_0 : KERN_TYPE_Q4_1;
    j->stats.why = "";
    for (int64_t b = 0; b < nb; b++) {
        int32_t g = in->g_idx[b * QK];
        for (int64_t i = b * QK + 1; i < (b + 1) * QK && g >= 0; i++)
            if (in->g_idx[i] != g)
                g = -1;
        j->block_group[b] = g;
        if (g < 0 && !*j->stats.why)
            j->stats.why = "inputs of one 32-block are in different groups (act-order, or "
                           "groups not a multiple of 32)";
    }
    for (int64_t o = 0; o < in->out; o++) {
        fmt_dq_packed_groups(t, o, s, z);
        for (int64_t b = 0; b < nb; b++) {
            int32_t g = j->block_group[b];
            const char *why = g < 0 ? "" : group_inexact(j->stats.type, in->bits, s[g], z[g]);
            if (!why) {
                j->stats.exact++;
                continue;
            }
            j->stats.rounded++;
            if (!*j->stats.why)
                j->stats.why = why;
        }
    }
}

fmt_kq *fmt_kq_open(fmt_src *dq_view, gk_status *st, char *err, size_t errcap) {
    uint64_t n = fmt_src_n_tensors(dq_view);
    fmt_kq *k = calloc(1, sizeof *k);
    fmt_src_tensor *rec = calloc(n ? n : 1, sizeof *rec);
    size_t np = 0;
    int64_t max_groups = 1;
    fmt_dq_packed info;
    for (uint64_t i = 0; i < n; i++)
        if (fmt_dq_packed_info(fmt_src_tensor_at(dq_view, i), &info)) {
            np++;
            max_groups = info.groups > max_groups ? info.groups : max_groups;
        }
    float *s = malloc((size_t)max_groups * sizeof *s);
    int32_t *z = malloc((size_t)max_groups * sizeof *z);
    *st =
        k && rec && s && z && (k->jobs = calloc(np ? np : 1, sizeof *k->jobs)) ? GK_OK : GK_E_NOMEM;
    for (uint64_t i = 0; *st == GK_OK && i < n; i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(dq_view, i);
        rec[i] = *t;
        if (!fmt_dq_packed_info(t, &info))
            continue;
        kq_job *j = &k->jobs[k->n_jobs++];
        j->info = info;
        j->stats.name = t->name;
        if (info.in % QK) {
            j->stats.type = -1;
            j->stats.rounded = (uint64_t)info.out * (uint64_t)((info.in + QK - 1) / QK);
            j->stats.why = "its rows are not whole 32-blocks";
            continue;
        }
        if (!(j->block_group = malloc((size_t)(info.in / QK) * sizeof *j->block_group))) {
            *st = GK_E_NOMEM;
            break;
        }
        plan_job(j, t, s, z);
        const kern_type_traits *tt = kern_type_info(j->stats.type);
        rec[i].type = j->stats.type;
        rec[i].dtype = tt->name;
        rec[i].size = (uint64_t)info.out * kern_row_bytes(j->stats.type, info.in);
        rec[i].read_raw = kq_read_raw;
        rec[i].raw_ctx = j;
    }
    if (*st == GK_OK && !(k->view = fmt_src_create(rec, n, st)))
        gk_msgf(err, errcap, "%s", fmt_src_open_errmsg());
    else if (*st != GK_OK)
        gk_msgf(err, errcap, "out of memory");
    free(rec);
    free(s);
    free(z);
    if (*st != GK_OK) {
        fmt_kq_close(k);
        return NULL;
    }
    return k;
}

fmt_src *fmt_kq_source(const fmt_kq *k) {
    return k->view;
}

size_t fmt_kq_count(const fmt_kq *k) {
    return k->n_jobs;
}

const fmt_kq_stats *fmt_kq_at(const fmt_kq *k, size_t i) {
    return i < k->n_jobs ? &k->jobs[i].stats : NULL;
}

const fmt_kq_stats *fmt_kq_stats_of(const fmt_src_tensor *t) {
    return t->read_raw == kq_read_raw ? &((const kq_job *)t->raw_ctx)->stats : NULL;
}

void fmt_kq_close(fmt_kq *k) {
    if (!k)
        return;
    fmt_src_close(k->view);
    for (size_t i = 0; k->jobs && i < k->n_jobs; i++)
        free(k->jobs[i].block_group);
    free(k->jobs);
    free(k);
}
