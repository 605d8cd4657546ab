/*
 * view.c -- strided views of stored tensors, and sets of kept and computed
 * records (see view.h).
 */
#include "view.h"

#include <pthread.h>
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
    if ((base->data && !element_type(base->type)) || base->n_dims > FMT_SRC_MAX_DIMS)
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

/* A view record's ctx: the view, and a computed base read whole. */
typedef struct {
    fmt_view v;
    pthread_mutex_t mu;
    float *whole; /* computed base as f32, or NULL */
    gk_status st; /* of reading it */
} view_ctx;

static void view_ctx_free(void *p) {
    view_ctx *c = p;
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->whole);
    free(c);
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

/* The elements of the base and their type: the mapped bytes, or the
 * computed base read whole once. */
static gk_status base_elements(view_ctx *c, const uint8_t **p, int *type) {
    const fmt_src_tensor *b = c->v.base;
    if (b->data) {
        *p = b->data;
        *type = b->type;
        return GK_OK;
    }
    pthread_mutex_lock(&c->mu);
    if (!c->whole && c->st == GK_OK) {
        int64_t len = fmt_src_row_len(b), rows = len ? (int64_t)(b->n_elements / (uint64_t)len) : 0;
        if (!(c->whole = malloc((size_t)(b->n_elements ? b->n_elements : 1) * sizeof(float))))
            c->st = GK_E_NOMEM;
        else if ((c->st = fmt_src_read_rows(b, 0, rows, c->whole)) != GK_OK) {
            free(c->whole);
            c->whole = NULL;
        }
    }
    gk_status st = c->st;
    pthread_mutex_unlock(&c->mu);
    *p = (const uint8_t *)c->whole;
    *type = KERN_TYPE_F32;
    return st;
}

/* fmt_src_read_fn of a view: row r is the index of the leading dimensions
 * in row-major order; the row runs along the last one. */
static gk_status view_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    view_ctx *c = t->ctx;
    const fmt_view *v = &c->v;
    const uint8_t *data;
    int type;
    gk_status st = base_elements(c, &data, &type);
    if (st != GK_OK)
        return st;
    size_t es = kern_row_bytes(type, 1);
    uint32_t last = v->n_dims ? v->n_dims - 1 : 0;
    int64_t len = v->n_dims ? v->shape[last] : 1, step = v->n_dims ? v->stride[last] : 1;
    for (int64_t r = r0; r < r0 + n; r++, dst += len) {
        const uint8_t *p = data + (size_t)row_offset(v, r) * es;
        if (step == 1) {
            if (kern_row_to_f32(type, p, dst, len) != 0)
                return GK_E_UNSUPPORTED;
            continue;
        }
        for (int64_t i = 0; i < len; i++, p += (size_t)step * es)
            if (kern_row_to_f32(type, p, dst + i, 1) != 0)
                return GK_E_UNSUPPORTED;
    }
    return GK_OK;
}

/* fmt_src_release_fn of a view: the span of a mapped base the rows read;
 * a computed base read whole once the last row is written. */
static void view_release(const fmt_src_tensor *t, int64_t r0, int64_t r1) {
    view_ctx *c = t->ctx;
    const fmt_view *v = &c->v;
    if (r1 <= r0 || v->n_dims == 0)
        return;
    if (!v->base->data) {
        int64_t len = fmt_src_row_len(t);
        if (len && (uint64_t)r1 * (uint64_t)len == t->n_elements) {
            pthread_mutex_lock(&c->mu);
            free(c->whole);
            c->whole = NULL;
            pthread_mutex_unlock(&c->mu);
        }
        return;
    }
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

/* A name and context the set owns, with how to free the context. */
typedef struct {
    char *name;
    void *ctx;
    void (*dtor)(void *);
} owned;

struct fmt_xset {
    fmt_src_tensor *t;
    size_t n, cap;
    owned *own;
    size_t n_own, cap_own;
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

/* Add a record named name (copied) with ctx, which the set then owns
 * (freed with dtor, also when this fails). */
static gk_status add_owned(fmt_xset *x, const fmt_src_tensor *rec, const char *name, void *ctx,
                           void (*dtor)(void *)) {
    char *s = x->src ? NULL : strdup(name);
    if (s && x->n_own == x->cap_own) {
        size_t cap = x->cap_own ? 2 * x->cap_own : 16;
        owned *no = realloc(x->own, cap * sizeof *no);
        if (no) {
            x->own = no;
            x->cap_own = cap;
        } else {
            free(s);
            s = NULL;
        }
    }
    if (!s) {
        dtor(ctx);
        return x->src ? GK_E_USAGE : GK_E_NOMEM;
    }
    x->own[x->n_own++] = (owned){s, ctx, dtor};
    fmt_src_tensor r = *rec;
    r.name = s;
    r.ctx = ctx;
    return push_record(x, &r);
}

gk_status fmt_xset_keep(fmt_xset *x, const fmt_src_tensor *t) {
    return x->src ? GK_E_USAGE : push_record(x, t);
}

gk_status fmt_xset_add(fmt_xset *x, const fmt_src_tensor *rec, const char *name, void *ctx) {
    return add_owned(x, rec, name, ctx, free);
}

gk_status fmt_xset_add_view(fmt_xset *x, const char *name, const fmt_view *v) {
    view_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return GK_E_NOMEM;
    c->v = *v;
    pthread_mutex_init(&c->mu, NULL);
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
    return add_owned(x, &r, name, c, view_ctx_free);
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
    for (size_t i = 0; i < x->n_own; i++) {
        free(x->own[i].name);
        x->own[i].dtor(x->own[i].ctx);
    }
    free(x->own);
    free(x->t);
    free(x);
}
