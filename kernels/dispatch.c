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
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "kernels_internal.h"

static const char *const isa_names[KERN_ISA_COUNT] = {"ref", "avx2", "avx512", "neon"};

/* One row per ISA; NULL where the ISA is not built on this architecture. */
static const kern_isa_table *const isa_tables[KERN_ISA_COUNT] = {
#if defined(__x86_64__)
    [KERN_ISA_AVX2] = &kern_isa_table_avx2,
    [KERN_ISA_AVX512] = &kern_isa_table_avx512,
#elif defined(__aarch64__)
    [KERN_ISA_NEON] = &kern_isa_table_neon,
#endif
};

static kern_isa current_isa = KERN_ISA_REF;
static kern_isa_table active; /* merged: ISA entries over reference ones */
static once_flag init_once = ONCE_FLAG_INIT;

/* ------------------------------------------------------------------------ */
/* CPU probing                                                                */
/* ------------------------------------------------------------------------ */

#if defined(__x86_64__)
/* The instruction sets are usable only when the CPU has them AND the OS
 * saves the wider registers on context switch (XCR0 read with xgetbv, which
 * CPUID.1:ECX.OSXSAVE says is allowed). Inline asm rather than _xgetbv(),
 * which would need -mxsave on a file that must stay baseline. */
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int probe_isa(kern_isa isa) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx)
        return 0;
    uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) /* XMM and YMM state */
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    int avx2 = (b >> 5) & 1;
    int avx2_set = avx2 && f16c && fma;
    if (isa == KERN_ISA_AVX2)
        return avx2_set;
    if (isa == KERN_ISA_AVX512) {
        int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
        /* opmask, upper ZMM0-15 and ZMM16-31 state */
        return avx2_set && f && bw && vl && (xcr0 & 0xE0) == 0xE0;
    }
    return 0;
}

/* CPUID.(7,0):EDX AMX-TILE (24) and AMX-INT8 (25); XCR0 XTILECFG and
 * XTILEDATA (17, 18). */
static int probe_amx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1))
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || ((d >> 24) & 3) != 3)
        return 0;
    return (read_xcr0() & 0x60000) == 0x60000;
}
#elif defined(__aarch64__)
/* NEON (Advanced SIMD) is part of the AArch64 baseline. */
static int probe_isa(kern_isa isa) {
    return isa == KERN_ISA_NEON;
}
#else
static int probe_isa(kern_isa isa) {
    (void)isa;
    return 0;
}
#endif
#if !defined(__x86_64__)
static int probe_amx(void) {
    return 0;
}
#endif

/* Probe results, filled once by init_dispatch (cpuid traps to the
 * hypervisor on virtual machines, so it is not repeated). */
static int isa_usable[KERN_ISA_COUNT];

static int cpu_has(kern_isa isa) {
    return isa_usable[isa];
}

static int amx_usable;

int kern_cpu_has_amx(void) {
    kern_init();
    return amx_usable;
}

int kern_isa_available(kern_isa isa) {
    kern_init();
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
    /* Each ISA row overrides the rows below it that the CPU also has (an
     * AVX-512 machine keeps the AVX2 kernels for types AVX-512 leaves out). */
    for (int level = 1; level <= (int)isa; level++) {
        const kern_isa_table *row = isa_tables[level];
        if (!row || !cpu_has((kern_isa)level))
            continue;
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
    isa_usable[KERN_ISA_REF] = 1;
    amx_usable = probe_amx();
    for (int i = 1; i < KERN_ISA_COUNT; i++)
        isa_usable[i] = isa_tables[i] != NULL && probe_isa((kern_isa)i);
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

kern_isa kern_isa_current(void) {
    kern_init();
    return current_isa;
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

/* The dispatch table plus F64, which only checkpoints carry. */
static kern_to_float_fn row_reader(int type) {
    if (type == KERN_TYPE_F64)
        return kern_dequant_f64_ref;
    return kern_dequant_fn(type);
}

int kern_row_to_f32_supported(int type) {
    return row_reader(type) != NULL;
}

int kern_row_to_f32(int type, const void *src, float *dst, int64_t n) {
    kern_to_float_fn fn = row_reader(type);
    const kern_type_traits *tt = kern_type_info(type);
    if (!fn || !tt || n < 0 || n % tt->blck_size != 0)
        return -1;
    fn(src, dst, n);
    return 0;
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
