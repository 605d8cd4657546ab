/*
 * text.c -- gguf-inspect's human output: summary, hyper-parameters,
 * tokenizer, metadata, tensors (or per-layer rows), memory estimate.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dequant.h"
#include "formats/ftype.h"
#include "inspect_internal.h"
#include "kernels/kernels.h"

#define ARRAY_PREVIEW 8 /* array elements shown without --full */

/* Print a string with control characters and quotes escaped, at most max
 * bytes (0 = all). */
static void print_escaped(FILE *f, fmt_str s, uint64_t max) {
    uint64_t n = max && s.len > max ? max : s.len;
    fputc('"', f);
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
    if (n < s.len)
        fprintf(f, "... (%" PRIu64 " bytes)", s.len);
}

/* Text from the file shown in a view: control bytes as '?' (the terminal
 * rule, fmt_escape_term), cut after 200 bytes. The buffer is static: one
 * call per printf. */
static const char *shown(fmt_str s) {
    static char buf[FMT_SHOWN_NAME];
    return fmt_escape_term(buf, sizeof buf, s.ptr, s.len > SIZE_MAX ? SIZE_MAX : (size_t)s.len);
}

static const char *shown_c(const char *s) {
    return shown((fmt_str){s, strlen(s)});
}

static void print_scalar(FILE *f, const fmt_gguf_value *v) {
    switch (v->type) {
    case FMT_GGUF_U8:
    case FMT_GGUF_U16:
    case FMT_GGUF_U32:
    case FMT_GGUF_U64: fprintf(f, "%" PRIu64, v->v.u); break;
    case FMT_GGUF_I8:
    case FMT_GGUF_I16:
    case FMT_GGUF_I32:
    case FMT_GGUF_I64: fprintf(f, "%" PRId64, v->v.i); break;
    case FMT_GGUF_F32: fprintf(f, "%.9g", v->v.f); break;
    case FMT_GGUF_F64: fprintf(f, "%.17g", v->v.f); break;
    case FMT_GGUF_BOOL: fputs(v->v.u ? "true" : "false", f); break;
    case FMT_GGUF_STRING: print_escaped(f, v->v.s, 200); break;
    default: break;
    }
}

static void print_value(FILE *f, const fmt_gguf_value *v, int full) {
    if (v->type != FMT_GGUF_ARRAY) {
        print_scalar(f, v);
        return;
    }
    fmt_gguf_iter it;
    fmt_gguf_value e;
    uint64_t shown = 0;
    fprintf(f, "[%s x %" PRIu64 "] [", fmt_gguf_type_name(v->v.arr.elem_type), v->v.arr.n);
    fmt_gguf_iter_init(&it, v);
    while (fmt_gguf_iter_next(&it, &e)) {
        if (!full && shown == ARRAY_PREVIEW) {
            fputs(", ...", f);
            break;
        }
        fputs(shown ? ", " : "", f);
        print_value(f, &e, full);
        shown++;
    }
    fputc(']', f);
}

static void print_count(FILE *f, uint64_t n) {
    char buf[32], out[48];
    snprintf(buf, sizeof buf, "%" PRIu64, n);
    size_t len = strlen(buf), j = 0;
    for (size_t i = 0; i < len; i++) {
        out[j++] = buf[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len)
            out[j++] = ',';
    }
    out[j] = 0;
    fputs(out, f);
}

