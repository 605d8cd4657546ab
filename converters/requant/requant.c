/*
 * requant.c -- requant: quantize a GGUF model with llama-quantize's presets
 * and mixture rules, byte for byte, streaming, with a per-tensor error
 * report. Options, usage and wiring only; the work is in quantize.c.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/cli.h"
#include "formats/io.h"
#include "formats/split.h"
#include "kernels/kernels.h"
#include "formats/imatrix.h"
#include "converters/requant/mixture.h"
#include "converters/requant/quantize.h"
#include "converters/requant/report.h"

#define MAX_LIST 256

typedef struct {
    const char *input, *output, *type;
    int force, jobs, list, dry_run, json, progress, no_metrics;
    int zstd_level;
    const char *imatrix;
    const char *include[MAX_LIST], *exclude[MAX_LIST];
    size_t n_include, n_exclude;
    const char *tensor_type[MAX_LIST];
    size_t n_tensor_type;
    rq_kv_override kv[MAX_LIST];
    size_t n_kv;
    int output_type, token_embd_type;
    int pure, leave_output, allow_requantize, keep_split;
    const char *report;
    const char *html;
    double max_rel_error;
} options;

enum {
    OPT_LIST = 256,
    OPT_DRY_RUN,
    OPT_IMATRIX,
    OPT_INCLUDE,
    OPT_EXCLUDE,
    OPT_OUT_TYPE,
    OPT_EMB_TYPE,
    OPT_TENSOR_TYPE,
    OPT_PURE,
    OPT_LEAVE_OUTPUT,
    OPT_ALLOW_REQ,
    OPT_OVERRIDE_KV,
    OPT_REPORT,
    OPT_HTML,
    OPT_MAX_REL,
    OPT_KEEP_SPLIT,
    OPT_NO_METRICS,
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: requant [options] INPUT OUTPUT TYPE\n"
            "       requant [options] -t TYPE INPUT [OUTPUT]\n"
            "       requant --list\n"
            "Quantize a GGUF model as llama-quantize does (same types, same bytes).\n"
            "INPUT/OUTPUT may be '-' (stdin/stdout). TYPE is a preset (see --list).\n\n"
            "  -t, --type TYPE               preset (Q4_K_M, Q8_0, IQ4_XS, ...)\n"
            "  -o, --output FILE             output file\n"
            "  -f, --force                   overwrite OUTPUT; allow binary to a terminal\n"
            "  -j, --jobs N                  threads (default: all cores)\n"
            "      --list                    presets with their nominal bits per weight\n"
            "      --dry-run                 print the plan (types, sizes) and write nothing\n"
            "      --json                    --dry-run output as JSON\n"
            "      --imatrix FILE            importance matrix (legacy .dat or GGUF)\n"
            "      --include-weights S       use imatrix entries whose name contains S\n"
            "      --exclude-weights S       ignore imatrix entries whose name contains S\n"
            "      --output-tensor-type T    type of output.weight\n"
            "      --token-embedding-type T  type of token_embd.weight\n"
            "      --tensor-type REGEX=T     type of matching tensors (repeatable, first wins)\n"
            "      --pure                    no mixture: every tensor gets the preset's type\n"
            "      --leave-output-tensor     keep output.weight as it is\n"
            "      --allow-requantize        accept quantized input (error accumulates)\n"
            "      --keep-split              split input (any shard opens the set): one\n"
            "                                output per shard, OUTPUT-0000K-of-0000N.gguf\n"
            "                                (without: one merged output)\n"
            "      --override-kv K=T:V       set metadata K (T: int, float, bool, str)\n"
            "      --zstd[=L]                compress the output with zstd (level L, default 3)\n"
            "      --report FILE|-           per-tensor error metrics as JSON\n"
            "      --html FILE               the same as one self-contained HTML page (charts\n"
            "                                of relative error and bits per weight per layer)\n"
            "      --max-rel-error X         fail (exit 1, no output) above this relative error\n"
            "      --no-metrics              skip the error measurement (faster)\n"
            "      --[no-]progress           progress bar on stderr\n"
            "  -q, --quiet / -v, --verbose   less / more messages\n"
            "  -h, --help / -V, --version\n");
}

static int parse_type(const char *s, int *out) {
    int t = kern_type_from_name(s);
    if (t < 0 || !kern_type_info(t) || !kern_type_info(t)->quantize_ref)
        return 0;
    *out = t;
    return 1;
}

/* Operands (INPUT [OUTPUT] [TYPE]) and the combinations of options.
 * Returns -1 to continue, else the exit code. */
