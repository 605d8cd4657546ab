/*
 * gguf_inspect.c -- gguf-inspect: everything about a model file from its
 * header alone (GGUF, split GGUF sets, stdin, .zst, safetensors).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    OPT_MEM,
    OPT_KV_TYPE,
    OPT_UBATCH,
    OPT_PARALLEL,
    OPT_CTK,
    OPT_CTV,
    OPT_FA,
    OPT_NGL,
    OPT_TS,
    OPT_NCMOE,
    OPT_CMOE,
    OPT_NO_MMAP,
    OPT_SWA_FULL,
    OPT_NO_REPACK,
    OPT_AMX,
    OPT_FIT,
    OPT_AS,
};

/* llama.cpp's multi-letter single-dash options, as their long names */
static void long_aliases(int argc, char **argv) {
    static const char *const map[][2] = {
        {"-ub", "--ubatch-size"},   {"-np", "--parallel"},     {"-ctk", "--cache-type-k"},
        {"-ctv", "--cache-type-v"}, {"-fa", "--flash-attn"},   {"-ngl", "--n-gpu-layers"},
        {"-ts", "--tensor-split"},  {"-ncmoe", "--n-cpu-moe"}, {"-cmoe", "--cpu-moe"},
        {"-nr", "--no-repack"},
    };
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
            if (strcmp(argv[i], map[k][0]) == 0)
                argv[i] = (char *)map[k][1];
}

static int parse_count(const char *opt, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out) {
    if (fmt_parse_u64(arg, out) != GK_OK || *out < lo || *out > hi)
        return fmt_cli_usage_error("%s takes a whole number from %llu to %llu: %s", opt,
                                   (unsigned long long)lo, (unsigned long long)hi, arg);
    return -1;
}

static int parse_split(const char *arg, mp_params *p) {
    char buf[256], *save = NULL;
    double sum = 0;
    snprintf(buf, sizeof buf, "%s", arg);
    p->n_gpus = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double v;
        if (p->n_gpus == MP_MAX_GPUS || fmt_parse_double(tok, &v) != GK_OK || v < 0)
            return fmt_cli_usage_error("--tensor-split takes up to %d proportions >= 0: %s",
                                       MP_MAX_GPUS, arg);
        p->split[p->n_gpus++] = v, sum += v;
    }
    if (sum <= 0)
        return fmt_cli_usage_error("--tensor-split needs a proportion above 0: %s", arg);
    return -1;
}

static int parse_fit(const char *arg, insp_opts *v) {
    char buf[512], *save = NULL;
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        unsigned gpu = 0;
        int n = 0, dev;
        uint64_t bytes;
        if (eq)
            *eq = 0;
        if (strcmp(tok, "CPU") == 0)
            dev = 0;
        else if (sscanf(tok, "GPU%u%n", &gpu, &n) == 1 && tok[n] == 0 && gpu < MP_MAX_GPUS)
            dev = 1 + (int)gpu;
        else
            dev = -1;
        if (!eq || dev < 0 || fmt_parse_size(eq + 1, &bytes) != GK_OK || bytes == 0)
            return fmt_cli_usage_error("--fit takes DEVICE=SIZE,... with CPU, GPU0..GPU%d: %s",
                                       MP_MAX_GPUS - 1, arg);
        v->fit[dev] = bytes;
        if (dev + 1 > v->fit_n)
            v->fit_n = dev + 1;
    }
    return -1;
}

static int parse_cache_type(const char *opt, const char *arg, int *out) {
    if ((*out = mp_cache_type(arg)) < 0)
        return fmt_cli_usage_error("%s takes f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0 or "
                                   "q5_1: %s",
                                   opt, arg);
    return -1;
}

/* One llama.cpp knob of --mem; -1 to go on, else the exit code. */
static int mem_option(int c, const char *arg, options *o) {
    insp_opts *v = &o->view;
    mp_params *p = &v->mp;
    uint64_t n;
    int rc = -1;
    switch (c) {
    case 'c': rc = parse_count("--ctx-size", arg, 1, 1u << 30, &p->n_ctx); break;
    case 'b': rc = parse_count("--batch-size", arg, 1, 1u << 30, &p->n_batch); break;
    case OPT_UBATCH: rc = parse_count("--ubatch-size", arg, 1, 1u << 30, &p->n_ubatch); break;
    case OPT_PARALLEL: rc = parse_count("--parallel", arg, 1, 4096, &p->n_seq); break;
    case OPT_CTK: rc = parse_cache_type("--cache-type-k", arg, &p->type_k); break;
    case OPT_CTV: rc = parse_cache_type("--cache-type-v", arg, &p->type_v); break;
    case OPT_KV_TYPE:
        if ((rc = parse_cache_type("--kv-type", arg, &p->type_k)) < 0)
            p->type_v = p->type_k;
        break;
    case OPT_FA:
        if (strcmp(arg, "on") && strcmp(arg, "off") && strcmp(arg, "auto"))
            return fmt_cli_usage_error("--flash-attn takes on, off or auto: %s", arg);
        p->flash_attn = strcmp(arg, "off") != 0;
        break;
    case OPT_NGL:
        if ((rc = parse_count("--n-gpu-layers", arg, 0, 100000, &n)) < 0)
            p->n_gpu_layers = (int)n, v->ngl_set = 1;
        break;
    case OPT_TS: rc = parse_split(arg, p); break;
    case OPT_NCMOE:
        if ((rc = parse_count("--n-cpu-moe", arg, 0, 100000, &n)) < 0)
            p->n_cpu_moe = (int)n;
        break;
    case OPT_CMOE: p->n_cpu_moe = -1; break;
    case OPT_NO_MMAP: p->no_mmap = 1; break;
    case OPT_SWA_FULL: p->swa_full = 1; break;
    case OPT_NO_REPACK: p->repack = 0; break;
    case OPT_AMX:
        if (strcmp(arg, "on") && strcmp(arg, "off") && strcmp(arg, "auto"))
            return fmt_cli_usage_error("--amx takes on, off or auto: %s", arg);
        p->amx = strcmp(arg, "auto") == 0 ? -1 : strcmp(arg, "on") == 0;
        break;
    case OPT_FIT: rc = parse_fit(arg, v); break;
    case OPT_AS:
        if (!(v->as = fmt_mix_preset_find(arg)))
            return fmt_cli_usage_error("--as takes a requant preset (requant --list): %s", arg);
        v->mem = 1;
        break;
    default: break;
    }
    return rc;
}

