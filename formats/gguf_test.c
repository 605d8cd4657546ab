/* gguf_test.c -- GGUF reader and writer: every validation rule on a file
 * built in memory, truncation at every byte, the writer's layout, and a
 * byte-for-byte rewrite of the real fixtures in ../shared. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "tests/unit.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* ------------------------------------------------------------------------ */
/* Building files in memory                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void b_put(buf *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void b_u8(buf *b, uint8_t v) {
    b_put(b, &v, 1);
}

static void b_u32(buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    b_put(b, x, 4);
}

static void b_u64(buf *b, uint64_t v) {
    b_u32(b, (uint32_t)v);
    b_u32(b, (uint32_t)(v >> 32));
}

static void b_strn(buf *b, const char *s, size_t n) {
    b_u64(b, n);
    b_put(b, s, n);
}

static void b_str(buf *b, const char *s) {
    b_strn(b, s, strlen(s));
}

static void b_hdr(buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b->n = 0;
    b_put(b, "GGUF", 4);
    b_u32(b, version);
    b_u64(b, n_tensors);
    b_u64(b, n_kv);
}

static void b_key(buf *b, const char *key, uint32_t type) {
    b_str(b, key);
    b_u32(b, type);
}

static void b_kv_u32(buf *b, const char *key, uint32_t v) {
    b_key(b, key, FMT_GGUF_U32);
    b_u32(b, v);
}

static void b_ti(buf *b, const char *name, uint32_t nd, const int64_t *ne, int32_t type,
                 uint64_t off) {
    b_str(b, name);
    b_u32(b, nd);
    for (uint32_t j = 0; j < nd; j++)
        b_u64(b, (uint64_t)ne[j]);
    b_u32(b, (uint32_t)type);
    b_u64(b, off);
}

/* Pad to align, then n data bytes of the pattern i*7. */
static void b_data(buf *b, size_t align, size_t n) {
    while (b->n % align)
        b_u8(b, 0);
    for (size_t i = 0; i < n; i++)
        b_u8(b, (uint8_t)(i * 7));
}

/* Open an exact-size heap copy (so ASan sees any read past the end). */
static fmt_gguf *open_copy(const buf *b, size_t n, gk_status *st, uint8_t **copy) {
    *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(*copy);
    memcpy(*copy, b->p, n);
    return fmt_gguf_open_memory(*copy, n, st);
}

static void expect_fail_st(const buf *b, gk_status want, const char *part, const char *at) {
    gk_status st = GK_OK;
    uint8_t *copy;
    fmt_gguf *g = open_copy(b, b->n, &st, &copy);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(st, want);
    const char *m = fmt_gguf_open_errmsg();
    ck_assert_msg(strstr(m, part) != NULL, "message '%s' lacks '%s'", m, part);
    if (at)
        ck_assert_msg(strstr(m, at) != NULL, "message '%s' lacks '%s'", m, at);
    free(copy);
}

#define expect_fail(b, part, at) expect_fail_st((b), GK_E_FORMAT, (part), (at))

static fmt_gguf *expect_ok(const buf *b, uint8_t **copy) {
    gk_status st = GK_E_IO;
    fmt_gguf *g = open_copy(b, b->n, &st, copy);
    ck_assert_msg(g != NULL, "open failed: %s", fmt_gguf_open_errmsg());
    ck_assert_int_eq(st, GK_OK);
    return g;
}

/* A file with every value type, nested arrays and three tensors. */
static void build_rich(buf *b) {
    b_hdr(b, 3, 3, 17);
    b_key(b, "a.u8", FMT_GGUF_U8);
    b_u8(b, 200);
    b_key(b, "a.i8", FMT_GGUF_I8);
    b_u8(b, 0xFE);
    b_key(b, "a.u16", FMT_GGUF_U16);
    b_u8(b, 0xEF);
    b_u8(b, 0xBE);
    b_key(b, "a.i16", FMT_GGUF_I16);
    b_u8(b, 0x00);
    b_u8(b, 0x80);
    b_kv_u32(b, "a.u32", 4000000000u);
    b_key(b, "a.i32", FMT_GGUF_I32);
    b_u32(b, (uint32_t)-7);
    b_key(b, "a.f32", FMT_GGUF_F32);
    float f = 1e-5f;
    uint32_t fb;
    memcpy(&fb, &f, 4);
    b_u32(b, fb);
    b_key(b, "a.bool", FMT_GGUF_BOOL);
    b_u8(b, 1);
    b_key(b, "a.str", FMT_GGUF_STRING);
    b_str(b, "h\xc3\xa9llo");
    b_key(b, "a.u64", FMT_GGUF_U64);
    b_u64(b, UINT64_MAX);
    b_key(b, "a.i64", FMT_GGUF_I64);
    b_u64(b, (uint64_t)INT64_MIN);
    b_key(b, "a.f64", FMT_GGUF_F64);
    double d = -2.5;
    uint64_t db;
    memcpy(&db, &d, 8);
    b_u64(b, db);
    b_key(b, "arr.i32", FMT_GGUF_ARRAY);
    b_u32(b, FMT_GGUF_I32);
    b_u64(b, 3);
    b_u32(b, 1);
    b_u32(b, (uint32_t)-2);
    b_u32(b, 3);
    b_key(b, "arr.str", FMT_GGUF_ARRAY);
    b_u32(b, FMT_GGUF_STRING);
    b_u64(b, 3);
    b_str(b, "x");
    b_str(b, "");
    b_str(b, "zzz");
    /* [[1,2],[3]] of u8, then [["p"],[]] of strings */
    b_key(b, "arr.nested", FMT_GGUF_ARRAY);
    b_u32(b, FMT_GGUF_ARRAY);
    b_u64(b, 2);
    b_u32(b, FMT_GGUF_U8);
    b_u64(b, 2);
    b_u8(b, 1);
    b_u8(b, 2);
    b_u32(b, FMT_GGUF_U8);
    b_u64(b, 1);
    b_u8(b, 3);
    b_key(b, "arr.nested_str", FMT_GGUF_ARRAY);
    b_u32(b, FMT_GGUF_ARRAY);
    b_u64(b, 2);
    b_u32(b, FMT_GGUF_STRING);
    b_u64(b, 1);
    b_str(b, "p");
    b_u32(b, FMT_GGUF_STRING);
    b_u64(b, 0);
    b_key(b, "arr.empty", FMT_GGUF_ARRAY);
    b_u32(b, FMT_GGUF_F32);
    b_u64(b, 0);
    int64_t ne0[2] = {4, 3};    /* f32: 48 bytes -> padded 64 */
    int64_t ne1[1] = {64};      /* q8_0: 2 blocks of 34 = 68 bytes -> 96 */
    int64_t ne2[3] = {2, 1, 5}; /* f16: 20 bytes */
    b_ti(b, "t.f32", 2, ne0, KERN_TYPE_F32, 0);
    b_ti(b, "t.q8", 1, ne1, KERN_TYPE_Q8_0, 64);
    b_ti(b, "t.f16", 3, ne2, KERN_TYPE_F16, 160);
    b_data(b, 32, 180);
}

