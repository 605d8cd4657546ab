# A pre-quantized HF directory: the config.json summary describes its
# quantization_config as hf2gguf reads it (method, bits, groups, symmetry,
# act order, zero convention; FP8 block size; why a method is not read).
. "$SRC/tests/cli/lib.sh"
q() { # make_hf --quant options...; prints the quantization line
    rm -rf m
    "$BUILD/fixtures/make_hf" --quant "$@" m > /dev/null
    gguf-inspect --no-tensors m | sed -n 's/^  quantization  *//p'
}
[ "$(q gptq --gptq-group 32 --gptq-asym --gptq-desc-act)" = \
    "gptq, 4 bits, groups of 32, asymmetric, act-order (desc_act), checkpoint_format gptq" ] ||
    fail "gptq"
[ "$(q gptq --gptq-bits 8 --gptq-v2)" = \
    "gptq, 8 bits, groups of 128, symmetric, checkpoint_format gptq_v2" ] || fail "gptq v2"
[ "$(q fp8)" = "fp8, block scales 128x128" ] || fail "fp8"
[ "$(q fp8 --fp8-ct --fp8-block 64)" = "compressed-tensors float-quantized, block scales 64x64" ] ||
    fail "compressed-tensors"
[ "$(q pack --gptq-group 32)" = "compressed-tensors pack-quantized, 4 bits, groups of 32" ] ||
    fail "pack-quantized"
[ "$(q awq)" = "awq, 4 bits, groups of 128, gemm, zero points" ] || fail "awq"
sed -i 's/"quant_method": "awq"/"quant_method": "mxfp4"/' m/config.json
gguf-inspect --no-tensors m | grep -q "^  quantization  *mxfp4 (hf2gguf cannot read it: .*MXFP4" ||
    fail "mxfp4"
"$BUILD/fixtures/make_hf" f > /dev/null
gguf-inspect --no-tensors f | grep -q quantization && fail "a float checkpoint has no quantization line"
echo ok
