/* safetensors_test.c -- safetensors reader: one test per validation rule,
 * each building the malformed file in a temporary directory. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/safetensors.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Fixture helpers                                                            */
/* ------------------------------------------------------------------------ */

static char tmpdir[256];

static void setup(void) {
    unit_mkdtemp(tmpdir, sizeof tmpdir, "st_test");
}

static void teardown(void) {
    unit_rmtree(tmpdir);
}

/* Path of name inside the temp dir (see unit_path). */
static const char *tpath(const char *name) {
    return unit_path(tmpdir, name);
}

/* Write a safetensors file: 8-byte length n_hdr (usually strlen(hdr)), the
 * header bytes, then data_len bytes of the pattern i & 0xff. */
static void write_st_raw(const char *path, uint64_t n_hdr, const char *hdr, size_t hdr_len,
                         size_t data_len) {
    size_t total = 8 + hdr_len + data_len;
    uint8_t *b = malloc(total);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(n_hdr >> (8 * i));
    memcpy(b + 8, hdr, hdr_len);
    for (size_t i = 0; i < data_len; i++)
        b[8 + hdr_len + i] = (uint8_t)i;
    unit_write_file(path, b, total);
    free(b);
}

static void write_st(const char *path, const char *hdr, size_t data_len) {
    write_st_raw(path, strlen(hdr), hdr, strlen(hdr), data_len);
}

/* Open path, expect failure with code and a message containing each of the
 * given fragments. */
static void expect_fail(const char *path, gk_status code, const char *frag1, const char *frag2) {
    gk_status st = GK_OK;
    fmt_safetensors *s = fmt_safetensors_open(path, &st);
    ck_assert_ptr_null(s);
    const char *msg = fmt_safetensors_open_errmsg();
    ck_assert_msg(st == code, "status %d, want %d: %s", st, code, msg);
    ck_assert_msg(strstr(msg, frag1) != NULL, "message '%s' lacks '%s'", msg, frag1);
    if (frag2)
        ck_assert_msg(strstr(msg, frag2) != NULL, "message '%s' lacks '%s'", msg, frag2);
}

/* Expect a header with data_len data bytes to be rejected. */
static void expect_hdr_fail(const char *hdr, size_t data_len, gk_status code, const char *frag1,
                            const char *frag2) {
    const char *p = tpath("bad.safetensors");
    write_st(p, hdr, data_len);
    expect_fail(p, code, frag1, frag2);
}

