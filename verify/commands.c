/* commands.c -- gguf-verify's commands: hash, check, validate, diff. */
#include "verify/commands.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/cli.h"
#include "formats/gguf.h"
#include "formats/hfrun.h"
#include "formats/io.h"
#include "formats/manifest.h"
#include "formats/json.h"
#include "verify/verify.h"

/* Hand an error to the caller's report function; its exit code. */
__attribute__((format(printf, 4, 5))) static int fail(const vfy_cmd_opts *o, gk_status st,
                                                      const char *file, const char *fmt, ...) {
    gk_error e;
    va_list ap;
    gk_error_set(&e, st, file, NULL);
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    o->report(&e);
    return gk_exit_code(st);
}

/* Open a GGUF model; 0 or an exit code after the error. */
static int open_model(const vfy_cmd_opts *o, const char *path, int seekable, fmt_input **in,
                      fmt_gguf **g) {
    char err[1024];
    gk_status st;
    *g = NULL;
    if (!(*in = fmt_input_open(path, NULL, &st, err, sizeof err)))
        return fail(o, st, path, "%s", err);
    if (seekable && !fmt_input_data(*in) && (st = fmt_input_make_seekable(*in)) != GK_OK)
        return fail(o, st, path, "%s", fmt_input_errmsg(*in));
    if (!(*g = fmt_gguf_open(*in, &st)))
        return fail(o, st, path, "%s", fmt_gguf_open_errmsg());
    return 0;
}

/* ------------------------------------------------------------------------ */
/* --json (schema: docs/gguf-verify.json.md)                                  */
/* ------------------------------------------------------------------------ */

static json_t *jstr(const char *s) {
    return fmt_json_bytes(s, strlen(s));
}

/* {"version": 1, "command": cmd, key: []}; the array is returned in *arr. */
static json_t *json_doc(const char *cmd, const char *key, json_t **arr) {
    json_t *doc = json_pack("{s:i, s:s}", "version", 1, "command", cmd);
    json_object_set_new(doc, key, *arr = json_array());
    return doc;
}

/* Print doc on stdout and free it; 2 when it could not be built. */
static int json_emit(json_t *doc, int rc) {
    if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
        fputc('\n', stdout) == EOF)
        rc = 2;
    json_decref(doc);
    return rc;
}

/* {kind: hex, ...} for the kinds asked, skipping empty digests. */
static json_t *digests_json(unsigned kinds, char (*hex)[VFY_HASH_HEX_MAX]) {
    json_t *o = json_object();
    for (int k = 0; k < VFY_HASH_COUNT; k++)
        if (kinds & (1u << k) && hex[k][0])
            json_object_set_new(o, vfy_hash_name((vfy_hash_kind)k), json_string(hex[k]));
    return o;
}

static json_t *hash_json(const char *path, const fmt_gguf *g, vfy_gguf_hashes *h, unsigned kinds,
                         int per_tensor) {
    json_t *f = json_pack("{s:o, s:b, s:o}", "file", jstr(path), "whole", 0, "model",
                          digests_json(kinds, h->model));
    json_t *ts = json_array();
    for (uint64_t i = 0; per_tensor && h->tensor && i < h->n_tensors; i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
        json_t *d = digests_json(kinds & ~(1u << VFY_HASH_UUID), h->tensor[i]);
        json_object_set_new(d, "name", fmt_json_bytes(t->name.ptr, t->name.len));
        json_array_append_new(ts, d);
    }
    json_object_set_new(f, "tensors", ts);
    return f;
}

static json_t *error_json(const char *path, const char *msg) {
    return json_pack("{s:o, s:o}", "file", jstr(path), "error", jstr(msg));
}

