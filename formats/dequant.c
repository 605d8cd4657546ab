/*
 * dequant.c -- FP8 and GPTQ checkpoints dequantized as a tensor-source
 * transform, with convert_hf_to_gguf.py's (ec562eb) arithmetic: the f32
 * product of one decoded code (or code difference) and one f32 scale, so
 * that every output value is bit-identical to torch's.
 */
#include "dequant.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "io.h"

typedef enum { DQ_NONE, DQ_FP8, DQ_GPTQ } dq_method;

/* FP8: weight w, its scale expanded to w's shape by scale index =
 * index / blk[d] (blk[d] == 0: the scale's dim is 1, broadcast). */
typedef struct {
    const fmt_src_tensor *w;
    float *scale; /* the scale tensor as f32, checked finite */
    int64_t blk[FMT_SRC_MAX_DIMS];
    int64_t sstride[FMT_SRC_MAX_DIMS]; /* element strides of the scale */
} fp8_job;

typedef struct {
    const uint8_t *qw, *qz, *sc;
    int sc_type;
    int bits, v1;
    int64_t in, out, groups;
    int32_t *g_idx; /* [in], checked: 0 <= g < groups */
    char *name;     /* BASE.weight */
} gptq_job;

struct fmt_dq {
    fmt_src *view; /* NULL: inner passes through */
    fmt_src *inner;
    fp8_job *fp8;
    gptq_job *gptq;
    size_t n_fp8, n_gptq;
};

typedef struct {
    fmt_src *src;
    const char *cfg_name;
    dq_method method;
    const char *scale_match; /* FP8 scales: names ending so ("_scale_inv", ".weight_scale") */
    const char *scale_strip; /* what leaves the name to give the weight's */
    int64_t block[FMT_SRC_MAX_DIMS]; /* FP8 block sizes, n_block of them */
    size_t n_block;
    int bits, v1;
    int64_t group_size; /* GPTQ, for a missing g_idx; -1: one group */
    char *err;
    size_t errcap;
} dq_build;

static gk_status fail(const dq_build *b, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gk_status fail(const dq_build *b, gk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, b->errcap, fmt, ap);
    va_end(ap);
    return st;
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

static int is_fp8_dtype(const fmt_src_tensor *t) {
    return !strcmp(t->dtype, "F8_E4M3") || !strcmp(t->dtype, "F8_E5M2");
}

static int is_float_type(int type) {
    return type == KERN_TYPE_F32 || type == KERN_TYPE_F16 || type == KERN_TYPE_BF16;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                    */
/* ------------------------------------------------------------------------ */

static gk_status fp8_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const fp8_job *j = t->ctx;
    const fmt_src_tensor *w = j->w;
    int64_t len = fmt_src_row_len(w);
    uint32_t last = w->n_dims - 1;
    for (int64_t r = r0; r < r0 + n; r++, dst += len) {
        int64_t off = 0, rest = r; /* the scale offset of the row's leading indices */
        for (uint32_t d = last; d-- > 0;) {
            int64_t idx = rest % w->shape[d];
            rest /= w->shape[d];
            off += (j->blk[d] ? idx / j->blk[d] : 0) * j->sstride[d];
        }
        const uint8_t *q = w->data + (size_t)(r * len);
        if (!strcmp(w->dtype, "F8_E4M3")) {
            for (int64_t c = 0; c < len; c++)
                dst[c] = kern_fp8_e4m3_to_fp32(q[c]);
        } else if (!strcmp(w->dtype, "F8_E5M2")) {
            for (int64_t c = 0; c < len; c++)
                dst[c] = kern_fp8_e5m2_to_fp32(q[c]);
        } else if (fmt_src_read_rows(w, r, 1, dst) != GK_OK) {
            return GK_E_UNSUPPORTED;
        }
        const float *s = j->scale + off;
        int64_t b = j->blk[last];
        for (int64_t c = 0; c < len; c++)
            dst[c] = dst[c] * s[b ? c / b : 0];
    }
    return GK_OK;
}

static uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Row o of the dequantized GPTQ weight [out, in]: column o of the packs. */
static gk_status gptq_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const gptq_job *j = t->ctx;
    int pf = 32 / j->bits;
    uint32_t maxq = (1u << j->bits) - 1;
    size_t es = kern_row_bytes(j->sc_type, 1);
    for (int64_t o = r0; o < r0 + n; o++, dst += j->in) {
        int zshift = (int)(o % pf) * j->bits;
        for (int64_t i = 0; i < j->in; i++) {
            int64_t g = j->g_idx[i];
            uint32_t qw = load_u32(j->qw + 4 * (size_t)((i / pf) * j->out + o));
            uint32_t qz = load_u32(j->qz + 4 * (size_t)(g * (j->out / pf) + o / pf));
            int q = (int)((qw >> ((i % pf) * j->bits)) & maxq);
            int z = (int)((qz >> zshift) & maxq) + j->v1;
            float s;
            kern_row_to_f32(j->sc_type, j->sc + es * (size_t)(g * j->out + o), &s, 1);
            dst[i] = s * (float)(q - z);
        }
    }
    return GK_OK;
}

