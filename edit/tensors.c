/*
 * tensors.c -- tensor renames and drops, and the check that the model
 * stays consistent: layers keep the same tensors as their siblings, and no
 * layer lies past ARCH.block_count.
 */
#include "edit/tensors.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf_json.h"

/* The name of t as it will be written, in buf[FMT_GGUF_MAX_NAME + 1]. */
static const char *name_of(fmt_split *set, const ed_tensor *t, char *buf) {
    if (t->name)
        return t->name;
    const fmt_gguf_tensor *ti = fmt_gguf_tensor_at(fmt_split_ggufs(set)[t->shard], t->index);
    memcpy(buf, ti->name.ptr, (size_t)ti->name.len);
    buf[ti->name.len] = 0;
    return buf;
}

/* "blk.N.SUFFIX": *layer = N and the suffix, or NULL. */
static const char *layer_suffix(const char *name, uint64_t *layer) {
    if (strncmp(name, "blk.", 4) != 0)
        return NULL;
    char *end;
    unsigned long long v = strtoull(name + 4, &end, 10);
    if (end == name + 4 || *end != '.' || name[4] < '0' || name[4] > '9')
        return NULL;
    *layer = v;
    return end + 1;
}

/* ------------------------------------------------------------------------ */
/* Drops and renames                                                          */
/* ------------------------------------------------------------------------ */

static gk_status drop(const ed_request *r, fmt_split *set, ed_tensor *t, size_t *n, gk_error *e) {
    for (size_t d = 0; d < r->n_drop; d++) {
        regex_t re;
        char buf[FMT_GGUF_MAX_NAME + 1];
        if (regcomp(&re, r->drop[d], REG_EXTENDED | REG_NOSUB) != 0)
            return gk_error_set(e, GK_E_USAGE, NULL, "--drop-tensor: invalid regex '%s'",
                                r->drop[d]);
        size_t k = 0;
        for (size_t i = 0; i < *n; i++)
            if (regexec(&re, name_of(set, &t[i], buf), 0, NULL, 0) != 0)
                t[k++] = t[i];
        regfree(&re);
        if (k == *n)
            return gk_error_set(e, GK_E_USAGE, NULL, "--drop-tensor '%s' matches no tensor",
                                r->drop[d]);
        fmt_log(3, "--drop-tensor '%s': %zu tensors dropped", r->drop[d], *n - k);
        *n = k;
    }
    return *n ? GK_OK : gk_error_set(e, GK_E_USAGE, NULL, "no tensor would be left");
}

static int64_t find(fmt_split *set, const ed_tensor *t, size_t n, const char *name) {
    char buf[FMT_GGUF_MAX_NAME + 1];
    for (size_t i = 0; i < n; i++)
        if (strcmp(name_of(set, &t[i], buf), name) == 0)
            return (int64_t)i;
    return -1;
}

static gk_status rename_all(const ed_request *r, fmt_split *set, ed_tensor *t, size_t n,
                            gk_error *e) {
    for (size_t k = 0; k < r->n_rename; k++) {
        const char *old = r->rename_old[k], *new_ = r->rename_new[k];
        size_t len = strlen(new_);
        int64_t i = find(set, t, n, old);
        if (i < 0)
            return gk_error_set(e, GK_E_USAGE, NULL, "--rename-tensor: no tensor '%s'", old);
        if (len == 0 || len > FMT_GGUF_MAX_NAME || !fmt_utf8_valid(new_, len))
            return gk_error_set(e, GK_E_USAGE, NULL,
                                "--rename-tensor: a name has 1 to %d bytes of UTF-8",
                                FMT_GGUF_MAX_NAME);
        if (strcmp(old, new_) != 0 && find(set, t, n, new_) >= 0)
            return gk_error_set(e, GK_E_USAGE, NULL, "--rename-tensor: '%s' already exists", new_);
        t[i].name = new_;
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Consistency                                                                */
/* ------------------------------------------------------------------------ */

typedef char tname[FMT_GGUF_MAX_NAME + 1];

/* A layer tensor of the input: its suffix (in its name) and whether the
 * edited model still has that name. */
typedef struct {
    const char *suffix;
    uint64_t layer;
    int kept;
} layer_entry;

static int cmp_name(const void *a, const void *b) {
    return strcmp(a, b);
}

static int cmp_entry(const void *a, const void *b) {
    const layer_entry *x = a, *y = b;
    int c = strcmp(x->suffix, y->suffix);
    return c ? c : (x->kept > y->kept) - (x->kept < y->kept);
}

/* Every suffix the input's layers had: kept in all of them or in none.
 * Entries sorted by suffix then kept: a group starting lost and ending
 * kept is a layer lacking what a sibling keeps. */
static gk_status check_layers(layer_entry *le, size_t m, gk_error *e) {
    qsort(le, m, sizeof *le, cmp_entry);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && strcmp(le[j].suffix, le[i].suffix) == 0)
            j++;
        if (!le[i].kept && le[j - 1].kept)
            return gk_error_set(e, GK_E_USAGE, NULL,
                                "layer %llu would lack %s, which layer %llu keeps (-f writes "
                                "it anyway)",
                                (unsigned long long)le[i].layer, le[i].suffix,
                                (unsigned long long)le[j - 1].layer);
        i = j;
    }
    return GK_OK;
}

