# compressed-tensors float-quantized (X.weight_scale, block_structure /
# channel strategy) dequantizes as quant_method fp8 (X.weight_scale_inv,
# weight_block_size) does: the same codes and scales give the same bytes.
. "$SRC/tests/cli/lib.sh"
for mode in 16 channel; do
    rm -rf a b a.gguf b.gguf && mkdir a b
    "$BUILD/fixtures/make_hf" --quant fp8 --fp8-block $mode a/m
    "$BUILD/fixtures/make_hf" --quant fp8 --fp8-block $mode --fp8-ct b/m
    grep -q compressed-tensors b/m/config.json || fail "fixture"
    hf2gguf -q --outtype f32 a/m -o a.gguf
    hf2gguf -q --outtype f32 b/m -o b.gguf
    cmp a.gguf b.gguf || fail "$mode: compressed-tensors differs from fp8"
done
