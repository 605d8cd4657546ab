/*
 * weights.c -- how each GGUF weight becomes ONNX initializers + nodes.
 *
 * GGUF stores a linear weight as N rows (outputs) of K values (inputs) in
 * 32-element blocks, which is already com.microsoft.MatMulNBits's N-major B
 * layout, so blocks map without a transpose (../shared/docs/onnx-notes.md
 * section 2). kern_nbits_split() splits each row into codes, scales and
 * mins (the block layouts stay in kernels/):
 *
 *   Q4_0  -> bits=4, scales = d, no zero points (the default zero point 8
 *        is Q4_0's offset): exact.
 *   Q8_0  -> bits=8, codes q+128, scales = d, default zp 128: exact.
 *   Q4_1  -> x = d*q + m: bits=4 with packed zero points 0 (d*q), plus
 *        y += blocksum(x) @ m^T (Reshape x to [.., K/32, 32], ReduceSum,
 *        MatMul with m^T): exact in real arithmetic and fast (float zero
 *        points are ~30x slower).
 *   other -> dequantized with the kernels to f32 (or f16), a [N,K]
 *        initializer, Transpose (constant-folded by ONNX Runtime), MatMul.
 *
 * --weights int4/int8 quantize other types to Q4_0/Q8_0 blocks with the
 * reference quantizers (round to nearest, as ggml) and then take the exact
 * path. Every initializer is written row by row straight into the data
 * file; memory is a few rows. Tensors come from the tensor source
 * (formats/source.h): the exact path takes its stored blocks (data), the
 * float paths dequantize its rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "converters/gguf2onnx/weights.h"

#define QK 32

typedef enum { FORM_F32, FORM_F16, FORM_Q4_0, FORM_Q8_0, FORM_Q4_1 } form;

/* One weight being converted: where its rows come from. */
typedef struct {
    ox_wctx *w;
    const fmt_src_tensor *t;
    const uint8_t *data;
    int64_t K, N;
    size_t row_bytes;
    int src_type;  /* GGUF type */
    int blk_type;  /* block type we emit from (Q4_0/Q8_0/Q4_1) or -1 */
    float *frow;   /* K floats */
    uint8_t *qrow; /* one re-quantized row */
    /* packed weights (genai QKV): rows of several tensors one after another */
    const uint8_t *part[OX_MAX_PACK];
    int64_t part_rows[OX_MAX_PACK];
    const fmt_src_tensor *part_t[OX_MAX_PACK];
    int n_parts;
} wsrc;