/* ------------------------------------------------------------------------ */
/* Reading a valid file                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(test_rich_file) {
    buf b = {0};
    build_rich(&b);
    uint8_t *copy;
    fmt_gguf *g = expect_ok(&b, &copy);
    ck_assert_uint_eq(fmt_gguf_version(g), 3);
    ck_assert_uint_eq(fmt_gguf_n_kv(g), 17);
    ck_assert_uint_eq(fmt_gguf_n_tensors(g), 3);
    ck_assert_uint_eq(fmt_gguf_alignment(g), 32);
    ck_assert_uint_eq(fmt_gguf_data_offset(g) % 32, 0);
    ck_assert_uint_eq(fmt_gguf_data_offset(g), b.n - 180);

    uint64_t u;
    int64_t i;
    double d;
    int bl;
    fmt_str s;
    ck_assert(fmt_gguf_get_u64(g, "a.u8", &u) && u == 200);
    ck_assert(fmt_gguf_get_i64(g, "a.i8", &i) && i == -2);
    ck_assert(!fmt_gguf_get_u64(g, "a.i8", &u)); /* negative */
    ck_assert(fmt_gguf_get_u64(g, "a.u16", &u) && u == 0xBEEF);
    ck_assert(fmt_gguf_get_i64(g, "a.i16", &i) && i == -32768);
    ck_assert(fmt_gguf_get_u64(g, "a.u32", &u) && u == 4000000000u);
    ck_assert(fmt_gguf_get_i64(g, "a.i32", &i) && i == -7);
    ck_assert(fmt_gguf_get_f64(g, "a.f32", &d) && d == (double)1e-5f);
    ck_assert(fmt_gguf_get_bool(g, "a.bool", &bl) && bl == 1);
    ck_assert(!fmt_gguf_get_bool(g, "a.u8", &bl));
    ck_assert(fmt_gguf_get_str(g, "a.str", &s) && s.len == 6 &&
              memcmp(s.ptr, "h\xc3\xa9llo", 6) == 0);
    ck_assert(!fmt_gguf_get_str(g, "a.u8", &s));
    ck_assert(fmt_gguf_get_u64(g, "a.u64", &u) && u == UINT64_MAX);
    ck_assert(!fmt_gguf_get_i64(g, "a.u64", &i)); /* > INT64_MAX */
    ck_assert(fmt_gguf_get_i64(g, "a.i64", &i) && i == INT64_MIN);
    ck_assert(fmt_gguf_get_f64(g, "a.f64", &d) && d == -2.5);
    ck_assert(fmt_gguf_get_f64(g, "a.i32", &d) && d == -7.0);
    ck_assert(!fmt_gguf_get_u64(g, "missing", &u));
    ck_assert_ptr_null(fmt_gguf_find_kv(g, "a.u3"));

    const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, 0);
    ck_assert_uint_eq(kv->offset, 24);
    ck_assert_uint_eq(kv->key.len, 4);
    ck_assert_ptr_null(fmt_gguf_kv_at(g, 17));

    /* arrays */
    fmt_gguf_iter it;
    fmt_gguf_value v;
    kv = fmt_gguf_find_kv(g, "arr.i32");
    ck_assert_int_eq(kv->value.type, FMT_GGUF_ARRAY);
    ck_assert_int_eq(kv->value.v.arr.elem_type, FMT_GGUF_I32);
    ck_assert_uint_eq(kv->value.v.arr.raw_len, 12);
    fmt_gguf_iter_init(&it, &kv->value);
    int64_t want[3] = {1, -2, 3};
    for (int k = 0; k < 3; k++) {
        ck_assert(fmt_gguf_iter_next(&it, &v));
        ck_assert_int_eq(v.v.i, want[k]);
    }
    ck_assert(!fmt_gguf_iter_next(&it, &v));

    kv = fmt_gguf_find_kv(g, "arr.str");
    fmt_gguf_iter_init(&it, &kv->value);
    const char *ws[3] = {"x", "", "zzz"};
    for (int k = 0; k < 3; k++) {
        ck_assert(fmt_gguf_iter_next(&it, &v));
        ck_assert_int_eq(v.type, FMT_GGUF_STRING);
        ck_assert_uint_eq(v.v.s.len, strlen(ws[k]));
        ck_assert(memcmp(v.v.s.ptr, ws[k], v.v.s.len) == 0);
    }
    ck_assert(!fmt_gguf_iter_next(&it, &v));

    kv = fmt_gguf_find_kv(g, "arr.nested");
    fmt_gguf_iter_init(&it, &kv->value);
    ck_assert(fmt_gguf_iter_next(&it, &v));
    ck_assert_int_eq(v.type, FMT_GGUF_ARRAY);
    ck_assert_uint_eq(v.v.arr.n, 2);
    fmt_gguf_iter inner;
    fmt_gguf_value e;
    fmt_gguf_iter_init(&inner, &v);
    ck_assert(fmt_gguf_iter_next(&inner, &e) && e.v.u == 1);
    ck_assert(fmt_gguf_iter_next(&inner, &e) && e.v.u == 2);
    ck_assert(!fmt_gguf_iter_next(&inner, &e));
    ck_assert(fmt_gguf_iter_next(&it, &v));
    ck_assert_uint_eq(v.v.arr.n, 1);
    fmt_gguf_iter_init(&inner, &v);
    ck_assert(fmt_gguf_iter_next(&inner, &e) && e.v.u == 3);
    ck_assert(!fmt_gguf_iter_next(&it, &v));

    kv = fmt_gguf_find_kv(g, "arr.nested_str");
    fmt_gguf_iter_init(&it, &kv->value);
    ck_assert(fmt_gguf_iter_next(&it, &v));
    fmt_gguf_iter_init(&inner, &v);
    ck_assert(fmt_gguf_iter_next(&inner, &e) && e.v.s.len == 1 && e.v.s.ptr[0] == 'p');
    ck_assert(fmt_gguf_iter_next(&it, &v) && v.v.arr.n == 0);
    ck_assert(!fmt_gguf_iter_next(&it, &v));

    /* tensors */
    const fmt_gguf_tensor *t = fmt_gguf_find_tensor(g, "t.q8");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(fmt_gguf_tensor_index(g, "t.q8"), 1);
    ck_assert_int_eq(fmt_gguf_tensor_index(g, "t.q"), -1);
    ck_assert_uint_eq(t->size, 68);
    ck_assert_uint_eq(t->offset, 64);
    ck_assert_int_eq(t->type, KERN_TYPE_Q8_0);
    ck_assert_uint_eq(t->n_dims, 1);
    ck_assert_int_eq(t->ne[1], 1);
    t = fmt_gguf_tensor_at(g, 2);
    ck_assert_uint_eq(t->n_elements, 10);
    ck_assert_uint_eq(t->size, 20);
    ck_assert_int_eq(t->ne[2], 5);
    ck_assert_int_eq(t->ne[3], 1);
    const uint64_t *order = fmt_gguf_offset_order(g);
    for (uint64_t k = 0; k < 3; k++)
        ck_assert_uint_eq(order[k], k);
    uint8_t tb[68];
    ck_assert_int_eq(fmt_gguf_read_tensor(g, 1, tb), GK_OK);
    for (int k = 0; k < 68; k++)
        ck_assert_uint_eq(tb[k], (uint8_t)((64 + k) * 7));
    ck_assert_ptr_eq(fmt_gguf_tensor_data(g, 1), copy + fmt_gguf_data_offset(g) + 64);
    ck_assert_int_eq(fmt_gguf_read_tensor(g, 3, tb), GK_E_USAGE);
    fmt_gguf_close(g);
    free(copy);
    free(b.p);
}
END_TEST

START_TEST(test_type_names) {
    ck_assert_str_eq(fmt_gguf_type_name(FMT_GGUF_STRING), "str");
    ck_assert_str_eq(fmt_gguf_type_name(FMT_GGUF_ARRAY), "arr");
    ck_assert_str_eq(fmt_gguf_type_name(FMT_GGUF_F64), "f64");
    ck_assert_str_eq(fmt_gguf_type_name((fmt_gguf_type)13), "?");
    ck_assert_uint_eq(fmt_gguf_type_size(FMT_GGUF_U16), 2);
    ck_assert_uint_eq(fmt_gguf_type_size(FMT_GGUF_BOOL), 1);
    ck_assert_uint_eq(fmt_gguf_type_size(FMT_GGUF_STRING), 0);
    ck_assert_uint_eq(fmt_gguf_type_size(FMT_GGUF_I64), 8);
}
END_TEST

