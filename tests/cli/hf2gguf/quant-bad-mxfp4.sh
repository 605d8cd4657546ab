# quant_method mxfp4 outside gpt-oss (here a llama) is refused clearly, exit 2,
# as upstream raises (only GptOssModel reads MXFP4).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq m
sed -i 's/"quant_method": "gptq"/"quant_method": "mxfp4"/' m/config.json && grep -q mxfp4 m/config.json || fail 'fixture edit'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
