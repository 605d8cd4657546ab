# quantization_config.group_size contradicting the tensors (made with 128, config 32): exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq m
sed -i 's/"group_size": 128/"group_size": 32/' m/config.json && grep -q '"group_size": 32' m/config.json || fail 'fixture edit'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
