/* keepquant_test.c -- formats/keepquant: known-answer blocks (a GPTQ group
 * of 32 codes -> the Q4_0, Q4_1 and Q8_0 bytes worked out by hand from
 * ggml-common.h's layouts), the blocks that cannot be exact, and the
 * lossless property: over GPTQ checkpoints of 2, 4 and 8 bits, symmetric or
 * not, with or without act-order, every block counted exact dequantizes
 * (kernels' to_float_ref, ggml's dequantize_row_*) to the bit-identical f32
 * values formats/dequant gives (convert_hf_to_gguf.py's), and the others
 * are the reference quantizer's blocks of those values. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "dequant.h"
#include "keepquant.h"
#include "kernels/kernels.h"
#include "tests/unit.h"

static void put_u32(uint8_t *p, uint32_t v) {
    for (int b = 0; b < 4; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

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

/* ------------------------------------------------------------------------ */
/* Known answers                                                              */
/* ------------------------------------------------------------------------ */

/* Codes j % 16 (j = 0..31), scale 0.5 (fp16 0x3800), zero 8 (GPTQ v1
 * stores 7): Q4_0 x = q, qs[j] = x[j] | x[j+16] << 4 = 0x11 * j. */
START_TEST(q4_0_known) {
    uint8_t q[32], blk[18];
    for (int j = 0; j < 32; j++)
        q[j] = (uint8_t)(j % 16);
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_0, 4, q, 0.5f, 8, blk), 1);
    ck_assert_int_eq(blk[0], 0x00);
    ck_assert_int_eq(blk[1], 0x38);
    for (int j = 0; j < 16; j++)
        ck_assert_int_eq(blk[2 + j], 0x11 * j);
    float y[32];
    kern_type_info(KERN_TYPE_Q4_0)->to_float_ref(blk, y, 32);
    for (int j = 0; j < 32; j++)
        ck_assert(y[j] == 0.5f * (float)(q[j] - 8));
    /* 2-bit codes, zero 2: x = q - 2 + 8 */
    for (int j = 0; j < 32; j++)
        q[j] = (uint8_t)(j % 4);
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_0, 2, q, -0.25f, 2, blk), 1);
    ck_assert_int_eq(blk[0] | blk[1] << 8, 0xb400); /* -0.25 */
    ck_assert_int_eq(blk[2], 6 | 6 << 4);
    ck_assert_int_eq(blk[3], 7 | 7 << 4);
    ck_assert_int_eq(blk[5], 9 | 9 << 4);
}
END_TEST

/* Asymmetric: scale 0.25 (0x3400), zero 3: m = -0.75 (0xba00), x = q. */
START_TEST(q4_1_known) {
    uint8_t q[32], blk[20];
    for (int j = 0; j < 32; j++)
        q[j] = (uint8_t)(15 - j % 16);
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_1, 4, q, 0.25f, 3, blk), 1);
    ck_assert_int_eq(blk[0] | blk[1] << 8, 0x3400);
    ck_assert_int_eq(blk[2] | blk[3] << 8, 0xba00);
    for (int j = 0; j < 16; j++)
        ck_assert_int_eq(blk[4 + j], (15 - j) * 0x11);
    float y[32];
    kern_type_info(KERN_TYPE_Q4_1)->to_float_ref(blk, y, 32);
    for (int j = 0; j < 32; j++)
        ck_assert(y[j] == 0.25f * (float)(q[j] - 3));
}
END_TEST

/* 8-bit symmetric: zero 128, qs = q - 128 as int8. */
START_TEST(q8_0_known) {
    uint8_t q[32], blk[34];
    for (int j = 0; j < 32; j++)
        q[j] = (uint8_t)(j * 8);
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q8_0, 8, q, 2.0f, 128, blk), 1);
    ck_assert_int_eq(blk[0] | blk[1] << 8, 0x4000);
    ck_assert_int_eq(blk[2], 0x80); /* -128 */
    ck_assert_int_eq(blk[2 + 16], 0x00);
    ck_assert_int_eq(blk[2 + 31], 248 - 128);
}
END_TEST