int fmt_dq_appended(const fmt_src_tensor *t) {
    return t->read == gptq_read;
}

/* ------------------------------------------------------------------------ */
/* The configuration                                                          */
/* ------------------------------------------------------------------------ */

static gk_status parse_block(dq_build *b, const json_t *bs, const char *key) {
    if (!bs || json_is_null(bs))
        return GK_OK;
    size_t i;
    const json_t *v;
    if (!json_is_array(bs) || json_array_size(bs) == 0 || json_array_size(bs) > FMT_SRC_MAX_DIMS)
        return fail(b, GK_E_FORMAT, "%s: %s is not a list of block sizes", b->cfg_name, key);
    json_array_foreach(bs, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 1 << 20)
            return fail(b, GK_E_FORMAT, "%s: %s[%zu] is not a positive block size", b->cfg_name,
                        key, i);
        b->block[i] = json_integer_value(v);
    }
    b->n_block = json_array_size(bs);
    return GK_OK;
}

static gk_status parse_gptq(dq_build *b, const json_t *q) {
    const json_t *bits = json_object_get(q, "bits"), *fmt = json_object_get(q, "checkpoint_format");
    const json_t *gs = json_object_get(q, "group_size");
    if (!json_is_integer(bits))
        return fail(b, GK_E_FORMAT, "%s: quantization_config.bits is missing (gptq)", b->cfg_name);
    b->bits = (int)json_integer_value(bits);
    if (b->bits == 3)
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: quantization_config.bits is 3: 3-bit GPTQ is not supported "
                    "(convert_hf_to_gguf.py does not dequantize it either)",
                    b->cfg_name);
    if (b->bits != 2 && b->bits != 4 && b->bits != 8)
        return fail(b, GK_E_FORMAT,
                    "%s: quantization_config.bits is %lld (gptq takes 2, 3, 4 or 8)", b->cfg_name,
                    (long long)json_integer_value(bits));
    const char *f = json_is_string(fmt) ? json_string_value(fmt) : "gptq";
    if (fmt && !json_is_string(fmt))
        return fail(b, GK_E_FORMAT, "%s: quantization_config.checkpoint_format is not a string",
                    b->cfg_name);
    if (strcmp(f, "gptq") && strcmp(f, "gptq_v2"))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: quantization_config.checkpoint_format '%s' is not supported (gptq, "
                    "gptq_v2)",
                    b->cfg_name, f);
    b->v1 = !strcmp(f, "gptq");
    b->group_size = json_is_integer(gs) ? json_integer_value(gs) : -1;
    return GK_OK;
}

/* compressed-tensors: one config group whose weights are float or int
 * codes with a channel or block scale (X.weight_scale). */
