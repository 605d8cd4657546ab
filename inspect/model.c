/*
 * model.c -- open what the user named (GGUF file, stream, split set,
 * safetensors file or HF directory) into one combined tensor list, and
 * derive statistics from the headers alone.
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect_internal.h"
#include "formats/hfdir.h"
#include "formats/vocab.h"
#include "kernels/kernels.h"

/* ------------------------------------------------------------------------ */
/* Opening                                                                    */
/* ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static char *strndup_fmt(fmt_str s) {
    char *p = malloc(s.len + 1);
    if (p) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = 0;
    }
    return p;
}

static gk_status collect_gguf_tensors(insp_model *m) {
    uint64_t total = 0;
    for (uint32_t s = 0; s < m->n_shards; s++)
        total += fmt_gguf_n_tensors(m->shards[s].gguf);
    m->tensors = calloc(total ? total : 1, sizeof *m->tensors);
    if (!m->tensors)
        return GK_E_NOMEM;
    for (uint32_t s = 0; s < m->n_shards; s++) {
        const fmt_gguf *g = m->shards[s].gguf;
        for (uint64_t i = 0; i < fmt_gguf_n_tensors(g); i++) {
            const fmt_gguf_tensor *t = fmt_gguf_tensor_at(g, i);
            insp_tensor *o = &m->tensors[m->n_tensors++];
            o->name = strndup_fmt(t->name);
            if (!o->name)
                return GK_E_NOMEM;
            o->type = t->type;
            o->type_name = kern_type_label(t->type);
            o->n_dims = t->n_dims;
            for (uint32_t d = 0; d < 8; d++)
                o->ne[d] = d < FMT_GGUF_MAX_DIMS ? t->ne[d] : 1;
            o->n_elements = t->n_elements;
            o->bytes = t->size;
            o->offset = t->offset;
            o->shard = s;
        }
    }
    return GK_OK;
}

/* A GGUF file or split set: the shards borrow the set's readers. */
static gk_status open_gguf(insp_model *m, const char *path, char *err, size_t errcap) {
    gk_status st;
    if (!(m->split = fmt_split_open(path, &st, err, errcap)))
        return st;
    size_t n = fmt_split_count(m->split);
    if (!(m->shards = calloc(n, sizeof *m->shards)))
        return GK_E_NOMEM;
    m->n_shards = (uint32_t)n; /* n <= FMT_SPLIT_MAX_SHARDS */
    for (size_t s = 0; s < n; s++) {
        insp_shard *sh = &m->shards[s];
        if (!(sh->path = xstrdup(fmt_split_paths(m->split)[s])))
            return GK_E_NOMEM;
        sh->file_size = fmt_input_size(fmt_split_inputs(m->split)[s]);
        sh->gguf = fmt_split_ggufs(m->split)[s];
    }
    return collect_gguf_tensors(m);
}

/* A Hugging Face directory is read as hf2gguf reads it: config.json and
 * the small JSON files must parse and hold possible values
 * (fmt_hfdir_open), and the tokenizer files must make a vocabulary
 * (fmt_vocab_write into a scratch writer), so that a directory hf2gguf
 * refuses for its files is refused here too (an unknown BPE pre-tokenizer,
 * which hf2gguf --pre overrides, is not a bad file). m->config_json gets
 * config.json. */
static gk_status check_hf_dir(insp_model *m, const char *dir, char *err, size_t errcap) {
    gk_status st;
    fmt_hfdir *d = fmt_hfdir_open(dir, &st, err, errcap);
    if (!d)
        return st;
    json_t *cfg = fmt_hfdir_json(d, FMT_HF_CONFIG, NULL, NULL, 0);
    static const char *const k_vocab[] = {"vocab_size", NULL};
    long long vocab = 0;
    if (!fmt_hf_get_int(cfg, k_vocab, &vocab) || vocab < 0)
        vocab = 0;
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    /* the BPE pre-tokenizer is a conversion choice (hf2gguf --pre forces
     * one), not a property of valid files: name one so it is not detected */
    if (w)
        st = fmt_vocab_write(d, w, vocab, 0, "default", 0, err, errcap);
    else
        snprintf(err, errcap, "out of memory");
    if (st == GK_OK && !(m->config_json = json_dumps(cfg, JSON_COMPACT))) {
        st = GK_E_NOMEM;
        snprintf(err, errcap, "out of memory");
    }
    fmt_gguf_writer_free(w);
    fmt_hfdir_close(d);
    return st;
}

