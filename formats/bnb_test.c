/* bnb_test.c -- known answers for formats/bnb, built from bitsandbytes'
 * published layout (bitsandbytes-foundation/bitsandbytes: functional.py
 * get_4bit_type for the NF4 and FP4 code books and QuantState.as_dict for
 * the parts and the quant_state JSON; backends/default/ops.py
 * dequantize_4bit for the nibble order, high nibble first, and blocks over
 * the flattened weight; dequantize_blockwise for the nested absmax, plus
 * nested_offset; _ops.py int8_vectorwise_dequant for LLM.int8, q * SCB *
 * 7.874015718698502e-3), and the refusals of bad parts. Records are built
 * in memory (fmt_src_create) and read through formats/dequant, which hands
 * quant_method "bitsandbytes" to formats/bnb. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "dequant.h"
#include "kernels/kernels.h"
#include "tests/unit.h"

/* get_4bit_type("nf4"): the normal-quantile code book of QLoRA. */
static const float NF4[16] = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

/* get_4bit_type("fp4"): e2m1 values in bit-pattern order, over their max 12. */
static const float FP4_RAW[16] = {0,     0.0625f,  8,  12,  4,  6,  2,  3,
                                  -0.0f, -0.0625f, -8, -12, -4, -6, -2, -3};

static fmt_src_tensor rec(const char *name, int type, const char *dtype, int64_t d0, int64_t d1,
                          const void *data, size_t esize) {
    fmt_src_tensor t = {.name = name,
                        .type = type,
                        .dtype = dtype,
                        .n_dims = d1 ? 2 : 1,
                        .shape = {d0, d1},
                        .data = data,
                        .file = "m.safetensors",
                        .read = fmt_src_read_stored};
    t.n_elements = (uint64_t)d0 * (uint64_t)(d1 ? d1 : 1);
    t.size = t.n_elements * esize;
    return t;
}

typedef struct {
    fmt_src *raw;
    fmt_dq *dq;
    gk_status st;
    char err[512];
} opened;

static const char *CFG = "{\"quant_method\": \"bitsandbytes\", \"load_in_4bit\": true, "
                         "\"bnb_4bit_quant_type\": \"nf4\"}";

static opened open_bnb(const fmt_src_tensor *t, uint64_t n, const char *cfg) {
    opened o = {0};
    json_t *q = cfg ? json_loads(cfg, 0, NULL) : NULL;
    o.raw = fmt_src_create(t, n, &o.st);
    ck_assert_ptr_nonnull(o.raw);
    o.dq = fmt_dq_open(o.raw, q, "config.json", "quantization_config", &o.st, o.err, sizeof o.err);
    json_decref(q);
    return o;
}

static void close_bnb(opened *o) {
    fmt_dq_close(o->dq);
    fmt_src_close(o->raw);
}

static void expect_fail(opened *o, gk_status st, const char *msg) {
    ck_assert_ptr_null(o->dq);
    ck_assert_int_eq(o->st, st);
    ck_assert_msg(strstr(o->err, msg) != NULL, "'%s' lacks '%s'", o->err, msg);
    close_bnb(o);
}

static float *read_weight(const opened *o, const char *name, int64_t rows, int64_t cols) {
    const fmt_src_tensor *t = fmt_src_find(fmt_dq_source(o->dq), name);
    ck_assert_msg(t != NULL, "no %s", name);
    ck_assert_int_eq(t->type, KERN_TYPE_F32);
    ck_assert_int_eq(t->shape[0], rows);
    ck_assert_int_eq(t->shape[1], cols);
    float *v = malloc((size_t)(rows * cols) * sizeof *v);
    ck_assert_int_eq(fmt_src_read_rows(t, 0, rows, v), GK_OK);
    return v;
}

/* The checkpoint of one NF4/FP4 weight l.weight [2, 64], blocksize 64. */
typedef struct {
    uint8_t q[64];
    float absmax[2], map[16];
    char state[256];
    float norm;
} four;

