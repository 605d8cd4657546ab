/*
 * gguf_verify.c -- gguf-verify: tensor-data manifests (llama-gguf-hash's
 * format) and their checking, whole-file SHA-256, deep validation, and
 * numeric diffs between models with an HTML error report.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/cli.h"
#include "formats/io.h"
#include "kernels/kernels.h"
#include "verify/verify.h"

typedef enum { CMD_NONE, CMD_HASH, CMD_CHECK, CMD_VALIDATE, CMD_DIFF } command;

typedef struct {
    command cmd;
    unsigned kinds;
    int no_layer, whole;
    int quiet, status, warn, strict, ignore_missing;
    int json, force, jobs, progress;
    const char *manifest, *html;
    double max_rel;
    int has_max_rel;
    char **args;
    int n_args;
} options;

static void usage(FILE *f) {
    fprintf(f, "Usage: gguf-verify hash [--xxh64|--xxh3|--xxh128|--sha1|--sha256|--all] [--uuid]\n"
               "                        [--no-layer] FILE...|-\n"
               "       gguf-verify hash --whole FILE...\n"
               "       gguf-verify check [--quiet|--status] [--warn|--strict] [--ignore-missing]\n"
               "                         MANIFEST [FILE]\n"
               "       gguf-verify -c MANIFEST [FILE]           (same as check)\n"
               "       gguf-verify validate FILE...\n"
               "       gguf-verify diff [--json] [--html FILE] [--max-rel-error X] A B\n"
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
               "          files and tensors.\n"
               "validate  header rules, complete data, every tensor decoded: fails on NaN/Inf\n"
               "          values and impossible block scales, naming the first bad tensor/row.\n"
               "diff      metadata differences and per-tensor error of B against A after\n"
               "          dequantizing both (RMSE, max abs, relative RMS error, cosine, SNR).\n"
               "          --json (docs/gguf-verify.json.md); --html FILE: a report page\n"
               "          (-f to overwrite); --max-rel-error X: exit 1 when a tensor's relative\n"
               "          error exceeds X or a tensor is missing, extra or misshaped.\n"
               "\n"
               "Common: -j N threads (default: all cores), -q/-v, --[no-]progress, -h, -V.\n"
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
    OPT_HTML,
    OPT_MAX_REL,
};

/* Options each command accepts (beyond the common ones). */
static int allowed(command cmd, int c) {
    if (c >= OPT_XXH64 && c <= OPT_WHOLE)
        return cmd == CMD_HASH;
    if (c >= OPT_QUIET && c <= OPT_IGNORE_MISSING)
        return cmd == CMD_CHECK;
    if (c == FMT_CLI_OPT_JSON || c == OPT_HTML || c == OPT_MAX_REL || c == 'f')
        return cmd == CMD_DIFF;
    return 1;
}

