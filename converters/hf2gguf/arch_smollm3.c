/*
 * arch_smollm3.c -- smollm3 (SmolLM3ForCausalLM). Upstream's SmolLM3Model
 * (convert_hf_to_gguf.py ec562eb) is LlamaModel with another architecture
 * name: same tensors, Q/K permutation, keys, Llama 3 rope_freqs and llama
 * vocabulary. The NoPE layer keys (no_rope_layers, no_rope_layer_interval,
 * layer_types) are not written: llama.cpp hard-codes every 4th layer.
 */
#include "converters/hf2gguf/arch.h"

static const char *const smollm3_classes[] = {"SmolLM3ForCausalLM", NULL};

const cv_arch cv_arch_smollm3 = {
    .name = "smollm3",
    .hf_classes = smollm3_classes,
    .tensors = cv_llama_tensors,
    .n_tensors = CV_LLAMA_N_TENSORS,
    .vocab = CV_VOCAB_SPM_THEN_BPE,
    .extra_hparams = cv_llama_hparams,
    .generate = cv_llama_generate,
    .llama_vocab = 1,
};
