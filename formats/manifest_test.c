/* manifest_test.c -- the manifest text format: good lines of every kind,
 * line endings and blank lines, malformed lines by line number, FILE:TENSOR
 * splitting, huge names and NUL bytes, and the line writers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/manifest.h"
#include "tests/unit.h"

#define H16 "0123456789abcdef"
#define H32 H16 H16
#define H64 H32 H32

/* Parse text[0..len); the manifest and its lines go to the out-params. */
static fmt_manifest *parse(const char *text, size_t len, const fmt_manifest_entry **e, size_t *n,
                           const uint64_t **bad, size_t *nbad) {
    gk_status st = GK_E_IO;
    fmt_manifest *m = fmt_manifest_parse(text, len, NULL, &st);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(st, GK_OK);
    *e = fmt_manifest_entries(m, n);
    *bad = fmt_manifest_malformed(m, nbad);
    return m;
}

static void assert_entry(const fmt_manifest_entry *e, fmt_manifest_kind k, const char *hex,
                         const char *file, const char *tensor, int whole_file, uint64_t line) {
    ck_assert_int_eq(e->kind, k);
    ck_assert_str_eq(e->hex, hex);
    ck_assert_str_eq(e->file, file);
    if (tensor)
        ck_assert_str_eq(e->tensor, tensor);
    else
        ck_assert_ptr_null(e->tensor);
    ck_assert_int_eq(e->whole_file, whole_file);
    ck_assert_uint_eq(e->line, line);
}

START_TEST(kinds) {
    static const char *const names[] = {"xxh64", "xxh3", "xxh128", "sha1", "sha256", "uuid"};
    static const size_t lens[] = {16, 16, 32, 40, 64, 36};
    for (int k = 0; k < FMT_MANIFEST_KIND_COUNT; k++) {
        ck_assert_str_eq(fmt_manifest_kind_name((fmt_manifest_kind)k), names[k]);
        ck_assert_int_eq(fmt_manifest_kind_from_name(names[k], strlen(names[k])), k);
        ck_assert_uint_eq(fmt_manifest_digest_len((fmt_manifest_kind)k), lens[k]);
    }
    ck_assert_ptr_null(fmt_manifest_kind_name(FMT_MANIFEST_KIND_COUNT));
    ck_assert_uint_eq(fmt_manifest_digest_len(FMT_MANIFEST_KIND_COUNT), 0);
    ck_assert_int_eq(fmt_manifest_kind_from_name("xxh6", 4), -1);
    ck_assert_int_eq(fmt_manifest_kind_from_name("xxh64", 3), -1);
    ck_assert_int_eq(fmt_manifest_kind_from_name("XXH64", 5), -1);
}
END_TEST

START_TEST(good_lines) {
    const char *text = "xxh64     " H16 "  m.gguf:a.weight\n"
                       "xxh3\t" H16 "\tm.gguf:a.weight\n"
                       "xxh128  " H32 "  m.gguf:a.weight\n"
                       "sha1  " H32 "01234567  m.gguf:a.weight\n"
                       "sha256  " H64 "  m.gguf:a.weight\n"
                       "uuid      ef001206-dadc-5f6d-A15F-3359e577d4e5  m.gguf\n"
                       "xxh64  0123456789ABCDEF  m.gguf\n"
                       "" H64 "  w.gguf\n"
                       "" H64 " *bin.gguf\n"
                       "\\" H64 "  a\\\\b\\nc\n"
                       "" H64 "  spaced  name \n"
                       "xxh64 " H16 " name with spaces";
    const fmt_manifest_entry *e;
    const uint64_t *bad;
    size_t n, nbad;
    fmt_manifest *m = parse(text, strlen(text), &e, &n, &bad, &nbad);
    ck_assert_uint_eq(n, 12);
    ck_assert_uint_eq(nbad, 0);
    assert_entry(&e[0], FMT_MANIFEST_XXH64, H16, "m.gguf", "a.weight", 0, 1);
    assert_entry(&e[1], FMT_MANIFEST_XXH3, H16, "m.gguf", "a.weight", 0, 2);
    assert_entry(&e[2], FMT_MANIFEST_XXH128, H32, "m.gguf", "a.weight", 0, 3);
    assert_entry(&e[3], FMT_MANIFEST_SHA1, H32 "01234567", "m.gguf", "a.weight", 0, 4);
    assert_entry(&e[4], FMT_MANIFEST_SHA256, H64, "m.gguf", "a.weight", 0, 5);
    assert_entry(&e[5], FMT_MANIFEST_UUID, "ef001206-dadc-5f6d-a15f-3359e577d4e5", "m.gguf", NULL,
                 0, 6);
    assert_entry(&e[6], FMT_MANIFEST_XXH64, H16, "m.gguf", NULL, 0, 7);
    assert_entry(&e[7], FMT_MANIFEST_SHA256, H64, "w.gguf", NULL, 1, 8);
    assert_entry(&e[8], FMT_MANIFEST_SHA256, H64, "bin.gguf", NULL, 1, 9);
    assert_entry(&e[9], FMT_MANIFEST_SHA256, H64, "a\\b\nc", NULL, 1, 10);
    assert_entry(&e[10], FMT_MANIFEST_SHA256, H64, "spaced  name ", NULL, 1, 11);
    assert_entry(&e[11], FMT_MANIFEST_XXH64, H16, "name with spaces", NULL, 0, 12);
    fmt_manifest_close(m);
}
END_TEST

