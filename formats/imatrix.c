/*
 * imatrix.c -- legacy .dat and GGUF importance matrices (see imatrix.h).
 *
 * Formats from llama.cpp: examples/imatrix/imatrix.cpp (legacy writer),
 * examples/quantize/quantize.cpp load_imatrix (legacy reader, c392e50) and
 * the newer tools/imatrix save_imatrix / tools/quantize load_imatrix (GGUF).
 */
#include "imatrix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "io.h"
#include "../kernels/kernels.h"

typedef struct {
    char *name;
    float *v;
    size_t n;
} entry;

struct imx {
    entry *e;
    size_t n, cap;
    char *dataset;
    int64_t chunks;
};

/* ======================================================================== */
/* Helpers                                                                    */
/* ======================================================================== */

static int32_t le_i32(const uint8_t *p) {
    uint32_t u;
    memcpy(&u, p, 4);
    return (int32_t)u; /* little-endian hosts only (checked by the build) */
}

static void free_entry(entry *x) {
    free(x->name);
    free(x->v);
}

/* Append (duplicates are refused by sort_entries). Takes ownership of
 * name and v. */
static gk_status put(imx *m, char *name, float *v, size_t n) {
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        entry *ne = realloc(m->e, nc * sizeof *ne);
        if (!ne) {
            free(name);
            free(v);
            return GK_E_NOMEM;
        }
        m->e = ne;
        m->cap = nc;
    }
    m->e[m->n] = (entry){name, v, n};
    m->n++;
    return GK_OK;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* Sort by name; a name twice is refused (llama-quantize's map would keep
 * the later one silently, but no imatrix tool writes a name twice: such a
 * file is corrupt or crafted). GK_E_FORMAT with the name in err. */
static gk_status sort_entries(imx *m, char *err, size_t errcap) {
    if (m->n < 2)
        return GK_OK;
    qsort(m->e, m->n, sizeof *m->e, cmp_entry);
    for (size_t i = 0; i + 1 < m->n; i++)
        if (strcmp(m->e[i].name, m->e[i + 1].name) == 0) {
            char shown[FMT_SHOWN_NAME];
            const char *nm = m->e[i].name;
            gk_msgf(err, errcap, "entry '%s' appears twice",
                    fmt_escape_term(shown, sizeof shown, nm, strlen(nm)));
            return GK_E_FORMAT;
        }
    return GK_OK;
}

/* ======================================================================== */
/* Legacy .dat                                                                */
/* ======================================================================== */

/* int32 n_entries; n x { int32 len; name[len]; int32 ncall; int32 nval;
 * float[nval] }; optional trailer { int32 last_call; int32 dataset_len;
 * dataset[dataset_len] }. */
