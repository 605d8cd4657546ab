/*
 * hfmeta.c -- general.* authorship metadata the way gguf-py's Metadata
 * (metadata.py at c392e50) derives it: model id heuristics on config.json
 * _name_or_path and the directory name, the --metadata override file and
 * --model-name, and the README.md model card's YAML front matter (a subset:
 * top-level scalars, block and flow lists of scalars).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hfmeta.h"

/* ------------------------------------------------------------------------ */
/* Small string helpers (ASCII semantics of Python's str methods)             */
/* ------------------------------------------------------------------------ */

static char *dupn(const char *s, size_t n) {
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

/* str.islower(): at least one cased character and no upper-case one. */
static int py_islower(const char *s, size_t n) {
    int cased = 0;
    for (size_t i = 0; i < n; i++) {
        if (isupper((unsigned char)s[i]))
            return 0;
        if (islower((unsigned char)s[i]))
            cased = 1;
    }
    return cased;
}

/* ^(v\d+(?:\.\d+)*|\d.*)$ */
static int looks_versionish(const char *s, size_t n) {
    if (n > 0 && isdigit((unsigned char)s[0]))
        return 1;
    if (n < 2 || s[0] != 'v')
        return 0;
    size_t i = 1;
    for (;;) {
        size_t st = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == st)
            return 0;
        if (i == n)
            return 1;
        if (s[i] != '.')
            return 0;
        i++;
    }
}

char *fmt_hfmeta_id_to_title(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    char *tmp = dupn(s, n);
    if (!tmp) {
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (tmp[i] == '-')
            tmp[i] = ' ';
    size_t i = 0;
    int first = 1;
    while (i < n) {
        while (i < n && isspace((unsigned char)tmp[i]))
            i++;
        size_t st = i;
        while (i < n && !isspace((unsigned char)tmp[i]))
            i++;
        if (i == st)
            break;
        if (!first)
            *o++ = ' ';
        first = 0;
        int title = py_islower(tmp + st, i - st) && !looks_versionish(tmp + st, i - st);
        int prev_cased = 0;
        for (size_t k = st; k < i; k++) {
            unsigned char c = (unsigned char)tmp[k];
            if (title && isalpha(c)) {
                *o++ = (char)(prev_cased ? tolower(c) : toupper(c));
                prev_cased = 1;
            } else {
                *o++ = (char)c;
                prev_cased = title ? 0 : prev_cased;
            }
        }
    }
    *o = '\0';
    free(tmp);
    return out;
}

/* ------------------------------------------------------------------------ */
/* Name-part classifiers (the regexes of get_model_id_components)             */
/* ------------------------------------------------------------------------ */

/* (v|iter)?\d+([.]\d+)*, case-insensitive */
static int is_version(const char *p) {
    if (tolower((unsigned char)p[0]) == 'v')
        p++;
    else if (strncasecmp(p, "iter", 4) == 0)
        p += 4;
    for (;;) {
        const char *st = p;
        while (isdigit((unsigned char)*p))
            p++;
        if (p == st)
            return 0;
        if (*p == '\0')
            return 1;
        if (*p != '.')
            return 0;
        p++;
    }
}

/* i?q\d(_\w)*|b?fp?(16|32), case-insensitive */
static int is_qtype(const char *p) {
    const char *s = p;
    if (tolower((unsigned char)*s) == 'i')
        s++;
    if (tolower((unsigned char)*s) == 'q' && isdigit((unsigned char)s[1])) {
        s += 2;
        while (s[0] == '_' && s[1] && (isalnum((unsigned char)s[1]) || s[1] == '_'))
            s += 2;
        if (*s == '\0')
            return 1;
    }
    s = p;
    if (tolower((unsigned char)*s) == 'b')
        s++;
    if (tolower((unsigned char)*s) != 'f')
        return 0;
    s++;
    if (tolower((unsigned char)*s) == 'p')
        s++;
    return strcmp(s, "16") == 0 || strcmp(s, "32") == 0;
}

/* (([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl), case-insensitive */
static int is_size(const char *p) {
    static const char *const words[] = {"small", "mini", "medium", "large", "xl", "xxl", NULL};
    for (int i = 0; words[i]; i++)
        if (strcasecmp(p, words[i]) == 0)
            return 1;
    /* try with and without the optional prefix */
    for (int variant = 0; variant < 3; variant++) {
        const char *s = p;
        if (variant == 1) {
            if (tolower((unsigned char)*s) != 'a')
                continue;
            s++;
        } else if (variant == 2) {
            const char *t = s;
            while (isdigit((unsigned char)*t))
                t++;
            if (t == s || tolower((unsigned char)*t) != 'x')
                continue;
            s = t + 1;
        }
        const char *t = s;
        while (isdigit((unsigned char)*t))
            t++;
        if (t == s)
            continue;
        if ((*t == '.' || *t == '_') && isdigit((unsigned char)t[1])) {
            t++;
            while (isdigit((unsigned char)*t))
                t++;
        }
        if (!strchr("kmbtKMBT", *t) || *t == '\0')
            continue;
        t++;
        if (isdigit((unsigned char)*t))
            t++;
        if (*t == '\0')
            return 1;
    }
    return 0;
}

static int is_finetune_word(const char *p) {
    return strcasecmp(p, "chat") == 0 || strcasecmp(p, "instruct") == 0 ||
           strcasecmp(p, "vision") == 0 || strcasecmp(p, "lora") == 0;
}

/* ------------------------------------------------------------------------ */
/* get_model_id_components                                                    */
/* ------------------------------------------------------------------------ */

enum { T_BASENAME = 1, T_SIZE = 2, T_FINETUNE = 4, T_VERSION = 8, T_TYPE = 16 };

typedef struct {
    char *full, *org, *basename, *finetune, *version, *size_label;
} id_parts;

static void id_parts_free(id_parts *c) {
    free(c->full);
    free(c->org);
    free(c->basename);
    free(c->finetune);
    free(c->version);
    free(c->size_label);
    memset(c, 0, sizeof *c);
}

/* Join the parts whose types include mask with '-'; dedup drops repeats. */
static char *join_parts(char **parts, const int *types, int n, int mask, int exclude, int dedup) {
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += strlen(parts[i]) + 1;
    char *out = calloc(1, len + 1);
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (!(types[i] & mask) || (types[i] & exclude))
            continue;
        int dup = 0;
        for (int j = 0; dedup && j < i; j++)
            if ((types[j] & mask) && strcmp(parts[j], parts[i]) == 0)
                dup = 1;
        if (dup)
            continue;
        if (*out)
            strcat(out, "-");
        strcat(out, parts[i]);
    }
    if (!*out) {
        free(out);
        return NULL;
    }
    return out;
}