/* Blocks that would not dequantize exactly are refused. */
START_TEST(not_exact) {
    uint8_t q[32] = {0}, blk[34];
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_0, 4, q, 0.1f, 8, blk), 0);  /* not fp16 */
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_0, 4, q, 0.5f, 7, blk), 0);  /* 15 - 7 + 8 > 15 */
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_0, 4, q, 0.5f, 9, blk), 0);  /* 0 - 9 + 8 < 0 */
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_1, 4, q, -0.5f, 3, blk), 0); /* sign of 0 */
    /* 0x1.004p-1 * 3: 12 significant bits, not an fp16 */
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_1, 4, q, 0x1.004p-1f, 3, blk), 0);
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_1, 4, q, 0x1.004p-1f, 4, blk), 1); /* * 4 is */
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q8_0, 8, q, 1.0f, 129, blk), 0);
    ck_assert_int_eq(fmt_kq_block(KERN_TYPE_Q4_0, 8, q, 1.0f, 128, blk), 0); /* 8 bits */
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The lossless property over whole checkpoints                               */
/* ------------------------------------------------------------------------ */

#define IN 128
#define OUT 16
#define GS 32
#define GROUPS (IN / GS)

typedef struct {
    uint8_t qw[IN * OUT * 4], qz[GROUPS * OUT * 4];
    uint16_t sc[GROUPS * OUT];
    int32_t g_idx[IN];
} ckpt;

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Random codes; zeros 2^(bits-1) stored minus 1 (v1) when sym, else random;
 * fp16 scales; act-order: every input in a random group. */
static void make(ckpt *k, int bits, int sym, int act_order) {
    int pf = 32 / bits;
    uint32_t mask = (1u << bits) - 1, qw[IN * OUT] = {0}, qz[GROUPS * OUT] = {0};
    for (int i = 0; i < IN; i++)
        for (int o = 0; o < OUT; o++)
            qw[(i / pf) * OUT + o] |= (next() & mask) << (bits * (i % pf));
    for (int g = 0; g < GROUPS; g++)
        for (int o = 0; o < OUT; o++) {
            uint32_t z = sym ? (1u << (bits - 1)) - 1 : next() % mask;
            qz[g * (OUT / pf) + o / pf] |= z << (bits * (o % pf));
            k->sc[g * OUT + o] = kern_fp32_to_fp16(0.001f + (float)(next() % 1000) * 1e-4f);
        }
    for (int i = 0; i < IN * OUT; i++)
        put_u32(k->qw + 4 * i, qw[i]);
    for (int i = 0; i < GROUPS * OUT; i++)
        put_u32(k->qz + 4 * i, qz[i]);
    for (int i = 0; i < IN; i++)
        k->g_idx[i] = act_order ? (int32_t)(next() % GROUPS) : i / GS;
}

/* The checkpoint through dequant then keepquant: counts checked against
 * the blocks, and the number of exact blocks returned. */