static fmt_safetensors *open_ok(const char *path) {
    gk_status st = GK_E_IO;
    fmt_safetensors *s = fmt_safetensors_open(path, &st);
    ck_assert_msg(s != NULL, "open failed: %s", fmt_safetensors_open_errmsg());
    ck_assert_int_eq(st, GK_OK);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Valid files                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(test_valid_single) {
    /* listed out of data order on purpose: the reader sorts by offset */
    const char *hdr = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                      "\"__metadata__\":{\"format\":\"pt\"},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
    const char *p = tpath("model.safetensors");
    write_st(p, hdr, 32);
    fmt_safetensors *s = open_ok(p);
    ck_assert_uint_eq(fmt_safetensors_n_tensors(s), 2);
    ck_assert_uint_eq(fmt_safetensors_n_shards(s), 1);
    ck_assert_str_eq(fmt_safetensors_shard_path(s, 0), p);
    const fmt_st_tensor *a = fmt_safetensors_tensor_at(s, 0);
    const fmt_st_tensor *b = fmt_safetensors_tensor_at(s, 1);
    ck_assert_str_eq(a->name, "a");
    ck_assert_str_eq(b->name, "b");
    ck_assert_int_eq(a->dtype, FMT_ST_F32);
    ck_assert_uint_eq(a->n_dims, 2);
    ck_assert_int_eq(a->shape[0], 2);
    ck_assert_int_eq(a->shape[1], 3);
    ck_assert_uint_eq(a->n_elements, 6);
    ck_assert_uint_eq(a->size, 24);
    ck_assert_uint_eq(a->offset, 8 + strlen(hdr));
    ck_assert_uint_eq(b->offset, 8 + strlen(hdr) + 24);
    ck_assert_uint_eq(a->data[0], 0);
    ck_assert_uint_eq(b->data[0], 24);
    ck_assert_uint_eq(b->data[7], 31);
    ck_assert_ptr_eq(fmt_safetensors_find(s, "b"), b);
    ck_assert_ptr_eq(fmt_safetensors_find(s, "a"), a);
    ck_assert_ptr_null(fmt_safetensors_find(s, "c"));
    ck_assert_ptr_null(fmt_safetensors_tensor_at(s, 2));
    ck_assert_uint_eq(fmt_safetensors_n_metadata(s), 1);
    const char *k, *v;
    fmt_safetensors_metadata_at(s, 0, &k, &v);
    ck_assert_str_eq(k, "format");
    ck_assert_str_eq(v, "pt");
    fmt_safetensors_close(s);
    fmt_safetensors_close(NULL);
}
END_TEST

START_TEST(test_all_dtypes) {
    static const char *names[] = {"F64", "F32", "F16", "BF16", "I64",     "I32",
                                  "I16", "I8",  "U8",  "BOOL", "F8_E4M3", "F8_E5M2"};
    static const size_t sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1, 1, 1};
    char hdr[4096];
    size_t n = (size_t)snprintf(hdr, sizeof hdr, "{");
    uint64_t off = 0;
    for (int d = 0; d < FMT_ST_DTYPE_COUNT; d++) {
        ck_assert_str_eq(fmt_st_dtype_name((fmt_st_dtype)d), names[d]);
        ck_assert_uint_eq(fmt_st_dtype_size((fmt_st_dtype)d), sizes[d]);
        n += (size_t)snprintf(
            hdr + n, sizeof hdr - n,
            "%s\"t%02d\":{\"dtype\":\"%s\",\"shape\":[3],\"data_offsets\":[%llu,%llu]}",
            d ? "," : "", d, names[d], (unsigned long long)off,
            (unsigned long long)(off + 3 * sizes[d]));
        off += 3 * sizes[d];
    }
    snprintf(hdr + n, sizeof hdr - n, "}");
    write_st(tpath("all.safetensors"), hdr, (size_t)off);
    fmt_safetensors *s = open_ok(tpath("all.safetensors"));
    ck_assert_uint_eq(fmt_safetensors_n_tensors(s), FMT_ST_DTYPE_COUNT);
    for (int d = 0; d < FMT_ST_DTYPE_COUNT; d++) {
        const fmt_st_tensor *t = fmt_safetensors_tensor_at(s, (uint64_t)d);
        ck_assert_int_eq(t->dtype, d);
        ck_assert_uint_eq(t->size, 3 * sizes[d]);
    }
    fmt_safetensors_close(s);
    ck_assert_str_eq(fmt_st_dtype_name(FMT_ST_DTYPE_COUNT), "?");
    ck_assert_uint_eq(fmt_st_dtype_size(FMT_ST_DTYPE_COUNT), 0);
}
END_TEST

/* Empty header, whitespace padding on both sides, zero-size tensors and a
 * scalar are all valid in the reference. */
START_TEST(test_valid_edge_cases) {
    write_st(tpath("e.safetensors"), " \t\n{}  \r\n", 0);
    fmt_safetensors *s = open_ok(tpath("e.safetensors"));
    ck_assert_uint_eq(fmt_safetensors_n_tensors(s), 0);
    ck_assert_ptr_null(fmt_safetensors_find(s, "x"));
    fmt_safetensors_close(s);

    write_st(tpath("z.safetensors"),
             "{\"z\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[0,0]},"
             "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},"
             "\"__metadata__\":null}",
             8);
    s = open_ok(tpath("z.safetensors"));
    ck_assert_uint_eq(fmt_safetensors_n_tensors(s), 2);
    const fmt_st_tensor *z = fmt_safetensors_find(s, "z");
    const fmt_st_tensor *sc = fmt_safetensors_find(s, "s");
    ck_assert_uint_eq(z->size, 0);
    ck_assert_uint_eq(sc->n_dims, 0);
    ck_assert_uint_eq(sc->n_elements, 1);
    ck_assert_ptr_eq(fmt_safetensors_tensor_at(s, 0), z); /* [0,0] sorts before [0,8] */
    fmt_safetensors_close(s);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Header framing                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_header_too_small) {
    unit_write_file(tpath("t.safetensors"), "\x01\x00\x00", 3);
    expect_fail(tpath("t.safetensors"), GK_E_FORMAT, "too small", "3 bytes");
    unit_write_file(tpath("t0.safetensors"), "", 0);
    expect_fail(tpath("t0.safetensors"), GK_E_FORMAT, "too small", "(at byte 0)");
}
END_TEST

