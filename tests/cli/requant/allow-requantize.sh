# Quantized input needs --allow-requantize, which warns.
. "$SRC/tests/cli/requant/_common.inc"
requant -q "$REF" q8.gguf Q8_0
rc=0
requant q8.gguf q4.gguf Q4_0 2>err.txt || rc=$?
[ "$rc" = 2 ] || fail "exit $rc"
grep -q 'allow-requantize' err.txt || fail "message: $(cat err.txt)"
assert_no_file q4.gguf
requant --allow-requantize q8.gguf q4.gguf Q4_0 2>err2.txt
grep -q 'warning: requantizing' err2.txt || fail "no warning"
"$HASHES" q4.gguf | grep -q '^blk.0.ffn_up.weight	Q4_0	' || fail "types"
