/*
 * golden_test.c -- every line of ../shared/golden/llama-quantize/<PRESET>.tsv
 * ("name  TYPE  ne0xne1  xxh64") names a tensor of
 * ../shared/fixtures/ref-llama-f16.gguf and the type llama-quantize (c392e50)
 * gave it; quantizing that tensor (widened exactly to f32) with the type
 * table's quantize_ref, without an imatrix, must give bytes whose XXH64
 * (seed 0) is the listed one.
 *
 * Table-driven: a type whose quantize_ref is still NULL is counted as "not
 * yet" and reported, not failed. Per-preset counts are printed.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "formats/gguf.h"
#include "formats/io.h"
#include "kernels/kernels.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Locating the shared data                                                   */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* Quantizing one tensor, with a cache across presets                         */
/* ------------------------------------------------------------------------ */

/* The same (tensor, type) pair recurs in many presets (output.weight is
 * Q6_K in most); each is quantized once. */
typedef struct {
    char name[128];
    int type;
    uint64_t hash;
} cached_hash;

typedef struct {
    fmt_input *in;
    fmt_gguf *g;
    cached_hash *cache;
    size_t n_cache, cap_cache;
    double worst[KERN_TYPE_COUNT]; /* largest round-trip error per type */
} golden_ctx;

/* ggml's quality floor (tests/test-quantize-fns.cpp): the round-trip error
 * sqrt(sum (x - y)^2) / n of a type must stay under its threshold. */
static double error_threshold(int type) {
    switch (type) {
    case KERN_TYPE_Q2_K:
    case KERN_TYPE_IQ2_S: return 0.0075;
    case KERN_TYPE_Q3_K:
    case KERN_TYPE_IQ3_S: return 0.0040;
    case KERN_TYPE_IQ3_XXS: return 0.0050;
    case KERN_TYPE_TQ1_0:
    case KERN_TYPE_TQ2_0: return 0.0100;
    case KERN_TYPE_MXFP4: return 0.0030;
    default: return 0.0020;
    }
}

/* Round trip of x through the quantized bytes q: ggml's error measure. */
static double round_trip_error(const float *x, const uint8_t *q, int type, int64_t n) {
    float *y = malloc((size_t)n * sizeof *y);
    ck_assert_ptr_nonnull(y);
    kern_type_info(type)->to_float_ref(q, y, n);
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
    free(y);
    return sqrt(sum) / (double)n;
}

static const uint64_t *cache_find(const golden_ctx *c, const char *name, int type) {
    for (size_t i = 0; i < c->n_cache; i++)
        if (c->cache[i].type == type && strcmp(c->cache[i].name, name) == 0)
            return &c->cache[i].hash;
    return NULL;
}

