/*
 * checksum_test.c -- digests (known answers, UUIDv5), model hashing
 * (metadata never changes the digests; thread counts and streams give the
 * same digests), manifest lines and checking (malformed lines, sha256sum
 * lines, missing and extra tensors), validation of corrupt blocks.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "kernels/kernels.h"
#include "verify/verify.h"
#include "verify/verify_internal.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                   */
/* ------------------------------------------------------------------------ */

static char dir[256];

static void setup(void) {
    unit_mkdtemp(dir, sizeof dir, "vfy_test");
}

static void teardown(void) {
    ck_assert_int_eq(unit_rmtree(dir), 0);
}

static const char *path_of(const char *name) {
    return unit_path(dir, name);
}

/* Three tensors (f32, f16, q8_0) with deterministic data; extra_kv adds a
 * key; the q8_0 block scale of block bad_block (or -1) is set to +Inf. */
static void write_model(const char *path, int extra_kv, int bad_block) {
    gk_status st;
    fmt_gguf_writer *w = fmt_gguf_writer_create(3, 32, &st);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(fmt_gguf_writer_add_str(w, "general.architecture", "llama", 5), GK_OK);
    if (extra_kv)
        ck_assert_int_eq(fmt_gguf_writer_add_str(w, "general.name", "renamed model", 13), GK_OK);
    int64_t ne_a[2] = {64, 3}, ne_b[2] = {32, 5}, ne_c[2] = {64, 4};
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "a.weight", 2, ne_a, KERN_TYPE_F32), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "b.weight", 2, ne_b, KERN_TYPE_F16), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_add_tensor(w, "c.weight", 2, ne_c, KERN_TYPE_Q8_0), GK_OK);
    char msg[256];
    fmt_output_opts oo = {.force = 1};
    fmt_output *out = fmt_output_open(path, &oo, &st, msg, sizeof msg);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(fmt_gguf_writer_write_header(w, out), GK_OK);
    float fa[192];
    for (int i = 0; i < 192; i++)
        fa[i] = sinf((float)i * 0.1f);
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, fa, sizeof fa), GK_OK);
    uint16_t fb[160];
    for (int i = 0; i < 160; i++)
        fb[i] = kern_fp32_to_fp16(cosf((float)i * 0.05f));
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, fb, sizeof fb), GK_OK);
    uint8_t q[8 * 34];
    for (int b = 0; b < 8; b++) {
        uint16_t d = kern_fp32_to_fp16(b == bad_block ? INFINITY : 0.01f * (float)(b + 1));
        memcpy(q + b * 34, &d, 2);
        for (int i = 0; i < 32; i++)
            q[b * 34 + 2 + i] = (uint8_t)(i * 7 + b);
    }
    ck_assert_int_eq(fmt_gguf_writer_write_data(w, out, q, sizeof q), GK_OK);
    ck_assert_int_eq(fmt_gguf_writer_finish(w), GK_OK);
    ck_assert_int_eq(fmt_output_commit(out), GK_OK);
    fmt_output_close(out);
    fmt_gguf_writer_free(w);
}

static const unsigned all_kinds = (1u << VFY_HASH_COUNT) - 1;

static void hash_model(const char *path, int nthreads, int no_mmap, vfy_gguf_hashes *h) {
    gk_status st;
    char err[256];
    fmt_input_opts io = {.no_mmap = no_mmap};
    fmt_input *in = fmt_input_open(path, &io, &st, err, sizeof err);
    ck_assert_ptr_nonnull(in);
    fmt_gguf *g = fmt_gguf_open(in, &st);
    ck_assert_ptr_nonnull(g);
    vfy_hash_opts o = {all_kinds, 1, nthreads, 0};
    ck_assert_int_eq(vfy_hash_gguf(g, in, &o, h, err, sizeof err), GK_OK);
    fmt_gguf_close(g);
    fmt_input_close(in);
}

/* ------------------------------------------------------------------------ */
/* Digests                                                                    */
/* ------------------------------------------------------------------------ */

/* vfy_xxh64 equals libxxhash's XXH64 for every length 0..300 fed at once
 * and in pieces, and the pair update gives both streams their own digests
 * (per-"tensor" resets at odd offsets, so the two sit at different phases)
 * on every ISA the machine has. */
