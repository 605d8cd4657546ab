# An architecture with no table and no close family: exit 2, the message
# lists the supported ones (no "closest supported").
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" m
sed -i -e 's/LlamaForCausalLM/GPTNeoXForCausalLM/' -e 's/"model_type": "llama"/"model_type": "gpt_neox"/' m/config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