imx *imx_load_legacy_mem(const uint8_t *d, size_t size, gk_status *st, char *err, size_t errcap) {
    imx *m = calloc(1, sizeof *m);
    if (!m) {
        *st = GK_E_NOMEM;
        gk_msgf(err, errcap, "out of memory");
        return NULL;
    }
    size_t off = 0;
    *st = GK_E_FORMAT;
    if (size < 4) {
        gk_msgf(err, errcap, "imatrix file too short for its entry count (at byte 0)");
        goto fail;
    }
    int32_t n_entries = le_i32(d);
    off = 4;
    if (n_entries < 1) {
        gk_msgf(err, errcap, "imatrix has no entries (count %d at byte 0)", n_entries);
        goto fail;
    }
    /* each entry needs at least 4+1+4+4+4 bytes */
    if ((uint64_t)n_entries > (size - off) / 17) {
        gk_msgf(err, errcap, "imatrix entry count %d exceeds the file size (at byte 0)", n_entries);
        goto fail;
    }
    for (int32_t i = 0; i < n_entries; i++) {
        if (size - off < 4) {
            gk_msgf(err, errcap, "entry %d: name length missing (at byte %zu)", i, off);
            goto fail;
        }
        int32_t len = le_i32(d + off);
        if (len < 1 || (uint64_t)len > size - off - 4) {
            gk_msgf(err, errcap, "entry %d: bad name length %d (at byte %zu)", i, len, off);
            goto fail;
        }
        off += 4;
        const char *nm = (const char *)d + off;
        if (memchr(nm, 0, (size_t)len)) {
            gk_msgf(err, errcap, "entry %d: NUL byte in name (at byte %zu)", i, off);
            goto fail;
        }
        off += (size_t)len;
        if (size - off < 8) {
            gk_msgf(err, errcap, "entry %d: counts missing (at byte %zu)", i, off);
            goto fail;
        }
        int32_t ncall = le_i32(d + off);
        int32_t nval = le_i32(d + off + 4);
        if (nval < 1 || (uint64_t)nval > (size - off - 8) / 4) {
            gk_msgf(err, errcap, "entry %d: bad value count %d (at byte %zu)", i, nval, off + 4);
            goto fail;
        }
        off += 8;
        char *name = malloc((size_t)len + 1);
        float *v = malloc((size_t)nval * sizeof *v);
        if (!name || !v) {
            free(name);
            free(v);
            *st = GK_E_NOMEM;
            gk_msgf(err, errcap, "out of memory");
            goto fail;
        }
        memcpy(name, nm, (size_t)len);
        name[len] = 0;
        memcpy(v, d + off, (size_t)nval * 4);
        off += (size_t)nval * 4;
        if (ncall > 0)
            for (int32_t j = 0; j < nval; j++)
                v[j] /= (float)ncall;
        gk_status ps = put(m, name, v, (size_t)nval);
        if (ps != GK_OK) {
            *st = ps;
            gk_msgf(err, errcap, "out of memory");
            goto fail;
        }
    }
    if (off < size) {
        if (size - off < 8) {
            gk_msgf(err, errcap, "truncated dataset trailer (at byte %zu)", off);
            goto fail;
        }
        int32_t last_call = le_i32(d + off);
        int32_t dlen = le_i32(d + off + 4);
        if (dlen < 0 || (uint64_t)dlen > size - off - 8) {
            gk_msgf(err, errcap, "bad dataset name length %d (at byte %zu)", dlen, off + 4);
            goto fail;
        }
        m->chunks = last_call > 0 ? last_call : 0;
        if (dlen > 0) {
            m->dataset = malloc((size_t)dlen + 1);
            if (!m->dataset) {
                *st = GK_E_NOMEM;
                goto fail;
            }
            memcpy(m->dataset, d + off + 8, (size_t)dlen);
            m->dataset[dlen] = 0;
        }
        off += 8 + (size_t)dlen;
        if (off != size) {
            gk_msgf(err, errcap, "%zu unexpected bytes after the dataset name (at byte %zu)",
                    size - off, off);
            goto fail;
        }
    }
    if ((*st = sort_entries(m, err, errcap)) != GK_OK)
        goto fail;
    return m;
fail:
    imx_free(m);
    return NULL;
}

/* ======================================================================== */
/* GGUF imatrix                                                               */
/* ======================================================================== */

static int strip_suffix(const fmt_str *s, const char *suf, size_t *stem) {
    size_t b = strlen(suf);
    if (s->len <= b || memcmp(s->ptr + s->len - b, suf, b) != 0)
        return 0;
    *stem = (size_t)s->len - b;
    return 1;
}

