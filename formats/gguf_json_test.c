/* gguf_json_test.c -- typed values from text: type names, every scalar
 * type at and past its limits, UTF-8 validity, comma and JSON lists and
 * their little-endian encoding, and the messages of refused values. */
#include <check.h>
#include <string.h>

#include "formats/gguf_json.h"
#include "tests/unit.h"

static gk_status scalar(fmt_gguf_type t, const char *s, fmt_gguf_owned *v, char *err) {
    return fmt_gguf_parse_scalar(t, s, strlen(s), v, err, 256);
}

START_TEST(type_names) {
    fmt_gguf_type t;
    static const char *const names[] = {"u8",  "i8",   "u16", "i16", "u32", "i32",
                                        "f32", "bool", "str", "u64", "i64", "f64"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ck_assert(fmt_gguf_type_parse(names[i], strlen(names[i]), &t));
        ck_assert_str_eq(fmt_gguf_type_name(t), names[i]);
    }
    ck_assert(!fmt_gguf_type_parse("arr", 3, &t));
    ck_assert(!fmt_gguf_type_parse("u3", 2, &t));
    ck_assert(!fmt_gguf_type_parse("u32x", 4, &t));
}
END_TEST

START_TEST(integer_limits) {
    static const struct {
        fmt_gguf_type t;
        const char *ok_lo, *ok_hi, *bad_lo, *bad_hi;
    } rows[] = {
        {FMT_GGUF_U8, "0", "255", "-1", "256"},
        {FMT_GGUF_I8, "-128", "127", "-129", "128"},
        {FMT_GGUF_U16, "0", "65535", "-1", "65536"},
        {FMT_GGUF_I16, "-32768", "32767", "-32769", "32768"},
        {FMT_GGUF_U32, "0", "4294967295", "-1", "4294967296"},
        {FMT_GGUF_I32, "-2147483648", "2147483647", "-2147483649", "2147483648"},
        {FMT_GGUF_U64, "0", "18446744073709551615", "-1", "18446744073709551616"},
        {FMT_GGUF_I64, "-9223372036854775808", "9223372036854775807", "-9223372036854775809",
         "9223372036854775808"},
    };
    char err[256];
    fmt_gguf_owned v;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ck_assert_int_eq(scalar(rows[i].t, rows[i].ok_lo, &v, err), GK_OK);
        fmt_gguf_owned_free(&v);
        ck_assert_int_eq(scalar(rows[i].t, rows[i].ok_hi, &v, err), GK_OK);
        fmt_gguf_owned_free(&v);
        ck_assert_int_eq(scalar(rows[i].t, rows[i].bad_lo, &v, err), GK_E_USAGE);
        ck_assert_int_eq(scalar(rows[i].t, rows[i].bad_hi, &v, err), GK_E_USAGE);
    }
    ck_assert_int_eq(scalar(FMT_GGUF_I64, "-9223372036854775808", &v, err), GK_OK);
    ck_assert(v.v.v.i == INT64_MIN);
    ck_assert_int_eq(scalar(FMT_GGUF_U32, "12x", &v, err), GK_E_USAGE);
    ck_assert_str_eq(err, "'12x' is not a valid u32 value");
    ck_assert_int_eq(scalar(FMT_GGUF_U32, "", &v, err), GK_E_USAGE);
    ck_assert_int_eq(scalar(FMT_GGUF_U32, " 1", &v, err), GK_E_USAGE);
}
END_TEST

START_TEST(floats_bools_strings) {
    char err[256];
    fmt_gguf_owned v;
    ck_assert_int_eq(scalar(FMT_GGUF_F32, "0.5", &v, err), GK_OK);
    ck_assert(v.v.v.f == 0.5);
    ck_assert_int_eq(scalar(FMT_GGUF_F32, "1e39", &v, err), GK_E_USAGE); /* past float */
    ck_assert_int_eq(scalar(FMT_GGUF_F64, "1e39", &v, err), GK_OK);
    ck_assert_int_eq(scalar(FMT_GGUF_F64, "inf", &v, err), GK_E_USAGE);
    ck_assert_int_eq(scalar(FMT_GGUF_F64, "nan", &v, err), GK_E_USAGE);
    ck_assert_int_eq(scalar(FMT_GGUF_BOOL, "true", &v, err), GK_OK);
    ck_assert_uint_eq(v.v.v.u, 1);
    ck_assert_int_eq(scalar(FMT_GGUF_BOOL, "0", &v, err), GK_OK);
    ck_assert_uint_eq(v.v.v.u, 0);
    ck_assert_int_eq(scalar(FMT_GGUF_BOOL, "yes", &v, err), GK_E_USAGE);
    ck_assert_int_eq(scalar(FMT_GGUF_STRING, "h\xc3\xa9llo", &v, err), GK_OK);
    ck_assert_uint_eq(v.v.v.s.len, 6);
    ck_assert(memcmp(v.v.v.s.ptr, "h\xc3\xa9llo", 6) == 0);
    fmt_gguf_owned_free(&v);
    ck_assert_int_eq(scalar(FMT_GGUF_STRING, "\xff", &v, err), GK_E_USAGE);
    ck_assert_str_eq(err, "str value is not valid UTF-8");
}
END_TEST

