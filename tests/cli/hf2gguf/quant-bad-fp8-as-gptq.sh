# FP8 tensors under a config that says gptq: exit 2 naming tensor and method.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant fp8 m
sed -i 's/"quant_method": "fp8"/"quant_method": "gptq", "bits": 4/' m/config.json && grep -q '"gptq"' m/config.json || fail 'fixture edit'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