START_TEST(test_version2_and_alignment) {
    buf b = {0};
    b_hdr(&b, 2, 2, 1);
    b_kv_u32(&b, "general.alignment", 64);
    int64_t ne[1] = {8};
    b_ti(&b, "a", 1, ne, KERN_TYPE_F32, 0);
    b_ti(&b, "b", 1, ne, KERN_TYPE_F32, 64);
    b_data(&b, 64, 96);
    uint8_t *copy;
    fmt_gguf *g = expect_ok(&b, &copy);
    ck_assert_uint_eq(fmt_gguf_version(g), 2);
    ck_assert_uint_eq(fmt_gguf_alignment(g), 64);
    ck_assert_uint_eq(fmt_gguf_data_offset(g) % 64, 0);
    fmt_gguf_close(g);
    free(copy);

    /* a 32-aligned offset is unaligned under general.alignment 64 */
    b_hdr(&b, 3, 2, 1);
    b_kv_u32(&b, "general.alignment", 64);
    b_ti(&b, "a", 1, ne, KERN_TYPE_F32, 0);
    b_ti(&b, "b", 1, ne, KERN_TYPE_F32, 32);
    b_data(&b, 64, 96);
    expect_fail(&b, "data offset 32 is not a multiple of the alignment 64", "(at byte ");

    b_hdr(&b, 3, 0, 1);
    b_key(&b, "general.alignment", FMT_GGUF_U64);
    b_u64(&b, 32);
    expect_fail(&b, "general.alignment must be u32, not u64", "(at byte 24)");
    b_hdr(&b, 3, 0, 1);
    b_kv_u32(&b, "general.alignment", 0);
    expect_fail(&b, "general.alignment 0 is not a non-zero power of two", "(at byte 24)");
    b_hdr(&b, 3, 0, 1);
    b_kv_u32(&b, "general.alignment", 48);
    expect_fail(&b, "general.alignment 48 is not a non-zero power of two", "(at byte 24)");
    free(b.p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Validation rules                                                           */
/* ------------------------------------------------------------------------ */

START_TEST(test_bad_magic) {
    buf b = {0};
    b_hdr(&b, 3, 0, 0);
    b.p[0] = 'X';
    expect_fail(&b, "bad magic", "(at byte 0)");
    b.n = 2;
    expect_fail(&b, "unexpected end of file in magic", "(at byte 0)");
    free(b.p);
}
END_TEST

START_TEST(test_versions) {
    buf b = {0};
    b_hdr(&b, 1, 0, 0);
    expect_fail_st(&b, GK_E_UNSUPPORTED, "GGUF version 1 is not supported (only 2 and 3)",
                   "(at byte 4)");
    b_hdr(&b, 4, 0, 0);
    expect_fail_st(&b, GK_E_UNSUPPORTED, "GGUF version 4 is not supported (only 2 and 3)",
                   "(at byte 4)");
    b_hdr(&b, 0, 0, 0);
    expect_fail(&b, "GGUF version 0 is not supported", "(at byte 4)");
    b_hdr(&b, 0x03000000u, 0, 0); /* version 3 written big-endian */
    expect_fail_st(&b, GK_E_UNSUPPORTED, "big-endian GGUF", "(at byte 4)");
    b_hdr(&b, 3, 0, 0);
    uint8_t *copy;
    fmt_gguf *g = expect_ok(&b, &copy);
    ck_assert_uint_eq(fmt_gguf_n_kv(g), 0);
    ck_assert_uint_eq(fmt_gguf_header_size(g), 24);
    fmt_gguf_close(g);
    free(copy);
    free(b.p);
}
END_TEST

START_TEST(test_counts_cannot_fit) {
    buf b = {0};
    b_hdr(&b, 3, 1, 0);
    expect_fail(&b, "tensor count 1 cannot fit in the 0 bytes that remain", "(at byte 8)");
    b_hdr(&b, 3, UINT64_MAX, 0);
    expect_fail(&b, "tensor count 18446744073709551615 cannot fit", "(at byte 8)");
    b_hdr(&b, 3, 0, (uint64_t)1 << 62);
    expect_fail(&b, "KV count 4611686018427387904 cannot fit", "(at byte 16)");
    /* 13 bytes fit one minimal KV, not two */
    b_hdr(&b, 3, 0, 2);
    b_key(&b, "k", FMT_GGUF_U8);
    b_u8(&b, 1);
    expect_fail(&b, "KV count 2 cannot fit in the 14 bytes that remain", "(at byte 16)");
    free(b.p);
}
END_TEST

START_TEST(test_lengths_past_end) {
    buf b = {0};
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "k", FMT_GGUF_STRING);
    b_u64(&b, 1000);
    b_put(&b, "abc", 3);
    expect_fail(&b, "string length 1000 runs past the end of the file (3 bytes remain)",
                "(at byte 37)");
    b_hdr(&b, 3, 0, 1);
    b_u64(&b, 5000);
    b_put(&b, "kkkkkkkkkkkkk", 13);
    expect_fail(&b, "key length 5000 runs past the end", "(at byte 24)");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "k", FMT_GGUF_ARRAY);
    b_u32(&b, FMT_GGUF_U32);
    b_u64(&b, 4);
    b_u32(&b, 1);
    b_u32(&b, 2);
    expect_fail(&b, "array of 4 u32 elements runs past the end of the file", "(at byte 41)");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "k", FMT_GGUF_ARRAY);
    b_u32(&b, FMT_GGUF_STRING);
    b_u64(&b, UINT64_MAX / 2);
    b_str(&b, "s");
    expect_fail(&b, "array of 9223372036854775807 str elements runs past", "(at byte 41)");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "k", FMT_GGUF_ARRAY);
    b_u32(&b, FMT_GGUF_U64);
    b_u64(&b, UINT64_MAX / 4); /* n * 8 would wrap */
    b_u64(&b, 0);
    expect_fail(&b, "array of 4611686018427387903 u64 elements runs past", "(at byte 41)");
    free(b.p);
}
END_TEST

START_TEST(test_unknown_types) {
    buf b = {0};
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "weird", 13);
    b_u64(&b, 0);
    expect_fail(&b, "key 'weird': unknown value type 13", "(at byte 37)");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "k", FMT_GGUF_ARRAY);
    b_u32(&b, 99);
    b_u64(&b, 0);
    expect_fail(&b, "unknown array element type 99", "(at byte 37)");
    int64_t ne[1] = {32};
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 1, ne, 4, 0); /* 4 = retired Q4_2 */
    b_data(&b, 32, 128);
    expect_fail(&b, "tensor 't': unknown tensor type 4", "(at byte 45)");
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 1, ne, KERN_TYPE_COUNT, 0);
    b_data(&b, 32, 128);
    expect_fail(&b, "unknown tensor type 43", "(at byte 45)");
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 1, ne, -1, 0);
    b_data(&b, 32, 128);
    expect_fail(&b, "unknown tensor type -1", "(at byte 45)");
    free(b.p);
}
END_TEST

/* A bool is 0 or 1, alone or in an array; any other byte is refused at
 * its offset, naming the key. */
START_TEST(test_bools) {
    buf b = {0};
    uint8_t *copy;
    b_hdr(&b, 3, 0, 2);
    b_key(&b, "yes", FMT_GGUF_BOOL);
    b_u8(&b, 1);
    b_key(&b, "flags", FMT_GGUF_ARRAY);
    b_u32(&b, FMT_GGUF_BOOL);
    b_u64(&b, 2);
    b_u8(&b, 0);
    b_u8(&b, 1);
    fmt_gguf_close(expect_ok(&b, &copy));
    free(copy);
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "b", FMT_GGUF_BOOL);
    b_u8(&b, 2);
    expect_fail(&b, "key 'b': bool value 2 is not 0 or 1", "(at byte 37)");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "a", FMT_GGUF_ARRAY);
    b_u32(&b, FMT_GGUF_BOOL);
    b_u64(&b, 3);
    b_u8(&b, 1);
    b_u8(&b, 0);
    b_u8(&b, 0x80);
    expect_fail(&b, "key 'a': bool value 128 is not 0 or 1", "(at byte 51)");
    free(b.p);
}
END_TEST

