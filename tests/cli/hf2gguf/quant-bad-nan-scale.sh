# A NaN in an FP8 per-channel weight_scale_inv: exit 2 naming tensor and element.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant fp8 --fp8-block channel --nan model.layers.0.self_attn.k_proj.weight_scale_inv m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
