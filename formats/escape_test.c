/* escape_test.c -- fmt_escape_term and the UTF-8 decoder it shares with
 * formats/json. */
#include "formats/escape.h"

#include "tests/unit.h"

/* fmt_escape_term(src) into a cap-byte buffer, checked against want. */
static void expect(const char *src, size_t len, size_t cap, const char *want) {
    char out[256];
    memset(out, 'Z', sizeof out);
    ck_assert_ptr_eq(fmt_escape_term(out, cap, src, len), out);
    ck_assert_str_eq(out, want);
    ck_assert_uint_lt(strlen(out), cap);
}

START_TEST(test_controls_replaced) {
    expect("blk.0\x1b]0;pwned\x07.weight", 22, 64, "blk.0?]0;pwned?.weight");
    expect("a\nb\tc\rd\x7f", 8, 64, "a?b?c?d?");
    expect("nul\0x", 5, 64, "nul?x");
    /* C1 controls as UTF-8 (U+009B is CSI on some terminals) */
    expect("x\xc2\x9b"
           "2J",
           5, 64, "x?2J");
    expect("\xc2\x80\xc2\x9f\xc2\xa0", 6, 64, "??\xc2\xa0");
}
END_TEST

START_TEST(test_utf8_kept_and_repaired) {
    expect("caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80", 14, 64,
           "caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80");
    /* a lone 8-bit CSI, an overlong, a surrogate, a cut sequence: each
     * maximal ill-formed subpart is one '?' */
    expect("a\x9b"
           "b",
           3, 64, "a?b");
    expect("\xc0\xaf", 2, 64, "??");
    expect("\xed\xa0\x80", 3, 64, "???");
    expect("\xe6\xbc", 2, 64, "?");
    expect("\xf0\x9f\x98", 3, 64, "?");
    unsigned skip = 9;
    ck_assert_uint_eq(fmt_utf8_sequence((const unsigned char *)"\xe6\xbc\xa2", 3, &skip), 3);
    ck_assert_uint_eq(skip, 3);
    ck_assert_uint_eq(fmt_utf8_sequence((const unsigned char *)"\xe6\xbc"
                                                               "a",
                                        3, &skip),
                      0);
    ck_assert_uint_eq(skip, 2);
}
END_TEST

START_TEST(test_cut_with_dots) {
    expect("abcdefgh", 8, 9, "abcdefgh");
    expect("abcdefghi", 9, 9, "abcde...");
    expect("abcdefghi", 9, 4, "...");
    expect("abcdefghi", 9, 3, "");
    expect("abcdefghi", 9, 1, "");
    /* never inside a character: the 3-byte one does not fit before "..." */
    expect("abcd\xe6\xbc\xa2xyz", 10, 10, "abcd...");
    /* a huge name is not walked to its end (src is only read as needed) */
    static char big[1 << 20];
    memset(big, 'n', sizeof big);
    expect(big, sizeof big, 8, "nnnn...");
    char z = 'Z';
    ck_assert_ptr_eq(fmt_escape_term(&z, 0, "abc", 3), &z);
    ck_assert_int_eq(z, 'Z');
    expect(NULL, 0, 4, "");
}
END_TEST

START_TEST(test_in_place) {
    char buf[32] = "k\x1b[2J\xc2\x9b\xff"
                   "end";
    fmt_escape_term(buf, sizeof buf, buf, strlen(buf));
    ck_assert_str_eq(buf, "k?[2J??end");
}
END_TEST

int main(void) {
    Suite *s = suite_create("escape");
    TCase *tc = tcase_create("escape");
    UNIT_ADD_TESTS(tc, test_controls_replaced, test_utf8_kept_and_repaired, test_cut_with_dots,
                   test_in_place);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