static char *read_small_file(const char *path, size_t limit) {
    int fd;
    if (fmt_open_regular(path, &fd, NULL, 0) != GK_OK)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return NULL;
    }
    char *buf = malloc(limit + 1);
    size_t n = buf ? fread(buf, 1, limit, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = 0;
    return buf;
}

static gk_status open_safetensors(insp_model *m, const char *path, char *err, size_t errcap) {
    gk_status st;
    m->is_safetensors = 1;
    m->st = fmt_safetensors_open(path, &st);
    if (!m->st) {
        snprintf(err, errcap, "%s", fmt_safetensors_open_errmsg());
        return st;
    }
    m->n_shards = fmt_safetensors_n_shards(m->st);
    m->shards = calloc(m->n_shards ? m->n_shards : 1, sizeof *m->shards);
    uint64_t n = fmt_safetensors_n_tensors(m->st);
    m->tensors = calloc(n ? n : 1, sizeof *m->tensors);
    if (!m->shards || !m->tensors)
        return GK_E_NOMEM;
    for (uint32_t s = 0; s < m->n_shards; s++) {
        struct stat sb;
        m->shards[s].path = xstrdup(fmt_safetensors_shard_path(m->st, s));
        if (!m->shards[s].path)
            return GK_E_NOMEM;
        m->shards[s].file_size = stat(m->shards[s].path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    }
    for (uint64_t i = 0; i < n; i++) {
        const fmt_st_tensor *t = fmt_safetensors_tensor_at(m->st, i);
        insp_tensor *o = &m->tensors[m->n_tensors++];
        o->name = xstrdup(t->name);
        if (!o->name)
            return GK_E_NOMEM;
        o->type = -1;
        o->type_name = fmt_st_dtype_name(t->dtype);
        o->n_dims = t->n_dims;
        for (uint32_t d = 0; d < 8; d++) /* row-major shape -> ggml order */
            o->ne[d] = d < t->n_dims ? t->shape[t->n_dims - 1 - d] : 1;
        o->n_elements = t->n_elements;
        o->bytes = t->size;
        o->offset = t->offset;
        o->shard = t->shard;
    }
    /* config.json gives the architecture summary: a directory is checked
     * as hf2gguf would; beside a named file, config.json is only read */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return check_hf_dir(m, path, err, errcap);
    const char *slash = strrchr(path, '/');
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%.*s/config.json", slash ? (int)(slash - path) : 1,
             slash ? path : ".");
    m->config_json = read_small_file(cfg, 1u << 20);
    return GK_OK;
}

/* The open helpers write "FILE: problem", FILE being path, a shard's path
 * the record keeps that file apart. */
static gk_status set_error(gk_error *e, gk_status st, const insp_model *m, const char *path,
                           const char *err) {
    const char *file = strncmp(err, path, strlen(path)) == 0 ? path : NULL;
    for (uint32_t s = 0; !file && m->shards && s < m->n_shards; s++) {
        const insp_shard *sh = &m->shards[s];
        if (sh->path && strncmp(err, sh->path, strlen(sh->path)) == 0)
            file = sh->path;
    }
    size_t len = file ? strlen(file) : 0;
    if (!file || strncmp(err + len, ": ", 2) != 0)
        return gk_error_set(e, st, NULL, "%s", err);
    return gk_error_set(e, st, file, "%s", err + len + 2);
}

