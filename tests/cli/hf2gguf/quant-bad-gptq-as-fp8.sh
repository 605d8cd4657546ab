# GPTQ tensors under a config that says fp8: exit 2 naming tensor and method.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq m
sed -i 's/"quant_method": "gptq"/"quant_method": "fp8"/' m/config.json && grep -q '"fp8"' m/config.json || fail 'fixture edit'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
