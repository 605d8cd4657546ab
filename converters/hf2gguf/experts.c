/*
 * experts.c -- rule patterns, and the gathering of per-expert tensors into
 * stacked records (formats/stack) block by block.
 */
#include "converters/hf2gguf/experts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/hfdir.h"
#include "formats/stack.h"

/* ------------------------------------------------------------------------ */
/* Patterns                                                                   */
/* ------------------------------------------------------------------------ */

int cv_pattern_match(const char *pat, const char *name, long long *bid, long long *xid) {
    *bid = -1;
    *xid = -1;
    while (*pat) {
        if (*pat == '#' || *pat == '*') {
            if (*name < '0' || *name > '9')
                return 0;
            long long v = 0;
            while (*name >= '0' && *name <= '9') {
                if (v > 1000000)
                    return 0;
                v = v * 10 + (*name++ - '0');
            }
            *(*pat == '#' ? bid : xid) = v;
            pat++;
        } else if (*pat++ != *name++) {
            return 0;
        }
    }
    return *name == '\0';
}

void cv_pattern_fill(const char *pat, long long bid, long long xid, char *out, size_t cap) {
    size_t o = 0;
    for (; *pat && o + 1 < cap; pat++) {
        if (*pat == '#' || (*pat == '*' && xid >= 0))
            o += (size_t)snprintf(out + o, cap - o, "%lld", *pat == '#' ? bid : xid);
        else
            out[o++] = *pat;
    }
    out[o < cap ? o : cap - 1] = '\0';
}

int cv_rule_is_expert(const cv_tensor_rule *r) {
    return strchr(r->hf, '*') != NULL;
}

