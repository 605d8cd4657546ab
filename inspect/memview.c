/*
 * memview.c -- gguf-inspect --mem: memplan's figures for the open model,
 * per device, as text or JSON, and --fit's inverse search; with --as, for
 * the model requant would write with that preset.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/io.h"
#include "formats/mixture.h"
#include "inspect_internal.h"
#include "kernels/kernels.h"

/* ------------------------------------------------------------------------ */
/* Planning                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    mp_hparams hp;
    mp_tensor *t;
    size_t n;
} mem_input;

static uint64_t key_u64(const fmt_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    uint64_t v = 0;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return fmt_gguf_get_u64(g, key, &v) ? v : 0;
}

/* --as, step 1: the type requant PRESET (llama-quantize's mixture) gives
 * each tensor, in mc[], and llama-quantize's tensor order. A preset requant
 * refuses without an importance matrix is planned with one (the only file
 * that can exist); the others without. */
static int preset_types(const mem_input *in, const insp_model *m, const fmt_mix_preset *as,
                        fmt_mix_choice *mc, size_t *order, char *err, size_t cap) {
    fmt_mix_tensor *mt = calloc(in->n ? in->n : 1, sizeof *mt);
    if (!mt) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < in->n; i++) {
        mt[i].name = in->t[i].name, mt[i].type = in->t[i].type;
        mt[i].n_dims = m->tensors[i].n_dims;
        memcpy(mt[i].ne, in->t[i].ne, sizeof mt[i].ne);
    }
    char arch[128];
    fmt_mix_model mm;
    fmt_mix_model_read(m->shards[0].gguf, &mm, arch, sizeof arch);
    fmt_mix_opts mo = {.ftype = as->ftype,
                       .only_copy = as->only_copy,
                       .output_type = -1,
                       .token_embd_type = -1,
                       .has_imatrix = as->needs_imatrix};
    int rc = fmt_mix_plan(&mm, &mo, mt, in->n, mc, err, cap) == GK_OK ? 0 : -1;
    if (rc == 0)
        fmt_mix_sort_order(mt, in->n, order);
    free(mt);
    return rc;
}

/* --as, step 2: each tensor's type, size and place as requant writes
 * them: one file, llama-quantize's order, each tensor padded to 32 bytes. */
static int apply_preset(mem_input *in, const insp_model *m, const fmt_mix_preset *as, char *err,
                        size_t cap) {
    fmt_mix_choice *mc = calloc(in->n ? in->n : 1, sizeof *mc);
    size_t *order = calloc(in->n ? in->n : 1, sizeof *order);
    int rc = mc && order ? preset_types(in, m, as, mc, order, err, cap) : -1;
    if (!mc || !order)
        snprintf(err, cap, "out of memory");
    uint64_t offset = 0;
    for (size_t k = 0; rc == 0 && k < in->n; k++) {
        mp_tensor *t = &in->t[order[k]];
        const fmt_mix_choice *c = &mc[order[k]];
        if (c->convert) {
            uint64_t rows = (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
            uint64_t rb = kern_row_bytes(c->new_type, t->ne[0]);
            t->type = c->new_type;
            t->bytes = rows && rb > UINT64_MAX / rows ? UINT64_MAX : rb * rows;
        }
        if (offset > UINT64_MAX / 2 || t->bytes > UINT64_MAX / 2 - offset) { /* hostile shapes */
            snprintf(err, cap, "tensor '%s' would be too large", t->name);
            rc = -1;
        }
        t->file = 0, t->offset = offset;
        offset += (t->bytes + FMT_GGUF_DEFAULT_ALIGNMENT - 1) / FMT_GGUF_DEFAULT_ALIGNMENT *
                  FMT_GGUF_DEFAULT_ALIGNMENT;
    }
    free(mc), free(order);
    return rc;
}

static int input_init(mem_input *in, const insp_model *m, const insp_hparams *h) {
    const fmt_gguf *g = m->shards[0].gguf;
    mp_hparams *hp = &in->hp;
    memset(in, 0, sizeof *in);
    in->t = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *in->t);
    if (!in->t)
        return -1;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const insp_tensor *x = &m->tensors[i];
        mp_tensor *y = &in->t[in->n++];
        y->name = x->name, y->type = x->type, y->bytes = x->bytes;
        y->offset = x->offset, y->file = x->shard;
        for (int d = 0; d < 4; d++)
            y->ne[d] = d < (int)x->n_dims ? x->ne[d] : 1;
        if (strcmp(x->name, "token_embd.weight") == 0 && !h->vocab_size)
            hp->n_vocab = (uint64_t)x->ne[1];
    }
    hp->arch = h->arch;
    hp->n_layer = h->block_count, hp->n_embd = h->embedding_length,
    hp->n_ff = h->feed_forward_length;
    hp->n_head = h->head_count, hp->n_head_kv = h->head_count_kv;
    hp->n_embd_head_k = h->key_length, hp->n_embd_head_v = h->value_length;
    if (h->vocab_size)
        hp->n_vocab = h->vocab_size;
    hp->n_ctx_train = h->context_length;
    hp->n_expert = h->expert_count, hp->n_expert_used = h->expert_used_count;
    hp->n_swa = h->swa_window, hp->swa_period = h->swa_period;
    if (h->arch) {
        hp->n_ff_exp = key_u64(g, h->arch, "expert_feed_forward_length");
        hp->is_mla = key_u64(g, h->arch, "attention.key_length_mla") &&
                     key_u64(g, h->arch, "attention.value_length_mla");
    }
    return 0;
}