static gk_status parse_compressed(dq_build *b, const json_t *q) {
    const json_t *fmt = json_object_get(q, "format"), *groups = json_object_get(q, "config_groups");
    const char *f = json_is_string(fmt) ? json_string_value(fmt) : "";
    if (strcmp(f, "float-quantized") && strcmp(f, "int-quantized") && strcmp(f, "naive-quantized"))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: quantization_config.format '%s' of compressed-tensors is not supported "
                    "(float-quantized, int-quantized, naive-quantized)",
                    b->cfg_name, f);
    if (!json_is_object(groups) || json_object_size(groups) != 1)
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: quantization_config.config_groups: need exactly one group", b->cfg_name);
    const json_t *w =
        json_object_get(json_object_iter_value(json_object_iter((json_t *)groups)), "weights");
    const json_t *strat = json_object_get(w, "strategy");
    const char *s = json_is_string(strat) ? json_string_value(strat) : "";
    if (strcmp(s, "channel") && strcmp(s, "block"))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: quantization_config.config_groups weights.strategy '%s' is not supported "
                    "(channel, block)",
                    b->cfg_name, s);
    b->scale_match = ".weight_scale";
    b->scale_strip = "_scale";
    return parse_block(b, json_object_get(w, "block_structure"), "weights.block_structure");
}

static gk_status parse_config(dq_build *b, const json_t *q) {
    b->method = DQ_NONE;
    if (!json_is_object(q))
        return GK_OK; /* upstream only reads a dict */
    const json_t *m = json_object_get(q, "quant_method");
    if (!m || json_is_null(m))
        return GK_OK;
    const char *name = json_is_string(m) ? json_string_value(m) : "?";
    if (!strcmp(name, "fp8")) {
        b->method = DQ_FP8;
        b->scale_match = b->scale_strip = "_scale_inv";
        return parse_block(b, json_object_get(q, "weight_block_size"), "weight_block_size");
    }
    if (!strcmp(name, "gptq")) {
        b->method = DQ_GPTQ;
        return parse_gptq(b, q);
    }
    if (!strcmp(name, "compressed-tensors")) {
        b->method = DQ_FP8;
        return parse_compressed(b, q);
    }
    if (!strcmp(name, "mxfp4"))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: quantization_config.quant_method 'mxfp4': MXFP4 (gpt-oss) experts are not "
                    "supported yet",
                    b->cfg_name);
    return fail(b, GK_E_UNSUPPORTED,
                "%s: quantization_config.quant_method '%s' is not supported (fp8, gptq, "
                "compressed-tensors)",
                b->cfg_name, name);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                     */
/* ------------------------------------------------------------------------ */

/* Tensors that belong to another method than the config's (or to any
 * method when there is no config). */
static gk_status check_method(const dq_build *b) {
    static const char *const names[] = {"no quantization_config", "quant_method fp8",
                                        "quant_method gptq"};
    for (uint64_t i = 0; i < fmt_src_n_tensors(b->src); i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(b->src, i);
        int fp8 = is_fp8_dtype(t) || ends_with(t->name, "_scale_inv");
        int gptq = ends_with(t->name, ".qweight");
        if ((fp8 && b->method != DQ_FP8) || (gptq && b->method != DQ_GPTQ))
            return fail(b, GK_E_FORMAT, "%s: tensor '%s' is %s but %s has %s", t->file, t->name,
                        gptq ? "GPTQ-packed" : "FP8-quantized", b->cfg_name, names[b->method]);
    }
    return GK_OK;
}

/* The tensor name + suffix, or an error naming the key it lacks. */
static const fmt_src_tensor *find_part(const dq_build *b, const fmt_src_tensor *of,
                                       const char *base, const char *suffix, gk_status *st) {
    char name[1024];
    snprintf(name, sizeof name, "%s%s", base, suffix);
    const fmt_src_tensor *t = fmt_src_find(b->src, name);
    if (!t)
        *st = fail(b, GK_E_FORMAT, "%s: tensor '%s': missing '%s'", of->file, of->name, name);
    else if (!t->data)
        *st = fail(b, GK_E_UNSUPPORTED, "%s: tensor '%s' is not stored plainly", t->file, name);
    return t;
}

