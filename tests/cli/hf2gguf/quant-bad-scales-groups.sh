# GPTQ scales with more groups than quantization_config.group_size makes: exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 --bad-shape model.layers.0.self_attn.k_proj.scales m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
