/*
 * bnb.c -- bitsandbytes NF4/FP4 (with nested absmax) and LLM.int8 weights
 * dequantized as a tensor-source transform (layout and formulas in bnb.h).
 */
#include "bnb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"

/* LLM.int8's 1/127, as bitsandbytes writes it (a Python float that torch
 * rounds to the tensor's f32). */
#define INT8_RECIP 7.874015718698502e-3f

typedef struct {
    int bits;              /* 4 or 8 */
    const uint8_t *q;      /* 4-bit: packed codes; 8-bit: int8 [out, in] */
    int64_t out, in;       /* the weight's shape */
    int out_type;          /* 4-bit: F32, F16 or BF16 (the state's dtype) */
    float code[16];        /* 4-bit code book (quant_map) */
    int64_t blocksize;     /* 4-bit values per absmax */
    const uint8_t *absmax; /* F32 [blocks], or U8 codes when nested */
    int nested;
    float nested_code[256]; /* nested_quant_map */
    float *nested_absmax;   /* [ceil(blocks / nested_blocksize)] */
    int64_t nested_blocksize;
    float nested_offset;
    float *scb; /* 8-bit: [out] */
} bnb_job;

struct fmt_bnb {
    fmt_src *view;
    bnb_job *jobs;
    size_t n_jobs;
};

typedef struct {
    fmt_src *src;
    const char *cfg_name, *key;
    char *err;
    size_t errcap;
} build_ctx;

#define fail(b, st, ...) (gk_msgf((b)->err, (b)->errcap, __VA_ARGS__), (st))

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

static float load_f32(const uint8_t *p) {
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                    */
/* ------------------------------------------------------------------------ */

static float block_absmax(const bnb_job *j, int64_t b) {
    if (!j->nested)
        return load_f32(j->absmax + 4 * (size_t)b);
    float v = j->nested_code[j->absmax[b]] * j->nested_absmax[b / j->nested_blocksize];
    return v + j->nested_offset;
}

static float to_type(int type, float v) {
    if (type == KERN_TYPE_F16)
        return kern_fp16_to_fp32(kern_fp32_to_fp16(v));
    if (type == KERN_TYPE_BF16)
        return kern_bf16_to_fp32(kern_fp32_to_bf16(v));
    return v;
}

static gk_status bnb4_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const bnb_job *j = t->ctx;
    for (int64_t o = r0; o < r0 + n; o++, dst += j->in) {
        int64_t last = -1;
        float s = 0;
        for (int64_t i = 0; i < j->in; i++) {
            int64_t k = o * j->in + i, b = k / j->blocksize;
            if (b != last) {
                s = block_absmax(j, b);
                last = b;
            }
            uint8_t byte = j->q[k / 2];
            dst[i] = to_type(j->out_type, j->code[k & 1 ? byte & 15 : byte >> 4] * s);
        }
    }
    return GK_OK;
}

static gk_status int8_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const bnb_job *j = t->ctx;
    for (int64_t o = r0; o < r0 + n; o++, dst += j->in) {
        const int8_t *row = (const int8_t *)(const void *)(j->q + (size_t)(o * j->in));
        for (int64_t i = 0; i < j->in; i++)
            dst[i] = (float)row[i] * j->scb[o] * INT8_RECIP;
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                   */
/* ------------------------------------------------------------------------ */

/* The part base + suffix, stored F32 with n values (n < 0: any), all finite,
 * into dst (n floats) when dst is not NULL. */
static const fmt_src_tensor *f32_part(const build_ctx *b, const char *file, const char *base,
                                      const char *suffix, int64_t n, float *dst, gk_status *st) {
    char name[1100];
    snprintf(name, sizeof name, "%s%s", base, suffix);
    const fmt_src_tensor *t = fmt_src_find(b->src, name);
    if (!t) {
        *st = fail(b, GK_E_FORMAT, "%s: tensor '%s': missing '%s'", file, base, name);
        return NULL;
    }
    if (t->type != KERN_TYPE_F32 || !t->data || (n >= 0 && t->n_elements != (uint64_t)n)) {
        *st = fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s and %llu values (want F32, %lld)",
                   t->file, name, t->dtype, (unsigned long long)t->n_elements, (long long)n);
        return NULL;
    }
    for (uint64_t k = 0; k < t->n_elements; k++) {
        float v = load_f32(t->data + 4 * k);
        if (!isfinite(v)) {
            *st = fail(b, GK_E_FORMAT, "%s: tensor '%s': value %llu is %s", t->file, name,
                       (unsigned long long)k, isnan(v) ? "NaN" : "infinite");
            return NULL;
        }
        if (dst)
            dst[k] = v;
    }
    return t;
}

