/*
 * arch_granite.c -- granite (GraniteForCausalLM). Upstream's GraniteModel
 * (convert_hf_to_gguf.py ec562eb) is LlamaModel with: head_dim popped from
 * the config (no attention.key_length / value_length; rope.dimension_count
 * is hidden_size / num_attention_heads), the four multipliers copied as
 * float32 keys after rope.dimension_count, and no rope_freqs tensor in its
 * tensor set (a llama3 rope type fails there).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "converters/hf2gguf/arch.h"

#include "formats/hfdir.h"

/* config key -> GGUF key suffix, in upstream's write order */
static const char *const multipliers[][2] = {
    {"attention_multiplier", "attention.scale"},
    {"embedding_multiplier", "embedding_scale"},
    {"residual_multiplier", "residual_scale"},
    {"logits_scaling", "logit_scale"},
};

/* Upstream writes a multiplier only when it is truthy (absent, null, 0 and
 * false give no key). A non-finite or non-numeric value is refused: the
 * model would not evaluate. */
static gk_status add_multiplier(fmt_gguf_writer *w, const char *arch, const json_t *config,
                                const char *name, const char *suffix, char *err, size_t errcap) {
    const json_t *v = json_object_get(config, name);
    if (!v || json_is_null(v) || json_is_false(v))
        return GK_OK;
    const char *const keys[] = {name, NULL};
    double x;
    if (!fmt_hf_get_num(config, keys, &x) || !isfinite(x) || !isfinite((float)x)) {
        snprintf(err, errcap, "config.json: '%s' must be a finite number", name);
        return GK_E_FORMAT;
    }
    if (x == 0)
        return GK_OK;
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return fmt_gguf_writer_add_f32(w, key, (float)x);
}

static gk_status granite_hparams(fmt_gguf_writer *w, const char *arch, const json_t *config,
                                 char *err, size_t errcap) {
    static const char *const k_vocab[] = {"vocab_size", NULL};
    char key[128];
    long long v, rope_dim;
    if (!fmt_hf_get_int(config, k_vocab, &v) || v <= 0 || v > UINT32_MAX) {
        snprintf(err, errcap, "config.json: 'vocab_size' missing or invalid");
        return GK_E_FORMAT;
    }
    snprintf(key, sizeof key, "%s.vocab_size", arch);
    gk_status st = fmt_gguf_writer_add_u32(w, key, (uint32_t)v);
    if (st != GK_OK || (st = cv_llama_head_dim(config, 0, &rope_dim, err, errcap)) != GK_OK)
        return st;
    snprintf(key, sizeof key, "%s.rope.dimension_count", arch);
    if ((st = fmt_gguf_writer_add_u32(w, key, (uint32_t)rope_dim)) != GK_OK)
        return st;
    for (size_t i = 0; i < sizeof multipliers / sizeof multipliers[0]; i++)
        if ((st = add_multiplier(w, arch, config, multipliers[i][0], multipliers[i][1], err,
                                 errcap)) != GK_OK)
            return st;
    return GK_OK;
}

/* LlamaModel.generate_extra_tensors would make rope_freqs, which granite's
 * tensor set lacks: upstream raises, so do we. */
static gk_status granite_generate(const json_t *config, cv_gen_tensor *out, size_t cap, size_t *n,
                                  char *err, size_t errcap) {
    *n = 0;
    json_t *rp = fmt_hf_rope_parameters(config);
    if (!rp)
        return GK_E_NOMEM;
    const json_t *params = json_object_get(rp, "full_attention");
    const char *rt = fmt_hf_get_str(params ? params : rp, "rope_type");
    int llama3 = rt && strcasecmp(rt, "llama3") == 0;
    json_decref(rp);
    (void)out;
    (void)cap;
    if (!llama3)
        return GK_OK;
    snprintf(err, errcap,
             "config.json: 'rope_scaling' type llama3 needs rope_freqs, which granite "
             "does not have");
    return GK_E_FORMAT;
}

static const char *const granite_classes[] = {"GraniteForCausalLM", NULL};

const cv_arch cv_arch_granite = {
    .name = "granite",
    .hf_classes = granite_classes,
    .tensors = cv_llama_tensors,
    .n_tensors = CV_LLAMA_N_TENSORS,
    .vocab = CV_VOCAB_SPM_THEN_BPE,
    .extra_hparams = granite_hparams,
    .generate = granite_generate,
    .llama_vocab = 1,
    .ignores_head_dim = 1,
};