/* An array nested depth levels deep, innermost holding one u8. */
static void nested(buf *b, int depth) {
    b_hdr(b, 3, 0, 1);
    b_key(b, "deep", FMT_GGUF_ARRAY);
    for (int k = 1; k < depth; k++) {
        b_u32(b, FMT_GGUF_ARRAY);
        b_u64(b, 1);
    }
    b_u32(b, FMT_GGUF_U8);
    b_u64(b, 1);
    b_u8(b, 42);
}

START_TEST(test_array_depth) {
    buf b = {0};
    nested(&b, FMT_GGUF_MAX_ARRAY_DEPTH);
    uint8_t *copy;
    fmt_gguf *g = expect_ok(&b, &copy);
    fmt_gguf_value v = fmt_gguf_find_kv(g, "deep")->value;
    for (int k = 1; k < FMT_GGUF_MAX_ARRAY_DEPTH; k++) {
        fmt_gguf_iter it;
        fmt_gguf_iter_init(&it, &v);
        ck_assert(fmt_gguf_iter_next(&it, &v));
        ck_assert_int_eq(v.type, FMT_GGUF_ARRAY);
    }
    ck_assert_int_eq(v.v.arr.elem_type, FMT_GGUF_U8);
    ck_assert_uint_eq(v.v.arr.raw[0], 42);
    fmt_gguf_close(g);
    free(copy);
    nested(&b, FMT_GGUF_MAX_ARRAY_DEPTH + 1);
    /* the 9th array header sits after 8 (type + count) headers */
    char at[32];
    snprintf(at, sizeof at, "(at byte %d)", 24 + 8 + 4 + 4 + 12 * FMT_GGUF_MAX_ARRAY_DEPTH);
    expect_fail(&b, "arrays nested more than 8 deep", at);
    free(b.p);
}
END_TEST

START_TEST(test_duplicates) {
    buf b = {0};
    b_hdr(&b, 3, 0, 3);
    b_kv_u32(&b, "a", 1);
    b_kv_u32(&b, "b", 2);
    b_kv_u32(&b, "a", 3);
    expect_fail(&b, "duplicate key 'a' (also KV 0)", "(at byte 58)");
    int64_t ne[1] = {8};
    b_hdr(&b, 3, 3, 0);
    b_ti(&b, "x", 1, ne, KERN_TYPE_F32, 0);
    b_ti(&b, "y", 1, ne, KERN_TYPE_F32, 32);
    size_t third = b.n;
    b_ti(&b, "x", 1, ne, KERN_TYPE_F32, 64);
    b_data(&b, 32, 96);
    char at[32];
    snprintf(at, sizeof at, "(at byte %zu)", third);
    expect_fail(&b, "duplicate tensor name 'x' (also tensor 0)", at);
    free(b.p);
}
END_TEST

START_TEST(test_tensor_names) {
    buf b = {0};
    int64_t ne[1] = {8};
    char name[80];
    memset(name, 'n', sizeof name);
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "", 1, ne, KERN_TYPE_F32, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 0 has an empty name", "(at byte 24)");
    b_hdr(&b, 3, 1, 0);
    b_str(&b, "");
    b.n -= 8;
    b_strn(&b, name, 64);
    b_u32(&b, 1);
    b_u64(&b, 8);
    b_u32(&b, KERN_TYPE_F32);
    b_u64(&b, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 0: name is 64 bytes, longer than 63", "(at byte 24)");
    /* 63 bytes is the longest accepted */
    b_hdr(&b, 3, 1, 0);
    b_strn(&b, name, 63);
    b_u32(&b, 1);
    b_u64(&b, 8);
    b_u32(&b, KERN_TYPE_F32);
    b_u64(&b, 0);
    b_data(&b, 32, 32);
    uint8_t *copy;
    fmt_gguf *g = expect_ok(&b, &copy);
    ck_assert_uint_eq(fmt_gguf_tensor_at(g, 0)->name.len, 63);
    fmt_gguf_close(g);
    free(copy);
    free(b.p);
}
END_TEST

START_TEST(test_dims) {
    buf b = {0};
    int64_t ne[5] = {8, 1, 1, 1, 1};
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 0, ne, KERN_TYPE_F32, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 't': n_dims 0 outside 1..4", "(at byte 33)");
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 5, ne, KERN_TYPE_F32, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 't': n_dims 5 outside 1..4", "(at byte 33)");
    int64_t z[2] = {8, 0};
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 2, z, KERN_TYPE_F32, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 't': dimension 1 is 0, must be positive", "(at byte 45)");
    int64_t neg[2] = {-8, 2};
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 2, neg, KERN_TYPE_F32, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 't': dimension 0 is -8, must be positive", "(at byte 37)");
    int64_t big[3] = {(int64_t)1 << 40, (int64_t)1 << 20, (int64_t)1 << 4};
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 3, big, KERN_TYPE_F32, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 't': element count overflows int64", "(at byte 37)");
    /* elements fit int64 but bytes do not fit uint64 */
    int64_t huge[2] = {(int64_t)1 << 31, (int64_t)1 << 31};
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 2, huge, KERN_TYPE_F64, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 't': data size overflows", "(at byte 53)");
    free(b.p);
}
END_TEST

START_TEST(test_block_size) {
    buf b = {0};
    int64_t ne[2] = {33, 2};
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 2, ne, KERN_TYPE_Q4_0, 0);
    b_data(&b, 32, 64);
    expect_fail(&b, "tensor 't': row of 33 elements is not a multiple of the Q4_0 block size 32",
                "(at byte 53)");
    int64_t k[1] = {512};
    b_hdr(&b, 3, 1, 0);
    b_ti(&b, "t", 1, k, KERN_TYPE_Q4_K, 0);
    b_data(&b, 32, 288);
    uint8_t *copy;
    fmt_gguf *g = expect_ok(&b, &copy);
    ck_assert_uint_eq(fmt_gguf_tensor_at(g, 0)->size, 288);
    fmt_gguf_close(g);
    free(copy);
    free(b.p);
}
END_TEST

START_TEST(test_offsets) {
    buf b = {0};
    int64_t ne[1] = {10}; /* 40 bytes, padded to 64 */
    b_hdr(&b, 3, 2, 0);
    b_ti(&b, "a", 1, ne, KERN_TYPE_F32, 0);
    b_ti(&b, "b", 1, ne, KERN_TYPE_F32, 48);
    b_data(&b, 32, 200);
    expect_fail(&b, "tensor 'b': data offset 48 is not a multiple of the alignment 32",
                "(at byte 82)");
    b_hdr(&b, 3, 2, 0);
    b_ti(&b, "a", 1, ne, KERN_TYPE_F32, 0);
    b_ti(&b, "b", 1, ne, KERN_TYPE_F32, 32);
    b_data(&b, 32, 200);
    expect_fail(&b, "tensor 'b': data at offset 32 overlaps tensor 'a' (ends at 40)",
                "(at byte 82)");
    b_hdr(&b, 3, 2, 0);
    b_ti(&b, "a", 1, ne, KERN_TYPE_F32, 0);
    b_ti(&b, "b", 1, ne, KERN_TYPE_F32, 128);
    b_data(&b, 32, 200);
    expect_fail(&b, "tensor 'b': data offset 128 is out of order (expected 64)", "(at byte 82)");
    b_hdr(&b, 3, 2, 0);
    b_ti(&b, "a", 1, ne, KERN_TYPE_F32, 64);
    b_ti(&b, "b", 1, ne, KERN_TYPE_F32, 0);
    b_data(&b, 32, 200);
    expect_fail(&b, "tensor 'a': data offset 64 is out of order (expected 0)", "(at byte 49)");
    /* data past the end: 'b' needs bytes 64..104 of the data section */
    b_hdr(&b, 3, 2, 0);
    b_ti(&b, "a", 1, ne, KERN_TYPE_F32, 0);
    b_ti(&b, "b", 1, ne, KERN_TYPE_F32, 64);
    b_data(&b, 32, 100);
    expect_fail(&b, "tensor 'b': data ends 4 bytes past the end of the file", "(at byte 82)");
    b_u8(&b, 0);
    b_u8(&b, 0);
    b_u8(&b, 0);
    b_u8(&b, 0);
    uint8_t *copy;
    fmt_gguf *g = expect_ok(&b, &copy); /* the last tensor's padding may be missing */
    fmt_gguf_close(g);
    free(copy);
    free(b.p);
}
END_TEST