/* Operands of the command; -1 to go on, else the exit code. */
static int check_operands(options *o) {
    switch (o->cmd) {
    case CMD_NONE: return fmt_cli_usage_error("no command (hash, check, validate, diff)");
    case CMD_HASH:
        if (o->whole && (o->kinds & ~(1u << VFY_HASH_SHA256) || o->no_layer))
            return fmt_cli_usage_error("--whole hashes whole files with SHA-256 only");
        if (!o->kinds)
            o->kinds = 1u << (o->whole ? VFY_HASH_SHA256 : VFY_HASH_XXH64);
        /* fall through */
    case CMD_VALIDATE:
        if (o->n_args < 1)
            return fmt_cli_usage_error("no input file");
        break;
    case CMD_CHECK:
        if (!o->manifest && o->n_args > 0) {
            o->manifest = o->args[0];
            o->args++;
            o->n_args--;
        }
        if (!o->manifest)
            return fmt_cli_usage_error("no manifest");
        if (o->n_args > 1)
            return fmt_cli_usage_error("too many arguments: %s", o->args[1]);
        break;
    case CMD_DIFF:
        if (o->n_args != 2)
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
        {"html", required_argument, NULL, OPT_HTML},
        {"max-rel-error", required_argument, NULL, OPT_MAX_REL},
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
        case OPT_SHA256: o->kinds |= 1u << (c - OPT_XXH64 + VFY_HASH_XXH64); break;
        case OPT_ALL:
            o->kinds |= 1u << VFY_HASH_XXH64 | 1u << VFY_HASH_XXH3 | 1u << VFY_HASH_SHA1 |
                        1u << VFY_HASH_SHA256;
            break;
        case OPT_UUID: o->kinds |= 1u << VFY_HASH_UUID; break;
        case OPT_NO_LAYER: o->no_layer = 1; break;
        case OPT_WHOLE: o->whole = 1; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_STATUS: o->status = 1; break;
        case OPT_WARN: o->warn = 1; break;
        case OPT_STRICT: o->strict = 1; break;
        case OPT_IGNORE_MISSING: o->ignore_missing = 1; break;
        case OPT_HTML: o->html = optarg; break;
        case OPT_MAX_REL:
            if (fmt_parse_double(optarg, &o->max_rel) != GK_OK || o->max_rel < 0)
                return fmt_cli_usage_error("--max-rel-error takes a non-negative number: %s",
                                           optarg);
            o->has_max_rel = 1;
            break;
        case 'c':
            if (o->cmd != CMD_NONE && o->cmd != CMD_CHECK)
                return fmt_cli_usage_error("-c is the check command");
            o->cmd = CMD_CHECK;
            o->manifest = optarg;
            break;
        default: break; /* a common option, in cli.opts */
        }
    }
    o->jobs = cli.opts.jobs;
    o->force = cli.opts.force;
    o->json = cli.opts.json;
    o->progress = cli.opts.progress;
    o->args = argv + optind;
    o->n_args = argc - optind;
    return check_operands(o);
}

/* Open a GGUF model; 0 or an exit code after the message. */
static int open_model(const char *path, int seekable, fmt_input **in, fmt_gguf **g) {
    char err[1024];
    gk_status st;
    *g = NULL;
    if (!(*in = fmt_input_open(path, NULL, &st, err, sizeof err))) {
        fmt_error(path, "%s", err);
        return gk_exit_code(st);
    }
    if (seekable && !fmt_input_data(*in) && (st = fmt_input_make_seekable(*in)) != GK_OK) {
        fmt_error(path, "%s", fmt_input_errmsg(*in));
        return gk_exit_code(st);
    }
    if (!(*g = fmt_gguf_open(*in, &st))) {
        fmt_error(path, "%s", fmt_gguf_open_errmsg());
        return gk_exit_code(st);
    }
    return 0;
}

static int cmd_hash(const options *o) {
    int rc = 0;
    for (int i = 0; i < o->n_args; i++) {
        const char *path = o->args[i];
        char err[1024], hex[VFY_HASH_HEX_MAX];
        if (o->whole) {
            gk_status st = vfy_hash_file(path, VFY_HASH_SHA256, hex, err, sizeof err);
            if (st == GK_OK)
                vfy_manifest_write_whole(stdout, path, hex);
            else
                fmt_error(path, "%s", err), rc = 2;
            continue;
        }
        fmt_input *in;
        fmt_gguf *g;
        int e = open_model(path, 0, &in, &g);
        if (e == 0) {
            vfy_hash_opts ho = {o->kinds, !o->no_layer, o->jobs, o->progress};
            vfy_gguf_hashes h;
            gk_status st = vfy_hash_gguf(g, in, &ho, &h, err, sizeof err);
            if (st == GK_OK)
                vfy_manifest_write(stdout, path, g, &h, o->kinds, !o->no_layer);
            else
                fmt_error(path, "%s", err), e = gk_exit_code(st);
            vfy_gguf_hashes_free(&h);
        }
        fmt_gguf_close(g);
        fmt_input_close(in);
        rc = e > rc ? e : rc;
    }
    return rc;
}

