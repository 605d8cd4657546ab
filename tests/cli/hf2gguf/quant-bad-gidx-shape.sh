# A GPTQ g_idx of the wrong length: exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq --bad-shape model.layers.0.self_attn.k_proj.g_idx m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