START_TEST(line_endings) {
    const char *text = "\n\r\n"
                       "xxh64 " H16 " a\r\n"
                       "xxh64 " H16 " b\r\r\n"
                       "\n\n" H64 "  c\r\n"
                       "\r";
    const fmt_manifest_entry *e;
    const uint64_t *bad;
    size_t n, nbad;
    fmt_manifest *m = parse(text, strlen(text), &e, &n, &bad, &nbad);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(nbad, 0);
    assert_entry(&e[0], FMT_MANIFEST_XXH64, H16, "a", NULL, 0, 3);
    assert_entry(&e[1], FMT_MANIFEST_XXH64, H16, "b\r", NULL, 0, 4); /* one '\r' is dropped */
    assert_entry(&e[2], FMT_MANIFEST_SHA256, H64, "c", NULL, 1, 7);
    fmt_manifest_close(m);

    m = parse("", 0, &e, &n, &bad, &nbad);
    ck_assert_uint_eq(n + nbad, 0);
    fmt_manifest_close(m);
}
END_TEST

START_TEST(malformed_lines) {
    const char *text = "xxh64 " H16 " ok\n"           /* 1 */
                       "xxh64 0123456789abcde ok\n"   /* 2: short digest */
                       "xxh64 0123456789abcdeg ok\n"  /* 3: not hex */
                       "xxh64 " H16 "\n"              /* 4: no name */
                       "xxh64 " H16 "   \n"           /* 5: blank name */
                       "xxh64\n"                      /* 6: kind alone */
                       "uuid " H32 "0123 m\n"         /* 7: uuid without dashes */
                       "md5 " H32 " m\n"              /* 8: unknown kind */
                       "  \n"                         /* 9: blanks only */
                       "" H64 " x\n"                  /* 10: one space, no '*' */
                       "" H64 "  \n"                  /* 11: empty name */
                       "\\" H64 "  a\\qb\n"           /* 12: bad escape */
                       "\\" H64 "  a\\\n"             /* 13: escape at the end */
                       "" H32 "  short\n"             /* 14: short sha256sum digest */
                       "hello world\n"                /* 15 */
                       "sha256 " H64 "  " H64 "  x\n" /* 16: ok, name "<hex>  x" */
                       "xxh64 " H16 " ok2";           /* 17 */
    const fmt_manifest_entry *e;
    const uint64_t *bad;
    size_t n, nbad;
    fmt_manifest *m = parse(text, strlen(text), &e, &n, &bad, &nbad);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(e[0].line, 1);
    ck_assert_uint_eq(e[1].line, 16);
    ck_assert_str_eq(e[1].file, H64 "  x");
    ck_assert_uint_eq(e[2].line, 17);
    ck_assert_uint_eq(nbad, 14);
    for (size_t i = 0; i < nbad; i++)
        ck_assert_uint_eq(bad[i], i + 2);
    fmt_manifest_close(m);
}
END_TEST

