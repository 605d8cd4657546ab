/*
 * onnx_graph.h -- gguf2onnx's internals: an ONNX ModelProto builder over the
 * protobuf-c code generated from Debian's onnx.proto (nodes, graph I/O,
 * initializers streamed into one external data file), the GGUF weight
 * mapping (MatMulNBits / Gather / float MatMul), the decoder graph and the
 * side files (genai_config.json, tokenizer.json, tokenizer_config.json).
 * Used only by converters/gguf2onnx.c and the onnx_*.c files.
 *
 * Error model of the builder: node/attribute helpers never fail visibly; an
 * allocation failure makes the graph "failed" (sticky, like ferror) and
 * ox_graph_save() returns GK_E_NOMEM. Functions that do I/O return gk_status
 * and leave a detail message in ox_graph_errmsg().
 */
#ifndef CONVERTERS_ONNX_GRAPH_H
#define CONVERTERS_ONNX_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../formats/gguf.h"
#include "../ggufkit.h"

/* ONNX TensorProto.DataType values we emit (onnx.proto numbering). */
enum {
    OX_FLOAT = 1,
    OX_UINT8 = 2,
    OX_INT32 = 6,
    OX_INT64 = 7,
    OX_BOOL = 9,
    OX_FLOAT16 = 10,
};

/* ------------------------------------------------------------------------ */
/* Graph builder (onnx_graph.c)                                               */
/* ------------------------------------------------------------------------ */

typedef struct ox_graph ox_graph;
typedef struct ox_node ox_node;

/* Create a builder whose external initializers go to data_path (created,
 * truncated); data_name is the location string written into the model
 * (the file name relative to the model, e.g. "model.onnx.data"). NULL on
 * failure with *st set and a message in err[errcap]. */
ox_graph *ox_graph_create(const char *data_path, const char *data_name, gk_status *st, char *err,
                          size_t errcap);

/* Free everything (closes the data file without removing it). Accepts NULL. */
void ox_graph_free(ox_graph *g);

/* Detail of the last failure. Never NULL. */
const char *ox_graph_errmsg(const ox_graph *g);

/* A name made from a printf format, owned by the graph until free. Returns
 * "" after an allocation failure (the graph is then failed). */
