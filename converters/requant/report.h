/*
 * report.h -- what requant prints about a job: the preset list, the
 * --dry-run plan (text or JSON), the summary after a run, the --report
 * JSON and the --html page.
 */
#ifndef CONVERTERS_REQUANT_REPORT_H
#define CONVERTERS_REQUANT_REPORT_H

#include <jansson.h>

#include "formats/mixture.h"
#include "converters/requant/quantize.h"
#include "ggufkit.h"

/* The presets with their bits per weight, ftype and description (stdout). */
void rq_report_list(void);

/* The --dry-run plan as a table, one row per tensor, then the totals
 * (stdout). */
void rq_report_plan(const rq_job *j);

/* The plan (with_metrics 0) or the error report (1) as a JSON document
 * owned by the caller; input/output as given (output may be NULL). */
json_t *rq_report_json(const rq_job *j, const fmt_mix_preset *p, const char *input,
                       const char *output, int with_metrics);

/* Write doc to path ("-" = stdout), indented; 0 ok, else -1. */
int rq_report_write_json(json_t *doc, const char *path);

/* Sizes and the ten worst tensors by relative error, at display level 2. */
void rq_report_summary(const rq_job *j);

typedef struct {
    const char *path;           /* the page to write (never "-") */
    const char *title;          /* page title */
    const char *input, *output; /* as given, shown on the page */
    int force;                  /* overwrite an existing page */
} rq_report_html_opts;

/* The error report as the page gguf-verify diff draws, written atomically
 * (never over the input). On failure fills e, the page being the file at
 * fault. */
gk_status rq_report_html(const rq_job *j, const rq_report_html_opts *o, gk_error *e);

#endif
