/*
 * gguf2onnx.c -- gguf2onnx: convert a llama/mistral/qwen2/qwen3 GGUF into an
 * ONNX decoder that ONNX Runtime (and onnxruntime-genai) runs, with
 * genai_config.json and a Hugging Face tokenizer rebuilt from the GGUF.
 * Options, usage and wiring only; the work is in onnx_*.c.
 *
 * OUTDIR is built as OUTDIR.tmp.XXXXXX beside the target and renamed into
 * place at the end, so a failure or a signal leaves nothing behind.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/cli.h"
#include "formats/io.h"
#include "kernels/kernels.h"
#include "converters/gguf2onnx/decoder.h"
#include "converters/gguf2onnx/tokenizer.h"
#include "converters/gguf2onnx/weights.h"
#include "formats/onnx.h"

/* Files gguf2onnx writes; -f replaces an OUTDIR holding only these. */
static const char *const out_files[] = {"model.onnx.data",       "model.onnx",
                                        "genai_config.json",     "tokenizer.json",
                                        "tokenizer_config.json", NULL};

typedef struct {
    const char *input, *outdir;
    int force, json, weights, kv_f16, accuracy, no_tokenizer;
    ox_graph_kind graph;
} options;

enum { OPT_KV = 256, OPT_ACC, OPT_NO_TOK };

static void usage(FILE *f) {
    fprintf(f, "usage: gguf2onnx [options] MODEL.gguf OUTDIR\n"
               "Convert a llama/mistral/qwen2/qwen3 GGUF into an ONNX decoder for ONNX Runtime:\n"
               "OUTDIR/model.onnx (+ model.onnx.data), genai_config.json, tokenizer.json and\n"
               "tokenizer_config.json rebuilt from the GGUF metadata.\n\n"
               "  -w, --weights MODE     auto (default): Q4_0/Q8_0/Q4_1 map exactly onto\n"
               "                         MatMulNBits, other types dequantize to f32;\n"
               "                         f32, f16: dequantize everything; int4, int8:\n"
               "                         quantize float weights to MatMulNBits blocks\n"
               "  -g, --graph KIND       standard (default: opset-23 RMSNormalization,\n"
               "                         RotaryEmbedding, Attention) or genai\n"
               "                         (com.microsoft GroupQueryAttention, fused rotary)\n"
               "      --kv-dtype T       KV cache inputs/outputs: f32 (default) or f16\n"
               "      --accuracy-level N MatMulNBits accuracy_level: 0 (default) computes with\n"
               "                         the exact weights in f32; 4 quantizes activations to\n"
               "                         int8 (much faster for 8-bit weights, less exact)\n"
               "      --no-tokenizer     do not write tokenizer.json/tokenizer_config.json\n"
               "      --json             per-tensor mapping report as JSON on stdout\n"
               "  -f, --force            replace an existing OUTDIR written by gguf2onnx\n"
               "  -q, --quiet / -v, --verbose   less / more messages (-v: one line per tensor)\n"
               "  -h, --help / -V, --version\n\n"
               "examples:\n"
               "  gguf2onnx model-Q4_0.gguf model-onnx\n"
               "  gguf2onnx -v --weights int4 model-F16.gguf out   # re-quantize floats\n"
               "  gguf2onnx --graph genai model-Q4_0.gguf out       # for onnxruntime-genai\n"
               "exit: 0 ok, 2 usage error, bad or unsupported input, I/O error.\n");
}