/* Sets c->full to the name after the '/' and c->org to the part before it
 * (none when empty or starting with '.'); returns the name. */
static const char *split_org(const char *id, id_parts *c) {
    const char *slash = strchr(id, '/');
    const char *name = id;
    if (slash) {
        if (slash > id && id[0] != '.')
            c->org = dupn(id, (size_t)(slash - id));
        else if (slash == id)
            c->org = strdup("");
        name = slash + 1;
    }
    c->full = strdup(name);
    if (c->org && !*c->org) {
        free(c->org);
        c->org = NULL;
    }
    return name;
}

/* A size part spelled as get_model_id_components spells it: '_' becomes
 * '.', a trailing digit moves before the unit (7b1 -> 7.1b), a unit after a
 * digit is upper-cased. Returns a new string (NULL when out of memory) and
 * its length in *len. */
static char *normalize_size(const char *p, size_t *len) {
    size_t L = strlen(p);
    char *q = malloc(L + 2);
    if (!q)
        return NULL;
    strcpy(q, p);
    for (char *r = q; *r; r++)
        if (*r == '_')
            *r = '.';
    if (isdigit((unsigned char)q[L - 1]) && L >= 2) {
        char last = q[L - 1], prev = q[L - 2];
        q[L - 2] = '.';
        q[L - 1] = last;
        q[L] = prev;
        q[L + 1] = '\0';
        L++;
    }
    if (L > 1 && isdigit((unsigned char)q[L - 2]) && strchr("kmbt", q[L - 1]))
        q[L - 1] = (char)toupper((unsigned char)q[L - 1]);
    *len = L;
    return q;
}

/* 1 when the size label q[0..L) is far (more than 7/8 of total) from the
 * model's parameter count: then the part names a fine-tune, not the size. */
static int size_far_from_total(const char *q, size_t L, int64_t total) {
    if (total == 0)
        return 0;
    const char *units = " KMBT";
    const char *u = strchr(units, q[L - 1]);
    char *numend;
    char *num = dupn(q, L - 1);
    double v = num ? strtod(num, &numend) : 0;
    int ok = num && *num && *numend == '\0' && !isspace((unsigned char)num[0]);
    free(num);
    if (!ok)
        return 0;
    double scale = 1.0;
    int pw = u ? (int)(u - units) : -1;
    if (pw < 0)
        scale = 0.001;
    for (int k = 0; k < pw; k++)
        scale *= 1000.0;
    double label = v * scale;
    if (total < 0) /* a LoRA adapter: only a label under 1/8 of its size */
        return label < (double)(-total / 8);
    double tp = (double)total;
    return label - tp > (double)(7 * total / 8) || tp - label > (double)(7 * total / 8);
}

/* Version, type, size and fine-tune words; size parts are replaced by
 * their normalized spelling (kept in owned[]). 0 when out of memory. */
