/* bpe_test.c -- the tokenizer.json BPE encoder on hand-made tokenizers with
 * known answers (GPT-2 byte mapping, merge ranks, added tokens, Split
 * behaviours, normalizers, special tokens), the check hash, and malformed
 * or hostile tokenizers. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "formats/bpe.h"
#include "tests/unit.h"

/* a tokenizer.json: the model object text, pre_tokenizer, post_processor
 * and extra top-level members; JSON written with ' for " */
static json_t *tok_json(const char *model, const char *pre, const char *extra) {
    char txt[4096];
    snprintf(txt, sizeof txt, "{'model': %s, 'pre_tokenizer': %s%s%s}", model, pre ? pre : "null",
             extra ? ", " : "", extra ? extra : "");
    for (char *p = txt; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t je;
    json_t *j = json_loads(txt, 0, &je);
    ck_assert_msg(j != NULL, "test JSON: %s", je.text);
    return j;
}

static fmt_bpe *open_ok(json_t *tj, const json_t *tc) {
    gk_status st;
    char err[256] = "";
    fmt_bpe *b = fmt_bpe_open(tj, tc, &st, err, sizeof err);
    ck_assert_msg(b != NULL, "fmt_bpe_open: %s", err);
    json_decref(tj);
    return b;
}

/* the ids of text, as "1 2 3" */
static const char *enc(fmt_bpe *b, const char *text, int add_special) {
    static char out[512];
    const int32_t *ids;
    size_t n, k = 0;
    char err[256] = "";
    ck_assert_msg(fmt_bpe_encode(b, text, strlen(text), add_special, &ids, &n, err, sizeof err) ==
                      GK_OK,
                  "encode: %s", err);
    out[0] = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(out + k, sizeof out - k, i ? " %d" : "%d", (int)ids[i]);
    return out;
}

/* fmt_bpe_open must fail with want and a message containing msg */
static void open_fails(json_t *tj, gk_status want, const char *msg) {
    gk_status st = GK_OK;
    char err[256] = "";
    ck_assert_ptr_null(fmt_bpe_open(tj, NULL, &st, err, sizeof err));
    json_decref(tj);
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(err, msg) != NULL, "message '%s' lacks '%s'", err, msg);
}

/* GPT-2's byte -> character table: printable bytes stand for themselves,
 * the others (0x00-0x20, 0x7F-0xA0, 0xAD) become U+0100 + their index. */
START_TEST(byte_level_mapping) {
    fmt_bpe *b = open_ok(tok_json("{'type': 'BPE', 'vocab': {'\\u0100': 0, '\\u010a': 1, "
                                  "'\\u0120': 2, '\\u0143': 3, '\\u00c3': 4, '\\u00a9': 5, "
                                  "'a': 6, '\\u0120a': 7}, 'merges': ['\\u0120 a']}",
                                  "{'type': 'ByteLevel', 'add_prefix_space': false, "
                                  "'use_regex': false}",
                                  NULL),
                         NULL);
    /* NUL, LF, SHY (0xAD, the last unprintable byte), e-acute as two bytes */
    const char txt[] = {0, '\n', (char)0xAD, (char)0xC3, (char)0xA9, 0};
    const int32_t *ids;
    size_t n;
    char err[256];
    ck_assert_int_eq(fmt_bpe_encode(b, txt, 5, 0, &ids, &n, err, sizeof err), GK_OK);
    static const int32_t want[] = {0, 1, 3, 4, 5};
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_eq(ids, want, sizeof want);
    ck_assert_str_eq(enc(b, " a", 0), "7");
    fmt_bpe_close(b);
    /* add_prefix_space puts a space before a piece that lacks one */
    b = open_ok(tok_json("{'type': 'BPE', 'vocab': {'a': 0, '\\u0120': 1, '\\u0120a': 2}, "
                         "'merges': ['\\u0120 a']}",
                         "{'type': 'ByteLevel', 'add_prefix_space': true, 'use_regex': true}",
                         NULL),
                NULL);
    ck_assert_str_eq(enc(b, "a", 0), "2");
    ck_assert_str_eq(enc(b, "a a", 0), "2 2");
    fmt_bpe_close(b);
}
END_TEST

