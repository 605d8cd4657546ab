/*
 * json.c -- gguf-inspect --json: one JSON document with everything the text
 * view shows, arrays complete. Schema: docs/gguf-inspect.json.md.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/ftype.h"
#include "formats/json.h"
#include "inspect_internal.h"
#include "kernels/kernels.h"

#define SCHEMA "ggufkit.gguf-inspect/1"

/* ------------------------------------------------------------------------ */
/* Values                                                                     */
/* ------------------------------------------------------------------------ */

static json_t *real_value(double d) {
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *value_json(const fmt_gguf_value *v) {
    switch (v->type) {
    case FMT_GGUF_U8:
    case FMT_GGUF_U16:
    case FMT_GGUF_U32:
    case FMT_GGUF_U64:
        if (v->v.u > (uint64_t)INT64_MAX) { /* beyond JSON's safe integers: exact as text */
            char buf[32];
            snprintf(buf, sizeof buf, "%" PRIu64, v->v.u);
            return json_string(buf);
        }
        return json_integer((json_int_t)v->v.u);
    case FMT_GGUF_I8:
    case FMT_GGUF_I16:
    case FMT_GGUF_I32:
    case FMT_GGUF_I64: return json_integer((json_int_t)v->v.i);
    case FMT_GGUF_F32:
    case FMT_GGUF_F64: return real_value(v->v.f);
    case FMT_GGUF_BOOL: return json_boolean(v->v.u);
    case FMT_GGUF_STRING: return fmt_json_bytes(v->v.s.ptr, v->v.s.len);
    case FMT_GGUF_ARRAY: {
        json_t *a = json_array();
        fmt_gguf_iter it;
        fmt_gguf_value e;
        fmt_gguf_iter_init(&it, v);
        while (a && fmt_gguf_iter_next(&it, &e))
            json_array_append_new(a, value_json(&e));
        return a;
    }
    default: return json_null();
    }
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                   */
/* ------------------------------------------------------------------------ */

static double bpw(uint64_t bytes, uint64_t params) {
    return params ? (double)bytes * 8.0 / (double)params : 0.0;
}

static json_t *files_json(const insp_model *m) {
    json_t *a = json_array();
    for (uint32_t s = 0; s < m->n_shards; s++) {
        const insp_shard *sh = &m->shards[s];
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(sh->path));
        json_object_set_new(o, "size",
                            sh->file_size == UINT64_MAX ? json_null()
                                                        : json_integer((json_int_t)sh->file_size));
        if (sh->gguf) {
            json_object_set_new(o, "version", json_integer(fmt_gguf_version(sh->gguf)));
            json_object_set_new(o, "alignment",
                                json_integer((json_int_t)fmt_gguf_alignment(sh->gguf)));
            json_object_set_new(o, "data_offset",
                                json_integer((json_int_t)fmt_gguf_data_offset(sh->gguf)));
            json_object_set_new(o, "kv_count", json_integer((json_int_t)fmt_gguf_n_kv(sh->gguf)));
            json_object_set_new(o, "tensor_count",
                                json_integer((json_int_t)fmt_gguf_n_tensors(sh->gguf)));
        }
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *summary_json(const insp_model *m, const insp_stats *s) {
    json_t *o = json_object();
    char label[32];
    fmt_size_label(s->params, label, sizeof label);
    const fmt_gguf *g = m->is_safetensors ? NULL : m->shards[0].gguf;
    fmt_str str;
    uint64_t ft;
    json_object_set_new(o, "path", json_string(m->shards[0].path));
    json_object_set_new(o, "file_size",
                        s->file_size == UINT64_MAX || s->file_size == 0
                            ? json_null()
                            : json_integer((json_int_t)s->file_size));
    if (g) {
        json_object_set_new(o, "version", json_integer(fmt_gguf_version(g)));
        json_object_set_new(o, "alignment", json_integer((json_int_t)fmt_gguf_alignment(g)));
        json_object_set_new(o, "kv_count", json_integer((json_int_t)fmt_gguf_n_kv(g)));
        json_object_set_new(o, "architecture",
                            fmt_gguf_get_str(g, "general.architecture", &str)
                                ? fmt_json_bytes(str.ptr, str.len)
                                : json_null());
        json_object_set_new(o, "name",
                            fmt_gguf_get_str(g, "general.name", &str)
                                ? fmt_json_bytes(str.ptr, str.len)
                                : json_null());
        if (fmt_gguf_get_u64(g, "general.file_type", &ft)) {
            const char *name = fmt_ftype_name((int)ft);
            json_object_set_new(o, "file_type",
                                json_pack("{s:I,s:o}", "id", (json_int_t)ft, "name",
                                          name ? json_string(name) : json_null()));
        } else {
            json_object_set_new(o, "file_type", json_null());
        }
    }
    json_object_set_new(o, "tensor_count", json_integer((json_int_t)m->n_tensors));
    json_object_set_new(o, "parameters", json_integer((json_int_t)s->params));
    json_object_set_new(o, "parameters_label", json_string(label));
    json_object_set_new(o, "tensor_bytes", json_integer((json_int_t)s->bytes));
    json_object_set_new(o, "bpw", json_real(bpw(s->bytes, s->params)));
    return o;
}

static json_t *types_json(const insp_stats *s) {
    json_t *a = json_array();
    for (size_t i = 0; i < s->n_types; i++) {
        const insp_type_stat *t = &s->types[i];
        json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I,s:f,s:f}", "type", t->type_name,
                                           "tensors", (json_int_t)t->tensors, "parameters",
                                           (json_int_t)t->params, "bytes", (json_int_t)t->bytes,
                                           "bpw", bpw(t->bytes, t->params), "share",
                                           s->bytes ? (double)t->bytes / (double)s->bytes : 0.0));
    }
    return a;
}

