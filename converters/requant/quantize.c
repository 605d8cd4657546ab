/*
 * quantize.c -- requant's engine (see quantize.h).
 *
 * Facts from llama.cpp ec562eb src/llama-quant.cpp llama_model_quantize_impl
 * (the same as c392e50's where both have them): KV handling, tensor order,
 * which tensors need an imatrix, the imatrix size check, chunking of rows
 * (whole rows, at least 16384 elements), the output layout (alignment 32,
 * zero padding after each tensor), and remap_layer for --prune-layers.
 */
#include "converters/requant/quantize.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/pool.h"
#include "formats/source.h"
#include "formats/split.h"
#include "kernels/kernels.h"

#define GGML_QNT_VERSION 2
#define MIN_CHUNK_ELEMS 16384           /* llama-quantize's min_chunk_size (32 * 512) */
#define WINDOW_BYTES ((size_t)64 << 20) /* output buffered per write, bounds memory */

/* ======================================================================== */
/* Helpers                                                                    */
/* ======================================================================== */

/* ggml_n_dims: trailing dimensions of 1 do not count (at least 1). */
static uint32_t n_dims_of(const int64_t *ne) {
    for (int i = 3; i >= 1; i--)
        if (ne[i] > 1)
            return (uint32_t)i + 1;
    return 1;
}

/* ======================================================================== */
/* --override-kv                                                              */
/* ======================================================================== */

gk_status rq_parse_kv_override(const char *spec, rq_kv_override *o, char *err, size_t cap) {
    memset(o, 0, sizeof *o);
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof o->key) {
        gk_msgf(err, cap, "--override-kv '%s': expected KEY=TYPE:VALUE (KEY 1..127 bytes)", spec);
        return GK_E_USAGE;
    }
    memcpy(o->key, spec, (size_t)(eq - spec));
    const char *v = eq + 1;
    char *end = NULL;
    if (strncmp(v, "int:", 4) == 0) {
        errno = 0;
        long long x = strtoll(v + 4, &end, 10);
        if (errno || end == v + 4 || *end || x < INT32_MIN || x > INT32_MAX)
            goto bad;
        o->type = FMT_GGUF_I32;
        o->i = x;
    } else if (strncmp(v, "float:", 6) == 0) {
        if (fmt_parse_double(v + 6, &o->f) != GK_OK)
            goto bad;
        o->type = FMT_GGUF_F32;
    } else if (strncmp(v, "bool:", 5) == 0) {
        if (strcmp(v + 5, "true") == 0)
            o->i = 1;
        else if (strcmp(v + 5, "false") != 0)
            goto bad;
        o->type = FMT_GGUF_BOOL;
    } else if (strncmp(v, "str:", 4) == 0) {
        if (strlen(v + 4) > 127)
            goto bad;
        strcpy(o->s, v + 4);
        o->type = FMT_GGUF_STRING;
    } else {
        goto bad;
    }
    return GK_OK;
bad:
    gk_msgf(err, cap,
            "--override-kv '%s': TYPE must be int, float, bool (true|false) or str (<= 127 bytes)",
            spec);
    return GK_E_USAGE;
}

/* ======================================================================== */
/* Job                                                                        */
/* ======================================================================== */

struct rq_job {
    fmt_gguf *g; /* gs[0]: the metadata */
    fmt_gguf **gs;
    size_t n_shards;
    uint32_t *in_shard; /* input tensor (all shards, in order) -> shard */
    uint64_t *in_idx;   /* ... -> index in its shard */
    fmt_src *in;        /* the input tensors (record gi: input tensor gi), read by rq_run */
    const rq_opts *o;
    fmt_gguf_writer *w; /* ws[0] */
    fmt_gguf_writer **ws;
    size_t n_out;       /* output files: n_shards with --keep-split, else 1 */
    uint32_t *out_of;   /* output file of each output tensor */
    size_t n;           /* output tensors (inputs minus pruned ones) */
    size_t n_in;        /* input tensors, all shards */
    rq_tensor *t;       /* output order */
    uint64_t *src;      /* input tensor index of each output tensor */
    const float **imat; /* imatrix row per tensor or NULL */
    uint64_t bytes_in, bytes_out, n_elem;
    char (*names)[FMT_GGUF_MAX_NAME + 1];   /* input names */
    char (*renamed)[FMT_GGUF_MAX_NAME + 1]; /* output names with --prune-layers */
    int64_t block_count;                    /* kept blocks with --prune-layers */
};

size_t rq_n_tensors(const rq_job *j) {
    return j->n;
}
const rq_tensor *rq_tensor_at(const rq_job *j, size_t i) {
    return i < j->n ? &j->t[i] : NULL;
}
uint64_t rq_bytes_in(const rq_job *j) {
    return j->bytes_in;
}
uint64_t rq_bytes_out(const rq_job *j) {
    return j->bytes_out;
}
uint64_t rq_n_elements(const rq_job *j) {
    return j->n_elem;
}
uint64_t rq_file_size(const rq_job *j) {
    uint64_t sum = 0;
    for (size_t i = 0; i < j->n_out; i++)
        sum += fmt_gguf_writer_file_size(j->ws[i]);
    return sum;
}
size_t rq_n_outputs(const rq_job *j) {
    return j->n_out;
}

static const fmt_gguf_tensor *input_tensor(const rq_job *j, uint64_t gi) {
    return fmt_gguf_tensor_at(j->gs[j->in_shard[gi]], j->in_idx[gi]);
}

static gk_status add_override(fmt_gguf_writer *w, const rq_kv_override *o) {
    fmt_gguf_writer_remove_kv(w, o->key);
    switch (o->type) {
    /* llama-quantize writes int overrides as u32 of |value| (llama.cpp #14182) */
    case FMT_GGUF_I32: return fmt_gguf_writer_add_u32(w, o->key, (uint32_t)llabs(o->i));
    case FMT_GGUF_F32: return fmt_gguf_writer_add_f32(w, o->key, (float)o->f);
    case FMT_GGUF_BOOL: return fmt_gguf_writer_add_bool(w, o->key, (int)o->i);
    default: return fmt_gguf_writer_add_str(w, o->key, o->s, strlen(o->s));
    }
}