/* the pair of lowest rank merges first, whatever its position */
START_TEST(merge_rank_order) {
    static const char *const merges[] = {"['b c', 'a b']", "['a b', 'b c']",
                                         "[['b', 'c'], ['a', 'b']]"};
    static const char *const want[] = {"0 4", "3 2", "0 4"};
    for (int k = 0; k < 3; k++) {
        char model[256];
        snprintf(model, sizeof model,
                 "{'type': 'BPE', 'vocab': {'a': 0, 'b': 1, 'c': 2, 'ab': 3, 'bc': 4}, "
                 "'merges': %s}",
                 merges[k]);
        fmt_bpe *b = open_ok(tok_json(model, NULL, NULL), NULL);
        ck_assert_str_eq(enc(b, "abc", 0), want[k]);
        ck_assert_str_eq(enc(b, "abab", 0), "3 3"); /* leftmost of equal ranks first */
        fmt_bpe_close(b);
    }
}
END_TEST

/* ignore_merges takes a word that is a token whole; byte_fallback spells
 * an unknown character as <0xNN> tokens; else unk_token */
START_TEST(ignore_merges_fallback_unk) {
    fmt_bpe *b = open_ok(tok_json("{'type': 'BPE', 'ignore_merges': true, 'vocab': {'a': 0, "
                                  "'b': 1, 'c': 2, 'bc': 3, 'abc': 4}, 'merges': ['b c']}",
                                  NULL, NULL),
                         NULL);
    ck_assert_str_eq(enc(b, "abc", 0), "4");
    ck_assert_str_eq(enc(b, "cbc", 0), "2 3");
    fmt_bpe_close(b);
    b = open_ok(tok_json("{'type': 'BPE', 'byte_fallback': true, 'unk_token': '<unk>', "
                         "'vocab': {'<unk>': 0, 'a': 1, '<0xC3>': 2, '<0xA9>': 3}, 'merges': []}",
                         NULL, NULL),
                NULL);
    ck_assert_str_eq(enc(b, "a\xc3\xa9z", 0), "1 2 3 0");
    fmt_bpe_close(b);
}
END_TEST

/* added tokens are cut out of the raw text first, the longest match wins,
 * and the text between them is encoded on its own */
START_TEST(added_tokens) {
    fmt_bpe *b = open_ok(tok_json("{'type': 'BPE', 'vocab': {'a': 0, 'b': 1, 'ab': 2}, "
                                  "'merges': ['a b']}",
                                  NULL,
                                  "'added_tokens': [{'id': 5, 'content': '<s>'}, "
                                  "{'id': 6, 'content': '<ss>'}]"),
                         NULL);
    ck_assert_str_eq(enc(b, "a<ss>b<s>ab", 0), "0 6 1 5 2");
    ck_assert_str_eq(enc(b, "<s><s", 0), "5"); /* '<' is no token: dropped */
    fmt_bpe_close(b);
}
END_TEST

/* Split behaviours on "a1b" with the regex \d and merges "a 1", "1 b" */
START_TEST(split_behaviours) {
    static const char *const beh[] = {"Isolated", "Removed", "MergedWithPrevious",
                                      "MergedWithNext"};
    static const char *const want[] = {"0 2 1", "0 1", "3 1", "0 4"};
    const char *model = "{'type': 'BPE', 'vocab': {'a': 0, 'b': 1, '1': 2, 'a1': 3, '1b': 4}, "
                        "'merges': ['a 1', '1 b']}";
    fmt_bpe *b = open_ok(tok_json(model, NULL, NULL), NULL);
    ck_assert_str_eq(enc(b, "a1b", 0), "3 1"); /* no split: "a 1" ranks first */
    fmt_bpe_close(b);
    for (int k = 0; k < 4; k++) {
        char pre[256];
        snprintf(pre, sizeof pre,
                 "{'type': 'Sequence', 'pretokenizers': [{'type': 'Split', 'pattern': "
                 "{'Regex': '\\\\d'}, 'behavior': '%s', 'invert': false}]}",
                 beh[k]);
        b = open_ok(tok_json(model, pre, NULL), NULL);
        ck_assert_msg(!strcmp(enc(b, "a1b", 0), want[k]), "%s: got %s", beh[k], enc(b, "a1b", 0));
        fmt_bpe_close(b);
    }
    /* a String pattern is literal: '.' splits only at dots */
    b = open_ok(tok_json(model,
                         "{'type': 'Split', 'pattern': {'String': '.'}, 'behavior': 'Removed'}",
                         NULL),
                NULL);
    ck_assert_str_eq(enc(b, "a1.b", 0), "3 1");
    fmt_bpe_close(b);
}
END_TEST

