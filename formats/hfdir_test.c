/*
 * hfdir_test.c -- Check tests for the checkpoint-directory containment
 * rule (fmt_hfdir_contains): plain files and symlinks inside pass, symlinks
 * leaving the directory fail, hub cache snapshots may link into blobs/;
 * and for the impossible config.json values fmt_hfdir_open refuses.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/hfdir.h"
#include "tests/unit.h"

static char g_root[256];

static const char *at(const char *rel) {
    return unit_path(g_root, rel);
}

static void touch(const char *rel, const char *text) {
    unit_write_file(at(rel), text, strlen(text));
}

static void setup(void) {
    unit_mkdtemp(g_root, sizeof g_root, "hfdir_test");
}

static void teardown(void) {
    ck_assert_int_eq(unit_rmtree(g_root), 0);
}

static fmt_hfdir *open_dir(const char *rel) {
    gk_status st;
    char err[256];
    fmt_hfdir *d = fmt_hfdir_open(at(rel), &st, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    return d;
}

START_TEST(test_contains_plain_and_symlinks) {
    ck_assert_int_eq(mkdir(at("m"), 0755), 0);
    touch("m/config.json", "{}");
    touch("m/model.safetensors", "x");
    touch("outside.safetensors", "x");
    ck_assert_int_eq(symlink("model.safetensors", at("m/alias.safetensors")), 0);
    ck_assert_int_eq(symlink("../outside.safetensors", at("m/out.safetensors")), 0);
    ck_assert_int_eq(symlink("/etc/passwd", at("m/passwd.safetensors")), 0);
    ck_assert_int_eq(mkdir(at("m/sub"), 0755), 0);
    touch("m/sub/deep.safetensors", "x");
    fmt_hfdir *d = open_dir("m");
    ck_assert_int_eq(fmt_hfdir_contains(d, "model.safetensors"), 1);
    ck_assert_int_eq(fmt_hfdir_contains(d, "alias.safetensors"), 1);
    ck_assert_int_eq(fmt_hfdir_contains(d, "out.safetensors"), 0);
    ck_assert_int_eq(fmt_hfdir_contains(d, "passwd.safetensors"), 0);
    ck_assert_int_eq(fmt_hfdir_contains(d, "../outside.safetensors"), 0);
    ck_assert_int_eq(fmt_hfdir_contains(d, "sub/deep.safetensors"), 0);
    ck_assert_int_eq(fmt_hfdir_contains(d, "missing.safetensors"), 0);
    fmt_hfdir_close(d);
}
END_TEST

START_TEST(test_contains_hub_cache) {
    ck_assert_int_eq(mkdir(at("models--o--m"), 0755), 0);
    ck_assert_int_eq(mkdir(at("models--o--m/blobs"), 0755), 0);
    ck_assert_int_eq(mkdir(at("models--o--m/snapshots"), 0755), 0);
    ck_assert_int_eq(mkdir(at("models--o--m/snapshots/abc"), 0755), 0);
    ck_assert_int_eq(mkdir(at("models--o--m/other"), 0755), 0);
    touch("models--o--m/blobs/1234", "{}");
    touch("models--o--m/other/5678", "x");
    ck_assert_int_eq(symlink("../../blobs/1234", at("models--o--m/snapshots/abc/config.json")), 0);
    ck_assert_int_eq(
        symlink("../../blobs/1234", at("models--o--m/snapshots/abc/model.safetensors")), 0);
    ck_assert_int_eq(symlink("../../other/5678", at("models--o--m/snapshots/abc/x.safetensors")),
                     0);
    fmt_hfdir *d = open_dir("models--o--m/snapshots/abc");
    ck_assert_int_eq(fmt_hfdir_contains(d, "model.safetensors"), 1);
    ck_assert_int_eq(fmt_hfdir_contains(d, "x.safetensors"), 0);
    fmt_hfdir_close(d);
}
END_TEST

/* config.json values that cannot be: refused naming the key, at any
 * depth; possible ones (whole reals, -1 ids, id lists, a "factor" outside
 * rope settings) pass. */
START_TEST(test_config_values) {
    static const struct {
        const char *json, *msg; /* msg NULL: accepted */
    } cases[] = {
        {"{\"hidden_size\": 64.5}", "'hidden_size' = 64.5 is not a whole number"},
        {"{\"num_hidden_layers\": -2}", "'num_hidden_layers' = -2 is negative"},
        {"{\"rope_theta\": 0}", "'rope_theta' = 0 is not positive"},
        {"{\"rms_norm_eps\": -0.5}", "'rms_norm_eps' = -0.5 is negative"},
        {"{\"rope_scaling\": {\"factor\": -8}}", "'factor' = -8 is not positive"},
        {"{\"text_config\": {\"eos_token_id\": [1, 2.5]}}",
         "'eos_token_id' = 2.5 is not a whole number"},
        {"{\"hidden_size\": 64.0, \"pad_token_id\": -1, \"eos_token_id\": [1, 2]}", NULL},
        {"{\"quantization_config\": {\"factor\": -1}, \"rope_theta\": 1e6}", NULL},
    };
    ck_assert_int_eq(mkdir(at("m"), 0755), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        touch("m/config.json", cases[i].json);
        gk_status st;
        char err[256] = "", want[512];
        fmt_hfdir *d = fmt_hfdir_open(at("m"), &st, err, sizeof err);
        if (!cases[i].msg) {
            ck_assert_msg(d != NULL, "%s: %s", cases[i].json, err);
            fmt_hfdir_close(d);
            continue;
        }
        ck_assert_ptr_null(d);
        ck_assert_int_eq(st, GK_E_FORMAT);
        snprintf(want, sizeof want, "%s: %s", at("m/config.json"), cases[i].msg);
        ck_assert_str_eq(err, want);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("hfdir");
    TCase *tc = tcase_create("contains");
    tcase_add_checked_fixture(tc, setup, teardown);
    UNIT_ADD_TESTS(tc, test_contains_plain_and_symlinks, test_contains_hub_cache,
                   test_config_values);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