static int check_operands(int nops, char **ops, options *o) {
    if (!o->type) {
        if (nops < 2)
            return fmt_cli_usage_error("missing operands: INPUT OUTPUT TYPE");
        o->type = ops[--nops];
    }
    if (nops < 1)
        return fmt_cli_usage_error("missing INPUT");
    if (nops > 2)
        return fmt_cli_usage_error("too many operands");
    o->input = ops[0];
    if (nops == 2) {
        if (o->output)
            return fmt_cli_usage_error("OUTPUT given twice (operand and -o)");
        o->output = ops[1];
    }
    if (!o->output && !o->dry_run)
        return fmt_cli_usage_error("missing OUTPUT");
    if (o->n_include && o->n_exclude)
        return fmt_cli_usage_error("--include-weights and --exclude-weights cannot be combined");
    if ((o->n_include || o->n_exclude) && !o->imatrix)
        return fmt_cli_usage_error("--include-weights/--exclude-weights need --imatrix");
    if (o->json && !o->dry_run)
        return fmt_cli_usage_error(
            "--json goes with --dry-run (use --report for the error report)");
    if (o->html && (o->no_metrics || o->dry_run))
        return fmt_cli_usage_error("--html needs a real run with metrics");
    if (o->no_metrics && (o->report || o->max_rel_error > 0))
        return fmt_cli_usage_error(
            "--no-metrics cannot be combined with --report or --max-rel-error");
    if (o->report && o->dry_run)
        return fmt_cli_usage_error("--report needs a real run, not --dry-run");
    if (o->report && fmt_is_stdio(o->report) && o->output && fmt_is_stdio(o->output))
        return fmt_cli_usage_error("--report - and OUTPUT - both want stdout");
    return -1;
}

