/*
 * safetensors.c -- safetensors reader: single files, directories and sharded
 * checkpoints (model.safetensors.index.json).
 *
 * File layout (huggingface/safetensors, safetensors/src/tensor.rs):
 *
 *   +----------------+---------------------------+-------------------------+
 *   | N: u64 LE      | header: N bytes of UTF-8  | data: tensors back to   |
 *   | (<= 100 MB)    | JSON object, may be       | back, offsets relative  |
 *   |                | padded with whitespace    | to the start of data    |
 *   +----------------+---------------------------+-------------------------+
 *   0                8                           8+N                     EOF
 *
 * The header maps tensor names to {"dtype", "shape", "data_offsets":
 * [begin, end]}, plus an optional "__metadata__" object of string -> string.
 * The reference accepts a file only when, after sorting the tensors by
 * data_offsets, each one begins exactly where the previous ended (the first
 * at 0), end >= begin, end - begin == elements * dtype size (without
 * overflow), and the last end is exactly the end of the file. We apply the
 * same rules, plus duplicate-key rejection (the JSON is parsed with
 * JSON_REJECT_DUPLICATES), and name the rule and the byte in each message.
 */
#include "io.h"
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_NAME "model.safetensors.index.json"
#define SINGLE_NAME "model.safetensors"
/* An index lists tensor -> file; even a 1e5-tensor model needs a few MB. */
#define MAX_INDEX_BYTES FMT_ST_MAX_HEADER

typedef struct {
    char *path;         /* as opened: index directory + "/" + name, or the user's path */
    const uint8_t *map; /* whole file, read-only */
    uint64_t size;      /* file size in bytes */
    fmt_map mapping;    /* when mapped here (else map is borrowed from the caller) */
} shard;

