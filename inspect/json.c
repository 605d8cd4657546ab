/*
 * json.c -- gguf-inspect --json: one JSON document with everything the text
 * view shows, arrays complete. Schema: docs/gguf-inspect.json.md.
 *
 * Streamed through formats/jsonw straight from the mapped header: no tree,
 * no allocation per token. The bytes are those of the jansson tree dump
 * this replaced (tests/cli/gguf-inspect/json-identity.sh pins them), which
 * is why a few odd cases are kept: a key whose C string is not UTF-8, or
 * whose real is infinite, was dropped by jansson and is still left out.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/ftype.h"
#include "formats/jsonw.h"
#include "inspect_internal.h"
#include "kernels/kernels.h"

#define SCHEMA "ggufkit.gguf-inspect/1"

/* ------------------------------------------------------------------------ */
/* Values                                                                     */
/* ------------------------------------------------------------------------ */

static void real_value(fmt_jsonw *w, double d) {
    if (isnan(d))
        fmt_jsonw_str(w, "NaN");
    else if (isinf(d))
        fmt_jsonw_str(w, d > 0 ? "Infinity" : "-Infinity");
    else
        fmt_jsonw_real(w, d);
}

static void value_json(fmt_jsonw *w, const fmt_gguf_value *v) {
    switch (v->type) {
    case FMT_GGUF_U8:
    case FMT_GGUF_U16:
    case FMT_GGUF_U32:
    case FMT_GGUF_U64:
        if (v->v.u > (uint64_t)INT64_MAX) { /* beyond JSON's safe integers: exact as text */
            char buf[32];
            snprintf(buf, sizeof buf, "%" PRIu64, v->v.u);
            fmt_jsonw_str(w, buf);
        } else {
            fmt_jsonw_int(w, (int64_t)v->v.u);
        }
        break;
    case FMT_GGUF_I8:
    case FMT_GGUF_I16:
    case FMT_GGUF_I32:
    case FMT_GGUF_I64: fmt_jsonw_int(w, v->v.i); break;
    case FMT_GGUF_F32:
    case FMT_GGUF_F64: real_value(w, v->v.f); break;
    case FMT_GGUF_BOOL: fmt_jsonw_bool(w, v->v.u != 0); break;
    case FMT_GGUF_STRING: fmt_jsonw_bytes(w, v->v.s.ptr, v->v.s.len); break;
    case FMT_GGUF_ARRAY: {
        fmt_gguf_iter it;
        fmt_gguf_value e;
        fmt_jsonw_array(w);
        fmt_gguf_iter_init(&it, v);
        while (fmt_gguf_iter_next(&it, &e))
            value_json(w, &e);
        fmt_jsonw_end(w);
        break;
    }
    default: fmt_jsonw_null(w);
    }
}

/* key: s, left out when s is NULL or not UTF-8 (jansson refused it). */
static void key_cstr(fmt_jsonw *w, const char *key, const char *s) {
    if (!s || !fmt_utf8_valid(s, strlen(s)))
        return;
    fmt_jsonw_key(w, key);
    fmt_jsonw_str(w, s);
}

static void key_int(fmt_jsonw *w, const char *key, uint64_t v) {
    fmt_jsonw_key(w, key);
    fmt_jsonw_int(w, (int64_t)v);
}

/* key: v, null when absent (0), as set_u64 did. */
static void key_u64_or_null(fmt_jsonw *w, const char *key, uint64_t v) {
    fmt_jsonw_key(w, key);
    if (v)
        fmt_jsonw_int(w, (int64_t)v);
    else
        fmt_jsonw_null(w);
}

/* key: v, null when absent (NaN); left out when infinite (jansson refused). */
static void key_real_or_null(fmt_jsonw *w, const char *key, double v) {
    if (isinf(v))
        return;
    fmt_jsonw_key(w, key);
    if (isnan(v))
        fmt_jsonw_null(w);
    else
        fmt_jsonw_real(w, v);
}

