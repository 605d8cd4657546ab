/*
 * view.c -- strided views of stored tensors, and sets of kept and computed
 * records (see view.h).
 */
#include "view.h"

#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "io.h"

static int element_type(int type) {
    return type == KERN_TYPE_F32 || type == KERN_TYPE_F16 || type == KERN_TYPE_BF16 ||
           type == KERN_TYPE_F64;
}

gk_status fmt_view_of(fmt_view *v, const fmt_src_tensor *base) {
    memset(v, 0, sizeof *v);
    if (!base->data || !element_type(base->type) || base->n_dims > FMT_SRC_MAX_DIMS)
        return GK_E_UNSUPPORTED;
    v->base = base;
    v->n_dims = base->n_dims;
    int64_t s = 1;
    for (uint32_t k = base->n_dims; k-- > 0;) {
        v->shape[k] = base->shape[k];
        v->stride[k] = s;
        s *= base->shape[k];
    }
    return GK_OK;
}

gk_status fmt_view_split(fmt_view *v, uint32_t d, int64_t n) {
    if (d >= v->n_dims || v->n_dims >= FMT_SRC_MAX_DIMS || n <= 0 || v->shape[d] % n != 0)
        return GK_E_FORMAT;
    memmove(v->shape + d + 1, v->shape + d, (v->n_dims - d) * sizeof *v->shape);
    memmove(v->stride + d + 1, v->stride + d, (v->n_dims - d) * sizeof *v->stride);
    v->n_dims++;
    v->shape[d] = n;
    v->shape[d + 1] /= n;
    v->stride[d] = v->stride[d + 1] * v->shape[d + 1];
    return GK_OK;
}

gk_status fmt_view_slice(fmt_view *v, uint32_t d, int64_t start, int64_t len, int64_t step) {
    if (d >= v->n_dims || start < 0 || len < 0 || step <= 0 ||
        (len > 0 && (start >= v->shape[d] || (v->shape[d] - 1 - start) / step < len - 1)))
        return GK_E_FORMAT;
    v->offset += start * v->stride[d];
    v->shape[d] = len;
    v->stride[d] *= step;
    return GK_OK;
}

gk_status fmt_view_transpose(fmt_view *v, uint32_t a, uint32_t b) {
    if (a >= v->n_dims || b >= v->n_dims)
        return GK_E_FORMAT;
    int64_t t = v->shape[a];
    v->shape[a] = v->shape[b];
    v->shape[b] = t;
    t = v->stride[a];
    v->stride[a] = v->stride[b];
    v->stride[b] = t;
    return GK_OK;
}

/* Element offset of the first element of row r. */
static int64_t row_offset(const fmt_view *v, int64_t r) {
    int64_t off = v->offset;
    for (uint32_t k = v->n_dims ? v->n_dims - 1 : 0; k-- > 0;) {
        off += (r % v->shape[k]) * v->stride[k];
        r /= v->shape[k];
    }
    return off;
}

/* fmt_src_read_fn of a view: row r is the index of the leading dimensions
 * in row-major order; the row runs along the last one. */
static gk_status view_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const fmt_view *v = t->ctx;
    const fmt_src_tensor *b = v->base;
    size_t es = kern_row_bytes(b->type, 1);
    uint32_t last = v->n_dims ? v->n_dims - 1 : 0;
    int64_t len = v->n_dims ? v->shape[last] : 1, step = v->n_dims ? v->stride[last] : 1;
    for (int64_t r = r0; r < r0 + n; r++, dst += len) {
        const uint8_t *p = b->data + (size_t)row_offset(v, r) * es;
        if (step == 1) {
            if (kern_row_to_f32(b->type, p, dst, len) != 0)
                return GK_E_UNSUPPORTED;
            continue;
        }
        for (int64_t i = 0; i < len; i++, p += (size_t)step * es)
            if (kern_row_to_f32(b->type, p, dst + i, 1) != 0)
                return GK_E_UNSUPPORTED;
    }
    return GK_OK;
}

