/*
 * requant.c -- requant: quantize a GGUF model with llama-quantize's presets
 * and mixture rules, byte for byte, streaming, with a per-tensor error
 * report. Options and usage only; the run is run.c, the work quantize.c.
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
#include "formats/mixture.h"
#include "converters/requant/quantize.h"
#include "converters/requant/report.h"
#include "converters/requant/run.h"

typedef rq_request options;

enum {
    OPT_LIST = 256,
    OPT_DRY_RUN,
    OPT_IMATRIX,
    OPT_INCLUDE,
    OPT_EXCLUDE,
    OPT_OUT_TYPE,
    OPT_EMB_TYPE,
    OPT_TENSOR_TYPE,
    OPT_TENSOR_TYPE_FILE,
    OPT_PRUNE_LAYERS,
    OPT_PURE,
    OPT_LEAVE_OUTPUT,
    OPT_ALLOW_REQ,
    OPT_OVERRIDE_KV,
    OPT_REPORT,
    OPT_HTML,
    OPT_MAX_REL,
    OPT_KEEP_SPLIT,
    OPT_NO_METRICS,
    OPT_LORA,
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: requant [options] INPUT [OUTPUT] TYPE [NTHREADS]\n"
            "       requant [options] -t TYPE INPUT [OUTPUT] [NTHREADS]\n"
            "       requant --list\n"
            "Quantize a GGUF model as llama-quantize does (same types, same bytes).\n"
            "INPUT/OUTPUT may be '-' (stdin/stdout). TYPE is a preset (see --list).\n"
            "Without OUTPUT, as llama-quantize: DIR/ggml-model-TYPE.gguf, DIR being INPUT's\n"
            "directory (no .gguf with --keep-split). NTHREADS is the same as -j.\n\n"
            "  -t, --type TYPE               preset (Q4_K_M, Q8_0, IQ4_XS, Q1_0, ...)\n"
            "  -o, --output FILE             output file\n"
            "  -f, --force                   overwrite OUTPUT; allow binary to a terminal\n"
            "  -j, --jobs N                  threads (default: all cores)\n"
            "      --list                    presets with their nominal bits per weight\n"
            "      --dry-run                 print the plan (types, sizes) and write nothing\n"
            "      --json                    --dry-run output as JSON\n"
            "      --imatrix FILE            importance matrix (legacy .dat or GGUF;\n"
            "                                per expert for MoE models)\n"
            "      --include-weights S       use imatrix entries whose name contains S\n"
            "      --exclude-weights S       ignore imatrix entries whose name contains S\n"
            "      --output-tensor-type T    type of output.weight\n"
            "      --token-embedding-type T  type of token_embd.weight\n"
            "      --tensor-type REGEX=T     type of matching tensors (repeatable, first wins;\n"
            "                                ignored with --pure, as llama-quantize does)\n"
            "      --tensor-type-file FILE   REGEX=T entries from FILE, separated by white space\n"
            "      --prune-layers L1,L2,...  drop these blocks, renumber the others and set\n"
            "                                <arch>.block_count\n"
            "      --pure                    no mixture: every tensor gets the preset's type\n"
            "      --leave-output-tensor     keep output.weight as it is\n"
            "      --allow-requantize        accept quantized input (error accumulates)\n"
            "      --keep-split              split input (any shard opens the set): one\n"
            "                                output per shard, OUTPUT-0000K-of-0000N.gguf\n"
            "                                (without: one merged output)\n"
            "      --override-kv K=T:V       set metadata K (T: int, float, bool, str)\n"
            "      --lora FILE[:SCALE]       merge this LoRA adapter GGUF (hf2gguf --lora) into\n"
            "                                INPUT first, as llama-export-lora does; repeatable\n"
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

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* --prune-layers L1,L2,...: decimal block ids (parse_layer_prune), added
 * to o->prune, which stays sorted and unique. 0 with a message in err. */
static int parse_prune(const char *arg, options *o, char *err, size_t cap) {
    const char *p = arg;
    do {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        long v = 0;
        size_t i = 0;
        while (i < len && p[i] >= '0' && p[i] <= '9' && v <= INT32_MAX)
            v = v * 10 + (p[i++] - '0');
        if (len == 0 || i < len || v > INT32_MAX) {
            snprintf(err, cap, "--prune-layers: invalid layer id '%.*s' (want L1,L2,... >= 0)",
                     (int)len, p);
            return 0;
        }
        if (o->n_prune >= RQ_MAX_LIST) {
            snprintf(err, cap, "--prune-layers: more than %d layers", RQ_MAX_LIST);
            return 0;
        }
        o->prune[o->n_prune++] = (int)v;
        p = end ? end + 1 : NULL;
    } while (p);
    qsort(o->prune, o->n_prune, sizeof o->prune[0], cmp_int);
    size_t k = 0;
    for (size_t i = 0; i < o->n_prune; i++)
        if (k == 0 || o->prune[k - 1] != o->prune[i])
            o->prune[k++] = o->prune[i];
    o->n_prune = k;
    return 1;
}

/* llama-quantize's default output name (tools/quantize/quantize.cpp at
 * ec562eb): INPUT's directory + "ggml-model-" + the preset's name as its
 * table spells it (a numeric id names the table's first row with that
 * ftype, an alias included), ".gguf" only without --keep-split. 0 when
 * the name does not fit buf. */