/* llama_model_loader's ftype: general.file_type when present, else guessed
 * from the most common tensor type (first to reach the maximum in llama's
 * weight order wins) with LLAMA_FTYPE_GUESSED (1024) set. COPY writes it. */
static uint32_t input_ftype(const rq_job *j) {
    uint64_t v;
    if (fmt_gguf_get_u64(j->g, "general.file_type", &v) && v <= UINT32_MAX)
        return (uint32_t)v;
    static const struct {
        int type, ftype;
    } map[] = {
        {KERN_TYPE_F32, FMT_MIX_FTYPE_ALL_F32},     {KERN_TYPE_F16, FMT_MIX_FTYPE_F16},
        {KERN_TYPE_BF16, FMT_MIX_FTYPE_BF16},       {KERN_TYPE_Q4_0, FMT_MIX_FTYPE_Q4_0},
        {KERN_TYPE_Q4_1, FMT_MIX_FTYPE_Q4_1},       {KERN_TYPE_Q5_0, FMT_MIX_FTYPE_Q5_0},
        {KERN_TYPE_Q5_1, FMT_MIX_FTYPE_Q5_1},       {KERN_TYPE_Q8_0, FMT_MIX_FTYPE_Q8_0},
        {KERN_TYPE_Q2_K, FMT_MIX_FTYPE_Q2_K},       {KERN_TYPE_Q3_K, FMT_MIX_FTYPE_Q3_K_M},
        {KERN_TYPE_Q4_K, FMT_MIX_FTYPE_Q4_K_M},     {KERN_TYPE_Q5_K, FMT_MIX_FTYPE_Q5_K_M},
        {KERN_TYPE_Q6_K, FMT_MIX_FTYPE_Q6_K},       {KERN_TYPE_TQ1_0, FMT_MIX_FTYPE_TQ1_0},
        {KERN_TYPE_TQ2_0, FMT_MIX_FTYPE_TQ2_0},     {KERN_TYPE_IQ2_XXS, FMT_MIX_FTYPE_IQ2_XXS},
        {KERN_TYPE_IQ2_XS, FMT_MIX_FTYPE_IQ2_XS},   {KERN_TYPE_IQ2_S, FMT_MIX_FTYPE_IQ2_S},
        {KERN_TYPE_IQ3_XXS, FMT_MIX_FTYPE_IQ3_XXS}, {KERN_TYPE_IQ1_S, FMT_MIX_FTYPE_IQ1_S},
        {KERN_TYPE_IQ1_M, FMT_MIX_FTYPE_IQ1_M},     {KERN_TYPE_IQ4_NL, FMT_MIX_FTYPE_IQ4_NL},
        {KERN_TYPE_IQ4_XS, FMT_MIX_FTYPE_IQ4_XS},   {KERN_TYPE_IQ3_S, FMT_MIX_FTYPE_IQ3_S},
        {KERN_TYPE_MXFP4, FMT_MIX_FTYPE_MXFP4_MOE}, {KERN_TYPE_Q1_0, FMT_MIX_FTYPE_Q1_0},
    };
    uint64_t count[64] = {0}, best = 0;
    int type_max = KERN_TYPE_F32;
    for (size_t k = 0; k < j->n; k++) {
        int ty = j->t[k].old_type;
        if (ty < 0 || ty >= 64)
            continue;
        if (best < ++count[ty]) {
            best = count[ty];
            type_max = ty;
        }
    }
    uint32_t ft = FMT_MIX_FTYPE_ALL_F32;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].type == type_max)
            ft = (uint32_t)map[i].ftype;
    return ft | 1024u;
}

/* --prune-layers: <arch>.block_count set (so moved last) to the kept count */
static gk_status set_block_count(rq_job *j) {
    fmt_str a;
    char key[256];
    if (!fmt_gguf_get_str(j->g, "general.architecture", &a) || a.len > 200)
        return GK_E_FORMAT;
    snprintf(key, sizeof key, "%.*s.block_count", (int)a.len, a.ptr);
    fmt_gguf_writer_remove_kv(j->w, key);
    return fmt_gguf_writer_add_u32(j->w, key, (uint32_t)j->block_count);
}

