/*
 * diff.c -- compare two GGUF models: metadata keys (added, removed,
 * changed) and every tensor numerically after dequantizing both sides to
 * f32, with the error metrics of metrics.c; text and JSON renderings.
 *
 * Determinism: each tensor is summed by one thread in row order, so the
 * numbers do not depend on the thread count. With --per-expert the same
 * thread also feeds each expert slice of an expert tensor, in row order, to
 * an accumulator of its own.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/io.h"
#include "kernels/kernels.h"
#include "verify/verify.h"
#include "formats/pool.h"
#include "verify/verify_internal.h"

/* Elements dequantized per side at a time (whole rows, at least one). */
#define CHUNK_ELEMS (1u << 18)
/* Array elements shown in a rendered value. */
#define SHOW_ELEMS 6
/* Bytes of a string shown in a rendered value. */
#define SHOW_BYTES 120

/* ------------------------------------------------------------------------ */
/* Metadata                                                                   */
/* ------------------------------------------------------------------------ */

/* Growable string. */
typedef struct {
    char *p;
    size_t len, cap;
    int nomem;
} sbuf;

static void sb_add(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *s, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = s->cap - s->len;
        va_start(ap, fmt);
        int n = s->p ? vsnprintf(s->p + s->len, room, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = s->cap ? s->cap * 2 : 128;
        while (n >= 0 && cap < s->len + (size_t)n + 1)
            cap *= 2;
        char *q = realloc(s->p, cap);
        if (!q) {
            s->nomem = 1;
            return;
        }
        s->p = q;
        s->cap = cap;
    }
}

static void render_str(sbuf *s, const char *p, uint64_t len) {
    sb_add(s, "\"");
    for (uint64_t i = 0; i < len && i < SHOW_BYTES; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\')
            sb_add(s, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            sb_add(s, "\\x%02x", ch);
        else
            sb_add(s, "%c", ch);
    }
    sb_add(s, len > SHOW_BYTES ? "\"..." : "\"");
}

static void render_scalar(sbuf *s, const fmt_gguf_value *v) {
    switch (v->type) {
    case FMT_GGUF_BOOL: sb_add(s, "%s", v->v.u ? "true" : "false"); break;
    case FMT_GGUF_U8:
    case FMT_GGUF_U16:
    case FMT_GGUF_U32:
    case FMT_GGUF_U64: sb_add(s, "%llu", (unsigned long long)v->v.u); break;
    case FMT_GGUF_I8:
    case FMT_GGUF_I16:
    case FMT_GGUF_I32:
    case FMT_GGUF_I64: sb_add(s, "%lld", (long long)v->v.i); break;
    case FMT_GGUF_F32:
    case FMT_GGUF_F64: sb_add(s, "%.9g", v->v.f); break;
    case FMT_GGUF_STRING: render_str(s, v->v.s.ptr, v->v.s.len); break;
    default: sb_add(s, "?"); break;
    }
}

static char *render_value(const fmt_gguf_value *v) {
    sbuf s = {0};
    if (v->type == FMT_GGUF_ARRAY) {
        sb_add(&s, "[%llu x %s]", (unsigned long long)v->v.arr.n,
               fmt_gguf_type_name(v->v.arr.elem_type));
        fmt_gguf_iter it;
        fmt_gguf_value e;
        fmt_gguf_iter_init(&it, v);
        for (int i = 0; i < SHOW_ELEMS && fmt_gguf_iter_next(&it, &e); i++) {
            sb_add(&s, i ? ", " : " ");
            if (e.type == FMT_GGUF_ARRAY)
                sb_add(&s, "[...]");
            else
                render_scalar(&s, &e);
        }
        if (v->v.arr.n > SHOW_ELEMS)
            sb_add(&s, ", ...");
    } else {
        render_scalar(&s, v);
    }
    if (s.nomem) {
        free(s.p);
        return NULL;
    }
    return s.p;
}

static int same_value(const fmt_gguf_value *a, const fmt_gguf_value *b) {
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case FMT_GGUF_STRING:
        return a->v.s.len == b->v.s.len && memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0;
    case FMT_GGUF_ARRAY:
        return a->v.arr.elem_type == b->v.arr.elem_type && a->v.arr.n == b->v.arr.n &&
               a->v.arr.raw_len == b->v.arr.raw_len &&
               memcmp(a->v.arr.raw, b->v.arr.raw, a->v.arr.raw_len) == 0;
    case FMT_GGUF_F32:
    case FMT_GGUF_F64: return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    default: return a->v.u == b->v.u;
    }
}

