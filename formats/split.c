/* split.c -- GGUF split sets: shard names, split.* keys, and opening a set
 * from any of its files with every consistency check in one place. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "split.h"

struct fmt_split {
    size_t n;
    char **paths;
    fmt_input **in;
    fmt_gguf **g;
};

/* Longest tensor name shown in a message (names come from the file). */
#define SHOWN_NAME 200

/* ------------------------------------------------------------------------ */
/* Shard names and keys                                                       */
/* ------------------------------------------------------------------------ */

/* The name tail; '0' marks a digit. */
static const char name_tail[] = "-00000-of-00000.gguf";
#define NAME_TAIL_LEN (sizeof name_tail - 1)

gk_status fmt_split_name(char *buf, size_t cap, const char *prefix, size_t prefix_len, size_t no,
                         size_t count) {
    if (cap)
        buf[0] = 0;
    if (no >= count || prefix_len > INT_MAX)
        return GK_E_USAGE;
    int n = snprintf(buf, cap, "%.*s-%05zu-of-%05zu.gguf", (int)prefix_len, prefix, no + 1, count);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = 0;
        return GK_E_USAGE;
    }
    return GK_OK;
}

int fmt_split_parse_name(const char *path, size_t *prefix_len, size_t *no, size_t *count) {
    size_t len = strlen(path);
    if (len < NAME_TAIL_LEN)
        return 0;
    const char *t = path + len - NAME_TAIL_LEN;
    size_t k = 0, n = 0;
    for (size_t i = 0; i < NAME_TAIL_LEN; i++) {
        if (name_tail[i] != '0') {
            if (t[i] != name_tail[i])
                return 0;
            continue;
        }
        if (t[i] < '0' || t[i] > '9')
            return 0;
        size_t *v = i < 6 ? &k : &n; /* digits 1..5 are K, 10..14 are N */
        *v = *v * 10 + (size_t)(t[i] - '0');
    }
    if (k < 1 || k > n)
        return 0;
    *prefix_len = len - NAME_TAIL_LEN;
    *no = k - 1;
    *count = n;
    return 1;
}

static const char *const split_keys[] = {"split.no", "split.count", "split.tensors.count"};

int fmt_split_is_key(const char *key, size_t len) {
    for (size_t i = 0; i < sizeof split_keys / sizeof split_keys[0]; i++)
        if (len == strlen(split_keys[i]) && memcmp(key, split_keys[i], len) == 0)
            return 1;
    return 0;
}

