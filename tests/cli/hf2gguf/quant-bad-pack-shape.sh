# compressed-tensors pack-quantized with a weight_shape that is not [out, in]:
# exit 2 naming the tensor, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant pack --gptq-group 32 --bad-shape model.layers.0.self_attn.k_proj.weight_shape m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