int vfy_cmd_hash(const vfy_cmd_opts *o) {
    int rc = 0;
    /* names reach a terminal only through the terminal rule; a file or a
     * pipe gets them byte for byte, so that check finds them */
    int tty = fmt_isatty(1);
    json_t *files = NULL, *doc = o->json ? json_doc("hash", "files", &files) : NULL;
    for (int i = 0; i < o->n_args; i++) {
        const char *path = o->args[i];
        char err[1024], hex[VFY_HASH_HEX_MAX], shown[4096];
        if (o->whole) {
            gk_status st = vfy_hash_file(path, VFY_HASH_SHA256, hex, err, sizeof err);
            if (st == GK_OK && files)
                json_array_append_new(files, json_pack("{s:o, s:b, s:{s:s}}", "file", jstr(path),
                                                       "whole", 1, "model", "sha256", hex));
            else if (st == GK_OK)
                vfy_manifest_write_whole(
                    stdout, tty ? fmt_escape_term(shown, sizeof shown, path, strlen(path)) : path,
                    hex);
            else
                fail(o, st, path, "%s", err), rc = 2;
            if (st != GK_OK && files)
                json_array_append_new(files, error_json(path, err));
            continue;
        }
        fmt_input *in;
        fmt_gguf *g;
        int e = open_model(o, path, 0, &in, &g);
        if (e == 0) {
            vfy_hash_opts ho = {o->kinds, !o->no_layer, o->jobs, o->progress};
            vfy_gguf_hashes h;
            gk_status st = vfy_hash_gguf(g, in, &ho, &h, err, sizeof err);
            if (st == GK_OK && files)
                json_array_append_new(files, hash_json(path, g, &h, o->kinds, !o->no_layer));
            else if (st == GK_OK)
                vfy_manifest_write(stdout, path, g, &h, o->kinds, !o->no_layer, tty);
            else
                e = fail(o, st, path, "%s", err);
            if (st != GK_OK && files)
                json_array_append_new(files, error_json(path, err));
            vfy_gguf_hashes_free(&h);
        } else if (files) {
            json_array_append_new(files, json_pack("{s:o, s:s}", "file", jstr(path), "error",
                                                   "cannot open or read the model"));
        }
        fmt_gguf_close(g);
        fmt_input_close(in);
        rc = e > rc ? e : rc;
    }
    return doc ? json_emit(doc, rc) : rc;
}

static json_t *check_json(const char *manifest, const vfy_check_result *r, int failed) {
    static const char *what[] = {"ok", "failed", "missing", "extra", "unreadable", "skipped"};
    json_t *items, *doc = json_doc("check", "items", &items), *bad = json_array(),
                   *errs = json_array();
    json_object_set_new(doc, "manifest", jstr(manifest));
    for (size_t i = 0; i < r->n_items; i++)
        json_array_append_new(
            items, json_pack("{s:o, s:s, s:I, s:s}", "name", jstr(r->items[i].name), "kind",
                             vfy_hash_name(r->items[i].kind), "line", (json_int_t)r->items[i].line,
                             "status", what[r->items[i].status]));
    for (size_t i = 0; i < r->n_malformed; i++)
        json_array_append_new(bad, json_integer((json_int_t)r->malformed[i]));
    for (size_t i = 0; i < r->n_errors; i++)
        json_array_append_new(errs, jstr(r->errors[i]));
    json_object_set_new(doc, "malformed_lines", bad);
    json_object_set_new(doc, "errors", errs);
    json_object_set_new(doc, "summary",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "ok",
                                  (json_int_t)r->n_ok, "failed", (json_int_t)r->n_failed, "missing",
                                  (json_int_t)r->n_missing, "extra", (json_int_t)r->n_extra,
                                  "unreadable", (json_int_t)r->n_unreadable, "skipped",
                                  (json_int_t)r->n_skipped, "malformed", (json_int_t)r->n_malformed,
                                  "wellformed", (json_int_t)r->n_wellformed));
    json_object_set_new(doc, "passed", json_boolean(!failed));
    return doc;
}