static int classify_parts(char **parts, int *types, char **owned, int n, int64_t total) {
    for (int i = 0; i < n; i++) {
        char *p = parts[i];
        if (is_version(p)) {
            types[i] |= T_VERSION;
        } else if (is_qtype(p)) {
            types[i] |= T_TYPE;
            for (char *q = p; *q; q++)
                *q = (char)toupper((unsigned char)*q);
        } else if (i > 0 && is_size(p)) {
            size_t L;
            char *q = normalize_size(p, &L);
            if (!q)
                return 0;
            if (size_far_from_total(q, L, total)) {
                types[i] |= T_FINETUNE;
                q[L - 1] = (char)tolower((unsigned char)q[L - 1]);
            }
            if (types[i] == 0)
                types[i] |= T_SIZE;
            owned[i] = q;
            parts[i] = q;
        } else if (i > 0 && is_finetune_word(p)) {
            /* a LoRA adapter's redundant "lora" is a type word */
            types[i] |= total < 0 && strcasecmp(p, "lora") == 0 ? T_TYPE : T_FINETUNE;
        }
    }
    return 1;
}

/* Ignore word-based size labels when a number-based one is present. */
static void drop_word_sizes(char **parts, int *types, int n) {
    int numeric_size = 0;
    for (int i = 0; i < n; i++)
        if (types[i] & T_SIZE)
            for (const char *q = parts[i]; *q; q++)
                if (isdigit((unsigned char)*q))
                    numeric_size = 1;
    if (!numeric_size)
        return;
    for (int i = 0; i < n; i++) {
        if (!(types[i] & T_SIZE))
            continue;
        int alpha = 1;
        for (const char *q = parts[i]; *q; q++)
            if (!isalpha((unsigned char)*q))
                alpha = 0;
        if (alpha)
            types[i] &= ~T_SIZE;
    }
}

/* The leading untyped words (and versions) form the basename; other
 * untyped words are fine-tune; trailing basename parts that also have
 * another type lose the basename mark. */
static void mark_basename(char **parts, int *types, int n) {
    int at_start = 1;
    for (int i = 0; i < n; i++) {
        if (at_start &&
            ((types[i] == 0 && isalpha((unsigned char)parts[i][0])) || (types[i] & T_VERSION))) {
            types[i] |= T_BASENAME;
        } else {
            at_start = 0;
            if (types[i] == 0)
                types[i] |= T_FINETUNE;
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        if ((types[i] & T_BASENAME) && (types[i] & ~T_BASENAME))
            types[i] &= ~T_BASENAME;
        else
            break;
    }
}

static void model_id_components(const char *id, int64_t total, id_parts *c) {
    memset(c, 0, sizeof *c);
    if (!id)
        return;
    if (strchr(id, ' ')) {
        c->full = strdup(id);
        return;
    }
    char *work = strdup(split_org(id, c));
    if (!work)
        return;
    int cap = 1;
    for (const char *q = work; *q; q++)
        cap += *q == '-';
    char **parts = calloc((size_t)cap, sizeof *parts);
    int *types = calloc((size_t)cap, sizeof *types);
    char **owned = calloc((size_t)cap, sizeof *owned);
    int n = 0;
    if (!parts || !types || !owned)
        goto out;
    for (char *tok = strtok(work, "-"); tok; tok = strtok(NULL, "-"))
        parts[n++] = tok;
    if (!classify_parts(parts, types, owned, n, total))
        goto out;
    drop_word_sizes(parts, types, n);
    mark_basename(parts, types, n);

    c->basename = join_parts(parts, types, n, T_BASENAME, 0, 0);
    c->size_label = join_parts(parts, types, n, T_SIZE, 0, 1);
    c->finetune = join_parts(parts, types, n, T_FINETUNE, 0, 0);
    c->version = join_parts(parts, types, n, T_VERSION, T_BASENAME, 0);
    if (!c->size_label && !c->finetune && !c->version) {
        free(c->basename);
        c->basename = NULL;
    }
out:
    if (owned)
        for (int i = 0; i < n; i++)
            free(owned[i]);
    free(owned);
    free(parts);
    free(types);
    free(work);
}

/* Fill unset fields of m from the components of one model id. */
static void apply_id(fmt_hfmeta *m, const char *id, int64_t total) {
    id_parts c;
    model_id_components(id, total, &c);
    if (!m->name && c.full)
        m->name = fmt_hfmeta_id_to_title(c.full);
    if (!m->organization && c.org)
        m->organization = fmt_hfmeta_id_to_title(c.org);
    if (!m->basename && c.basename) {
        m->basename = c.basename;
        c.basename = NULL;
    }
    if (!m->finetune && c.finetune) {
        m->finetune = c.finetune;
        c.finetune = NULL;
    }
    if (!m->version && c.version) {
        m->version = c.version;
        c.version = NULL;
    }
    if (!m->size_label && c.size_label) {
        m->size_label = c.size_label;
        c.size_label = NULL;
    }
    id_parts_free(&c);
}

/* ------------------------------------------------------------------------ */
/* README.md model card: a YAML subset                                        */
/* ------------------------------------------------------------------------ */

/* Scalar text -> JSON value with YAML 1.1 (safe_load) resolution of null
 * and booleans; numbers stay strings (the keys we use are strings). */
static json_t *yaml_scalar(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        char *o = malloc(n), *q = o;
        if (!o)
            return NULL;
        for (size_t i = 1; i + 1 < n; i++) {
            if (s[0] == '\'' && s[i] == '\'' && s[i + 1] == '\'')
                i++;
            else if (s[0] == '"' && s[i] == '\\' && i + 2 < n) {
                i++;
                *q++ = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
                continue;
            }
            *q++ = s[i];
        }
        *q = '\0';
        json_t *v = json_string(o);
        free(o);
        return v;
    }
    /* plain scalar: a " #" starts a comment */
    for (size_t i = 1; i < n; i++)
        if (s[i] == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
            n = i;
            while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
            break;
        }
    char *t = dupn(s, n);
    if (!t)
        return NULL;
    json_t *v;
    if (!n || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL"))
        v = json_null();
    else if (!strcasecmp(t, "true") || !strcasecmp(t, "yes") || !strcasecmp(t, "on"))
        v = json_true();
    else if (!strcasecmp(t, "false") || !strcasecmp(t, "no") || !strcasecmp(t, "off"))
        v = json_false();
    else
        v = json_string(t);
    free(t);
    return v;
}

/* Inline flow list "[a, b]" of scalars. */
static json_t *yaml_flow_list(const char *s, size_t n) {
    json_t *arr = json_array();
    size_t i = 1, st = 1;
    char quote = 0;
    for (; arr && i < n; i++) {
        char ch = s[i];
        if (quote) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '"' || ch == '\'') {
            quote = ch;
        } else if (ch == ',' || ch == ']') {
            size_t a = st, b = i;
            while (a < b && s[a] == ' ')
                a++;
            if (b > a)
                json_array_append_new(arr, yaml_scalar(s + a, b - a));
            st = i + 1;
            if (ch == ']')
                break;
        }
    }
    return arr;
}