static void key_bytes_or_null(fmt_jsonw *w, const char *key, int have, fmt_str s) {
    fmt_jsonw_key(w, key);
    if (have)
        fmt_jsonw_bytes(w, s.ptr, s.len);
    else
        fmt_jsonw_null(w);
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                   */
/* ------------------------------------------------------------------------ */

static double bpw(uint64_t bytes, uint64_t params) {
    return params ? (double)bytes * 8.0 / (double)params : 0.0;
}

static void files_json(fmt_jsonw *w, const insp_model *m) {
    fmt_jsonw_array(w);
    for (uint32_t s = 0; s < m->n_shards; s++) {
        const insp_shard *sh = &m->shards[s];
        fmt_jsonw_object(w);
        key_cstr(w, "path", sh->path);
        if (sh->file_size == UINT64_MAX) {
            fmt_jsonw_key(w, "size");
            fmt_jsonw_null(w);
        } else {
            key_int(w, "size", sh->file_size);
        }
        if (sh->gguf) {
            key_int(w, "version", fmt_gguf_version(sh->gguf));
            key_int(w, "alignment", fmt_gguf_alignment(sh->gguf));
            key_int(w, "data_offset", fmt_gguf_data_offset(sh->gguf));
            key_int(w, "kv_count", fmt_gguf_n_kv(sh->gguf));
            key_int(w, "tensor_count", fmt_gguf_n_tensors(sh->gguf));
        }
        fmt_jsonw_end(w);
    }
    fmt_jsonw_end(w);
}

static void file_type_json(fmt_jsonw *w, const fmt_gguf *g) {
    uint64_t ft;
    fmt_jsonw_key(w, "file_type");
    if (!fmt_gguf_get_u64(g, "general.file_type", &ft)) {
        fmt_jsonw_null(w);
        return;
    }
    const char *name = fmt_ftype_name((int)ft);
    fmt_jsonw_object(w);
    key_int(w, "id", ft);
    fmt_jsonw_key(w, "name");
    if (name)
        fmt_jsonw_str(w, name);
    else
        fmt_jsonw_null(w);
    fmt_jsonw_end(w);
}

static void summary_json(fmt_jsonw *w, const insp_model *m, const insp_stats *s) {
    char label[32];
    fmt_size_label(s->params, label, sizeof label);
    const fmt_gguf *g = m->is_safetensors ? NULL : m->shards[0].gguf;
    fmt_str str;
    fmt_jsonw_object(w);
    key_cstr(w, "path", m->shards[0].path);
    key_u64_or_null(w, "file_size", s->file_size == UINT64_MAX ? 0 : s->file_size);
    if (g) {
        key_int(w, "version", fmt_gguf_version(g));
        key_int(w, "alignment", fmt_gguf_alignment(g));
        key_int(w, "kv_count", fmt_gguf_n_kv(g));
        key_bytes_or_null(w, "architecture", fmt_gguf_get_str(g, "general.architecture", &str),
                          str);
        key_bytes_or_null(w, "name", fmt_gguf_get_str(g, "general.name", &str), str);
        file_type_json(w, g);
    }
    key_int(w, "tensor_count", m->n_tensors);
    key_int(w, "parameters", s->params);
    key_cstr(w, "parameters_label", label);
    key_int(w, "tensor_bytes", s->bytes);
    fmt_jsonw_key(w, "bpw");
    fmt_jsonw_real(w, bpw(s->bytes, s->params));
    if (s->moe) { /* a mixture of experts: what one token runs through */
        fmt_jsonw_key(w, "experts");
        fmt_jsonw_object(w);
        key_int(w, "count", s->n_expert);
        key_int(w, "used", s->n_expert_used);
        key_int(w, "shared", s->n_expert_shared);
        fmt_jsonw_end(w);
        key_int(w, "expert_parameters", s->expert_params);
        fmt_jsonw_key(w, "active_parameters");
        if (s->active_params == UINT64_MAX) {
            fmt_jsonw_null(w);
            fmt_jsonw_key(w, "active_parameters_label");
            fmt_jsonw_null(w);
        } else {
            fmt_jsonw_int(w, (int64_t)s->active_params);
            fmt_size_label(s->active_params, label, sizeof label);
            key_cstr(w, "active_parameters_label", label);
        }
    }
    fmt_jsonw_end(w);
}

/* {"tensors", "parameters", "bytes", "bpw"} of one part of a layer. */
static void part_json(fmt_jsonw *w, const char *key, uint64_t tensors, uint64_t params,
                      uint64_t bytes) {
    fmt_jsonw_key(w, key);
    fmt_jsonw_object(w);
    key_int(w, "tensors", tensors);
    key_int(w, "parameters", params);
    key_int(w, "bytes", bytes);
    fmt_jsonw_key(w, "bpw");
    fmt_jsonw_real(w, bpw(bytes, params));
    fmt_jsonw_end(w);
}

static void types_json(fmt_jsonw *w, const insp_stats *s) {
    fmt_jsonw_array(w);
    for (size_t i = 0; i < s->n_types; i++) {
        const insp_type_stat *t = &s->types[i];
        fmt_jsonw_object(w);
        key_cstr(w, "type", t->type_name);
        key_int(w, "tensors", t->tensors);
        key_int(w, "parameters", t->params);
        key_int(w, "bytes", t->bytes);
        fmt_jsonw_key(w, "bpw");
        fmt_jsonw_real(w, bpw(t->bytes, t->params));
        fmt_jsonw_key(w, "share");
        fmt_jsonw_real(w, s->bytes ? (double)t->bytes / (double)s->bytes : 0.0);
        fmt_jsonw_end(w);
    }
    fmt_jsonw_end(w);
}

/* The family-specific keys (null when absent), the sliding-window layers
 * and the rope factor tensors. */
static void family_hparams_json(fmt_jsonw *w, const insp_model *m, const insp_hparams *hp) {
    const fmt_gguf *g = m->shards[0].gguf;
    for (size_t i = 0; i < insp_n_hparam_keys; i++) {
        const fmt_gguf_kv *kv =
            hp->arch ? insp_arch_kv(g, hp->arch, insp_hparam_keys[i].suffix) : NULL;
        fmt_jsonw_key(w, insp_hparam_keys[i].field);
        if (kv)
            value_json(w, &kv->value);
        else
            fmt_jsonw_null(w);
    }
    fmt_jsonw_key(w, "swa");
    if (hp->swa_window) {
        fmt_jsonw_object(w);
        key_int(w, "window", hp->swa_window);
        key_int(w, "period", hp->swa_period);
        key_int(w, "layers", hp->swa_layers);
        fmt_jsonw_end(w);
    } else {
        fmt_jsonw_null(w);
    }
    const insp_tensor *rope[3];
    size_t n = insp_rope_factor_tensors(m, rope, 3);
    fmt_jsonw_key(w, "rope_factor_tensors");
    fmt_jsonw_array(w);
    for (size_t i = 0; i < n; i++)
        if (fmt_utf8_valid(rope[i]->name, strlen(rope[i]->name)))
            fmt_jsonw_str(w, rope[i]->name);
    fmt_jsonw_end(w);
}

static void hparams_json(fmt_jsonw *w, const insp_model *m, const insp_hparams *hp) {
    fmt_jsonw_object(w);
    if (hp->arch)
        key_cstr(w, "architecture", hp->arch);
    else
        key_bytes_or_null(w, "architecture", 0, (fmt_str){0});
    key_u64_or_null(w, "context_length", hp->context_length);
    key_u64_or_null(w, "embedding_length", hp->embedding_length);
    key_u64_or_null(w, "block_count", hp->block_count);
    key_u64_or_null(w, "feed_forward_length", hp->feed_forward_length);
    key_u64_or_null(w, "head_count", hp->head_count);
    key_u64_or_null(w, "head_count_kv", hp->head_count_kv);
    key_u64_or_null(w, "head_dim", hp->key_length);
    key_u64_or_null(w, "rope_dimension_count", hp->rope_dimension_count);
    key_real_or_null(w, "rope_freq_base", hp->rope_freq_base);
    key_bytes_or_null(w, "rope_scaling_type", hp->rope_scaling_type.len != 0,
                      hp->rope_scaling_type);
    key_real_or_null(w, "rope_scaling_factor", hp->rope_scaling_factor);
    key_real_or_null(w, "rms_norm_eps", hp->rms_eps);
    key_real_or_null(w, "norm_eps", hp->norm_eps);
    key_u64_or_null(w, "expert_count", hp->expert_count);
    key_u64_or_null(w, "expert_used_count", hp->expert_used_count);
    key_u64_or_null(w, "vocab_size", hp->vocab_size);
    family_hparams_json(w, m, hp);
    fmt_jsonw_end(w);
}

/* The special tokens: id and piece of each *_token_id key present. */
static void special_json(fmt_jsonw *w, const fmt_gguf *g, const fmt_gguf_kv *tokens) {
    static const char *const names[] = {"bos",  "eos", "unknown", "separator", "padding",
                                        "mask", "eot", "eom",     "cls"};
    fmt_jsonw_object(w);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char key[64];
        uint64_t id;
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", names[i]);
        if (!fmt_gguf_get_u64(g, key, &id))
            continue;
        fmt_jsonw_key(w, names[i]);
        fmt_jsonw_object(w);
        key_int(w, "id", id);
        fmt_jsonw_key(w, "token");
        int found = 0;
        if (tokens && id < tokens->value.v.arr.n) {
            fmt_gguf_iter it;
            fmt_gguf_value e;
            fmt_gguf_iter_init(&it, &tokens->value);
            for (uint64_t k = 0; !found && fmt_gguf_iter_next(&it, &e); k++)
                if (k == id) {
                    fmt_jsonw_bytes(w, e.v.s.ptr, e.v.s.len);
                    found = 1;
                }
        }
        if (!found)
            fmt_jsonw_null(w);
        fmt_jsonw_end(w);
    }
    fmt_jsonw_end(w);
}

