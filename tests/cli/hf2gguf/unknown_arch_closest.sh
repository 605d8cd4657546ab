# An unsupported class: the message names the closest supported family,
# by config.json's model_type when it names one, else by the class name's
# stem; none for a mixture of experts or an unrelated class.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" m
cp m/config.json config.orig
grep -q '"LlamaForCausalLM"' config.orig || fail "make_hf writes another class"
grep -q '"model_type": "llama"' config.orig || fail "make_hf writes no model_type"
try() { # class model_type
    sed -e "s/\"LlamaForCausalLM\"/\"$1\"/" -e "s/\"model_type\": \"llama\"/\"model_type\": \"$2\"/" \
        config.orig >m/config.json
    s=0
    hf2gguf m -o out.gguf 2>err || s=$?
    assert_no_file out.gguf
    [ "$(wc -l <err)" = 1 ] || fail "message not one line: $(cat err)"
    echo "$1 $2: exit $s: $(sed -e 's/.*unsupported architecture //' \
        -e 's/supported: LlamaForCausalLM.*/supported: .../' err)"
}
try CustomGemmaForCausalLM gemma3_text
try MyCausalLM mistral
try LlamaForSequenceClassification llama
try Gemma3nForCausalLM gemma3n
try Phi3SmallForCausalLM phi3small
try Qwen3ForTokenClassification qwen3_custom
try Glm4MoeForCausalLM glm4_moe
try GraniteMoeForCausalLM granitemoe
try GPTNeoXForCausalLM gpt_neox