START_TEST(utf8) {
    ck_assert(fmt_utf8_valid("", 0));
    ck_assert(fmt_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    ck_assert(!fmt_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    ck_assert(!fmt_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ck_assert(!fmt_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    ck_assert(!fmt_utf8_valid("\xe2\x82", 2));         /* cut */
    ck_assert(!fmt_utf8_valid("\x80", 1));
}
END_TEST

START_TEST(lists) {
    char err[256];
    fmt_gguf_owned v;
    static const uint8_t u16s[] = {1, 0, 0x2c, 1, 0xff, 0xff};
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_U16, "1,300,65535", 11, 0, &v, err, 256), GK_OK);
    ck_assert_int_eq(v.v.type, FMT_GGUF_ARRAY);
    ck_assert_int_eq(v.v.v.arr.elem_type, FMT_GGUF_U16);
    ck_assert_uint_eq(v.v.v.arr.n, 3);
    ck_assert_uint_eq(v.v.v.arr.raw_len, 6);
    ck_assert(memcmp(v.v.v.arr.raw, u16s, 6) == 0);
    fmt_gguf_owned_free(&v);
    /* strings: u64 length + bytes each; JSON escapes decoded */
    const char *js = "[\"a\", \"b,c\", \"\\u00e9\"]";
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_STRING, js, strlen(js), 1, &v, err, 256), GK_OK);
    ck_assert_uint_eq(v.v.v.arr.n, 3);
    static const uint8_t strs[] = {1, 0, 0,   0,   0,   0, 0, 0, 'a', 3, 0, 0, 0, 0,    0,
                                   0, 0, 'b', ',', 'c', 2, 0, 0, 0,   0, 0, 0, 0, 0xc3, 0xa9};
    ck_assert_uint_eq(v.v.v.arr.raw_len, sizeof strs);
    ck_assert(memcmp(v.v.v.arr.raw, strs, sizeof strs) == 0);
    fmt_gguf_owned_free(&v);
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_I32, "", 0, 0, &v, err, 256), GK_OK);
    ck_assert_uint_eq(v.v.v.arr.n, 0);
    fmt_gguf_owned_free(&v);
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_U8, "1,,2", 4, 0, &v, err, 256), GK_E_USAGE);
    ck_assert_str_eq(err, "element 1: '' is not a valid u8 value");
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_U8, "[1, \"2\"]", 8, 1, &v, err, 256),
                     GK_E_USAGE);
    ck_assert_str_eq(err, "element 1: not a u8 value");
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_U8, "{}", 2, 1, &v, err, 256), GK_E_USAGE);
    ck_assert_str_eq(err, "not a JSON list");
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_U8, "[1,", 3, 1, &v, err, 256), GK_E_USAGE);
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_ARRAY, "1", 1, 0, &v, err, 256), GK_E_USAGE);
    ck_assert_int_eq(fmt_gguf_parse_array(FMT_GGUF_BOOL, "[true, false]", 13, 1, &v, err, 256),
                     GK_OK);
    ck_assert_uint_eq(v.v.v.arr.raw_len, 2);
    ck_assert(v.v.v.arr.raw[0] == 1 && v.v.v.arr.raw[1] == 0);
    fmt_gguf_owned_free(&v);
    fmt_gguf_owned_free(&v); /* a zeroed record is fine */
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("gguf_json");
    TCase *tc = tcase_create("gguf_json");
    UNIT_ADD_TESTS(tc, type_names, integer_limits, floats_bools_strings, utf8, lists);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