static int cmd_check(const options *o) {
    const char *m = o->manifest;
    fmt_input_opts io = {.allow_tty = 1};
    char err[1024];
    gk_status st;
    fmt_input *in = fmt_input_open(m, &io, &st, err, sizeof err);
    if (!in)
        return fmt_error(m, "%s", err), gk_exit_code(st);
    size_t len = 0, cap = 1 << 16, got = 0;
    char *text = malloc(cap);
    const char *why = text ? NULL : "out of memory";
    while (!why) {
        if (len == cap) {
            char *p = cap < (1u << 30) ? realloc(text, cap * 2) : NULL;
            if (!p) {
                why = "manifest too large";
                break;
            }
            text = p;
            cap *= 2;
        }
        if ((st = fmt_input_read(in, text + len, cap - len, &got)) != GK_OK)
            why = fmt_input_errmsg(in);
        else if (got == 0)
            break;
        len += got;
    }
    if (why) {
        fmt_error(m, "%s", why);
        free(text);
        fmt_input_close(in);
        return 2;
    }
    fmt_input_close(in);
    vfy_check_opts co = {o->n_args ? o->args[0] : NULL, o->ignore_missing, o->jobs, o->progress};
    vfy_check_result r;
    st = vfy_check_manifest(text, len, &co, &r);
    free(text);
    if (st == GK_E_USAGE)
        return fmt_cli_usage_error("FILE given but the manifest names more than one file: %s", m);
    if (st != GK_OK)
        return fmt_error(m, "out of memory"), 2;
    int say = !o->status;
    for (size_t i = 0; i < r.n_items && say; i++) {
        const vfy_check_item *it = &r.items[i];
        static const char *what[] = {"OK",
                                     "FAILED",
                                     "FAILED (not in the file)",
                                     "FAILED (not in the manifest)",
                                     "FAILED open or read",
                                     ""};
        if ((it->status == VFY_CHECK_OK && o->quiet) || it->status == VFY_CHECK_SKIPPED)
            continue;
        printf("%s: %s\n", it->name, what[it->status]);
    }
    fflush(stdout);
    for (size_t i = 0; i < r.n_errors && say; i++)
        fmt_error(NULL, "%s", r.errors[i]);
    for (size_t i = 0; i < r.n_malformed && say && (o->warn || o->strict); i++)
        fmt_error(NULL, "%s:%llu: improperly formatted checksum line", m,
                  (unsigned long long)r.malformed[i]);
    int fail =
        r.n_failed || r.n_missing || r.n_extra || r.n_unreadable || (o->strict && r.n_malformed);
    if (say) {
        if (r.n_malformed)
            fmt_error(m, "WARNING: %zu line%s improperly formatted", r.n_malformed,
                      r.n_malformed == 1 ? " is" : "s are");
        if (r.n_failed)
            fmt_error(m, "WARNING: %llu computed checksum%s did NOT match",
                      (unsigned long long)r.n_failed, r.n_failed == 1 ? "" : "s");
        if (r.n_missing)
            fmt_error(m, "WARNING: %llu listed tensor%s not in the file",
                      (unsigned long long)r.n_missing, r.n_missing == 1 ? " is" : "s are");
        if (r.n_extra)
            fmt_error(m, "WARNING: %llu tensor%s not in the manifest",
                      (unsigned long long)r.n_extra, r.n_extra == 1 ? " is" : "s are");
        if (r.n_unreadable)
            fmt_error(m, "WARNING: %llu listed item%s could not be read",
                      (unsigned long long)r.n_unreadable, r.n_unreadable == 1 ? "" : "s");
    }
    if (r.n_wellformed == 0) {
        if (say)
            fmt_error(m, "no properly formatted checksum lines found");
        fail = 1;
    } else if (r.n_ok + r.n_failed == 0 && !fail) {
        if (say)
            fmt_error(m, "no file was verified");
        fail = 1;
    } else if (say && !o->quiet) {
        fmt_log(2, "%s: %llu OK, %llu failed, %llu missing, %llu extra, %llu skipped", m,
                (unsigned long long)r.n_ok, (unsigned long long)r.n_failed,
                (unsigned long long)r.n_missing, (unsigned long long)r.n_extra,
                (unsigned long long)r.n_skipped);
    }
    vfy_check_result_free(&r);
    return fail;
}

/* A header the reader rejects or bad data is a failed check (exit 1); a
 * file that cannot be opened or read is an I/O error (exit 2). */
