/* source_test.c -- tensor sources over a safetensors file, a sharded set, a
 * PyTorch pickle and a GGUF file, all written here, and a transform. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/io.h"
#include "formats/source.h"
#include "kernels/kernels.h"

static char tmpdir[256];

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/source_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *tpath(const char *name) {
    static char p[2][512];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

/* ------------------------------------------------------------------------ */
/* Byte buffers and writers                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_le(buf *b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) {
        uint8_t c = (uint8_t)(v >> (8 * i));
        put(b, &c, 1);
    }
}

static void puts_(buf *b, const char *s) {
    put(b, s, strlen(s));
}

static void save(const char *path, const buf *b) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b->p, 1, b->n, f), b->n);
    fclose(f);
}

/* safetensors: header length, JSON header, data. */
static void write_st(const char *path, const char *hdr, const void *data, size_t len) {
    buf b = {0};
    put_le(&b, strlen(hdr), 8);
    puts_(&b, hdr);
    put(&b, data, len);
    save(path, &b);
    free(b.p);
}

static uint32_t crc32_of(const void *data, size_t n) {
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

/* Zip of STORED entries. */
typedef struct {
    const char *name;
    const void *data;
    size_t len;
} ent;

static void write_zip(const char *path, const ent *e, int n) {
    buf z = {0};
    uint32_t offs[8];
    for (int i = 0; i < n; i++) {
        offs[i] = (uint32_t)z.n;
        put_le(&z, 0x04034b50u, 4);
        put_le(&z, 20, 2), put_le(&z, 0, 2), put_le(&z, 0, 2), put_le(&z, 0, 4);
        put_le(&z, crc32_of(e[i].data, e[i].len), 4);
        put_le(&z, e[i].len, 4), put_le(&z, e[i].len, 4);
        put_le(&z, strlen(e[i].name), 2), put_le(&z, 0, 2);
        puts_(&z, e[i].name);
        put(&z, e[i].data, e[i].len);
    }
    size_t cd = z.n;
    for (int i = 0; i < n; i++) {
        put_le(&z, 0x02014b50u, 4);
        put_le(&z, 20, 2), put_le(&z, 20, 2), put_le(&z, 0, 2), put_le(&z, 0, 2);
        put_le(&z, 0, 4), put_le(&z, crc32_of(e[i].data, e[i].len), 4);
        put_le(&z, e[i].len, 4), put_le(&z, e[i].len, 4);
        put_le(&z, strlen(e[i].name), 2), put_le(&z, 0, 2), put_le(&z, 0, 2);
        put_le(&z, 0, 2), put_le(&z, 0, 2), put_le(&z, 0, 4), put_le(&z, offs[i], 4);
        puts_(&z, e[i].name);
    }
    size_t cd_size = z.n - cd;
    put_le(&z, 0x06054b50u, 4);
    put_le(&z, 0, 2), put_le(&z, 0, 2), put_le(&z, (uint64_t)n, 2), put_le(&z, (uint64_t)n, 2);
    put_le(&z, cd_size, 4), put_le(&z, cd, 4), put_le(&z, 0, 2);
    save(path, &z);
    free(z.p);
}

static void pk_str(buf *b, const char *s) { /* BINUNICODE */
    puts_(b, "X");
    put_le(b, strlen(s), 4);
    puts_(b, s);
}

static void pk_int(buf *b, unsigned v) { /* BININT1 */
    puts_(b, "K");
    put_le(b, v, 1);
}

static void pk_global(buf *b, const char *mod, const char *name) {
    puts_(b, "c");
    puts_(b, mod);
    puts_(b, "\n");
    puts_(b, name);
    puts_(b, "\n");
}

/* A state_dict {"w": BFloat16 tensor of shape (rows, cols)} in storage "0",
 * as torch.save (protocol 2) writes it. */
static buf pk_one_tensor(unsigned rows, unsigned cols) {
    buf b = {0};
    put_le(&b, 0x80, 1), put_le(&b, 2, 1);
    pk_global(&b, "collections", "OrderedDict");
    put(&b, "q\0)Rq\1(", 7);
    pk_str(&b, "w");
    pk_global(&b, "torch._utils", "_rebuild_tensor_v2");
    puts_(&b, "((");
    pk_str(&b, "storage");
    pk_global(&b, "torch", "BFloat16Storage");
    pk_str(&b, "0");
    pk_str(&b, "cpu");
    pk_int(&b, rows * cols);
    puts_(&b, "tQ");
    pk_int(&b, 0);
    puts_(&b, "(");
    pk_int(&b, rows), pk_int(&b, cols);
    puts_(&b, "t(");
    pk_int(&b, cols), pk_int(&b, 1);
    put(&b, "t\x89h\0)RtR", 8);
    puts_(&b, "u.");
    return b;
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                     */
/* ------------------------------------------------------------------------ */

static fmt_src *open_ok(const char *path) {
    gk_status st = GK_E_IO;
    fmt_src *s = fmt_src_open(path, &st);
    ck_assert_msg(s != NULL, "open %s: %s", path, fmt_src_open_errmsg());
    ck_assert_int_eq(st, GK_OK);
    return s;
}

static void check_rows(const fmt_src_tensor *t, const float *want, int64_t rows) {
    int64_t len = fmt_src_row_len(t);
    float got[64];
    ck_assert_int_le(rows * len, 64);
    ck_assert_int_eq(fmt_src_read_rows(t, 0, rows, got), GK_OK);
    for (int64_t i = 0; i < rows * len; i++)
        ck_assert_float_eq(got[i], want[i]);
    if (rows > 1) { /* a later row alone */
        ck_assert_int_eq(fmt_src_read_rows(t, rows - 1, 1, got), GK_OK);
        for (int64_t i = 0; i < len; i++)
            ck_assert_float_eq(got[i], want[(rows - 1) * len + i]);
    }
    ck_assert_int_eq(fmt_src_read_rows(t, rows, 1, got), GK_E_FORMAT);
    ck_assert_int_eq(fmt_src_read_rows(t, -1, 1, got), GK_E_FORMAT);
}

static const float vals[6] = {1.0f, -2.5f, 0.0f, 3.25f, 1e-3f, -65504.0f};

START_TEST(test_safetensors_file) {
    uint16_t h[6];
    kern_fp32_to_fp16_row(vals, h, 6);
    char hdr[256];
    snprintf(hdr, sizeof hdr,
             "{\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
             "\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[12,24]},"
             "\"c\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[24,26]}}");
    uint8_t data[26] = {0};
    memcpy(data, vals, 12);
    memcpy(data + 12, h, 12);
    write_st(tpath("m.safetensors"), hdr, data, sizeof data);
    fmt_src *s = open_ok(tpath("m.safetensors"));
    ck_assert_uint_eq(fmt_src_n_tensors(s), 3);
    ck_assert_uint_eq(fmt_src_n_files(s), 1);
    ck_assert_str_eq(fmt_src_file_at(s, 0), tpath("m.safetensors"));
    const fmt_src_tensor *b = fmt_src_tensor_at(s, 0), *a = fmt_src_find(s, "a");
    ck_assert_str_eq(b->name, "b"); /* data-offset order */
    ck_assert_int_eq(b->type, KERN_TYPE_F32);
    ck_assert_uint_eq(b->n_dims, 1);
    check_rows(b, vals, 1);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->type, KERN_TYPE_F16);
    ck_assert_str_eq(a->dtype, "F16");
    ck_assert(a->shape[0] == 2 && a->shape[1] == 3 && a->n_elements == 6 && a->size == 12);
    ck_assert_ptr_eq(a->data, b->data + 12);
    float want[6];
    kern_fp16_to_fp32_row(h, want, 6);
    check_rows(a, want, 2);
    const fmt_src_tensor *c = fmt_src_find(s, "c");
    ck_assert_int_eq(c->type, -1);
    ck_assert_str_eq(c->dtype, "F8_E4M3");
    float x[2];
    ck_assert_int_eq(fmt_src_read_rows(c, 0, 1, x), GK_E_UNSUPPORTED);
    ck_assert_ptr_null(fmt_src_find(s, "d"));
    ck_assert_ptr_null(fmt_src_tensor_at(s, 3));
    fmt_src_close(s);
}
END_TEST

START_TEST(test_sharded_set) {
    uint16_t h[6];
    kern_fp32_to_bf16_row(vals, h, 6);
    write_st(tpath("model-00001-of-00002.safetensors"),
             "{\"x\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}", vals, 24);
    write_st(tpath("model-00002-of-00002.safetensors"),
             "{\"y\":{\"dtype\":\"BF16\",\"shape\":[3,2],\"data_offsets\":[0,12]}}", h, 12);
    const char *idx = "{\"weight_map\":{\"y\":\"model-00002-of-00002.safetensors\","
                      "\"x\":\"model-00001-of-00002.safetensors\"}}";
    buf b = {0};
    puts_(&b, idx);
    save(tpath("model.safetensors.index.json"), &b);
    free(b.p);
    for (int via_dir = 0; via_dir < 2; via_dir++) {
        fmt_src *s = open_ok(via_dir ? tmpdir : tpath("model.safetensors.index.json"));
        ck_assert_uint_eq(fmt_src_n_tensors(s), 2);
        ck_assert_uint_eq(fmt_src_n_files(s), 2);
        ck_assert_str_eq(fmt_src_tensor_at(s, 0)->name, "x"); /* shards in name order */
        const fmt_src_tensor *y = fmt_src_find(s, "y");
        ck_assert_int_eq(y->type, KERN_TYPE_BF16);
        ck_assert_str_eq(y->file, fmt_src_file_at(s, 1));
        ck_assert_ptr_nonnull(strstr(y->file, "model-00002-of-00002"));
        float want[6];
        kern_bf16_to_fp32_row(h, want, 6);
        check_rows(y, want, 3);
        check_rows(fmt_src_find(s, "x"), vals, 1);
        fmt_src_close(s);
    }
    /* an index naming a shard that lacks the tensor is refused by the
     * safetensors reader, whose message the set passes on */
    b = (buf){0};
    puts_(&b, "{\"weight_map\":{\"y\":\"model-00001-of-00002.safetensors\","
              "\"x\":\"model-00001-of-00002.safetensors\"}}");
    save(tpath("model.safetensors.index.json"), &b);
    free(b.p);
    gk_status st = GK_OK;
    ck_assert_ptr_null(fmt_src_open(tmpdir, &st));
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(fmt_src_open_errmsg(), "'y'"));
}
END_TEST

