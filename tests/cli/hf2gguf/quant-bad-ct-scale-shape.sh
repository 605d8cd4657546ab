# A compressed-tensors (float-quantized, channel) weight_scale of the wrong shape: exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant fp8 --fp8-ct --fp8-block channel --bad-shape model.layers.0.self_attn.k_proj.weight_scale m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