int ox_weights_mode_parse(const char *s) {
    static const char *const names[] = {"auto", "f32", "f16", "int4", "int8"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Row access                                                                 */
/* ------------------------------------------------------------------------ */

static gk_status src_open(ox_wctx *w, int64_t ti, wsrc *s) {
    memset(s, 0, sizeof *s);
    s->w = w;
    s->t = fmt_src_tensor_at(w->src, (uint64_t)ti);
    s->data = s->t->data;
    const char *nm = s->t->name;
    if (!s->data) {
        snprintf(w->err, sizeof w->err, "tensor '%s': data not mapped", nm);
        return GK_E_IO;
    }
    if (!kern_dequant_fn(s->t->type)) {
        snprintf(w->err, sizeof w->err,
                 "tensor '%s': type %s cannot be dequantized (supported: every ggml type "
                 "with a dequantizer: F32, F16, BF16, Q4_0..Q8_0, K-quants, IQ types)",
                 nm, kern_type_label(s->t->type));
        return GK_E_UNSUPPORTED;
    }
    s->K = fmt_src_row_len(s->t);
    s->N = (int64_t)(s->t->n_elements / (uint64_t)s->K);
    s->row_bytes = kern_row_bytes(s->t->type, s->K);
    s->src_type = s->t->type;
    s->blk_type = -1;
    s->part[0] = s->data;
    s->part_rows[0] = s->N;
    s->part_t[0] = s->t;
    s->n_parts = 1;
    s->frow = malloc((size_t)s->K * sizeof(float));
    s->qrow = malloc(kern_row_bytes(KERN_TYPE_Q8_0, s->K ? s->K : QK) + s->row_bytes + 64);
    if (!s->frow || !s->qrow) {
        free(s->frow);
        free(s->qrow);
        snprintf(w->err, sizeof w->err, "out of memory");
        return GK_E_NOMEM;
    }
    return GK_OK;
}

/* Drop the source's mapped pages once converted: they are file-backed and
 * read again from the file if a later weight needs them (tied embeddings),
 * so peak RSS stays a few tensors' worth whatever the model size. */
static void src_close(wsrc *s) {
    for (int i = 0; i < s->n_parts; i++)
        if (s->part[i] && s->part_t[i])
            fmt_release_pages(s->part[i], (size_t)s->part_t[i]->size);
    free(s->frow);
    free(s->qrow);
}

/* Bytes of row r, across the parts of a packed weight. */
static const uint8_t *row_ptr(const wsrc *s, int64_t r) {
    int i = 0;
    while (i < s->n_parts - 1 && r >= s->part_rows[i])
        r -= s->part_rows[i++];
    return s->part[i] + (size_t)r * s->row_bytes;
}

static const float *row_f32(wsrc *s, int64_t r) {
    kern_row_to_f32(s->src_type, row_ptr(s, r), s->frow, s->K);
    return s->frow;
}

/* Row r as blocks of s->blk_type: the GGUF bytes, or re-quantized. */
static const uint8_t *row_blocks(wsrc *s, int64_t r) {
    if (s->src_type == s->blk_type)
        return row_ptr(s, r);
    row_f32(s, r);
    kern_type_info(s->blk_type)->quantize_ref(s->frow, s->qrow, 1, s->K, NULL);
    return s->qrow;
}

/* Every value of t as f32 into v (t->n_elements floats). */
static gk_status read_all(const fmt_src_tensor *t, float *v) {
    int64_t len = fmt_src_row_len(t);
    if (len <= 0)
        return GK_E_FORMAT;
    return fmt_src_read_rows(t, 0, (int64_t)(t->n_elements / (uint64_t)len), v);
}

/* ------------------------------------------------------------------------ */
/* Writers (one initializer each, streamed row by row)                        */
/* ------------------------------------------------------------------------ */

static gk_status wr(ox_wctx *w, gk_status st) {
    if (st != GK_OK && !w->err[0])
        snprintf(w->err, sizeof w->err, "%s", ox_graph_errmsg(w->g));
    return st;
}

/* B [N, nb, blob]: MatMulNBits packing of the codes. */
static gk_status write_codes(wsrc *s, const char *name) {
    int64_t nb = s->K / QK, blob = QK * kern_nbits_bits(s->blk_type) / 8;
    int64_t dims[3] = {s->N, nb, blob};
    gk_status st = ox_init_begin(s->w->g, name, OX_UINT8, 3, dims);
    uint8_t *out = malloc((size_t)(nb * blob));
    if (!out)
        return GK_E_NOMEM;
    for (int64_t r = 0; st == GK_OK && r < s->N; r++) {
        kern_nbits_split(s->blk_type, row_blocks(s, r), s->K, out, NULL, NULL);
        st = ox_init_write(s->w->g, out, (size_t)(nb * blob));
    }
    free(out);
    return st == GK_OK ? ox_init_end(s->w->g) : st;
}

/* Per-block scales (mins = 0) or Q4_1 mins (mins = 1) as f32 [N, nb]. */
static gk_status write_block_field(wsrc *s, const char *name, int mins) {
    int64_t nb = s->K / QK;
    int64_t dims[2] = {s->N, nb};
    gk_status st = ox_init_begin(s->w->g, name, OX_FLOAT, 2, dims);
    for (int64_t r = 0; st == GK_OK && r < s->N; r++) {
        const uint8_t *row = row_blocks(s, r);
        kern_nbits_split(s->blk_type, row, s->K, NULL, mins ? NULL : s->frow,
                         mins ? s->frow : NULL);
        st = ox_init_write(s->w->g, s->frow, (size_t)nb * sizeof(float));
    }
    return st == GK_OK ? ox_init_end(s->w->g) : st;
}

/* Dequantized [N, K] as f32 or f16. */
static gk_status write_float(wsrc *s, const char *name, int f16) {
    int64_t dims[2] = {s->N, s->K};
    gk_status st = ox_init_begin(s->w->g, name, f16 ? OX_FLOAT16 : OX_FLOAT, 2, dims);
    uint16_t *h = f16 ? malloc((size_t)s->K * 2) : NULL;
    if (f16 && !h)
        return GK_E_NOMEM;
    for (int64_t r = 0; st == GK_OK && r < s->N; r++) {
        if (f16 && s->src_type == KERN_TYPE_F16) {
            st = ox_init_write(s->w->g, row_ptr(s, r), s->row_bytes);
            continue;
        }
        const float *x = row_f32(s, r);
        if (f16) {
            kern_fp32_to_fp16_row(x, h, s->K);
            st = ox_init_write(s->w->g, h, (size_t)s->K * 2);
        } else {
            st = ox_init_write(s->w->g, x, (size_t)s->K * sizeof(float));
        }
    }
    free(h);
    return st == GK_OK ? ox_init_end(s->w->g) : st;
}

/* ------------------------------------------------------------------------ */
/* Choosing the form                                                          */
/* ------------------------------------------------------------------------ */

static form choose(const ox_wctx *w, int type, int64_t K) {
    int blocks_ok = K % QK == 0;
    switch (w->mode) {
    case OX_W_F32: return FORM_F32;
    case OX_W_F16: return FORM_F16;
    case OX_W_INT4:
        if (type == KERN_TYPE_Q4_1)
            return FORM_Q4_1;
        return blocks_ok ? FORM_Q4_0 : FORM_F32;
    case OX_W_INT8: return blocks_ok ? FORM_Q8_0 : FORM_F32;
    default:
        if (type == KERN_TYPE_Q4_0)
            return FORM_Q4_0;
        if (type == KERN_TYPE_Q8_0)
            return FORM_Q8_0;
        if (type == KERN_TYPE_Q4_1)
            return FORM_Q4_1;
        return FORM_F32;
    }
}

static int form_blk_type(form f) {
    return f == FORM_Q4_0   ? KERN_TYPE_Q4_0
           : f == FORM_Q8_0 ? KERN_TYPE_Q8_0
           : f == FORM_Q4_1 ? KERN_TYPE_Q4_1
                            : -1;
}

static const char *form_desc(form f, int src_type) {
    int exact = form_blk_type(f) == src_type;
    switch (f) {
    case FORM_Q4_0:
        return exact ? "MatMulNBits bits=4 block=32 (exact Q4_0 repack)"
                     : "MatMulNBits bits=4 block=32 (quantized as Q4_0)";
    case FORM_Q8_0:
        return exact ? "MatMulNBits bits=8 block=32 (exact Q8_0 repack)"
                     : "MatMulNBits bits=8 block=32 (quantized as Q8_0)";
    case FORM_Q4_1: return "MatMulNBits bits=4 block=32 zp=0 + min correction (exact Q4_1)";
    case FORM_F16: return "MatMul f16 (dequantized)";
    default: return src_type == KERN_TYPE_F32 ? "MatMul f32" : "MatMul f32 (dequantized)";
    }
}

/* Tensor t is converted: count it and show progress. */
static void consumed(ox_wctx *w, const fmt_src_tensor *t) {
    w->bytes_in += t->size;
    fmt_progress_item(w->progress, ++w->n_done, fmt_src_n_tensors(w->src), t->name,
                      strlen(t->name));
    fmt_progress_update(w->progress, w->bytes_in);
}

static void note(ox_wctx *w, const wsrc *s, const char *role, const char *desc) {
    for (int i = 0; i < s->n_parts; i++) {
        const fmt_src_tensor *t = s->part_t[i];
        if (w->report)
            json_array_append_new(
                w->report, json_pack("{s:s, s:s, s:s, s:[I,I], s:s}", "tensor", t->name, "role",
                                     role, "ggml_type", kern_type_label(s->src_type), "shape",
                                     (json_int_t)s->K, (json_int_t)s->part_rows[i], "onnx", desc));
        if (w->log) {
            char line[320];
            snprintf(line, sizeof line, "%-28s %-7s [%lld x %lld] -> %s (%s)", t->name,
                     kern_type_label(s->src_type), (long long)s->part_rows[i], (long long)s->K,
                     desc, role);
            w->log(line);
        }
        consumed(w, t);
    }
}

static ox_node *node(ox_wctx *w, const char *op, const char *dom, int n_in, const char *const *in,
                     const char *out) {
    return ox_add_node(w->g, op, dom, n_in, in, 1, &out);
}

/* ------------------------------------------------------------------------ */
/* Public mappings                                                            */
/* ------------------------------------------------------------------------ */

/* The linear for an opened source (one tensor or packed parts); biases
 * bias_ti[0..n_parts) (all -1 for none) become one f32 vector. */
static gk_status linear_src(ox_wctx *w, wsrc *sp, const char *x, const int64_t *bias_ti,
                            const char *base, const char *out) {
    wsrc s = *sp;
    gk_status st = GK_OK;
    ox_graph *g = w->g;
    int has_bias = bias_ti[0] >= 0;
    form f = choose(w, s.src_type, s.K);
    s.blk_type = form_blk_type(f);
    const char *y = has_bias ? ox_name(g, "%s/MatMul", base) : out;
    if (f == FORM_F32 || f == FORM_F16) {
        const char *wn = ox_name(g, "%s.weight", base);
        st = wr(w, write_float(&s, wn, f == FORM_F16));
        const char *wf = wn;
        if (f == FORM_F16) {
            wf = ox_name(g, "%s/Cast", base);
            ox_attr_int(g, node(w, "Cast", NULL, 1, &wn, wf), "to", OX_FLOAT);
        }
        const char *wt = ox_name(g, "%s/Transpose", base);
        int64_t perm[2] = {1, 0};
        ox_attr_ints(g, node(w, "Transpose", NULL, 1, &wf, wt), "perm", 2, perm);
        const char *in[2] = {x, wt};
        node(w, "MatMul", NULL, 2, in, y);
    } else {
        int bits = f == FORM_Q8_0 ? 8 : 4;
        const char *bn = ox_name(g, "%s.qweight", base), *sn = ox_name(g, "%s.scales", base);
        if (st == GK_OK)
            st = wr(w, write_codes(&s, bn));
        if (st == GK_OK)
            st = wr(w, write_block_field(&s, sn, 0));
        int64_t nb = s.K / QK;
        const char *zn = "";
        if (f == FORM_Q4_1 && st == GK_OK) {
            /* packed 4-bit zero points, all 0: two blocks per byte */
            zn = ox_name(g, "%s.zero_points", base);
            int64_t zd[2] = {s.N, (nb + 1) / 2};
            st = wr(w, ox_init_begin(g, zn, OX_UINT8, 2, zd));
            uint8_t zero[256] = {0};
            for (int64_t r = 0; st == GK_OK && r < s.N; r++)
                for (int64_t left = zd[1]; st == GK_OK && left > 0; left -= 256)
                    st = wr(w, ox_init_write(g, zero, (size_t)(left < 256 ? left : 256)));
            if (st == GK_OK)
                st = wr(w, ox_init_end(g));
        }
        const char *mo = f == FORM_Q4_1 ? ox_name(g, "%s/MatMulNBits", base) : y;
        const char *in[4] = {x, bn, sn, zn};
        ox_node *n = node(w, "MatMulNBits", "com.microsoft", f == FORM_Q4_1 ? 4 : 3, in, mo);
        ox_attr_int(g, n, "K", s.K);
        ox_attr_int(g, n, "N", s.N);
        ox_attr_int(g, n, "bits", bits);
        ox_attr_int(g, n, "block_size", QK);
        int acc = w->accuracy_level < 0 ? 0 : w->accuracy_level;
        ox_attr_int(g, n, "accuracy_level", acc);
        if (f == FORM_Q4_1 && st == GK_OK) {
            /* y = MatMulNBits(x) + ReduceSum(Reshape(x, [0,0,nb,32]), -1) @ m^T */
            const char *mn = ox_name(g, "%s.mins", base);
            st = wr(w, write_block_field(&s, mn, 1));
            const char *shp = ox_name(g, "%s/blocks_shape", base);
            int64_t sv[4] = {0, 0, nb, QK}, sd = 4;
            ox_init_inline(g, shp, OX_INT64, 1, &sd, sv, sizeof sv);
            const char *ax = ox_name(g, "%s/last_axis", base);
            int64_t axv = -1, ad = 1;
            ox_init_inline(g, ax, OX_INT64, 1, &ad, &axv, sizeof axv);
            const char *rin[2] = {x, shp};
            const char *xr = ox_name(g, "%s/Reshape", base);
            node(w, "Reshape", NULL, 2, rin, xr);
            const char *sin_[2] = {xr, ax};
            const char *bsum = ox_name(g, "%s/ReduceSum", base);
            ox_attr_int(g, node(w, "ReduceSum", NULL, 2, sin_, bsum), "keepdims", 0);
            const char *mt = ox_name(g, "%s/mins_T", base);
            int64_t perm[2] = {1, 0};
            ox_attr_ints(g, node(w, "Transpose", NULL, 1, &mn, mt), "perm", 2, perm);
            const char *cin[2] = {bsum, mt};
            const char *corr = ox_name(g, "%s/min_correction", base);
            node(w, "MatMul", NULL, 2, cin, corr);
            const char *ain[2] = {mo, corr};
            node(w, "Add", NULL, 2, ain, y);
        }
    }
    if (st == GK_OK)
        note(w, &s, base, form_desc(f, s.src_type));
    if (st == GK_OK && has_bias) {
        const char *bn = ox_name(g, "%s.bias", base);
        int64_t nb = s.N;
        st = wr(w, ox_init_begin(g, bn, OX_FLOAT, 1, &nb));
        for (int i = 0; st == GK_OK && i < s.n_parts; i++) {
            const fmt_src_tensor *t = fmt_src_tensor_at(w->src, (uint64_t)bias_ti[i]);
            float *v = malloc((size_t)s.part_rows[i] * sizeof(float));
            if (!v || t->n_elements != (uint64_t)s.part_rows[i] || read_all(t, v) != GK_OK) {
                free(v);
                snprintf(w->err, sizeof w->err, "tensor '%s': bias does not fit the weight",
                         t->name);
                st = GK_E_FORMAT;
                break;
            }
            st = wr(w, ox_init_write(g, v, (size_t)s.part_rows[i] * sizeof(float)));
            free(v);
            consumed(w, t);
        }
        if (st == GK_OK)
            st = wr(w, ox_init_end(g));
        const char *in[2] = {y, bn};
        node(w, "Add", NULL, 2, in, out);
    }
    return st;
}

gk_status ox_linear(ox_wctx *w, const char *x, int64_t ti, int64_t bias_ti, const char *base,
                    const char *out) {
    wsrc s;
    gk_status st = src_open(w, ti, &s);
    if (st != GK_OK)
        return st;
    st = linear_src(w, &s, x, &bias_ti, base, out);
    src_close(&s);
    return st;
}

int ox_can_pack(ox_wctx *w, const int64_t *ti, const int64_t *bias_ti, int n) {
    if (n < 1 || n > OX_MAX_PACK)
        return 0;
    const fmt_src_tensor *t0 = fmt_src_tensor_at(w->src, (uint64_t)ti[0]);
    for (int i = 0; i < n; i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(w->src, (uint64_t)ti[i]);
        if (t->type != t0->type || fmt_src_row_len(t) != fmt_src_row_len(t0) || t->n_dims != 2 ||
            (bias_ti[i] >= 0) != (bias_ti[0] >= 0))
            return 0;
    }
    return 1;
}

gk_status ox_linear_packed(ox_wctx *w, const char *x, const int64_t *ti, const int64_t *bias_ti,
                           int n, const char *base, const char *out) {
    wsrc s;
    gk_status st = src_open(w, ti[0], &s);
    if (st != GK_OK)
        return st;
    for (int i = 1; i < n; i++) {
        s.part_t[i] = fmt_src_tensor_at(w->src, (uint64_t)ti[i]);
        s.part[i] = s.part_t[i]->data;
        s.part_rows[i] = s.part_t[i]->shape[0]; /* 2-D: ox_can_pack checked */
        s.N += s.part_rows[i];
        s.n_parts++;
        if (!s.part[i]) {
            snprintf(w->err, sizeof w->err, "tensor '%s': data not mapped", s.part_t[i]->name);
            src_close(&s);
            return GK_E_IO;
        }
    }
    st = linear_src(w, &s, x, bias_ti, base, out);
    src_close(&s);
    return st;
}

gk_status ox_embedding(ox_wctx *w, const char *ids, int64_t ti, const char *base, const char *out) {
    wsrc s;
    gk_status st = src_open(w, ti, &s);
    if (st != GK_OK)
        return st;
    ox_graph *g = w->g;
    form f = FORM_F32;
    if (w->mode == OX_W_AUTO && (s.src_type == KERN_TYPE_Q4_0 || s.src_type == KERN_TYPE_Q8_0))
        f = s.src_type == KERN_TYPE_Q4_0 ? FORM_Q4_0 : FORM_Q8_0;
    else if (w->mode == OX_W_F16)
        f = FORM_F16;
    const char *desc;
    if (f == FORM_F32 || f == FORM_F16) {
        const char *wn = ox_name(g, "%s.weight", base);
        st = wr(w, write_float(&s, wn, f == FORM_F16));
        const char *in[2] = {wn, ids};
        const char *go = f == FORM_F16 ? ox_name(g, "%s/Gather", base) : out;
        ox_attr_int(g, node(w, "Gather", NULL, 2, in, go), "axis", 0);
        if (f == FORM_F16)
            ox_attr_int(g, node(w, "Cast", NULL, 1, &go, out), "to", OX_FLOAT);
        desc = f == FORM_F16                 ? "Gather f16 (dequantized)"
               : s.src_type == KERN_TYPE_F32 ? "Gather f32"
                                             : "Gather f32 (dequantized)";
    } else {
        s.blk_type = form_blk_type(f);
        int bits = f == FORM_Q8_0 ? 8 : 4;
        const char *bn = ox_name(g, "%s.qweight", base), *sn = ox_name(g, "%s.scales", base);
        st = wr(w, write_codes(&s, bn));
        if (st == GK_OK)
            st = wr(w, write_block_field(&s, sn, 0));
        /* GatherBlockQuantized wants data as [V, K*bits/8]: a reshape of B */
        const char *shp = ox_name(g, "%s/data_shape", base);
        int64_t sv[2] = {s.N, s.K * bits / 8}, sd = 2;
        ox_init_inline(g, shp, OX_INT64, 1, &sd, sv, sizeof sv);
        const char *rin[2] = {bn, shp};
        const char *data = ox_name(g, "%s/data", base);
        node(w, "Reshape", NULL, 2, rin, data);
        const char *in[3] = {data, ids, sn};
        ox_node *n = node(w, "GatherBlockQuantized", "com.microsoft", 3, in, out);
        ox_attr_int(g, n, "bits", bits);
        ox_attr_int(g, n, "block_size", QK);
        ox_attr_int(g, n, "gather_axis", 0);
        ox_attr_int(g, n, "quantize_axis", 1);
        desc = bits == 4 ? "GatherBlockQuantized bits=4 block=32 (exact Q4_0 repack)"
                         : "GatherBlockQuantized bits=8 block=32 (exact Q8_0 repack)";
    }
    if (st == GK_OK)
        note(w, &s, base, desc);
    src_close(&s);
    return st;
}

gk_status ox_vector_f32(ox_wctx *w, int64_t ti, const char *name) {
    wsrc s;
    gk_status st = src_open(w, ti, &s);
    if (st != GK_OK)
        return st;
    int64_t n = (int64_t)s.t->n_elements;
    if (s.N != 1) {
        snprintf(w->err, sizeof w->err, "tensor '%s': expected 1-D", s.t->name);
        src_close(&s);
        return GK_E_FORMAT;
    }
    st = wr(w, ox_init_external(w->g, name, OX_FLOAT, 1, &n, row_f32(&s, 0),
                                (size_t)n * sizeof(float)));
    w->bytes_in += s.t->size;
    src_close(&s);
    return st;
}

gk_status ox_experts_f32(ox_wctx *w, const int64_t *ti, int n, int64_t n_expert, const char *name) {
    wsrc s[OX_MAX_PACK];
    int opened = 0;
    gk_status st = n >= 1 && n <= OX_MAX_PACK && n_expert > 0 ? GK_OK : GK_E_USAGE;
    for (; st == GK_OK && opened < n; opened++)
        if ((st = src_open(w, ti[opened], &s[opened])) != GK_OK)
            break;
    int64_t rows = st == GK_OK ? s[0].N / n_expert : 0;
    for (int i = 0; st == GK_OK && i < n; i++)
        if (s[i].K != s[0].K || s[i].N != s[0].N || s[i].N % n_expert != 0) {
            snprintf(w->err, sizeof w->err,
                     "tensor '%s': %lld rows of %lld, expected %lld experts of %lld rows of %lld",
                     s[i].t->name, (long long)s[i].N, (long long)s[i].K, (long long)n_expert,
                     (long long)rows, (long long)s[0].K);
            st = GK_E_FORMAT;
        }
    if (st == GK_OK) {
        int64_t dims[3] = {n_expert, n * rows, s[0].K};
        st = wr(w, ox_init_begin(w->g, name, OX_FLOAT, 3, dims));
        /* expert e: row r of each tensor in turn (n = 2: interleaved) */
        for (int64_t e = 0; st == GK_OK && e < n_expert; e++)
            for (int64_t r = 0; st == GK_OK && r < rows; r++)
                for (int i = 0; st == GK_OK && i < n; i++)
                    st = wr(w, ox_init_write(w->g, row_f32(&s[i], e * rows + r),
                                             (size_t)s[0].K * sizeof(float)));
        if (st == GK_OK)
            st = wr(w, ox_init_end(w->g));
    }
    for (int i = 0; i < opened; i++) {
        if (st == GK_OK)
            note(w, &s[i], name, "MoE experts f32 (dequantized)");
        src_close(&s[i]);
    }
    return st;
}

int ox_experts_nbits(ox_wctx *w, const int64_t *ti, int n) {
    if (w->mode != OX_W_AUTO)
        return 0;
    int type = -1;
    for (int i = 0; i < n; i++) {
        const fmt_src_tensor *t = fmt_src_tensor_at(w->src, (uint64_t)ti[i]);
        if (!t || !t->data || (t->type != KERN_TYPE_Q4_0 && t->type != KERN_TYPE_Q8_0) ||
            (type >= 0 && t->type != type) || fmt_src_row_len(t) % QK != 0)
            return 0;
        type = t->type;
    }
    return kern_nbits_bits(type);
}

gk_status ox_experts_blocks(ox_wctx *w, const int64_t *ti, int n, int64_t n_expert,
                            const char *codes, const char *scales) {
    wsrc s[OX_MAX_PACK];
    int opened = 0;
    gk_status st = n >= 1 && n <= OX_MAX_PACK && n_expert > 0 ? GK_OK : GK_E_USAGE;
    for (; st == GK_OK && opened < n; opened++)
        if ((st = src_open(w, ti[opened], &s[opened])) != GK_OK)
            break;
    int64_t rows = st == GK_OK ? s[0].N / n_expert : 0, K = st == GK_OK ? s[0].K : 0;
    for (int i = 0; st == GK_OK && i < n; i++) {
        s[i].blk_type = s[i].src_type;
        if (s[i].K != K || s[i].N != s[0].N || s[i].N % n_expert != 0 ||
            s[i].src_type != s[0].src_type || !kern_nbits_bits(s[i].src_type)) {
            snprintf(w->err, sizeof w->err,
                     "tensor '%s': not %lld experts of Q4_0/Q8_0 rows like '%s'", s[i].t->name,
                     (long long)n_expert, s[0].t->name);
            st = GK_E_FORMAT;
        }
    }
    int64_t nb = K / QK, blob = st == GK_OK ? QK * kern_nbits_bits(s[0].src_type) / 8 : 0;
    uint8_t *out = st == GK_OK ? malloc((size_t)(nb * blob)) : NULL;
    if (st == GK_OK && !out)
        st = GK_E_NOMEM;
    /* codes [E, n * rows, K * bits / 8], then scales [E, n * rows, K / 32] */
    for (int pass = 0; pass < 2 && st == GK_OK; pass++) {
        int64_t dims[3] = {n_expert, n * rows, pass ? nb : nb * blob};
        st = wr(w, ox_init_begin(w->g, pass ? scales : codes, pass ? OX_FLOAT : OX_UINT8, 3, dims));
        for (int64_t e = 0; st == GK_OK && e < n_expert; e++)
            for (int64_t r = 0; st == GK_OK && r < rows; r++)
                for (int i = 0; st == GK_OK && i < n; i++) {
                    const uint8_t *row = row_ptr(&s[i], e * rows + r);
                    kern_nbits_split(s[i].src_type, row, K, pass ? NULL : out,
                                     pass ? s[i].frow : NULL, NULL);
                    st = wr(w, pass ? ox_init_write(w->g, s[i].frow, (size_t)nb * sizeof(float))
                                    : ox_init_write(w->g, out, (size_t)(nb * blob)));
                }
        if (st == GK_OK)
            st = wr(w, ox_init_end(w->g));
    }
    free(out);
    for (int i = 0; i < opened; i++) {
        if (st == GK_OK)
            note(w, &s[i], codes,
                 s[i].src_type == KERN_TYPE_Q4_0 ? "QMoE bits=4 block=32 (exact Q4_0 repack)"
                                                 : "QMoE bits=8 block=32 (exact Q8_0 repack)");
        src_close(&s[i]);
    }
    return st;
}