static gk_status build_header(rq_job *j, char *err, size_t cap) {
    const rq_opts *o = j->o;
    fmt_gguf *g = j->g;
    gk_status st;
    for (size_t i = 0; i < j->n_out; i++)
        if (!(j->ws[i] = fmt_gguf_writer_create(3, FMT_GGUF_DEFAULT_ALIGNMENT, &st))) {
            gk_msgf(err, cap, "cannot create the GGUF writer");
            return st;
        }
    j->w = j->ws[0];
    fmt_gguf_writer *w = j->w;
    for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        if (fmt_split_is_key(kv->key.ptr, (size_t)kv->key.len))
            continue;
        if ((st = fmt_gguf_writer_add_kv(w, kv->key.ptr, (size_t)kv->key.len, &kv->value)) !=
            GK_OK) {
            gk_msgf(err, cap, "metadata key %u: %s", (unsigned)i, fmt_gguf_writer_errmsg(w));
            return st;
        }
    }
    /* gguf_set_val_* removes the key first, so both move to the end */
    fmt_gguf_writer_remove_kv(w, "general.quantization_version");
    if ((st = fmt_gguf_writer_add_u32(w, "general.quantization_version", GGML_QNT_VERSION)) !=
        GK_OK)
        return st;
    fmt_gguf_writer_remove_kv(w, "general.file_type");
    uint32_t ftype = o->preset->only_copy ? input_ftype(j) : (uint32_t)o->preset->ftype;
    if ((st = fmt_gguf_writer_add_u32(w, "general.file_type", ftype)) != GK_OK)
        return st;
    for (size_t i = 0; i < o->n_kv; i++)
        if ((st = add_override(w, &o->kv[i])) != GK_OK) {
            gk_msgf(err, cap, "--override-kv %s: %s", o->kv[i].key, fmt_gguf_writer_errmsg(w));
            return st;
        }
    if (o->imatrix && imx_count(o->imatrix) > 0) {
        /* llama-quantize adds these as overrides after the user's */
        rq_kv_override x;
        memset(&x, 0, sizeof x);
        snprintf(x.key, sizeof x.key, "quantize.imatrix.file");
        x.type = FMT_GGUF_STRING;
        snprintf(x.s, sizeof x.s, "%s", o->imatrix_path ? o->imatrix_path : "");
        if ((st = add_override(w, &x)) != GK_OK)
            return st;
        if (imx_dataset(o->imatrix)) {
            snprintf(x.key, sizeof x.key, "quantize.imatrix.dataset");
            snprintf(x.s, sizeof x.s, "%s", imx_dataset(o->imatrix));
            if ((st = add_override(w, &x)) != GK_OK)
                return st;
        }
        snprintf(x.key, sizeof x.key, "quantize.imatrix.entries_count");
        x.type = FMT_GGUF_I32;
        x.i = (int64_t)imx_count(o->imatrix);
        if ((st = add_override(w, &x)) != GK_OK)
            return st;
        if (imx_chunks(o->imatrix) > 0) {
            snprintf(x.key, sizeof x.key, "quantize.imatrix.chunks_count");
            x.i = imx_chunks(o->imatrix);
            if ((st = add_override(w, &x)) != GK_OK)
                return st;
        }
    }
    if (o->n_prune && (st = set_block_count(j)) != GK_OK) {
        gk_msgf(err, cap, "cannot set the block count");
        return st;
    }
    /* --keep-split (llama-quantize): split.* set last in every file, the
     * other files hold no other KV */
    for (size_t i = 0; j->n_out > 1 && i < j->n_out; i++)
        if ((st = fmt_split_add_keys(j->ws[i], i, j->n_out, j->n)) != GK_OK)
            return st;
    for (size_t i = 0; i < j->n; i++) {
        const rq_tensor *t = &j->t[i];
        fmt_gguf_writer *tw = j->ws[j->out_of[i]];
        if ((st = fmt_gguf_writer_add_tensor(tw, t->name, t->n_dims, t->ne, t->new_type)) !=
            GK_OK) {
            gk_msgf(err, cap, "tensor '%s': %s", t->name, fmt_gguf_writer_errmsg(tw));
            return st;
        }
    }
    return GK_OK;
}

rq_job *rq_plan(fmt_gguf *g, const rq_opts *o, gk_status *st, char *err, size_t cap) {
    gk_error e;
    rq_job *j = rq_plan_split(&g, 1, o, NULL, &e);
    if (!j)
        gk_msgf(err, cap, "%s", gk_error_message(&e));
    *st = e.status;
    return j;
}

/* The job's tables: input shards, where each input tensor lives, and one
 * record per output tensor. */
static gk_status alloc_job(rq_job *j, fmt_gguf *const *shards, size_t n_shards, char *err,
                           size_t cap) {
    j->gs = calloc(n_shards, sizeof *j->gs);
    j->ws = calloc(j->n_out, sizeof *j->ws);
    if (!j->gs || !j->ws)
        goto nomem;
    size_t n = 0;
    for (size_t s = 0; s < n_shards; s++) {
        j->gs[s] = shards[s];
        n += (size_t)fmt_gguf_n_tensors(shards[s]);
    }
    j->n = j->n_in = n;
    size_t nn = n ? n : 1;
    j->in_shard = calloc(nn, sizeof *j->in_shard);
    j->in_idx = calloc(nn, sizeof *j->in_idx);
    j->out_of = calloc(nn, sizeof *j->out_of);
    if (!j->in_shard || !j->in_idx || !j->out_of)
        goto nomem;
    for (size_t s = 0, gi = 0; s < n_shards; s++)
        for (uint64_t i = 0; i < fmt_gguf_n_tensors(shards[s]); i++, gi++) {
            j->in_shard[gi] = (uint32_t)s;
            j->in_idx[gi] = i;
        }
    j->t = calloc(nn, sizeof *j->t);
    j->src = calloc(nn, sizeof *j->src);
    j->imat = calloc(nn, sizeof *j->imat);
    j->names = calloc(nn, sizeof *j->names);
    if (!j->t || !j->src || !j->imat || !j->names)
        goto nomem;
    if (j->o->n_prune && !(j->renamed = calloc(nn, sizeof *j->renamed)))
        goto nomem;
    return GK_OK;
nomem:
    gk_msgf(err, cap, "out of memory");
    return GK_E_NOMEM;
}

/* The mixture's view of every input tensor; copies the names into
 * j->names, which the output records point at. */
static gk_status describe_inputs(rq_job *j, fmt_mix_tensor *mt, char *err, size_t cap) {
    for (size_t i = 0; i < j->n_in; i++) {
        const fmt_gguf_tensor *ti = input_tensor(j, i);
        size_t len = ti->name.len > FMT_GGUF_MAX_NAME ? FMT_GGUF_MAX_NAME : (size_t)ti->name.len;
        memcpy(j->names[i], ti->name.ptr, len);
        j->names[i][len] = 0;
        if (memchr(j->names[i], 0, len)) {
            gk_msgf(err, cap, "tensor %zu: NUL byte in its name", i);
            return GK_E_FORMAT;
        }
        mt[i].name = j->names[i];
        mt[i].n_dims = ti->n_dims;
        memcpy(mt[i].ne, ti->ne, sizeof mt[i].ne);
        mt[i].type = ti->type;
        size_t nv = 0;
        mt[i].has_imatrix = j->o->imatrix && imx_find(j->o->imatrix, j->names[i], &nv) != NULL;
    }
    return GK_OK;
}

