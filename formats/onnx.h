/*
 * onnx.h -- an ONNX ModelProto writer over the protobuf-c code generated
 * from Debian's onnx.proto: nodes, graph inputs and outputs, attributes,
 * initializers inline or streamed into one external data file.
 *
 * Error model: node/attribute helpers never fail visibly; an allocation
 * failure makes the graph "failed" (sticky, like ferror) and
 * ox_graph_save() returns GK_E_NOMEM. Functions that do I/O return gk_status
 * and leave a detail message in ox_graph_errmsg().
 */
#ifndef FORMATS_ONNX_H
#define FORMATS_ONNX_H

#include <stddef.h>
#include <stdint.h>

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
void ox_attr_str(ox_graph *g, ox_node *n, const char *name, const char *v); /* copied */

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

#endif
