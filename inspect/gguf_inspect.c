/*
 * gguf_inspect.c -- gguf-inspect: everything about a model file from its
 * header alone (GGUF, split GGUF sets, stdin, .zst, safetensors).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "formats/cli.h"
#include "formats/io.h"
#include "inspect_internal.h"
#include "memargs.h"

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
            "  --key KEY          print one metadata value raw (arrays: one per line;\n"
            "                     control bytes as ? on a terminal); exit 1 when absent\n"
            "  --mem              plan memory per device as llama.cpp allocates it: weights,\n"
            "                     KV cache, compute and output buffers (no tensor data read);\n"
            "                     llama.cpp's knobs, with its names and defaults:\n"
            "    -c, --ctx-size N        context (default: the training context)\n"
            "    -b, --batch-size N      logical batch (2048)\n"
            "    -ub, --ubatch-size N    physical batch (512)\n"
            "    -np, --parallel N       sequences (1)\n"
            "    -ctk, --cache-type-k T  K cache type: f32 f16 bf16 q8_0 q4_0 q4_1 iq4_nl\n"
            "                            q5_0 q5_1 (f16)\n"
            "    -ctv, --cache-type-v T  V cache type (f16)\n"
            "    -fa, --flash-attn on|off|auto   (auto: on, as on the CPU)\n"
            "    -ngl, --n-gpu-layers N  layers offloaded (0; all with -ts)\n"
            "    -ts, --tensor-split a,b,...  GPU proportions (one GPU with -ngl alone)\n"
            "    -ncmoe, --n-cpu-moe N / -cmoe, --cpu-moe  experts of the first N / all\n"
            "                            layers stay on the CPU\n"
            "    --no-mmap, --swa-full, -nr, --no-repack (no CPU_REPACK, no AMX buffer)\n"
            "    --amx on|off|auto       llama.cpp's AMX weight buffer, as its builds for\n"
            "                            AMX-INT8 CPUs add it (auto: this CPU has AMX)\n"
            "    --fit DEV=SIZE,...      the most layers (GPUs, no -ngl) or the largest\n"
            "                            context that fit, e.g. --fit CPU=16G,GPU0=8G\n"
            "    --as PRESET             weights as requant PRESET would write them (Q4_K_M,\n"
            "                            ...; sizes from its mixture rules, nothing quantized)\n"
            "    on a Hugging Face directory, --mem plans the GGUF hf2gguf would write (and\n"
            "    --as that of hf2gguf --outtype f16 + requant PRESET), from the header\n"
            "    `hf2gguf --header-only` writes (hf2gguf beside gguf-inspect, else on PATH)\n"
            "  --mem CTX, --kv-type T   older spellings of --mem -c CTX, -ctk T -ctv T\n"
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
            "  gguf-inspect --mem -c 8192 -ctk q8_0 -ctv q8_0 -fa on model.gguf\n"
            "  gguf-inspect --mem -c 32768 -ts 1,1 --fit GPU0=24G,GPU1=24G model.gguf\n"
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
        INSP_MEM_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    fmt_cli cli;
    int c, rc;
    insp_mem_aliases(argc, argv);
    insp_mem_defaults(&o->view.mp);
    fmt_cli_init(&cli, FMT_CLI_JSON | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_JOBS,
                 "c:b:", longopts, usage);
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
        default:
            if ((rc = insp_mem_option(c, optarg, &o->view)) >= 0)
                return rc;
            break; /* else a common option, in cli.opts */
        }
    }
    o->view.json = cli.opts.json;
    mp_params *p = &o->view.mp;
    /* --mem CTX FILE: the older spelling, CTX an operand once --mem takes none */
    uint64_t ctx;
    if (o->view.mem && !p->n_ctx && optind == argc - 2 &&
        fmt_parse_u64(argv[optind], &ctx) == GK_OK && ctx > 0)
        p->n_ctx = ctx, optind++;
    insp_mem_finish(&o->view);
    if (optind != argc - 1)
        return fmt_cli_usage_error("%s", optind == argc ? "no input file" : "too many arguments");
    o->input = argv[optind];
    return -1;
}

int main(int argc, char **argv) {
    options o;
    int rc;
    fmt_set_progname("gguf-inspect");
    memset(&o, 0, sizeof o);
    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    signal(SIGPIPE, SIG_IGN); /* a closed pipe becomes a write error we report */

    return insp_run(o.input, o.key, &o.view);
}