static gk_status check_dims(const dq_build *b, const fmt_src_tensor *t, uint32_t nd, int64_t d0,
                            int64_t d1, const char *want) {
    if (t->n_dims == nd && t->shape[0] == d0 && (nd < 2 || t->shape[1] == d1))
        return GK_OK;
    return fail(b, GK_E_FORMAT, "%s: tensor '%s' has the wrong shape (want %s)", t->file, t->name,
                want);
}

/* The whole tensor as f32 (malloc'd), every value finite. */
static float *read_finite(const dq_build *b, const fmt_src_tensor *t, gk_status *st) {
    if (!is_float_type(t->type)) {
        *st = fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s (a scale must be F32/F16/BF16)",
                   t->file, t->name, t->dtype);
        return NULL;
    }
    int64_t len = fmt_src_row_len(t), rows = len ? (int64_t)(t->n_elements / (uint64_t)len) : 0;
    float *v = malloc((t->n_elements ? t->n_elements : 1) * sizeof *v);
    if (!v) {
        *st = fail(b, GK_E_NOMEM, "out of memory");
        return NULL;
    }
    if (rows)
        fmt_src_read_rows(t, 0, rows, v);
    for (uint64_t k = 0; k < t->n_elements; k++)
        if (!isfinite(v[k])) {
            *st = fail(b, GK_E_FORMAT, "%s: tensor '%s': scale %llu is %s", t->file, t->name,
                       (unsigned long long)k, isnan(v[k]) ? "NaN" : "infinite");
            free(v);
            return NULL;
        }
    return v;
}

/* ------------------------------------------------------------------------ */
/* FP8                                                                        */
/* ------------------------------------------------------------------------ */

/* How scale s maps onto weight w (dequant_simple): block sizes on s's last
 * dims, else s right-padded with 1s and broadcast. */
static gk_status fp8_layout(const dq_build *b, const fmt_src_tensor *w, const fmt_src_tensor *s,
                            fp8_job *j) {
    uint32_t nd = w->n_dims;
    int64_t sdim[FMT_SRC_MAX_DIMS];
    int ok = nd >= 1 && s->n_dims <= nd && (!b->n_block || (s->n_dims == nd && b->n_block <= nd));
    for (uint32_t d = 0; ok && d < nd; d++) {
        sdim[d] = d < s->n_dims ? s->shape[d] : 1;
        size_t k = d + b->n_block; /* block index of dim d is d - (nd - n_block) */
        if (b->n_block && k >= nd) {
            int64_t bs = b->block[k - nd];
            ok = sdim[d] == (w->shape[d] + bs - 1) / bs;
            j->blk[d] = bs;
        } else {
            ok = sdim[d] == w->shape[d] || sdim[d] == 1;
            j->blk[d] = sdim[d] == 1 && w->shape[d] != 1 ? 0 : 1;
        }
    }
    if (!ok)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has the wrong shape for weight '%s'", s->file,
                    s->name, w->name);
    int64_t stride = 1;
    for (uint32_t d = nd; d-- > 0;) {
        j->sstride[d] = stride;
        stride *= sdim[d];
    }
    return GK_OK;
}

static gk_status fp8_job_init(const dq_build *b, const fmt_src_tensor *s, fp8_job *j) {
    char base[1024];
    gk_status st = GK_OK;
    snprintf(base, sizeof base, "%.*s", (int)(strlen(s->name) - strlen(b->scale_strip)), s->name);
    const fmt_src_tensor *w = fmt_src_find(b->src, base);
    if (!w)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': missing its weight '%s'", s->file, s->name,
                    base);
    if (!w->data || !(is_fp8_dtype(w) || is_float_type(w->type) || w->type == KERN_TYPE_I8))
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s (want F8_E4M3/F8_E5M2)", w->file,
                    w->name, w->dtype);
    j->w = w;
    if ((st = fp8_layout(b, w, s, j)) != GK_OK)
        return st;
    j->scale = read_finite(b, s, &st);
    return st;
}

