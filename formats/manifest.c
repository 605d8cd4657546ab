/*
 * manifest.c -- digest manifests as text: the lines of llama-gguf-hash and
 * of sha256sum, parsed (malformed lines counted as sha256sum -c counts
 * them) and written.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/manifest.h"

static const struct {
    const char *name;
    size_t digest_len;
} kinds[FMT_MANIFEST_KIND_COUNT] = {
    [FMT_MANIFEST_XXH64] = {"xxh64", 16},   [FMT_MANIFEST_XXH3] = {"xxh3", 16},
    [FMT_MANIFEST_XXH128] = {"xxh128", 32}, [FMT_MANIFEST_SHA1] = {"sha1", 40},
    [FMT_MANIFEST_SHA256] = {"sha256", 64}, [FMT_MANIFEST_UUID] = {"uuid", 36},
};

const char *fmt_manifest_kind_name(fmt_manifest_kind k) {
    return (unsigned)k < FMT_MANIFEST_KIND_COUNT ? kinds[k].name : NULL;
}

int fmt_manifest_kind_from_name(const char *name, size_t len) {
    for (int k = 0; k < FMT_MANIFEST_KIND_COUNT; k++)
        if (strlen(kinds[k].name) == len && memcmp(kinds[k].name, name, len) == 0)
            return k;
    return -1;
}

size_t fmt_manifest_digest_len(fmt_manifest_kind k) {
    return (unsigned)k < FMT_MANIFEST_KIND_COUNT ? kinds[k].digest_len : 0;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                    */
/* ------------------------------------------------------------------------ */

gk_status fmt_manifest_write_entry(FILE *f, fmt_manifest_kind k, const char *hex, const char *file,
                                   const char *tensor) {
    /* llama-gguf-hash: printf("%-8s  %-s  %s\n", type, hex, name) */
    int bad;
    if (tensor)
        bad = fprintf(f, "%-8s  %s  %s:%s\n", fmt_manifest_kind_name(k), hex, file, tensor) < 0;
    else
        bad = fprintf(f, "%-8s  %s  %s\n", fmt_manifest_kind_name(k), hex, file) < 0;
    return bad ? GK_E_IO : GK_OK;
}

gk_status fmt_manifest_write_whole(FILE *f, const char *hex, const char *file) {
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
/* Parsing lines                                                              */
/* ------------------------------------------------------------------------ */

struct fmt_manifest {
    fmt_manifest_entry *entries;
    char **names; /* names[i] owns the text entries[i].file and .tensor point into */
    size_t n, cap;
    uint64_t *malformed;
    size_t n_malformed, cap_malformed;
};

static int is_hex(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)p[i]))
            return 0;
    return 1;
}

