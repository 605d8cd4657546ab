/*
 * stack.c -- records that stack n records of one shape along a new leading
 * dimension, read row by row from their parts (the MoE expert stack).
 */
#include "stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kernels/kernels.h"
#include "io.h"

/* One stacked record; rec.ctx points back here. */
typedef struct entry {
    fmt_src_tensor rec;
    const fmt_src_tensor **parts;
    size_t n;
    int64_t part_rows; /* rows of one part */
    size_t row_bytes;  /* stored bytes of one row (0 when the dtype has none) */
    /* per part: the bytes between the first and the last byte of the run of
     * consecutive mapped parts in its file, all inside one mapping: where
     * releases may widen to */
    const uint8_t **lo, **hi;
    char *name;
    struct entry *next;
} entry;

struct fmt_stack {
    entry *head;
};

static void free_entry(entry *e) {
    if (!e)
        return;
    free(e->parts);
    free(e->lo);
    free(e->hi);
    free(e->name);
    free(e);
}

/* e->lo/hi: runs of consecutive parts mapped from one file (the same file
 * string: one shard of a set) span one mapping; any other part gets its
 * own bytes only. */
static void mapped_runs(entry *e, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        const fmt_src_tensor *a = e->parts[i];
        const uint8_t *lo = a->data, *hi = a->data ? a->data + a->size : NULL;
        while (a->data && j < n && e->parts[j]->data && e->parts[j]->file == a->file) {
            const fmt_src_tensor *b = e->parts[j++];
            lo = b->data < lo ? b->data : lo;
            hi = b->data + b->size > hi ? b->data + b->size : hi;
        }
        for (; i < j; i++) {
            e->lo[i] = lo;
            e->hi[i] = hi;
        }
    }
}

fmt_stack *fmt_stack_new(void) {
    return calloc(1, sizeof(fmt_stack));
}

/* fmt_src_read_fn: rows [r0, r0 + n) from the parts they fall in. */
static gk_status stack_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const entry *e = t->ctx;
    int64_t len = fmt_src_row_len(t);
    while (n > 0) {
        int64_t p = r0 / e->part_rows, local = r0 % e->part_rows;
        int64_t k = e->part_rows - local < n ? e->part_rows - local : n;
        gk_status st = fmt_src_read_rows(e->parts[p], local, k, dst);
        if (st != GK_OK)
            return st;
        dst += k * len;
        r0 += k;
        n -= k;
    }
    return GK_OK;
}

int fmt_stack_is(const fmt_src_tensor *t) {
    return t && t->read == stack_read;
}

size_t fmt_stack_n_parts(const fmt_src_tensor *t) {
    return fmt_stack_is(t) ? ((const entry *)t->ctx)->n : 0;
}

const fmt_src_tensor *fmt_stack_part(const fmt_src_tensor *t, size_t i) {
    const entry *e = fmt_stack_is(t) ? t->ctx : NULL;
    return e && i < e->n ? e->parts[i] : NULL;
}

static void shape_str(const fmt_src_tensor *t, char *out, size_t cap) {
    size_t o = 0;
    out[0] = '\0';
    for (uint32_t k = 0; k < t->n_dims && o < cap; k++)
        o += (size_t)snprintf(out + o, cap - o, "%s%lld", k ? "x" : "", (long long)t->shape[k]);
    if (!t->n_dims)
        snprintf(out, cap, "()");
}

/* The parts agree with parts[0] in dtype and shape, else a message. */
static gk_status check_parts(const fmt_src_tensor *const *parts, size_t n, char *err,
                             size_t errcap) {
    const fmt_src_tensor *a = parts[0];
    if (a->n_dims == 0 || a->n_dims + 1 > FMT_SRC_MAX_DIMS) {
        snprintf(err, errcap, "%s: tensor '%s' has %u dimensions (a stacked part needs 1 to %d)",
                 a->file, a->name, a->n_dims, FMT_SRC_MAX_DIMS - 1);
        return GK_E_FORMAT;
    }
    for (size_t i = 1; i < n; i++) {
        const fmt_src_tensor *b = parts[i];
        int same = b->n_dims == a->n_dims;
        for (uint32_t k = 0; same && k < a->n_dims; k++)
            same = b->shape[k] == a->shape[k];
        if (!same) {
            char sa[96], sb[96];
            shape_str(a, sa, sizeof sa);
            shape_str(b, sb, sizeof sb);
            snprintf(err, errcap,
                     "%s: tensor '%s' has shape %s but tensor '%s' has %s (experts of one tensor "
                     "must share their shape)",
                     b->file, b->name, sb, a->name, sa);
            return GK_E_FORMAT;
        }
        if (b->type != a->type || strcmp(b->dtype, a->dtype) != 0) {
            snprintf(err, errcap,
                     "%s: tensor '%s' has dtype %s but tensor '%s' has %s (experts of one tensor "
                     "must share their dtype)",
                     b->file, b->name, b->dtype, a->name, a->dtype);
            return GK_E_FORMAT;
        }
    }
    return GK_OK;
}

