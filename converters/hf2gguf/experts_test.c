/* experts_test.c -- rule patterns ('#' block, '*' expert), the expert
 * count from config.json, and gathering per-expert tensors into stacks:
 * completion in any order, the stacked record's parts in expert order,
 * refusals (expert beyond the count, duplicates), the first missing
 * expert. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "converters/hf2gguf/arch.h"
#include "converters/hf2gguf/experts.h"
#include "formats/stack.h"
#include "kernels/kernels.h"

START_TEST(test_patterns) {
    long long bid, xid;
    ck_assert(cv_pattern_match("model.layers.#.mlp.experts.*.up_proj.weight",
                               "model.layers.12.mlp.experts.107.up_proj.weight", &bid, &xid));
    ck_assert_int_eq(bid, 12);
    ck_assert_int_eq(xid, 107);
    ck_assert(cv_pattern_match("model.layers.#.input_layernorm.weight",
                               "model.layers.3.input_layernorm.weight", &bid, &xid));
    ck_assert_int_eq(bid, 3);
    ck_assert_int_eq(xid, -1);
    ck_assert(!cv_pattern_match("model.layers.#.mlp.experts.*.up_proj.weight",
                                "model.layers.1.mlp.experts.x.up_proj.weight", &bid, &xid));
    ck_assert(!cv_pattern_match("a.*.b", "a.1.bc", &bid, &xid));
    char out[128];
    cv_pattern_fill("model.layers.#.experts.*.w1.weight", 4, 9, out, sizeof out);
    ck_assert_str_eq(out, "model.layers.4.experts.9.w1.weight");
    cv_pattern_fill("model.layers.#.experts.*.w1.weight", 4, -1, out, sizeof out);
    ck_assert_str_eq(out, "model.layers.4.experts.*.w1.weight");
}
END_TEST

static gk_status config(const char *text, long long *n, const char **key, char *err, size_t cap) {
    json_t *cfg = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(cfg);
    gk_status st = cv_experts_config(cfg, n, key, err, cap);
    json_decref(cfg);
    return st;
}

START_TEST(test_config) {
    long long n;
    const char *key;
    char err[256];
    ck_assert_int_eq(
        config("{\"num_local_experts\": 8, \"num_experts_per_tok\": 2}", &n, &key, err, sizeof err),
        GK_OK);
    ck_assert_int_eq(n, 8);
    ck_assert_str_eq(key, "num_local_experts");
    ck_assert_int_eq(config("{\"num_experts\": 128}", &n, &key, err, sizeof err), GK_OK);
    ck_assert_str_eq(key, "num_experts");
    ck_assert_int_eq(
        config("{\"num_experts\": 4, \"num_experts_per_tok\": 5}", &n, &key, err, sizeof err),
        GK_E_FORMAT);
    ck_assert_str_eq(err, "config.json: 'num_experts_per_tok' = 5 is greater than the number of "
                          "experts (num_experts = 4)");
    ck_assert_int_eq(config("{\"num_experts\": 0}", &n, &key, err, sizeof err), GK_E_FORMAT);
    ck_assert_int_eq(config("{\"num_experts\": 65537}", &n, &key, err, sizeof err), GK_E_FORMAT);
    ck_assert_int_eq(config("{\"num_experts\": \"4\"}", &n, &key, err, sizeof err), GK_E_FORMAT);
    ck_assert_int_eq(config("{}", &n, &key, err, sizeof err), GK_E_FORMAT);
}
END_TEST

/* Two expert rules (down, gate) between plain rules, 2 blocks, 3 experts. */
static const cv_tensor_rule rules[] = {
    {"m.#.norm", "blk.#.norm", CV_XF_NONE, {CV_DIM_EMBD, CV_DIM_NONE}, 0},
    {"m.#.experts.*.down",
     "blk.#.ffn_down_exps.weight",
     CV_XF_NONE,
     {CV_DIM_EMBD, CV_DIM_EXP_FF},
     0},
    {"m.#.experts.*.gate",
     "blk.#.ffn_gate_exps.weight",
     CV_XF_NONE,
     {CV_DIM_EXP_FF, CV_DIM_EMBD},
     0},
    {"m.#.router", "blk.#.ffn_gate_inp.weight", CV_XF_NONE, {CV_DIM_EXPERTS, CV_DIM_EMBD}, 0},
};
static const char *const classes[] = {"T", NULL};
static const cv_arch arch = {.name = "t", .hf_classes = classes, .tensors = rules, .n_tensors = 4};

static float data[2][3][2][4]; /* [rule][expert][row][col] */
static char names[2][3][32];