/* The first "blk.N." of a name, as regex_search(R"(blk\.(\d+)\.)") finds
 * it: 1 with the digits' offset and length and N, else 0. */
static int find_block(const char *name, size_t *off, size_t *len, int64_t *id) {
    for (const char *p = strstr(name, "blk."); p; p = strstr(p + 1, "blk.")) {
        const char *d = p + 4, *e = d;
        int64_t v = 0;
        while (*e >= '0' && *e <= '9') {
            if (v < INT32_MAX)
                v = v * 10 + (*e - '0');
            e++;
        }
        if (e > d && *e == '.') {
            *off = (size_t)(d - name);
            *len = (size_t)(e - d);
            *id = v;
            return 1;
        }
    }
    return 0;
}

/* One block seen by remap_layer: its new id, -1 when pruned. */
typedef struct {
    int64_t old_id, new_id;
} block_map;

static int is_pruned(const rq_opts *o, int64_t id) {
    for (size_t i = 0; i < o->n_prune; i++)
        if (o->prune[i] == id)
            return 1;
    return 0;
}

/* remap_layer: the new id of block id, first seen blocks numbered in the
 * order met (weight order), the ones below the first pruned one kept. */
static int64_t remap_block(const rq_opts *o, block_map *map, size_t *n_map, int64_t *next_id,
                           int64_t id) {
    for (size_t i = 0; i < *n_map; i++)
        if (map[i].old_id == id)
            return map[i].new_id;
    int64_t nid;
    if (is_pruned(o, id)) {
        nid = -1;
    } else if (id < o->prune[0]) {
        nid = id;
        *next_id = id + 1;
    } else {
        nid = (*next_id)++;
    }
    map[*n_map].old_id = id;
    map[*n_map].new_id = nid;
    ++*n_map;
    return nid;
}

/* --prune-layers: drop the pruned blocks' tensors from mt (compacted in
 * input order, kept[k] = input index of mt[k]) and give the others their
 * new names; j->n becomes the kept count. Without pruning kept[k] = k. */
static gk_status prune_layers(rq_job *j, fmt_mix_tensor *mt, size_t *kept, char *err, size_t cap) {
    const rq_opts *o = j->o;
    size_t n_in = j->n_in, n_map = 0, k = 0;
    int64_t next_id = 0;
    for (size_t i = 0; i < n_in; i++)
        kept[i] = i;
    if (!o->n_prune)
        return GK_OK;
    /* llama-quantize ignores ids it never meets; a layer the model does not
     * have is a user error here */
    char arch[128];
    fmt_mix_model mm;
    fmt_mix_model_read(j->g, &mm, arch, sizeof arch);
    if (o->prune[o->n_prune - 1] >= mm.n_layer) {
        gk_msgf(err, cap, "--prune-layers: layer %d is not in the model (%s.block_count is %lld)",
                o->prune[o->n_prune - 1], arch, (long long)mm.n_layer);
        return GK_E_USAGE;
    }
    if ((int64_t)o->n_prune >= mm.n_layer) {
        gk_msgf(err, cap, "--prune-layers: would remove every layer of the model");
        return GK_E_USAGE;
    }
    size_t *order = calloc(n_in ? n_in : 1, sizeof *order);
    block_map *map = calloc(n_in ? n_in : 1, sizeof *map);
    int64_t *new_id = calloc(n_in ? n_in : 1, sizeof *new_id);
    if (!order || !map || !new_id) {
        free(order), free(map), free(new_id);
        gk_msgf(err, cap, "out of memory");
        return GK_E_NOMEM;
    }
    /* llama-quantize renumbers while it walks its weight map */
    fmt_mix_sort_order(mt, n_in, order);
    for (size_t r = 0; r < n_in; r++) {
        size_t i = order[r], off, len;
        int64_t id;
        new_id[i] = find_block(j->names[i], &off, &len, &id)
                        ? remap_block(o, map, &n_map, &next_id, id)
                        : -2; /* no block: name unchanged */
    }
    for (size_t i = 0; i < n_in; i++) {
        size_t off, len;
        int64_t id;
        if (new_id[i] == -1)
            continue;
        if (new_id[i] >= 0 && find_block(j->names[i], &off, &len, &id))
            snprintf(j->renamed[i], sizeof j->renamed[i], "%.*s%lld%s", (int)off, j->names[i],
                     (long long)new_id[i], j->names[i] + off + len);
        else
            memcpy(j->renamed[i], j->names[i], sizeof j->renamed[i]);
        mt[k] = mt[i];
        mt[k].name = j->renamed[i];
        kept[k++] = i;
    }
    j->n = k;
    j->block_count = next_id;
    free(order), free(map), free(new_id);
    return GK_OK;
}

/* Runs the mixture rules: mc[i] for input tensor i, order[] the output order. */
static gk_status choose_types(const rq_job *j, const fmt_mix_tensor *mt, size_t *order,
                              fmt_mix_choice *mc, char *err, size_t cap) {
    const rq_opts *o = j->o;
    char arch[128];
    fmt_mix_model mm;
    fmt_mix_model_read(j->g, &mm, arch, sizeof arch);
    fmt_mix_opts mo = o->mix;
    mo.ftype = o->preset->ftype;
    mo.only_copy = o->preset->only_copy;
    mo.has_imatrix = o->imatrix != NULL && imx_count(o->imatrix) > 0;
    if (o->keep_split) {
        /* llama-quantize sorts by (split, offset): the input order */
        for (size_t k = 0; k < j->n; k++)
            order[k] = k;
        mo.order = order;
    } else {
        fmt_mix_sort_order(mt, j->n, order);
    }
    return fmt_mix_plan(&mm, &mo, mt, j->n, mc, err, cap);
}