static imx *load_gguf(fmt_input *in, gk_status *st, char *err, size_t errcap) {
    fmt_gguf *g = fmt_gguf_open(in, st);
    if (!g) {
        gk_msgf(err, errcap, "%s", fmt_gguf_open_errmsg());
        return NULL;
    }
    imx *m = calloc(1, sizeof *m);
    float *counts = NULL;
    if (!m) {
        *st = GK_E_NOMEM;
        goto fail;
    }
    *st = GK_E_FORMAT;
    uint64_t cc = 0, cs = 0;
    const fmt_gguf_kv *ds = fmt_gguf_find_kv(g, "imatrix.datasets");
    if (!ds || ds->value.type != FMT_GGUF_ARRAY || ds->value.v.arr.elem_type != FMT_GGUF_STRING ||
        !fmt_gguf_get_u64(g, "imatrix.chunk_count", &cc) ||
        !fmt_gguf_get_u64(g, "imatrix.chunk_size", &cs)) {
        gk_msgf(err, errcap,
                "GGUF imatrix lacks imatrix.datasets, imatrix.chunk_count or imatrix.chunk_size");
        goto fail;
    }
    m->chunks = cc > INT32_MAX ? INT32_MAX : (int64_t)cc;
    {
        fmt_gguf_iter it;
        fmt_gguf_value v;
        fmt_gguf_iter_init(&it, &ds->value);
        if (fmt_gguf_iter_next(&it, &v) && v.v.s.len > 0) {
            m->dataset = malloc(v.v.s.len + 1);
            if (!m->dataset) {
                *st = GK_E_NOMEM;
                goto fail;
            }
            memcpy(m->dataset, v.v.s.ptr, v.v.s.len);
            m->dataset[v.v.s.len] = 0;
        }
    }
    uint64_t nt = fmt_gguf_n_tensors(g);
    /* a .counts without its .in_sum2 stops llama-quantize ("mismatched
     * sums and counts") as the reverse does */
    for (uint64_t i = 0; i < nt; i++) {
        const fmt_gguf_tensor *ct = fmt_gguf_tensor_at(g, i);
        size_t stem;
        char sname[FMT_GGUF_MAX_NAME + 16];
        if (!strip_suffix(&ct->name, ".counts", &stem) || stem + sizeof ".in_sum2" > sizeof sname)
            continue;
        memcpy(sname, ct->name.ptr, stem);
        memcpy(sname + stem, ".in_sum2", sizeof ".in_sum2");
        if (!fmt_gguf_find_tensor(g, sname)) {
            gk_msgf(err, errcap, "imatrix tensor '%.*s' has no '%s'", (int)ct->name.len,
                    ct->name.ptr, sname);
            goto fail;
        }
    }
    for (uint64_t i = 0; i < nt; i++) {
        const fmt_gguf_tensor *s2 = fmt_gguf_tensor_at(g, i);
        size_t stem;
        if (!strip_suffix(&s2->name, ".in_sum2", &stem))
            continue;
        char cname[FMT_GGUF_MAX_NAME + 16];
        if (stem + sizeof ".counts" > sizeof cname) {
            gk_msgf(err, errcap, "tensor name too long at tensor %llu", (unsigned long long)i);
            goto fail;
        }
        memcpy(cname, s2->name.ptr, stem);
        memcpy(cname + stem, ".counts", sizeof ".counts");
        const fmt_gguf_tensor *ct = fmt_gguf_find_tensor(g, cname);
        if (!ct) {
            gk_msgf(err, errcap, "imatrix tensor '%.*s' has no '%s'", (int)s2->name.len,
                    s2->name.ptr, cname);
            goto fail;
        }
        int64_t ne0 = s2->ne[0];
        uint64_t n_mat = s2->n_elements / (uint64_t)(ne0 > 0 ? ne0 : 1);
        if (s2->type != KERN_TYPE_F32 || ct->type != KERN_TYPE_F32 || ne0 < 1 || s2->ne[2] != 1 ||
            s2->ne[3] != 1 || ct->n_elements != n_mat) {
            gk_msgf(err, errcap, "imatrix tensors '%.*s' and '%s' have unexpected types or shapes",
                    (int)s2->name.len, s2->name.ptr, cname);
            goto fail;
        }
        char *name = malloc(stem + 1);
        float *v = malloc(s2->size ? (size_t)s2->size : 1);
        counts = malloc(ct->size ? (size_t)ct->size : 1);
        if (!name || !v || !counts) {
            free(name);
            free(v);
            *st = GK_E_NOMEM;
            goto fail;
        }
        memcpy(name, s2->name.ptr, stem);
        name[stem] = 0;
        gk_status rs = fmt_gguf_read_tensor(g, i, v);
        if (rs == GK_OK)
            rs = fmt_gguf_read_tensor(g, (uint64_t)fmt_gguf_tensor_index(g, cname), counts);
        if (rs != GK_OK) {
            gk_msgf(err, errcap, "%s", fmt_gguf_errmsg(g));
            free(name);
            free(v);
            *st = rs;
            goto fail;
        }
        /* per matrix (one per expert of a 3-D weight): in_sum2 / count; a
         * count that is not positive (an expert never routed, or a NaN)
         * gives 1.0, as llama-quantize's "count > 0.0f" test does */
        for (uint64_t r = 0; r < n_mat; r++) {
            float c = counts[r];
            float *row = v + r * (uint64_t)ne0;
            for (int64_t j = 0; j < ne0; j++)
                row[j] = c > 0.0f ? row[j] / c : 1.0f;
        }
        free(counts);
        counts = NULL;
        gk_status ps = put(m, name, v, (size_t)s2->n_elements);
        if (ps != GK_OK) {
            *st = ps;
            goto fail;
        }
    }
    if (m->n == 0) {
        gk_msgf(err, errcap, "GGUF imatrix holds no .in_sum2 tensors");
        goto fail;
    }
    if ((*st = sort_entries(m, err, errcap)) != GK_OK)
        goto fail;
    fmt_gguf_close(g);
    return m;
fail:
    if (*st == GK_E_NOMEM)
        gk_msgf(err, errcap, "out of memory");
    free(counts);
    imx_free(m);
    fmt_gguf_close(g);
    return NULL;
}

