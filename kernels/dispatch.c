/*
 * dispatch.c -- the only place that probes the CPU. It is built with
 * baseline flags: ISA-specific code lives in kernels/x86/ and kernels/arm/.
 * kern_init() picks the best ISA row once; GGUFKIT_SIMD can force a lower one.
 */
#if defined(__AVX__)
#error "dispatch.c must be built without AVX flags"
#endif

#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "kernels_internal.h"

static const char *const isa_names[KERN_ISA_COUNT] = {"ref", "avx2", "avx512", "neon"};

/* One row per ISA; NULL where the ISA is not built on this architecture. */
static const kern_isa_table *const isa_tables[KERN_ISA_COUNT] = {NULL};

static kern_isa current_isa = KERN_ISA_REF;
static kern_isa_table active; /* merged: ISA entries over reference ones */
static once_flag init_once = ONCE_FLAG_INIT;

static int cpu_has(kern_isa isa) {
    if (isa == KERN_ISA_REF)
        return 1;
    if (isa_tables[isa] == NULL)
        return 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (isa == KERN_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") &&
               __builtin_cpu_supports("fma");
    if (isa == KERN_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
    return 0;
#elif defined(__aarch64__)
    return isa == KERN_ISA_NEON;
#else
    return 0;
#endif
}

int kern_isa_available(kern_isa isa) {
    return isa >= 0 && isa < KERN_ISA_COUNT && cpu_has(isa);
}

static void select_isa(kern_isa isa) {
    memset(&active, 0, sizeof active);
    active.fp16_to_fp32_row = kern_fp16_to_fp32_row_ref;
    active.fp32_to_fp16_row = kern_fp32_to_fp16_row_ref;
    active.bf16_to_fp32_row = kern_bf16_to_fp32_row_ref;
    active.fp32_to_bf16_row = kern_fp32_to_bf16_row_ref;
    for (int t = 0; t < KERN_TYPE_COUNT; t++) {
        const kern_type_traits *tt = kern_type_info(t);
        active.to_float[t] = tt ? tt->to_float_ref : NULL;
    }
    const kern_isa_table *row = isa_tables[isa];
    if (row) {
        for (int t = 0; t < KERN_TYPE_COUNT; t++)
            if (row->to_float[t])
                active.to_float[t] = row->to_float[t];
        if (row->fp16_to_fp32_row)
            active.fp16_to_fp32_row = row->fp16_to_fp32_row;
        if (row->fp32_to_fp16_row)
            active.fp32_to_fp16_row = row->fp32_to_fp16_row;
        if (row->bf16_to_fp32_row)
            active.bf16_to_fp32_row = row->bf16_to_fp32_row;
        if (row->fp32_to_bf16_row)
            active.fp32_to_bf16_row = row->fp32_to_bf16_row;
    }
    current_isa = isa;
}

/* Best available ISA, capped by GGUFKIT_SIMD (off|ref|avx2|avx512|neon). */
static void init_dispatch(void) {
    kern_isa cap = KERN_ISA_COUNT - 1;
    const char *env = getenv("GGUFKIT_SIMD");
    if (env && *env) {
        if (strcmp(env, "off") == 0)
            cap = KERN_ISA_REF;
        for (int i = 0; i < KERN_ISA_COUNT; i++)
            if (strcmp(env, isa_names[i]) == 0)
                cap = (kern_isa)i;
    }
    kern_isa best = KERN_ISA_REF;
    for (int i = 1; i <= (int)cap; i++)
        if (cpu_has((kern_isa)i))
            best = (kern_isa)i;
    select_isa(best);
}

void kern_init(void) {
    call_once(&init_once, init_dispatch);
}

const char *kern_isa_name(void) {
    kern_init();
    return isa_names[current_isa];
}

int kern_set_isa(kern_isa isa) {
    kern_init();
    if (!kern_isa_available(isa))
        return 0;
    select_isa(isa);
    return 1;
}

kern_to_float_fn kern_dequant_fn(int type) {
    kern_init();
    if (type < 0 || type >= KERN_TYPE_COUNT)
        return NULL;
    return active.to_float[type];
}

void kern_fp16_to_fp32_row(const uint16_t *src, float *dst, int64_t n) {
    kern_init();
    active.fp16_to_fp32_row(src, dst, n);
}

void kern_fp32_to_fp16_row(const float *src, uint16_t *dst, int64_t n) {
    kern_init();
    active.fp32_to_fp16_row(src, dst, n);
}

void kern_bf16_to_fp32_row(const uint16_t *src, float *dst, int64_t n) {
    kern_init();
    active.bf16_to_fp32_row(src, dst, n);
}

void kern_fp32_to_bf16_row(const float *src, uint16_t *dst, int64_t n) {
    kern_init();
    active.fp32_to_bf16_row(src, dst, n);
}
