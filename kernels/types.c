/*
 * types.c -- the ggml type table: one static const row per type id.
 * Nothing else switches on a type id for a size, a name or a kernel.
 */
#include <string.h>
#include <strings.h>

#include "kernels_internal.h"

/* Designated initializers keyed by id; retired ids stay zero (name NULL). */
static const kern_type_traits type_table[KERN_TYPE_COUNT] = {
    [KERN_TYPE_F32] = {"f32", 1, 4, 0, 0, kern_dequant_f32_ref, kern_quantize_f32_ref},
    [KERN_TYPE_F16] = {"f16", 1, 2, 0, 0, kern_dequant_f16_ref, kern_quantize_f16_ref},
    [KERN_TYPE_Q4_0] = {"q4_0", 32, 18, 1, 0, kern_dequant_q4_0_ref, kern_quantize_q4_0_ref},
    [KERN_TYPE_Q4_1] = {"q4_1", 32, 20, 1, 0, kern_dequant_q4_1_ref, kern_quantize_q4_1_ref},
    [KERN_TYPE_Q5_0] = {"q5_0", 32, 22, 1, 0, kern_dequant_q5_0_ref, kern_quantize_q5_0_ref},
    [KERN_TYPE_Q5_1] = {"q5_1", 32, 24, 1, 0, kern_dequant_q5_1_ref, kern_quantize_q5_1_ref},
    [KERN_TYPE_Q8_0] = {"q8_0", 32, 34, 1, 0, kern_dequant_q8_0_ref, kern_quantize_q8_0_ref},
    [KERN_TYPE_Q8_1] = {"q8_1", 32, 36, 1, 0, NULL, NULL},
    [KERN_TYPE_Q2_K] = {"q2_K", 256, 84, 1, 0, kern_dequant_q2_k_ref, kern_quantize_q2_k_ref},
    [KERN_TYPE_Q3_K] = {"q3_K", 256, 110, 1, 0, kern_dequant_q3_k_ref, kern_quantize_q3_k_ref},
    [KERN_TYPE_Q4_K] = {"q4_K", 256, 144, 1, 0, kern_dequant_q4_k_ref, kern_quantize_q4_k_ref},
    [KERN_TYPE_Q5_K] = {"q5_K", 256, 176, 1, 0, kern_dequant_q5_k_ref, kern_quantize_q5_k_ref},
    [KERN_TYPE_Q6_K] = {"q6_K", 256, 210, 1, 0, kern_dequant_q6_k_ref, kern_quantize_q6_k_ref},
    [KERN_TYPE_Q8_K] = {"q8_K", 256, 292, 1, 0, kern_dequant_q8_k_ref, NULL},
    [KERN_TYPE_IQ2_XXS] = {"iq2_xxs", 256, 66, 1, 1, kern_dequant_iq2_xxs_ref,
                           kern_quantize_iq2_xxs_ref},
    [KERN_TYPE_IQ2_XS] = {"iq2_xs", 256, 74, 1, 1, kern_dequant_iq2_xs_ref,
                          kern_quantize_iq2_xs_ref},
    [KERN_TYPE_IQ3_XXS] = {"iq3_xxs", 256, 98, 1, 1, kern_dequant_iq3_xxs_ref,
                           kern_quantize_iq3_xxs_ref},
    [KERN_TYPE_IQ1_S] = {"iq1_s", 256, 50, 1, 1, kern_dequant_iq1_s_ref, kern_quantize_iq1_s_ref},
    [KERN_TYPE_IQ4_NL] = {"iq4_nl", 32, 18, 1, 0, kern_dequant_iq4_nl_ref,
                          kern_quantize_iq4_nl_ref},
    [KERN_TYPE_IQ3_S] = {"iq3_s", 256, 110, 1, 0, kern_dequant_iq3_s_ref, kern_quantize_iq3_s_ref},
    [KERN_TYPE_IQ2_S] = {"iq2_s", 256, 82, 1, 1, kern_dequant_iq2_s_ref, kern_quantize_iq2_s_ref},
    [KERN_TYPE_IQ4_XS] = {"iq4_xs", 256, 136, 1, 0, kern_dequant_iq4_xs_ref,
                          kern_quantize_iq4_xs_ref},
    [KERN_TYPE_I8] = {"i8", 1, 1, 0, 0, kern_dequant_i8_ref, NULL},
    [KERN_TYPE_I16] = {"i16", 1, 2, 0, 0, kern_dequant_i16_ref, NULL},
    [KERN_TYPE_I32] = {"i32", 1, 4, 0, 0, kern_dequant_i32_ref, NULL},
    [KERN_TYPE_I64] = {"i64", 1, 8, 0, 0, NULL, NULL},
    [KERN_TYPE_F64] = {"f64", 1, 8, 0, 0, NULL, NULL},
    [KERN_TYPE_IQ1_M] = {"iq1_m", 256, 56, 1, 1, kern_dequant_iq1_m_ref, kern_quantize_iq1_m_ref},
    [KERN_TYPE_BF16] = {"bf16", 1, 2, 0, 0, kern_dequant_bf16_ref, kern_quantize_bf16_ref},
    [KERN_TYPE_TQ1_0] = {"tq1_0", 256, 54, 1, 0, kern_dequant_tq1_0_ref, kern_quantize_tq1_0_ref},
    [KERN_TYPE_TQ2_0] = {"tq2_0", 256, 66, 1, 0, kern_dequant_tq2_0_ref, kern_quantize_tq2_0_ref},
    [KERN_TYPE_MXFP4] = {"mxfp4", 32, 17, 1, 0, kern_dequant_mxfp4_ref, kern_quantize_mxfp4_ref},
    [KERN_TYPE_Q1_0] = {"q1_0", 128, 18, 1, 0, kern_dequant_q1_0_ref, kern_quantize_q1_0_ref},
    /* types requant cannot produce: sizes known so files using them can be
     * read and inspected (Q2_0 is newer than ec562eb) */
    [KERN_TYPE_NVFP4] = {"nvfp4", 64, 36, 1, 0, NULL, NULL},
    [KERN_TYPE_Q2_0] = {"q2_0", 64, 18, 1, 0, kern_dequant_q2_0_ref, NULL},
};

