/* io_test.c -- inputs (mmap, pread, pipes, zstd, spills), atomic outputs,
 * signal cleanup, option parsing, messages and progress. Each test works in
 * its own temp directory; tests that change process-wide state (stdin,
 * stdout, signals, rlimits) do it in a forked child that reports through
 * its exit status. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "formats/io.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

static char g_top[256]; /* made by main, removed at the end even after failures */
static char g_dir[512]; /* one per test, inside g_top */

static void make_dir(void) {
    snprintf(g_dir, sizeof g_dir, "%s/t.XXXXXX", g_top);
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void drop_dir(void) {
    unit_rmtree(g_dir);
}

static const char *in_dir(const char *name) {
    return unit_path(g_dir, name);
}

/* Entries of g_dir whose name starts with prefix. */
static int count_entries(const char *prefix) {
    DIR *d = opendir(g_dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    if (d)
        closedir(d);
    return n;
}

static uint8_t *make_data(size_t n, uint32_t seed, int compressible) {
    uint8_t *d = malloc(n ? n : 1);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        d[i] = compressible ? (uint8_t)("ggufkit io test "[i % 16] + (x % 7 == 0)) : (uint8_t)x;
    }
    return d;
}

static uint8_t *zcompress(const uint8_t *d, size_t n, size_t *zn) {
    size_t cap = ZSTD_compressBound(n);
    uint8_t *z = malloc(cap);
    *zn = ZSTD_compress(z, cap, d, n, 3);
    ck_assert(!ZSTD_isError(*zn));
    return z;
}

/* Checks inside a forked child: report the line and fail the exit status. */
#define CK(c)                                                                                      \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "child check failed at %s:%d: %s\n", __FILE__, __LINE__, #c);          \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

/* Run fn in a child with stdin fed by a writer process (when feed is
 * non-NULL); returns the wait status. */
static int run_child(void (*fn)(void), const uint8_t *feed, size_t feed_len) {
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("GGUFKIT_FAKE_TTY", "none", 1);
        if (feed) {
            int p[2];
            CK(pipe(p) == 0);
            pid_t w = fork();
            CK(w >= 0);
            if (w == 0) {
                close(p[0]);
                signal(SIGPIPE, SIG_DFL);
                for (size_t off = 0; off < feed_len;) {
                    ssize_t r = write(p[1], feed + off, feed_len - off);
                    if (r <= 0)
                        _exit(1);
                    off += (size_t)r;
                }
                _exit(0);
            }
            close(p[1]);
            dup2(p[0], 0);
            close(p[0]);
        }
        fn();
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static void expect_child_ok(void (*fn)(void), const uint8_t *feed, size_t feed_len) {
    int status = run_child(fn, feed, feed_len);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %d)",
                  status);
}

/* Read everything sequentially in irregular chunks and compare. */
static int read_all_matches(fmt_input *in, const uint8_t *want, size_t n) {
    static const size_t chunks[] = {1, 7, 4093, 65536, 3, 200000};
    uint8_t *buf = malloc(200000);
    size_t off = 0;
    int ok = 1;
    for (size_t i = 0; ok; i++) {
        size_t got;
        if (fmt_input_read(in, buf, chunks[i % 6], &got) != GK_OK)
            ok = 0;
        else if (got > n - off || memcmp(buf, want + off, got) != 0)
            ok = 0;
        off += got;
        if (got < chunks[i % 6])
            break;
    }
    free(buf);
    return ok && off == n && fmt_input_tell(in) == n;
}

/* Shared data for children (fork copies it). */
static uint8_t *g_data, *g_z;
static size_t g_n, g_zn;

/* ------------------------------------------------------------------------ */
/* Input                                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(test_read_file_mmap_and_pread) {
    size_t n = 300017;
    uint8_t *d = make_data(n, 1, 0);
    unit_write_file(in_dir("a.bin"), d, n);
    gk_status st;
    char msg[256];

    fmt_input *in = fmt_input_open(in_dir("a.bin"), NULL, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(in);
    ck_assert_int_eq(st, GK_OK);
    ck_assert_int_eq(fmt_input_is_mapped(in), 1);
    ck_assert_int_eq(fmt_input_is_zstd(in), 0);
    ck_assert_uint_eq(fmt_input_size(in), n);
    ck_assert_mem_eq(fmt_input_data(in), d, n);
    ck_assert(read_all_matches(in, d, n));
    /* copies at an offset, through pread, past the end refused */
    uint8_t part[7000];
    ck_assert_int_eq(fmt_input_copy_at(in, n - sizeof part, part, sizeof part), 0);
    ck_assert_mem_eq(part, d + n - sizeof part, sizeof part);
    ck_assert_int_eq(fmt_input_copy_at(in, n - sizeof part + 1, part, sizeof part), EIO);
    ck_assert_int_eq(fmt_input_copy_at(in, UINT64_MAX, part, 1), EIO);
    fmt_input_close(in);

    fmt_input_opts o = {.no_mmap = 1};
    in = fmt_input_open(in_dir("a.bin"), &o, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(in);
    ck_assert_int_eq(fmt_input_is_mapped(in), 0);
    ck_assert_ptr_null(fmt_input_data(in));
    ck_assert_uint_eq(fmt_input_size(in), n);
    uint8_t buf[5000];
    ck_assert_int_eq(fmt_input_pread(in, buf, sizeof buf, 100), GK_OK);
    ck_assert_mem_eq(buf, d + 100, sizeof buf);
    ck_assert_int_eq(fmt_input_copy_at(in, 100, buf, sizeof buf), EIO); /* not mapped */
    ck_assert_uint_eq(fmt_input_tell(in), 0);
    ck_assert(read_all_matches(in, d, n));
    /* explicit request maps even with no_mmap */
    ck_assert_int_eq(fmt_input_make_seekable(in), GK_OK);
    ck_assert_mem_eq(fmt_input_data(in), d, n);
    fmt_input_close(in);
    free(d);
}
END_TEST

static void child_read_pipe(void) {
    fmt_input *in = fmt_input_open("-", NULL, NULL, NULL, 0);
    CK(in != NULL);
    CK(strcmp(fmt_input_name(in), "(stdin)") == 0);
    CK(!fmt_input_is_mapped(in) && !fmt_input_is_zstd(in));
    CK(fmt_input_size(in) == UINT64_MAX);
    CK(read_all_matches(in, g_data, g_n));
    fmt_input_close(in);
}

START_TEST(test_read_stdin_pipe) {
    g_n = 300017;
    g_data = make_data(g_n, 1, 0);
    expect_child_ok(child_read_pipe, g_data, g_n);
    free(g_data);
}
END_TEST

/* Shorter than the 4-byte magic test, and empty. */
static void child_read_short(void) {
    g_n = 2;
    child_read_pipe();
}

static void child_read_empty(void) {
    g_n = 0;
    child_read_pipe();
}

START_TEST(test_read_stdin_short) {
    g_data = make_data(16, 3, 0);
    expect_child_ok(child_read_short, g_data, 2);
    expect_child_ok(child_read_empty, g_data, 0);
    free(g_data);
}
END_TEST

static void child_stdin_file(void) {
    int fd = open(in_dir("s.bin"), O_RDONLY);
    CK(fd >= 0 && dup2(fd, 0) == 0);
    close(fd);
    fmt_input *in = fmt_input_open("-", NULL, NULL, NULL, 0);
    CK(in != NULL);
    CK(fmt_input_is_mapped(in));
    CK(fmt_input_size(in) == g_n);
    CK(read_all_matches(in, g_data, g_n));
    fmt_input_close(in);
}

START_TEST(test_read_stdin_regular_file) {
    g_n = 70001;
    g_data = make_data(g_n, 2, 0);
    unit_write_file(in_dir("s.bin"), g_data, g_n);
    expect_child_ok(child_stdin_file, NULL, 0);
    free(g_data);
}
END_TEST

