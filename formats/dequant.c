/*
 * dequant.c -- FP8, GPTQ, compressed-tensors and AWQ checkpoints
 * dequantized as a tensor-source transform, with convert_hf_to_gguf.py's
 * (ec562eb) arithmetic: the f32 product of one decoded code (or code
 * difference) and one f32 scale, so that every output value is
 * bit-identical to torch's.
 */
#include "dequant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../kernels/kernels.h"
#include "bnb.h"
#include "io.h"

typedef enum { DQ_NONE, DQ_FP8, DQ_GPTQ, DQ_AWQ, DQ_PACK, DQ_BNB } dq_method;

/* FP8: weight w, its scale expanded to w's shape by scale index =
 * index / blk[d] (blk[d] == 0: the scale's dim is 1, broadcast). */
typedef struct {
    const fmt_src_tensor *w;
    float *scale; /* the scale tensor as f32, checked finite */
    int64_t blk[FMT_SRC_MAX_DIMS];
    int64_t sstride[FMT_SRC_MAX_DIMS]; /* element strides of the scale */
} fp8_job;

/* A GPTQ, AWQ or pack-quantized weight: codes and zeros of `bits`, 32/bits
 * per int32. */
typedef struct {
    const uint8_t *qw, *qz, *sc;
    uint64_t qw_size, qz_size, sc_size; /* their bytes, for fmt_dq_release */
    int sc_type;
    int bits, v1, awq, pack; /* pack: compressed-tensors, qz NULL when symmetric */
    int64_t in, out, groups;
    int32_t *g_idx; /* [in], checked: 0 <= g < groups */
    char *name;     /* BASE.weight */
} gptq_job;

struct fmt_dq {
    fmt_src *view; /* NULL: inner passes through */
    fmt_src *inner;
    fmt_bnb *bnb; /* bitsandbytes: its own transform (formats/bnb.h) */
    fp8_job *fp8;
    gptq_job *gptq;
    size_t n_fp8, n_gptq;
};

typedef struct {
    fmt_src *src;
    const char *cfg_name;
    const char *key; /* prefix of the config's keys in messages: "quantization_config." or "" */
    dq_method method;
    const char *scale_match; /* FP8 scales: names ending so ("_scale_inv", ".weight_scale") */
    const char *scale_strip; /* what leaves the name to give the weight's */
    int64_t block[FMT_SRC_MAX_DIMS]; /* FP8 block sizes, n_block of them */
    size_t n_block;
    int bits, v1;
    int64_t group_size; /* GPTQ: inputs per group; -1: one group; 0: not given */
    char *err;
    size_t errcap;
} dq_build;

/* The message into the build's err, and st for "return fail(...)". */
#define fail(b, st, ...) (gk_msgf((b)->err, (b)->errcap, __VA_ARGS__), (st))

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
        if (!strcmp(w->dtype, "F8_E4M3"))
            kern_fp8_e4m3_to_fp32_row(q, dst, len);
        else if (!strcmp(w->dtype, "F8_E5M2"))
            kern_fp8_e5m2_to_fp32_row(q, dst, len);
        else if (fmt_src_read_rows(w, r, 1, dst) != GK_OK)
            return GK_E_UNSUPPORTED;
        /* each run of blk[last] columns (all of them when broadcast) times its scale */
        int64_t b = j->blk[last] ? j->blk[last] : len;
        for (int64_t c0 = 0, k = 0; c0 < len; c0 += b, k++) {
            float s = j->scale[off + (j->blk[last] ? k : 0)];
            for (int64_t c = c0; c < c0 + b && c < len; c++)
                dst[c] = dst[c] * s;
        }
    }
    return GK_OK;
}

static uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Scale k of a GPTQ/AWQ weight (F16, BF16 or F32, checked at open): one
 * value per code, so no per-call row machinery. */
static inline float scale_at(const gptq_job *j, int64_t k) {
    const uint8_t *p = j->sc + (size_t)k * (j->sc_type == KERN_TYPE_F32 ? 4 : 2);
    if (j->sc_type == KERN_TYPE_F32) {
        uint32_t u = load_u32(p);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    uint16_t h = (uint16_t)(p[0] | p[1] << 8);
    return j->sc_type == KERN_TYPE_F16 ? kern_fp16_to_fp32(h) : kern_bf16_to_fp32(h);
}

/* Row o of the dequantized GPTQ weight [out, in]: column o of the packs. */
static gk_status gptq_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const gptq_job *j = t->ctx;
    int pf = 32 / j->bits;
    uint32_t maxq = (1u << j->bits) - 1;
    for (int64_t o = r0; o < r0 + n; o++, dst += j->in) {
        int zshift = (int)(o % pf) * j->bits, z = 0;
        int64_t last = -1; /* the group whose scale and zero are in s, z */
        float s = 0;
        uint32_t qw = 0;
        for (int64_t i = 0; i < j->in; i++) {
            int64_t g = j->g_idx[i];
            if (g != last) {
                uint32_t qz = load_u32(j->qz + 4 * (size_t)(g * (j->out / pf) + o / pf));
                z = (int)((qz >> zshift) & maxq) + j->v1;
                s = scale_at(j, g * j->out + o);
                last = g;
            }
            if (i % pf == 0)
                qw = load_u32(j->qw + 4 * (size_t)((i / pf) * j->out + o));
            int q = (int)((qw >> ((i % pf) * j->bits)) & maxq);
            dst[i] = s * (float)(q - z);
        }
    }
    return GK_OK;
}