/* Parse the top-level "key: value" / "key:\n- item" structure of the
 * front matter into a JSON object; anything nested deeper is skipped. */
static json_t *yaml_front_matter(const char *text) {
    json_t *root = json_object();
    const char *p = text;
    char *cur_key = NULL;
    json_t *cur_list = NULL;
    while (root && *p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        size_t ind = 0;
        while (ind < n && p[ind] == ' ')
            ind++;
        const char *l = p + ind;
        size_t ln = n - ind;
        if (ln == 0 || l[0] == '#') {
            /* blank or comment */
        } else if (l[0] == '-' && (ln == 1 || l[1] == ' ') && cur_key) {
            const char *item = l + 1;
            size_t in = ln - 1;
            int is_map = 0;
            for (size_t k = 0; k + 1 < in; k++)
                if (item[k] == ':' && item[k + 1] == ' ' && item[0] != '"' && item[0] != '\'')
                    is_map = 1;
            if (!is_map) {
                if (!cur_list) {
                    cur_list = json_array();
                    json_object_set_new(root, cur_key, cur_list);
                }
                json_array_append_new(cur_list, yaml_scalar(item, in));
            }
        } else if (ind == 0) {
            free(cur_key);
            cur_key = NULL;
            cur_list = NULL;
            const char *colon = memchr(l, ':', ln);
            if (colon && (colon + 1 == l + ln || colon[1] == ' ' || colon[1] == '\r')) {
                cur_key = dupn(l, (size_t)(colon - l));
                const char *v = colon + 1;
                size_t vn = ln - (size_t)(v - l);
                while (vn && (*v == ' ' || *v == '\t'))
                    v++, vn--;
                if (cur_key && vn && *v == '[')
                    json_object_set_new(root, cur_key, yaml_flow_list(v, vn));
                else if (cur_key && vn && *v != '|' && *v != '>')
                    json_object_set_new(root, cur_key, yaml_scalar(v, vn));
                else if (cur_key && !vn)
                    json_object_set_new(root, cur_key, json_null());
            }
        }
        p = e ? e + 1 : p + n;
    }
    free(cur_key);
    return root;
}

/* Metadata.load_model_card: README.md whose first line is exactly "---",
 * up to the next "---\n". NULL when absent or not front matter. */