static double bpw(uint64_t bytes, uint64_t params) {
    return params ? (double)bytes * 8.0 / (double)params : 0.0;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                   */
/* ------------------------------------------------------------------------ */

static void section_summary(FILE *f, const insp_model *m, const insp_stats *s) {
    char hb[32], label[32];
    const insp_shard *sh = &m->shards[0];
    fprintf(f, "%-16s%s", "file", sh->path);
    if (m->n_shards > 1)
        fprintf(f, " (split set of %u files)", m->n_shards);
    fputc('\n', f);
    if (m->is_safetensors) {
        fprintf(f, "%-16ssafetensors, %u shard%s\n", "format", m->n_shards,
                m->n_shards == 1 ? "" : "s");
    } else {
        fprintf(f, "%-16sGGUF v%u, alignment %" PRIu64 ", data at byte %" PRIu64 "\n", "format",
                fmt_gguf_version(sh->gguf), fmt_gguf_alignment(sh->gguf),
                fmt_gguf_data_offset(sh->gguf));
    }
    if (s->file_size && s->file_size != UINT64_MAX) {
        insp_human_bytes(s->file_size, hb, sizeof hb);
        fprintf(f, "%-16s%s (", "file size", hb);
        print_count(f, s->file_size);
        fputs(" bytes)\n", f);
    }
    if (!m->is_safetensors) {
        const fmt_gguf *g = sh->gguf;
        fmt_str str;
        uint64_t ft;
        fprintf(f, "%-16s%" PRIu64 "\n", "metadata keys", fmt_gguf_n_kv(g));
        fprintf(f, "%-16s%" PRIu64 "\n", "tensors", m->n_tensors);
        if (fmt_gguf_get_str(g, "general.architecture", &str))
            fprintf(f, "%-16s%s\n", "architecture", shown(str));
        if (fmt_gguf_get_str(g, "general.name", &str))
            fprintf(f, "%-16s%s\n", "name", shown(str));
        if (fmt_gguf_get_u64(g, "general.file_type", &ft)) {
            const char *name = fmt_ftype_name((int)ft);
            fprintf(f, "%-16s%s (%" PRIu64 ")\n", "file type", name ? name : "unknown", ft);
        }
    } else {
        fprintf(f, "%-16s%" PRIu64 "\n", "tensors", m->n_tensors);
    }
    fmt_size_label(s->params, label, sizeof label);
    fprintf(f, "%-16s", "parameters");
    print_count(f, s->params);
    fprintf(f, " (%s)\n", label);
    if (s->moe) { /* a mixture of experts: what one token runs through */
        fprintf(f, "%-16s%" PRIu64 " per layer, %" PRIu64 " used per token, %" PRIu64 " shared\n",
                "experts", s->n_expert, s->n_expert_used, s->n_expert_shared);
        fprintf(f, "%-16s", "active params");
        if (s->active_params == UINT64_MAX) {
            fputs("unknown (no expert counts that divide the expert stacks)\n", f);
        } else {
            fmt_size_label(s->active_params, label, sizeof label);
            print_count(f, s->active_params);
            fprintf(f, " (%s) per token\n", label);
        }
    }
    insp_human_bytes(s->bytes, hb, sizeof hb);
    fprintf(f, "%-16s%s (", "tensor bytes", hb);
    print_count(f, s->bytes);
    fputs(" bytes)\n", f);
    fprintf(f, "%-16s%.4f\n", "bits/weight", bpw(s->bytes, s->params));

    fprintf(f, "\n%-8s %8s %16s %16s %8s %7s\n", "type", "tensors", "parameters", "bytes", "bpw",
            "share");
    for (size_t i = 0; i < s->n_types; i++) {
        const insp_type_stat *t = &s->types[i];
        fprintf(f, "%-8s %8" PRIu64 " %16" PRIu64 " %16" PRIu64 " %8.4f %6.2f%%\n", t->type_name,
                t->tensors, t->params, t->bytes, bpw(t->bytes, t->params),
                s->bytes ? 100.0 * (double)t->bytes / (double)s->bytes : 0.0);
    }
}

static void hp_line(FILE *f, const char *label, uint64_t v) {
    if (v)
        fprintf(f, "  %-22s%" PRIu64 "\n", label, v);
}

static void hp_real(FILE *f, const char *label, double v) {
    if (!isnan(v))
        fprintf(f, "  %-22s%g\n", label, v);
}

/* The family-specific keys present, the sliding-window layers and the
 * rope factor tensors. */
static void family_hparams(FILE *f, const insp_model *m, const insp_hparams *hp) {
    for (size_t i = 0; i < insp_n_hparam_keys; i++) {
        const fmt_gguf_kv *kv =
            insp_arch_kv(m->shards[0].gguf, hp->arch, insp_hparam_keys[i].suffix);
        if (!kv)
            continue;
        fprintf(f, "  %-22s", insp_hparam_keys[i].label);
        if (kv->value.type == FMT_GGUF_F32 || kv->value.type == FMT_GGUF_F64)
            fprintf(f, "%g", kv->value.v.f);
        else
            print_value(f, &kv->value, 0);
        fputc('\n', f);
    }
    if (hp->swa_window) {
        fprintf(f, "  %-22s%" PRIu64 " of %" PRIu64 " (window %" PRIu64, "swa layers",
                hp->swa_layers, hp->block_count, hp->swa_window);
        if (hp->swa_period)
            fprintf(f, ", 1 global layer in every %" PRIu32 ")\n", hp->swa_period);
        else
            fputs(", no global layer)\n", f);
    }
    const insp_tensor *rope[3];
    size_t n = insp_rope_factor_tensors(m, rope, 3);
    if (n == 0)
        return;
    fprintf(f, "  %-22s", "rope factor tensors");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s (%" PRIu64 ")", i ? ", " : "", shown_c(rope[i]->name),
                rope[i]->n_elements);
    fputc('\n', f);
}

