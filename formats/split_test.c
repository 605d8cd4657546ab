/* split_test.c -- GGUF split sets: shard names both ways, the split.* keys,
 * and opening sets written into a temporary directory, one test per check. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/split.h"
#include "kernels/kernels.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Fixture helpers                                                            */
/* ------------------------------------------------------------------------ */

static char tmpdir[256];

static void setup(void) {
    unit_mkdtemp(tmpdir, sizeof tmpdir, "split_test");
}

static void teardown(void) {
    unit_rmtree(tmpdir);
}

/* Path of name inside the temp dir (see unit_path). */
static const char *tpath(const char *name) {
    return unit_path(tmpdir, name);
}

/* One shard: its split.* keys (no < 0: none), GGUF version, alignment and
 * tensors (one F32 row of 4 each, names space-separated). */
typedef struct {
    int no, count, n_tensors;
    uint32_t version;
    uint32_t alignment;
    const char *tensors;
} shard_spec;

static void write_shard(const char *name, shard_spec s) {
    gk_status st;
    fmt_gguf_writer *w = fmt_gguf_writer_create(s.version, s.alignment, &st);
    ck_assert_ptr_nonnull(w);
    if (s.alignment != FMT_GGUF_DEFAULT_ALIGNMENT)
        ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "general.alignment", s.alignment), GK_OK);
    if (s.no >= 0 && s.n_tensors >= 0) {
        ck_assert_int_eq(
            fmt_split_add_keys(w, (size_t)s.no, (size_t)s.count, (uint64_t)s.n_tensors), GK_OK);
    } else if (s.no >= 0) { /* a count fmt_split_add_keys refuses to write */
        ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "split.no", (uint32_t)s.no), GK_OK);
        ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "split.count", (uint32_t)s.count), GK_OK);
        ck_assert_int_eq(fmt_gguf_writer_add_i32(w, "split.tensors.count", s.n_tensors), GK_OK);
    }
    char names[256];
    snprintf(names, sizeof names, "%s", s.tensors);
    int64_t ne[1] = {4};
    for (char *t = strtok(names, " "); t; t = strtok(NULL, " "))
        ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, t, 1, ne, KERN_TYPE_F32), GK_OK);
    char msg[256];
    fmt_output_opts oo = {.force = 1};
    fmt_output *out = fmt_output_open(tpath(name), &oo, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    float row[4] = {1, 2, 3, 4};
    for (uint64_t i = 0; i < fmt_gguf_writer_n_tensors(w); i++)
        ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, row, sizeof row), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    fmt_gguf_writer_free(w);
}

static shard_spec shard(int no, int count, int n_tensors, const char *tensors) {
    return (shard_spec){no, count, n_tensors, 3, FMT_GGUF_DEFAULT_ALIGNMENT, tensors};
}

/* m-0000K-of-00003.gguf with tensors a b | c | d e. */
static void write_set(void) {
    write_shard("m-00001-of-00003.gguf", shard(0, 3, 5, "a b"));
    write_shard("m-00002-of-00003.gguf", shard(1, 3, 5, "c"));
    write_shard("m-00003-of-00003.gguf", shard(2, 3, 5, "d e"));
}

/* Opening name fails with want; the message holds both parts. */
static void expect_fail(const char *name, gk_status want, const char *file, const char *part) {
    char err[1024] = "";
    gk_status st = GK_OK;
    fmt_split *s = fmt_split_open(tpath(name), &st, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(st, want);
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s: ", tpath(file));
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'", err,
                  prefix);
    ck_assert_msg(strstr(err, part) != NULL, "'%s' lacks '%s'", err, part);
}

