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
#include "kernels/kernels.h"
#include "formats/imatrix.h"
#include "converters/requant/mixture.h"
#include "converters/requant/quantize.h"

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
/* Output of results                                                          */
/* ------------------------------------------------------------------------ */

static void print_list(void) {
    printf("%-10s %5s  %-8s %s\n", "PRESET", "BPW", "FTYPE", "DESCRIPTION");
    for (size_t i = 0; i < mix_preset_count(); i++) {
        const mix_preset *p = mix_preset_at(i);
        const kern_type_traits *tt = kern_type_info(p->default_type);
        int ok = tt && tt->quantize_ref;
        printf("%-10s %5.2f  %-8d %s%s%s\n", p->name, p->bpw, p->ftype, p->desc,
               p->needs_imatrix ? " (needs --imatrix)" : "", ok ? "" : " [not in this build]");
    }
}

static double bpw(uint64_t bytes, uint64_t n) {
    return n ? (double)bytes * 8.0 / (double)n : 0.0;
}

static void shape_str(const rq_tensor *t, char *buf, size_t cap) {
    int o = snprintf(buf, cap, "%lld", (long long)t->ne[0]);
    for (uint32_t d = 1; d < t->n_dims && o > 0 && (size_t)o < cap; d++)
        o += snprintf(buf + o, cap - (size_t)o, "x%lld", (long long)t->ne[d]);
}