START_TEST(test_keys_utf8) {
    static const char *bad[] = {"a\xff",     "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                "x\xe2\x82", "\x80"};
    buf b = {0};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        b_hdr(&b, 3, 0, 1);
        b_kv_u32(&b, bad[k], 1);
        expect_fail(&b, "is not valid UTF-8", "(at byte 24)");
    }
    b_hdr(&b, 3, 0, 1);
    b_kv_u32(&b, "ok.\xe2\x82\xac.\xf0\x9f\x98\x80", 1);
    uint8_t *copy;
    fmt_gguf *g = expect_ok(&b, &copy);
    fmt_gguf_close(g);
    free(copy);
    b_hdr(&b, 3, 0, 1);
    b_kv_u32(&b, "", 1);
    expect_fail(&b, "empty key", "(at byte 24)");
    free(b.p);
}
END_TEST

/* Cut a valid file at every length: each must fail cleanly. */
START_TEST(test_truncation_every_byte) {
    buf b = {0};
    build_rich(&b);
    for (size_t n = 0; n < b.n; n++) {
        gk_status st = GK_OK;
        uint8_t *copy;
        fmt_gguf *g = open_copy(&b, n, &st, &copy);
        ck_assert_msg(g == NULL, "length %zu accepted", n);
        ck_assert_msg(st == GK_E_FORMAT, "length %zu: status %d", n, st);
        ck_assert_msg(strstr(fmt_gguf_open_errmsg(), "(at byte ") != NULL, "length %zu: '%s'", n,
                      fmt_gguf_open_errmsg());
        free(copy);
    }
    free(b.p);
}
END_TEST

/* Random byte flips must never crash (ASan build checks reads). */
START_TEST(test_corruption_no_crash) {
    buf b = {0};
    build_rich(&b);
    uint8_t *copy = malloc(b.n);
    uint32_t seed = 12345;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, b.p, b.n);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (b.n - 180);
            seed = seed * 1103515245u + 12345u;
            copy[at] = (uint8_t)(seed >> 16);
        }
        gk_status st;
        fmt_gguf *g = fmt_gguf_open_memory(copy, b.n, &st);
        if (g) {
            for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
                const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
                if (kv->value.type != FMT_GGUF_ARRAY)
                    continue;
                fmt_gguf_iter it;
                fmt_gguf_value v;
                fmt_gguf_iter_init(&it, &kv->value);
                while (fmt_gguf_iter_next(&it, &v))
                    ;
            }
            fmt_gguf_close(g);
        } else {
            ck_assert(st == GK_E_FORMAT || st == GK_E_UNSUPPORTED);
        }
    }
    free(copy);
    free(b.p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Writer                                                                     */
/* ------------------------------------------------------------------------ */

static char tmpdir[256];

static void setup(void) {
    unit_mkdtemp(tmpdir, sizeof tmpdir, "gguf_test");
}

static void teardown(void) {
    ck_assert_int_eq(unit_rmtree(tmpdir), 0);
}

static const char *tpath(const char *name) {
    return unit_path(tmpdir, name);
}

static fmt_output *out_open(const char *path) {
    gk_status st;
    char msg[256];
    fmt_output_opts o = {.force = 1};
    fmt_output *out = fmt_output_open(path, &o, &st, msg, sizeof msg);
    ck_assert_msg(out != NULL, "%s", msg);
    return out;
}

START_TEST(test_writer_layout) {
    gk_status st;
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(fmt_gguf_writer_add_str(w, "general.architecture", "llama", 5), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "n", 7), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "n", 8), GK_E_USAGE);
    ck_assert(fmt_gguf_writer_has_kv(w, "n"));
    fmt_gguf_writer_remove_kv(w, "n");
    ck_assert(!fmt_gguf_writer_has_kv(w, "n"));
    ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "n", 8), GK_OK); /* now last */
    ck_assert_int_eq(fmt_gguf_writer_add_i32(w, "i", -3), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_u64(w, "u", 1ull << 40), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_f32(w, "f", 0.5f), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_bool(w, "b", 5), GK_OK);
    uint16_t a16[3] = {1, 2, 65535};
    ck_assert_int_eq(fmt_gguf_writer_add_array(w, "a16", FMT_GGUF_U16, 3, a16), GK_OK);
    const char *strs[3] = {"one", "", "three"};
    ck_assert_int_eq(fmt_gguf_writer_add_str_array(w, "as", strs, NULL, 3), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_kv(w, "", 0, &(fmt_gguf_value){.type = FMT_GGUF_U8}),
                     GK_E_USAGE);
    int64_t ne[2] = {3, 2};
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "w", 2, ne, KERN_TYPE_F32), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "w", 2, ne, KERN_TYPE_F32), GK_E_USAGE);
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "q", 2, ne, KERN_TYPE_Q4_0), GK_E_USAGE);
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "", 2, ne, KERN_TYPE_F32), GK_E_USAGE);
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "z", 0, ne, KERN_TYPE_F32), GK_E_USAGE);
    int64_t ne2[1] = {5};
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "v", 1, ne2, KERN_TYPE_F16), GK_OK);
    ck_assert_uint_eq(fmt_gguf_writer_n_tensors(w), 2);
    ck_assert_uint_eq(fmt_gguf_writer_tensor_size(w, 0), 24);
    ck_assert_uint_eq(fmt_gguf_writer_tensor_size(w, 1), 10);
    uint64_t size = fmt_gguf_writer_file_size(w);
    ck_assert_uint_eq(size % 32, 0);

    fmt_output *out = out_open(tpath("w.gguf"));
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, "x", 1), GK_E_USAGE);
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "late", 1), GK_E_USAGE);
    float data[6] = {1, 2, 3, 4, 5, 6};
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, data, 10), GK_OK); /* in chunks */
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_E_USAGE);
    ck_assert(strstr(fmt_gguf_writer_errmsg(w), "tensor 'w' has 10 of its 24 bytes"));
    uint8_t rest[14 + 10];
    memcpy(rest, (uint8_t *)data + 10, 14);
    memset(rest + 14, 0xAB, 10);
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, rest, sizeof rest), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, "x", 1), GK_E_USAGE);
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    fmt_gguf_writer_free(w);

    size_t n;
    uint8_t *file = unit_read_file(tpath("w.gguf"), &n);
    ck_assert_uint_eq(n, size);
    gk_status st2;
    fmt_gguf *g = fmt_gguf_open_memory(file, n, &st2);
    ck_assert_msg(g != NULL, "%s", fmt_gguf_open_errmsg());
    ck_assert_uint_eq(fmt_gguf_n_kv(g), 8);
    ck_assert_uint_eq(fmt_gguf_kv_at(g, 7)->key.len, 2);
    ck_assert(memcmp(fmt_gguf_kv_at(g, 7)->key.ptr, "as", 2) == 0);
    ck_assert_uint_eq(fmt_gguf_kv_at(g, 1)->key.len, 1);
    ck_assert(fmt_gguf_kv_at(g, 1)->key.ptr[0] == 'n');
    uint64_t u;
    int64_t i;
    double d;
    int bl;
    ck_assert(fmt_gguf_get_u64(g, "n", &u) && u == 8);
    ck_assert(fmt_gguf_get_i64(g, "i", &i) && i == -3);
    ck_assert(fmt_gguf_get_u64(g, "u", &u) && u == 1ull << 40);
    ck_assert(fmt_gguf_get_f64(g, "f", &d) && d == 0.5);
    ck_assert(fmt_gguf_get_bool(g, "b", &bl) && bl == 1);
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, "a16");
    ck_assert_uint_eq(kv->value.v.arr.n, 3);
    fmt_gguf_iter it;
    fmt_gguf_value v;
    fmt_gguf_iter_init(&it, &kv->value);
    ck_assert(fmt_gguf_iter_next(&it, &v) && v.v.u == 1);
    ck_assert(fmt_gguf_iter_next(&it, &v) && v.v.u == 2);
    ck_assert(fmt_gguf_iter_next(&it, &v) && v.v.u == 65535);
    kv = fmt_gguf_find_kv(g, "as");
    fmt_gguf_iter_init(&it, &kv->value);
    ck_assert(fmt_gguf_iter_next(&it, &v) && v.v.s.len == 3);
    ck_assert(fmt_gguf_iter_next(&it, &v) && v.v.s.len == 0);
    ck_assert(fmt_gguf_iter_next(&it, &v) && v.v.s.len == 5);
    const fmt_gguf_tensor *t = fmt_gguf_find_tensor(g, "v");
    ck_assert_uint_eq(t->offset, 32);
    /* data, then zero padding after every tensor including the last */
    const uint8_t *d0 = file + fmt_gguf_data_offset(g);
    ck_assert(memcmp(d0, data, 24) == 0);
    for (int k = 24; k < 32; k++)
        ck_assert_uint_eq(d0[k], 0);
    for (int k = 32; k < 42; k++)
        ck_assert_uint_eq(d0[k], 0xAB);
    for (int k = 42; k < 64; k++)
        ck_assert_uint_eq(d0[k], 0);
    ck_assert_uint_eq(fmt_gguf_data_offset(g) + 64, n);
    fmt_gguf_close(g);
    free(file);
}
END_TEST