gk_status insp_model_open(const char *path, insp_model *m, gk_error *e) {
    struct stat sb;
    char err[sizeof e->msg] = "";
    gk_status st;
    memset(m, 0, sizeof *m);
    int is_dir = !fmt_is_stdio(path) && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (is_dir || ends_with(path, ".safetensors") || ends_with(path, ".safetensors.index.json"))
        st = open_safetensors(m, path, err, sizeof err);
    else
        st = open_gguf(m, path, err, sizeof err);
    if (st == GK_OK) {
        gk_error_clear(e);
        return st;
    }
    return set_error(e, st, m, path, err);
}

gk_status insp_model_plan_hf(const char *dir, int f16, insp_model *m, gk_error *e) {
    memset(m, 0, sizeof *m);
    if (insp_hf_header(dir, f16, &m->planned_in, &m->planned, e) != GK_OK)
        return e->status;
    if (!(m->shards = calloc(1, sizeof *m->shards)) || !(m->shards[0].path = xstrdup(dir)))
        return gk_error_set(e, GK_E_NOMEM, NULL, "out of memory");
    m->n_shards = 1;
    m->shards[0].gguf = m->planned;
    uint64_t end = 0, align = fmt_gguf_alignment(m->planned);
    for (uint64_t i = 0; i < fmt_gguf_n_tensors(m->planned); i++) {
        const fmt_gguf_tensor *t = fmt_gguf_tensor_at(m->planned, i);
        if (t->size > UINT64_MAX / 4 || t->offset > UINT64_MAX / 4)
            return gk_error_set(e, GK_E_FORMAT, dir, "hf2gguf's header: tensor '%.*s' too large",
                                (int)t->name.len, t->name.ptr);
        end = t->offset + t->size > end ? t->offset + t->size : end;
    }
    /* hf2gguf pads every tensor, the last one too */
    m->shards[0].file_size = fmt_gguf_data_offset(m->planned) + (end + align - 1) / align * align;
    gk_status st = collect_gguf_tensors(m);
    return st == GK_OK ? (gk_error_clear(e), st) : gk_error_set(e, st, NULL, "out of memory");
}

void insp_model_close(insp_model *m) {
    for (uint64_t i = 0; i < m->n_tensors; i++)
        free((char *)m->tensors[i].name);
    free(m->tensors);
    for (uint32_t s = 0; s < m->n_shards; s++)
        free(m->shards[s].path);
    free(m->shards);
    fmt_split_close(m->split);
    fmt_gguf_close(m->planned);
    fmt_input_close(m->planned_in);
    fmt_safetensors_close(m->st);
    free(m->config_json);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------------ */
/* Statistics                                                                 */
/* ------------------------------------------------------------------------ */

/* Layer number of "blk.N.*", else -1. */
static int64_t layer_of(const char *name) {
    if (strncmp(name, "blk.", 4) != 0)
        return -1;
    char *end;
    long long n = strtoll(name + 4, &end, 10);
    return (end != name + 4 && *end == '.' && n >= 0) ? n : -1;
}

static int cmp_type_bytes(const void *a, const void *b) {
    const insp_type_stat *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : strcmp(x->type_name, y->type_name);
}

static int cmp_layer(const void *a, const void *b) {
    const insp_layer_stat *x = a, *y = b;
    uint64_t lx = (uint64_t)x->layer, ly = (uint64_t)y->layer; /* -1 sorts last */
    return lx < ly ? -1 : lx > ly;
}

int insp_is_expert_stack(const char *name) {
    return strstr(name, "_exps.") != NULL || strstr(name, "_chexps.") != NULL;
}

static uint64_t arch_u64(const fmt_gguf *g, const char *arch, const char *suffix);

/* The expert counts and the active parameters (see insp_stats). */
static void moe_stats(const insp_model *m, insp_stats *s) {
    const fmt_gguf *g = m->is_safetensors ? NULL : m->shards[0].gguf;
    fmt_str a;
    char arch[128];
    if (!g || !s->moe)
        return;
    if (fmt_gguf_get_str(g, "general.type", &a) && a.len == 7 && !memcmp(a.ptr, "adapter", 7)) {
        s->moe = 0; /* a LoRA adapter's stacks: no expert counts, nothing active */
        return;
    }
    arch[0] = 0;
    if (fmt_gguf_get_str(g, "general.architecture", &a) && a.len < sizeof arch)
        memcpy(arch, a.ptr, a.len), arch[a.len] = 0;
    s->n_expert = arch_u64(g, arch, "expert_count");
    s->n_expert_used = arch_u64(g, arch, "expert_used_count");
    s->n_expert_shared = arch_u64(g, arch, "expert_shared_count");
    int shexp = 0;
    for (uint64_t i = 0; i < m->n_tensors; i++)
        shexp |= strstr(m->tensors[i].name, "_shexp.") != NULL;
    if (!insp_arch_kv(g, arch, "expert_shared_count"))
        s->n_expert_shared = (uint64_t)shexp;
    s->active_params = s->params - s->expert_params;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const insp_tensor *t = &m->tensors[i];
        if (!insp_is_expert_stack(t->name))
            continue;
        if (!s->n_expert || !s->n_expert_used || s->n_expert_used > s->n_expert ||
            t->n_elements % s->n_expert) {
            s->active_params = UINT64_MAX;
            return;
        }
        s->active_params += t->n_elements / s->n_expert * s->n_expert_used;
    }
}

