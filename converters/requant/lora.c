/*
 * lora.c -- LoRA adapters merged into a base model (see lora.h).
 *
 * export-lora builds, per adapted tensor W [ne0 = n_in, ne1 = n_out] and
 * adapter (A, B, alpha): delta = mul_mat(cont(transpose(A)), B), or
 * mul_mat(B, A) for token_embd*; delta = scale(delta, s); cur = add(delta,
 * cur), starting from W dequantized to f32; then cast(cur, F16 or F32).
 * Every output element is one rank-r dot product. ggml's CPU mul_mat
 * (ec562eb, AVX-512 build) computes it in one of two orders:
 * - the llamafile sgemm (tinyBLAS<16>) when r % 16 == 0, n_in % 4 == 0 and
 *   n_out >= 2: sixteen lanes, each a chain of fused multiply-adds over the
 *   k = l, l + 16, ... terms, then _mm512_reduce_add_ps's tree;
 * - otherwise ggml_vec_dot_f32: four sixteen-lane fused chains over each
 *   64-wide step, summed (0 + 2, 1 + 3, then the two), reduced by the same
 *   tree, then the tail r % 64 added to the scalar sum one product at a
 *   time (a multiply, then an add: that loop is not fused).
 * Experts (3-D W, A and B) are n_exp such products side by side, as
 * mul_mat batches them over ne[2].
 * Both are written here per output element with the same operations in the
 * same order (LORA_DOTS: fused where ggml fuses, AVX-512, AVX2 + FMA or
 * scalar fmaf), so the result is the same on any CPU and at any width. The
 * scale is one multiply and the add one add, not fused.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "converters/requant/lora.h"
#include "formats/pool.h"
#include "kernels/kernels.h"

#define LANES 16
#define VEC_STEP 64        /* ggml's GGML_F32_STEP for AVX-512 */
#define JOB_ELEMENTS 65536 /* output elements per parallel job */
#define MOSTLY_F16 1u      /* llama_ftype export-lora writes */

typedef struct {
    const char *path;
    fmt_input *in;
    fmt_gguf *g;
    float user_scale, alpha;
} adapter;

/* One tensor of the merged model, in its (name) order. */
typedef struct {
    uint64_t base;              /* index in the base */
    int merged;                 /* the adapters change it */
    int out_type;               /* type in the merged model */
    int embd;                   /* token_embd*: delta = B x A the other way round */
    int64_t n_in, n_out, n_exp; /* ne[0], ne[1], ne[2] (experts, else 1) */
} entry;

struct rq_lora {
    fmt_gguf *base;
    const char *base_path;
    adapter *ad;
    size_t n_ad;
    entry *e;
    uint64_t n;
    int64_t *pair; /* n * n_ad * 2: lora_a, lora_b index in each adapter, -1 if none */
    size_t n_merged;
    fmt_gguf_writer *w;
    fmt_gguf *header;
    int nthreads;
};

/* ------------------------------------------------------------------------ */
/* Arguments                                                                  */
/* ------------------------------------------------------------------------ */