static const fmt_gguf_kv *find_kv(const fmt_gguf *g, fmt_str key) {
    for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        if (kv->key.len == key.len && memcmp(kv->key.ptr, key.ptr, key.len) == 0)
            return kv;
    }
    return NULL;
}

static int add_kv(vfy_diff *d, size_t *cap, vfy_kv_change ch, fmt_str key, const fmt_gguf_value *a,
                  const fmt_gguf_value *b) {
    if (d->n_kv == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        vfy_kv_diff *p = realloc(d->kv, c * sizeof *p);
        if (!p)
            return -1;
        d->kv = p;
        *cap = c;
    }
    vfy_kv_diff *k = &d->kv[d->n_kv];
    memset(k, 0, sizeof *k);
    k->change = ch;
    k->key = strndup(key.ptr, (size_t)key.len);
    k->a = a ? render_value(a) : NULL;
    k->b = b ? render_value(b) : NULL;
    d->n_kv++;
    return !k->key || (a && !k->a) || (b && !k->b) ? -1 : 0;
}

static int diff_kv(const fmt_gguf *a, const fmt_gguf *b, vfy_diff *d) {
    size_t cap = 0;
    for (uint64_t i = 0; i < fmt_gguf_n_kv(a); i++) {
        const fmt_gguf_kv *ka = fmt_gguf_kv_at(a, i), *kb = find_kv(b, ka->key);
        if (!kb && add_kv(d, &cap, VFY_KV_REMOVED, ka->key, &ka->value, NULL))
            return -1;
        if (kb && !same_value(&ka->value, &kb->value) &&
            add_kv(d, &cap, VFY_KV_CHANGED, ka->key, &ka->value, &kb->value))
            return -1;
    }
    for (uint64_t i = 0; i < fmt_gguf_n_kv(b); i++) {
        const fmt_gguf_kv *kb = fmt_gguf_kv_at(b, i);
        if (!find_kv(a, kb->key) && add_kv(d, &cap, VFY_KV_ADDED, kb->key, NULL, &kb->value))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Tensors                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    fmt_gguf *a, *b;
    fmt_input *ina, *inb;
    vfy_diff *d;
    int64_t *ia, *ib; /* per row of d->tensors: index in A / B or -1 */
    uint64_t *order;  /* rows to compare, largest first */
    vfy_metrics_acc *acc;
    gk_status *st;
    uint8_t *side_b; /* per row: the read that failed was B's */
    fmt_progress *prog;
    uint64_t n_jobs;
    atomic_uint_fast64_t started, done_bytes; /* for the progress line */
} diff_ctx;

/* Rows [i, i + n) of tensor t, dequantized at fa and fb (ne0 floats a
 * row), to the running accumulator ex of the expert slice (per rows each)
 * they belong to; a slice's metrics are final once its last row is in. */
static void add_experts(vfy_tensor_diff *t, vfy_metrics_acc *ex, int64_t per, int64_t i, int64_t n,
                        int64_t ne0, const float *fa, const float *fb) {
    for (int64_t k = 0; k < n;) {
        int64_t e = (i + k) / per, end = (e + 1) * per;
        int64_t m = end - (i + k) < n - k ? end - (i + k) : n - k;
        vfy_metrics_add(ex, fa + k * ne0, fb + k * ne0, (size_t)(m * ne0));
        k += m;
        if (i + k == end) {
            vfy_metrics_finish(ex, &t->experts[e]);
            vfy_metrics_init(ex);
        }
    }
}

static gk_status compare_job(void *arg, uint64_t j, void *scratch) {
    (void)scratch;
    diff_ctx *c = arg;
    uint64_t r = c->order[j];
    const fmt_gguf_tensor *ta = fmt_gguf_tensor_at(c->a, (uint64_t)c->ia[r]);
    const fmt_gguf_tensor *tb = fmt_gguf_tensor_at(c->b, (uint64_t)c->ib[r]);
    fmt_progress_item(c->prog, atomic_fetch_add(&c->started, 1) + 1, c->n_jobs, ta->name.ptr,
                      (size_t)ta->name.len);
    kern_to_float_fn da = kern_dequant_fn(ta->type), db = kern_dequant_fn(tb->type);
    int64_t ne0 = ta->ne[0], rows = ne0 ? (int64_t)(ta->n_elements / (uint64_t)ne0) : 0;
    int64_t step = ne0 >= (int64_t)CHUNK_ELEMS ? 1 : (int64_t)CHUNK_ELEMS / (ne0 ? ne0 : 1);
    size_t rba = kern_row_bytes(ta->type, ne0), rbb = kern_row_bytes(tb->type, ne0);
    uint64_t ba = fmt_gguf_data_offset(c->a) + ta->offset;
    uint64_t bb = fmt_gguf_data_offset(c->b) + tb->offset;
    size_t nf = (size_t)(step * ne0);
    float *fa = malloc(nf * sizeof *fa + 1), *fb = malloc(nf * sizeof *fb + 1);
    uint8_t *bufa = fmt_input_data(c->ina) ? NULL : malloc((size_t)step * rba + 1);
    uint8_t *bufb = fmt_input_data(c->inb) ? NULL : malloc((size_t)step * rbb + 1);
    vfy_tensor_diff *t = &c->d->tensors[r];
    int64_t per = t->n_experts ? rows / (int64_t)t->n_experts : 0; /* rows per expert, >= 1 */
    vfy_metrics_acc ex;
    vfy_metrics_init(&ex);
    vfy_metrics_init(&c->acc[r]);
    if (!fa || !fb || (!bufa && !fmt_input_data(c->ina)) || (!bufb && !fmt_input_data(c->inb))) {
        c->st[r] = GK_E_NOMEM;
        goto done;
    }
    for (int64_t i = 0; i < rows; i += step) {
        int64_t n = rows - i < step ? rows - i : step;
        gk_status st;
        const uint8_t *pa =
            vfy_input_bytes(c->ina, ba + (uint64_t)i * rba, (size_t)n * rba, bufa, &st);
        const uint8_t *pb =
            pa ? vfy_input_bytes(c->inb, bb + (uint64_t)i * rbb, (size_t)n * rbb, bufb, &st) : NULL;
        if (!pb) {
            c->st[r] = st;
            c->side_b[r] = pa != NULL;
            break;
        }
        for (int64_t k = 0; k < n; k++) {
            da(pa + (size_t)k * rba, fa + k * ne0, ne0);
            db(pb + (size_t)k * rbb, fb + k * ne0, ne0);
        }
        vfy_metrics_add(&c->acc[r], fa, fb, (size_t)(n * ne0));
        if (t->experts)
            add_experts(t, &ex, per, i, n, ne0, fa, fb);
    }
    vfy_metrics_finish(&c->acc[r], &t->m);
    fmt_progress_update(c->prog, atomic_fetch_add(&c->done_bytes, ta->size + tb->size) + ta->size +
                                     tb->size);
done:
    free(fa);
    free(fb);
    free(bufa);
    free(bufb);
    return GK_OK;
}

static int same_shape(const fmt_gguf_tensor *a, const fmt_gguf_tensor *b) {
    if (a->n_dims != b->n_dims)
        return 0;
    for (int k = 0; k < FMT_GGUF_MAX_DIMS; k++)
        if (a->ne[k] != b->ne[k])
            return 0;
    return 1;
}

static void fill_side(vfy_tensor_diff *t, const fmt_gguf_tensor *x, int ref) {
    if (ref) {
        t->ref_type = x->type;
        memcpy(t->ref_ne, x->ne, sizeof t->ref_ne);
        t->ref_bytes = x->size;
    } else {
        t->type = x->type;
        memcpy(t->ne, x->ne, sizeof t->ne);
        t->bytes = x->size;
    }
    t->n_dims = x->n_dims;
    t->n_elements = x->n_elements;
}

static double max_rel(double m, double r) {
    return isnan(m) || isnan(r) ? NAN : r > m ? r : m;
}

/* The experts of an MoE layer: ffn_{gate,up,down,gate_up}_exps and the like,
 * {ne0, ne1, n_expert}, not empty (every slice has a row at least). */
static int expert_tensor(const fmt_gguf_tensor *x, const char *name) {
    return x->n_dims == 3 && x->n_elements > 0 && strstr(name, "_exps.") != NULL;
}

gk_status vfy_diff_gguf(fmt_gguf *a, fmt_input *ina, fmt_gguf *b, fmt_input *inb, int nthreads,
                        int progress, unsigned flags, vfy_diff *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    uint64_t na = fmt_gguf_n_tensors(a), nb = fmt_gguf_n_tensors(b);
    size_t cap = (size_t)(na + nb) + 1;
    diff_ctx c = {.a = a, .b = b, .ina = ina, .inb = inb, .d = out};
    gk_status st = GK_OK;
    out->tensors = calloc(cap, sizeof *out->tensors);
    c.ia = calloc(cap, sizeof *c.ia);
    c.ib = calloc(cap, sizeof *c.ib);
    c.order = calloc(cap, sizeof *c.order);
    c.acc = calloc(cap, sizeof *c.acc);
    c.st = calloc(cap, sizeof *c.st);
    c.side_b = calloc(cap, 1);
    if (!out->tensors || !c.ia || !c.ib || !c.order || !c.acc || !c.st || !c.side_b ||
        diff_kv(a, b, out))
        goto nomem;

    uint64_t n_jobs = 0, bytes = 0;
    for (uint64_t i = 0; i < na; i++) {
        const fmt_gguf_tensor *ta = fmt_gguf_tensor_at(a, i);
        vfy_tensor_diff *t = &out->tensors[out->n_tensors];
        if (!(t->name = strndup(ta->name.ptr, (size_t)ta->name.len)))
            goto nomem;
        int64_t j = fmt_gguf_tensor_index(b, t->name);
        t->type = -1;
        fill_side(t, ta, 1);
        c.ia[out->n_tensors] = (int64_t)i;
        c.ib[out->n_tensors] = j;
        if (j < 0) {
            t->status = VFY_TENSOR_MISSING;
            out->n_missing++;
        } else {
            const fmt_gguf_tensor *tb = fmt_gguf_tensor_at(b, (uint64_t)j);
            fill_side(t, tb, 0);
            if (!same_shape(ta, tb)) {
                t->status = VFY_TENSOR_MISSHAPED;
                out->n_misshaped++;
            } else if (!kern_dequant_fn(ta->type) || !kern_dequant_fn(tb->type)) {
                t->status = VFY_TENSOR_UNDECODABLE;
                out->n_undecodable++;
            } else {
                if ((flags & VFY_DIFF_PER_EXPERT) && expert_tensor(ta, t->name)) {
                    t->n_experts = (uint64_t)ta->ne[2];
                    if (!(t->experts = calloc(t->n_experts + 1, sizeof *t->experts)))
                        goto nomem;
                }
                c.order[n_jobs++] = out->n_tensors;
                bytes += ta->size + tb->size;
            }
        }
        out->n_tensors++;
    }
    for (uint64_t j = 0; j < nb; j++) {
        const fmt_gguf_tensor *tb = fmt_gguf_tensor_at(b, j);
        vfy_tensor_diff *t = &out->tensors[out->n_tensors];
        if (!(t->name = strndup(tb->name.ptr, (size_t)tb->name.len)))
            goto nomem;
        if (fmt_gguf_tensor_index(a, t->name) >= 0) {
            free(t->name);
            t->name = NULL;
            continue;
        }
        t->status = VFY_TENSOR_EXTRA;
        t->ref_type = -1;
        fill_side(t, tb, 0);
        out->n_extra++;
        out->n_tensors++;
    }

    c.n_jobs = n_jobs;
    c.prog = fmt_progress_start("comparing", bytes, progress);
    fmt_pool_run(nthreads, n_jobs, compare_job, &c);
    fmt_progress_end(c.prog);
    vfy_metrics_acc total;
    vfy_metrics_init(&total);
    out->max_rel = 0;
    for (size_t r = 0; r < out->n_tensors; r++) {
        if (out->tensors[r].status != VFY_TENSOR_COMPARED || out->tensors[r].type < 0)
            continue;
        if (c.st[r] != GK_OK) {
            st = c.st[r];
            if (st == GK_E_NOMEM)
                goto nomem;
            snprintf(err, errcap, "tensor '%s': %s", out->tensors[r].name,
                     fmt_input_errmsg(c.side_b[r] ? inb : ina));
            goto fail;
        }
        vfy_metrics_merge(&total, &c.acc[r]);
        out->max_rel = max_rel(out->max_rel, out->tensors[r].m.rel_rms);
        for (uint64_t e = 0; e < out->tensors[r].n_experts; e++)
            out->max_rel = max_rel(out->max_rel, out->tensors[r].experts[e].rel_rms);
        out->n_compared++;
    }
    vfy_metrics_finish(&total, &out->total);
    goto done;
nomem:
    st = GK_E_NOMEM;
    snprintf(err, errcap, "out of memory");
fail:
    vfy_diff_free(out);
done:
    free(c.ia);
    free(c.ib);
    free(c.order);
    free(c.acc);
    free(c.st);
    free(c.side_b);
    return st;
}

void vfy_diff_free(vfy_diff *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->n_kv; i++) {
        free(d->kv[i].key);
        free(d->kv[i].a);
        free(d->kv[i].b);
    }
    for (size_t i = 0; i < d->n_tensors; i++) {
        free(d->tensors[i].name);
        free(d->tensors[i].experts);
    }
    free(d->kv);
    free(d->tensors);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------------ */
/* Rendering                                                                  */
/* ------------------------------------------------------------------------ */

static const char *status_name(vfy_tensor_status s) {
    switch (s) {
    case VFY_TENSOR_COMPARED: return "compared";
    case VFY_TENSOR_MISSING: return "missing";
    case VFY_TENSOR_EXTRA: return "extra";
    case VFY_TENSOR_MISSHAPED: return "misshaped";
    case VFY_TENSOR_UNDECODABLE: return "undecodable";
    }
    return "?";
}

static const char *type_label(int t) {
    return t < 0 ? "-" : kern_type_label(t);
}

static void shape_str(char *buf, size_t cap, uint32_t n_dims, const int64_t *ne) {
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t k = 0; k < n_dims && o < cap; k++)
        o += (size_t)snprintf(buf + o, cap - o, k ? "x%lld" : "%lld", (long long)ne[k]);
}