gk_status insp_stats_compute(const insp_model *m, insp_stats *s) {
    memset(s, 0, sizeof *s);
    s->types = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *s->types);
    s->layers = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *s->layers);
    if (!s->types || !s->layers)
        return GK_E_NOMEM;
    for (uint32_t i = 0; i < m->n_shards; i++)
        s->file_size += m->shards[i].file_size;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const insp_tensor *t = &m->tensors[i];
        s->params += t->n_elements;
        s->bytes += t->bytes;
        size_t k = 0;
        while (k < s->n_types && strcmp(s->types[k].type_name, t->type_name) != 0)
            k++;
        if (k == s->n_types) {
            s->types[k].type = t->type;
            s->types[k].type_name = t->type_name;
            s->n_types++;
        }
        s->types[k].tensors++;
        s->types[k].params += t->n_elements;
        s->types[k].bytes += t->bytes;
        int64_t layer = layer_of(t->name);
        size_t l = 0;
        while (l < s->n_layers && s->layers[l].layer != layer)
            l++;
        if (l == s->n_layers)
            s->layers[s->n_layers++].layer = layer;
        s->layers[l].tensors++;
        s->layers[l].params += t->n_elements;
        s->layers[l].bytes += t->bytes;
        if (!m->is_safetensors && insp_is_expert_stack(t->name)) {
            s->moe = 1;
            s->expert_tensors++, s->expert_params += t->n_elements, s->expert_bytes += t->bytes;
            s->layers[l].expert_tensors++;
            s->layers[l].expert_params += t->n_elements;
            s->layers[l].expert_bytes += t->bytes;
        }
    }
    moe_stats(m, s);
    qsort(s->types, s->n_types, sizeof *s->types, cmp_type_bytes);
    qsort(s->layers, s->n_layers, sizeof *s->layers, cmp_layer);
    return GK_OK;
}

void insp_stats_free(insp_stats *s) {
    free(s->types);
    free(s->layers);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* Hyper-parameters and memory estimate                                       */
/* ------------------------------------------------------------------------ */

/* "{arch}.suffix" as u64; per-layer arrays give their largest element. */
static uint64_t arch_u64(const fmt_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    uint64_t v = 0;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (fmt_gguf_get_u64(g, key, &v))
        return v;
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, key);
    if (kv && kv->value.type == FMT_GGUF_ARRAY) {
        fmt_gguf_iter it;
        fmt_gguf_value e;
        fmt_gguf_iter_init(&it, &kv->value);
        while (fmt_gguf_iter_next(&it, &e)) {
            uint64_t x = e.type == FMT_GGUF_I8 || e.type == FMT_GGUF_I16 ||
                                 e.type == FMT_GGUF_I32 || e.type == FMT_GGUF_I64
                             ? (e.v.i > 0 ? (uint64_t)e.v.i : 0)
                             : e.v.u;
            if (x > v)
                v = x;
        }
    }
    return v;
}

