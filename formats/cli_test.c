/* cli_test.c -- the common option layer: values of the common options, the
 * program's own options next to them, help/version, and the one format of
 * usage errors (captured from stdout/stderr through temp files). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/cli.h"
#include "formats/io.h"
#include "tests/unit.h"

static int g_help_calls;

static void help(FILE *f) {
    g_help_calls++;
    fprintf(f, "usage: prog [options]\n");
}

/* Run fmt_cli_next over argv until it ends or exits, with stdout and stderr
 * captured into out/err. Returns the last result; own options are counted
 * into *own (the last one's optarg kept in own_arg). */
static int run(fmt_cli *cli, char **argv, int *own, char *own_arg, char *out, char *err) {
    int argc = 0, r;
    while (argv[argc])
        argc++;
    fflush(stdout);
    fflush(stderr);
    FILE *fo = tmpfile(), *fe = tmpfile();
    ck_assert_ptr_nonnull(fo);
    ck_assert_ptr_nonnull(fe);
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    while ((r = fmt_cli_next(cli, argc, argv)) >= 0) {
        if (r == 't' || r == 256) {
            (*own)++;
            snprintf(own_arg, 64, "%s", optarg ? optarg : "");
        }
    }
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    size_t n;
    rewind(fo);
    n = fread(out, 1, 1023, fo);
    out[n] = '\0';
    rewind(fe);
    n = fread(err, 1, 1023, fe);
    err[n] = '\0';
    fclose(fo);
    fclose(fe);
    return r;
}

static const struct option own_longs[] = {
    {"type", required_argument, NULL, 't'},
    {"mode", required_argument, NULL, 256},
    {"outfile", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 257},
    {NULL, 0, NULL, 0},
};

static fmt_cli g_cli;
static char g_out[1024], g_err[1024], g_arg[64];
static int g_own;

static int parse(unsigned takes, char **argv) {
    fmt_set_progname("prog");
    fmt_set_display_level(2);
    g_own = 0;
    g_help_calls = 0;
    g_arg[0] = '\0';
    fmt_cli_init(&g_cli, takes, "t:", own_longs, help);
    return run(&g_cli, argv, &g_own, g_arg, g_out, g_err);
}

#define ALL                                                                                        \
    (FMT_CLI_JOBS | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_FORCE | FMT_CLI_OUTPUT |             \
     FMT_CLI_JSON | FMT_CLI_ZSTD | FMT_CLI_PROGRESS)

START_TEST(test_common_values) {
    char *argv[] = {"prog", "-j3", "-f", "--json",   "--zstd=7", "--no-progress",
                    "-v",   "-v",  "-v", "-o",       "out.gguf", "in.gguf",
                    "-t",   "Q4",  "--", "-operand", NULL};
    ck_assert_int_eq(parse(ALL, argv), FMT_CLI_END);
    const fmt_cli_opts *o = &g_cli.opts;
    ck_assert_int_eq(o->jobs, 3);
    ck_assert_int_eq(o->force, 1);
    ck_assert_int_eq(o->json, 1);
    ck_assert_int_eq(o->zstd_level, 7);
    ck_assert_int_eq(o->progress, 0);
    ck_assert_int_eq(o->display_level, 4); /* 2 + 3, capped at 4 */
    ck_assert_int_eq(fmt_display_level(), 4);
    ck_assert_str_eq(o->output, "out.gguf");
    ck_assert_int_eq(g_own, 1);
    ck_assert_str_eq(g_arg, "Q4");
    /* operands were permuted behind the options, "--" ends the options */
    ck_assert_int_eq(optind, 14);
    ck_assert_str_eq(argv[optind], "in.gguf");
    ck_assert_str_eq(argv[optind + 1], "-operand");
    ck_assert_str_eq(g_err, "");
}
END_TEST

START_TEST(test_defaults_and_aliases) {
    char *argv[] = {"prog", "--zstd", "-qqq", "--outfile", "x", "--mode=fast", NULL};
    ck_assert_int_eq(parse(ALL, argv), FMT_CLI_END);
    ck_assert_int_eq(g_cli.opts.jobs, fmt_online_cpus());
    ck_assert_int_eq(g_cli.opts.zstd_level, 3);
    ck_assert_int_eq(g_cli.opts.progress, -1);
    ck_assert_int_eq(g_cli.opts.display_level, 0);
    ck_assert_str_eq(g_cli.opts.output, "x");
    ck_assert_int_eq(g_own, 1);
    ck_assert_str_eq(g_arg, "fast");
}
END_TEST