START_TEST(split_names) {
    char dir[] = "/tmp/manifest_test-XXXXXX", colon[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(colon, sizeof colon, "%s/x:y", dir);
    FILE *f = fopen(colon, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    char text[512];
    snprintf(text, sizeof text,
             "xxh64 " H16 " a:b:c\n"   /* alone: cut at the last ':' */
             "xxh64 " H16 " p:q:r\n"   /* "p" is a whole-model name below */
             "xxh64 " H16 " p\n"       /*   */
             "xxh64 " H16 " s:t\n"     /* "s:t" continues with ':' below */
             "xxh64 " H16 " s:t:u:v\n" /*   */
             "xxh64 " H16 " %s\n"      /* an existing file with ':' */
             "xxh64 " H16 " %s:w\n",
             colon, colon);
    const fmt_manifest_entry *e;
    const uint64_t *bad;
    size_t n, nbad;
    fmt_manifest *m = parse(text, strlen(text), &e, &n, &bad, &nbad);
    ck_assert_uint_eq(n, 7);
    ck_assert_str_eq(e[0].file, "a:b");
    ck_assert_str_eq(e[0].tensor, "c");
    ck_assert_str_eq(e[1].file, "p");
    ck_assert_str_eq(e[1].tensor, "q:r");
    ck_assert_str_eq(e[2].file, "p");
    ck_assert_ptr_null(e[2].tensor);
    ck_assert_str_eq(e[3].file, "s:t");
    ck_assert_ptr_null(e[3].tensor);
    ck_assert_str_eq(e[4].file, "s:t");
    ck_assert_str_eq(e[4].tensor, "u:v");
    ck_assert_str_eq(e[5].file, colon);
    ck_assert_ptr_null(e[5].tensor);
    ck_assert_str_eq(e[6].file, colon);
    ck_assert_str_eq(e[6].tensor, "w");
    fmt_manifest_close(m);
    unlink(colon);
    rmdir(dir);
}
END_TEST

START_TEST(huge_name) {
    /* names up to FMT_MANIFEST_NAME_MAX are names; a longer one (10 MB)
     * makes its line malformed, so nothing ever echoes it */
    size_t max = FMT_MANIFEST_NAME_MAX, big = 10u << 20, cap = 2 * max + big + 512, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    len += (size_t)snprintf(text + len, cap - len, "xxh64 " H16 " ");
    memset(text + len, 'n', max - 2);
    len += max - 2;
    len += (size_t)snprintf(text + len, cap - len, ":t\n" H64 "  ");
    memset(text + len, 'w', max);
    len += max;
    len += (size_t)snprintf(text + len, cap - len, "\n" H64 "  ");
    memset(text + len, 'h', big);
    len += big;
    const fmt_manifest_entry *e;
    const uint64_t *bad;
    size_t n, nbad;
    fmt_manifest *m = parse(text, len, &e, &n, &bad, &nbad);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(nbad, 1);
    ck_assert_uint_eq(bad[0], 3);
    ck_assert_uint_eq(strlen(e[0].file), max - 2);
    ck_assert_str_eq(e[0].tensor, "t");
    ck_assert_uint_eq(strlen(e[1].file), max);
    ck_assert_int_eq(e[1].whole_file, 1);
    fmt_manifest_close(m);
    free(text);
}
END_TEST

START_TEST(nul_bytes) {
    static const char text[] = "xxh64 " H16 " a\0b:c\n" /* name ends at the NUL */
                               "" H64 "  w\0x\n"        /* likewise */
                               "xx\0h64 " H16 " n\n"    /* NUL in the kind: malformed */
                               "xxh64 0123\0"
                               "56789abcdef n\n"; /* in the digest: malformed */
    const fmt_manifest_entry *e;
    const uint64_t *bad;
    size_t n, nbad;
    fmt_manifest *m = parse(text, sizeof text - 1, &e, &n, &bad, &nbad);
    ck_assert_uint_eq(n, 2);
    assert_entry(&e[0], FMT_MANIFEST_XXH64, H16, "a", NULL, 0, 1);
    assert_entry(&e[1], FMT_MANIFEST_SHA256, H64, "w", NULL, 1, 2);
    ck_assert_uint_eq(nbad, 2);
    ck_assert_uint_eq(bad[0], 3);
    ck_assert_uint_eq(bad[1], 4);
    fmt_manifest_close(m);
}
END_TEST

START_TEST(writers) {
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fmt_manifest_write_entry(f, FMT_MANIFEST_XXH64, H16, "m.gguf", "a.weight"),
                     GK_OK);
    ck_assert_int_eq(fmt_manifest_write_entry(f, FMT_MANIFEST_SHA256, H64, "m.gguf", NULL), GK_OK);
    ck_assert_int_eq(fmt_manifest_write_entry(f, FMT_MANIFEST_XXH128, H32, "m.gguf", NULL), GK_OK);
    ck_assert_int_eq(fmt_manifest_write_whole(f, H64, "plain.gguf"), GK_OK);
    ck_assert_int_eq(fmt_manifest_write_whole(f, H64, "a\\b\nc"), GK_OK);
    fclose(f);
    ck_assert_str_eq(out, "xxh64     " H16 "  m.gguf:a.weight\n"
                          "sha256    " H64 "  m.gguf\n"
                          "xxh128    " H32 "  m.gguf\n"
                          "" H64 "  plain.gguf\n"
                          "\\" H64 "  a\\\\b\\nc\n");
    /* and back */
    const fmt_manifest_entry *e;
    const uint64_t *bad;
    size_t n, nbad;
    fmt_manifest *m = parse(out, len, &e, &n, &bad, &nbad);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(nbad, 0);
    assert_entry(&e[0], FMT_MANIFEST_XXH64, H16, "m.gguf", "a.weight", 0, 1);
    assert_entry(&e[1], FMT_MANIFEST_SHA256, H64, "m.gguf", NULL, 0, 2);
    assert_entry(&e[2], FMT_MANIFEST_XXH128, H32, "m.gguf", NULL, 0, 3);
    assert_entry(&e[3], FMT_MANIFEST_SHA256, H64, "plain.gguf", NULL, 1, 4);
    assert_entry(&e[4], FMT_MANIFEST_SHA256, H64, "a\\b\nc", NULL, 1, 5);
    fmt_manifest_close(m);
    free(out);
    fmt_manifest_close(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");
    tcase_set_timeout(tc, 60);
    UNIT_ADD_TESTS(tc, kinds, good_lines, line_endings, malformed_lines, split_names, huge_name,
                   nul_bytes, writers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
