/*
 * edit.c -- gguf-edit's run: open the input set, build the new metadata
 * (meta.c), then print the diff, write one file (a merge when the input is
 * a split set), write shards (shard.c) or edit the file in place.
 */
#include "edit/edit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edit/copy.h"
#include "edit/diff.h"
#include "edit/meta.h"
#include "edit/shard.h"
#include "edit/tensors.h"
#include "formats/io.h"

#define SIDE_SUFFIX ".gguf-edit-header" /* the new header, beside the file, while it is copied */

void ed_request_free(ed_request *r) {
    for (size_t i = 0; i < r->n_set; i++) {
        free(r->set[i].key);
        fmt_gguf_owned_free(&r->set[i].value);
    }
    r->n_set = 0;
}

static uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

/* ------------------------------------------------------------------------ */
/* One output file (a copy, an edit or a merge)                               */
/* ------------------------------------------------------------------------ */

/* Write w (KVs and tensor infos) and the tensors t[0..n) to path. force
 * lets an existing path be replaced; inputs (NULL-terminated) are refused. */
static gk_status write_file(const ed_request *r, fmt_split *set, fmt_gguf_writer *w,
                            const ed_tensor *t, size_t n, const char *path, int force,
                            const char *const *inputs, gk_error *e) {
    char err[512];
    gk_status st;
    fmt_output_opts oo = {.force = force, .inputs = inputs, .zstd_level = r->zstd_level};
    fmt_output *out = fmt_output_open(path, &oo, &st, err, sizeof err);
    if (!out)
        return gk_error_set(e, st, fmt_is_stdio(path) ? NULL : path, "%s", err);
    const char *name = fmt_is_stdio(path) ? "(stdout)" : path;
    fmt_progress *prog = fmt_progress_start("writing", fmt_gguf_writer_file_size(w), r->progress);
    uint64_t done = 0;
    st = ed_write_gguf(w, set, t, n, out, name, prog, &done, e);
    fmt_progress_end(prog);
    if (st == GK_OK && (st = fmt_output_commit(out)) != GK_OK)
        gk_error_set(e, st, name, "%s", fmt_output_errmsg(out));
    fmt_output_close(out);
    return st;
}

/* ------------------------------------------------------------------------ */
/* In place                                                                   */
/* ------------------------------------------------------------------------ */

/* 1 when w's tensors sit where the input's do: same data offset and every
 * tensor at the offset the writer gives it. Then only the header changes. */
static int same_layout(const fmt_gguf *g, const fmt_gguf_writer *w) {
    uint64_t a = fmt_gguf_alignment(g), off = 0, n = fmt_gguf_n_tensors(g), data = 0;
    for (uint64_t i = 0; i < n; i++)
        data += align_up(fmt_gguf_writer_tensor_size(w, i), a);
    if (n == 0 || fmt_gguf_writer_n_tensors(w) != n ||
        fmt_gguf_writer_file_size(w) - data != fmt_gguf_data_offset(g))
        return 0;
    for (uint64_t i = 0; i < n; i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
        if (t->offset != off)
            return 0;
        off += align_up(t->size, a);
    }
    return 1;
}