static int fits(const mp_plan *pl, const insp_opts *o) {
    for (int d = 0; d < o->fit_n && d < pl->n_dev; d++)
        if (o->fit[d] && (pl->dev[d].total == MP_UNKNOWN || pl->dev[d].total > o->fit[d]))
            return 0;
    return 1;
}

typedef struct {
    int searched_layers; /* else the context */
    int found;
    uint64_t value; /* -ngl or -c */
    mp_plan plan;
} fit_result;

/* --fit: with GPUs and no -ngl, the most layers offloaded at the given
 * context; otherwise the largest context (a multiple of 256, up to the
 * training context or -c) at the given -ngl. */
static void fit_search(const mem_input *in, const insp_opts *o, fit_result *r) {
    mp_params p = o->mp;
    char err[256];
    memset(r, 0, sizeof *r);
    if (p.n_gpus > 0 && !o->ngl_set) {
        r->searched_layers = 1;
        for (int ngl = (int)in->hp.n_layer + 1; ngl >= 0; ngl--) {
            p.n_gpu_layers = ngl;
            if (mp_plan_compute(&in->hp, in->t, in->n, &p, &r->plan, err, sizeof err) == 0 &&
                fits(&r->plan, o)) {
                r->found = 1, r->value = (uint64_t)ngl;
                return;
            }
        }
        return;
    }
    uint64_t hi = (p.n_ctx > in->hp.n_ctx_train ? p.n_ctx : in->hp.n_ctx_train) / 256, lo = 1;
    while (lo <= hi) { /* the plan grows with the context */
        uint64_t mid = lo + (hi - lo) / 2;
        mp_plan pl;
        p.n_ctx = mid * 256;
        if (mp_plan_compute(&in->hp, in->t, in->n, &p, &pl, err, sizeof err) == 0 && fits(&pl, o)) {
            r->found = 1, r->value = mid * 256, r->plan = pl;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
}

static int plan(const insp_model *m, const insp_hparams *h, const insp_opts *o, mem_input *in,
                mp_plan *pl) {
    char err[256];
    if (input_init(in, m, h) != 0) {
        fmt_error(m->shards[0].path, "out of memory");
        return 2;
    }
    if (o->as && apply_preset(in, m, o->as, err, sizeof err) != 0) {
        fmt_error(m->shards[0].path, "--as %s: %s", o->as->name, err);
        free(in->t);
        return 2;
    }
    if (mp_plan_compute(&in->hp, in->t, in->n, &o->mp, pl, err, sizeof err) != 0) {
        fmt_error(m->shards[0].path, "--mem: %s", err);
        free(in->t);
        return 2;
    }
    return 0;
}

static const char *kv_status_name(mp_kv_status s) {
    return s == MP_KV_OK ? "ok" : s == MP_KV_NOT_MODELLED ? "not modelled" : "unknown";
}

static void device_name(int d, char *buf, size_t cap) {
    if (d == 0)
        snprintf(buf, cap, "CPU");
    else
        snprintf(buf, cap, "GPU%d", d - 1);
}

static uint64_t sum_field(const mp_plan *pl, size_t off) {
    uint64_t s = 0;
    for (int d = 0; d < pl->n_dev; d++) {
        uint64_t v = *(const uint64_t *)((const char *)&pl->dev[d] + off);
        if (v == MP_UNKNOWN)
            return MP_UNKNOWN;
        s += v;
    }
    return s;
}
#define SUM(pl, field) sum_field(pl, offsetof(mp_device, field))

/* ------------------------------------------------------------------------ */
/* Text                                                                       */
/* ------------------------------------------------------------------------ */

static void cell(FILE *f, uint64_t v) {
    char b[32];
    if (v == MP_UNKNOWN)
        snprintf(b, sizeof b, "unknown");
    else
        insp_human_bytes(v, b, sizeof b);
    fprintf(f, " %11s", b);
}

static void text_row(FILE *f, const char *name, const mp_device *d) {
    fprintf(f, "  %-6s", name);
    cell(f, d->weights), cell(f, d->repack + d->amx), cell(f, d->kv), cell(f, d->compute);
    cell(f, d->output), cell(f, d->total);
    fputc('\n', f);
}

static void text_fit(FILE *f, const mem_input *in, const insp_opts *o) {
    fit_result r;
    fit_search(in, o, &r);
    if (!r.found)
        fprintf(f, "  fit: nothing fits the --fit limits%s\n",
                r.searched_layers ? "" : " even at 256 tokens");
    else if (r.searched_layers)
        fprintf(f, "  fit: -ngl %" PRIu64 " (of %" PRIu64 ") at context %" PRIu64 "\n", r.value,
                in->hp.n_layer + 1, r.plan.n_ctx);
    else
        fprintf(f, "  fit: -c %" PRIu64 " at -ngl %d\n", r.value, o->mp.n_gpu_layers);
}

int insp_mem_text(FILE *f, const insp_model *m, const insp_hparams *h, const insp_opts *o) {
    mem_input in;
    mp_plan pl;
    int rc = plan(m, h, o, &in, &pl);
    if (rc)
        return rc;
    const mp_params *p = &o->mp;
    fprintf(f,
            "\nmemory at context %" PRIu64 " (llama.cpp: -b %" PRIu64 " -ub %" PRIu64
            " -np %" PRIu64 " -ctk %s -ctv %s -fa %s -ngl %d%s%s)%s%s\n",
            pl.n_ctx, pl.n_batch, pl.n_ubatch, pl.n_stream, kern_type_info(p->type_k)->name,
            kern_type_info(p->type_v)->name, p->flash_attn ? "on" : "off", p->n_gpu_layers,
            p->no_mmap ? " --no-mmap" : "", p->swa_full ? " --swa-full" : "",
            o->as ? ", weights as requant " : "", o->as ? o->as->name : "");
    if (pl.kv_status == MP_KV_OK) {
        fprintf(f, "  %-22s%" PRIu64 " cells per sequence", "kv cache", pl.kv_cells);
        if (pl.n_swa_layers)
            fprintf(f,
                    " (%" PRIu64 " of %" PRIu64 " layers hold at most the %" PRIu64
                    "-token window: %" PRIu64 " cells)",
                    pl.n_swa_layers, in.hp.n_layer, in.hp.n_swa, pl.kv_cells_swa);
        fputc('\n', f);
    } else {
        fprintf(f, "  %-22s%s for %s (%s)\n", "kv cache", kv_status_name(pl.kv_status), in.hp.arch,
                pl.kv_status == MP_KV_NOT_MODELLED
                    ? "recurrent or hybrid state"
                    : "llama.cpp's KV layout for it is not known here");
    }
    fprintf(f, "  %-6s %11s %11s %11s %11s %11s %11s\n", "device", "weights", "repack", "kv cache",
            "compute", "output", "total");
    for (int d = 0; d < pl.n_dev; d++) {
        char name[16];
        device_name(d, name, sizeof name);
        text_row(f, name, &pl.dev[d]);
    }
    if (pl.n_dev > 1) {
        mp_device t = {.weights = SUM(&pl, weights),
                       .repack = SUM(&pl, repack),
                       .amx = SUM(&pl, amx),
                       .kv = SUM(&pl, kv),
                       .compute = SUM(&pl, compute),
                       .output = SUM(&pl, output),
                       .total = SUM(&pl, total)};
        text_row(f, "total", &t);
    }
    if (pl.dev[0].amx) {
        char amx[32], repack[32];
        insp_human_bytes(pl.dev[0].amx, amx, sizeof amx);
        insp_human_bytes(pl.dev[0].repack, repack, sizeof repack);
        fprintf(f, "  CPU repack column: AMX buffer %s + CPU_REPACK %s (--amx off: no AMX)\n", amx,
                repack);
    }
    if (o->fit_n)
        text_fit(f, &in, o);
    free(in.t);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                       */
/* ------------------------------------------------------------------------ */

static json_t *jbytes(uint64_t v) {
    return v == MP_UNKNOWN ? json_null() : json_integer((json_int_t)v);
}

static json_t *devices_json(const mp_plan *pl) {
    json_t *a = json_array();
    for (int d = 0; d < pl->n_dev; d++) {
        const mp_device *v = &pl->dev[d];
        char name[16];
        device_name(d, name, sizeof name);
        json_array_append_new(a, json_pack("{s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "device", name,
                                           "layers", v->layers, "weights_bytes", jbytes(v->weights),
                                           "repack_bytes", jbytes(v->repack), "amx_bytes",
                                           jbytes(v->amx), "kv_cache_bytes", jbytes(v->kv),
                                           "compute_bytes", jbytes(v->compute), "output_bytes",
                                           jbytes(v->output), "total_bytes", jbytes(v->total)));
    }
    return a;
}

static json_t *params_json(const mp_plan *pl, const insp_opts *o) {
    const mp_params *p = &o->mp;
    json_t *ts = json_array();
    for (int i = 0; i < p->n_gpus; i++)
        json_array_append_new(ts, json_real(p->split[i]));
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:s,s:s,s:b,s:i,s:i,s:b,s:b,s:b,s:b,s:o,s:o}",
                     "ctx_size", (json_int_t)pl->n_ctx, "ctx_seq", (json_int_t)pl->n_ctx_seq,
                     "batch_size", (json_int_t)pl->n_batch, "ubatch_size", (json_int_t)pl->n_ubatch,
                     "parallel", (json_int_t)pl->n_stream, "cache_type_k",
                     kern_type_info(p->type_k)->name, "cache_type_v",
                     kern_type_info(p->type_v)->name, "flash_attn", p->flash_attn, "n_gpu_layers",
                     p->n_gpu_layers, "n_cpu_moe", p->n_cpu_moe, "mmap", !p->no_mmap, "swa_full",
                     p->swa_full, "repack", p->repack, "amx", p->repack && p->amx, "tensor_split",
                     ts, "as", o->as ? json_string(o->as->name) : json_null());
}

static json_t *fit_json(const mem_input *in, const insp_opts *o) {
    fit_result r;
    fit_search(in, o, &r);
    return json_pack("{s:s,s:b,s:o,s:o}", "searched",
                     r.searched_layers ? "n_gpu_layers" : "ctx_size", "found", r.found, "value",
                     r.found ? json_integer((json_int_t)r.value) : json_null(), "devices",
                     r.found ? devices_json(&r.plan) : json_null());
}

int insp_mem_json(const insp_model *m, const insp_hparams *h, const insp_opts *o, json_t **out) {
    mem_input in;
    mp_plan pl;
    int rc = plan(m, h, o, &in, &pl);
    if (rc)
        return rc;
    json_t *j = json_pack(
        "{s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:I,s:I,s:I,s:o,s:o}", "context", (json_int_t)pl.n_ctx,
        "kv_type", kern_type_info(o->mp.type_k)->name, "weights_bytes",
        jbytes(SUM(&pl, weights) + SUM(&pl, repack) + SUM(&pl, amx)), "kv_cache_bytes",
        jbytes(SUM(&pl, kv)), "compute_bytes", jbytes(SUM(&pl, compute)), "output_bytes",
        jbytes(SUM(&pl, output)), "total_bytes", jbytes(SUM(&pl, total)), "kv_layout",
        kv_status_name(pl.kv_status), "kv_cells", (json_int_t)pl.kv_cells, "kv_cells_swa",
        (json_int_t)pl.kv_cells_swa, "swa_layers", (json_int_t)pl.n_swa_layers, "params",
        params_json(&pl, o), "devices", devices_json(&pl));
    if (o->fit_n)
        json_object_set_new(j, "fit", fit_json(&in, o));
    free(in.t);
    *out = j;
    return 0;
}
