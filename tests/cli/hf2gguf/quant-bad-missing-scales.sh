# A GPTQ qweight without its scales: exit 2 naming both, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq --omit model.layers.0.self_attn.k_proj.scales m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