/* Output tensor k from input tensor i, and the job's totals. */
static void record_tensor(rq_job *j, size_t k, size_t i, const fmt_mix_choice *c) {
    const fmt_gguf_tensor *ti = input_tensor(j, i);
    rq_tensor *t = &j->t[k];
    j->src[k] = i;
    j->out_of[k] = j->o->keep_split ? j->in_shard[i] : 0;
    t->name = j->renamed ? j->renamed[i] : j->names[i];
    memcpy(t->ne, ti->ne, sizeof t->ne);
    t->n_dims = n_dims_of(ti->ne);
    t->old_type = ti->type;
    t->new_type = c->new_type;
    t->fallback = c->fallback;
    t->bytes_old = ti->size;
    uint64_t rows = ti->n_elements / (uint64_t)(ti->ne[0] > 0 ? ti->ne[0] : 1);
    size_t rb = kern_row_bytes(t->new_type, ti->ne[0]);
    t->bytes_new = c->convert ? rb * rows : ti->size;
    j->bytes_in += t->bytes_old;
    j->bytes_out += t->bytes_new;
    j->n_elem += ti->n_elements;
}

/* The imatrix row of output tensor k, when the imatrix has one that fits. */
static gk_status attach_imatrix(rq_job *j, size_t k, char *err, size_t cap) {
    rq_tensor *t = &j->t[k];
    size_t nv = 0;
    /* remap_imatrix: entries carry the input names */
    const float *v = imx_find(j->o->imatrix, j->names[j->src[k]], &nv);
    if (!v)
        return GK_OK;
    /* per-expert weights of 3-D tensors; 4-D weights have no layout */
    if ((uint64_t)nv == (uint64_t)t->ne[0] * (uint64_t)t->ne[2] && t->ne[3] == 1) {
        j->imat[k] = v;
        t->used_imatrix = 1;
    } else if (strcmp(t->name, "token_embd.weight") != 0 &&
               strcmp(t->name, "per_layer_token_embd.weight") != 0) {
        /* llama-quantize ignores the mismatch for both embeddings
         * (tensor_name_match_token_embd) and fails for any other tensor */
        gk_msgf(err, cap,
                "imatrix entry for '%s' has %zu values, the tensor needs %lld "
                "(imatrix for another model?)",
                t->name, nv, (long long)(t->ne[0] * t->ne[2]));
        return GK_E_USAGE;
    }
    return GK_OK;
}

/* Refuses a conversion this build or these options cannot do. */
static gk_status check_conversion(rq_job *j, size_t k, const fmt_mix_choice *c, char *err,
                                  size_t cap) {
    const rq_opts *o = j->o;
    rq_tensor *t = &j->t[k];
    const kern_type_traits *nt = kern_type_info(t->new_type);
    const kern_type_traits *ot = kern_type_info(t->old_type);
    if (!nt || !nt->quantize_ref) {
        gk_msgf(err, cap, "tensor '%s': no quantizer for %s in this build", t->name,
                kern_type_label(t->new_type));
        return GK_E_UNSUPPORTED;
    }
    if (!ot || (ot->is_quantized && !o->allow_requantize)) {
        gk_msgf(err, cap, "tensor '%s' is already %s: requantizing needs --allow-requantize",
                t->name, kern_type_label(t->old_type));
        return GK_E_USAGE;
    }
    if (!kern_dequant_fn(t->old_type)) {
        gk_msgf(err, cap, "tensor '%s': cannot read type %s", t->name,
                kern_type_label(t->old_type));
        return GK_E_UNSUPPORTED;
    }
    gk_status st;
    if (o->imatrix && (st = attach_imatrix(j, k, err, cap)) != GK_OK)
        return st;
    if (c->needs_imatrix && !j->imat[k]) {
        gk_msgf(err, cap, "tensor '%s' becomes %s, which needs an importance matrix (--imatrix)",
                t->name, kern_type_label(t->new_type));
        return GK_E_USAGE;
    }
    return GK_OK;
}

/* The writers' layout must agree with the planned byte counts. */
static gk_status check_tensor_sizes(const rq_job *j, char *err, size_t cap) {
    uint64_t *per = calloc(j->n_out, sizeof *per);
    if (!per) {
        gk_msgf(err, cap, "out of memory");
        return GK_E_NOMEM;
    }
    for (size_t k = 0; k < j->n; k++) {
        uint32_t wi = j->out_of[k];
        if (fmt_gguf_writer_tensor_size(j->ws[wi], per[wi]++) != j->t[k].bytes_new) {
            free(per);
            gk_msgf(err, cap, "tensor '%s': size mismatch", j->t[k].name);
            return GK_E_FORMAT;
        }
    }
    free(per);
    return GK_OK;
}

static rq_job *plan_split(fmt_gguf *const *shards, size_t n_shards, const rq_opts *o, gk_status *st,
                          char *err, size_t cap) {
    rq_job *j = calloc(1, sizeof *j);
    fmt_mix_tensor *mt = NULL;
    fmt_mix_choice *mc = NULL;
    size_t *order = NULL, *kept = NULL;
    if (!j) {
        *st = GK_E_NOMEM;
        return NULL;
    }
    j->o = o;
    j->g = shards[0];
    j->n_shards = n_shards;
    j->n_out = o->keep_split ? n_shards : 1;
    if ((*st = alloc_job(j, shards, n_shards, err, cap)) != GK_OK)
        goto fail;
    if (!(j->in = fmt_src_over_gguf(shards, n_shards, NULL, st))) {
        gk_msgf(err, cap, "%s", fmt_src_open_errmsg());
        goto fail;
    }
    size_t nn = j->n_in ? j->n_in : 1;
    mt = calloc(nn, sizeof *mt);
    mc = calloc(nn, sizeof *mc);
    order = calloc(nn, sizeof *order);
    kept = calloc(nn, sizeof *kept);
    if (!mt || !mc || !order || !kept) {
        *st = GK_E_NOMEM;
        gk_msgf(err, cap, "out of memory");
        goto fail;
    }
    if ((*st = describe_inputs(j, mt, err, cap)) != GK_OK)
        goto fail;
    if ((*st = prune_layers(j, mt, kept, err, cap)) != GK_OK)
        goto fail;
    if ((*st = choose_types(j, mt, order, mc, err, cap)) != GK_OK)
        goto fail;
    for (size_t k = 0; k < j->n; k++) {
        const fmt_mix_choice *c = &mc[order[k]];
        record_tensor(j, k, kept[order[k]], c);
        if (c->convert && (*st = check_conversion(j, k, c, err, cap)) != GK_OK)
            goto fail;
    }
    if ((*st = build_header(j, err, cap)) != GK_OK)
        goto fail;
    if ((*st = check_tensor_sizes(j, err, cap)) != GK_OK)
        goto fail;
    free(mt);
    free(mc);
    free(order);
    free(kept);
    return j;
fail:
    free(mt);
    free(mc);
    free(order);
    free(kept);
    rq_free(j);
    return NULL;
}