START_TEST(test_own_long_name_wins) {
    /* the program's own --quiet (257) is not the common -q */
    char *argv[] = {"prog", "--quiet", "-q", NULL};
    fmt_cli_init(&g_cli, FMT_CLI_QUIET, "", own_longs, help);
    int argc = 3, r, own = 0;
    fmt_set_display_level(2);
    g_cli.opts.display_level = 2;
    while ((r = fmt_cli_next(&g_cli, argc, argv)) >= 0)
        own += r == 257;
    ck_assert_int_eq(r, FMT_CLI_END);
    ck_assert_int_eq(own, 1);
    ck_assert_int_eq(g_cli.opts.display_level, 1);
}
END_TEST

START_TEST(test_help_and_version) {
    char *help_argv[] = {"prog", "--help", "--bogus", NULL};
    ck_assert_int_eq(parse(0, help_argv), FMT_CLI_EXIT);
    ck_assert_int_eq(g_cli.exit_code, 0);
    ck_assert_int_eq(g_help_calls, 1);
    ck_assert_str_eq(g_out, "usage: prog [options]\n");
    ck_assert_str_eq(g_err, "");
    char *ver_argv[] = {"prog", "-V", NULL};
    ck_assert_int_eq(parse(0, ver_argv), FMT_CLI_EXIT);
    ck_assert_int_eq(g_cli.exit_code, 0);
    const char *prefix = "prog " GK_VERSION " (simd: ";
    ck_assert_msg(strncmp(g_out, prefix, strlen(prefix)) == 0, "version line: %s", g_out);
    ck_assert_int_eq(g_out[strlen(g_out) - 2], ')');
}
END_TEST

static void expect_usage_error(unsigned takes, char **argv, const char *line) {
    char want[512];
    ck_assert_int_eq(parse(takes, argv), FMT_CLI_EXIT);
    ck_assert_int_eq(g_cli.exit_code, 2);
    ck_assert_int_eq(g_help_calls, 0);
    snprintf(want, sizeof want, "prog: %s\nTry 'prog --help' for more information.\n", line);
    ck_assert_str_eq(g_err, want);
    ck_assert_str_eq(g_out, "");
}

START_TEST(test_usage_errors) {
    char *a1[] = {"prog", "--bogus=3", NULL};
    expect_usage_error(ALL, a1, "unrecognized option '--bogus'");
    char *a2[] = {"prog", "-x", NULL};
    expect_usage_error(ALL, a2, "invalid option '-x'");
    char *a3[] = {"prog", "-j", "many", NULL};
    expect_usage_error(ALL, a3, "invalid -j value 'many' (a thread count; 0 or auto = all cores)");
    char *a4[] = {"prog", "--zstd=20", NULL};
    expect_usage_error(ALL, a4, "invalid --zstd level '20' (1..19)");
    char *a5[] = {"prog", "--type", NULL};
    expect_usage_error(ALL, a5, "option '--type' requires an argument");
    char *a6[] = {"prog", "-t", NULL};
    expect_usage_error(ALL, a6, "option '-t' requires an argument");
    /* a common option the program does not take is unknown */
    char *a7[] = {"prog", "--json", NULL};
    expect_usage_error(FMT_CLI_QUIET, a7, "unrecognized option '--json'");
    char *a8[] = {"prog", "-f", NULL};
    expect_usage_error(FMT_CLI_QUIET, a8, "invalid option '-f'");
}
END_TEST

START_TEST(test_usage_error_helper) {
    char *argv[] = {"prog", NULL};
    ck_assert_int_eq(parse(0, argv), FMT_CLI_END);
    fflush(stderr);
    FILE *fe = tmpfile();
    int se = dup(2);
    dup2(fileno(fe), 2);
    fmt_set_display_level(0); /* usage errors print at any level */
    int rc = fmt_cli_usage_error("missing %s", "INPUT");
    fflush(stderr);
    dup2(se, 2);
    close(se);
    rewind(fe);
    size_t n = fread(g_err, 1, sizeof g_err - 1, fe);
    g_err[n] = '\0';
    fclose(fe);
    ck_assert_int_eq(rc, 2);
    ck_assert_str_eq(g_err, "prog: missing INPUT\nTry 'prog --help' for more information.\n");
}
END_TEST

static Suite *cli_suite(void) {
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    UNIT_ADD_TESTS(tc, test_common_values, test_defaults_and_aliases, test_own_long_name_wins,
                   test_help_and_version, test_usage_errors, test_usage_error_helper);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run_fork(cli_suite(), CK_NOFORK);
}
