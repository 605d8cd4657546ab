/*
 * source.c -- tensor sources over safetensors (single or sharded), PyTorch
 * pickles and GGUF files, and sets of records a transform built.
 */
#include "source.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "gguf.h"
#include "io.h"
#include "pickle.h"
#include "safetensors.h"

/* One opened file and what its records borrow from. */
typedef struct {
    const char *name;
    uint64_t i;
} name_ref;

/* Where a GGUF record's bytes are: the ctx of its records. */
typedef struct {
    fmt_gguf *g;
    uint64_t i;
} gguf_ref;

typedef struct {
    fmt_safetensors *st;
    fmt_pt *pt;
    fmt_input *in;
    fmt_gguf *g;
    int borrowed; /* g and in belong to the caller (fmt_src_over_gguf) */
    char *names;  /* GGUF names, NUL-terminated copies */
    gguf_ref *refs;
} part;

struct fmt_src {
    fmt_src_tensor *t;
    uint64_t n, cap;
    name_ref *by_name; /* sorted by (name, index) */
    char **files;
    size_t n_files;
    part *parts;
    size_t n_parts;
};

static _Thread_local char open_err[1024];

const char *fmt_src_open_errmsg(void) {
    return open_err;
}

static gk_status set_err(gk_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static gk_status set_err(gk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(open_err, sizeof open_err, fmt, ap);
    va_end(ap);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Records                                                                    */
/* ------------------------------------------------------------------------ */

int64_t fmt_src_row_len(const fmt_src_tensor *t) {
    return t->n_dims ? t->shape[t->n_dims - 1] : 1;
}

gk_status fmt_src_read_stored(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    int64_t len = fmt_src_row_len(t);
    size_t rb = kern_row_bytes(t->type, len);
    if (!t->data || (rb == 0 && len != 0))
        return GK_E_UNSUPPORTED;
    if (kern_row_to_f32(t->type, t->data + (size_t)r0 * rb, dst, n * len) != 0)
        return GK_E_UNSUPPORTED;
    return GK_OK;
}

gk_status fmt_src_read_rows(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    int64_t len = fmt_src_row_len(t);
    int64_t rows = len ? (int64_t)(t->n_elements / (uint64_t)len) : 0;
    if (r0 < 0 || n < 0 || r0 > rows || n > rows - r0)
        return GK_E_FORMAT;
    return t->read(t, r0, n, dst);
}

/* ggml type of a safetensors/PyTorch dtype; -1 when ggml has none. */
static int st_type(fmt_st_dtype d) {
    static const int map[FMT_ST_DTYPE_COUNT] = {
        [FMT_ST_F64] = KERN_TYPE_F64,
        [FMT_ST_F32] = KERN_TYPE_F32,
        [FMT_ST_F16] = KERN_TYPE_F16,
        [FMT_ST_BF16] = KERN_TYPE_BF16,
        [FMT_ST_I64] = KERN_TYPE_I64,
        [FMT_ST_I32] = KERN_TYPE_I32,
        [FMT_ST_I16] = KERN_TYPE_I16,
        [FMT_ST_I8] = KERN_TYPE_I8,
        [FMT_ST_U8] = -1,
        [FMT_ST_BOOL] = -1,
        [FMT_ST_F8_E4M3] = -1,
        [FMT_ST_F8_E5M2] = -1,
    };
    return (unsigned)d < FMT_ST_DTYPE_COUNT ? map[d] : -1;
}

static gk_status push(fmt_src *s, const fmt_src_tensor *t) {
    if (s->n == s->cap) {
        uint64_t cap = s->cap ? 2 * s->cap : 64;
        if (cap > SIZE_MAX / sizeof *s->t)
            return set_err(GK_E_NOMEM, "out of memory");
        fmt_src_tensor *nt = realloc(s->t, (size_t)cap * sizeof *nt);
        if (!nt)
            return set_err(GK_E_NOMEM, "out of memory");
        s->t = nt;
        s->cap = cap;
    }
    s->t[s->n++] = *t;
    return GK_OK;
}

/* Record of a safetensors or pickle tensor (same fields, data mapped). */
static fmt_src_tensor st_record(const char *name, fmt_st_dtype d, uint32_t n_dims,
                                const int64_t *shape, uint64_t n_elements, uint64_t size,
                                const uint8_t *data, const char *file) {
    fmt_src_tensor r = {.name = name,
                        .type = st_type(d),
                        .dtype = fmt_st_dtype_name(d),
                        .n_dims = n_dims,
                        .n_elements = n_elements,
                        .size = size,
                        .data = data,
                        .file = file,
                        .read = fmt_src_read_stored};
    memcpy(r.shape, shape,
           sizeof(int64_t) * (n_dims <= FMT_SRC_MAX_DIMS ? n_dims : FMT_SRC_MAX_DIMS));
    return r;
}

/* ------------------------------------------------------------------------ */
/* Readers                                                                    */
/* ------------------------------------------------------------------------ */

static gk_status add_file(fmt_src *s, const char *path, const char **copy) {
    char **nf = realloc(s->files, (s->n_files + 1) * sizeof *nf);
    if (!nf)
        return set_err(GK_E_NOMEM, "out of memory");
    s->files = nf;
    if (!(nf[s->n_files] = strdup(path)))
        return set_err(GK_E_NOMEM, "out of memory");
    *copy = nf[s->n_files++];
    return GK_OK;
}

static gk_status open_safetensors(fmt_src *s, part *p, const char *path) {
    gk_status st;
    if (!(p->st = fmt_safetensors_open(path, &st)))
        return set_err(st, "%s", fmt_safetensors_open_errmsg());
    uint32_t ns = fmt_safetensors_n_shards(p->st);
    size_t first = s->n_files;
    for (uint32_t i = 0; i < ns; i++) {
        const char *f;
        if ((st = add_file(s, fmt_safetensors_shard_path(p->st, i), &f)) != GK_OK)
            return st;
    }
    for (uint64_t i = 0; i < fmt_safetensors_n_tensors(p->st); i++) {
        const fmt_st_tensor *t = fmt_safetensors_tensor_at(p->st, i);
        fmt_src_tensor r = st_record(t->name, t->dtype, t->n_dims, t->shape, t->n_elements, t->size,
                                     t->data, s->files[first + t->shard]);
        if ((st = push(s, &r)) != GK_OK)
            return st;
    }
    return GK_OK;
}

static gk_status open_pickle(fmt_src *s, part *p, const char *path) {
    gk_status st;
    const char *file;
    if (!(p->pt = fmt_pt_open(path, &st)))
        return set_err(st, "%s", fmt_pt_open_errmsg());
    if ((st = add_file(s, path, &file)) != GK_OK)
        return st;
    for (uint64_t i = 0; i < fmt_pt_n_tensors(p->pt); i++) {
        const fmt_pt_tensor *t = fmt_pt_tensor_at(p->pt, i);
        fmt_src_tensor r = st_record(t->name, t->dtype, t->n_dims, t->shape, t->n_elements, t->size,
                                     t->data, file);
        if ((st = push(s, &r)) != GK_OK)
            return st;
    }
    return GK_OK;
}

/* GGUF names are length-delimited: copy them NUL-terminated, all at once. */
static gk_status gguf_names(part *p, uint64_t n) {
    size_t total = 1;
    for (uint64_t i = 0; i < n; i++)
        total += (size_t)fmt_gguf_tensor_at(p->g, i)->name.len + 1;
    if (!(p->names = malloc(total)))
        return set_err(GK_E_NOMEM, "out of memory");
    char *o = p->names;
    for (uint64_t i = 0; i < n; i++) {
        fmt_str nm = fmt_gguf_tensor_at(p->g, i)->name;
        memcpy(o, nm.ptr, (size_t)nm.len);
        o += nm.len;
        *o++ = '\0';
    }
    return GK_OK;
}

/* Rows of a GGUF record: its mapped bytes (a distinct function so that
 * fmt_src_load knows ctx is a gguf_ref). */
static gk_status read_gguf(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    return fmt_src_read_stored(t, r0, n, dst);
}

/* The records of p->g, named after file. */
static gk_status gguf_records(fmt_src *s, part *p, const char *file) {
    uint64_t n = fmt_gguf_n_tensors(p->g);
    gk_status st = gguf_names(p, n);
    if (st != GK_OK)
        return st;
    if (n > SIZE_MAX / sizeof *p->refs ||
        !(p->refs = malloc((size_t)(n ? n : 1) * sizeof *p->refs)))
        return set_err(GK_E_NOMEM, "out of memory");
    const char *name = p->names;
    for (uint64_t i = 0; i < n; i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(p->g, i);
        p->refs[i] = (gguf_ref){p->g, i};
        fmt_src_tensor r = {.name = name,
                            .type = t->type,
                            .dtype = kern_type_label(t->type),
                            .n_dims = t->n_dims,
                            .n_elements = t->n_elements,
                            .size = t->size,
                            .data = fmt_gguf_tensor_data(p->g, i),
                            .file = file,
                            .read = read_gguf,
                            .ctx = &p->refs[i]};
        for (uint32_t k = 0; k < t->n_dims; k++) /* ggml order is reversed */
            r.shape[k] = t->ne[t->n_dims - 1 - k];
        name += strlen(name) + 1;
        if ((st = push(s, &r)) != GK_OK)
            return st;
    }
    return GK_OK;
}

static gk_status open_gguf(fmt_src *s, part *p, const char *path) {
    gk_status st;
    char msg[512];
    const char *file;
    if (!(p->in = fmt_input_open(path, NULL, &st, msg, sizeof msg)))
        return set_err(st, "%s", msg);
    if ((st = fmt_input_make_seekable(p->in)) != GK_OK)
        return set_err(st, "%s: %s", path, fmt_input_errmsg(p->in));
    if (!(p->g = fmt_gguf_open(p->in, &st)))
        return set_err(st, "%s: %s", path, fmt_gguf_open_errmsg());
    if ((st = add_file(s, path, &file)) != GK_OK)
        return st;
    return gguf_records(s, p, file);
}

gk_status fmt_src_load(const fmt_src_tensor *t, void *buf, const uint8_t **bytes, char *err,
                       size_t errcap) {
    if (t->data) {
        *bytes = t->data;
        return GK_OK;
    }
    if (t->read != read_gguf) {
        snprintf(err, errcap, "tensor '%s': no stored bytes (computed)", t->name);
        return GK_E_UNSUPPORTED;
    }
    const gguf_ref *ref = t->ctx;
    gk_status st = fmt_gguf_read_tensor(ref->g, ref->i, buf);
    if (st != GK_OK) {
        snprintf(err, errcap, "%s", fmt_gguf_errmsg(ref->g));
        return st;
    }
    *bytes = buf;
    return GK_OK;
}

/* The kind of input from its first bytes: GGUF magic, a zip archive (what
 * torch.save writes) or else safetensors (which also takes .json and
 * directories). */
static part *new_part(fmt_src *s) {
    part *np = realloc(s->parts, (s->n_parts + 1) * sizeof *np);
    if (!np)
        return NULL;
    s->parts = np;
    part *p = &np[s->n_parts++];
    memset(p, 0, sizeof *p);
    return p;
}

static gk_status open_one(fmt_src *s, const char *path) {
    part *p = new_part(s);
    if (!p)
        return set_err(GK_E_NOMEM, "out of memory");
    unsigned char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f)
        fclose(f);
    if (got == 4 && memcmp(magic, "GGUF", 4) == 0)
        return open_gguf(s, p, path);
    if (got == 4 && memcmp(magic, "PK\3\4", 4) == 0)
        return open_pickle(s, p, path);
    return open_safetensors(s, p, path);
}

/* ------------------------------------------------------------------------ */
/* Sets                                                                       */
/* ------------------------------------------------------------------------ */

static int by_name_cmp(const void *a, const void *b) {
    const name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Name index for fmt_src_find; ties keep set order, so the first wins. */
static gk_status index_names(fmt_src *s) {
    if (!(s->by_name = malloc((size_t)(s->n ? s->n : 1) * sizeof *s->by_name)))
        return set_err(GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < s->n; i++)
        s->by_name[i] = (name_ref){s->t[i].name, i};
    qsort(s->by_name, (size_t)s->n, sizeof *s->by_name, by_name_cmp);
    return GK_OK;
}

fmt_src *fmt_src_open_files(const char *const *paths, size_t n, gk_status *st) {
    open_err[0] = '\0';
    fmt_src *s = calloc(1, sizeof *s);
    if (!s) {
        *st = set_err(GK_E_NOMEM, "out of memory");
        return NULL;
    }
    *st = GK_OK;
    for (size_t i = 0; *st == GK_OK && i < n; i++)
        *st = open_one(s, paths[i]);
    if (*st == GK_OK)
        *st = index_names(s);
    if (*st != GK_OK) {
        fmt_src_close(s);
        return NULL;
    }
    return s;
}

fmt_src *fmt_src_open(const char *path, gk_status *st) {
    return fmt_src_open_files(&path, 1, st);
}

fmt_src *fmt_src_over_gguf(fmt_gguf *const *readers, size_t n, const char *const *files,
                           gk_status *st) {
    open_err[0] = '\0';
    fmt_src *s = calloc(1, sizeof *s);
    *st = s ? GK_OK : set_err(GK_E_NOMEM, "out of memory");
    for (size_t i = 0; *st == GK_OK && i < n; i++) {
        part *p = new_part(s);
        const char *file;
        if (!p) {
            *st = set_err(GK_E_NOMEM, "out of memory");
            break;
        }
        p->g = readers[i];
        p->borrowed = 1;
        if ((*st = add_file(s, files ? files[i] : "", &file)) == GK_OK)
            *st = gguf_records(s, p, file);
    }
    if (*st == GK_OK)
        *st = index_names(s);
    if (*st != GK_OK) {
        fmt_src_close(s);
        return NULL;
    }
    return s;
}

fmt_src *fmt_src_create(const fmt_src_tensor *tensors, uint64_t n, gk_status *st) {
    open_err[0] = '\0';
    fmt_src *s = calloc(1, sizeof *s);
    *st = s ? GK_OK : set_err(GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; *st == GK_OK && i < n; i++)
        *st = push(s, &tensors[i]);
    if (*st == GK_OK)
        *st = index_names(s);
    if (*st != GK_OK) {
        fmt_src_close(s);
        return NULL;
    }
    return s;
}

uint64_t fmt_src_n_tensors(const fmt_src *s) {
    return s->n;
}

const fmt_src_tensor *fmt_src_tensor_at(const fmt_src *s, uint64_t i) {
    return i < s->n ? &s->t[i] : NULL;
}

const fmt_src_tensor *fmt_src_find(const fmt_src *s, const char *name) {
    uint64_t lo = 0, hi = s->n; /* first entry whose name is >= name */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->by_name[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && strcmp(s->by_name[lo].name, name) == 0)
        return &s->t[s->by_name[lo].i];
    return NULL;
}

int64_t fmt_src_index(const fmt_src *s, const char *name) {
    const fmt_src_tensor *t = fmt_src_find(s, name);
    return t ? (int64_t)(t - s->t) : -1;
}

size_t fmt_src_n_files(const fmt_src *s) {
    return s->n_files;
}

const char *fmt_src_file_at(const fmt_src *s, size_t i) {
    return i < s->n_files ? s->files[i] : NULL;
}

void fmt_src_close(fmt_src *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n_parts; i++) {
        part *p = &s->parts[i];
        fmt_safetensors_close(p->st);
        fmt_pt_close(p->pt);
        if (!p->borrowed) {
            fmt_gguf_close(p->g);
            fmt_input_close(p->in);
        }
        free(p->names);
        free(p->refs);
    }
    for (size_t i = 0; i < s->n_files; i++)
        free(s->files[i]);
    free(s->files);
    free(s->parts);
    free(s->by_name);
    free(s->t);
    free(s);
}