rq_job *rq_plan_split(fmt_gguf *const *shards, size_t n_shards, const rq_opts *o, const char *input,
                      gk_error *e) {
    char err[sizeof e->msg] = "";
    gk_status st = GK_OK;
    rq_job *j = plan_split(shards, n_shards, o, &st, err, sizeof err);
    if (j)
        gk_error_clear(e);
    else
        gk_error_set(e, st, input, "%s", err);
    return j;
}

/* ======================================================================== */
/* Run                                                                        */
/* ======================================================================== */

/* One converted tensor, shared by the participants of a batch. */
typedef struct {
    const uint8_t *in; /* the tensor's input bytes */
    uint8_t *out;      /* window buffer */
    uint64_t out_base; /* tensor byte offset of out[0] */
    int64_t ne0, ne1;
    int64_t rpc, cps; /* rows per chunk, chunks per 2-D slab */
    int old_type;
    size_t in_rb, out_rb; /* row bytes */
    kern_quantize_fn q;
    kern_to_float_fn deq_out;
    const float *imat;    /* ne0 values per slab, or NULL */
    vfy_metrics_acc *acc; /* one per chunk */
    int64_t c0;           /* chunk of job 0 of the current window */
    int measure;
    pthread_mutex_t *mu;
    int64_t bad_chunk; /* first chunk with NaN/Inf input, -1 if none */
    int64_t bad_row;
} tctx;

/* fmt_pool_job_fn: chunk c0 + i. scratch holds the chunk as f32, then its
 * round trip for the metrics. Fails on NaN/Inf input. */
static gk_status do_chunk(void *vctx, uint64_t i, void *scratch) {
    tctx *x = vctx;
    const int64_t c = x->c0 + (int64_t)i;
    float *const in = scratch, *const back = in + x->rpc * x->ne0;
    const int64_t slab = c / x->cps;
    const int64_t r0 = (c % x->cps) * x->rpc;
    const int64_t nr = r0 + x->rpc <= x->ne1 ? x->rpc : x->ne1 - r0;
    const int64_t row = slab * x->ne1 + r0;
    const int64_t nel = nr * x->ne0;
    const uint8_t *src = x->in + (uint64_t)row * x->in_rb;
    kern_row_to_f32(x->old_type, src, in, nel);
    int64_t k = kern_find_nonfinite(in, nel);
    if (k >= 0) {
        pthread_mutex_lock(x->mu);
        if (x->bad_chunk < 0 || c < x->bad_chunk) {
            x->bad_chunk = c;
            x->bad_row = row + k / x->ne0;
        }
        pthread_mutex_unlock(x->mu);
        return GK_E_FORMAT;
    }
    uint8_t *dst = x->out + ((uint64_t)row * x->out_rb - x->out_base);
    x->q(in, dst, nr, x->ne0, x->imat ? x->imat + slab * x->ne0 : NULL);
    if (x->measure && x->deq_out) {
        x->deq_out(dst, back, nel);
        vfy_metrics_add(&x->acc[c], in, back, (size_t)nel);
    }
    return GK_OK;
}

static int64_t rows_per_chunk(int64_t ne0) {
    return ne0 >= MIN_CHUNK_ELEMS ? 1 : (MIN_CHUNK_ELEMS + ne0 - 1) / ne0;
}

