/* jsonw_test.c -- the streaming writer against jansson's own dump: the
 * same bytes for reals, strings (repaired as formats/json does) and
 * nested documents, and write errors reported. */
#include "formats/jsonw.h"

#include "formats/json.h"
#include "tests/unit.h"

#include <float.h>
#include <math.h>

#define FLAGS (JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_ENCODE_ANY)

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void) { /* xorshift64: deterministic cases */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* jansson's dump of v (taken) plus the '\n' fmt_jsonw_finish adds. */
static char *jansson(json_t *v) {
    char *d = json_dumps(v, FLAGS);
    ck_assert_ptr_nonnull(d);
    json_decref(v);
    size_t n = strlen(d);
    char *r = realloc(d, n + 2);
    ck_assert_ptr_nonnull(r);
    memcpy(r + n, "\n", 2);
    return r;
}

typedef struct {
    fmt_jsonw w;
    char *buf;
    size_t len;
    FILE *f;
} sink;

static sink *sink_open(void) {
    sink *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->f = open_memstream(&s->buf, &s->len);
    ck_assert_ptr_nonnull(s->f);
    fmt_jsonw_init(&s->w, s->f);
    return s;
}

/* Finishes s and checks its bytes equal want (freed). */
static void sink_expect(sink *s, char *want) {
    ck_assert_int_eq(fmt_jsonw_finish(&s->w), 0);
    fclose(s->f);
    ck_assert_str_eq(s->buf, want);
    free(s->buf);
    free(s);
    free(want);
}

static void expect_real(double d) {
    sink *s = sink_open();
    fmt_jsonw_real(&s->w, d);
    sink_expect(s, jansson(json_real(d)));
}

START_TEST(test_reals_as_jansson) {
    static const double fixed[] = {0.0,
                                   -0.0,
                                   1.0,
                                   0.1,
                                   1e-05,
                                   1e+30,
                                   1e16,
                                   1e17,
                                   1e21,
                                   1e-7,
                                   2.5,
                                   -3.25,
                                   5e-324,
                                   DBL_MAX,
                                   DBL_MIN,
                                   1e100,
                                   123456.7890625,
                                   9.9999997473787516e-6,
                                   -1e15,
                                   9999999999999998.0,
                                   -7.0};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        expect_real(fixed[i]);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = next();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isfinite(d))
            expect_real(d);
        float f = (float)(int32_t)(next() >> 40) / (float)(1 << (next() % 24));
        expect_real(f);
    }
}
END_TEST

START_TEST(test_strings_as_fmt_json_bytes) {
    static const char *const fixed[] = {"",
                                        "caf\xc3\xa9",
                                        "\xf0\x9f\x98\x80",
                                        "\"\\/\b\f\n\r\t",
                                        "\x01\x1f\x7f",
                                        "a\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        sink *s = sink_open();
        fmt_jsonw_bytes(&s->w, fixed[i], strlen(fixed[i]));
        sink_expect(s, jansson(fmt_json_bytes(fixed[i], strlen(fixed[i]))));
    }
    /* random bytes, biased towards UTF-8 lead and continuation bytes */
    static const unsigned char pick[] = {0x00, 0x0a, 0x1b, '"',  '\\', 'a',  0x7f, 0x80, 0xbf,
                                         0xc2, 0xc0, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
    for (int i = 0; i < 20000; i++) {
        char b[12];
        size_t n = next() % sizeof b;
        for (size_t k = 0; k < n; k++)
            b[k] = (char)(next() % 2 ? pick[next() % sizeof pick] : next() & 0xff);
        sink *s = sink_open();
        fmt_jsonw_bytes(&s->w, b, n);
        sink_expect(s, jansson(fmt_json_bytes(b, n)));
    }
}
END_TEST

/* A random jansson tree of the given depth: containers (some empty) and
 * every scalar kind. */
static json_t *tree(int depth) {
    switch (depth ? next() % 8 : 2 + next() % 6) {
    case 0: {
        json_t *a = json_array();
        for (uint64_t n = next() % 4; n; n--)
            json_array_append_new(a, tree(depth - 1));
        return a;
    }
    case 1: {
        json_t *o = json_object();
        for (uint64_t n = next() % 4; n; n--) {
            char k[16];
            snprintf(k, sizeof k, "k\xc3\xa9%u", (unsigned)(next() % 100));
            json_object_set_new(o, k, tree(depth - 1));
        }
        return o;
    }
    case 2: return json_integer((json_int_t)next());
    case 3: return json_real((double)(int64_t)next() / 1e6);
    case 4: return json_string("x\ty\xe2\x82\xac");
    case 5: return json_true();
    case 6: return json_false();
    default: return json_null();
    }
}

START_TEST(test_documents_as_jansson) {
    for (int i = 0; i < 2000; i++) {
        json_t *t = tree(5);
        sink *s = sink_open();
        fmt_jsonw_json(&s->w, t);
        sink_expect(s, jansson(t));
    }
    /* the calls inspect makes: keys, nested empties, ints */
    sink *s = sink_open();
    fmt_jsonw_object(&s->w);
    fmt_jsonw_key(&s->w, "a");
    fmt_jsonw_array(&s->w);
    fmt_jsonw_end(&s->w);
    fmt_jsonw_key(&s->w, "b");
    fmt_jsonw_object(&s->w);
    fmt_jsonw_end(&s->w);
    fmt_jsonw_key(&s->w, "c");
    fmt_jsonw_array(&s->w);
    fmt_jsonw_int(&s->w, INT64_MIN);
    fmt_jsonw_str(&s->w, "s");
    fmt_jsonw_null(&s->w);
    fmt_jsonw_end(&s->w);
    fmt_jsonw_end(&s->w);
    sink_expect(
        s, jansson(json_pack("{s:[],s:{},s:[I,s,n]}", "a", "b", "c", (json_int_t)INT64_MIN, "s")));
}
END_TEST

START_TEST(test_errors_reported) {
    FILE *f = fopen("/dev/full", "w");
    ck_assert_ptr_nonnull(f);
    fmt_jsonw *w = malloc(sizeof *w);
    ck_assert_ptr_nonnull(w);
    fmt_jsonw_init(w, f);
    fmt_jsonw_array(w);
    for (int i = 0; i < 100000; i++) /* more than the buffer: writes happen */
        fmt_jsonw_str(w, "token");
    fmt_jsonw_end(w);
    ck_assert_int_eq(fmt_jsonw_finish(w), -1);
    fclose(f);
    /* unbalanced: a container left open */
    sink *s = sink_open();
    fmt_jsonw_array(&s->w);
    ck_assert_int_eq(fmt_jsonw_finish(&s->w), -1);
    fclose(s->f);
    free(s->buf);
    free(s);
    free(w);
}
END_TEST

int main(void) {
    Suite *s = suite_create("jsonw");
    TCase *tc = tcase_create("jsonw");
    tcase_set_timeout(tc, 60);
    UNIT_ADD_TESTS(tc, test_reals_as_jansson, test_strings_as_fmt_json_bytes,
                   test_documents_as_jansson, test_errors_reported);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
