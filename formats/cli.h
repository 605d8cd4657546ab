/*
 * cli.h -- the one option layer every program's main uses.
 *
 * Parses, with getopt_long, the options all five programs share (each
 * program says which of them it takes) next to the program's own ones,
 * and gives one format to everything around them:
 *
 *   -h, --help      the program's help on stdout, exit 0
 *   -V, --version   "prog 0.1.0 (simd: avx2)" on stdout, exit 0
 *   usage errors    "prog: message" and "Try 'prog --help' for more
 *                   information." on stderr, exit 2 (never the whole help)
 *   -q / -v         step the display level (0..4, default 2) of formats/io.h
 */
#ifndef FORMATS_CLI_H
#define FORMATS_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "../ggufkit.h"

/* Common options a program may take (bits of fmt_cli.takes). -h/--help and
 * -V/--version are always taken. */
enum {
    FMT_CLI_JOBS = 1u << 0,     /* -j, --jobs N (0 or auto = all cores) */
    FMT_CLI_QUIET = 1u << 1,    /* -q, --quiet: one display level down */
    FMT_CLI_VERBOSE = 1u << 2,  /* -v, --verbose: one display level up */
    FMT_CLI_FORCE = 1u << 3,    /* -f, --force */
    FMT_CLI_OUTPUT = 1u << 4,   /* -o, --output FILE */
    FMT_CLI_JSON = 1u << 5,     /* --json */
    FMT_CLI_ZSTD = 1u << 6,     /* --zstd[=LEVEL] (1..19, default 3) */
    FMT_CLI_PROGRESS = 1u << 7, /* --progress, --no-progress */
};

/* Codes fmt_cli_next() returns for the common long-only options; the short
 * ones return their letter ('j', 'q', 'v', 'f', 'o'). Programs number their
 * own long-only options from 256, below these. */
enum {
    FMT_CLI_OPT_JSON = 0x1000,
    FMT_CLI_OPT_ZSTD,
    FMT_CLI_OPT_PROGRESS,
    FMT_CLI_OPT_NO_PROGRESS,
};

/* fmt_cli_next() results besides option codes. */
enum {
    FMT_CLI_END = -1,  /* no more options: operands start at optind */
    FMT_CLI_EXIT = -2, /* help, version or a usage error was printed: exit(cli->exit_code) */
};

/* Values of the common options after parsing. */
typedef struct {
    int jobs;          /* thread count (default: all cores) */
    int display_level; /* 0 silent .. 4 debug (default 2), also set in formats/io */
    int force;
    const char *output; /* -o, or NULL */
    int json;
    int zstd_level; /* 0 = no --zstd */
    int progress;   /* -1 auto (default), 0 off, 1 on */
} fmt_cli_opts;

#define FMT_CLI_MAX_LONGOPTS 64

/* Parser state. The caller sets takes, shortopts, longopts and help through
 * fmt_cli_init(); opts and exit_code are the results; the rest is private. */
typedef struct {
    unsigned takes;
    void (*help)(FILE *f);
    fmt_cli_opts opts;
    int exit_code;
    char shorts_[96];
    struct option longs_[FMT_CLI_MAX_LONGOPTS];
} fmt_cli;

/* Prepare to parse a fresh argv. takes: FMT_CLI_* bits. shortopts: the
 * program's own short options in getopt syntax ("" when none). longopts:
 * its own long options, terminated by a zero row, or NULL; they come first,
 * so a program that names a long option like a common one ("--quiet") keeps
 * the name for itself, and a row whose val is a common letter ('o') is an
 * alias of that common option. help prints the full help to the stream
 * (borrowed, called on -h). The program name is formats/io's progname.
 * The merged tables must fit (asserted: a programming error). */
void fmt_cli_init(fmt_cli *cli, unsigned takes, const char *shortopts,
                  const struct option *longopts, void (*help)(FILE *f));

/* Next option of argv: its code (the program's own val, or a common code
 * already stored in cli->opts, so the program may ignore or check it;
 * optarg holds the argument), FMT_CLI_END, or FMT_CLI_EXIT after help,
 * version or a usage error (unknown option, missing argument, bad -j or
 * --zstd value) was printed. */
int fmt_cli_next(fmt_cli *cli, int argc, char **argv);

/* Print "prog: MESSAGE" and the "Try 'prog --help'" line on stderr (at any
 * display level). Returns 2, the usage-error exit code. */
int fmt_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print e once as "prog: FILE: message" (or "prog: message" when no file
 * is at fault) at display level 1; returns the exit code of its status. */
int fmt_cli_report(const gk_error *e);

/* Print the version line "prog VERSION (simd: ISA)" on stdout. */
void fmt_cli_print_version(void);

#endif
