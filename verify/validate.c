/*
 * validate.c -- deep validation of a GGUF model's tensor data: every block
 * scale is a finite number (what ggml_validate_row_data checks before it
 * trusts a row: fp16 scales that are not Inf/NaN, MXFP4 E8M0 bytes that are
 * not 0xFF, see kern_find_bad_scale), and every row decodes to finite
 * values.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "verify/verify.h"
#include "formats/pool.h"
#include "verify/verify_internal.h"

/* Elements decoded at a time (rows are whole: at least one row). */
#define DECODE_ELEMS (1u << 18)

/* ------------------------------------------------------------------------ */
/* Tensors                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    fmt_gguf *g;
    fmt_input *in;
    char (*msg)[256];          /* per tensor: first problem, "" when fine */
    gk_status *st;             /* per tensor */
    _Atomic int64_t first_bad; /* lowest bad tensor so far: later ones can stop */
} val_ctx;

/* Check rows [r0, r0 + nrows) of tensor t whose bytes are at p; 1 when a
 * problem was written to msg. */
static int check_rows(const fmt_gguf_tensor *t, const uint8_t *p, int64_t r0, int64_t nrows,
                      float *f, char *msg, size_t cap) {
    const kern_type_traits *tr = kern_type_info(t->type);
    kern_to_float_fn deq = kern_dequant_fn(t->type);
    int64_t ne0 = t->ne[0];
    size_t rb = kern_row_bytes(t->type, ne0);
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *row = p + (size_t)r * rb;
        const char *which = "";
        int64_t b =
            tr->is_quantized ? kern_find_bad_scale(t->type, row, ne0 / tr->blck_size, &which) : -1;
        if (b >= 0) {
            snprintf(msg, cap, "row %lld block %lld: scale %s is %s", (long long)(r0 + r),
                     (long long)b, which, "not finite (Inf or NaN)");
            return 1;
        }
        deq(row, f, ne0);
        int64_t c = kern_find_nonfinite(f, ne0);
        if (c >= 0) {
            snprintf(msg, cap, "row %lld column %lld: value is %s", (long long)(r0 + r),
                     (long long)c, isnan(f[c]) ? "NaN" : "Inf");
            return 1;
        }
    }
    return 0;
}

static gk_status val_job(void *arg, uint64_t i, void *scratch) {
    (void)scratch;
    val_ctx *c = arg;
    if ((int64_t)i > atomic_load(&c->first_bad))
        return GK_OK;
    const fmt_gguf_tensor *t = fmt_gguf_tensor_at(c->g, i);
    int64_t ne0 = t->ne[0], rows = ne0 ? (int64_t)(t->n_elements / (uint64_t)ne0) : 0;
    size_t rb = kern_row_bytes(t->type, ne0);
    int64_t step = ne0 >= (int64_t)DECODE_ELEMS ? 1 : (int64_t)DECODE_ELEMS / (ne0 ? ne0 : 1);
    float *f = malloc((size_t)ne0 * sizeof *f + 1);
    uint8_t *buf = fmt_input_data(c->in) ? NULL : malloc((size_t)step * rb + 1);
    uint64_t base = fmt_gguf_data_offset(c->g) + t->offset;
    if (!f || (!buf && !fmt_input_data(c->in))) {
        c->st[i] = GK_E_NOMEM;
        snprintf(c->msg[i], sizeof c->msg[i], "out of memory");
        goto done;
    }
    for (int64_t r = 0; r < rows; r += step) {
        int64_t n = rows - r < step ? rows - r : step;
        gk_status st;
        const uint8_t *p =
            vfy_input_bytes(c->in, base + (uint64_t)r * rb, (size_t)n * rb, buf, &st);
        if (!p) {
            c->st[i] = st;
            snprintf(c->msg[i], sizeof c->msg[i], "%s", fmt_input_errmsg(c->in));
            break;
        }
        if (check_rows(t, p, r, n, f, c->msg[i], sizeof c->msg[i])) {
            c->st[i] = GK_E_CHECK;
            break;
        }
    }
done:
    if (c->st[i] != GK_OK) {
        int64_t cur = atomic_load(&c->first_bad);
        while ((int64_t)i < cur && !atomic_compare_exchange_weak(&c->first_bad, &cur, (int64_t)i))
            ;
    }
    free(f);
    free(buf);
    return GK_OK;
}