static int default_output(const options *o, char *buf, size_t cap) {
    const fmt_mix_preset *p = fmt_mix_preset_find(o->type);
    for (size_t i = 0;
         p && o->type[strspn(o->type, "0123456789")] == '\0' && i < fmt_mix_preset_count(); i++)
        if (fmt_mix_preset_at(i)->ftype == p->ftype && !fmt_mix_preset_at(i)->only_copy) {
            p = fmt_mix_preset_at(i);
            break;
        }
    const char *slash = strrchr(o->input, '/');
    int dir = slash ? (int)(slash - o->input + 1) : 0;
    int n = snprintf(buf, cap, "%.*sggml-model-%s%s", dir, o->input, p ? p->name : o->type,
                     o->keep_split ? "" : ".gguf");
    return n > 0 && (size_t)n < cap;
}

/* Operands as llama-quantize takes them: INPUT [OUTPUT] TYPE [NTHREADS]
 * (OUTPUT is left out when the second operand is a preset), or INPUT
 * [OUTPUT] with -t. Returns -1 to continue, else the exit code. */
static int check_operands(int nops, char **ops, options *o) {
    static char out_name[4096];
    if (nops < 1)
        return fmt_cli_usage_error("missing INPUT");
    o->input = ops[0];
    int i = 1;
    if (!o->type) {
        if (nops < 2)
            return fmt_cli_usage_error("missing operands: INPUT OUTPUT TYPE");
        if (!fmt_mix_preset_find(ops[1])) { /* INPUT OUTPUT TYPE */
            if (nops < 3)
                return fmt_cli_usage_error("unknown type '%s' (requant --list shows the presets)",
                                           ops[1]);
            if (o->output)
                return fmt_cli_usage_error("OUTPUT given twice (operand and -o)");
            o->output = ops[i++];
        }
        o->type = ops[i++];
    } else if (nops >= 2) {
        if (o->output)
            return fmt_cli_usage_error("OUTPUT given twice (operand and -o)");
        o->output = ops[i++];
    }
    if (i < nops && fmt_parse_jobs(ops[i++], &o->jobs) != GK_OK)
        return fmt_cli_usage_error("invalid thread count '%s' (a number; 0 = all cores)",
                                   ops[i - 1]);
    if (i < nops)
        return fmt_cli_usage_error("too many operands");
    if (!o->output && !o->dry_run) {
        if (!default_output(o, out_name, sizeof out_name))
            return fmt_cli_usage_error("INPUT name too long for the default output name");
        o->output = out_name;
    }
    if (o->n_lora && o->keep_split)
        return fmt_cli_usage_error("--lora cannot be combined with --keep-split");
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
static int parse_args(int argc, char **argv, options *o, int *list) {
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
        {"tensor-type-file", required_argument, 0, OPT_TENSOR_TYPE_FILE},
        {"prune-layers", required_argument, 0, OPT_PRUNE_LAYERS},
        {"pure", no_argument, 0, OPT_PURE},
        {"leave-output-tensor", no_argument, 0, OPT_LEAVE_OUTPUT},
        {"allow-requantize", no_argument, 0, OPT_ALLOW_REQ},
        {"override-kv", required_argument, 0, OPT_OVERRIDE_KV},
        {"lora", required_argument, 0, OPT_LORA},
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
        case OPT_LIST: *list = 1; break;
        case OPT_DRY_RUN: o->dry_run = 1; break;
        case OPT_IMATRIX: o->imatrix = optarg; break;
        case OPT_INCLUDE:
        case OPT_EXCLUDE:
            if (o->n_include >= RQ_MAX_LIST || o->n_exclude >= RQ_MAX_LIST)
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
        case OPT_TENSOR_TYPE_FILE:
            if (o->n_tensor_type >= RQ_MAX_LIST)
                return fmt_cli_usage_error("too many --tensor-type/--tensor-type-file");
            o->tensor_type_is_file[o->n_tensor_type] = c == OPT_TENSOR_TYPE_FILE;
            o->tensor_type[o->n_tensor_type++] = optarg;
            break;
        case OPT_PRUNE_LAYERS:
            if (!parse_prune(optarg, o, err, sizeof err))
                return fmt_cli_usage_error("%s", err);
            break;
        case OPT_PURE: o->pure = 1; break;
        case OPT_LEAVE_OUTPUT: o->leave_output = 1; break;
        case OPT_ALLOW_REQ: o->allow_requantize = 1; break;
        case OPT_LORA:
            if (o->n_lora >= RQ_MAX_LIST)
                return fmt_cli_usage_error("too many --lora");
            o->lora[o->n_lora++] = optarg;
            break;
        case OPT_OVERRIDE_KV:
            if (o->n_kv >= RQ_MAX_LIST)
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
    if (*list)
        return -1;
    return check_operands(argc - optind, argv + optind, o);
}

static int run(int argc, char **argv) {
    kern_init();
    fmt_set_progname("requant");
    options o;
    memset(&o, 0, sizeof o);
    o.output_type = o.token_embd_type = -1;
    int list = 0;
    int rc = parse_args(argc, argv, &o, &list);
    if (rc >= 0)
        return rc;
    if (list) {
        rq_report_list();
        return 0;
    }
    return rq_request_run(&o);
}

/* Text on stdout (help, lists, plans, JSON) that could not all be written
 * is a failure, not a success. */
int main(int argc, char **argv) {
    return fmt_stdout_finish(run(argc, argv));
}
