/* unit.h -- scaffolding shared by the Check unit tests (the *_test.c
 * programs, and only those): run a suite, make and remove a scratch
 * directory, write and read a whole file. Everything is static inline so
 * that each test program takes what it uses and nothing is linked twice. */
#ifndef GGUFKIT_TESTS_UNIT_H
#define GGUFKIT_TESTS_UNIT_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Runs every test of s with the given fork mode (CK_FORK_GETENV follows
 * the CK_FORK environment variable, Check's default) and frees the runner
 * and s. Returns the exit status for main: EXIT_SUCCESS when no test
 * failed. */
static inline int unit_run_fork(Suite *s, enum fork_status fork) {
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, fork);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* unit_run_fork with Check's default fork mode. */
static inline int unit_run(Suite *s) {
    return unit_run_fork(s, CK_FORK_GETENV);
}

/* Adds tests[0..n-1] to tc, in order, as tcase_add_test would one by one. */
static inline void unit_add_tests(TCase *tc, const TTest *const *tests, size_t n) {
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
}

/* UNIT_ADD_TESTS(tc, test_a, test_b, ...): the tests named (START_TEST
 * names) added to tc in order, one list instead of a line per test. */
#define UNIT_ADD_TESTS(tc, ...)                                                                    \
    unit_add_tests((tc), (const TTest *const[]){__VA_ARGS__},                                      \
                   sizeof((const TTest *const[]){__VA_ARGS__}) / sizeof(const TTest *))

/* The read-only shared data (golden outputs, real fixtures): $GGUFKIT_SHARED,
 * else ../shared, relative to the repository root where tests run. */
static inline const char *unit_shared_dir(void) {
    const char *s = getenv("GGUFKIT_SHARED");
    return s && *s ? s : "../shared";
}

/* 1 when unit_shared_dir()/sub exists; otherwise prints SKIP and returns 0,
 * or fails the test when CI=true (CI must never skip silently). */
static inline int unit_have_shared(const char *sub) {
    char p[1024];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", unit_shared_dir(), sub);
    if (stat(p, &sb) == 0)
        return 1;
    const char *ci = getenv("CI");
    ck_assert_msg(!(ci && strcmp(ci, "true") == 0), "../shared not found under CI=true");
    fprintf(stderr, "SKIP: ../shared not found\n");
    return 0;
}

/* Makes a fresh directory "$TMPDIR/<prefix>.XXXXXX" (/tmp when TMPDIR is
 * unset or empty) and writes its path into dir[cap]. Call it from a test or
 * a checked fixture: it fails the test when the directory cannot be made. */
static inline void unit_mkdtemp(char *dir, size_t cap, const char *prefix) {
    const char *t = getenv("TMPDIR");
    int n = snprintf(dir, cap, "%s/%s.XXXXXX", t && *t ? t : "/tmp", prefix);
    ck_assert(n > 0 && (size_t)n < cap);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
}

static inline int unit_remove_one(const char *path, const struct stat *sb, int flag,
                                  struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it, following no links. Returns 0 when
 * all of it is gone. */
static inline int unit_rmtree(const char *dir) {
    return nftw(dir, unit_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* "dir/name" in one of four static buffers used in turn, so that up to four
 * results can be held at once (one call's arguments, say). */
static inline const char *unit_path(const char *dir, const char *name) {
    static char buf[4][1024];
    static unsigned next;
    char *p = buf[next++ % 4];
    int n = snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    ck_assert(n > 0 && (size_t)n < sizeof buf[0]);
    return p;
}

/* Writes the n bytes at p to path, replacing it; fails the test on error. */
static inline void unit_write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole of path in a malloc'd buffer the caller frees, with a NUL after
 * the *n bytes; fails the test when path cannot be read. */
static inline unsigned char *unit_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    ck_assert(len >= 0);
    ck_assert_int_eq(fseek(f, 0, SEEK_SET), 0);
    unsigned char *p = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    p[len] = '\0';
    *n = (size_t)len;
    return p;
}

#endif