static void key_bool_or_null(fmt_jsonw *w, const fmt_gguf *g, const char *key, const char *gk) {
    int b;
    fmt_jsonw_key(w, key);
    if (fmt_gguf_get_bool(g, gk, &b))
        fmt_jsonw_bool(w, b);
    else
        fmt_jsonw_null(w);
}

static void tokenizer_json(fmt_jsonw *w, const fmt_gguf *g) {
    fmt_str s;
    if (!fmt_gguf_get_str(g, "tokenizer.ggml.model", &s)) {
        fmt_jsonw_null(w);
        return;
    }
    fmt_jsonw_object(w);
    key_bytes_or_null(w, "model", 1, s);
    key_bytes_or_null(w, "pre", fmt_gguf_get_str(g, "tokenizer.ggml.pre", &s), s);
    const fmt_gguf_kv *tokens = fmt_gguf_find_kv(g, "tokenizer.ggml.tokens");
    const fmt_gguf_kv *merges = fmt_gguf_find_kv(g, "tokenizer.ggml.merges");
    if (!(tokens && tokens->value.type == FMT_GGUF_ARRAY &&
          tokens->value.v.arr.elem_type == FMT_GGUF_STRING))
        tokens = NULL;
    key_u64_or_null(w, "vocab_size", tokens ? tokens->value.v.arr.n : 0);
    fmt_jsonw_key(w, "merges");
    if (merges && merges->value.type == FMT_GGUF_ARRAY)
        fmt_jsonw_int(w, (int64_t)merges->value.v.arr.n);
    else
        fmt_jsonw_null(w);
    fmt_jsonw_key(w, "special");
    special_json(w, g, tokens);
    key_bool_or_null(w, g, "add_bos", "tokenizer.ggml.add_bos_token");
    key_bool_or_null(w, g, "add_eos", "tokenizer.ggml.add_eos_token");
    fmt_jsonw_key(w, "chat_template_bytes");
    if (fmt_gguf_get_str(g, "tokenizer.chat_template", &s))
        fmt_jsonw_int(w, (int64_t)s.len);
    else
        fmt_jsonw_null(w);
    fmt_jsonw_end(w);
}

