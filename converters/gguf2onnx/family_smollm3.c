/*
 * family_smollm3.c -- gguf2onnx's smollm3 decoder (SmolLM3). Facts from
 * llama.cpp ec562eb src/models/smollm3.cpp: the llama block (rope over
 * pairs, permuted Q/K rows), but blocks 3, 7, 11, ... (every 4th:
 * n_no_rope_layer_step, hard-coded, the GGUF carries no key for it) do not
 * rotate q and k (NoPE).
 */
#include "converters/gguf2onnx/decoder_internal.h"

static gk_status smollm3_hparams(fmt_gguf *g, const fmt_src *src, ox_hparams *hp, char *err,
                                 size_t errcap) {
    (void)g, (void)src, (void)err, (void)errcap;
    hp->nope_period = 4;
    return GK_OK;
}

const ox_family ox_family_smollm3 = {"smollm3", &cv_arch_smollm3, 0, smollm3_hparams, NULL, 0};