static void mem_defaults(mp_params *p) {
    memset(p, 0, sizeof *p);
    p->n_batch = 2048, p->n_ubatch = 512, p->n_seq = 1;
    p->type_k = p->type_v = KERN_TYPE_F16;
    p->flash_attn = 1, p->repack = 1, p->amx = -1; /* auto: probed only for --mem */
}

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
        {"mem", optional_argument, NULL, OPT_MEM},
        {"kv-type", required_argument, NULL, OPT_KV_TYPE},
        {"ctx-size", required_argument, NULL, 'c'},
        {"batch-size", required_argument, NULL, 'b'},
        {"ubatch-size", required_argument, NULL, OPT_UBATCH},
        {"parallel", required_argument, NULL, OPT_PARALLEL},
        {"cache-type-k", required_argument, NULL, OPT_CTK},
        {"cache-type-v", required_argument, NULL, OPT_CTV},
        {"flash-attn", required_argument, NULL, OPT_FA},
        {"n-gpu-layers", required_argument, NULL, OPT_NGL},
        {"gpu-layers", required_argument, NULL, OPT_NGL},
        {"tensor-split", required_argument, NULL, OPT_TS},
        {"n-cpu-moe", required_argument, NULL, OPT_NCMOE},
        {"cpu-moe", no_argument, NULL, OPT_CMOE},
        {"no-mmap", no_argument, NULL, OPT_NO_MMAP},
        {"swa-full", no_argument, NULL, OPT_SWA_FULL},
        {"no-repack", no_argument, NULL, OPT_NO_REPACK},
        {"amx", required_argument, NULL, OPT_AMX},
        {"fit", required_argument, NULL, OPT_FIT},
        {"as", required_argument, NULL, OPT_AS},
        {NULL, 0, NULL, 0},
    };
    fmt_cli cli;
    int c, rc;
    long_aliases(argc, argv);
    mem_defaults(&o->view.mp);
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
        case OPT_MEM:
            o->view.mem = 1;
            if (optarg && (rc = parse_count("--mem", optarg, 1, 1u << 30, &o->view.mp.n_ctx)) >= 0)
                return rc;
            break;
        default:
            if ((rc = mem_option(c, optarg, o)) >= 0)
                return rc;
            break; /* else a common option, in cli.opts */
        }
    }
    o->view.json = cli.opts.json;
    mp_params *p = &o->view.mp;
    if (p->amx < 0) /* cpuid traps to the hypervisor on VMs: only when planning */
        p->amx = o->view.mem && kern_cpu_has_amx();
    /* --mem CTX FILE: the older spelling, CTX an operand once --mem takes none */
    uint64_t ctx;
    if (o->view.mem && !p->n_ctx && optind == argc - 2 &&
        fmt_parse_u64(argv[optind], &ctx) == GK_OK && ctx > 0)
        p->n_ctx = ctx, optind++;
    if (p->n_gpus == 0 && o->view.fit_n > 1) { /* llama.cpp splits by free memory */
        p->n_gpus = o->view.fit_n - 1;
        for (int i = 0; i < p->n_gpus; i++)
            p->split[i] = (double)o->view.fit[1 + i];
    }
    if (p->n_gpus > 0 && !o->view.ngl_set)
        p->n_gpu_layers = 100000; /* -ts alone: every layer, as llama.cpp's default */
    else if (p->n_gpus == 0 && p->n_gpu_layers > 0)
        p->n_gpus = 1, p->split[0] = 1;
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
    struct stat sb;
    /* --mem on a Hugging Face directory: the GGUF hf2gguf would write */
    gk_status st =
        o.view.mem && !fmt_is_stdio(o.input) && stat(o.input, &sb) == 0 && S_ISDIR(sb.st_mode)
            ? insp_model_plan_hf(o.input, o.view.as != NULL, &m, &e)
            : insp_model_open(o.input, &m, &e);
    if (st != GK_OK) {
        insp_model_close(&m);
        return fmt_cli_report(&e);
    }
    if (o.view.mem && m.is_safetensors) {
        fmt_error(o.input,
                  "%s needs a GGUF model or a Hugging Face directory, not a lone "
                  "safetensors file: the plan is that of the GGUF hf2gguf writes",
                  o.view.as ? "--as" : "--mem");
        rc = 2;
    } else if (o.key) {
        rc = insp_print_key(stdout, &m, o.key);
        if (rc)
            fmt_error(o.input, "no metadata key '%s'", o.key);
    } else if (o.view.json) {
        rc = insp_render_json(stdout, &m, &o.view);
    } else {
        rc = insp_render_text(stdout, &m, &o.view);
    }
    insp_model_close(&m);
    return fmt_stdout_finish(rc);
}