/* Keys, values and names come from the files: the terminal rule, cut
 * after 200 bytes (the JSON and HTML reports carry them whole). */
static const char *esc(char buf[FMT_SHOWN_NAME], const char *s) {
    return fmt_escape_term(buf, FMT_SHOWN_NAME, s, strlen(s));
}

gk_status vfy_diff_write_text(FILE *f, const vfy_diff *d, const char *a_name, const char *b_name) {
    char e1[FMT_SHOWN_NAME], e2[FMT_SHOWN_NAME], e3[FMT_SHOWN_NAME];
    fprintf(f, "A (reference)  %s\nB (compared)   %s\n\n", esc(e1, a_name), esc(e2, b_name));
    fprintf(f, "metadata: %zu difference%s\n", d->n_kv, d->n_kv == 1 ? "" : "s");
    for (size_t i = 0; i < d->n_kv; i++) {
        const vfy_kv_diff *k = &d->kv[i];
        if (k->change == VFY_KV_ADDED)
            fprintf(f, "  + %s = %s\n", esc(e1, k->key), esc(e2, k->b));
        else if (k->change == VFY_KV_REMOVED)
            fprintf(f, "  - %s = %s\n", esc(e1, k->key), esc(e2, k->a));
        else
            fprintf(f, "  ~ %s: %s -> %s\n", esc(e1, k->key), esc(e2, k->a), esc(e3, k->b));
    }
    fprintf(f, "\ntensors: %llu compared, %llu missing in B, %llu extra in B, %llu misshaped",
            (unsigned long long)d->n_compared, (unsigned long long)d->n_missing,
            (unsigned long long)d->n_extra, (unsigned long long)d->n_misshaped);
    if (d->n_undecodable)
        fprintf(f, ", %llu undecodable", (unsigned long long)d->n_undecodable);
    fprintf(f, "\n  %-34s %-7s %-7s %11s %11s %11s %10s %8s\n", "name", "A", "B", "rmse", "max_abs",
            "rel_err", "cosine", "snr_db");
    for (size_t i = 0; i < d->n_tensors; i++) {
        const vfy_tensor_diff *t = &d->tensors[i];
        fprintf(f, "  %-34s %-7s %-7s ", esc(e1, t->name), type_label(t->ref_type),
                type_label(t->type));
        if (t->status == VFY_TENSOR_COMPARED) {
            fprintf(f, "%11.4e %11.4e %11.4e %10.7f %8.2f\n", t->m.rmse, t->m.max_abs_err,
                    t->m.rel_rms, t->m.cosine, t->m.snr_db);
            for (uint64_t e = 0; e < t->n_experts; e++) {
                const vfy_metrics *x = &t->experts[e];
                fprintf(f, "    expert %-25llu %-7s %-7s %11.4e %11.4e %11.4e %10.7f %8.2f\n",
                        (unsigned long long)e, "", "", x->rmse, x->max_abs_err, x->rel_rms,
                        x->cosine, x->snr_db);
            }
        } else if (t->status == VFY_TENSOR_MISSHAPED) {
            char sa[96], sb[96];
            shape_str(sa, sizeof sa, t->n_dims, t->ref_ne);
            shape_str(sb, sizeof sb, t->n_dims, t->ne);
            fprintf(f, "misshaped: %s in A, %s in B\n", sa, sb);
        } else {
            fprintf(f, "%s\n", status_name(t->status));
        }
    }
    const vfy_metrics *m = &d->total;
    fprintf(f, "  %-34s %-7s %-7s %11.4e %11.4e %11.4e %10.7f %8.2f\n", "(all compared)", "", "",
            m->rmse, m->max_abs_err, m->rel_rms, m->cosine, m->snr_db);
    fprintf(f, "max rel_err %.4e\n", d->max_rel);
    return ferror(f) ? GK_E_IO : GK_OK;
}