static void child_stdin_tty(void) {
    int fd = open("/dev/null", O_RDONLY);
    CK(fd >= 0 && dup2(fd, 0) == 0);
    setenv("GGUFKIT_FAKE_TTY", "stdin", 1);
    gk_status st;
    char msg[256];
    CK(fmt_input_open("-", NULL, &st, msg, sizeof msg) == NULL);
    CK(st == GK_E_USAGE);
    CK(strstr(msg, "terminal") != NULL);
    fmt_input_opts o = {.allow_tty = 1};
    fmt_input *in = fmt_input_open("-", &o, &st, msg, sizeof msg);
    CK(in != NULL);
    fmt_input_close(in);
}

START_TEST(test_stdin_terminal_refused) {
    expect_child_ok(child_stdin_tty, NULL, 0);
}
END_TEST

START_TEST(test_open_errors) {
    gk_status st;
    char msg[256];
    ck_assert_ptr_null(fmt_input_open(in_dir("missing"), NULL, &st, msg, sizeof msg));
    ck_assert_int_eq(st, GK_E_IO);
    ck_assert_str_eq(msg, "cannot open: No such file or directory");
    ck_assert_ptr_null(fmt_input_open(g_dir, NULL, &st, msg, sizeof msg));
    ck_assert_int_eq(st, GK_E_USAGE);
    ck_assert_str_eq(msg, "is a directory");

    unit_write_file(in_dir("empty"), "", 0);
    fmt_input *in = fmt_input_open(in_dir("empty"), NULL, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(in);
    ck_assert_int_eq(fmt_input_is_mapped(in), 1);
    ck_assert_ptr_nonnull(fmt_input_data(in));
    ck_assert_uint_eq(fmt_input_size(in), 0);
    size_t got = 1;
    uint8_t b;
    ck_assert_int_eq(fmt_input_read(in, &b, 1, &got), GK_OK);
    ck_assert_uint_eq(got, 0);
    fmt_input_close(in);
    fmt_input_close(NULL);
}
END_TEST

START_TEST(test_truncation_message) {
    uint8_t *d = make_data(100, 4, 0);
    unit_write_file(in_dir("t.bin"), d, 100);
    for (int no_mmap = 0; no_mmap <= 1; no_mmap++) {
        fmt_input_opts o = {.no_mmap = no_mmap};
        fmt_input *in = fmt_input_open(in_dir("t.bin"), &o, NULL, NULL, 0);
        ck_assert_ptr_nonnull(in);
        uint8_t buf[60];
        ck_assert_int_eq(fmt_input_read_exact(in, buf, 60), GK_OK);
        ck_assert_int_eq(fmt_input_read_exact(in, buf, 60), GK_E_FORMAT);
        ck_assert_str_eq(fmt_input_errmsg(in), "unexpected end of file (at byte 100)");
        ck_assert_uint_eq(fmt_input_tell(in), 100);
        ck_assert_int_eq(fmt_input_pread(in, buf, 10, 95), GK_E_FORMAT);
        ck_assert_str_eq(fmt_input_errmsg(in), "unexpected end of file (at byte 100)");
        ck_assert_int_eq(fmt_input_pread(in, buf, 10, UINT64_MAX - 3), GK_E_FORMAT);
        ck_assert_int_eq(fmt_input_pread(in, buf, 10, 90), GK_OK);
        ck_assert_mem_eq(buf, d + 90, 10);
        fmt_input_close(in);

        in = fmt_input_open(in_dir("t.bin"), &o, NULL, NULL, 0);
        ck_assert_int_eq(fmt_input_skip(in, 40), GK_OK);
        ck_assert_int_eq(fmt_input_read_exact(in, buf, 1), GK_OK);
        ck_assert_uint_eq(buf[0], d[40]);
        ck_assert_int_eq(fmt_input_skip(in, 60), GK_E_FORMAT);
        ck_assert_str_eq(fmt_input_errmsg(in), "unexpected end of file (at byte 100)");
        fmt_input_close(in);
    }
    free(d);
}
END_TEST

static void child_pipe_truncation(void) {
    fmt_input *in = fmt_input_open("-", NULL, NULL, NULL, 0);
    CK(in != NULL);
    uint8_t buf[64];
    CK(fmt_input_skip(in, 50) == GK_OK);
    CK(fmt_input_read_exact(in, buf, 10) == GK_OK);
    CK(memcmp(buf, g_data + 50, 10) == 0);
    CK(fmt_input_read_exact(in, buf, 64) == GK_E_FORMAT);
    CK(strcmp(fmt_input_errmsg(in), "unexpected end of file (at byte 100)") == 0);
    fmt_input_close(in);
}

START_TEST(test_truncation_pipe) {
    g_n = 100;
    g_data = make_data(g_n, 4, 0);
    expect_child_ok(child_pipe_truncation, g_data, g_n);
    free(g_data);
}
END_TEST

static void child_pipe_spill(void) {
    setenv("TMPDIR", g_dir, 1);
    fmt_input *in = fmt_input_open("-", NULL, NULL, NULL, 0);
    CK(in != NULL);
    uint8_t buf[1000];
    CK(fmt_input_read_exact(in, buf, 1000) == GK_OK);
    CK(memcmp(buf, g_data, 1000) == 0);
    CK(fmt_input_pread(in, buf, 500, 100) == GK_OK);
    CK(memcmp(buf, g_data + 100, 500) == 0);
    CK(fmt_input_tell(in) == 1000);
    CK(fmt_input_is_mapped(in));
    CK(fmt_input_size(in) == g_n);
    CK(memcmp(fmt_input_data(in), g_data, g_n) == 0);
    CK(fmt_input_copy_at(in, 7, buf, 900) == 0); /* from the spill's mapping */
    CK(memcmp(buf, g_data + 7, 900) == 0);
    /* the spill file is unlinked at once */
    CK(count_entries("ggufkit-spill") == 0);
    CK(fmt_input_pread(in, buf, 10, g_n - 5) == GK_E_FORMAT);
    uint8_t *rest = malloc(g_n);
    CK(fmt_input_read_exact(in, rest, g_n - 1000) == GK_OK);
    CK(memcmp(rest, g_data + 1000, g_n - 1000) == 0);
    size_t got = 1;
    CK(fmt_input_read(in, rest, 1, &got) == GK_OK && got == 0);
    free(rest);
    fmt_input_close(in);
}

START_TEST(test_pipe_pread_spills) {
    g_n = 200003;
    g_data = make_data(g_n, 5, 0);
    expect_child_ok(child_pipe_spill, g_data, g_n);
    free(g_data);
}
END_TEST

static void child_history_lost(void) {
    fmt_input *in = fmt_input_open("-", NULL, NULL, NULL, 0);
    CK(in != NULL);
    CK(fmt_input_skip(in, g_n) == GK_OK);
    uint8_t b;
    CK(fmt_input_pread(in, &b, 1, 0) == GK_E_UNSUPPORTED);
    CK(strstr(fmt_input_errmsg(in), "cannot seek back") != NULL);
    fmt_input_close(in);
}

START_TEST(test_pipe_history_limit) {
    g_n = ((size_t)64 << 20) + 4096;
    g_data = calloc(1, g_n);
    expect_child_ok(child_history_lost, g_data, g_n);
    free(g_data);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* zstd input                                                                 */
/* ------------------------------------------------------------------------ */

/* Two concatenated frames, as `zstd a b > c` or `cat a.zst b.zst` make. */
static void make_zstd_data(size_t n) {
    g_n = n;
    g_data = make_data(n, 6, 1);
    size_t z1, z2;
    uint8_t *a = zcompress(g_data, n / 3, &z1);
    uint8_t *b = zcompress(g_data + n / 3, n - n / 3, &z2);
    g_z = malloc(z1 + z2);
    memcpy(g_z, a, z1);
    memcpy(g_z + z1, b, z2);
    g_zn = z1 + z2;
    free(a);
    free(b);
}

static void free_zstd_data(void) {
    free(g_data);
    free(g_z);
}

START_TEST(test_zstd_file) {
    make_zstd_data(400000);
    ck_assert_uint_lt(g_zn, g_n / 2);
    unit_write_file(in_dir("x.zst"), g_z, g_zn);
    gk_status st;
    fmt_input *in = fmt_input_open(in_dir("x.zst"), NULL, &st, NULL, 0);
    ck_assert_ptr_nonnull(in);
    ck_assert_int_eq(fmt_input_is_zstd(in), 1);
    ck_assert_int_eq(fmt_input_is_mapped(in), 0);
    ck_assert_uint_eq(fmt_input_size(in), UINT64_MAX);
    ck_assert(read_all_matches(in, g_data, g_n));
    fmt_input_close(in);

    /* random access spills the whole decompressed stream */
    setenv("TMPDIR", g_dir, 1);
    in = fmt_input_open(in_dir("x.zst"), NULL, &st, NULL, 0);
    uint8_t buf[5000];
    ck_assert_int_eq(fmt_input_read_exact(in, buf, 1000), GK_OK);
    ck_assert_int_eq(fmt_input_pread(in, buf, sizeof buf, 300000), GK_OK);
    ck_assert_mem_eq(buf, g_data + 300000, sizeof buf);
    ck_assert_int_eq(fmt_input_is_mapped(in), 1);
    ck_assert_uint_eq(fmt_input_size(in), g_n);
    ck_assert_mem_eq(fmt_input_data(in), g_data, g_n);
    ck_assert_uint_eq(fmt_input_tell(in), 1000);
    ck_assert_int_eq(fmt_input_read_exact(in, buf, 10), GK_OK);
    ck_assert_mem_eq(buf, g_data + 1000, 10);
    ck_assert_int_eq(count_entries("ggufkit-spill"), 0);
    fmt_input_close(in);
    unsetenv("TMPDIR");
    free_zstd_data();
}
END_TEST

static void child_zstd_stdin(void) {
    fmt_input *in = fmt_input_open("-", NULL, NULL, NULL, 0);
    CK(in != NULL);
    CK(fmt_input_is_zstd(in));
    uint8_t buf[10000];
    CK(fmt_input_read_exact(in, buf, 3) == GK_OK);
    CK(fmt_input_read_exact(in, buf + 3, sizeof buf - 3) == GK_OK);
    CK(memcmp(buf, g_data, sizeof buf) == 0);
    CK(fmt_input_make_seekable(in) == GK_OK);
    CK(fmt_input_size(in) == g_n);
    CK(memcmp(fmt_input_data(in), g_data, g_n) == 0);
    CK(fmt_input_tell(in) == sizeof buf);
    CK(fmt_input_read_exact(in, buf, 100) == GK_OK);
    CK(memcmp(buf, g_data + 10000, 100) == 0);
    fmt_input_close(in);
}

static void child_zstd_stdin_seq(void) {
    fmt_input *in = fmt_input_open("-", NULL, NULL, NULL, 0);
    CK(in != NULL && fmt_input_is_zstd(in));
    CK(read_all_matches(in, g_data, g_n));
    fmt_input_close(in);
}

START_TEST(test_zstd_stdin) {
    make_zstd_data(300000);
    expect_child_ok(child_zstd_stdin, g_z, g_zn);
    expect_child_ok(child_zstd_stdin_seq, g_z, g_zn);
    free_zstd_data();
}
END_TEST

START_TEST(test_zstd_bomb_limit) {
    /* 16 MiB of zeros compress to a few hundred bytes */
    size_t n = (size_t)16 << 20;
    uint8_t *zeros = calloc(1, n);
    size_t zn;
    uint8_t *z = zcompress(zeros, n, &zn);
    ck_assert_uint_lt(zn, 4096);
    unit_write_file(in_dir("bomb.zst"), z, zn);
    const char *want = "zstd data expands past the limit of 1048576 bytes";

    fmt_input_opts o = {.zstd_max_size = (uint64_t)1 << 20};
    fmt_input *in = fmt_input_open(in_dir("bomb.zst"), &o, NULL, NULL, 0);
    ck_assert_ptr_nonnull(in);
    uint8_t buf[65536];
    gk_status st;
    size_t got;
    do
        st = fmt_input_read(in, buf, sizeof buf, &got);
    while (st == GK_OK && got > 0);
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_str_eq(fmt_input_errmsg(in), want);
    ck_assert_uint_le(fmt_input_tell(in), ((uint64_t)1 << 20) + 1);
    ck_assert_int_eq(fmt_input_read(in, buf, 1, &got), GK_E_FORMAT); /* sticky */
    fmt_input_close(in);

    /* the spill path has the same limit; so does the environment */
    setenv("TMPDIR", g_dir, 1);
    setenv("GGUFKIT_ZSTD_MAX", "1M", 1);
    in = fmt_input_open(in_dir("bomb.zst"), NULL, NULL, NULL, 0);
    ck_assert_int_eq(fmt_input_make_seekable(in), GK_E_FORMAT);
    ck_assert_str_eq(fmt_input_errmsg(in), want);
    fmt_input_close(in);
    setenv("GGUFKIT_ZSTD_MAX", "junk", 1);
    gk_status ost;
    ck_assert_ptr_null(fmt_input_open(in_dir("bomb.zst"), NULL, &ost, NULL, 0));
    ck_assert_int_eq(ost, GK_E_USAGE);
    unsetenv("GGUFKIT_ZSTD_MAX");

    /* exactly at the limit is fine */
    free(z);
    z = zcompress(zeros, (size_t)1 << 20, &zn);
    unit_write_file(in_dir("edge.zst"), z, zn);
    in = fmt_input_open(in_dir("edge.zst"), &o, NULL, NULL, 0);
    ck_assert_int_eq(fmt_input_skip(in, (uint64_t)1 << 20), GK_OK);
    ck_assert_int_eq(fmt_input_read(in, buf, 1, &got), GK_OK);
    ck_assert_uint_eq(got, 0);
    fmt_input_close(in);
    in = fmt_input_open(in_dir("edge.zst"), &o, NULL, NULL, 0);
    ck_assert_int_eq(fmt_input_make_seekable(in), GK_OK);
    ck_assert_uint_eq(fmt_input_size(in), (uint64_t)1 << 20);
    fmt_input_close(in);
    unsetenv("TMPDIR");
    free(z);
    free(zeros);
}
END_TEST

START_TEST(test_zstd_truncated_and_junk) {
    make_zstd_data(200000);
    unit_write_file(in_dir("cut.zst"), g_z, g_zn - 10);
    fmt_input *in = fmt_input_open(in_dir("cut.zst"), NULL, NULL, NULL, 0);
    uint8_t *buf = malloc(g_n);
    size_t got;
    ck_assert_int_eq(fmt_input_read(in, buf, g_n, &got), GK_E_FORMAT);
    ck_assert_msg(strncmp(fmt_input_errmsg(in), "truncated zstd data (at compressed byte", 39) == 0,
                  "%s", fmt_input_errmsg(in));
    fmt_input_close(in);
    setenv("TMPDIR", g_dir, 1);
    in = fmt_input_open(in_dir("cut.zst"), NULL, NULL, NULL, 0);
    ck_assert_int_eq(fmt_input_make_seekable(in), GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(fmt_input_errmsg(in), "truncated zstd data"));
    fmt_input_close(in);

    /* a bare magic number */
    unit_write_file(in_dir("magic.zst"), g_z, 4);
    in = fmt_input_open(in_dir("magic.zst"), NULL, NULL, NULL, 0);
    ck_assert_int_eq(fmt_input_is_zstd(in), 1);
    ck_assert_int_eq(fmt_input_read(in, buf, 10, &got), GK_E_FORMAT);
    fmt_input_close(in);

    /* trailing bytes that are not a frame */
    uint8_t *junk = malloc(g_zn + 8);
    memcpy(junk, g_z, g_zn);
    memcpy(junk + g_zn, "GARBAGE!", 8);
    unit_write_file(in_dir("junk.zst"), junk, g_zn + 8);
    in = fmt_input_open(in_dir("junk.zst"), NULL, NULL, NULL, 0);
    ck_assert_int_eq(fmt_input_read(in, buf, g_n, &got), GK_OK);
    ck_assert_uint_eq(got, g_n);
    ck_assert_int_eq(fmt_input_read(in, buf, 1, &got), GK_E_FORMAT);
    ck_assert_msg(strncmp(fmt_input_errmsg(in), "zstd: ", 6) == 0, "%s", fmt_input_errmsg(in));
    ck_assert_ptr_nonnull(strstr(fmt_input_errmsg(in), "(at compressed byte"));
    fmt_input_close(in);
    unsetenv("TMPDIR");
    free(junk);
    free(buf);
    free_zstd_data();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Output                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_output_atomic) {
    const char *path = in_dir("out.bin");
    uint8_t *d = make_data(3000000, 7, 0);
    gk_status st;
    char msg[256];
    fmt_output *out = fmt_output_open(path, NULL, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_output_write(out, d, 1000), GK_OK);
    ck_assert_int_eq(fmt_output_write(out, d + 1000, 2000000), GK_OK); /* > buffer */
    ck_assert_int_eq(fmt_output_write_zeros(out, 100000), GK_OK);
    ck_assert_int_eq(fmt_output_write(out, d + 2001000, 999000), GK_OK);
    ck_assert_uint_eq(fmt_output_tell(out), 3100000);
    ck_assert_int_eq(count_entries("out.bin.tmp."), 1);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    ck_assert_int_eq(count_entries("out.bin.tmp."), 0);
    fmt_output_close(out);
    size_t n;
    uint8_t *got = unit_read_file(path, &n);
    ck_assert_uint_eq(n, 3100000);
    ck_assert_mem_eq(got, d, 2001000);
    uint8_t *zeros = calloc(1, 100000);
    ck_assert_mem_eq(got + 2001000, zeros, 100000);
    free(zeros);
    ck_assert_mem_eq(got + 2101000, d + 2001000, 999000);
    struct stat sb;
    mode_t mask = umask(022);
    umask(mask);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0666 & ~mask);
    free(got);

    /* closed without commit: nothing is left */
    out = fmt_output_open(in_dir("gone.bin"), NULL, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_output_write(out, d, 5000), GK_OK);
    ck_assert_int_eq(count_entries("gone.bin"), 1);
    fmt_output_close(out);
    ck_assert_int_eq(count_entries("gone.bin"), 0);
    fmt_output_close(NULL);

    /* missing directory */
    ck_assert_ptr_null(fmt_output_open(in_dir("nodir/x.bin"), NULL, &st, msg, sizeof msg));
    ck_assert_int_eq(st, GK_E_IO);
    ck_assert_str_eq(msg, "cannot create a temp file beside it: No such file or directory");
    free(d);
}
END_TEST

START_TEST(test_output_exists_and_force) {
    const char *path = in_dir("e.bin");
    unit_write_file(path, "old", 3);
    gk_status st;
    char msg[256];
    ck_assert_ptr_null(fmt_output_open(path, NULL, &st, msg, sizeof msg));
    ck_assert_int_eq(st, GK_E_EXISTS);
    ck_assert_str_eq(msg, "already exists (use -f to overwrite)");
    ck_assert_int_eq(count_entries("e.bin"), 1);

    fmt_output_opts o = {.force = 1};
    fmt_output *out = fmt_output_open(path, &o, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_output_write(out, "newer", 5), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    size_t n;
    uint8_t *got = unit_read_file(path, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_eq(got, "newer", 5);
    free(got);

    /* the target appears while we write: commit does not clobber it */
    out = fmt_output_open(in_dir("late.bin"), NULL, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(out);
    unit_write_file(in_dir("late.bin"), "theirs", 6);
    ck_assert_int_eq(fmt_output_write(out, "ours", 4), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_E_EXISTS);
    fmt_output_close(out);
    got = unit_read_file(in_dir("late.bin"), &n);
    ck_assert_uint_eq(n, 6);
    free(got);
    ck_assert_int_eq(count_entries("late.bin.tmp"), 0);

    ck_assert_ptr_null(fmt_output_open(g_dir, &o, &st, msg, sizeof msg));
    ck_assert_int_eq(st, GK_E_USAGE);
}
END_TEST

/* A set of files is committed all or none: the third shard's name taken
 * while they are written makes the whole set fail, and the two already
 * renamed are removed again; without the conflict all three appear. */
START_TEST(test_output_commit_all) {
    static const char *const names[3] = {"s-1.gguf", "s-2.gguf", "s-3.gguf"};
    for (int conflict = 1; conflict >= 0; conflict--) {
        fmt_output *outs[3];
        gk_status st;
        char msg[256];
        for (int k = 0; k < 3; k++) {
            outs[k] = fmt_output_open(in_dir(names[k]), NULL, &st, msg, sizeof msg);
            ck_assert_ptr_nonnull(outs[k]);
            ck_assert_int_eq(fmt_output_write(outs[k], "shard", 5), GK_OK);
        }
        if (conflict)
            unit_write_file(in_dir("s-3.gguf"), "theirs", 6);
        st = fmt_output_commit_all(outs, 3);
        ck_assert_int_eq(st, conflict ? GK_E_EXISTS : GK_OK);
        ck_assert_str_eq(fmt_output_errmsg(outs[0]), "");
        if (conflict)
            ck_assert_str_eq(fmt_output_errmsg(outs[2]), "already exists (use -f to overwrite)");
        for (int k = 0; k < 3; k++)
            fmt_output_close(outs[k]);
        ck_assert_int_eq(count_entries("s-"), conflict ? 1 : 3); /* theirs, or ours */
        ck_assert_int_eq(count_entries("s-1.gguf.tmp"), 0);
        ck_assert_int_eq(count_entries("s-3.gguf.tmp"), 0);
        if (conflict)
            ck_assert_int_eq(unlink(in_dir("s-3.gguf")), 0);
    }
}
END_TEST

START_TEST(test_output_same_file_refused) {
    const char *a = in_dir("a.gguf");
    unit_write_file(a, "input", 5);
    char b[PATH_MAX];
    snprintf(b, sizeof b, "%s", in_dir("b.gguf"));
    ck_assert_int_eq(link(a, b), 0);
    const char *inputs[] = {"-", a, NULL};
    fmt_output_opts o = {.force = 1, .inputs = inputs};
    gk_status st;
    char msg[256];
    ck_assert_ptr_null(fmt_output_open(b, &o, &st, msg, sizeof msg));
    ck_assert_int_eq(st, GK_E_USAGE);
    ck_assert_ptr_nonnull(strstr(msg, "same file as input"));
    /* same file by another spelling of the path */
    char c[PATH_MAX];
    snprintf(c, sizeof c, "%s/./a.gguf", g_dir);
    ck_assert_ptr_null(fmt_output_open(c, &o, &st, msg, sizeof msg));
    ck_assert_int_eq(st, GK_E_USAGE);
    size_t n;
    uint8_t *got = unit_read_file(a, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_eq(got, "input", 5);
    free(got);
    ck_assert_int_eq(count_entries("b.gguf.tmp"), 0);
}
END_TEST

static void child_stdout_tty(void) {
    setenv("GGUFKIT_FAKE_TTY", "stdout", 1);
    gk_status st;
    char msg[256];
    CK(fmt_output_open("-", NULL, &st, msg, sizeof msg) == NULL);
    CK(st == GK_E_USAGE);
    CK(strcmp(msg, "refusing to write binary data to a terminal (use -f to force)") == 0);
    fmt_output_opts o = {.force = 1};
    fmt_output *out = fmt_output_open("-", &o, &st, msg, sizeof msg);
    CK(out != NULL);
    fmt_output_close(out);
}

static void child_stdout_write(void) {
    int fd = open(in_dir("stdout.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CK(fd >= 0 && dup2(fd, 1) == 1);
    close(fd);
    fmt_output *out = fmt_output_open("-", NULL, NULL, NULL, 0);
    CK(out != NULL);
    CK(fmt_output_write(out, g_data, g_n) == GK_OK);
    CK(fmt_output_commit(out) == GK_OK);
    fmt_output_close(out);
    CK(fcntl(1, F_GETFD) != -1); /* stdout stays open */
}

static void child_stdout_is_input(void) {
    int fd = open(in_dir("in.bin"), O_WRONLY | O_APPEND);
    CK(fd >= 0 && dup2(fd, 1) == 1);
    close(fd);
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s/./in.bin", g_dir);
    const char *inputs[] = {rel, NULL};
    fmt_output_opts o = {.force = 1, .inputs = inputs};
    gk_status st;
    char msg[256];
    CK(fmt_output_open("-", &o, &st, msg, sizeof msg) == NULL);
    CK(st == GK_E_USAGE);
    CK(strstr(msg, "same file as input") != NULL);
}

START_TEST(test_output_stdout) {
    expect_child_ok(child_stdout_tty, NULL, 0);
    unit_write_file(in_dir("in.bin"), "abc", 3);
    expect_child_ok(child_stdout_is_input, NULL, 0);
    g_n = 123457;
    g_data = make_data(g_n, 8, 0);
    expect_child_ok(child_stdout_write, NULL, 0);
    size_t n;
    uint8_t *got = unit_read_file(in_dir("stdout.bin"), &n);
    ck_assert_uint_eq(n, g_n);
    ck_assert_mem_eq(got, g_data, g_n);
    free(got);
    free(g_data);
}
END_TEST

START_TEST(test_output_device) {
    if (access("/dev/null", W_OK) != 0)
        return;
    fmt_output_opts o = {.zstd_level = 1};
    gk_status st;
    char msg[256];
    fmt_output *out = fmt_output_open("/dev/null", &o, &st, msg, sizeof msg);
    ck_assert_msg(out != NULL, "%s", msg);
    ck_assert_int_eq(fmt_output_write(out, "data", 4), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    struct stat sb;
    ck_assert_int_eq(stat("/dev/null", &sb), 0);
    ck_assert(S_ISCHR(sb.st_mode));
}
END_TEST

START_TEST(test_output_zstd_roundtrip) {
    size_t n = 3000000;
    uint8_t *d = make_data(n, 9, 1);
    fmt_output_opts o = {.zstd_level = 3, .zstd_threads = 2};
    gk_status st;
    fmt_output *out = fmt_output_open(in_dir("z.zst"), &o, &st, NULL, 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_output_write(out, d, 1), GK_OK);
    ck_assert_int_eq(fmt_output_write(out, d + 1, 999), GK_OK);
    ck_assert_int_eq(fmt_output_write(out, d + 1000, 2000000), GK_OK);
    ck_assert_int_eq(fmt_output_write(out, d + 2001000, n - 2001000), GK_OK);
    ck_assert_uint_eq(fmt_output_tell(out), n);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);

    size_t zn;
    uint8_t *z = unit_read_file(in_dir("z.zst"), &zn);
    ck_assert_uint_lt(zn, n / 4);
    uint8_t *back = malloc(n + 1);
    size_t r = ZSTD_decompress(back, n + 1, z, zn);
    ck_assert_msg(!ZSTD_isError(r), "%s", ZSTD_getErrorName(r));
    ck_assert_uint_eq(r, n);
    ck_assert_mem_eq(back, d, n);

    /* and through our own reader */
    fmt_input *in = fmt_input_open(in_dir("z.zst"), NULL, NULL, NULL, 0);
    ck_assert_int_eq(fmt_input_is_zstd(in), 1);
    ck_assert(read_all_matches(in, d, n));
    fmt_input_close(in);

    o.zstd_level = 99;
    ck_assert_ptr_null(fmt_output_open(in_dir("bad.zst"), &o, &st, NULL, 0));
    ck_assert_int_eq(st, GK_E_USAGE);
    free(back);
    free(z);
    free(d);
}
END_TEST

static void child_fsize(void) {
    struct rlimit rl;
    CK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
    rl.rlim_cur = 65536;
    CK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    fmt_output *out = fmt_output_open(in_dir("big.bin"), NULL, NULL, NULL, 0);
    CK(out != NULL);
    gk_status st = GK_OK;
    for (int i = 0; i < 4 && st == GK_OK; i++)
        st = fmt_output_write(out, g_data, g_n);
    if (st == GK_OK)
        st = fmt_output_commit(out);
    CK(st == GK_E_IO);
    CK(strcmp(fmt_output_errmsg(out), "write failed: File too large") == 0);
    CK(count_entries("big.bin") == 0);
    CK(fmt_output_commit(out) == GK_E_IO);
    fmt_output_close(out);
    CK(count_entries("big.bin") == 0);
}

START_TEST(test_output_fsize_limit) {
    g_n = 600000;
    g_data = make_data(g_n, 10, 0);
    expect_child_ok(child_fsize, NULL, 0);
    ck_assert_int_eq(count_entries("big.bin"), 0);
    free(g_data);
}
END_TEST

static void child_epipe(void) {
    int p[2];
    CK(pipe(p) == 0);
    close(p[0]);
    CK(dup2(p[1], 1) == 1);
    close(p[1]);
    fmt_output *out = fmt_output_open("-", NULL, NULL, NULL, 0);
    CK(out != NULL);
    CK(fmt_output_write(out, "hello", 5) == GK_OK);
    CK(fmt_output_commit(out) == GK_E_PIPE);
    CK(strcmp(fmt_output_errmsg(out), "broken pipe") == 0);
    fmt_output_close(out);
}

static void child_enospc(void) {
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0)
        return; /* no /dev/full here: nothing to test */
    CK(dup2(fd, 1) == 1);
    close(fd);
    fmt_output *out = fmt_output_open("-", NULL, NULL, NULL, 0);
    CK(out != NULL);
    CK(fmt_output_write(out, "hello", 5) == GK_OK);
    CK(fmt_output_commit(out) == GK_E_IO);
    CK(strcmp(fmt_output_errmsg(out), "write failed: No space left on device") == 0);
    fmt_output_close(out);
}

START_TEST(test_output_write_errors) {
    expect_child_ok(child_epipe, NULL, 0);
    expect_child_ok(child_enospc, NULL, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Signals                                                                    */
/* ------------------------------------------------------------------------ */

static int g_sync_fd;

static void child_write_forever(void) {
    fmt_output *out = fmt_output_open(in_dir("sig.bin"), NULL, NULL, NULL, 0);
    CK(out != NULL);
    CK(fmt_output_write(out, g_data, 4096) == GK_OK);
    CK(write(g_sync_fd, "r", 1) == 1);
    for (int i = 0; i < 5000; i++) {
        CK(fmt_output_write(out, g_data, 4096) == GK_OK);
        usleep(1000);
    }
    _exit(3); /* the signal never came */
}

static void child_dir_cleanup(void) {
    CK(chdir(g_dir) == 0);
    CK(mkdir("d", 0755) == 0);
    fmt_signals_init();
    fmt_cleanup_register("d");
    unit_write_file("d/f1", "x", 1);
    fmt_cleanup_register("d/f1");
    CK(mkdir("d/sub", 0755) == 0);
    fmt_cleanup_register("d/sub");
    unit_write_file("d/sub/f2", "y", 1);
    fmt_cleanup_register("d/sub/f2");
    unit_write_file("keep", "z", 1);
    fmt_cleanup_register("keep");
    fmt_cleanup_unregister("keep");
    raise(SIGINT);
    _exit(3);
}

/* Start fn, wait for its "ready" byte, send sig, return the wait status. */
static int signal_child(void (*fn)(void), int sig) {
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    g_sync_fd = p[1];
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        fn();
        _exit(0);
    }
    close(p[1]);
    char c;
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    close(p[0]);
    ck_assert_int_eq(count_entries("sig.bin.tmp."), 1);
    ck_assert_int_eq(kill(pid, sig), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

START_TEST(test_signal_removes_temp) {
    g_data = make_data(4096, 11, 0);
    int sigs[] = {SIGTERM, SIGINT};
    for (int i = 0; i < 2; i++) {
        int status = signal_child(child_write_forever, sigs[i]);
        ck_assert_msg(WIFSIGNALED(status), "status %d", status);
        ck_assert_int_eq(WTERMSIG(status), sigs[i]);
        ck_assert_int_eq(count_entries("sig.bin"), 0);
    }
    free(g_data);

    int status = run_child(child_dir_cleanup, NULL, 0);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
    ck_assert_int_eq(access(in_dir("d"), F_OK), -1);
    ck_assert_int_eq(access(in_dir("keep"), F_OK), 0);
}
END_TEST

/* A mapped input truncated by someone else: touching the lost pages is
 * SIGBUS, which io turns into a message naming the input, the temp files
 * removed, and exit status 2. */
static void child_input_shrinks(void) {
    CK(chdir(g_dir) == 0);
    int errfd = open("bus.err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CK(errfd >= 0 && dup2(errfd, 2) == 2);
    fmt_set_progname("io_test");
    uint8_t *d = make_data(1 << 20, 5, 0);
    unit_write_file("bus.in", d, 1 << 20);
    free(d);
    gk_status st;
    char msg[256];
    fmt_input *in = fmt_input_open("bus.in", NULL, &st, msg, sizeof msg);
    CK(in != NULL && fmt_input_is_mapped(in));
    fmt_signals_init();
    unit_write_file("bus.out.tmp", "x", 1);
    fmt_cleanup_register("bus.out.tmp");
    CK(truncate("bus.in", 4096) == 0);
    volatile uint8_t sink = fmt_input_data(in)[(1 << 20) - 1];
    (void)sink;
    _exit(0); /* not reached: the read above faults */
}

START_TEST(test_input_shrinks_sigbus) {
    int status = run_child(child_input_shrinks, NULL, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
    ck_assert_int_eq(access(in_dir("bus.out.tmp"), F_OK), -1);
    char msg[512] = {0};
    FILE *f = fopen(in_dir("bus.err"), "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(msg, 1, sizeof msg - 1, f);
    fclose(f);
    msg[n] = 0;
    ck_assert_str_eq(msg, "io_test: bus.in: input file shrank while reading; no output written\n");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* File mappings and page release                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_map_file) {
    size_t n = 3 * 4096 + 123;
    uint8_t *d = make_data(n, 11, 0);
    unit_write_file(in_dir("m.bin"), d, n);
    fmt_map m;
    char msg[256];
    ck_assert_int_eq(fmt_map_file(in_dir("m.bin"), 0, &m, msg, sizeof msg), GK_OK);
    ck_assert_uint_eq(m.size, n);
    ck_assert_int_eq(memcmp(m.data, d, n), 0);
    fmt_unmap(&m);
    ck_assert_ptr_null(m.data);
    ck_assert_uint_eq(m.size, 0);
    fmt_unmap(&m); /* a zeroed record is "not mapped" */

    ck_assert_int_eq(fmt_map_file(in_dir("m.bin"), FMT_MAP_SEQUENTIAL, &m, NULL, 0), GK_OK);
    ck_assert_int_eq(memcmp(m.data, d, n), 0);
    fmt_unmap(&m);

    /* the first bytes of an open descriptor */
    int fd = open(in_dir("m.bin"), O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fmt_map_fd(fd, 5000, "m.bin", 0, &m, msg, sizeof msg), GK_OK);
    close(fd);
    ck_assert_uint_eq(m.size, 5000);
    ck_assert_int_eq(memcmp(m.data, d, 5000), 0);
    fmt_unmap(&m);
    free(d);

    /* every unmap frees its guard slot: far more mappings than slots */
    for (int i = 0; i < 3000; i++) {
        ck_assert_int_eq(fmt_map_file(in_dir("m.bin"), 0, &m, msg, sizeof msg), GK_OK);
        fmt_unmap(&m);
    }
}
END_TEST

START_TEST(test_map_empty_file) {
    unit_write_file(in_dir("empty"), "", 0);
    fmt_map m;
    ck_assert_int_eq(fmt_map_file(in_dir("empty"), 0, &m, NULL, 0), GK_OK);
    ck_assert_ptr_nonnull(m.data);
    ck_assert_uint_eq(m.size, 0);
    fmt_unmap(&m);
    ck_assert_ptr_null(m.data);
}
END_TEST

START_TEST(test_map_refused) {
    fmt_map m;
    char msg[256];
    ck_assert_int_eq(fmt_map_file(g_dir, 0, &m, msg, sizeof msg), GK_E_IO);
    ck_assert_str_eq(msg, "not a regular file");
    ck_assert_ptr_null(m.data);
    ck_assert_int_eq(fmt_map_file("/dev/null", 0, &m, msg, sizeof msg), GK_E_IO);
    ck_assert_str_eq(msg, "not a regular file");
    /* a FIFO without a writer is refused at once, not waited on */
    ck_assert_int_eq(mkfifo(in_dir("fifo"), 0600), 0);
    ck_assert_int_eq(fmt_map_file(in_dir("fifo"), 0, &m, msg, sizeof msg), GK_E_IO);
    ck_assert_str_eq(msg, "not a regular file");
    ck_assert_int_eq(fmt_map_file(in_dir("missing"), 0, &m, msg, sizeof msg), GK_E_IO);
    ck_assert_str_eq(msg, "cannot open: No such file or directory");
    ck_assert_ptr_null(m.data);
}
END_TEST

/* Names that come from a file: a FIFO is refused by fmt_open_regular and
 * by an input with regular_only (never waited on), a regular file opens
 * blocking; fmt_path_inside confines names, directly or at any depth. */
START_TEST(test_regular_and_inside) {
    char msg[256];
    int fd = -1;
    ck_assert_int_eq(mkfifo(in_dir("fifo"), 0600), 0);
    ck_assert_int_eq(fmt_open_regular(in_dir("fifo"), &fd, msg, sizeof msg), GK_E_IO);
    ck_assert_str_eq(msg, "not a regular file");
    ck_assert_int_eq(fd, -1);
    fmt_input_opts io = {.regular_only = 1};
    gk_status st;
    ck_assert_ptr_null(fmt_input_open(in_dir("fifo"), &io, &st, msg, sizeof msg));
    ck_assert_str_eq(msg, "not a regular file");
    FILE *f = fopen(in_dir("plain"), "wb");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(fmt_open_regular(in_dir("plain"), &fd, msg, sizeof msg), GK_OK);
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);

    ck_assert_int_eq(mkdir(in_dir("sub"), 0700), 0);
    ck_assert_int_eq(symlink("../plain", in_dir("sub/up")), 0);
    ck_assert_int_eq(fmt_path_inside(g_dir, in_dir("plain"), 0, msg, sizeof msg), GK_OK);
    ck_assert_int_eq(fmt_path_inside(g_dir, in_dir("sub/up"), 0, msg, sizeof msg), GK_OK);
    f = fopen(in_dir("sub/deep"), "wb");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(fmt_path_inside(g_dir, in_dir("sub/deep"), 0, msg, sizeof msg), GK_E_FORMAT);
    ck_assert_int_eq(fmt_path_inside(g_dir, in_dir("sub/deep"), FMT_INSIDE_DEEP, msg, sizeof msg),
                     GK_OK);
    ck_assert_int_eq(
        fmt_path_inside(in_dir("sub"), in_dir("sub/up"), FMT_INSIDE_DEEP, msg, sizeof msg),
        GK_E_FORMAT);
    ck_assert_str_eq(msg, "resolves outside its directory");
    ck_assert_int_eq(
        fmt_path_inside(in_dir("sub"), in_dir("sub/../plain"), FMT_INSIDE_DEEP, msg, sizeof msg),
        GK_E_FORMAT);
    ck_assert_int_eq(fmt_path_inside(g_dir, in_dir("missing"), 0, msg, sizeof msg), GK_E_IO);
    ck_assert_str_eq(msg, "does not exist");
}
END_TEST

/* The terminal rule: control bytes become '?', long text is cut with
 * "...". */
START_TEST(test_escape_term) {
    char buf[FMT_SHOWN_NAME], small[8];
    ck_assert_str_eq(fmt_escape_term(buf, sizeof buf, "a\x1b[2Jb\x7f\n", 8), "a?[2Jb??");
    ck_assert_str_eq(fmt_escape_term(small, sizeof small, "abcdefghij", 10), "abcd...");
    ck_assert_str_eq(fmt_escape_term(small, sizeof small, "abcdefg", 7), "abcdefg");
    char big[1000];
    memset(big, 'x', sizeof big);
    fmt_escape_term(buf, sizeof buf, big, sizeof big);
    ck_assert_uint_eq(strlen(buf), FMT_SHOWN_NAME - 1);
    ck_assert_str_eq(buf + FMT_SHOWN_NAME - 4, "...");
    ck_assert_str_eq(fmt_escape_term(buf, sizeof buf, "\xc3\xa9", 2), "\xc3\xa9"); /* UTF-8 kept */
}
END_TEST

/* Released pages of a file mapping read back unchanged, whatever the range:
 * unaligned ends, less than a page, empty, the whole mapping. */
START_TEST(test_release_pages) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = 6 * pg + 77;
    uint8_t *d = make_data(n, 12, 0);
    unit_write_file(in_dir("r.bin"), d, n);
    fmt_map m;
    ck_assert_int_eq(fmt_map_file(in_dir("r.bin"), 0, &m, NULL, 0), GK_OK);
    ck_assert_int_eq(memcmp(m.data, d, n), 0);
    fmt_release_pages(m.data + 1, 2 * pg);
    fmt_release_pages(m.data + pg + 5, 10);
    fmt_release_pages(m.data + 3 * pg - 1, pg + 2);
    fmt_release_pages(m.data + 4 * pg, 0);
    fmt_release_pages(m.data + 5 * pg + 1, n - 5 * pg - 1);
    ck_assert_int_eq(memcmp(m.data, d, n), 0);
    fmt_release_pages(m.data, n);
    ck_assert_int_eq(memcmp(m.data, d, n), 0);
    fmt_unmap(&m);
    free(d);
}
END_TEST

/* The SIGBUS guard covers a mapping made with fmt_map_file just as it does
 * an fmt_input: a message naming the file, temp files removed, exit 2. */
static void child_map_shrinks(void) {
    CK(chdir(g_dir) == 0);
    int errfd = open("mbus.err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CK(errfd >= 0 && dup2(errfd, 2) == 2);
    fmt_set_progname("io_test");
    uint8_t *d = make_data(1 << 20, 6, 0);
    unit_write_file("mbus.in", d, 1 << 20);
    free(d);
    fmt_map m;
    CK(fmt_map_file("mbus.in", 0, &m, NULL, 0) == GK_OK);
    fmt_signals_init();
    unit_write_file("mbus.out.tmp", "x", 1);
    fmt_cleanup_register("mbus.out.tmp");
    CK(truncate("mbus.in", 4096) == 0);
    volatile uint8_t sink = m.data[(1 << 20) - 1];
    (void)sink;
    _exit(0); /* not reached: the read above faults */
}

START_TEST(test_map_shrinks_sigbus) {
    int status = run_child(child_map_shrinks, NULL, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
    ck_assert_int_eq(access(in_dir("mbus.out.tmp"), F_OK), -1);
    size_t n;
    char *msg = (char *)unit_read_file(in_dir("mbus.err"), &n);
    ck_assert_ptr_nonnull(msg);
    msg[n] = '\0';
    ck_assert_str_eq(msg, "io_test: mbus.in: input file shrank while reading; no output written\n");
    free(msg);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Parsing, messages, terminals, progress                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_parse_u64) {
    uint64_t v = 7;
    ck_assert_int_eq(fmt_parse_u64("0", &v), GK_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(fmt_parse_u64("007", &v), GK_OK);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(fmt_parse_u64("18446744073709551615", &v), GK_OK);
    ck_assert_uint_eq(v, UINT64_MAX);
    v = 1;
    const char *bad[] = {"18446744073709551616",
                         "99999999999999999999",
                         "",
                         "-1",
                         "+1",
                         " 1",
                         "1 ",
                         "1x",
                         "x",
                         "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(fmt_parse_u64(bad[i], &v) == GK_E_USAGE, "'%s'", bad[i]);
    ck_assert_int_eq(fmt_parse_u64(NULL, &v), GK_E_USAGE);
    ck_assert_uint_eq(v, 1); /* untouched on failure */
}
END_TEST

START_TEST(test_parse_size) {
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {{"0", 0},
                {"512", 512},
                {"512B", 512},
                {"1k", 1024},
                {"1K", 1024},
                {"1KB", 1024},
                {"1KiB", 1024},
                {"2m", 2u << 20},
                {"3G", (uint64_t)3 << 30},
                {"4TiB", (uint64_t)4 << 40},
                {"16777215T", (uint64_t)16777215 << 40},
                {"18446744073709551615", UINT64_MAX}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t v;
        ck_assert_msg(fmt_parse_size(good[i].s, &v) == GK_OK, "'%s'", good[i].s);
        ck_assert_uint_eq(v, good[i].v);
    }
    const char *bad[] = {"1 ",          " 1",   "",   "K",   "1.5G",      "-1K",
                         "1Ki",         "1KBB", "1X", "1 K", "16777216T", "18446744073709551616",
                         "17179869184G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        ck_assert_msg(fmt_parse_size(bad[i], &v) == GK_E_USAGE, "'%s'", bad[i]);
    }
}
END_TEST

START_TEST(test_parse_double_and_jobs) {
    double d;
    ck_assert_int_eq(fmt_parse_double("0.5", &d), GK_OK);
    ck_assert_double_eq(d, 0.5);
    ck_assert_int_eq(fmt_parse_double("-1e-3", &d), GK_OK);
    ck_assert_double_eq(d, -1e-3);
    ck_assert_int_eq(fmt_parse_double("1e-320", &d), GK_OK); /* subnormal is finite */
    const char *bad[] = {"", " 1", "1 ", "1e999", "-1e999", "nan", "inf", "1.0x", "abc", "\t2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(fmt_parse_double(bad[i], &d) == GK_E_USAGE, "'%s'", bad[i]);
    ck_assert_int_eq(fmt_parse_double(NULL, &d), GK_E_USAGE);

    int j;
    int cpus = fmt_online_cpus();
    ck_assert_int_ge(cpus, 1);
    ck_assert_int_eq(fmt_parse_jobs("0", &j), GK_OK);
    ck_assert_int_eq(j, cpus);
    ck_assert_int_eq(fmt_parse_jobs("auto", &j), GK_OK);
    ck_assert_int_eq(j, cpus);
    ck_assert_int_eq(fmt_parse_jobs("AUTO", &j), GK_OK);
    ck_assert_int_eq(fmt_parse_jobs("3", &j), GK_OK);
    ck_assert_int_eq(j, 3);
    const char *badj[] = {"", "-1", "1.5", "autox", "99999999999999999999", "100000"};
    for (size_t i = 0; i < sizeof badj / sizeof badj[0]; i++)
        ck_assert_msg(fmt_parse_jobs(badj[i], &j) == GK_E_USAGE, "'%s'", badj[i]);
}
END_TEST

START_TEST(test_isatty_fake) {
    setenv("GGUFKIT_FAKE_TTY", "stdin,stderr", 1);
    ck_assert_int_eq(fmt_isatty(0), 1);
    ck_assert_int_eq(fmt_isatty(1), 0);
    ck_assert_int_eq(fmt_isatty(2), 1);
    setenv("GGUFKIT_FAKE_TTY", "stdout", 1);
    ck_assert_int_eq(fmt_isatty(0), 0);
    ck_assert_int_eq(fmt_isatty(1), 1);
    setenv("GGUFKIT_FAKE_TTY", "none", 1);
    ck_assert_int_eq(fmt_isatty(0) + fmt_isatty(1) + fmt_isatty(2), 0);
    unsetenv("GGUFKIT_FAKE_TTY");
    ck_assert_int_eq(fmt_isatty(-1), 0);
    int fd = open("/dev/null", O_RDONLY);
    ck_assert_int_eq(fmt_isatty(fd), 0);
    close(fd);
    ck_assert_int_eq(fmt_is_stdio("-"), 1);
    ck_assert_int_eq(fmt_is_stdio("./-"), 0);
    ck_assert_int_eq(fmt_is_stdio(NULL), 0);
}
END_TEST

static void redirect_stderr(const char *name) {
    int fd = open(in_dir(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CK(fd >= 0 && dup2(fd, 2) == 2);
    close(fd);
}

static void child_messages(void) {
    redirect_stderr("log.txt");
    fmt_set_progname("/usr/bin/gguf-x");
    CK(strcmp(fmt_progname(), "gguf-x") == 0);
    CK(fmt_display_level() == 2);
    fmt_error("f.gguf", "bad thing %d (at byte %d)", 3, 40);
    fmt_log(2, "normal");
    fmt_log(3, "verbose hidden");
    fmt_set_display_level(3);
    fmt_log(3, "verbose shown");
    /* a name from a file inside a gk_error message, and a file name */
    fmt_error("f\x1b]0;t\x07.gguf",
              "tensor '%s' \xc2\x9b"
              "bad",
              "blk\x1b[2J.0\xff");
    fmt_set_display_level(0);
    fmt_error("f.gguf", "silenced");
    fmt_set_display_level(9);
    CK(fmt_display_level() == 4);
}

static void child_progress(void) {
    redirect_stderr("progress.txt");
    setenv("GGUFKIT_FAKE_TTY", "none", 1);
    CK(fmt_progress_start("x", 10, -1) == NULL);
    CK(fmt_progress_start("x", 10, 0) == NULL);
    setenv("GGUFKIT_FAKE_TTY", "stderr", 1);
    fmt_set_display_level(1);
    CK(fmt_progress_start("x", 10, -1) == NULL);
    fmt_set_display_level(2);
    fmt_progress *p = fmt_progress_start("writing", 1000, -1);
    CK(p != NULL);
    fmt_progress_item(p, 2, 4, "blk.1\x1b[2J.attn_q.weight-with-a-name-longer-than-the-line-shows",
                      62);
    fmt_progress_update(p, 500);
    fmt_progress_update(p, 600);
    fmt_progress_end(p);
    fmt_progress_end(NULL);
    fmt_progress_update(NULL, 1);
}

struct hammer {
    fmt_progress *p;
    int id;
};

static void *hammer_progress(void *arg) {
    struct hammer *h = arg;
    for (uint64_t i = 0; i < 20000; i++)
        fmt_progress_update(h->p, i * 4 + (uint64_t)h->id);
    return NULL;
}

static void child_progress_threads(void) {
    redirect_stderr("threads.txt");
    fmt_progress *p = fmt_progress_start("t", 80000, 1);
    CK(p != NULL);
    pthread_t th[4];
    struct hammer h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){p, i};
        CK(pthread_create(&th[i], NULL, hammer_progress, &h[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    fmt_progress_end(p);
}

START_TEST(test_messages_and_progress) {
    expect_child_ok(child_messages, NULL, 0);
    size_t n;
    char *log = (char *)unit_read_file(in_dir("log.txt"), &n);
    log[n] = '\0';
    ck_assert_str_eq(log, "gguf-x: f.gguf: bad thing 3 (at byte 40)\n"
                          "gguf-x: normal\n"
                          "gguf-x: verbose shown\n"
                          "gguf-x: f?]0;t?.gguf: tensor 'blk?[2J.0?' ?bad\n");
    free(log);

    expect_child_ok(child_progress, NULL, 0);
    char *pr = (char *)unit_read_file(in_dir("progress.txt"), &n);
    pr[n] = '\0';
    /* "label  i/n  pct%  R MB/s  ETA m:ss  name", the name escaped and cut.
       The first update is always drawn; whether the second is depends on the
       clock, so the rate limit is tested by counting draws in
       contract/progress-tty */
    ck_assert_ptr_nonnull(strstr(pr, "\rwriting  2/4   50.0%  "));
    ck_assert_ptr_nonnull(strstr(pr, " MB/s  "));
    ck_assert_ptr_nonnull(strstr(pr, "  blk.1?[2J.attn_q.weight-with-a-name-longer-t..."));
    ck_assert_ptr_null(strchr(pr, '\x1b'));
    ck_assert_int_eq(pr[n - 1], '\r'); /* line cleared at the end */
    free(pr);

    expect_child_ok(child_progress_threads, NULL, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *io_suite(void) {
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("io");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, make_dir, drop_dir);
    UNIT_ADD_TESTS(tc, test_read_file_mmap_and_pread, test_read_stdin_pipe, test_read_stdin_short,
                   test_read_stdin_regular_file, test_stdin_terminal_refused, test_open_errors,
                   test_truncation_message, test_truncation_pipe, test_pipe_pread_spills,
                   test_pipe_history_limit, test_zstd_file, test_zstd_stdin, test_zstd_bomb_limit,
                   test_zstd_truncated_and_junk, test_output_atomic, test_output_exists_and_force,
                   test_output_commit_all, test_output_same_file_refused, test_output_stdout,
                   test_output_device, test_output_zstd_roundtrip, test_output_fsize_limit,
                   test_output_write_errors, test_signal_removes_temp, test_input_shrinks_sigbus,
                   test_map_file, test_map_empty_file, test_map_refused, test_release_pages,
                   test_map_shrinks_sigbus, test_parse_u64, test_parse_size,
                   test_parse_double_and_jobs, test_isatty_fake, test_messages_and_progress,
                   test_regular_and_inside, test_escape_term);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    const char *t = getenv("TMPDIR");
    snprintf(g_top, sizeof g_top, "%s/io_test.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_top)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    int status = unit_run(io_suite());
    unit_rmtree(g_top);
    return status;
}
