/*
 * manifest.c -- manifests of tensor digests in llama-gguf-hash's line
 * format, sha256sum lines for whole files, and checking a manifest against
 * the files it names (the verdict rules of sha256sum -c / xxhsum -c). The
 * text itself is read and written by formats/manifest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/io.h"
#include "formats/manifest.h"
#include "verify/verify.h"

/* The manifest format numbers its digest kinds as verify does. */
_Static_assert(FMT_MANIFEST_KIND_COUNT == (int)VFY_HASH_COUNT, "kind count");
_Static_assert(FMT_MANIFEST_XXH64 == (int)VFY_HASH_XXH64 &&
                   FMT_MANIFEST_XXH3 == (int)VFY_HASH_XXH3 &&
                   FMT_MANIFEST_XXH128 == (int)VFY_HASH_XXH128 &&
                   FMT_MANIFEST_SHA1 == (int)VFY_HASH_SHA1 &&
                   FMT_MANIFEST_SHA256 == (int)VFY_HASH_SHA256 &&
                   FMT_MANIFEST_UUID == (int)VFY_HASH_UUID,
               "kind numbers");
_Static_assert(FMT_MANIFEST_HEX_MAX == VFY_HASH_HEX_MAX, "digest text size");

static vfy_hash_kind kind_of(const fmt_manifest_entry *e) {
    return (vfy_hash_kind)e->kind;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                    */
/* ------------------------------------------------------------------------ */

gk_status vfy_manifest_write(FILE *f, const char *file, const fmt_gguf *g, const vfy_gguf_hashes *h,
                             unsigned kinds, int per_tensor, int escape) {
    int bad = 0;
    char shown[4096];
    if (escape)
        file = fmt_escape_term(shown, sizeof shown, file, strlen(file));
    if (per_tensor && h->tensor) {
        for (uint64_t i = 0; i < h->n_tensors; i++) {
            const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
            char name[FMT_GGUF_MAX_NAME * 4 + 1];
            size_t len = t->name.len < sizeof name - 1 ? (size_t)t->name.len : sizeof name - 1;
            if (escape)
                fmt_escape_term(name, len + 1, t->name.ptr, len);
            else
                memcpy(name, t->name.ptr, len);
            name[len] = '\0';
            for (int k = 0; k < VFY_HASH_UUID; k++)
                if (kinds & (1u << k))
                    bad |= fmt_manifest_write_entry(f, (fmt_manifest_kind)k, h->tensor[i][k], file,
                                                    name) != GK_OK;
        }
    }
    for (int k = 0; k < VFY_HASH_COUNT; k++)
        if (kinds & (1u << k))
            bad |=
                fmt_manifest_write_entry(f, (fmt_manifest_kind)k, h->model[k], file, NULL) != GK_OK;
    return bad ? GK_E_IO : GK_OK;
}

gk_status vfy_manifest_write_whole(FILE *f, const char *file, const char *hex) {
    return fmt_manifest_write_whole(f, hex, file);
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
    char shown[FMT_SHOWN_NAME];
    fmt_escape_term(shown, sizeof shown, file, strlen(file));
    size_t len = strlen(shown) + strlen(msg) + 3;
    char *s = malloc(len);
    if (!s) {
        a->nomem = 1;
        return;
    }
    snprintf(s, len, "%s: %s", shown, msg);
    r->errors[r->n_errors++] = s;
}

/* Every entry of file fi gets status st (open failures). */
static void all_entries(acc *a, const fmt_manifest_entry *e, const size_t *ix, size_t nix,
                        const char *file, vfy_check_status st) {
    for (size_t q = 0; q < nix; q++)
        add_item(a, file, e[ix[q]].tensor, kind_of(&e[ix[q]]), e[ix[q]].line, st);
}

/* Whole-file SHA-256 lines of file fi, found at path. */
static void check_whole(acc *a, const fmt_manifest_entry *e, const size_t *ix, size_t nix,
                        const char *file, const char *path) {
    char err[512], hex[VFY_HASH_HEX_MAX];
    struct stat sb;
    gk_status st = GK_E_IO;
    if (stat(path, &sb) != 0)
        snprintf(err, sizeof err, "cannot open: %s", strerror(errno));
    else
        st = vfy_hash_file(path, VFY_HASH_SHA256, hex, err, sizeof err);
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

/* llama-gguf-hash lines of file fi, found at path. */
static void check_gguf(acc *a, const fmt_manifest_entry *e, const size_t *ix, size_t nix,
                       const char *file, const char *path, const vfy_check_opts *o) {
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
    /* a name from the manifest must stay a regular file (see locate) */
    fmt_input_opts io = {.regular_only = !o->file_override};
    fmt_input *in = fmt_input_open(path, &io, &st, err, sizeof err);
    if (in && !(g = fmt_gguf_open(in, &st)))
        snprintf(err, sizeof err, "%s", fmt_gguf_open_errmsg());
    vfy_hash_opts ho = {kinds, tensor_kinds != 0, o->nthreads, o->progress};
    if (g)
        st = vfy_hash_gguf(g, in, &ho, &h, err, sizeof err);
    if (st != GK_OK) {
        for (size_t q = 0; q < nix; q++)
            if (!e[ix[q]].whole_file)
                add_item(a, file, e[ix[q]].tensor, kind_of(&e[ix[q]]), e[ix[q]].line,
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
        const char *got = kind_of(&e[i]) == VFY_HASH_UUID && e[i].tensor ? "" : h.model[e[i].kind];
        vfy_check_status s;
        if (e[i].tensor) {
            int64_t ti = fmt_gguf_tensor_index(g, e[i].tensor);
            if (ti < 0) {
                add_item(a, file, e[i].tensor, kind_of(&e[i]), e[i].line,
                         o->ignore_missing ? VFY_CHECK_SKIPPED : VFY_CHECK_MISSING);
                continue;
            }
            seen[(size_t)ti * VFY_HASH_COUNT + e[i].kind] = 1;
            if (kind_of(&e[i]) != VFY_HASH_UUID)
                got = h.tensor[ti][e[i].kind];
        }
        s = strcmp(got, e[i].hex) ? VFY_CHECK_FAILED : VFY_CHECK_OK;
        add_item(a, file, e[i].tensor, kind_of(&e[i]), e[i].line, s);
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

/* A file name and the index of a line naming it, for sorting. */
typedef struct {
    const char *file;
    size_t ix;
} named;

/* File name, then line index. */
static int by_file(const void *a, const void *b) {
    const named *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : (x->ix > y->ix) - (x->ix < y->ix);
}

/* The lines of each distinct file: files[0..*nfiles) in order of first
 * appearance (found by sorting, not pairwise: a manifest may name many
 * files), and ix[start[f]..start[f + 1]) the indexes of file f's lines, in
 * line order. All three arrays are new (free them also on failure). -1
 * when out of memory. */
static int group_files(const fmt_manifest_entry *e, size_t ne, const char ***files, size_t *nfiles,
                       size_t **ix, size_t **start) {
    size_t n1 = ne ? ne : 1, nf = 0;
    named *order = malloc(n1 * sizeof *order);
    size_t *file_ix = malloc(n1 * sizeof *file_ix);
    *files = calloc(n1, sizeof **files);
    *ix = malloc(n1 * sizeof **ix);
    *start = NULL;
    if (!order || !file_ix || !*files || !*ix)
        goto fail;
    for (size_t i = 0; i < ne; i++)
        order[i] = (named){e[i].file, i};
    qsort(order, ne, sizeof *order, by_file);
    for (size_t i = 0; i < ne;) {
        size_t j = i, first = order[i].ix; /* sorted by index within a name */
        while (j < ne && strcmp(order[j].file, order[i].file) == 0)
            j++;
        for (size_t k = i; k < j; k++)
            file_ix[order[k].ix] = first; /* provisional: the first line's index */
        i = j;
    }
    /* number files by their first line: a line is a file's first line when
     * its file_ix is its own index (order[] now maps that index to f) */
    for (size_t i = 0; i < ne; i++) {
        if (file_ix[i] == i) {
            (*files)[nf] = e[i].file;
            order[i].ix = nf++;
        }
        file_ix[i] = order[file_ix[i]].ix;
    }
    /* counting sort by file */
    if (!(*start = calloc(nf + 1, sizeof **start)))
        goto fail;
    for (size_t i = 0; i < ne; i++)
        (*start)[file_ix[i] + 1]++;
    for (size_t f = 0; f < nf; f++)
        (*start)[f + 1] += (*start)[f];
    for (size_t i = 0; i < ne; i++)
        (*ix)[(*start)[file_ix[i]]++] = i;
    for (size_t f = nf; f > 0; f--)
        (*start)[f] = (*start)[f - 1];
    (*start)[0] = 0;
    *nfiles = nf;
    free(order);
    free(file_ix);
    return 0;
fail:
    free(order);
    free(file_ix);
    return -1;
}

/* 1 when the relative name has a ".." component. */
static int climbs(const char *name) {
    for (const char *p = name; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == name || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
            return 1;
    return 0;
}

/* Why the manifest's name may not be opened, or NULL: names are the
 * stranger's, so they stay inside the manifest's directory (lexically
 * and after symlinks) unless allow_outside, and only regular files are
 * read (a FIFO would block, a device never end). path is name resolved. */
static const char *refusal(const char *name, const char *path, const vfy_check_opts *o) {
    struct stat sb;
    if (!o->allow_outside) {
        if (name[0] == '/')
            return "absolute name outside the manifest's directory (--allow-outside allows it)";
        if (climbs(name))
            return "leads out of the manifest's directory (--allow-outside allows it)";
        if (lstat(path, &sb) == 0 && fmt_path_inside(o->base_dir ? o->base_dir : ".", path,
                                                     FMT_INSIDE_DEEP, NULL, 0) == GK_E_FORMAT)
            return "resolves outside the manifest's directory (--allow-outside allows it)";
    }
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return "not a regular file";
    return NULL;
}

/* Check the lines ix[0..nix) of one file, named name in the manifest:
 * found at the override (named by the user, used as given) or at name
 * relative to the manifest's directory, unless refused. */
static void check_file(acc *a, const fmt_manifest_entry *e, const size_t *ix, size_t nix,
                       const char *name, const vfy_check_opts *o) {
    const char *file = o->file_override ? o->file_override : name;
    char *path = NULL;
    if (o->file_override || !o->base_dir || name[0] == '/')
        path = strdup(file);
    else if (asprintf(&path, "%s/%s", o->base_dir, name) < 0)
        path = NULL;
    if (!path) {
        a->nomem = 1;
        return;
    }
    const char *why = o->file_override ? NULL : refusal(name, path, o);
    struct stat sb;
    if (why) {
        all_entries(a, e, ix, nix, file, VFY_CHECK_UNREADABLE);
        add_error(a, file, why);
        a->res->n_refused++;
    } else if (o->ignore_missing && !fmt_is_stdio(path) && stat(path, &sb) != 0 &&
               errno == ENOENT) {
        all_entries(a, e, ix, nix, file, VFY_CHECK_SKIPPED);
    } else {
        int has_whole = 0;
        for (size_t q = 0; q < nix; q++)
            has_whole |= e[ix[q]].whole_file;
        if (has_whole)
            check_whole(a, e, ix, nix, file, path);
        check_gguf(a, e, ix, nix, file, path, o);
    }
    free(path);
}

gk_status vfy_check_manifest(const char *text, size_t len, const vfy_check_opts *o,
                             vfy_check_result *res) {
    memset(res, 0, sizeof *res);
    acc a = {.res = res};
    const fmt_manifest_entry *e = NULL;
    const uint64_t *bad = NULL;
    const char **files = NULL;
    size_t *ix = NULL, *start = NULL;
    size_t ne = 0, nfiles = 0, nbad = 0;
    gk_status st;

    fmt_manifest *m = fmt_manifest_parse(text, len, o->base_dir, &st);
    if (!m)
        goto out;
    e = fmt_manifest_entries(m, &ne);
    bad = fmt_manifest_malformed(m, &nbad);
    if (nbad) {
        if (!(res->malformed = malloc(nbad * sizeof *bad)))
            goto nomem;
        memcpy(res->malformed, bad, nbad * sizeof *bad);
        res->n_malformed = nbad;
    }
    res->n_wellformed = ne;
    if (group_files(e, ne, &files, &nfiles, &ix, &start))
        goto nomem;
    if (o->file_override && nfiles > 1) {
        st = GK_E_USAGE;
        goto out;
    }
    for (size_t f = 0; f < nfiles && !a.nomem; f++)
        check_file(&a, e, ix + start[f], start[f + 1] - start[f], files[f], o);
    if (a.nomem)
        goto nomem;
    goto out;
nomem:
    st = GK_E_NOMEM;
out:
    fmt_manifest_close(m);
    free(files);
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
