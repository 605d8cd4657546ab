/* naming_test.c -- general.name / basename / size label heuristics against
 * values gguf-py's Metadata produces for the same directory names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hfmeta.h"
#include "tests/unit.h"

START_TEST(id_to_title) {
    static const char *const cases[][2] = {
        {"tiny-llama-bf16", "Tiny Llama Bf16"}, {"Meta-Llama-3-8B", "Meta Llama 3 8B"},
        {"llama-2-7b-hf", "Llama 2 7b Hf"},     {"mistral-7b-v0.1", "Mistral 7b v0.1"},
        {"qwen2.5-0.5b", "Qwen2.5 0.5b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = fmt_hfmeta_id_to_title(cases[i][0]);
        ck_assert_str_eq(t, cases[i][1]);
        free(t);
    }
}
END_TEST

/* Load metadata for a directory with the given name and config. */
static void load(const char *dirname, const char *name_or_path, int64_t params, fmt_hfmeta *m) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/naming.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[1024], cfg[1100];
    snprintf(sub, sizeof sub, "%s/%s", dir, dirname);
    ck_assert_int_eq(mkdir(sub, 0777), 0);
    snprintf(cfg, sizeof cfg, "%s/config.json", sub);
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    if (name_or_path)
        fprintf(f, "{\"_name_or_path\": \"%s\"}", name_or_path);
    else
        fprintf(f, "{}");
    fclose(f);
    gk_status st;
    char err[256];
    fmt_hfdir *d = fmt_hfdir_open(sub, &st, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_int_eq(fmt_hfmeta_load(m, d, NULL, NULL, params, err, sizeof err), GK_OK);
    fmt_hfdir_close(d);
    unlink(cfg);
    rmdir(sub);
    rmdir(dir);
}

/* A LoRA adapter passes minus its size (gguf-py's negated count): "lora"
 * is a type word, and a size label is one unless under 1/8 of the size
 * (values from gguf-py Metadata.get_model_id_components at ec562eb). */
START_TEST(lora_adapter) {
    fmt_hfmeta m;
    load("Llama-3-8B-lora", NULL, -1000000, &m);
    ck_assert_str_eq(m.basename, "Llama-3");
    ck_assert_str_eq(m.size_label, "8B");
    ck_assert_ptr_null(m.finetune);
    fmt_hfmeta_free(&m);
    load("Llama-3-8B-lora", NULL, -80000000000ll, &m);
    ck_assert_ptr_null(m.size_label);
    ck_assert_str_eq(m.finetune, "8b");
    fmt_hfmeta_free(&m);
    load("Llama-3-8B-lora", NULL, 8000000000ll, &m);
    ck_assert_str_eq(m.size_label, "8B");
    ck_assert_str_eq(m.finetune, "lora");
    fmt_hfmeta_free(&m);
}
END_TEST

START_TEST(heuristics) {
    fmt_hfmeta m;
    load("tiny-llama-bf16", NULL, 4200000, &m);
    ck_assert_str_eq(m.name, "Tiny Llama Bf16");
    ck_assert_ptr_null(m.basename);
    ck_assert_ptr_null(m.size_label);
    fmt_hfmeta_free(&m);

    load("whatever", "meta-llama/Meta-Llama-3-8B-Instruct", 8030000000ull, &m);
    ck_assert_str_eq(m.name, "Meta Llama 3 8B Instruct");
    ck_assert_str_eq(m.organization, "Meta Llama");
    ck_assert_str_eq(m.basename, "Meta-Llama-3");
    ck_assert_str_eq(m.size_label, "8B");
    ck_assert_str_eq(m.finetune, "Instruct");
    fmt_hfmeta_free(&m);

    /* a size far from the real parameter count is a context length */
    load("Mistral-7B-v0.1", NULL, 1000000, &m);
    ck_assert_str_eq(m.basename, "Mistral");
    ck_assert_str_eq(m.version, "v0.1");
    ck_assert_str_eq(m.finetune, "7b");
    ck_assert_ptr_null(m.size_label);
    fmt_hfmeta_free(&m);

    static const char *const ids[][5] = {
        /* id, basename, finetune, version, size_label (as gguf-py gives them) */
        {"bloom-7b1", "bloom", NULL, NULL, "7.1B"},
        {"Mixtral-8x7B-Instruct-v0.1", "Mixtral", "Instruct", "v0.1", "8x7B"},
        {"Qwen2.5-Coder-1.5B-Instruct-Q4_K_M", "Qwen2.5-Coder", "Instruct", NULL, "1.5B"},
    };
    static const uint64_t params[] = {7000000000ull, 46000000000ull, 1500000000ull};
    for (size_t i = 0; i < 3; i++) {
        load("x", ids[i][0], params[i], &m);
        const char *got[4] = {m.basename, m.finetune, m.version, m.size_label};
        for (int k = 0; k < 4; k++) {
            if (ids[i][k + 1])
                ck_assert_msg(got[k] && !strcmp(got[k], ids[i][k + 1]), "%s field %d: %s",
                              ids[i][0], k, got[k] ? got[k] : "(null)");
            else
                ck_assert_msg(!got[k], "%s field %d: %s", ids[i][0], k, got[k]);
        }
        fmt_hfmeta_free(&m);
    }
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("naming");
    TCase *tc = tcase_create("naming");
    UNIT_ADD_TESTS(tc, id_to_title, heuristics, lora_adapter);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