int cv_arch_has_experts(const cv_arch *a) {
    for (size_t r = 0; r < a->n_tensors; r++)
        if (cv_rule_is_expert(&a->tensors[r]))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* config.json                                                                */
/* ------------------------------------------------------------------------ */

/* The first key of keys present in cfg, or NULL. */
static const char *present(const json_t *cfg, const char *const *keys) {
    for (; *keys; keys++)
        if (json_object_get(cfg, *keys))
            return *keys;
    return NULL;
}

gk_status cv_experts_config(const json_t *cfg, long long *n_expert, const char **key, char *err,
                            size_t errcap) {
    static const char *const k_exp[] = {"num_local_experts", "num_experts", "n_routed_experts",
                                        NULL}; /* the last: deepseek2 */
    static const char *const k_used[] = {"num_experts_per_tok", "num_experts_per_token",
                                         "top_k_experts", NULL};
    long long used;
    *key = present(cfg, k_exp);
    if (!*key || !fmt_hf_get_int(cfg, k_exp, n_expert)) {
        snprintf(
            err, errcap,
            "config.json: need num_local_experts, num_experts or n_routed_experts (a model with "
            "experts)");
        return GK_E_FORMAT;
    }
    if (*n_expert < 1 || *n_expert > CV_MAX_EXPERTS) {
        snprintf(err, errcap, "config.json: '%s' = %lld is out of range (1..%d)", *key, *n_expert,
                 CV_MAX_EXPERTS);
        return GK_E_FORMAT;
    }
    const char *ukey = present(cfg, k_used);
    if (ukey && fmt_hf_get_int(cfg, k_used, &used) && (used < 1 || used > *n_expert)) {
        snprintf(err, errcap, "config.json: '%s' = %lld is %s the number of experts (%s = %lld)",
                 ukey, used, used < 1 ? "out of range for" : "greater than", *key, *n_expert);
        return GK_E_FORMAT;
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Gathering                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    size_t rule;
    long long xid;
    const fmt_src_tensor *t;
} item;

typedef struct {
    item *items;
    size_t n, cap;
    const fmt_src_tensor **stacked; /* per expert rule, once complete */
} block;

struct cv_experts {
    const cv_arch *a;
    long long n_layer, n_expert;
    const char *key;
    size_t *rules; /* table indices of the expert rules, in table order */
    size_t n_rules;
    block *blocks; /* n_layer */
    fmt_stack *stack;
};

cv_experts *cv_experts_new(const cv_arch *a, long long n_layer, long long n_expert,
                           const char *key) {
    cv_experts *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->a = a;
    e->n_layer = n_layer;
    e->n_expert = n_expert;
    e->key = key;
    e->rules = calloc(a->n_tensors ? a->n_tensors : 1, sizeof *e->rules);
    e->blocks = calloc((size_t)(n_layer > 0 ? n_layer : 1), sizeof *e->blocks);
    e->stack = fmt_stack_new();
    if (!e->rules || !e->blocks || !e->stack) {
        cv_experts_free(e);
        return NULL;
    }
    for (size_t r = 0; r < a->n_tensors; r++)
        if (cv_rule_is_expert(&a->tensors[r]))
            e->rules[e->n_rules++] = r;
    return e;
}

static int item_cmp(const void *x, const void *y) {
    const item *a = x, *b = y;
    if (a->rule != b->rule)
        return a->rule < b->rule ? -1 : 1;
    return (a->xid > b->xid) - (a->xid < b->xid);
}

/* Every expert of every rule is in b (n_rules * n_expert items): sort them,
 * refuse a duplicate, stack each rule's run. */
static gk_status complete_block(cv_experts *e, block *b, long long bid, char *err, size_t errcap) {
    qsort(b->items, b->n, sizeof *b->items, item_cmp);
    for (size_t i = 1; i < b->n; i++)
        if (item_cmp(&b->items[i - 1], &b->items[i]) == 0) {
            snprintf(err, errcap, "%s: duplicate tensor '%s' (also in an earlier shard)",
                     b->items[i].t->file, b->items[i].t->name);
            return GK_E_FORMAT;
        }
    size_t ne = (size_t)e->n_expert;
    const fmt_src_tensor **parts = malloc(ne * sizeof *parts);
    if (!(b->stacked = calloc(e->n_rules, sizeof *b->stacked)) || !parts) {
        free(parts);
        snprintf(err, errcap, "out of memory");
        return GK_E_NOMEM;
    }
    gk_status st = GK_OK;
    for (size_t k = 0; st == GK_OK && k < e->n_rules; k++) {
        char name[512];
        for (size_t x = 0; x < ne; x++)
            parts[x] = b->items[k * ne + x].t;
        cv_pattern_fill(e->a->tensors[e->rules[k]].hf, bid, -1, name, sizeof name);
        b->stacked[k] = fmt_stack_add(e->stack, name, parts, ne, &st, err, errcap);
    }
    free(parts);
    return st;
}

gk_status cv_experts_add(cv_experts *e, size_t rule, long long bid, long long xid,
                         const fmt_src_tensor *t, int *complete, char *err, size_t errcap) {
    *complete = 0;
    if (xid >= e->n_expert) {
        snprintf(err, errcap, "%s: tensor '%s' is expert %lld but config.json has %s = %lld",
                 t->file, t->name, xid, e->key, e->n_expert);
        return GK_E_FORMAT;
    }
    block *b = &e->blocks[bid];
    if (b->stacked) {
        snprintf(err, errcap, "%s: duplicate tensor '%s' (also in an earlier shard)", t->file,
                 t->name);
        return GK_E_FORMAT;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        item *ni = realloc(b->items, cap * sizeof *ni);
        if (!ni) {
            snprintf(err, errcap, "out of memory");
            return GK_E_NOMEM;
        }
        b->items = ni;
        b->cap = cap;
    }
    b->items[b->n++] = (item){rule, xid, t};
    if (b->n < e->n_rules * (size_t)e->n_expert)
        return GK_OK;
    gk_status st = complete_block(e, b, bid, err, errcap);
    *complete = st == GK_OK;
    return st;
}

const fmt_src_tensor *cv_experts_stacked(const cv_experts *e, size_t rule, long long bid) {
    if (bid < 0 || bid >= e->n_layer || !e->blocks[bid].stacked)
        return NULL;
    for (size_t k = 0; k < e->n_rules; k++)
        if (e->rules[k] == rule)
            return e->blocks[bid].stacked[k];
    return NULL;
}

size_t cv_experts_in_block(const cv_experts *e, long long bid) {
    return bid >= 0 && bid < e->n_layer ? e->blocks[bid].n : 0;
}

gk_status cv_experts_missing(const cv_experts *e, size_t rule, long long bid, const char *dir,
                             char *err, size_t errcap) {
    const block *b = &e->blocks[bid];
    unsigned char *have = calloc((size_t)e->n_expert, 1);
    long long x = 0;
    if (!have) {
        snprintf(err, errcap, "out of memory");
        return GK_E_NOMEM;
    }
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].rule == rule)
            have[b->items[i].xid] = 1;
    while (x < e->n_expert && have[x])
        x++;
    free(have);
    if (x == e->n_expert)
        return GK_OK; /* this rule's experts are all there */
    char name[512];
    cv_pattern_fill(e->a->tensors[rule].hf, bid, x, name, sizeof name);
    snprintf(err, errcap, "%s: missing tensor '%s' (config.json has %s = %lld)", dir, name, e->key,
             e->n_expert);
    return GK_E_FORMAT;
}

void cv_experts_free(cv_experts *e) {
    if (!e)
        return;
    for (long long b = 0; e->blocks && b < e->n_layer; b++) {
        free(e->blocks[b].items);
        free(e->blocks[b].stacked);
    }
    free(e->blocks);
    free(e->rules);
    fmt_stack_free(e->stack);
    free(e);
}