static json_t *load_model_card(fmt_hfdir *d) {
    char path[4096];
    if (!fmt_hfdir_has(d, "README.md") || !fmt_hfdir_join(d, "README.md", path, sizeof path))
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= (8u << 20))
                break;
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    json_t *card = NULL;
    if (!strncmp(buf, "---\n", 4)) {
        char *end = strstr(buf + 4, "---\n");
        if (end)
            *end = '\0';
        card = yaml_front_matter(buf + 4);
    }
    free(buf);
    return card;
}

static void card_str(fmt_hfmeta *m, char **field_p, const json_t *card, const char *key) {
    (void)m;
    const json_t *v = json_object_get(card, key);
    if (!v || *field_p)
        return;
    if (json_is_string(v)) {
        *field_p = strdup(json_string_value(v));
    } else if (json_is_array(v) && json_array_size(v)) {
        /* a list (license: [a, b]) is joined with ',' when written */
        size_t len = 1, i;
        json_t *e;
        json_array_foreach(v, i, e) len +=
            strlen(json_is_string(e) ? json_string_value(e) : "") + 1;
        char *o = calloc(1, len);
        json_array_foreach(v, i, e) {
            if (o && i)
                strcat(o, ",");
            if (o && json_is_string(e))
                strcat(o, json_string_value(e));
        }
        *field_p = o;
    }
}

static void card_array(json_t **dst, const json_t *card, const char *key) {
    const json_t *v = json_object_get(card, key);
    if (!v || json_is_null(v))
        return;
    if (!*dst)
        *dst = json_array();
    if (json_is_string(v))
        json_array_append(*dst, (json_t *)v);
    else if (json_is_array(v))
        json_array_extend(*dst, (json_t *)v);
}

/* base_model / datasets entries: HF ids or URLs -> {name, organization,
 * version, repo_url} as gguf-py derives them. */
static void card_sources(json_t **dst, const json_t *card, const char *const *keys, int64_t total) {
    const json_t *v = NULL;
    int present = 0;
    for (int k = 0; keys[k]; k++)
        if (json_object_get(card, keys[k]))
            present = 1;
    if (!present)
        return;
    for (int k = 0; keys[k] && !v; k++)
        v = json_object_get(card, keys[k]);
    if (!*dst)
        *dst = json_array();
    json_t *list = json_array();
    if (json_is_string(v))
        json_array_append(list, (json_t *)v);
    else if (json_is_array(v))
        json_array_extend(list, (json_t *)v);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        json_t *o = json_object();
        if (json_is_string(e)) {
            const char *id = json_string_value(e);
            const char *hfid = NULL;
            if (!strncmp(id, "http://", 7) || !strncmp(id, "https://", 8) ||
                !strncmp(id, "ssh://", 6)) {
                json_object_set_new(o, "repo_url", json_string(id));
                const char *h = strstr(id, "huggingface.co/");
                const char *rest = h ? h + 15 : NULL;
                /* https?://huggingface.co/([^/]+/[^/]+)$ */
                if (rest && (!strncmp(id, "http://huggingface.co/", 22) ||
                             !strncmp(id, "https://huggingface.co/", 23))) {
                    const char *sl = strchr(rest, '/');
                    if (sl && sl > rest && sl[1] && !strchr(sl + 1, '/'))
                        hfid = rest;
                }
            } else {
                hfid = id;
            }
            if (hfid) {
                id_parts c;
                model_id_components(hfid, total, &c);
                if (c.full) {
                    char *t = fmt_hfmeta_id_to_title(c.full);
                    json_object_set_new(o, "name", json_string(t ? t : ""));
                    free(t);
                }
                if (c.org) {
                    char *t = fmt_hfmeta_id_to_title(c.org);
                    json_object_set_new(o, "organization", json_string(t ? t : ""));
                    free(t);
                }
                if (c.version)
                    json_object_set_new(o, "version", json_string(c.version));
                if (hfid == id && c.org && c.full) {
                    char url[1024];
                    snprintf(url, sizeof url, "https://huggingface.co/%s/%s", c.org, c.full);
                    json_object_set_new(o, "repo_url", json_string(url));
                }
                id_parts_free(&c);
            }
        } else if (json_is_object(e)) {
            json_object_update(o, e);
        }
        json_array_append_new(*dst, o);
    }
    json_decref(list);
}

