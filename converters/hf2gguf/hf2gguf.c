/*
 * hf2gguf.c -- convert a Hugging Face checkpoint directory to GGUF, byte
 * for byte as llama.cpp's convert_hf_to_gguf.py (ec562eb) would.
 * Options are parsed here; the work is in convert.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/cli.h"
#include "formats/io.h"
#include "ggufkit.h"
#include "kernels/kernels.h"
#include "converters/hf2gguf/convert.h"
#include "converters/hf2gguf/lora.h"
#include "formats/imatrix.h"
#include "formats/mixture.h"

typedef struct {
    cv_options cv;
    int list_archs;
    const char *imatrix;
    cv_lora_options lora; /* --lora: adapter_dir set */
    int outtype_given;
} options;

static void usage(FILE *f) {
    fprintf(f,
            "Usage: %s [options] MODEL_DIR [-o OUT.gguf|-]\n"
            "       %s --lora ADAPTER_DIR (--base DIR | --base-gguf FILE) [--outtype T] [-o OUT]\n"
            "Convert a Hugging Face checkpoint (config.json, *.safetensors, tokenizer files)\n"
            "to GGUF exactly as llama.cpp's convert_hf_to_gguf.py does. Pre-quantized\n"
            "checkpoints are dequantized first: fp8, compressed-tensors and gptq as\n"
            "upstream does, and AWQ GEMM; gpt-oss's MXFP4 experts are kept MXFP4 for\n"
            "every --outtype, as upstream does (see hf2gguf(1)). Mixtures of experts\n"
            "(mixtral, qwen2moe, qwen3moe, deepseek2, gpt-oss): each block's experts become\n"
            "one stacked tensor, streamed from the experts' own tensors in bounded memory.\n"
            "\n"
            "  -o, --output FILE    output file ('-' = stdout); default: a name derived from\n"
            "                       the model inside MODEL_DIR, e.g. Name-7B-F16.gguf\n"
            "      --outtype TYPE   f32, f16, bf16, q8_0 or auto (default: bf16 or f16 as the\n"
            "                       first 2-D weight in conversion order, else f16); or a\n"
            "                       requant preset (Q4_K_M, IQ4_XS, ...; requant:Q8_0 etc.\n"
            "                       for the clashing names):\n"
            "                       the bytes of --outtype f16 then requant -t NAME, in one\n"
            "                       pass, no intermediate file\n"
            "      --keep-quant[=strict]  keep 4-bit GPTQ/AWQ/compressed-tensors weights as\n"
            "                       Q4_0 (symmetric) or Q4_1 blocks and 8-bit ones as Q8_0,\n"
            "                       without rounding again; blocks that cannot be kept exactly\n"
            "                       (act-order) are quantized from the dequantized values,\n"
            "                       or, with =strict, are an error\n"
            "      --imatrix FILE   importance matrix for a preset (legacy .dat or GGUF)\n"
            "      --vocab-only     write metadata and vocabulary only, no tensors\n"
            "      --dry-run        print the plan (tensors, types, shapes, bytes), write nothing\n"
            "      --json           with --dry-run: the plan as JSON\n"
            "      --header-only    write only the GGUF header (keys and tensor infos, no\n"
            "                       tensor data; no weight is read): a stream for readers\n"
            "                       of headers (gguf-inspect --mem plans MODEL_DIR so)\n"
            "      --model-name S   set general.name\n"
            "      --metadata FILE  JSON file overriding general.* keys\n"
            "      --pre NAME       force tokenizer.ggml.pre for a BPE tokenizer (default:\n"
            "                       by llama.cpp's check hash of the tokenizer)\n"
            "      --split-max-tensors N  split the output into files of at most N tensors\n"
            "      --split-max-size S     ... of at most S data bytes (K, M, G = 1000^n)\n"
            "                       files are named OUT-00001-of-0000N.gguf, as gguf-split does\n"
            "      --strict         fail on NaN/Inf weights (default: warn)\n"
            "      --merge-scores   llama tokenizer.json without tokenizer.model: score tokens\n"
            "                       by merge rank so llama.cpp tokenizes as HF does (the\n"
            "                       converter writes -1000 for all; off by default)\n"
            "      --config-as-written  read config.json as written, without the keys\n"
            "                       transformers' config class fills in (head_dim):\n"
            "                       the converter without transformers installed\n"
            "      --list-archs     list supported architectures and exit\n",
            fmt_progname(), fmt_progname());
    fprintf(f, "  -j, --jobs N         worker threads (0 or auto = all cores; default all)\n"
               "      --zstd[=LEVEL]   compress the output with zstd (default level 3)\n"
               "  -f, --force          overwrite an existing output; allow binary to a terminal\n"
               "      --[no-]progress  force the progress display on or off\n"
               "  -q, --quiet          less output (repeatable)\n"
               "  -v, --verbose        more output (repeatable)\n"
               "  -V, --version        print the version and exit\n"
               "  -h, --help           print this help and exit\n"
               "\n"
               "LoRA adapters (as llama.cpp's convert_lora_to_gguf.py, default --outtype f32):\n"
               "      --lora DIR       convert the PEFT adapter in DIR (adapter_config.json,\n"
               "                       adapter_model.safetensors or .bin) to a GGUF LoRA adapter;\n"
               "                       default output: DIR/NAME-TYPE-LoRA.gguf\n"
               "      --base DIR       the base model's checkpoint directory (config.json only)\n"
               "      --base-gguf FILE or the base model as GGUF (architecture, heads, shapes)\n"
               "                       DoRA, rsLoRA, modules_to_save and whole embeddings in\n"
               "                       the adapter are refused (exit 2)\n"
               "\n"
               "Exit status: 0 ok, 2 usage error, bad input or I/O error, 130 interrupted.\n");
}

