# An FP8 block scale (weight_block_size 16) with one row too many: exit 2 naming scale and weight.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant fp8 --fp8-block 16 --bad-shape model.layers.0.self_attn.k_proj.weight_scale_inv m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
