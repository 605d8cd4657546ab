/* mxfp4_test.c -- the HF -> ggml MXFP4 repack against a line-by-line
 * transcription of llama.cpp's GptOssModel.transform_nibble_layout and
 * repack_mxfp4's concat((scales, blocks)) (convert_hf_to_gguf.py ec562eb),
 * the values it decodes to (E2M1 code
 * times 2^(scale - 127), transformers' convert_moe_packed_tensors), the
 * gate/up row selection, and scales of the wrong shape. */
#include "formats/mxfp4.h"

#include <math.h>

#include "kernels/kernels.h"
#include "tests/unit.h"

/* transform_nibble_layout on one 16-byte block: swap nibbles, split into
 * halves a (bytes 0..7) and b (8..15), a0 = a & 0xF0, a1 = a << 4,
 * b0 = b >> 4, b1 = b & 0x0F, interleave (a0|b0, a1|b1), swap nibbles. */
static void upstream_layout(const uint8_t in[16], uint8_t out[16]) {
    uint8_t sw[16];
    for (int i = 0; i < 16; i++)
        sw[i] = (uint8_t)(((in[i] & 0x0F) << 4) | ((in[i] & 0xF0) >> 4));
    for (int k = 0; k < 8; k++) {
        uint8_t a = sw[k], b = sw[8 + k];
        uint8_t o0 = (uint8_t)((a & 0xF0) | (b >> 4));
        uint8_t o1 = (uint8_t)((uint8_t)(a << 4) | (b & 0x0F));
        out[2 * k] = (uint8_t)((o0 >> 4) | (o0 << 4));
        out[2 * k + 1] = (uint8_t)((o1 >> 4) | (o1 << 4));
    }
}

START_TEST(test_repack_matches_upstream) {
    uint32_t s = 12345;
    for (int trial = 0; trial < 200; trial++) {
        uint8_t in[16], want[16], got[16];
        for (int i = 0; i < 16; i++) {
            s = s * 1103515245u + 12345u;
            in[i] = (uint8_t)(s >> 16);
        }
        upstream_layout(in, want);
        uint8_t blk[17];
        fmt_mxfp4_repack_block((uint8_t)trial, in, blk);
        ck_assert_uint_eq(blk[0], (uint8_t)trial); /* scales then blocks, concatenated */
        memcpy(got, blk + 1, 16);
        ck_assert_mem_eq(got, want, 16);
    }
}
END_TEST

static const float e2m1[16] = {0,     0.5f,  1,  1.5f,  2,  3,  4,  6,
                               -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};

/* A pair [2 rows, 1 block]: row r has codes (e + r) & 15 and scale 125 + r. */
static uint8_t blk[2][1][16], scl[2][1];
static fmt_src_tensor pair_blocks(void) {
    for (int r = 0; r < 2; r++) {
        for (int j = 0; j < 16; j++)
            blk[r][0][j] = (uint8_t)(((2 * j + r) & 15) | (((2 * j + 1 + r) & 15) << 4));
        scl[r][0] = (uint8_t)(125 + r);
    }
    fmt_src_tensor b = {.name = "x_blocks",
                        .type = -1,
                        .dtype = "U8",
                        .n_dims = 3,
                        .shape = {2, 1, 16},
                        .n_elements = 32,
                        .size = 32,
                        .data = &blk[0][0][0],
                        .file = "f",
                        .read = fmt_src_read_stored};
    return b;
}
static fmt_src_tensor pair_scales(void) {
    fmt_src_tensor t = {.name = "x_scales",
                        .type = -1,
                        .dtype = "U8",
                        .n_dims = 2,
                        .shape = {2, 1},
                        .n_elements = 2,
                        .size = 2,
                        .data = &scl[0][0],
                        .file = "f",
                        .read = fmt_src_read_stored};
    return t;
}

START_TEST(test_values_and_rows) {
    fmt_src_tensor b = pair_blocks(), sc = pair_scales();
    char err[256];
    fmt_xset *x = fmt_xset_new();
    ck_assert_int_eq(fmt_mxfp4_add(x, "x", &b, &sc, 0, 1, err, sizeof err), GK_OK);
    ck_assert_int_eq(fmt_mxfp4_add(x, "x[up]", &b, &sc, 1, 2, err, sizeof err), GK_OK);
    gk_status st;
    fmt_src *s = fmt_xset_source(x, &st);
    const fmt_src_tensor *t = fmt_src_find(s, "x"), *up = fmt_src_find(s, "x[up]");
    ck_assert_int_eq(t->type, KERN_TYPE_MXFP4);
    ck_assert_int_eq(t->n_dims, 2);
    ck_assert_int_eq(t->shape[0], 2);
    ck_assert_int_eq(t->shape[1], 32);
    ck_assert_int_eq(up->shape[0], 1);
    float v[64];
    ck_assert_int_eq(fmt_src_read_rows(t, 0, 2, v), GK_OK);
    for (int r = 0; r < 2; r++)
        for (int e = 0; e < 32; e++)
            ck_assert_float_eq(v[r * 32 + e], ldexpf(e2m1[(e + r) & 15], 125 + r - 127));
    uint8_t raw[17];
    ck_assert_int_eq(up->read_raw(up, 0, 1, raw), GK_OK); /* row 1 */
    ck_assert_uint_eq(raw[0], 126);
    uint8_t want[17];
    fmt_mxfp4_repack_block(126, blk[1][0], want);
    ck_assert_mem_eq(raw, want, 17);
    fmt_xset_free(x);
}
END_TEST

START_TEST(test_wrong_scales) {
    fmt_src_tensor b = pair_blocks(), sc = pair_scales();
    char err[256];
    fmt_xset *x = fmt_xset_new();
    sc.shape[0] = 1; /* one row of scales for two rows of blocks */
    ck_assert_int_eq(fmt_mxfp4_add(x, "x", &b, &sc, 0, 1, err, sizeof err), GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "'x_scales' has dtype U8 and shape 1x1"));
    ck_assert_ptr_nonnull(strstr(err, "need U8 2x1"));
    sc = pair_scales();
    sc.dtype = "BF16";
    ck_assert_int_eq(fmt_mxfp4_add(x, "x", &b, &sc, 0, 1, err, sizeof err), GK_E_FORMAT);
    sc = pair_scales();
    b.shape[2] = 8; /* not 16 bytes a block */
    ck_assert_int_eq(fmt_mxfp4_add(x, "x", &b, &sc, 0, 1, err, sizeof err), GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "'x_blocks'"));
    b = pair_blocks();
    ck_assert_int_eq(fmt_mxfp4_add(x, "x", &b, &sc, 0, 3, err, sizeof err), GK_E_FORMAT);
    fmt_xset_free(x);
}
END_TEST

int main(void) {
    Suite *s = suite_create("mxfp4");
    TCase *tc = tcase_create("mxfp4");
    UNIT_ADD_TESTS(tc, test_repack_matches_upstream, test_values_and_rows, test_wrong_scales);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
