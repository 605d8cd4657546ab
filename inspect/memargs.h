/*
 * memargs.h -- gguf-inspect --mem's knobs, with llama.cpp's names (-c, -b,
 * -ub, -np, -ctk/-ctv, -fa, -ngl, -ts, --n-cpu-moe, --no-mmap, --swa-full,
 * -nr, and ours: --amx, --fit, --as): their getopt entries, their parsing
 * into insp_opts, and the defaults llama.cpp derives after parsing.
 */
#ifndef INSPECT_MEMARGS_H
#define INSPECT_MEMARGS_H

#include <getopt.h>

#include "inspect_internal.h"

/* getopt codes of the knobs ('c' and 'b' are -c and -b). */
enum {
    INSP_OPT_MEM = 512,
    INSP_OPT_KV_TYPE,
    INSP_OPT_UBATCH,
    INSP_OPT_PARALLEL,
    INSP_OPT_CTK,
    INSP_OPT_CTV,
    INSP_OPT_FA,
    INSP_OPT_NGL,
    INSP_OPT_TS,
    INSP_OPT_NCMOE,
    INSP_OPT_CMOE,
    INSP_OPT_NO_MMAP,
    INSP_OPT_SWA_FULL,
    INSP_OPT_NO_REPACK,
    INSP_OPT_AMX,
    INSP_OPT_FIT,
    INSP_OPT_AS,
};

/* The knobs' struct option entries, for a program's getopt table. */
#define INSP_MEM_LONGOPTS                                                                          \
    {"mem", optional_argument, NULL, INSP_OPT_MEM},                                                \
        {"kv-type", required_argument, NULL, INSP_OPT_KV_TYPE},                                    \
        {"ctx-size", required_argument, NULL, 'c'}, {"batch-size", required_argument, NULL, 'b'},  \
        {"ubatch-size", required_argument, NULL, INSP_OPT_UBATCH},                                 \
        {"parallel", required_argument, NULL, INSP_OPT_PARALLEL},                                  \
        {"cache-type-k", required_argument, NULL, INSP_OPT_CTK},                                   \
        {"cache-type-v", required_argument, NULL, INSP_OPT_CTV},                                   \
        {"flash-attn", required_argument, NULL, INSP_OPT_FA},                                      \
        {"n-gpu-layers", required_argument, NULL, INSP_OPT_NGL},                                   \
        {"gpu-layers", required_argument, NULL, INSP_OPT_NGL},                                     \
        {"tensor-split", required_argument, NULL, INSP_OPT_TS},                                    \
        {"n-cpu-moe", required_argument, NULL, INSP_OPT_NCMOE},                                    \
        {"cpu-moe", no_argument, NULL, INSP_OPT_CMOE},                                             \
        {"no-mmap", no_argument, NULL, INSP_OPT_NO_MMAP},                                          \
        {"swa-full", no_argument, NULL, INSP_OPT_SWA_FULL},                                        \
        {"no-repack", no_argument, NULL, INSP_OPT_NO_REPACK},                                      \
        {"amx", required_argument, NULL, INSP_OPT_AMX},                                            \
        {"fit", required_argument, NULL, INSP_OPT_FIT}, {                                          \
        "as", required_argument, NULL, INSP_OPT_AS                                                 \
    }

/* Rewrites llama.cpp's multi-letter single-dash options (-ub, -ctk, -ngl,
 * ...) in argv to their long names, before getopt sees them. */
void insp_mem_aliases(int argc, char **argv);

/* llama.cpp's defaults: -b 2048 -ub 512 -np 1, f16 caches, -fa on (auto on
 * the CPU), extra buffers on, AMX as this CPU has it (decided by
 * insp_mem_finish). */
void insp_mem_defaults(mp_params *p);

/* One knob (getopt code c, its argument or NULL) into v: -1 to go on, the
 * usage-error exit code for a bad value, or -2 when c is not a knob. */
int insp_mem_option(int c, const char *arg, insp_opts *v);

/* After parsing: AMX probed when planning, --fit's GPUs as the split when
 * -ts is absent, -ts alone offloading every layer, -ngl alone one GPU. */
void insp_mem_finish(insp_opts *v);

#endif