static void cache_add(golden_ctx *c, const char *name, int type, uint64_t hash) {
    if (c->n_cache == c->cap_cache) {
        c->cap_cache = c->cap_cache ? 2 * c->cap_cache : 64;
        c->cache = realloc(c->cache, c->cap_cache * sizeof *c->cache);
        ck_assert_ptr_nonnull(c->cache);
    }
    cached_hash *e = &c->cache[c->n_cache++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->type = type;
    e->hash = hash;
}

/* Tensor `name` as f32 (F16/BF16 widened exactly, F32 as is). */
static float *read_f32(golden_ctx *c, const char *name, const char *shape, int64_t *ne0,
                       int64_t *nrows) {
    int64_t idx = fmt_gguf_tensor_index(c->g, name);
    ck_assert_msg(idx >= 0, "tensor %s not in the reference model", name);
    const fmt_gguf_tensor *t = fmt_gguf_tensor_at(c->g, (uint64_t)idx);
    char want[64];
    if (t->ne[1] > 1)
        snprintf(want, sizeof want, "%lldx%lld", (long long)t->ne[0], (long long)t->ne[1]);
    else
        snprintf(want, sizeof want, "%lld", (long long)t->ne[0]);
    ck_assert_msg(strcmp(want, shape) == 0, "%s: shape %s in model, %s in tsv", name, want, shape);

    uint8_t *raw = malloc(t->size ? t->size : 1);
    float *x = malloc(t->n_elements * sizeof *x);
    ck_assert(raw && x);
    ck_assert_int_eq(fmt_gguf_read_tensor(c->g, (uint64_t)idx, raw), GK_OK);
    uint64_t n = t->n_elements;
    switch (t->type) {
    case KERN_TYPE_F32: memcpy(x, raw, n * sizeof *x); break;
    case KERN_TYPE_F16:
    case KERN_TYPE_BF16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h = (uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
            x[i] = t->type == KERN_TYPE_F16 ? kern_fp16_to_fp32(h) : kern_bf16_to_fp32(h);
        }
        break;
    default: ck_abort_msg("%s: unexpected input type %s", name, kern_type_label(t->type));
    }
    free(raw);
    *ne0 = t->ne[0];
    *nrows = (int64_t)(n / (uint64_t)t->ne[0]);
    return x;
}

static uint64_t quantized_hash(golden_ctx *c, const char *name, const char *shape, int type) {
    const uint64_t *hit = cache_find(c, name, type);
    if (hit)
        return *hit;
    int64_t ne0, nrows;
    float *x = read_f32(c, name, shape, &ne0, &nrows);
    size_t row = kern_row_bytes(type, ne0);
    ck_assert_msg(row > 0, "%s: row of %lld does not fit %s", name, (long long)ne0,
                  kern_type_label(type));
    uint8_t *q = malloc(row * (size_t)nrows);
    ck_assert_ptr_nonnull(q);
    size_t got = kern_type_info(type)->quantize_ref(x, q, nrows, ne0, NULL);
    ck_assert_uint_eq(got, row * (size_t)nrows);
    uint64_t h = XXH64(q, got, 0);
    double e = round_trip_error(x, q, type, ne0 * nrows);
    if (e > c->worst[type])
        c->worst[type] = e;
    free(q);
    free(x);
    cache_add(c, name, type, h);
    return h;
}

/* ------------------------------------------------------------------------ */
/* One preset file                                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
    int lines, pass, fail, not_yet;
} preset_count;

static void check_preset(golden_ctx *c, const char *path, preset_count *pc) {
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char name[128], tname[32], shape[64];
        unsigned long long want;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        ck_assert_msg(sscanf(line, "%127s %31s %63s %llx", name, tname, shape, &want) == 4,
                      "%s: malformed line: %s", path, line);
        pc->lines++;
        int type = kern_type_from_name(tname);
        const kern_type_traits *tt = kern_type_info(type);
        if (!tt || !tt->quantize_ref) {
            pc->not_yet++;
            continue;
        }
        uint64_t h = quantized_hash(c, name, shape, type);
        if (h == (uint64_t)want) {
            pc->pass++;
        } else {
            pc->fail++;
            printf("  MISMATCH %s %s: got %016llx want %016llx\n", name, tname,
                   (unsigned long long)h, want);
        }
    }
    fclose(f);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

START_TEST(test_llama_quantize_golden) {
    if (!unit_have_shared("golden/llama-quantize"))
        return;
    char path[2048], dir[1024];
    snprintf(path, sizeof path, "%s/fixtures/ref-llama-f16.gguf", unit_shared_dir());
    snprintf(dir, sizeof dir, "%s/golden/llama-quantize", unit_shared_dir());

    golden_ctx c = {0};
    gk_status st;
    char err[256] = "";
    c.in = fmt_input_open(path, NULL, &st, err, sizeof err);
    ck_assert_msg(c.in != NULL, "%s: %s", path, err);
    c.g = fmt_gguf_open(c.in, &st);
    ck_assert_msg(c.g != NULL, "%s: %s", path, fmt_gguf_open_errmsg());

    /* Presets in name order, so the report is stable. */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char *names[128];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 128) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".tsv") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    ck_assert_uint_gt(n, 0);
    qsort(names, n, sizeof names[0], cmp_str);

    preset_count total = {0};
    for (size_t i = 0; i < n; i++) {
        preset_count pc = {0};
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        check_preset(&c, path, &pc);
        printf("golden %-10.*s %3d/%3d lines match, %d mismatch, %d not yet\n",
               (int)(strlen(names[i]) - 4), names[i], pc.pass, pc.lines, pc.fail, pc.not_yet);
        total.lines += pc.lines;
        total.pass += pc.pass;
        total.fail += pc.fail;
        total.not_yet += pc.not_yet;
        free(names[i]);
    }
    printf("golden total %d/%d lines match, %d mismatch, %d not yet (types without quantize_ref)\n",
           total.pass, total.lines, total.fail, total.not_yet);
    int over = 0;
    for (int t = 0; t < KERN_TYPE_COUNT; t++) {
        if (c.worst[t] == 0.0)
            continue;
        int bad = c.worst[t] > error_threshold(t);
        printf("quality %-7s worst tensor round-trip error %.3g (limit %.4f)%s\n",
               kern_type_label(t), c.worst[t], error_threshold(t), bad ? "  OVER" : "");
        over += bad;
    }
    fflush(stdout);
    ck_assert_msg(over == 0, "%d types exceed ggml's round-trip error threshold", over);

    free(c.cache);
    fmt_gguf_close(c.g);
    fmt_input_close(c.in);
    ck_assert_msg(total.fail == 0, "%d golden lines differ from llama-quantize", total.fail);
    ck_assert_int_gt(total.pass, 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("llama-quantize");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_llama_quantize_golden);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