/* A checked item's name on stdout: it comes from the manifest, so its
 * control bytes are shown as '?' (names are at most
 * FMT_MANIFEST_NAME_MAX bytes plus a tensor name). */
static void print_name(const char *name) {
    char shown[2 * FMT_MANIFEST_NAME_MAX];
    fputs(fmt_escape_term(shown, sizeof shown, name, strlen(name)), stdout);
}

int vfy_cmd_check(const vfy_cmd_opts *o) {
    const char *m = o->manifest;
    fmt_input_opts io = {.allow_tty = 1};
    char err[1024];
    gk_status st;
    fmt_input *in = fmt_input_open(m, &io, &st, err, sizeof err);
    if (!in)
        return fail(o, st, m, "%s", err);
    size_t len = 0, cap = 1 << 16, got = 0;
    char *text = malloc(cap);
    const char *why = text ? NULL : "out of memory";
    while (!why) {
        if (len == cap) {
            char *p = cap < (1u << 30) ? realloc(text, cap * 2) : NULL;
            if (!p) {
                why = "manifest too large";
                break;
            }
            text = p;
            cap *= 2;
        }
        if ((st = fmt_input_read(in, text + len, cap - len, &got)) != GK_OK)
            why = fmt_input_errmsg(in);
        else if (got == 0)
            break;
        len += got;
    }
    if (why) {
        fail(o, GK_E_IO, m, "%s", why);
        free(text);
        fmt_input_close(in);
        return 2;
    }
    fmt_input_close(in);
    /* names in a manifest are relative to its directory (stdin: here) */
    const char *slash = fmt_is_stdio(m) ? NULL : strrchr(m, '/');
    char *dir = slash ? strndup(m, slash == m ? 1 : (size_t)(slash - m)) : NULL;
    vfy_check_opts co = {o->n_args ? o->args[0] : NULL,
                         o->ignore_missing,
                         o->jobs,
                         o->progress,
                         dir,
                         o->allow_outside};
    vfy_check_result r;
    st = slash && !dir ? GK_E_NOMEM : vfy_check_manifest(text, len, &co, &r);
    free(text);
    free(dir);
    if (st == GK_E_USAGE)
        return fmt_cli_usage_error("FILE given but the manifest names more than one file: %s", m);
    if (st != GK_OK)
        return fail(o, GK_E_NOMEM, m, "out of memory");
    int say = !o->status;
    for (size_t i = 0; i < r.n_items && say && !o->json; i++) {
        const vfy_check_item *it = &r.items[i];
        static const char *what[] = {"OK",
                                     "FAILED",
                                     "FAILED (not in the file)",
                                     "FAILED (not in the manifest)",
                                     "FAILED open or read",
                                     ""};
        if ((it->status == VFY_CHECK_OK && o->quiet) || it->status == VFY_CHECK_SKIPPED)
            continue;
        print_name(it->name);
        printf(": %s\n", what[it->status]);
    }
    fflush(stdout);
    for (size_t i = 0; i < r.n_errors && say; i++)
        fmt_error(NULL, "%s", r.errors[i]);
    for (size_t i = 0; i < r.n_malformed && say && (o->warn || o->strict); i++)
        fmt_error(NULL, "%s:%llu: improperly formatted checksum line", m,
                  (unsigned long long)r.malformed[i]);
    int fail =
        r.n_failed || r.n_missing || r.n_extra || r.n_unreadable || (o->strict && r.n_malformed);
    if (say) {
        if (r.n_malformed)
            fmt_error(m, "WARNING: %zu line%s improperly formatted", r.n_malformed,
                      r.n_malformed == 1 ? " is" : "s are");
        if (r.n_failed)
            fmt_error(m, "WARNING: %llu computed checksum%s did NOT match",
                      (unsigned long long)r.n_failed, r.n_failed == 1 ? "" : "s");
        if (r.n_missing)
            fmt_error(m, "WARNING: %llu listed tensor%s not in the file",
                      (unsigned long long)r.n_missing, r.n_missing == 1 ? " is" : "s are");
        if (r.n_extra)
            fmt_error(m, "WARNING: %llu tensor%s not in the manifest",
                      (unsigned long long)r.n_extra, r.n_extra == 1 ? " is" : "s are");
        if (r.n_unreadable)
            fmt_error(m, "WARNING: %llu listed item%s could not be read",
                      (unsigned long long)r.n_unreadable, r.n_unreadable == 1 ? "" : "s");
    }
    if (r.n_wellformed == 0) {
        if (say)
            fmt_error(m, "no properly formatted checksum lines found");
        fail = 1;
    } else if (r.n_ok + r.n_failed == 0 && !fail) {
        if (say)
            fmt_error(m, "no file was verified");
        fail = 1;
    } else if (say && !o->quiet) {
        fmt_log(2, "%s: %llu OK, %llu failed, %llu missing, %llu extra, %llu skipped", m,
                (unsigned long long)r.n_ok, (unsigned long long)r.n_failed,
                (unsigned long long)r.n_missing, (unsigned long long)r.n_extra,
                (unsigned long long)r.n_skipped);
    }
    if (r.n_refused)
        fail = 2; /* a manifest naming what it may not is bad input */
    if (o->json)
        fail = json_emit(check_json(m, &r, fail), fail);
    vfy_check_result_free(&r);
    return fail;
}

