/*
 * manifest.c -- manifests of tensor digests in llama-gguf-hash's line
 * format, sha256sum lines for whole files, and checking a manifest against
 * the files it names (the verdict rules of sha256sum -c / xxhsum -c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "verify/verify.h"

/* ------------------------------------------------------------------------ */
/* Writing                                                                    */
/* ------------------------------------------------------------------------ */

static int line(FILE *f, vfy_hash_kind k, const char *hex, const char *file, const char *tensor) {
    /* llama-gguf-hash: printf("%-8s  %-s  %s\n", type, hex, name) */
    if (tensor)
        return fprintf(f, "%-8s  %s  %s:%s\n", vfy_hash_name(k), hex, file, tensor) < 0;
    return fprintf(f, "%-8s  %s  %s\n", vfy_hash_name(k), hex, file) < 0;
}

gk_status vfy_manifest_write(FILE *f, const char *file, const fmt_gguf *g, const vfy_gguf_hashes *h,
                             unsigned kinds, int per_tensor) {
    int bad = 0;
    if (per_tensor && h->tensor) {
        for (uint64_t i = 0; i < h->n_tensors; i++) {
            const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
            char name[FMT_GGUF_MAX_NAME * 4 + 1];
            size_t len = t->name.len < sizeof name - 1 ? (size_t)t->name.len : sizeof name - 1;
            memcpy(name, t->name.ptr, len);
            name[len] = '\0';
            for (int k = 0; k < VFY_HASH_UUID; k++)
                if (kinds & (1u << k))
                    bad |= line(f, (vfy_hash_kind)k, h->tensor[i][k], file, name);
        }
    }
    for (int k = 0; k < VFY_HASH_COUNT; k++)
        if (kinds & (1u << k))
            bad |= line(f, (vfy_hash_kind)k, h->model[k], file, NULL);
    return bad ? GK_E_IO : GK_OK;
}

gk_status vfy_manifest_write_whole(FILE *f, const char *file, const char *hex) {
    /* GNU coreutils: a name with '\\' or '\n' gets a leading '\\' and escapes */
    int esc = strpbrk(file, "\\\n") != NULL;
    int bad = fprintf(f, "%s%s  ", esc ? "\\" : "", hex) < 0;
    for (const char *p = file; *p && !bad; p++) {
        if (esc && *p == '\\')
            bad = fputs("\\\\", f) < 0;
        else if (esc && *p == '\n')
            bad = fputs("\\n", f) < 0;
        else
            bad = putc(*p, f) == EOF;
    }
    bad |= putc('\n', f) == EOF;
    return bad ? GK_E_IO : GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    vfy_hash_kind kind;
    char hex[VFY_HASH_HEX_MAX];
    char *name;     /* as written (unescaped) */
    char *file;     /* file part (points into name's copy, see split) */
    char *tensor;   /* tensor part or NULL */
    int whole_file; /* sha256sum line: SHA-256 of the whole file */
    uint64_t line;
    size_t file_ix;
} entry;

static int is_hex(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)p[i]))
            return 0;
    return 1;
}

static int good_digest(vfy_hash_kind k, const char *p, size_t n) {
    if (n != vfy_hash_hex_len(k))
        return 0;
    if (k != VFY_HASH_UUID)
        return is_hex(p, n);
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? p[i] != '-' : !isxdigit((unsigned char)p[i]))
            return 0;
    }
    return 1;
}

static void lower_copy(char *dst, const char *src, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[n] = '\0';
}

/* Parse one line (without its newline). 1 = entry filled, 0 = malformed,
 * -1 = out of memory. */
