/*
 * view.h -- tensors computed from other tensors without copying them, as a
 * tensor source (formats/source.h): a strided view of a stored tensor (the
 * torch view/split/transpose/[::2] a converter applies: gpt-oss's
 * interleaved gate_up_proj, DeepSeek's kv_b_proj cut into k_b and v_b),
 * and a set builder that puts such records next to the input records it
 * keeps.
 *
 * A view reads elements of its base's stored bytes (data mapped, an
 * element type: F32, F16, BF16, F64) at
 *     offset + sum_k index[k] * stride[k]      (elements of the base)
 * so it costs nothing until rows are read, and each row is read once.
 * A computed base (a dequantized FP8 weight: data NULL) is read whole as
 * f32 on the first row asked, once, and freed after the view's last row
 * is released (or with the set): one such tensor per view in flight.
 */
#ifndef FORMATS_VIEW_H
#define FORMATS_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "source.h"

typedef struct {
    const fmt_src_tensor *base;
    uint32_t n_dims;
    int64_t shape[FMT_SRC_MAX_DIMS];  /* row-major, as fmt_src_tensor */
    int64_t stride[FMT_SRC_MAX_DIMS]; /* in elements of base */
    int64_t offset;                   /* in elements of base */
} fmt_view;

/* The whole of base, contiguous. GK_E_UNSUPPORTED when base is mapped but
 * its type is not an element type. */
gk_status fmt_view_of(fmt_view *v, const fmt_src_tensor *base);

/* Dimension d split into [n, shape[d] / n] (torch view); GK_E_FORMAT
 * when n does not divide it or there is no room for a dimension. */
gk_status fmt_view_split(fmt_view *v, uint32_t d, int64_t n);

/* Dimension d cut to elements start, start + step, ... (len of them);
 * GK_E_FORMAT when that leaves the dimension. */
gk_status fmt_view_slice(fmt_view *v, uint32_t d, int64_t start, int64_t len, int64_t step);

/* Dimensions a and b swapped (torch transpose). */
gk_status fmt_view_transpose(fmt_view *v, uint32_t a, uint32_t b);

/* ------------------------------------------------------------------------ */
/* Sets of kept and computed records                                          */
/* ------------------------------------------------------------------------ */

typedef struct fmt_xset fmt_xset;

fmt_xset *fmt_xset_new(void);

/* An input record, unchanged (it must outlive the set). */
gk_status fmt_xset_keep(fmt_xset *x, const fmt_src_tensor *t);

/* A view of that name (copied) and the base's type, dtype and file. */
gk_status fmt_xset_add_view(fmt_xset *x, const char *name, const fmt_view *v);

/* A computed record built by another transform: rec is copied with its
 * name (copied); ctx (may be NULL) becomes the set's, freed with it. */
gk_status fmt_xset_add(fmt_xset *x, const fmt_src_tensor *rec, const char *name, void *ctx);

/* The set of every record added, in the order added. Built once; owned by
 * x. NULL with *st on failure. */
fmt_src *fmt_xset_source(fmt_xset *x, gk_status *st);

/* Free the set, names and contexts; accepts NULL. */
void fmt_xset_free(fmt_xset *x);

#endif
