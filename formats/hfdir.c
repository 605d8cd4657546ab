/*
 * hfdir.c -- Hugging Face checkpoint directory: JSON files and listings.
 */
#include "hfdir.h"
#include "io.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* tokenizer.json of large vocabularies is tens of MB; configs are small. */
#define HF_MAX_JSON (512u << 20)

struct fmt_hfdir {
    char *path;
    json_t *files[FMT_HF_FILE_COUNT];
    int tokenizer_tried;
};

static const char *const file_names[FMT_HF_FILE_COUNT] = {
    [FMT_HF_CONFIG] = "config.json",
    [FMT_HF_TOKENIZER_CONFIG] = "tokenizer_config.json",
    [FMT_HF_SPECIAL_TOKENS] = "special_tokens_map.json",
    [FMT_HF_ADDED_TOKENS] = "added_tokens.json",
    [FMT_HF_GENERATION_CONFIG] = "generation_config.json",
    [FMT_HF_TOKENIZER] = "tokenizer.json",
    [FMT_HF_INDEX] = "model.safetensors.index.json",
    [FMT_HF_QUANTIZE_CONFIG] = "quantize_config.json",
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

char *fmt_hfdir_join(const fmt_hfdir *d, const char *name, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%s/%s", d->path, name);
    return (n < 0 || (size_t)n >= cap) ? NULL : buf;
}

int fmt_hfdir_has(const fmt_hfdir *d, const char *name) {
    char p[4096];
    struct stat sb;
    return fmt_hfdir_join(d, name, p, sizeof p) && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Load one JSON file; absent -> GK_OK with *out NULL. */
static gk_status load_json(const fmt_hfdir *d, fmt_hf_file f, json_t **out, char *errmsg,
                           size_t errcap) {
    char p[4096];
    *out = NULL;
    if (!fmt_hfdir_join(d, file_names[f], p, sizeof p)) {
        gk_msgf(errmsg, errcap, "%s: path too long", d->path);
        return GK_E_USAGE;
    }
    struct stat sb;
    if (stat(p, &sb) != 0) {
        if (errno == ENOENT)
            return GK_OK;
        gk_msgf(errmsg, errcap, "%s: %s", p, strerror(errno));
        return GK_E_IO;
    }
    if (!S_ISREG(sb.st_mode)) {
        gk_msgf(errmsg, errcap, "%s: not a regular file", p);
        return GK_E_FORMAT;
    }
    if (sb.st_size > (off_t)HF_MAX_JSON) {
        gk_msgf(errmsg, errcap, "%s: larger than %u bytes", p, HF_MAX_JSON);
        return GK_E_FORMAT;
    }
    /* Python reads integers of any size; jansson refuses those past int64.
     * Real Llama-3 tokenizer_config.json files carry model_max_length
     * 1000000000000000019884624838656, and nothing reads an integer from
     * that file, so it is loaded with integers as reals. */
    size_t flags = JSON_ALLOW_NUL | (f == FMT_HF_TOKENIZER_CONFIG ? JSON_DECODE_INT_AS_REAL : 0);
    json_error_t je;
    json_t *j = json_load_file(p, flags, &je);
    if (!j) {
        gk_msgf(errmsg, errcap, "%s: %s (line %d column %d)", p, je.text, je.line, je.column);
        return GK_E_FORMAT;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        gk_msgf(errmsg, errcap, "%s: not a JSON object", p);
        return GK_E_FORMAT;
    }
    *out = j;
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Impossible config values                                                   */
/* ------------------------------------------------------------------------ */

/* What a config.json number must be, by key name (at any depth). */
typedef enum { NUM_ANY, NUM_COUNT, NUM_ID, NUM_POSITIVE, NUM_NONNEGATIVE } num_rule;

static const struct {
    const char *key;
    num_rule rule;
} num_rules[] = {
    {"hidden_size", NUM_COUNT},
    {"n_embd", NUM_COUNT},
    {"d_model", NUM_COUNT},
    {"num_hidden_layers", NUM_COUNT},
    {"n_layers", NUM_COUNT},
    {"n_layer", NUM_COUNT},
    {"num_attention_heads", NUM_COUNT},
    {"n_head", NUM_COUNT},
    {"n_heads", NUM_COUNT},
    {"num_key_value_heads", NUM_COUNT},
    {"n_kv_heads", NUM_COUNT},
    {"head_dim", NUM_COUNT},
    {"vocab_size", NUM_COUNT},
    {"intermediate_size", NUM_COUNT},
    {"n_inner", NUM_COUNT},
    {"max_position_embeddings", NUM_COUNT},
    {"original_max_position_embeddings", NUM_COUNT},
    {"n_positions", NUM_COUNT},
    {"n_ctx", NUM_COUNT},
    {"num_experts", NUM_COUNT},
    {"num_local_experts", NUM_COUNT},
    {"num_experts_per_tok", NUM_COUNT},
    {"bos_token_id", NUM_ID}, /* some configs say -1 for "none" */
    {"eos_token_id", NUM_ID},
    {"pad_token_id", NUM_ID},
    {"rope_theta", NUM_POSITIVE},
    {"rope_local_base_freq", NUM_POSITIVE},
    {"global_rope_theta", NUM_POSITIVE},
    {"rotary_emb_base", NUM_POSITIVE},
    {"factor", NUM_POSITIVE}, /* only inside rope_scaling / rope_parameters */
    {"rms_norm_eps", NUM_NONNEGATIVE},
    {"layer_norm_eps", NUM_NONNEGATIVE},
    {"layer_norm_epsilon", NUM_NONNEGATIVE},
};

static num_rule rule_of(const char *key, int in_rope) {
    for (size_t i = 0; i < sizeof num_rules / sizeof num_rules[0]; i++)
        if (strcmp(num_rules[i].key, key) == 0)
            return strcmp(key, "factor") == 0 && !in_rope ? NUM_ANY : num_rules[i].rule;
    return NUM_ANY;
}

/* NULL when v (a number) obeys rule, else what it is not. */
static const char *num_violation(double v, num_rule rule) {
    int whole = v >= -9.2e18 && v <= 9.2e18 && v == (double)(long long)v;
    switch (rule) {
    case NUM_COUNT: return !whole ? "not a whole number" : v < 0 ? "negative" : NULL;
    case NUM_ID: return whole ? NULL : "not a whole number";
    case NUM_POSITIVE: return v > 0 ? NULL : "not positive";
    case NUM_NONNEGATIVE: return v >= 0 ? NULL : "negative";
    case NUM_ANY: break;
    }
    return NULL;
}

/* Walk obj (objects and arrays, up to depth 8) for a number breaking its
 * key's rule; the message names the key. */
static gk_status check_numbers(const json_t *obj, const char *key, int in_rope, int depth,
                               const char *file, char *errmsg, size_t errcap) {
    if (depth > 8)
        return GK_OK;
    if (json_is_number(obj)) {
        double v = json_number_value(obj);
        const char *why = key ? num_violation(v, rule_of(key, in_rope)) : NULL;
        if (!why)
            return GK_OK;
        char shown[FMT_SHOWN_NAME];
        gk_msgf(errmsg, errcap, "%s: '%s' = %.15g is %s", file,
                fmt_escape_term(shown, sizeof shown, key, strlen(key)), v, why);
        return GK_E_FORMAT;
    }
    gk_status st = GK_OK;
    if (json_is_array(obj)) { /* eos_token_id: [1, 2] */
        size_t i;
        const json_t *v;
        json_array_foreach(obj, i, v) {
            if ((st = check_numbers(v, key, in_rope, depth + 1, file, errmsg, errcap)))
                return st;
        }
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        int rope = in_rope || strncmp(k, "rope_", 5) == 0;
        if ((st = check_numbers(v, k, rope, depth + 1, file, errmsg, errcap)))
            return st;
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                 */
/* ------------------------------------------------------------------------ */

static fmt_hfdir *open_dir(const char *dir, int need_config, gk_status *st, char *errmsg,
                           size_t errcap) {
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        *st = GK_E_IO;
        gk_msgf(errmsg, errcap, "%s: not a directory", dir);
        return NULL;
    }
    fmt_hfdir *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(dir))) {
        free(d);
        *st = GK_E_NOMEM;
        gk_msgf(errmsg, errcap, "out of memory");
        return NULL;
    }
    size_t L = strlen(d->path);
    while (L > 1 && d->path[L - 1] == '/')
        d->path[--L] = '\0';
    for (int f = 0; f < FMT_HF_FILE_COUNT; f++) {
        if (f == FMT_HF_TOKENIZER)
            continue;
        *st = load_json(d, (fmt_hf_file)f, &d->files[f], errmsg, errcap);
        if (*st != GK_OK) {
            fmt_hfdir_close(d);
            return NULL;
        }
    }
    if (!d->files[FMT_HF_CONFIG] && !need_config) {
        *st = GK_OK;
        return d;
    }
    if (!d->files[FMT_HF_CONFIG]) {
        gk_msgf(errmsg, errcap, "%s/config.json: missing (not a Hugging Face checkpoint?)",
                d->path);
        fmt_hfdir_close(d);
        *st = GK_E_FORMAT;
        return NULL;
    }
    char cfg[4096];
    if (!fmt_hfdir_join(d, file_names[FMT_HF_CONFIG], cfg, sizeof cfg))
        cfg[0] = '\0';
    if ((*st = check_numbers(d->files[FMT_HF_CONFIG], NULL, 0, 0, cfg, errmsg, errcap))) {
        fmt_hfdir_close(d);
        return NULL;
    }
    *st = GK_OK;
    return d;
}

fmt_hfdir *fmt_hfdir_open(const char *dir, gk_status *st, char *errmsg, size_t errcap) {
    return open_dir(dir, 1, st, errmsg, errcap);
}

fmt_hfdir *fmt_hfdir_open_beside(const char *dir, gk_status *st, char *errmsg, size_t errcap) {
    return open_dir(dir, 0, st, errmsg, errcap);
}

const char *fmt_hfdir_path(const fmt_hfdir *d) {
    return d->path;
}

const char *fmt_hfdir_file_name(fmt_hf_file f) {
    return (f >= 0 && f < FMT_HF_FILE_COUNT) ? file_names[f] : "?";
}

json_t *fmt_hfdir_json(fmt_hfdir *d, fmt_hf_file f, gk_status *st, char *errmsg, size_t errcap) {
    if (st)
        *st = GK_OK;
    if (f < 0 || f >= FMT_HF_FILE_COUNT)
        return NULL;
    if (f == FMT_HF_TOKENIZER && !d->tokenizer_tried) {
        d->tokenizer_tried = 1;
        gk_status s = load_json(d, f, &d->files[f], errmsg, errcap);
        if (st)
            *st = s;
    }
    return d->files[f];
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **fmt_hfdir_list(const fmt_hfdir *d, const char *prefix, const char *suffix, size_t *n,
                      gk_status *st) {
    DIR *dh = opendir(d->path);
    *n = 0;
    if (!dh) {
        *st = GK_E_IO;
        return NULL;
    }
    size_t cap = 8, cnt = 0;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    size_t lp = strlen(prefix), ls = strlen(suffix);
    while (v && (e = readdir(dh)) != NULL) {
        size_t L = strlen(e->d_name);
        if (L < lp + ls || strncmp(e->d_name, prefix, lp) != 0 ||
            strcmp(e->d_name + L - ls, suffix) != 0 || !fmt_hfdir_has(d, e->d_name))
            continue;
        if (cnt + 1 >= cap) {
            char **nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
            cap *= 2;
        }
        if (!(v[cnt] = strdup(e->d_name)))
            break;
        cnt++;
    }
    int bad = (v == NULL) || e != NULL;
    closedir(dh);
    if (bad) {
        if (v) {
            v[cnt] = NULL;
            fmt_hfdir_free_list(v);
        }
        *st = GK_E_NOMEM;
        return NULL;
    }
    qsort(v, cnt, sizeof *v, cmp_names);
    v[cnt] = NULL;
    *n = cnt;
    *st = GK_OK;
    return v;
}

void fmt_hfdir_free_list(char **list) {
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

int fmt_hf_get_int(const json_t *obj, const char *const *keys, long long *out) {
    for (; obj && *keys; keys++) {
        json_t *v = json_object_get(obj, *keys);
        if (!v)
            continue;
        if (json_is_integer(v)) {
            *out = json_integer_value(v);
            return 1;
        }
        if (json_is_real(v)) {
            *out = (long long)json_real_value(v);
            return 1;
        }
        return 0;
    }
    return 0;
}

int fmt_hf_get_num(const json_t *obj, const char *const *keys, double *out) {
    for (; obj && *keys; keys++) {
        json_t *v = json_object_get(obj, *keys);
        if (!v)
            continue;
        if (json_is_number(v)) {
            *out = json_number_value(v);
            return 1;
        }
        return 0;
    }
    return 0;
}

const char *fmt_hf_get_str(const json_t *obj, const char *key) {
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int fmt_hfdir_contains(const fmt_hfdir *d, const char *name) {
    char p[PATH_MAX];
    return fmt_hfdir_join(d, name, p, sizeof p) && fmt_path_inside(d->path, p, 0, NULL, 0) == GK_OK;
}

void fmt_hfdir_close(fmt_hfdir *d) {
    if (!d)
        return;
    for (int f = 0; f < FMT_HF_FILE_COUNT; f++)
        json_decref(d->files[f]);
    free(d->path);
    free(d);
}

/* find_hparam(keys, optional=True): the first key present, even if null. */
static const json_t *first_present(const json_t *obj, const char *const *keys) {
    for (; *keys; keys++) {
        const json_t *v = json_object_get(obj, *keys);
        if (v)
            return v;
    }
    return NULL;
}

json_t *fmt_hf_rope_parameters(const json_t *config) {
    static const char *const k_theta[] = {"global_rope_theta", "rope_global_theta",
                                          "rope_theta_global", "rope_theta",
                                          "rotary_emb_base",   NULL};
    static const char *const k_local[] = {"local_rope_theta",     "rope_local_theta",
                                          "rope_theta_local",     "swa_rope_theta",
                                          "rope_local_base_freq", NULL};
    const json_t *src = json_object_get(config, "rope_parameters");
    if (!src) /* a "rope_parameters": null still wins */
        src = json_object_get(config, "rope_scaling");
    json_t *rp = json_is_object(src) ? json_deep_copy(src) : json_object();
    if (!rp || json_object_get(rp, "full_attention") || json_object_get(rp, "sliding_attention"))
        return rp;
    const json_t *theta = first_present(config, k_theta), *local = first_present(config, k_local);
    const json_t *type = json_object_get(rp, "type");
    int ok = 1;
    if (local && !json_is_null(local))
        ok &= json_object_set_new(rp, "sliding_attention",
                                  json_pack("{s:O}", "rope_theta", (json_t *)local)) == 0;
    if (!json_object_get(rp, "rope_theta") && theta && !json_is_null(theta))
        ok &= json_object_set(rp, "rope_theta", (json_t *)theta) == 0;
    if (!json_object_get(rp, "rope_type") && type && !json_is_null(type))
        ok &= json_object_set(rp, "rope_type", (json_t *)type) == 0;
    if (!ok) {
        json_decref(rp);
        return NULL;
    }
    return rp;
}