static int cmd_validate(const options *o) {
    int rc = 0;
    for (int i = 0; i < o->n_args; i++) {
        const char *path = o->args[i];
        char msg[1024];
        gk_status st;
        int e;
        fmt_input *in = fmt_input_open(path, NULL, &st, msg, sizeof msg);
        fmt_gguf *g = in ? fmt_gguf_open(in, &st) : NULL;
        if (!in) {
            fmt_error(path, "%s", msg);
        } else if (!g) {
            fmt_error(path, "%s", fmt_gguf_open_errmsg());
        } else if ((st = vfy_validate_gguf(g, in, o->jobs, NULL, msg, sizeof msg)) != GK_OK) {
            fmt_error(path, "%s", msg);
        }
        e = st == GK_OK ? 0 : !in || st == GK_E_IO || st == GK_E_NOMEM ? 2 : 1;
        if (e < 2)
            printf("%s: %s\n", path, e ? "FAILED" : "OK");
        fmt_gguf_close(g);
        fmt_input_close(in);
        rc = e > rc ? e : rc;
    }
    return rc;
}

static int cmd_diff(const options *o) {
    fmt_input *ia = NULL, *ib = NULL;
    fmt_gguf *a = NULL, *b = NULL;
    vfy_diff d = {0};
    char err[1024];
    int rc = open_model(o->args[0], 1, &ia, &a);
    if (!rc)
        rc = open_model(o->args[1], 1, &ib, &b);
    if (rc)
        goto done;
    gk_status st = vfy_diff_gguf(a, ia, b, ib, o->jobs, &d, err, sizeof err);
    if (st != GK_OK) {
        fmt_error(NULL, "%s", err);
        rc = gk_exit_code(st);
        goto done;
    }
    st = o->json ? vfy_diff_write_json(stdout, &d, o->args[0], o->args[1])
                 : vfy_diff_write_text(stdout, &d, o->args[0], o->args[1]);
    if (o->html && st == GK_OK) {
        char *html = NULL;
        size_t len = 0;
        vfy_report r = {"gguf-verify diff", o->args[0], o->args[1], d.tensors, d.n_tensors};
        const char *inputs[] = {o->args[0], o->args[1], NULL};
        fmt_output_opts oo = {.force = o->force, .inputs = inputs};
        fmt_output *out = NULL;
        if ((st = vfy_report_html(&r, &html, &len)) == GK_OK &&
            (out = fmt_output_open(o->html, &oo, &st, err, sizeof err)) &&
            (st = fmt_output_write(out, html, len)) == GK_OK)
            st = fmt_output_commit(out);
        if (st != GK_OK)
            fmt_error(o->html, "%s", out ? fmt_output_errmsg(out) : html ? err : "out of memory");
        fmt_output_close(out);
        free(html);
    }
    rc = gk_exit_code(st);
    if (!rc && o->has_max_rel) {
        if (!(d.max_rel <= o->max_rel)) {
            fmt_error(NULL, "relative error %.4g exceeds --max-rel-error %g", d.max_rel,
                      o->max_rel);
            rc = 1;
        }
        if (d.n_missing || d.n_extra || d.n_misshaped || d.n_undecodable) {
            fmt_error(NULL, "tensors differ: %llu missing, %llu extra, %llu misshaped",
                      (unsigned long long)d.n_missing, (unsigned long long)d.n_extra,
                      (unsigned long long)d.n_misshaped);
            rc = 1;
        }
    }
done:
    vfy_diff_free(&d);
    fmt_gguf_close(a);
    fmt_gguf_close(b);
    fmt_input_close(ia);
    fmt_input_close(ib);
    return rc;
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
    switch (o.cmd) {
    case CMD_HASH: rc = cmd_hash(&o); break;
    case CMD_CHECK: rc = cmd_check(&o); break;
    case CMD_VALIDATE: rc = cmd_validate(&o); break;
    default: rc = cmd_diff(&o); break;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fmt_error("(stdout)", "write failed: %s", strerror(errno ? errno : EIO));
        return 2;
    }
    return rc;
}