/* A number, or null when it is not finite (JSON has no Inf/NaN). */
static json_t *num(double x) {
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *metrics_json(const vfy_metrics *m) {
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)m->n, "rmse", num(m->rmse),
                     "max_abs_err", num(m->max_abs_err), "rel_err", num(m->rel_rms), "cosine",
                     num(m->cosine), "snr_db", num(m->snr_db));
}

static json_t *shape_json(uint32_t n_dims, const int64_t *ne) {
    json_t *a = json_array();
    for (uint32_t k = 0; k < n_dims; k++)
        json_array_append_new(a, json_integer((json_int_t)ne[k]));
    return a;
}

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

gk_status vfy_diff_write_json(FILE *f, const vfy_diff *d, const char *a_name, const char *b_name) {
    static const char *changes[] = {"added", "removed", "changed"};
    json_t *kv = json_array(), *ts = json_array();
    for (size_t i = 0; i < d->n_kv; i++) {
        const vfy_kv_diff *k = &d->kv[i];
        json_array_append_new(kv, json_pack("{s:s, s:s, s:o, s:o}", "key", k->key, "change",
                                            changes[k->change], "a", str_or_null(k->a), "b",
                                            str_or_null(k->b)));
    }
    for (size_t i = 0; i < d->n_tensors; i++) {
        const vfy_tensor_diff *t = &d->tensors[i];
        json_t *o =
            json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:I}", "name", t->name, "status",
                      status_name(t->status), "type_a",
                      t->ref_type < 0 ? json_null() : json_string(kern_type_label(t->ref_type)),
                      "type_b", t->type < 0 ? json_null() : json_string(kern_type_label(t->type)),
                      "shape_a", t->ref_type < 0 ? json_null() : shape_json(t->n_dims, t->ref_ne),
                      "shape_b", t->type < 0 ? json_null() : shape_json(t->n_dims, t->ne),
                      "n_elements", (json_int_t)t->n_elements, "bytes_a", (json_int_t)t->ref_bytes,
                      "bytes_b", (json_int_t)t->bytes);
        json_object_set_new(o, "metrics",
                            t->status == VFY_TENSOR_COMPARED ? metrics_json(&t->m) : json_null());
        if (t->experts) {
            json_t *ex = json_array();
            for (uint64_t e = 0; e < t->n_experts; e++)
                json_array_append_new(ex, json_pack("{s:I, s:o}", "expert", (json_int_t)e,
                                                    "metrics", metrics_json(&t->experts[e])));
            json_object_set_new(o, "experts", ex);
        }
        json_array_append_new(ts, o);
    }
    json_t *root =
        json_pack("{s:i, s:s, s:s, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:o, s:o}}", "version", 1,
                  "a", a_name, "b", b_name, "metadata", kv, "tensors", ts, "summary", "compared",
                  (json_int_t)d->n_compared, "missing", (json_int_t)d->n_missing, "extra",
                  (json_int_t)d->n_extra, "misshaped", (json_int_t)d->n_misshaped, "undecodable",
                  (json_int_t)d->n_undecodable, "max_rel_err", num(d->max_rel), "total",
                  metrics_json(&d->total));
    if (!root)
        return GK_E_NOMEM;
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (rc == 0)
        fputc('\n', f);
    return rc != 0 || ferror(f) ? GK_E_IO : GK_OK;
}