/* ARCH.block_count of meta into key[cap] and *count; 0 when absent. */
static int block_count(const fmt_gguf *meta, char *key, size_t cap, uint64_t *count) {
    fmt_str arch;
    if (!fmt_gguf_get_str(meta, "general.architecture", &arch) || arch.len > 100)
        return 0;
    snprintf(key, cap, "%.*s.block_count", (int)arch.len, arch.ptr);
    return fmt_gguf_get_u64(meta, key, count);
}

/* No blk.N past ARCH.block_count (when meta has it). */
static gk_status check_count(const fmt_gguf *meta, tname *after, size_t n, gk_error *e) {
    uint64_t count, l;
    char key[160];
    if (!block_count(meta, key, sizeof key, &count))
        return GK_OK;
    for (size_t i = 0; i < n; i++)
        if (layer_suffix(after[i], &l) && l >= count)
            return gk_error_set(e, GK_E_USAGE, NULL,
                                "tensor '%s' is past %s = %llu (-f writes it anyway)", after[i],
                                key, (unsigned long long)count);
    return GK_OK;
}

static gk_status check(fmt_split *set, const fmt_gguf *meta, const ed_tensor *t, size_t n,
                       gk_error *e) {
    ed_tensor *all = NULL;
    size_t nb = 0, m = 0;
    tname *before = NULL, *after = NULL;
    layer_entry *le = NULL;
    gk_status st = ed_tensor_list(set, &all, &nb);
    if (st == GK_OK &&
        (!(before = malloc((nb + 1) * sizeof *before)) ||
         !(after = malloc((n + 1) * sizeof *after)) || !(le = malloc((nb + 1) * sizeof *le))))
        st = GK_E_NOMEM;
    if (st != GK_OK) {
        gk_error_set(e, st, NULL, "out of memory");
    } else {
        for (size_t i = 0; i < n; i++) {
            const char *nm = name_of(set, &t[i], after[i]);
            if (nm != after[i])
                snprintf(after[i], sizeof after[i], "%s", nm);
        }
        qsort(after, n, sizeof *after, cmp_name);
        /* layers the new block_count leaves out may go whole */
        uint64_t count = UINT64_MAX;
        char key[160];
        block_count(meta, key, sizeof key, &count);
        for (size_t i = 0; i < nb; i++) {
            const char *suffix = layer_suffix(name_of(set, &all[i], before[i]), &le[m].layer);
            if (!suffix || le[m].layer >= count)
                continue;
            le[m].suffix = suffix;
            le[m++].kept = bsearch(before[i], after, n, sizeof *after, cmp_name) != NULL;
        }
        st = check_layers(le, m, e);
        if (st == GK_OK)
            st = check_count(meta, after, n, e);
    }
    free(all);
    free(before);
    free(after);
    free(le);
    return st;
}

gk_status ed_tensor_edits(const ed_request *r, fmt_split *set, const fmt_gguf *meta, ed_tensor *t,
                          size_t *n, gk_error *e) {
    if (!r->n_drop && !r->n_rename)
        return GK_OK;
    gk_status st = drop(r, set, t, n, e);
    if (st == GK_OK)
        st = rename_all(r, set, t, *n, e);
    if (st == GK_OK && !r->force)
        st = check(set, meta, t, *n, e);
    return st;
}