/* apply_metadata_heuristic's model card part, in its order. */
static void apply_card(fmt_hfmeta *m, const json_t *card, int64_t total) {
    static const struct {
        size_t off;
        const char *key;
    } direct[] = {
        {offsetof(fmt_hfmeta, name), "name"},
        {offsetof(fmt_hfmeta, author), "author"},
        {offsetof(fmt_hfmeta, version), "version"},
        {offsetof(fmt_hfmeta, organization), "organization"},
        {offsetof(fmt_hfmeta, description), "description"},
        {offsetof(fmt_hfmeta, finetune), "finetune"},
        {offsetof(fmt_hfmeta, basename), "basename"},
        {offsetof(fmt_hfmeta, size_label), "size_label"},
        {offsetof(fmt_hfmeta, source_url), "url"},
        {offsetof(fmt_hfmeta, source_doi), "doi"},
        {offsetof(fmt_hfmeta, source_uuid), "uuid"},
        {offsetof(fmt_hfmeta, source_repo_url), "repo_url"},
        {offsetof(fmt_hfmeta, name), "model_name"},
        {offsetof(fmt_hfmeta, author), "model_author"},
        {offsetof(fmt_hfmeta, version), "model_version"},
        {offsetof(fmt_hfmeta, organization), "model_organization"},
        {offsetof(fmt_hfmeta, description), "model_description"},
        {offsetof(fmt_hfmeta, finetune), "model_finetune"},
        {offsetof(fmt_hfmeta, basename), "model_basename"},
        {offsetof(fmt_hfmeta, size_label), "model_size_label"},
        {offsetof(fmt_hfmeta, source_url), "model_url"},
        {offsetof(fmt_hfmeta, source_doi), "model_doi"},
        {offsetof(fmt_hfmeta, source_uuid), "model_uuid"},
        {offsetof(fmt_hfmeta, source_repo_url), "model_repo_url"},
        {offsetof(fmt_hfmeta, author), "model_creator"},
        {offsetof(fmt_hfmeta, basename), "model_type"},
    };
    for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++)
        card_str(m, (char **)((char *)m + direct[i].off), card, direct[i].key);
    static const char *const bm[] = {"base_model", "base_models", "base_model_sources", NULL};
    static const char *const ds[] = {"datasets", "dataset", "dataset_sources", NULL};
    card_sources(&m->base_models, card, bm, total);
    card_sources(&m->datasets, card, ds, total);
    card_str(m, &m->license, card, "license");
    card_str(m, &m->license_name, card, "license_name");
    card_str(m, &m->license_link, card, "license_link");
    card_array(&m->tags, card, "tags");
    card_array(&m->tags, card, "pipeline_tag");
    card_array(&m->languages, card, "languages");
    card_array(&m->languages, card, "language");
}

/* ------------------------------------------------------------------------ */
/* Sampling parameters (Metadata.load_generation_config)                      */
/* ------------------------------------------------------------------------ */

/* generation_config.json key -> GGUF key, in set_gguf_meta_model's order;
 * type 'i' INT32 (int or bool), 'f' FLOAT32 (number or bool), 's' STRING. */
static const struct {
    const char *gen, *key;
    char type;
} sampling_keys[] = {
    {"sequence", "general.sampling.sequence", 's'},
    {"top_k", "general.sampling.top_k", 'i'},
    {"top_p", "general.sampling.top_p", 'f'},
    {"min_p", "general.sampling.min_p", 'f'},
    {"xtc_probability", "general.sampling.xtc_probability", 'f'},
    {"xtc_threshold", "general.sampling.xtc_threshold", 'f'},
    {"temperature", "general.sampling.temp", 'f'},
    {"penalty_last_n", "general.sampling.penalty_last_n", 'i'},
    {"penalty_repeat", "general.sampling.penalty_repeat", 'f'},
    {"mirostat", "general.sampling.mirostat", 'i'},
    {"mirostat_tau", "general.sampling.mirostat_tau", 'f'},
    {"mirostat_eta", "general.sampling.mirostat_eta", 'f'},
};
#define N_SAMPLING (sizeof sampling_keys / sizeof sampling_keys[0])

/* v fits sampling key i as Python's struct packing takes it (where Python
 * raises, we refuse). */
static int sampling_ok(size_t i, const json_t *v) {
    switch (sampling_keys[i].type) {
    case 's': return json_is_string(v);
    case 'i':
        return json_is_boolean(v) || (json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
                                      json_integer_value(v) <= INT32_MAX);
    default: return json_is_number(v) || json_is_boolean(v);
    }
}

/* Take src[name(i)] for every sampling key into m->sampling; a null value
 * means absent. by_gguf_key: src is a --metadata file (GGUF key names). */
static gk_status load_sampling(fmt_hfmeta *m, const json_t *src, int by_gguf_key, const char *what,
                               char *err, size_t errcap) {
    for (size_t i = 0; json_is_object(src) && i < N_SAMPLING; i++) {
        const char *name = by_gguf_key ? sampling_keys[i].key : sampling_keys[i].gen;
        json_t *v = json_object_get(src, name);
        if (!v || json_is_null(v))
            continue;
        if (!sampling_ok(i, v)) {
            snprintf(err, errcap, "%s: '%s' has the wrong type for %s", what, name,
                     sampling_keys[i].key);
            return GK_E_FORMAT;
        }
        if (!m->sampling && !(m->sampling = json_object()))
            return GK_E_NOMEM;
        if (json_object_set(m->sampling, sampling_keys[i].key, v) != 0)
            return GK_E_NOMEM;
    }
    return GK_OK;
}