struct fmt_safetensors {
    shard *shards;
    uint32_t n_shards;
    fmt_st_tensor *tensors; /* shard order, then data-offset order */
    uint64_t n_tensors;
    uint64_t *by_name; /* indices into tensors, sorted by name */
    char **meta_keys;
    char **meta_vals;
    uint64_t n_meta;
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                     */
/* ------------------------------------------------------------------------ */

static _Thread_local char open_err[1024];

const char *fmt_safetensors_open_errmsg(void) {
    return open_err;
}

/* Record "FILE: message" for this thread and return code. */
static gk_status fail(gk_status code, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gk_status fail(gk_status code, const char *file, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat_errmsg(open_err, sizeof open_err, file, fmt, ap);
    va_end(ap);
    return code;
}

/* ------------------------------------------------------------------------ */
/* Dtypes                                                                     */
/* ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    size_t size;
} dtypes[FMT_ST_DTYPE_COUNT] = {
    [FMT_ST_F64] = {"F64", 8},         [FMT_ST_F32] = {"F32", 4},
    [FMT_ST_F16] = {"F16", 2},         [FMT_ST_BF16] = {"BF16", 2},
    [FMT_ST_I64] = {"I64", 8},         [FMT_ST_I32] = {"I32", 4},
    [FMT_ST_I16] = {"I16", 2},         [FMT_ST_I8] = {"I8", 1},
    [FMT_ST_U8] = {"U8", 1},           [FMT_ST_BOOL] = {"BOOL", 1},
    [FMT_ST_F8_E4M3] = {"F8_E4M3", 1}, [FMT_ST_F8_E5M2] = {"F8_E5M2", 1},
};

/* Dtypes the reference defines that we do not handle: valid files, but
 * GK_E_UNSUPPORTED rather than "malformed". */
static const char *const other_ref_dtypes[] = {
    "U16", "U32", "U64", "F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64",
};

const char *fmt_st_dtype_name(fmt_st_dtype d) {
    return (unsigned)d < FMT_ST_DTYPE_COUNT ? dtypes[d].name : "?";
}

size_t fmt_st_dtype_size(fmt_st_dtype d) {
    return (unsigned)d < FMT_ST_DTYPE_COUNT ? dtypes[d].size : 0;
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                              */
/* ------------------------------------------------------------------------ */

static uint64_t load_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Offset of the first byte that is not valid UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or len when all valid. */
static size_t utf8_bad_at(const uint8_t *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (len - i <= n)
            return i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

static int is_json_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char *join_path(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

/* Directory part of path ("." when it has none). Caller frees. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Grow *arr (of elem bytes each) so it holds at least need elements. */
static int grow(void *arr, uint64_t *cap, uint64_t need, size_t elem) {
    if (need <= *cap)
        return 1;
    uint64_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    if (nc > SIZE_MAX / elem)
        return 0;
    void *p = realloc(*(void **)arr, (size_t)nc * elem);
    if (!p)
        return 0;
    *(void **)arr = p;
    *cap = nc;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint64_t kcap, vcap;
} meta_buf;

static int meta_has(const fmt_safetensors *s, const char *key) {
    for (uint64_t i = 0; i < s->n_meta; i++)
        if (strcmp(s->meta_keys[i], key) == 0)
            return 1;
    return 0;
}

static int meta_add(fmt_safetensors *s, meta_buf *mb, const char *key, const char *val) {
    if (!grow(&s->meta_keys, &mb->kcap, s->n_meta + 1, sizeof(char *)) ||
        !grow(&s->meta_vals, &mb->vcap, s->n_meta + 1, sizeof(char *)))
        return 0;
    char *k = strdup(key), *v = strdup(val);
    if (!k || !v) {
        free(k);
        free(v);
        return 0;
    }
    s->meta_keys[s->n_meta] = k;
    s->meta_vals[s->n_meta] = v;
    s->n_meta++;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* One shard                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    fmt_st_tensor *v;
    uint64_t n, cap;
} tensor_vec;

/* Tensor under construction: begin/end relative to the data section. */
typedef struct {
    uint64_t begin, end;
    uint64_t idx; /* position in tensor_vec */
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Format shape as "[a, b, c]" into buf. */
static const char *shape_str(const fmt_st_tensor *t, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (uint32_t d = 0; d < t->n_dims && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
    return buf;
}

/* Non-negative JSON integer, or -1 when v is not one. */
static int64_t json_uint(const json_t *v) {
    if (!json_is_integer(v))
        return -1;
    json_int_t x = json_integer_value(v);
    return x < 0 ? -1 : (int64_t)x;
}

/* Fill t (name excluded) from one header entry; the byte offsets are
 * checked against each other later, after sorting. */
static gk_status parse_entry(const char *file, const char *name, json_t *info, fmt_st_tensor *t,
                             span *sp) {
    if (!json_is_object(info))
        return fail(GK_E_FORMAT, file, "tensor '%s': entry is not a JSON object", name);
    json_t *jd = json_object_get(info, "dtype");
    json_t *js = json_object_get(info, "shape");
    json_t *jo = json_object_get(info, "data_offsets");
    if (!jd || !js || !jo)
        return fail(GK_E_FORMAT, file, "tensor '%s': missing \"%s\"", name,
                    !jd   ? "dtype"
                    : !js ? "shape"
                          : "data_offsets");
    if (!json_is_string(jd))
        return fail(GK_E_FORMAT, file, "tensor '%s': dtype is not a string", name);
    const char *ds = json_string_value(jd);
    int found = -1;
    for (int d = 0; d < FMT_ST_DTYPE_COUNT; d++)
        if (strcmp(ds, dtypes[d].name) == 0)
            found = d;
    if (found < 0) {
        for (size_t k = 0; k < sizeof other_ref_dtypes / sizeof *other_ref_dtypes; k++)
            if (strcmp(ds, other_ref_dtypes[k]) == 0)
                return fail(GK_E_UNSUPPORTED, file, "tensor '%s': dtype %s is not supported", name,
                            ds);
        return fail(GK_E_FORMAT, file, "tensor '%s': unknown dtype '%s'", name, ds);
    }
    t->dtype = (fmt_st_dtype)found;

    if (!json_is_array(js))
        return fail(GK_E_FORMAT, file, "tensor '%s': shape is not an array", name);
    size_t nd = json_array_size(js);
    if (nd > FMT_ST_MAX_DIMS)
        return fail(GK_E_UNSUPPORTED, file, "tensor '%s': %zu dimensions, at most %d supported",
                    name, nd, FMT_ST_MAX_DIMS);
    t->n_dims = (uint32_t)nd;
    for (size_t d = 0; d < nd; d++) {
        int64_t v = json_uint(json_array_get(js, d));
        if (v < 0)
            return fail(GK_E_FORMAT, file, "tensor '%s': shape[%zu] is not a non-negative integer",
                        name, d);
        t->shape[d] = v;
    }

    if (!json_is_array(jo) || json_array_size(jo) != 2)
        return fail(GK_E_FORMAT, file, "tensor '%s': data_offsets is not an array [begin, end]",
                    name);
    int64_t b = json_uint(json_array_get(jo, 0)), e = json_uint(json_array_get(jo, 1));
    if (b < 0 || e < 0)
        return fail(GK_E_FORMAT, file, "tensor '%s': data_offsets are not non-negative integers",
                    name);
    sp->begin = (uint64_t)b;
    sp->end = (uint64_t)e;
    return GK_OK;
}

/* Element count and byte size with overflow checks (the reference's
 * ValidationOverflow). */
static gk_status tensor_size(const char *file, fmt_st_tensor *t) {
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t v = (uint64_t)t->shape[d];
        if (v && n > UINT64_MAX / v)
            goto overflow;
        n *= v;
    }
    uint64_t sz = dtypes[t->dtype].size;
    if (n > UINT64_MAX / sz)
        goto overflow;
    t->n_elements = n;
    t->size = n * sz;
    return GK_OK;
overflow:;
    char sb[256];
    return fail(GK_E_FORMAT, file, "tensor '%s': byte size of shape %s overflows 64 bits", t->name,
                shape_str(t, sb, sizeof sb));
}

/* Parse a header's "__metadata__" value: null or an object of strings.
 * Stores the entries when keep is set. */
static gk_status parse_metadata(fmt_safetensors *s, meta_buf *mb, const char *file, json_t *m,
                                int keep) {
    if (json_is_null(m))
        return GK_OK;
    if (!json_is_object(m))
        return fail(GK_E_FORMAT, file, "__metadata__ is not a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (!json_is_string(v))
            return fail(GK_E_FORMAT, file, "__metadata__ entry '%s' is not a string", k);
        if (keep && !meta_add(s, mb, k, json_string_value(v)))
            return fail(GK_E_NOMEM, file, "out of memory");
    }
    return GK_OK;
}

/* Map the shard's file into sh->map. */
static gk_status map_shard(shard *sh) {
    char msg[256];
    gk_status st = fmt_map_file(sh->path, 0, &sh->mapping, msg, sizeof msg);
    if (st)
        return fail(st, sh->path, "%s", msg);
    sh->map = sh->mapping.data;
    sh->size = sh->mapping.size;
    return GK_OK;
}

typedef struct {
    span *v;
    uint64_t n, cap;
} span_vec;

/* Check the 8-byte header length and the header bytes (valid UTF-8,
 * starting with '{'), then parse the JSON into *root; *hdr_len gets the
 * header length. */
static gk_status load_header(const shard *sh, json_t **root, uint64_t *hdr_len) {
    const char *file = sh->path;
    uint64_t size = sh->size;
    if (size < 8)
        return fail(GK_E_FORMAT, file,
                    "file is %llu bytes, too small for the 8-byte header length (at byte 0)",
                    (unsigned long long)size);

    uint64_t n = load_le64(sh->map);
    if (n > FMT_ST_MAX_HEADER)
        return fail(GK_E_FORMAT, file, "header length %llu exceeds the %u-byte limit (at byte 0)",
                    (unsigned long long)n, FMT_ST_MAX_HEADER);
    if (n > size - 8)
        return fail(GK_E_FORMAT, file,
                    "header length %llu runs past end of file (%llu bytes) (at byte 0)",
                    (unsigned long long)n, (unsigned long long)size);
    const uint8_t *hdr = sh->map + 8;
    size_t bad = utf8_bad_at(hdr, (size_t)n);
    if (bad < n)
        return fail(GK_E_FORMAT, file, "header is not valid UTF-8 (at byte %llu)",
                    (unsigned long long)(8 + bad));
    size_t first = 0;
    while (first < n && is_json_space(hdr[first]))
        first++;
    if (first == n || hdr[first] != '{')
        return fail(GK_E_FORMAT, file, "header does not start with '{' (at byte %llu)",
                    (unsigned long long)(8 + first));

    json_error_t jerr;
    *root = json_loadb((const char *)hdr, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root)
        return fail(GK_E_FORMAT, file, "header is not valid JSON: %s (at byte %llu)", jerr.text,
                    (unsigned long long)(8 + (uint64_t)(jerr.position > 0 ? jerr.position : 0)));
    *hdr_len = n;
    return GK_OK;
}

/* Append one tensor (shard si) to tv and its span to sv per header entry;
 * __metadata__ is checked, and stored when keep_meta is set. */
static gk_status collect_entries(fmt_safetensors *s, meta_buf *mb, uint32_t si, json_t *root,
                                 tensor_vec *tv, span_vec *sv, int keep_meta) {
    const char *file = s->shards[si].path;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            gk_status rc = parse_metadata(s, mb, file, val, keep_meta);
            if (rc)
                return rc;
            continue;
        }
        if (!grow(&tv->v, &tv->cap, tv->n + 1, sizeof *tv->v) ||
            !grow(&sv->v, &sv->cap, sv->n + 1, sizeof *sv->v))
            return fail(GK_E_NOMEM, file, "out of memory");
        fmt_st_tensor *t = &tv->v[tv->n];
        memset(t, 0, sizeof *t);
        t->name = strdup(key);
        if (!t->name)
            return fail(GK_E_NOMEM, file, "out of memory");
        tv->n++;
        t->shard = si;
        span *sp = &sv->v[sv->n];
        sp->idx = tv->n - 1;
        gk_status rc = parse_entry(file, key, val, t, sp);
        if (rc)
            return rc;
        sv->n++;
    }
    return GK_OK;
}

/* The data section [data_start + 0, data_start + end) must be the whole
 * rest of the file. */
static gk_status check_coverage(const char *file, uint64_t data_start, uint64_t end,
                                uint64_t size) {
    /* Both sides are below 2^63 + 1e8 + 8: no overflow. */
    if (data_start + end == size)
        return GK_OK;
    if (data_start + end < size)
        return fail(GK_E_FORMAT, file,
                    "%llu bytes after the last tensor: data does not cover the file "
                    "(at byte %llu)",
                    (unsigned long long)(size - data_start - end),
                    (unsigned long long)(data_start + end));
    return fail(GK_E_FORMAT, file,
                "tensor data ends at byte %llu, past end of file (%llu bytes) "
                "(at byte %llu)",
                (unsigned long long)(data_start + end), (unsigned long long)size,
                (unsigned long long)size);
}

/* Sorts the spans as the reference does, by (begin, end), and walks them:
 * they must tile the data section without gap or overlap, each holding
 * exactly its tensor's bytes, up to the end of the file. */
static gk_status check_spans(const char *file, tensor_vec *tv, span_vec *sv, uint64_t data_start,
                             uint64_t size) {
    if (sv->n)
        qsort(sv->v, (size_t)sv->n, sizeof *sv->v, span_cmp);
    uint64_t expect = 0;
    for (uint64_t i = 0; i < sv->n; i++) {
        fmt_st_tensor *t = &tv->v[sv->v[i].idx];
        uint64_t b = sv->v[i].begin, e2 = sv->v[i].end;
        if (e2 < b)
            return fail(GK_E_FORMAT, file,
                        "tensor '%s': data_offsets [%llu, %llu] end before they begin", t->name,
                        (unsigned long long)b, (unsigned long long)e2);
        if (b < expect)
            return fail(GK_E_FORMAT, file,
                        "tensor '%s': data_offsets [%llu, %llu] overlap the previous tensor, "
                        "which ends at %llu (at byte %llu)",
                        t->name, (unsigned long long)b, (unsigned long long)e2,
                        (unsigned long long)expect, (unsigned long long)(data_start + b));
        if (b > expect)
            return fail(GK_E_FORMAT, file,
                        "tensor '%s': data_offsets [%llu, %llu] leave a gap of %llu bytes "
                        "after offset %llu (at byte %llu)",
                        t->name, (unsigned long long)b, (unsigned long long)e2,
                        (unsigned long long)(b - expect), (unsigned long long)expect,
                        (unsigned long long)(data_start + expect));
        gk_status rc = tensor_size(file, t);
        if (rc)
            return rc;
        if (e2 - b != t->size) {
            char sbuf[256];
            return fail(GK_E_FORMAT, file,
                        "tensor '%s': data_offsets [%llu, %llu] hold %llu bytes but %s %s needs "
                        "%llu (at byte %llu)",
                        t->name, (unsigned long long)b, (unsigned long long)e2,
                        (unsigned long long)(e2 - b), dtypes[t->dtype].name,
                        shape_str(t, sbuf, sizeof sbuf), (unsigned long long)t->size,
                        (unsigned long long)(data_start + b));
        }
        expect = e2;
    }
    return check_coverage(file, data_start, expect, size);
}

/* Reorder the shard's tensors (from tv->v[first_t]) into data order and
 * resolve their pointers into the mapping. */
static gk_status place_tensors(const shard *sh, tensor_vec *tv, uint64_t first_t,
                               const span_vec *sv, uint64_t data_start) {
    if (!sv->n)
        return GK_OK;
    fmt_st_tensor *tmp = malloc((size_t)sv->n * sizeof *tmp);
    if (!tmp)
        return fail(GK_E_NOMEM, sh->path, "out of memory");
    for (uint64_t i = 0; i < sv->n; i++) {
        tmp[i] = tv->v[sv->v[i].idx];
        tmp[i].offset = data_start + sv->v[i].begin;
        tmp[i].data = sh->map + tmp[i].offset;
    }
    memcpy(tv->v + first_t, tmp, (size_t)sv->n * sizeof *tmp);
    free(tmp);
    return GK_OK;
}

/* Validate the safetensors bytes of shard si (already in sh->map); append
 * its tensors to tv in data order. keep_meta: store its __metadata__. */
static gk_status parse_shard(fmt_safetensors *s, meta_buf *mb, uint32_t si, tensor_vec *tv,
                             int keep_meta) {
    shard *sh = &s->shards[si];
    json_t *root = NULL;
    uint64_t n = 0;
    gk_status rc = load_header(sh, &root, &n);
    if (rc)
        return rc;
    uint64_t data_start = 8 + n;
    uint64_t first_t = tv->n;
    span_vec sv = {0};
    rc = collect_entries(s, mb, si, root, tv, &sv, keep_meta);
    if (!rc)
        rc = check_spans(sh->path, tv, &sv, data_start, sh->size);
    if (!rc)
        rc = place_tensors(sh, tv, first_t, &sv, data_start);
    free(sv.v);
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Index                                                                      */
/* ------------------------------------------------------------------------ */

static int str_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A weight_map file must be a plain name of a file in dir and, after
 * following symlinks, still lie directly in dir (fmt_path_inside: or in
 * the hub cache's blobs directory when dir is a hub snapshot). */
static gk_status check_shard_name(const char *index, const char *dir, const char *name) {
    if (!*name)
        return fail(GK_E_FORMAT, index, "weight_map names an empty file name");
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return fail(GK_E_FORMAT, index,
                    "weight_map file '%s' is not a plain file name in the index's directory", name);
    char *p = join_path(dir, name);
    if (!p)
        return fail(GK_E_NOMEM, index, "out of memory");
    char msg[128];
    gk_status st = fmt_path_inside(dir, p, 0, msg, sizeof msg);
    free(p);
    if (st == GK_E_FORMAT)
        return fail(st, index, "weight_map file '%s' resolves outside the index's directory", name);
    if (st != GK_OK)
        return fail(strcmp(msg, "does not exist") == 0 ? GK_E_FORMAT : st, index,
                    "weight_map file '%s': %s", name, msg);
    return GK_OK;
}

/* Read and parse the index JSON into *root. */
static gk_status load_index_json(const char *index, json_t **root) {
    int fd;
    char msg[128];
    if (fmt_open_regular(index, &fd, msg, sizeof msg) != GK_OK)
        return fail(GK_E_IO, index, "%s", msg);
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return fail(GK_E_IO, index, "cannot stat: %s", strerror(errno));
    }
    if ((uint64_t)sb.st_size > MAX_INDEX_BYTES) {
        close(fd);
        return fail(GK_E_FORMAT, index, "index is %llu bytes, over the %u-byte limit",
                    (unsigned long long)sb.st_size, MAX_INDEX_BYTES);
    }
    size_t len = (size_t)sb.st_size;
    char *buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        return fail(GK_E_NOMEM, index, "out of memory");
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail(GK_E_IO, index, "read failed: %s", r ? strerror(e) : "file shrank");
        }
        got += (size_t)r;
    }
    close(fd);
    size_t bad = utf8_bad_at((const uint8_t *)buf, len);
    if (bad < len) {
        free(buf);
        return fail(GK_E_FORMAT, index, "not valid UTF-8 (at byte %zu)", bad);
    }
    json_error_t jerr;
    *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!*root)
        return fail(GK_E_FORMAT, index, "not valid JSON: %s (at byte %lld)", jerr.text,
                    (long long)(jerr.position > 0 ? jerr.position : 0));
    if (!json_is_object(*root))
        return fail(GK_E_FORMAT, index, "not a JSON object");
    return GK_OK;
}

/* Add the index's "metadata" (values are usually numbers, e.g. total_size). */
static gk_status index_metadata(fmt_safetensors *s, meta_buf *mb, const char *index, json_t *m) {
    if (!m || json_is_null(m))
        return GK_OK;
    if (!json_is_object(m))
        return fail(GK_E_FORMAT, index, "\"metadata\" is not a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        char num[64];
        const char *str = NULL;
        if (json_is_string(v))
            str = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), str = num;
        else if (json_is_real(v))
            snprintf(num, sizeof num, "%.17g", json_real_value(v)), str = num;
        else if (json_is_boolean(v))
            str = json_is_true(v) ? "true" : "false";
        if (str && !meta_has(s, k) && !meta_add(s, mb, k, str))
            return fail(GK_E_NOMEM, index, "out of memory");
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Open / close                                                               */
/* ------------------------------------------------------------------------ */

static int by_name_cmp(const void *a, const void *b, void *ctx) {
    const fmt_st_tensor *t = ctx;
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    int c = strcmp(t[x].name, t[y].name);
    return c ? c : (x > y) - (x < y); /* ties in shard order: stable messages */
}

/* Build the by-name index; reject a name present twice (possible only
 * across shards: JSON_REJECT_DUPLICATES catches it within one header). */
static gk_status build_name_index(fmt_safetensors *s) {
    if (!s->n_tensors)
        return GK_OK;
    s->by_name = malloc((size_t)s->n_tensors * sizeof *s->by_name);
    if (!s->by_name)
        return fail(GK_E_NOMEM, "safetensors", "out of memory");
    for (uint64_t i = 0; i < s->n_tensors; i++)
        s->by_name[i] = i;
    qsort_r(s->by_name, (size_t)s->n_tensors, sizeof *s->by_name, by_name_cmp, s->tensors);
    for (uint64_t i = 1; i < s->n_tensors; i++) {
        const fmt_st_tensor *a = &s->tensors[s->by_name[i - 1]];
        const fmt_st_tensor *b = &s->tensors[s->by_name[i]];
        if (strcmp(a->name, b->name) == 0)
            return fail(GK_E_FORMAT, s->shards[b->shard].path, "tensor '%s' is also in %s", b->name,
                        s->shards[a->shard].path);
    }
    return GK_OK;
}

static gk_status open_single(fmt_safetensors *s, const char *path) {
    meta_buf mb = {0};
    s->shards = calloc(1, sizeof *s->shards);
    if (!s->shards || !(s->shards[0].path = strdup(path)))
        return fail(GK_E_NOMEM, path, "out of memory");
    s->n_shards = 1;
    tensor_vec tv = {0};
    gk_status rc = map_shard(&s->shards[0]);
    if (!rc)
        rc = parse_shard(s, &mb, 0, &tv, 1);
    s->tensors = tv.v;
    s->n_tensors = tv.n;
    if (rc)
        return rc;
    return build_name_index(s);
}

/* The index's directory as given (*dir). */
static gk_status index_dir(const char *index, char **dir) {
    *dir = dir_of(index);
    if (!*dir)
        return fail(GK_E_NOMEM, index, "out of memory");
    return GK_OK;
}

/* Shards: the distinct file names of the weight map, sorted (as
 * transformers does). *names (borrowed strings from wm) is the caller's
 * to free, also on failure. */
static gk_status shard_names(const char *index, json_t *wm, const char ***names, size_t *n_unique) {
    size_t n_map = json_object_size(wm);
    if (!n_map) /* callers may assume at least one shard */
        return fail(GK_E_FORMAT, index, "\"weight_map\" lists no tensors");
    const char **nm = *names = malloc((n_map ? n_map : 1) * sizeof *nm);
    if (!nm)
        return fail(GK_E_NOMEM, index, "out of memory");
    size_t k = 0;
    const char *tname;
    json_t *fv;
    json_object_foreach(wm, tname, fv) {
        if (!json_is_string(fv))
            return fail(GK_E_FORMAT, index, "weight_map entry '%s' is not a string", tname);
        nm[k++] = json_string_value(fv);
    }
    qsort(nm, k, sizeof *nm, str_cmp);
    size_t n = 0;
    for (size_t i = 0; i < k; i++)
        if (i == 0 || strcmp(nm[i], nm[i - 1]) != 0)
            nm[n++] = nm[i];
    if (n > UINT32_MAX)
        return fail(GK_E_UNSUPPORTED, index, "too many shards");
    *n_unique = n;
    return GK_OK;
}

/* Check, map and parse every shard file in turn; the first one's
 * __metadata__ is kept. */
static gk_status open_shards(fmt_safetensors *s, meta_buf *mb, tensor_vec *tv, const char *index,
                             const char *dir, const char **names, size_t n_unique) {
    s->shards = calloc(n_unique ? n_unique : 1, sizeof *s->shards);
    if (!s->shards)
        return fail(GK_E_NOMEM, index, "out of memory");
    for (size_t i = 0; i < n_unique; i++) {
        gk_status rc = check_shard_name(index, dir, names[i]);
        if (rc)
            return rc;
        s->shards[i].path = join_path(dir, names[i]);
        if (!s->shards[i].path)
            return fail(GK_E_NOMEM, index, "out of memory");
        s->n_shards = (uint32_t)i + 1;
        rc = map_shard(&s->shards[i]);
        if (!rc)
            rc = parse_shard(s, mb, (uint32_t)i, tv, i == 0);
        if (rc)
            return rc;
    }
    return GK_OK;
}

/* Every mapped tensor is in exactly the shard the map names (names[i] is
 * shard i's file name), and no shard holds a tensor the map does not list
 * (transformers would load it as an unexpected key; we refuse the
 * inconsistency). */
static gk_status check_weight_map(const fmt_safetensors *s, const char *index, json_t *wm,
                                  const char **names) {
    const char *tname;
    json_t *fv;
    json_object_foreach(wm, tname, fv) {
        const fmt_st_tensor *t = fmt_safetensors_find(s, tname);
        const char *want = json_string_value(fv);
        if (!t)
            return fail(GK_E_FORMAT, index, "tensor '%s' is mapped to '%s' but is not in it", tname,
                        want);
        if (strcmp(names[t->shard], want) != 0)
            return fail(GK_E_FORMAT, index, "tensor '%s' is mapped to '%s' but is in '%s'", tname,
                        want, names[t->shard]);
    }
    for (uint64_t i = 0; i < s->n_tensors; i++)
        if (!json_object_get(wm, s->tensors[i].name))
            return fail(GK_E_FORMAT, s->shards[s->tensors[i].shard].path,
                        "holds tensor '%s', which %s does not list", s->tensors[i].name, index);
    return GK_OK;
}

static gk_status open_index(fmt_safetensors *s, const char *index) {
    json_t *root = NULL;
    char *dir = NULL;
    const char **names = NULL;
    size_t n_unique = 0;
    meta_buf mb = {0};
    tensor_vec tv = {0};
    gk_status rc = load_index_json(index, &root);
    if (rc)
        goto out;
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm)) {
        rc = fail(GK_E_FORMAT, index, "\"weight_map\" is %s", wm ? "not a JSON object" : "missing");
        goto out;
    }
    if ((rc = index_dir(index, &dir)) || (rc = shard_names(index, wm, &names, &n_unique)) ||
        (rc = open_shards(s, &mb, &tv, index, dir, names, n_unique)))
        goto out;
    s->tensors = tv.v;
    s->n_tensors = tv.n;
    tv.v = NULL;
    if (!(rc = build_name_index(s)) &&
        !(rc = index_metadata(s, &mb, index, json_object_get(root, "metadata"))))
        rc = check_weight_map(s, index, wm, names);
out:
    if (tv.v) {
        s->tensors = tv.v;
        s->n_tensors = tv.n;
    }
    free(names);
    free(dir);
    json_decref(root);
    return rc;
}

fmt_safetensors *fmt_safetensors_open(const char *path, gk_status *st) {
    open_err[0] = '\0';
    fmt_safetensors *s = calloc(1, sizeof *s);
    if (!s) {
        *st = fail(GK_E_NOMEM, path, "out of memory");
        return NULL;
    }
    gk_status rc;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        rc = fail(GK_E_IO, path, "cannot open: %s", strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        char *idx = join_path(path, INDEX_NAME), *one = join_path(path, SINGLE_NAME);
        if (!idx || !one)
            rc = fail(GK_E_NOMEM, path, "out of memory");
        else if (access(idx, F_OK) == 0)
            rc = open_index(s, idx);
        else if (access(one, F_OK) == 0)
            rc = open_single(s, one);
        else
            rc = fail(GK_E_IO, path, "directory has neither %s nor %s", INDEX_NAME, SINGLE_NAME);
        free(idx);
        free(one);
    } else {
        size_t l = strlen(path);
        if (l >= 5 && strcmp(path + l - 5, ".json") == 0)
            rc = open_index(s, path);
        else
            rc = open_single(s, path);
    }
    *st = rc;
    if (rc) {
        fmt_safetensors_close(s);
        return NULL;
    }
    return s;
}

fmt_safetensors *fmt_safetensors_open_mem(const uint8_t *buf, size_t len, const char *label,
                                          gk_status *st) {
    open_err[0] = '\0';
    meta_buf mb = {0};
    tensor_vec tv = {0};
    fmt_safetensors *s = calloc(1, sizeof *s);
    if (!s || !(s->shards = calloc(1, sizeof *s->shards)) || !(s->shards[0].path = strdup(label))) {
        *st = fail(GK_E_NOMEM, label, "out of memory");
        fmt_safetensors_close(s);
        return NULL;
    }
    s->n_shards = 1;
    s->shards[0].map = buf;
    s->shards[0].size = len;
    gk_status rc = parse_shard(s, &mb, 0, &tv, 1);
    s->tensors = tv.v;
    s->n_tensors = tv.n;
    if (!rc)
        rc = build_name_index(s);
    *st = rc;
    if (rc) {
        fmt_safetensors_close(s);
        return NULL;
    }
    return s;
}

void fmt_safetensors_close(fmt_safetensors *s) {
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_shards; i++) {
        fmt_unmap(&s->shards[i].mapping);
        free(s->shards[i].path);
    }
    free(s->shards);
    for (uint64_t i = 0; i < s->n_tensors; i++)
        free((char *)s->tensors[i].name);
    free(s->tensors);
    free(s->by_name);
    for (uint64_t i = 0; i < s->n_meta; i++) {
        free(s->meta_keys[i]);
        free(s->meta_vals[i]);
    }
    free(s->meta_keys);
    free(s->meta_vals);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                  */
/* ------------------------------------------------------------------------ */

uint64_t fmt_safetensors_n_tensors(const fmt_safetensors *s) {
    return s->n_tensors;
}

const fmt_st_tensor *fmt_safetensors_tensor_at(const fmt_safetensors *s, uint64_t i) {
    return i < s->n_tensors ? &s->tensors[i] : NULL;
}

const fmt_st_tensor *fmt_safetensors_find(const fmt_safetensors *s, const char *name) {
    if (!s->by_name)
        return NULL;
    uint64_t lo = 0, hi = s->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        const fmt_st_tensor *t = &s->tensors[s->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0)
            return t;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

uint32_t fmt_safetensors_n_shards(const fmt_safetensors *s) {
    return s->n_shards;
}

const char *fmt_safetensors_shard_path(const fmt_safetensors *s, uint32_t shard_i) {
    return shard_i < s->n_shards ? s->shards[shard_i].path : NULL;
}

uint64_t fmt_safetensors_n_metadata(const fmt_safetensors *s) {
    return s->n_meta;
}

void fmt_safetensors_metadata_at(const fmt_safetensors *s, uint64_t i, const char **key,
                                 const char **value) {
    *key = i < s->n_meta ? s->meta_keys[i] : NULL;
    *value = i < s->n_meta ? s->meta_vals[i] : NULL;
}