_Static_assert(sizeof type_table / sizeof type_table[0] == KERN_TYPE_COUNT,
               "type table must have one row per type id");

const kern_type_traits *kern_type_info(int type) {
    if (type < 0 || type >= KERN_TYPE_COUNT || type_table[type].name == NULL)
        return NULL;
    return &type_table[type];
}

/* Upper-case labels, as llama.cpp prints them ("Q4_K", "IQ2_XXS"). */
static const char *const type_labels[KERN_TYPE_COUNT] = {
    [KERN_TYPE_F32] = "F32",       [KERN_TYPE_F16] = "F16",         [KERN_TYPE_Q4_0] = "Q4_0",
    [KERN_TYPE_Q4_1] = "Q4_1",     [KERN_TYPE_Q5_0] = "Q5_0",       [KERN_TYPE_Q5_1] = "Q5_1",
    [KERN_TYPE_Q8_0] = "Q8_0",     [KERN_TYPE_Q8_1] = "Q8_1",       [KERN_TYPE_Q2_K] = "Q2_K",
    [KERN_TYPE_Q3_K] = "Q3_K",     [KERN_TYPE_Q4_K] = "Q4_K",       [KERN_TYPE_Q5_K] = "Q5_K",
    [KERN_TYPE_Q6_K] = "Q6_K",     [KERN_TYPE_Q8_K] = "Q8_K",       [KERN_TYPE_IQ2_XXS] = "IQ2_XXS",
    [KERN_TYPE_IQ2_XS] = "IQ2_XS", [KERN_TYPE_IQ3_XXS] = "IQ3_XXS", [KERN_TYPE_IQ1_S] = "IQ1_S",
    [KERN_TYPE_IQ4_NL] = "IQ4_NL", [KERN_TYPE_IQ3_S] = "IQ3_S",     [KERN_TYPE_IQ2_S] = "IQ2_S",
    [KERN_TYPE_IQ4_XS] = "IQ4_XS", [KERN_TYPE_I8] = "I8",           [KERN_TYPE_I16] = "I16",
    [KERN_TYPE_I32] = "I32",       [KERN_TYPE_I64] = "I64",         [KERN_TYPE_F64] = "F64",
    [KERN_TYPE_IQ1_M] = "IQ1_M",   [KERN_TYPE_BF16] = "BF16",       [KERN_TYPE_TQ1_0] = "TQ1_0",
    [KERN_TYPE_TQ2_0] = "TQ2_0",   [KERN_TYPE_MXFP4] = "MXFP4",     [KERN_TYPE_NVFP4] = "NVFP4",
    [KERN_TYPE_Q1_0] = "Q1_0",     [KERN_TYPE_Q2_0] = "Q2_0",
};

const char *kern_type_label(int type) {
    if (!kern_type_info(type))
        return "?";
    return type_labels[type];
}

int kern_type_from_name(const char *name) {
    for (int t = 0; t < KERN_TYPE_COUNT; t++) {
        if (kern_type_info(t) && strcasecmp(type_table[t].name, name) == 0)
            return t;
    }
    return -1;
}

