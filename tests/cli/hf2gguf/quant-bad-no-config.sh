# FP8 tensors and no quantization_config at all: exit 2 (they cannot be read as floats).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant fp8 m
sed -i 's/"quantization_config"/"x_quantization_config"/' m/config.json && grep -q x_quant m/config.json || fail 'fixture edit'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
