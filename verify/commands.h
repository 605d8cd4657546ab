/*
 * commands.h -- gguf-verify's commands (hash, check, validate, diff) over
 * the verify module: the engine the main calls once options are parsed.
 *
 * Unlike verify.h these print: results on stdout (manifest lines, "NAME:
 * OK"/"NAME: FAILED", the diff) and the check counts as xxhsum --check
 * does on stderr. A file that cannot be hashed, validated or compared
 * becomes a gk_error handed to the caller's report function, which prints
 * it; the command then goes on with the next file where there is one.
 */
#ifndef VERIFY_COMMANDS_H
#define VERIFY_COMMANDS_H

#include "ggufkit.h"

typedef struct {
    unsigned kinds;       /* hash: VFY_HASH_* bits */
    int no_layer, whole;  /* hash: only whole-model lines; SHA-256 of whole files */
    int quiet, status;    /* check: no OK lines; no output at all */
    int warn, strict;     /* check: name / fail on malformed lines */
    int ignore_missing;   /* check: skip missing files and tensors */
    int allow_outside;    /* check: names may leave the manifest's directory */
    int json, force;      /* --json (every command); diff: overwrite --html */
    const char *manifest; /* check: the manifest */
    const char *html;     /* diff: the report page, or NULL */
    double max_rel;       /* diff: --max-rel-error when has_max_rel */
    int has_max_rel;
    int per_expert;     /* diff: metrics per expert slice too */
    int jobs, progress; /* threads; progress mode (-1 auto) */
    char *const *args;  /* operands after the command (borrowed) */
    int n_args;
    void (*report)(const gk_error *e); /* prints an error (the main's) */
} vfy_cmd_opts;

/* Each returns the exit code: 0 ok, 1 a check failed, 2 an error (usage,
 * unreadable or bad input, I/O). */
int vfy_cmd_hash(const vfy_cmd_opts *o);
int vfy_cmd_check(const vfy_cmd_opts *o);
int vfy_cmd_validate(const vfy_cmd_opts *o);
int vfy_cmd_diff(const vfy_cmd_opts *o);

#endif
