/* ggufkit.c -- status names and exit codes shared by every program. */
#include "ggufkit.h"

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