const char *ox_name(ox_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Declare a graph input/output of tensor type dtype and rank n. Each dims[i]
 * is a decimal number (fixed size) or a symbolic name ("batch_size"). */
void ox_input(ox_graph *g, const char *name, int dtype, int n, const char *const *dims);
void ox_output(ox_graph *g, const char *name, int dtype, int n, const char *const *dims);

/* Append a node. ins/outs are copied; an empty string is an omitted
 * optional input/output. domain NULL or "" is the ONNX domain. The node is
 * named after its first output. Returns a handle for attributes (valid
 * until free), NULL after an allocation failure (attribute calls accept
 * NULL). */
ox_node *ox_add_node(ox_graph *g, const char *op, const char *domain, int n_in,
                     const char *const *ins, int n_out, const char *const *outs);

/* Attributes of a node. */
void ox_attr_int(ox_graph *g, ox_node *n, const char *name, int64_t v);
void ox_attr_float(ox_graph *g, ox_node *n, const char *name, float v);
void ox_attr_ints(ox_graph *g, ox_node *n, const char *name, int n_v, const int64_t *v);

/* A small initializer stored inside the model (raw_data, copied). */
void ox_init_inline(ox_graph *g, const char *name, int dtype, int n_dims, const int64_t *dims,
                    const void *data, size_t nbytes);

/* A large initializer in the external data file, written as a stream:
 * begin (pads the file to the alignment), any number of writes, end
 * (checks that exactly nbytes were written). One at a time. */
gk_status ox_init_begin(ox_graph *g, const char *name, int dtype, int n_dims, const int64_t *dims);
gk_status ox_init_write(ox_graph *g, const void *data, size_t n);
gk_status ox_init_end(ox_graph *g);

/* Whole-buffer convenience: begin + write + end. */
gk_status ox_init_external(ox_graph *g, const char *name, int dtype, int n_dims,
                           const int64_t *dims, const void *data, size_t nbytes);

/* Bytes written to the external data file so far. */
uint64_t ox_graph_data_bytes(const ox_graph *g);

/* Opset imports: (domain, version) pairs, replacing the default
 * {"": 23, "com.microsoft": 1}. n <= 4. */
void ox_set_opsets(ox_graph *g, int n, const char *const *domains, const int64_t *versions);

/* Add a metadata_props entry (copied). */
void ox_metadata(ox_graph *g, const char *key, const char *value);

/* Flush and fsync the data file, serialize the ModelProto (ir_version 10,
 * producer "gguf2onnx") to model_path and fsync it. */
gk_status ox_graph_save(ox_graph *g, const char *model_path);

/* ------------------------------------------------------------------------ */
/* Weights (onnx_weights.c)                                                   */
/* ------------------------------------------------------------------------ */

typedef enum { OX_W_AUTO = 0, OX_W_F32, OX_W_F16, OX_W_INT4, OX_W_INT8 } ox_weights_mode;

/* The mapping context: one per conversion. */
typedef struct {
    ox_graph *g;
    fmt_gguf *gguf;
    ox_weights_mode mode;
    int accuracy_level; /* MatMulNBits accuracy_level; -1 = default (0: exact f32 math) */
    json_t *report;     /* array of {tensor, ggml_type, onnx, ...}; owned by the caller */
    void (*log)(const char *line); /* per-tensor line, or NULL */
    uint64_t bytes_in;             /* GGUF tensor bytes consumed */

    char err[512];
} ox_wctx;

/* y = x @ W^T for GGUF tensor ti (ne0 = K inputs, ne1 = N outputs) as
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
gk_status ox_linear_packed(ox_wctx *w, const char *x, const int64_t *ti, const int64_t *bias_ti,
                           int n, const char *base, const char *out);

/* out = embedding rows of GGUF tensor ti [V rows of E] looked up by ids
 * (Gather, or GatherBlockQuantized for Q4_0/Q8_0 under --weights auto). */
gk_status ox_embedding(ox_wctx *w, const char *ids, int64_t ti, const char *base, const char *out);

/* A 1-D tensor (norm weight, bias) dequantized to an f32 initializer name. */
gk_status ox_vector_f32(ox_wctx *w, int64_t ti, const char *name);

/* "auto", "f32", ... -> mode; -1 if unknown. */
int ox_weights_mode_parse(const char *s);

/* ------------------------------------------------------------------------ */
/* Decoder graph and side files (onnx_decoder.c, onnx_tokenizer.c)            */
/* ------------------------------------------------------------------------ */

typedef enum { OX_GRAPH_STANDARD = 0, OX_GRAPH_GENAI } ox_graph_kind;

/* Hyperparameters read from the GGUF. */
typedef struct {
    char arch[16]; /* llama, mistral, qwen2, qwen3 */
    int rope_neox; /* 1 for qwen2/qwen3 (rotate halves), 0 interleaved */
    int64_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx, rope_dim;
    double eps, rope_base, rope_scale; /* rope_scale = 1/linear factor */
    int has_rope_freqs;
    int64_t bos, eos, pad; /* -1 when absent */
} ox_hparams;

/* Read and validate the hparams and the tensor set (names from the
 * hf2gguf architecture tables, shapes against the hparams). GK_E_FORMAT /
 * GK_E_UNSUPPORTED with a message in err. */
gk_status ox_read_hparams(fmt_gguf *g, ox_hparams *hp, char *err, size_t errcap);

/* Build the whole decoder graph into w->g. */
typedef struct {
    ox_graph_kind kind;
    int kv_f16;
} ox_decoder_opts;
gk_status ox_build_decoder(ox_wctx *w, const ox_hparams *hp, const ox_decoder_opts *o);

/* genai_config.json content (new reference). */
json_t *ox_genai_config(const ox_hparams *hp, const ox_decoder_opts *o);

/* tokenizer.json and tokenizer_config.json rebuilt from tokenizer.ggml.*
 * (new references in *tok and *cfg). GK_E_UNSUPPORTED for tokenizer models
 * other than 'llama' (SentencePiece BPE) and 'gpt2' (byte-level BPE). */
gk_status ox_tokenizer_files(fmt_gguf *g, const ox_hparams *hp, json_t **tok, json_t **cfg,
                             char *err, size_t errcap);

#endif