static gk_status convert_tensor(rq_job *j, size_t k, const uint8_t *in, fmt_pool *pl, uint8_t **win,
                                size_t *win_cap, fmt_gguf_writer *w, fmt_output *out, char *err,
                                size_t cap) {
    rq_tensor *t = &j->t[k];
    const rq_opts *o = j->o;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    tctx x;
    memset(&x, 0, sizeof x);
    x.in = in;
    x.ne0 = t->ne[0];
    x.ne1 = t->ne[1];
    const int64_t slabs = t->ne[2] * t->ne[3];
    x.rpc = rows_per_chunk(x.ne0);
    x.cps = (x.ne1 + x.rpc - 1) / x.rpc;
    x.old_type = t->old_type;
    x.in_rb = kern_row_bytes(t->old_type, x.ne0);
    x.out_rb = kern_row_bytes(t->new_type, x.ne0);
    x.q = kern_type_info(t->new_type)->quantize_ref;
    x.deq_out = t->new_type == KERN_TYPE_F32 ? NULL : kern_dequant_fn(t->new_type);
    x.imat = j->imat[k];
    x.measure = o->measure;
    x.mu = &mu;
    x.bad_chunk = -1;
    const int64_t nchunk = x.cps * slabs;
    x.acc = calloc((size_t)(nchunk ? nchunk : 1), sizeof *x.acc);
    if (!x.acc)
        return GK_E_NOMEM;
    for (int64_t c = 0; c < nchunk; c++)
        vfy_metrics_init(&x.acc[c]);
    const uint64_t chunk_bytes = (uint64_t)x.rpc * x.out_rb;
    int64_t per_win = (int64_t)(WINDOW_BYTES / (chunk_bytes ? chunk_bytes : 1));
    if (per_win < 1)
        per_win = 1;
    const size_t need = (size_t)((uint64_t)per_win * chunk_bytes);
    if (*win_cap < need) {
        uint8_t *nb = realloc(*win, need);
        if (!nb) {
            free(x.acc);
            return GK_E_NOMEM;
        }
        *win = nb;
        *win_cap = need;
    }
    x.out = *win;
    gk_status st = GK_OK;
    for (int64_t c0 = 0; c0 < nchunk && st == GK_OK; c0 += per_win) {
        int64_t c1 = c0 + per_win < nchunk ? c0 + per_win : nchunk;
        int64_t row0 = (c0 / x.cps) * x.ne1 + (c0 % x.cps) * x.rpc;
        int64_t rl = (c1 - 1) % x.cps * x.rpc;
        int64_t row1 = ((c1 - 1) / x.cps) * x.ne1 + (rl + x.rpc <= x.ne1 ? rl + x.rpc : x.ne1);
        x.out_base = (uint64_t)row0 * x.out_rb;
        x.c0 = c0;
        /* fails only on a bad chunk; every chunk before the first bad one ran */
        if (fmt_pool_for(pl, (uint64_t)(c1 - c0), do_chunk, &x) != GK_OK) {
            gk_msgf(err, cap, "tensor '%s': row %lld holds NaN or infinity", t->name,
                    (long long)x.bad_row);
            st = GK_E_FORMAT;
            break;
        }
        st =
            fmt_gguf_writer_write_data(w, out, x.out, (size_t)((uint64_t)(row1 - row0) * x.out_rb));
        if (st != GK_OK)
            gk_msgf(err, cap, "%s", fmt_output_errmsg(out));
    }
    if (st == GK_OK && o->measure && x.deq_out) {
        vfy_metrics_acc all;
        vfy_metrics_init(&all);
        for (int64_t c = 0; c < nchunk; c++)
            vfy_metrics_merge(&all, &x.acc[c]);
        vfy_metrics_finish(&all, &t->m);
        t->has_metrics = 1;
    } else if (st == GK_OK && o->measure && t->new_type == KERN_TYPE_F32) {
        /* widening to F32 is exact */
        memset(&t->m, 0, sizeof t->m);
        t->m.n = (uint64_t)(x.ne0 * x.ne1 * slabs);
        t->m.cosine = 1.0;
        t->m.snr_db = INFINITY;
        t->has_metrics = 1;
    }
    free(x.acc);
    pthread_mutex_destroy(&mu);
    return st;
}

/* llama-quantize loads every tensor with check_tensors on, so a NaN or
 * infinity is rejected even in a tensor copied unchanged. Returns the first
 * bad row, -1 when all are finite or the type cannot be read. */
static int64_t nonfinite_row(const rq_tensor *t, const uint8_t *in, float **row, size_t *row_cap) {
    const int64_t ne0 = t->ne[0] > 0 ? t->ne[0] : 1;
    const size_t rb = kern_row_bytes(t->old_type, ne0);
    if (rb == 0 || !kern_dequant_fn(t->old_type))
        return -1;
    const int64_t rows = (int64_t)(t->bytes_old / rb);
    if (*row_cap < (size_t)ne0) {
        float *nr = realloc(*row, (size_t)ne0 * sizeof **row);
        if (!nr)
            return -1;
        *row = nr;
        *row_cap = (size_t)ne0;
    }
    for (int64_t r = 0; r < rows; r++) {
        const uint8_t *src = in + (uint64_t)r * rb;
        kern_row_to_f32(t->old_type, src, *row, ne0);
        if (kern_find_nonfinite(*row, ne0) >= 0)
            return r;
    }
    return -1;
}

gk_status rq_run(rq_job *j, fmt_output *out, fmt_progress *progress, char *err, size_t cap) {
    if (j->n_out != 1) {
        gk_msgf(err, cap, "%zu output files: use rq_run_split", j->n_out);
        return GK_E_USAGE;
    }
    gk_error e;
    gk_status st = rq_run_split(j, &out, NULL, NULL, progress, &e);
    if (st != GK_OK)
        gk_msgf(err, cap, "%s", gk_error_message(&e));
    return st;
}

/* Finish output file *cur (SIZE_MAX: none started) and start the files up
 * to wi, each header first: files without tensors get their header too. */
static gk_status next_output(rq_job *j, size_t *cur, size_t wi, fmt_output *const *outs, char *err,
                             size_t cap) {
    gk_status st = GK_OK;
    while (*cur == SIZE_MAX || *cur < wi) {
        if (*cur != SIZE_MAX && (st = fmt_gguf_writer_finish(j->ws[*cur])) != GK_OK) {
            gk_msgf(err, cap, "%s", fmt_gguf_writer_errmsg(j->ws[*cur]));
            return st;
        }
        *cur = *cur == SIZE_MAX ? 0 : *cur + 1;
        if ((st = fmt_gguf_writer_write_header(j->ws[*cur], outs[*cur])) != GK_OK) {
            gk_msgf(err, cap, "%s", fmt_output_errmsg(outs[*cur]));
            return st;
        }
    }
    return st;
}

/* The bytes of output tensor k's input: its record's mapped data, else
 * read into *buf (grown to fit) by the source, or by o->read_tensor when the
 * reader holds only a header. */
static gk_status input_bytes(rq_job *j, size_t k, uint8_t **buf, size_t *buf_cap,
                             const uint8_t **in, char *err, size_t cap) {
    const rq_opts *o = j->o;
    const rq_tensor *t = &j->t[k];
    const fmt_src_tensor *rec = fmt_src_tensor_at(j->in, j->src[k]);
    if (!o->read_tensor && rec->data) {
        *in = rec->data;
        return GK_OK;
    }
    if (*buf_cap < t->bytes_old) {
        free(*buf);
        *buf = malloc(t->bytes_old ? (size_t)t->bytes_old : 1);
        *buf_cap = *buf ? (size_t)t->bytes_old : 0;
        if (!*buf) {
            gk_msgf(err, cap, "out of memory reading tensor '%s'", t->name);
            return GK_E_NOMEM;
        }
    }
    if (!o->read_tensor)
        return fmt_src_load(rec, *buf, in, err, cap);
    *in = *buf;
    return o->read_tensor(o->read_ctx, j->src[k], *buf, t->bytes_old, err, cap);
}