/* convert_hf_to_gguf.py split_str_to_n_bytes: decimal K/M/G or plain bytes. */
static int parse_split_size(const char *s, uint64_t *out) {
    size_t n = strlen(s);
    uint64_t mul = 1, v;
    char num[32];
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n + 1);
    if (num[n - 1] == 'K' || num[n - 1] == 'M' || num[n - 1] == 'G') {
        mul = num[n - 1] == 'K' ? 1000u : num[n - 1] == 'M' ? 1000000u : 1000000000u;
        num[n - 1] = '\0';
    }
    if (fmt_parse_u64(num, &v) != GK_OK || v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* --lora: the adapter options, and what does not go with them. */
static int lora_args(int argc, options *o) {
    cv_options *c = &o->cv;
    if (optind != argc)
        return fmt_cli_usage_error("--lora takes no MODEL_DIR (the base is --base DIR or "
                                   "--base-gguf FILE)");
    if (!o->lora.base_dir == !o->lora.base_gguf)
        return fmt_cli_usage_error("--lora needs one of --base DIR and --base-gguf FILE");
    if (c->preset || c->vocab_only || c->dry_run || c->header_only || c->keep_quant ||
        c->split_max_tensors || c->split_max_size || c->zstd_level || o->imatrix || c->pre)
        return fmt_cli_usage_error("--lora takes --outtype f32, f16, bf16, q8_0 or auto, -o, "
                                   "--model-name, --metadata and -f only");
    o->lora.outtype = o->outtype_given ? c->outtype : CV_OUT_F32;
    o->lora.out_path = c->out_path;
    o->lora.force = c->force;
    o->lora.model_name = c->model_name;
    o->lora.metadata_path = c->metadata_path;
    return 0;
}

/* 0 ok, 1 exit 0 (help/version), 2 usage error. */
static int parse_args(int argc, char **argv, options *o) {
    enum {
        O_OUTTYPE = 256,
        O_VOCAB,
        O_DRY,
        O_NAME,
        O_META,
        O_PRE,
        O_LIST,
        O_SPLIT_T,
        O_SPLIT_S,
        O_STRICT,
        O_MERGE,
        O_IMATRIX,
        O_AS_WRITTEN,
        O_HEADER_ONLY,
        O_KEEP_QUANT,
        O_LORA,
        O_BASE,
        O_BASE_GGUF
    };
    static const struct option longopts[] = {
        {"outfile", required_argument, NULL, 'o'},
        {"outtype", required_argument, NULL, O_OUTTYPE},
        {"vocab-only", no_argument, NULL, O_VOCAB},
        {"dry-run", no_argument, NULL, O_DRY},
        {"model-name", required_argument, NULL, O_NAME},
        {"metadata", required_argument, NULL, O_META},
        {"pre", required_argument, NULL, O_PRE},
        {"list-archs", no_argument, NULL, O_LIST},
        {"split-max-tensors", required_argument, NULL, O_SPLIT_T},
        {"split-max-size", required_argument, NULL, O_SPLIT_S},
        {"strict", no_argument, NULL, O_STRICT},
        {"merge-scores", no_argument, NULL, O_MERGE},
        {"imatrix", required_argument, NULL, O_IMATRIX},
        {"config-as-written", no_argument, NULL, O_AS_WRITTEN},
        {"header-only", no_argument, NULL, O_HEADER_ONLY},
        {"keep-quant", optional_argument, NULL, O_KEEP_QUANT},
        {"lora", required_argument, NULL, O_LORA},
        {"base", required_argument, NULL, O_BASE},
        {"base-gguf", required_argument, NULL, O_BASE_GGUF},
        {NULL, 0, NULL, 0}};
    fmt_cli cli;
    int ch;
    fmt_cli_init(&cli,
                 FMT_CLI_JOBS | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_FORCE | FMT_CLI_OUTPUT |
                     FMT_CLI_JSON | FMT_CLI_ZSTD | FMT_CLI_PROGRESS,
                 "", longopts, usage);
    o->cv.outtype = CV_OUT_AUTO;
    while ((ch = fmt_cli_next(&cli, argc, argv)) != FMT_CLI_END) {
        switch (ch) {
        case FMT_CLI_EXIT: return cli.exit_code ? 2 : 1;
        case O_OUTTYPE: {
            int t = cv_outtype_from_name(optarg);
            int prefixed = strncmp(optarg, "requant:", 8) == 0;
            o->cv.preset = t < 0 ? fmt_mix_preset_find(optarg + (prefixed ? 8 : 0)) : NULL;
            if (t < 0 && !o->cv.preset)
                return fmt_cli_usage_error("unknown --outtype '%s' (f32, f16, bf16, q8_0, auto or "
                                           "a requant preset: requant --list)",
                                           optarg);
            if (t >= 0)
                o->cv.outtype = (cv_outtype)t;
            o->outtype_given = 1;
            break;
        }
        case O_LORA: o->lora.adapter_dir = optarg; break;
        case O_BASE: o->lora.base_dir = optarg; break;
        case O_BASE_GGUF: o->lora.base_gguf = optarg; break;
        case O_IMATRIX: o->imatrix = optarg; break;
        case O_VOCAB: o->cv.vocab_only = 1; break;
        case O_DRY: o->cv.dry_run = 1; break;
        case O_NAME: o->cv.model_name = optarg; break;
        case O_META: o->cv.metadata_path = optarg; break;
        case O_PRE: o->cv.pre = optarg; break;
        case O_LIST: o->list_archs = 1; break;
        case O_SPLIT_T:
            if (fmt_parse_u64(optarg, &o->cv.split_max_tensors) != GK_OK)
                return fmt_cli_usage_error("invalid --split-max-tensors '%s'", optarg);
            break;
        case O_SPLIT_S:
            if (parse_split_size(optarg, &o->cv.split_max_size) != 0)
                return fmt_cli_usage_error("invalid --split-max-size '%s' (a number, optionally "
                                           "followed by K, M or G)",
                                           optarg);
            break;
        case O_STRICT: o->cv.strict = 1; break;
        case O_MERGE: o->cv.merge_scores = 1; break;
        case O_AS_WRITTEN: o->cv.config_as_written = 1; break;
        case O_HEADER_ONLY: o->cv.header_only = 1; break;
        case O_KEEP_QUANT:
            if (optarg && strcmp(optarg, "strict"))
                return fmt_cli_usage_error("invalid --keep-quant '%s' (--keep-quant or "
                                           "--keep-quant=strict)",
                                           optarg);
            o->cv.keep_quant = optarg ? 2 : 1;
            break;
        default: break; /* a common option, in cli.opts */
        }
    }
    o->cv.out_path = cli.opts.output;
    o->cv.jobs = cli.opts.jobs;
    o->cv.force = cli.opts.force;
    o->cv.json = cli.opts.json;
    o->cv.zstd_level = cli.opts.zstd_level;
    o->cv.progress = cli.opts.progress;
    if (cli.opts.display_level == 0 && o->cv.progress < 0)
        o->cv.progress = 0;
    if (o->list_archs)
        return 0;
    if (o->lora.adapter_dir)
        return lora_args(argc, o);
    if (o->lora.base_dir || o->lora.base_gguf)
        return fmt_cli_usage_error("--base and --base-gguf go with --lora");
    if (optind != argc - 1)
        return fmt_cli_usage_error("%s",
                                   optind >= argc ? "missing MODEL_DIR" : "too many operands");
    o->cv.model_dir = argv[optind];
    if (o->cv.json && !o->cv.dry_run)
        return fmt_cli_usage_error("--json needs --dry-run");
    if (o->cv.jobs < 1)
        o->cv.jobs = 1;
    if (o->cv.header_only && (o->cv.preset || o->cv.dry_run || !o->cv.out_path))
        return fmt_cli_usage_error("--header-only needs -o and a plain --outtype, without "
                                   "--dry-run");
    if (o->cv.keep_quant && o->cv.preset)
        return fmt_cli_usage_error("--keep-quant takes --outtype f32, f16, bf16, q8_0 or auto "
                                   "(for the weights kept in float), not a preset");
    if (o->imatrix && !o->cv.preset)
        return fmt_cli_usage_error("--imatrix needs a requant preset as --outtype");
    if (o->cv.preset) {
        const kern_type_traits *dt = kern_type_info(o->cv.preset->default_type);
        if (!dt || !dt->quantize_ref)
            return fmt_cli_usage_error("type %s is not available in this build",
                                       o->cv.preset->name);
    }
    return 0;
}

static int run(int argc, char **argv) {
    options o = {0};
    fmt_set_progname("hf2gguf");
    kern_init();
    int r = parse_args(argc, argv, &o);
    if (r)
        return r == 1 ? 0 : 2;
    if (o.list_archs) {
        for (size_t i = 0; i < cv_arch_count(); i++) {
            const cv_arch *a = cv_arch_at(i);
            printf("%s", a->name);
            for (const char *const *c = a->hf_classes; *c; c++)
                printf("%s%s", c == a->hf_classes ? "\t" : ",", *c);
            printf("\n");
        }
        return 0;
    }
    char err[1024], written[4096] = "";
    gk_status st;
    imx *im = NULL;
    if (o.imatrix) {
        if (!(im = imx_load(o.imatrix, &st, err, sizeof err)) ||
            (st = imx_check_finite(im, err, sizeof err)) != GK_OK) {
            fmt_error(o.imatrix, "%s", err[0] ? err : gk_status_str(st));
            imx_free(im);
            return gk_exit_code(st);
        }
        o.cv.imatrix = im;
        o.cv.imatrix_path = o.imatrix;
    }
    if (o.cv.preset && o.cv.preset->needs_imatrix && imx_count(im) == 0) {
        fmt_error(NULL, "%s needs an importance matrix (--imatrix FILE)", o.cv.preset->name);
        return 2;
    }
    gk_error e;
    if (o.lora.adapter_dir)
        st = cv_lora_convert(&o.lora, written, sizeof written, &e);
    else
        st = cv_convert(&o.cv, stdout, written, sizeof written, &e);
    imx_free(im);
    if (st != GK_OK)
        return fmt_cli_report(&e);
    if (written[0] && !fmt_is_stdio(written))
        fmt_log(3, "wrote %s", written);
    return 0;
}

/* Text on stdout (help, lists, plans, JSON) that could not all be written
 * is a failure, not a success. */
int main(int argc, char **argv) {
    return fmt_stdout_finish(run(argc, argv));
}