/* set_kv replaces a value (and its type) where the key is, else appends */
START_TEST(test_writer_set_kv) {
    gk_status st;
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "a", 1), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "b", 2), GK_OK);
    fmt_gguf_value f = {.type = FMT_GGUF_F32, .v.f = 0.25};
    ck_assert_int_eq(fmt_gguf_writer_set_kv(w, "a", &f), GK_OK);
    fmt_gguf_value u = {.type = FMT_GGUF_U32, .v.u = 9};
    ck_assert_int_eq(fmt_gguf_writer_set_kv(w, "c", &u), GK_OK);
    fmt_gguf *g = fmt_gguf_writer_header_reader(w, &st);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(fmt_gguf_n_kv(g), 3);
    const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, 0);
    ck_assert_int_eq(kv->value.type, FMT_GGUF_F32);
    ck_assert(kv->value.v.f == 0.25);
    ck_assert_uint_eq(fmt_gguf_kv_at(g, 1)->value.v.u, 2);
    ck_assert_uint_eq(fmt_gguf_kv_at(g, 2)->value.v.u, 9);
    fmt_gguf_close(g);
    fmt_gguf_writer_free(w);
}
END_TEST

START_TEST(test_writer_no_tensors_and_alignment) {
    gk_status st;
    ck_assert_ptr_null(fmt_gguf_writer_create(1, 32, &st));
    ck_assert_int_eq(st, GK_E_USAGE);
    ck_assert_ptr_null(fmt_gguf_writer_create(3, 24, &st));
    fmt_gguf_writer *w = fmt_gguf_writer_create(0, 64, &st);
    ck_assert_int_eq(fmt_gguf_writer_add_str(w, "k", "v", 1), GK_OK);
    fmt_output *out = out_open(tpath("e.gguf"));
    /* alignment 64 needs general.alignment */
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_E_USAGE);
    ck_assert_int_eq(fmt_gguf_writer_add_u32(w, "general.alignment", 64), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    uint64_t want = 24 + (8 + 1 + 4 + 8 + 1) + (8 + 17 + 4 + 4);
    ck_assert_uint_eq(fmt_gguf_writer_file_size(w), want);
    fmt_gguf_writer_free(w);
    size_t n;
    uint8_t *file = unit_read_file(tpath("e.gguf"), &n);
    ck_assert_uint_eq(n, want); /* no padding without tensors */
    fmt_gguf *g = fmt_gguf_open_memory(file, n, &st);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(fmt_gguf_alignment(g), 64);
    ck_assert_uint_eq(fmt_gguf_version(g), 3);
    ck_assert_uint_eq(fmt_gguf_header_size(g), n);
    fmt_gguf_close(g);
    free(file);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Streams                                                                    */
/* ------------------------------------------------------------------------ */

/* Open bytes through a pipe (forward-only input); the writer side is a
 * child process so files larger than the pipe buffer work. */
static fmt_input *pipe_input(const uint8_t *p, size_t n, pid_t *child) {
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fd[0]);
        size_t done = 0;
        while (done < n) {
            ssize_t k = write(fd[1], p + done, n - done);
            if (k <= 0)
                _exit(1);
            done += (size_t)k;
        }
        _exit(0);
    }
    close(fd[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fd[0]);
    gk_status st;
    char msg[256];
    fmt_input *in = fmt_input_open(path, NULL, &st, msg, sizeof msg);
    close(fd[0]);
    ck_assert_msg(in != NULL, "%s", msg);
    *child = pid;
    return in;
}