static void set_u64(json_t *o, const char *k, uint64_t v) {
    json_object_set_new(o, k, v ? json_integer((json_int_t)v) : json_null());
}

static void set_real(json_t *o, const char *k, double v) {
    json_object_set_new(o, k, isnan(v) ? json_null() : json_real(v));
}

/* The family-specific keys (null when absent), the sliding-window layers
 * and the rope factor tensors. */
static void family_hparams_json(json_t *o, const insp_model *m, const insp_hparams *hp) {
    const fmt_gguf *g = m->shards[0].gguf;
    for (size_t i = 0; i < insp_n_hparam_keys; i++) {
        const fmt_gguf_kv *kv =
            hp->arch ? insp_arch_kv(g, hp->arch, insp_hparam_keys[i].suffix) : NULL;
        json_object_set_new(o, insp_hparam_keys[i].field,
                            kv ? value_json(&kv->value) : json_null());
    }
    json_object_set_new(
        o, "swa",
        hp->swa_window ? json_pack("{s:I,s:I,s:I}", "window", (json_int_t)hp->swa_window, "period",
                                   (json_int_t)hp->swa_period, "layers", (json_int_t)hp->swa_layers)
                       : json_null());
    const insp_tensor *rope[3];
    size_t n = insp_rope_factor_tensors(m, rope, 3);
    json_t *names = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, json_string(rope[i]->name));
    json_object_set_new(o, "rope_factor_tensors", names);
}

static json_t *hparams_json(const insp_model *m, const insp_hparams *hp) {
    json_t *o = json_object();
    json_object_set_new(o, "architecture", hp->arch ? json_string(hp->arch) : json_null());
    set_u64(o, "context_length", hp->context_length);
    set_u64(o, "embedding_length", hp->embedding_length);
    set_u64(o, "block_count", hp->block_count);
    set_u64(o, "feed_forward_length", hp->feed_forward_length);
    set_u64(o, "head_count", hp->head_count);
    set_u64(o, "head_count_kv", hp->head_count_kv);
    set_u64(o, "head_dim", hp->key_length);
    set_u64(o, "rope_dimension_count", hp->rope_dimension_count);
    set_real(o, "rope_freq_base", hp->rope_freq_base);
    json_object_set_new(o, "rope_scaling_type",
                        hp->rope_scaling_type.len
                            ? fmt_json_bytes(hp->rope_scaling_type.ptr, hp->rope_scaling_type.len)
                            : json_null());
    set_real(o, "rope_scaling_factor", hp->rope_scaling_factor);
    set_real(o, "rms_norm_eps", hp->rms_eps);
    set_real(o, "norm_eps", hp->norm_eps);
    set_u64(o, "expert_count", hp->expert_count);
    set_u64(o, "expert_used_count", hp->expert_used_count);
    set_u64(o, "vocab_size", hp->vocab_size);
    family_hparams_json(o, m, hp);
    return o;
}

