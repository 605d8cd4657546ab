# AWQ in the GEMV packing (only GEMM is read): refused naming the key, exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant awq m
sed -i 's/"version": "gemm"/"version": "gemv"/' m/config.json && grep -q gemv m/config.json || fail 'fixture edit'
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
