/*
 * run.h -- one requant run as the program asks for it: the preset, the
 * mixture rules and the imatrix prepared, the input (a file, stdin or any
 * shard of a split set) opened and planned, the outputs opened, quantized,
 * committed, and the reports written. Messages go to stderr through
 * formats/cli, as "requant: FILE: what is wrong".
 */
#ifndef CONVERTERS_REQUANT_RUN_H
#define CONVERTERS_REQUANT_RUN_H

#include <stddef.h>

#include "converters/requant/quantize.h"

#define RQ_MAX_LIST 256

/* The options of a run, as requant's command line gives them. */
typedef struct {
    const char *input, *output, *type;
    int force, jobs, dry_run, json, progress, no_metrics;
    int zstd_level;
    const char *imatrix;
    const char *include[RQ_MAX_LIST], *exclude[RQ_MAX_LIST];
    size_t n_include, n_exclude;
    /* --tensor-type REGEX=T and --tensor-type-file FILE, in command-line
     * order (the first match wins); is_file marks the files */
    const char *tensor_type[RQ_MAX_LIST];
    unsigned char tensor_type_is_file[RQ_MAX_LIST];
    size_t n_tensor_type;
    int prune[RQ_MAX_LIST]; /* --prune-layers, sorted, unique */
    size_t n_prune;
    const char *lora[RQ_MAX_LIST]; /* --lora FILE[:SCALE], in order */
    size_t n_lora;
    rq_kv_override kv[RQ_MAX_LIST];
    size_t n_kv;
    int output_type, token_embd_type;
    int pure, leave_output, allow_requantize, keep_split;
    const char *report;
    const char *html;
    double max_rel_error;
} rq_request;

/* Do the run; the exit code (0 ok, 1 --max-rel-error exceeded, 2 usage,
 * bad input or I/O error). */
int rq_request_run(const rq_request *o);

#endif
