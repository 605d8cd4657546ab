/*
 * iquants_test.c -- i-quant grids, dequantizers and quantizers.
 *
 * Known answers (XXH64, seed 0) were produced by ggml's own ggml-quants.c
 * (llama.cpp c392e50, built with -O3 -ffp-contract=off outside this repo) on
 * the inputs that gen_input() below recreates; the golden test replays
 * llama-quantize's output for the reference model from ../shared.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "formats/gguf.h"
#include "formats/io.h"
#include "kernels/kernels_internal.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Deterministic inputs (must match the generator used for the hashes)      */
/* ------------------------------------------------------------------------ */

static uint32_t rng_state;

static float urand(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) * (1.0f / 16777216.0f);
}

enum { KA_ROWS = 4, KA_N = 512 };

/* 4 rows of 512: bell-shaped noise of growing width; row 1 has an all-zero
 * 32-block and an outlier, row 2 a constant 32-block and an all-zero
 * super-block. im: an importance row. */
static void gen_input(float *x, float *im) {
    rng_state = 12345u;
    for (int r = 0; r < KA_ROWS; r++)
        for (int i = 0; i < KA_N; i++) {
            float g = urand() + urand() + urand() + urand() - 2.0f;
            x[r * KA_N + i] = g * (0.02f + 0.01f * (float)r);
        }
    for (int i = 64; i < 96; i++)
        x[1 * KA_N + i] = 0.0f;
    x[1 * KA_N + 300] = 1.5f;
    for (int i = 0; i < 32; i++)
        x[2 * KA_N + i] = 0.25f;
    for (int i = KA_N - 256; i < KA_N; i++)
        x[2 * KA_N + i] = 0.0f;
    for (int i = 0; i < KA_N; i++)
        im[i] = 0.05f + 2.0f * urand();
}

static uint64_t hash(const void *p, size_t n) {
    return (uint64_t)XXH64(p, n, 0);
}

/* ------------------------------------------------------------------------ */
/* Grids and lattices                                                        */
/* ------------------------------------------------------------------------ */

/* Expand a kgrid table into ggml-common.h's byte table (one u64 or u32 per
 * point, coordinate i in byte i) with the family's level values. */
static uint64_t expanded_grid_hash(const uint16_t *kgrid, int n, int dim, const int *val) {
    static uint8_t buf[2048 * 8];
    int bits = dim == 8 ? 2 : 3;
    for (int g = 0; g < n; g++)
        for (int i = 0; i < dim; i++)
            buf[g * dim + i] = (uint8_t)val[(kgrid[g] >> (bits * i)) & ((1 << bits) - 1)];
    return hash(buf, (size_t)n * (size_t)dim);
}

START_TEST(test_grids_match_ggml) {
    static const int v2[4] = {8, 25, 43, 0};
    static const int v1[4] = {0xff, 0, 1, 0};
    static const int v3xxs[8] = {4, 12, 20, 28, 36, 44, 52, 62};
    static const int v3s[8] = {1, 3, 5, 7, 9, 11, 13, 15};
    /* XXH64 of ggml-common.h iq2xxs_grid, iq2xs_grid, iq2s_grid, iq1s_grid,
     * iq3xxs_grid and iq3s_grid as stored in memory (little-endian). */
    ck_assert_uint_eq(expanded_grid_hash(kern_iq2xxs_kgrid, 256, 8, v2), 0xd0f409bed3fa0141ull);
    ck_assert_uint_eq(expanded_grid_hash(kern_iq2xs_kgrid, 512, 8, v2), 0x1fcaa4c393b26b0cull);
    ck_assert_uint_eq(expanded_grid_hash(kern_iq2s_kgrid, 1024, 8, v2), 0x2e98730adf23bcc3ull);
    ck_assert_uint_eq(expanded_grid_hash(kern_iq1s_kgrid, 2048, 8, v1), 0xa3974d5ec55a0118ull);
    ck_assert_uint_eq(expanded_grid_hash(kern_iq3xxs_kgrid, 256, 4, v3xxs), 0x06619e35553ba35aull);
    ck_assert_uint_eq(expanded_grid_hash(kern_iq3s_kgrid, 512, 4, v3s), 0xf8923e1a036974a1ull);
}
END_TEST

