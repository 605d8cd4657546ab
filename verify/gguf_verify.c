/*
 * gguf_verify.c -- gguf-verify: tensor-data manifests (llama-gguf-hash's
 * format) and their checking, whole-file SHA-256, deep validation, and
 * numeric diffs between models with an HTML error report.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/cli.h"
#include "formats/io.h"
#include "kernels/kernels.h"
#include "verify/commands.h"
#include "verify/verify.h"

typedef enum { CMD_NONE, CMD_HASH, CMD_CHECK, CMD_VALIDATE, CMD_DIFF } command;

typedef struct {
    command cmd;
    vfy_cmd_opts c;
} options;

static void usage(FILE *f) {
    fprintf(f, "Usage: gguf-verify hash [--xxh64|--xxh3|--xxh128|--sha1|--sha256|--all] [--uuid]\n"
               "                        [--no-layer] [--json] FILE...|-\n"
               "       gguf-verify hash --whole FILE...\n"
               "       gguf-verify check [--quiet|--status] [--warn|--strict] [--ignore-missing]\n"
               "                         [--allow-outside] [--json] MANIFEST [FILE]\n"
               "       gguf-verify -c MANIFEST [FILE]           (same as check)\n"
               "       gguf-verify validate [--json] FILE...\n"
               "       gguf-verify diff [--json] [--html FILE] [--max-rel-error X] [--per-expert]\n"
               "                        A B\n"
               "\n"
               "hash      one line per tensor and kind, then one per kind for the whole model's\n"
               "          tensor data, in llama-gguf-hash's manifest format:\n"
               "            KIND(padded to 8)  HEX  FILE:TENSOR   and   KIND  HEX  FILE\n"
               "          Kinds: xxh64 (default), xxh3 (XXH3-64, as llama-gguf-hash), sha1,\n"
               "          sha256, uuid (UUIDv5 of the tensor data, as llama-gguf-hash) and our\n"
               "          xxh128 (XXH3-128). --all = xxh64 xxh3 sha1 sha256. --no-layer: only\n"
               "          the whole-model lines. Metadata never changes these digests.\n"
               "          --whole: SHA-256 of whole files as sha256sum prints it (HEX  FILE).\n"
               "check     verify a manifest (ours, llama-gguf-hash's or sha256sum's): NAME: OK\n"
               "          or NAME: FAILED per line; exit 1 on any mismatch, missing or extra\n"
               "          tensor. FILE checks that file instead of the one the manifest names.\n"
               "          --quiet: no OK lines; --status: no output; --warn: name malformed\n"
               "          lines; --strict: malformed lines fail; --ignore-missing: skip missing\n"
               "          files and tensors. Names are relative to the manifest's directory\n"
               "          and may not leave it (absolute, .., symlinks) without\n"
               "          --allow-outside; only regular files are read (else exit 2).\n"
               "validate  header rules, complete data, every tensor decoded: fails on NaN/Inf\n"
               "          values and impossible block scales (an fp16 scale that is Inf/NaN, an\n"
               "          MXFP4 E8M0 scale byte 0xFF), naming the first bad tensor/row/block.\n"
               "diff      metadata differences and per-tensor error of B against A after\n"
               "          dequantizing both (RMSE, max abs, relative RMS error, cosine, SNR).\n"
               "          A or B may be a Hugging Face directory: what hf2gguf --outtype f32\n"
               "          writes from it (every weight dequantized, nothing rounded).\n"
               "          --json (docs/gguf-verify.json.md); --html FILE: a report page\n"
               "          (-f to overwrite); --max-rel-error X: exit 1 when a tensor's relative\n"
               "          error exceeds X or a tensor is missing, extra or misshaped.\n"
               "          --per-expert: for each 3-D expert tensor (name with \"_exps.\", ne[2] =\n"
               "          experts) also one line (JSON: one object) per expert slice, which\n"
               "          --max-rel-error then tests too.\n"
               "\n"
               "Common: -j N threads (default: all cores), -q/-v, --[no-]progress, -h, -V,\n"
               "--json (every command: one document, schema docs/gguf-verify.json.md).\n"
               "Exit: 0 ok, 1 a check failed, 2 usage error, bad input or I/O error.\n"
               "\n"
               "Examples:\n"
               "  gguf-verify hash model.gguf > model.gguf.manifest\n"
               "  gguf-verify check model.gguf.manifest\n"
               "  gguf-verify hash --sha256 --uuid --no-layer model.gguf\n"
               "  gguf-verify hash --whole *.gguf > SHA256SUMS && sha256sum -c SHA256SUMS\n"
               "  curl -sL URL | gguf-verify hash --xxh128 -\n"
               "  gguf-verify validate model-Q4_K_M.gguf\n"
               "  gguf-verify diff --html report.html model-f16.gguf model-Q4_K_M.gguf\n");
}

enum {
    OPT_XXH64 = 256,
    OPT_XXH3,
    OPT_XXH128,
    OPT_SHA1,
    OPT_SHA256,
    OPT_ALL,
    OPT_UUID,
    OPT_NO_LAYER,
    OPT_WHOLE,
    OPT_QUIET,
    OPT_STATUS,
    OPT_WARN,
    OPT_STRICT,
    OPT_IGNORE_MISSING,
    OPT_ALLOW_OUTSIDE,
    OPT_HTML,
    OPT_MAX_REL,
    OPT_PER_EXPERT,
};

/* Options each command accepts (beyond the common ones). */
static int allowed(command cmd, int c) {
    if (c >= OPT_XXH64 && c <= OPT_WHOLE)
        return cmd == CMD_HASH;
    if (c >= OPT_QUIET && c <= OPT_ALLOW_OUTSIDE)
        return cmd == CMD_CHECK;
    if (c == OPT_HTML || c == OPT_MAX_REL || c == OPT_PER_EXPERT || c == 'f')
        return cmd == CMD_DIFF;
    if (c == FMT_CLI_OPT_JSON)
        return cmd != CMD_NONE;
    return 1;
}