START_TEST(test_header_too_large) {
    write_st_raw(tpath("t.safetensors"), FMT_ST_MAX_HEADER + 1ull, "{}", 2, 0);
    expect_fail(tpath("t.safetensors"), GK_E_FORMAT, "100000001 exceeds", "(at byte 0)");
    write_st_raw(tpath("t2.safetensors"), UINT64_MAX, "{}", 2, 0);
    expect_fail(tpath("t2.safetensors"), GK_E_FORMAT, "exceeds", NULL);
}
END_TEST

START_TEST(test_header_past_eof) {
    write_st_raw(tpath("t.safetensors"), 60, "{}", 2, 0);
    expect_fail(tpath("t.safetensors"), GK_E_FORMAT, "header length 60 runs past end of file",
                "(at byte 0)");
}
END_TEST

START_TEST(test_header_not_utf8) {
    write_st_raw(tpath("t.safetensors"), 4, "{\"\xff\"", 4, 0);
    expect_fail(tpath("t.safetensors"), GK_E_FORMAT, "not valid UTF-8", "(at byte 10)");
    /* overlong encoding of '/' and a UTF-16 surrogate */
    write_st_raw(tpath("t2.safetensors"), 4, "{\xc0\xaf}", 4, 0);
    expect_fail(tpath("t2.safetensors"), GK_E_FORMAT, "not valid UTF-8", "(at byte 9)");
    write_st_raw(tpath("t3.safetensors"), 5, "{\xed\xa0\x80}", 5, 0);
    expect_fail(tpath("t3.safetensors"), GK_E_FORMAT, "not valid UTF-8", "(at byte 9)");
}
END_TEST

START_TEST(test_header_start) {
    expect_hdr_fail("[]", 0, GK_E_FORMAT, "does not start with '{'", "(at byte 8)");
    expect_hdr_fail("  \"x\"", 0, GK_E_FORMAT, "does not start with '{'", "(at byte 10)");
    expect_hdr_fail("   ", 0, GK_E_FORMAT, "does not start with '{'", NULL);
}
END_TEST

START_TEST(test_header_not_json) {
    expect_hdr_fail("{", 0, GK_E_FORMAT, "not valid JSON", "(at byte");
    expect_hdr_fail("{} x", 0, GK_E_FORMAT, "not valid JSON", NULL);
    /* NUL padding is not JSON whitespace */
    write_st_raw(tpath("n.safetensors"), 4, "{}\0\0", 4, 0);
    expect_fail(tpath("n.safetensors"), GK_E_FORMAT, "not valid JSON", NULL);
}
END_TEST

START_TEST(test_duplicate_names) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                    "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                    2, GK_E_FORMAT, "duplicate", "(at byte");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Tensor entries                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_entry_fields) {
    expect_hdr_fail("{\"a\":[1]}", 0, GK_E_FORMAT, "tensor 'a': entry is not a JSON object", NULL);
    expect_hdr_fail("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, GK_E_FORMAT,
                    "missing \"dtype\"", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1, GK_E_FORMAT,
                    "missing \"shape\"", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, GK_E_FORMAT,
                    "missing \"data_offsets\"", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":8,\"shape\":[1],\"data_offsets\":[0,1]}}", 1, GK_E_FORMAT,
                    "dtype is not a string", NULL);
}
END_TEST

START_TEST(test_dtype) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                    GK_E_FORMAT, "unknown dtype 'Q4'", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                    GK_E_FORMAT, "unknown dtype", NULL);
    /* names reach messages without terminal control bytes */
    expect_hdr_fail("{\"\\u001b[2J\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                    GK_E_FORMAT, "tensor '?[2J': unknown dtype", NULL);
    /* valid in the reference, not handled here */
    expect_hdr_fail("{\"a\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2,
                    GK_E_UNSUPPORTED, "dtype U16 is not supported", NULL);
}
END_TEST

START_TEST(test_shape) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":3,\"data_offsets\":[0,3]}}", 3, GK_E_FORMAT,
                    "shape is not an array", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0,
                    GK_E_FORMAT, "shape[0] is not a non-negative integer", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,2.0],\"data_offsets\":[0,2]}}", 2,
                    GK_E_FORMAT, "shape[1] is not a non-negative integer", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[\"1\"],\"data_offsets\":[0,1]}}", 1,
                    GK_E_FORMAT, "shape[0]", NULL);
    expect_hdr_fail(
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
        GK_E_UNSUPPORTED, "9 dimensions", NULL);
}
END_TEST