static void pipe_done(fmt_input *in, pid_t child) {
    fmt_input_close(in);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

static void assert_same_header(const fmt_gguf *a, const fmt_gguf *b) {
    ck_assert_uint_eq(fmt_gguf_version(a), fmt_gguf_version(b));
    ck_assert_uint_eq(fmt_gguf_data_offset(a), fmt_gguf_data_offset(b));
    ck_assert_uint_eq(fmt_gguf_n_kv(a), fmt_gguf_n_kv(b));
    ck_assert_uint_eq(fmt_gguf_n_tensors(a), fmt_gguf_n_tensors(b));
    for (uint64_t i = 0; i < fmt_gguf_n_kv(a); i++) {
        const fmt_gguf_kv *x = fmt_gguf_kv_at(a, i), *y = fmt_gguf_kv_at(b, i);
        ck_assert_uint_eq(x->offset, y->offset);
        ck_assert_uint_eq(x->key.len, y->key.len);
        ck_assert(memcmp(x->key.ptr, y->key.ptr, x->key.len) == 0);
        ck_assert_int_eq(x->value.type, y->value.type);
        if (x->value.type == FMT_GGUF_STRING) {
            ck_assert_uint_eq(x->value.v.s.len, y->value.v.s.len);
            ck_assert(memcmp(x->value.v.s.ptr, y->value.v.s.ptr, x->value.v.s.len) == 0);
        } else if (x->value.type == FMT_GGUF_ARRAY) {
            ck_assert_uint_eq(x->value.v.arr.n, y->value.v.arr.n);
            ck_assert_uint_eq(x->value.v.arr.raw_len, y->value.v.arr.raw_len);
            ck_assert(memcmp(x->value.v.arr.raw, y->value.v.arr.raw, x->value.v.arr.raw_len) == 0);
        } else {
            ck_assert(memcmp(&x->value.v, &y->value.v, sizeof x->value.v) == 0);
        }
    }
    for (uint64_t i = 0; i < fmt_gguf_n_tensors(a); i++) {
        const fmt_gguf_tensor *x = fmt_gguf_tensor_at(a, i), *y = fmt_gguf_tensor_at(b, i);
        ck_assert_uint_eq(x->name.len, y->name.len);
        ck_assert(memcmp(x->name.ptr, y->name.ptr, x->name.len) == 0);
        ck_assert_uint_eq(x->offset, y->offset);
        ck_assert_uint_eq(x->size, y->size);
        ck_assert_int_eq(x->type, y->type);
        ck_assert_uint_eq(x->n_dims, y->n_dims);
        ck_assert(memcmp(x->ne, y->ne, sizeof x->ne) == 0);
    }
}

START_TEST(test_stream_matches_memory) {
    buf b = {0};
    build_rich(&b);
    uint8_t *copy;
    fmt_gguf *m = expect_ok(&b, &copy);
    pid_t child;
    fmt_input *in = pipe_input(b.p, b.n, &child);
    ck_assert(!fmt_input_is_mapped(in));
    gk_status st;
    fmt_gguf *s = fmt_gguf_open(in, &st);
    ck_assert_msg(s != NULL, "%s", fmt_gguf_open_errmsg());
    assert_same_header(m, s);
    ck_assert_uint_eq(fmt_input_tell(in), fmt_gguf_data_offset(s));
    ck_assert_ptr_null(fmt_gguf_tensor_data(s, 0));
    /* forward reads, skipping tensor 1 */
    uint8_t t0[48], t2[20];
    ck_assert_int_eq(fmt_gguf_read_tensor(s, 0, t0), GK_OK);
    ck_assert(memcmp(t0, fmt_gguf_tensor_data(m, 0), 48) == 0);
    ck_assert_int_eq(fmt_gguf_read_tensor(s, 2, t2), GK_OK);
    ck_assert(memcmp(t2, fmt_gguf_tensor_data(m, 2), 20) == 0);
    /* going back needs random access (io spills the stream) */
    uint8_t t1[68];
    ck_assert_int_eq(fmt_gguf_read_tensor(s, 1, t1), GK_OK);
    ck_assert(memcmp(t1, fmt_gguf_tensor_data(m, 1), 68) == 0);
    fmt_gguf_close(s);
    pipe_done(in, child);
    fmt_gguf_close(m);
    free(copy);
    free(b.p);
}
END_TEST

/* Lying lengths on a stream fail at the end of the data, or at the stream
 * header limit, without buffering what was claimed. */
START_TEST(test_stream_lying_lengths) {
    buf b = {0};
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "k", FMT_GGUF_STRING);
    b_u64(&b, (uint64_t)1 << 40);
    b_put(&b, "abc", 3);
    pid_t child;
    fmt_input *in = pipe_input(b.p, b.n, &child);
    gk_status st;
    ck_assert_ptr_null(fmt_gguf_open(in, &st));
    ck_assert_int_eq(st, GK_E_NOMEM);
    ck_assert_str_eq(fmt_gguf_open_errmsg(),
                     "string would make the header larger than 256 MiB (at byte 45)");
    pipe_done(in, child);
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "k", FMT_GGUF_STRING);
    b_u64(&b, 5000);
    b_put(&b, "abc", 3);
    in = pipe_input(b.p, b.n, &child);
    ck_assert_ptr_null(fmt_gguf_open(in, &st));
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_str_eq(fmt_gguf_open_errmsg(), "unexpected end of file in string (at byte 45)");
    pipe_done(in, child);
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "k", FMT_GGUF_ARRAY);
    b_u32(&b, FMT_GGUF_U64);
    b_u64(&b, UINT64_MAX / 8);
    in = pipe_input(b.p, b.n, &child);
    ck_assert_ptr_null(fmt_gguf_open(in, &st));
    ck_assert_int_eq(st, GK_E_NOMEM);
    pipe_done(in, child);
    free(b.p);
}
END_TEST

/* A regular file read without mmap (pread fallback): sequential header,
 * tensors forward and backward. */
START_TEST(test_unmapped_file) {
    buf b = {0};
    build_rich(&b);
    unit_write_file(tpath("rich.gguf"), b.p, b.n);
    uint8_t *copy;
    fmt_gguf *m = expect_ok(&b, &copy);
    fmt_input_opts o = {.no_mmap = 1};
    gk_status st;
    char msg[256];
    fmt_input *in = fmt_input_open(tpath("rich.gguf"), &o, &st, msg, sizeof msg);
    ck_assert_msg(in != NULL, "%s", msg);
    ck_assert(!fmt_input_is_mapped(in));
    fmt_gguf *g = fmt_gguf_open(in, &st);
    ck_assert_msg(g != NULL, "%s", fmt_gguf_open_errmsg());
    assert_same_header(m, g);
    for (int k = 2; k >= 0; k--) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, (uint64_t)k);
        uint8_t tb[80];
        ck_assert_int_eq(fmt_gguf_read_tensor(g, (uint64_t)k, tb), GK_OK);
        ck_assert(memcmp(tb, fmt_gguf_tensor_data(m, (uint64_t)k), (size_t)t->size) == 0);
    }
    fmt_gguf_close(g);
    fmt_input_close(in);
    /* the same file cut inside the data: the size is known, so it fails */
    ck_assert_int_eq(truncate(tpath("rich.gguf"), (off_t)(b.n - 1)), 0);
    in = fmt_input_open(tpath("rich.gguf"), &o, &st, msg, sizeof msg);
    ck_assert_ptr_null(fmt_gguf_open(in, &st));
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert(strstr(fmt_gguf_open_errmsg(), "tensor 't.f16': data ends 1 bytes past the end"));
    fmt_input_close(in);
    fmt_gguf_close(m);
    free(copy);
    free(b.p);
}
END_TEST

/* A stream cut inside the data: the header opens (the size is unknown),
 * the tensors before the cut read, the cut one fails cleanly. */
START_TEST(test_stream_short_data) {
    buf b = {0};
    build_rich(&b);
    pid_t child;
    fmt_input *in = pipe_input(b.p, b.n - 10, &child);
    gk_status st;
    fmt_gguf *g = fmt_gguf_open(in, &st);
    ck_assert_msg(g != NULL, "%s", fmt_gguf_open_errmsg());
    uint8_t tb[80];
    ck_assert_int_eq(fmt_gguf_read_tensor(g, 0, tb), GK_OK);
    ck_assert_int_eq(fmt_gguf_read_tensor(g, 1, tb), GK_OK);
    ck_assert_int_eq(fmt_gguf_read_tensor(g, 2, tb), GK_E_FORMAT);
    char want[96];
    snprintf(want, sizeof want, "tensor 't.f16': unexpected end of file in its data (at byte %zu)",
             b.n - 20);
    ck_assert_str_eq(fmt_gguf_errmsg(g), want);
    ck_assert_int_ne(fmt_gguf_read_tensor(g, 2, tb), GK_OK);
    ck_assert_ptr_null(fmt_gguf_tensor_data(g, 2));
    fmt_gguf_close(g);
    pipe_done(in, child);
    free(b.p);
}
END_TEST

/* A zstd stream that expands past its limit inside the tensor data: the
 * tensor read fails naming the limit, not as a plain end of file. */
START_TEST(test_zstd_limit_in_data) {
    buf b = {0};
    build_rich(&b);
    size_t cap = ZSTD_compressBound(b.n);
    uint8_t *z = malloc(cap);
    ck_assert_ptr_nonnull(z);
    size_t zn = ZSTD_compress(z, cap, b.p, b.n, 1);
    ck_assert(!ZSTD_isError(zn));
    char path[] = "/tmp/gguf_test_zstd_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, z, zn), (ssize_t)zn);
    close(fd);
    fmt_input_opts o = {.zstd_max_size = b.n - 20};
    gk_status st;
    char msg[256];
    fmt_input *in = fmt_input_open(path, &o, &st, msg, sizeof msg);
    unlink(path);
    ck_assert_msg(in != NULL, "%s", msg);
    fmt_gguf *g = fmt_gguf_open(in, &st);
    ck_assert_msg(g != NULL, "%s", fmt_gguf_open_errmsg());
    uint8_t tb[80];
    ck_assert_int_eq(fmt_gguf_read_tensor(g, 0, tb), GK_OK);
    ck_assert_int_eq(fmt_gguf_read_tensor(g, 1, tb), GK_OK);
    ck_assert_int_eq(fmt_gguf_read_tensor(g, 2, tb), GK_E_FORMAT);
    ck_assert_msg(strstr(fmt_gguf_errmsg(g), "tensor 't.f16': zstd data expands past the limit"),
                  "%s", fmt_gguf_errmsg(g));
    fmt_gguf_close(g);
    fmt_input_close(in);
    free(z);
    free(b.p);
}
END_TEST

