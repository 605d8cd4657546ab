/* cli.c -- common options, help, version and usage errors for every main. */
#include "formats/cli.h"

#include <assert.h>
#include <stdarg.h>
#include <string.h>

#include "formats/io.h"
#include "kernels/kernels.h"

/* The common options: the bit that enables each, then its table row. */
static const struct {
    unsigned bit;
    const char *shorts;
    struct option opt;
} common[] = {
    {FMT_CLI_JOBS, "j:", {"jobs", required_argument, NULL, 'j'}},
    {FMT_CLI_QUIET, "q", {"quiet", no_argument, NULL, 'q'}},
    {FMT_CLI_VERBOSE, "v", {"verbose", no_argument, NULL, 'v'}},
    {FMT_CLI_FORCE, "f", {"force", no_argument, NULL, 'f'}},
    {FMT_CLI_OUTPUT, "o:", {"output", required_argument, NULL, 'o'}},
    {FMT_CLI_JSON, "", {"json", no_argument, NULL, FMT_CLI_OPT_JSON}},
    {FMT_CLI_ZSTD, "", {"zstd", optional_argument, NULL, FMT_CLI_OPT_ZSTD}},
    {FMT_CLI_PROGRESS, "", {"progress", no_argument, NULL, FMT_CLI_OPT_PROGRESS}},
    {FMT_CLI_PROGRESS, "", {"no-progress", no_argument, NULL, FMT_CLI_OPT_NO_PROGRESS}},
    {~0u, "h", {"help", no_argument, NULL, 'h'}},
    {~0u, "V", {"version", no_argument, NULL, 'V'}},
};

static int has_long(const struct option *opts, const char *name) {
    for (; opts && opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return 1;
    return 0;
}

void fmt_cli_init(fmt_cli *cli, unsigned takes, const char *shortopts,
                  const struct option *longopts, void (*help)(FILE *f)) {
    memset(cli, 0, sizeof *cli);
    cli->takes = takes;
    cli->help = help;
    cli->opts.jobs = fmt_online_cpus();
    cli->opts.display_level = fmt_display_level();
    cli->opts.progress = -1;
    /* ':' first: a missing argument returns ':' instead of '?' */
    size_t ns = 1, nl = 0;
    cli->shorts_[0] = ':';
    assert(strlen(shortopts) < sizeof cli->shorts_ - ns);
    memcpy(cli->shorts_ + ns, shortopts, strlen(shortopts));
    ns += strlen(shortopts);
    for (; longopts && longopts[nl].name; nl++) {
        assert(nl + 1 < FMT_CLI_MAX_LONGOPTS);
        cli->longs_[nl] = longopts[nl];
    }
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        if (common[i].bit != ~0u && !(common[i].bit & takes))
            continue;
        size_t n = strlen(common[i].shorts);
        assert(ns + n < sizeof cli->shorts_ && nl + 1 < FMT_CLI_MAX_LONGOPTS);
        memcpy(cli->shorts_ + ns, common[i].shorts, n);
        ns += n;
        if (!has_long(longopts, common[i].opt.name))
            cli->longs_[nl++] = common[i].opt;
    }
    cli->shorts_[ns] = '\0';
    optind = 0; /* glibc: start over, even after an earlier parse */
    opterr = 0;
}

int fmt_cli_usage_error(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", fmt_progname());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", fmt_progname());
    return 2;
}

int fmt_cli_report(const gk_error *e) {
    fmt_error(e->file[0] ? e->file : NULL, "%s", gk_error_message(e));
    return gk_exit_code(e->status);
}

void fmt_cli_print_version(void) {
    printf("%s %s (simd: %s)\n", fmt_progname(), GK_VERSION, kern_isa_name());
}

/* The option getopt_long stopped at, as typed: "--name" without "=value",
 * else "-c". An unknown long option leaves optopt 0; a missing argument is
 * always at the end, in argv[optind - 1]. */
static void option_text(char **argv, int missing, char *buf, size_t cap) {
    const char *arg = optind > 0 ? argv[optind - 1] : NULL;
    if (arg && strncmp(arg, "--", 2) == 0 && (missing || optopt == 0))
        snprintf(buf, cap, "%.*s", (int)strcspn(arg, "="), arg);
    else
        snprintf(buf, cap, "-%c", optopt > 0 && optopt < 128 ? optopt : '?');
}

static int usage_exit(fmt_cli *cli) {
    cli->exit_code = 2;
    return FMT_CLI_EXIT;
}

/* Store a common option; FMT_CLI_EXIT when its value is bad. */
static int common_option(fmt_cli *cli, int c) {
    fmt_cli_opts *o = &cli->opts;
    uint64_t level;
    switch (c) {
    case 'j':
        if (fmt_parse_jobs(optarg, &o->jobs) != GK_OK) {
            fmt_cli_usage_error("invalid -j value '%s' (a thread count; 0 or auto = all cores)",
                                optarg);
            return usage_exit(cli);
        }
        break;
    case 'q':
    case 'v':
        o->display_level +=
            c == 'q' ? (o->display_level > 0 ? -1 : 0) : (o->display_level < 4 ? 1 : 0);
        fmt_set_display_level(o->display_level);
        break;
    case 'f': o->force = 1; break;
    case 'o': o->output = optarg; break;
    case FMT_CLI_OPT_JSON: o->json = 1; break;
    case FMT_CLI_OPT_ZSTD:
        level = 3;
        if (optarg && (fmt_parse_u64(optarg, &level) != GK_OK || level < 1 || level > 19)) {
            fmt_cli_usage_error("invalid --zstd level '%s' (1..19)", optarg);
            return usage_exit(cli);
        }
        o->zstd_level = (int)level;
        break;
    case FMT_CLI_OPT_PROGRESS: o->progress = 1; break;
    case FMT_CLI_OPT_NO_PROGRESS: o->progress = 0; break;
    }
    return c;
}

static int is_common(const fmt_cli *cli, int c) {
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (common[i].opt.val == c && common[i].bit != ~0u)
            return (common[i].bit & cli->takes) != 0;
    return 0;
}

int fmt_cli_next(fmt_cli *cli, int argc, char **argv) {
    char text[128];
    int c = getopt_long(argc, argv, cli->shorts_, cli->longs_, NULL);
    switch (c) {
    case -1: return FMT_CLI_END;
    case '?':
        option_text(argv, 0, text, sizeof text);
        fmt_cli_usage_error("%s option '%s'", text[1] == '-' ? "unrecognized" : "invalid", text);
        return usage_exit(cli);
    case ':':
        option_text(argv, 1, text, sizeof text);
        fmt_cli_usage_error("option '%s' requires an argument", text);
        return usage_exit(cli);
    case 'h':
        cli->help(stdout);
        cli->exit_code = 0;
        return FMT_CLI_EXIT;
    case 'V':
        fmt_cli_print_version();
        cli->exit_code = 0;
        return FMT_CLI_EXIT;
    default: return is_common(cli, c) ? common_option(cli, c) : c;
    }
}
