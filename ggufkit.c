/* ggufkit.c -- status names, the error record and exit codes shared by
 * every program. */
#include "ggufkit.h"

#include <stdarg.h>
#include <stdio.h>

const char *gk_status_str(gk_status st) {
    switch (st) {
    case GK_OK: return "ok";
    case GK_E_IO: return "I/O error";
    case GK_E_FORMAT: return "bad format";
    case GK_E_UNSUPPORTED: return "unsupported";
    case GK_E_NOMEM: return "out of memory";
    case GK_E_EXISTS: return "file exists";
    case GK_E_USAGE: return "usage error";
    case GK_E_CHECK: return "check failed";
    case GK_E_INTERRUPTED: return "interrupted";
    case GK_E_PIPE: return "broken pipe";
    }
    return "unknown error";
}

int gk_exit_code(gk_status st) {
    switch (st) {
    case GK_OK: return 0;
    case GK_E_CHECK: return 1;
    case GK_E_INTERRUPTED: return 130;
    default: return 2;
    }
}

gk_status gk_error_set(gk_error *e, gk_status st, const char *file, const char *fmt, ...) {
    e->status = st;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->msg[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

void gk_msgf(char *buf, size_t cap, const char *fmt, ...) {
    if (!buf || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

void gk_error_clear(gk_error *e) {
    e->status = GK_OK;
    e->file[0] = e->msg[0] = '\0';
}

const char *gk_error_message(const gk_error *e) {
    return e->msg[0] ? e->msg : gk_status_str(e->status);
}