START_TEST(test_offsets_shape) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1, GK_E_FORMAT,
                    "data_offsets is not an array [begin, end]", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1,
                    GK_E_FORMAT, "data_offsets is not an array", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1,
                    GK_E_FORMAT, "not non-negative integers", NULL);
}
END_TEST

/* InvalidOffset: the first tensor must begin at 0 and each following one
 * where the previous ended. */
START_TEST(test_offsets_gap) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", 8,
                    GK_E_FORMAT, "tensor 'a': data_offsets [4, 8] leave a gap of 4 bytes",
                    "(at byte 61)");
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[6,10]}}",
                    10, GK_E_FORMAT, "tensor 'b'", "gap of 2 bytes after offset 4");
}
END_TEST

START_TEST(test_offsets_overlap) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
                    6, GK_E_FORMAT, "tensor 'b': data_offsets [2, 6] overlap", "ends at 4");
    /* the same range twice */
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}",
                    4, GK_E_FORMAT, "overlap", NULL);
}
END_TEST

START_TEST(test_offsets_reversed) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,2]}}",
                    4, GK_E_FORMAT, "tensor 'b': data_offsets [4, 2] end before they begin", NULL);
}
END_TEST

/* TensorInvalidInfo: byte range != elements * dtype size. */
START_TEST(test_size_mismatch) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,4]}}", 4,
                    GK_E_FORMAT, "hold 4 bytes but I32 [2, 2] needs 16", "(at byte");
}
END_TEST

/* ValidationOverflow: element count or byte size past 64 bits. */
START_TEST(test_overflow) {
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,2],"
                    "\"data_offsets\":[0,16]}}",
                    16, GK_E_FORMAT, "overflows 64 bits", NULL);
    expect_hdr_fail("{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,1073741824],"
                    "\"data_offsets\":[0,16]}}",
                    16, GK_E_FORMAT, "overflows 64 bits", NULL);
    /* a shape too large for the reader's integers is invalid JSON to us */
    expect_hdr_fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551614],"
                    "\"data_offsets\":[0,16]}}",
                    16, GK_E_FORMAT, "not valid JSON", NULL);
}
END_TEST

/* MetadataIncompleteBuffer: the last tensor must end at end of file. */
START_TEST(test_incomplete_buffer) {
    const char *hdr = "{\"a\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    expect_hdr_fail(hdr, 20, GK_E_FORMAT, "4 bytes after the last tensor", "does not cover");
    expect_hdr_fail(hdr, 14, GK_E_FORMAT, "past end of file", NULL);
    expect_hdr_fail("{}", 1, GK_E_FORMAT, "1 bytes after the last tensor", "(at byte 10)");
}
END_TEST

START_TEST(test_metadata) {
    expect_hdr_fail("{\"__metadata__\":{\"format\":1}}", 0, GK_E_FORMAT,
                    "__metadata__ entry 'format' is not a string", NULL);
    expect_hdr_fail("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", 0, GK_E_FORMAT,
                    "__metadata__ entry 'a' is not a string", NULL);
    expect_hdr_fail("{\"__metadata__\":[\"x\"]}", 0, GK_E_FORMAT,
                    "__metadata__ is not a JSON object", NULL);
    expect_hdr_fail("{\"__metadata__\":{\"a\":\"x\",\"a\":\"y\"}}", 0, GK_E_FORMAT, "duplicate",
                    NULL);
}
END_TEST

/* The in-memory entry point validates the same way (fuzzing uses it). */
START_TEST(test_open_mem) {
    static const char img[] =
        "\x3c\0\0\0\0\0\0\0"
        "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
        "abcdefghijklmnop";
    gk_status st = GK_E_IO;
    fmt_safetensors *s = fmt_safetensors_open_mem((const uint8_t *)img, sizeof img - 1, "mem", &st);
    ck_assert_msg(s != NULL, "%s", fmt_safetensors_open_errmsg());
    const fmt_st_tensor *t = fmt_safetensors_find(s, "test");
    ck_assert_ptr_eq(t->data, (const uint8_t *)img + 68);
    ck_assert_uint_eq(t->size, 16);
    fmt_safetensors_close(s);
    s = fmt_safetensors_open_mem((const uint8_t *)img, sizeof img - 2, "mem", &st);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_ptr_nonnull(
        strstr(fmt_safetensors_open_errmsg(), "mem: tensor data ends at byte 84"));
    s = fmt_safetensors_open_mem(NULL, 0, "empty", &st);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(fmt_safetensors_open_errmsg(), "empty: file is 0 bytes"));
}
END_TEST

