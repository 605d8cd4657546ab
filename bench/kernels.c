/*
 * kernels.c -- single-thread throughput of the quantize/dequantize kernels.
 *
 * For each buffer size (f32 bytes of the dequantized output; default 4 MiB,
 * cache-resident, and 256 MiB, DRAM) and each type with a dequantizer:
 *   quant MB/s   f32 input consumed by the reference quantizer per second
 *                (on as many 4096-element rows as take ~50 ms, at most
 *                16 MiB of input, to bound run time)
 *   <isa> GB/s   f32 output written by the dequantizer per second, for the
 *                reference and every SIMD path this machine can run
 *   memcpy GB/s  memcpy of the output size into the same output buffer
 *   xref, %mcp   fastest path relative to the reference and to memcpy: the
 *                median over rounds of the ratio of run times within a round
 * Each GB/s figure is the best of repeated runs (at least 3 and 0.25 s per
 * column, or GGUFKIT_BENCH_SECONDS; a longer time helps on a busy machine).
 * The paths of one type and its memcpy run interleaved, round-robin, so
 * that their ratios compare like with like even when the machine's load
 * changes during the run.
 *
 * usage: kernels [-s MIB[,MIB...]] [-t TYPE[,TYPE...]]
 *        (or GGUFKIT_BENCH_SIZES=4,256 / GGUFKIT_BENCH_TYPES=q4_0,q8_0)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"

/* ------------------------------------------------------------------------ */
/* Timing                                                                     */
/* ------------------------------------------------------------------------ */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define MIN_REPS 3
static double min_seconds = 0.25; /* GGUFKIT_BENCH_SECONDS */

/* Best single-run seconds of a dequantization, a memcpy or a quantization. */
typedef enum { OP_DEQUANT, OP_MEMCPY, OP_QUANT } op_kind;

typedef struct {
    op_kind kind;
    kern_to_float_fn deq;
    kern_quantize_fn quant;
    const void *src;
    void *dst;
    int64_t n; /* elements */
    int64_t n_per_row;
    const float *imatrix;
    size_t bytes; /* for memcpy */
} op;

static void run_op(const op *o) {
    switch (o->kind) {
    case OP_DEQUANT: o->deq(o->src, o->dst, o->n); break;
    case OP_MEMCPY: memcpy(o->dst, o->src, o->bytes); break;
    case OP_QUANT: o->quant(o->src, o->dst, o->n / o->n_per_row, o->n_per_row, o->imatrix); break;
    }
}

#define MAX_OPS (KERN_ISA_COUNT + 1)
#define MAX_ROUNDS 1000

/* Seconds of every run of up to MAX_OPS operations, run round-robin so
 * that all of them see the same machine conditions (a busy or virtual
 * machine drifts by a factor of two within seconds). */
typedef struct {
    int nops, rounds;
    double best[MAX_OPS];
    double t[MAX_ROUNDS][MAX_OPS];
} timings;

static void time_interleaved(const op *ops, int nops, timings *tm) {
    tm->nops = nops;
    for (int k = 0; k < nops; k++)
        tm->best[k] = INFINITY;
    double start = now();
    int round = 0;
    for (; round < MAX_ROUNDS && (round < MIN_REPS || now() - start < min_seconds * nops);
         round++) {
        for (int k = 0; k < nops; k++) {
            double t0 = now();
            run_op(&ops[k]);
            double t = now() - t0;
            tm->t[round][k] = t;
            if (t < tm->best[k])
                tm->best[k] = t;
        }
    }
    tm->rounds = round;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over rounds of t[a] / t[b]: a speed ratio from runs that were
 * side by side in time, robust against one lucky or unlucky run. */
static double median_ratio(const timings *tm, int a, int b) {
    static double r[MAX_ROUNDS];
    for (int i = 0; i < tm->rounds; i++)
        r[i] = tm->t[i][a] / tm->t[i][b];
    qsort(r, (size_t)tm->rounds, sizeof r[0], cmp_double);
    int m = tm->rounds / 2;
    return tm->rounds % 2 ? r[m] : 0.5 * (r[m - 1] + r[m]);
}

static double best_seconds(const op *o) {
    static timings tm;
    time_interleaved(o, 1, &tm);
    return tm.best[0];
}

/* ------------------------------------------------------------------------ */
/* Data                                                                       */
/* ------------------------------------------------------------------------ */

static uint64_t rng = 0x2545F4914F6CDD1Du;

static double uniform(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1.0p-53;
}

/* Weight-like data: Gaussian (Box-Muller) with sigma 0.02. */
static void fill_weights(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i += 2) {
        double u = uniform() + 1e-300, v = uniform();
        double r = sqrt(-2.0 * log(u)) * 0.02;
        x[i] = (float)(r * cos(2 * M_PI * v));
        if (i + 1 < n)
            x[i + 1] = (float)(r * sin(2 * M_PI * v));
    }
}

