# GPTQ qzeros of the wrong shape: exit 2 naming the tensor.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq --bad-shape model.layers.0.self_attn.k_proj.qzeros m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