/* ------------------------------------------------------------------------ */
/* Names and keys                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_name_format) {
    char buf[64];
    ck_assert_int_eq(fmt_split_name(buf, sizeof buf, "out.gguf", 3, 0, 3), GK_OK);
    ck_assert_str_eq(buf, "out-00001-of-00003.gguf");
    ck_assert_int_eq(fmt_split_name(buf, sizeof buf, "", 0, 9998, 9999), GK_OK);
    ck_assert_str_eq(buf, "-09999-of-09999.gguf");
    /* more than five digits grow the name, as %05d does */
    ck_assert_int_eq(fmt_split_name(buf, sizeof buf, "x", 1, 123455, 123456), GK_OK);
    ck_assert_str_eq(buf, "x-123456-of-123456.gguf");
    ck_assert_int_eq(fmt_split_name(buf, sizeof buf, "x", 1, 3, 3), GK_E_USAGE);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(fmt_split_name(buf, sizeof buf, "x", 1, 0, 0), GK_E_USAGE);
    /* exactly fits (21 bytes with the NUL), one byte short */
    ck_assert_int_eq(fmt_split_name(buf, 22, "x", 1, 0, 1), GK_OK);
    ck_assert_int_eq(fmt_split_name(buf, 21, "x", 1, 0, 1), GK_E_USAGE);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(fmt_split_name(NULL, 0, "x", 1, 0, 1), GK_E_USAGE);
}
END_TEST