static void four_make(four *f, const char *qtype, const char *dtype) {
    for (int k = 0; k < 64; k++) /* value 2k: code 2k % 16 (high nibble), 2k+1: the next */
        f->q[k] = (uint8_t)((2 * k % 16) << 4 | (2 * k + 1) % 16);
    f->absmax[0] = 2.0f;
    f->absmax[1] = 0.5f;
    for (int c = 0; c < 16; c++)
        f->map[c] = strcmp(qtype, "nf4") ? FP4_RAW[c] / 12.0f : NF4[c];
    snprintf(f->state, sizeof f->state,
             "{\"quant_type\": \"%s\", \"blocksize\": 64, \"dtype\": \"%s\", \"shape\": [2, 64]}",
             qtype, dtype);
    f->norm = 1;
}

static opened four_open(four *f, const char *qtype) {
    char sname[64];
    static char keep[64];
    snprintf(sname, sizeof sname, "l.weight.quant_state.bitsandbytes__%s", qtype);
    memcpy(keep, sname, sizeof keep);
    fmt_src_tensor t[] = {
        rec("l.weight", -1, "U8", 64, 1, f->q, 1),
        rec("l.weight.absmax", KERN_TYPE_F32, "F32", 2, 0, f->absmax, 4),
        rec("l.weight.quant_map", KERN_TYPE_F32, "F32", 16, 0, f->map, 4),
        rec(keep, -1, "U8", (int64_t)strlen(f->state), 0, f->state, 1),
        rec("norm.weight", KERN_TYPE_F32, "F32", 1, 0, &f->norm, 4),
    };
    return open_bnb(t, 5, CFG);
}

/* NF4, f32: w[k] = NF4[k % 16] * absmax[k / 64]; the parts leave the set. */
START_TEST(nf4_known) {
    static four f;
    four_make(&f, "nf4", "float32");
    opened o = four_open(&f, "nf4");
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    ck_assert_uint_eq(fmt_src_n_tensors(fmt_dq_source(o.dq)), 2);
    float *w = read_weight(&o, "l.weight", 2, 64);
    ck_assert(w[0] == -2.0f);     /* code 0, block 0 */
    ck_assert(w[15] == 2.0f);     /* code 15 */
    ck_assert(w[64 + 7] == 0.0f); /* code 7, block 1 */
    ck_assert(w[64 + 8] == 0.07958029955625534f * 0.5f);
    for (int k = 0; k < 128; k++)
        ck_assert(w[k] == NF4[k % 16] * f.absmax[k / 64]);
    free(w);
    close_bnb(&o);
}
END_TEST

/* dtype bfloat16: each value is the f32 product rounded to bf16. */
START_TEST(nf4_bf16) {
    static four f;
    four_make(&f, "nf4", "bfloat16");
    opened o = four_open(&f, "nf4");
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    float *w = read_weight(&o, "l.weight", 2, 64);
    float want = kern_bf16_to_fp32(kern_fp32_to_bf16(-0.6961928009986877f * 2.0f));
    ck_assert(w[1] == want);
    ck_assert(w[1] != -0.6961928009986877f * 2.0f); /* the rounding happened */
    free(w);
    close_bnb(&o);
}
END_TEST

/* FP4 with a nested absmax: 4 blocks of 64 over [4, 64], absmax codes into
 * a 256-entry map (i / 255) times nested_absmax per 2 blocks, plus 0.25. */
