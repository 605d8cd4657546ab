/* spm_test.c -- SentencePiece piece list: round trip through our own
 * serializer, the real Llama 2 model from ../shared, malformed input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/spm.h"
#include "tests/unit.h"

static const char *shared_dir(void) {
    const char *s = getenv("GGUFKIT_SHARED");
    return s ? s : "../shared";
}

START_TEST(round_trip) {
    static const char *const text[] = {"<unk>", "<s>", "\xe2\x96\x81the", "<0x0A>", "a\0b"};
    static const size_t lens[] = {5, 3, 6, 6, 3};
    static const int types[] = {FMT_SPM_UNKNOWN, FMT_SPM_CONTROL, FMT_SPM_NORMAL, FMT_SPM_BYTE,
                                FMT_SPM_USER_DEFINED};
    fmt_spm_piece in[5];
    for (int i = 0; i < 5; i++) {
        in[i].text = (const uint8_t *)text[i];
        in[i].len = lens[i];
        in[i].score = -1.5f * (float)i;
        in[i].type = types[i];
    }
    size_t len = 0;
    uint8_t *buf = fmt_spm_serialize(in, 5, &len);
    ck_assert_ptr_nonnull(buf);
    gk_status st;
    char err[256];
    fmt_spm *m = fmt_spm_parse(buf, len, &st, err, sizeof err);
    free(buf);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(fmt_spm_n_pieces(m), 5);
    for (size_t i = 0; i < 5; i++) {
        fmt_spm_piece p;
        fmt_spm_piece_at(m, i, &p);
        ck_assert_uint_eq(p.len, lens[i]);
        ck_assert_mem_eq(p.text, text[i], lens[i]);
        ck_assert_float_eq(p.score, in[i].score);
        ck_assert_int_eq(p.type, types[i]);
    }
    fmt_spm_close(m);
}
END_TEST

START_TEST(llama2_model) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/real/llama2-tokenizer.model", shared_dir());
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (getenv("CI") && !strcmp(getenv("CI"), "true"))
            ck_abort_msg("../shared not found");
        fprintf(stderr, "SKIP: ../shared not found\n");
        return;
    }
    fclose(f);
    gk_status st;
    char err[256];
    fmt_spm *m = fmt_spm_open(path, &st, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_uint_eq(fmt_spm_n_pieces(m), 32000);
    fmt_spm_piece p;
    fmt_spm_piece_at(m, 0, &p);
    ck_assert_int_eq(p.type, FMT_SPM_UNKNOWN);
    ck_assert_mem_eq(p.text, "<unk>", 5);
    fmt_spm_piece_at(m, 1, &p);
    ck_assert_int_eq(p.type, FMT_SPM_CONTROL);
    fmt_spm_piece_at(m, 3, &p);
    ck_assert_int_eq(p.type, FMT_SPM_BYTE);
    ck_assert_mem_eq(p.text, "<0x00>", 6);
    fmt_spm_close(m);
}
END_TEST

START_TEST(malformed) {
    gk_status st;
    char err[256];
    /* field 1, wire type 2, length 100 but only 2 bytes follow */
    static const uint8_t trunc[] = {0x0a, 100, 1, 2};
    ck_assert_ptr_null(fmt_spm_parse(trunc, sizeof trunc, &st, err, sizeof err));
    ck_assert_int_eq(st, GK_E_FORMAT);
    /* no pieces at all */
    ck_assert_ptr_null(fmt_spm_parse("", 0, &st, err, sizeof err));
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "no pieces"));
    /* a piece of type 9 */
    static const uint8_t badtype[] = {0x0a, 5, 0x0a, 1, 'x', 0x18, 9};
    ck_assert_ptr_null(fmt_spm_parse(badtype, sizeof badtype, &st, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "unknown type 9"));
    ck_assert_ptr_null(fmt_spm_open("/nonexistent/tokenizer.model", &st, err, sizeof err));
    ck_assert_int_eq(st, GK_E_IO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/tokenizer.model"));
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("spm");
    TCase *tc = tcase_create("spm");
    UNIT_ADD_TESTS(tc, round_trip, llama2_model, malformed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
