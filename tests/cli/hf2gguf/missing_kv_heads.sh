# A llama config.json without num_key_value_heads (or n_kv_heads): ec562eb's
# LlamaModel.modify_tensors looks the key up without a default and raises
# (c392e50 fell back to num_attention_heads). Exit 2 naming the keys.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" m
sed -i '/"num_key_value_heads"/d' m/config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