/* AWQ GEMM (AutoAWQ WQLinear_GEMM): qweight [in, out/8] and qzeros
 * [groups, out/8] packed along the outputs, column c of each 8 in the
 * nibble AWQ_REVERSE_ORDER[c]; no g_idx (group i / group_size), no "+1". */
static gk_status awq_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    static const int reverse_order[8] = {0, 4, 1, 5, 2, 6, 3, 7};
    const gptq_job *j = t->ctx;
    int64_t words = j->out / 8;
    for (int64_t o = r0; o < r0 + n; o++, dst += j->in) {
        int shift = 4 * reverse_order[o % 8], z = 0;
        int64_t last = -1; /* the group whose scale and zero are in s, z */
        float s = 0;
        for (int64_t i = 0; i < j->in; i++) {
            int64_t g = j->g_idx[i];
            if (g != last) {
                z = (int)((load_u32(j->qz + 4 * (size_t)(g * words + o / 8)) >> shift) & 15);
                s = scale_at(j, g * j->out + o);
                last = g;
            }
            int q = (int)((load_u32(j->qw + 4 * (size_t)(i * words + o / 8)) >> shift) & 15);
            dst[i] = s * (float)(q - z);
        }
    }
    return GK_OK;
}

/* compressed-tensors pack-quantized (dequant_packed): weight_packed
 * [out, ceil(in/pf)] packed along the inputs, low bits first;
 * weight_zero_point [ceil(out/pf), groups] packed along the outputs, else
 * the zero is 2^(bits-1); weight_scale [out, groups]:
 *   w[o][i] = float(q - z) * scale[o][g], g = i / group_size. */
static gk_status pack_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const gptq_job *j = t->ctx;
    int pf = 32 / j->bits;
    uint32_t mask = (1u << j->bits) - 1;
    int64_t words = (j->in + pf - 1) / pf;
    for (int64_t o = r0; o < r0 + n; o++, dst += j->in) {
        const uint8_t *row = j->qw + 4 * (size_t)(o * words);
        const uint8_t *zrow = j->qz ? j->qz + 4 * (size_t)((o / pf) * j->groups) : NULL;
        int zshift = (int)(o % pf) * j->bits, z = 0;
        int64_t last = -1; /* the group whose scale and zero are in s, z */
        float s = 0;
        uint32_t word = 0;
        for (int64_t i = 0; i < j->in; i++) {
            int64_t g = j->g_idx[i];
            if (g != last) {
                z = zrow ? (int)((load_u32(zrow + 4 * (size_t)g) >> zshift) & mask)
                         : 1 << (j->bits - 1);
                s = scale_at(j, o * j->groups + g);
                last = g;
            }
            if (i % pf == 0)
                word = load_u32(row + 4 * (size_t)(i / pf));
            int q = (int)((word >> ((i % pf) * j->bits)) & mask);
            dst[i] = (float)(q - z) * s;
        }
    }
    return GK_OK;
}

int fmt_dq_appended(const fmt_src_tensor *t) {
    return t->read == gptq_read || t->read == awq_read || t->read == pack_read;
}

/* ------------------------------------------------------------------------ */
/* The codes, for copies that keep them (formats/keepquant)                  */
/* ------------------------------------------------------------------------ */

int fmt_dq_packed_info(const fmt_src_tensor *t, fmt_dq_packed *info) {
    if (!fmt_dq_appended(t))
        return 0;
    const gptq_job *j = t->ctx;
    *info = (fmt_dq_packed){
        .bits = j->bits, .in = j->in, .out = j->out, .groups = j->groups, .g_idx = j->g_idx};
    return 1;
}

/* The nibble of output column o in an AWQ pack word (AWQ_REVERSE_ORDER). */
static int awq_shift(int64_t o) {
    static const int reverse_order[8] = {0, 4, 1, 5, 2, 6, 3, 7};
    return 4 * reverse_order[o % 8];
}