START_TEST(fp4_nested) {
    static uint8_t q[128], acodes[4] = {255, 128, 255, 0};
    static float map[16], nabs[2] = {1.0f, 4.0f}, nmap[256];
    for (int k = 0; k < 128; k++)
        q[k] = (uint8_t)((2 * k % 16) << 4 | (2 * k + 1) % 16);
    for (int c = 0; c < 16; c++)
        map[c] = FP4_RAW[c] / 12.0f;
    for (int i = 0; i < 256; i++)
        nmap[i] = (float)i / 255.0f;
    const char *state = "{\"quant_type\": \"fp4\", \"blocksize\": 64, \"dtype\": \"float32\", "
                        "\"shape\": [4, 64], \"nested_blocksize\": 2, \"nested_dtype\": "
                        "\"float32\", \"nested_offset\": 0.25}";
    fmt_src_tensor t[] = {
        rec("l.weight", -1, "U8", 128, 1, q, 1),
        rec("l.weight.absmax", -1, "U8", 4, 0, acodes, 1),
        rec("l.weight.quant_map", KERN_TYPE_F32, "F32", 16, 0, map, 4),
        rec("l.weight.nested_absmax", KERN_TYPE_F32, "F32", 2, 0, nabs, 4),
        rec("l.weight.nested_quant_map", KERN_TYPE_F32, "F32", 256, 0, nmap, 4),
        rec("l.weight.quant_state.bitsandbytes__fp4", -1, "U8", (int64_t)strlen(state), 0, state,
            1),
    };
    opened o = open_bnb(t, 6, CFG);
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    ck_assert_uint_eq(fmt_src_n_tensors(fmt_dq_source(o.dq)), 1);
    float *w = read_weight(&o, "l.weight", 4, 64);
    const float absmax[4] = {1.0f * 1.0f + 0.25f, 128.0f / 255.0f * 1.0f + 0.25f,
                             1.0f * 4.0f + 0.25f, 0.0f * 4.0f + 0.25f};
    ck_assert(w[3] == 1.25f);             /* code 3: 12 / 12 */
    ck_assert(w[128 + 11] == -4.25f);     /* code 11: -12 / 12, block 2 */
    ck_assert(w[192 + 1] == 0.25f / 192); /* code 1: 0.0625 / 12 = 1/192, block 3 */
    for (int k = 0; k < 256; k++)
        ck_assert_msg(w[k] == FP4_RAW[k % 16] / 12.0f * absmax[k / 64], "value %d", k);
    free(w);
    close_bnb(&o);
}
END_TEST

/* LLM.int8: w[o][i] = q * SCB[o] * 7.874015718698502e-3f; weight_format
 * (row, 0) and SCB leave the set. */
START_TEST(int8_known) {
    static const int8_t q[6] = {-127, 0, 127, 1, -1, 64};
    static const float scb[2] = {2.54f, 1.0f};
    static const uint8_t fmt = 0;
    fmt_src_tensor t[] = {
        rec("l.weight", KERN_TYPE_I8, "I8", 2, 3, q, 1),
        rec("l.SCB", KERN_TYPE_F32, "F32", 2, 0, scb, 4),
        rec("l.weight_format", -1, "U8", 1, 0, &fmt, 1),
    };
    opened o = open_bnb(t, 3, "{\"quant_method\": \"bitsandbytes\", \"load_in_8bit\": true}");
    ck_assert_msg(o.dq != NULL, "%s", o.err);
    ck_assert_uint_eq(fmt_src_n_tensors(fmt_dq_source(o.dq)), 1);
    float *w = read_weight(&o, "l.weight", 2, 3);
    for (int k = 0; k < 6; k++)
        ck_assert(w[k] == (float)q[k] * scb[k / 3] * 7.874015718698502e-3f);
    ck_assert(fabsf(w[0] + 2.54f) < 1e-6f && fabsf(w[5] - 64.0f / 127) < 1e-6f);
    free(w);
    close_bnb(&o);
    static const uint8_t col32 = 1;
    t[2] = rec("l.weight_format", -1, "U8", 1, 0, &col32, 1);
    o = open_bnb(t, 3, "{\"quant_method\": \"bitsandbytes\", \"load_in_8bit\": true}");
    expect_fail(&o, GK_E_UNSUPPORTED, "only the 'row' weight format");
}
END_TEST

