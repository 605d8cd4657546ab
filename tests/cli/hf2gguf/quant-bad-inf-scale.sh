# An infinite GPTQ scale: exit 2 naming tensor and element.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 --inf model.layers.0.self_attn.k_proj.scales m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