/* A header the reader rejects or bad data is a failed check (exit 1); a
 * file that cannot be opened or read is an I/O error (exit 2). */
int vfy_cmd_validate(const vfy_cmd_opts *o) {
    int rc = 0;
    json_t *files = NULL, *doc = o->json ? json_doc("validate", "files", &files) : NULL;
    for (int i = 0; i < o->n_args; i++) {
        const char *path = o->args[i];
        char msg[1024];
        gk_status st;
        int e;
        fmt_input *in = fmt_input_open(path, NULL, &st, msg, sizeof msg);
        fmt_gguf *g = in ? fmt_gguf_open(in, &st) : NULL;
        if (!in)
            fail(o, st, path, "%s", msg);
        else if (!g)
            fail(o, st, path, "%s", fmt_gguf_open_errmsg());
        else if ((st = vfy_validate_gguf(g, in, o->jobs, NULL, msg, sizeof msg)) != GK_OK)
            fail(o, st, path, "%s", msg);
        e = st == GK_OK ? 0 : !in || st == GK_E_IO || st == GK_E_NOMEM ? 2 : 1;
        const char *why = e == 0 ? NULL : !in ? msg : !g ? fmt_gguf_open_errmsg() : msg;
        if (files)
            json_array_append_new(files, json_pack("{s:o, s:s, s:o}", "file", jstr(path), "status",
                                                   e == 0   ? "ok"
                                                   : e == 1 ? "failed"
                                                            : "error",
                                                   "error", why ? jstr(why) : json_null()));
        else if (e < 2)
            printf("%s: %s\n", path, e ? "FAILED" : "OK");
        fmt_gguf_close(g);
        fmt_input_close(in);
        rc = e > rc ? e : rc;
    }
    return doc ? json_emit(doc, rc) : rc;
}

/* A Hugging Face directory as the GGUF `hf2gguf --outtype f32` writes from
 * it (every weight dequantized, nothing rounded), read from the program's
 * stdout and spilled to an unlinked temp file for random access. */