gk_status fmt_split_add_keys(fmt_gguf_writer *w, size_t no, size_t count, uint64_t n_tensors) {
    if (no >= count || count > UINT16_MAX || n_tensors > INT32_MAX)
        return GK_E_USAGE;
    fmt_gguf_value v = {.type = FMT_GGUF_U16};
    v.v.u = no;
    gk_status st = fmt_gguf_writer_add_kv(w, split_keys[0], strlen(split_keys[0]), &v);
    v.v.u = count;
    if (st == GK_OK)
        st = fmt_gguf_writer_add_kv(w, split_keys[1], strlen(split_keys[1]), &v);
    if (st == GK_OK)
        st = fmt_gguf_writer_add_i32(w, split_keys[2], (int32_t)n_tensors);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Opening a set                                                              */
/* ------------------------------------------------------------------------ */

static gk_status fail(char *err, size_t cap, gk_status st, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static gk_status fail(char *err, size_t cap, gk_status st, const char *file, const char *fmt, ...) {
    if (cap) {
        va_list ap;
        va_start(ap, fmt);
        fmt_vformat_errmsg(err, cap, file, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* Open path as GGUF; a sibling (named by the set, not by the user) must be
 * a regular file: a FIFO there would block the open forever. */
static gk_status open_file(const char *path, int sibling, fmt_input **in, fmt_gguf **g, char *err,
                           size_t cap) {
    gk_status st;
    char msg[1024] = "";
    fmt_input_opts io = {.regular_only = sibling};
    if (!(*in = fmt_input_open(path, &io, &st, msg, sizeof msg)))
        return fail(err, cap, st, path, "%s", msg);
    if (!(*g = fmt_gguf_open(*in, &st)))
        return fail(err, cap, st, path, "%s", fmt_gguf_open_errmsg());
    return GK_OK;
}

/* How many files the set of path (already opened as g) has, and which one
 * path is: from split.count, which the name must agree with, or from the
 * name alone (the file's keys are checked next). One file when neither
 * says it is a shard. */
static gk_status find_layout(const char *path, const fmt_gguf *g, size_t *prefix_len, size_t *no,
                             size_t *count, char *err, size_t cap) {
    size_t plen = 0, name_no = 0, name_count = 1;
    int named = !fmt_is_stdio(path) && fmt_split_parse_name(path, &plen, &name_no, &name_count);
    uint64_t n = 0;
    int has_count = fmt_gguf_get_u64(g, "split.count", &n);
    if (has_count && n == 0) /* a set of no files: no writer makes one */
        return fail(err, cap, GK_E_FORMAT, path, "split.count 0 is out of range (1..%d)",
                    FMT_SPLIT_MAX_SHARDS);
    if (has_count && n > 1) {
        if (n > FMT_SPLIT_MAX_SHARDS)
            return fail(err, cap, GK_E_FORMAT, path, "split.count %llu is out of range (1..%d)",
                        (unsigned long long)n, FMT_SPLIT_MAX_SHARDS);
        if (!named || name_count != n)
            return fail(err, cap, GK_E_FORMAT, path,
                        "shard of a %llu-file split model, but the name is not "
                        "NAME-0000K-of-%05llu.gguf",
                        (unsigned long long)n, (unsigned long long)n);
    } else if (!named || name_count == 1) {
        *no = 0;
        *count = 1;
        return GK_OK;
    }
    *prefix_len = plen;
    *no = name_no;
    *count = name_count;
    return GK_OK;
}

/* The split.* keys of shard no of count; *n_tensors = split.tensors.count. */
static gk_status check_keys(const fmt_gguf *g, const char *path, size_t no, size_t count,
                            int64_t *n_tensors, char *err, size_t cap) {
    uint64_t k_no, k_count;
    if (!fmt_gguf_get_u64(g, "split.no", &k_no) || !fmt_gguf_get_u64(g, "split.count", &k_count) ||
        !fmt_gguf_get_i64(g, "split.tensors.count", n_tensors))
        return fail(err, cap, GK_E_FORMAT, path,
                    "split shard without split.no/split.count/split.tensors.count");
    if (k_no != no || k_count != count)
        return fail(err, cap, GK_E_FORMAT, path,
                    "split.no %llu / split.count %llu, expected %zu / %zu",
                    (unsigned long long)k_no, (unsigned long long)k_count, no, count);
    if (*n_tensors < 0)
        return fail(err, cap, GK_E_FORMAT, path, "split.tensors.count %lld is negative",
                    (long long)*n_tensors);
    return GK_OK;
}

static fmt_split *set_alloc(size_t n) {
    fmt_split *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->paths = calloc(n, sizeof *s->paths);
    s->in = calloc(n, sizeof *s->in);
    s->g = calloc(n, sizeof *s->g);
    s->n = n;
    if (!s->paths || !s->in || !s->g) {
        fmt_split_close(s);
        return NULL;
    }
    return s;
}

static char *shard_path(const char *prefix, size_t prefix_len, size_t no, size_t count) {
    size_t cap = prefix_len < SIZE_MAX - 64 ? prefix_len + 64 : 0;
    char *p = cap ? malloc(cap) : NULL;
    if (p && fmt_split_name(p, cap, prefix, prefix_len, no, count) != GK_OK) {
        free(p);
        p = NULL;
    }
    return p;
}

/* The directory part of path ("." for a bare name), new string or NULL. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* A sibling p of the named shard path is named after it, so it lies in
 * the same directory; after symlinks it must still lie there, or beside
 * the file path itself resolves to (a set linked from elsewhere as a
 * whole), never somewhere a shipped symlink points. */
static gk_status check_sibling(const char *path, const char *p, char *err, size_t cap) {
    char msg[128];
    char *dir = dir_of(path), *real = realpath(path, NULL), *rdir = real ? dir_of(real) : NULL;
    gk_status st = dir ? fmt_path_inside(dir, p, 0, msg, sizeof msg) : GK_E_NOMEM;
    if (st == GK_E_FORMAT && rdir)
        st = fmt_path_inside(rdir, p, 0, msg, sizeof msg);
    free(dir);
    free(real);
    free(rdir);
    if (st == GK_E_NOMEM)
        return fail(err, cap, st, p, "out of memory");
    if (st == GK_E_FORMAT)
        return fail(err, cap, st, p, "shard resolves outside the directory of %s", path);
    /* a shard that does not resolve is reported by its open */
    return GK_OK;
}

/* Name every shard after path's prefix, open those not open yet, and check
 * each against the first: keys, version, alignment. */
static gk_status open_shards(fmt_split *s, const char *path, size_t prefix_len, char *err,
                             size_t cap) {
    int64_t first_tensors = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!(s->paths[i] = shard_path(path, prefix_len, i, s->n)))
            return fail(err, cap, GK_E_NOMEM, path, "out of memory");
        const char *p = s->paths[i];
        gk_status st = GK_OK;
        if (!s->g[i] && (st = check_sibling(path, p, err, cap)) == GK_OK)
            st = open_file(p, 1, &s->in[i], &s->g[i], err, cap);
        int64_t n_tensors = 0;
        if (st == GK_OK)
            st = check_keys(s->g[i], p, i, s->n, &n_tensors, err, cap);
        if (st != GK_OK)
            return st;
        if (i == 0)
            first_tensors = n_tensors;
        uint32_t version = fmt_gguf_version(s->g[i]), version0 = fmt_gguf_version(s->g[0]);
        uint64_t align = fmt_gguf_alignment(s->g[i]), align0 = fmt_gguf_alignment(s->g[0]);
        if (n_tensors != first_tensors)
            return fail(err, cap, GK_E_FORMAT, p,
                        "split.tensors.count %lld differs from the first shard's %lld",
                        (long long)n_tensors, (long long)first_tensors);
        if (version != version0)
            return fail(err, cap, GK_E_FORMAT, p,
                        "GGUF version %u differs from the first shard's %u", (unsigned)version,
                        (unsigned)version0);
        if (align != align0)
            return fail(err, cap, GK_E_FORMAT, p,
                        "alignment %llu differs from the first shard's %llu",
                        (unsigned long long)align, (unsigned long long)align0);
    }
    return GK_OK;
}

typedef struct {
    fmt_str name;
    size_t shard;
} tensor_ref;

static int by_name_then_shard(const void *a, const void *b) {
    const tensor_ref *x = a, *y = b;
    uint64_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = n ? memcmp(x->name.ptr, y->name.ptr, (size_t)n) : 0;
    if (c == 0)
        c = (x->name.len > y->name.len) - (x->name.len < y->name.len);
    if (c == 0)
        c = (x->shard > y->shard) - (x->shard < y->shard);
    return c;
}

/* The shards hold split.tensors.count tensors in all, each name once (a
 * reader already refuses a name twice within one file). */
static gk_status check_tensors(const fmt_split *s, char *err, size_t cap) {
    int64_t total = 0;
    fmt_gguf_get_i64(s->g[0], "split.tensors.count", &total);
    uint64_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += fmt_gguf_n_tensors(s->g[i]);
    if (n != (uint64_t)total)
        return fail(err, cap, GK_E_FORMAT, s->paths[0],
                    "the %zu shards hold %llu tensors, split.tensors.count says %lld", s->n,
                    (unsigned long long)n, (long long)total);
    tensor_ref *refs = n && n <= SIZE_MAX / sizeof *refs ? calloc((size_t)n, sizeof *refs) : NULL;
    if (n && !refs)
        return fail(err, cap, GK_E_NOMEM, s->paths[0], "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        for (uint64_t t = 0; t < fmt_gguf_n_tensors(s->g[i]); t++)
            refs[k++] = (tensor_ref){fmt_gguf_tensor_at(s->g[i], t)->name, i};
    if (k)
        qsort(refs, k, sizeof *refs, by_name_then_shard);
    gk_status st = GK_OK;
    for (size_t i = 1; i < k && st == GK_OK; i++) {
        const tensor_ref *a = &refs[i - 1], *b = &refs[i];
        if (a->name.len == b->name.len &&
            memcmp(a->name.ptr, b->name.ptr, (size_t)a->name.len) == 0)
            st = fail(err, cap, GK_E_FORMAT, s->paths[b->shard], "tensor '%.*s' is also in %s",
                      (int)(a->name.len < SHOWN_NAME ? a->name.len : SHOWN_NAME), a->name.ptr,
                      s->paths[a->shard]);
    }
    free(refs);
    return st;
}

fmt_split *fmt_split_open(const char *path, gk_status *st, char *err, size_t errcap) {
    fmt_input *in = NULL;
    fmt_gguf *g = NULL;
    size_t prefix_len = 0, no = 0, count = 1;
    int64_t n_tensors = 0;
    fmt_split *s = NULL;
    if (errcap)
        err[0] = 0;
    *st = open_file(path, 0, &in, &g, err, errcap);
    if (*st == GK_OK)
        *st = find_layout(path, g, &prefix_len, &no, &count, err, errcap);
    /* the given file first, before count (perhaps from its name) allocates */
    if (*st == GK_OK && count > 1)
        *st = check_keys(g, path, no, count, &n_tensors, err, errcap);
    if (*st == GK_OK && !(s = set_alloc(count)))
        *st = fail(err, errcap, GK_E_NOMEM, path, "out of memory");
    if (*st != GK_OK) {
        fmt_gguf_close(g);
        fmt_input_close(in);
        return NULL;
    }
    s->in[no] = in;
    s->g[no] = g;
    if (count == 1 && !(s->paths[0] = strdup(path)))
        *st = fail(err, errcap, GK_E_NOMEM, path, "out of memory");
    if (count > 1 && (*st = open_shards(s, path, prefix_len, err, errcap)) == GK_OK)
        *st = check_tensors(s, err, errcap);
    if (*st != GK_OK) {
        fmt_split_close(s);
        return NULL;
    }
    return s;
}

size_t fmt_split_count(const fmt_split *s) {
    return s->n;
}

const char *const *fmt_split_paths(const fmt_split *s) {
    return (const char *const *)s->paths;
}

fmt_input *const *fmt_split_inputs(const fmt_split *s) {
    return s->in;
}

fmt_gguf *const *fmt_split_ggufs(const fmt_split *s) {
    return s->g;
}

void fmt_split_close(fmt_split *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        fmt_gguf_close(s->g ? s->g[i] : NULL);
        fmt_input_close(s->in ? s->in[i] : NULL);
        free(s->paths ? s->paths[i] : NULL);
    }
    free(s->paths);
    free(s->in);
    free(s->g);
    free(s);
}
