/*
 * ggufkit.h -- the one header every module shares: status codes, version and
 * the mapping from status to process exit code.
 */
#ifndef GGUFKIT_H
#define GGUFKIT_H

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

#endif