static gk_status write_sampling(const fmt_hfmeta *m, fmt_gguf_writer *w) {
    gk_status st = GK_OK;
    for (size_t i = 0; st == GK_OK && m->sampling && i < N_SAMPLING; i++) {
        const json_t *v = json_object_get(m->sampling, sampling_keys[i].key);
        const char *key = sampling_keys[i].key;
        if (!v)
            continue;
        if (sampling_keys[i].type == 's')
            st = fmt_gguf_writer_add_str(w, key, json_string_value(v), json_string_length(v));
        else if (sampling_keys[i].type == 'i')
            st = fmt_gguf_writer_add_i32(
                w, key, json_is_boolean(v) ? json_is_true(v) : (int32_t)json_integer_value(v));
        else
            st = fmt_gguf_writer_add_f32(
                w, key, json_is_boolean(v) ? (float)json_is_true(v) : (float)json_number_value(v));
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                    */
/* ------------------------------------------------------------------------ */

static const struct {
    const char *key;
    size_t off;
} str_fields[] = {
    {"general.name", offsetof(fmt_hfmeta, name)},
    {"general.author", offsetof(fmt_hfmeta, author)},
    {"general.version", offsetof(fmt_hfmeta, version)},
    {"general.organization", offsetof(fmt_hfmeta, organization)},
    {"general.finetune", offsetof(fmt_hfmeta, finetune)},
    {"general.basename", offsetof(fmt_hfmeta, basename)},
    {"general.description", offsetof(fmt_hfmeta, description)},
    {"general.quantized_by", offsetof(fmt_hfmeta, quantized_by)},
    {"general.size_label", offsetof(fmt_hfmeta, size_label)},
    {"general.license", offsetof(fmt_hfmeta, license)},
    {"general.license.name", offsetof(fmt_hfmeta, license_name)},
    {"general.license.link", offsetof(fmt_hfmeta, license_link)},
    {"general.url", offsetof(fmt_hfmeta, url)},
    {"general.doi", offsetof(fmt_hfmeta, doi)},
    {"general.uuid", offsetof(fmt_hfmeta, uuid)},
    {"general.repo_url", offsetof(fmt_hfmeta, repo_url)},
    {"general.source.url", offsetof(fmt_hfmeta, source_url)},
    {"general.source.doi", offsetof(fmt_hfmeta, source_doi)},
    {"general.source.uuid", offsetof(fmt_hfmeta, source_uuid)},
    {"general.source.repo_url", offsetof(fmt_hfmeta, source_repo_url)},
};
#define N_STR_FIELDS (sizeof str_fields / sizeof str_fields[0])

static char **field(fmt_hfmeta *m, size_t i) {
    return (char **)((char *)m + str_fields[i].off);
}

static gk_status apply_override(fmt_hfmeta *m, const char *path, char *err, size_t errcap) {
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    if (!o) {
        snprintf(err, errcap, "%s: %s (line %d column %d)", path, je.text, je.line, je.column);
        return GK_E_FORMAT;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        snprintf(err, errcap, "%s: not a JSON object", path);
        return GK_E_FORMAT;
    }
    for (size_t i = 0; i < N_STR_FIELDS; i++) {
        json_t *v = json_object_get(o, str_fields[i].key);
        if (!v)
            continue;
        char *s = NULL;
        if (json_is_string(v)) {
            s = strdup(json_string_value(v));
        } else if (json_is_array(v) && strcmp(str_fields[i].key, "general.license") == 0) {
            size_t k;
            json_t *e;
            size_t len = 1;
            json_array_foreach(v, k, e) {
                if (!json_is_string(e))
                    goto bad;
                len += strlen(json_string_value(e)) + 1;
            }
            s = calloc(1, len);
            json_array_foreach(v, k, e) {
                if (s && k)
                    strcat(s, ",");
                if (s)
                    strcat(s, json_string_value(e));
            }
        } else {
        bad:
            json_decref(o);
            snprintf(err, errcap, "%s: '%s' must be a string", path, str_fields[i].key);
            return GK_E_FORMAT;
        }
        free(*field(m, i));
        *field(m, i) = s;
    }
    static const struct {
        const char *key;
        size_t off;
        int objects;
    } arrays[] = {
        {"general.base_models", offsetof(fmt_hfmeta, base_models), 1},
        {"general.datasets", offsetof(fmt_hfmeta, datasets), 1},
        {"general.tags", offsetof(fmt_hfmeta, tags), 0},
        {"general.languages", offsetof(fmt_hfmeta, languages), 0},
    };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        json_t *v = json_object_get(o, arrays[i].key);
        if (!v)
            continue;
        size_t k;
        json_t *e;
        int ok = json_is_array(v);
        json_array_foreach(v, k, e) {
            if (arrays[i].objects ? !json_is_object(e) : !json_is_string(e))
                ok = 0;
        }
        if (!ok) {
            json_decref(o);
            snprintf(err, errcap, "%s: '%s' must be an array of %s", path, arrays[i].key,
                     arrays[i].objects ? "objects" : "strings");
            return GK_E_FORMAT;
        }
        json_t **slot = (json_t **)((char *)m + arrays[i].off);
        json_decref(*slot);
        *slot = json_incref(v);
    }
    gk_status st = load_sampling(m, o, 1, path, err, errcap);
    json_decref(o);
    return st;
}

gk_status fmt_hfmeta_load(fmt_hfmeta *m, fmt_hfdir *d, const char *override_path,
                          const char *model_name, int64_t total_params, char *err, size_t errcap) {
    memset(m, 0, sizeof *m);
    gk_status st = load_sampling(m, fmt_hfdir_json(d, FMT_HF_GENERATION_CONFIG, NULL, NULL, 0), 0,
                                 "generation_config.json", err, errcap);
    if (st != GK_OK)
        return st;
    json_t *card = load_model_card(d);
    if (card)
        apply_card(m, card, total_params);
    json_decref(card);
    const json_t *cfg = fmt_hfdir_json(d, FMT_HF_CONFIG, NULL, NULL, 0);
    const char *nop = fmt_hf_get_str(cfg, "_name_or_path");
    if (nop) {
        int slashes = 0;
        for (const char *q = nop; *q; q++)
            slashes += *q == '/';
        if (slashes <= 1)
            apply_id(m, nop, total_params);
    }
    /* Path(dir).name */
    const char *path = fmt_hfdir_path(d);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strcmp(base, ".") == 0)
        base = "";
    apply_id(m, base, total_params);

    if (override_path && (st = apply_override(m, override_path, err, errcap)) != GK_OK)
        return st;
    if (model_name) {
        free(m->name);
        m->name = strdup(model_name);
    }
    if (!m->name)
        m->name = strdup(base);
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                    */
/* ------------------------------------------------------------------------ */

/* add_string skips empty strings, as gguf-py does. */
static gk_status add_str(fmt_gguf_writer *w, const char *key, const char *v) {
    if (!v || !*v)
        return GK_OK;
    return fmt_gguf_writer_add_str(w, key, v, strlen(v));
}

static gk_status add_str_array(fmt_gguf_writer *w, const char *key, const json_t *arr) {
    size_t n = json_array_size(arr);
    if (n == 0)
        return GK_OK;
    const char **v = malloc(n * sizeof *v);
    if (!v)
        return GK_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(arr, i));
    gk_status st = fmt_gguf_writer_add_str_array(w, key, v, NULL, n);
    free(v);
    return st;
}