START_TEST(test_pickle) {
    uint16_t h[6];
    kern_fp32_to_bf16_row(vals, h, 6);
    buf pk = pk_one_tensor(3, 2);
    ent e[] = {
        {"archive/data.pkl", pk.p, pk.n},
        {"archive/byteorder", "little", 6},
        {"archive/data/0", h, 12},
    };
    write_zip(tpath("pytorch_model.bin"), e, 3);
    free(pk.p);
    fmt_src *s = open_ok(tpath("pytorch_model.bin"));
    ck_assert_uint_eq(fmt_src_n_tensors(s), 1);
    const fmt_src_tensor *w = fmt_src_find(s, "w");
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(w->type, KERN_TYPE_BF16);
    ck_assert_str_eq(w->dtype, "BF16");
    ck_assert(w->n_dims == 2 && w->shape[0] == 3 && w->shape[1] == 2);
    ck_assert_str_eq(w->file, tpath("pytorch_model.bin"));
    float want[6];
    kern_bf16_to_fp32_row(h, want, 6);
    check_rows(w, want, 3);
    fmt_src_close(s);
}
END_TEST

/* GGUF with an F32 vector and a Q8_0 matrix (ggml ne {32, 2}). */
static void write_gguf(const char *path, const float *vec, const uint8_t *q8, size_t q8_len) {
    gk_status st;
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, FMT_GGUF_DEFAULT_ALIGNMENT, &st);
    ck_assert_ptr_nonnull(w);
    int64_t ne_v[1] = {6}, ne_q[2] = {32, 2};
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "v", 1, ne_v, KERN_TYPE_F32), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "q", 2, ne_q, KERN_TYPE_Q8_0), GK_OK);
    char err[256];
    fmt_output *out = fmt_output_open(path, NULL, &st, err, sizeof err);
    ck_assert_msg(out != NULL, "%s", err);
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, vec, 24), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, q8, q8_len), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    fmt_gguf_writer_free(w);
}