void fmt_dq_packed_groups(const fmt_src_tensor *t, int64_t o, float *s, int32_t *z) {
    const gptq_job *j = t->ctx;
    int pf = 32 / j->bits;
    uint32_t mask = (1u << j->bits) - 1;
    for (int64_t g = 0; g < j->groups; g++) {
        uint32_t w;
        if (j->pack) {
            s[g] = scale_at(j, o * j->groups + g);
            w = j->qz ? load_u32(j->qz + 4 * (size_t)((o / pf) * j->groups + g)) : 0;
            z[g] = j->qz ? (int32_t)((w >> ((o % pf) * j->bits)) & mask) : 1 << (j->bits - 1);
        } else if (j->awq) {
            s[g] = scale_at(j, g * j->out + o);
            w = load_u32(j->qz + 4 * (size_t)(g * (j->out / 8) + o / 8));
            z[g] = (int32_t)((w >> awq_shift(o)) & 15);
        } else {
            s[g] = scale_at(j, g * j->out + o);
            w = load_u32(j->qz + 4 * (size_t)(g * (j->out / pf) + o / pf));
            z[g] = (int32_t)((w >> ((o % pf) * j->bits)) & mask) + j->v1;
        }
    }
}

void fmt_dq_packed_codes(const fmt_src_tensor *t, int64_t o, uint8_t *q) {
    const gptq_job *j = t->ctx;
    int pf = 32 / j->bits;
    uint32_t mask = (1u << j->bits) - 1;
    for (int64_t i = 0; i < j->in; i++) {
        uint32_t w;
        int shift;
        if (j->pack) {
            w = load_u32(j->qw + 4 * (size_t)(o * ((j->in + pf - 1) / pf) + i / pf));
            shift = (int)(i % pf) * j->bits;
        } else if (j->awq) {
            w = load_u32(j->qw + 4 * (size_t)(i * (j->out / 8) + o / 8));
            shift = awq_shift(o);
        } else {
            w = load_u32(j->qw + 4 * (size_t)((i / pf) * j->out + o));
            shift = (int)(i % pf) * j->bits;
        }
        q[i] = (uint8_t)((w >> shift) & mask);
    }
}

void fmt_dq_release(const fmt_src_tensor *t, int64_t r0, int64_t r1) {
    if (t->read == fp8_read) {
        const fmt_src_tensor *w = ((const fp8_job *)t->ctx)->w;
        size_t rb =
            w->n_elements ? (size_t)fmt_src_row_len(w) * (size_t)(w->size / w->n_elements) : 0;
        fmt_release_pages(w->data + (size_t)r0 * rb, (size_t)(r1 - r0) * rb);
    } else if (fmt_dq_appended(t) && r1 == t->shape[0]) {
        const gptq_job *j = t->ctx; /* every output row reads all of the packs */
        fmt_release_pages(j->qw, (size_t)j->qw_size);
        fmt_release_pages(j->qz, (size_t)j->qz_size);
        fmt_release_pages(j->sc, (size_t)j->sc_size);
    }
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
        return fail(b, GK_E_FORMAT, "%s: %s%s is not a list of block sizes", b->cfg_name, b->key,
                    key);
    json_array_foreach(bs, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 1 << 20)
            return fail(b, GK_E_FORMAT, "%s: %s%s[%zu] is not a positive block size", b->cfg_name,
                        b->key, key, i);
        b->block[i] = json_integer_value(v);
    }
    b->n_block = json_array_size(bs);
    return GK_OK;
}

static gk_status parse_gptq(dq_build *b, const json_t *q) {
    const json_t *bits = json_object_get(q, "bits"), *fmt = json_object_get(q, "checkpoint_format");
    const json_t *gs = json_object_get(q, "group_size");
    if (!json_is_integer(bits))
        return fail(b, GK_E_FORMAT, "%s: %sbits is missing (gptq)", b->cfg_name, b->key);
    b->bits = (int)json_integer_value(bits);
    if (b->bits == 3)
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: %sbits is 3: 3-bit GPTQ is not supported "
                    "(convert_hf_to_gguf.py does not dequantize it either)",
                    b->cfg_name, b->key);
    if (b->bits != 2 && b->bits != 4 && b->bits != 8)
        return fail(b, GK_E_FORMAT, "%s: %sbits is %lld (gptq takes 2, 3, 4 or 8)", b->cfg_name,
                    b->key, (long long)json_integer_value(bits));
    const char *f = json_is_string(fmt) ? json_string_value(fmt) : "gptq";
    if (fmt && !json_is_string(fmt))
        return fail(b, GK_E_FORMAT, "%s: %scheckpoint_format is not a string", b->cfg_name, b->key);
    if (strcmp(f, "gptq") && strcmp(f, "gptq_v2"))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: %scheckpoint_format '%s' is not supported (gptq, "
                    "gptq_v2)",
                    b->cfg_name, b->key, f);
    b->v1 = !strcmp(f, "gptq");
    b->group_size = json_is_integer(gs) ? json_integer_value(gs) : 0;
    if (b->group_size < -1 || b->group_size > INT32_MAX || (json_is_integer(gs) && !b->group_size))
        return fail(b, GK_E_FORMAT, "%s: %sgroup_size is %lld (a positive size, or -1)",
                    b->cfg_name, b->key, (long long)b->group_size);
    return GK_OK;
}