START_TEST(refusals) {
    static four f;
    four_make(&f, "nf4", "float32");
    fmt_src_tensor t[] = {
        rec("l.weight", -1, "U8", 64, 1, f.q, 1),
        rec("l.weight.absmax", KERN_TYPE_F32, "F32", 2, 0, f.absmax, 4),
        rec("l.weight.quant_map", KERN_TYPE_F32, "F32", 16, 0, f.map, 4),
        rec("l.weight.quant_state.bitsandbytes__nf4", -1, "U8", (int64_t)strlen(f.state), 0,
            f.state, 1),
    };
    opened o = open_bnb(t + 1, 3, CFG);
    expect_fail(&o, GK_E_FORMAT,
                "tensor 'l.weight.quant_state.bitsandbytes__nf4': missing 'l.weight'");
    fmt_src_tensor no_absmax[] = {t[0], t[2], t[3]};
    o = open_bnb(no_absmax, 3, CFG);
    expect_fail(&o, GK_E_FORMAT, "missing 'l.weight.absmax'");
    fmt_src_tensor short_absmax[] = {
        t[0], rec("l.weight.absmax", KERN_TYPE_F32, "F32", 1, 0, f.absmax, 4), t[2], t[3]};
    o = open_bnb(short_absmax, 4, CFG);
    expect_fail(&o, GK_E_FORMAT, "'l.weight.absmax' has dtype F32 and 1 values (want F32, 2)");
    fmt_src_tensor short_q[] = {rec("l.weight", -1, "U8", 63, 1, f.q, 1), t[1], t[2], t[3]};
    o = open_bnb(short_q, 4, CFG);
    expect_fail(&o, GK_E_FORMAT, "63 bytes (want U8, 64 for shape [2, 64])");
    f.absmax[1] = NAN;
    o = open_bnb(t, 4, CFG);
    expect_fail(&o, GK_E_FORMAT, "tensor 'l.weight.absmax': value 1 is NaN");
    f.absmax[1] = 0.5f;
    static const char bad_json[] = "{\"quant_type\": \"nf4\", \"blocksize\": 64";
    t[3] = rec("l.weight.quant_state.bitsandbytes__nf4", -1, "U8", (int64_t)strlen(bad_json), 0,
               bad_json, 1);
    o = open_bnb(t, 4, CFG);
    expect_fail(&o, GK_E_FORMAT, "is not a JSON object");
    static const char fp4_json[] =
        "{\"quant_type\": \"fp4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [2, 64]}";
    t[3] = rec("l.weight.quant_state.bitsandbytes__nf4", -1, "U8", (int64_t)strlen(fp4_json), 0,
               fp4_json, 1);
    o = open_bnb(t, 4, CFG);
    expect_fail(&o, GK_E_FORMAT, "quant_type is not 'nf4'");
    static const char no_bs[] =
        "{\"quant_type\": \"nf4\", \"dtype\": \"float32\", \"shape\": [2, 64]}";
    t[3] = rec("l.weight.quant_state.bitsandbytes__nf4", -1, "U8", (int64_t)strlen(no_bs), 0, no_bs,
               1);
    o = open_bnb(t, 4, CFG);
    expect_fail(&o, GK_E_FORMAT, "blocksize is missing or not a positive integer");
    t[3] = rec("l.weight.quant_state.bitsandbytes__nf4", -1, "U8", (int64_t)strlen(f.state), 0,
               f.state, 1);
    o = open_bnb(t, 4, NULL); /* bitsandbytes tensors without a config */
    expect_fail(&o, GK_E_FORMAT,
                "is bitsandbytes-quantized but config.json has no quantization_config");
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("bnb");
    TCase *tc = tcase_create("bnb");
    UNIT_ADD_TESTS(tc, nf4_known, nf4_bf16, fp4_nested, int8_known, refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    kern_init();
    return unit_run(suite());
}
