# 3-bit GPTQ: convert_hf_to_gguf.py ec562eb raises NotImplementedError; refused, exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq m
sed -i 's/"bits": 4/"bits": 3/' m/config.json && grep -q '"bits": 3' m/config.json || fail 'fixture edit'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