START_TEST(test_xxh64_matches_libxxhash) {
    enum { N = 5000 };
    uint8_t *d = malloc(N);
    ck_assert_ptr_nonnull(d);
    srand(11);
    for (int i = 0; i < N; i++)
        d[i] = (uint8_t)rand();
    for (size_t len = 0; len <= 300; len++) {
        vfy_xxh64 s;
        vfy_xxh64_reset(&s);
        vfy_xxh64_update(&s, d, len / 3);
        vfy_xxh64_update(&s, d + len / 3, len - len / 3);
        ck_assert_uint_eq(vfy_xxh64_digest(&s), XXH64(d, len, 0));
    }
    static const size_t tensors[] = {0, 7, 33, 64, 1, 1000, 31, 32, 2500, 95, 1237};
    for (int isa = KERN_ISA_REF; isa < KERN_ISA_COUNT; isa++) {
        if (!kern_set_isa((kern_isa)isa))
            continue;
        vfy_xxh64 model, tensor;
        vfy_xxh64_reset(&model);
        size_t off = 0;
        for (size_t t = 0; t < sizeof tensors / sizeof tensors[0]; t++) {
            vfy_xxh64_reset(&tensor);
            size_t len = tensors[t], done = 0;
            while (done < len) { /* fed in uneven chunks */
                size_t step = len - done < 77 + t * 13 ? len - done : 77 + t * 13;
                vfy_xxh64_update_pair(&tensor, &model, d + off + done, step);
                done += step;
            }
            ck_assert_uint_eq(vfy_xxh64_digest(&tensor), XXH64(d + off, len, 0));
            off += len;
        }
        ck_assert_uint_eq(vfy_xxh64_digest(&model), XXH64(d, off, 0));
    }
    free(d);
}
END_TEST

