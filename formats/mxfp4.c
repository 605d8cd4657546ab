/*
 * mxfp4.c -- Hugging Face MXFP4 pairs repacked to ggml MXFP4 rows (see
 * mxfp4.h).
 */
#include "mxfp4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "io.h"

/* An OCP MX block: 32 elements, 16 bytes of codes in the checkpoint. */
enum { QK = 32, HF_BYTES = 16 };

typedef struct {
    const uint8_t *blocks, *scales;
    size_t gg_bytes;    /* kern_row_bytes(KERN_TYPE_MXFP4, 32) */
    int64_t n_rows_src; /* N */
    int64_t nb;         /* blocks per row */
    int64_t n_sel, start, step;
} mx_job;

void fmt_mxfp4_repack_block(uint8_t e8m0, const uint8_t hf[16], void *dst) {
    uint8_t codes[QK]; /* element e is nibble e & 1 of byte e / 2 */
    for (int e = 0; e < QK; e++)
        codes[e] = (uint8_t)((hf[e / 2] >> (4 * (e & 1))) & 0x0F);
    kern_mxfp4_block_from_codes(e8m0, codes, dst);
}

/* Output row r: leading index r / n_sel, selected row r % n_sel. */
static int64_t src_row(const mx_job *j, int64_t r) {
    return (r / j->n_sel) * j->n_rows_src + j->start + (r % j->n_sel) * j->step;
}

static void repack_row(const mx_job *j, int64_t r, uint8_t *dst) {
    int64_t s = src_row(j, r);
    const uint8_t *b = j->blocks + (size_t)s * (size_t)j->nb * HF_BYTES;
    const uint8_t *e = j->scales + (size_t)s * (size_t)j->nb;
    for (int64_t k = 0; k < j->nb; k++, dst += j->gg_bytes)
        fmt_mxfp4_repack_block(e[k], b + k * HF_BYTES, dst);
}

static gk_status mx_read_raw(const fmt_src_tensor *t, int64_t r0, int64_t n, uint8_t *dst) {
    const mx_job *j = t->raw_ctx;
    for (int64_t r = r0; r < r0 + n; r++, dst += (size_t)j->nb * j->gg_bytes)
        repack_row(j, r, dst);
    return GK_OK;
}

static gk_status mx_read(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const mx_job *j = t->ctx;
    for (int64_t r = r0; r < r0 + n; r++) {
        int64_t s = src_row(j, r);
        const uint8_t *b = j->blocks + (size_t)s * (size_t)j->nb * HF_BYTES;
        const uint8_t *e = j->scales + (size_t)s * (size_t)j->nb;
        for (int64_t k = 0; k < j->nb; k++, dst += QK) {
            uint8_t blk[64]; /* one ggml block */
            fmt_mxfp4_repack_block(e[k], b + k * HF_BYTES, blk);
            if (kern_row_to_f32(KERN_TYPE_MXFP4, blk, dst, QK) != 0)
                return GK_E_UNSUPPORTED;
        }
    }
    return GK_OK;
}

/* fmt_src_release_fn: the blocks and scales rows [r0, r1) read. */
static void mx_release(const fmt_src_tensor *t, int64_t r0, int64_t r1) {
    const mx_job *j = t->ctx;
    if (r1 <= r0)
        return;
    int64_t s0 = src_row(j, r0), s1 = src_row(j, r1 - 1) + 1;
    size_t nb = (size_t)j->nb;
    fmt_release_pages(j->blocks + (size_t)s0 * nb * HF_BYTES, (size_t)(s1 - s0) * nb * HF_BYTES);
    fmt_release_pages(j->scales + (size_t)s0 * nb, (size_t)(s1 - s0) * nb);
}

static void shape_str(const fmt_src_tensor *t, char *buf, size_t cap) {
    buf[0] = '\0';
    for (uint32_t k = 0; k < t->n_dims && k < FMT_SRC_MAX_DIMS; k++)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%lld", k ? "x" : "",
                 (long long)t->shape[k]);
    if (!buf[0])
        snprintf(buf, cap, "()");
}

gk_status fmt_mxfp4_add(fmt_xset *x, const char *name, const fmt_src_tensor *blocks,
                        const fmt_src_tensor *scales, int64_t start, int64_t step, char *err,
                        size_t errcap) {
    char bs[96], ss[96];
    shape_str(blocks, bs, sizeof bs);
    shape_str(scales, ss, sizeof ss);
    uint32_t nd = blocks->n_dims;
    if (strcmp(blocks->dtype, "U8") != 0 || !blocks->data || nd < 3 ||
        blocks->shape[nd - 1] != HF_BYTES) {
        snprintf(err, errcap,
                 "%s: tensor '%s' has dtype %s and shape %s (MXFP4 blocks: U8 [..., rows, "
                 "blocks, 16])",
                 blocks->file, blocks->name, blocks->dtype, bs);
        return GK_E_FORMAT;
    }
    int ok = strcmp(scales->dtype, "U8") == 0 && scales->data && scales->n_dims == nd - 1;
    for (uint32_t k = 0; ok && k + 1 < nd; k++)
        ok = scales->shape[k] == blocks->shape[k];
    if (!ok) {
        snprintf(err, errcap,
                 "%s: tensor '%s' has dtype %s and shape %s, its blocks '%s' (%s) need U8 "
                 "%.*s (one E8M0 scale per block of 32)",
                 scales->file, scales->name, scales->dtype, ss, blocks->name, bs,
                 (int)(strrchr(bs, 'x') ? (size_t)(strrchr(bs, 'x') - bs) : strlen(bs)), bs);
        return GK_E_FORMAT;
    }
    int64_t rows = blocks->shape[nd - 3], nb = blocks->shape[nd - 2];
    int64_t n_sel = step > 0 && start >= 0 && start < rows ? (rows - start + step - 1) / step : 0;
    if (n_sel == 0 || rows % step != 0 || nb <= 0) {
        snprintf(err, errcap, "%s: tensor '%s' has shape %s: its %lld rows do not split in %lld",
                 blocks->file, blocks->name, bs, (long long)rows, (long long)step);
        return GK_E_FORMAT;
    }
    mx_job *j = malloc(sizeof *j);
    if (!j) {
        snprintf(err, errcap, "out of memory");
        return GK_E_NOMEM;
    }
    *j = (mx_job){blocks->data, scales->data, kern_row_bytes(KERN_TYPE_MXFP4, QK), rows, nb, n_sel,
                  start,        step};
    fmt_src_tensor r = {.type = KERN_TYPE_MXFP4,
                        .dtype = "MXFP4",
                        .n_dims = nd - 1,
                        .n_elements = 1,
                        .file = scales->file, /* written where its scales are */
                        .read = mx_read,
                        .read_raw = mx_read_raw,
                        .raw_ctx = j,
                        .release = mx_release};
    for (uint32_t k = 0; k + 3 < nd; k++)
        r.shape[k] = blocks->shape[k];
    r.shape[nd - 3] = n_sel;
    r.shape[nd - 2] = nb * QK;
    for (uint32_t k = 0; k < r.n_dims; k++)
        r.n_elements *= (uint64_t)r.shape[k];
    r.size = r.n_elements / QK * j->gg_bytes;
    gk_status st = fmt_xset_add(x, &r, name, j);
    if (st != GK_OK)
        snprintf(err, errcap, "out of memory");
    return st;
}
