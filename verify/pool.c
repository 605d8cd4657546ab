/*
 * pool.c -- the byte access the verify files share.
 */
#include "verify/verify_internal.h"

/* ------------------------------------------------------------------------ */
/* Bytes at an offset                                                         */
/* ------------------------------------------------------------------------ */

const uint8_t *vfy_input_bytes(fmt_input *in, uint64_t off, size_t n, uint8_t *buf, gk_status *st) {
    const uint8_t *map = fmt_input_data(in);
    uint64_t size = fmt_input_size(in);
    if (map && off <= size && n <= size - off) {
        *st = GK_OK;
        return map + off;
    }
    *st = fmt_input_pread(in, buf, n, off);
    return *st == GK_OK ? buf : NULL;
}