/* Gemma-style normalizer: spaces become U+2581, Prepend adds one in front */
START_TEST(normalizers) {
    fmt_bpe *b = open_ok(tok_json("{'type': 'BPE', 'vocab': {'a': 0, '\\u2581': 1, "
                                  "'\\u2581a': 2}, 'merges': ['\\u2581 a']}",
                                  NULL,
                                  "'normalizer': {'type': 'Sequence', 'normalizers': ["
                                  "{'type': 'Prepend', 'prepend': '\\u2581'}, {'type': "
                                  "'Replace', 'pattern': {'String': ' '}, 'content': "
                                  "'\\u2581'}, {'type': 'NFC'}]}"),
                         NULL);
    ck_assert_str_eq(enc(b, "a a", 0), "2 2");
    fmt_bpe_close(b);
}
END_TEST

/* special tokens: the file's TemplateProcessing, or transformers' BOS rule
 * for LlamaTokenizerFast-like classes named by tokenizer_config */
START_TEST(special_tokens) {
    const char *model = "{'type': 'BPE', 'vocab': {'a': 0, '<s>': 1, '</s>': 2}, 'merges': []}";
    const char *post = "'post_processor': {'type': 'TemplateProcessing', 'single': ["
                       "{'SpecialToken': {'id': '<s>', 'type_id': 0}}, "
                       "{'Sequence': {'id': 'A', 'type_id': 0}}, "
                       "{'SpecialToken': {'id': '</s>', 'type_id': 0}}], "
                       "'special_tokens': {'<s>': {'id': '<s>', 'ids': [1]}, "
                       "'</s>': {'id': '</s>', 'ids': [2]}}}";
    fmt_bpe *b = open_ok(tok_json(model, NULL, post), NULL);
    ck_assert_str_eq(enc(b, "a", 1), "1 0 2");
    ck_assert_str_eq(enc(b, "a", 0), "0");
    fmt_bpe_close(b);
    json_t *tc =
        json_pack("{s:s, s:s}", "tokenizer_class", "LlamaTokenizerFast", "bos_token", "<s>");
    b = open_ok(tok_json(model, NULL, post), tc);
    ck_assert_str_eq(enc(b, "a", 1), "1 0"); /* the class rule replaces the template */
    fmt_bpe_close(b);
    json_object_set_new(tc, "add_bos_token", json_false());
    json_object_set_new(tc, "add_eos_token", json_true());
    json_object_set_new(tc, "eos_token", json_pack("{s:s}", "content", "</s>"));
    b = open_ok(tok_json(model, NULL, NULL), tc);
    ck_assert_str_eq(enc(b, "a", 1), "0 2");
    fmt_bpe_close(b);
    json_decref(tc);
}
END_TEST