static void section_hparams(FILE *f, const insp_model *m, const insp_hparams *hp) {
    if (!hp->arch)
        return;
    fprintf(f, "\nhyper-parameters (%s)\n", shown_c(hp->arch));
    hp_line(f, "context length", hp->context_length);
    hp_line(f, "embedding", hp->embedding_length);
    hp_line(f, "layers", hp->block_count);
    hp_line(f, "heads", hp->head_count);
    hp_line(f, "kv heads", hp->head_count_kv);
    hp_line(f, "head dim", hp->key_length);
    hp_line(f, "feed-forward", hp->feed_forward_length);
    hp_line(f, "rope dims", hp->rope_dimension_count);
    hp_real(f, "rope freq base", hp->rope_freq_base);
    if (hp->rope_scaling_type.len)
        fprintf(f, "  %-22s%s\n", "rope scaling", shown(hp->rope_scaling_type));
    hp_real(f, "rope scaling factor", hp->rope_scaling_factor);
    hp_real(f, "rms norm eps", hp->rms_eps);
    hp_real(f, "norm eps", hp->norm_eps);
    hp_line(f, "experts", hp->expert_count);
    hp_line(f, "experts used", hp->expert_used_count);
    hp_line(f, "vocab size", hp->vocab_size);
    family_hparams(f, m, hp);
}

/* Token string for an id from tokenizer.ggml.tokens (O(id) walk). */
static int token_string(const fmt_gguf *g, uint64_t id, fmt_str *out) {
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, "tokenizer.ggml.tokens");
    if (!kv || kv->value.type != FMT_GGUF_ARRAY || kv->value.v.arr.elem_type != FMT_GGUF_STRING ||
        id >= kv->value.v.arr.n)
        return 0;
    fmt_gguf_iter it;
    fmt_gguf_value e;
    fmt_gguf_iter_init(&it, &kv->value);
    for (uint64_t i = 0; fmt_gguf_iter_next(&it, &e); i++)
        if (i == id) {
            *out = e.v.s;
            return 1;
        }
    return 0;
}

static const char *const special_tokens[] = {"bos",  "eos", "unknown", "separator", "padding",
                                             "mask", "eot", "eom",     "cls"};