static json_t *tokenizer_json(const fmt_gguf *g) {
    fmt_str s;
    if (!fmt_gguf_get_str(g, "tokenizer.ggml.model", &s))
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "model", fmt_json_bytes(s.ptr, s.len));
    json_object_set_new(o, "pre",
                        fmt_gguf_get_str(g, "tokenizer.ggml.pre", &s) ? fmt_json_bytes(s.ptr, s.len)
                                                                      : json_null());
    const fmt_gguf_kv *tokens = fmt_gguf_find_kv(g, "tokenizer.ggml.tokens");
    const fmt_gguf_kv *merges = fmt_gguf_find_kv(g, "tokenizer.ggml.merges");
    int has_tokens = tokens && tokens->value.type == FMT_GGUF_ARRAY &&
                     tokens->value.v.arr.elem_type == FMT_GGUF_STRING;
    json_object_set_new(o, "vocab_size",
                        has_tokens ? json_integer((json_int_t)tokens->value.v.arr.n) : json_null());
    json_object_set_new(o, "merges",
                        merges && merges->value.type == FMT_GGUF_ARRAY
                            ? json_integer((json_int_t)merges->value.v.arr.n)
                            : json_null());
    static const char *const names[] = {"bos",  "eos", "unknown", "separator", "padding",
                                        "mask", "eot", "eom",     "cls"};
    json_t *special = json_object();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char key[64];
        uint64_t id;
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", names[i]);
        if (!fmt_gguf_get_u64(g, key, &id))
            continue;
        json_t *tok = json_null();
        if (has_tokens && id < tokens->value.v.arr.n) {
            fmt_gguf_iter it;
            fmt_gguf_value e;
            fmt_gguf_iter_init(&it, &tokens->value);
            for (uint64_t k = 0; fmt_gguf_iter_next(&it, &e); k++)
                if (k == id) {
                    json_decref(tok);
                    tok = fmt_json_bytes(e.v.s.ptr, e.v.s.len);
                    break;
                }
        }
        json_object_set_new(special, names[i],
                            json_pack("{s:I,s:o}", "id", (json_int_t)id, "token", tok));
    }
    json_object_set_new(o, "special", special);
    int b;
    json_object_set_new(o, "add_bos",
                        fmt_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b) ? json_boolean(b)
                                                                                 : json_null());
    json_object_set_new(o, "add_eos",
                        fmt_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b) ? json_boolean(b)
                                                                                 : json_null());
    json_object_set_new(o, "chat_template_bytes",
                        fmt_gguf_get_str(g, "tokenizer.chat_template", &s)
                            ? json_integer((json_int_t)s.len)
                            : json_null());
    return o;
}