static void metadata_json(fmt_jsonw *w, const fmt_gguf *g) {
    fmt_jsonw_array(w);
    for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        fmt_jsonw_object(w);
        key_bytes_or_null(w, "key", 1, kv->key);
        key_cstr(w, "type", fmt_gguf_type_name(kv->value.type));
        if (kv->value.type == FMT_GGUF_ARRAY) {
            key_cstr(w, "elem_type", fmt_gguf_type_name(kv->value.v.arr.elem_type));
            key_int(w, "count", kv->value.v.arr.n);
        }
        fmt_jsonw_key(w, "value");
        value_json(w, &kv->value);
        fmt_jsonw_end(w);
    }
    fmt_jsonw_end(w);
}

/* A tensor whose name or type name jansson refused was left out whole. */
static void tensors_json(fmt_jsonw *w, const insp_model *m, const uint64_t *idx, uint64_t n) {
    fmt_jsonw_array(w);
    for (uint64_t k = 0; k < n; k++) {
        const insp_tensor *t = &m->tensors[idx[k]];
        if (!t->type_name || !fmt_utf8_valid(t->name, strlen(t->name)))
            continue;
        fmt_jsonw_object(w);
        key_cstr(w, "name", t->name);
        key_cstr(w, "type", t->type_name);
        fmt_jsonw_key(w, "shape");
        fmt_jsonw_array(w);
        for (uint32_t d = 0; d < t->n_dims && d < 8; d++)
            fmt_jsonw_int(w, (int64_t)t->ne[d]);
        fmt_jsonw_end(w);
        key_int(w, "parameters", t->n_elements);
        key_int(w, "bytes", t->bytes);
        fmt_jsonw_key(w, "bpw");
        fmt_jsonw_real(w, bpw(t->bytes, t->n_elements));
        key_int(w, "offset", t->offset);
        fmt_jsonw_key(w, "shard");
        fmt_jsonw_int(w, (int)t->shard);
        if (t->type >= 0)
            key_int(w, "type_id", (uint64_t)t->type);
        fmt_jsonw_end(w);
    }
    fmt_jsonw_end(w);
}

