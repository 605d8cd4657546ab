/* dequant_test.c -- known answers for formats/dequant and its kernels: the
 * fp8 decodes (subnormals, max, NaN, infinity), FP8 scales broadcast over
 * ragged blocks, per channel and per tensor, GPTQ unpacking with the v1
 * "+1" zero convention, v2 zeros and an act-order g_idx, and the refusals
 * of bad checkpoints. The records are built in memory (fmt_src_create). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "dequant.h"
#include "kernels/kernels.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

/* A stored record of 1 or 2 dims (d1 == 0: one dim; d0 == 0: a scalar). */
static fmt_src_tensor rec(const char *name, int type, const char *dtype, int64_t d0, int64_t d1,
                          const void *data, size_t esize) {
    fmt_src_tensor t = {.name = name,
                        .type = type,
                        .dtype = dtype,
                        .n_dims = d0 == 0 ? 0
                                  : d1    ? 2
                                          : 1,
                        .shape = {d0, d1},
                        .data = data,
                        .file = "m.safetensors",
                        .read = fmt_src_read_stored};
    t.n_elements = (uint64_t)(d0 ? d0 : 1) * (uint64_t)(d1 ? d1 : 1);
    t.size = t.n_elements * esize;
    return t;
}

typedef struct {
    fmt_src *raw;
    fmt_dq *dq;
    gk_status st;
    char err[512];
} opened;

/* Open records t[0..n) under quantization_config cfg (JSON text). */
static opened open_dq(const fmt_src_tensor *t, uint64_t n, const char *cfg) {
    opened o = {0};
    json_t *q = json_loads(cfg, 0, NULL);
    ck_assert_ptr_nonnull(q);
    o.raw = fmt_src_create(t, n, &o.st);
    ck_assert_ptr_nonnull(o.raw);
    o.dq = fmt_dq_open(o.raw, q, "config.json", "quantization_config", &o.st, o.err, sizeof o.err);
    json_decref(q);
    return o;
}

static void close_dq(opened *o) {
    fmt_dq_close(o->dq);
    fmt_src_close(o->raw);
}

