/* convert.c -- gguf2onnx's conversion sequence and its output directory. */
#include "converters/gguf2onnx/convert.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "converters/gguf2onnx/tokenizer.h"
#include "formats/gguf.h"
#include "formats/io.h"
#include "formats/onnx.h"
#include "formats/source.h"

/* Files gguf2onnx writes; -f replaces an OUTDIR holding only these. */
static const char *const out_files[] = {"model.onnx.data",       "model.onnx",
                                        "genai_config.json",     "tokenizer.json",
                                        "tokenizer_config.json", NULL};

/* ------------------------------------------------------------------------ */
/* Output directory                                                           */
/* ------------------------------------------------------------------------ */

static int is_out_file(const char *name) {
    for (int i = 0; out_files[i]; i++)
        if (strcmp(name, out_files[i]) == 0)
            return 1;
    return 0;
}

/* GK_OK when OUTDIR may be written (absent, or -f and only our files). */
static gk_status check_outdir(const ox_convert_opts *o, gk_error *e) {
    struct stat sb;
    if (stat(o->outdir, &sb) != 0)
        return GK_OK;
    if (!o->force)
        return gk_error_set(e, GK_E_EXISTS, o->outdir, "already exists (use -f to replace it)");
    if (!S_ISDIR(sb.st_mode))
        return gk_error_set(e, GK_E_EXISTS, o->outdir, "exists and is not a directory");
    DIR *d = opendir(o->outdir);
    if (!d)
        return gk_error_set(e, GK_E_IO, o->outdir, "%s", strerror(errno));
    struct dirent *ent;
    gk_status st = GK_OK;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0 ||
            is_out_file(ent->d_name))
            continue;
        st = gk_error_set(e, GK_E_EXISTS, o->outdir,
                          "refusing to replace, it holds '%.200s' (not written by gguf2onnx)",
                          ent->d_name);
        break;
    }
    closedir(d);
    return st;
}

static void remove_dir(const char *dir) {
    char p[4096];
    for (int i = 0; out_files[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, out_files[i]);
        unlink(p);
        fmt_cleanup_unregister(p);
    }
    rmdir(dir);
    fmt_cleanup_unregister(dir);
}

/* OUTDIR.tmp.XXXXXX beside OUTDIR, with the usual directory mode, removed
 * on a fatal signal. tmpdir[cap] receives its name ("" on failure). */
static gk_status make_tmpdir(const char *outdir, char *tmpdir, size_t cap, gk_error *e) {
    snprintf(tmpdir, cap, "%s.tmp.XXXXXX", outdir);
    size_t ol = strlen(outdir);
    while (ol > 1 && tmpdir[ol - 1] == '/') /* "out/" -> "out.tmp.XXXXXX" */
        memmove(tmpdir + ol - 1, tmpdir + ol, strlen(tmpdir + ol) + 1), ol--;
    if (!mkdtemp(tmpdir)) {
        gk_error_set(e, GK_E_IO, outdir, "cannot create %.900s: %s", tmpdir, strerror(errno));
        tmpdir[0] = 0;
        return GK_E_IO;
    }
    mode_t um = umask(0); /* mkdtemp makes 0700; a directory gets the usual 0777 & ~umask */
    umask(um);
    chmod(tmpdir, 0777 & ~um);
    fmt_signals_init();
    fmt_cleanup_register(tmpdir);
    return GK_OK;
}

/* Swap tmpdir into place: an old OUTDIR (checked to hold only our files)
 * goes first. */
static gk_status move_into_place(const char *tmpdir, const char *outdir, gk_error *e) {
    char path[4200];
    struct stat sb;
    if (stat(outdir, &sb) == 0)
        remove_dir(outdir);
    if (rename(tmpdir, outdir) != 0)
        return gk_error_set(e, GK_E_IO, outdir, "cannot rename %.500s to %.400s: %s", tmpdir,
                            outdir, strerror(errno));
    for (int i = 0; out_files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, out_files[i]);
        fmt_cleanup_unregister(path);
    }
    fmt_cleanup_unregister(tmpdir);
    return GK_OK;
}

