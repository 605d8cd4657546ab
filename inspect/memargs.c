/*
 * memargs.c -- gguf-inspect --mem's llama.cpp knobs (see memargs.h).
 */
#include "memargs.h"

#include <stdio.h>
#include <string.h>

#include "formats/cli.h"
#include "formats/mixture.h"
#include "kernels/kernels.h"

/* llama.cpp's multi-letter single-dash options, as their long names */
void insp_mem_aliases(int argc, char **argv) {
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

int insp_mem_option(int c, const char *arg, insp_opts *v) {
    mp_params *p = &v->mp;
    uint64_t n;
    int rc = -1;
    switch (c) {
    case INSP_OPT_MEM:
        v->mem = 1;
        if (arg)
            rc = parse_count("--mem", arg, 1, 1u << 30, &p->n_ctx);
        break;
    case 'c': rc = parse_count("--ctx-size", arg, 1, 1u << 30, &p->n_ctx); break;
    case 'b': rc = parse_count("--batch-size", arg, 1, 1u << 30, &p->n_batch); break;
    case INSP_OPT_UBATCH: rc = parse_count("--ubatch-size", arg, 1, 1u << 30, &p->n_ubatch); break;
    case INSP_OPT_PARALLEL: rc = parse_count("--parallel", arg, 1, 4096, &p->n_seq); break;
    case INSP_OPT_CTK: rc = parse_cache_type("--cache-type-k", arg, &p->type_k); break;
    case INSP_OPT_CTV: rc = parse_cache_type("--cache-type-v", arg, &p->type_v); break;
    case INSP_OPT_KV_TYPE:
        if ((rc = parse_cache_type("--kv-type", arg, &p->type_k)) < 0)
            p->type_v = p->type_k;
        break;
    case INSP_OPT_FA:
        if (strcmp(arg, "on") && strcmp(arg, "off") && strcmp(arg, "auto"))
            return fmt_cli_usage_error("--flash-attn takes on, off or auto: %s", arg);
        p->flash_attn = strcmp(arg, "off") != 0;
        break;
    case INSP_OPT_NGL:
        if ((rc = parse_count("--n-gpu-layers", arg, 0, 100000, &n)) < 0)
            p->n_gpu_layers = (int)n, v->ngl_set = 1;
        break;
    case INSP_OPT_TS: rc = parse_split(arg, p); break;
    case INSP_OPT_NCMOE:
        if ((rc = parse_count("--n-cpu-moe", arg, 0, 100000, &n)) < 0)
            p->n_cpu_moe = (int)n;
        break;
    case INSP_OPT_CMOE: p->n_cpu_moe = -1; break;
    case INSP_OPT_NO_MMAP: p->no_mmap = 1; break;
    case INSP_OPT_SWA_FULL: p->swa_full = 1; break;
    case INSP_OPT_NO_REPACK: p->repack = 0; break;
    case INSP_OPT_AMX:
        if (strcmp(arg, "on") && strcmp(arg, "off") && strcmp(arg, "auto"))
            return fmt_cli_usage_error("--amx takes on, off or auto: %s", arg);
        p->amx = strcmp(arg, "auto") == 0 ? -1 : strcmp(arg, "on") == 0;
        break;
    case INSP_OPT_FIT: rc = parse_fit(arg, v); break;
    case INSP_OPT_AS:
        if (!(v->as = fmt_mix_preset_find(arg)))
            return fmt_cli_usage_error("--as takes a requant preset (requant --list): %s", arg);
        v->mem = 1;
        break;
    default: return -2;
    }
    return rc;
}

void insp_mem_defaults(mp_params *p) {
    memset(p, 0, sizeof *p);
    p->n_batch = 2048, p->n_ubatch = 512, p->n_seq = 1;
    p->type_k = p->type_v = KERN_TYPE_F16;
    p->flash_attn = 1, p->repack = 1, p->amx = -1; /* auto: probed only for --mem */
}

void insp_mem_finish(insp_opts *v) {
    mp_params *p = &v->mp;
    if (p->amx < 0) /* cpuid traps to the hypervisor on VMs: only when planning */
        p->amx = v->mem && kern_cpu_has_amx();
    if (p->n_gpus == 0 && v->fit_n > 1) { /* llama.cpp splits by free memory */
        p->n_gpus = v->fit_n - 1;
        for (int i = 0; i < p->n_gpus; i++)
            p->split[i] = (double)v->fit[1 + i];
    }
    if (p->n_gpus > 0 && !v->ngl_set)
        p->n_gpu_layers = 100000; /* -ts alone: every layer, as llama.cpp's default */
    else if (p->n_gpus == 0 && p->n_gpu_layers > 0)
        p->n_gpus = 1, p->split[0] = 1;
}