static void section_tokenizer(FILE *f, const fmt_gguf *g) {
    fmt_str s;
    if (!fmt_gguf_get_str(g, "tokenizer.ggml.model", &s))
        return;
    fprintf(f, "\ntokenizer\n  %-22s%s\n", "model", shown(s));
    if (fmt_gguf_get_str(g, "tokenizer.ggml.pre", &s))
        fprintf(f, "  %-22s%s\n", "pre-tokenizer", shown(s));
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, "tokenizer.ggml.tokens");
    if (kv && kv->value.type == FMT_GGUF_ARRAY)
        fprintf(f, "  %-22s%" PRIu64 "\n", "vocab size", kv->value.v.arr.n);
    kv = fmt_gguf_find_kv(g, "tokenizer.ggml.merges");
    if (kv && kv->value.type == FMT_GGUF_ARRAY)
        fprintf(f, "  %-22s%" PRIu64 "\n", "merges", kv->value.v.arr.n);
    for (size_t i = 0; i < sizeof special_tokens / sizeof special_tokens[0]; i++) {
        char key[64];
        uint64_t id;
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", special_tokens[i]);
        if (!fmt_gguf_get_u64(g, key, &id))
            continue;
        fprintf(f, "  %-22s%" PRIu64, special_tokens[i], id);
        if (token_string(g, id, &s)) {
            fputc(' ', f);
            print_escaped(f, s, 64);
        }
        fputc('\n', f);
    }
    int b;
    if (fmt_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b))
        fprintf(f, "  %-22s%s\n", "add bos", b ? "true" : "false");
    if (fmt_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b))
        fprintf(f, "  %-22s%s\n", "add eos", b ? "true" : "false");
    if (fmt_gguf_get_str(g, "tokenizer.chat_template", &s))
        fprintf(f, "  %-22spresent (%" PRIu64 " bytes)\n", "chat template", s.len);
    else
        fprintf(f, "  %-22sabsent\n", "chat template");
}

static void section_metadata(FILE *f, const fmt_gguf *g, int full) {
    fprintf(f, "\nmetadata (%" PRIu64 " keys)\n", fmt_gguf_n_kv(g));
    for (uint64_t i = 0; i < fmt_gguf_n_kv(g); i++) {
        const fmt_gguf_kv *kv = fmt_gguf_kv_at(g, i);
        fprintf(f, "  %-44s %-4s ", shown(kv->key), fmt_gguf_type_name(kv->value.type));
        print_value(f, &kv->value, full);
        fputc('\n', f);
    }
}

