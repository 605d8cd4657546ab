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

/* Open the input (every shard of a split set) and plan the job. 0, else
 * the exit code after the message. */
static int plan(const rq_request *o, run *r, rq_opts *ro) {
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
    ro->prune = o->prune;
    ro->n_prune = o->n_prune;
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
static int open_outputs(const rq_request *o, run *r) {
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
static int execute(const rq_request *o, run *r) {
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

int rq_request_run(const rq_request *o) {
    run r;
    rq_opts ro;
    memset(&r, 0, sizeof r);
    int rc;
    if (!(rc = prepare(o, &r)) && !(rc = plan(o, &r, &ro))) {
        if (o->dry_run && o->json) {
            json_t *doc = rq_report_json(r.job, r.p, o->input, o->output, 0);
            rq_report_write_json(doc, "-");
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