size_t kern_row_bytes(int type, int64_t n) {
    const kern_type_traits *tt = kern_type_info(type);
    if (!tt || n < 0 || n % tt->blck_size != 0)
        return 0;
    uint64_t blocks = (uint64_t)(n / tt->blck_size);
    if (blocks > SIZE_MAX / tt->type_size)
        return 0;
    return (size_t)blocks * tt->type_size;
}

double kern_type_bpw(int type) {
    const kern_type_traits *tt = kern_type_info(type);
    if (!tt)
        return 0.0;
    return (double)tt->type_size * 8.0 / (double)tt->blck_size;
}

/* ------------------------------------------------------------------------ */
/* Block scales                                                               */
/* ------------------------------------------------------------------------ */

/* Where the fp16 scales of a block sit (byte offsets; -1 ends the list),
 * after ggml-common.h's block structs. IQ1_M keeps its fp16 scale in the top
 * nibbles of its four u16 scale words (bytes 48..55). MXFP4's scale is the
 * E8M0 byte 0, checked apart. Types not listed (f16/bf16/f32, integers,
 * NVFP4, whose UE4M3 bytes are all valid) have no separate scale. */
static const struct {
    int type;
    int off[3];
} block_scales[] = {
    {KERN_TYPE_Q4_0, {0, -1}},      {KERN_TYPE_Q4_1, {0, 2, -1}}, {KERN_TYPE_Q5_0, {0, -1}},
    {KERN_TYPE_Q5_1, {0, 2, -1}},   {KERN_TYPE_Q8_0, {0, -1}},    {KERN_TYPE_Q8_1, {0, 2, -1}},
    {KERN_TYPE_Q2_K, {80, 82, -1}}, {KERN_TYPE_Q3_K, {108, -1}},  {KERN_TYPE_Q4_K, {0, 2, -1}},
    {KERN_TYPE_Q5_K, {0, 2, -1}},   {KERN_TYPE_Q6_K, {208, -1}},  {KERN_TYPE_IQ2_XXS, {0, -1}},
    {KERN_TYPE_IQ2_XS, {0, -1}},    {KERN_TYPE_IQ2_S, {0, -1}},   {KERN_TYPE_IQ3_XXS, {0, -1}},
    {KERN_TYPE_IQ3_S, {0, -1}},     {KERN_TYPE_IQ1_S, {0, -1}},   {KERN_TYPE_IQ4_NL, {0, -1}},
    {KERN_TYPE_IQ4_XS, {0, -1}},    {KERN_TYPE_TQ1_0, {52, -1}},  {KERN_TYPE_TQ2_0, {64, -1}},
    {KERN_TYPE_Q1_0, {0, -1}},
};

static int64_t bad_iq1_m_scale(const uint8_t *blocks, int64_t nb, size_t bsize) {
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *s = blocks + (size_t)b * bsize + 48;
        uint16_t h =
            (uint16_t)((kern_get_u16(s) >> 12) | (kern_get_u16(s + 2) >> 8 & 0x00f0) |
                       (kern_get_u16(s + 4) >> 4 & 0x0f00) | (kern_get_u16(s + 6) & 0xf000));
        if (!isfinite(kern_fp16_to_fp32(h)))
            return b;
    }
    return -1;
}

/* E8M0 0xFF is NaN in the OCP MX spec (ggml_e8m0_to_fp32 makes it +Inf):
 * ggml_validate_row_data refuses it (validate_e_e8m0, llama.cpp ec562eb). */
static int64_t bad_e8m0_scale(const uint8_t *blocks, int64_t nb, size_t bsize) {
    for (int64_t b = 0; b < nb; b++)
        if (blocks[(size_t)b * bsize] == 0xFF)
            return b;
    return -1;
}

int64_t kern_find_bad_scale(int type, const void *blocks, int64_t nb, const char **which) {
    const kern_type_traits *tt = kern_type_info(type);
    const uint8_t *p = blocks;
    if (!tt || !tt->is_quantized)
        return -1;
    *which = "d";
    if (type == KERN_TYPE_IQ1_M)
        return bad_iq1_m_scale(p, nb, tt->type_size);
    if (type == KERN_TYPE_MXFP4) {
        *which = "e";
        return bad_e8m0_scale(p, nb, tt->type_size);
    }
    for (size_t i = 0; i < sizeof block_scales / sizeof *block_scales; i++) {
        if (block_scales[i].type != type)
            continue;
        for (int64_t b = 0; b < nb; b++)
            for (int j = 0; j < 3 && block_scales[i].off[j] >= 0; j++)
                if (!isfinite(kern_fp16_to_fp32(kern_get_u16(p + (size_t)b * tt->type_size +
                                                             (size_t)block_scales[i].off[j])))) {
                    *which = j == 0 ? "d" : type >= KERN_TYPE_Q2_K ? "dmin" : "m";
                    return b;
                }
        return -1;
    }
    return -1;
}