/* The key -> grid index / neighbour list structure equals ggml's kmap and
 * kneighbors: walking the keys (levels 0..2 base 3 for the 8-coordinate
 * lattices, all 4096 for the 3-bit ones) and hashing, per key, 0xffff and the
 * grid index for an on-grid key or [count, indices...] otherwise gives the
 * hash of the same walk over ggml's iq2xs/iq3xs_init_impl data. */
START_TEST(test_neighbour_lists_match_ggml) {
    static const uint64_t want[KERN_IQ_LAT_COUNT] = {
        0x7b475d172df1eba7ull, 0x54279b974fd80d3cull, 0xce232d94672c1ca9ull,
        0x2cadeddfea2fcd09ull, 0x2bfa2bf623a94121ull, 0x2ca1121b6a5c5cf1ull,
    };
    for (int w = 0; w < KERN_IQ_LAT_COUNT; w++) {
        const kern_iq_lattice *lat = kern_iq_lattice_get(w);
        ck_assert_ptr_nonnull(lat);
        XXH64_state_t *st = XXH64_createState();
        XXH64_reset(st, 0);
        int nkeys = lat->dim == 8 ? 6561 : 4096;
        for (int k = 0; k < nkeys; k++) {
            int m = lat->map[k];
            if (m >= 0) {
                uint16_t v[2] = {0xffff, (uint16_t)m};
                XXH64_update(st, &v[0], 2);
                XXH64_update(st, &v[1], 2);
                continue;
            }
            const uint16_t *nb = lat->neighbours + (-m - 1);
            XXH64_update(st, nb, 2 * ((size_t)nb[0] + 1));
        }
        ck_assert_msg((uint64_t)XXH64_digest(st) == want[w], "lattice %d lists differ", w);
        XXH64_freeState(st);
    }
}
END_TEST

/* Every lattice: grid points distinct and ascending, map consistent with the
 * grid, every off-grid key has a non-empty list of valid indices whose
 * first entry is at least as close as every other grid point. */