static void print_shape(FILE *f, const insp_tensor *t, int width) {
    char buf[128];
    int n = 0;
    for (uint32_t d = 0; d < t->n_dims && d < 8; d++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%" PRId64, d ? " x " : "", t->ne[d]);
    if (t->n_dims == 0)
        snprintf(buf, sizeof buf, "scalar");
    fprintf(f, "%-*s", width, buf);
}

static int section_tensors(FILE *f, const insp_model *m, const insp_opts *o) {
    char err[256];
    uint64_t n;
    uint64_t *idx = insp_select_tensors(m, o, &n, err, sizeof err);
    if (!idx) {
        fprintf(stderr, "%s: %s\n", fmt_progname(), err);
        return 2;
    }
    fprintf(f, "\ntensors (%" PRIu64 " of %" PRIu64 "; shape in ggml order, ne0 first)\n", n,
            m->n_tensors);
    fprintf(f, "  %-40s %-8s %-22s %14s %14s %8s %14s%s\n", "name", "type", "shape", "parameters",
            "bytes", "bpw", "offset", m->n_shards > 1 ? "  shard" : "");
    for (uint64_t k = 0; k < n; k++) {
        const insp_tensor *t = &m->tensors[idx[k]];
        fprintf(f, "  %-40s %-8s ", shown_c(t->name), t->type_name);
        print_shape(f, t, 22);
        fprintf(f, " %14" PRIu64 " %14" PRIu64 " %8.4f %14" PRIu64, t->n_elements, t->bytes,
                bpw(t->bytes, t->n_elements), t->offset);
        if (m->n_shards > 1)
            fprintf(f, "  %u", t->shard + 1);
        fputc('\n', f);
    }
    free(idx);
    return 0;
}

/* One row per layer; for a mixture of experts, the expert stacks and the
 * rest (attention, router, shared experts, norms) apart too. */
static void section_layers(FILE *f, const insp_stats *s) {
    fprintf(f, "\nlayers\n  %-10s %8s %16s %16s %8s", "layer", "tensors", "parameters", "bytes",
            "bpw");
    if (s->moe)
        fprintf(f, " %16s %8s %16s %8s", "expert params", "bpw", "dense params", "bpw");
    fputc('\n', f);
    for (size_t i = 0; i < s->n_layers; i++) {
        const insp_layer_stat *l = &s->layers[i];
        char name[32];
        if (l->layer < 0)
            snprintf(name, sizeof name, "other");
        else
            snprintf(name, sizeof name, "blk.%" PRId64, l->layer);
        fprintf(f, "  %-10s %8" PRIu64 " %16" PRIu64 " %16" PRIu64 " %8.4f", name, l->tensors,
                l->params, l->bytes, bpw(l->bytes, l->params));
        if (s->moe)
            fprintf(f, " %16" PRIu64 " %8.4f %16" PRIu64 " %8.4f", l->expert_params,
                    bpw(l->expert_bytes, l->expert_params), l->params - l->expert_params,
                    bpw(l->bytes - l->expert_bytes, l->params - l->expert_params));
        fputc('\n', f);
    }
}

/* The config.json beside safetensors weights, as the architecture summary. */
static void section_config(FILE *f, const char *config_json) {
    static const char *const keys[] = {
        "architectures",           "model_type",          "hidden_size",        "num_hidden_layers",
        "num_attention_heads",     "num_key_value_heads", "intermediate_size",  "vocab_size",
        "max_position_embeddings", "rope_theta",          "rms_norm_eps",       "torch_dtype",
        "tie_word_embeddings",     "num_local_experts",   "num_experts_per_tok"};
    json_t *cfg = json_loads(config_json, 0, NULL);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return;
    }
    fprintf(f, "\nconfig.json\n");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(cfg, keys[i]);
        if (!v)
            continue;
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(f, "  %-24s%s\n", keys[i], text ? text : "?");
        free(text);
    }
    char quant[512];
    fmt_dq_describe(json_object_get(cfg, "quantization_config"), quant, sizeof quant);
    if (quant[0])
        fprintf(f, "  %-24s%s\n", "quantization", quant);
    json_decref(cfg);
}

/* A LoRA adapter: what it adapts, alpha, ranks and target modules, and
 * per pair its rank and the scale alpha/rank llama.cpp applies. */
static void section_adapter(FILE *f, const insp_adapter *a, int pairs) {
    fprintf(f, "\nadapter (%s)\n", a->type.len ? shown(a->type) : "?");
    fprintf(f, "  %-20s%s\n", "base architecture", a->arch.len ? shown(a->arch) : "(none)");
    if (a->has_alpha)
        fprintf(f, "  %-20s%g\n", "alpha", a->alpha);
    else
        fprintf(f, "  %-20s(none: adapter.lora.alpha missing)\n", "alpha");
    if (a->rank_min == a->rank_max)
        fprintf(f, "  %-20s%" PRId64 "\n", "rank", a->rank_max);
    else
        fprintf(f, "  %-20s%" PRId64 " to %" PRId64 " (per pair below)\n", "rank", a->rank_min,
                a->rank_max);
    fprintf(f, "  %-20s%zu in %" PRId64 " blocks\n", "pairs", a->n_pairs, a->n_blocks);
    fprintf(f, "  %-20s", "target modules");
    for (size_t i = 0; i < a->n_modules; i++)
        fprintf(f, "%s%s", i ? ", " : "", a->modules[i]);
    fputc('\n', f);
    if (a->n_invocation_tokens)
        fprintf(f, "  %-20s%" PRIu64 " (aLoRA)\n", "invocation tokens", a->n_invocation_tokens);
    if (a->unpaired)
        fprintf(f, "  %-20s%zu\n", "other tensors", a->unpaired);
    if (!pairs || !a->n_pairs)
        return;
    fprintf(f, "\nlora pairs (weight, rank, scale alpha/rank, in -> out)\n");
    for (size_t i = 0; i < a->n_pairs; i++) {
        const insp_lora_pair *p = &a->pairs[i];
        fprintf(f, "  %-40s %6" PRId64 " ", p->weight, p->rank);
        if (a->has_alpha && p->rank > 0)
            fprintf(f, "%10.4f", a->alpha / (double)p->rank);
        else
            fprintf(f, "%10s", "-");
        fprintf(f, "  %" PRId64 " -> %" PRId64, p->in, p->out);
        if (p->experts)
            fprintf(f, " x %" PRId64 " experts", p->experts);
        if (!p->consistent)
            fputs("  (lora_b missing or of another rank)", f);
        fputc('\n', f);
    }
}