static int good_digest(fmt_manifest_kind k, const char *p, size_t n) {
    if (n != fmt_manifest_digest_len(k))
        return 0;
    if (k != FMT_MANIFEST_UUID)
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

/* A llama-gguf-hash line "KIND HEX NAME" of kind k whose KIND token ends
 * at i. Same returns as parse_line. */
static int parse_kind_line(const char *s, size_t n, size_t i, fmt_manifest_kind k,
                           fmt_manifest_entry *e, char **name) {
    size_t h0 = i;
    while (h0 < n && isspace((unsigned char)s[h0]))
        h0++;
    size_t h1 = h0;
    while (h1 < n && !isspace((unsigned char)s[h1]))
        h1++;
    size_t n0 = h1;
    while (n0 < n && isspace((unsigned char)s[n0]))
        n0++;
    if (h0 == i || n0 == h1 || n0 == n || !good_digest(k, s + h0, h1 - h0) ||
        n - n0 > FMT_MANIFEST_NAME_MAX)
        return 0;
    e->kind = k;
    lower_copy(e->hex, s + h0, h1 - h0);
    *name = strndup(s + n0, n - n0);
    return *name ? 1 : -1;
}

/* A sha256sum line: [\]HEX64 ' ' (' '|'*') NAME. Same returns as
 * parse_line. */
static int parse_sum_line(const char *s, size_t n, fmt_manifest_entry *e, char **name) {
    int esc = n > 0 && s[0] == '\\';
    const char *h = s + esc;
    size_t rest = n - (size_t)esc;
    if (rest < 64 + 3 || !is_hex(h, 64) || h[64] != ' ' || (h[65] != ' ' && h[65] != '*') ||
        rest - 66 > FMT_MANIFEST_NAME_MAX)
        return 0;
    e->kind = FMT_MANIFEST_SHA256;
    e->whole_file = 1;
    lower_copy(e->hex, h, 64);
    const char *p = h + 66, *end = s + n;
    char *out = *name = malloc((size_t)(end - p) + 1);
    if (!out)
        return -1;
    for (; p < end; p++) {
        if (esc && *p == '\\' && p + 1 < end && (p[1] == '\\' || p[1] == 'n')) {
            *out++ = p[1] == 'n' ? '\n' : '\\';
            p++;
        } else if (esc && *p == '\\') {
            free(*name);
            *name = NULL;
            return 0;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return 1;
}

/* Parse one line (without its newline) into *e and a new *name (the whole
 * NAME, not yet split). 1 = entry filled, 0 = malformed, -1 = out of
 * memory. */
static int parse_line(const char *s, size_t n, fmt_manifest_entry *e, char **name) {
    memset(e, 0, sizeof *e);
    *name = NULL;
    size_t i = 0;
    while (i < n && !isspace((unsigned char)s[i]))
        i++;
    int k = fmt_manifest_kind_from_name(s, i);
    if (k >= 0)
        return parse_kind_line(s, n, i, (fmt_manifest_kind)k, e, name);
    return parse_sum_line(s, n, e, name);
}

/* Room for one more entry. 0, or -1 when out of memory. */
static int grow_entries(fmt_manifest *m) {
    if (m->n < m->cap)
        return 0;
    size_t cap = m->cap ? m->cap * 2 : 64;
    fmt_manifest_entry *e = realloc(m->entries, cap * sizeof *e);
    if (!e)
        return -1;
    m->entries = e;
    char **names = realloc(m->names, cap * sizeof *names);
    if (!names)
        return -1;
    m->names = names;
    m->cap = cap;
    return 0;
}

static int add_malformed(fmt_manifest *m, uint64_t lineno) {
    if (m->n_malformed == m->cap_malformed) {
        size_t cap = m->cap_malformed ? m->cap_malformed * 2 : 8;
        uint64_t *p = realloc(m->malformed, cap * sizeof *p);
        if (!p)
            return -1;
        m->malformed = p;
        m->cap_malformed = cap;
    }
    m->malformed[m->n_malformed++] = lineno;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Splitting FILE:TENSOR                                                      */
/* ------------------------------------------------------------------------ */

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

static int has(const span *set, size_t n, const char *p, size_t len) {
    span k = {p, len};
    return n && bsearch(&k, set, n, sizeof *set, span_cmp) != NULL;
}

/* 1 when name (relative to dir unless absolute; NULL = here) is an
 * existing regular file. */
static int is_file(const char *dir, const char *name) {
    char p[FMT_MANIFEST_NAME_MAX + 4096 + 2];
    struct stat sb;
    int n = dir && name[0] != '/' ? snprintf(p, sizeof p, "%s/%s", dir, name)
                                  : snprintf(p, sizeof p, "%s", name);
    return n > 0 && (size_t)n < sizeof p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Split llama-gguf-hash names into file and tensor parts (in place), in
 * O(n log n): whole-model names are those without ':', those that other
 * lines' names continue with ':', and existing files. -1 when out of
 * memory. */
static int split_names(fmt_manifest *m, const char *dir) {
    fmt_manifest_entry *e = m->entries;
    size_t ne = m->n, cap = ne + 1, na = 0, nm = 0;
    for (size_t i = 0; i < ne; i++)
        for (const char *c = strchr(m->names[i], ':'); c; c = strchr(c + 1, ':'))
            cap++;
    span *all = malloc(cap * sizeof *all), *models = malloc(cap * sizeof *models);
    if (!all || !models) {
        free(all);
        free(models);
        return -1;
    }
    for (size_t i = 0; i < ne; i++) {
        e[i].file = m->names[i];
        if (!e[i].whole_file)
            all[na++] = (span){m->names[i], strlen(m->names[i])};
    }
    qsort(all, na, sizeof *all, span_cmp);
    for (size_t i = 0; i < ne; i++) {
        if (e[i].whole_file)
            continue;
        const char *name = m->names[i];
        int model = !strchr(name, ':') || is_file(dir, name);
        for (const char *c = strchr(name, ':'); c; c = strchr(c + 1, ':'))
            if (has(all, na, name, (size_t)(c - name)))
                models[nm++] = (span){name, (size_t)(c - name)};
        if (model)
            models[nm++] = (span){name, strlen(name)};
    }
    qsort(models, nm, sizeof *models, span_cmp);
    for (size_t i = 0; i < ne; i++) {
        char *name = m->names[i];
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

/* ------------------------------------------------------------------------ */
/* Manifest                                                                   */
/* ------------------------------------------------------------------------ */

fmt_manifest *fmt_manifest_parse(const char *text, size_t len, const char *dir, gk_status *st) {
    fmt_manifest *m = calloc(1, sizeof *m);
    if (!m)
        goto nomem;
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
        if (grow_entries(m))
            goto nomem;
        int r = parse_line(s, n, &m->entries[m->n], &m->names[m->n]);
        if (r < 0 || (r == 0 && add_malformed(m, lineno)))
            goto nomem;
        if (r == 1)
            m->entries[m->n++].line = lineno;
    }
    if (split_names(m, dir))
        goto nomem;
    *st = GK_OK;
    return m;
nomem:
    fmt_manifest_close(m);
    *st = GK_E_NOMEM;
    return NULL;
}

const fmt_manifest_entry *fmt_manifest_entries(const fmt_manifest *m, size_t *n) {
    *n = m->n;
    return m->entries;
}

const uint64_t *fmt_manifest_malformed(const fmt_manifest *m, size_t *n) {
    *n = m->n_malformed;
    return m->malformed;
}

void fmt_manifest_close(fmt_manifest *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m->entries);
    free(m->names);
    free(m->malformed);
    free(m);
}