static gk_status write_sources(fmt_gguf_writer *w, const char *what, const json_t *arr) {
    static const char *const fields[] = {"name", "author", "version", "organization", "description",
                                         "url",  "doi",    "uuid",    "repo_url"};
    char key[128];
    snprintf(key, sizeof key, "general.%s.count", what);
    gk_status st = fmt_gguf_writer_add_u32(w, key, (uint32_t)json_array_size(arr));
    for (size_t i = 0; st == GK_OK && i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        for (size_t f = 0; st == GK_OK && f < sizeof fields / sizeof fields[0]; f++) {
            const char *v = fmt_hf_get_str(e, fields[f]);
            snprintf(key, sizeof key, "general.%s.%zu.%s", what, i, fields[f]);
            st = add_str(w, key, v);
        }
    }
    return st;
}

gk_status fmt_hfmeta_write(const fmt_hfmeta *m, fmt_gguf_writer *w) {
    gk_status st = write_sampling(m, w);
    /* str_fields is in set_gguf_meta_model's order */
    for (size_t i = 0; st == GK_OK && i < N_STR_FIELDS; i++)
        st = add_str(w, str_fields[i].key, *field((fmt_hfmeta *)m, i));
    if (st == GK_OK && m->base_models)
        st = write_sources(w, "base_model", m->base_models);
    if (st == GK_OK && m->datasets)
        st = write_sources(w, "dataset", m->datasets);
    if (st == GK_OK && m->tags)
        st = add_str_array(w, "general.tags", m->tags);
    if (st == GK_OK && m->languages)
        st = add_str_array(w, "general.languages", m->languages);
    return st;
}

void fmt_hfmeta_free(fmt_hfmeta *m) {
    for (size_t i = 0; i < N_STR_FIELDS; i++)
        free(*field(m, i));
    json_decref(m->base_models);
    json_decref(m->datasets);
    json_decref(m->tags);
    json_decref(m->languages);
    json_decref(m->sampling);
    memset(m, 0, sizeof *m);
}
