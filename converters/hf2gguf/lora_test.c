/* lora_test.c -- the base weight name convert_lora_to_gguf.py gives a PEFT
 * tensor (get_base_tensor_name), and which half of the pair it is. */
#include <check.h>
#include <string.h>

#include "converters/hf2gguf/lora.h"
#include "tests/unit.h"

START_TEST(base_names) {
    char out[256];
    ck_assert_int_eq(
        cv_lora_base_name("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight", out,
                          sizeof out),
        1);
    ck_assert_str_eq(out, "model.layers.3.self_attn.q_proj.weight");
    ck_assert_int_eq(
        cv_lora_base_name("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight", out,
                          sizeof out),
        2);
    ck_assert_str_eq(out, "model.layers.0.mlp.down_proj.weight");
    /* PEFT's embedding LoRA */
    ck_assert_int_eq(
        cv_lora_base_name("base_model.model.model.embed_tokens.lora_embedding_A", out, sizeof out),
        1);
    ck_assert_str_eq(out, "model.embed_tokens.weight");
    ck_assert_int_eq(
        cv_lora_base_name("base_model.model.model.embed_tokens.lora_embedding_B", out, sizeof out),
        2);
    ck_assert_str_eq(out, "model.embed_tokens.weight");
    /* neither half: the name with the prefix removed (str.replace: every one) */
    ck_assert_int_eq(cv_lora_base_name("base_model.model.x.base_model.model.y.base_layer.weight",
                                       out, sizeof out),
                     0);
    ck_assert_str_eq(out, "x.y.base_layer.weight");
    /* a name too long for out is cut, never overrun */
    char small[8];
    cv_lora_base_name("base_model.model.model.layers.0.lora_A.weight", small, sizeof small);
    ck_assert_uint_eq(strlen(small), 7);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("lora");
    TCase *tc = tcase_create("lora");
    UNIT_ADD_TESTS(tc, base_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