/* Returns -1 to continue, else the exit code. */
static int parse_args(int argc, char **argv, options *o) {
    static const struct option longs[] = {
        {"type", required_argument, 0, 't'},
        {"list", no_argument, 0, OPT_LIST},
        {"dry-run", no_argument, 0, OPT_DRY_RUN},
        {"imatrix", required_argument, 0, OPT_IMATRIX},
        {"include-weights", required_argument, 0, OPT_INCLUDE},
        {"exclude-weights", required_argument, 0, OPT_EXCLUDE},
        {"output-tensor-type", required_argument, 0, OPT_OUT_TYPE},
        {"token-embedding-type", required_argument, 0, OPT_EMB_TYPE},
        {"tensor-type", required_argument, 0, OPT_TENSOR_TYPE},
        {"pure", no_argument, 0, OPT_PURE},
        {"leave-output-tensor", no_argument, 0, OPT_LEAVE_OUTPUT},
        {"allow-requantize", no_argument, 0, OPT_ALLOW_REQ},
        {"override-kv", required_argument, 0, OPT_OVERRIDE_KV},
        {"report", required_argument, 0, OPT_REPORT},
        {"html", required_argument, 0, OPT_HTML},
        {"max-rel-error", required_argument, 0, OPT_MAX_REL},
        {"keep-split", no_argument, 0, OPT_KEEP_SPLIT},
        {"no-metrics", no_argument, 0, OPT_NO_METRICS},
        {0, 0, 0, 0},
    };
    char err[512];
    fmt_cli cli;
    int c;
    fmt_cli_init(&cli,
                 FMT_CLI_JOBS | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_FORCE | FMT_CLI_OUTPUT |
                     FMT_CLI_JSON | FMT_CLI_ZSTD | FMT_CLI_PROGRESS,
                 "t:", longs, usage);
    while ((c = fmt_cli_next(&cli, argc, argv)) != FMT_CLI_END) {
        switch (c) {
        case FMT_CLI_EXIT: return cli.exit_code;
        case 't': o->type = optarg; break;
        case OPT_LIST: o->list = 1; break;
        case OPT_DRY_RUN: o->dry_run = 1; break;
        case OPT_IMATRIX: o->imatrix = optarg; break;
        case OPT_INCLUDE:
        case OPT_EXCLUDE:
            if (o->n_include >= MAX_LIST || o->n_exclude >= MAX_LIST)
                return fmt_cli_usage_error("too many --include-weights/--exclude-weights");
            if (c == OPT_INCLUDE)
                o->include[o->n_include++] = optarg;
            else
                o->exclude[o->n_exclude++] = optarg;
            break;
        case OPT_OUT_TYPE:
        case OPT_EMB_TYPE:
            if (!parse_type(optarg, c == OPT_OUT_TYPE ? &o->output_type : &o->token_embd_type))
                return fmt_cli_usage_error("unknown or unsupported ggml type '%s'", optarg);
            break;
        case OPT_TENSOR_TYPE:
            if (o->n_tensor_type >= MAX_LIST)
                return fmt_cli_usage_error("too many --tensor-type");
            o->tensor_type[o->n_tensor_type++] = optarg;
            break;
        case OPT_PURE: o->pure = 1; break;
        case OPT_LEAVE_OUTPUT: o->leave_output = 1; break;
        case OPT_ALLOW_REQ: o->allow_requantize = 1; break;
        case OPT_OVERRIDE_KV:
            if (o->n_kv >= MAX_LIST)
                return fmt_cli_usage_error("too many --override-kv");
            if (rq_parse_kv_override(optarg, &o->kv[o->n_kv], err, sizeof err) != GK_OK)
                return fmt_cli_usage_error("%s", err);
            o->n_kv++;
            break;
        case OPT_REPORT: o->report = optarg; break;
        case OPT_HTML: o->html = optarg; break;
        case OPT_MAX_REL:
            if (fmt_parse_double(optarg, &o->max_rel_error) != GK_OK || !(o->max_rel_error > 0))
                return fmt_cli_usage_error("--max-rel-error: expected a positive number");
            break;
        case OPT_NO_METRICS: o->no_metrics = 1; break;
        case OPT_KEEP_SPLIT: o->keep_split = 1; break;
        default: break; /* a common option, in cli.opts */
        }
    }
    o->output = cli.opts.output;
    o->force = cli.opts.force;
    o->jobs = cli.opts.jobs;
    o->json = cli.opts.json;
    o->zstd_level = cli.opts.zstd_level;
    o->progress = cli.opts.progress;
    if (o->list)
        return -1;
    return check_operands(argc - optind, argv + optind, o);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                       */
/* ------------------------------------------------------------------------ */

/* ======================================================================== */
/* Split input                                                                */
/* ======================================================================== */

/* The input's files in split.no order (one unless it is a split set); a
 * view of set, which owns them. */
typedef struct {
    fmt_split *set;
    size_t n;
    const char *const *paths;
    fmt_gguf *const *g;
} shards;

static void shards_close(shards *sh) {
    fmt_split_close(sh->set);
    memset(sh, 0, sizeof *sh);
}

/* Open path, and when it is a shard the whole set; err names the file. */
static gk_status shards_open(const char *path, shards *sh, char *err, size_t cap) {
    gk_status st;
    memset(sh, 0, sizeof *sh);
    if (!(sh->set = fmt_split_open(path, &st, err, cap)))
        return st;
    sh->n = fmt_split_count(sh->set);
    sh->paths = fmt_split_paths(sh->set);
    sh->g = fmt_split_ggufs(sh->set);
    return GK_OK;
}

/* Output file k of n: --keep-split names them as llama-quantize does
 * (llama_split_path on OUTPUT without its .gguf suffix). */
static char *output_path(const char *out, int keep_split, size_t k, size_t n) {
    size_t len = strlen(out);
    if (!keep_split)
        return strdup(out);
    if (len >= 5 && strcmp(out + len - 5, ".gguf") == 0)
        len -= 5;
    size_t cap = len + 32; /* the tail, with n <= FMT_SPLIT_MAX_SHARDS */
    char *p = malloc(cap);
    if (p && fmt_split_name(p, cap, out, len, k, n) != GK_OK) {
        free(p);
        p = NULL;
    }
    return p;
}

/* ======================================================================== */
/* The run                                                                    */
/* ======================================================================== */

/* What one run holds; released by run_free. */
typedef struct {
    const mix_preset *p;
    mix_rules *rules;
    imx *im;
    shards sh;
    rq_job *job;
    size_t n_out;
    fmt_output **outs;
    char **out_paths;
    const char **inputs;
} run;

/* Print the error "requant: FILE: msg" (msg "" = the status name); the
 * exit code. */
static int fail(gk_status st, const char *file, const char *msg) {
    gk_error e;
    gk_error_set(&e, st, file, "%s", msg);
    return fmt_cli_report(&e);
}

static void run_free(run *r) {
    for (size_t i = 0; i < r->n_out; i++) {
        if (r->outs)
            fmt_output_close(r->outs[i]);
        if (r->out_paths)
            free(r->out_paths[i]);
    }
    free(r->outs);
    free(r->out_paths);
    free(r->inputs);
    rq_free(r->job);
    shards_close(&r->sh);
    imx_free(r->im);
    mix_rules_free(r->rules);
}

/* The preset, the --tensor-type rules and the imatrix. 0, else the exit
 * code after the message. */
static int prepare(const options *o, run *r) {
    char err[1024] = "";
    gk_status st;
    if (!(r->p = mix_preset_find(o->type))) {
        fmt_error(NULL, "unknown type '%s' (requant --list shows the presets)", o->type);
        return 2;
    }
    const kern_type_traits *dt = kern_type_info(r->p->default_type);
    if (!dt || !dt->quantize_ref) {
        fmt_error(NULL, "type %s is not available in this build", r->p->name);
        return 2;
    }
    if (!(r->rules = mix_rules_create()))
        return 2;
    for (size_t i = 0; i < o->n_tensor_type; i++)
        if (mix_rules_add(r->rules, o->tensor_type[i], err, sizeof err) != GK_OK)
            return fmt_cli_usage_error("%s", err);
    if (o->imatrix) {
        if (!(r->im = imx_load(o->imatrix, &st, err, sizeof err)))
            return fail(st, o->imatrix, err);
        imx_filter(r->im, o->include, o->n_include, o->exclude, o->n_exclude);
        if ((st = imx_check_finite(r->im, err, sizeof err)) != GK_OK)
            return fail(st, o->imatrix, err);
        fmt_log(3, "imatrix: %zu entries", imx_count(r->im));
    }
    if (r->p->needs_imatrix && imx_count(r->im) == 0) {
        fmt_error(NULL, "%s needs an importance matrix (--imatrix FILE)", r->p->name);
        return 2;
    }
    return 0;
}

/* Open the input (every shard of a split set) and plan the job. 0, else
 * the exit code after the message. */
static int plan(const options *o, run *r, rq_opts *ro) {
    char err[1024] = "";
    gk_error e;
    gk_status st = shards_open(o->input, &r->sh, err, sizeof err);
    if (st != GK_OK)
        return fail(st, NULL, err); /* the message names the shard at fault */
    memset(ro, 0, sizeof *ro);
    ro->preset = r->p;
    ro->mix.pure = o->pure;
    ro->mix.leave_output = o->leave_output;
    ro->mix.output_type = o->output_type;
    ro->mix.token_embd_type = o->token_embd_type;
    ro->mix.rules = r->rules;
    ro->imatrix = imx_count(r->im) ? r->im : NULL;
    ro->imatrix_path = o->imatrix;
    ro->allow_requantize = o->allow_requantize;
    ro->nthreads = o->jobs;
    ro->kv = o->kv;
    ro->n_kv = o->n_kv;
    ro->max_rel_error = o->max_rel_error;
    ro->measure = !o->no_metrics;
    ro->keep_split = o->keep_split;
    if (!(r->job = rq_plan_split(r->sh.g, r->sh.n, ro, o->input, &e)))
        return fmt_cli_report(&e);
    for (size_t i = 0; i < rq_n_tensors(r->job); i++) {
        const rq_tensor *t = rq_tensor_at(r->job, i);
        if (!o->dry_run && t->old_type != t->new_type &&
            kern_type_info(t->old_type)->is_quantized) {
            fmt_log(1, "warning: requantizing %s input: the errors of both quantizations add up",
                    kern_type_label(t->old_type));
            break;
        }
    }
    return 0;
}

/* The output files (never one of the input shards). 0, else the exit code
 * after the message. */
static int open_outputs(const options *o, run *r) {
    char err[1024] = "";
    gk_status st = GK_OK;
    if (o->html && !o->force && access(o->html, F_OK) == 0) { /* refuse before the work */
        fmt_error(o->html, "already exists (use -f to overwrite)");
        return 2;
    }
    r->n_out = rq_n_outputs(r->job);
    r->inputs = calloc(r->sh.n + 1, sizeof *r->inputs);
    r->outs = calloc(r->n_out, sizeof *r->outs);
    r->out_paths = calloc(r->n_out, sizeof *r->out_paths);
    if (!r->inputs || !r->outs || !r->out_paths)
        return fail(GK_E_NOMEM, NULL, "");
    for (size_t i = 0; i < r->sh.n; i++)
        r->inputs[i] = fmt_is_stdio(r->sh.paths[i]) ? NULL : r->sh.paths[i];
    if (o->keep_split && fmt_is_stdio(o->output))
        return fmt_cli_usage_error("--keep-split cannot write to stdout");
    fmt_output_opts oo = {o->force, o->zstd_level, o->zstd_level ? fmt_online_cpus() : 0,
                          r->inputs};
    for (size_t i = 0; i < r->n_out; i++) {
        if (!(r->out_paths[i] = output_path(o->output, o->keep_split, i, r->n_out)))
            return fail(GK_E_NOMEM, NULL, "");
        if (!(r->outs[i] = fmt_output_open(r->out_paths[i], &oo, &st, err, sizeof err)))
            return fail(st, r->out_paths[i], err);
    }
    return 0;
}

/* Quantize into the outputs, commit them, then the summary and the
 * reports. The exit code. */
static int execute(const options *o, run *r) {
    gk_error e;
    fmt_progress *prog = fmt_progress_start("requant", rq_bytes_in(r->job), o->progress);
    gk_status st = rq_run_split(r->job, r->outs, (const char *const *)r->out_paths,
                                (const char *const *)r->sh.paths, prog, &e);
    fmt_progress_end(prog);
    if (st == GK_E_CHECK) {
        fmt_error(o->output, "%s; no output written", e.msg);
        return 1;
    }
    if (st != GK_OK)
        return fmt_cli_report(&e);
    for (size_t i = 0; i < r->n_out; i++)
        if ((st = fmt_output_commit(r->outs[i])) != GK_OK)
            return fail(st, r->out_paths[i], fmt_output_errmsg(r->outs[i]));
    rq_report_summary(r->job);
    if (o->report) {
        json_t *doc = rq_report_json(r->job, r->p, o->input, o->output, 1);
        int wr = rq_report_write_json(doc, o->report);
        json_decref(doc);
        if (wr != 0) {
            fmt_error(o->report, "cannot write the report");
            return 2;
        }
    }
    if (o->html) {
        char title[512];
        snprintf(title, sizeof title, "requant %s: %s", r->p->name, o->input);
        rq_report_html_opts ho = {o->html, title, o->input, o->output, o->force};
        if (rq_report_html(r->job, &ho, &e) != GK_OK)
            return fmt_cli_report(&e);
    }
    return 0;
}

int main(int argc, char **argv) {
    kern_init();
    fmt_set_progname("requant");
    options o;
    memset(&o, 0, sizeof o);
    o.output_type = o.token_embd_type = -1;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.list) {
        rq_report_list();
        return 0;
    }
    run r;
    rq_opts ro;
    memset(&r, 0, sizeof r);
    if (!(rc = prepare(&o, &r)) && !(rc = plan(&o, &r, &ro))) {
        if (o.dry_run && o.json) {
            json_t *doc = rq_report_json(r.job, r.p, o.input, o.output, 0);
            rq_report_write_json(doc, "-");
            json_decref(doc);
        } else if (o.dry_run) {
            rq_report_plan(r.job);
        } else if (!(rc = open_outputs(&o, &r))) {
            rc = execute(&o, &r);
        }
    }
    run_free(&r);
    return rc;
}