/* Returns -1 to continue, else the exit code. */
static int parse_args(int argc, char **argv, options *o) {
    static const struct option longs[] = {
        {"weights", required_argument, 0, 'w'},
        {"graph", required_argument, 0, 'g'},
        {"kv-dtype", required_argument, 0, OPT_KV},
        {"accuracy-level", required_argument, 0, OPT_ACC},
        {"no-tokenizer", no_argument, 0, OPT_NO_TOK},
        {0, 0, 0, 0},
    };
    fmt_cli cli;
    int c;
    uint64_t u;
    fmt_cli_init(&cli, FMT_CLI_FORCE | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_JSON,
                 "w:g:", longs, usage);
    while ((c = fmt_cli_next(&cli, argc, argv)) != FMT_CLI_END) {
        switch (c) {
        case FMT_CLI_EXIT: return cli.exit_code;
        case 'w':
            if ((o->weights = ox_weights_mode_parse(optarg)) < 0)
                return fmt_cli_usage_error("--weights: expected auto, f32, f16, int4 or int8");
            break;
        case 'g':
            if (strcmp(optarg, "standard") == 0)
                o->graph = OX_GRAPH_STANDARD;
            else if (strcmp(optarg, "genai") == 0)
                o->graph = OX_GRAPH_GENAI;
            else
                return fmt_cli_usage_error("--graph: expected standard or genai");
            break;
        case OPT_KV:
            if (strcmp(optarg, "f32") != 0 && strcmp(optarg, "f16") != 0)
                return fmt_cli_usage_error("--kv-dtype: expected f32 or f16");
            o->kv_f16 = strcmp(optarg, "f16") == 0;
            break;
        case OPT_ACC:
            if (fmt_parse_u64(optarg, &u) != GK_OK || u > 4)
                return fmt_cli_usage_error("--accuracy-level: expected 0..4");
            o->accuracy = (int)u;
            break;
        case OPT_NO_TOK: o->no_tokenizer = 1; break;
        default: break; /* a common option, in cli.opts */
        }
    }
    o->force = cli.opts.force;
    o->json = cli.opts.json;
    if (argc - optind < 2)
        return fmt_cli_usage_error("missing operands: MODEL.gguf OUTDIR");
    if (argc - optind > 2)
        return fmt_cli_usage_error("too many operands");
    o->input = argv[optind];
    o->outdir = argv[optind + 1];
    if (fmt_is_stdio(o->outdir))
        return fmt_cli_usage_error("OUTDIR must be a directory path, not '-'");
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Output directory                                                           */
/* ------------------------------------------------------------------------ */

static int is_out_file(const char *name) {
    for (int i = 0; out_files[i]; i++)
        if (strcmp(name, out_files[i]) == 0)
            return 1;
    return 0;
}

/* 0 when OUTDIR may be written (absent, or -f and only our files). */
static int check_outdir(const options *o, char *err, size_t errcap) {
    struct stat sb;
    if (stat(o->outdir, &sb) != 0)
        return 0;
    if (!o->force) {
        snprintf(err, errcap, "%s: already exists (use -f to replace it)", o->outdir);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errcap, "%s: exists and is not a directory", o->outdir);
        return -1;
    }
    DIR *d = opendir(o->outdir);
    if (!d) {
        snprintf(err, errcap, "%s: %s", o->outdir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || is_out_file(e->d_name))
            continue;
        snprintf(err, errcap,
                 "%s: refusing to replace, it holds '%.200s' (not written by gguf2onnx)", o->outdir,
                 e->d_name);
        rc = -1;
        break;
    }
    closedir(d);
    return rc;
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

static gk_status write_json_file(const char *dir, const char *name, json_t *doc, char *err,
                                 size_t errcap) {
    char p[4096];
    snprintf(p, sizeof p, "%.4000s/%.80s", dir, name);
    fmt_cleanup_register(p);
    if (!doc || json_dump_file(doc, p, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0) {
        snprintf(err, errcap, "%.900s: cannot write", p);
        return GK_E_IO;
    }
    return GK_OK;
}

static void log_line(const char *line) {
    fmt_log(3, "%s", line);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                       */
/* ------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    kern_init();
    fmt_set_progname("gguf2onnx");
    options o;
    memset(&o, 0, sizeof o);
    o.accuracy = -1;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;

    char err[1024] = "", tmpdir[4096] = "", path[4096];
    const char *errfile = o.input;
    gk_status st = GK_OK;
    fmt_input *in = NULL;
    fmt_gguf *g = NULL;
    ox_graph *graph = NULL;
    json_t *report = json_array(), *tok = NULL, *tokcfg = NULL, *cfg = NULL;
    rc = 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    if (check_outdir(&o, err, sizeof err) != 0) {
        fmt_error(NULL, "%s", err);
        goto done;
    }
    if (!(in = fmt_input_open(o.input, NULL, &st, err, sizeof err)))
        goto fail;
    if ((st = fmt_input_make_seekable(in)) != GK_OK) {
        snprintf(err, sizeof err, "%s", fmt_input_errmsg(in));
        goto fail;
    }
    if (!(g = fmt_gguf_open(in, &st))) {
        snprintf(err, sizeof err, "%s", fmt_gguf_open_errmsg());
        goto fail;
    }
    ox_hparams hp;
    if ((st = ox_read_hparams(g, &hp, err, sizeof err)) != GK_OK)
        goto fail;
    ox_decoder_opts dopt = {o.graph, o.kv_f16};
    if (!o.no_tokenizer &&
        (st = ox_tokenizer_files(g, &hp, &tok, &tokcfg, err, sizeof err)) != GK_OK)
        goto fail;

    errfile = o.outdir;
    snprintf(tmpdir, sizeof tmpdir, "%s.tmp.XXXXXX", o.outdir);
    size_t ol = strlen(o.outdir);
    while (ol > 1 && tmpdir[ol - 1] == '/') /* "out/" -> "out.tmp.XXXXXX" */
        memmove(tmpdir + ol - 1, tmpdir + ol, strlen(tmpdir + ol) + 1), ol--;
    if (!mkdtemp(tmpdir)) {
        snprintf(err, sizeof err, "cannot create %.900s: %s", tmpdir, strerror(errno));
        tmpdir[0] = 0;
        st = GK_E_IO;
        goto fail;
    }
    mode_t um = umask(0); /* mkdtemp makes 0700; a directory gets the usual 0777 & ~umask */
    umask(um);
    chmod(tmpdir, 0777 & ~um);
    fmt_signals_init();
    fmt_cleanup_register(tmpdir);
    snprintf(path, sizeof path, "%s/model.onnx.data", tmpdir);
    fmt_cleanup_register(path);
    if (!(graph = ox_graph_create(path, "model.onnx.data", &st, err, sizeof err)))
        goto fail;
    ox_metadata(graph, "gguf2onnx.architecture", hp.arch);
    if (o.graph == OX_GRAPH_GENAI) {
        static const char *const dom[] = {"", "com.microsoft"};
        static const int64_t ver[] = {23, 1};
        ox_set_opsets(graph, 2, dom, ver);
    }
    ox_wctx w;
    memset(&w, 0, sizeof w);
    w.g = graph;
    w.gguf = g;
    w.mode = (ox_weights_mode)o.weights;
    w.accuracy_level = o.accuracy;
    w.report = report;
    w.log = log_line;
    if ((st = ox_build_decoder(&w, &hp, &dopt)) != GK_OK) {
        snprintf(err, sizeof err, "%s", w.err[0] ? w.err : ox_graph_errmsg(graph));
        goto fail;
    }
    snprintf(path, sizeof path, "%s/model.onnx", tmpdir);
    fmt_cleanup_register(path);
    if ((st = ox_graph_save(graph, path)) != GK_OK) {
        snprintf(err, sizeof err, "%s", ox_graph_errmsg(graph));
        goto fail;
    }
    cfg = ox_genai_config(&hp, &dopt);
    if ((st = write_json_file(tmpdir, "genai_config.json", cfg, err, sizeof err)) != GK_OK)
        goto fail;
    if (tok &&
        ((st = write_json_file(tmpdir, "tokenizer.json", tok, err, sizeof err)) != GK_OK ||
         (st = write_json_file(tmpdir, "tokenizer_config.json", tokcfg, err, sizeof err)) != GK_OK))
        goto fail;

    /* swap into place: an old OUTDIR (checked above to hold only our files) goes first */
    struct stat sb;
    if (stat(o.outdir, &sb) == 0)
        remove_dir(o.outdir);
    if (rename(tmpdir, o.outdir) != 0) {
        snprintf(err, sizeof err, "cannot rename %.500s to %.400s: %s", tmpdir, o.outdir,
                 strerror(errno));
        st = GK_E_IO;
        goto fail;
    }
    for (int i = 0; out_files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, out_files[i]);
        fmt_cleanup_unregister(path);
    }
    fmt_cleanup_unregister(tmpdir);
    tmpdir[0] = 0;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    uint64_t data = ox_graph_data_bytes(graph);
    fmt_log(2, "%s: %s, %lld layers, %s graph -> %s (%.1f MiB weights, %.2f s, %.0f MiB/s in)",
            o.input, hp.arch, (long long)hp.n_layer,
            o.graph == OX_GRAPH_GENAI ? "genai" : "standard", o.outdir, (double)data / 1048576.0,
            secs, secs > 0 ? (double)w.bytes_in / 1048576.0 / secs : 0.0);
    if (o.json) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:O}", "input", o.input,
                                "outdir", o.outdir, "architecture", hp.arch, "graph",
                                o.graph == OX_GRAPH_GENAI ? "genai" : "standard", "layers",
                                (json_int_t)hp.n_layer, "data_bytes", (json_int_t)data, "seconds",
                                secs, "tensors", report);
        json_dumpf(doc, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(doc);
    }
    rc = 0;
    goto done;

fail:
    fmt_error(errfile, "%s", err[0] ? err : gk_status_str(st));
    rc = gk_exit_code(st);
    if (rc == 0 || rc == 1)
        rc = 2;
done:
    ox_graph_free(graph);
    if (tmpdir[0])
        remove_dir(tmpdir);
    json_decref(report);
    json_decref(tok);
    json_decref(tokcfg);
    json_decref(cfg);
    fmt_gguf_close(g);
    fmt_input_close(in);
    return rc;
}
