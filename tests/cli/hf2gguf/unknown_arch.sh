# An architecture with no table: exit 2, the message lists the supported ones.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" m
sed -i 's/LlamaForCausalLM/GPTNeoXForCausalLM/' m/config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