static double arch_f64(const fmt_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    double v;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return fmt_gguf_get_f64(g, key, &v) ? v : NAN;
}

const insp_hparam_key insp_hparam_keys[] = {
    {"attention.sliding_window", "sliding window", "sliding_window"},
    {"attention.sliding_window_pattern", "sliding window pattern", "sliding_window_pattern"},
    {"rope.freq_base_swa", "rope freq base swa", "rope_freq_base_swa"},
    {"rope.scaling.attn_factor", "rope attn factor", "rope_scaling_attn_factor"},
    {"rope.scaling.original_context_length", "rope original context",
     "rope_scaling_original_context_length"},
    {"attn_logit_softcapping", "attn logit softcap", "attn_logit_softcapping"},
    {"final_logit_softcapping", "final logit softcap", "final_logit_softcapping"},
    {"embedding_scale", "embedding scale", "embedding_scale"},
    {"residual_scale", "residual scale", "residual_scale"},
    {"attention.scale", "attention scale", "attention_scale"},
    {"logit_scale", "logit scale", "logit_scale"},
};
const size_t insp_n_hparam_keys = sizeof insp_hparam_keys / sizeof insp_hparam_keys[0];

const fmt_gguf_kv *insp_arch_kv(const fmt_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return fmt_gguf_find_kv(g, key);
}

/* The architectures llama.cpp gives sliding-window layers, as its
 * load_arch_hparams does at ec562eb (src/models/<arch>.cpp): the default
 * period of attention.sliding_window_pattern (a scalar key overrides it;
 * llama.cpp ignores a per-layer array there) and the window used when
 * attention.sliding_window is absent; with no default, a window only when
 * the key is there and non-zero. Others (phi3, whose window llama.cpp
 * switches off) have none. */
static const struct {
    const char *arch;
    uint32_t period;
    uint64_t default_window;
} swa_rules[] = {
    {"gemma2", 2, 4096}, {"gemma3", 6, 0}, {"olmo2", 4, 0}, {"cohere2", 4, 0}, {"gpt-oss", 2, 0},
};

static void read_swa(const fmt_gguf *g, insp_hparams *hp) {
    for (size_t i = 0; i < sizeof swa_rules / sizeof swa_rules[0]; i++) {
        if (strcmp(hp->arch, swa_rules[i].arch) != 0)
            continue;
        uint64_t window = arch_u64(g, hp->arch, "attention.sliding_window"), period = 0;
        char key[256];
        snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", hp->arch);
        if (!fmt_gguf_get_u64(g, key, &period) || period > UINT32_MAX)
            period = swa_rules[i].period;
        if (!insp_arch_kv(g, hp->arch, "attention.sliding_window"))
            window = swa_rules[i].default_window;
        if (!window)
            return;
        hp->swa_window = window;
        hp->swa_period = (uint32_t)period;
        /* llama_hparams::set_swa_pattern: layer il slides unless it is the
         * last of its period; period 0 makes every layer slide */
        uint64_t n = hp->block_count, rest = period ? n % period : 0;
        hp->swa_layers =
            period == 0 ? n : n / period * (period - 1) + (rest < period - 1 ? rest : period - 1);
        return;
    }
}

size_t insp_rope_factor_tensors(const insp_model *m, const insp_tensor **out, size_t cap) {
    static const char *const names[] = {"rope_freqs.weight", "rope_factors_long.weight",
                                        "rope_factors_short.weight"};
    size_t n = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        for (uint64_t i = 0; i < m->n_tensors && n < cap; i++)
            if (strcmp(m->tensors[i].name, names[k]) == 0) {
                out[n++] = &m->tensors[i];
                break;
            }
    return n;
}