/* AWQ: 4-bit GEMM packing with zero points, groups of group_size. */
static gk_status parse_awq(dq_build *b, const json_t *q) {
    const json_t *bits = json_object_get(q, "bits"), *gs = json_object_get(q, "group_size");
    const json_t *ver = json_object_get(q, "version"), *zp = json_object_get(q, "zero_point");
    const char *v = json_is_string(ver) ? json_string_value(ver) : "gemm";
    if (!json_is_integer(bits) || json_integer_value(bits) != 4)
        return fail(b, json_is_integer(bits) ? GK_E_UNSUPPORTED : GK_E_FORMAT,
                    "%s: %sbits: AWQ takes 4 bits", b->cfg_name, b->key);
    if (strcasecmp(v, "gemm"))
        return fail(b, GK_E_UNSUPPORTED, "%s: %sversion '%s' of awq is not supported (gemm)",
                    b->cfg_name, b->key, v);
    if (zp && !json_is_true(zp))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: %szero_point: AWQ without zero points is not supported", b->cfg_name,
                    b->key);
    if (!json_is_integer(gs) || json_integer_value(gs) < 1 || json_integer_value(gs) > INT32_MAX)
        return fail(b, GK_E_FORMAT, "%s: %sgroup_size is not a positive size", b->cfg_name, b->key);
    b->bits = 4;
    b->group_size = json_integer_value(gs);
    return GK_OK;
}

/* compressed-tensors: one config group whose weights are float or int
 * codes with a channel or block scale (X.weight_scale). */
/* compressed-tensors pack-quantized (dequant_packed): int codes of
 * num_bits in int32 packs, scales per group of group_size inputs. */
static gk_status parse_pack(dq_build *b, const json_t *w) {
    const json_t *strat = json_object_get(w, "strategy"), *type = json_object_get(w, "type");
    const json_t *nb = json_object_get(w, "num_bits"), *gs = json_object_get(w, "group_size");
    if (!json_is_string(strat) || strcmp(json_string_value(strat), "group") ||
        (type && (!json_is_string(type) || strcmp(json_string_value(type), "int"))))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: %sconfig_groups weights: pack-quantized needs strategy "
                    "'group' and type 'int'",
                    b->cfg_name, b->key);
    if (!json_is_integer(nb) || json_integer_value(nb) < 1 || json_integer_value(nb) > 8)
        return fail(b, GK_E_FORMAT, "%s: %sconfig_groups weights.num_bits is not 1 to 8",
                    b->cfg_name, b->key);
    if (!json_is_integer(gs) || json_integer_value(gs) < 1 || json_integer_value(gs) > INT32_MAX)
        return fail(b, GK_E_FORMAT,
                    "%s: %sconfig_groups weights.group_size is not a positive "
                    "size",
                    b->cfg_name, b->key);
    b->method = DQ_PACK;
    b->bits = (int)json_integer_value(nb);
    b->group_size = json_integer_value(gs);
    return GK_OK;
}

static gk_status parse_compressed(dq_build *b, const json_t *q) {
    const json_t *fmt = json_object_get(q, "format"), *groups = json_object_get(q, "config_groups");
    const char *f = json_is_string(fmt) ? json_string_value(fmt) : "";
    int pack = !strcmp(f, "pack-quantized");
    if (strcmp(f, "float-quantized") && strcmp(f, "int-quantized") &&
        strcmp(f, "naive-quantized") && !pack)
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: %sformat '%s' of compressed-tensors is not supported "
                    "(float-quantized, int-quantized, naive-quantized, pack-quantized)",
                    b->cfg_name, b->key, f);
    if (!json_is_object(groups) || json_object_size(groups) != 1)
        return fail(b, GK_E_UNSUPPORTED, "%s: %sconfig_groups: need exactly one group", b->cfg_name,
                    b->key);
    const json_t *w =
        json_object_get(json_object_iter_value(json_object_iter((json_t *)groups)), "weights");
    if (pack)
        return parse_pack(b, w);
    const json_t *strat = json_object_get(w, "strategy");
    const char *s = json_is_string(strat) ? json_string_value(strat) : "";
    if (strcmp(s, "channel") && strcmp(s, "block"))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: %sconfig_groups weights.strategy '%s' is not supported "
                    "(channel, block)",
                    b->cfg_name, b->key, s);
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
    if (!strcmp(name, "awq")) {
        b->method = DQ_AWQ;
        return parse_awq(b, q);
    }
    if (!strcmp(name, "compressed-tensors")) {
        b->method = DQ_FP8;
        return parse_compressed(b, q);
    }
    if (!strcmp(name, "bitsandbytes")) {
        b->method = DQ_BNB;
        return GK_OK;
    }
    if (!strcmp(name, "mxfp4"))
        return fail(b, GK_E_UNSUPPORTED,
                    "%s: %squant_method 'mxfp4': MXFP4 (gpt-oss) experts are not "
                    "supported in this family (GptOssForCausalLM only, as upstream)",
                    b->cfg_name, b->key);
    return fail(b, GK_E_UNSUPPORTED,
                "%s: %squant_method '%s' is not supported (fp8, gptq, awq, "
                "compressed-tensors)",
                b->cfg_name, b->key, name);
}