static int parse_line(const char *s, size_t n, entry *e) {
    memset(e, 0, sizeof *e);
    size_t i = 0;
    while (i < n && !isspace((unsigned char)s[i]))
        i++;
    int k = vfy_hash_from_name(s, i);
    if (k >= 0) {
        size_t h0 = i;
        while (h0 < n && isspace((unsigned char)s[h0]))
            h0++;
        size_t h1 = h0;
        while (h1 < n && !isspace((unsigned char)s[h1]))
            h1++;
        size_t n0 = h1;
        while (n0 < n && isspace((unsigned char)s[n0]))
            n0++;
        if (h0 == i || n0 == h1 || n0 == n || !good_digest((vfy_hash_kind)k, s + h0, h1 - h0))
            return 0;
        e->kind = (vfy_hash_kind)k;
        lower_copy(e->hex, s + h0, h1 - h0);
        e->name = strndup(s + n0, n - n0);
        return e->name ? 1 : -1;
    }
    /* sha256sum: [\]HEX64 ' ' (' '|'*') NAME */
    int esc = n > 0 && s[0] == '\\';
    const char *h = s + esc;
    size_t rest = n - (size_t)esc;
    if (rest < 64 + 3 || !is_hex(h, 64) || h[64] != ' ' || (h[65] != ' ' && h[65] != '*'))
        return 0;
    e->kind = VFY_HASH_SHA256;
    e->whole_file = 1;
    lower_copy(e->hex, h, 64);
    const char *p = h + 66, *end = s + n;
    char *out = e->name = malloc((size_t)(end - p) + 1);
    if (!out)
        return -1;
    for (; p < end; p++) {
        if (esc && *p == '\\' && p + 1 < end && (p[1] == '\\' || p[1] == 'n')) {
            *out++ = p[1] == 'n' ? '\n' : '\\';
            p++;
        } else if (esc && *p == '\\') {
            free(e->name);
            e->name = NULL;
            return 0;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Checking                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    vfy_check_result *res;
    size_t cap_items, cap_errors;
    int nomem;
} acc;

static void add_item(acc *a, const char *file, const char *tensor, vfy_hash_kind k, uint64_t line,
                     vfy_check_status st) {
    vfy_check_result *r = a->res;
    if (r->n_items == a->cap_items) {
        size_t cap = a->cap_items ? a->cap_items * 2 : 64;
        vfy_check_item *p = realloc(r->items, cap * sizeof *p);
        if (!p) {
            a->nomem = 1;
            return;
        }
        r->items = p;
        a->cap_items = cap;
    }
    size_t len = strlen(file) + (tensor ? strlen(tensor) + 1 : 0) + 1;
    char *name = malloc(len);
    if (!name) {
        a->nomem = 1;
        return;
    }
    snprintf(name, len, tensor ? "%s:%s" : "%s", file, tensor ? tensor : "");
    r->items[r->n_items++] = (vfy_check_item){name, k, line, st};
    switch (st) {
    case VFY_CHECK_OK: r->n_ok++; break;
    case VFY_CHECK_FAILED: r->n_failed++; break;
    case VFY_CHECK_MISSING: r->n_missing++; break;
    case VFY_CHECK_EXTRA: r->n_extra++; break;
    case VFY_CHECK_UNREADABLE: r->n_unreadable++; break;
    case VFY_CHECK_SKIPPED: r->n_skipped++; break;
    }
}

static void add_error(acc *a, const char *file, const char *msg) {
    vfy_check_result *r = a->res;
    if (r->n_errors == a->cap_errors) {
        size_t cap = a->cap_errors ? a->cap_errors * 2 : 4;
        char **p = realloc(r->errors, cap * sizeof *p);
        if (!p) {
            a->nomem = 1;
            return;
        }
        r->errors = p;
        a->cap_errors = cap;
    }
    size_t len = strlen(file) + strlen(msg) + 3;
    char *s = malloc(len);
    if (!s) {
        a->nomem = 1;
        return;
    }
    snprintf(s, len, "%s: %s", file, msg);
    r->errors[r->n_errors++] = s;
}

/* Every entry of file fi gets status st (open failures). */
static void all_entries(acc *a, entry *e, const size_t *ix, size_t nix, const char *file,
                        vfy_check_status st) {
    for (size_t q = 0; q < nix; q++)
        add_item(a, file, e[ix[q]].tensor, e[ix[q]].kind, e[ix[q]].line, st);
}

/* Whole-file SHA-256 lines of file fi. */
static void check_whole(acc *a, entry *e, const size_t *ix, size_t nix, const char *file) {
    char err[512], hex[VFY_HASH_HEX_MAX];
    struct stat sb;
    gk_status st = GK_E_IO;
    /* names come from the manifest: hash regular files only (a device such
     * as /dev/zero would never end) */
    if (stat(file, &sb) != 0)
        snprintf(err, sizeof err, "cannot open: %s", strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        snprintf(err, sizeof err, "not a regular file");
    else
        st = vfy_hash_file(file, VFY_HASH_SHA256, hex, err, sizeof err);
    for (size_t q = 0; q < nix; q++) {
        size_t i = ix[q];
        if (!e[i].whole_file)
            continue;
        vfy_check_status s = st != GK_OK             ? VFY_CHECK_UNREADABLE
                             : strcmp(hex, e[i].hex) ? VFY_CHECK_FAILED
                                                     : VFY_CHECK_OK;
        add_item(a, file, NULL, VFY_HASH_SHA256, e[i].line, s);
    }
    if (st != GK_OK)
        add_error(a, file, err);
}

/* llama-gguf-hash lines of file fi. */
static void check_gguf(acc *a, entry *e, const size_t *ix, size_t nix, const char *file,
                       const vfy_check_opts *o) {
    char err[512];
    gk_status st;
    unsigned kinds = 0, tensor_kinds = 0;
    for (size_t q = 0; q < nix; q++) {
        size_t i = ix[q];
        if (e[i].whole_file)
            continue;
        kinds |= 1u << e[i].kind;
        if (e[i].tensor)
            tensor_kinds |= 1u << e[i].kind;
    }
    if (!kinds)
        return;
    fmt_gguf *g = NULL;
    vfy_gguf_hashes h = {0};
    fmt_input *in = fmt_input_open(file, NULL, &st, err, sizeof err);
    if (in && !(g = fmt_gguf_open(in, &st)))
        snprintf(err, sizeof err, "%s", fmt_gguf_open_errmsg());
    vfy_hash_opts ho = {kinds, tensor_kinds != 0, o->nthreads, o->progress};
    if (g)
        st = vfy_hash_gguf(g, in, &ho, &h, err, sizeof err);
    if (st != GK_OK) {
        for (size_t q = 0; q < nix; q++)
            if (!e[ix[q]].whole_file)
                add_item(a, file, e[ix[q]].tensor, e[ix[q]].kind, e[ix[q]].line,
                         VFY_CHECK_UNREADABLE);
        add_error(a, file, err);
        goto done;
    }
    uint64_t n = fmt_gguf_n_tensors(g);
    uint8_t *seen = calloc(n ? (size_t)n : 1, VFY_HASH_COUNT);
    if (!seen) {
        a->nomem = 1;
        goto done;
    }
    for (size_t q = 0; q < nix; q++) {
        size_t i = ix[q];
        if (e[i].whole_file)
            continue;
        const char *got = e[i].kind == VFY_HASH_UUID && e[i].tensor ? "" : h.model[e[i].kind];
        vfy_check_status s;
        if (e[i].tensor) {
            int64_t ti = fmt_gguf_tensor_index(g, e[i].tensor);
            if (ti < 0) {
                add_item(a, file, e[i].tensor, e[i].kind, e[i].line,
                         o->ignore_missing ? VFY_CHECK_SKIPPED : VFY_CHECK_MISSING);
                continue;
            }
            seen[(size_t)ti * VFY_HASH_COUNT + e[i].kind] = 1;
            if (e[i].kind != VFY_HASH_UUID)
                got = h.tensor[ti][e[i].kind];
        }
        s = strcmp(got, e[i].hex) ? VFY_CHECK_FAILED : VFY_CHECK_OK;
        add_item(a, file, e[i].tensor, e[i].kind, e[i].line, s);
    }
    for (int k = 0; k < VFY_HASH_COUNT; k++) {
        if (!(tensor_kinds & (1u << k)))
            continue;
        for (uint64_t t = 0; t < n; t++) {
            if (seen[t * VFY_HASH_COUNT + (uint64_t)k])
                continue;
            const fmt_gguf_tensor *ti = fmt_gguf_tensor_at(g, t);
            char *tn = strndup(ti->name.ptr, (size_t)ti->name.len);
            if (!tn) {
                a->nomem = 1;
                break;
            }
            add_item(a, file, tn, (vfy_hash_kind)k, 0, VFY_CHECK_EXTRA);
            free(tn);
        }
    }
    free(seen);
done:
    vfy_gguf_hashes_free(&h);
    fmt_gguf_close(g);
    fmt_input_close(in);
}

/* A byte range of a name, for sorted lookups. */
typedef struct {
    const char *p;
    size_t n;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* File name, then line index (a span's n holds the index here). */
static int by_file(const void *a, const void *b) {
    const span *x = a, *y = b;
    int c = strcmp(x->p, y->p);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static int has(const span *set, size_t n, const char *p, size_t len) {
    span k = {p, len};
    return n && bsearch(&k, set, n, sizeof *set, span_cmp) != NULL;
}

/* Split llama-gguf-hash names into file and tensor parts (in place), in
 * O(n log n): whole-model names are those without ':', those that other
 * lines' names continue with ':', and existing files. -1 when out of
 * memory. */
static int split_names(entry *e, size_t ne) {
    size_t cap = ne + 1, na = 0, nm = 0;
    for (size_t i = 0; i < ne; i++)
        for (const char *c = strchr(e[i].name, ':'); c; c = strchr(c + 1, ':'))
            cap++;
    span *all = malloc(cap * sizeof *all), *models = malloc(cap * sizeof *models);
    if (!all || !models) {
        free(all);
        free(models);
        return -1;
    }
    for (size_t i = 0; i < ne; i++) {
        e[i].file = e[i].name;
        if (!e[i].whole_file)
            all[na++] = (span){e[i].name, strlen(e[i].name)};
    }
    qsort(all, na, sizeof *all, span_cmp);
    for (size_t i = 0; i < ne; i++) {
        if (e[i].whole_file)
            continue;
        const char *name = e[i].name;
        struct stat sb;
        int model = !strchr(name, ':') || (stat(name, &sb) == 0 && S_ISREG(sb.st_mode));
        for (const char *c = strchr(name, ':'); c; c = strchr(c + 1, ':'))
            if (has(all, na, name, (size_t)(c - name)))
                models[nm++] = (span){name, (size_t)(c - name)};
        if (model)
            models[nm++] = (span){name, strlen(name)};
    }
    qsort(models, nm, sizeof *models, span_cmp);
    for (size_t i = 0; i < ne; i++) {
        char *name = e[i].name;
        if (e[i].whole_file || has(models, nm, name, strlen(name)))
            continue;
        char *cut = strrchr(name, ':');
        for (char *c = cut; c; c = c > name ? memrchr(name, ':', (size_t)(c - name)) : NULL)
            if (has(models, nm, name, (size_t)(c - name))) {
                cut = c;
                break;
            }
        *cut = '\0';
        e[i].tensor = cut + 1;
    }
    free(all);
    free(models);
    return 0;
}

gk_status vfy_check_manifest(const char *text, size_t len, const vfy_check_opts *o,
                             vfy_check_result *res) {
    memset(res, 0, sizeof *res);
    acc a = {.res = res};
    entry *e = NULL;
    size_t ne = 0, cap = 0, cap_bad = 0;
    char **files = NULL;
    span *order = NULL;
    size_t *ix = NULL, *start = NULL;
    size_t nfiles = 0;
    gk_status st = GK_OK;

    uint64_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        lineno++;
        if (n && s[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        if (ne == cap) {
            cap = cap ? cap * 2 : 64;
            entry *p = realloc(e, cap * sizeof *e);
            if (!p)
                goto nomem;
            e = p;
        }
        int r = parse_line(s, n, &e[ne]);
        if (r < 0)
            goto nomem;
        if (r == 0) {
            if (res->n_malformed == cap_bad) {
                cap_bad = cap_bad ? cap_bad * 2 : 8;
                uint64_t *p = realloc(res->malformed, cap_bad * sizeof *p);
                if (!p)
                    goto nomem;
                res->malformed = p;
            }
            res->malformed[res->n_malformed++] = lineno;
            continue;
        }
        e[ne++].line = lineno;
    }
    res->n_wellformed = ne;
    if (split_names(e, ne))
        goto nomem;

    /* distinct files in order of first appearance (sorted, not pairwise:
     * a manifest may name many files) */
    files = calloc(ne ? ne : 1, sizeof *files);
    order = malloc((ne ? ne : 1) * sizeof *order);
    if (!files || !order)
        goto nomem;
    for (size_t i = 0; i < ne; i++)
        order[i] = (span){e[i].file, i};
    qsort(order, ne, sizeof *order, by_file);
    for (size_t i = 0; i < ne;) {
        size_t j = i, first = order[i].n; /* sorted by index within a name */
        while (j < ne && strcmp(order[j].p, order[i].p) == 0)
            j++;
        for (size_t k = i; k < j; k++)
            e[order[k].n].file_ix = first; /* provisional: the first line's index */
        i = j;
    }
    /* number files by their first line: a line is a file's first line when
     * its file_ix is its own index */
    for (size_t i = 0; i < ne; i++) {
        if (e[i].file_ix == i) {
            files[nfiles] = e[i].file;
            order[i].n = nfiles++;
        }
        e[i].file_ix = order[e[i].file_ix].n;
    }
    if (o->file_override && nfiles > 1) {
        st = GK_E_USAGE;
        goto out;
    }
    /* each file's lines, in line order (counting sort by file) */
    ix = malloc((ne ? ne : 1) * sizeof *ix);
    start = calloc(nfiles + 1, sizeof *start);
    if (!ix || !start)
        goto nomem;
    for (size_t i = 0; i < ne; i++)
        start[e[i].file_ix + 1]++;
    for (size_t f = 0; f < nfiles; f++)
        start[f + 1] += start[f];
    for (size_t i = 0; i < ne; i++)
        ix[start[e[i].file_ix]++] = i;
    for (size_t f = nfiles; f > 0; f--)
        start[f] = start[f - 1];
    start[0] = 0;
    for (size_t f = 0; f < nfiles && !a.nomem; f++) {
        const char *path = o->file_override ? o->file_override : files[f];
        const size_t *fx = ix + start[f];
        size_t nfx = start[f + 1] - start[f];
        struct stat sb;
        if (o->ignore_missing && !fmt_is_stdio(path) && stat(path, &sb) != 0 && errno == ENOENT) {
            all_entries(&a, e, fx, nfx, path, VFY_CHECK_SKIPPED);
            continue;
        }
        int has_whole = 0;
        for (size_t q = 0; q < nfx; q++)
            has_whole |= e[fx[q]].whole_file;
        if (has_whole)
            check_whole(&a, e, fx, nfx, path);
        check_gguf(&a, e, fx, nfx, path, o);
    }
    if (a.nomem)
        goto nomem;
    goto out;
nomem:
    st = GK_E_NOMEM;
out:
    for (size_t i = 0; i < ne; i++)
        free(e[i].name);
    free(e);
    free(files);
    free(order);
    free(ix);
    free(start);
    if (st == GK_E_NOMEM || st == GK_E_USAGE) {
        vfy_check_result_free(res);
        res->n_wellformed = 0;
    }
    return st;
}

void vfy_check_result_free(vfy_check_result *res) {
    if (!res)
        return;
    for (size_t i = 0; i < res->n_items; i++)
        free(res->items[i].name);
    for (size_t i = 0; i < res->n_errors; i++)
        free(res->errors[i]);
    free(res->items);
    free(res->malformed);
    free(res->errors);
    memset(res, 0, sizeof *res);
}
