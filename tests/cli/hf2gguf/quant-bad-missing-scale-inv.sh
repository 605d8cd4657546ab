# An FP8 weight without its weight_scale_inv: exit 2 naming both, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant fp8 --omit model.layers.0.self_attn.k_proj.weight_scale_inv m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