/* The whole of tensor name in the transformed set, as f32 (malloc'd). */
static float *read_all(const opened *o, const char *name) {
    const fmt_src_tensor *t = fmt_src_find(fmt_dq_source(o->dq), name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    float *v = malloc(t->n_elements * sizeof *v);
    ck_assert_ptr_nonnull(v);
    int64_t len = fmt_src_row_len(t);
    ck_assert_int_eq(fmt_src_read_rows(t, 0, (int64_t)t->n_elements / len, v), GK_OK);
    return v;
}

/* o failed with st and a message containing msg. */
static void expect_fail(opened *o, gk_status st, const char *msg) {
    ck_assert_ptr_null(o->dq);
    ck_assert_int_eq(o->st, st);
    ck_assert_msg(strstr(o->err, msg) != NULL, "'%s' lacks '%s'", o->err, msg);
    close_dq(o);
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int b = 0; b < 4; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

/* ------------------------------------------------------------------------ */
/* fp8 decodes                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(e4m3_known) {
    static const struct {
        uint8_t code;
        float want;
    } cases[] = {
        {0x00, 0.0f},        {0x01, 0x1p-9f}, /* smallest subnormal */
        {0x07, 7 * 0x1p-9f}, {0x08, 0x1p-6f}, /* largest subnormal, smallest normal */
        {0x38, 1.0f},        {0x3c, 1.5f},    {0xb8, -1.0f},
        {0x7e, 448.0f},      {0xfe, -448.0f}, /* max: e4m3fn has no infinity */
        {0x77, 240.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(kern_fp8_e4m3_to_fp32(cases[i].code) == cases[i].want, "0x%02x: %a",
                      cases[i].code, (double)kern_fp8_e4m3_to_fp32(cases[i].code));
    ck_assert(signbit(kern_fp8_e4m3_to_fp32(0x80)) && kern_fp8_e4m3_to_fp32(0x80) == 0);
    ck_assert(isnan(kern_fp8_e4m3_to_fp32(0x7f)) && isnan(kern_fp8_e4m3_to_fp32(0xff)));
    uint8_t all[256];
    float row[256];
    for (int c = 0; c < 256; c++)
        all[c] = (uint8_t)c;
    kern_fp8_e4m3_to_fp32_row(all, row, 256); /* the table agrees with the bit decode */
    for (int c = 0; c < 256; c++) {
        float one = kern_fp8_e4m3_to_fp32((uint8_t)c);
        ck_assert_msg(memcmp(&row[c], &one, 4) == 0 || (isnan(row[c]) && isnan(one)), "0x%02x", c);
        ck_assert(!!signbit(row[c]) == !!(c & 0x80));
    }
    for (unsigned c = 1; c < 0x7f; c++) { /* positive codes increase, negatives mirror them */
        ck_assert(kern_fp8_e4m3_to_fp32((uint8_t)c) > kern_fp8_e4m3_to_fp32((uint8_t)(c - 1)));
        ck_assert(kern_fp8_e4m3_to_fp32((uint8_t)(c | 0x80)) == -kern_fp8_e4m3_to_fp32((uint8_t)c));
    }
}
END_TEST

START_TEST(e5m2_known) {
    static const struct {
        uint8_t code;
        float want;
    } cases[] = {
        {0x01, 0x1p-16f}, {0x03, 3 * 0x1p-16f}, {0x04, 0x1p-14f}, {0x3c, 1.0f},      {0x3e, 1.5f},
        {0x7b, 57344.0f}, {0xfb, -57344.0f},    {0x7c, INFINITY}, {0xfc, -INFINITY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(kern_fp8_e5m2_to_fp32(cases[i].code) == cases[i].want, "0x%02x",
                      cases[i].code);
    ck_assert(isnan(kern_fp8_e5m2_to_fp32(0x7d)) && isnan(kern_fp8_e5m2_to_fp32(0x7f)));
    ck_assert(isnan(kern_fp8_e5m2_to_fp32(0xfe)));
    uint8_t all[256];
    float row[256];
    for (int c = 0; c < 256; c++)
        all[c] = (uint8_t)c;
    kern_fp8_e5m2_to_fp32_row(all, row, 256);
    for (int c = 0; c < 256; c++) {
        float one = kern_fp8_e5m2_to_fp32((uint8_t)c);
        ck_assert(memcmp(&row[c], &one, 4) == 0 || (isnan(row[c]) && isnan(one)));
    }
    /* e5m2 is the top byte of an IEEE half */
    for (unsigned c = 0; c < 0x7c; c++)
        ck_assert(kern_fp8_e5m2_to_fp32((uint8_t)c) == kern_fp16_to_fp32((uint16_t)(c << 8)));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* FP8 weights                                                                */
/* ------------------------------------------------------------------------ */

enum { R = 5, C = 7 };

/* Codes of a 5x7 weight: 1 + k/8 for k = (r*7 + c) % 8 (e4m3 0x38 + k). */
static void fp8_codes(uint8_t *w) {
    for (int i = 0; i < R * C; i++)
        w[i] = (uint8_t)(0x38 + i % 8);
}

/* Blocks of 2x4 over 5x7: a 3x2 scale whose last row and column cover
 * fewer elements (1 row, 3 columns). */
START_TEST(fp8_ragged_blocks) {
    uint8_t w[R * C];
    fp8_codes(w);
    float s[6] = {0.5f, 2.0f, 0.25f, 4.0f, 8.0f, 0.125f};
    float act = 1.0f;
    fmt_src_tensor t[] = {
        rec("a.weight", -1, "F8_E4M3", R, C, w, 1),
        rec("a.weight_scale_inv", KERN_TYPE_F32, "F32", 3, 2, s, 4),
        rec("a.input_activation_scale", KERN_TYPE_F32, "F32", 0, 0, &act, 4),
        rec("norm.weight", KERN_TYPE_F32, "F32", 1, 0, &act, 4),
    };
    opened o = open_dq(t, 4, "{\"quant_method\": \"fp8\", \"weight_block_size\": [2, 4]}");
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    fmt_src *src = fmt_dq_source(o.dq);
    ck_assert_uint_eq(fmt_src_n_tensors(src), 2); /* the scales leave the set */
    ck_assert_str_eq(fmt_src_tensor_at(src, 0)->name, "a.weight");
    ck_assert_str_eq(fmt_src_tensor_at(src, 1)->name, "norm.weight");
    ck_assert(!fmt_dq_appended(fmt_src_tensor_at(src, 0)));
    float *v = read_all(&o, "a.weight");
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) {
            float want = (1.0f + (float)((r * C + c) % 8) / 8) * s[(r / 2) * 2 + c / 4];
            ck_assert_msg(v[r * C + c] == want, "[%d][%d] %g != %g", r, c, (double)v[r * C + c],
                          (double)want);
        }
    /* row 4 col 6: code 0x38 + 34 % 8 = 1.25, block (2, 1) */
    ck_assert(v[4 * C + 6] == 1.25f * 0.125f);
    free(v);
    close_dq(&o);
}
END_TEST

/* Per channel ([R, 1] and compressed-tensors naming; [R] broadcasts the
 * same way, upstream unsqueezes it to [R, 1]) and per tensor ([]). */
START_TEST(fp8_channel_tensor) {
    uint8_t w[R * C];
    fp8_codes(w);
    float s[R] = {1.0f, 0.5f, 0.25f, 2.0f, 3.0f};
    static const char *const cfgs[] = {
        "{\"quant_method\": \"fp8\"}",
        "{\"quant_method\": \"compressed-tensors\", \"format\": \"float-quantized\", "
        "\"config_groups\": {\"g\": {\"weights\": {\"strategy\": \"channel\"}}}}",
    };
    for (int k = 0; k < 4; k++) {
        int ct = k == 1, scalar = k == 3;
        fmt_src_tensor t[] = {
            rec("a.weight", -1, "F8_E4M3", R, C, w, 1),
            rec(ct ? "a.weight_scale" : "a.weight_scale_inv", KERN_TYPE_F32, "F32", scalar ? 0 : R,
                k < 2, s, 4),
        };
        opened o = open_dq(t, 2, cfgs[ct]);
        ck_assert_msg(o.dq != NULL, "%d: %s", k, o.err);
        ck_assert_uint_eq(fmt_src_n_tensors(fmt_dq_source(o.dq)), 1);
        float *v = read_all(&o, "a.weight");
        for (int i = 0; i < R * C; i++)
            ck_assert(v[i] == (1.0f + (float)(i % 8) / 8) * s[scalar ? 0 : i / C]);
        free(v);
        close_dq(&o);
    }
}
END_TEST

/* An F8_E5M2 weight under quant_method fp8, and an I8 weight under
 * compressed-tensors int-quantized (channel): the same float(q) * s. */
START_TEST(fp8_e5m2_and_int8) {
    uint8_t w[R * C];
    int8_t w8[R * C];
    for (int i = 0; i < R * C; i++) {
        w[i] = (uint8_t)(0x3c + i % 4); /* 1, 1.25, 1.5, 1.75 */
        w8[i] = (int8_t)(i % 7 - 3);
    }
    float s[R] = {1.0f, 0.5f, 0.25f, 2.0f, 3.0f};
    fmt_src_tensor t5[] = {
        rec("a.weight", -1, "F8_E5M2", R, C, w, 1),
        rec("a.weight_scale_inv", KERN_TYPE_F32, "F32", R, 1, s, 4),
    };
    opened o = open_dq(t5, 2, "{\"quant_method\": \"fp8\"}");
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    float *v = read_all(&o, "a.weight");
    for (int i = 0; i < R * C; i++)
        ck_assert(v[i] == (1.0f + (float)(i % 4) / 4) * s[i / C]);
    free(v);
    close_dq(&o);
    fmt_src_tensor t8[] = {
        rec("a.weight", KERN_TYPE_I8, "I8", R, C, w8, 1),
        rec("a.weight_scale", KERN_TYPE_F32, "F32", R, 1, s, 4),
    };
    o = open_dq(t8, 2,
                "{\"quant_method\": \"compressed-tensors\", \"format\": \"int-quantized\", "
                "\"config_groups\": {\"g\": {\"weights\": {\"strategy\": \"channel\"}}}}");
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    v = read_all(&o, "a.weight");
    for (int i = 0; i < R * C; i++)
        ck_assert(v[i] == (float)(i % 7 - 3) * s[i / C]);
    free(v);
    close_dq(&o);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* GPTQ                                                                       */
/* ------------------------------------------------------------------------ */

enum { IN = 32, OUT = 16, GS = 8, GROUPS = IN / GS };

typedef struct {
    uint8_t qw[IN * OUT * 4], qz[GROUPS * OUT * 4];
    uint16_t sc[GROUPS * OUT];
    int32_t g_idx[IN];
    int q[IN][OUT], z[GROUPS][OUT];
} gptq_ck;

/* A checkpoint of `bits`: codes q[i][o] and stored zeros z[g][o] packed low
 * bits first (qweight down the inputs, qzeros along the outputs); scales
 * (g + 1) / 4 + o / 64, exact in f16; an act-order g_idx (input i in group
 * (5 i + 3) % GROUPS). */
static void gptq_make(gptq_ck *k, int bits) {
    int pf = 32 / bits, maxq = (1 << bits) - 1;
    memset(k, 0, sizeof *k);
    uint32_t qw[IN * OUT] = {0}, qz[GROUPS * OUT] = {0};
    for (int i = 0; i < IN; i++)
        for (int o = 0; o < OUT; o++) {
            k->q[i][o] = (i * 7 + o * 3) & maxq;
            qw[(i / pf) * OUT + o] |= (uint32_t)k->q[i][o] << (bits * (i % pf));
        }
    for (int g = 0; g < GROUPS; g++)
        for (int o = 0; o < OUT; o++) {
            k->z[g][o] = (g * 5 + o) % maxq; /* < maxq: + 1 stays in range */
            qz[g * (OUT / pf) + o / pf] |= (uint32_t)k->z[g][o] << (bits * (o % pf));
            k->sc[g * OUT + o] = kern_fp32_to_fp16((float)(g + 1) / 4 + (float)o / 64);
        }
    for (int i = 0; i < IN * OUT; i++)
        put_u32(k->qw + 4 * i, qw[i]);
    for (int i = 0; i < GROUPS * OUT; i++)
        put_u32(k->qz + 4 * i, qz[i]);
    for (int i = 0; i < IN; i++)
        k->g_idx[i] = (5 * i + 3) % GROUPS;
}

static opened gptq_open(gptq_ck *k, int bits, const char *format, int with_gidx) {
    int pf = 32 / bits;
    float norm = 1;
    fmt_src_tensor t[] = {
        rec("l.g_idx", KERN_TYPE_I32, "I32", IN, 0, k->g_idx, 4),
        rec("l.qweight", KERN_TYPE_I32, "I32", IN / pf, OUT, k->qw, 4),
        rec("l.qzeros", KERN_TYPE_I32, "I32", GROUPS, OUT / pf, k->qz, 4),
        rec("l.scales", KERN_TYPE_F16, "F16", GROUPS, OUT, k->sc, 2),
        rec("norm.weight", KERN_TYPE_F32, "F32", 1, 0, &norm, 4),
    };
    char cfg[256];
    snprintf(cfg, sizeof cfg,
             "{\"quant_method\": \"gptq\", \"bits\": %d, \"group_size\": %d, "
             "\"checkpoint_format\": \"%s\"}",
             bits, GS, format);
    return open_dq(t + !with_gidx, 5 - !with_gidx, cfg);
}

/* w[o][i] = scale[g][o] * (q[i][o] - (z[g][o] + 1)), g = g_idx[i], for v1
 * ("gptq"); without the + 1 for gptq_v2. */
START_TEST(gptq_unpack) {
    static gptq_ck k;
    static const int bits[] = {2, 4, 8};
    for (size_t b = 0; b < 3; b++)
        for (int v2 = 0; v2 < 2; v2++) {
            gptq_make(&k, bits[b]);
            opened o = gptq_open(&k, bits[b], v2 ? "gptq_v2" : "gptq", 1);
            ck_assert_msg(o.dq != NULL, "%s", o.err);
            fmt_src *src = fmt_dq_source(o.dq);
            ck_assert_uint_eq(fmt_src_n_tensors(src), 2);
            const fmt_src_tensor *w = fmt_src_tensor_at(src, 1); /* appended after the rest */
            ck_assert_str_eq(w->name, "l.weight");
            ck_assert(fmt_dq_appended(w));
            ck_assert_int_eq(w->shape[0], OUT);
            ck_assert_int_eq(w->shape[1], IN);
            float *v = read_all(&o, "l.weight");
            for (int oo = 0; oo < OUT; oo++)
                for (int i = 0; i < IN; i++) {
                    int g = k.g_idx[i];
                    float s = kern_fp16_to_fp32(k.sc[g * OUT + oo]);
                    float want = s * (float)(k.q[i][oo] - k.z[g][oo] - !v2);
                    ck_assert_msg(v[oo * IN + i] == want, "%d bits v%d [%d][%d]", bits[b], v2 + 1,
                                  oo, i);
                }
            if (bits[b] == 4 && !v2) {
                /* by hand: o 1, i 2: q 17 & 15 = 1, g 13 % 4 = 1, z 6 + 1, s 0.5 + 1/64 */
                ck_assert(v[1 * IN + 2] == (0.5f + 1.0f / 64) * (1 - 7));
            }
            free(v);
            close_dq(&o);
        }
}
END_TEST

/* Without g_idx, input i is in group i / group_size. */
START_TEST(gptq_no_gidx) {
    static gptq_ck k;
    gptq_make(&k, 4);
    opened o = gptq_open(&k, 4, "gptq", 0);
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    float *v = read_all(&o, "l.weight");
    for (int i = 0; i < IN; i++) {
        int g = i / GS;
        ck_assert(v[i] == kern_fp16_to_fp32(k.sc[g * OUT]) * (float)(k.q[i][0] - k.z[g][0] - 1));
    }
    free(v);
    close_dq(&o);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* AWQ GEMM                                                                   */
/* ------------------------------------------------------------------------ */

/* AutoAWQ's pack order (WQLinear_GEMM.from_linear): nibble f of each int32
 * holds column AWQ_ORDER[f] of its 8. */
static const int awq_order[8] = {0, 2, 4, 6, 1, 3, 5, 7};

/* One word 0x76543210 (nibble f = f), zeros 0, scale 1: column c of the 8
 * reads the nibble that holds it, giving 0 4 1 5 2 6 3 7. */
START_TEST(awq_interleave) {
    uint8_t qw[4], qz[4] = {0};
    uint16_t sc[8];
    put_u32(qw, 0x76543210u);
    for (int o = 0; o < 8; o++)
        sc[o] = kern_fp32_to_fp16(1.0f);
    fmt_src_tensor t[] = {
        rec("l.qweight", KERN_TYPE_I32, "I32", 1, 1, qw, 4),
        rec("l.qzeros", KERN_TYPE_I32, "I32", 1, 1, qz, 4),
        rec("l.scales", KERN_TYPE_F16, "F16", 1, 8, sc, 2),
    };
    opened o = open_dq(t, 3,
                       "{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 1, "
                       "\"version\": \"gemm\", \"zero_point\": true}");
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    float *v = read_all(&o, "l.weight"); /* [8, 1] */
    static const float want[8] = {0, 4, 1, 5, 2, 6, 3, 7};
    for (int c = 0; c < 8; c++)
        ck_assert_msg(v[c] == want[c], "column %d: %g", c, (double)v[c]);
    ck_assert(fmt_dq_appended(fmt_src_find(fmt_dq_source(o.dq), "l.weight")));
    free(v);
    close_dq(&o);
}
END_TEST

/* w[o][i] = scale[g][o] * (q[i][o] - z[g][o]), g = i / group_size, no "+1",
 * with codes packed as AutoAWQ packs them. */
START_TEST(awq_unpack) {
    enum { AIN = 24, AOUT = 16, AGS = 8, AG = AIN / AGS, W = AOUT / 8 };
    uint8_t qw[AIN * W * 4], qz[AG * W * 4];
    uint16_t sc[AG * AOUT];
    int q[AIN][AOUT], z[AG][AOUT];
    for (int i = 0; i < AIN; i++)
        for (int o = 0; o < AOUT; o++)
            q[i][o] = (i * 5 + o * 11) & 15;
    for (int g = 0; g < AG; g++)
        for (int o = 0; o < AOUT; o++) {
            z[g][o] = (g * 3 + o * 7) & 15;
            sc[g * AOUT + o] = kern_fp32_to_fp16(0.125f * (float)(g + 1) + (float)o / 256);
        }
    for (int w = 0; w < W; w++) {
        for (int i = 0; i < AIN; i++) {
            uint32_t word = 0;
            for (int f = 0; f < 8; f++)
                word |= (uint32_t)q[i][w * 8 + awq_order[f]] << (4 * f);
            put_u32(qw + 4 * (i * W + w), word);
        }
        for (int g = 0; g < AG; g++) {
            uint32_t word = 0;
            for (int f = 0; f < 8; f++)
                word |= (uint32_t)z[g][w * 8 + awq_order[f]] << (4 * f);
            put_u32(qz + 4 * (g * W + w), word);
        }
    }
    fmt_src_tensor t[] = {
        rec("l.qweight", KERN_TYPE_I32, "I32", AIN, W, qw, 4),
        rec("l.qzeros", KERN_TYPE_I32, "I32", AG, W, qz, 4),
        rec("l.scales", KERN_TYPE_F16, "F16", AG, AOUT, sc, 2),
    };
    opened o = open_dq(t, 3, "{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 8}");
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    const fmt_src_tensor *wt = fmt_src_find(fmt_dq_source(o.dq), "l.weight");
    ck_assert_int_eq(wt->shape[0], AOUT);
    ck_assert_int_eq(wt->shape[1], AIN);
    float *v = read_all(&o, "l.weight");
    for (int oo = 0; oo < AOUT; oo++)
        for (int i = 0; i < AIN; i++) {
            float s = kern_fp16_to_fp32(sc[(i / AGS) * AOUT + oo]);
            ck_assert(v[oo * AIN + i] == s * (float)(q[i][oo] - z[i / AGS][oo]));
        }
    /* by hand: o 3, i 9: q 78 & 15 = 14, g 1, z 24 & 15 = 8, s 0.25 + 3/256 */
    ck_assert(v[3 * AIN + 9] == (0.25f + 3.0f / 256) * 6);
    free(v);
    close_dq(&o);
    o = open_dq(t, 3,
                "{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 8, "
                "\"version\": \"gemv\"}");
    expect_fail(&o, GK_E_UNSUPPORTED, "version 'gemv' of awq is not supported");
    o = open_dq(t, 3, "{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 16}");
    expect_fail(&o, GK_E_FORMAT,
                "has 3 groups, but config.json: quantization_config.group_size 16");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* compressed-tensors pack-quantized                                          */
/* ------------------------------------------------------------------------ */

/* A 10x12 weight of 4-bit codes in groups of 4 (3 groups): the last pack of
 * each row holds 4 padding codes, and the zero points' second row of packs
 * 6 padding outputs, both trimmed as dequant_packed trims them. */
START_TEST(pack_quantized) {
    enum { PO = 10, PI = 12, PG = 4, NG = PI / PG };
    uint8_t pk[PO * 2 * 4] = {0}, zp[2 * NG * 4] = {0};
    uint32_t pw[PO * 2] = {0}, zw[2 * NG] = {0};
    uint16_t sc[PO * NG];
    uint8_t shp[16];
    int q[PO][PI], z[PO][NG];
    for (int o = 0; o < PO; o++) {
        for (int i = 0; i < PI; i++) {
            q[o][i] = (o * 3 + i * 5) & 15;
            pw[o * 2 + i / 8] |= (uint32_t)q[o][i] << (4 * (i % 8));
        }
        for (int g = 0; g < NG; g++) {
            z[o][g] = (o + 2 * g) & 15;
            zw[(o / 8) * NG + g] |= (uint32_t)z[o][g] << (4 * (o % 8));
            sc[o * NG + g] = kern_fp32_to_fp16(0.5f + (float)g / 4 + (float)o / 64);
        }
    }
    for (int k = 0; k < PO * 2; k++)
        put_u32(pk + 4 * k, pw[k]);
    for (int k = 0; k < 2 * NG; k++)
        put_u32(zp + 4 * k, zw[k]);
    memset(shp, 0, sizeof shp);
    shp[0] = PO;
    shp[8] = PI;
    static const char cfg[] =
        "{\"quant_method\": \"compressed-tensors\", \"format\": \"pack-quantized\", "
        "\"config_groups\": {\"group_0\": {\"weights\": {\"num_bits\": 4, \"type\": \"int\", "
        "\"strategy\": \"group\", \"group_size\": 4}}}}";
    for (int asym = 0; asym < 2; asym++) {
        fmt_src_tensor t[] = {
            rec("l.weight_packed", KERN_TYPE_I32, "I32", PO, 2, pk, 4),
            rec("l.weight_scale", KERN_TYPE_F16, "F16", PO, NG, sc, 2),
            rec("l.weight_shape", KERN_TYPE_I64, "I64", 2, 0, shp, 8),
            rec("l.weight_zero_point", KERN_TYPE_I32, "I32", 2, NG, zp, 4),
        };
        opened o = open_dq(t, 3 + asym, cfg);
        ck_assert_msg(o.dq != NULL, "%s", o.err);
        ck_assert_uint_eq(fmt_src_n_tensors(fmt_dq_source(o.dq)), 1);
        const fmt_src_tensor *w = fmt_src_tensor_at(fmt_dq_source(o.dq), 0);
        ck_assert_str_eq(w->name, "l.weight");
        ck_assert(fmt_dq_appended(w));
        ck_assert_int_eq(w->shape[0], PO);
        ck_assert_int_eq(w->shape[1], PI);
        float *v = read_all(&o, "l.weight");
        for (int oo = 0; oo < PO; oo++)
            for (int i = 0; i < PI; i++) {
                int zz = asym ? z[oo][i / PG] : 8; /* symmetric: the zero is 2^(bits-1) */
                float want = (float)(q[oo][i] - zz) * kern_fp16_to_fp32(sc[oo * NG + i / PG]);
                ck_assert_msg(v[oo * PI + i] == want, "asym %d [%d][%d]", asym, oo, i);
            }
        /* by hand: o 9, i 11: q 82 & 15 = 2, g 2, z 13, s 1 + 9/64 */
        if (asym)
            ck_assert(v[9 * PI + 11] == -11 * (1.0f + 9.0f / 64));
        free(v);
        close_dq(&o);
    }
    shp[8] = 20; /* a shape that does not match the packs (20 inputs need 3) */
    fmt_src_tensor t[] = {
        rec("l.weight_packed", KERN_TYPE_I32, "I32", PO, 2, pk, 4),
        rec("l.weight_scale", KERN_TYPE_F16, "F16", PO, NG, sc, 2),
        rec("l.weight_shape", KERN_TYPE_I64, "I64", 2, 0, shp, 8),
    };
    opened o = open_dq(t, 3, cfg);
    expect_fail(&o, GK_E_FORMAT, "'l.weight_shape' says [10, 20]");
    shp[8] = PI;
    o = open_dq(t, 2, cfg);
    expect_fail(&o, GK_E_FORMAT, "tensor 'l.weight_packed': missing 'l.weight_shape'");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Refusals                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(refusals) {
    static gptq_ck k;
    gptq_make(&k, 4);
    k.g_idx[9] = GROUPS;
    opened o = gptq_open(&k, 4, "gptq", 1);
    expect_fail(&o, GK_E_FORMAT, "tensor 'l.g_idx': g_idx[9] is 4, not a group (0..3)");

    gptq_make(&k, 4);
    k.sc[5] = 0x7e00; /* f16 NaN */
    o = gptq_open(&k, 4, "gptq", 1);
    expect_fail(&o, GK_E_FORMAT, "tensor 'l.scales': scale 5 is NaN");

    gptq_make(&k, 4);
    o = gptq_open(&k, 4, "gptq_v3", 1);
    expect_fail(&o, GK_E_UNSUPPORTED, "checkpoint_format 'gptq_v3'");

    uint8_t w[R * C];
    fp8_codes(w);
    float s[6] = {1, 1, 1, 1, 1, INFINITY};
    fmt_src_tensor t[] = {
        rec("a.weight", -1, "F8_E4M3", R, C, w, 1),
        rec("a.weight_scale_inv", KERN_TYPE_F32, "F32", 3, 2, s, 4),
    };
    o = open_dq(t, 2, "{\"quant_method\": \"fp8\", \"weight_block_size\": [2, 4]}");
    expect_fail(&o, GK_E_FORMAT, "tensor 'a.weight_scale_inv': scale 5 is infinite");
    o = open_dq(t, 2, "{\"quant_method\": \"fp8\", \"weight_block_size\": [4, 4]}");
    expect_fail(&o, GK_E_FORMAT, "has the wrong shape for weight 'a.weight'");
    o = open_dq(t, 1, "{\"quant_method\": \"fp8\"}");
    expect_fail(&o, GK_E_FORMAT, "is F8_E4M3: missing 'a.weight_scale_inv'");
    o = open_dq(t, 2, "{\"quant_method\": \"mxfp4\"}");
    expect_fail(&o, GK_E_UNSUPPORTED, "MXFP4");
    fmt_src_tensor one_d[] = {
        rec("n.weight", -1, "F8_E4M3", 7, 0, w, 1),
        rec("n.weight_scale_inv", KERN_TYPE_F32, "F32", 1, 0, s, 4),
    };
    o = open_dq(one_d, 2, "{\"quant_method\": \"fp8\"}");
    expect_fail(&o, GK_E_UNSUPPORTED, "tensor 'n.weight': a scaled 1-D weight is not supported");
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("dequant");
    TCase *tc = tcase_create("dequant");
    UNIT_ADD_TESTS(tc, e4m3_known, e5m2_known, fp8_ragged_blocks, fp8_channel_tensor,
                   fp8_e5m2_and_int8, gptq_unpack, gptq_no_gidx, awq_interleave, awq_unpack,
                   pack_quantized, refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    kern_init();
    return unit_run(suite());
}
