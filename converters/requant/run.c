/*
 * run.c -- one requant run (see run.h).
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/mixture.h"
#include "converters/requant/lora.h"
#include "converters/requant/quantize.h"
#include "converters/requant/report.h"
#include "converters/requant/run.h"
#include "formats/cli.h"
#include "formats/imatrix.h"
#include "formats/io.h"
#include "formats/split.h"
#include "kernels/kernels.h"

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

/* Make every shard read from a stream (stdin, a pipe, zstd data)
 * random-access: a real run reads tensors in llama-quantize's order, not
 * the file's, so the stream is spilled to an unlinked temp file in $TMPDIR
 * (formats/io.h) before the plan takes the tensors' mapped bytes. Memory
 * stays bounded as for a file: finished tensors' pages are released. */
static gk_status shards_seekable(const shards *sh, char *err, size_t cap) {
    fmt_input *const *in = fmt_split_inputs(sh->set);
    for (size_t i = 0; i < sh->n; i++) {
        if (fmt_input_size(in[i]) != UINT64_MAX) /* a plain file: pread serves */
            continue;
        gk_status st = fmt_input_make_seekable(in[i]);
        if (st != GK_OK) {
            snprintf(err, cap, "%s", fmt_input_errmsg(in[i]));
            return st;
        }
    }
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
    const fmt_mix_preset *p;
    fmt_mix_rules *rules;
    imx *im;
    shards sh;
    rq_job *job;
    size_t n_out;      /* model files */
    size_t n_files;    /* model files, then the --report and --html files */
    fmt_output **outs; /* n_files of them, committed together */
    char **out_paths;
    fmt_output *report_out, *html_out; /* in outs; NULL when not asked (or stdout) */
    const char **inputs;
    rq_lora *lora;       /* --lora: the merged model requant reads */
    rq_lora_spec *specs; /* the --lora arguments, parsed */
    char (*lora_path)[RQ_LORA_PATH];
    int direct; /* --lora and TYPE keeps every type: write export-lora's file */
} run;

/* Print the error "requant: FILE: msg" (msg "" = the status name); the
 * exit code. */
static int fail(gk_status st, const char *file, const char *msg) {
    gk_error e;
    gk_error_set(&e, st, file, "%s", msg);
    return fmt_cli_report(&e);
}

static void run_free(run *r) {
    for (size_t i = 0; i < r->n_files; i++) {
        if (r->outs)
            fmt_output_close(r->outs[i]);
        if (r->out_paths)
            free(r->out_paths[i]);
    }
    free(r->outs);
    free(r->out_paths);
    free(r->inputs);
    rq_free(r->job);
    rq_lora_free(r->lora);
    free(r->specs);
    free(r->lora_path);
    shards_close(&r->sh);
    imx_free(r->im);
    fmt_mix_rules_free(r->rules);
}

/* --tensor-type-file: REGEX=TYPE entries separated by white space (as
 * llama-quantize reads them with operator>>). 0, else the exit code after
 * the message. */
static int add_tensor_type_file(fmt_mix_rules *rules, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fmt_error(path, "cannot open the --tensor-type-file: %s", strerror(errno));
        return 2;
    }
    char tok[4096], err[1024];
    size_t len = 0;
    int c, rc = 0;
    do {
        c = getc(f);
        if (c != EOF && !isspace(c)) {
            if (len + 1 >= sizeof tok) {
                fmt_error(path, "--tensor-type-file: entry longer than %zu bytes", sizeof tok - 1);
                rc = 2;
                break;
            }
            tok[len++] = (char)c;
            continue;
        }
        tok[len] = 0;
        if (len && fmt_mix_rules_add(rules, tok, err, sizeof err) != GK_OK) {
            fmt_error(path, "%s", err);
            rc = 2;
            break;
        }
        len = 0;
    } while (c != EOF);
    if (!rc && ferror(f)) {
        fmt_error(path, "cannot read the --tensor-type-file: %s", strerror(errno));
        rc = 2;
    }
    fclose(f);
    return rc;
}

/* The preset, the --tensor-type rules and the imatrix. 0, else the exit
 * code after the message. */