/* ------------------------------------------------------------------------ */
/* Description                                                                */
/* ------------------------------------------------------------------------ */

/* ", KEY" when the config's boolean KEY is true, ", NOT" when false. */
static const char *flag(const json_t *q, const char *key, const char *yes, const char *no) {
    const json_t *v = json_object_get(q, key);
    return json_is_true(v) ? yes : json_is_false(v) ? no : "";
}

static void describe_parsed(const dq_build *b, const json_t *q, char *buf, size_t cap) {
    const char *m = json_string_value(json_object_get(q, "quant_method"));
    if (b->method == DQ_FP8) {
        const char *f = json_string_value(json_object_get(q, "format"));
        int n = snprintf(buf, cap, "%s%s%s, %s", m, f ? " " : "", f ? f : "",
                         b->n_block ? "block scales" : "per-channel or per-tensor scales");
        for (size_t k = 0; k < b->n_block && n > 0 && (size_t)n < cap; k++)
            n +=
                snprintf(buf + n, cap - (size_t)n, "%s%lld", k ? "x" : " ", (long long)b->block[k]);
        return;
    }
    char groups[48] = "one group";
    if (b->group_size > 0)
        snprintf(groups, sizeof groups, "groups of %lld", (long long)b->group_size);
    if (b->method == DQ_AWQ) {
        snprintf(buf, cap, "awq, 4 bits, %s, gemm, zero points", groups);
        return;
    }
    if (b->method == DQ_BNB) {
        const json_t *qt = json_object_get(q, "bnb_4bit_quant_type");
        if (json_is_true(json_object_get(q, "load_in_8bit")))
            snprintf(buf, cap, "bitsandbytes, 8 bits (LLM.int8), per-row absmax");
        else
            snprintf(buf, cap, "bitsandbytes, 4 bits (%s)%s",
                     json_is_string(qt) ? json_string_value(qt) : "fp4",
                     flag(q, "bnb_4bit_use_double_quant", ", nested absmax (double quant)", ""));
        return;
    }
    if (b->method == DQ_PACK) {
        snprintf(buf, cap, "compressed-tensors pack-quantized, %d bits, %s", b->bits, groups);
        return;
    }
    snprintf(buf, cap, "gptq, %d bits, %s%s%s, checkpoint_format %s", b->bits, groups,
             flag(q, "sym", ", symmetric", ", asymmetric"),
             flag(q, "desc_act", ", act-order (desc_act)", ""), b->v1 ? "gptq" : "gptq_v2");
}