/* fmt_src_release_fn of a view: the span of the base the rows read. */
static void view_release(const fmt_src_tensor *t, int64_t r0, int64_t r1) {
    const fmt_view *v = t->ctx;
    if (r1 <= r0 || v->n_dims == 0)
        return;
    uint32_t last = v->n_dims - 1;
    int64_t run = (v->shape[last] - 1) * v->stride[last], lo = INT64_MAX, hi = -1;
    for (int64_t r = r0; r < r1; r++) {
        int64_t a = row_offset(v, r), b = a + run;
        lo = a < lo ? a : lo;
        lo = b < lo ? b : lo;
        hi = a > hi ? a : hi;
        hi = b > hi ? b : hi;
    }
    size_t es = kern_row_bytes(v->base->type, 1);
    fmt_release_pages(v->base->data + (size_t)lo * es, (size_t)(hi - lo + 1) * es);
}

/* ------------------------------------------------------------------------ */
/* Sets                                                                       */
/* ------------------------------------------------------------------------ */

struct fmt_xset {
    fmt_src_tensor *t;
    size_t n, cap;
    char **names;
    void **ctx;
    size_t n_owned, cap_owned;
    fmt_src *src;
};

fmt_xset *fmt_xset_new(void) {
    return calloc(1, sizeof(fmt_xset));
}

static gk_status push_record(fmt_xset *x, const fmt_src_tensor *t) {
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        fmt_src_tensor *nt = realloc(x->t, cap * sizeof *nt);
        if (!nt)
            return GK_E_NOMEM;
        x->t = nt;
        x->cap = cap;
    }
    x->t[x->n++] = *t;
    return GK_OK;
}

/* Take ownership of name (a copy of it) and ctx; *copy is the copy. */
static gk_status own(fmt_xset *x, const char *name, void *ctx, const char **copy) {
    if (x->n_owned == x->cap_owned) {
        size_t cap = x->cap_owned ? 2 * x->cap_owned : 16;
        char **nn = realloc(x->names, cap * sizeof *nn);
        if (nn)
            x->names = nn;
        void **nc = nn ? realloc(x->ctx, cap * sizeof *nc) : NULL;
        if (!nc) {
            free(ctx);
            return GK_E_NOMEM;
        }
        x->ctx = nc;
        x->cap_owned = cap;
    }
    char *s = strdup(name);
    if (!s) {
        free(ctx);
        return GK_E_NOMEM;
    }
    x->names[x->n_owned] = s;
    x->ctx[x->n_owned++] = ctx;
    *copy = s;
    return GK_OK;
}

gk_status fmt_xset_keep(fmt_xset *x, const fmt_src_tensor *t) {
    return x->src ? GK_E_USAGE : push_record(x, t);
}

gk_status fmt_xset_add(fmt_xset *x, const fmt_src_tensor *rec, const char *name, void *ctx) {
    const char *copy;
    gk_status st = x->src ? GK_E_USAGE : own(x, name, ctx, &copy);
    if (st != GK_OK)
        return st;
    fmt_src_tensor r = *rec;
    r.name = copy;
    r.ctx = ctx;
    return push_record(x, &r);
}

gk_status fmt_xset_add_view(fmt_xset *x, const char *name, const fmt_view *v) {
    fmt_view *c = malloc(sizeof *c);
    if (!c)
        return GK_E_NOMEM;
    *c = *v;
    fmt_src_tensor r = {.type = v->base->type,
                        .dtype = v->base->dtype,
                        .n_dims = v->n_dims,
                        .n_elements = 1,
                        .file = v->base->file,
                        .read = view_read,
                        .release = view_release};
    for (uint32_t k = 0; k < v->n_dims; k++) {
        r.shape[k] = v->shape[k];
        r.n_elements *= (uint64_t)v->shape[k];
    }
    return fmt_xset_add(x, &r, name, c);
}

fmt_src *fmt_xset_source(fmt_xset *x, gk_status *st) {
    if (!x->src)
        x->src = fmt_src_create(x->t, x->n, st);
    else
        *st = GK_OK;
    return x->src;
}

void fmt_xset_free(fmt_xset *x) {
    if (!x)
        return;
    fmt_src_close(x->src);
    for (size_t i = 0; i < x->n_owned; i++) {
        free(x->names[i]);
        free(x->ctx[i]);
    }
    free(x->names);
    free(x->ctx);
    free(x->t);
    free(x);
}