/* Copy the side file's bytes over the start of path and make them durable. */
static gk_status copy_header(const char *side, const char *path, int fd, gk_error *e) {
    fmt_map m = {0};
    char why[256];
    gk_status st = fmt_map_file(side, FMT_MAP_SEQUENTIAL, &m, why, sizeof why);
    if (st != GK_OK)
        return gk_error_set(e, st, side, "%s", why);
    size_t done = 0;
    while (done < m.size) {
        ssize_t k = pwrite(fd, m.data + done, m.size - done, (off_t)done);
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    size_t size = m.size;
    fmt_unmap(&m);
    if (done < size || fsync(fd) != 0)
        return gk_error_set(e, GK_E_IO, path,
                            "header write failed: %s; the new header is in %s (dd "
                            "if=%s of=%s conv=notrunc finishes the edit)",
                            strerror(errno), side, side, path);
    return GK_OK;
}

/* The header fits where the old one was: write it beside the file first
 * (atomic, fsynced), then over the old header, then drop the side file. */
static gk_status rewrite_header(fmt_gguf_writer *w, const char *path, gk_error *e) {
    size_t len = strlen(path);
    char *side = malloc(len + sizeof SIDE_SUFFIX);
    if (!side)
        return gk_error_set(e, GK_E_NOMEM, NULL, "out of memory");
    memcpy(side, path, len);
    memcpy(side + len, SIDE_SUFFIX, sizeof SIDE_SUFFIX);
    char err[512];
    gk_status st = GK_OK;
    fmt_output_opts oo = {0};
    fmt_output *out = NULL;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        st = gk_error_set(e, GK_E_IO, path, "cannot open for writing: %s", strerror(errno));
    else if (!(out = fmt_output_open(side, &oo, &st, err, sizeof err)))
        gk_error_set(e, st, side, "%s%s", err,
                     st == GK_E_EXISTS ? " (left by an interrupted in-place edit: see gguf-edit(1))"
                                       : "");
    else if ((st = fmt_gguf_writer_write_header(w, out)) != GK_OK ||
             (st = fmt_output_commit(out)) != GK_OK)
        gk_error_set(e, st, side, "%s", fmt_output_errmsg(out));
    else if ((st = copy_header(side, path, fd, e)) == GK_OK)
        unlink(side);
    fmt_output_close(out);
    if (fd >= 0)
        close(fd);
    free(side);
    return st;
}

static gk_status in_place(const ed_request *r, fmt_split *set, fmt_gguf_writer *w,
                          const ed_tensor *t, size_t n, gk_error *e) {
    const char *path = fmt_split_paths(set)[0];
    fmt_input *in = fmt_split_inputs(set)[0];
    if (fmt_split_count(set) > 1 || fmt_is_stdio(r->input) || fmt_input_is_zstd(in))
        return gk_error_set(e, GK_E_USAGE, NULL,
                            "--in-place needs one plain GGUF file (not a split set, stdin or "
                            ".zst); use -o");
    if (same_layout(fmt_split_ggufs(set)[0], w)) {
        fmt_log(3, "%s: header rewritten in place", path);
        return rewrite_header(w, path, e);
    }
    fmt_log(3, "%s: the new header does not fit; rewriting the file", path);
    return write_file(r, set, w, t, n, path, 1, NULL, e);
}

/* ------------------------------------------------------------------------ */
/* Run                                                                        */
/* ------------------------------------------------------------------------ */

static gk_status dispatch(const ed_request *r, fmt_split *set, fmt_gguf_writer *w, gk_error *e) {
    ed_tensor *t = NULL;
    size_t n = 0;
    gk_status st = GK_OK;
    fmt_gguf *meta = fmt_gguf_writer_header_reader(w, &st);
    if (!meta)
        return gk_error_set(e, st, NULL, "%s", fmt_gguf_open_errmsg());
    if (ed_tensor_list(set, &t, &n) != GK_OK) {
        st = gk_error_set(e, GK_E_NOMEM, NULL, "out of memory");
    } else if ((st = ed_tensor_edits(r, set, meta, t, &n, e)) != GK_OK) {
    } else if (r->dry_run) {
        if ((st = ed_diff_print(stdout, fmt_split_ggufs(set)[0], meta, r->json)) != GK_OK)
            gk_error_set(e, st, NULL, "cannot write the diff to stdout");
    } else if (r->split_max_size || r->split_max_tensors) {
        st = ed_split_write(r, meta, set, t, n, e);
    } else if ((st = ed_add_tensor_infos(w, set, t, n, e)) != GK_OK) {
    } else if (r->in_place) {
        st = in_place(r, set, w, t, n, e);
    } else {
        const char **inputs = ed_input_paths(set);
        st = inputs ? write_file(r, set, w, t, n, r->output, r->force, inputs, e)
                    : gk_error_set(e, GK_E_NOMEM, NULL, "out of memory");
        free(inputs);
    }
    free(t);
    fmt_gguf_close(meta);
    return st;
}

gk_status ed_run(const ed_request *r, gk_error *e) {
    char err[1024];
    gk_status st = GK_OK;
    fmt_split *set = fmt_split_open(r->input, &st, err, sizeof err);
    if (!set)
        return gk_error_set(e, st, NULL, "%s", err);
    fmt_gguf *first = fmt_split_ggufs(set)[0];
    uint64_t count = 0;
    if (r->merge && (!fmt_gguf_get_u64(first, "split.count", &count) || count == 0)) {
        fmt_split_close(set);
        return gk_error_set(e, GK_E_USAGE, r->input,
                            "--merge: not a split set (no split.count, or 0: merged already)");
    }
    fmt_gguf_writer *w = ed_meta_build(r, first, fmt_split_count(set) > 1 || r->merge, e);
    if (w)
        st = dispatch(r, set, w, e);
    else
        st = e->status;
    fmt_gguf_writer_free(w);
    fmt_split_close(set);
    return st;
}