void fmt_dq_describe(const json_t *qcfg, char *buf, size_t cap) {
    char err[256];
    dq_build b = {.cfg_name = "config.json", .key = "", .err = err, .errcap = sizeof err};
    buf[0] = 0;
    const json_t *m = json_object_get(qcfg, "quant_method");
    if (!json_is_string(m))
        return;
    if (parse_config(&b, qcfg) != GK_OK)
        snprintf(buf, cap, "%s (hf2gguf cannot read it: %s)", json_string_value(m),
                 err + strlen("config.json: "));
    else
        describe_parsed(&b, qcfg, buf, cap);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                     */
/* ------------------------------------------------------------------------ */

/* Tensors that belong to another method than the config's (or to any
 * method when there is no config). */
static gk_status check_method(const dq_build *b) {
    static const char *const names[] = {"no quantization_config",
                                        "quant_method fp8",
                                        "quant_method gptq",
                                        "quant_method awq",
                                        "compressed-tensors pack-quantized",
                                        "quant_method bitsandbytes"};
    for (uint64_t i = 0; i < fmt_src_n_tensors(b->src); i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(b->src, i);
        int fp8 = is_fp8_dtype(t) || ends_with(t->name, "_scale_inv");
        int gptq = ends_with(t->name, ".qweight"), pack = ends_with(t->name, ".weight_packed");
        int bnb = strstr(t->name, ".quant_state.bitsandbytes__") || ends_with(t->name, ".SCB");
        if ((fp8 && b->method != DQ_FP8) || (gptq && b->method != DQ_GPTQ && b->method != DQ_AWQ) ||
            (pack && b->method != DQ_PACK) || (bnb && b->method != DQ_BNB))
            return fail(b, GK_E_FORMAT, "%s: tensor '%s' is %s but %s has %s", t->file, t->name,
                        gptq   ? "GPTQ/AWQ-packed"
                        : pack ? "pack-quantized"
                        : bnb  ? "bitsandbytes-quantized"
                               : "FP8-quantized",
                        b->cfg_name, names[b->method]);
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
    /* a scaled 1-D tensor (a norm, a bias) is nowhere in real checkpoints,
     * and the converter's 1-D paths (norm + 1, permuted biases) read
     * stored bytes: refuse rather than compute one */
    if (w->n_dims < 2)
        return fail(b, GK_E_UNSUPPORTED, "%s: tensor '%s': a scaled %u-D weight is not supported",
                    w->file, w->name, w->n_dims);
    j->w = w;
    if ((st = fp8_layout(b, w, s, j)) != GK_OK)
        return st;
    j->scale = read_finite(b, s, &st); /* a copy: the mapped pages are not needed again */
    if (s->data)
        fmt_release_pages(s->data, (size_t)s->size);
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
        if ((j->in + gs - 1) / gs != j->groups)
            return fail(b, GK_E_FORMAT,
                        "%s: tensor '%s': no g_idx, and %lld groups are not groups of %lld over "
                        "%lld inputs",
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
    if (st == GK_OK) /* copied: the mapped pages are not needed again */
        fmt_release_pages(gi->data, (size_t)gi->size);
    return st;
}

/* The sizes of j from its packs (GPTQ: qweight [in/pf, out]; AWQ:
 * [in, out/pf]), checked against scales [groups, out], qzeros
 * [groups, out/pf] and the config's group_size. */
static gk_status packed_shapes(const dq_build *b, const fmt_src_tensor *qw,
                               const fmt_src_tensor *qz, const fmt_src_tensor *sc, gptq_job *j) {
    int pf = 32 / b->bits;
    gk_status st;
    if (qw->type != KERN_TYPE_I32 || qz->type != KERN_TYPE_I32 || !qw->data)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s (qweight and qzeros must be I32)",
                    qw->file, qw->type != KERN_TYPE_I32 ? qw->name : qz->name,
                    qw->type != KERN_TYPE_I32 ? qw->dtype : qz->dtype);
    if (qw->n_dims != 2 || sc->n_dims != 2 || sc->shape[0] < 1)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has the wrong shape (want 2 dimensions)",
                    qw->file, qw->n_dims != 2 ? qw->name : sc->name);
    j->in = j->awq ? qw->shape[0] : qw->shape[0] * pf;
    j->out = j->awq ? qw->shape[1] * pf : qw->shape[1];
    j->groups = b->group_size > 0   ? (j->in + b->group_size - 1) / b->group_size
                : b->group_size < 0 ? 1
                                    : sc->shape[0];
    if (sc->shape[0] != j->groups)
        return fail(b, GK_E_FORMAT,
                    "%s: tensor '%s' has %lld groups, but %s: %sgroup_size %lld "
                    "over %lld inputs makes %lld",
                    sc->file, sc->name, (long long)sc->shape[0], b->cfg_name, b->key,
                    (long long)b->group_size, (long long)j->in, (long long)j->groups);
    if ((st = check_dims(b, sc, 2, j->groups, j->out, "[groups, out]")) != GK_OK)
        return st;
    if (j->out % pf)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': %lld outputs do not pack by %d", qw->file,
                    qw->name, (long long)j->out, pf);
    return check_dims(b, qz, 2, j->groups, j->out / pf, "[groups, out*bits/32]");
}