static fmt_src_tensor rec(int k, int x) {
    snprintf(names[k][x], sizeof names[k][x], "m.0.experts.%d.%s", x, k ? "gate" : "down");
    for (int i = 0; i < 8; i++)
        data[k][x][i / 4][i % 4] = (float)(100 * k + 10 * x + i);
    fmt_src_tensor t = {.name = names[k][x],
                        .type = KERN_TYPE_F32,
                        .dtype = "F32",
                        .n_dims = 2,
                        .shape = {2, 4},
                        .n_elements = 8,
                        .size = 32,
                        .data = (const uint8_t *)data[k][x],
                        .file = "model.safetensors",
                        .read = fmt_src_read_stored};
    return t;
}

START_TEST(test_gather) {
    ck_assert(cv_arch_has_experts(&arch));
    ck_assert(cv_rule_is_expert(&rules[1]) && !cv_rule_is_expert(&rules[3]));
    fmt_src_tensor t[2][3];
    for (int k = 0; k < 2; k++)
        for (int x = 0; x < 3; x++)
            t[k][x] = rec(k, x);
    cv_experts *e = cv_experts_new(&arch, 2, 3, "num_experts");
    ck_assert_ptr_nonnull(e);
    char err[512];
    int complete = 0;
    /* out of order, as a sharded checkpoint may list them */
    static const int order[6][2] = {{1, 2}, {0, 1}, {1, 0}, {0, 2}, {1, 1}, {0, 0}};
    for (int i = 0; i < 6; i++) {
        ck_assert_ptr_null(cv_experts_stacked(e, 1, 0));
        int k = order[i][0], x = order[i][1];
        ck_assert_int_eq(
            cv_experts_add(e, 1 + (size_t)k, 0, x, &t[k][x], &complete, err, sizeof err), GK_OK);
        ck_assert_int_eq(complete, i == 5);
    }
    const fmt_src_tensor *down = cv_experts_stacked(e, 1, 0), *gate = cv_experts_stacked(e, 2, 0);
    ck_assert_ptr_nonnull(down);
    ck_assert_ptr_nonnull(gate);
    ck_assert_ptr_null(cv_experts_stacked(e, 0, 0));
    ck_assert_str_eq(down->name, "m.0.experts.*.down");
    ck_assert_int_eq(gate->shape[0], 3);
    for (size_t x = 0; x < 3; x++)
        ck_assert_ptr_eq(fmt_stack_part(gate, x), &t[1][x]);
    float row[4];
    ck_assert_int_eq(fmt_src_read_rows(gate, 3, 1, row), GK_OK); /* expert 1, row 1 */
    ck_assert(row[0] == 114.0f);
    /* the block is done: any more is a duplicate */
    ck_assert_int_eq(cv_experts_add(e, 1, 0, 0, &t[0][0], &complete, err, sizeof err), GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "duplicate tensor 'm.0.experts.0.down'"));
    /* block 1: expert 3 of 3 is beyond the count */
    ck_assert_int_eq(cv_experts_add(e, 1, 1, 3, &t[0][0], &complete, err, sizeof err), GK_E_FORMAT);
    ck_assert_str_eq(err, "model.safetensors: tensor 'm.0.experts.0.down' is expert 3 but "
                          "config.json has num_experts = 3");
    /* block 1 with gate complete and down missing expert 1 */
    for (int x = 0; x < 3; x++)
        ck_assert_int_eq(cv_experts_add(e, 2, 1, x, &t[1][x], &complete, err, sizeof err), GK_OK);
    ck_assert_int_eq(cv_experts_add(e, 1, 1, 0, &t[0][0], &complete, err, sizeof err), GK_OK);
    ck_assert_int_eq(cv_experts_add(e, 1, 1, 2, &t[0][2], &complete, err, sizeof err), GK_OK);
    ck_assert_int_eq(complete, 0);
    ck_assert_uint_eq(cv_experts_in_block(e, 1), 5);
    ck_assert_uint_eq(cv_experts_in_block(e, 2), 0); /* no such block */
    ck_assert_int_eq(cv_experts_missing(e, 2, 1, "DIR", err, sizeof err), GK_OK);
    ck_assert_int_eq(cv_experts_missing(e, 1, 1, "DIR", err, sizeof err), GK_E_FORMAT);
    ck_assert_str_eq(err,
                     "DIR: missing tensor 'm.1.experts.1.down' (config.json has num_experts = 3)");
    cv_experts_free(e);
    cv_experts_free(NULL);
}
END_TEST

/* A duplicate that fills the count refuses the block instead of stacking. */
START_TEST(test_duplicate_completes) {
    fmt_src_tensor a = rec(0, 0);
    cv_experts *e = cv_experts_new(&arch, 1, 1, "num_local_experts");
    char err[512];
    int complete = 0;
    ck_assert_int_eq(cv_experts_add(e, 1, 0, 0, &a, &complete, err, sizeof err), GK_OK);
    ck_assert_int_eq(cv_experts_add(e, 1, 0, 0, &a, &complete, err, sizeof err), GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "duplicate tensor"));
    ck_assert_int_eq(complete, 0);
    cv_experts_free(e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("experts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_patterns);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_gather);
    tcase_add_test(tc, test_duplicate_completes);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