static int prepare(const rq_request *o, run *r) {
    char err[1024] = "";
    gk_status st;
    if (!(r->p = fmt_mix_preset_find(o->type))) {
        fmt_error(NULL, "unknown type '%s' (requant --list shows the presets)", o->type);
        return 2;
    }
    const kern_type_traits *dt = kern_type_info(r->p->default_type);
    if (!dt || !dt->quantize_ref) {
        fmt_error(NULL, "type %s is not available in this build", r->p->name);
        return 2;
    }
    if (!(r->rules = fmt_mix_rules_create()))
        return 2;
    for (size_t i = 0; i < o->n_tensor_type; i++) {
        int rc;
        if (o->tensor_type_is_file[i]) {
            if ((rc = add_tensor_type_file(r->rules, o->tensor_type[i])) != 0)
                return rc;
        } else if (fmt_mix_rules_add(r->rules, o->tensor_type[i], err, sizeof err) != GK_OK) {
            return fmt_cli_usage_error("%s", err);
        }
    }
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

/* --lora: the adapters merged over the input. 0, else the exit code after
 * the message. */
static int open_lora(const rq_request *o, run *r) {
    char err[1024] = "";
    gk_error e;
    if (r->sh.n > 1)
        return fail(GK_E_UNSUPPORTED, o->input,
                    "a split model cannot take --lora (as llama-export-lora); merge the shards "
                    "first (gguf-edit merge)");
    r->specs = calloc(o->n_lora, sizeof *r->specs);
    r->lora_path = calloc(o->n_lora, sizeof *r->lora_path);
    if (!r->specs || !r->lora_path)
        return fail(GK_E_NOMEM, NULL, "");
    for (size_t i = 0; i < o->n_lora; i++) {
        if (rq_lora_parse(o->lora[i], r->lora_path[i], sizeof r->lora_path[i], &r->specs[i].scale,
                          err, sizeof err) != GK_OK)
            return fmt_cli_usage_error("%s", err);
        r->specs[i].path = r->lora_path[i];
    }
    if (!(r->lora = rq_lora_open(r->sh.g[0], o->input, r->specs, o->n_lora, o->jobs, &e)))
        return fmt_cli_report(&e);
    return 0;
}

/* With --lora, requant writes export-lora's own file when llama-quantize
 * TYPE would change nothing in it but its metadata: no tensor changes
 * type, no KV override, no pruned layer. */
static int lora_direct(const rq_request *o, const rq_job *j) {
    if (o->n_kv || o->n_prune)
        return 0;
    for (size_t i = 0; i < rq_n_tensors(j); i++)
        if (rq_tensor_at(j, i)->new_type != rq_tensor_at(j, i)->old_type)
            return 0;
    return 1;
}

/* Open the input (every shard of a split set) and plan the job. 0, else
 * the exit code after the message. */
static int plan(const rq_request *o, run *r, rq_opts *ro) {
    char err[1024] = "";
    gk_error e;
    gk_status st = shards_open(o->input, &r->sh, err, sizeof err);
    if (st != GK_OK)
        return fail(st, NULL, err); /* the message names the shard at fault */
    if (!o->dry_run && (st = shards_seekable(&r->sh, err, sizeof err)) != GK_OK)
        return fail(st, o->input, err);
    int rc;
    if (o->n_lora && (rc = open_lora(o, r)) != 0)
        return rc;
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
    ro->prune = o->prune;
    ro->n_prune = o->n_prune;
    fmt_gguf *merged = r->lora ? rq_lora_header(r->lora) : NULL;
    if (r->lora) {
        ro->read_tensor = rq_lora_read;
        ro->read_ctx = r->lora;
    }
    if (!(r->job =
              rq_plan_split(r->lora ? &merged : r->sh.g, r->lora ? 1 : r->sh.n, ro, o->input, &e)))
        return fmt_cli_report(&e);
    if (r->lora) {
        r->direct = lora_direct(o, r->job);
        fmt_log(3, "--lora: %zu tensors merged from %zu adapters%s", rq_lora_n_merged(r->lora),
                o->n_lora, r->direct ? ", written as llama-export-lora writes them" : "");
    }
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

/* Open output file i as path: a model file, or a side file (--report,
 * --html), which obeys -f and the inputs as the model does. 0, else the
 * exit code after the message. */
static int open_one(run *r, size_t i, const char *path, const fmt_output_opts *oo) {
    char err[1024] = "";
    gk_status st;
    r->n_files = i + 1;
    if (!(r->out_paths[i] = strdup(path)))
        return fail(GK_E_NOMEM, NULL, "");
    if (!(r->outs[i] = fmt_output_open(path, oo, &st, err, sizeof err)))
        return fail(st, path, err);
    return 0;
}

/* The output files, model files first, then the side files: all opened
 * before the work (an existing file without -f, or an input, is refused
 * now), none of them one of the inputs (the shards, stdin's file, the
 * imatrix). 0, else the exit code after the message. */
static int open_outputs(const rq_request *o, run *r) {
    int rc;
    r->n_out = rq_n_outputs(r->job);
    size_t cap = r->n_out + 2;
    r->inputs = calloc(r->sh.n + 2 + o->n_lora, sizeof *r->inputs);
    r->outs = calloc(cap, sizeof *r->outs);
    r->out_paths = calloc(cap, sizeof *r->out_paths);
    if (!r->inputs || !r->outs || !r->out_paths)
        return fail(GK_E_NOMEM, NULL, "");
    for (size_t i = 0; i < r->sh.n; i++)
        r->inputs[i] = r->sh.paths[i]; /* "-": stdin's file, if it is one */
    for (size_t i = 0; i < o->n_lora; i++)
        r->inputs[r->sh.n + i] = r->specs[i].path;
    r->inputs[r->sh.n + o->n_lora] = o->imatrix; /* NULL ends the list */
    if (o->keep_split && fmt_is_stdio(o->output))
        return fmt_cli_usage_error("--keep-split cannot write to stdout");
    fmt_output_opts oo = {o->force, o->zstd_level, o->zstd_level ? fmt_online_cpus() : 0,
                          r->inputs};
    for (size_t i = 0; i < r->n_out; i++) {
        char *path = output_path(o->output, o->keep_split, i, r->n_out);
        if (!path)
            return fail(GK_E_NOMEM, NULL, "");
        rc = open_one(r, i, path, &oo);
        free(path);
        if (rc)
            return rc;
    }
    fmt_output_opts side = {.force = o->force, .inputs = r->inputs};
    if (o->report && !fmt_is_stdio(o->report)) {
        if ((rc = open_one(r, r->n_files, o->report, &side)) != 0)
            return rc;
        r->report_out = r->outs[r->n_files - 1];
    }
    if (o->html) {
        if ((rc = open_one(r, r->n_files, o->html, &side)) != 0)
            return rc;
        r->html_out = r->outs[r->n_files - 1];
    }
    return 0;
}

/* The side files' contents, after the run. 0, else the exit code after
 * the message. */
static int write_side_files(const rq_request *o, run *r) {
    char err[1024] = "";
    gk_status st = GK_OK;
    const char *path = o->report;
    if (o->report && r->report_out) {
        json_t *doc = rq_report_json(r->job, r->p, o->input, o->output, 1);
        st = doc ? rq_report_write_json(doc, r->report_out, err, sizeof err) : GK_E_NOMEM;
        json_decref(doc);
    }
    if (st == GK_OK && o->html) {
        char title[512];
        snprintf(title, sizeof title, "requant %s: %s", r->p->name, o->input);
        rq_report_html_opts ho = {title, o->input, o->output};
        path = o->html;
        st = rq_report_html(r->job, &ho, r->html_out, err, sizeof err);
    }
    return st == GK_OK ? 0 : fail(st, path, err);
}

/* Commit the model files and the side files together: all or none. 0,
 * else the exit code after the message naming the file that failed. */
static int commit_outputs(run *r) {
    gk_status st = fmt_output_commit_all(r->outs, r->n_files);
    if (st == GK_OK)
        return 0;
    for (size_t i = 0; i < r->n_files; i++)
        if (fmt_output_errmsg(r->outs[i])[0])
            return fail(st, r->out_paths[i], fmt_output_errmsg(r->outs[i]));
    return fail(st, NULL, "");
}

/* Quantize into the outputs, write the side files, commit everything,
 * then the summary and a --report on stdout. The exit code. */
static int execute(const rq_request *o, run *r) {
    gk_error e;
    fmt_progress *prog = fmt_progress_start("requant", rq_bytes_in(r->job), o->progress);
    gk_status st;
    if (r->direct) {
        char err[1024] = "";
        st = rq_lora_write(r->lora, r->outs[0], prog, err, sizeof err);
        fmt_progress_end(prog);
        if (st != GK_OK)
            return fmt_output_errmsg(r->outs[0])[0]
                       ? fail(st, r->out_paths[0], fmt_output_errmsg(r->outs[0]))
                       : fail(st, o->input, err);
    } else {
        st = rq_run_split(r->job, r->outs, (const char *const *)r->out_paths,
                          (const char *const *)r->sh.paths, prog, &e);
        fmt_progress_end(prog);
    }
    if (st == GK_E_CHECK) {
        fmt_error(o->output, "%s; no output written", e.msg);
        return 1;
    }
    if (st != GK_OK)
        return fmt_cli_report(&e);
    int rc = write_side_files(o, r);
    if (rc || (rc = commit_outputs(r)) != 0)
        return rc;
    rq_report_summary(r->job);
    if (o->report && !r->report_out) {
        char err[256] = "";
        json_t *doc = rq_report_json(r->job, r->p, o->input, o->output, 1);
        st = doc ? rq_report_write_json(doc, NULL, err, sizeof err) : GK_E_NOMEM;
        json_decref(doc);
        if (st != GK_OK)
            return fail(st, "-", err);
    }
    return 0;
}

int rq_request_run(const rq_request *o) {
    run r;
    rq_opts ro;
    memset(&r, 0, sizeof r);
    int rc;
    if (!(rc = prepare(o, &r)) && !(rc = plan(o, &r, &ro))) {
        if (o->dry_run && o->json) {
            char err[256] = "";
            json_t *doc = rq_report_json(r.job, r.p, o->input, o->output, 0);
            if ((doc ? rq_report_write_json(doc, NULL, err, sizeof err) : GK_E_NOMEM) != GK_OK)
                rc = fail(GK_E_IO, "-", err);
            json_decref(doc);
        } else if (o->dry_run) {
            rq_report_plan(r.job);
        } else if (!(rc = open_outputs(o, &r))) {
            rc = execute(o, &r);
        }
    }
    run_free(&r);
    return rc;
}