static gk_status gptq_job_init(const dq_build *b, const fmt_src_tensor *qw, gptq_job *j) {
    char base[1024];
    gk_status st = GK_OK;
    snprintf(base, sizeof base, "%.*s", (int)(strlen(qw->name) - strlen(".qweight")), qw->name);
    const fmt_src_tensor *qz = find_part(b, qw, base, ".qzeros", &st);
    const fmt_src_tensor *sc = qz ? find_part(b, qw, base, ".scales", &st) : NULL;
    char gname[1040];
    snprintf(gname, sizeof gname, "%s.g_idx", base);
    j->awq = b->method == DQ_AWQ;
    const fmt_src_tensor *gi = j->awq ? NULL : fmt_src_find(b->src, gname);
    if (st != GK_OK)
        return st;
    if (gi && !gi->data)
        return fail(b, GK_E_UNSUPPORTED, "%s: tensor '%s' is not stored plainly", gi->file,
                    gi->name);
    if ((st = packed_shapes(b, qw, qz, sc, j)) != GK_OK)
        return st;
    float *scales = read_finite(b, sc, &st); /* checked here, read in place later */
    free(scales);
    if (st != GK_OK || (st = gptq_gidx(b, qw, gi, j)) != GK_OK)
        return st;
    j->qw = qw->data;
    j->qz = qz->data;
    j->sc = sc->data;
    j->qw_size = qw->size;
    j->qz_size = qz->size;
    j->sc_size = sc->size;
    fmt_release_pages(sc->data, (size_t)sc->size); /* read whole above, read again per row */
    j->sc_type = sc->type;
    j->bits = b->bits;
    j->v1 = !j->awq && b->v1;
    size_t L = strlen(base) + sizeof ".weight";
    if (!(j->name = malloc(L)))
        return fail(b, GK_E_NOMEM, "out of memory");
    snprintf(j->name, L, "%s.weight", base);
    return GK_OK;
}

/* X.weight_packed with X.weight_shape [out, in], X.weight_scale
 * [out, in / group_size] and an optional X.weight_zero_point
 * [ceil(out/pf), groups]; in must be whole groups (upstream reshapes). */
static gk_status pack_shapes(const dq_build *b, const fmt_src_tensor *pk, const fmt_src_tensor *shp,
                             const fmt_src_tensor *sc, const fmt_src_tensor *zp, gptq_job *j) {
    int pf = 32 / b->bits;
    gk_status st;
    if (pk->type != KERN_TYPE_I32 || pk->n_dims != 2 || !pk->data)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' is not a 2-D I32 pack", pk->file, pk->name);
    if ((shp->type != KERN_TYPE_I32 && shp->type != KERN_TYPE_I64) || shp->n_dims != 1 ||
        shp->shape[0] != 2)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' is not 2 integers [out, in]", shp->file,
                    shp->name);
    j->out = load_index(shp, 0);
    j->in = load_index(shp, 1);
    if (j->out != pk->shape[0] || j->in < 1 || j->in > pk->shape[1] * pf ||
        (j->in + pf - 1) / pf != pk->shape[1])
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' says [%lld, %lld], not the shape of '%s'",
                    shp->file, shp->name, (long long)j->out, (long long)j->in, pk->name);
    if (j->in % b->group_size)
        return fail(b, GK_E_FORMAT, "%s: tensor '%s': %lld inputs are not groups of %lld", pk->file,
                    pk->name, (long long)j->in, (long long)b->group_size);
    j->groups = j->in / b->group_size;
    if ((st = check_dims(b, sc, 2, j->out, j->groups, "[out, groups]")) != GK_OK)
        return st;
    if (zp && (zp->type != KERN_TYPE_I32 || !zp->data))
        return fail(b, GK_E_FORMAT, "%s: tensor '%s' has dtype %s (want I32)", zp->file, zp->name,
                    zp->dtype);
    return zp ? check_dims(b, zp, 2, (j->out + pf - 1) / pf, j->groups, "[out*bits/32, groups]")
              : GK_OK;
}

static gk_status pack_job_init(const dq_build *b, const fmt_src_tensor *pk, gptq_job *j) {
    char base[1024], zname[1040];
    gk_status st = GK_OK;
    snprintf(base, sizeof base, "%.*s", (int)(strlen(pk->name) - strlen("_packed")), pk->name);
    const fmt_src_tensor *sc = find_part(b, pk, base, "_scale", &st);
    const fmt_src_tensor *shp = sc ? find_part(b, pk, base, "_shape", &st) : NULL;
    snprintf(zname, sizeof zname, "%s_zero_point", base);
    const fmt_src_tensor *zp = fmt_src_find(b->src, zname);
    j->pack = 1;
    if (st != GK_OK || (st = pack_shapes(b, pk, shp, sc, zp, j)) != GK_OK)
        return st;
    float *scales = read_finite(b, sc, &st); /* checked here, read in place later */
    free(scales);
    if (st != GK_OK || (st = gptq_gidx(b, pk, NULL, j)) != GK_OK)
        return st;
    j->qw = pk->data;
    j->qz = zp ? zp->data : NULL;
    j->sc = sc->data;
    j->qw_size = pk->size;
    j->qz_size = zp ? zp->size : 0;
    j->sc_size = sc->size;
    fmt_release_pages(sc->data, (size_t)sc->size);
    j->sc_type = sc->type;
    j->bits = b->bits;
    if (!(j->name = strdup(base)))
        return fail(b, GK_E_NOMEM, "out of memory");
    return GK_OK;
}