START_TEST(test_not_found) {
    expect_fail(tpath("nope.safetensors"), GK_E_IO, "nope.safetensors: cannot open", NULL);
    expect_fail(tmpdir, GK_E_IO, "neither model.safetensors.index.json nor model.safetensors",
                NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Sharded checkpoints                                                        */
/* ------------------------------------------------------------------------ */

#define SHARD1                                                                                     \
    "{\"__metadata__\":{\"format\":\"pt\"},"                                                       \
    "\"w1\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"                             \
    "\"w2\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[4,7]}}"
#define SHARD2 "{\"w3\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}"
#define MAP_OK                                                                                     \
    "\"w1\":\"model-00001-of-00002.safetensors\",\"w2\":\"model-00001-of-00002.safetensors\","     \
    "\"w3\":\"model-00002-of-00002.safetensors\""

static void write_shards(void) {
    write_st(tpath("model-00001-of-00002.safetensors"), SHARD1, 7);
    write_st(tpath("model-00002-of-00002.safetensors"), SHARD2, 8);
}

static void write_index(const char *weight_map_body) {
    char buf[2048];
    snprintf(buf, sizeof buf, "{\"metadata\":{\"total_size\":19},\"weight_map\":{%s}}",
             weight_map_body);
    unit_write_file(tpath("model.safetensors.index.json"), buf, strlen(buf));
}

START_TEST(test_sharded_valid) {
    write_shards();
    write_index(MAP_OK);
    /* the directory prefers the index */
    write_st(tpath("model.safetensors"), "{}", 0);
    for (int via_dir = 0; via_dir < 2; via_dir++) {
        fmt_safetensors *s = open_ok(via_dir ? tmpdir : tpath("model.safetensors.index.json"));
        ck_assert_uint_eq(fmt_safetensors_n_shards(s), 2);
        ck_assert_uint_eq(fmt_safetensors_n_tensors(s), 3);
        ck_assert_str_eq(fmt_safetensors_tensor_at(s, 0)->name, "w1");
        ck_assert_str_eq(fmt_safetensors_tensor_at(s, 2)->name, "w3");
        const fmt_st_tensor *w3 = fmt_safetensors_find(s, "w3");
        ck_assert_uint_eq(w3->shard, 1);
        ck_assert_uint_eq(w3->offset, 8 + strlen(SHARD2));
        ck_assert_ptr_nonnull(strstr(fmt_safetensors_shard_path(s, 1), "model-00002-of-00002"));
        ck_assert_uint_eq(fmt_safetensors_n_metadata(s), 2);
        const char *k, *v;
        fmt_safetensors_metadata_at(s, 1, &k, &v);
        ck_assert_str_eq(k, "total_size");
        ck_assert_str_eq(v, "19");
        fmt_safetensors_close(s);
    }
}
END_TEST

START_TEST(test_dir_single) {
    write_st(tpath("model.safetensors"),
             "{\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
    fmt_safetensors *s = open_ok(tmpdir);
    ck_assert_uint_eq(fmt_safetensors_n_tensors(s), 1);
    fmt_safetensors_close(s);
}
END_TEST

START_TEST(test_index_bad_json) {
    unit_write_file(tpath("model.safetensors.index.json"), "{\"weight_map\":", 14);
    expect_fail(tpath("model.safetensors.index.json"), GK_E_FORMAT, "not valid JSON", "(at byte");
    unit_write_file(tpath("model.safetensors.index.json"), "{\"metadata\":{}}", 15);
    expect_fail(tmpdir, GK_E_FORMAT, "\"weight_map\" is missing", NULL);
    unit_write_file(tpath("model.safetensors.index.json"), "{\"weight_map\":{}}", 17);
    expect_fail(tmpdir, GK_E_FORMAT, "\"weight_map\" lists no tensors", NULL);
    unit_write_file(tpath("model.safetensors.index.json"), "{\"weight_map\":{\"a\":1}}", 22);
    expect_fail(tmpdir, GK_E_FORMAT, "weight_map entry 'a' is not a string", NULL);
    unit_write_file(tpath("model.safetensors.index.json"),
                    "{\"weight_map\":{\"a\":\"x\",\"a\":\"x\"}}", 32);
    expect_fail(tmpdir, GK_E_FORMAT, "duplicate", NULL);
}
END_TEST

START_TEST(test_index_missing_file) {
    write_shards();
    write_index(MAP_OK ",\"w4\":\"model-00003-of-00002.safetensors\"");
    expect_fail(tmpdir, GK_E_FORMAT, "model-00003-of-00002.safetensors': does not exist",
                "model.safetensors.index.json: ");
}
END_TEST

START_TEST(test_index_path_escape) {
    write_shards();
    write_index("\"w1\":\"sub/model.safetensors\"");
    expect_fail(tmpdir, GK_E_FORMAT, "'sub/model.safetensors' is not a plain file name", NULL);
    write_index("\"w1\":\"../model.safetensors\"");
    expect_fail(tmpdir, GK_E_FORMAT, "is not a plain file name", NULL);
    write_index("\"w1\":\"/etc/passwd\"");
    expect_fail(tmpdir, GK_E_FORMAT, "'/etc/passwd' is not a plain file name", NULL);
    write_index("\"w1\":\"..\"");
    expect_fail(tmpdir, GK_E_FORMAT, "is not a plain file name", NULL);
    write_index("\"w1\":\"\"");
    expect_fail(tmpdir, GK_E_FORMAT, "empty file name", NULL);
}
END_TEST

START_TEST(test_index_symlink) {
    /* a symlink leaving the directory is refused ... */
    mkdir(tpath("m"), 0700);
    write_st(tpath("outside.safetensors"), SHARD2, 8);
    ck_assert_int_eq(symlink("../outside.safetensors", tpath("m/s.safetensors")), 0);
    unit_write_file(tpath("m/model.safetensors.index.json"),
                    "{\"weight_map\":{\"w3\":\"s.safetensors\"}}", 37);
    expect_fail(tpath("m"), GK_E_FORMAT, "'s.safetensors' resolves outside the index's directory",
                NULL);
    /* ... one staying inside is fine */
    write_st(tpath("m/real.safetensors"), SHARD2, 8);
    unlink(tpath("m/s.safetensors"));
    ck_assert_int_eq(symlink("real.safetensors", tpath("m/s.safetensors")), 0);
    fmt_safetensors *s = open_ok(tpath("m"));
    ck_assert_uint_eq(fmt_safetensors_n_tensors(s), 1);
    fmt_safetensors_close(s);
}
END_TEST

/* The hub cache links snapshots/<rev>/file to ../../blobs/<hash>. */
START_TEST(test_index_hub_cache) {
    mkdir(tpath("models--x"), 0700);
    mkdir(tpath("models--x/blobs"), 0700);
    mkdir(tpath("models--x/snapshots"), 0700);
    mkdir(tpath("models--x/snapshots/abc"), 0700);
    write_st(tpath("models--x/blobs/0123"), SHARD2, 8);
    ck_assert_int_eq(symlink("../../blobs/0123", tpath("models--x/snapshots/abc/a.safetensors")),
                     0);
    unit_write_file(tpath("models--x/snapshots/abc/model.safetensors.index.json"),
                    "{\"weight_map\":{\"w3\":\"a.safetensors\"}}", 37);
    fmt_safetensors *s = open_ok(tpath("models--x/snapshots/abc"));
    ck_assert_uint_eq(fmt_safetensors_n_tensors(s), 1);
    fmt_safetensors_close(s);
}
END_TEST

START_TEST(test_index_tensor_not_in_shard) {
    write_shards();
    write_index(MAP_OK ",\"w9\":\"model-00002-of-00002.safetensors\"");
    expect_fail(tmpdir, GK_E_FORMAT,
                "tensor 'w9' is mapped to 'model-00002-of-00002.safetensors' but is not in it",
                NULL);
}
END_TEST

START_TEST(test_index_wrong_shard) {
    write_shards();
    write_index("\"w1\":\"model-00001-of-00002.safetensors\","
                "\"w2\":\"model-00002-of-00002.safetensors\","
                "\"w3\":\"model-00002-of-00002.safetensors\"");
    expect_fail(tmpdir, GK_E_FORMAT, "tensor 'w2' is mapped to 'model-00002-of-00002.safetensors'",
                "but is in 'model-00001-of-00002.safetensors'");
}
END_TEST

START_TEST(test_index_unlisted_tensor) {
    write_shards();
    write_index("\"w1\":\"model-00001-of-00002.safetensors\","
                "\"w3\":\"model-00002-of-00002.safetensors\"");
    expect_fail(tmpdir, GK_E_FORMAT, "model-00001-of-00002.safetensors: holds tensor 'w2'",
                "does not list");
}
END_TEST

START_TEST(test_index_duplicate_across_shards) {
    write_st(tpath("a.safetensors"), SHARD2, 8);
    write_st(tpath("b.safetensors"), SHARD2, 8);
    write_index("\"w3\":\"a.safetensors\",\"w4\":\"b.safetensors\"");
    expect_fail(tmpdir, GK_E_FORMAT, "b.safetensors: tensor 'w3' is also in", "a.safetensors");
}
END_TEST

START_TEST(test_index_bad_shard) {
    write_shards();
    write_st(tpath("model-00002-of-00002.safetensors"), SHARD2, 9);
    write_index(MAP_OK);
    expect_fail(tmpdir, GK_E_FORMAT, "model-00002-of-00002.safetensors: 1 bytes after", NULL);
    /* __metadata__ of later shards is validated too */
    write_st(tpath("model-00002-of-00002.safetensors"), "{\"__metadata__\":{\"a\":true}}", 0);
    expect_fail(tmpdir, GK_E_FORMAT, "__metadata__ entry 'a' is not a string", NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Shared fixture                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_fixture_tiny_llama) {
    const char *shared = getenv("GGUFKIT_SHARED") ? getenv("GGUFKIT_SHARED") : "../shared";
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/hf-tiny-llama-bf16/model.safetensors", shared);
    if (access(path, R_OK) != 0) {
        const char *ci = getenv("CI");
        ck_assert_msg(!(ci && strcmp(ci, "true") == 0), "%s missing with CI=true", path);
        fprintf(stderr, "SKIP: ../shared not found\n");
        return;
    }
    fmt_safetensors *s = open_ok(path);
    ck_assert_uint_eq(fmt_safetensors_n_tensors(s), 21);
    const fmt_st_tensor *e = fmt_safetensors_tensor_at(s, 0);
    ck_assert_str_eq(e->name, "model.embed_tokens.weight");
    ck_assert_int_eq(e->dtype, FMT_ST_BF16);
    ck_assert_int_eq(e->shape[0], 32000);
    ck_assert_int_eq(e->shape[1], 64);
    ck_assert_uint_eq(e->offset, 8 + 2208);
    static const uint8_t head[4] = {0x81, 0x38, 0x75, 0x3c};
    ck_assert_mem_eq(e->data, head, 4);
    const fmt_st_tensor *last = fmt_safetensors_tensor_at(s, 20);
    ck_assert_str_eq(last->name, "lm_head.weight");
    ck_assert_uint_eq(last->offset + last->size, 8366888);
    const char *k, *v;
    ck_assert_uint_eq(fmt_safetensors_n_metadata(s), 1);
    fmt_safetensors_metadata_at(s, 0, &k, &v);
    ck_assert_str_eq(k, "format");
    ck_assert_str_eq(v, "pt");
    fmt_safetensors_close(s);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    UNIT_ADD_TESTS(
        tc, test_valid_single, test_all_dtypes, test_valid_edge_cases, test_header_too_small,
        test_header_too_large, test_header_past_eof, test_header_not_utf8, test_header_start,
        test_header_not_json, test_duplicate_names, test_entry_fields, test_dtype, test_shape,
        test_offsets_shape, test_offsets_gap, test_offsets_overlap, test_offsets_reversed,
        test_size_mismatch, test_overflow, test_incomplete_buffer, test_metadata, test_not_found,
        test_open_mem, test_sharded_valid, test_dir_single, test_index_bad_json,
        test_index_missing_file, test_index_path_escape, test_index_symlink, test_index_hub_cache,
        test_index_tensor_not_in_shard, test_index_wrong_shard, test_index_unlisted_tensor,
        test_index_duplicate_across_shards, test_index_bad_shard, test_fixture_tiny_llama);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