static int open_hf_dir(const vfy_cmd_opts *o, const char *dir, fmt_input **in, fmt_gguf **g) {
    const char *args[] = {"--outtype", "f32", NULL};
    char err[1024], child[1024] = "", fdpath[64];
    gk_status st = GK_OK;
    int fd = -1;
    *in = NULL, *g = NULL;
    fmt_hfrun *h =
        fmt_hfrun_start(dir, args, "diff on a Hugging Face directory", &fd, err, sizeof err);
    if (!h)
        return fail(o, GK_E_IO, dir, "%s", err);
    snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fd);
    if ((*in = fmt_input_open(fdpath, NULL, &st, err, sizeof err)) &&
        (st = fmt_input_make_seekable(*in)) != GK_OK)
        snprintf(err, sizeof err, "%s", fmt_input_errmsg(*in));
    gk_status cst = fmt_hfrun_finish(h, 0, child, sizeof child);
    if (cst != GK_OK) /* hf2gguf's message names its file */
        return fail(o, cst, NULL, "%s", child);
    if (st != GK_OK)
        return fail(o, st, dir, "hf2gguf's output: %s", err);
    if (!(*g = fmt_gguf_open(*in, &st)))
        return fail(o, st, dir, "hf2gguf's output: %s", fmt_gguf_open_errmsg());
    return 0;
}

/* One side of diff: a GGUF, or a Hugging Face directory. */
static int open_diff_side(const vfy_cmd_opts *o, const char *path, fmt_input **in, fmt_gguf **g) {
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return open_hf_dir(o, path, in, g);
    return open_model(o, path, 1, in, g);
}

int vfy_cmd_diff(const vfy_cmd_opts *o) {
    fmt_input *ia = NULL, *ib = NULL;
    fmt_gguf *a = NULL, *b = NULL;
    vfy_diff d = {0};
    char err[1024];
    int rc = open_diff_side(o, o->args[0], &ia, &a);
    if (!rc)
        rc = open_diff_side(o, o->args[1], &ib, &b);
    if (rc)
        goto done;
    gk_status st = vfy_diff_gguf(a, ia, b, ib, o->jobs, o->progress,
                                 o->per_expert ? VFY_DIFF_PER_EXPERT : 0, &d, err, sizeof err);
    if (st != GK_OK) {
        rc = fail(o, st, NULL, "%s", err);
        goto done;
    }
    st = o->json ? vfy_diff_write_json(stdout, &d, o->args[0], o->args[1])
                 : vfy_diff_write_text(stdout, &d, o->args[0], o->args[1]);
    if (o->html && st == GK_OK) {
        char *html = NULL;
        size_t len = 0;
        vfy_report r = {"gguf-verify diff", o->args[0], o->args[1], d.tensors, d.n_tensors};
        const char *inputs[] = {o->args[0], o->args[1], NULL};
        fmt_output_opts oo = {.force = o->force, .inputs = inputs};
        fmt_output *out = NULL;
        if ((st = vfy_report_html(&r, &html, &len)) == GK_OK &&
            (out = fmt_output_open(o->html, &oo, &st, err, sizeof err)) &&
            (st = fmt_output_write(out, html, len)) == GK_OK)
            st = fmt_output_commit(out);
        if (st != GK_OK)
            fail(o, st, o->html, "%s", out ? fmt_output_errmsg(out) : html ? err : "out of memory");
        fmt_output_close(out);
        free(html);
    }
    rc = gk_exit_code(st);
    if (!rc && o->has_max_rel) {
        if (!(d.max_rel <= o->max_rel)) {
            fail(o, GK_E_CHECK, NULL, "relative error %.4g exceeds --max-rel-error %g", d.max_rel,
                 o->max_rel);
            rc = 1;
        }
        if (d.n_missing || d.n_extra || d.n_misshaped || d.n_undecodable) {
            fail(o, GK_E_CHECK, NULL, "tensors differ: %llu missing, %llu extra, %llu misshaped",
                 (unsigned long long)d.n_missing, (unsigned long long)d.n_extra,
                 (unsigned long long)d.n_misshaped);
            rc = 1;
        }
    }
done:
    vfy_diff_free(&d);
    fmt_gguf_close(a);
    fmt_gguf_close(b);
    fmt_input_close(ia);
    fmt_input_close(ib);
    return rc;
}