START_TEST(test_gguf) {
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)(i - 20) / 7.0f;
    uint8_t q8[68];
    ck_assert_uint_eq(kern_type_info(KERN_TYPE_Q8_0)->quantize_ref(x, q8, 2, 32, NULL), 68);
    write_gguf(tpath("m.gguf"), vals, q8, sizeof q8);
    fmt_src *s = open_ok(tpath("m.gguf"));
    ck_assert_uint_eq(fmt_src_n_tensors(s), 2);
    const fmt_src_tensor *v = fmt_src_tensor_at(s, 0), *q = fmt_src_find(s, "q");
    ck_assert_str_eq(v->name, "v");
    check_rows(v, vals, 1);
    ck_assert_int_eq(q->type, KERN_TYPE_Q8_0);
    ck_assert_str_eq(q->dtype, "Q8_0");
    /* row-major: 2 rows of 32, the reverse of ggml's ne */
    ck_assert(q->n_dims == 2 && q->shape[0] == 2 && q->shape[1] == 32 && q->size == 68);
    ck_assert_int_eq(memcmp(q->data, q8, 68), 0);
    float want[64];
    kern_dequant_fn(KERN_TYPE_Q8_0)(q8, want, 64);
    check_rows(q, want, 2);
    fmt_src_close(s);
}
END_TEST

