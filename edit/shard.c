/*
 * shard.c -- gguf-split --split's plan and files.
 */
#include "edit/shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/io.h"

/* First tensor of each file: starts[0..*count), starts[*count] = n. */
static gk_status plan(const ed_request *r, fmt_split *set, const ed_tensor *t, size_t n,
                      size_t *starts, size_t *count, gk_error *e) {
    fmt_gguf *const *g = fmt_split_ggufs(set);
    size_t k = 0;
    uint64_t cur = 0;
    starts[k++] = 0;
    if (r->no_tensor_first_split)
        starts[k++] = 0; /* file 1 holds metadata only */
    for (size_t i = 0; i < n; i++) {
        uint64_t sz = fmt_gguf_tensor_at(g[t[i].shard], t[i].index)->size;
        sz += (32 - sz % 32) % 32; /* gguf-split counts with GGUF_DEFAULT_ALIGNMENT */
        int cut = r->split_max_tensors ? i > 0 && i % r->split_max_tensors == 0
                                       : cur + sz > r->split_max_size;
        if (cut) {
            if (starts[k - 1] == i) /* only the metadata-only first file may be empty */
                return gk_error_set(e, GK_E_USAGE, NULL,
                                    "tensor %zu alone is larger than --split-max-size; "
                                    "a file would hold no tensor",
                                    i);
            if (k >= FMT_SPLIT_MAX_SHARDS)
                return gk_error_set(e, GK_E_USAGE, NULL,
                                    "the split would need more than %d files (the most a set "
                                    "may have)",
                                    FMT_SPLIT_MAX_SHARDS);
            starts[k++] = i;
            cur = sz;
        } else {
            cur += sz;
        }
    }
    starts[k] = n;
    *count = k;
    return GK_OK;
}

/* A shard's writer: the model's KVs on the first, then split.no,
 * split.tensors.count and split.count: gguf-split's order (it sets
 * split.count last, once it knows it), not fmt_split_add_keys' (gguf-py's). */
static fmt_gguf_writer *shard_writer(const fmt_gguf *meta, size_t no, size_t count, size_t n,
                                     gk_status *st) {
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, fmt_gguf_alignment(meta), st);
    for (uint64_t i = 0; w && no == 0 && i < fmt_gguf_n_kv(meta) && *st == GK_OK; i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(meta, i);
        if (!fmt_split_is_key(kv->key.ptr, (size_t)kv->key.len))
            *st = fmt_gguf_writer_add_kv(w, kv->key.ptr, (size_t)kv->key.len, &kv->value);
    }
    fmt_gguf_value v = {.type = FMT_GGUF_U16};
    v.v.u = no;
    if (w && *st == GK_OK)
        *st = fmt_gguf_writer_add_kv(w, "split.no", strlen("split.no"), &v);
    if (w && *st == GK_OK)
        *st = fmt_gguf_writer_add_i32(w, "split.tensors.count", (int32_t)n);
    v.v.u = count;
    if (w && *st == GK_OK)
        *st = fmt_gguf_writer_add_kv(w, "split.count", strlen("split.count"), &v);
    return w;
}

static gk_status write_shard(const ed_request *r, const fmt_gguf *meta, fmt_split *set,
                             const char *const *inputs, const ed_tensor *t, size_t first,
                             size_t last, size_t no, size_t count, size_t n, const char *path,
                             gk_error *e) {
    gk_status st = GK_OK;
    fmt_gguf_writer *w = shard_writer(meta, no, count, n, &st);
    if (st == GK_OK && !w)
        st = GK_E_NOMEM;
    if (st != GK_OK) {
        gk_error_set(e, st, path, "%s", w ? fmt_gguf_writer_errmsg(w) : "out of memory");
        fmt_gguf_writer_free(w);
        return st;
    }
    char err[512];
    fmt_output_opts oo = {.force = r->force, .inputs = inputs};
    fmt_output *out = NULL;
    uint64_t done = 0;
    if ((st = ed_add_tensor_infos(w, set, t + first, last - first, e)) == GK_OK &&
        !(out = fmt_output_open(path, &oo, &st, err, sizeof err)))
        gk_error_set(e, st, path, "%s", err);
    if (st == GK_OK)
        st = ed_write_gguf(w, set, t + first, last - first, out, path, NULL, &done, e);
    /* ggml pads a header to the alignment even without tensors (gguf-py,
     * and so our writer, does not): the metadata-only first file */
    uint64_t size = fmt_gguf_writer_file_size(w), a = fmt_gguf_alignment(meta);
    if (st == GK_OK && first == last && size % a &&
        (st = fmt_output_write_zeros(out, (size_t)(a - size % a))) != GK_OK)
        gk_error_set(e, st, path, "%s", fmt_output_errmsg(out));
    if (st == GK_OK && (st = fmt_output_commit(out)) != GK_OK)
        gk_error_set(e, st, path, "%s", fmt_output_errmsg(out));
    fmt_output_close(out);
    fmt_gguf_writer_free(w);
    return st;
}

gk_status ed_split_write(const ed_request *r, const fmt_gguf *meta, fmt_split *set,
                         const ed_tensor *t, size_t n, gk_error *e) {
    size_t *starts = malloc((n + 3) * sizeof *starts), count = 0;
    size_t plen = strlen(r->output), cap = plen + 32;
    char *path = malloc(cap);
    const char **inputs = ed_input_paths(set);
    gk_status st = starts && path && inputs ? plan(r, set, t, n, starts, &count, e)
                                            : gk_error_set(e, GK_E_NOMEM, NULL, "out of memory");
    size_t no = 0;
    for (; st == GK_OK && no < count; no++) {
        if ((st = fmt_split_name(path, cap, r->output, plen, no, count)) != GK_OK) {
            gk_error_set(e, st, r->output, "output name too long");
            break;
        }
        st =
            write_shard(r, meta, set, inputs, t, starts[no], starts[no + 1], no, count, n, path, e);
        if (st == GK_OK)
            fmt_log(3, "%s: %zu tensors", path, starts[no + 1] - starts[no]);
    }
    /* a set is whole or absent: remove the files written before a failure */
    for (size_t k = 0; st != GK_OK && k + 1 < no; k++)
        if (fmt_split_name(path, cap, r->output, plen, k, count) == GK_OK)
            unlink(path);
    if (st == GK_OK)
        fmt_log(2, "wrote %zu files (%s-%05zu-of-%05zu.gguf ...), %zu tensors", count, r->output,
                (size_t)1, count, n);
    free(starts);
    free(path);
    free(inputs);
    return st;
}

int ed_parse_split_size(const char *s, uint64_t *out) {
    size_t len = strlen(s);
    uint64_t mul = 1, v;
    char num[32];
    if (len && (s[len - 1] == 'M' || s[len - 1] == 'G'))
        mul = s[--len] == 'M' ? 1000000u : 1000000000u;
    if (len == 0 || len >= sizeof num)
        return 0;
    memcpy(num, s, len);
    num[len] = 0;
    if (fmt_parse_u64(num, &v) != GK_OK || v == 0 || v > UINT64_MAX / mul)
        return 0;
    *out = v * mul;
    return 1;
}