static int dtype_type(const char *s) {
    return !s                       ? -1
           : !strcmp(s, "float32")  ? KERN_TYPE_F32
           : !strcmp(s, "float16")  ? KERN_TYPE_F16
           : !strcmp(s, "bfloat16") ? KERN_TYPE_BF16
                                    : -1;
}

/* The quant_state JSON's integer key, > 0. */
static gk_status state_int(const build_ctx *b, const fmt_src_tensor *qs, const json_t *o,
                           const char *key, int64_t *v) {
    const json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > (1ll << 40))
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': %s is missing or not a positive integer",
                    qs->file, qs->name, key);
    *v = json_integer_value(x);
    return GK_OK;
}

/* The state's JSON fields into j (shape, blocksize, dtype, nested keys). */
static gk_status parse_state(const build_ctx *b, const fmt_src_tensor *qs, const char *qtype,
                             bnb_job *j, json_t *o) {
    const json_t *qt = json_object_get(o, "quant_type"), *shape = json_object_get(o, "shape");
    gk_status st;
    if (!json_is_string(qt) || strcmp(json_string_value(qt), qtype))
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': quant_type is not '%s'", qs->file, qs->name,
                    qtype);
    if ((st = state_int(b, qs, o, "blocksize", &j->blocksize)) != GK_OK)
        return st;
    if ((j->out_type = dtype_type(json_string_value(json_object_get(o, "dtype")))) < 0)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': dtype is not float32, float16 or bfloat16",
                    qs->file, qs->name);
    if (!json_is_array(shape) || json_array_size(shape) != 2 ||
        !json_is_integer(json_array_get(shape, 0)) || !json_is_integer(json_array_get(shape, 1)) ||
        json_integer_value(json_array_get(shape, 0)) < 1 ||
        json_integer_value(json_array_get(shape, 1)) < 1 ||
        json_integer_value(json_array_get(shape, 0)) > (1ll << 31) ||
        json_integer_value(json_array_get(shape, 1)) > (1ll << 31))
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': shape is not [out, in]", qs->file, qs->name);
    j->out = json_integer_value(json_array_get(shape, 0));
    j->in = json_integer_value(json_array_get(shape, 1));
    j->nested = json_object_get(o, "nested_blocksize") != NULL;
    if (!j->nested)
        return GK_OK;
    const json_t *off = json_object_get(o, "nested_offset");
    if (!json_is_number(off) || !isfinite(json_number_value(off)))
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': nested_offset is not a finite number",
                    qs->file, qs->name);
    j->nested_offset = (float)json_number_value(off);
    if (json_object_get(o, "nested_dtype") &&
        dtype_type(json_string_value(json_object_get(o, "nested_dtype"))) != KERN_TYPE_F32)
        return fail(b, GK_E_UNSUPPORTED, "%s: tensor '%s': nested_dtype is not float32", qs->file,
                    qs->name);
    return state_int(b, qs, o, "nested_blocksize", &j->nested_blocksize);
}

/* A 4-bit weight from its quant_state tensor qs (base.quant_state.
 * bitsandbytes__QTYPE); *w is the weight record. */