/* A set over readers the caller opened: two shards (the same file read
 * mapped and through pread), records in reader order, bytes by
 * fmt_src_load, and the readers left open. */
START_TEST(test_gguf_readers) {
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)(i + 3) / 5.0f;
    uint8_t q8[68], bytes_buf[68];
    kern_type_info(KERN_TYPE_Q8_0)->quantize_ref(x, q8, 2, 32, NULL);
    write_gguf(tpath("r.gguf"), vals, q8, sizeof q8);
    gk_status st;
    char err[256];
    fmt_input_opts no_map = {.no_mmap = 1};
    fmt_input *in[2] = {fmt_input_open(tpath("r.gguf"), NULL, &st, err, sizeof err),
                        fmt_input_open(tpath("r.gguf"), &no_map, &st, err, sizeof err)};
    ck_assert(in[0] && in[1]);
    fmt_gguf *g[2] = {fmt_gguf_open(in[0], &st), fmt_gguf_open(in[1], &st)};
    ck_assert(g[0] && g[1]);
    const char *files[2] = {"first", "second"};
    fmt_src *s = fmt_src_over_gguf(g, 2, files, &st);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fmt_src_n_tensors(s), 4);
    ck_assert_uint_eq(fmt_src_n_files(s), 2);
    ck_assert_int_eq(fmt_src_index(s, "q"), 1); /* the first of that name */
    ck_assert_int_eq(fmt_src_index(s, "absent"), -1);
    const fmt_src_tensor *mapped = fmt_src_tensor_at(s, 1), *read = fmt_src_tensor_at(s, 3);
    ck_assert_str_eq(mapped->file, "first");
    ck_assert_str_eq(read->file, "second");
    ck_assert(read->n_dims == 2 && read->shape[0] == 2 && read->shape[1] == 32);
    const uint8_t *bytes = NULL;
    ck_assert_int_eq(fmt_src_load(mapped, bytes_buf, &bytes, err, sizeof err), GK_OK);
    ck_assert(bytes == mapped->data && memcmp(bytes, q8, 68) == 0);
    ck_assert_ptr_null(read->data);
    float row[32];
    ck_assert_int_eq(fmt_src_read_rows(read, 0, 1, row), GK_E_UNSUPPORTED);
    memset(bytes_buf, 0, sizeof bytes_buf);
    ck_assert_int_eq(fmt_src_load(read, bytes_buf, &bytes, err, sizeof err), GK_OK);
    ck_assert(bytes == bytes_buf && memcmp(bytes_buf, q8, 68) == 0);
    fmt_src_close(s);
    ck_assert_uint_eq(fmt_gguf_n_tensors(g[1]), 2); /* still open */
    for (int i = 0; i < 2; i++) {
        fmt_gguf_close(g[i]);
        fmt_input_close(in[i]);
    }
}
END_TEST