static gk_status write_json_file(const char *dir, const char *name, json_t *doc, const char *outdir,
                                 gk_error *e) {
    char p[4096];
    snprintf(p, sizeof p, "%.4000s/%.80s", dir, name);
    fmt_cleanup_register(p);
    if (!doc || json_dump_file(doc, p, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0)
        return gk_error_set(e, GK_E_IO, outdir, "%.900s: cannot write", p);
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Conversion                                                                 */
/* ------------------------------------------------------------------------ */

/* What one conversion holds; released by state_free. */
typedef struct {
    fmt_input *in;
    fmt_gguf *g;
    fmt_src *src; /* the tensors of g */
    ox_hparams hp;
    json_t *tok, *tokcfg, *cfg, *report;
    ox_graph *graph;
    uint64_t bytes_in;
    char tmpdir[4096];
} state;

static void state_free(state *s) {
    ox_graph_free(s->graph);
    if (s->tmpdir[0])
        remove_dir(s->tmpdir);
    json_decref(s->report);
    json_decref(s->tok);
    json_decref(s->tokcfg);
    json_decref(s->cfg);
    fmt_src_close(s->src);
    fmt_gguf_close(s->g);
    fmt_input_close(s->in);
}

/* Open the input and its tensor source (over the one parsed header), read
 * its hparams and rebuild its tokenizer files. */
static gk_status read_input(const ox_convert_opts *o, state *s, gk_error *e) {
    char err[sizeof e->msg] = "";
    gk_status st;
    if (!(s->in = fmt_input_open(o->input, NULL, &st, err, sizeof err)))
        return gk_error_set(e, st, o->input, "%s", err);
    if ((st = fmt_input_make_seekable(s->in)) != GK_OK)
        return gk_error_set(e, st, o->input, "%s", fmt_input_errmsg(s->in));
    if (!(s->g = fmt_gguf_open(s->in, &st)))
        return gk_error_set(e, st, o->input, "%s", fmt_gguf_open_errmsg());
    if (!(s->src = fmt_src_over_gguf(&s->g, 1, &o->input, &st)))
        return gk_error_set(e, st, o->input, "%s", fmt_src_open_errmsg());
    if ((st = ox_read_hparams(s->g, s->src, &s->hp, err, sizeof err)) != GK_OK)
        return gk_error_set(e, st, o->input, "%s", err);
    if (!o->no_tokenizer &&
        (st = ox_tokenizer_files(s->g, &s->hp, &s->tok, &s->tokcfg, err, sizeof err)) != GK_OK)
        return gk_error_set(e, st, o->input, "%s", err);
    return GK_OK;
}

static void log_line(const char *line) {
    fmt_log(3, "%s", line);
}

/* The graph and its weights into tmpdir. A message about a tensor is the
 * input's fault; anything else (writing the data) is OUTDIR's. */
static gk_status build_graph(const ox_convert_opts *o, state *s, gk_error *e) {
    char err[sizeof e->msg] = "", path[4200];
    gk_status st;
    snprintf(path, sizeof path, "%s/model.onnx.data", s->tmpdir);
    fmt_cleanup_register(path);
    if (!(s->graph = ox_graph_create(path, "model.onnx.data", &st, err, sizeof err)))
        return gk_error_set(e, st, o->outdir, "%s", err);
    ox_metadata(s->graph, "gguf2onnx.architecture", s->hp.arch);
    if (o->graph == OX_GRAPH_GENAI) {
        static const char *const dom[] = {"", "com.microsoft"};
        static const int64_t ver[] = {23, 1};
        ox_set_opsets(s->graph, 2, dom, ver);
    }
    ox_decoder_opts dopt = {o->graph, o->kv_f16};
    ox_wctx w;
    memset(&w, 0, sizeof w);
    w.g = s->graph;
    w.src = s->src;
    w.mode = o->weights;
    w.accuracy_level = o->accuracy;
    w.report = s->report;
    w.log = log_line;
    uint64_t total = 0;
    for (uint64_t i = 0; i < fmt_src_n_tensors(s->src); i++)
        total += fmt_src_tensor_at(s->src, i)->size;
    w.progress = fmt_progress_start("converting", total, o->progress);
    st = ox_build_decoder(&w, &s->hp, &dopt);
    fmt_progress_end(w.progress);
    s->bytes_in = w.bytes_in;
    if (st != GK_OK) {
        const char *msg = w.err[0] ? w.err : ox_graph_errmsg(s->graph);
        return gk_error_set(e, st, strncmp(msg, "tensor '", 8) == 0 ? o->input : o->outdir, "%s",
                            msg);
    }
    snprintf(path, sizeof path, "%s/model.onnx", s->tmpdir);
    fmt_cleanup_register(path);
    if ((st = ox_graph_save(s->graph, path)) != GK_OK)
        return gk_error_set(e, st, o->outdir, "%s", ox_graph_errmsg(s->graph));
    s->cfg = ox_genai_config(&s->hp, &dopt);
    if ((st = write_json_file(s->tmpdir, "genai_config.json", s->cfg, o->outdir, e)) != GK_OK)
        return st;
    if (s->tok &&
        ((st = write_json_file(s->tmpdir, "tokenizer.json", s->tok, o->outdir, e)) != GK_OK ||
         (st = write_json_file(s->tmpdir, "tokenizer_config.json", s->tokcfg, o->outdir, e)) !=
             GK_OK))
        return st;
    return GK_OK;
}

/* The summary line, and the JSON report when asked for. */
static void report(const ox_convert_opts *o, const state *s, double secs, FILE *json_out) {
    uint64_t data = ox_graph_data_bytes(s->graph);
    const char *kind = o->graph == OX_GRAPH_GENAI ? "genai" : "standard";
    fmt_log(2, "%s: %s, %lld layers, %s graph -> %s (%.1f MiB weights, %.2f s, %.0f MiB/s in)",
            o->input, s->hp.arch, (long long)s->hp.n_layer, kind, o->outdir,
            (double)data / 1048576.0, secs,
            secs > 0 ? (double)s->bytes_in / 1048576.0 / secs : 0.0);
    if (!json_out)
        return;
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:O}", "input", o->input, "outdir",
                            o->outdir, "architecture", s->hp.arch, "graph", kind, "layers",
                            (json_int_t)s->hp.n_layer, "data_bytes", (json_int_t)data, "seconds",
                            secs, "tensors", s->report);
    json_dumpf(doc, json_out, JSON_INDENT(2));
    fputc('\n', json_out);
    json_decref(doc);
}

gk_status ox_convert(const ox_convert_opts *o, FILE *json_out, gk_error *e) {
    state s;
    memset(&s, 0, sizeof s);
    gk_error_clear(e);
    s.report = json_array();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gk_status st = check_outdir(o, e);
    if (st == GK_OK)
        st = read_input(o, &s, e);
    if (st == GK_OK)
        st = make_tmpdir(o->outdir, s.tmpdir, sizeof s.tmpdir, e);
    if (st == GK_OK)
        st = build_graph(o, &s, e);
    if (st == GK_OK && (st = move_into_place(s.tmpdir, o->outdir, e)) == GK_OK)
        s.tmpdir[0] = 0;
    if (st == GK_OK) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        report(o, &s, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9,
               json_out);
    }
    state_free(&s);
    return st;
}