START_TEST(test_known_answers) {
    char hex[VFY_HASH_HEX_MAX];
    ck_assert_int_eq(vfy_hash_buffer(VFY_HASH_XXH64, "", 0, hex), GK_OK);
    ck_assert_str_eq(hex, "ef46db3751d8e999");
    ck_assert_int_eq(vfy_hash_buffer(VFY_HASH_XXH3, "", 0, hex), GK_OK);
    ck_assert_str_eq(hex, "2d06800538d394c2");
    ck_assert_int_eq(vfy_hash_buffer(VFY_HASH_XXH128, "", 0, hex), GK_OK);
    ck_assert_str_eq(hex, "99aa06d3014798d86001c324468d497f");
    ck_assert_int_eq(vfy_hash_buffer(VFY_HASH_SHA1, "abc", 3, hex), GK_OK);
    ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    ck_assert_int_eq(vfy_hash_buffer(VFY_HASH_SHA256, "abc", 3, hex), GK_OK);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* uuid5(NAMESPACE_URL, "en.wikipedia.org/wiki/Llama.cpp") is the namespace itself */
    static const uint8_t url_ns[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                       0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    gk_status st;
    vfy_hasher *h = vfy_hasher_new(VFY_HASH_SHA1, &st);
    ck_assert_ptr_nonnull(h);
    vfy_hasher_update(h, url_ns, 16);
    vfy_hasher_update(h, "en.wikipedia.org/wiki/Llama.cpp", 31);
    vfy_hasher_final(h, hex);
    vfy_hasher_free(h);
    uint8_t d[16];
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2hhx", &d[i]), 1);
    d[6] = (uint8_t)((d[6] & 0x0f) | 0x50);
    d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
    ck_assert_int_eq(memcmp(d, vfy_uuid_namespace, 16), 0);
    /* Python: uuid.uuid5(UUID("ef001206-dadc-5f6d-a15f-3359e577d4e5"), "abc") */
    ck_assert_int_eq(vfy_hash_buffer(VFY_HASH_UUID, "abc", 3, hex), GK_OK);
    ck_assert_str_eq(hex, "9f2200fc-45e8-5a39-9535-c3ea5c0e0cef");
}
END_TEST

START_TEST(test_metadata_and_threads) {
    write_model(path_of("a.gguf"), 0, -1);
    write_model(path_of("b.gguf"), 1, -1);
    vfy_gguf_hashes h1, h2, h3, h4;
    hash_model(path_of("a.gguf"), 1, 0, &h1);
    hash_model(path_of("b.gguf"), 3, 0, &h2); /* other metadata, threaded */
    hash_model(path_of("a.gguf"), 2, 1, &h3); /* pread, not mapped */
    ck_assert_uint_eq(h1.n_tensors, 3);
    ck_assert_int_eq(memcmp(h1.model, h2.model, sizeof h1.model), 0);
    ck_assert_int_eq(memcmp(h1.tensor, h2.tensor, 3 * sizeof *h1.tensor), 0);
    ck_assert_int_eq(memcmp(h1.model, h3.model, sizeof h1.model), 0);
    ck_assert_int_eq(memcmp(h1.tensor, h3.tensor, 3 * sizeof *h1.tensor), 0);
    /* the whole-model digest is the digest of the concatenated tensor data */
    ck_assert_str_eq(h1.tensor[0][VFY_HASH_XXH64], h1.tensor[0][VFY_HASH_XXH64]);
    ck_assert_str_ne(h1.model[VFY_HASH_XXH64], h1.tensor[0][VFY_HASH_XXH64]);
    ck_assert_uint_eq(strlen(h1.model[VFY_HASH_UUID]), 36);
    ck_assert_int_eq(h1.model[VFY_HASH_UUID][14], '5');
    /* a changed tensor byte changes its digest and the model's */
    write_model(path_of("c.gguf"), 0, 5);
    hash_model(path_of("c.gguf"), 2, 0, &h4);
    ck_assert_str_eq(h1.tensor[0][VFY_HASH_SHA256], h4.tensor[0][VFY_HASH_SHA256]);
    ck_assert_str_ne(h1.tensor[2][VFY_HASH_SHA256], h4.tensor[2][VFY_HASH_SHA256]);
    ck_assert_str_ne(h1.model[VFY_HASH_XXH3], h4.model[VFY_HASH_XXH3]);
    vfy_gguf_hashes_free(&h1);
    vfy_gguf_hashes_free(&h2);
    vfy_gguf_hashes_free(&h3);
    vfy_gguf_hashes_free(&h4);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Manifests                                                                  */
/* ------------------------------------------------------------------------ */

static vfy_check_result check_text(const char *text, const char *override, int ignore_missing) {
    vfy_check_result r;
    /* absolute names in the temp directory: confinement is tested below */
    vfy_check_opts o = {.file_override = override,
                        .ignore_missing = ignore_missing,
                        .nthreads = 2,
                        .allow_outside = 1};
    ck_assert_int_eq(vfy_check_manifest(text, strlen(text), &o, &r), GK_OK);
    return r;
}

START_TEST(test_manifest_roundtrip) {
    const char *a = path_of("a.gguf");
    write_model(a, 0, -1);
    vfy_gguf_hashes h;
    hash_model(a, 1, 0, &h);
    gk_status st;
    char err[256], *text = NULL;
    size_t len = 0;
    fmt_input *in = fmt_input_open(a, NULL, &st, err, sizeof err);
    fmt_gguf *g = fmt_gguf_open(in, &st);
    FILE *f = open_memstream(&text, &len);
    unsigned kinds = 1u << VFY_HASH_XXH64 | 1u << VFY_HASH_SHA256 | 1u << VFY_HASH_UUID;
    ck_assert_int_eq(vfy_manifest_write(f, a, g, &h, kinds, 1, 0), GK_OK);
    fclose(f);
    /* 3 tensors x 2 kinds + 3 model lines, llama-gguf-hash's spacing */
    char first[512];
    snprintf(first, sizeof first, "xxh64     %s  %s:a.weight\n", h.tensor[0][VFY_HASH_XXH64], a);
    ck_assert_int_eq(strncmp(text, first, strlen(first)), 0);
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 9);
    ck_assert_ptr_nonnull(strstr(text, "\nuuid      "));

    vfy_check_result r = check_text(text, NULL, 0);
    ck_assert_uint_eq(r.n_ok, 9);
    ck_assert_uint_eq(r.n_failed + r.n_missing + r.n_extra + r.n_malformed, 0);
    vfy_check_result_free(&r);

    /* tampered digest, a malformed line, a missing tensor, one line gone */
    char *t2 = malloc(len + 512);
    strcpy(t2, text);
    char *hx = strstr(t2, h.tensor[1][VFY_HASH_SHA256]);
    hx[0] = hx[0] == '0' ? '1' : '0';
    char *l1 = strchr(t2, '\n') + 1; /* drop line 2 (a.weight sha256) */
    memmove(l1, strchr(l1, '\n') + 1, strlen(strchr(l1, '\n') + 1) + 1);
    strcat(t2, "not a line\n");
    char extra[400];
    snprintf(extra, sizeof extra, "xxh64     0000000000000000  %s:zz.weight\n", a);
    strcat(t2, extra);
    r = check_text(t2, NULL, 0);
    ck_assert_uint_eq(r.n_failed, 1);
    ck_assert_uint_eq(r.n_missing, 1);
    ck_assert_uint_eq(r.n_extra, 1); /* a.weight has no sha256 line now */
    ck_assert_uint_eq(r.n_malformed, 1);
    ck_assert_uint_eq(r.malformed[0], 9);
    vfy_check_result_free(&r);
    r = check_text(t2, NULL, 1); /* --ignore-missing */
    ck_assert_uint_eq(r.n_missing, 0);
    ck_assert_uint_eq(r.n_skipped, 1);
    vfy_check_result_free(&r);

    /* a file override; sha256sum lines with an escaped name */
    const char *b = path_of("b\\x.gguf");
    write_model(b, 1, -1);
    r = check_text(text, b, 0);
    ck_assert_uint_eq(r.n_ok, 9);
    ck_assert_str_eq(r.items[8].name, b);
    vfy_check_result_free(&r);
    char hexw[VFY_HASH_HEX_MAX], *wt = NULL;
    size_t wl = 0;
    ck_assert_int_eq(vfy_hash_file(b, VFY_HASH_SHA256, hexw, err, sizeof err), GK_OK);
    f = open_memstream(&wt, &wl);
    ck_assert_int_eq(vfy_manifest_write_whole(f, b, hexw), GK_OK);
    fclose(f);
    ck_assert_int_eq(wt[0], '\\');
    r = check_text(wt, NULL, 0);
    ck_assert_uint_eq(r.n_ok, 1);
    ck_assert_str_eq(r.items[0].name, b);
    vfy_check_result_free(&r);
    /* confinement: the absolute name is refused, the same name relative to
     * base_dir is checked */
    vfy_check_opts co = {.nthreads = 2, .base_dir = dir};
    ck_assert_int_eq(vfy_check_manifest(text, len, &co, &r), GK_OK);
    ck_assert_uint_eq(r.n_refused, 1);
    ck_assert_uint_eq(r.n_unreadable, 9);
    ck_assert_uint_eq(r.n_ok, 0);
    vfy_check_result_free(&r);
    char *rel = malloc(len + 1), *o = rel;
    for (const char *p = text; *p;) /* drop the directory part of each name */
        if (strncmp(p, dir, strlen(dir)) == 0 && p[strlen(dir)] == '/')
            p += strlen(dir) + 1;
        else
            *o++ = *p++;
    *o = 0;
    ck_assert_int_eq(vfy_check_manifest(rel, strlen(rel), &co, &r), GK_OK);
    ck_assert_uint_eq(r.n_ok, 9);
    ck_assert_uint_eq(r.n_refused, 0);
    vfy_check_result_free(&r);
    free(rel);
    /* nothing well-formed */
    r = check_text("\n\nhello world\n", NULL, 0);
    ck_assert_uint_eq(r.n_wellformed, 0);
    ck_assert_uint_eq(r.n_malformed, 1);
    vfy_check_result_free(&r);

    free(wt);
    free(t2);
    free(text);
    fmt_gguf_close(g);
    fmt_input_close(in);
    vfy_gguf_hashes_free(&h);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Validation                                                                 */
/* ------------------------------------------------------------------------ */

static gk_status validate(const char *path, int nthreads, char *msg, size_t cap, int64_t *bad) {
    gk_status st;
    fmt_input *in = fmt_input_open(path, NULL, &st, msg, cap);
    ck_assert_ptr_nonnull(in);
    fmt_gguf *g = fmt_gguf_open(in, &st);
    ck_assert_ptr_nonnull(g);
    st = vfy_validate_gguf(g, in, nthreads, bad, msg, cap);
    fmt_gguf_close(g);
    fmt_input_close(in);
    return st;
}

START_TEST(test_validate) {
    char msg[512];
    int64_t bad;
    write_model(path_of("a.gguf"), 0, -1);
    ck_assert_int_eq(validate(path_of("a.gguf"), 2, msg, sizeof msg, &bad), GK_OK);
    ck_assert_int_eq(bad, -1);
    write_model(path_of("c.gguf"), 0, 5); /* block 5 = row 2, block 1 */
    ck_assert_int_eq(validate(path_of("c.gguf"), 2, msg, sizeof msg, &bad), GK_E_CHECK);
    ck_assert_int_eq(bad, 2);
    ck_assert_str_eq(msg, "tensor 'c.weight' row 2 block 1: scale d is not finite (Inf or NaN)");
}
END_TEST

int main(void) {
    kern_init();
    Suite *s = suite_create("checksum");
    TCase *tc = tcase_create("all");
    tcase_add_checked_fixture(tc, setup, teardown);
    UNIT_ADD_TESTS(tc, test_xxh64_matches_libxxhash, test_known_answers, test_metadata_and_threads,
                   test_manifest_roundtrip, test_validate);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
