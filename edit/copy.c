/*
 * copy.c -- tensor infos and tensor bytes from an input set to a writer.
 */
#include "edit/copy.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK ((size_t)16 << 20) /* bytes written, then released, at a time */

gk_status ed_tensor_list(fmt_split *set, ed_tensor **out, size_t *n) {
    fmt_gguf *const *g = fmt_split_ggufs(set);
    size_t total = 0, k = 0;
    for (size_t s = 0; s < fmt_split_count(set); s++)
        total += (size_t)fmt_gguf_n_tensors(g[s]);
    ed_tensor *t = malloc((total ? total : 1) * sizeof *t);
    if (!t)
        return GK_E_NOMEM;
    for (size_t s = 0; s < fmt_split_count(set); s++) {
        const uint64_t *order = fmt_gguf_offset_order(g[s]);
        for (uint64_t i = 0; i < fmt_gguf_n_tensors(g[s]); i++)
            t[k++] = (ed_tensor){s, order[i], NULL};
    }
    *out = t;
    *n = total;
    return GK_OK;
}

const char **ed_input_paths(fmt_split *set) {
    size_t n = fmt_split_count(set);
    const char **p = calloc(n + 1, sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = fmt_split_paths(set)[i];
    return p;
}

gk_status ed_add_tensor_infos(fmt_gguf_writer *w, fmt_split *set, const ed_tensor *t, size_t n,
                              gk_error *e) {
    fmt_gguf *const *g = fmt_split_ggufs(set);
    for (size_t i = 0; i < n; i++) {
        const fmt_gguf_tensor *ti = fmt_gguf_tensor_at(g[t[i].shard], t[i].index);
        char name[FMT_GGUF_MAX_NAME + 1];
        /* the reader checked the name's length against ggml's limit */
        memcpy(name, ti->name.ptr, (size_t)ti->name.len);
        name[ti->name.len] = 0;
        gk_status st = fmt_gguf_writer_add_tensor(w, t[i].name ? t[i].name : name, ti->n_dims,
                                                  ti->ne, ti->type);
        if (st != GK_OK)
            return gk_error_set(e, st, fmt_split_paths(set)[t[i].shard], "%s",
                                fmt_gguf_writer_errmsg(w));
    }
    return GK_OK;
}

/* The bytes of one tensor into w: from the mapping in chunks, or read. */
static gk_status copy_one(fmt_gguf_writer *w, fmt_gguf *g, uint64_t i, fmt_output *out,
                          fmt_progress *prog, uint64_t *done) {
    const fmt_gguf_tensor *ti = fmt_gguf_tensor_at(g, i);
    const uint8_t *src = fmt_gguf_tensor_data(g, i);
    uint8_t *buf = NULL;
    gk_status st = GK_OK;
    if (!src) {
        if (!(buf = malloc(ti->size ? (size_t)ti->size : 1)))
            return GK_E_NOMEM;
        if ((st = fmt_gguf_read_tensor(g, i, buf)) != GK_OK) {
            free(buf);
            return st;
        }
        src = buf;
    }
    for (uint64_t off = 0; off < ti->size && st == GK_OK;) {
        size_t n = ti->size - off < CHUNK ? (size_t)(ti->size - off) : CHUNK;
        st = fmt_gguf_writer_write_data(w, out, src + off, n);
        if (!buf)
            fmt_release_pages(src + off, n);
        off += n;
        *done += n;
        fmt_progress_update(prog, *done);
    }
    if (st == GK_OK && ti->size == 0)
        st = fmt_gguf_writer_write_data(w, out, src, 0);
    free(buf);
    return st;
}

gk_status ed_write_gguf(fmt_gguf_writer *w, fmt_split *set, const ed_tensor *t, size_t n,
                        fmt_output *out, const char *name, fmt_progress *prog, uint64_t *done,
                        gk_error *e) {
    fmt_gguf *const *g = fmt_split_ggufs(set);
    gk_status st = fmt_gguf_writer_write_header(w, out);
    if (st != GK_OK)
        return gk_error_set(e, st, name, "%s", fmt_output_errmsg(out));
    for (size_t i = 0; i < n; i++) {
        fmt_gguf *gi = g[t[i].shard];
        const fmt_gguf_tensor *ti = fmt_gguf_tensor_at(gi, t[i].index);
        fmt_progress_item(prog, i + 1, n, ti->name.ptr, (size_t)ti->name.len);
        if ((st = copy_one(w, gi, t[i].index, out, prog, done)) != GK_OK) {
            if (st == GK_E_NOMEM)
                return gk_error_set(e, st, NULL, "out of memory");
            if (st == GK_E_FORMAT)
                return gk_error_set(e, st, fmt_split_paths(set)[t[i].shard], "%s",
                                    fmt_gguf_errmsg(gi));
            return gk_error_set(e, st, name, "%s", fmt_output_errmsg(out));
        }
    }
    if ((st = fmt_gguf_writer_finish(w)) != GK_OK)
        return gk_error_set(e, st, name, "%s", fmt_gguf_writer_errmsg(w));
    return GK_OK;
}