static gk_status run_split(rq_job *j, fmt_output *const *outs, fmt_progress *progress, char *err,
                           size_t cap) {
    const rq_opts *o = j->o;
    size_t cur = SIZE_MAX;
    gk_status st = next_output(j, &cur, 0, outs, err, cap);
    if (st != GK_OK)
        return st;
    int nth = o->nthreads >= 1 ? o->nthreads : fmt_online_cpus();
    if (nth < 1)
        nth = 1;
    size_t elems = 0;
    for (size_t k = 0; k < j->n; k++) {
        const rq_tensor *t = &j->t[k];
        if (t->old_type == t->new_type)
            continue;
        size_t e = (size_t)(rows_per_chunk(t->ne[0]) * t->ne[0]);
        if (e > elems)
            elems = e;
    }
    /* scratch per thread: the largest chunk as f32, twice */
    fmt_pool *pl = NULL;
    if (elems > SIZE_MAX / 2 / sizeof(float))
        st = GK_E_NOMEM;
    else
        pl = fmt_pool_new(nth, 2 * (elems ? elems : 1) * sizeof(float), &st);
    uint8_t *win = NULL, *buf = NULL;
    float *row = NULL;
    size_t win_cap = 0, buf_cap = 0, row_cap = 0;
    uint64_t done = 0;
    for (size_t k = 0; k < j->n && st == GK_OK; k++) {
        rq_tensor *t = &j->t[k];
        fmt_progress_item(progress, k + 1, j->n, t->name, strlen(t->name));
        if ((st = next_output(j, &cur, j->out_of[k], outs, err, cap)) != GK_OK)
            break;
        fmt_gguf_writer *w = j->ws[cur];
        fmt_output *out = outs[cur];
        const uint8_t *in;
        if ((st = input_bytes(j, k, &buf, &buf_cap, &in, err, cap)) != GK_OK)
            break;
        if (t->old_type == t->new_type) {
            int64_t bad = nonfinite_row(t, in, &row, &row_cap);
            if (bad >= 0) {
                gk_msgf(err, cap, "tensor '%s': row %lld holds NaN or infinity", t->name,
                        (long long)bad);
                st = GK_E_FORMAT;
                break;
            }
            st = fmt_gguf_writer_write_data(w, out, in, (size_t)t->bytes_old);
            if (st != GK_OK)
                gk_msgf(err, cap, "%s", fmt_output_errmsg(out));
        } else {
            st = convert_tensor(j, k, in, pl, &win, &win_cap, w, out, err, cap);
            if (st == GK_OK && o->max_rel_error > 0 && t->has_metrics &&
                !(t->m.rel_rms <= o->max_rel_error)) {
                gk_msgf(err, cap, "tensor '%s': relative error %.6g exceeds --max-rel-error %.6g",
                        t->name, t->m.rel_rms, o->max_rel_error);
                st = GK_E_CHECK;
            }
        }
        /* a mapped input: keep the resident set bounded by the working
         * window, not by the model size */
        if (in != buf)
            fmt_release_pages(in, (size_t)t->bytes_old);
        done += t->bytes_old;
        if (progress)
            fmt_progress_update(progress, done);
    }
    /* files after the last tensor's (empty shards), then the last one */
    if (st == GK_OK)
        st = next_output(j, &cur, j->n_out - 1, outs, err, cap);
    if (st == GK_OK && (st = fmt_gguf_writer_finish(j->ws[cur])) != GK_OK)
        gk_msgf(err, cap, "%s", fmt_gguf_writer_errmsg(j->ws[cur]));
    fmt_pool_free(pl);
    free(win);
    free(buf);
    free(row);
    return st;
}

/* The file at fault for a failed run: the output that failed, else the
 * input shard of the tensor the message names (bad data, or the reader's
 * "tensor 'X': unexpected end of file"); none for a failed check. */
static const char *faulty_file(const rq_job *j, gk_status st, fmt_output *const *outs,
                               const char *const *out_names, const char *const *in_names,
                               const char *msg) {
    for (size_t k = 0; k < j->n_out; k++)
        if (fmt_output_errmsg(outs[k])[0])
            return out_names ? out_names[k] : NULL;
    if (st == GK_E_CHECK || !in_names || strncmp(msg, "tensor '", 8) != 0)
        return NULL;
    for (size_t k = 0; k < j->n; k++) {
        size_t len = strlen(j->t[k].name);
        if (strncmp(msg + 8, j->t[k].name, len) == 0 && msg[8 + len] == '\'')
            return in_names[j->in_shard[j->src[k]]];
    }
    return NULL;
}

gk_status rq_run_split(rq_job *j, fmt_output *const *outs, const char *const *out_names,
                       const char *const *in_names, fmt_progress *progress, gk_error *e) {
    char err[sizeof e->msg] = "";
    gk_status st = run_split(j, outs, progress, err, sizeof err);
    if (st == GK_OK) {
        gk_error_clear(e);
        return st;
    }
    return gk_error_set(e, st, faulty_file(j, st, outs, out_names, in_names, err), "%s", err);
}

void rq_free(rq_job *j) {
    if (!j)
        return;
    for (size_t i = 0; j->ws && i < j->n_out; i++)
        fmt_gguf_writer_free(j->ws[i]);
    free(j->ws);
    free(j->gs);
    free(j->in_shard);
    free(j->in_idx);
    fmt_src_close(j->in);
    free(j->out_of);
    free(j->t);
    free(j->src);
    free(j->imat);
    free(j->names);
    free(j->renamed);
    free(j);
}
