/*
 * onnx.c -- ONNX ModelProto writer. The graph lives in
 * protobuf-c structs whose strings and arrays come from one arena owned by
 * the builder; initializers above a few bytes stream into one external data
 * file at aligned offsets, so peak memory is the graph, never the weights.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "onnx.h"

/* Big initializers start on a page so ONNX Runtime can map them; small ones
 * only on a cache line, which keeps a model of many tiny tensors compact. */
#define ALIGN_BIG 4096
#define ALIGN_SMALL 64
#define BIG_BYTES 65536
#define MAX_ATTRS 16
#define MAX_OPSETS 4

struct ox_node {
    Onnx__NodeProto p;
};

typedef struct {
    void **v;
    size_t n, cap;
} ptrvec;

struct ox_graph {
    ptrvec arena; /* every allocation reachable from the protobuf structs */
    ptrvec nodes, inits, inputs, outputs, meta;
    const char *opset_domain[MAX_OPSETS];
    int64_t opset_version[MAX_OPSETS];
    int n_opsets;
    FILE *data;
    char *data_name;
    uint64_t data_off;
    Onnx__TensorProto *cur; /* initializer being streamed, or NULL */
    uint64_t cur_expect, cur_written;
    int failed; /* an allocation failed: the model cannot be saved */
    int broken; /* an initializer came out short: save refuses, err says which */
    char err[512];
};

/* ------------------------------------------------------------------------ */
/* Arena and vectors                                                          */
/* ------------------------------------------------------------------------ */

static int vec_push(ptrvec *v, void *p) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        void **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return 0;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = p;
    return 1;
}

static void *galloc(ox_graph *g, size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p || !vec_push(&g->arena, p)) {
        free(p);
        g->failed = 1;
        return NULL;
    }
    return p;
}

