/*
 * gguf2onnx.c -- gguf2onnx: convert a decoder GGUF (the families of decoder.c) into an
 * ONNX decoder that ONNX Runtime (and onnxruntime-genai) runs, with
 * genai_config.json and a Hugging Face tokenizer rebuilt from the GGUF.
 * Options and usage only; the work is in convert.c.
 */
#include <stdio.h>
#include <string.h>

#include "converters/gguf2onnx/convert.h"
#include "formats/cli.h"
#include "formats/io.h"
#include "kernels/kernels.h"

typedef struct {
    ox_convert_opts cv;
    int json;
} options;

enum { OPT_KV = 256, OPT_ACC, OPT_NO_TOK };

static void usage(FILE *f) {
    fprintf(f, "usage: gguf2onnx [options] MODEL.gguf OUTDIR\n"
               "Convert a llama (Mixtral's experts too), mistral, qwen2, qwen3, qwen3moe,\n"
               "gemma2, gemma3, phi3, olmo2, granite or smollm3 GGUF into an ONNX decoder for\n"
               "ONNX Runtime:\n"
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
               "  -j, --jobs N           accepted as by every ggufkit program; no effect: the\n"
               "                         weights are converted in one streaming pass\n"
               "      --[no-]progress    progress line on stderr (default: when it is a terminal)\n"
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
    int c, mode;
    uint64_t u;
    fmt_cli_init(&cli,
                 FMT_CLI_FORCE | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_JSON | FMT_CLI_JOBS |
                     FMT_CLI_PROGRESS,
                 "w:g:", longs, usage);
    while ((c = fmt_cli_next(&cli, argc, argv)) != FMT_CLI_END) {
        switch (c) {
        case FMT_CLI_EXIT: return cli.exit_code;
        case 'w':
            if ((mode = ox_weights_mode_parse(optarg)) < 0)
                return fmt_cli_usage_error("--weights: expected auto, f32, f16, int4 or int8");
            o->cv.weights = (ox_weights_mode)mode;
            break;
        case 'g':
            if (strcmp(optarg, "standard") == 0)
                o->cv.graph = OX_GRAPH_STANDARD;
            else if (strcmp(optarg, "genai") == 0)
                o->cv.graph = OX_GRAPH_GENAI;
            else
                return fmt_cli_usage_error("--graph: expected standard or genai");
            break;
        case OPT_KV:
            if (strcmp(optarg, "f32") != 0 && strcmp(optarg, "f16") != 0)
                return fmt_cli_usage_error("--kv-dtype: expected f32 or f16");
            o->cv.kv_f16 = strcmp(optarg, "f16") == 0;
            break;
        case OPT_ACC:
            if (fmt_parse_u64(optarg, &u) != GK_OK || u > 4)
                return fmt_cli_usage_error("--accuracy-level: expected 0..4");
            o->cv.accuracy = (int)u;
            break;
        case OPT_NO_TOK: o->cv.no_tokenizer = 1; break;
        default: break; /* a common option, in cli.opts */
        }
    }
    o->cv.force = cli.opts.force;
    o->cv.progress = cli.opts.progress;
    o->json = cli.opts.json;
    if (argc - optind < 2)
        return fmt_cli_usage_error("missing operands: MODEL.gguf OUTDIR");
    if (argc - optind > 2)
        return fmt_cli_usage_error("too many operands");
    o->cv.input = argv[optind];
    o->cv.outdir = argv[optind + 1];
    if (fmt_is_stdio(o->cv.outdir))
        return fmt_cli_usage_error("OUTDIR must be a directory path, not '-'");
    return -1;
}

static int run(int argc, char **argv) {
    kern_init();
    fmt_set_progname("gguf2onnx");
    options o;
    memset(&o, 0, sizeof o);
    o.cv.accuracy = -1;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    gk_error e;
    if (ox_convert(&o.cv, o.json ? stdout : NULL, &e) == GK_OK)
        return 0;
    rc = fmt_cli_report(&e);
    return rc == 0 || rc == 1 ? 2 : rc;
}

/* Text on stdout (help, lists, plans, JSON) that could not all be written
 * is a failure, not a success. */
int main(int argc, char **argv) {
    return fmt_stdout_finish(run(argc, argv));
}