static uint64_t check_lossless(int bits, int sym, int act_order, int want_type) {
    static ckpt k;
    make(&k, bits, sym, act_order);
    int pf = 32 / bits;
    fmt_src_tensor t[] = {
        rec("l.g_idx", KERN_TYPE_I32, "I32", IN, 0, k.g_idx, 4),
        rec("l.qweight", KERN_TYPE_I32, "I32", IN / pf, OUT, k.qw, 4),
        rec("l.qzeros", KERN_TYPE_I32, "I32", GROUPS, OUT / pf, k.qz, 4),
        rec("l.scales", KERN_TYPE_F16, "F16", GROUPS, OUT, k.sc, 2),
    };
    char cfg[200], err[256];
    snprintf(cfg, sizeof cfg,
             "{\"quant_method\": \"gptq\", \"bits\": %d, \"group_size\": %d, \"sym\": %s}", bits,
             GS, sym ? "true" : "false");
    json_t *q = json_loads(cfg, 0, NULL);
    gk_status st;
    fmt_src *raw = fmt_src_create(t, 4, &st);
    fmt_dq *dq = fmt_dq_open(raw, q, "config.json", "quantization_config", &st, err, sizeof err);
    ck_assert_msg(dq != NULL, "%s", err);
    fmt_kq *kq = fmt_kq_open(fmt_dq_source(dq), &st, err, sizeof err);
    ck_assert_msg(kq != NULL, "%s", err);
    const fmt_src_tensor *w = fmt_src_find(fmt_kq_source(kq), "l.weight");
    ck_assert_ptr_nonnull(w);
    const fmt_kq_stats *ks = fmt_kq_stats_of(w);
    ck_assert_ptr_nonnull(ks);
    ck_assert_int_eq(w->type, want_type);
    ck_assert_int_eq(ks->type, want_type);
    ck_assert_uint_eq(ks->exact + ks->rounded, OUT * IN / 32);
    ck_assert(fmt_dq_appended(w)); /* still after the stored tensors */
    const kern_type_traits *tt = kern_type_info(want_type);
    size_t rb = kern_row_bytes(want_type, IN);
    ck_assert_uint_eq(w->size, rb * OUT);
    static uint8_t blocks[OUT * IN * 2], ref_blk[64];
    static float want[OUT * IN];
    float got[32];
    ck_assert_int_eq(w->read_raw(w, 0, OUT, blocks), GK_OK);
    ck_assert_int_eq(fmt_src_read_rows(w, 0, OUT, want), GK_OK); /* formats/dequant's f32 */
    uint64_t same = 0;
    for (int b = 0; b < OUT * IN / 32; b++) {
        const uint8_t *blk = blocks + (size_t)b * tt->type_size;
        tt->to_float_ref(blk, got, 32);
        if (memcmp(got, want + 32 * b, sizeof got) == 0) {
            same++;
            continue;
        }
        tt->quantize_ref(want + 32 * b, ref_blk, 1, 32, NULL); /* re-rounded as llama-quantize */
        ck_assert_msg(memcmp(blk, ref_blk, tt->type_size) == 0, "block %d", b);
    }
    ck_assert_msg(same >= ks->exact, "%llu bit-identical blocks, %llu counted exact",
                  (unsigned long long)same, (unsigned long long)ks->exact);
    uint64_t exact = ks->exact;
    if (!exact)
        ck_assert(*ks->why);
    fmt_kq_close(kq);
    fmt_dq_close(dq);
    fmt_src_close(raw);
    json_decref(q);
    return exact;
}

START_TEST(lossless_sym) {
    ck_assert_uint_eq(check_lossless(4, 1, 0, KERN_TYPE_Q4_0), OUT * IN / 32);
    ck_assert_uint_eq(check_lossless(2, 1, 0, KERN_TYPE_Q4_0), OUT * IN / 32);
    ck_assert_uint_eq(check_lossless(8, 1, 0, KERN_TYPE_Q8_0), OUT * IN / 32);
}
END_TEST

/* Act-order: blocks of mixed groups are re-rounded, none is kept. */
START_TEST(act_order) {
    ck_assert_uint_eq(check_lossless(4, 1, 1, KERN_TYPE_Q4_0), 0);
}
END_TEST

/* Asymmetric 4-bit: Q4_1, exact where -scale*zero is an fp16. */
START_TEST(asym) {
    uint64_t e = check_lossless(4, 0, 0, KERN_TYPE_Q4_1);
    ck_assert(e > 0 && e < OUT * IN / 32);
    check_lossless(8, 0, 0, KERN_TYPE_Q8_0);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("keepquant");
    TCase *tc = tcase_create("keepquant");
    UNIT_ADD_TESTS(tc, q4_0_known, q4_1_known, q8_0_known, not_exact, lossless_sym, act_order,
                   asym);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    kern_init();
    return unit_run(suite());
}