static json_t *metadata_json(const fmt_gguf *g) {
    json_t *a = json_array();
    for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        json_t *o = json_object();
        json_object_set_new(o, "key", fmt_json_bytes(kv->key.ptr, kv->key.len));
        json_object_set_new(o, "type", json_string(fmt_gguf_type_name(kv->value.type)));
        if (kv->value.type == FMT_GGUF_ARRAY) {
            json_object_set_new(o, "elem_type",
                                json_string(fmt_gguf_type_name(kv->value.v.arr.elem_type)));
            json_object_set_new(o, "count", json_integer((json_int_t)kv->value.v.arr.n));
        }
        json_object_set_new(o, "value", value_json(&kv->value));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *tensors_json(const insp_model *m, const insp_opts *o) {
    char err[256];
    uint64_t n;
    uint64_t *idx = insp_select_tensors(m, o, &n, err, sizeof err);
    if (!idx) {
        fprintf(stderr, "%s: %s\n", fmt_progname(), err);
        return NULL;
    }
    json_t *a = json_array();
    for (uint64_t k = 0; k < n; k++) {
        const insp_tensor *t = &m->tensors[idx[k]];
        json_t *shape = json_array();
        for (uint32_t d = 0; d < t->n_dims && d < 8; d++)
            json_array_append_new(shape, json_integer((json_int_t)t->ne[d]));
        json_t *to = json_pack(
            "{s:s,s:s,s:o,s:I,s:I,s:f,s:I,s:i}", "name", t->name, "type", t->type_name, "shape",
            shape, "parameters", (json_int_t)t->n_elements, "bytes", (json_int_t)t->bytes, "bpw",
            bpw(t->bytes, t->n_elements), "offset", (json_int_t)t->offset, "shard", (int)t->shard);
        if (t->type >= 0)
            json_object_set_new(to, "type_id", json_integer(t->type));
        json_array_append_new(a, to);
    }
    free(idx);
    return a;
}

static json_t *layers_json(const insp_stats *s) {
    json_t *a = json_array();
    for (size_t i = 0; i < s->n_layers; i++) {
        const insp_layer_stat *l = &s->layers[i];
        json_array_append_new(
            a, json_pack("{s:o,s:I,s:I,s:I,s:f}", "layer",
                         l->layer < 0 ? json_null() : json_integer((json_int_t)l->layer), "tensors",
                         (json_int_t)l->tensors, "parameters", (json_int_t)l->params, "bytes",
                         (json_int_t)l->bytes, "bpw", bpw(l->bytes, l->params)));
    }
    return a;
}

static json_t *st_metadata_json(const insp_model *m) {
    json_t *o = json_object();
    for (uint64_t i = 0; i < fmt_safetensors_n_metadata(m->st); i++) {
        const char *k, *v;
        fmt_safetensors_metadata_at(m->st, i, &k, &v);
        json_object_set_new(o, k, json_string(v));
    }
    return o;
}

int insp_render_json(FILE *f, const insp_model *m, const insp_opts *o) {
    insp_stats s;
    insp_hparams hp;
    if (insp_stats_compute(m, &s) != GK_OK)
        return 2;
    json_t *root = json_object();
    const fmt_gguf *g = m->is_safetensors ? NULL : m->shards[0].gguf;
    json_object_set_new(root, "schema", json_string(SCHEMA));
    json_object_set_new(root, "format", json_string(g ? "gguf" : "safetensors"));
    json_object_set_new(root, "files", files_json(m));
    json_object_set_new(root, "summary", summary_json(m, &s));
    json_object_set_new(root, "types", types_json(&s));
    memset(&hp, 0, sizeof hp);
    if (g) {
        insp_hparams_read(g, &hp);
        json_object_set_new(root, "hparams", hparams_json(m, &hp));
        json_object_set_new(root, "tokenizer", tokenizer_json(g));
        if (!o->no_kv)
            json_object_set_new(root, "metadata", metadata_json(g));
    } else {
        if (!o->no_kv)
            json_object_set_new(root, "metadata", st_metadata_json(m));
        json_t *cfg = m->config_json ? json_loads(m->config_json, 0, NULL) : NULL;
        json_object_set_new(root, "config", cfg ? cfg : json_null());
    }
    int rc = 0;
    if (!o->no_tensors) {
        json_t *t = tensors_json(m, o);
        if (t)
            json_object_set_new(root, "tensors", t);
        else
            rc = 2;
    }
    if (o->layers)
        json_object_set_new(root, "layers", layers_json(&s));
    json_t *mem = NULL;
    if (o->mem && rc == 0 && (rc = insp_mem_json(m, &hp, o, &mem)) == 0)
        json_object_set_new(root, "memory", mem);
    /* one buffer and one write: jansson's per-token fwrite is the slow part */
    char *text = rc == 0 ? json_dumps(root, JSON_INDENT(1) | JSON_ENSURE_ASCII) : NULL;
    if (rc == 0 && (!text || fputs(text, f) == EOF || fputc('\n', f) == EOF))
        rc = 2;
    free(text);
    json_decref(root);
    insp_stats_free(&s);
    return rc;
}