/* the check hash is sha256 of Python's str() of the id list */
START_TEST(check_hash) {
    /* a vocab with none of the check text's characters: no ids at all */
    fmt_bpe *b = open_ok(tok_json("{'type': 'BPE', 'vocab': {'\\u0001': 0}, 'merges': []}", NULL,
                                  "'added_tokens': [{'id': 1, 'content': '\\u0002'}], "
                                  "'post_processor': {'type': 'TemplateProcessing', 'single': ["
                                  "{'SpecialToken': {'id': 'B', 'type_id': 0}}, "
                                  "{'Sequence': {'id': 'A', 'type_id': 0}}], "
                                  "'special_tokens': {'B': {'id': 'B', 'ids': [1]}}}"),
                         NULL);
    char hex[65], err[256];
    ck_assert_int_eq(fmt_bpe_chkhsh(b, hex, err, sizeof err), GK_OK);
    /* sha256("[1]") */
    ck_assert_str_eq(hex, "080a9ed428559ef602668b4c00f114f1a11c3f6b02a435f0bdc154578e4d7f22");
    fmt_bpe_close(b);
    ck_assert_str_eq(
        fmt_bpe_pre_name("0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5"),
        "llama-bpe");
    ck_assert_str_eq(
        fmt_bpe_pre_name("877081d19cf6996e2c4ff0e1236341e9b7bde288f5311a56a937f0afbbb3aeb5"),
        "deepseek-v3");
    ck_assert_ptr_null(fmt_bpe_pre_name(hex));
}
END_TEST

START_TEST(malformed) {
    const char *v = "{'type': 'BPE', 'vocab': {'a': 0, 'b': 1}, 'merges': %s}";
    char model[256];
    snprintf(model, sizeof model, v, "['a c']");
    open_fails(tok_json(model, NULL, NULL), GK_E_FORMAT, "not in the vocab");
    snprintf(model, sizeof model, v, "['a b']"); /* "ab" is no token */
    open_fails(tok_json(model, NULL, NULL), GK_E_FORMAT, "not in the vocab");
    snprintf(model, sizeof model, v, "['a  b']");
    open_fails(tok_json(model, NULL, NULL), GK_E_FORMAT, "two tokens");
    snprintf(model, sizeof model, v, "[7]");
    open_fails(tok_json(model, NULL, NULL), GK_E_FORMAT, "not a string or a pair");
    snprintf(model, sizeof model, v, "[]");
    open_fails(tok_json(model,
                        "{'type': 'Split', 'pattern': {'Regex': '(a'}, 'behavior': "
                        "'Isolated'}",
                        NULL),
               GK_E_FORMAT, "bad regex");
    open_fails(tok_json(model, "{'type': 'Whitespace'}", NULL), GK_E_UNSUPPORTED,
               "Whitespace is not supported");
    open_fails(tok_json("{'type': 'Unigram', 'vocab': {'a': 0}}", NULL, NULL), GK_E_UNSUPPORTED,
               "Unigram");
    open_fails(tok_json("{'type': 'BPE', 'vocab': {'a': -1}}", NULL, NULL), GK_E_FORMAT, "bad id");
}
END_TEST

/* a pattern with catastrophic backtracking stops at PCRE2's match limit:
 * an error, not a hang */
START_TEST(regex_limit) {
    fmt_bpe *b = open_ok(tok_json("{'type': 'BPE', 'vocab': {'a': 0}, 'merges': []}",
                                  "{'type': 'Split', 'pattern': {'Regex': '(a|aa)+$'}, "
                                  "'behavior': 'Isolated'}",
                                  NULL),
                         NULL);
    char txt[80];
    memset(txt, 'a', sizeof txt - 1);
    txt[sizeof txt - 2] = 'b';
    txt[sizeof txt - 1] = 0;
    const int32_t *ids;
    size_t n;
    char err[256] = "";
    ck_assert_int_eq(fmt_bpe_encode(b, txt, strlen(txt), 0, &ids, &n, err, sizeof err),
                     GK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "regex failed"));
    ck_assert_uint_eq(n, 0);
    fmt_bpe_close(b);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("bpe");
    TCase *tc = tcase_create("bpe");
    UNIT_ADD_TESTS(tc, byte_level_mapping, merge_rank_order, ignore_merges_fallback_unk,
                   added_tokens, split_behaviours, normalizers, special_tokens, check_hash,
                   malformed, regex_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