static gk_status bnb4_init(const build_ctx *b, const fmt_src_tensor *qs, bnb_job *j,
                           const fmt_src_tensor **w) {
    const char *qtype = ends_with(qs->name, "__nf4") ? "nf4" : "fp4";
    char base[1024];
    snprintf(base, sizeof base, "%.*s", (int)(strlen(qs->name) - strlen(".quant_state.") - 17),
             qs->name);
    gk_status st = GK_OK;
    if (strcmp(qs->dtype, "U8") || !qs->data)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s (want U8 JSON bytes)", qs->file,
                    qs->name, qs->dtype);
    json_error_t je;
    json_t *o = json_loadb((const char *)qs->data, (size_t)qs->size, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o))
        st = fail(b, GK_E_FORMAT, "%s: tensor '%s' is not a JSON object: %s", qs->file, qs->name,
                  je.text);
    else
        st = parse_state(b, qs, qtype, j, o);
    json_decref(o);
    if (st != GK_OK)
        return st;
    j->bits = 4;
    uint64_t n = (uint64_t)j->out * (uint64_t)j->in;
    uint64_t blocks = (n + (uint64_t)j->blocksize - 1) / (uint64_t)j->blocksize;
    if (!(*w = fmt_src_find(b->src, base)))
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': missing '%s'", qs->file, qs->name, base);
    if (strcmp((*w)->dtype, "U8") || !(*w)->data || (*w)->size != (n + 1) / 2)
        return fail(b, GK_E_FORMAT,
                    "%s: tensor '%s' has dtype %s and %llu bytes (want U8, %llu for shape "
                    "[%lld, %lld])",
                    (*w)->file, base, (*w)->dtype, (unsigned long long)(*w)->size,
                    (unsigned long long)((n + 1) / 2), (long long)j->out, (long long)j->in);
    j->q = (*w)->data;
    if (!f32_part(b, qs->file, base, ".quant_map", 16, j->code, &st))
        return st;
    char absname[1100];
    snprintf(absname, sizeof absname, "%s.absmax", base);
    const fmt_src_tensor *ab = fmt_src_find(b->src, absname);
    if (!ab)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': missing '%s'", qs->file, base, absname);
    if (!j->nested) {
        if (!f32_part(b, qs->file, base, ".absmax", (int64_t)blocks, NULL, &st))
            return st;
        j->absmax = ab->data;
        return GK_OK;
    }
    if (strcmp(ab->dtype, "U8") || !ab->data || ab->size != blocks)
        return fail(b, GK_E_FORMAT,
                    "%s: tensor '%s' has dtype %s and %llu values (want U8 codes, %llu: nested)",
                    ab->file, absname, ab->dtype, (unsigned long long)ab->size,
                    (unsigned long long)blocks);
    j->absmax = ab->data;
    uint64_t nb = (blocks + (uint64_t)j->nested_blocksize - 1) / (uint64_t)j->nested_blocksize;
    if (!(j->nested_absmax = malloc((nb ? nb : 1) * sizeof(float))))
        return fail(b, GK_E_NOMEM, "out of memory");
    if (!f32_part(b, qs->file, base, ".nested_absmax", (int64_t)nb, j->nested_absmax, &st) ||
        !f32_part(b, qs->file, base, ".nested_quant_map", 256, j->nested_code, &st))
        return st;
    return GK_OK;
}

/* An LLM.int8 weight from its X.SCB; *w is X.weight. */
static gk_status int8_init(const build_ctx *b, const fmt_src_tensor *scb, bnb_job *j,
                           const fmt_src_tensor **w) {
    char base[1024], wname[1040];
    gk_status st = GK_OK;
    snprintf(base, sizeof base, "%.*s", (int)(strlen(scb->name) - 4), scb->name);
    snprintf(wname, sizeof wname, "%s.weight", base);
    if (!(*w = fmt_src_find(b->src, wname)))
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': missing '%s'", scb->file, scb->name, wname);
    if ((*w)->type != KERN_TYPE_I8 || (*w)->n_dims != 2 || !(*w)->data)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s (want I8 [out, in])", (*w)->file,
                    wname, (*w)->dtype);
    j->bits = 8;
    j->out = (*w)->shape[0];
    j->in = (*w)->shape[1];
    j->q = (*w)->data;
    if (!(j->scb = malloc((size_t)(j->out ? j->out : 1) * sizeof(float))))
        return fail(b, GK_E_NOMEM, "out of memory");
    f32_part(b, scb->file, base, ".SCB", j->out, j->scb, &st);
    char fname[1040];
    snprintf(fname, sizeof fname, "%s.weight_format", base);
    const fmt_src_tensor *wf = fmt_src_find(b->src, fname);
    if (st == GK_OK && wf && (wf->size != 1 || !wf->data || wf->data[0] != 0))
        st = fail(b, GK_E_UNSUPPORTED,
                  "%s: tensor '%s': only the 'row' weight format (0) is "
                  "supported",
                  wf->file, fname);
    return st;
}

static int is_state(const char *name) {
    return ends_with(name, ".quant_state.bitsandbytes__nf4") ||
           ends_with(name, ".quant_state.bitsandbytes__fp4");
}