void insp_hparams_read(const fmt_gguf *g, insp_hparams *hp) {
    static char arch_buf[128];
    fmt_str a;
    memset(hp, 0, sizeof *hp);
    if (!fmt_gguf_get_str(g, "general.architecture", &a) || a.len >= sizeof arch_buf)
        return;
    memcpy(arch_buf, a.ptr, a.len);
    arch_buf[a.len] = 0;
    const char *arch = hp->arch = arch_buf;
    hp->context_length = arch_u64(g, arch, "context_length");
    hp->embedding_length = arch_u64(g, arch, "embedding_length");
    hp->block_count = arch_u64(g, arch, "block_count");
    hp->feed_forward_length = arch_u64(g, arch, "feed_forward_length");
    hp->head_count = arch_u64(g, arch, "attention.head_count");
    hp->head_count_kv = arch_u64(g, arch, "attention.head_count_kv");
    if (!hp->head_count_kv)
        hp->head_count_kv = hp->head_count;
    hp->key_length = arch_u64(g, arch, "attention.key_length");
    hp->value_length = arch_u64(g, arch, "attention.value_length");
    if (!hp->key_length && hp->head_count)
        hp->key_length = hp->embedding_length / hp->head_count;
    if (!hp->value_length)
        hp->value_length = hp->key_length;
    hp->rope_dimension_count = arch_u64(g, arch, "rope.dimension_count");
    hp->expert_count = arch_u64(g, arch, "expert_count");
    hp->expert_used_count = arch_u64(g, arch, "expert_used_count");
    hp->vocab_size = arch_u64(g, arch, "vocab_size");
    hp->rope_freq_base = arch_f64(g, arch, "rope.freq_base");
    hp->rms_eps = arch_f64(g, arch, "attention.layer_norm_rms_epsilon");
    hp->norm_eps = arch_f64(g, arch, "attention.layer_norm_epsilon");
    hp->rope_scaling_factor = arch_f64(g, arch, "rope.scaling.factor");
    char key[256];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    fmt_gguf_get_str(g, key, &hp->rope_scaling_type);
    read_swa(g, hp);
}

/* ------------------------------------------------------------------------ */
/* Selection and sorting                                                      */
/* ------------------------------------------------------------------------ */

static const insp_model *sort_model;
static const char *sort_key;

static int cmp_tensor(const void *a, const void *b) {
    const insp_tensor *x = &sort_model->tensors[*(const uint64_t *)a];
    const insp_tensor *y = &sort_model->tensors[*(const uint64_t *)b];
    int c = 0;
    if (strcmp(sort_key, "name") == 0)
        c = strcmp(x->name, y->name);
    else if (strcmp(sort_key, "size") == 0)
        c = x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
    else if (strcmp(sort_key, "offset") == 0)
        c = x->shard != y->shard ? (x->shard < y->shard ? -1 : 1)
                                 : (x->offset < y->offset ? -1 : x->offset > y->offset);
    else if (strcmp(sort_key, "type") == 0)
        c = strcmp(x->type_name, y->type_name);
    if (c == 0) /* stable: keep file order */
        c = *(const uint64_t *)a < *(const uint64_t *)b ? -1 : 1;
    return c;
}

uint64_t *insp_select_tensors(const insp_model *m, const insp_opts *o, uint64_t *n, char *err,
                              size_t errcap) {
    regex_t re;
    if (o->tensor_regex) {
        int rc = regcomp(&re, o->tensor_regex, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &re, msg, sizeof msg);
            snprintf(err, errcap, "bad --tensor regex '%s': %s", o->tensor_regex, msg);
            return NULL;
        }
    }
    uint64_t *idx = malloc((m->n_tensors ? m->n_tensors : 1) * sizeof *idx);
    *n = 0;
    for (uint64_t i = 0; idx && i < m->n_tensors; i++)
        if (!o->tensor_regex || regexec(&re, m->tensors[i].name, 0, NULL, 0) == 0)
            idx[(*n)++] = i;
    if (o->tensor_regex)
        regfree(&re);
    if (!idx) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    if (o->sort) {
        sort_model = m;
        sort_key = o->sort;
        qsort(idx, *n, sizeof *idx, cmp_tensor);
    }
    return idx;
}

void insp_human_bytes(uint64_t n, char *buf, size_t cap) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, cap, "%.2f %s", v, units[u]);
}