static void layers_json(fmt_jsonw *w, const insp_stats *s) {
    fmt_jsonw_array(w);
    for (size_t i = 0; i < s->n_layers; i++) {
        const insp_layer_stat *l = &s->layers[i];
        fmt_jsonw_object(w);
        fmt_jsonw_key(w, "layer");
        if (l->layer < 0)
            fmt_jsonw_null(w);
        else
            fmt_jsonw_int(w, l->layer);
        key_int(w, "tensors", l->tensors);
        key_int(w, "parameters", l->params);
        key_int(w, "bytes", l->bytes);
        fmt_jsonw_key(w, "bpw");
        fmt_jsonw_real(w, bpw(l->bytes, l->params));
        if (s->moe) {
            part_json(w, "experts", l->expert_tensors, l->expert_params, l->expert_bytes);
            part_json(w, "dense", l->tensors - l->expert_tensors, l->params - l->expert_params,
                      l->bytes - l->expert_bytes);
        }
        fmt_jsonw_end(w);
    }
    fmt_jsonw_end(w);
}

static void st_metadata_json(fmt_jsonw *w, const insp_model *m) {
    fmt_jsonw_object(w);
    for (uint64_t i = 0; i < fmt_safetensors_n_metadata(m->st); i++) {
        const char *k, *v;
        fmt_safetensors_metadata_at(m->st, i, &k, &v);
        if (fmt_utf8_valid(k, strlen(k)))
            key_cstr(w, k, v);
    }
    fmt_jsonw_end(w);
}

/* The checkpoint's config.json as parsed (null when absent or invalid). */
static void config_json(fmt_jsonw *w, const insp_model *m) {
    json_t *cfg = m->config_json ? json_loads(m->config_json, 0, NULL) : NULL;
    fmt_jsonw_key(w, "config");
    if (cfg)
        fmt_jsonw_json(w, cfg);
    else
        fmt_jsonw_null(w);
    json_decref(cfg);
}

/* Everything that can fail is done before the first byte goes out, so an
 * error leaves no partial document. */
/* A LoRA adapter (adapter.c): what it adapts, alpha, ranks, modules and
 * each pair with its rank and scale alpha/rank. */
static void adapter_json(fmt_jsonw *w, const insp_adapter *a) {
    fmt_jsonw_object(w);
    key_bytes_or_null(w, "type", a->type.len > 0, a->type);
    key_bytes_or_null(w, "architecture", a->arch.len > 0, a->arch);
    fmt_jsonw_key(w, "alpha");
    if (a->has_alpha)
        real_value(w, a->alpha);
    else
        fmt_jsonw_null(w);
    key_int(w, "rank_min", (uint64_t)a->rank_min);
    key_int(w, "rank_max", (uint64_t)a->rank_max);
    key_int(w, "blocks", (uint64_t)a->n_blocks);
    fmt_jsonw_key(w, "target_modules");
    fmt_jsonw_array(w);
    for (size_t i = 0; i < a->n_modules; i++)
        fmt_jsonw_str(w, a->modules[i]);
    fmt_jsonw_end(w);
    key_int(w, "invocation_tokens", a->n_invocation_tokens);
    key_int(w, "other_tensors", a->unpaired);
    fmt_jsonw_key(w, "pairs");
    fmt_jsonw_array(w);
    for (size_t i = 0; i < a->n_pairs; i++) {
        const insp_lora_pair *p = &a->pairs[i];
        fmt_jsonw_object(w);
        key_cstr(w, "weight", p->weight);
        fmt_jsonw_key(w, "rank");
        fmt_jsonw_int(w, p->rank);
        fmt_jsonw_key(w, "scale");
        if (a->has_alpha && p->rank > 0)
            real_value(w, a->alpha / (double)p->rank);
        else
            fmt_jsonw_null(w);
        fmt_jsonw_key(w, "in");
        fmt_jsonw_int(w, p->in);
        fmt_jsonw_key(w, "out");
        fmt_jsonw_int(w, p->out);
        fmt_jsonw_key(w, "experts");
        fmt_jsonw_int(w, p->experts);
        fmt_jsonw_key(w, "consistent");
        fmt_jsonw_bool(w, p->consistent);
        fmt_jsonw_end(w);
    }
    fmt_jsonw_end(w);
    fmt_jsonw_end(w);
}