#define ROW 4096 /* elements per row for the quantizers (whole K-blocks) */

static int parse_list(const char *s, char items[][32], int max) {
    int k = 0;
    while (s && *s && k < max) {
        size_t len = strcspn(s, ",");
        if (len > 0 && len < 32) {
            memcpy(items[k], s, len);
            items[k][len] = '\0';
            k++;
        }
        s += len;
        if (*s == ',')
            s++;
    }
    return k;
}

/* ------------------------------------------------------------------------ */
/* Main                                                                       */
/* ------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    kern_init();
    const char *sizes_arg = getenv("GGUFKIT_BENCH_SIZES");
    const char *types_arg = getenv("GGUFKIT_BENCH_TYPES");
    const char *secs = getenv("GGUFKIT_BENCH_SECONDS");
    if (secs && atof(secs) > 0)
        min_seconds = atof(secs);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            sizes_arg = argv[++i];
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            types_arg = argv[++i];
        else {
            fprintf(stderr, "usage: %s [-s MIB[,MIB...]] [-t TYPE[,TYPE...]]\n", argv[0]);
            return 2;
        }
    }
    char size_items[8][32], type_items[KERN_TYPE_COUNT][32];
    int nsizes = parse_list(sizes_arg ? sizes_arg : "4,256", size_items, 8);
    int ntype_filter = parse_list(types_arg, type_items, KERN_TYPE_COUNT);

    int types[KERN_TYPE_COUNT], ntypes = 0;
    for (int t = 0; t < KERN_TYPE_COUNT; t++) {
        const kern_type_traits *tt = kern_type_info(t);
        if (!tt || !tt->to_float_ref || t == KERN_TYPE_F32)
            continue;
        int keep = ntype_filter == 0;
        for (int k = 0; k < ntype_filter; k++)
            keep |= kern_type_from_name(type_items[k]) == t;
        if (keep)
            types[ntypes++] = t;
    }

    kern_isa isas[KERN_ISA_COUNT];
    int nisa = 0;
    for (int i = 0; i < KERN_ISA_COUNT; i++)
        if (kern_isa_available((kern_isa)i))
            isas[nisa++] = (kern_isa)i;
    const char *isa_label[KERN_ISA_COUNT] = {"ref", "avx2", "avx512", "neon"};

    printf("kernels: single thread; dequant GB/s = f32 output bytes per second\n");
    printf("%-6s %-8s %9s", "MiB", "type", "quantMB/s");
    for (int k = 0; k < nisa; k++)
        printf(" %8s", isa_label[isas[k]]);
    printf(" %8s %6s %6s\n", "memcpy", "xref", "%mcp");

    float *imatrix = malloc(ROW * sizeof *imatrix);
    if (!imatrix)
        return 1;
    for (int i = 0; i < ROW; i++)
        imatrix[i] = 1.0f;

    for (int si = 0; si < nsizes; si++) {
        long mib = strtol(size_items[si], NULL, 10);
        if (mib < 1)
            mib = 1;
        int64_t n = (int64_t)mib * 1024 * 1024 / 4 / ROW * ROW; /* f32 elements */
        if (n < ROW)
            n = ROW;
        size_t out_bytes = (size_t)n * sizeof(float);
        /* 64-byte aligned, as a program's large scratch buffers should be:
         * it lets the kernels use their widest streaming stores */
        float *x = aligned_alloc(64, out_bytes), *y = aligned_alloc(64, out_bytes);
        size_t qcap = 0; /* the widest selected type (I32: 4 bytes per element) */
        for (int ti = 0; ti < ntypes; ti++)
            if (kern_row_bytes(types[ti], n) > qcap)
                qcap = kern_row_bytes(types[ti], n);
        uint8_t *q = malloc(qcap + 64);
        if (!x || !y || !q) {
            fprintf(stderr, "kernels: cannot allocate %ld MiB buffers\n", mib);
            return 1;
        }
        fill_weights(x, n);
        memset(y, 0, out_bytes);

        for (int ti = 0; ti < ntypes; ti++) {
            int t = types[ti];
            const kern_type_traits *tt = kern_type_info(t);
            size_t qbytes = kern_row_bytes(t, n);
            /* Quantize as many rows as take about 50 ms (at most 16 MiB
             * of input) and tile the result over the buffer (blocks are
             * independent) so dequantization sees real data. Types without
             * a quantizer get random blocks. */
            int64_t cap = n < 4 * 1024 * 1024 ? n : 4 * 1024 * 1024;
            int64_t nq = cap;
            double quant_mbs = 0;
            if (tt->quantize_ref) {
                op qo = {.kind = OP_QUANT,
                         .quant = tt->quantize_ref,
                         .src = x,
                         .dst = q,
                         .n = ROW,
                         .n_per_row = ROW,
                         .imatrix = tt->needs_imatrix ? imatrix : NULL};
                double t0 = now();
                run_op(&qo);
                double one_row = now() - t0;
                int64_t rows = one_row > 0 ? (int64_t)(0.05 / one_row) : cap / ROW;
                rows = rows < 1 ? 1 : rows > cap / ROW ? cap / ROW : rows;
                nq = qo.n = rows * ROW;
                double s = best_seconds(&qo);
                quant_mbs = (double)nq * 4 / s / 1e6;
            }
            size_t qchunk = kern_row_bytes(t, nq);
            if (!tt->quantize_ref) {
                for (size_t i = 0; i < qchunk; i++)
                    q[i] = (uint8_t)(uniform() * 256);
            }
            for (size_t off = qchunk; off < qbytes; off += qchunk)
                memcpy(q + off, q, qbytes - off < qchunk ? qbytes - off : qchunk);

            printf("%-6ld %-8s ", mib, kern_type_label(t));
            if (tt->quantize_ref)
                printf("%9.1f", quant_mbs);
            else
                printf("%9s", "-");
            /* every path of this type and a memcpy of the output size,
             * interleaved; "-" where an ISA keeps the reference */
            op ops[KERN_ISA_COUNT + 1];
            int col[KERN_ISA_COUNT], nops = 0;
            for (int k = 0; k < nisa; k++) {
                kern_set_isa(isas[k]);
                kern_to_float_fn f = kern_dequant_fn(t);
                col[k] = -1;
                if (isas[k] != KERN_ISA_REF && f == tt->to_float_ref)
                    continue;
                col[k] = nops;
                ops[nops++] = (op){.kind = OP_DEQUANT, .deq = f, .src = q, .dst = y, .n = n};
            }
            ops[nops++] = (op){.kind = OP_MEMCPY, .src = x, .dst = y, .bytes = out_bytes};
            static timings tm;
            time_interleaved(ops, nops, &tm);
            int ref_op = -1, best_op = -1, memcpy_op = nops - 1;
            for (int k = 0; k < nisa; k++) {
                if (col[k] < 0) {
                    printf(" %8s", "-");
                    continue;
                }
                if (isas[k] == KERN_ISA_REF)
                    ref_op = col[k];
                if (best_op < 0 || tm.best[col[k]] < tm.best[best_op])
                    best_op = col[k];
                printf(" %8.2f", (double)out_bytes / tm.best[col[k]] / 1e9);
            }
            printf(" %8.2f %6.2f %5.0f%%\n", (double)out_bytes / tm.best[memcpy_op] / 1e9,
                   median_ratio(&tm, ref_op, best_op),
                   100.0 * median_ratio(&tm, memcpy_op, best_op));
            fflush(stdout);
        }
        kern_set_isa(KERN_ISA_REF);
        free(x);
        free(y);
        free(q);
    }
    free(imatrix);
    return 0;
}