/* Whether name is a GPTQ/AWQ qweight, to be dequantized. */
static int is_packed(const dq_build *b, const char *name) {
    return ((b->method == DQ_GPTQ || b->method == DQ_AWQ) && ends_with(name, ".qweight")) ||
           (b->method == DQ_PACK && ends_with(name, ".weight_packed"));
}

/* Whether t is a part of a GPTQ weight (removed from the set): 1, or 0;
 * a zero or index tensor without its qweight fails (*st). */
static int is_gptq_part(const dq_build *b, const fmt_src_tensor *t, gk_status *st) {
    /* the pack first; then parts kept, parts that fail without it */
    static const char *const gptq[] = {".qweight", ".scales", ".qzeros", ".g_idx"};
    static const char *const pack[] = {"_packed", "_scale", "_shape", "_zero_point"};
    if (b->method != DQ_GPTQ && b->method != DQ_AWQ && b->method != DQ_PACK)
        return 0;
    const char *const *parts = b->method == DQ_PACK ? pack : gptq;
    for (size_t k = 0; k < 4; k++)
        if (ends_with(t->name, parts[k])) {
            char qw[1024];
            snprintf(qw, sizeof qw, "%.*s%s", (int)(strlen(t->name) - strlen(parts[k])), t->name,
                     parts[0]);
            if (fmt_src_find(b->src, qw))
                return 1;
            if (k >= 2)
                *st = fail(b, GK_E_FORMAT, "%s: tensor '%s': missing '%s'", t->file, t->name, qw);
            return 0;
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
        ng += is_packed(b, nm);
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
        } else if (is_packed(b, t->name) &&
                   (st = (b->method == DQ_PACK ? pack_job_init : gptq_job_init)(
                        b, t, &d->gptq[d->n_gptq++])) == GK_OK) {
            gptq_job *j = &d->gptq[d->n_gptq - 1];
            int64_t shape[2] = {j->out, j->in};
            fmt_src_read_fn fn = j->pack ? pack_read : j->awq ? awq_read : gptq_read;
            rec[n + d->n_gptq - 1] = computed(t, j->name, 2, shape, fn, j);
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
                 !is_gptq_part(b, t, &st) && st == GK_OK)
            rec[nr++] = *t;
    }
    memmove(rec + nr, rec + n, d->n_gptq * sizeof *rec);
    if (st == GK_OK && !(d->view = fmt_src_create(rec, nr + d->n_gptq, &st)))
        gk_msgf(b->err, b->errcap, "%s", fmt_src_open_errmsg());
    free(rec);
    free(w_of);
    return st;
}

fmt_dq *fmt_dq_open(fmt_src *inner, const json_t *qcfg, const char *cfg_name, const char *key,
                    gk_status *st, char *err, size_t errcap) {
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s%s", key ? key : "", key ? "." : "");
    dq_build b = {.src = inner, .cfg_name = cfg_name, .key = prefix, .err = err, .errcap = errcap};
    fmt_dq *d = calloc(1, sizeof *d);
    *st = d ? GK_OK : fail(&b, GK_E_NOMEM, "out of memory");
    if (*st == GK_OK && (*st = parse_config(&b, qcfg)) == GK_OK &&
        (*st = check_method(&b)) == GK_OK && b.method == DQ_BNB)
        d->bnb = fmt_bnb_open(inner, qcfg, cfg_name, prefix, st, err, errcap);
    else if (*st == GK_OK && b.method != DQ_NONE)
        *st = build(&b, d);
    if (*st != GK_OK) {
        fmt_dq_close(d);
        return NULL;
    }
    d->inner = inner;
    if (b.method != DQ_NONE && !d->n_fp8 && !d->n_gptq && !(d->bnb && fmt_bnb_count(d->bnb)))
        fmt_log(1,
                "warning: %s: quantization_config says %s but no tensor is quantized; "
                "converting the float weights as they are",
                cfg_name,
                b.method == DQ_PACK   ? "compressed-tensors"
                : b.method == DQ_BNB  ? "bitsandbytes"
                : b.method == DQ_FP8  ? "fp8"
                : b.method == DQ_GPTQ ? "gptq"
                                      : "awq");
    return d;
}

fmt_src *fmt_dq_source(const fmt_dq *d) {
    return d->bnb ? fmt_bnb_source(d->bnb) : d->view ? d->view : d->inner;
}

void fmt_dq_close(fmt_dq *d) {
    if (!d)
        return;
    fmt_src_close(d->view);
    fmt_bnb_close(d->bnb);
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
