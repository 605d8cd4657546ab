/*
 * gguf_inspect.c -- gguf-inspect: everything about a model file from its
 * header alone (GGUF, split GGUF sets, stdin, .zst, safetensors).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/cli.h"
#include "formats/io.h"
#include "inspect_internal.h"
#include "kernels/kernels.h"

typedef struct {
    insp_opts view;
    const char *key; /* --key */
    const char *input;
} options;

static void usage(FILE *f) {
    fprintf(f,
            "Usage: gguf-inspect [options] FILE|-\n"
            "Show everything about a GGUF model (or a safetensors file / HF directory)\n"
            "from its header alone: summary, hyper-parameters, tokenizer, metadata,\n"
            "tensors. FILE may be '-' (stdin), zstd-compressed, or any shard of a split\n"
            "set NAME-0000K-of-0000N.gguf (all shards are opened and combined).\n"
            "\n"
            "Options:\n"
            "  --json             one JSON document (schema: docs/gguf-inspect.json.md)\n"
            "  --no-kv            omit the metadata listing\n"
            "  --no-tensors       omit the tensor listing\n"
            "  --full             print every array element (default: the first 8)\n"
            "  --tensor REGEX     only tensors whose name matches (POSIX extended regex)\n"
            "  --sort KEY         tensor order: name, size, offset or type (default: file)\n"
            "  --layers           one row per blk.N (parameters, bytes, bpw) instead of tensors\n"
            "  --key KEY          print one metadata value raw (arrays: one per line);\n"
            "                     exit 1 when the key is absent\n"
            "  --mem CTX          estimate memory at context length CTX (weights + KV cache)\n"
            "  --kv-type T        KV cache type for --mem: f16 (default), q8_0, q4_0\n"
            "  -j, --jobs N       accepted as by every ggufkit program; no effect: only the\n"
            "                     header is read, on one thread\n"
            "  -q, --quiet / -v, --verbose  quieter / more verbose messages\n"
            "  -h, --help         this help\n"
            "  -V, --version      version and SIMD path\n"
            "\n"
            "Shapes are in ggml order: ne0 (the row length) first.\n"
            "\n"
            "Examples:\n"
            "  gguf-inspect model.gguf\n"
            "  gguf-inspect --key general.architecture model.gguf\n"
            "  gguf-inspect --json model.gguf | jq '.summary.bpw'\n"
            "  gguf-inspect --tensor 'attn_(q|k)' --sort size model-00001-of-00003.gguf\n"
            "  gguf-inspect --mem 8192 --kv-type q8_0 model.gguf\n"
            "  curl -sL URL | gguf-inspect -   # reads only the header from the pipe\n");
}

enum {
    OPT_NO_KV = 256,
    OPT_NO_TENSORS,
    OPT_FULL,
    OPT_TENSOR,
    OPT_SORT,
    OPT_LAYERS,
    OPT_KEY,
    OPT_MEM,
    OPT_KV_TYPE,
};

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"no-kv", no_argument, NULL, OPT_NO_KV},
        {"no-tensors", no_argument, NULL, OPT_NO_TENSORS},
        {"full", no_argument, NULL, OPT_FULL},
        {"tensor", required_argument, NULL, OPT_TENSOR},
        {"sort", required_argument, NULL, OPT_SORT},
        {"layers", no_argument, NULL, OPT_LAYERS},
        {"key", required_argument, NULL, OPT_KEY},
        {"mem", required_argument, NULL, OPT_MEM},
        {"kv-type", required_argument, NULL, OPT_KV_TYPE},
        {NULL, 0, NULL, 0},
    };
    fmt_cli cli;
    int c;
    fmt_cli_init(&cli, FMT_CLI_JSON | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_JOBS, "", longopts,
                 usage);
    while ((c = fmt_cli_next(&cli, argc, argv)) != FMT_CLI_END) {
        switch (c) {
        case FMT_CLI_EXIT: return cli.exit_code;
        case OPT_NO_KV: o->view.no_kv = 1; break;
        case OPT_NO_TENSORS: o->view.no_tensors = 1; break;
        case OPT_FULL: o->view.full = 1; break;
        case OPT_TENSOR: o->view.tensor_regex = optarg; break;
        case OPT_SORT:
            if (strcmp(optarg, "name") && strcmp(optarg, "size") && strcmp(optarg, "offset") &&
                strcmp(optarg, "type"))
                return fmt_cli_usage_error("--sort takes name, size, offset or type: %s", optarg);
            o->view.sort = optarg;
            break;
        case OPT_LAYERS: o->view.layers = 1; break;
        case OPT_KEY: o->key = optarg; break;
        case OPT_MEM:
            if (fmt_parse_u64(optarg, &o->view.mem_ctx) != GK_OK || o->view.mem_ctx == 0)
                return fmt_cli_usage_error("--mem takes a positive context length: %s", optarg);
            break;
        case OPT_KV_TYPE:
            if (strcmp(optarg, "f16") && strcmp(optarg, "q8_0") && strcmp(optarg, "q4_0"))
                return fmt_cli_usage_error("--kv-type takes f16, q8_0 or q4_0: %s", optarg);
            o->view.kv_type = optarg;
            break;
        default: break; /* a common option, in cli.opts */
        }
    }
    o->view.json = cli.opts.json;
    if (optind != argc - 1)
        return fmt_cli_usage_error("%s", optind == argc ? "no input file" : "too many arguments");
    o->input = argv[optind];
    return -1;
}

int main(int argc, char **argv) {
    options o;
    insp_model m;
    int rc;
    kern_init();
    fmt_set_progname("gguf-inspect");
    memset(&o, 0, sizeof o);
    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    signal(SIGPIPE, SIG_IGN); /* a closed pipe becomes a write error we report */

    gk_error e;
    if (insp_model_open(o.input, &m, &e) != GK_OK) {
        insp_model_close(&m);
        return fmt_cli_report(&e);
    }
    if (o.key) {
        rc = insp_print_key(stdout, &m, o.key);
        if (rc)
            fmt_error(o.input, "no metadata key '%s'", o.key);
    } else if (o.view.json) {
        rc = insp_render_json(stdout, &m, &o.view);
    } else {
        rc = insp_render_text(stdout, &m, &o.view);
    }
    insp_model_close(&m);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fmt_error("(stdout)", "write failed: %s", strerror(errno ? errno : EIO));
        return 2;
    }
    return rc;
}