/* Forward-only input: tensors in offset order, rows read in chunks. */
static gk_status val_stream(fmt_gguf *g, fmt_input *in, int64_t *bad, char *msg, size_t cap) {
    uint64_t n = fmt_gguf_n_tensors(g), base = fmt_gguf_data_offset(g);
    gk_status st = GK_OK;
    for (uint64_t i = 0; i < n && st == GK_OK; i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
        int64_t ne0 = t->ne[0], rows = ne0 ? (int64_t)(t->n_elements / (uint64_t)ne0) : 0;
        size_t rb = kern_row_bytes(t->type, ne0);
        int64_t step = ne0 >= (int64_t)DECODE_ELEMS ? 1 : (int64_t)DECODE_ELEMS / (ne0 ? ne0 : 1);
        uint64_t at = base + t->offset, pos = fmt_input_tell(in);
        if (at < pos) {
            snprintf(msg, cap, "tensor data out of order in a stream");
            return GK_E_UNSUPPORTED;
        }
        char detail[256] = "";
        float *f = malloc((size_t)ne0 * sizeof *f + 1);
        uint8_t *buf = malloc((size_t)step * rb + 1);
        if (!f || !buf) {
            st = GK_E_NOMEM;
            snprintf(detail, sizeof detail, "out of memory");
        } else if ((st = fmt_input_skip(in, at - pos)) != GK_OK) {
            snprintf(detail, sizeof detail, "%s", fmt_input_errmsg(in));
        }
        for (int64_t r = 0; r < rows && st == GK_OK; r += step) {
            int64_t cnt = rows - r < step ? rows - r : step;
            if ((st = fmt_input_read_exact(in, buf, (size_t)cnt * rb)) != GK_OK)
                snprintf(detail, sizeof detail, "%s", fmt_input_errmsg(in));
            else if (check_rows(t, buf, r, cnt, f, detail, sizeof detail))
                st = GK_E_CHECK;
        }
        free(f);
        free(buf);
        if (st != GK_OK) {
            *bad = (int64_t)i;
            snprintf(msg, cap, "tensor '%.*s' %s", (int)t->name.len, t->name.ptr, detail);
        }
    }
    return st;
}

gk_status vfy_validate_gguf(fmt_gguf *g, fmt_input *in, int nthreads, int64_t *bad_tensor,
                            char *msg, size_t msgcap) {
    int64_t bad = -1;
    uint64_t n = fmt_gguf_n_tensors(g);
    gk_status st = GK_OK;
    msg[0] = '\0';
    /* every type must decode before any data is read */
    for (uint64_t i = 0; i < n; i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
        if (!kern_dequant_fn(t->type)) {
            snprintf(msg, msgcap, "tensor '%.*s': type %s cannot be decoded", (int)t->name.len,
                     t->name.ptr, kern_type_label(t->type));
            if (bad_tensor)
                *bad_tensor = (int64_t)i;
            return GK_E_UNSUPPORTED;
        }
    }
    if (fmt_input_size(in) == UINT64_MAX) {
        st = val_stream(g, in, &bad, msg, msgcap);
    } else {
        val_ctx c = {.g = g, .in = in};
        atomic_init(&c.first_bad, INT64_MAX);
        c.msg = calloc(n ? (size_t)n : 1, sizeof *c.msg);
        c.st = calloc(n ? (size_t)n : 1, sizeof *c.st);
        if (!c.msg || !c.st) {
            st = GK_E_NOMEM;
            snprintf(msg, msgcap, "out of memory");
        } else {
            fmt_pool_run(nthreads, n, val_job, &c);
            int64_t fb = atomic_load(&c.first_bad);
            if (fb != INT64_MAX) {
                const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, (uint64_t)fb);
                bad = fb;
                st = c.st[fb];
                snprintf(msg, msgcap, "tensor '%.*s' %s", (int)t->name.len, t->name.ptr, c.msg[fb]);
            }
        }
        free(c.msg);
        free(c.st);
    }
    if (bad_tensor)
        *bad_tensor = bad;
    return st;
}
