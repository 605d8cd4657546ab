/*
 * onnx_test.c -- the ModelProto writer: what is written can be read
 * back by protobuf-c's generated unpacker with the same graph, attributes,
 * opsets and IR version, and external initializers sit at aligned offsets
 * of the data file holding exactly the bytes streamed in.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "onnx.h"
#include "tests/unit.h"

static char dir[64];

static void setup(void) {
    unit_mkdtemp(dir, sizeof dir, "onnx_graph_test");
}

static void teardown(void) {
    unit_rmtree(dir);
}

static const char *ext_value(const Onnx__TensorProto *t, const char *key) {
    for (size_t i = 0; i < t->n_external_data; i++)
        if (strcmp(t->external_data[i]->key, key) == 0)
            return t->external_data[i]->value;
    return NULL;
}

START_TEST(test_roundtrip) {
    char dp[128], mp[128], err[256];
    snprintf(dp, sizeof dp, "%s/m.onnx.data", dir);
    snprintf(mp, sizeof mp, "%s/m.onnx", dir);
    gk_status st;
    ox_graph *g = ox_graph_create(dp, "m.onnx.data", &st, err, sizeof err);
    ck_assert_ptr_nonnull(g);
    const char *dims[2] = {"batch_size", "8"};
    ox_input(g, "x", OX_FLOAT, 2, dims);
    ox_output(g, "y", OX_FLOAT, 2, dims);
    /* a 100-byte initializer streamed in two writes, then a 70000-byte one */
    uint8_t small[100], *big = malloc(70000);
    for (int i = 0; i < 100; i++)
        small[i] = (uint8_t)i;
    for (int i = 0; i < 70000; i++)
        big[i] = (uint8_t)(i * 7);
    int64_t sd[1] = {25}, bd[2] = {100, 175};
    ck_assert_int_eq(ox_init_begin(g, "w_small", OX_FLOAT, 1, sd), GK_OK);
    ck_assert_int_eq(ox_init_write(g, small, 60), GK_OK);
    ck_assert_int_eq(ox_init_write(g, small + 60, 40), GK_OK);
    ck_assert_int_eq(ox_init_end(g), GK_OK);
    ck_assert_int_eq(ox_init_external(g, "w_big", OX_FLOAT, 2, bd, big, 70000), GK_OK);
    int64_t shape[2] = {-1, 8};
    ox_init_inline(g, "shape", OX_INT64, 1, (int64_t[]){2}, shape, sizeof shape);
    const char *in[2] = {"x", "shape"};
    const char *out = "y";
    ox_node *n = ox_add_node(g, "Reshape", NULL, 2, in, 1, &out);
    ox_attr_int(g, n, "allowzero", 0);
    ox_attr_float(g, n, "eps", 0.5f);
    int64_t perm[2] = {1, 0};
    ox_attr_ints(g, n, "perm", 2, perm);
    ox_metadata(g, "k", "v");
    ck_assert_int_eq(ox_graph_save(g, mp), GK_OK);
    ox_graph_free(g);

    size_t n_model, n_data;
    uint8_t *model = unit_read_file(mp, &n_model), *data = unit_read_file(dp, &n_data);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n_model, model);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->ir_version, 10);
    ck_assert_uint_eq(m->n_opset_import, 2);
    ck_assert_str_eq(m->opset_import[0]->domain, "");
    ck_assert_int_eq(m->opset_import[0]->version, 23);
    ck_assert_str_eq(m->opset_import[1]->domain, "com.microsoft");
    ck_assert_str_eq(m->producer_name, "gguf2onnx");
    ck_assert_uint_eq(m->n_metadata_props, 1);
    Onnx__GraphProto *gp = m->graph;
    ck_assert_uint_eq(gp->n_input, 1);
    ck_assert_str_eq(gp->input[0]->type->tensor_type->shape->dim[0]->dim_param, "batch_size");
    ck_assert_int_eq(gp->input[0]->type->tensor_type->shape->dim[1]->dim_value, 8);
    ck_assert_uint_eq(gp->n_node, 1);
    Onnx__NodeProto *np = gp->node[0];
    ck_assert_str_eq(np->op_type, "Reshape");
    ck_assert_uint_eq(np->n_attribute, 3);
    ck_assert_int_eq(np->attribute[0]->i, 0);
    ck_assert(np->attribute[1]->f == 0.5f);
    ck_assert_uint_eq(np->attribute[2]->n_ints, 2);
    ck_assert_int_eq(np->attribute[2]->ints[0], 1);
    ck_assert_uint_eq(gp->n_initializer, 3);
    /* w_small at a 64-byte boundary (offset 0), w_big at a page boundary */
    const Onnx__TensorProto *ws = gp->initializer[0], *wb = gp->initializer[1];
    ck_assert_int_eq(ws->data_location, ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL);
    ck_assert_str_eq(ext_value(ws, "location"), "m.onnx.data");
    ck_assert_str_eq(ext_value(ws, "length"), "100");
    long off_small = atol(ext_value(ws, "offset")), off_big = atol(ext_value(wb, "offset"));
    ck_assert_int_eq(off_small % 64, 0);
    ck_assert_int_eq(off_big % 4096, 0);
    ck_assert_int_eq(memcmp(data + off_small, small, 100), 0);
    ck_assert_int_eq(memcmp(data + off_big, big, 70000), 0);
    const Onnx__TensorProto *sh = gp->initializer[2];
    ck_assert(sh->has_raw_data);
    ck_assert_uint_eq(sh->raw_data.len, sizeof shape);
    onnx__model_proto__free_unpacked(m, NULL);
    free(model);
    free(data);
    free(big);
}
END_TEST

START_TEST(test_create_fails) {
    char err[256] = "";
    gk_status st;
    ox_graph *g = ox_graph_create("/nonexistent-dir/x.data", "x.data", &st, err, sizeof err);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(st, GK_E_IO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.data"));
    /* a short initializer is caught at end, and the model is not saved */
    char dp[128], mp[128];
    snprintf(dp, sizeof dp, "%s/m.onnx.data", dir);
    snprintf(mp, sizeof mp, "%s/m.onnx", dir);
    g = ox_graph_create(dp, "m.onnx.data", &st, err, sizeof err);
    ck_assert_ptr_nonnull(g);
    int64_t sd[1] = {25};
    uint8_t small[10] = {0};
    ck_assert_int_eq(ox_init_begin(g, "w_short", OX_FLOAT, 1, sd), GK_OK);
    ck_assert_int_eq(ox_init_write(g, small, 10), GK_OK);
    ck_assert_int_eq(ox_init_end(g), GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(ox_graph_errmsg(g), "w_short"));
    ck_assert_int_eq(ox_graph_save(g, mp), GK_E_FORMAT);
    ck_assert_int_ne(access(mp, F_OK), 0);
    ox_graph_free(g);
}
END_TEST

int main(void) {
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    UNIT_ADD_TESTS(tc, test_roundtrip, test_create_fails);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