/* A transform: one tensor stacking two stored vectors as rows, read
 * through their own records. */
static gk_status read_stacked(const fmt_src_tensor *t, int64_t r0, int64_t n, float *dst) {
    const fmt_src_tensor *const *parts = t->ctx;
    for (int64_t r = r0; r < r0 + n; r++, dst += fmt_src_row_len(t)) {
        gk_status st = fmt_src_read_rows(parts[r], 0, 1, dst);
        if (st != GK_OK)
            return st;
    }
    return GK_OK;
}

START_TEST(test_transform) {
    float second[6];
    for (int i = 0; i < 6; i++)
        second[i] = -vals[i];
    char hdr[] = "{\"e0\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
                 "\"e1\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[24,48]}}";
    float data[12];
    memcpy(data, vals, 24);
    memcpy(data + 6, second, 24);
    write_st(tpath("experts.safetensors"), hdr, data, sizeof data);
    fmt_src *in = open_ok(tpath("experts.safetensors"));
    const fmt_src_tensor *parts[2] = {fmt_src_find(in, "e0"), fmt_src_find(in, "e1")};
    fmt_src_tensor stacked = {.name = "experts",
                              .type = KERN_TYPE_F32,
                              .dtype = "F32",
                              .n_dims = 2,
                              .shape = {2, 6},
                              .n_elements = 12,
                              .size = 48,
                              .file = "",
                              .read = read_stacked,
                              .ctx = parts};
    gk_status st;
    fmt_src *s = fmt_src_create(&stacked, 1, &st);
    ck_assert_ptr_nonnull(s);
    const fmt_src_tensor *t = fmt_src_find(s, "experts");
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_null(t->data);
    check_rows(t, data, 2);
    const uint8_t *bytes;
    char err[128];
    ck_assert_int_eq(fmt_src_load(t, NULL, &bytes, err, sizeof err), GK_E_UNSUPPORTED);
    fmt_src_close(s);
    fmt_src_close(in);
}
END_TEST

START_TEST(test_open_failures) {
    gk_status st = GK_OK;
    ck_assert_ptr_null(fmt_src_open(tpath("absent.safetensors"), &st));
    ck_assert_int_ne(st, GK_OK);
    ck_assert_ptr_nonnull(strstr(fmt_src_open_errmsg(), "absent.safetensors"));
    buf b = {0};
    puts_(&b, "GGUF");
    put_le(&b, 3, 4);
    save(tpath("bad.gguf"), &b);
    free(b.p);
    ck_assert_ptr_null(fmt_src_open(tpath("bad.gguf"), &st));
    ck_assert_int_eq(st, GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(fmt_src_open_errmsg(), "bad.gguf"));
    fmt_src_close(NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("source");
    TCase *tc = tcase_create("source");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_safetensors_file);
    tcase_add_test(tc, test_sharded_set);
    tcase_add_test(tc, test_pickle);
    tcase_add_test(tc, test_gguf);
    tcase_add_test(tc, test_gguf_readers);
    tcase_add_test(tc, test_transform);
    tcase_add_test(tc, test_open_failures);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
