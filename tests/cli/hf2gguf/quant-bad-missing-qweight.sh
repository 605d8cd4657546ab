# GPTQ qzeros/scales/g_idx left without their qweight: exit 2 naming the missing key.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq --omit model.layers.0.self_attn.k_proj.qweight m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
