/*
 * ggufkit.h -- the one header every module shares: status codes, the error
 * record, version and the mapping from status to process exit code.
 */
#ifndef GGUFKIT_H
#define GGUFKIT_H

#include <stddef.h>

#define GK_VERSION "0.1.0"

/* Result of every function that can fail. Details live in the object that
 * failed (fmt_errmsg() and friends); the code says what kind of failure. */
typedef enum {
    GK_OK = 0,
    GK_E_IO,          /* read/write/open failed (errno-level problem) */
    GK_E_FORMAT,      /* input is malformed */
    GK_E_UNSUPPORTED, /* input is valid but uses something we do not handle */
    GK_E_NOMEM,       /* allocation failed or would exceed a limit */
    GK_E_EXISTS,      /* output exists and overwriting was not allowed */
    GK_E_USAGE,       /* caller/user asked for something impossible */
    GK_E_CHECK,       /* a verification failed (hash mismatch, error too large) */
    GK_E_INTERRUPTED, /* SIGINT/SIGTERM arrived */
    GK_E_PIPE,        /* downstream reader went away (EPIPE) */
} gk_status;

/* Short lowercase name of a status ("io error", "bad format", ...). Never NULL. */
const char *gk_status_str(gk_status st);

/* Exit code for a status, per the CLI contract: 0 ok, 1 check failed,
 * 2 usage/bad input/I/O, 130 interrupted. */
int gk_exit_code(gk_status st);

/* The error record the engines fill at their boundary (hf2gguf's
 * cv_convert, requant's rq_plan_split/rq_run_split, gguf2onnx's
 * ox_convert, gguf-inspect's model open, gguf-verify's commands) where the
 * error happens, and the mains print once as "prog: FILE: message". */
typedef struct {
    gk_status status;
    char file[1024]; /* the file at fault, "" when no file is */
    char msg[1024];  /* what is wrong, "" when the status says it all */
} gk_error;

/* Fill e (status, file NULL for none, printf-style message; fmt NULL for
 * none) and return st, so that "return gk_error_set(e, ...)" reads well. */
gk_status gk_error_set(gk_error *e, gk_status st, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* printf into a caller's message buffer buf[cap] (the err/errcap pairs
 * of the format readers); nothing when buf is NULL or cap is 0. */
void gk_msgf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reset e to GK_OK, no file, no message. */
void gk_error_clear(gk_error *e);

/* The message, or the status name when there is none. Never NULL. */
const char *gk_error_message(const gk_error *e);

#endif