static json_t *num_or_null(double x) {
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *tensor_json(const rq_tensor *t, int with_metrics) {
    json_t *shape = json_array();
    for (uint32_t d = 0; d < t->n_dims; d++)
        json_array_append_new(shape, json_integer(t->ne[d]));
    json_t *o =
        json_pack("{s:s, s:o, s:s, s:s, s:I, s:I, s:b, s:b}", "name", t->name, "shape", shape,
                  "old_type", kern_type_label(t->old_type), "new_type",
                  kern_type_label(t->new_type), "bytes_in", (json_int_t)t->bytes_old, "bytes_out",
                  (json_int_t)t->bytes_new, "fallback", t->fallback, "imatrix", t->used_imatrix);
    if (with_metrics && t->has_metrics) {
        json_object_set_new(o, "rmse", num_or_null(t->m.rmse));
        json_object_set_new(o, "max_abs_err", num_or_null(t->m.max_abs_err));
        json_object_set_new(o, "rel_err", num_or_null(t->m.rel_rms));
        json_object_set_new(o, "snr_db", num_or_null(t->m.snr_db));
        json_object_set_new(o, "cosine", num_or_null(t->m.cosine));
    }
    return o;
}

static json_t *plan_json(const options *o, const mix_preset *p, const rq_job *j, int with_metrics) {
    json_t *arr = json_array();
    for (size_t i = 0; i < rq_n_tensors(j); i++)
        json_array_append_new(arr, tensor_json(rq_tensor_at(j, i), with_metrics));
    return json_pack("{s:s, s:s?, s:s, s:i, s:I, s:I, s:I, s:f, s:f, s:o}", "input", o->input,
                     "output", o->output, "type", p->name, "ftype", p->ftype, "n_elements",
                     (json_int_t)rq_n_elements(j), "bytes_in", (json_int_t)rq_bytes_in(j),
                     "bytes_out", (json_int_t)rq_bytes_out(j), "bpw_in",
                     bpw(rq_bytes_in(j), rq_n_elements(j)), "bpw_out",
                     bpw(rq_bytes_out(j), rq_n_elements(j)), "tensors", arr);
}

static void print_plan(const rq_job *j) {
    printf("%-40s %-16s %-8s %-8s %12s %12s\n", "TENSOR", "SHAPE", "FROM", "TO", "BYTES_IN",
           "BYTES_OUT");
    for (size_t i = 0; i < rq_n_tensors(j); i++) {
        const rq_tensor *t = rq_tensor_at(j, i);
        char shape[64];
        shape_str(t, shape, sizeof shape);
        printf("%-40s %-16s %-8s %-8s %12llu %12llu%s\n", t->name, shape,
               kern_type_label(t->old_type), kern_type_label(t->new_type),
               (unsigned long long)t->bytes_old, (unsigned long long)t->bytes_new,
               t->fallback ? "  (fallback)" : "");
    }
    printf("total: %llu -> %llu bytes, %.4f -> %.4f bpw, %llu tensors\n",
           (unsigned long long)rq_bytes_in(j), (unsigned long long)rq_bytes_out(j),
           bpw(rq_bytes_in(j), rq_n_elements(j)), bpw(rq_bytes_out(j), rq_n_elements(j)),
           (unsigned long long)rq_n_tensors(j));
}

static int cmp_rel(const void *a, const void *b) {
    const rq_tensor *x = *(const rq_tensor *const *)a, *y = *(const rq_tensor *const *)b;
    double rx = isnan(x->m.rel_rms) ? INFINITY : x->m.rel_rms;
    double ry = isnan(y->m.rel_rms) ? INFINITY : y->m.rel_rms;
    return rx < ry ? 1 : rx > ry ? -1 : strcmp(x->name, y->name);
}

static void print_summary(const rq_job *j) {
    if (fmt_display_level() < 2)
        return;
    fmt_log(2, "size %.2f MiB -> %.2f MiB, %.4f -> %.4f bpw", rq_bytes_in(j) / 1048576.0,
            rq_bytes_out(j) / 1048576.0, bpw(rq_bytes_in(j), rq_n_elements(j)),
            bpw(rq_bytes_out(j), rq_n_elements(j)));
    const rq_tensor **v = malloc((rq_n_tensors(j) + 1) * sizeof *v);
    if (!v)
        return;
    size_t n = 0;
    for (size_t i = 0; i < rq_n_tensors(j); i++)
        if (rq_tensor_at(j, i)->has_metrics)
            v[n++] = rq_tensor_at(j, i);
    qsort(v, n, sizeof *v, cmp_rel);
    if (n)
        fmt_log(2, "worst tensors by relative error:");
    for (size_t i = 0; i < n && i < 10; i++)
        fmt_log(2, "  %-36s %-7s rel %.3e  rmse %.3e  max %.3e  snr %.1f dB", v[i]->name,
                kern_type_label(v[i]->new_type), v[i]->m.rel_rms, v[i]->m.rmse, v[i]->m.max_abs_err,
                v[i]->m.snr_db);
    free(v);
}

/* --html: the error report as the page gguf-verify diff draws. Tensors
 * copied unchanged count as exact round trips. Written atomically. */
static gk_status write_html(const options *o, const rq_job *j, const char *title) {
    size_t n = rq_n_tensors(j), len = 0;
    vfy_tensor_diff *rows = calloc(n ? n : 1, sizeof *rows);
    char *html = NULL, err[512] = "";
    gk_status st = rows ? GK_OK : GK_E_NOMEM;
    for (size_t i = 0; st == GK_OK && i < n; i++) {
        const rq_tensor *t = rq_tensor_at(j, i);
        vfy_tensor_diff *r = &rows[i];
        r->name = (char *)t->name;
        r->status = VFY_TENSOR_COMPARED;
        r->ref_type = t->old_type;
        r->type = t->new_type;
        r->n_dims = t->n_dims;
        r->n_elements = 1;
        for (uint32_t d = 0; d < 4; d++) {
            r->ref_ne[d] = r->ne[d] = t->ne[d];
            r->n_elements *= d < t->n_dims ? (uint64_t)t->ne[d] : 1;
        }
        r->ref_bytes = t->bytes_old;
        r->bytes = t->bytes_new;
        if (t->has_metrics)
            r->m = t->m;
        else
            r->m = (vfy_metrics){r->n_elements, 0.0, 0.0, 0.0, 1.0, INFINITY};
    }
    vfy_report rep = {title, o->input, o->output, rows, n};
    if (st == GK_OK)
        st = vfy_report_html(&rep, &html, &len);
    const char *inputs[2] = {fmt_is_stdio(o->input) ? NULL : o->input, NULL};
    fmt_output_opts oo = {.force = o->force, .inputs = inputs};
    fmt_output *out = st == GK_OK ? fmt_output_open(o->html, &oo, &st, err, sizeof err) : NULL;
    if (out && (st = fmt_output_write(out, html, len)) == GK_OK)
        st = fmt_output_commit(out);
    if (st != GK_OK)
        fmt_error(o->html, "%s", err[0] ? err : out ? fmt_output_errmsg(out) : gk_status_str(st));
    fmt_output_close(out);
    free(html);
    free(rows);
    return st;
}

static int write_json(json_t *doc, const char *path) {
    int rc;
    if (fmt_is_stdio(path)) {
        rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        fputc('\n', stdout);
        fflush(stdout);
    } else {
        rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Main                                                                       */
/* ------------------------------------------------------------------------ */

/* ======================================================================== */
/* Split input                                                                */
/* ======================================================================== */

#define MAX_SHARDS 9999

typedef struct {
    size_t n;
    char **paths;
    fmt_input **in;
    fmt_gguf **g;
} shards;

static void shards_close(shards *sh) {
    for (size_t i = 0; i < sh->n; i++) {
        fmt_gguf_close(sh->g ? sh->g[i] : NULL);
        fmt_input_close(sh->in ? sh->in[i] : NULL);
        free(sh->paths ? sh->paths[i] : NULL);
    }
    free(sh->paths);
    free(sh->in);
    free(sh->g);
    memset(sh, 0, sizeof *sh);
}

static gk_status open_one(const char *path, fmt_input **in, fmt_gguf **g, char *err, size_t cap) {
    gk_status st;
    if (!(*in = fmt_input_open(path, NULL, &st, err, cap)))
        return st;
    if (!(*g = fmt_gguf_open(*in, &st)))
        snprintf(err, cap, "%s", fmt_gguf_open_errmsg());
    return st;
}

/* Open path; when it is a shard NAME-0000K-of-0000N.gguf (split.count > 1)
 * open all N, in split.no order, checking the split.* keys of each as
 * llama's loader does. bad[badcap] names the file an error is about. */
static gk_status shards_open(const char *path, shards *sh, char *bad, size_t badcap, char *err,
                             size_t cap) {
    memset(sh, 0, sizeof *sh);
    fmt_input *in0 = NULL;
    fmt_gguf *g0 = NULL;
    snprintf(bad, badcap, "%s", path);
    gk_status st = open_one(path, &in0, &g0, err, cap);
    uint64_t n = 1;
    if (st == GK_OK && fmt_gguf_get_u64(g0, "split.count", &n) && n > 1) {
        if (n > MAX_SHARDS) {
            snprintf(err, cap, "split.count %llu is out of range (1..%d)", (unsigned long long)n,
                     MAX_SHARDS);
            st = GK_E_FORMAT;
        }
    } else {
        n = 1;
    }
    sh->paths = calloc((size_t)n, sizeof *sh->paths);
    sh->in = calloc((size_t)n, sizeof *sh->in);
    sh->g = calloc((size_t)n, sizeof *sh->g);
    if (st == GK_OK && (!sh->paths || !sh->in || !sh->g)) {
        snprintf(err, cap, "out of memory");
        st = GK_E_NOMEM;
    }
    if (st != GK_OK) {
        fmt_gguf_close(g0);
        fmt_input_close(in0);
        free(sh->paths);
        free(sh->in);
        free(sh->g);
        memset(sh, 0, sizeof *sh);
        return st;
    }
    sh->n = (size_t)n;
    if (n == 1) {
        sh->in[0] = in0;
        sh->g[0] = g0;
        sh->paths[0] = strdup(path);
        return sh->paths[0] ? GK_OK : GK_E_NOMEM;
    }
    /* NAME-0000K-of-0000N.gguf (llama_split_path), K in 1..N */
    size_t len = strlen(path);
    const char *tail = len >= 20 ? path + len - 20 : NULL;
    unsigned k = 0, nn = 0;
    int used = 0;
    if (!tail || sscanf(tail, "-%5u-of-%5u.gguf%n", &k, &nn, &used) != 2 || used != 20 || nn != n ||
        k < 1 || k > n) {
        snprintf(err, cap,
                 "shard of a %llu-file split model, but the name is not "
                 "NAME-0000K-of-%05llu.gguf",
                 (unsigned long long)n, (unsigned long long)n);
        fmt_gguf_close(g0);
        fmt_input_close(in0);
        shards_close(sh);
        return GK_E_FORMAT;
    }
    int64_t total = -1;
    uint64_t n_tensors = 0;
    for (size_t i = 0; i < sh->n && st == GK_OK; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%.*s-%05zu-of-%05llu.gguf", (int)(len - 20), path, i + 1,
                 (unsigned long long)n);
        if (!(sh->paths[i] = strdup(p))) {
            st = GK_E_NOMEM;
            break;
        }
        snprintf(bad, badcap, "%s", sh->paths[i]);
        if (i + 1 == k) {
            sh->in[i] = in0;
            sh->g[i] = g0;
            in0 = NULL;
            g0 = NULL;
        } else if ((st = open_one(p, &sh->in[i], &sh->g[i], err, cap)) != GK_OK) {
            break;
        }
        uint64_t no = UINT64_MAX, cnt = 0;
        int64_t tc = -1;
        fmt_gguf_get_u64(sh->g[i], "split.no", &no);
        fmt_gguf_get_u64(sh->g[i], "split.count", &cnt);
        fmt_gguf_get_i64(sh->g[i], "split.tensors.count", &tc);
        if (no != i || cnt != n) {
            snprintf(err, cap, "split.no %lld / split.count %llu, expected %zu / %llu",
                     no == UINT64_MAX ? -1LL : (long long)no, (unsigned long long)cnt, i,
                     (unsigned long long)n);
            st = GK_E_FORMAT;
        } else if (tc < 0 || (total >= 0 && tc != total)) {
            snprintf(err, cap, "split.tensors.count %lld differs from the first shard's %lld",
                     (long long)tc, (long long)total);
            st = GK_E_FORMAT;
        }
        total = tc;
        n_tensors += fmt_gguf_n_tensors(sh->g[i]);
    }
    if (st == GK_OK && n_tensors != (uint64_t)total) {
        snprintf(bad, badcap, "%s", sh->paths[0]);
        snprintf(err, cap, "the %zu shards hold %llu tensors, split.tensors.count says %lld", sh->n,
                 (unsigned long long)n_tensors, (long long)total);
        st = GK_E_FORMAT;
    }
    fmt_gguf_close(g0);
    fmt_input_close(in0);
    if (st != GK_OK)
        shards_close(sh);
    return st;
}

/* Output file k of n: --keep-split names them as llama-quantize does
 * (llama_split_path on OUTPUT without its .gguf suffix). */
static char *output_path(const char *out, int keep_split, size_t k, size_t n) {
    char p[4200];
    size_t len = strlen(out);
    if (!keep_split)
        return strdup(out);
    if (len >= 5 && strcmp(out + len - 5, ".gguf") == 0)
        len -= 5;
    snprintf(p, sizeof p, "%.*s-%05zu-of-%05zu.gguf", (int)len, out, k + 1, n);
    return strdup(p);
}

int main(int argc, char **argv) {
    kern_init();
    fmt_set_progname("requant");
    options o;
    memset(&o, 0, sizeof o);
    o.output_type = o.token_embd_type = -1;
    o.progress = -1;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.list) {
        print_list();
        return 0;
    }

    char err[1024] = "";
    gk_error e;
    gk_status st = GK_OK;
    shards sh = {0};
    imx *im = NULL;
    mix_rules *rules = NULL;
    rq_job *job = NULL;
    fmt_output **outs = NULL;
    char **out_paths = NULL;
    const char **inputs = NULL;
    size_t n_out = 0;
    fmt_progress *prog = NULL;
    const char *errfile = NULL;
    rc = 2;

    const mix_preset *p = mix_preset_find(o.type);
    if (!p) {
        fmt_error(NULL, "unknown type '%s' (requant --list shows the presets)", o.type);
        goto done;
    }
    const kern_type_traits *dt = kern_type_info(p->default_type);
    if (!dt || !dt->quantize_ref) {
        fmt_error(NULL, "type %s is not available in this build", p->name);
        goto done;
    }
    rules = mix_rules_create();
    if (!rules)
        goto done;
    for (size_t i = 0; i < o.n_tensor_type; i++)
        if (mix_rules_add(rules, o.tensor_type[i], err, sizeof err) != GK_OK) {
            rc = fmt_cli_usage_error("%s", err);
            goto done;
        }
    if (o.imatrix) {
        errfile = o.imatrix;
        if (!(im = imx_load(o.imatrix, &st, err, sizeof err)))
            goto fail;
        imx_filter(im, o.include, o.n_include, o.exclude, o.n_exclude);
        if ((st = imx_check_finite(im, err, sizeof err)) != GK_OK)
            goto fail;
        fmt_log(3, "imatrix: %zu entries", imx_count(im));
    }
    if (p->needs_imatrix && imx_count(im) == 0) {
        fmt_error(NULL, "%s needs an importance matrix (--imatrix FILE)", p->name);
        goto done;
    }

    static char badfile[4200];
    errfile = badfile;
    if ((st = shards_open(o.input, &sh, badfile, sizeof badfile, err, sizeof err)) != GK_OK)
        goto fail;
    errfile = o.input;
    rq_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.preset = p;
    ro.mix.pure = o.pure;
    ro.mix.leave_output = o.leave_output;
    ro.mix.output_type = o.output_type;
    ro.mix.token_embd_type = o.token_embd_type;
    ro.mix.rules = rules;
    ro.imatrix = imx_count(im) ? im : NULL;
    ro.imatrix_path = o.imatrix;
    ro.allow_requantize = o.allow_requantize;
    ro.nthreads = o.jobs;
    ro.kv = o.kv;
    ro.n_kv = o.n_kv;
    ro.max_rel_error = o.max_rel_error;
    ro.measure = !o.no_metrics;
    ro.keep_split = o.keep_split;
    if (!(job = rq_plan_split(sh.g, sh.n, &ro, o.input, &e))) {
        rc = fmt_cli_report(&e);
        goto done;
    }
    if (o.dry_run) {
        if (o.json) {
            json_t *doc = plan_json(&o, p, job, 0);
            write_json(doc, "-");
            json_decref(doc);
        } else {
            print_plan(job);
        }
        rc = 0;
        goto done;
    }
    for (size_t i = 0; i < rq_n_tensors(job); i++) {
        const rq_tensor *t = rq_tensor_at(job, i);
        if (t->old_type != t->new_type && kern_type_info(t->old_type)->is_quantized) {
            fmt_log(1, "warning: requantizing %s input: the errors of both quantizations add up",
                    kern_type_label(t->old_type));
            break;
        }
    }

    if (o.html && !o.force && access(o.html, F_OK) == 0) { /* refuse before the work */
        fmt_error(o.html, "already exists (use -f to overwrite)");
        rc = 2;
        goto done;
    }
    n_out = rq_n_outputs(job);
    inputs = calloc(sh.n + 1, sizeof *inputs);
    outs = calloc(n_out, sizeof *outs);
    out_paths = calloc(n_out, sizeof *out_paths);
    if (!inputs || !outs || !out_paths) {
        st = GK_E_NOMEM;
        goto fail;
    }
    for (size_t i = 0; i < sh.n; i++)
        inputs[i] = fmt_is_stdio(sh.paths[i]) ? NULL : sh.paths[i];
    if (o.keep_split && fmt_is_stdio(o.output)) {
        rc = fmt_cli_usage_error("--keep-split cannot write to stdout");
        goto done;
    }
    fmt_output_opts oo = {o.force, o.zstd_level, o.zstd_level ? fmt_online_cpus() : 0, inputs};
    for (size_t i = 0; i < n_out; i++) {
        if (!(out_paths[i] = output_path(o.output, o.keep_split, i, n_out))) {
            st = GK_E_NOMEM;
            goto fail;
        }
        errfile = out_paths[i];
        if (!(outs[i] = fmt_output_open(out_paths[i], &oo, &st, err, sizeof err)))
            goto fail;
    }
    prog = fmt_progress_start("requant", rq_bytes_in(job), o.progress);
    st = rq_run_split(job, outs, (const char *const *)out_paths, (const char *const *)sh.paths,
                      prog, &e);
    fmt_progress_end(prog);
    if (st == GK_E_CHECK) {
        fmt_error(o.output, "%s; no output written", e.msg);
        rc = 1;
        goto done;
    }
    if (st != GK_OK) {
        rc = fmt_cli_report(&e);
        goto done;
    }
    for (size_t i = 0; i < n_out; i++)
        if ((st = fmt_output_commit(outs[i])) != GK_OK) {
            errfile = out_paths[i];
            snprintf(err, sizeof err, "%s", fmt_output_errmsg(outs[i]));
            goto fail;
        }
    print_summary(job);
    if (o.report) {
        json_t *doc = plan_json(&o, p, job, 1);
        int wr = write_json(doc, o.report);
        json_decref(doc);
        if (wr != 0) {
            fmt_error(o.report, "cannot write the report");
            rc = 2;
            goto done;
        }
    }
    if (o.html) {
        char title[512];
        snprintf(title, sizeof title, "requant %s: %s", p->name, o.input);
        if (write_html(&o, job, title) != GK_OK) {
            rc = 2;
            goto done;
        }
    }
    rc = 0;
    goto done;
fail:
    fmt_error(errfile, "%s", err[0] ? err : gk_status_str(st));
    rc = gk_exit_code(st);
done:
    for (size_t i = 0; i < n_out; i++) {
        if (outs)
            fmt_output_close(outs[i]);
        if (out_paths)
            free(out_paths[i]);
    }
    free(outs);
    free(out_paths);
    free(inputs);
    rq_free(job);
    shards_close(&sh);
    imx_free(im);
    mix_rules_free(rules);
    return rc;
}