static void document(fmt_jsonw *w, const insp_model *m, const insp_opts *o, const insp_stats *s,
                     const insp_hparams *hp, const insp_adapter *ad, const uint64_t *idx,
                     uint64_t n_idx, const json_t *mem) {
    const fmt_gguf *g = m->is_safetensors ? NULL : m->shards[0].gguf;
    fmt_jsonw_object(w);
    key_cstr(w, "schema", SCHEMA);
    key_cstr(w, "format", g ? "gguf" : "safetensors");
    fmt_jsonw_key(w, "files");
    files_json(w, m);
    fmt_jsonw_key(w, "summary");
    summary_json(w, m, s);
    fmt_jsonw_key(w, "types");
    types_json(w, s);
    if (ad->is_adapter) {
        fmt_jsonw_key(w, "adapter");
        adapter_json(w, ad);
    }
    if (g) {
        fmt_jsonw_key(w, "hparams");
        hparams_json(w, m, hp);
        fmt_jsonw_key(w, "tokenizer");
        tokenizer_json(w, g);
        if (!o->no_kv) {
            fmt_jsonw_key(w, "metadata");
            metadata_json(w, g);
        }
    } else {
        if (!o->no_kv) {
            fmt_jsonw_key(w, "metadata");
            st_metadata_json(w, m);
        }
        config_json(w, m);
    }
    if (!o->no_tensors) {
        fmt_jsonw_key(w, "tensors");
        tensors_json(w, m, idx, n_idx);
    }
    if (o->layers) {
        fmt_jsonw_key(w, "layers");
        layers_json(w, s);
    }
    if (mem) {
        fmt_jsonw_key(w, "memory");
        fmt_jsonw_json(w, mem);
    }
    fmt_jsonw_end(w);
}

int insp_render_json(FILE *f, const insp_model *m, const insp_opts *o) {
    insp_stats s;
    insp_hparams hp;
    if (insp_stats_compute(m, &s) != GK_OK)
        return 2;
    memset(&hp, 0, sizeof hp);
    if (!m->is_safetensors)
        insp_hparams_read(m->shards[0].gguf, &hp);
    int rc = 0;
    uint64_t n_idx = 0, *idx = NULL;
    if (!o->no_tensors) {
        char err[256];
        idx = insp_select_tensors(m, o, &n_idx, err, sizeof err);
        if (!idx) {
            fprintf(stderr, "%s: %s\n", fmt_progname(), err);
            rc = 2;
        }
    }
    json_t *mem = NULL;
    if (o->mem && rc == 0)
        rc = insp_mem_json(m, &hp, o, &mem);
    insp_adapter ad;
    if (insp_adapter_read(m, &ad) != GK_OK && rc == 0)
        rc = 2;
    fmt_jsonw *w = rc == 0 ? malloc(sizeof *w) : NULL;
    if (rc == 0 && !w)
        rc = 2;
    if (w) {
        fmt_jsonw_init(w, f);
        document(w, m, o, &s, &hp, &ad, idx, n_idx, mem);
        if (fmt_jsonw_finish(w) != 0)
            rc = 2;
    }
    free(w);
    insp_adapter_free(&ad);
    json_decref(mem);
    free(idx);
    insp_stats_free(&s);
    return rc;
}