const fmt_src_tensor *fmt_stack_add(fmt_stack *s, const char *name,
                                    const fmt_src_tensor *const *parts, size_t n, gk_status *st,
                                    char *err, size_t errcap) {
    if (n == 0) {
        snprintf(err, errcap, "tensor '%s': nothing to stack", name);
        *st = GK_E_FORMAT;
        return NULL;
    }
    if ((*st = check_parts(parts, n, err, errcap)) != GK_OK)
        return NULL;
    const fmt_src_tensor *a = parts[0];
    int64_t len = fmt_src_row_len(a);
    int64_t rows = len ? (int64_t)(a->n_elements / (uint64_t)len) : 0;
    if (rows <= 0 || (uint64_t)n > UINT64_MAX / (a->n_elements ? a->n_elements : 1) ||
        (uint64_t)n > UINT64_MAX / (a->size ? a->size : 1) ||
        (uint64_t)n > (uint64_t)(INT64_MAX / rows)) {
        snprintf(err, errcap, "%s: tensor '%s': %zu parts of %llu elements are too many to stack",
                 a->file, a->name, n, (unsigned long long)a->n_elements);
        *st = GK_E_FORMAT;
        return NULL;
    }
    entry *e = calloc(1, sizeof *e);
    if (e) {
        e->parts = malloc(n * sizeof *e->parts);
        e->lo = malloc(n * sizeof *e->lo);
        e->hi = malloc(n * sizeof *e->hi);
        e->name = strdup(name);
    }
    if (!e || !e->parts || !e->lo || !e->hi || !e->name) {
        free_entry(e);
        snprintf(err, errcap, "out of memory");
        *st = GK_E_NOMEM;
        return NULL;
    }
    memcpy(e->parts, parts, n * sizeof *parts);
    mapped_runs(e, n);
    e->n = n;
    e->part_rows = rows;
    e->row_bytes = a->type >= 0 ? kern_row_bytes(a->type, len) : 0;
    e->rec = (fmt_src_tensor){.name = e->name,
                              .type = a->type,
                              .dtype = a->dtype,
                              .n_dims = a->n_dims + 1,
                              .n_elements = a->n_elements * (uint64_t)n,
                              .size = a->size * (uint64_t)n,
                              .data = NULL,
                              .file = a->file,
                              .read = stack_read,
                              .ctx = e};
    e->rec.shape[0] = (int64_t)n;
    memcpy(e->rec.shape + 1, a->shape, a->n_dims * sizeof *a->shape);
    e->next = s->head;
    s->head = e;
    *st = GK_OK;
    return &e->rec;
}

const uint8_t *fmt_stack_row_data(const fmt_src_tensor *t, int64_t r) {
    if (!fmt_stack_is(t))
        return NULL;
    const entry *e = t->ctx;
    const fmt_src_tensor *p = e->parts[r / e->part_rows];
    if (!p->data || (e->row_bytes == 0 && fmt_src_row_len(p) != 0))
        return NULL;
    return p->data + (size_t)(r % e->part_rows) * e->row_bytes;
}

/* Granule of fmt_stack_release: the largest page-cache folio a fault maps
 * at once on x86-64 and arm64 with 4 KiB pages (a PMD). */
#define RELEASE_GRANULE ((uintptr_t)2 << 20)

/* fmt_release_pages over [p, p + n) widened to whole granules. A fault on
 * a file mapping maps the whole page-cache folio around the page (up to
 * 2 MiB on current kernels), so reading one expert's rows maps its
 * neighbours too: the other matrices of the same expert, which a checkpoint
 * stores next to it and whose own stack comes later. Released only to the
 * page, those would stay mapped until then and memory would grow with the
 * expert count; released to the granule, what stays mapped is bounded by
 * the chunks in flight. A page still needed is faulted back in from the
 * page cache. */
static void release_outward(const uint8_t *p, size_t n, const uint8_t *lo, const uint8_t *hi) {
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0 || n == 0)
        return;
    uintptr_t g = (uintptr_t)ps > RELEASE_GRANULE ? (uintptr_t)ps : RELEASE_GRANULE;
    uintptr_t a = (uintptr_t)p & ~(g - 1), e = ((uintptr_t)p + n + g - 1) & ~(g - 1);
    if (a < (uintptr_t)lo) /* never past the parts' own mapping */
        a = (uintptr_t)lo;
    if (e > (uintptr_t)hi)
        e = (uintptr_t)hi;
    if (e > a)
        fmt_release_pages((const void *)a, e - a);
}

void fmt_stack_release(const fmt_src_tensor *t, int64_t r0, int64_t r1) {
    if (!fmt_stack_is(t))
        return;
    const entry *e = t->ctx;
    while (r0 < r1) {
        int64_t p = r0 / e->part_rows, local = r0 % e->part_rows;
        int64_t k = e->part_rows - local < r1 - r0 ? e->part_rows - local : r1 - r0;
        const fmt_src_tensor *pt = e->parts[p];
        if (pt->data && e->row_bytes)
            release_outward(pt->data + (size_t)local * e->row_bytes, (size_t)k * e->row_bytes,
                            e->lo[p], e->hi[p]);
        r0 += k;
    }
}

void fmt_stack_free(fmt_stack *s) {
    if (!s)
        return;
    for (entry *e = s->head, *next; e; e = next) {
        next = e->next;
        free_entry(e);
    }
    free(s);
}