START_TEST(test_name_parse) {
    size_t plen = 99, no = 99, count = 99;
    ck_assert_int_eq(fmt_split_parse_name("dir/m-00002-of-00003.gguf", &plen, &no, &count), 1);
    ck_assert_uint_eq(plen, 5);
    ck_assert_uint_eq(no, 1);
    ck_assert_uint_eq(count, 3);
    ck_assert_int_eq(fmt_split_parse_name("-00001-of-00001.gguf", &plen, &no, &count), 1);
    ck_assert_uint_eq(plen, 0);
    ck_assert_uint_eq(no, 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_int_eq(fmt_split_parse_name("m-99999-of-99999.gguf", &plen, &no, &count), 1);
    ck_assert_uint_eq(count, 99999);
    /* not a shard name: outputs untouched */
    static const char *const bad[] = {
        "m.gguf",
        "00001-of-00003.gguf",
        "m-00000-of-00003.gguf",
        "m-00004-of-00003.gguf",
        "m-00001-of-00000.gguf",
        "m-0001-of-00003.gguf",
        "m-000001-of-00003.gguf",
        "m-00001-of-0003.gguf",
        "m-+0001-of-00003.gguf",
        "m- 0001-of-00003.gguf",
        "m-0000a-of-00003.gguf",
        "m-00001_of-00003.gguf",
        "m-00001-of-00003.GGUF",
        "m-00001-of-00003.gguf~",
        "m-00001-of-00003.gguf.zst",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        plen = no = count = 77;
        ck_assert_msg(fmt_split_parse_name(bad[i], &plen, &no, &count) == 0, "%s", bad[i]);
        ck_assert_uint_eq(plen + no + count, 3 * 77);
    }
    /* round trip */
    char buf[64];
    ck_assert_int_eq(fmt_split_name(buf, sizeof buf, "a-b", 3, 41, 512), GK_OK);
    ck_assert_int_eq(fmt_split_parse_name(buf, &plen, &no, &count), 1);
    ck_assert_uint_eq(plen, 3);
    ck_assert_uint_eq(no, 41);
    ck_assert_uint_eq(count, 512);
}
END_TEST

START_TEST(test_keys) {
    ck_assert_int_eq(fmt_split_is_key("split.no", 8), 1);
    ck_assert_int_eq(fmt_split_is_key("split.count", 11), 1);
    ck_assert_int_eq(fmt_split_is_key("split.tensors.count", 19), 1);
    ck_assert_int_eq(fmt_split_is_key("split.no", 7), 0);
    ck_assert_int_eq(fmt_split_is_key("split.tensors", 13), 0);
    ck_assert_int_eq(fmt_split_is_key("general.name", 12), 0);
    gk_status st;
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(fmt_split_add_keys(w, 2, 2, 1), GK_E_USAGE);
    ck_assert_int_eq(fmt_split_add_keys(w, 0, 65536, 1), GK_E_USAGE);
    ck_assert_int_eq(fmt_split_add_keys(w, 0, 2, (uint64_t)INT32_MAX + 1), GK_E_USAGE);
    ck_assert_int_eq(fmt_split_add_keys(w, 1, 65535, 7), GK_OK);
    fmt_gguf *g = fmt_gguf_writer_header_reader(w, &st);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(fmt_gguf_n_kv(g), 3);
    static const fmt_gguf_type types[] = {FMT_GGUF_U16, FMT_GGUF_U16, FMT_GGUF_I32};
    static const char *const keys[] = {"split.no", "split.count", "split.tensors.count"};
    for (uint64_t i = 0; i < 3; i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        ck_assert_uint_eq(kv->key.len, strlen(keys[i]));
        ck_assert(memcmp(kv->key.ptr, keys[i], kv->key.len) == 0);
        ck_assert_int_eq(kv->value.type, types[i]);
    }
    uint64_t v;
    ck_assert(fmt_gguf_get_u64(g, "split.count", &v) && v == 65535);
    fmt_gguf_close(g);
    fmt_gguf_writer_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Opening                                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(test_open_from_shard_2) {
    write_set();
    char err[1024] = "x";
    gk_status st = GK_E_IO;
    fmt_split *s = fmt_split_open(tpath("m-00002-of-00003.gguf"), &st, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(st, GK_OK);
    ck_assert_str_eq(err, "");
    ck_assert_uint_eq(fmt_split_count(s), 3);
    static const uint64_t n_tensors[] = {2, 1, 2};
    static const char *const first[] = {"a", "c", "d"};
    for (size_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "m-%05zu-of-00003.gguf", i + 1);
        ck_assert_str_eq(fmt_split_paths(s)[i], tpath(name));
        ck_assert_ptr_nonnull(fmt_split_inputs(s)[i]);
        const fmt_gguf *g = fmt_split_ggufs(s)[i];
        ck_assert_uint_eq(fmt_gguf_n_tensors(g), n_tensors[i]);
        ck_assert(memcmp(fmt_gguf_tensor_at(g, 0)->name.ptr, first[i], 1) == 0);
    }
    fmt_split_close(s);
    fmt_split_close(NULL);
}
END_TEST

START_TEST(test_open_plain_file) {
    write_shard("plain.gguf", shard(-1, 0, 0, "a b"));
    /* a shard's name on a file without split keys, but a set of one */
    write_shard("p-00001-of-00001.gguf", shard(-1, 0, 0, "a"));
    static const char *const names[] = {"plain.gguf", "p-00001-of-00001.gguf"};
    for (size_t i = 0; i < 2; i++) {
        char err[256];
        gk_status st;
        fmt_split *s = fmt_split_open(tpath(names[i]), &st, err, sizeof err);
        ck_assert_msg(s != NULL, "%s", err);
        ck_assert_uint_eq(fmt_split_count(s), 1);
        ck_assert_str_eq(fmt_split_paths(s)[0], tpath(names[i]));
        fmt_split_close(s);
    }
    expect_fail("absent.gguf", GK_E_IO, "absent.gguf", "cannot open");
}
END_TEST

START_TEST(test_missing_shard) {
    write_set();
    ck_assert_int_eq(remove(tpath("m-00003-of-00003.gguf")), 0);
    expect_fail("m-00001-of-00003.gguf", GK_E_IO, "m-00003-of-00003.gguf", "cannot open");
}
END_TEST

START_TEST(test_count_mismatch) {
    write_set();
    write_shard("m-00003-of-00003.gguf", shard(2, 4, 5, "d e"));
    expect_fail("m-00002-of-00003.gguf", GK_E_FORMAT, "m-00003-of-00003.gguf",
                "split.no 2 / split.count 4, expected 2 / 3");
    /* the file opened says 4 files, its name 3 */
    expect_fail("m-00003-of-00003.gguf", GK_E_FORMAT, "m-00003-of-00003.gguf",
                "shard of a 4-file split model, but the name is not NAME-0000K-of-00004.gguf");
    /* a shard in the wrong place */
    write_shard("m-00003-of-00003.gguf", shard(1, 3, 5, "d e"));
    expect_fail("m-00001-of-00003.gguf", GK_E_FORMAT, "m-00003-of-00003.gguf",
                "split.no 1 / split.count 3, expected 2 / 3");
}
END_TEST

START_TEST(test_name_required) {
    write_shard("renamed.gguf", shard(0, 3, 5, "a b"));
    expect_fail("renamed.gguf", GK_E_FORMAT, "renamed.gguf",
                "shard of a 3-file split model, but the name is not NAME-0000K-of-00003.gguf");
    write_shard("big-00001-of-00003.gguf", shard(0, 10000, 5, "a b"));
    expect_fail("big-00001-of-00003.gguf", GK_E_FORMAT, "big-00001-of-00003.gguf",
                "split.count 10000 is out of range (1..9999)");
}
END_TEST

START_TEST(test_keys_missing) {
    /* the name says shard 1 of 2, the file has no split keys */
    write_shard("x-00001-of-00002.gguf", shard(-1, 0, 0, "a"));
    write_shard("x-00002-of-00002.gguf", shard(1, 2, 2, "b"));
    expect_fail("x-00002-of-00002.gguf", GK_E_FORMAT, "x-00001-of-00002.gguf",
                "split shard without split.no/split.count/split.tensors.count");
    expect_fail("x-00001-of-00002.gguf", GK_E_FORMAT, "x-00001-of-00002.gguf",
                "split shard without split.no/split.count/split.tensors.count");
}
END_TEST

START_TEST(test_tensor_counts) {
    write_set();
    write_shard("m-00002-of-00003.gguf", shard(1, 3, 6, "c"));
    expect_fail("m-00001-of-00003.gguf", GK_E_FORMAT, "m-00002-of-00003.gguf",
                "split.tensors.count 6 differs from the first shard's 5");
    write_set();
    write_shard("m-00002-of-00003.gguf", shard(1, 3, 5, "c f"));
    expect_fail("m-00003-of-00003.gguf", GK_E_FORMAT, "m-00001-of-00003.gguf",
                "the 3 shards hold 6 tensors, split.tensors.count says 5");
    write_set();
    write_shard("m-00002-of-00003.gguf", shard(1, 3, -1, "c"));
    expect_fail("m-00003-of-00003.gguf", GK_E_FORMAT, "m-00002-of-00003.gguf",
                "split.tensors.count -1 is negative");
}
END_TEST

START_TEST(test_duplicate_tensor) {
    write_set();
    write_shard("m-00003-of-00003.gguf", shard(2, 3, 5, "d a"));
    expect_fail("m-00002-of-00003.gguf", GK_E_FORMAT, "m-00003-of-00003.gguf",
                "tensor 'a' is also in ");
    char err[1024];
    gk_status st;
    ck_assert_ptr_null(fmt_split_open(tpath("m-00001-of-00003.gguf"), &st, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, tpath("m-00001-of-00003.gguf")));
}
END_TEST

START_TEST(test_version_alignment) {
    write_set();
    shard_spec v2 = shard(1, 3, 5, "c");
    v2.version = 2;
    write_shard("m-00002-of-00003.gguf", v2);
    expect_fail("m-00001-of-00003.gguf", GK_E_FORMAT, "m-00002-of-00003.gguf",
                "GGUF version 2 differs from the first shard's 3");
    write_set();
    shard_spec a64 = shard(2, 3, 5, "d e");
    a64.alignment = 64;
    write_shard("m-00003-of-00003.gguf", a64);
    expect_fail("m-00001-of-00003.gguf", GK_E_FORMAT, "m-00003-of-00003.gguf",
                "alignment 64 differs from the first shard's 32");
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("split");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    UNIT_ADD_TESTS(tc, test_name_format, test_name_parse, test_keys, test_open_from_shard_2,
                   test_open_plain_file, test_missing_shard, test_count_mismatch,
                   test_name_required, test_keys_missing, test_tensor_counts, test_duplicate_tensor,
                   test_version_alignment);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
