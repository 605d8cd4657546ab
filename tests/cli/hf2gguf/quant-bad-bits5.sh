# GPTQ bits 5 (not 2, 3, 4 or 8): exit 2 naming the key.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq m
sed -i 's/"bits": 4/"bits": 5/' m/config.json && grep -q '"bits": 5' m/config.json || fail 'fixture edit'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
