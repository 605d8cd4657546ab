/*
 * adapter.c -- gguf-inspect's view of a GGUF LoRA adapter (general.type
 * "adapter", as llama.cpp's convert_lora_to_gguf.py and hf2gguf --lora
 * write it): the base architecture, adapter.lora.alpha, and each
 * W.lora_a / W.lora_b pair with its rank (lora_a's ne[1], lora_b's ne[0]),
 * in and out sizes, expert count for 3-D stacks, and alpha / rank, the
 * scale llama.cpp applies; the target modules are the pairs' weight names
 * without "blk.N." and ".weight". From the header only.
 */
#include <stdlib.h>
#include <string.h>

#include "inspect_internal.h"

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The module of a weight name: "blk.3.attn_q.weight" -> "attn_q". */
static char *module_of(const char *w) {
    const char *p = w;
    if (!strncmp(p, "blk.", 4)) {
        const char *dot = strchr(p + 4, '.');
        p = dot ? dot + 1 : p;
    }
    size_t n = strlen(p);
    if (n > 7 && !strcmp(p + n - 7, ".weight"))
        n -= 7;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int64_t find_tensor(const insp_model *m, const char *name) {
    for (uint64_t i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name))
            return (int64_t)i;
    return -1;
}

gk_status insp_adapter_read(const insp_model *m, insp_adapter *a) {
    memset(a, 0, sizeof *a);
    const fmt_gguf *g = m->is_safetensors ? NULL : m->shards[0].gguf;
    fmt_str s;
    if (!g || !fmt_gguf_get_str(g, "general.type", &s) || s.len != 7 ||
        memcmp(s.ptr, "adapter", 7) != 0)
        return GK_OK;
    a->is_adapter = 1;
    if (fmt_gguf_get_str(g, "adapter.type", &s))
        a->type = s;
    if (fmt_gguf_get_str(g, "general.architecture", &s))
        a->arch = s;
    a->has_alpha = fmt_gguf_get_f64(g, "adapter.lora.alpha", &a->alpha);
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, "adapter.alora.invocation_tokens");
    if (kv && kv->value.type == FMT_GGUF_ARRAY)
        a->n_invocation_tokens = kv->value.v.arr.n;
    a->pairs = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *a->pairs);
    a->modules = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *a->modules);
    if (!a->pairs || !a->modules)
        return GK_E_NOMEM;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const insp_tensor *ta = &m->tensors[i];
        if (!ends_with(ta->name, ".lora_a")) {
            a->unpaired += !ends_with(ta->name, ".lora_b");
            continue;
        }
        size_t n = strlen(ta->name) - 7;
        char bname[600];
        if (n + 8 > sizeof bname)
            continue;
        memcpy(bname, ta->name, n);
        memcpy(bname + n, ".lora_b", 8);
        int64_t j = find_tensor(m, bname);
        const insp_tensor *tb = j >= 0 ? &m->tensors[j] : NULL;
        insp_lora_pair *p = &a->pairs[a->n_pairs];
        if (!(p->weight = malloc(n + 1)))
            return GK_E_NOMEM;
        memcpy(p->weight, ta->name, n);
        p->weight[n] = '\0';
        a->n_pairs++;
        p->rank = ta->n_dims >= 2 ? ta->ne[1] : 0;
        p->in = ta->ne[0];
        p->out = tb && tb->n_dims >= 2 ? tb->ne[1] : -1;
        p->experts = ta->n_dims == 3 ? ta->ne[2] : 0;
        p->consistent = tb && tb->ne[0] == p->rank && tb->n_dims == ta->n_dims &&
                        (ta->n_dims < 3 || tb->ne[2] == ta->ne[2]);
        if (p->rank > 0 && (a->rank_min == 0 || p->rank < a->rank_min))
            a->rank_min = p->rank;
        if (p->rank > a->rank_max)
            a->rank_max = p->rank;
        char *mod = module_of(p->weight);
        if (!mod)
            return GK_E_NOMEM;
        int dup = 0;
        for (size_t k = 0; k < a->n_modules && !dup; k++)
            dup = !strcmp(a->modules[k], mod);
        if (dup)
            free(mod);
        else
            a->modules[a->n_modules++] = mod;
        if (!strncmp(p->weight, "blk.", 4)) {
            int64_t b = strtoll(p->weight + 4, NULL, 10);
            if (b + 1 > a->n_blocks)
                a->n_blocks = b + 1;
        }
    }
    qsort(a->modules, a->n_modules, sizeof *a->modules, cmp_str);
    return GK_OK;
}

void insp_adapter_free(insp_adapter *a) {
    for (size_t i = 0; i < a->n_pairs; i++)
        free(a->pairs[i].weight);
    for (size_t i = 0; i < a->n_modules; i++)
        free(a->modules[i]);
    free(a->pairs);
    free(a->modules);
    memset(a, 0, sizeof *a);
}
