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
    json_error_t je;
    json_t *j = json_load_file(p, JSON_ALLOW_NUL, &je);
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
/* Public API                                                                 */
/* ------------------------------------------------------------------------ */

fmt_hfdir *fmt_hfdir_open(const char *dir, gk_status *st, char *errmsg, size_t errcap) {
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
    if (!d->files[FMT_HF_CONFIG]) {
        gk_msgf(errmsg, errcap, "%s/config.json: missing (not a Hugging Face checkpoint?)",
                d->path);
        fmt_hfdir_close(d);
        *st = GK_E_FORMAT;
        return NULL;
    }
    *st = GK_OK;
    return d;
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