static int is_fp8_scale(const dq_build *b, const char *name) {
    return b->method == DQ_FP8 && ends_with(name, b->scale_match);
}

/* FP8 tensors upstream drops unused (activation scales). */
static int is_fp8_unused(const dq_build *b, const char *name) {
    return b->method == DQ_FP8 &&
           (ends_with(name, ".activation_scale") || ends_with(name, "_activation_scale") ||
            ends_with(name, ".qscale_act"));
}

/* ------------------------------------------------------------------------ */
/* GPTQ                                                                       */
/* ------------------------------------------------------------------------ */

static int64_t load_index(const fmt_src_tensor *t, int64_t i) {
    if (t->type == KERN_TYPE_I32)
        return (int32_t)load_u32(t->data + 4 * i);
    return (int64_t)((uint64_t)load_u32(t->data + 8 * i) | (uint64_t)load_u32(t->data + 8 * i + 4)
                                                               << 32);
}

/* g_idx as int32, checked against the group count; or, when the checkpoint
 * has none, i / group_size. */
static gk_status gptq_gidx(const dq_build *b, const fmt_src_tensor *qw, const fmt_src_tensor *gi,
                           gptq_job *j) {
    if (!(j->g_idx = malloc((size_t)j->in * sizeof *j->g_idx)))
        return fail(b, GK_E_NOMEM, "out of memory");
    if (!gi) {
        int64_t gs = b->group_size > 0 ? b->group_size : j->in;
        if ((j->in + gs - 1) / gs > j->groups)
            return fail(b, GK_E_FORMAT,
                        "%s: tensor '%s': %lld groups of %lld do not cover %lld inputs (no g_idx)",
                        qw->file, qw->name, (long long)j->groups, (long long)gs, (long long)j->in);
        for (int64_t i = 0; i < j->in; i++)
            j->g_idx[i] = (int32_t)(i / gs);
        return GK_OK;
    }
    if (gi->type != KERN_TYPE_I32 && gi->type != KERN_TYPE_I64)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s (want I32)", gi->file, gi->name,
                    gi->dtype);
    gk_status st = check_dims(b, gi, 1, j->in, 0, "[in]");
    for (int64_t i = 0; st == GK_OK && i < j->in; i++) {
        int64_t v = load_index(gi, i);
        if (v < 0 || v >= j->groups)
            return fail(b, GK_E_FORMAT,
                        "%s: tensor '%s': g_idx[%lld] is %lld, not a group (0..%lld)", gi->file,
                        gi->name, (long long)i, (long long)v, (long long)j->groups - 1);
        j->g_idx[i] = (int32_t)v;
    }
    return st;
}