static char *gstrdup(ox_graph *g, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = galloc(g, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                   */
/* ------------------------------------------------------------------------ */

ox_graph *ox_graph_create(const char *data_path, const char *data_name, gk_status *st, char *err,
                          size_t errcap) {
    ox_graph *g = calloc(1, sizeof *g);
    if (!g) {
        *st = GK_E_NOMEM;
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    g->data = fopen(data_path, "wb");
    if (!g->data) {
        *st = GK_E_IO;
        snprintf(err, errcap, "%s: %s", data_path, strerror(errno));
        free(g);
        return NULL;
    }
    setvbuf(g->data, NULL, _IOFBF, 1 << 20);
    g->data_name = gstrdup(g, data_name);
    static const char *const dom[] = {"", "com.microsoft"};
    static const int64_t ver[] = {23, 1};
    ox_set_opsets(g, 2, dom, ver);
    if (g->failed) {
        *st = GK_E_NOMEM;
        snprintf(err, errcap, "out of memory");
        ox_graph_free(g);
        return NULL;
    }
    *st = GK_OK;
    return g;
}

void ox_graph_free(ox_graph *g) {
    if (!g)
        return;
    if (g->data)
        fclose(g->data);
    for (size_t i = 0; i < g->arena.n; i++)
        free(g->arena.v[i]);
    free(g->arena.v);
    free(g->nodes.v);
    free(g->inits.v);
    free(g->inputs.v);
    free(g->outputs.v);
    free(g->meta.v);
    free(g);
}

const char *ox_graph_errmsg(const ox_graph *g) {
    return g && g->err[0] ? g->err : "no error";
}

uint64_t ox_graph_data_bytes(const ox_graph *g) {
    return g->data_off;
}

const char *ox_name(ox_graph *g, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *p = gstrdup(g, buf);
    return p ? p : "";
}

void ox_set_opsets(ox_graph *g, int n, const char *const *domains, const int64_t *versions) {
    g->n_opsets = n < MAX_OPSETS ? n : MAX_OPSETS;
    for (int i = 0; i < g->n_opsets; i++) {
        g->opset_domain[i] = gstrdup(g, domains[i]);
        g->opset_version[i] = versions[i];
    }
}

void ox_metadata(ox_graph *g, const char *key, const char *value) {
    Onnx__StringStringEntryProto *e = galloc(g, sizeof *e);
    if (!e)
        return;
    onnx__string_string_entry_proto__init(e);
    e->key = gstrdup(g, key);
    e->value = gstrdup(g, value);
    if (!vec_push(&g->meta, e))
        g->failed = 1;
}

/* ------------------------------------------------------------------------ */
/* Graph inputs and outputs                                                   */
/* ------------------------------------------------------------------------ */

static Onnx__ValueInfoProto *value_info(ox_graph *g, const char *name, int dtype, int n,
                                        const char *const *dims) {
    Onnx__ValueInfoProto *vi = galloc(g, sizeof *vi);
    Onnx__TypeProto *tp = galloc(g, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = galloc(g, sizeof *tt);
    Onnx__TensorShapeProto *sh = galloc(g, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dv = galloc(g, (size_t)n * sizeof *dv);
    if (!vi || !tp || !tt || !sh || !dv)
        return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i < n; i++) {
        Onnx__TensorShapeProto__Dimension *d = galloc(g, sizeof *d);
        if (!d)
            return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        char *end;
        long long v = strtoll(dims[i], &end, 10);
        if (*dims[i] && !*end) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = v;
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = gstrdup(g, dims[i]);
        }
        dv[i] = d;
    }
    sh->n_dim = (size_t)n;
    sh->dim = dv;
    tt->has_elem_type = 1;
    tt->elem_type = dtype;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = gstrdup(g, name);
    vi->type = tp;
    return vi;
}

void ox_input(ox_graph *g, const char *name, int dtype, int n, const char *const *dims) {
    Onnx__ValueInfoProto *vi = value_info(g, name, dtype, n, dims);
    if (!vi || !vec_push(&g->inputs, vi))
        g->failed = 1;
}

void ox_output(ox_graph *g, const char *name, int dtype, int n, const char *const *dims) {
    Onnx__ValueInfoProto *vi = value_info(g, name, dtype, n, dims);
    if (!vi || !vec_push(&g->outputs, vi))
        g->failed = 1;
}

/* ------------------------------------------------------------------------ */
/* Nodes and attributes                                                       */
/* ------------------------------------------------------------------------ */

ox_node *ox_add_node(ox_graph *g, const char *op, const char *domain, int n_in,
                     const char *const *ins, int n_out, const char *const *outs) {
    ox_node *n = galloc(g, sizeof *n);
    char **in = galloc(g, (size_t)(n_in > 0 ? n_in : 1) * sizeof *in);
    char **out = galloc(g, (size_t)n_out * sizeof *out);
    Onnx__AttributeProto **attrs = galloc(g, MAX_ATTRS * sizeof *attrs);
    if (!n || !in || !out || !attrs)
        return NULL;
    onnx__node_proto__init(&n->p);
    for (int i = 0; i < n_in; i++)
        in[i] = gstrdup(g, ins[i]);
    for (int i = 0; i < n_out; i++)
        out[i] = gstrdup(g, outs[i]);
    n->p.n_input = (size_t)n_in;
    n->p.input = in;
    n->p.n_output = (size_t)n_out;
    n->p.output = out;
    n->p.op_type = gstrdup(g, op);
    n->p.domain = gstrdup(g, domain ? domain : "");
    n->p.name = gstrdup(g, n_out > 0 ? outs[0] : op);
    n->p.attribute = attrs;
    if (g->failed || !vec_push(&g->nodes, n)) {
        g->failed = 1;
        return NULL;
    }
    return n;
}

static Onnx__AttributeProto *new_attr(ox_graph *g, ox_node *n, const char *name) {
    if (!n || n->p.n_attribute >= MAX_ATTRS) {
        g->failed = 1;
        return NULL;
    }
    Onnx__AttributeProto *a = galloc(g, sizeof *a);
    if (!a)
        return NULL;
    onnx__attribute_proto__init(a);
    a->name = gstrdup(g, name);
    a->has_type = 1;
    n->p.attribute[n->p.n_attribute++] = a;
    return a;
}

void ox_attr_int(ox_graph *g, ox_node *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = new_attr(g, n, name);
    if (!a)
        return;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
}

void ox_attr_float(ox_graph *g, ox_node *n, const char *name, float v) {
    Onnx__AttributeProto *a = new_attr(g, n, name);
    if (!a)
        return;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1;
    a->f = v;
}

void ox_attr_str(ox_graph *g, ox_node *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = new_attr(g, n, name);
    char *c = gstrdup(g, v);
    if (!a || !c)
        return;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    a->has_s = 1;
    a->s.data = (uint8_t *)c;
    a->s.len = strlen(c);
}

void ox_attr_ints(ox_graph *g, ox_node *n, const char *name, int n_v, const int64_t *v) {
    Onnx__AttributeProto *a = new_attr(g, n, name);
    int64_t *c = galloc(g, (size_t)(n_v > 0 ? n_v : 1) * sizeof *c);
    if (!a || !c)
        return;
    memcpy(c, v, (size_t)n_v * sizeof *c);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = (size_t)n_v;
    a->ints = c;
}

/* ------------------------------------------------------------------------ */
/* Initializers                                                               */
/* ------------------------------------------------------------------------ */

static size_t dtype_size(int dtype) {
    switch (dtype) {
    case OX_FLOAT:
    case OX_INT32: return 4;
    case OX_INT64: return 8;
    case OX_FLOAT16: return 2;
    default: return 1;
    }
}

static Onnx__TensorProto *new_tensor(ox_graph *g, const char *name, int dtype, int n_dims,
                                     const int64_t *dims, uint64_t *nbytes) {
    Onnx__TensorProto *t = galloc(g, sizeof *t);
    int64_t *d = galloc(g, (size_t)(n_dims > 0 ? n_dims : 1) * sizeof *d);
    if (!t || !d)
        return NULL;
    onnx__tensor_proto__init(t);
    uint64_t n = dtype_size(dtype);
    for (int i = 0; i < n_dims; i++) {
        d[i] = dims[i];
        n *= (uint64_t)dims[i];
    }
    t->n_dims = (size_t)n_dims;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->name = gstrdup(g, name);
    *nbytes = n;
    return t;
}

void ox_init_inline(ox_graph *g, const char *name, int dtype, int n_dims, const int64_t *dims,
                    const void *data, size_t nbytes) {
    uint64_t expect;
    Onnx__TensorProto *t = new_tensor(g, name, dtype, n_dims, dims, &expect);
    uint8_t *copy = galloc(g, nbytes);
    if (!t || !copy)
        return;
    memcpy(copy, data, nbytes);
    t->has_raw_data = 1;
    t->raw_data.len = nbytes;
    t->raw_data.data = copy;
    if (!vec_push(&g->inits, t))
        g->failed = 1;
}

static gk_status write_data(ox_graph *g, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, g->data) != n) {
        gk_msgf(g->err, sizeof g->err, "%s: write failed: %s", g->data_name, strerror(errno));
        return GK_E_IO;
    }
    g->data_off += n;
    return GK_OK;
}

gk_status ox_init_begin(ox_graph *g, const char *name, int dtype, int n_dims, const int64_t *dims) {
    uint64_t nbytes;
    Onnx__TensorProto *t = new_tensor(g, name, dtype, n_dims, dims, &nbytes);
    if (!t)
        return GK_E_NOMEM;
    uint64_t align = nbytes >= BIG_BYTES ? ALIGN_BIG : ALIGN_SMALL;
    static const uint8_t zeros[ALIGN_BIG];
    gk_status st = write_data(g, zeros, (size_t)((align - g->data_off % align) % align));
    if (st != GK_OK)
        return st;
    Onnx__StringStringEntryProto **ext = galloc(g, 3 * sizeof *ext);
    if (!ext)
        return GK_E_NOMEM;
    char num[32];
    const char *keys[3] = {"location", "offset", "length"};
    for (int i = 0; i < 3; i++) {
        ext[i] = galloc(g, sizeof *ext[i]);
        if (!ext[i])
            return GK_E_NOMEM;
        onnx__string_string_entry_proto__init(ext[i]);
        ext[i]->key = gstrdup(g, keys[i]);
        if (i == 0)
            ext[i]->value = gstrdup(g, g->data_name);
        else {
            snprintf(num, sizeof num, "%llu", (unsigned long long)(i == 1 ? g->data_off : nbytes));
            ext[i]->value = gstrdup(g, num);
        }
    }
    t->n_external_data = 3;
    t->external_data = ext;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (g->failed || !vec_push(&g->inits, t)) {
        g->failed = 1;
        return GK_E_NOMEM;
    }
    g->cur = t;
    g->cur_expect = nbytes;
    g->cur_written = 0;
    return GK_OK;
}

gk_status ox_init_write(ox_graph *g, const void *data, size_t n) {
    g->cur_written += n;
    return write_data(g, data, n);
}

gk_status ox_init_end(ox_graph *g) {
    if (g->cur && g->cur_written != g->cur_expect) {
        gk_msgf(g->err, sizeof g->err, "initializer '%s': wrote %llu bytes, shape says %llu",
                g->cur->name, (unsigned long long)g->cur_written,
                (unsigned long long)g->cur_expect);
        g->cur = NULL;
        g->broken = 1;
        return GK_E_FORMAT;
    }
    g->cur = NULL;
    return GK_OK;
}

gk_status ox_init_external(ox_graph *g, const char *name, int dtype, int n_dims,
                           const int64_t *dims, const void *data, size_t nbytes) {
    gk_status st = ox_init_begin(g, name, dtype, n_dims, dims);
    if (st == GK_OK)
        st = ox_init_write(g, data, nbytes);
    if (st == GK_OK)
        st = ox_init_end(g);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Serialization                                                              */
/* ------------------------------------------------------------------------ */

static gk_status sync_file(ox_graph *g, FILE *f, const char *what) {
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        gk_msgf(g->err, sizeof g->err, "%s: write failed: %s", what, strerror(errno));
        return GK_E_IO;
    }
    return GK_OK;
}

gk_status ox_graph_save(ox_graph *g, const char *model_path) {
    if (g->failed) {
        gk_msgf(g->err, sizeof g->err, "out of memory while building the graph");
        return GK_E_NOMEM;
    }
    if (g->broken)
        return GK_E_FORMAT;
    gk_status st = sync_file(g, g->data, g->data_name);
    if (st != GK_OK)
        return st;

    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    graph.name = "main_graph";
    graph.n_node = g->nodes.n;
    graph.node = (Onnx__NodeProto **)g->nodes.v; /* ox_node starts with its NodeProto */
    graph.n_initializer = g->inits.n;
    graph.initializer = (Onnx__TensorProto **)g->inits.v;
    graph.n_input = g->inputs.n;
    graph.input = (Onnx__ValueInfoProto **)g->inputs.v;
    graph.n_output = g->outputs.n;
    graph.output = (Onnx__ValueInfoProto **)g->outputs.v;

    Onnx__OperatorSetIdProto ops[MAX_OPSETS], *opp[MAX_OPSETS];
    for (int i = 0; i < g->n_opsets; i++) {
        onnx__operator_set_id_proto__init(&ops[i]);
        ops[i].domain = (char *)g->opset_domain[i];
        ops[i].has_version = 1;
        ops[i].version = g->opset_version[i];
        opp[i] = &ops[i];
    }
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = 10;
    m.n_opset_import = (size_t)g->n_opsets;
    m.opset_import = opp;
    m.producer_name = "gguf2onnx";
    m.producer_version = GK_VERSION;
    m.graph = &graph;
    m.n_metadata_props = g->meta.n;
    m.metadata_props = (Onnx__StringStringEntryProto **)g->meta.v;

    size_t n = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        gk_msgf(g->err, sizeof g->err, "out of memory serializing the model (%zu bytes)", n);
        return GK_E_NOMEM;
    }
    onnx__model_proto__pack(&m, buf);
    FILE *f = fopen(model_path, "wb");
    if (!f) {
        gk_msgf(g->err, sizeof g->err, "%s: %s", model_path, strerror(errno));
        free(buf);
        return GK_E_IO;
    }
    st = GK_OK;
    if (fwrite(buf, 1, n, f) != n) {
        gk_msgf(g->err, sizeof g->err, "%s: write failed: %s", model_path, strerror(errno));
        st = GK_E_IO;
    }
    if (st == GK_OK)
        st = sync_file(g, f, model_path);
    if (fclose(f) != 0 && st == GK_OK) {
        gk_msgf(g->err, sizeof g->err, "%s: write failed: %s", model_path, strerror(errno));
        st = GK_E_IO;
    }
    free(buf);
    return st;
}