/* Operands of the command; -1 to go on, else the exit code. */
static int check_operands(options *o) {
    switch (o->cmd) {
    case CMD_NONE: return fmt_cli_usage_error("no command (hash, check, validate, diff)");
    case CMD_HASH:
        if (o->c.whole && (o->c.kinds & ~(1u << VFY_HASH_SHA256) || o->c.no_layer))
            return fmt_cli_usage_error("--whole hashes whole files with SHA-256 only");
        if (!o->c.kinds)
            o->c.kinds = 1u << (o->c.whole ? VFY_HASH_SHA256 : VFY_HASH_XXH64);
        /* fall through */
    case CMD_VALIDATE:
        if (o->c.n_args < 1)
            return fmt_cli_usage_error("no input file");
        break;
    case CMD_CHECK:
        if (!o->c.manifest && o->c.n_args > 0) {
            o->c.manifest = o->c.args[0];
            o->c.args++;
            o->c.n_args--;
        }
        if (!o->c.manifest)
            return fmt_cli_usage_error("no manifest");
        if (o->c.n_args > 1)
            return fmt_cli_usage_error("too many arguments: %s", o->c.args[1]);
        break;
    case CMD_DIFF:
        if (o->c.n_args != 2)
            return fmt_cli_usage_error("diff takes two files: A (reference) and B");
        break;
    }
    return -1;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"xxh64", no_argument, NULL, OPT_XXH64},
        {"xxh3", no_argument, NULL, OPT_XXH3},
        {"xxh128", no_argument, NULL, OPT_XXH128},
        {"sha1", no_argument, NULL, OPT_SHA1},
        {"sha256", no_argument, NULL, OPT_SHA256},
        {"all", no_argument, NULL, OPT_ALL},
        {"uuid", no_argument, NULL, OPT_UUID},
        {"no-layer", no_argument, NULL, OPT_NO_LAYER},
        {"whole", no_argument, NULL, OPT_WHOLE},
        {"quiet", no_argument, NULL, OPT_QUIET}, /* check's --quiet; -q is the display level */
        {"status", no_argument, NULL, OPT_STATUS},
        {"warn", no_argument, NULL, OPT_WARN},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"ignore-missing", no_argument, NULL, OPT_IGNORE_MISSING},
        {"allow-outside", no_argument, NULL, OPT_ALLOW_OUTSIDE},
        {"html", required_argument, NULL, OPT_HTML},
        {"max-rel-error", required_argument, NULL, OPT_MAX_REL},
        {"per-expert", no_argument, NULL, OPT_PER_EXPERT},
        {"check", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    static const char *names[] = {NULL, "hash", "check", "validate", "diff"};
    for (int i = 1; i < 5; i++)
        if (argc > 1 && strcmp(argv[1], names[i]) == 0)
            o->cmd = (command)i;
    if (o->cmd != CMD_NONE) {
        argv++;
        argc--;
    }
    fmt_cli cli;
    int c;
    fmt_cli_init(&cli,
                 FMT_CLI_JOBS | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_FORCE | FMT_CLI_JSON |
                     FMT_CLI_PROGRESS,
                 "c:", longopts, usage);
    while ((c = fmt_cli_next(&cli, argc, argv)) != FMT_CLI_END) {
        if (c == FMT_CLI_EXIT)
            return cli.exit_code;
        if (!allowed(o->cmd, c))
            return fmt_cli_usage_error("%s: %s",
                                       o->cmd == CMD_NONE
                                           ? "no command (hash, check, validate, diff)"
                                           : "option not valid for this command",
                                       argv[optind - 1]);
        switch (c) {
        case OPT_XXH64:
        case OPT_XXH3:
        case OPT_XXH128:
        case OPT_SHA1:
        case OPT_SHA256: o->c.kinds |= 1u << (c - OPT_XXH64 + VFY_HASH_XXH64); break;
        case OPT_ALL:
            o->c.kinds |= 1u << VFY_HASH_XXH64 | 1u << VFY_HASH_XXH3 | 1u << VFY_HASH_SHA1 |
                          1u << VFY_HASH_SHA256;
            break;
        case OPT_UUID: o->c.kinds |= 1u << VFY_HASH_UUID; break;
        case OPT_NO_LAYER: o->c.no_layer = 1; break;
        case OPT_WHOLE: o->c.whole = 1; break;
        case OPT_QUIET: o->c.quiet = 1; break;
        case OPT_STATUS: o->c.status = 1; break;
        case OPT_WARN: o->c.warn = 1; break;
        case OPT_STRICT: o->c.strict = 1; break;
        case OPT_IGNORE_MISSING: o->c.ignore_missing = 1; break;
        case OPT_ALLOW_OUTSIDE: o->c.allow_outside = 1; break;
        case OPT_HTML: o->c.html = optarg; break;
        case OPT_MAX_REL:
            if (fmt_parse_double(optarg, &o->c.max_rel) != GK_OK || o->c.max_rel < 0)
                return fmt_cli_usage_error("--max-rel-error takes a non-negative number: %s",
                                           optarg);
            o->c.has_max_rel = 1;
            break;
        case OPT_PER_EXPERT: o->c.per_expert = 1; break;
        case 'c':
            if (o->cmd != CMD_NONE && o->cmd != CMD_CHECK)
                return fmt_cli_usage_error("-c is the check command");
            o->cmd = CMD_CHECK;
            o->c.manifest = optarg;
            break;
        default: break; /* a common option, in cli.opts */
        }
    }
    o->c.jobs = cli.opts.jobs;
    o->c.force = cli.opts.force;
    o->c.json = cli.opts.json;
    o->c.progress = cli.opts.progress;
    o->c.args = argv + optind;
    o->c.n_args = argc - optind;
    return check_operands(o);
}

static void report(const gk_error *e) {
    fmt_cli_report(e);
}

int main(int argc, char **argv) {
    options o;
    int rc;
    kern_init();
    fmt_set_progname("gguf-verify");
    memset(&o, 0, sizeof o);
    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    signal(SIGPIPE, SIG_IGN); /* a closed pipe becomes a write error we report */
    o.c.report = report;
    switch (o.cmd) {
    case CMD_HASH: rc = vfy_cmd_hash(&o.c); break;
    case CMD_CHECK: rc = vfy_cmd_check(&o.c); break;
    case CMD_VALIDATE: rc = vfy_cmd_validate(&o.c); break;
    default: rc = vfy_cmd_diff(&o.c); break;
    }
    return fmt_stdout_finish(rc);
}