/* A stream cut inside the header: a clean format error. Every length up to
 * 64 bytes, then every third one (each case forks a writer); the in-memory
 * test above covers every length. */
START_TEST(test_stream_truncation) {
    buf b = {0};
    build_rich(&b);
    size_t header = b.n - 180;
    for (size_t n = 0; n < header; n += n < 64 ? 1 : 3) {
        pid_t child;
        fmt_input *in = pipe_input(b.p, n, &child);
        gk_status st = GK_OK;
        fmt_gguf *g = fmt_gguf_open(in, &st);
        ck_assert_msg(g == NULL, "length %zu accepted", n);
        ck_assert_msg(st == GK_E_FORMAT, "length %zu: status %d (%s)", n, st,
                      fmt_gguf_open_errmsg());
        ck_assert_msg(strstr(fmt_gguf_open_errmsg(), "(at byte "), "'%s'", fmt_gguf_open_errmsg());
        pipe_done(in, child);
    }
    free(b.p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Real files from ../shared                                                  */
/* ------------------------------------------------------------------------ */

static const char *const fixtures[] = {
    "fixtures/real/ggml-vocab-bert-bge.gguf", "fixtures/real/ggml-vocab-falcon.gguf",
    "fixtures/real/ggml-vocab-gpt-2.gguf",    "fixtures/real/ggml-vocab-llama-spm.gguf",
    "fixtures/real/ggml-vocab-phi-3.gguf",    "fixtures/real/ggml-vocab-starcoder.gguf",
    "fixtures/real/llama-2-tiny-random.gguf", "fixtures/ref-llama-f16.gguf",
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Rewrite through the writer and fmt_output; compare byte for byte. */
START_TEST(test_fixture_rewrite) {
    if (!unit_have_shared("fixtures"))
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", unit_shared_dir(), fixtures[_i]);
    gk_status st;
    char msg[256];
    fmt_input *in = fmt_input_open(path, NULL, &st, msg, sizeof msg);
    ck_assert_msg(in != NULL, "%s", msg);
    ck_assert(fmt_input_is_mapped(in));
    /* best of three opens, so a busy machine does not fail the bound */
    double ms = 1e9;
    fmt_gguf *g = NULL;
    for (int r = 0; r < 3; r++) {
        fmt_gguf_close(g);
        double t0 = now_ms();
        g = fmt_gguf_open(in, &st);
        double dt = now_ms() - t0;
        ms = dt < ms ? dt : ms;
        ck_assert_msg(g != NULL, "%s: %s", path, fmt_gguf_open_errmsg());
    }
    fprintf(stderr, "gguf_test: open %s: %.3f ms (%llu KVs, %llu tensors)\n", fixtures[_i], ms,
            (unsigned long long)fmt_gguf_n_kv(g), (unsigned long long)fmt_gguf_n_tensors(g));
    ck_assert_msg(ms < (SANITIZED ? 200.0 : 10.0), "open took %.3f ms", ms);

    fmt_gguf_writer *w = fmt_gguf_writer_create(fmt_gguf_version(g), fmt_gguf_alignment(g), &st);
    ck_assert_ptr_nonnull(w);
    for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        ck_assert_int_eq(fmt_gguf_writer_add_kv(w, kv->key.ptr, kv->key.len, &kv->value), GK_OK);
    }
    for (uint64_t i = 0; i < fmt_gguf_n_tensors(g); i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
        char name[FMT_GGUF_MAX_NAME + 1];
        memcpy(name, t->name.ptr, t->name.len);
        name[t->name.len] = '\0';
        ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, name, t->n_dims, t->ne, t->type), GK_OK);
        ck_assert_uint_eq(fmt_gguf_writer_tensor_size(w, i), t->size);
    }
    ck_assert_uint_eq(fmt_gguf_writer_file_size(w), fmt_input_size(in));
    fmt_output *out = out_open(tpath("rewrite.gguf"));
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    for (uint64_t i = 0; i < fmt_gguf_n_tensors(g); i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
        ck_assert_int_eq(
            fmt_gguf_writer_write_data(w, out, fmt_gguf_tensor_data(g, i), (size_t)t->size), GK_OK);
    }
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    fmt_gguf_writer_free(w);

    size_t n;
    uint8_t *copy = unit_read_file(tpath("rewrite.gguf"), &n);
    ck_assert_uint_eq(n, fmt_input_size(in));
    ck_assert_msg(memcmp(copy, fmt_input_data(in), n) == 0, "%s differs after rewrite", path);
    free(copy);

    /* the same header parsed from a pipe */
    pid_t child;
    fmt_input *pin = pipe_input(fmt_input_data(in), (size_t)fmt_input_size(in), &child);
    fmt_gguf *s = fmt_gguf_open(pin, &st);
    ck_assert_msg(s != NULL, "%s (stream): %s", path, fmt_gguf_open_errmsg());
    assert_same_header(g, s);
    /* the header was read without running into the data */
    ck_assert_uint_eq(fmt_input_tell(pin),
                      fmt_gguf_n_tensors(s) ? fmt_gguf_data_offset(s) : fmt_gguf_header_size(s));
    if (fmt_gguf_n_tensors(g) > 0) {
        /* every tensor, in offset order, equals the mapped bytes */
        const uint64_t *order = fmt_gguf_offset_order(s);
        for (uint64_t k = 0; k < fmt_gguf_n_tensors(s); k++) {
            uint64_t i = order[k];
            size_t sz = (size_t)fmt_gguf_tensor_at(s, i)->size;
            uint8_t *tb = malloc(sz);
            ck_assert_int_eq(fmt_gguf_read_tensor(s, i, tb), GK_OK);
            ck_assert(memcmp(tb, fmt_gguf_tensor_data(g, i), sz) == 0);
            free(tb);
        }
    }
    fmt_gguf_close(s);
    pipe_done(pin, child);
    fmt_gguf_close(g);
    fmt_input_close(in);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *gguf_suite(void) {
    Suite *s = suite_create("gguf");
    TCase *tc = tcase_create("reader");
    UNIT_ADD_TESTS(tc, test_rich_file, test_type_names, test_version2_and_alignment, test_bad_magic,
                   test_versions, test_counts_cannot_fit, test_lengths_past_end, test_unknown_types,
                   test_bools, test_array_depth, test_duplicates, test_tensor_names, test_dims,
                   test_block_size, test_offsets, test_keys_utf8, test_truncation_every_byte,
                   test_corruption_no_crash);
    suite_add_tcase(s, tc);
    TCase *io = tcase_create("io");
    tcase_add_checked_fixture(io, setup, teardown);
    tcase_set_timeout(io, 60);
    UNIT_ADD_TESTS(io, test_writer_layout, test_writer_set_kv, test_writer_no_tensors_and_alignment,
                   test_stream_matches_memory, test_stream_truncation, test_stream_lying_lengths,
                   test_stream_short_data, test_zstd_limit_in_data, test_unmapped_file);
    tcase_add_loop_test(io, test_fixture_rewrite, 0, N_FIXTURES);
    suite_add_tcase(s, io);
    return s;
}

int main(void) {
    return unit_run(gguf_suite());
}