START_TEST(test_lattices) {
    static const int ngrid[KERN_IQ_LAT_COUNT] = {256, 512, 1024, 2048, 256, 512};
    for (int w = 0; w < KERN_IQ_LAT_COUNT; w++) {
        const kern_iq_lattice *lat = kern_iq_lattice_get(w);
        ck_assert_ptr_nonnull(lat);
        ck_assert_int_eq(lat->ngrid, ngrid[w]);
        for (int g = 1; g < lat->ngrid; g++)
            ck_assert_uint_gt(lat->kgrid[g], lat->kgrid[g - 1]);
        int nkeys = lat->dim == 8 ? 6561 : 4096;
        int levels = lat->dim == 8 ? 3 : 8;
        int on = 0;
        for (int k = 0; k < nkeys; k++) {
            int8_t l[8];
            int kk = k;
            for (int i = 0; i < lat->dim; i++) {
                if (lat->dim == 8) {
                    l[i] = (int8_t)(kk % 3);
                    kk /= 3;
                } else {
                    l[i] = (int8_t)((k >> (3 * i)) & 7);
                }
            }
            ck_assert_int_eq(kern_iq_key(lat->dim, l), k);
            int idx = lat->map[k];
            if (idx >= 0) {
                on++;
                for (int i = 0; i < lat->dim; i++)
                    ck_assert_int_eq(kern_iq_level(lat, idx, i), l[i]);
                continue;
            }
            const uint16_t *nb = lat->neighbours + (-idx - 1);
            ck_assert_uint_gt(nb[0], 0);
            int best = 1 << 30;
            for (int g = 0; g < lat->ngrid; g++) {
                int d2 = 0;
                for (int i = 0; i < lat->dim; i++) {
                    int dd = kern_iq_level(lat, g, i) - l[i];
                    d2 += dd * dd;
                }
                best = d2 < best ? d2 : best;
            }
            int d2first = 0;
            for (int i = 0; i < lat->dim; i++) {
                ck_assert_int_lt(kern_iq_level(lat, nb[1], i), levels);
                int dd = kern_iq_level(lat, nb[1], i) - l[i];
                d2first += dd * dd;
            }
            ck_assert_int_eq(d2first, best);
            for (int j = 1; j <= nb[0]; j++)
                ck_assert_int_lt(nb[j], lat->ngrid);
        }
        ck_assert_int_eq(on, lat->ngrid);
    }
    ck_assert_ptr_null(kern_iq_lattice_get(KERN_IQ_LAT_COUNT));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Dequantization known answers                                              */
/* ------------------------------------------------------------------------ */

typedef struct {
    int type;
    uint64_t deq_random; /* dequantized random blocks */
} deq_case;

/* XXH64 of ggml dequantize_row_* over 8 blocks of random bytes (seed
 * 777 + case number) with the f16 scale's top exponent bit cleared. */
static const deq_case deq_cases[] = {
    {KERN_TYPE_IQ2_XXS, 0x0b856e8d93a46826ull}, {KERN_TYPE_IQ2_XS, 0x3726682c9c522a28ull},
    {KERN_TYPE_IQ2_S, 0xbbf93ee11bcd7f00ull},   {KERN_TYPE_IQ3_XXS, 0x8e1096a11bcc9a8cull},
    {KERN_TYPE_IQ3_S, 0x2638a52b27db6711ull},   {KERN_TYPE_IQ1_S, 0x12e868444f1d6abbull},
    {KERN_TYPE_IQ1_M, 0xc3bf218975d59bb9ull},   {KERN_TYPE_IQ4_NL, 0xff0854b83be1c5e3ull},
    {KERN_TYPE_IQ4_XS, 0x301a1d8247d619eaull},
};

START_TEST(test_dequant_known_answers) {
    static uint8_t b[8 * 136];
    static float y[8 * 256];
    for (size_t t = 0; t < sizeof deq_cases / sizeof deq_cases[0]; t++) {
        const kern_type_traits *tt = kern_type_info(deq_cases[t].type);
        ck_assert(tt->to_float_ref != NULL);
        rng_state = 777u + (uint32_t)t;
        for (size_t i = 0; i < 8 * tt->type_size; i++)
            b[i] = (uint8_t)(urand() * 256.0f);
        for (int k = 0; k < 8; k++) {
            size_t at = deq_cases[t].type == KERN_TYPE_IQ1_M ? 55 : 1;
            b[k * tt->type_size + at] &= 0x3f;
        }
        tt->to_float_ref(b, y, 8 * tt->blck_size);
        ck_assert_msg(hash(y, sizeof(float) * 8 * (size_t)tt->blck_size) == deq_cases[t].deq_random,
                      "%s dequant differs from ggml", kern_type_label(deq_cases[t].type));
    }
}
END_TEST

/* Any bytes, including inf/NaN scales, decode without touching memory
 * outside the block (run under ASan). */
START_TEST(test_dequant_random_bytes) {
    static uint8_t b[16 * 136];
    static float y[16 * 256];
    rng_state = 4242u;
    for (size_t t = 0; t < sizeof deq_cases / sizeof deq_cases[0]; t++) {
        const kern_type_traits *tt = kern_type_info(deq_cases[t].type);
        for (int rep = 0; rep < 50; rep++) {
            uint8_t *blk = malloc(tt->type_size);
            for (size_t i = 0; i < tt->type_size; i++)
                blk[i] = (uint8_t)(urand() * 256.0f);
            tt->to_float_ref(blk, y, tt->blck_size);
            free(blk);
        }
        memset(b, 0xff, sizeof b);
        tt->to_float_ref(b, y, 4 * tt->blck_size);
        memset(b, 0, sizeof b);
        tt->to_float_ref(b, y, 4 * tt->blck_size);
        for (int64_t i = 0; i < 4 * tt->blck_size; i++)
            ck_assert(y[i] == 0.0f);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Quantization known answers                                                */
/* ------------------------------------------------------------------------ */

typedef struct {
    int type;
    uint64_t plain;   /* imatrix == NULL; 0 = not applicable */
    uint64_t imatrix; /* with gen_input's importance row */
} quant_case;

static const quant_case quant_cases[] = {
    {KERN_TYPE_IQ4_NL, 0xc9c528557eb86ffdull, 0x0a85c681003db0bdull},
    {KERN_TYPE_IQ4_XS, 0x91154109632cb82aull, 0x914532a6f0bfdb68ull},
    {KERN_TYPE_IQ3_S, 0xd0e66218d907c271ull, 0xc4a2d886241bb364ull},
    {KERN_TYPE_IQ3_XXS, 0xb25b8c2c8ae44d74ull, 0x8e9152fa29286552ull},
    {KERN_TYPE_IQ2_S, 0xf5b6ea0deec4a264ull, 0xb37d3b1504c8f8b1ull},
    {KERN_TYPE_IQ2_XS, 0, 0xb0cae2deff7dc713ull},
    {KERN_TYPE_IQ2_XXS, 0, 0x7e8029f695981223ull},
    {KERN_TYPE_IQ1_S, 0, 0x5f93f1cc991f463dull},
    {KERN_TYPE_IQ1_M, 0x82d433a64f0a2c62ull, 0xc7ac6376691f1bdeull},
};

START_TEST(test_quant_known_answers) {
    static float x[KA_ROWS * KA_N], im[KA_N];
    static uint8_t q[KA_ROWS * KA_N];
    gen_input(x, im);
    for (size_t t = 0; t < sizeof quant_cases / sizeof quant_cases[0]; t++) {
        const quant_case *c = &quant_cases[t];
        const kern_type_traits *tt = kern_type_info(c->type);
        if (!tt->quantize_ref)
            continue;
        size_t want = kern_row_bytes(c->type, KA_N) * KA_ROWS;
        for (int w = 0; w < 2; w++) {
            uint64_t expect = w ? c->imatrix : c->plain;
            if (!expect)
                continue;
            memset(q, 0xa5, sizeof q);
            size_t got = tt->quantize_ref(x, q, KA_ROWS, KA_N, w ? im : NULL);
            ck_assert_uint_eq(got, want);
            ck_assert_msg(hash(q, got) == expect, "%s %s: %016llx", kern_type_label(c->type),
                          w ? "imatrix" : "plain", (unsigned long long)hash(q, got));
        }
    }
}
END_TEST

/* IQ2_XXS, IQ2_XS and IQ1_S need an imatrix (ggml asserts): without one the
 * quantizer writes nothing and returns 0. */
START_TEST(test_requires_imatrix) {
    static const int need[] = {KERN_TYPE_IQ2_XXS, KERN_TYPE_IQ2_XS, KERN_TYPE_IQ1_S};
    static float x[256];
    static uint8_t q[256];
    for (int i = 0; i < 256; i++)
        x[i] = (float)(i % 9) - 4.0f;
    for (size_t t = 0; t < sizeof need / sizeof need[0]; t++) {
        const kern_type_traits *tt = kern_type_info(need[t]);
        ck_assert_int_eq(tt->needs_imatrix, 1);
        memset(q, 0x5a, sizeof q);
        ck_assert_uint_eq(tt->quantize_ref(x, q, 1, 256, NULL), 0);
        for (size_t i = 0; i < sizeof q; i++)
            ck_assert_uint_eq(q[i], 0x5a);
    }
}
END_TEST

/* Lattices are built on first use: several threads quantizing at once (each
 * racing to build them) must all get ggml's bytes. */
typedef struct {
    const float *x, *im;
    int type;
    uint64_t got;
} thread_job;

static void *quantize_job(void *arg) {
    thread_job *j = arg;
    uint8_t *q = malloc(kern_row_bytes(j->type, KA_N) * KA_ROWS);
    size_t n = kern_type_info(j->type)->quantize_ref(j->x, q, KA_ROWS, KA_N, j->im);
    j->got = hash(q, n);
    free(q);
    return NULL;
}

START_TEST(test_threads_first_use) {
    static float x[KA_ROWS * KA_N], im[KA_N];
    gen_input(x, im);
    enum { NT = 6 };
    static const int types[NT] = {KERN_TYPE_IQ2_XS, KERN_TYPE_IQ1_S,   KERN_TYPE_IQ2_XS,
                                  KERN_TYPE_IQ1_M,  KERN_TYPE_IQ3_XXS, KERN_TYPE_IQ1_S};
    thread_job jobs[NT];
    pthread_t th[NT];
    for (int i = 0; i < NT; i++) {
        jobs[i] = (thread_job){x, im, types[i], 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, quantize_job, &jobs[i]), 0);
    }
    for (int i = 0; i < NT; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        uint64_t want = 0;
        for (size_t c = 0; c < sizeof quant_cases / sizeof quant_cases[0]; c++)
            if (quant_cases[c].type == types[i])
                want = quant_cases[c].imatrix;
        ck_assert_uint_eq(jobs[i].got, want);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Quality on ggml's synthetic vector (tests/test-quantize-fns.cpp)         */
/* ------------------------------------------------------------------------ */

typedef struct {
    int type;
    double max_err;
    int with_imatrix;
} quality_case;

static const quality_case quality_cases[] = {
    {KERN_TYPE_IQ4_NL, 0.002, 0},   {KERN_TYPE_IQ4_XS, 0.002, 0}, {KERN_TYPE_IQ3_S, 0.004, 0},
    {KERN_TYPE_IQ3_XXS, 0.005, 0},  {KERN_TYPE_IQ2_S, 0.0075, 0}, {KERN_TYPE_IQ2_XS, 0.0075, 1},
    {KERN_TYPE_IQ2_XXS, 0.0075, 1}, {KERN_TYPE_IQ1_S, 0.025, 1},  {KERN_TYPE_IQ1_M, 0.025, 1},
};

START_TEST(test_quality_synthetic) {
    enum { N = 4096 };
    static float x[N], y[N], im[N];
    static uint8_t q[N * 2];
    for (int i = 0; i < N; i++) {
        x[i] = (float)(0.1 + 2 * cos((double)i));
        im[i] = 1.0f;
    }
    for (size_t t = 0; t < sizeof quality_cases / sizeof quality_cases[0]; t++) {
        const quality_case *c = &quality_cases[t];
        const kern_type_traits *tt = kern_type_info(c->type);
        if (!tt->quantize_ref)
            continue;
        ck_assert_uint_eq(tt->quantize_ref(x, q, 1, N, c->with_imatrix ? im : NULL),
                          kern_row_bytes(c->type, N));
        tt->to_float_ref(q, y, N);
        double s = 0;
        for (int i = 0; i < N; i++)
            s += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
        double err = sqrt(s) / N;
        printf("%-8s round-trip error %.6f (limit %.4f)%s\n", kern_type_label(c->type), err,
               c->max_err, c->with_imatrix ? " with unit imatrix" : "");
        ck_assert_double_le(err, c->max_err);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Edge cases                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(test_edge_rows) {
    enum { N = 512 };
    static float x[N], y[N], im[N];
    static uint8_t q[N * 2];
    for (int i = 0; i < N; i++)
        im[i] = 1.0f;
    for (int ty = 0; ty < KERN_TYPE_COUNT; ty++) {
        const kern_type_traits *tt = kern_type_info(ty);
        if (!tt || !tt->quantize_ref || strncmp(tt->name, "iq", 2) != 0)
            continue;
        for (int shape = 0; shape < 4; shape++) {
            for (int i = 0; i < N; i++) {
                switch (shape) {
                case 0: x[i] = 0.0f; break;
                case 1: x[i] = -0.75f; break;
                case 2: x[i] = i == 77 ? 1000.0f : 0.001f * (float)(i % 7); break;
                default: x[i] = i % 64 < 32 ? 0.0f : (float)(i % 5) - 2.0f; break;
                }
            }
            size_t got = tt->quantize_ref(x, q, 1, N, tt->needs_imatrix ? im : NULL);
            ck_assert_uint_eq(got, kern_row_bytes(ty, N));
            tt->to_float_ref(q, y, N);
            for (int i = 0; i < N; i++) {
                ck_assert(isfinite(y[i]));
                if (shape == 0)
                    ck_assert(y[i] == 0.0f);
            }
            if (shape == 1 && tt->blck_size == 32) /* IQ4_NL: constant stays constant */
                for (int i = 1; i < N; i++)
                    ck_assert_float_eq(y[i], y[0]);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Golden: llama-quantize output for the reference model                     */
/* ------------------------------------------------------------------------ */

static const char *shared_dir(void) {
    const char *s = getenv("GGUFKIT_SHARED");
    return s ? s : "../shared";
}

static int ci(void) {
    const char *s = getenv("CI");
    return s && strcmp(s, "true") == 0;
}

/* Quantize every tensor the preset file lists with an IQ type; returns the
 * number of lines checked, -1 when the shared data is absent. */
/* Under AddressSanitizer (where the quantizers run ~4x slower) only every
 * GOLDEN_STRIDE-th IQ tensor is checked; the plain build checks them all. */
#if defined(__SANITIZE_ADDRESS__)
#define GOLDEN_STRIDE 8
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOLDEN_STRIDE 8
#endif
#endif
#ifndef GOLDEN_STRIDE
#define GOLDEN_STRIDE 1
#endif

static int golden_file(const char *preset) {
    char path[512], model[512];
    snprintf(path, sizeof path, "%s/golden/llama-quantize/%s.tsv", shared_dir(), preset);
    snprintf(model, sizeof model, "%s/fixtures/ref-llama-f16.gguf", shared_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    gk_status st;
    char err[256];
    fmt_input *in = fmt_input_open(model, NULL, &st, err, sizeof err);
    ck_assert_msg(in != NULL, "%s", err);
    fmt_gguf *g = fmt_gguf_open(in, &st);
    ck_assert_msg(g != NULL, "%s", fmt_gguf_open_errmsg());
    char line[512];
    int checked = 0, seen = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256], tname[32], shape[64];
        unsigned long long want;
        if (sscanf(line, "%255s %31s %63s %llx", name, tname, shape, &want) != 4)
            continue;
        int ty = kern_type_from_name(tname);
        if (ty < 0 || strncmp(tname, "IQ", 2) != 0 || seen++ % GOLDEN_STRIDE != 0)
            continue;
        const fmt_gguf_tensor *t = fmt_gguf_find_tensor(g, name);
        ck_assert_msg(t != NULL, "%s missing", name);
        int64_t idx = fmt_gguf_tensor_index(g, name);
        uint8_t *raw = malloc(t->size);
        ck_assert_int_eq(fmt_gguf_read_tensor(g, (uint64_t)idx, raw), GK_OK);
        int64_t n = (int64_t)t->n_elements, ne0 = t->ne[0];
        float *x = malloc(sizeof(float) * (size_t)n);
        if (t->type == KERN_TYPE_F16) {
            for (int64_t i = 0; i < n; i++)
                x[i] = kern_fp16_to_fp32((uint16_t)(raw[2 * i] | (raw[2 * i + 1] << 8)));
        } else {
            ck_assert_int_eq(t->type, KERN_TYPE_F32);
            memcpy(x, raw, sizeof(float) * (size_t)n);
        }
        size_t bytes = kern_row_bytes(ty, ne0) * (size_t)(n / ne0);
        uint8_t *q = malloc(bytes);
        ck_assert_uint_eq(kern_type_info(ty)->quantize_ref(x, q, n / ne0, ne0, NULL), bytes);
        ck_assert_msg(hash(q, bytes) == want, "%s %s: %016llx, llama-quantize %016llx", preset,
                      name, (unsigned long long)hash(q, bytes), want);
        checked++;
        free(q);
        free(x);
        free(raw);
    }
    fclose(f);
    fmt_gguf_close(g);
    fmt_input_close(in);
    return checked;
}

/* Quality floor on a real tensor: blk.0.attn_q.weight of the reference
 * model through every IQ type (unit imatrix where one is required), error
 * measured as ggml's test does. */
START_TEST(test_quality_ref_model) {
    char model[512];
    snprintf(model, sizeof model, "%s/fixtures/ref-llama-f16.gguf", shared_dir());
    gk_status st;
    char err[256];
    fmt_input *in = fmt_input_open(model, NULL, &st, err, sizeof err);
    if (!in) {
        ck_assert_msg(!ci(), "../shared not found and CI=true");
        printf("SKIP: ../shared not found\n");
        return;
    }
    fmt_gguf *g = fmt_gguf_open(in, &st);
    ck_assert_msg(g != NULL, "%s", fmt_gguf_open_errmsg());
    const char *name = "blk.0.attn_q.weight";
    const fmt_gguf_tensor *t = fmt_gguf_find_tensor(g, name);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->type, KERN_TYPE_F16);
    int64_t n = (int64_t)t->n_elements, ne0 = t->ne[0];
    uint8_t *raw = malloc(t->size);
    ck_assert_int_eq(fmt_gguf_read_tensor(g, (uint64_t)fmt_gguf_tensor_index(g, name), raw), GK_OK);
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
    float *im = malloc(sizeof(float) * (size_t)ne0);
    uint8_t *q = malloc((size_t)n * 2);
    for (int64_t i = 0; i < n; i++)
        x[i] = kern_fp16_to_fp32((uint16_t)(raw[2 * i] | (raw[2 * i + 1] << 8)));
    for (int64_t i = 0; i < ne0; i++)
        im[i] = 1.0f;
    for (size_t c = 0; c < sizeof quality_cases / sizeof quality_cases[0]; c++) {
        const kern_type_traits *tt = kern_type_info(quality_cases[c].type);
        size_t bytes = kern_row_bytes(quality_cases[c].type, ne0) * (size_t)(n / ne0);
        ck_assert_uint_eq(tt->quantize_ref(x, q, n / ne0, ne0, tt->needs_imatrix ? im : NULL),
                          bytes);
        tt->to_float_ref(q, y, n);
        double s2 = 0;
        for (int64_t i = 0; i < n; i++)
            s2 += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
        double e = sqrt(s2) / (double)n;
        printf("%-8s %s round-trip error %.3g (limit %.4f)\n",
               kern_type_label(quality_cases[c].type), name, e, quality_cases[c].max_err);
        ck_assert_double_le(e, quality_cases[c].max_err);
    }
    free(q);
    free(im);
    free(y);
    free(x);
    free(raw);
    fmt_gguf_close(g);
    fmt_input_close(in);
}
END_TEST

START_TEST(test_golden_llama_quantize) {
    static const char *presets[] = {"IQ4_NL", "IQ4_XS", "IQ3_S"};
    for (size_t p = 0; p < sizeof presets / sizeof presets[0]; p++) {
        int n = golden_file(presets[p]);
        if (n < 0) {
            ck_assert_msg(!ci(), "../shared not found and CI=true");
            printf("SKIP: ../shared not found\n");
            return;
        }
        printf("golden %s: %d tensors byte-identical\n", presets[p], n);
        ck_assert_int_gt(n, 0);
    }
}
END_TEST

static Suite *iquants_suite(void) {
    Suite *s = suite_create("iquants");
    const struct {
        const char *name;
        const TTest *test;
    } tests[] = {
        {"grids", test_grids_match_ggml},
        {"lattices", test_lattices},
        {"neighbour_lists", test_neighbour_lists_match_ggml},
        {"dequant_known_answers", test_dequant_known_answers},
        {"dequant_random_bytes", test_dequant_random_bytes},
        {"quant_known_answers", test_quant_known_answers},
        {"threads_first_use", test_threads_first_use},
        {"requires_imatrix", test_requires_imatrix},
        {"quality_synthetic", test_quality_synthetic},
        {"edge_rows", test_edge_rows},
        {"quality_ref_model", test_quality_ref_model},
        {"golden_llama_quantize", test_golden_llama_quantize},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        TCase *tc = tcase_create(tests[i].name);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, tests[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void) {
    return unit_run(iquants_suite());
}