/* ======================================================================== */
/* Public                                                                     */
/* ======================================================================== */

imx *imx_load(const char *path, gk_status *st, char *err, size_t errcap) {
    fmt_input_opts io = {0};
    io.allow_tty = 0;
    fmt_input *in = fmt_input_open(path, &io, st, err, errcap);
    if (!in)
        return NULL;
    imx *m = NULL;
    gk_status s = fmt_input_make_seekable(in);
    if (s != GK_OK) {
        *st = s;
        gk_msgf(err, errcap, "%s", fmt_input_errmsg(in));
        fmt_input_close(in);
        return NULL;
    }
    const uint8_t *d = fmt_input_data(in);
    uint64_t size = fmt_input_size(in);
    if (!d || size > SIZE_MAX) {
        *st = GK_E_IO;
        gk_msgf(err, errcap, "cannot map the imatrix file");
    } else if (size >= 4 && memcmp(d, "GGUF", 4) == 0) {
        m = load_gguf(in, st, err, errcap);
    } else {
        m = imx_load_legacy_mem(d, (size_t)size, st, err, errcap);
    }
    fmt_input_close(in);
    return m;
}

static int contains_any(const char *name, const char *const *pats, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strstr(name, pats[i]))
            return 1;
    return 0;
}

void imx_filter(imx *m, const char *const *include, size_t ni, const char *const *exclude,
                size_t ne) {
    size_t w = 0;
    for (size_t i = 0; i < m->n; i++) {
        int keep = (ni == 0 || contains_any(m->e[i].name, include, ni)) &&
                   !contains_any(m->e[i].name, exclude, ne);
        if (keep)
            m->e[w++] = m->e[i];
        else
            free_entry(&m->e[i]);
    }
    m->n = w;
}

size_t imx_count(const imx *m) {
    return m ? m->n : 0;
}

const float *imx_find(const imx *m, const char *name, size_t *n) {
    if (!m)
        return NULL;
    entry key = {(char *)name, NULL, 0};
    const entry *e = m->n ? bsearch(&key, m->e, m->n, sizeof *m->e, cmp_entry) : NULL;
    if (!e)
        return NULL;
    *n = e->n;
    return e->v;
}

const char *imx_name_at(const imx *m, size_t i) {
    return i < m->n ? m->e[i].name : NULL;
}

const char *imx_dataset(const imx *m) {
    return m->dataset;
}

int64_t imx_chunks(const imx *m) {
    return m->chunks;
}

gk_status imx_check_finite(const imx *m, char *err, size_t errcap) {
    for (size_t i = 0; i < m->n; i++) {
        int64_t k = kern_find_nonfinite(m->e[i].v, (int64_t)m->e[i].n);
        if (k >= 0) {
            gk_msgf(err, errcap, "imatrix entry '%s' holds a non-finite value at index %lld",
                    m->e[i].name, (long long)k);
            return GK_E_FORMAT;
        }
    }
    return GK_OK;
}

void imx_free(imx *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free_entry(&m->e[i]);
    free(m->e);
    free(m->dataset);
    free(m);
}