gk_status rq_lora_parse(const char *arg, char *path, size_t cap, float *scale, char *err,
                        size_t errcap) {
    size_t len = strlen(arg);
    const char *colon = strrchr(arg, ':');
    struct stat sb;
    *scale = 1.0f;
    if (colon && colon[1] && stat(arg, &sb) != 0) {
        char *end;
        errno = 0;
        float s = strtof(colon + 1, &end);
        if (!*end && !errno && isfinite(s)) {
            *scale = s;
            len = (size_t)(colon - arg);
        }
    }
    if (len == 0 || len >= cap) {
        gk_msgf(err, errcap, "--lora: bad adapter name '%s'", arg);
        return GK_E_USAGE;
    }
    memcpy(path, arg, len);
    path[len] = 0;
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Opening and checking                                                       */
/* ------------------------------------------------------------------------ */

static int str_is(const fmt_gguf *g, const char *key, const char *want) {
    fmt_str s;
    return fmt_gguf_get_str(g, key, &s) && s.len == strlen(want) && !memcmp(s.ptr, want, s.len);
}

/* The string value of key, quoted for a message, or "none". */
static const char *str_of(const fmt_gguf *g, const char *key, char *buf, size_t cap) {
    fmt_str s;
    if (!fmt_gguf_get_str(g, key, &s))
        return "none";
    snprintf(buf, cap, "'%.*s'", (int)(s.len > 64 ? 64 : s.len), s.ptr);
    return buf;
}

static gk_status open_adapter(adapter *a, const fmt_gguf *base, gk_error *e) {
    char err[1024] = "", b1[80], b2[80];
    gk_status st;
    if (!(a->in = fmt_input_open(a->path, NULL, &st, err, sizeof err)))
        return gk_error_set(e, st, a->path, "%s", err);
    if (fmt_input_size(a->in) == UINT64_MAX && (st = fmt_input_make_seekable(a->in)) != GK_OK)
        return gk_error_set(e, st, a->path, "%s", fmt_input_errmsg(a->in));
    if (!(a->g = fmt_gguf_open(a->in, &st)))
        return gk_error_set(e, st, a->path, "%s", fmt_gguf_open_errmsg());
    if (!str_is(a->g, "general.type", "adapter") || !str_is(a->g, "adapter.type", "lora"))
        return gk_error_set(e, GK_E_FORMAT, a->path,
                            "not a LoRA adapter (general.type %s, adapter.type %s; convert a PEFT "
                            "adapter with hf2gguf --lora)",
                            str_of(a->g, "general.type", b1, sizeof b1),
                            str_of(a->g, "adapter.type", b2, sizeof b2));
    fmt_str arch, aarch;
    fmt_gguf_get_str(base, "general.architecture", &arch); /* check_base made sure */
    if (!fmt_gguf_get_str(a->g, "general.architecture", &aarch))
        return gk_error_set(e, GK_E_FORMAT, a->path, "no general.architecture");
    if (aarch.len != arch.len || memcmp(aarch.ptr, arch.ptr, arch.len))
        return gk_error_set(e, GK_E_FORMAT, a->path,
                            "an adapter for architecture %s, the base is %s",
                            str_of(a->g, "general.architecture", b1, sizeof b1),
                            str_of(base, "general.architecture", b2, sizeof b2));
    double alpha = 0;
    if (fmt_gguf_find_kv(a->g, "adapter.lora.alpha") &&
        (!fmt_gguf_get_f64(a->g, "adapter.lora.alpha", &alpha) || !isfinite((float)alpha)))
        return gk_error_set(e, GK_E_FORMAT, a->path, "adapter.lora.alpha is not a finite number");
    a->alpha = (float)alpha;
    return GK_OK;
}

/* Index of the base tensor an adapter tensor name adapts ("T.lora_a"),
 * *is_b telling which factor; -1 when the name has neither suffix, -2 when
 * the base has no tensor T. */
static int64_t target_of(const fmt_gguf *base, const fmt_str *name, int *is_b) {
    static const char sa[] = ".lora_a", sb[] = ".lora_b";
    size_t ls = sizeof sa - 1;
    if (name->len <= ls || name->len - ls > FMT_GGUF_MAX_NAME)
        return -1;
    const char *tail = name->ptr + name->len - ls;
    if (memcmp(tail, sa, ls) && memcmp(tail, sb, ls))
        return -1;
    *is_b = !memcmp(tail, sb, ls);
    char t[FMT_GGUF_MAX_NAME + 1];
    memcpy(t, name->ptr, name->len - ls);
    t[name->len - ls] = 0;
    int64_t i = fmt_gguf_tensor_index(base, t);
    return i < 0 ? -2 : i;
}

static int is_float_type(int type) {
    return type == KERN_TYPE_F32 || type == KERN_TYPE_F16 || type == KERN_TYPE_BF16;
}

static int name_starts(const fmt_str *s, const char *prefix) {
    size_t n = strlen(prefix);
    return s->len >= n && !memcmp(s->ptr, prefix, n);
}

/* Record adapter k's tensors in m->pair; check names, types, pairs. */
static gk_status index_adapter(rq_lora *m, size_t k, gk_error *e) {
    adapter *a = &m->ad[k];
    for (uint64_t i = 0; i < fmt_gguf_n_tensors(a->g); i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(a->g, i);
        int is_b = 0;
        int64_t bi = target_of(m->base, &t->name, &is_b);
        if (bi == -1)
            return gk_error_set(e, GK_E_FORMAT, a->path,
                                "tensor '%.*s' is not a LoRA factor (no .lora_a or .lora_b suffix)",
                                (int)t->name.len, t->name.ptr);
        if (bi == -2)
            return gk_error_set(e, GK_E_FORMAT, a->path,
                                "tensor '%.*s' adapts a tensor the base has not (an adapter for "
                                "another model?)",
                                (int)t->name.len, t->name.ptr);
        if (!is_float_type(t->type))
            return gk_error_set(e, GK_E_UNSUPPORTED, a->path,
                                "tensor '%.*s' is %s: quantized LoRA adapters cannot be merged "
                                "(convert the adapter with hf2gguf --lora --outtype f16 or f32)",
                                (int)t->name.len, t->name.ptr, kern_type_label(t->type));
        m->pair[((uint64_t)bi * m->n_ad + k) * 2 + (unsigned)is_b] = (int64_t)i;
    }
    return GK_OK;
}

/* Check that the factors of base tensor bi fit it in every adapter. */
static gk_status check_shapes(rq_lora *m, uint64_t bi, entry *en, gk_error *e) {
    const fmt_gguf_tensor *w = fmt_gguf_tensor_at(m->base, bi);
    en->embd = name_starts(&w->name, "token_embd");
    en->n_in = w->ne[0];
    en->n_out = w->ne[1];
    en->n_exp = w->ne[2];
    if (!kern_row_to_f32_supported(w->type))
        return gk_error_set(e, GK_E_UNSUPPORTED, m->base_path,
                            "tensor '%.*s' is %s, which cannot be read as f32 to merge into",
                            (int)w->name.len, w->name.ptr, kern_type_label(w->type));
    for (size_t k = 0; k < m->n_ad; k++) {
        const int64_t *p = &m->pair[(bi * m->n_ad + k) * 2];
        const char *path = m->ad[k].path;
        const fmt_gguf_tensor *ta = fmt_gguf_tensor_at(m->ad[k].g, (uint64_t)p[0]);
        const fmt_gguf_tensor *tb = fmt_gguf_tensor_at(m->ad[k].g, (uint64_t)p[1]);
        if (w->ne[3] != 1 || (en->embd && w->ne[2] != 1))
            return gk_error_set(e, GK_E_UNSUPPORTED, path,
                                "'%.*s': only 2-D tensors and 3-D experts can be merged",
                                (int)w->name.len, w->name.ptr);
        int64_t r = tb->ne[0];
        int fits = en->embd ? ta->ne[0] == r && ta->ne[1] == w->ne[1] && tb->ne[1] == w->ne[0]
                            : ta->ne[1] == r && ta->ne[0] == w->ne[0] && tb->ne[1] == w->ne[1];
        fits = fits && ta->ne[2] == w->ne[2] && tb->ne[2] == w->ne[2] && ta->ne[3] == 1 &&
               tb->ne[3] == 1;
        if (r < 1)
            return gk_error_set(e, GK_E_FORMAT, path, "'%.*s': LoRA rank 0", (int)w->name.len,
                                w->name.ptr);
        if (!fits)
            return gk_error_set(e, GK_E_FORMAT, path,
                                "'%.*s': lora_a [%lld, %lld, %lld] and lora_b [%lld, %lld, %lld] "
                                "do not fit the base tensor [%lld, %lld, %lld] (ggml order)",
                                (int)w->name.len, w->name.ptr, (long long)ta->ne[0],
                                (long long)ta->ne[1], (long long)ta->ne[2], (long long)tb->ne[0],
                                (long long)tb->ne[1], (long long)tb->ne[2], (long long)w->ne[0],
                                (long long)w->ne[1], (long long)w->ne[2]);
    }
    return GK_OK;
}

/* Classify every base tensor: copied, or adapted by every adapter. */
static gk_status classify(rq_lora *m, gk_error *e) {
    for (uint64_t bi = 0; bi < m->n; bi++) {
        size_t has = 0;
        for (size_t k = 0; k < m->n_ad; k++) {
            const int64_t *p = &m->pair[(bi * m->n_ad + k) * 2];
            const fmt_gguf_tensor *w = fmt_gguf_tensor_at(m->base, bi);
            if ((p[0] < 0) != (p[1] < 0))
                return gk_error_set(e, GK_E_FORMAT, m->ad[k].path, "'%.*s' has %s without %s",
                                    (int)w->name.len, w->name.ptr, p[0] < 0 ? "lora_b" : "lora_a",
                                    p[0] < 0 ? "lora_a" : "lora_b");
            has += p[0] >= 0;
        }
        if (has && has != m->n_ad)
            return gk_error_set(e, GK_E_UNSUPPORTED, NULL,
                                "the adapters do not adapt the same tensors: merge them one at "
                                "a time (as llama-export-lora requires)");
        m->e[bi].base = bi;
        m->e[bi].merged = has > 0;
        int type = fmt_gguf_tensor_at(m->base, bi)->type;
        m->e[bi].out_type = has ? (type == KERN_TYPE_F32 ? KERN_TYPE_F32 : KERN_TYPE_F16) : type;
        if (has) {
            gk_status st = check_shapes(m, bi, &m->e[bi], e);
            if (st != GK_OK)
                return st;
            m->n_merged++;
        }
    }
    return GK_OK;
}

/* export-lora's tensor order: std::map<std::string>, bytewise by name. */
static int by_name(const void *x, const void *y, void *base) {
    const fmt_str *a = &fmt_gguf_tensor_at(base, ((const entry *)x)->base)->name;
    const fmt_str *b = &fmt_gguf_tensor_at(base, ((const entry *)y)->base)->name;
    int c = memcmp(a->ptr, b->ptr, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* ggml_n_dims: dimensions up to the last one above 1. */
static uint32_t n_dims_of(const int64_t *ne) {
    for (uint32_t i = FMT_GGUF_MAX_DIMS - 1; i > 0; i--)
        if (ne[i] > 1)
            return i + 1;
    return 1;
}

/* The merged model's header: gguf_set_kv of the base, then
 * general.file_type set (moved last), then the tensors in name order. */
static gk_status build_header(rq_lora *m, gk_error *e, const char *base_path) {
    gk_status st;
    if (!(m->w = fmt_gguf_writer_create(3, FMT_GGUF_DEFAULT_ALIGNMENT, &st)))
        return gk_error_set(e, st, NULL, NULL);
    for (uint64_t i = 0; i < fmt_gguf_n_kv(m->base) && st == GK_OK; i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(m->base, i);
        if (kv->key.len == strlen("general.file_type") &&
            !memcmp(kv->key.ptr, "general.file_type", kv->key.len))
            continue;
        st = fmt_gguf_writer_add_kv(m->w, kv->key.ptr, (size_t)kv->key.len, &kv->value);
    }
    if (st == GK_OK)
        st = fmt_gguf_writer_add_u32(m->w, "general.file_type", MOSTLY_F16);
    for (uint64_t i = 0; i < m->n && st == GK_OK; i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(m->base, m->e[i].base);
        char name[FMT_GGUF_MAX_NAME + 1];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        st = fmt_gguf_writer_add_tensor(m->w, name, n_dims_of(t->ne), t->ne, m->e[i].out_type);
    }
    if (st != GK_OK)
        return gk_error_set(e, st, base_path, "%s", fmt_gguf_writer_errmsg(m->w));
    if (!(m->header = fmt_gguf_writer_header_reader(m->w, &st)))
        return gk_error_set(e, st, base_path, "%s", fmt_gguf_open_errmsg());
    return GK_OK;
}

static gk_status check_base(const fmt_gguf *base, const char *path, gk_error *e) {
    uint64_t align;
    fmt_str arch;
    if (str_is(base, "general.type", "adapter"))
        return gk_error_set(e, GK_E_USAGE, path,
                            "is a LoRA adapter, not a base model (give adapters with --lora)");
    if (!fmt_gguf_get_str(base, "general.architecture", &arch))
        return gk_error_set(e, GK_E_FORMAT, path, "no general.architecture");
    if (fmt_gguf_find_kv(base, "split.count"))
        return gk_error_set(e, GK_E_UNSUPPORTED, path,
                            "a split model cannot take --lora (as llama-export-lora); merge the "
                            "shards first (gguf-edit merge)");
    if (fmt_gguf_get_u64(base, "general.alignment", &align) && align != FMT_GGUF_DEFAULT_ALIGNMENT)
        return gk_error_set(e, GK_E_UNSUPPORTED, path,
                            "general.alignment %llu: --lora writes export-lora's alignment of 32",
                            (unsigned long long)align);
    return GK_OK;
}

rq_lora *rq_lora_open(fmt_gguf *base, const char *base_path, const rq_lora_spec *specs, size_t n,
                      int nthreads, gk_error *e) {
    rq_lora *m = calloc(1, sizeof *m);
    uint64_t nt = fmt_gguf_n_tensors(base);
    if (!m || !(m->ad = calloc(n, sizeof *m->ad)) || !(m->e = calloc(nt ? nt : 1, sizeof *m->e)) ||
        !(m->pair = malloc((nt ? nt : 1) * n * 2 * sizeof *m->pair))) {
        gk_error_set(e, GK_E_NOMEM, NULL, NULL);
        rq_lora_free(m);
        return NULL;
    }
    m->base = base;
    m->base_path = base_path;
    m->n_ad = n;
    m->n = nt;
    m->nthreads = nthreads > 0 ? nthreads : fmt_online_cpus();
    for (uint64_t i = 0; i < nt * n * 2; i++)
        m->pair[i] = -1;
    gk_status st = check_base(base, base_path, e);
    for (size_t k = 0; k < n && st == GK_OK; k++) {
        m->ad[k].path = specs[k].path;
        m->ad[k].user_scale = specs[k].scale;
        st = open_adapter(&m->ad[k], base, e);
        if (st == GK_OK)
            st = index_adapter(m, k, e);
    }
    if (st == GK_OK)
        st = classify(m, e);
    if (st == GK_OK && m->n_merged == 0)
        st = gk_error_set(e, GK_E_FORMAT, specs[0].path, "adapts no tensor of the base");
    if (st == GK_OK) {
        qsort_r(m->e, nt, sizeof *m->e, by_name, base);
        st = build_header(m, e, base_path);
    }
    if (st != GK_OK) {
        rq_lora_free(m);
        return NULL;
    }
    return m;
}

fmt_gguf *rq_lora_header(rq_lora *m) {
    return m->header;
}

size_t rq_lora_n_merged(const rq_lora *m) {
    return m->n_merged;
}

void rq_lora_free(rq_lora *m) {
    if (!m)
        return;
    for (size_t k = 0; k < m->n_ad; k++) {
        fmt_gguf_close(m->ad[k].g);
        fmt_input_close(m->ad[k].in);
    }
    fmt_gguf_close(m->header);
    fmt_gguf_writer_free(m->w);
    free(m->ad);
    free(m->e);
    free(m->pair);
    free(m);
}

/* ------------------------------------------------------------------------ */
/* The arithmetic                                                             */
/* ------------------------------------------------------------------------ */

/* Output elements are computed W at a time, W consecutive columns i of one
 * row j: lane e of every vector below is element (j, i0 + e), and does that
 * element's scalar arithmetic in ggml's order, so any W gives the same
 * bits. xt is the src0 factor transposed, [r][ld] (row k holds term k of
 * every column), y row j of src1 (r terms).
 * - sgemm: acc[l] = the fused chain of lane l of tinyBLAS<16> (terms l,
 *   l + 16, ...), then _mm512_reduce_add_ps's tree as GCC writes it:
 *   t[l] = v[l + 8] + v[l], t[l] = t[l + 4] + t[l], (t0 + t2) + (t1 + t3).
 * - vec: sum[16 j + l] = lane l of accumulator j (fused, per 64-step), then
 *   GGML_F32x16_REDUCE (0 + 2, 1 + 3, 0 + 1, the same tree), then the tail
 *   one product at a time, multiplied then added. */
#define LORA_DOTS(NAME, V, ATTR, ZERO, LOAD, SET1, FMA, MUL, ADD, STORE)                           \
    ATTR static void NAME(const float *xt, int64_t ld, const float *y, int64_t r, int sgemm,       \
                          float *out) {                                                            \
        V acc[VEC_STEP];                                                                           \
        int64_t np = sgemm ? r : r & ~(int64_t)(VEC_STEP - 1);                                     \
        int nacc = sgemm ? LANES : VEC_STEP;                                                       \
        for (int l = 0; l < nacc; l++)                                                             \
            acc[l] = ZERO;                                                                         \
        for (int64_t c = 0; c < np; c += nacc)                                                     \
            for (int l = 0; l < nacc; l++)                                                         \
                acc[l] = FMA(LOAD(xt + (c + l) * ld), SET1(y[c + l]), acc[l]);                     \
        if (!sgemm)                                                                                \
            for (int l = 0; l < LANES; l++) {                                                      \
                acc[l] = ADD(acc[l], acc[2 * LANES + l]);                                          \
                acc[LANES + l] = ADD(acc[LANES + l], acc[3 * LANES + l]);                          \
                acc[l] = ADD(acc[l], acc[LANES + l]);                                              \
            }                                                                                      \
        for (int l = 0; l < 8; l++)                                                                \
            acc[l] = ADD(acc[l + 8], acc[l]);                                                      \
        for (int l = 0; l < 4; l++)                                                                \
            acc[l] = ADD(acc[l + 4], acc[l]);                                                      \
        V s = ADD(ADD(acc[0], acc[2]), ADD(acc[1], acc[3]));                                       \
        for (int64_t k = np; k < r; k++)                                                           \
            s = ADD(s, MUL(LOAD(xt + k * ld), SET1(y[k])));                                        \
        STORE(out, s);                                                                             \
    }

#define F_ID(x) (x)
#define F_LOAD(p) (*(p))
#define F_FMA(a, b, c) fmaf(a, b, c)
#define F_MUL(a, b) ((a) * (b))
#define F_ADD(a, b) ((a) + (b))
#define F_STORE(p, v) (*(p) = (v))
LORA_DOTS(dots1, float, , 0.0f, F_LOAD, F_ID, F_FMA, F_MUL, F_ADD, F_STORE)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LORA_X86 1
LORA_DOTS(dots8, __m256, __attribute__((target("avx2,fma"))), _mm256_setzero_ps(), _mm256_loadu_ps,
          _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_add_ps, _mm256_storeu_ps)
LORA_DOTS(dots16, __m512, __attribute__((target("avx512f"))), _mm512_setzero_ps(), _mm512_loadu_ps,
          _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps, _mm512_add_ps, _mm512_storeu_ps)
#endif

typedef void (*dots_fn)(const float *xt, int64_t ld, const float *y, int64_t r, int sgemm,
                        float *out);

/* The widest block the selected ISA runs (GGUFKIT_SIMD chooses). */
static dots_fn widest_dots(int *width) {
#ifdef LORA_X86
    kern_isa isa = kern_isa_current();
    if (isa == KERN_ISA_AVX512)
        return *width = 16, dots16;
    if (isa == KERN_ISA_AVX2)
        return *width = 8, dots8;
#endif
    return *width = 1, dots1;
}

/* One adapter's factors for one tensor in f32: xt, mul_mat's src0
 * transposed ([r][n_in] per expert: term k of every output column), y its
 * src1 (row j: the r terms of output row j), and the scale. */
typedef struct {
    float *xt, *y;
    int64_t r;
    float scale;
    int sgemm; /* tinyBLAS order */
} factors;

/* The stored bytes of tensor i of g: its mapping, or a copy in *own. */
static gk_status bytes_of(fmt_gguf *g, uint64_t i, uint8_t **own, const uint8_t **bytes, char *err,
                          size_t errcap) {
    const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
    *own = NULL;
    if ((*bytes = fmt_gguf_tensor_data(g, i)) != NULL)
        return GK_OK;
    if (t->size > SIZE_MAX || !(*own = malloc(t->size ? (size_t)t->size : 1))) {
        gk_msgf(err, errcap, "out of memory");
        return GK_E_NOMEM;
    }
    gk_status st = fmt_gguf_read_tensor(g, i, *own);
    if (st != GK_OK) {
        gk_msgf(err, errcap, "tensor '%.*s': %s", (int)t->name.len, t->name.ptr,
                fmt_gguf_errmsg(g));
        return st;
    }
    *bytes = *own;
    return GK_OK;
}

/* Tensor ti of an adapter as f32 rows of ne[0], transposed slice by slice
 * (each ne[0] x ne[1] matrix of ne[2]) when transpose. */
static gk_status factor_f32(fmt_gguf *g, uint64_t ti, int transpose, float **out, char *err,
                            size_t errcap) {
    const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, ti);
    int64_t len = t->ne[0], rows = t->ne[1] * t->ne[2], per = t->ne[1];
    uint8_t *own;
    const uint8_t *b;
    gk_status st = bytes_of(g, ti, &own, &b, err, errcap);
    float *f = st == GK_OK ? malloc((size_t)t->n_elements * (transpose ? 2 : 1) * sizeof *f) : NULL;
    if (st == GK_OK && !f) {
        gk_msgf(err, errcap, "out of memory");
        st = GK_E_NOMEM;
    }
    if (st == GK_OK) {
        size_t rb = kern_row_bytes(t->type, len);
        float *dst = transpose ? f + t->n_elements : f;
        for (int64_t j = 0; j < rows; j++)
            kern_row_to_f32(t->type, b + (size_t)j * rb, dst + j * len, len);
        if (transpose)
            for (int64_t j = 0; j < rows; j++)
                for (int64_t i = 0; i < len; i++)
                    f[(j / per) * per * len + i * per + j % per] = dst[j * len + i];
    }
    free(own);
    *out = f;
    return st;
}

/* The factors of adapter k for entry en. */
static gk_status load_factors(rq_lora *m, const entry *en, size_t k, factors *f, char *err,
                              size_t errcap) {
    const adapter *a = &m->ad[k];
    const int64_t *p = &m->pair[(en->base * m->n_ad + k) * 2];
    const fmt_gguf_tensor *tb = fmt_gguf_tensor_at(a->g, (uint64_t)p[1]);
    gk_status st;
    f->r = tb->ne[0];
    f->scale = a->alpha != 0.0f ? a->user_scale * a->alpha / (float)f->r : a->user_scale;
    f->sgemm = f->r % LANES == 0 && en->n_in % 4 == 0 && en->n_out >= 2;
    if (en->embd) { /* mul_mat(B, A): src0 is B, src1 A */
        st = factor_f32(a->g, (uint64_t)p[1], 1, &f->xt, err, errcap);
        if (st == GK_OK)
            st = factor_f32(a->g, (uint64_t)p[0], 0, &f->y, err, errcap);
    } else { /* mul_mat(cont(transpose(A)), B): src0 transposed is A as stored */
        st = factor_f32(a->g, (uint64_t)p[0], 0, &f->xt, err, errcap);
        if (st == GK_OK)
            st = factor_f32(a->g, (uint64_t)p[1], 0, &f->y, err, errcap);
    }
    return st;
}

typedef struct {
    const entry *en;
    const fmt_gguf_tensor *w;
    const uint8_t *wbytes;
    const factors *f;
    size_t n_f;
    int64_t rows_per_job;
    uint8_t *out;
} merge_job;

/* Rows [j0, j1) of the merged tensor: f32 base row, plus each scaled
 * delta in adapter order, rounded once to the output type. */
static gk_status merge_rows(void *ctx, uint64_t job, void *scratch) {
    const merge_job *mj = ctx;
    const entry *en = mj->en;
    int64_t n = en->n_in, width;
    int w;
    dots_fn dots = widest_dots(&w);
    float *row = malloc((size_t)n * 2 * sizeof *row), *d = row + n;
    (void)scratch;
    if (!row)
        return GK_E_NOMEM;
    width = w;
    int64_t j0 = (int64_t)job * mj->rows_per_job;
    int64_t rows = en->n_out * en->n_exp;
    int64_t j1 = j0 + mj->rows_per_job < rows ? j0 + mj->rows_per_job : rows;
    size_t in_rb = kern_row_bytes(mj->w->type, n), out_rb = kern_row_bytes(en->out_type, n);
    for (int64_t j = j0; j < j1; j++) {
        kern_row_to_f32(mj->w->type, mj->wbytes + (size_t)j * in_rb, row, n);
        for (size_t k = 0; k < mj->n_f; k++) {
            const factors *f = &mj->f[k];
            const float *y = f->y + j * f->r; /* row j of expert j / n_out */
            const float *xt = f->xt + (j / en->n_out) * n * f->r;
            int64_t i = 0;
            for (; i + width <= n; i += width)
                dots(xt + i, n, y, f->r, f->sgemm, d + i);
            for (; i < n; i++)
                dots1(xt + i, n, y, f->r, f->sgemm, d + i);
            for (i = 0; i < n; i++) {
                float s = d[i] * f->scale; /* ggml_scale, then ggml_add: not fused */
                row[i] = s + row[i];
            }
        }
        uint8_t *dst = mj->out + (size_t)j * out_rb;
        if (en->out_type == KERN_TYPE_F32)
            memcpy(dst, row, (size_t)n * sizeof *row);
        else
            kern_fp32_to_fp16_row(row, (uint16_t *)(void *)dst, n);
    }
    free(row);
    return GK_OK;
}

static gk_status merge_tensor(rq_lora *m, const entry *en, uint8_t *out, char *err, size_t errcap) {
    factors *f = calloc(m->n_ad, sizeof *f);
    uint8_t *own = NULL;
    const uint8_t *wb = NULL;
    gk_status st = f ? GK_OK : GK_E_NOMEM;
    for (size_t k = 0; k < m->n_ad && st == GK_OK; k++)
        st = load_factors(m, en, k, &f[k], err, errcap);
    if (st == GK_OK)
        st = bytes_of(m->base, en->base, &own, &wb, err, errcap);
    if (st == GK_OK) {
        int64_t per = JOB_ELEMENTS / en->n_in;
        merge_job mj = {
            en, fmt_gguf_tensor_at(m->base, en->base), wb, f, m->n_ad, per > 0 ? per : 1, out};
        uint64_t jobs = (uint64_t)((en->n_out * en->n_exp + mj.rows_per_job - 1) / mj.rows_per_job);
        st = fmt_pool_run(m->nthreads, jobs, merge_rows, &mj);
    }
    if (st == GK_E_NOMEM && err && !err[0])
        gk_msgf(err, errcap, "out of memory");
    if (wb && !own) /* mapped: keep the resident set to the tensor in flight */
        fmt_release_pages(wb, (size_t)fmt_gguf_tensor_at(m->base, en->base)->size);
    for (size_t k = 0; f && k < m->n_ad; k++) {
        free(f[k].xt);
        free(f[k].y);
    }
    free(f);
    free(own);
    return st;
}

gk_status rq_lora_read(void *ctx, uint64_t i, void *buf, uint64_t size, char *err, size_t errcap) {
    rq_lora *m = ctx;
    if (i >= m->n || size != fmt_gguf_writer_tensor_size(m->w, i)) {
        gk_msgf(err, errcap, "tensor %llu out of range", (unsigned long long)i);
        return GK_E_USAGE;
    }
    const entry *en = &m->e[i];
    if (en->merged)
        return merge_tensor(m, en, buf, err, errcap);
    gk_status st = fmt_gguf_read_tensor(m->base, en->base, buf);
    const uint8_t *mapped = fmt_gguf_tensor_data(m->base, en->base);
    if (st == GK_OK && mapped)
        fmt_release_pages(mapped, (size_t)size);
    if (st != GK_OK) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(m->base, en->base);
        gk_msgf(err, errcap, "tensor '%.*s': %s", (int)t->name.len, t->name.ptr,
                fmt_gguf_errmsg(m->base));
    }
    return st;
}

gk_status rq_lora_write(rq_lora *m, fmt_output *out, fmt_progress *progress, char *err,
                        size_t errcap) {
    gk_status st = fmt_gguf_writer_write_header(m->w, out);
    uint64_t done = 0, max = 0;
    for (uint64_t i = 0; i < m->n; i++)
        if (fmt_gguf_writer_tensor_size(m->w, i) > max)
            max = fmt_gguf_writer_tensor_size(m->w, i);
    uint8_t *buf = st == GK_OK && max <= SIZE_MAX ? malloc(max ? (size_t)max : 1) : NULL;
    if (st == GK_OK && !buf)
        st = GK_E_NOMEM;
    for (uint64_t i = 0; i < m->n && st == GK_OK; i++) {
        uint64_t size = fmt_gguf_writer_tensor_size(m->w, i);
        st = rq_lora_read(m, i, buf, size, err, errcap);
        if (st == GK_OK)
            st = fmt_gguf_writer_write_data(m->w, out, buf, (size_t)size);
        done += fmt_gguf_tensor_at(m->base, m->e[i].base)->size;
        fmt_progress_update(progress, done);
    }
    if (st == GK_OK)
        st = fmt_gguf_writer_finish(m->w);
    if (st != GK_OK && err && !err[0])
        gk_msgf(err, errcap, "%s",
                st == GK_E_NOMEM ? "out of memory" : fmt_gguf_writer_errmsg(m->w));
    free(buf);
    return st;
}