int insp_render_text(FILE *f, const insp_model *m, const insp_opts *o) {
    insp_stats s;
    insp_hparams hp;
    if (insp_stats_compute(m, &s) != GK_OK)
        return 2;
    const fmt_gguf *g = m->is_safetensors ? NULL : m->shards[0].gguf;
    memset(&hp, 0, sizeof hp);
    if (g)
        insp_hparams_read(g, &hp);
    insp_adapter ad;
    if (insp_adapter_read(m, &ad) != GK_OK) {
        insp_adapter_free(&ad);
        insp_stats_free(&s);
        return 2;
    }
    section_summary(f, m, &s);
    if (ad.is_adapter) {
        section_adapter(f, &ad, !o->no_tensors);
        if (!o->no_kv)
            section_metadata(f, g, o->full);
    } else if (g) {
        section_hparams(f, m, &hp);
        section_tokenizer(f, g);
        if (!o->no_kv)
            section_metadata(f, g, o->full);
    } else if (m->config_json) {
        section_config(f, m->config_json);
    }
    if (!g && m->st && !o->no_kv && fmt_safetensors_n_metadata(m->st)) {
        fprintf(f, "\n__metadata__\n");
        for (uint64_t i = 0; i < fmt_safetensors_n_metadata(m->st); i++) {
            const char *k, *v;
            fmt_safetensors_metadata_at(m->st, i, &k, &v);
            fprintf(f, "  %-44s %s\n", k, v);
        }
    }
    int rc = 0;
    if (o->layers)
        section_layers(f, &s);
    else if (!o->no_tensors)
        rc = section_tensors(f, m, o);
    if (o->mem && rc == 0)
        rc = insp_mem_text(f, m, &hp, o);
    insp_adapter_free(&ad);
    insp_stats_free(&s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* --key                                                                      */
/* ------------------------------------------------------------------------ */

/* Strings as their bytes (for scripts), or with control bytes as '?' when
 * they would reach a terminal. */
static void print_raw(FILE *f, const fmt_gguf_value *v, int tty) {
    if (v->type == FMT_GGUF_STRING) {
        char buf[4097];
        for (uint64_t off = 0; off < v->v.s.len; off += sizeof buf - 1) {
            uint64_t n = v->v.s.len - off < sizeof buf - 1 ? v->v.s.len - off : sizeof buf - 1;
            if (tty)
                fputs(fmt_escape_term(buf, sizeof buf, v->v.s.ptr + off, (size_t)n), f);
            else
                fwrite(v->v.s.ptr + off, 1, (size_t)n, f);
        }
        fputc('\n', f);
    } else if (v->type == FMT_GGUF_ARRAY) {
        fmt_gguf_iter it;
        fmt_gguf_value e;
        fmt_gguf_iter_init(&it, v);
        while (fmt_gguf_iter_next(&it, &e))
            print_raw(f, &e, tty);
    } else {
        print_scalar(f, v);
        fputc('\n', f);
    }
}

int insp_print_key(FILE *f, const insp_model *m, const char *key) {
    if (m->is_safetensors)
        return 1;
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(m->shards[0].gguf, key);
    if (!kv)
        return 1;
    print_raw(f, &kv->value, f == stdout && fmt_isatty(1));
    return 0;
}