static gk_status gptq_job_init(const dq_build *b, const fmt_src_tensor *qw, gptq_job *j) {
    char base[1024];
    gk_status st = GK_OK;
    int pf = 32 / b->bits;
    snprintf(base, sizeof base, "%.*s", (int)(strlen(qw->name) - strlen(".qweight")), qw->name);
    const fmt_src_tensor *qz = find_part(b, qw, base, ".qzeros", &st);
    const fmt_src_tensor *sc = qz ? find_part(b, qw, base, ".scales", &st) : NULL;
    char gname[1040];
    snprintf(gname, sizeof gname, "%s.g_idx", base);
    const fmt_src_tensor *gi = fmt_src_find(b->src, gname);
    if (st != GK_OK)
        return st;
    if (gi && !gi->data)
        return fail(b, GK_E_UNSUPPORTED, "%s: tensor '%s' is not stored plainly", gi->file,
                    gi->name);
    if (qw->type != KERN_TYPE_I32 || qz->type != KERN_TYPE_I32 || !qw->data)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s (qweight and qzeros must be I32)",
                    qw->file, qw->type != KERN_TYPE_I32 ? qw->name : qz->name,
                    qw->type != KERN_TYPE_I32 ? qw->dtype : qz->dtype);
    if (qw->n_dims != 2 || sc->n_dims != 2 || sc->shape[0] < 1)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has the wrong shape (want 2 dimensions)",
                    qw->file, qw->n_dims != 2 ? qw->name : sc->name);
    j->in = qw->shape[0] * pf;
    j->out = qw->shape[1];
    j->groups = sc->shape[0];
    if ((st = check_dims(b, sc, 2, j->groups, j->out, "[groups, out]")) != GK_OK ||
        (j->out % pf &&
         (st = fail(b, GK_E_FORMAT, "%s: tensor '%s': %lld outputs do not pack by %d", qw->file,
                    qw->name, (long long)j->out, pf)) != GK_OK) ||
        (st = check_dims(b, qz, 2, j->groups, j->out / pf, "[groups, out*bits/32]")) != GK_OK)
        return st;
    float *scales = read_finite(b, sc, &st); /* checked here, read in place later */
    free(scales);
    if (st != GK_OK || (st = gptq_gidx(b, qw, gi, j)) != GK_OK)
        return st;
    j->qw = qw->data;
    j->qz = qz->data;
    j->sc = sc->data;
    j->sc_type = sc->type;
    j->bits = b->bits;
    j->v1 = b->v1;
    size_t L = strlen(base) + sizeof ".weight";
    if (!(j->name = malloc(L)))
        return fail(b, GK_E_NOMEM, "out of memory");
    snprintf(j->name, L, "%s.weight", base);
    return GK_OK;
}

