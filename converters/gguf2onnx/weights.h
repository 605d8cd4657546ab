/*
 * weights.h -- gguf2onnx's weight mapping: a GGUF tensor becomes
 * MatMulNBits (exact block mapping, or int4/int8 quantization), Gather /
 * GatherBlockQuantized, or a float MatMul, streamed into the ONNX writer.
 */
#ifndef CONVERTERS_GGUF2ONNX_WEIGHTS_H
#define CONVERTERS_GGUF2ONNX_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "formats/onnx.h"
#include "formats/io.h"
#include "formats/source.h"
#include "ggufkit.h"

typedef enum { OX_W_AUTO = 0, OX_W_F32, OX_W_F16, OX_W_INT4, OX_W_INT8 } ox_weights_mode;

/* The mapping context: one per conversion. */
typedef struct {
    ox_graph *g;
    const fmt_src *src; /* the input's tensors; "tensor ti" below is record ti */
    ox_weights_mode mode;
    int accuracy_level; /* MatMulNBits accuracy_level; -1 = default (0: exact f32 math) */
    json_t *report;     /* array of {tensor, ggml_type, onnx, ...}; owned by the caller */
    void (*log)(const char *line); /* per-tensor line, or NULL */
    uint64_t bytes_in;             /* GGUF tensor bytes consumed */
    fmt_progress *progress;        /* borrowed, or NULL: bytes_in and tensors done */
    uint64_t n_done;               /* tensors consumed */

    char err[512];
} ox_wctx;

/* y = x @ W^T for tensor ti ([N outputs, K inputs], row-major) as
 * MatMulNBits (exact block mapping, or int4/int8 quantization) or a float
 * MatMul; optional bias tensor bias_ti (-1 for none). base names the
 * initializers. Writes the data, adds the nodes, out is the result name. */
gk_status ox_linear(ox_wctx *w, const char *x, int64_t ti, int64_t bias_ti, const char *base,
                    const char *out);

/* Packed linears (genai QKV): the rows of tensors ti[0..n) one after
 * another as one weight, biases likewise (bias_ti all -1 or all present).
 * ox_can_pack says whether the tensors share type and row length. */
#define OX_MAX_PACK 4
int ox_can_pack(ox_wctx *w, const int64_t *ti, const int64_t *bias_ti, int n);
/* The experts of n 3-D tensors ti[0..n) ([n_expert, rows, K] each, any
 * type) dequantized into one f32 initializer [n_expert, n * rows, K]: per
 * expert, row r of each tensor in turn (n = 2: interleaved, as
 * com.microsoft MoE's fused SwiGLU wants its fc1). */
gk_status ox_experts_f32(ox_wctx *w, const int64_t *ti, int n, int64_t n_expert, const char *name);

/* The same experts as com.microsoft QMoE blocks, exactly (no
 * re-quantization): ox_experts_nbits says whether tensors ti[0..n) all are
 * Q4_0 or all Q8_0 (in --weights auto) and returns the bits (4, 8; else 0);
 * ox_experts_blocks writes the unsigned codes [n_expert, n * rows, K *
 * bits / 8] (default zero points 8 and 128, as MatMulNBits) and the f32
 * block scales [n_expert, n * rows, K / 32], rows interleaved as above. */
int ox_experts_nbits(ox_wctx *w, const int64_t *ti, int n);
gk_status ox_experts_blocks(ox_wctx *w, const int64_t *ti, int n, int64_t n_expert,
                            const char *codes, const char *scales);

gk_status ox_linear_packed(ox_wctx *w, const char *x, const int64_t *ti, const int64_t *bias_ti,
                           int n, const char *base, const char *out);

/* out = embedding rows of tensor ti [V rows of E] looked up by ids
 * (Gather, or GatherBlockQuantized for Q4_0/Q8_0 under --weights auto). */
gk_status ox_embedding(ox_wctx *w, const char *ids, int64_t ti, const char *base, const char *out);

/* A 1-D tensor (norm weight, bias) dequantized to an f32 initializer name. */
gk_status ox_vector_f32(ox_wctx *w, int64_t ti, const char *name);

/* "auto", "f32", ... -> mode; -1 if unknown. */
int ox_weights_mode_parse(const char *s);

#endif