/* A part that leaves the set once its weight is built. */
static int is_part(const fmt_src *src, const char *name) {
    static const char *const four[] = {".absmax", ".quant_map", ".nested_absmax",
                                       ".nested_quant_map"};
    char base[1100];
    if (is_state(name) || ends_with(name, ".SCB"))
        return 1;
    if (ends_with(name, ".weight_format")) {
        snprintf(base, sizeof base, "%.*s.SCB", (int)(strlen(name) - 14), name);
        return fmt_src_find(src, base) != NULL;
    }
    for (size_t k = 0; k < 4; k++)
        if (ends_with(name, four[k])) {
            snprintf(base, sizeof base, "%.*s.quant_state.bitsandbytes__nf4",
                     (int)(strlen(name) - strlen(four[k])), name);
            if (fmt_src_find(src, base))
                return 1;
            memcpy(base + strlen(base) - 3, "fp4", 3);
            return fmt_src_find(src, base) != NULL;
        }
    return 0;
}

static gk_status build(const build_ctx *b, fmt_bnb *d) {
    uint64_t n = fmt_src_n_tensors(b->src);
    size_t nj = 0;
    gk_status st = GK_OK;
    for (uint64_t i = 0; i < n; i++) {
        const char *nm = fmt_src_tensor_at(b->src, i)->name;
        nj += is_state(nm) || ends_with(nm, ".SCB");
    }
    d->jobs = calloc(nj ? nj : 1, sizeof *d->jobs);
    fmt_src_tensor *rec = calloc(n ? n : 1, sizeof *rec);
    const fmt_src_tensor **w_of = calloc(nj ? nj : 1, sizeof *w_of);
    if (!d->jobs || !rec || !w_of)
        st = fail(b, GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; st == GK_OK && i < n; i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(b->src, i);
        if (is_state(t->name))
            st = bnb4_init(b, t, &d->jobs[d->n_jobs], &w_of[d->n_jobs]);
        else if (ends_with(t->name, ".SCB"))
            st = int8_init(b, t, &d->jobs[d->n_jobs], &w_of[d->n_jobs]);
        else
            continue;
        d->n_jobs++; /* counted even when failed: close frees its arrays */
    }
    size_t nr = 0;
    for (uint64_t i = 0; st == GK_OK && i < n; i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(b->src, i);
        size_t k = 0;
        while (k < d->n_jobs && w_of[k] != t)
            k++;
        if (k < d->n_jobs) {
            bnb_job *j = &d->jobs[k];
            rec[nr] = (fmt_src_tensor){.name = t->name,
                                       .type = KERN_TYPE_F32,
                                       .dtype = "F32",
                                       .n_dims = 2,
                                       .shape = {j->out, j->in},
                                       .n_elements = (uint64_t)j->out * (uint64_t)j->in,
                                       .file = t->file,
                                       .read = j->bits == 4 ? bnb4_read : int8_read,
                                       .ctx = j};
            rec[nr].size = rec[nr].n_elements * 4;
            nr++;
        } else if (!is_part(b->src, t->name)) {
            if (ends_with(t->name, ".absmax") || ends_with(t->name, ".quant_map"))
                st = fail(b, GK_E_FORMAT,
                          "%s: tensor '%s': missing its weight's quant_state "
                          "('%.*s.quant_state.bitsandbytes__nf4' or __fp4)",
                          t->file, t->name, (int)(strrchr(t->name, '.') - t->name), t->name);
            rec[nr++] = *t;
        }
    }
    if (st == GK_OK && !(d->view = fmt_src_create(rec, nr, &st)))
        gk_msgf(b->err, b->errcap, "%s", fmt_src_open_errmsg());
    free(rec);
    free(w_of);
    return st;
}

fmt_bnb *fmt_bnb_open(fmt_src *inner, const json_t *qcfg, const char *cfg_name, const char *key,
                      gk_status *st, char *err, size_t errcap) {
    build_ctx b = {.src = inner, .cfg_name = cfg_name, .key = key, .err = err, .errcap = errcap};
    (void)qcfg; /* each weight's parts say how it is stored: the config's
                 * bnb_4bit_* keys describe the load, not the file */
    fmt_bnb *d = calloc(1, sizeof *d);
    *st = d ? build(&b, d) : fail(&b, GK_E_NOMEM, "out of memory");
    if (*st != GK_OK) {
        fmt_bnb_close(d);
        return NULL;
    }
    return d;
}

size_t fmt_bnb_count(const fmt_bnb *b) {
    return b->n_jobs;
}

fmt_src *fmt_bnb_source(const fmt_bnb *b) {
    return b->view;
}

void fmt_bnb_close(fmt_bnb *b) {
    if (!b)
        return;
    fmt_src_close(b->view);
    for (size_t k = 0; b->jobs && k < b->n_jobs; k++) {
        free(b->jobs[k].nested_absmax);
        free(b->jobs[k].scb);
    }
    free(b->jobs);
    free(b);
}