/* Whether name is a part of a GPTQ weight (removed from the set). */
static int is_gptq_part(const dq_build *b, const char *name) {
    static const char *const parts[] = {".qweight", ".qzeros", ".scales", ".g_idx"};
    if (b->method != DQ_GPTQ)
        return 0;
    for (size_t k = 0; k < 4; k++)
        if (ends_with(name, parts[k])) {
            char qw[1024];
            snprintf(qw, sizeof qw, "%.*s.qweight", (int)(strlen(name) - strlen(parts[k])), name);
            return fmt_src_find(b->src, qw) != NULL;
        }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The set                                                                    */
/* ------------------------------------------------------------------------ */

static fmt_src_tensor computed(const fmt_src_tensor *like, const char *name, uint32_t nd,
                               const int64_t *shape, fmt_src_read_fn read, void *ctx) {
    fmt_src_tensor t = {.name = name,
                        .type = KERN_TYPE_F32,
                        .dtype = "F32",
                        .n_dims = nd,
                        .file = like->file,
                        .read = read,
                        .ctx = ctx,
                        .n_elements = 1};
    for (uint32_t d = 0; d < nd; d++) {
        t.shape[d] = shape[d];
        t.n_elements *= (uint64_t)shape[d];
    }
    t.size = t.n_elements * 4;
    return t;
}

/* Count and build the jobs, then the records: stored tensors minus the
 * removed parts, FP8 weights in place, GPTQ weights at the end. */
static gk_status build(dq_build *b, fmt_dq *d) {
    uint64_t n = fmt_src_n_tensors(b->src);
    size_t nf = 0, ng = 0;
    gk_status st = GK_OK;
    for (uint64_t i = 0; i < n; i++) {
        const char *nm = fmt_src_tensor_at(b->src, i)->name;
        nf += is_fp8_scale(b, nm);
        ng += b->method == DQ_GPTQ && ends_with(nm, ".qweight");
    }
    d->fp8 = calloc(nf ? nf : 1, sizeof *d->fp8);
    d->gptq = calloc(ng ? ng : 1, sizeof *d->gptq);
    fmt_src_tensor *rec = calloc(n + ng ? n + ng : 1, sizeof *rec);
    const fmt_src_tensor **w_of = calloc(nf ? nf : 1, sizeof *w_of);
    if (!d->fp8 || !d->gptq || !rec || !w_of)
        st = fail(b, GK_E_NOMEM, "out of memory");
    size_t nr = 0;
    for (uint64_t i = 0; st == GK_OK && i < n; i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(b->src, i);
        if (is_fp8_scale(b, t->name)) {
            if ((st = fp8_job_init(b, t, &d->fp8[d->n_fp8])) == GK_OK)
                w_of[d->n_fp8] = d->fp8[d->n_fp8].w;
            d->n_fp8++; /* counted even when failed: close frees its scale */
        } else if (b->method == DQ_GPTQ && ends_with(t->name, ".qweight") &&
                   (st = gptq_job_init(b, t, &d->gptq[d->n_gptq++])) == GK_OK) {
            gptq_job *j = &d->gptq[d->n_gptq - 1];
            int64_t shape[2] = {j->out, j->in};
            rec[n + d->n_gptq - 1] = computed(t, j->name, 2, shape, gptq_read, j);
        }
    }
    for (uint64_t i = 0; st == GK_OK && i < n; i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(b->src, i);
        size_t k = 0;
        while (k < d->n_fp8 && w_of[k] != t)
            k++;
        if (k < d->n_fp8)
            rec[nr++] = computed(t, t->name, t->n_dims, t->shape, fp8_read, &d->fp8[k]);
        else if (is_fp8_dtype(t))
            st = fail(b, GK_E_FORMAT, "%s: tensor '%s' is %s: missing '%s%s'", t->file, t->name,
                      t->dtype, t->name, b->scale_strip);
        else if (!is_fp8_scale(b, t->name) && !is_fp8_unused(b, t->name) &&
                 !is_gptq_part(b, t->name))
            rec[nr++] = *t;
    }
    memmove(rec + nr, rec + n, d->n_gptq * sizeof *rec);
    if (st == GK_OK && !(d->view = fmt_src_create(rec, nr + d->n_gptq, &st)))
        fail(b, st, "%s", fmt_src_open_errmsg());
    free(rec);
    free(w_of);
    return st;
}

fmt_dq *fmt_dq_open(fmt_src *inner, const json_t *qcfg, const char *cfg_name, gk_status *st,
                    char *err, size_t errcap) {
    dq_build b = {.src = inner, .cfg_name = cfg_name, .err = err, .errcap = errcap};
    fmt_dq *d = calloc(1, sizeof *d);
    *st = d ? GK_OK : fail(&b, GK_E_NOMEM, "out of memory");
    if (*st == GK_OK && (*st = parse_config(&b, qcfg)) == GK_OK &&
        (*st = check_method(&b)) == GK_OK && b.method != DQ_NONE)
        *st = build(&b, d);
    if (*st != GK_OK) {
        fmt_dq_close(d);
        return NULL;
    }
    d->inner = inner;
    if (b.method != DQ_NONE && !d->n_fp8 && !d->n_gptq)
        fmt_log(1,
                "warning: %s: quantization_config says %s but no tensor is quantized; "
                "converting the float weights as they are",
                cfg_name, b.method == DQ_FP8 ? "fp8" : "gptq");
    return d;
}

fmt_src *fmt_dq_source(const fmt_dq *d) {
    return d->view ? d->view : d->inner;
}

void fmt_dq_close(fmt_dq *d) {
    if (!d)
        return;
    fmt_src_close(d->view);
    for (size_t k = 0; d->fp8 && k < d->n_fp8; k++)
        free(d->fp8[k].scale);
    for (size_t k = 0; d->gptq && k < d->n_gptq; k++) {
        free(d->gptq[k].g_idx);
        free(d->gptq[k].name);
    }
    free(d->fp8);
    free(d->gptq);
    free(d);
}
